// Native evaluation, no JIT: parameter values, a scalar evaluator
// (constexpr where the math is), and forward/backward loops over spans.
//
//   constexpr auto f = pow(relu(x), softsign(s) + 1_c);
//   double y = f(0.5, params(s = 0.25));          // or params("s"_p = 0.25)
//   forward(f, xs, ys, params(s = 0.25));         // std::span<const float> -> std::span<float>
//   backward(f, xs, dys, dxs, params(s = 0.25), grads);  // dx and d/ds summed
//   forward_rows(f, xs, ys, cols, params(s = 0.25));      // [rows x cols]: feature = column
//
// The operations compute what the reference interpreter computes (the same
// libm calls in float or double) except x^k for a constant integer k, which
// is a product of squarings here (within an ulp of pow, and vectorizable).
// The loops are plain loops over a fully inlined expression, written for
// the compiler's auto-vectorizer; in them exp, expm1, log, log1p, tanh,
// sigmoid, softplus and float pow and erf use the branch-free vmath.hpp versions
// (within 2 ulp of libm's) so that they vectorize too, where the target
// has AVX-512 or AVX2 with FMA (see ACTJIT_DSL_VMATH).
#pragma once

#include <actjit/dsl/diff.hpp>
#include <actjit/dsl/vmath.hpp>
#include <actjit/error.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <tuple>
#include <vector>

