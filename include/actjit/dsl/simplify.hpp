// Simplifying construction at the type level: the compile-time twin of
// actjit::build (build.hpp). The derivative rules build with these, so a
// derivative's type comes out folded and small.
//
// Rewrites, each a line of `if constexpr`:
//   constants fold (k1 + k2 -> k, comparisons and logic of constants too)
//   a + 0 -> a, a - 0 -> a, 0 - a -> -a, a - a -> 0, a + -b -> a - b, a - (a - b) -> b
//   a + a -> 2*a, k1*a + k2*a -> (k1+k2)*a   (like terms)
//   a*1 -> a, a*0 -> 0, -1*a -> -a, a*k -> k*a, k1*(k2*a) -> (k1*k2)*a
//   a*a -> a^2, a^m * a^n -> a^(m+n)          (like factors)
//   -(-a) -> a, -(k*a) -> (-k)*a, -a * b -> -(a*b)
//   a^1 -> a, a^0 -> 1, where(k, a, b) -> a or b, where(c, a, a) -> a
//   NaN safety: a * where(c, t, 0) -> where(c, a*t, 0) (and the mirror
//   forms), so an Inf or NaN in `a` cannot turn the unselected 0 into NaN.
#pragma once

#include <actjit/dsl/core.hpp>

namespace actjit::dsl::simp {

template <double V>
using k = lit<(V == 0 ? 0.0 : V)>;  // a folded constant (never -0)

template <class T>
inline constexpr bool is_zero = is_lit_value<T, 0.0>;
template <class T>
inline constexpr bool is_one = is_lit_value<T, 1.0>;

/// k * a with k a constant.
template <class T>
constexpr bool is_scaled() {
    if constexpr (is_op<T, Op::Mul>)
        return is_lit<arg_t<0, T>>;
    else
        return false;
}
/// The coefficient and the rest of a term: k*a -> (k, a); a -> (1, a).
template <class T>
constexpr double coeff() {
    if constexpr (is_scaled<T>()) return arg_t<0, T>::value; else return 1.0;
}
template <class T>
struct base_of { using type = T; };
template <class T>
    requires(is_scaled<T>())
struct base_of<T> { using type = arg_t<1, T>; };
template <class T>
using base_t = typename base_of<T>::type;

/// a^e -> (a, e); a -> (a, 1).
template <class T>
struct power_of { using base = T; using exponent = lit<1.0>; };
template <class T>
    requires(is_op<T, Op::Pow>)
struct power_of<T> { using base = arg_t<0, T>; using exponent = arg_t<1, T>; };

/// where(c, t, 0) or where(c, 0, f).
template <class T>
constexpr bool is_where_with_zero() {
    if constexpr (is_op<T, Op::Where>)
        return is_zero<arg_t<1, T>> || is_zero<arg_t<2, T>>;
    else
        return false;
}

/// The value of a constant type, 0 for anything else (usable in conditions
/// that must stay well-formed for every type).
template <class T>
constexpr double val() {
    if constexpr (is_lit<T>) return T::value; else return 0;
}

constexpr double ipow(double b, long n) {
    double r = 1;
    bool inv = n < 0;
    for (long m = inv ? -n : n; m; m >>= 1, b *= b)
        if (m & 1) r *= b;
    return inv ? 1 / r : r;
}
constexpr bool is_small_integer(double v) { return v == static_cast<double>(static_cast<long>(v)) && v >= -64 && v <= 64; }
constexpr bool finite(double v) { return v - v == 0; }

template <class T>
constexpr bool exponent_is_small_integer() {
    if constexpr (is_op<T, Op::Pow>) return is_lit<arg_t<1, T>> && is_small_integer(val<arg_t<1, T>>()); else return false;
}

/// T is a - b for the given a.
template <class T, class A>
constexpr bool is_difference_from() {
    if constexpr (is_op<T, Op::Sub>) return std::is_same_v<arg_t<0, T>, A>; else return false;
}

template <class A> constexpr auto neg(A);
template <class A, class B> constexpr auto add(A, B);
template <class A, class B> constexpr auto sub(A, B);
template <class A, class B> constexpr auto mul(A, B);
template <class A, class B> constexpr auto div(A, B);
template <class A, class B> constexpr auto pow(A, B);
template <class C, class A, class B> constexpr auto where(C, A, B);

/// a + k or a - k.
template <class T>
constexpr bool ends_with_constant() {
    if constexpr (is_op<T, Op::Add> || is_op<T, Op::Sub>) return is_lit<arg_t<1, T>>; else return false;
}
/// The constant of a + k (k) or a - k (-k).
template <class T>
constexpr double trailing_constant() {
    if constexpr (is_op<T, Op::Add>) return val<arg_t<1, T>>(); else return -val<arg_t<1, T>>();
}

template <class A>
constexpr auto neg(A) {
    if constexpr (is_lit<A>) return k<-A::value>{};
    else if constexpr (is_op<A, Op::Neg>) return arg_t<0, A>{};
    else if constexpr (is_scaled<A>()) return mul(k<-coeff<A>()>{}, base_t<A>{});
    else return node<Op::Neg, A>{};
}

template <class A, class B>
constexpr auto add(A a, B b) {
    if constexpr (is_lit<A> && is_lit<B>) return k<A::value + B::value>{};
    else if constexpr (is_zero<A>) return b;
    else if constexpr (is_zero<B>) return a;
    else if constexpr (is_op<B, Op::Neg>) return sub(a, arg_t<0, B>{});
    else if constexpr (is_op<A, Op::Neg>) return sub(b, arg_t<0, A>{});
    else if constexpr (is_lit<B> && ends_with_constant<A>())  // (a + k1) + k2 -> a + (k1 + k2)
        return add(arg_t<0, A>{}, k<trailing_constant<A>() + val<B>()>{});
    else if constexpr (std::is_same_v<base_t<A>, base_t<B>> && !is_lit<A>)
        return mul(k<coeff<A>() + coeff<B>()>{}, base_t<A>{});
    else return node<Op::Add, A, B>{};
}

template <class A, class B>
constexpr auto sub(A a, B b) {
    if constexpr (is_lit<A> && is_lit<B>) return k<A::value - B::value>{};
    else if constexpr (is_zero<B>) return a;
    else if constexpr (is_zero<A>) return neg(b);
    else if constexpr (is_op<B, Op::Neg>) return add(a, arg_t<0, B>{});
    else if constexpr (is_difference_from<B, A>()) return arg_t<1, B>{};  // a - (a - b) -> b
    else if constexpr (is_lit<B> && ends_with_constant<A>())  // (a + k1) - k2 -> a + (k1 - k2)
        return add(arg_t<0, A>{}, k<trailing_constant<A>() - val<B>()>{});
    else if constexpr (std::is_same_v<base_t<A>, base_t<B>> && !is_lit<A>)
        return mul(k<coeff<A>() - coeff<B>()>{}, base_t<A>{});
    else return node<Op::Sub, A, B>{};
}

template <class A, class B>
constexpr auto mul(A a, B b) {
    if constexpr (is_lit<A> && is_lit<B>) return k<A::value * B::value>{};
    else if constexpr (is_zero<A> || is_zero<B>) return lit<0.0>{};
    else if constexpr (is_one<A>) return b;
    else if constexpr (is_one<B>) return a;
    else if constexpr (is_lit_value<A, -1.0>) return neg(b);
    else if constexpr (is_lit_value<B, -1.0>) return neg(a);
    else if constexpr (is_lit<B>) return mul(b, a);
    // NaN safety first: push the product into a where() with a zero branch.
    else if constexpr (is_where_with_zero<B>())
        return where(arg_t<0, B>{}, mul(a, arg_t<1, B>{}), mul(a, arg_t<2, B>{}));
    else if constexpr (is_where_with_zero<A>())
        return where(arg_t<0, A>{}, mul(arg_t<1, A>{}, b), mul(arg_t<2, A>{}, b));
    else if constexpr (is_op<A, Op::Neg>) return neg(mul(arg_t<0, A>{}, b));
    else if constexpr (is_op<B, Op::Neg>) return neg(mul(a, arg_t<0, B>{}));
    else if constexpr (is_lit<A> && is_scaled<B>()) return mul(k<A::value * coeff<B>()>{}, base_t<B>{});
    else if constexpr (is_scaled<A>()) return mul(arg_t<0, A>{}, mul(base_t<A>{}, b));
    else if constexpr (is_scaled<B>()) return mul(arg_t<0, B>{}, mul(a, base_t<B>{}));
    else if constexpr (std::is_same_v<typename power_of<A>::base, typename power_of<B>::base>)
        return pow(typename power_of<A>::base{}, add(typename power_of<A>::exponent{}, typename power_of<B>::exponent{}));
    else return node<Op::Mul, A, B>{};
}

template <class A, class B>
constexpr auto div(A a, B b) {
    if constexpr (is_lit<A> && is_lit<B> && val<B>() != 0 && finite(val<A>() / (val<B>() == 0 ? 1 : val<B>())))
        return k<A::value / B::value>{};
    else if constexpr (is_zero<A>) return lit<0.0>{};
    else if constexpr (is_one<B>) return a;
    else if constexpr (is_lit_value<B, -1.0>) return neg(a);
    else if constexpr (is_where_with_zero<A>())
        return where(arg_t<0, A>{}, div(arg_t<1, A>{}, b), div(arg_t<2, A>{}, b));
    else if constexpr (is_op<A, Op::Neg>) return neg(div(arg_t<0, A>{}, b));
    else return node<Op::Div, A, B>{};
}

template <class A, class B>
constexpr auto pow(A a, B) {
    if constexpr (is_zero<B>) return lit<1.0>{};
    else if constexpr (is_one<B>) return a;
    else if constexpr (is_lit<A> && is_lit<B> && is_small_integer(val<B>()) &&
                       finite(ipow(val<A>(), static_cast<long>(val<B>()))) && !(val<A>() == 0 && val<B>() < 0))
        return k<ipow(A::value, static_cast<long>(B::value))>{};
    else if constexpr (is_op<A, Op::Pow> && is_lit<B> && is_small_integer(val<B>()) && exponent_is_small_integer<A>())
        return pow(arg_t<0, A>{}, k<arg_t<1, A>::value * B::value>{});  // (a^m)^n = a^(mn), integers
    else return node<Op::Pow, A, B>{};
}

template <class C, class A, class B>
constexpr auto where(C, A a, B b) {
    if constexpr (is_lit<C>) {
        if constexpr (C::value != 0) return a; else return b;
    } else if constexpr (std::is_same_v<A, B>) return a;
    else return node<Op::Where, C, A, B>{};
}

/// Any other op: fold when every operand is a constant and the op is exact
/// at compile time (comparisons, logic, abs, sign, relu, min, max); else
/// the node as is.
template <Op O, class... A>
constexpr auto make(A...) {
    if constexpr (O == Op::And && (is_zero<A> || ...)) {
        return lit<0.0>{};  // false and anything
    } else if constexpr (O == Op::Or && ((is_lit<A> && val<A>() != 0) || ...)) {
        return lit<1.0>{};  // true or anything
    } else if constexpr ((is_lit<A> && ...) && sizeof...(A) == 2) {
        constexpr double a = std::tuple_element_t<0, std::tuple<A...>>::value;
        constexpr double b = std::tuple_element_t<1, std::tuple<A...>>::value;
        if constexpr (O == Op::Lt) return k<double(a < b)>{};
        else if constexpr (O == Op::Le) return k<double(a <= b)>{};
        else if constexpr (O == Op::Gt) return k<double(a > b)>{};
        else if constexpr (O == Op::Ge) return k<double(a >= b)>{};
        else if constexpr (O == Op::Eq) return k<double(a == b)>{};
        else if constexpr (O == Op::Ne) return k<double(a != b)>{};
        else if constexpr (O == Op::And) return k<double(a != 0 && b != 0)>{};
        else if constexpr (O == Op::Or) return k<double(a != 0 || b != 0)>{};
        else if constexpr (O == Op::Min) return k<(a < b ? a : b)>{};
        else if constexpr (O == Op::Max) return k<(a > b ? a : b)>{};
        else return node<O, A...>{};
    } else if constexpr ((is_lit<A> && ...) && sizeof...(A) == 1) {
        constexpr double a = std::tuple_element_t<0, std::tuple<A...>>::value;
        if constexpr (O == Op::Not) return k<double(a == 0)>{};
        else if constexpr (O == Op::Abs) return k<(a < 0 ? -a : a)>{};
        else if constexpr (O == Op::Sign) return k<double((a > 0) - (a < 0))>{};
        else if constexpr (O == Op::Relu) return k<(a > 0 ? a : 0.0)>{};
        else return node<O, A...>{};
    } else {
        return node<O, A...>{};
    }
}

}  // namespace actjit::dsl::simp
