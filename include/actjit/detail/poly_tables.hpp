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

}  // namespace actjit::poly
