// Branch-free transcendental functions for the DSL's span loops
// (include/actjit/dsl/eval.hpp), written so that the compiler's
// auto-vectorizer can turn a loop calling them into SIMD code: no branches
// (only selects), no calls, exponent handling through std::bit_cast.
//
// The schemes and polynomial coefficients are the JIT's
// (jit/vector_math.cpp, docs/VECTOR_MATH.md): Cody-Waite range reduction,
// a Chebyshev fit evaluated by Horner's scheme, 2^n built from bits. The
// ln2 splits are chosen so that n * ln2_hi is exact without FMA (cephes for
// float, fdlibm for double), so the results do not depend on whether the
// target has FMA. Float functions compute in float, double in double,
// except pow(float, float), which computes exp(b log|a|) in double.
//
// Accuracy (tests/dsl/test_dsl_vmath.cpp, dense samples against long
// double libm): at most 2 ulp measured (4 required) in float and double,
// pow(float) 1 ulp; the IEEE limits hold
// (overflow to inf, underflow to 0, NaN propagates, log(0) = -inf,
// log(<0) = NaN, tanh and sigmoid saturate, softplus(x) = x for large x).
#pragma once

#include <actjit/detail/poly_tables.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#if defined(__GNUC__) || defined(__clang__)
#define ACTJIT_VMATH_INLINE [[gnu::always_inline]] inline  // else pow stays a call at -O2
#else
#define ACTJIT_VMATH_INLINE inline
#endif

