// The DSL's expression types: leaves (x, feature, param<"name">, constants),
// the node template, the `_c` and `_p` literals, and the operators and
// builtins of the formula language, which build exactly what was written (no
// simplification, like the formula parser).
//
// Every expression is an empty aggregate; its structure lives in its type
// (op tag + operand types), so `decltype(e)` is the expression and any value
// of it is as good as another. Nothing here allocates or runs at run time.
#pragma once

#include <actjit/expr.hpp>  // actjit::Op, from ops.def

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>

namespace actjit::dsl {

// ---- Compile-time strings (parameter names) --------------------------------

template <std::size_t N>
struct fixed_string {
    char data[N]{};
    constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, data); }  // NOLINT: implicit by design
    constexpr std::string_view view() const { return {data, N - 1}; }
    constexpr std::size_t size() const { return N - 1; }
    template <std::size_t M>
    constexpr bool operator==(const fixed_string<M>& o) const { return view() == o.view(); }
};

namespace detail {

constexpr bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
constexpr bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

constexpr bool valid_param_name(std::string_view s) {
    if (s.empty() || s.size() > 64 || !is_ident_start(s[0])) return false;
    return std::all_of(s.begin(), s.end(), is_ident_char);
}

/// Names the formula language gives another meaning: a parameter called so
/// would not print back as a parameter.
constexpr bool reserved_name(std::string_view s) {
    constexpr std::string_view words[] = {
        "x", "feature", "pi", "e", "and", "or", "not", "where", "pow", "exp", "exp2", "log", "log2", "log10",
        "log1p", "expm1", "sqrt", "cbrt", "abs", "sign", "floor", "sin", "cos", "tan", "asin", "acos", "atan",
        "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc", "sigmoid", "softplus", "softsign",
        "relu", "min", "max", "mod", "clamp"};
    return std::find(std::begin(words), std::end(words), s) != std::end(words);
}

template <class...>
inline constexpr bool always_false = false;

}  // namespace detail

// ---- Expression types --------------------------------------------------------

/// Base of every DSL expression: gives it evaluation as a call, `e(x, params)`.
struct expr_tag {};

template <class T>
concept expression = std::is_base_of_v<expr_tag, std::remove_cvref_t<T>>;

struct no_params {};

template <class D>
struct expr_base : expr_tag {
    /// The value at one point, in T (float or double), with the values of
    /// the parameters in `ps` (see params()) and the column index `feature`.
    /// constexpr where the math allows (polynomials, where, comparisons...).
    template <class T, class P = no_params>
    constexpr T operator()(T xv, const P& ps = {}, std::int64_t feature_index = 0) const {
        static_assert(std::is_floating_point_v<T>,
                      "evaluate an expression at a float or double: write e(1.0), not e(1)");
        return evaluate(D{}, xv, ps, feature_index);
    }
};

/// The input x.
struct input_t : expr_base<input_t> {};
/// The 0-based feature (column) index of the element.
struct feature_t : expr_base<feature_t> {};

/// A constant, its value in the type: lit<2.0>.
template <double V>
struct lit : expr_base<lit<V>> {
    static_assert(V - V == 0, "a DSL constant must be finite (constant folding gave inf or nan)");
    static constexpr double value = V;
};

/// A named parameter: param<"s">.
template <fixed_string Name>
struct param_t : expr_base<param_t<Name>> {
    static_assert(detail::valid_param_name(Name.view()),
                  "param<\"name\">: a name is a letter or '_' then letters, digits or '_' (at most 64)");
    static_assert(!detail::reserved_name(Name.view()),
                  "param<\"name\">: this name is taken by the formula language (x, feature, pi, e or a builtin); "
                  "choose another");
    static constexpr std::string_view name = Name.view();

    /// `"s"_p = 0.5` (a value, for params()) or `"s"_p = 2_c` (an
    /// expression, for substitute()).
    template <class T>
    constexpr auto operator=(T v) const;  // NOLINT: a binding, not an assignment
};

