// Rewrite rules for + - * / ^ and unary minus. Operands are already built
// (simplified), and constant-only operations were folded before we get here.
//
// Canonical forms: constants on the left of *, on the right of + and -;
// negation pulled outwards through * and /; a negative constant term written
// as subtraction (x - 3, not x + -3).
#include "simplify_rules.hpp"

#include <cmath>

namespace actjit::rules {

namespace {

bool is_finite(double v) { return std::isfinite(v); }

/// t + c or t - c with a constant c (and t not constant).
bool is_plus_minus_const(const Expr& e) {
    return (e.op() == Op::Add || e.op() == Op::Sub) && e.arg(1).is_const() && !e.arg(0).is_const();
}

/// where(c, t, 0) op u -> where(c, t op u, 0) (and the mirror forms): the NaN
/// safety rule. The operation moves into both branches, so a 0 selected at any
/// level of nested wheres stays an exact 0 whatever u is (Inf, NaN): the
/// strong zero 0 * u -> 0 applies inside. `combine(t)` builds a new branch.
/// Null when e has no zero branch.
template <class F>
Expr push_into_zero_where(const Expr& e, F&& combine) {
    if (!has_zero_branch(e)) return {};
    return build(Op::Where, {e.arg(0), combine(e.arg(1)), combine(e.arg(2))});
}

}  // namespace

Expr add(const Expr& a, const Expr& b) {
    // c + a -> a + c
    if (a.is_const()) return build(Op::Add, {b, a});
    if (b.is_const()) {
        // a + 0 -> a
        if (b.value() == 0) return a;
        // a + (-c) -> a - c
        if (b.value() < 0) return build(Op::Sub, {a, num(-b.value())});
        // (t + c1) + c2 -> t + (c1 + c2);  (t - c1) + c2 -> t + (c2 - c1)
        if (a.op() == Op::Add && a.arg(1).is_const() && is_finite(a.arg(1).value() + b.value()))
            return build(Op::Add, {a.arg(0), num(a.arg(1).value() + b.value())});
        if (a.op() == Op::Sub && a.arg(1).is_const() && is_finite(b.value() - a.arg(1).value()))
            return build(Op::Add, {a.arg(0), num(b.value() - a.arg(1).value())});
        // (c1 - t) + c2 -> (c1 + c2) - t
        if (a.op() == Op::Sub && a.arg(0).is_const() && is_finite(a.arg(0).value() + b.value()))
            return build(Op::Sub, {num(a.arg(0).value() + b.value()), a.arg(1)});
    }
    // a + (-v) -> a - v;  (-u) + b -> b - u
    if (b.op() == Op::Neg) return build(Op::Sub, {a, b.arg(0)});
    if (a.op() == Op::Neg) return build(Op::Sub, {b, a.arg(0)});
    // a + (b - a) -> b;  (b - a) + a -> b
    if (b.op() == Op::Sub && b.arg(1).same_as(a)) return b.arg(0);
    if (a.op() == Op::Sub && a.arg(1).same_as(b)) return a.arg(0);
    // (t +- c) + u -> (t + u) +- c;  u + (t +- c) -> (u + t) +- c: constant terms
    // move outwards, so like terms meet ((x + 3) + x -> 2*x + 3)
    if (!b.is_const() && is_plus_minus_const(a)) return build(a.op(), {build(Op::Add, {a.arg(0), b}), a.arg(1)});
    if (is_plus_minus_const(b)) return build(b.op(), {build(Op::Add, {a, b.arg(0)}), b.arg(1)});
    // c1*t + c2*t -> (c1 + c2)*t  (covers a + a -> 2*a)
    auto [ca, ta] = split_coefficient(a);
    auto [cb, tb] = split_coefficient(b);
    if (ta.same_as(tb) && is_finite(ca + cb)) return build(Op::Mul, {num(ca + cb), ta});
    return make(Op::Add, {a, b});
}

Expr sub(const Expr& a, const Expr& b) {
    // a - a -> 0
    if (a.same_as(b)) return num(0);
    // 0 - b -> -b
    if (a.is_const(0)) return build(Op::Neg, {b});
    if (b.is_const()) {
        // a - 0 -> a
        if (b.value() == 0) return a;
        // a - (-c) -> a + c
        if (b.value() < 0) return build(Op::Add, {a, num(-b.value())});
        // (t + c1) - c2 -> t + (c1 - c2);  (t - c1) - c2 -> t - (c1 + c2)
        if (a.op() == Op::Add && a.arg(1).is_const() && is_finite(a.arg(1).value() - b.value()))
            return build(Op::Add, {a.arg(0), num(a.arg(1).value() - b.value())});
        if (a.op() == Op::Sub && a.arg(1).is_const() && is_finite(a.arg(1).value() + b.value()))
            return build(Op::Sub, {a.arg(0), num(a.arg(1).value() + b.value())});
        // (c1 - t) - c2 -> (c1 - c2) - t
        if (a.op() == Op::Sub && a.arg(0).is_const() && is_finite(a.arg(0).value() - b.value()))
            return build(Op::Sub, {num(a.arg(0).value() - b.value()), a.arg(1)});
    }
    // c - (t + c2) -> (c - c2) - t;  c - (t - c2) -> (c + c2) - t
    if (a.is_const() && is_plus_minus_const(b)) {
        const double c = b.op() == Op::Add ? a.value() - b.arg(1).value() : a.value() + b.arg(1).value();
        if (is_finite(c)) return build(Op::Sub, {num(c), b.arg(0)});
    }
    // a - (-v) -> a + v
    if (b.op() == Op::Neg) return build(Op::Add, {a, b.arg(0)});
    // (-u) - b -> -(u + b)
    if (a.op() == Op::Neg) return build(Op::Neg, {build(Op::Add, {a.arg(0), b})});
    // a - (a - v) -> v;  (u + b) - b -> u;  (b + v) - b -> v
    if (b.op() == Op::Sub && b.arg(0).same_as(a)) return b.arg(1);
    if (a.op() == Op::Add && a.arg(1).same_as(b)) return a.arg(0);
    if (a.op() == Op::Add && a.arg(0).same_as(b)) return a.arg(1);
    // (t +- c) - u -> (t - u) +- c;  u - (t + c) -> (u - t) - c;  u - (t - c) -> (u - t) + c
    if (!b.is_const() && is_plus_minus_const(a)) return build(a.op(), {build(Op::Sub, {a.arg(0), b}), a.arg(1)});
    if (is_plus_minus_const(b))
        return build(b.op() == Op::Add ? Op::Sub : Op::Add, {build(Op::Sub, {a, b.arg(0)}), b.arg(1)});
    // c1*t - c2*t -> (c1 - c2)*t
    auto [ca, ta] = split_coefficient(a);
    auto [cb, tb] = split_coefficient(b);
    if (ta.same_as(tb) && is_finite(ca - cb)) return build(Op::Mul, {num(ca - cb), ta});
    return make(Op::Sub, {a, b});
}

Expr mul(const Expr& a, const Expr& b) {
    // a * c -> c * a
    if (b.is_const()) return build(Op::Mul, {b, a});
    if (a.is_const()) {
        const double c = a.value();
        // 0 * b -> 0: a symbolic strong zero, also where b may be Inf or NaN.
        // Derivatives rely on it: a factor that is identically 0 kills the term.
        if (c == 0) return num(0);
        // 1 * b -> b;  -1 * b -> -b
        if (c == 1) return b;
        if (c == -1) return build(Op::Neg, {b});
        // c1 * (c2 * t) -> (c1*c2) * t
        if (b.op() == Op::Mul && b.arg(0).is_const() && is_finite(c * b.arg(0).value()))
            return build(Op::Mul, {num(c * b.arg(0).value()), b.arg(1)});
        // c * (-t) -> (-c) * t
        if (b.op() == Op::Neg) return build(Op::Mul, {num(-c), b.arg(0)});
        // c1 * (c2 / t) -> (c1*c2) / t
        if (b.op() == Op::Div && b.arg(0).is_const() && is_finite(c * b.arg(0).value()))
            return build(Op::Div, {num(c * b.arg(0).value()), b.arg(1)});
    }
    // NaN safety: a * where(c, t, 0) -> where(c, a*t, 0), either operand order.
    if (Expr r = push_into_zero_where(b, [&](const Expr& t) { return build(Op::Mul, {a, t}); })) return r;
    if (Expr r = push_into_zero_where(a, [&](const Expr& t) { return build(Op::Mul, {t, b}); })) return r;
    if (a.is_const()) return make(Op::Mul, {a, b});
    // (-u) * b -> -(u*b);  a * (-v) -> -(a*v)
    if (a.op() == Op::Neg) return build(Op::Neg, {build(Op::Mul, {a.arg(0), b})});
    if (b.op() == Op::Neg) return build(Op::Neg, {build(Op::Mul, {a, b.arg(0)})});
    // (c*t) * b -> c * (t*b);  a * (c*t) -> c * (a*t): constants move outwards
    if (a.op() == Op::Mul && a.arg(0).is_const()) return build(Op::Mul, {a.arg(0), build(Op::Mul, {a.arg(1), b})});
    if (b.op() == Op::Mul && b.arg(0).is_const()) return build(Op::Mul, {b.arg(0), build(Op::Mul, {a, b.arg(1)})});
    // a * (1/v) -> a/v;  (1/u) * b -> b/u
    if (b.op() == Op::Div && b.arg(0).is_const(1)) return build(Op::Div, {a, b.arg(1)});
    if (a.op() == Op::Div && a.arg(0).is_const(1)) return build(Op::Div, {b, a.arg(1)});
    // t^m * t^n -> t^(m+n) for constant m, n (covers a*a -> a^2, a*a^n -> a^(n+1))
    auto [ta, m] = split_power(a);
    auto [tb, n] = split_power(b);
    if (ta.same_as(tb) && is_finite(m + n)) return build(Op::Pow, {ta, num(m + n)});
    return make(Op::Mul, {a, b});
}

Expr div(const Expr& a, const Expr& b) {
    // a / 1 -> a;  a / -1 -> -a
    if (b.is_const(1)) return a;
    if (b.is_const(-1)) return build(Op::Neg, {a});
    // 0 / b -> 0 (strong zero, as for *)
    if (a.is_const(0)) return num(0);
    // NaN safety: where(c, t, 0) / b -> where(c, t/b, 0)
    if (Expr r = push_into_zero_where(a, [&](const Expr& t) { return build(Op::Div, {t, b}); })) return r;
    // (-u) / b -> -(u/b);  a / (-v) -> -(a/v)
    if (a.op() == Op::Neg) return build(Op::Neg, {build(Op::Div, {a.arg(0), b})});
    if (b.op() == Op::Neg) return build(Op::Neg, {build(Op::Div, {a, b.arg(0)})});
    // (c1 * t) / c2 -> (c1/c2) * t when the quotient is exact (2*x / 2 -> x)
    if (b.is_const() && a.op() == Op::Mul && a.arg(0).is_const()) {
        const double q = a.arg(0).value() / b.value();
        if (is_finite(q) && q * b.value() == a.arg(0).value()) return build(Op::Mul, {num(q), a.arg(1)});
    }
    // c1 / (c2 * t) -> (c1/c2) / t
    if (a.is_const() && b.op() == Op::Mul && b.arg(0).is_const() && is_finite(a.value() / b.arg(0).value()))
        return build(Op::Div, {num(a.value() / b.arg(0).value()), b.arg(1)});
    return make(Op::Div, {a, b});
}

Expr pow(const Expr& a, const Expr& b) {
    // a ^ 1 -> a;  a ^ 0 -> 1 (std::pow(a, 0) is 1 for every a, NaN included)
    if (b.is_const(1)) return a;
    if (b.is_const(0)) return num(1);
    // 1 ^ b -> 1 (std::pow(1, b) is 1 for every b, NaN included)
    if (a.is_const(1)) return num(1);
    return make(Op::Pow, {a, b});
}

Expr neg(const Expr& a) {
    // --u -> u
    if (a.op() == Op::Neg) return a.arg(0);
    // -(c*t) -> (-c)*t;  -(c/t) -> (-c)/t
    if (a.op() == Op::Mul && a.arg(0).is_const()) return build(Op::Mul, {num(-a.arg(0).value()), a.arg(1)});
    if (a.op() == Op::Div && a.arg(0).is_const()) return build(Op::Div, {num(-a.arg(0).value()), a.arg(1)});
    // -(p - q) -> q - p
    if (a.op() == Op::Sub) return build(Op::Sub, {a.arg(1), a.arg(0)});
    // -where(c, t, 0) -> where(c, -t, 0)
    if (Expr r = push_into_zero_where(a, [](const Expr& t) { return build(Op::Neg, {t}); })) return r;
    return make(Op::Neg, {a});
}

}  // namespace actjit::rules