namespace actjit::dsl::vmath {

namespace detail {

template <class T>
struct traits;
template <>
struct traits<float> {
    using U = std::uint32_t;
    using I = std::int32_t;
    static constexpr int mant = 23;
    static constexpr int bias = 127;
    static constexpr float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    static constexpr float log2e = 1.44269504088896341f;
    static constexpr float ln2_hi = 0.693359375f;  // 9 bits: n * ln2_hi exact for |n| < 2^15
    static constexpr float ln2_lo = -2.12194440e-4f;
    static constexpr float exp_lo = -104.0f, exp_hi = 89.0f;   // just beyond underflow / overflow
    static constexpr float expm1_lo = -25.0f;                    // e^x - 1 rounds to -1 below
    static constexpr float tanh_sat = 10.0f;                     // tanh rounds to 1 beyond
    static constexpr float min_normal = 1.17549435e-38f;
    static constexpr float sub_scale = 8388608.0f;               // 2^23
    static constexpr float sqrt_half = 0.70710677f;
};
template <>
struct traits<double> {
    using U = std::uint64_t;
    using I = std::int64_t;
    static constexpr int mant = 52;
    static constexpr int bias = 1023;
    static constexpr double magic = 6755399441055744.0;  // 1.5 * 2^52
    static constexpr double log2e = 1.4426950408889634;
    static constexpr double ln2_hi = 6.93147180369123816490e-01;  // 32 bits (fdlibm)
    static constexpr double ln2_lo = 1.90821492927058770002e-10;
    static constexpr double exp_lo = -746.0, exp_hi = 710.0;
    static constexpr double expm1_lo = -40.0;
    static constexpr double tanh_sat = 20.0;
    static constexpr double min_normal = 2.2250738585072014e-308;
    static constexpr double sub_scale = 4503599627370496.0;  // 2^52
    static constexpr double sqrt_half = 0.70710678118654757;
};

template <class T>
inline T fmadd(T a, T b, T c) {
    return a * b + c;  // contracted to FMA where the target has it
}



template <class T>
inline T abs(T x) {
    using U = typename traits<T>::U;
    return std::bit_cast<T>(std::bit_cast<U>(x) & ~(U(1) << (sizeof(T) * 8 - 1)));
}

/// |mag| with the sign of sgn.
template <class T>
inline T copysign(T mag, T sgn) {
    using U = typename traits<T>::U;
    constexpr U s = U(1) << (sizeof(T) * 8 - 1);
    return std::bit_cast<T>((std::bit_cast<U>(mag) & ~s) | (std::bit_cast<U>(sgn) & s));
}

/// c ? a : b with bit masks: GCC sinks a computation used by only one arm
/// of a ?: into a branch, which -ftrapping-math then keeps from being
/// if-converted; this always uses both.
template <class T>
inline T blend(bool c, T a, T b) {
    using U = typename traits<T>::U;
    const U m = U(0) - static_cast<U>(c);
    return std::bit_cast<T>((std::bit_cast<U>(a) & m) | (std::bit_cast<U>(b) & ~m));
}

/// floor for float without std::floor, which GCC vectorizes only without
/// -ftrapping-math: truncation through int32 where |x| < 2^23, x itself
/// beyond (an integer already, or inf or NaN). floor(x) has the sign of x
/// (floor(-0) = -0, floor(0.5) = +0), which copysign restores.
inline float floor(float x) {
    const bool small = abs(x) < 8388608.0f;
    const float t = static_cast<float>(static_cast<std::int32_t>(blend(small, x, 0.0f)));
    const float f = t - blend(t > x, 1.0f, 0.0f);
    return blend(small, copysign(f, x), x);
}

template <class T>
inline T clamp(T x, T lo, T hi) {  // NaN stays NaN
    const T y = blend(x < lo, lo, x);
    return blend(y > hi, hi, y);
}

/// 2^n for -bias < n <= bias (integer arithmetic on unsigned: garbage n from
/// NaN lanes wraps harmlessly).
template <class T>
inline T pow2i(typename traits<T>::I n) {
    using Tr = traits<T>;
    using U = typename Tr::U;
    return std::bit_cast<T>(static_cast<U>(static_cast<U>(n) + U(Tr::bias)) << Tr::mant);
}

/// Horner with coefficients lowest degree first (unrolled at compile time:
/// GCC's -O2 vectorizer gives up on a loop nest).
template <class T, std::size_t N, std::size_t... I>
inline T poly_impl(T x, const double (&c)[N], std::index_sequence<I...>) {
    T r = static_cast<T>(c[N - 1]);
    ((r = fmadd(r, x, static_cast<T>(c[N - 2 - I]))), ...);
    return r;
}
template <class T, std::size_t N>
inline T poly(T x, const double (&c)[N]) {
    return poly_impl(x, c, std::make_index_sequence<N - 1>{});
}

// The JIT's coefficient tables (kExpQ32, kLogP32, kErfSmall32, ...).
using namespace actjit::poly;

/// x = n ln2 + r, |r| <= ln2/2 (about), n as float and integer.
template <class T>
struct reduced {
    T n;
    typename traits<T>::I ni;
    T r;
};
template <class T>
inline reduced<T> reduce_ln2(T x) {
    using Tr = traits<T>;
    using U = typename Tr::U;
    using I = typename Tr::I;
    const T xm = fmadd(x, Tr::log2e, Tr::magic);
    const T n = xm - Tr::magic;
    const I ni = static_cast<I>(std::bit_cast<U>(xm) - std::bit_cast<U>(Tr::magic));
    const T r = (x - n * Tr::ln2_hi) - n * Tr::ln2_lo;
    return {n, ni, r};
}

/// e^r - 1 for the reduced r.
template <class T>
inline T expm1_poly(T r) {
    const T q = std::is_same_v<T, float> ? poly(r, kExpQ32) : poly(r, kExpQ64);
    return fmadd(r * r, q, r);
}

/// expm1 without the sign of zero (expm1(-0) gives +0).
template <class T>
inline T expm1_raw(T x) {
    using Tr = traits<T>;
    using I = typename Tr::I;
    const reduced<T> red = reduce_ln2(clamp(x, Tr::expm1_lo, Tr::exp_hi));
    const T pm1 = expm1_poly(red.r);
    // e^x - 1 = 2^n (e^r - 1) + (2^n - 1), 2^n capped at 2^bias and the
    // last factor 2 applied after (inf, not inf - inf).
    const I n = red.ni < I(Tr::bias) ? red.ni : I(Tr::bias);
    const T t = pow2i<T>(n);
    const T res = fmadd(t, pm1, t - T(1));
    return res * blend(n == red.ni, T(1), T(2));
}

/// log(1 + f) and e with x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2)),
/// for finite x > 0 (garbage otherwise, replaced by log_specials).
template <class T>
inline T log_core(T x) {
    using Tr = traits<T>;
    using U = typename Tr::U;
    const bool sub = std::bit_cast<U>(x) < std::bit_cast<U>(Tr::min_normal);  // bits: see log_specials
    const T scaled = x * Tr::sub_scale;  // unconditionally: a conditional multiply blocks if-conversion
    const T xs = blend(sub, scaled, x);
    const U off = std::bit_cast<U>(Tr::sqrt_half);
    const U ix = std::bit_cast<U>(xs) - off;
    // e = ix >> mant, arithmetic, made of unsigned operations only (AVX2
    // has no 64-bit arithmetic shift and no packed int64 -> double
    // conversion): ix + 2^(bits-2) is never negative, its logical shift is
    // e + kOffE, and OR-ing that into the mantissa of 2^mant gives it as T.
    constexpr U kOff = U(1) << (sizeof(U) * 8 - 2);
    constexpr U kOffE = kOff >> Tr::mant;
    constexpr T kTwoMant = static_cast<T>(U(1) << Tr::mant);
    const U eb = (ix + kOff) >> Tr::mant;
    const T ef = (std::bit_cast<T>(eb | std::bit_cast<U>(kTwoMant)) - (kTwoMant + static_cast<T>(kOffE))) +
                 blend(sub, T(-Tr::mant), T(0));
    const U mbits = (ix & ((U(1) << Tr::mant) - 1)) + off;
    const T f = std::bit_cast<T>(mbits) - T(1);  // exact
    T l;
    if constexpr (std::is_same_v<T, float>) {
        const T p = poly(f, kLogP32);
        l = fmadd(f * f, fmadd(f, p, T(-0.5)), f);
    } else {
        const T s = f / (T(2) + f);
        const T z = s * s;
        const T hfsq = T(0.5) * (f * f);
        const T tz = z * poly(z, kLogR64);
        l = f - (hfsq - s * (hfsq + tz));
    }
    return fmadd(ef, Tr::ln2_hi, fmadd(ef, Tr::ln2_lo, l));
}

/// u = +inf gives +inf, +-0 gives -inf, u < 0 or NaN gives NaN. Tested on
/// the bits: float comparisons that may trap (-ftrapping-math) keep GCC
/// from if-converting the selects.
template <class T>
inline T log_specials(T u, T res) {
    using U = typename traits<T>::U;
    constexpr T inf = std::numeric_limits<T>::infinity();
    constexpr U sign = U(1) << (sizeof(T) * 8 - 1);
    const U b = std::bit_cast<U>(u);
    const U mag = b & ~sign;
    constexpr U inf_bits = std::bit_cast<U>(inf);
    res = blend(b == inf_bits, inf, res);
    res = blend(((b & sign) != 0) | (mag > inf_bits), std::numeric_limits<T>::quiet_NaN(), res);
    return blend(mag == 0, -inf, res);
}

/// log1p(x) for x in (-1, inf) or NaN, u = 1 + x rounded.
template <class T>
inline T log1p_raw(T x, T u) {
    return log_core(u) + (x - (u - T(1))) / u;
}

}  // namespace detail

template <class T>
inline T exp(T x) {
    using Tr = detail::traits<T>;
    const detail::reduced<T> red = detail::reduce_ln2(detail::clamp(x, Tr::exp_lo, Tr::exp_hi));
    const T p = detail::expm1_poly(red.r) + T(1);
    // Two scalings so subnormal results round once and n = bias + 1 overflows.
    // n1 = floor(ni / 2) by a logical shift (|ni| < 2^11 here; AVX2 has no
    // 64-bit arithmetic shift).
    using U = typename Tr::U;
    constexpr U kOff = U(1) << 20;
    const auto n1 = static_cast<typename Tr::I>(((static_cast<U>(red.ni) + kOff) >> 1) - (kOff >> 1));
    const auto n2 = static_cast<typename Tr::I>(red.ni - n1);
    return p * detail::pow2i<T>(n1) * detail::pow2i<T>(n2);
}

template <class T>
inline T expm1(T x) {
    return detail::blend(x == T(0), x, detail::expm1_raw(x));
}

template <class T>
inline T log(T x) {
    return detail::log_specials(x, detail::log_core(x));
}

template <class T>
inline T log1p(T x) {
    const T u = x + T(1);
    const T res = detail::log_specials(u, detail::log1p_raw(x, u));
    return detail::blend(x == T(0), x, res);  // log1p(-0) = -0
}

template <class T>
inline T tanh(T x) {
    using Tr = detail::traits<T>;
    // tanh|x| = e / (e + 2), e = expm1(2|x|); rounds to 1 beyond tanh_sat.
    const T ax = detail::abs(x);
    const T xc = detail::blend(ax > Tr::tanh_sat, Tr::tanh_sat, ax);
    const T e = detail::expm1_raw(xc + xc);
    return detail::copysign(e / (e + T(2)), x);
}

template <class T>
inline T sigmoid(T x) {
    // t = e^-|x|: 1/(1+t) for x >= 0, t/(1+t) below (no overflow, no cancellation).
    const T t = vmath::exp(-detail::abs(x));
    return detail::blend(x >= T(0), T(1), t) / (T(1) + t);
}

template <class T>
inline T softplus(T x) {
    // max(x, 0) + log1p(e^-|x|); NaN reaches the result through log1p.
    const T t = vmath::exp(-detail::abs(x));
    return detail::blend(x > T(0), x, T(0)) + detail::log1p_raw(t, t + T(1));
}

/// erf for float (the JIT's scheme where it has no AVX-512 register tables;
/// double stays on libm in the span loops).
inline float erf(float x) {
    const float ax = detail::abs(x);
    const float small = x * detail::poly(x * x, detail::kErfSmall32);
    const float axc = detail::blend(ax > 3.92f, 3.92f, ax);  // NaN passes
    const float large = 1.0f - vmath::exp(detail::poly(axc, detail::kErfLarge32));
    const float res = detail::copysign(detail::blend(ax > 3.92f, 1.0f, large), x);
    return detail::blend(ax < 1.0f, small, res);
}

/// C's pow(a, b) for float, computed as exp(b log|a|) in double (within an
/// ulp of the float result), with C's special cases.
ACTJIT_VMATH_INLINE float pow(float af, float bf) {
    const double a = af, b = bf;
    const double inf = std::numeric_limits<double>::infinity();
    const bool big = !(detail::abs(b) < 16777216.0);  // |b| >= 2^24 (an even integer), inf or NaN
    // |b| < 2^24 here converts to int32, which vectorizes on AVX2 (int64
    // does not: no packed double -> int64 conversion before AVX-512DQ).
    const std::int32_t bi = static_cast<std::int32_t>(detail::blend(big, 0.0, b));
    const bool is_int = big | (static_cast<double>(bi) == b);  // | and &: no short-circuit branches
    const bool odd = is_int & !big & ((bi & 1) != 0);
    const double aa = detail::abs(a);
    double r = vmath::exp(b * vmath::log(aa));  // |a| = +inf, 0 and b = +-inf come out right here
    r = detail::blend(aa == 1.0, 1.0, r);  // (+-1)^(+-inf) = 1
    r = detail::blend(aa == 0.0, detail::blend(b < 0, inf, 0.0), r);
    r = detail::blend(odd, detail::copysign(r, a), r);  // negative base, odd integer exponent
    r = detail::blend((a < 0) & (a != -inf) & !is_int, std::numeric_limits<double>::quiet_NaN(), r);
    r = detail::blend((a != a) | (b != b), a + b, r);
    r = detail::blend((b == 0.0) | (a == 1.0), 1.0, r);
    return static_cast<float>(r);
}

}  // namespace actjit::dsl::vmath
