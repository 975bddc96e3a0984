// Simplifying construction. Where raw `make` builds exactly the node asked for,
// `build` applies local rewrites first: constant folding, identities (a+0, a*1,
// a*0, a^1, --a), like terms (a+a -> 2*a, 3*a + 2*a -> 5*a, a*a -> a^2,
// a^m * a^n -> a^(m+n)), where() with a constant or repeated operand, and the
// NaN-safety rule below. The derivative builder uses these, so derivatives come
// out simplified.
//
// NaN safety: a product with a where() one of whose branches is the constant 0
// is pushed inside the where: a * where(c, t, 0) -> where(c, a*t, 0). Since
// where only passes the selected branch, an Inf or NaN in `a` where `c` is false
// cannot turn the 0 into NaN (this is how relu(x)^q has exactly zero gradients
// for x < 0 even when q < 1).
#pragma once

#include <actjit/expr.hpp>

#include <cmath>
#include <initializer_list>
#include <span>
#include <utility>

namespace actjit {

Expr build(Op op, std::span<const Expr> args);
Expr build(Op op, std::initializer_list<Expr> args);

/// Re-build every node bottom-up with `build`, to a fixed point.
Expr simplify(const Expr& e);

/// Replace leaves (or any sub-expressions) by others, re-building with `build`
/// when `simplifying`, else with raw `make`.
Expr substitute(const Expr& e, std::span<const std::pair<Expr, Expr>> replacements, bool simplifying = true);

// Arithmetic on expressions, simplifying.
Expr operator+(const Expr& a, const Expr& b);
Expr operator-(const Expr& a, const Expr& b);
Expr operator*(const Expr& a, const Expr& b);
Expr operator/(const Expr& a, const Expr& b);
Expr operator-(const Expr& a);
Expr operator+(const Expr& a, double b);
Expr operator+(double a, const Expr& b);
Expr operator-(const Expr& a, double b);
Expr operator-(double a, const Expr& b);
Expr operator*(const Expr& a, double b);
Expr operator*(double a, const Expr& b);
Expr operator/(const Expr& a, double b);
Expr operator/(double a, const Expr& b);
Expr pow(const Expr& a, const Expr& b);
Expr pow(const Expr& a, double b);
Expr where(const Expr& c, const Expr& a, const Expr& b);
Expr call(Op op, const Expr& a);  // unary builtin, simplifying

/// Value range of an expression given ranges of its leaves (x, parameters,
/// feature index all unbounded by default). Conservative: the true set of
/// values is inside [lo, hi]; NaN is possible when `maybe_nan`.
struct Interval {
    double lo = -HUGE_VAL;
    double hi = HUGE_VAL;
    bool maybe_nan = true;
    bool excludes_zero() const noexcept { return lo > 0 || hi < 0; }
};
Interval value_range(const Expr& e);

}  // namespace actjit
