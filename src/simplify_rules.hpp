// The simplifier's rewrite rules, one function per operation kind, shared by
// src/build.cpp (dispatch, constant folding) and src/simplify_*.cpp (rules).
// Private to src/.
//
// Each rule receives operands that were themselves built by build(), and
// returns the simplified node (usually by calling build() on smaller pieces,
// or make() when nothing applies). Rules only look a couple of levels down, so
// the recursion they cause is shallow.
#pragma once

#include <actjit/build.hpp>

#include <utility>

namespace actjit::rules {

/// constant(v), with -0 folded to +0 so folded zeros print and compare alike.
Expr num(double v);

/// e = c * t with a constant c (c = 1 when e has no constant factor; Neg is -1).
std::pair<double, Expr> split_coefficient(const Expr& e);
/// e = t ^ n with a constant n (n = 1 when e is not such a power).
std::pair<Expr, double> split_power(const Expr& e);
/// e is a where() with a constant 0 among its branches, directly or in a
/// nested where() branch: where(c, t, 0), where(c1, t, where(c2, 0, u)), ...
/// Products with such a where are pushed into its branches (NaN safety).
bool has_zero_branch(const Expr& e);

Expr add(const Expr& a, const Expr& b);
Expr sub(const Expr& a, const Expr& b);
Expr mul(const Expr& a, const Expr& b);
Expr div(const Expr& a, const Expr& b);
Expr pow(const Expr& a, const Expr& b);
Expr neg(const Expr& a);
Expr where(const Expr& c, const Expr& a, const Expr& b);
Expr unary(Op op, const Expr& a);

}  // namespace actjit::rules