/// An operation of ops.def applied to operand expressions.
template <Op O, class... A>
struct node : expr_base<node<O, A...>> {
    static constexpr Op op = O;
    static constexpr std::size_t arity = sizeof...(A);
};

inline constexpr input_t x{};
inline constexpr feature_t feature{};
template <fixed_string Name>
inline constexpr param_t<Name> param{};
/// A constant from any double value (exact, unlike a long `_c` literal).
template <double V>
inline constexpr lit<(V == 0 ? 0.0 : V)> constant{};

// ---- Traits --------------------------------------------------------------------

template <class T>
inline constexpr bool is_lit = false;
template <double V>
inline constexpr bool is_lit<lit<V>> = true;

template <class T>
inline constexpr bool is_param = false;
template <fixed_string N>
inline constexpr bool is_param<param_t<N>> = true;

template <class T, Op O>
inline constexpr bool is_op = false;
template <Op O, class... A>
inline constexpr bool is_op<node<O, A...>, O> = true;
template <class T, Op O>
inline constexpr bool is_op<const T, O> = is_op<T, O>;

template <class T, double V>
inline constexpr bool is_lit_value = false;
template <double V, double W>
inline constexpr bool is_lit_value<lit<W>, V> = (V == W);

template <std::size_t I, class T>
struct arg_type;
template <std::size_t I, Op O, class... A>
struct arg_type<I, node<O, A...>> {
    using type = std::tuple_element_t<I, std::tuple<A...>>;
};
/// The I-th operand type of a node.
template <std::size_t I, class T>
using arg_t = std::remove_cv_t<typename arg_type<I, std::remove_cvref_t<T>>::type>;

/// Number of nodes of the expression as a tree (shared parts counted each
/// time; the DAG, to_expr's dag_size, is smaller).
template <class E>
constexpr std::size_t tree_size(E) {
    if constexpr (requires { E::arity; })
        return []<Op O, class... A>(node<O, A...>) { return (std::size_t{1} + ... + tree_size(A{})); }(E{});
    else
        return 1;
}

// ---- Literals: 2_c, 0.5_c, "s"_p -------------------------------------------------

namespace detail {

template <char... Cs>
struct literal_parser {
    static constexpr char text[] = {Cs..., '\0'};

    static constexpr double pow10(int n) {
        double r = 1;
        for (int i = 0; i < n; ++i) r *= 10;
        return r;
    }

    struct result {
        bool ok;
        double value;
    };

