// Symbolic differentiation.
//
// Every rule follows one line of math, written above it in src/diff.cpp.
// Conventions at kinks follow PyTorch (docs/DERIVATIVES.md lists each one):
// relu'(0) = 0, abs'(0) = 0, sign' = floor' = 0, clamp passes the gradient at
// its bounds, min/max split it in half at ties, d/da a^b is 0 where b == 0,
// d/db a^b is 0 where a == 0, and d where(c, a, b) = where(c, da, db).
// Results are simplified (see build.hpp) and NaN-safe: no NaN or Inf from an
// unselected where() branch or a 0 * Inf product reaches a result.
#pragma once

#include <actjit/expr.hpp>
#include <actjit/formula.hpp>

#include <string>
#include <vector>

namespace actjit {

/// d e / d wrt, where wrt is input(), feature_index() (always 0) or a param().
Expr diff(const Expr& e, const Expr& wrt);

struct Partial {
    std::string name;  // "x" or the parameter name
    Expr expr;
};

/// d/dx followed by d/d(each parameter of f, in f's order).
std::vector<Partial> gradient(const Formula& f);

}  // namespace actjit
