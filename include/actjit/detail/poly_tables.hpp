// Polynomial coefficient tables of the vector math, shared by the JIT
// (jit/vector_math.cpp, which emits them as IR) and the DSL's span loops
// (include/actjit/dsl/vmath.hpp, which evaluates them in C++), so both
// compute the same functions. Lowest degree first; each fit (mpmath
// chebyfit) with its interval and error is described above its table, and
// docs/VECTOR_MATH.md has the accuracy tests.
#pragma once

namespace actjit::poly {

// exp: e^r = 1 + r + r^2 q(r) on [-ln2/2, ln2/2], q(r) = (e^r - 1 - r)/r^2.
// f32: degree 4, max abs error of q 6.5e-8 (relative error of e^r < 4e-9).
inline constexpr double kExpQ32[] = {0.5, 0.1666657702559799, 0.041666554662050534, 0.008363173074513711,
                                     0.001392617611993558};
// f64: degree 10, max abs error of q 1.4e-18.
inline constexpr double kExpQ64[] = {0.5,
                                     0.1666666666666667,
                                     0.04166666666666667,
                                     0.008333333333326141,
                                     0.0013888888888883752,
                                     0.00019841269874800493,
                                     2.4801587325533363e-05,
                                     2.7557255425746435e-06,
                                     2.7557273661348637e-07,
                                     2.510520637395701e-08,
                                     2.0914679376583935e-09};
// log (f32): log(1+f) = f - f^2/2 + f^3 P(f) on [sqrt(1/2)-1, sqrt(2)-1],
// P(f) = (log1p(f) - f + f^2/2)/f^3; degree 7, max abs error 1.8e-7 (the
// f^3 P term is < 6% of the result, so < 0.2 ulp).
inline constexpr double kLogP32[] = {0.33333330728190674,  -0.25000306422569796, 0.2000104509416068,
                                     -0.16641281463106394, 0.14214495923947962,  -0.1299818376365153,
                                     0.12622319849228378,  -0.0790274377239344};
// log1p of t in [0, 1] (f32 softplus, jit/vector_math.cpp): log1p(g) = g -
// g^2/2 + g^3 P(g) with g = t for t <= 1/2, g = (t - 1)/2 (exact) above, on
// [-1/4, 1/2]; degree 8, max abs error 2.9e-8 (the g^3 P term then costs
// < 0.15 ulp; degree 7 would be 1.9e-7, 0.8 ulp at g = 1/2).
inline constexpr double kLog1pUnit32[] = {0.33333333147292227,  -0.2500005671435764,  0.2000014089619763,
                                          -0.16660817530625113, 0.14268305970332557,  -0.12639311138337617,
                                          0.11680681790547841,  -0.09561340013603677, 0.04287197803729382};
// log (f64): with s = f/(2+f), z = s^2: log(1+f) = 2 atanh(s) = 2s + s^3 R(z),
// R(z) = (2 atanh(s) - 2s)/s^3 on [0, ((sqrt2-1)/(sqrt2+1))^2]; degree 7, max
// abs error 2.1e-18. Evaluated in the fdlibm arrangement
// log(1+f) = f - (f^2/2 - s (f^2/2 + z R(z))).
inline constexpr double kLogR64[] = {0.6666666666666666,  0.4000000000000088,  0.28571428570803614,
                                     0.22222222391713917, 0.18181795640132906, 0.15386239702814658,
                                     0.13268773138656886, 0.13086626147840102};
// pow (f32, computed in double; jit/vector_math.cpp): log(1+f) = 2s + s^3 R(z)
// as for kLogR64 but only to the accuracy a float result needs; degree 3,
// max relative error of log(1+f) 1.7e-11 (2^-35.8).
inline constexpr double kPowLogR[] = {0.6666666655449709, 0.40000121839806124, 0.28550820815960665,
                                      0.23330467216303835};
// pow (f32, in double): 2^r = 1 + r Q(r) on [-1/2, 1/2]; degree 5, max
// relative error of 2^r 5.1e-9 (2^-27.6: < 0.1 ulp of a float).
inline constexpr double kPowExp2Q[] = {0.6931471880262288,   0.24022650760568126,   0.05550357114219078,
                                       0.009618082557277852, 0.0013390863364671234, 0.0001545316294512069};
// erf (f32), |x| < 1: erf(x) = x E(x^2), E(z) = erf(sqrt z)/sqrt z on [0, 1];
// degree 6, max abs error 1.2e-9.
inline constexpr double kErfSmall32[] = {1.1283791658483509,   -0.37612626666720334, 0.11283594715160218,
                                         -0.026854212010626412, 0.005189087423433974, -0.000801686428716587,
                                         7.875875062685488e-05};
// erf (f32), 1 <= |x| < 3.92: erf(x) = 1 - exp(L(|x|)), L(x) = log(erfc(x)) on
// [1, 3.92]; degree 7, max abs error 2.8e-7 (absolute error in erf <
// erfc(1) * 2.8e-7 = 4.4e-8). Beyond 3.92, erfc(x) < 2^-25: erf rounds to +-1.
inline constexpr double kErfLarge32[] = {-0.0006583220470351859, -1.126284878330244,    -0.6385547886882577,
                                         -0.10375116249398526,   0.02282262460962374,   -0.003490855702357873,
                                         0.0003253859330079102,  -1.3779761982788456e-05};

// erf (f32) with AVX-512 (jit/vector_math.cpp, erf_table_f32): |x| in [0, 4)
// cut into 16 intervals [i/4, (i+1)/4), each lane's coefficients picked
// from registers by vpermps. On interval i, t = |x| - a_i (exact) and
// erf(|x|) = s + t P(t), P(t) = c1 + c2 t + ... + c5 t^4 (Horner), with
// s = kErfTabC0_32[i] = erf(a_i) rounded to float for i >= 1 and s = t for
// i = 0 (a_0 = 0; there P(t) = erf(t)/t - 1). a_i is the float near the
// interval's middle whose erf is nearest to a float (within 0.001 ulp for
// i <= 12, 0.3 ulp above), so s costs no rounding of its own. Fitted by
// `scripts/fit_vmath_tables.py erf` (least squares reweighted towards
// minimax of the relative error, coefficients rounded to float one at a time
// with a refit of the rest); its float simulation of the kernel measures at
// most 1.15 ulp on interval 0 and 0.5-0.91 ulp elsewhere. kErfTabP32[k]
// holds c(k+1).
inline constexpr double kErfTabA32[16] = {
    0.0, 0.37504449486732483, 0.6251201629638672, 0.8750695586204529,
    1.1246538162231445, 1.3751392364501953, 1.6248712539672852, 1.8746600151062012,
    2.1248369216918945, 2.3756484985351562, 2.6247215270996094, 2.8747682571411133,
    3.1250364780426025, 3.3757152557373047, 3.6242847442626953, 3.8742847442626953,
};
inline constexpr double kErfTabC0_32[16] = {
    0.0, 0.4041605293750763, 0.6233326196670532, 0.7841115593910217,
    0.8882780075073242, 0.9481937885284424, 0.97843337059021, 0.991978645324707,
    0.9973439574241638, 0.9992196559906006, 0.9997943043708801, 0.9999520778656006,
    0.9999901056289673, 0.9999982118606567, 0.9999997019767761, 0.9999999403953552,
};
inline constexpr double kErfTabP32[5][16] = {
    {0.12837913632392883, 0.980320155620575, 0.7633848786354065, 0.5246812105178833,
     0.3185219168663025, 0.17029455304145813, 0.08050592988729477, 0.03358861804008484,
     0.012349375523626804, 0.003994154278188944, 0.0011495547369122505, 0.0002906154841184616,
     6.474406836787239e-05, 1.269031417905353e-05, 2.227439608759596e-06, 3.417081302359293e-07},
    {6.640986157435691e-06, -0.36765843629837036, -0.47720301151275635, -0.4591316282749176,
     -0.3582284450531006, -0.2341810166835785, -0.13081328570842743, -0.0629676803946495,
     -0.02624022401869297, -0.009488383308053017, -0.003017022041603923, -0.0008353336597792804,
     -0.00020227972709108144, -5.1906012231484056e-05, -7.416430889861658e-06, 7.160050245147431e-06},
    {-0.37632718682289124, -0.23486420512199402, -0.0555974543094635, 0.09294483810663223,
     0.16241319477558136, 0.1579212248325348, 0.11486834287643433, 0.06749982386827469,
     0.03305508941411972, 0.013696285896003246, 0.004896325524896383, 0.0015041680308058858,
     0.00039986748015508056, 9.133125422522426e-05, 1.8700569853535853e-05, 2.529124003558536e-06},
    {0.0019973923917859793, 0.1655096709728241, 0.17555250227451324, 0.11216170340776443,
     0.02840961515903473, -0.03004315122961998, -0.0494048111140728, -0.04218931868672371,
     -0.02641000971198082, -0.013173408806324005, -0.005469160154461861, -0.0019084855448454618,
     -0.0005673256819136441, 0.000434861023677513, -7.381595787592232e-05, -0.0005473619676195085},
    {0.10599464178085327, 0.04632527008652687, -0.026627179235219955, -0.06644471734762192,
     -0.06114882230758667, -0.030652077868580818, -0.002350409748032689, 0.01131058856844902,
     0.012440412305295467, 0.008361385203897953, 0.004238865338265896, 0.0017290908144786954,
     0.0005849890876561403, 0.00027191906701773405, 4.802630064659752e-05, 0.00010743633902166039},
};

}  // namespace actjit::poly