namespace actjit::dsl {

// ---- Parameter values -----------------------------------------------------------

/// A parameter's value, made by `param<"s"> = 0.5` or `"s"_p = 0.5`.
template <fixed_string Name>
struct binding {
    static constexpr std::string_view name = Name.view();
    double value;
};

/// A parameter replaced by an expression (see substitute), made by
/// `param<"s"> = 2_c`.
template <fixed_string Name, class E>
struct substitution {
    static constexpr std::string_view name = Name.view();
};

template <fixed_string Name>
template <class T>
constexpr auto param_t<Name>::operator=(T v) const {
    if constexpr (expression<T>) {
        return substitution<Name, std::remove_cvref_t<T>>{};
    } else {
        static_assert(std::is_arithmetic_v<T>, "param<\"name\"> = v: v must be a number or a DSL expression");
        return binding<Name>{static_cast<double>(v)};
    }
}

/// A set of parameter values, made by params(...).
template <class... B>
struct param_values {
    std::tuple<B...> values;
};

namespace detail {
template <class T>
inline constexpr bool is_binding = false;
template <fixed_string N>
inline constexpr bool is_binding<binding<N>> = true;

template <class... B>
constexpr bool distinct_names() {
    constexpr std::string_view names[] = {B::name..., ""};
    for (std::size_t i = 0; i < sizeof...(B); ++i)
        for (std::size_t j = i + 1; j < sizeof...(B); ++j)
            if (names[i] == names[j]) return false;
    return true;
}

template <class... B>
constexpr std::size_t index_of(std::string_view name) {
    constexpr std::string_view names[] = {B::name..., ""};
    for (std::size_t i = 0; i < sizeof...(B); ++i)
        if (names[i] == name) return i;
    return sizeof...(B);
}
}  // namespace detail

/// Parameter values for evaluation: params(param<"s"> = 0.5, "a"_p = 2).
template <class... B>
constexpr auto params(B... b) {
    static_assert((detail::is_binding<B> && ...),
                  "params(...) takes bindings: params(\"s\"_p = 0.5) or params(param<\"s\"> = 0.5)");
    static_assert(detail::distinct_names<B...>(), "params(...): a parameter is given twice");
    return param_values<B...>{{b...}};
}

namespace detail {
template <class Param, class P>
constexpr double param_value(const P& ps) {
    if constexpr (std::is_same_v<P, no_params>) {
        static_assert(always_false<Param>,
                      "the expression has a parameter but no values were given: pass params(\"name\"_p = value, ...)");
        return 0;
    } else {
        return [&]<class... B>(const param_values<B...>& pv) {
            constexpr std::size_t i = index_of<B...>(Param::name);
            static_assert(i < sizeof...(B),
                          "no value for a parameter of the expression (named in param_t<...> below): add "
                          "\"name\"_p = value to params(...)");
            if constexpr (i < sizeof...(B)) return std::get<i>(pv.values).value; else return 0.0;
        }(ps);
    }
}
}  // namespace detail

// ---- Parameters of an expression ---------------------------------------------------

template <class... T>
struct type_list {
    static constexpr std::size_t size = sizeof...(T);
};

namespace detail {
template <class L, class T>
struct add_unique;
template <class... Ts, class T>
struct add_unique<type_list<Ts...>, T> {
    using type = std::conditional_t<(std::is_same_v<Ts, T> || ...), type_list<Ts...>, type_list<Ts..., T>>;
};

template <class L, class E>
struct collect_params {
    using type = L;
};
template <class L, class E>
struct collect_params<L, const E> : collect_params<L, E> {};  // operands named by decltype(constexpr var)
template <class L, fixed_string N>
struct collect_params<L, param_t<N>> {
    using type = typename add_unique<L, param_t<N>>::type;
};
template <class L, Op O>
struct collect_params<L, node<O>> {
    using type = L;
};
template <class L, Op O, class A, class... R>
struct collect_params<L, node<O, A, R...>> {
    using type = typename collect_params<typename collect_params<L, A>::type, node<O, R...>>::type;
};
}  // namespace detail

/// The parameters of E, in order of first appearance (depth first, left to
/// right: the order of actjit::params_of and of parsed formulas).
template <class E>
using params_of_t = typename detail::collect_params<type_list<>, std::remove_cvref_t<E>>::type;

template <class E>
inline constexpr std::size_t num_params = params_of_t<E>::size;

/// Their names.
template <class E>
constexpr auto param_names(E = {}) {
    return []<class... P>(type_list<P...>) { return std::array<std::string_view, sizeof...(P)>{P::name...}; }(
        params_of_t<E>{});
}

/// Replace parameters by expressions: substitute(expolu<>, "p"_p = 3_c).
template <class E, class... S>
constexpr auto substitute(E e, S... s);

namespace detail {
template <class E, class S>
struct substitute_one {
    using type = E;
};
template <class E, class S>
struct substitute_one<const E, S> : substitute_one<E, S> {};
template <fixed_string N, class R>
struct substitute_one<param_t<N>, substitution<N, R>> {
    using type = R;
};
template <Op O, class... A, class S>
struct substitute_one<node<O, A...>, S> {
    using type = node<O, typename substitute_one<A, S>::type...>;
};
}  // namespace detail

namespace detail {
template <class T>
inline constexpr bool is_substitution = false;
template <fixed_string N, class E>
inline constexpr bool is_substitution<substitution<N, E>> = true;
}  // namespace detail

template <class E, class... S>
constexpr auto substitute(E, S...) {
    static_assert(expression<E>, "substitute(e, \"name\"_p = expression, ...): e must be a DSL expression");
    static_assert((detail::is_substitution<S> && ...),
                  "substitute(e, ...): write \"name\"_p = expression, e.g. \"p\"_p = 3_c (a number needs _c)");
    if constexpr (sizeof...(S) == 0) {
        return E{};
    } else {
        return []<class First, class... Rest>(First, Rest... rest) {
            return substitute(typename detail::substitute_one<E, First>::type{}, rest...);
        }(S{}...);
    }
}

// ---- Scalar evaluation --------------------------------------------------------------

namespace detail {

/// b^K for a constant integer K, unrolled at compile time (vectorizable).
/// Negative K: 1 / b^-K, or (1 / b)^-K where b^-K overflows or leaves the
/// normal range for a finite b != 0 (1e13f^-3 is 1e-39, not 1 / inf = 0), as
/// the JIT does; both are computed and one selected, so the loop stays
/// branch-free.
template <long K, class T>
constexpr T powi(T b) {
    if constexpr (K < 0) {
        const T r = powi<-K>(b);
        const T ar = r < T(0) ? -r : r;
        const T ab = b < T(0) ? -b : b;
        const bool out_of_range = (ar == std::numeric_limits<T>::infinity()) | (ar < std::numeric_limits<T>::min());
        const bool finite_nonzero = (ab != std::numeric_limits<T>::infinity()) & (ab != T(0)) & (b == b);
        const T q = T(1) / r;
        const T alt = powi<-K>(T(1) / b);
        return out_of_range & finite_nonzero ? alt : q;
    } else if constexpr (K == 0) {
        return T(1);
    } else if constexpr (K == 1) {
        return b;
    } else if constexpr (K % 2 == 0) {
        const T h = powi<K / 2>(b);
        return h * h;
    } else {
        return b * powi<K - 1>(b);
    }
}

template <class T>
constexpr T truth(bool b) {
    return b ? T(1) : T(0);
}
/// A condition operand is true when non-zero and not NaN.
template <class T>
constexpr bool truthy(T c) {
    return c != T(0) && c == c;
}
template <class T>
constexpr T quiet_nan() {
    return std::numeric_limits<T>::quiet_NaN();
}
/// sigmoid in the form that never overflows, with one exp (branch-free).
template <class T>
constexpr T sigmoid(T a) {
    const T e = std::exp(a < 0 ? a : -a);
    return a >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
}
template <class T>
constexpr T softsign(T a) {
    const T m = a < 0 ? -a : a;
    if (m > std::numeric_limits<T>::max()) return a < 0 ? T(-1) : T(1);
    return a / (T(1) + m);
}
template <class T>
constexpr T nan_min(T a, T b) {
    return a != a || b != b ? quiet_nan<T>() : (b < a ? b : a);
}
template <class T>
constexpr T nan_max(T a, T b) {
    return a != a || b != b ? quiet_nan<T>() : (b > a ? b : a);
}

/// One operation on values. Same definitions as the interpreter
/// (src/eval_ops.hpp); comparisons and logic give 1 or 0.
template <Op O, class T>
constexpr T apply(T a, T b = 0, T c = 0) {
    if constexpr (O == Op::Add) return a + b;
    else if constexpr (O == Op::Sub) return a - b;
    else if constexpr (O == Op::Mul) return a * b;
    else if constexpr (O == Op::Div) return a / b;
    else if constexpr (O == Op::Pow) return std::pow(a, b);
    else if constexpr (O == Op::Neg) return -a;
    else if constexpr (O == Op::Lt) return truth<T>(a < b);
    else if constexpr (O == Op::Le) return truth<T>(a <= b);
    else if constexpr (O == Op::Gt) return truth<T>(a > b);
    else if constexpr (O == Op::Ge) return truth<T>(a >= b);
    else if constexpr (O == Op::Eq) return truth<T>(a == b);
    else if constexpr (O == Op::Ne) return truth<T>(a != b);
    else if constexpr (O == Op::And) return truth<T>(truthy(a) && truthy(b));
    else if constexpr (O == Op::Or) return truth<T>(truthy(a) || truthy(b));
    else if constexpr (O == Op::Not) return truth<T>(!truthy(a));
    else if constexpr (O == Op::Where) return truthy(a) ? b : c;
    else if constexpr (O == Op::Exp) return std::exp(a);
    else if constexpr (O == Op::Exp2) return std::exp2(a);
    else if constexpr (O == Op::Log) return std::log(a);
    else if constexpr (O == Op::Log2) return std::log2(a);
    else if constexpr (O == Op::Log10) return std::log10(a);
    else if constexpr (O == Op::Log1p) return std::log1p(a);
    else if constexpr (O == Op::Expm1) return std::expm1(a);
    else if constexpr (O == Op::Sqrt) return std::sqrt(a);
    else if constexpr (O == Op::Cbrt) return std::cbrt(a);
    else if constexpr (O == Op::Abs) return a < 0 ? -a : (a == 0 ? T(0) : a);
    else if constexpr (O == Op::Sign) return a != a ? a : truth<T>(a > 0) - truth<T>(a < 0);
    else if constexpr (O == Op::Floor) return std::floor(a);
    else if constexpr (O == Op::Sin) return std::sin(a);
    else if constexpr (O == Op::Cos) return std::cos(a);
    else if constexpr (O == Op::Tan) return std::tan(a);
    else if constexpr (O == Op::Asin) return std::asin(a);
    else if constexpr (O == Op::Acos) return std::acos(a);
    else if constexpr (O == Op::Atan) return std::atan(a);
    else if constexpr (O == Op::Sinh) return std::sinh(a);
    else if constexpr (O == Op::Cosh) return std::cosh(a);
    else if constexpr (O == Op::Tanh) return std::tanh(a);
    else if constexpr (O == Op::Asinh) return std::asinh(a);
    else if constexpr (O == Op::Acosh) return std::acosh(a);
    else if constexpr (O == Op::Atanh) return std::atanh(a);
    else if constexpr (O == Op::Erf) return std::erf(a);
    else if constexpr (O == Op::Erfc) return std::erfc(a);
    else if constexpr (O == Op::Sigmoid) return sigmoid(a);
    else if constexpr (O == Op::Softplus) return (a > 0 ? a : T(0)) + std::log1p(std::exp(a > 0 ? -a : a));  // NaN stays NaN
    else if constexpr (O == Op::Softsign) return softsign(a);
    else if constexpr (O == Op::Relu) return a > 0 ? a : (a != a ? a : T(0));
    else if constexpr (O == Op::Min) return nan_min(a, b);
    else if constexpr (O == Op::Max) return nan_max(a, b);
    else if constexpr (O == Op::Mod) return a - b * std::floor(a / b);
    else if constexpr (O == Op::Clamp) return nan_min(nan_max(a, b), c);
    else static_assert(always_false<T>, "internal: no evaluation rule for this op");
}

/// The operations of evaluate(): apply() (libm, constexpr where the math
/// is). The span loops use span_ops (vmath where it vectorizes, below).
struct scalar_ops {
    template <Op O, class T>
    static constexpr T apply(T a, T b = 0, T c = 0) {
        return detail::apply<O, T>(a, b, c);
    }
};

// The feature index is any integer type: the span loops over rows pass an
// int32 column index, which vectorizes into floats (int64 does not on AVX2).
template <class Ops, class E, class T, class P, class F>
ACTJIT_VMATH_INLINE constexpr T evaluate_with(E, T xv, const P& ps, F feature_index);

/// One node (a function, not a lambda, so that it can be forced inline: a
/// call left in a span loop's body stops the vectorizer).
template <class E>
inline constexpr bool is_comparison = false;
template <Op C, class L, class R>
inline constexpr bool is_comparison<node<C, L, R>> =
    C == Op::Lt || C == Op::Le || C == Op::Gt || C == Op::Ge || C == Op::Eq || C == Op::Ne;

template <Op C, class T>
ACTJIT_VMATH_INLINE constexpr bool compare(T a, T b) {
    if constexpr (C == Op::Lt) return a < b;
    else if constexpr (C == Op::Le) return a <= b;
    else if constexpr (C == Op::Gt) return a > b;
    else if constexpr (C == Op::Ge) return a >= b;
    else if constexpr (C == Op::Eq) return a == b;
    else return a != b;
}

template <class Ops, Op C, class L, class R, class T, class P, class F>
ACTJIT_VMATH_INLINE constexpr bool evaluate_comparison(node<C, L, R>, T xv, const P& ps, F feature_index) {
    return compare<C>(evaluate_with<Ops>(L{}, xv, ps, feature_index), evaluate_with<Ops>(R{}, xv, ps, feature_index));
}

template <class Ops, Op O, class... A, class T, class P, class F>
ACTJIT_VMATH_INLINE constexpr T evaluate_node(node<O, A...>, T xv, const P& ps, F feature_index) {
    if constexpr (O == Op::Where && requires { requires Ops::select_on_comparison; }) {
        // where(l < r, a, b) as one select on the comparison: going through
        // the 1.0 / 0.0 of the comparison and back costs the span loops
        // two compares and two selects a vector where one of each is enough.
        using Cond = arg_t<0, node<O, A...>>;
        if constexpr (is_comparison<Cond>)
            return Ops::select(evaluate_comparison<Ops>(Cond{}, xv, ps, feature_index),
                               evaluate_with<Ops>(arg_t<1, node<O, A...>>{}, xv, ps, feature_index),
                               evaluate_with<Ops>(arg_t<2, node<O, A...>>{}, xv, ps, feature_index));
        else
            return Ops::template apply<O, T>(evaluate_with<Ops>(A{}, xv, ps, feature_index)...);
    } else {
        return Ops::template apply<O, T>(evaluate_with<Ops>(A{}, xv, ps, feature_index)...);
    }
}

/// evaluate() with the operations of Ops.
template <class Ops, class E, class T, class P, class F>
ACTJIT_VMATH_INLINE constexpr T evaluate_with(E, T xv, const P& ps, F feature_index) {
    if constexpr (is_lit<E>) {
        return static_cast<T>(E::value);
    } else if constexpr (std::is_same_v<E, input_t>) {
        return xv;
    } else if constexpr (std::is_same_v<E, feature_t>) {
        return static_cast<T>(feature_index);
    } else if constexpr (is_param<E>) {
        return static_cast<T>(param_value<E>(ps));
    } else if constexpr (simp::exponent_is_small_integer<E>()) {
        return powi<static_cast<long>(arg_t<1, E>::value)>(evaluate_with<Ops>(arg_t<0, E>{}, xv, ps, feature_index));
    } else {
        return evaluate_node<Ops>(E{}, xv, ps, feature_index);
    }
}

}  // namespace detail

/// The value of e at xv (float or double), with parameter values ps and
/// feature index `feature_index`. Also written e(xv, ps, feature_index).
template <class E, class T, class P = no_params>
constexpr T evaluate(E, T xv, const P& ps = {}, std::int64_t feature_index = 0) {
    return detail::evaluate_with<detail::scalar_ops>(E{}, xv, ps, feature_index);
}

// ---- Loops over spans ------------------------------------------------------------

#if defined(__clang__)
#define ACTJIT_DSL_VECTORIZE _Pragma("clang loop vectorize(enable) interleave(enable)")
#elif defined(__GNUC__)
#define ACTJIT_DSL_VECTORIZE _Pragma("GCC ivdep")
#else
#define ACTJIT_DSL_VECTORIZE
#endif

namespace detail {

/// Whether the span loops use vmath.hpp: where the loops vectorize, which
/// with GCC 12 takes AVX-512, or AVX2 with FMA (every select a bit-mask
/// blend, no 64-bit arithmetic shift or int64 conversion: docs/DSL.md). On
/// SSE2 the loops stay scalar and libm is faster than scalar vmath code.
/// Define ACTJIT_DSL_VMATH to 0 or 1 to choose.
/// Never under -ffast-math: vmath.hpp rounds with magic constants, (x + M)
/// - M, which -fassociative-math folds away (exp off by 40 %); libm's calls
/// vectorize there anyway (glibc's libmvec).
#ifndef ACTJIT_DSL_VMATH
#if (defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))) && !defined(__FAST_MATH__)
#define ACTJIT_DSL_VMATH 1
#else
#define ACTJIT_DSL_VMATH 0
#endif
#endif
#if ACTJIT_DSL_VMATH && defined(__FAST_MATH__)
#error "ACTJIT_DSL_VMATH=1 needs IEEE arithmetic: -ffast-math folds away the rounding of vmath.hpp"
#endif

/// The operations of the span loops: apply() with the vectorizable vmath.hpp
/// functions.
struct span_ops {
    static constexpr bool select_on_comparison = ACTJIT_DSL_VMATH;
    template <class T>
    ACTJIT_VMATH_INLINE static T select(bool c, T a, T b) {
        return vmath::detail::blend(c, a, b);
    }
    template <Op O, class T>
    ACTJIT_VMATH_INLINE static T apply(T a, T b = 0, T c = 0) {
        using vmath::detail::blend;
        // Every select is a bit-mask blend and every condition is computed
        // with & and |: GCC turns ?: and && into branches, which
        // -ftrapping-math then keeps from being if-converted without
        // AVX-512's masks (the loop stays scalar).
        const auto truth = [](bool v) { return blend(v, T(1), T(0)); };
        const auto truthy = [](T v) { return (v != T(0)) & (v == v); };
        if constexpr (!ACTJIT_DSL_VMATH) return detail::apply<O, T>(a, b, c);
        else if constexpr (O == Op::Where) return blend(truthy(a), b, c);  // no arm sunk into a branch
        else if constexpr (O == Op::Lt) return truth(a < b);
        else if constexpr (O == Op::Le) return truth(a <= b);
        else if constexpr (O == Op::Gt) return truth(a > b);
        else if constexpr (O == Op::Ge) return truth(a >= b);
        else if constexpr (O == Op::Eq) return truth(a == b);
        else if constexpr (O == Op::Ne) return truth(a != b);
        else if constexpr (O == Op::And) return truth(truthy(a) & truthy(b));
        else if constexpr (O == Op::Or) return truth(truthy(a) | truthy(b));
        else if constexpr (O == Op::Not) return truth(!truthy(a));
        else if constexpr (O == Op::Abs) return vmath::detail::abs(a);
        else if constexpr (O == Op::Sign) return blend(a != a, a, truth(a > T(0)) - truth(a < T(0)));
        else if constexpr (O == Op::Min) return blend((a != a) | (b != b), detail::quiet_nan<T>(), blend(b < a, b, a));
        else if constexpr (O == Op::Max) return blend((a != a) | (b != b), detail::quiet_nan<T>(), blend(b > a, b, a));
        else if constexpr (O == Op::Clamp) return apply<Op::Min, T>(apply<Op::Max, T>(a, b), c);
        else if constexpr (O == Op::Floor && std::is_same_v<T, float>) return vmath::detail::floor(a);
        else if constexpr (O == Op::Mod && std::is_same_v<T, float>) return a - b * vmath::detail::floor(a / b);
        else if constexpr (O == Op::Exp) return vmath::exp(a);
        else if constexpr (O == Op::Expm1) return vmath::expm1(a);
        else if constexpr (O == Op::Log) return vmath::log(a);
        else if constexpr (O == Op::Log1p) return vmath::log1p(a);
        else if constexpr (O == Op::Tanh) return vmath::tanh(a);
        else if constexpr (O == Op::Sigmoid) return vmath::sigmoid(a);
        else if constexpr (O == Op::Softplus) return vmath::softplus(a);
        else if constexpr (O == Op::Pow && std::is_same_v<T, float>) return vmath::pow(a, b);
        else if constexpr (O == Op::Erf && std::is_same_v<T, float>) return vmath::erf(a);
        else if constexpr (O == Op::Relu) return vmath::detail::blend(!(a <= T(0)), a, T(0));  // NaN stays NaN
        else if constexpr (O == Op::Softsign) {  // softsign() without its branches
            const T m = vmath::detail::abs(a);
            return vmath::detail::blend(m > std::numeric_limits<T>::max(), vmath::detail::copysign(T(1), a),
                                        a / (T(1) + m));
        }
        else return detail::apply<O, T>(a, b, c);
    }
};

template <class E, class T, class P, class F>
ACTJIT_VMATH_INLINE T evaluate_span(E, T xv, const P& ps, F feature_index) {
    return evaluate_with<span_ops>(E{}, xv, ps, feature_index);
}

inline void check_sizes(const char* what, std::size_t n, std::size_t m) {
    if (n != m)
        throw ValueError(std::string(what) + ": spans differ in length (" + std::to_string(n) + " and " +
                         std::to_string(m) + " elements)");
}

inline void check_grads(const char* what, std::size_t got, std::size_t params) {
    if (got != params)
        throw ValueError(std::string(what) + ": grads has " + std::to_string(got) + " elements, the expression has " +
                         std::to_string(params) + " parameters");
}

// The whole body inline (a call left in it stops the vectorizer), and for
// GCC no code sinking: it moves the work of one arm of a select (pow under
// relu's derivative, say) into a branch, which then blocks if-conversion.
#if defined(__GNUC__) && !defined(__clang__)
#define ACTJIT_DSL_FLATTEN [[gnu::flatten, gnu::optimize("no-tree-sink")]]
#elif defined(__clang__)
#define ACTJIT_DSL_FLATTEN [[gnu::flatten]]
#else
#define ACTJIT_DSL_FLATTEN
#endif

/// Runs body(i) for i in [0, n): blocks of kBlock with a constant trip count
/// (which GCC's -O2 "very cheap" vectorizer accepts, unlike an unknown one),
/// then the tail.
inline constexpr std::size_t kBlock = 64;
template <class Body>
ACTJIT_DSL_FLATTEN inline void blocked_loop(std::size_t n, Body&& body) {
    std::size_t i = 0;
    for (; i + kBlock <= n; i += kBlock) {
        ACTJIT_DSL_VECTORIZE
        for (std::size_t j = 0; j < kBlock; ++j) body(i + j);
    }
    const std::size_t rest = n - i;  // < kBlock: a bounded trip count, as GCC needs to see
    for (std::size_t j = 0; j < rest && j < kBlock; ++j) body(i + j);
}

template <class E, class T, class P>
void forward_loop(std::span<const T> xs, std::span<T> ys, const P& ps_arg, std::int64_t feature_index) {
    check_sizes("forward", xs.size(), ys.size());
    const P ps = ps_arg;  // a local copy: the stores below cannot alias it, so its loads leave the loop
    const std::size_t n = xs.size();
    if (static_cast<const void*>(xs.data()) == static_cast<const void*>(ys.data())) {  // in place
        T* yp = ys.data();
        blocked_loop(n, [&](std::size_t i) { yp[i] = evaluate_span(E{}, yp[i], ps, feature_index); });
        return;
    }
    const T* __restrict xp = xs.data();
    T* __restrict yp = ys.data();
    blocked_loop(n, [&](std::size_t i) { yp[i] = evaluate_span(E{}, xp[i], ps, feature_index); });
}

template <class E, class T, class P>
void backward_loop(std::span<const T> xs, std::span<const T> dys, std::span<T> dxs, const P& ps_arg,
                   std::int64_t feature_index) {
    check_sizes("backward", xs.size(), dys.size());
    check_sizes("backward", xs.size(), dxs.size());
    const P ps = ps_arg;  // see forward_loop
    using D = decltype(d(E{}, x));
    const T* xp = xs.data();
    const T* dyp = dys.data();
    T* dxp = dxs.data();
    blocked_loop(xs.size(), [&](std::size_t i) { dxp[i] = dyp[i] * evaluate_span(D{}, xp[i], ps, feature_index); });
}

/// Sums of dy * de/dp over the span for each parameter p of E. The terms
/// are computed a block at a time (the vectorized loop), then added into 8
/// partial sums in double, element i into lane i % 8 in index order: the
/// result does not depend on how the compiler vectorized anything.
template <class E, class T, class P, class Param>
ACTJIT_DSL_FLATTEN double param_gradient(std::span<const T> xs, std::span<const T> dys, const P& ps_arg,
                                         std::int64_t feature_index) {
    using D = decltype(d(E{}, Param{}));
    const P ps = ps_arg;  // see forward_loop
    constexpr std::size_t L = 8;
    double lanes[L] = {};
    T terms[kBlock];  // one block of dy * de/dp (the vectorized part), then summed into the lanes
    const std::size_t n = xs.size();
    for (std::size_t i = 0; i < n; i += kBlock) {
        if (n - i >= kBlock) {
            ACTJIT_DSL_VECTORIZE
            for (std::size_t j = 0; j < kBlock; ++j)
                terms[j] = dys[i + j] * evaluate_span(D{}, xs[i + j], ps, feature_index);
        } else {
            for (std::size_t j = 0; j < kBlock; ++j)
                terms[j] = i + j < n ? dys[i + j] * evaluate_span(D{}, xs[i + j], ps, feature_index) : T(0);
        }
        for (std::size_t j = 0; j < kBlock; j += L)
            for (std::size_t l = 0; l < L; ++l) lanes[l] += static_cast<double>(terms[j + l]);
    }
    double s = 0;
    for (double v : lanes) s += v;
    return s;
}

/// The number of rows of a row-major [rows x cols] span; throws unless
/// cols >= 1 divides its length and fits the int32 feature index.
inline std::size_t rows_of(const char* what, std::size_t n, std::int64_t cols) {
    if (cols < 1 || cols > std::numeric_limits<std::int32_t>::max())
        throw ValueError(std::string(what) + ": cols must be 1 to 2147483647, got " + std::to_string(cols));
    if (n % static_cast<std::size_t>(cols) != 0)
        throw ValueError(std::string(what) + ": " + std::to_string(n) + " elements are not rows of " +
                         std::to_string(cols) + " columns");
    return n / static_cast<std::size_t>(cols);
}

/// forward_loop over the rows of a row-major [rows x cols] tensor: element
/// (r, j) has feature index j (an int32, so that it vectorizes).
template <class E, class T, class P>
void forward_rows_loop(std::span<const T> xs, std::span<T> ys, std::int64_t cols, const P& ps_arg) {
    check_sizes("forward", xs.size(), ys.size());
    const std::size_t rows = rows_of("forward", xs.size(), cols), c = static_cast<std::size_t>(cols);
    const P ps = ps_arg;  // see forward_loop
    if (static_cast<const void*>(xs.data()) == static_cast<const void*>(ys.data())) {  // in place
        for (std::size_t r = 0; r < rows; ++r) {
            T* yp = ys.data() + r * c;
            blocked_loop(c, [&](std::size_t j) { yp[j] = evaluate_span(E{}, yp[j], ps, static_cast<std::int32_t>(j)); });
        }
        return;
    }
    for (std::size_t r = 0; r < rows; ++r) {
        const T* __restrict xp = xs.data() + r * c;
        T* __restrict yp = ys.data() + r * c;
        blocked_loop(c, [&](std::size_t j) { yp[j] = evaluate_span(E{}, xp[j], ps, static_cast<std::int32_t>(j)); });
    }
}

template <class E, class T, class P>
void backward_rows_loop(std::span<const T> xs, std::span<const T> dys, std::span<T> dxs, std::int64_t cols,
                        const P& ps_arg) {
    check_sizes("backward", xs.size(), dys.size());
    check_sizes("backward", xs.size(), dxs.size());
    const std::size_t rows = rows_of("backward", xs.size(), cols), c = static_cast<std::size_t>(cols);
    const P ps = ps_arg;  // see forward_loop
    using D = decltype(d(E{}, x));
    for (std::size_t r = 0; r < rows; ++r) {
        const T* xp = xs.data() + r * c;
        const T* dyp = dys.data() + r * c;
        T* dxp = dxs.data() + r * c;
        blocked_loop(c, [&](std::size_t j) {
            dxp[j] = dyp[j] * evaluate_span(D{}, xp[j], ps, static_cast<std::int32_t>(j));
        });
    }
}

/// param_gradient over the rows of a [rows x cols] tensor: the same terms
/// (element (r, j) with feature index j), added into lane (r cols + j) % 8
/// in index order, so the sum is the one param_gradient gives when cols is
/// a multiple of its block.
template <class E, class T, class P, class Param>
ACTJIT_DSL_FLATTEN double param_gradient_rows(std::span<const T> xs, std::span<const T> dys, std::int64_t cols,
                                              const P& ps_arg) {
    using D = decltype(d(E{}, Param{}));
    const P ps = ps_arg;  // see forward_loop
    const std::size_t rows = rows_of("backward", xs.size(), cols), c = static_cast<std::size_t>(cols);
    constexpr std::size_t L = 8;
    double lanes[L] = {};
    T terms[kBlock];
    for (std::size_t r = 0; r < rows; ++r) {
        const T* xp = xs.data() + r * c;
        const T* dyp = dys.data() + r * c;
        for (std::size_t j = 0; j < c; j += kBlock) {
            const std::size_t m = c - j < kBlock ? c - j : kBlock;
            if (m == kBlock) {
                ACTJIT_DSL_VECTORIZE
                for (std::size_t k = 0; k < kBlock; ++k)
                    terms[k] = dyp[j + k] * evaluate_span(D{}, xp[j + k], ps, static_cast<std::int32_t>(j + k));
            } else {
                for (std::size_t k = 0; k < kBlock; ++k)
                    terms[k] = k < m ? dyp[j + k] * evaluate_span(D{}, xp[j + k], ps, static_cast<std::int32_t>(j + k))
                                     : T(0);
            }
            const std::size_t base = r * c + j;
            for (std::size_t k = 0; k < m; ++k) lanes[(base + k) % L] += static_cast<double>(terms[k]);
        }
    }
    double s = 0;
    for (double v : lanes) s += v;
    return s;
}
}  // namespace detail

/// ys[i] = e(xs[i], ps, feature). ys may be xs (in place).
template <expression E, class P = no_params>
void forward(E, std::span<const float> xs, std::span<float> ys, const P& ps = {}, std::int64_t feature_index = 0) {
    detail::forward_loop<E, float>(xs, ys, ps, feature_index);
}
template <expression E, class P = no_params>
void forward(E, std::span<const double> xs, std::span<double> ys, const P& ps = {}, std::int64_t feature_index = 0) {
    detail::forward_loop<E, double>(xs, ys, ps, feature_index);
}

/// dxs[i] = dys[i] * de/dx(xs[i]).
template <expression E, class P = no_params>
void backward(E, std::span<const float> xs, std::span<const float> dys, std::span<float> dxs, const P& ps = {},
              std::int64_t feature_index = 0) {
    detail::backward_loop<E, float>(xs, dys, dxs, ps, feature_index);
}
template <expression E, class P = no_params>
void backward(E, std::span<const double> xs, std::span<const double> dys, std::span<double> dxs, const P& ps = {},
              std::int64_t feature_index = 0) {
    detail::backward_loop<E, double>(xs, dys, dxs, ps, feature_index);
}

/// As above, and grads[k] = sum over i of dys[i] * de/dp_k(xs[i]) for each
/// parameter p_k of e in param_names(e) order (overwritten, summed in double).
template <expression E, class T, class P>
void backward(E e, std::span<const T> xs, std::span<const T> dys, std::span<T> dxs, const P& ps,
              std::span<double> grads, std::int64_t feature_index = 0) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "backward: spans of float or double");
    detail::check_grads("backward", grads.size(), num_params<E>);
    backward(e, xs, dys, dxs, ps, feature_index);
    [&]<class... Param>(type_list<Param...>) {
        std::size_t k = 0;
        ((grads[k++] = detail::param_gradient<E, T, P, Param>(xs, dys, ps, feature_index)), ...);
    }(params_of_t<E>{});
}