    /// Decimal digits, one optional '.', optional exponent, ' separators.
    /// Exact (correctly rounded) when the significant digits fit in 53 bits
    /// and the decimal exponent is within +-22 (every exact power of ten);
    /// otherwise within an ulp, via long double.
    static constexpr result parse() {
        std::uint64_t mantissa = 0;
        int digits = 0, exp10 = 0;
        bool dot = false, any = false;
        std::size_t i = 0, n = sizeof...(Cs);
        if (n >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X' || text[1] == 'b' || text[1] == 'B'))
            return {false, 0};
        for (; i < n; ++i) {
            char c = text[i];
            if (c == '\'') continue;
            if (c == '.') {
                if (dot) return {false, 0};
                dot = true;
                continue;
            }
            if (c == 'e' || c == 'E') break;
            if (c < '0' || c > '9') return {false, 0};
            any = true;
            if (mantissa == 0 && c == '0') {
                if (dot) --exp10;
                continue;
            }
            if (digits >= 19) {  // further digits only scale (integer part) or are dropped
                if (!dot) ++exp10;
                continue;
            }
            mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
            ++digits;
            if (dot) --exp10;
        }
        if (!any) return {false, 0};
        if (i < n) {  // exponent
            ++i;
            bool neg = false;
            if (i < n && (text[i] == '+' || text[i] == '-')) neg = text[i++] == '-';
            int e = 0;
            bool edigits = false;
            for (; i < n; ++i) {
                if (text[i] == '\'') continue;
                if (text[i] < '0' || text[i] > '9' || e > 100000) return {false, 0};
                e = e * 10 + (text[i] - '0');
                edigits = true;
            }
            if (!edigits) return {false, 0};
            exp10 += neg ? -e : e;
        }
        if (mantissa == 0) return {true, 0.0};
        if (mantissa < (std::uint64_t{1} << 53) && exp10 >= -22 && exp10 <= 22) {
            double m = static_cast<double>(mantissa);
            return {true, exp10 >= 0 ? m * pow10(exp10) : m / pow10(-exp10)};
        }
        if (exp10 > 308 || exp10 < -340) return {false, 0};
        long double v = static_cast<long double>(mantissa);
        long double p = 1;
        for (int k = 0; k < (exp10 < 0 ? -exp10 : exp10); ++k) p *= 10;
        v = exp10 >= 0 ? v * p : v / p;
        if (v > static_cast<long double>(std::numeric_limits<double>::max())) return {false, 0};
        return {true, static_cast<double>(v)};
    }
    static constexpr result value = parse();
};

}  // namespace detail

inline namespace literals {

/// A compile-time constant: 2_c, 0.5_c, 1e-3_c (its value is in the type).
template <char... Cs>
constexpr auto operator""_c() {
    constexpr auto r = detail::literal_parser<Cs...>::value;
    static_assert(r.ok, "_c takes a finite decimal number (2_c, 0.5_c, 1e-3_c); for other values write constant<v>");
    return lit<(r.ok ? r.value : 0.0)>{};
}

/// A parameter by name: "s"_p is param<"s">.
template <fixed_string Name>
constexpr auto operator""_p() {
    return param_t<Name>{};
}

}  // namespace literals

// ---- Building nodes as written ------------------------------------------------------

namespace detail {

template <class T>
constexpr void check_operand() {
    static_assert(expression<T>,
                  "a plain number cannot be part of a DSL expression: write 2_c (a compile-time constant) or "
                  "param<\"name\"> (a parameter)");
}

template <Op O, class... A>
constexpr auto raw(A...) {
    (check_operand<A>(), ...);
    if constexpr ((expression<A> && ...))
        return node<O, std::remove_cvref_t<A>...>{};
    else
        return node<O, lit<0.0>>{};  // unreachable after the static_assert; keeps errors to one
}

}  // namespace detail

#define ACTJIT_DSL_BINARY_OPERATOR(token, OP)                              \
    template <class A, class B>                                            \
        requires(expression<A> || expression<B>)                           \
    constexpr auto operator token(A a, B b) {                              \
        return detail::raw<Op::OP>(a, b);                                  \
    }
ACTJIT_DSL_BINARY_OPERATOR(+, Add)
ACTJIT_DSL_BINARY_OPERATOR(-, Sub)
ACTJIT_DSL_BINARY_OPERATOR(*, Mul)
ACTJIT_DSL_BINARY_OPERATOR(/, Div)
ACTJIT_DSL_BINARY_OPERATOR(<, Lt)
ACTJIT_DSL_BINARY_OPERATOR(<=, Le)
ACTJIT_DSL_BINARY_OPERATOR(>, Gt)
ACTJIT_DSL_BINARY_OPERATOR(>=, Ge)
ACTJIT_DSL_BINARY_OPERATOR(==, Eq)
ACTJIT_DSL_BINARY_OPERATOR(!=, Ne)
ACTJIT_DSL_BINARY_OPERATOR(&&, And)
ACTJIT_DSL_BINARY_OPERATOR(||, Or)
#undef ACTJIT_DSL_BINARY_OPERATOR

/// -a. A minus sign in front of a constant makes a negative constant (C++ has
/// no negative literals), as -2 does in a formula.
template <expression A>
constexpr auto operator-(A a) {
    if constexpr (is_lit<A>)
        return lit<(A::value == 0 ? 0.0 : -A::value)>{};
    else
        return detail::raw<Op::Neg>(a);
}
template <expression A>
constexpr A operator+(A a) {
    return a;
}
template <expression A>
constexpr auto operator!(A a) {
    return detail::raw<Op::Not>(a);
}

/// where(c, a, b): a where c is true (non-zero), else b; only the selected
/// operand (and its derivative) reaches the result.
template <class C, class A, class B>
    requires(expression<C> || expression<A> || expression<B>)
constexpr auto where(C c, A a, B b) {
    return detail::raw<Op::Where>(c, a, b);
}

/// pow(a, b) is a ^ b (C++ has no power operator; ^ is left alone).
template <class A, class B>
    requires(expression<A> || expression<B>)
constexpr auto pow(A a, B b) {
    return detail::raw<Op::Pow>(a, b);
}

#define ACTJIT_DSL_UNARY(fn, OP)                   \
    template <class A>                             \
        requires expression<A>                     \
    constexpr auto fn(A a) {                       \
        return detail::raw<Op::OP>(a);             \
    }
ACTJIT_DSL_UNARY(exp, Exp)
ACTJIT_DSL_UNARY(exp2, Exp2)
ACTJIT_DSL_UNARY(log, Log)
ACTJIT_DSL_UNARY(log2, Log2)
ACTJIT_DSL_UNARY(log10, Log10)
ACTJIT_DSL_UNARY(log1p, Log1p)
ACTJIT_DSL_UNARY(expm1, Expm1)
ACTJIT_DSL_UNARY(sqrt, Sqrt)
ACTJIT_DSL_UNARY(cbrt, Cbrt)
ACTJIT_DSL_UNARY(abs, Abs)
ACTJIT_DSL_UNARY(sign, Sign)
ACTJIT_DSL_UNARY(floor, Floor)
ACTJIT_DSL_UNARY(sin, Sin)
ACTJIT_DSL_UNARY(cos, Cos)
ACTJIT_DSL_UNARY(tan, Tan)
ACTJIT_DSL_UNARY(asin, Asin)
ACTJIT_DSL_UNARY(acos, Acos)
ACTJIT_DSL_UNARY(atan, Atan)
ACTJIT_DSL_UNARY(sinh, Sinh)
ACTJIT_DSL_UNARY(cosh, Cosh)
ACTJIT_DSL_UNARY(tanh, Tanh)
ACTJIT_DSL_UNARY(asinh, Asinh)
ACTJIT_DSL_UNARY(acosh, Acosh)
ACTJIT_DSL_UNARY(atanh, Atanh)
ACTJIT_DSL_UNARY(erf, Erf)
ACTJIT_DSL_UNARY(erfc, Erfc)
ACTJIT_DSL_UNARY(sigmoid, Sigmoid)
ACTJIT_DSL_UNARY(softplus, Softplus)
ACTJIT_DSL_UNARY(softsign, Softsign)
ACTJIT_DSL_UNARY(relu, Relu)
#undef ACTJIT_DSL_UNARY

#define ACTJIT_DSL_BINARY(fn, OP)                  \
    template <class A, class B>                    \
        requires(expression<A> || expression<B>)   \
    constexpr auto fn(A a, B b) {                  \
        return detail::raw<Op::OP>(a, b);          \
    }
ACTJIT_DSL_BINARY(min, Min)
ACTJIT_DSL_BINARY(max, Max)
ACTJIT_DSL_BINARY(mod, Mod)
#undef ACTJIT_DSL_BINARY

/// clamp(a, lo, hi).
template <class A, class L, class H>
    requires(expression<A> || expression<L> || expression<H>)
constexpr auto clamp(A a, L lo, H hi) {
    return detail::raw<Op::Clamp>(a, lo, hi);
}

}  // namespace actjit::dsl
