// d(e, v): the derivative of e with respect to v (x or a param<"name">), as
// a type computed by the compiler and simplified as it is built (simplify.hpp).
//
// The rules and the conventions at kinks are those of the runtime
// (src/diff.cpp, docs/DERIVATIVES.md), so d(e, v) and actjit::diff(to_expr(e),
// ...) give the same numbers: relu'(0) = 0, abs' = sign, sign' = floor' = 0,
// clamp passes the gradient at its bounds, min/max split it at ties, the pow
// guards below, and d where(c, a, b) = where(c, da, db).
#pragma once

#include <actjit/dsl/simplify.hpp>

namespace actjit::dsl {

namespace detail {

using simp::add;
using simp::div;
using simp::mul;
using simp::neg;
using simp::sub;

inline constexpr lit<0.0> zero{};
inline constexpr lit<1.0> one{};
inline constexpr lit<2.0> two{};

template <Op O, class... A>
constexpr auto mk(A... a) {
    return simp::make<O>(a...);
}
template <class A>
constexpr auto sq(A a) {
    return simp::pow(a, two);
}

template <class V, class E>
constexpr auto derive(E e);

/// One rule per op: f'(a) given the operands and their derivatives.
template <Op O, class V, class A>
constexpr auto derive_unary(A a) {
    const auto da = derive<V>(a);
    if constexpr (std::is_same_v<decltype(da), const lit<0.0>>) {
        return zero;  // constant operand: every rule below gives 0
    } else if constexpr (O == Op::Neg) {
        return neg(da);
    } else if constexpr (O == Op::Not || O == Op::Sign || O == Op::Floor) {
        return zero;  // piecewise constant; 0 also at the jumps
    } else if constexpr (O == Op::Exp || O == Op::Expm1) {
        // d exp(a) = exp(a) da ; d expm1(a) = exp(a) da
        return mul(mk<Op::Exp>(a), da);
    } else if constexpr (O == Op::Exp2) {
        // d 2^a = ln 2 * 2^a da
        return mul(mul(constant<0.6931471805599453>, mk<Op::Exp2>(a)), da);
    } else if constexpr (O == Op::Log) {
        // d log(a) = da / a
        return div(da, a);
    } else if constexpr (O == Op::Log2) {
        // d log2(a) = da / (a ln 2)
        return div(da, mul(constant<0.6931471805599453>, a));
    } else if constexpr (O == Op::Log10) {
        // d log10(a) = da / (a ln 10)
        return div(da, mul(constant<2.302585092994046>, a));
    } else if constexpr (O == Op::Log1p) {
        // d log1p(a) = da / (1 + a)
        return div(da, add(one, a));
    } else if constexpr (O == Op::Sqrt) {
        // d sqrt(a) = da / (2 sqrt(a))
        return div(da, mul(two, mk<Op::Sqrt>(a)));
    } else if constexpr (O == Op::Cbrt) {
        // d cbrt(a) = da / (3 cbrt(a)^2)
        return div(da, mul(constant<3.0>, sq(mk<Op::Cbrt>(a))));
    } else if constexpr (O == Op::Abs) {
        // d |a| = sign(a) da  (0 at a = 0)
        return mul(mk<Op::Sign>(a), da);
    } else if constexpr (O == Op::Sin) {
        return mul(mk<Op::Cos>(a), da);
    } else if constexpr (O == Op::Cos) {
        return neg(mul(mk<Op::Sin>(a), da));
    } else if constexpr (O == Op::Tan) {
        // d tan(a) = (1 + tan(a)^2) da
        return mul(add(one, sq(mk<Op::Tan>(a))), da);
    } else if constexpr (O == Op::Asin) {
        // d asin(a) = da / sqrt(1 - a^2)
        return div(da, mk<Op::Sqrt>(sub(one, sq(a))));
    } else if constexpr (O == Op::Acos) {
        return neg(div(da, mk<Op::Sqrt>(sub(one, sq(a)))));
    } else if constexpr (O == Op::Atan) {
        // d atan(a) = da / (1 + a^2)
        return div(da, add(one, sq(a)));
    } else if constexpr (O == Op::Sinh) {
        return mul(mk<Op::Cosh>(a), da);
    } else if constexpr (O == Op::Cosh) {
        return mul(mk<Op::Sinh>(a), da);
    } else if constexpr (O == Op::Tanh) {
        // d tanh(a) = (1 - tanh(a)^2) da
        return mul(sub(one, sq(mk<Op::Tanh>(a))), da);
    } else if constexpr (O == Op::Asinh) {
        // d asinh(a) = da / sqrt(a^2 + 1)
        return div(da, mk<Op::Sqrt>(add(sq(a), one)));
    } else if constexpr (O == Op::Acosh) {
        // d acosh(a) = da / sqrt(a^2 - 1)
        return div(da, mk<Op::Sqrt>(sub(sq(a), one)));
    } else if constexpr (O == Op::Atanh) {
        // d atanh(a) = da / (1 - a^2)
        return div(da, sub(one, sq(a)));
    } else if constexpr (O == Op::Erf) {
        // d erf(a) = 2/sqrt(pi) exp(-a^2) da
        return mul(mul(constant<1.1283791670955126>, mk<Op::Exp>(neg(sq(a)))), da);
    } else if constexpr (O == Op::Erfc) {
        return neg(mul(mul(constant<1.1283791670955126>, mk<Op::Exp>(neg(sq(a)))), da));
    } else if constexpr (O == Op::Sigmoid) {
        // d sigmoid(a) = sigmoid(a) (1 - sigmoid(a)) da
        return mul(mul(mk<Op::Sigmoid>(a), sub(one, mk<Op::Sigmoid>(a))), da);
    } else if constexpr (O == Op::Softplus) {
        // d softplus(a) = sigmoid(a) da
        return mul(mk<Op::Sigmoid>(a), da);
    } else if constexpr (O == Op::Softsign) {
        // d softsign(a) = da / (1 + |a|)^2
        return div(da, sq(add(one, mk<Op::Abs>(a))));
    } else if constexpr (O == Op::Relu) {
        // d relu(a) = where(a > 0, 1, 0) da  (0 at a = 0, as PyTorch)
        return mul(simp::where(mk<Op::Gt>(a, zero), one, zero), da);
    } else {
        static_assert(detail::always_false<A>, "internal: no derivative rule for this unary op");
    }
}

template <Op O, class V, class A, class B>
constexpr auto derive_binary(A a, B b) {
    const auto da = derive<V>(a);
    const auto db = derive<V>(b);
    if constexpr (O == Op::Add) {
        return add(da, db);
    } else if constexpr (O == Op::Sub) {
        return sub(da, db);
    } else if constexpr (O == Op::Mul) {
        // d(ab) = da b + a db
        return add(mul(da, b), mul(a, db));
    } else if constexpr (O == Op::Div) {
        // d(a/b) = da/b - a db / b^2
        return sub(div(da, b), div(mul(a, db), sq(b)));
    } else if constexpr (O == Op::Pow) {
        if constexpr (is_lit<B>) {
            // d a^k = k a^(k-1) da  (k a constant)
            return mul(mul(b, simp::pow(a, simp::k<simp::val<B>() - 1>{})), da);
        } else {
            // d a^b = where(b == 0, 0, b a^(b-1)) da + where(a == 0 and b >= 0, 0, a^b log(a)) db
            // The guards keep 0 * inf (a = 0, b < 1) and log(0) out of the result.
            const auto term_a = mul(simp::where(mk<Op::Eq>(b, zero), zero, mul(b, simp::pow(a, sub(b, one)))), da);
            const auto term_b = mul(simp::where(mk<Op::And>(mk<Op::Eq>(a, zero), mk<Op::Ge>(b, zero)), zero,
                                                mul(simp::pow(a, b), mk<Op::Log>(a))),
                                    db);
            return add(term_a, term_b);
        }
    } else if constexpr (O == Op::Lt || O == Op::Le || O == Op::Gt || O == Op::Ge || O == Op::Eq ||
                         O == Op::Ne || O == Op::And || O == Op::Or) {
        return zero;  // truth values are piecewise constant
    } else if constexpr (O == Op::Min) {
        // d min(a, b) = da where a < b, db where a > b, (da + db)/2 at ties
        return simp::where(mk<Op::Lt>(a, b), da,
                           simp::where(mk<Op::Gt>(a, b), db, mul(constant<0.5>, add(da, db))));
    } else if constexpr (O == Op::Max) {
        return simp::where(mk<Op::Gt>(a, b), da,
                           simp::where(mk<Op::Lt>(a, b), db, mul(constant<0.5>, add(da, db))));
    } else if constexpr (O == Op::Mod) {
        // mod(a, b) = a - b floor(a/b): d = da - floor(a/b) db
        return sub(da, mul(mk<Op::Floor>(div(a, b)), db));
    } else {
        static_assert(detail::always_false<A>, "internal: no derivative rule for this binary op");
    }
}

template <class V, class E>
constexpr auto derive(E e) {
    if constexpr (is_lit<E> || std::is_same_v<E, feature_t>) {
        return zero;
    } else if constexpr (std::is_same_v<E, input_t> || is_param<E>) {
        if constexpr (std::is_same_v<E, V>) return one; else return zero;
    } else if constexpr (E::arity == 1) {
        return derive_unary<E::op, V>(arg_t<0, E>{});
    } else if constexpr (E::arity == 2) {
        return derive_binary<E::op, V>(arg_t<0, E>{}, arg_t<1, E>{});
    } else if constexpr (E::op == Op::Where) {
        // d where(c, a, b) = where(c, da, db): only the selected side counts
        return simp::where(arg_t<0, E>{}, derive<V>(arg_t<1, E>{}), derive<V>(arg_t<2, E>{}));
    } else {
        static_assert(E::op == Op::Clamp);
        // d clamp(a, lo, hi) = dlo below lo, dhi above hi, da in [lo, hi] (the bounds pass)
        using A = arg_t<0, E>;
        using L = arg_t<1, E>;
        using H = arg_t<2, E>;
        return simp::where(mk<Op::Lt>(A{}, L{}), derive<V>(L{}),
                           simp::where(mk<Op::Gt>(A{}, H{}), derive<V>(H{}), derive<V>(A{})));
    }
    (void)e;
}

}  // namespace detail

/// The derivative of e with respect to v (x or a param<"name">), simplified:
/// `d(x * x, x)` is `2_c * x`. Its type is the derivative; apply d again for
/// higher orders.
template <class E, class V>
constexpr auto d(E, V) {
    static_assert(expression<E>, "d(e, v): e must be a DSL expression (made of x, param<\"name\">, feature and _c "
                                 "constants)");
    static_assert(std::is_same_v<std::remove_cvref_t<V>, input_t> || is_param<std::remove_cvref_t<V>>,
                  "d(e, v): v must be x or a param<\"name\">");
    if constexpr (expression<E> && (std::is_same_v<std::remove_cvref_t<V>, input_t> || is_param<std::remove_cvref_t<V>>))
        return detail::derive<std::remove_cvref_t<V>>(std::remove_cvref_t<E>{});
    else
        return lit<0.0>{};
}

}  // namespace actjit::dsl