// ---- Over a row-major [rows x cols] tensor --------------------------------------
//
// The same loops for a tensor whose element (r, j) belongs to feature j (the
// layout of the JIT's kernels): formulas that read `feature` (brelu) then
// run vectorized along each row instead of one element at a time. cols must
// divide the spans' length; the parameters are the same scalars for every
// feature (per-feature parameter vectors are the JIT's: actjit::compile).

/// ys = e over the tensor, feature j for column j. ys may be xs (in place).
template <expression E, class P = no_params>
void forward_rows(E, std::span<const float> xs, std::span<float> ys, std::int64_t cols, const P& ps = {}) {
    detail::forward_rows_loop<E, float>(xs, ys, cols, ps);
}
template <expression E, class P = no_params>
void forward_rows(E, std::span<const double> xs, std::span<double> ys, std::int64_t cols, const P& ps = {}) {
    detail::forward_rows_loop<E, double>(xs, ys, cols, ps);
}

/// dxs = dys * de/dx over the tensor.
template <expression E, class P = no_params>
void backward_rows(E, std::span<const float> xs, std::span<const float> dys, std::span<float> dxs, std::int64_t cols,
                   const P& ps = {}) {
    detail::backward_rows_loop<E, float>(xs, dys, dxs, cols, ps);
}
template <expression E, class P = no_params>
void backward_rows(E, std::span<const double> xs, std::span<const double> dys, std::span<double> dxs,
                   std::int64_t cols, const P& ps = {}) {
    detail::backward_rows_loop<E, double>(xs, dys, dxs, cols, ps);
}

/// As above, and grads[k] = the sum over the whole tensor of dy * de/dp_k
/// for each parameter p_k of e in param_names(e) order (overwritten, summed
/// in double).
template <expression E, class T, class P>
void backward_rows(E e, std::span<const T> xs, std::span<const T> dys, std::span<T> dxs, std::int64_t cols,
                   const P& ps, std::span<double> grads) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "backward_rows: spans of float or double");
    detail::check_grads("backward_rows", grads.size(), num_params<E>);
    backward_rows(e, xs, dys, dxs, cols, ps);
    [&]<class... Param>(type_list<Param...>) {
        std::size_t k = 0;
        ((grads[k++] = detail::param_gradient_rows<E, T, P, Param>(xs, dys, cols, ps)), ...);
    }(params_of_t<E>{});
}
}  // namespace actjit::dsl
