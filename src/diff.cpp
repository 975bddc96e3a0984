// Symbolic differentiation: one rule per operation, each under the line of
// math it implements. Rules build with build(), so results come out simplified
// and the NaN-safety rule of build.hpp applies to every chain-rule product.
//
// Notation: u, a, b, c are operands, du, da, db, dc their derivatives, and
// f the node being differentiated (reused where the derivative contains it).
#include <actjit/build.hpp>
#include <actjit/diff.hpp>

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <unordered_map>

namespace actjit {

namespace {

Expr num(double v) { return constant(v); }
Expr b2(Op op, const Expr& a, const Expr& b) { return build(op, {a, b}); }
Expr b1(Op op, const Expr& a) { return build(op, {a}); }

/// d/dx (a ^ b), guarded so that no 0 * Inf or Inf - Inf reaches the result.
Expr diff_pow(const Expr& f, const Expr& a, const Expr& b, const Expr& da, const Expr& db) {
    if (b.is_const()) {
        // d/dx a^n = n a^(n-1) a'   (constant n; a^0 folds to 1, a^1 to a)
        return num(b.value()) * pow(a, b.value() - 1) * da;
    }
    Expr result = num(0);
    if (!da.is_const(0)) {
        // d/da a^b = b a^(b-1), taken as 0 where b == 0 (a^0 is 1 for every a,
        // while 0 * 0^-1 would be NaN). Unguarded when b provably is never 0.
        Expr core = b * pow(a, b - 1.0);
        if (!value_range(b).excludes_zero()) core = where(b2(Op::Eq, b, num(0)), num(0), core);
        result = core * da;
    }
    if (!db.is_const(0)) {
        // d/db a^b = a^b log(a), taken as 0 where a == 0: 0^b is piecewise
        // constant in b (0, 1 or inf), while 0 * log(0) would be NaN and
        // inf * log(0) infinite. Unguarded when a > 0.
        Expr core = f * b1(Op::Log, a);
        if (!(value_range(a).lo > 0)) core = where(b2(Op::Eq, a, num(0)), num(0), core);
        result = result + core * db;
    }
    return result;
}

/// The derivative of node f, given the derivatives of its operands.
Expr derivative(const Expr& f, const Expr* d) {
    const Expr zero = num(0);
    const int n = f.num_args();
    const Expr& u = n > 0 ? f.arg(0) : f;
    const Expr& du = d[0];
    const double two_over_sqrt_pi = 2 / std::sqrt(std::numbers::pi);
    switch (f.op()) {
    case Op::Const:
    case Op::Input:
    case Op::Param:
    case Op::Feature: break;  // leaves are handled by the caller
    // d(a + b) = da + db
    case Op::Add: return d[0] + d[1];
    // d(a - b) = da - db
    case Op::Sub: return d[0] - d[1];
    // d(a b) = da b + a db
    case Op::Mul: return d[0] * f.arg(1) + f.arg(0) * d[1];
    // d(a / b) = (da - (a/b) db) / b
    case Op::Div: return (d[0] - f * d[1]) / f.arg(1);
    case Op::Pow: return diff_pow(f, f.arg(0), f.arg(1), d[0], d[1]);
    // d(-u) = -du
    case Op::Neg: return -du;
    // Comparisons and logic are piecewise constant: derivative 0 (also at the
    // jumps, as for torch's comparison ops).
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge:
    case Op::Eq:
    case Op::Ne:
    case Op::And:
    case Op::Or:
    case Op::Not: return zero;
    // d where(c, a, b) = where(c, da, db): only the selected branch's derivative.
    case Op::Where: return where(f.arg(0), d[1], d[2]);
    // d exp(u) = exp(u) du
    case Op::Exp: return f * du;
    // d exp2(u) = log(2) exp2(u) du
    case Op::Exp2: return std::numbers::ln2 * f * du;
    // d log(u) = du / u
    case Op::Log: return du / u;
    // d log2(u) = du / (log(2) u)
    case Op::Log2: return du / (std::numbers::ln2 * u);
    // d log10(u) = du / (log(10) u)
    case Op::Log10: return du / (std::numbers::ln10 * u);
    // d log1p(u) = du / (1 + u)
    case Op::Log1p: return du / (u + 1.0);
    // d expm1(u) = exp(u) du
    case Op::Expm1: return b1(Op::Exp, u) * du;
    // d sqrt(u) = du / (2 sqrt(u))
    case Op::Sqrt: return du / (2.0 * f);
    // d cbrt(u) = du / (3 cbrt(u)^2)
    case Op::Cbrt: return du / (3.0 * pow(f, 2.0));
    // d |u| = sign(u) du   (abs'(0) = sign(0) = 0, as torch)
    case Op::Abs: return b1(Op::Sign, u) * du;
    // d sign(u) = d floor(u) = 0   (also at the jumps, as torch)
    case Op::Sign:
    case Op::Floor: return zero;
    // d sin(u) = cos(u) du
    case Op::Sin: return b1(Op::Cos, u) * du;
    // d cos(u) = -sin(u) du
    case Op::Cos: return -(b1(Op::Sin, u) * du);
    // d tan(u) = (1 + tan(u)^2) du
    case Op::Tan: return (1.0 + pow(f, 2.0)) * du;
    // d asin(u) = du / sqrt(1 - u^2)
    case Op::Asin: return du / b1(Op::Sqrt, 1.0 - pow(u, 2.0));
    // d acos(u) = -du / sqrt(1 - u^2)
    case Op::Acos: return -(du / b1(Op::Sqrt, 1.0 - pow(u, 2.0)));
    // d atan(u) = du / (1 + u^2)
    case Op::Atan: return du / (pow(u, 2.0) + 1.0);
    // d sinh(u) = cosh(u) du
    case Op::Sinh: return b1(Op::Cosh, u) * du;
    // d cosh(u) = sinh(u) du
    case Op::Cosh: return b1(Op::Sinh, u) * du;
    // d tanh(u) = (1 - tanh(u)^2) du
    case Op::Tanh: return (1.0 - pow(f, 2.0)) * du;
    // d asinh(u) = du / sqrt(u^2 + 1)
    case Op::Asinh: return du / b1(Op::Sqrt, pow(u, 2.0) + 1.0);
    // d acosh(u) = du / sqrt(u^2 - 1)
    case Op::Acosh: return du / b1(Op::Sqrt, pow(u, 2.0) - 1.0);
    // d atanh(u) = du / (1 - u^2)
    case Op::Atanh: return du / (1.0 - pow(u, 2.0));
    // d erf(u) = 2/sqrt(pi) exp(-u^2) du
    case Op::Erf: return two_over_sqrt_pi * b1(Op::Exp, -pow(u, 2.0)) * du;
    // d erfc(u) = -2/sqrt(pi) exp(-u^2) du
    case Op::Erfc: return -two_over_sqrt_pi * b1(Op::Exp, -pow(u, 2.0)) * du;
    // d sigmoid(u) = sigmoid(u) (1 - sigmoid(u)) du
    case Op::Sigmoid: return f * (1.0 - f) * du;
    // d softplus(u) = sigmoid(u) du
    case Op::Softplus: return b1(Op::Sigmoid, u) * du;
    // d softsign(u) = du / (1 + |u|)^2
    case Op::Softsign: return du / pow(b1(Op::Abs, u) + 1.0, 2.0);
    // d relu(u) = where(u > 0, du, 0)   (relu'(0) = 0, as torch)
    case Op::Relu: return where(b2(Op::Gt, u, zero), du, zero);
    // d min(a, b) = where(a < b, da, where(a > b, db, (da + db) / 2))   (ties split, as torch)
    case Op::Min:
        return where(b2(Op::Lt, f.arg(0), f.arg(1)), d[0], where(b2(Op::Gt, f.arg(0), f.arg(1)), d[1], (d[0] + d[1]) / 2.0));
    // d max(a, b) = where(a > b, da, where(a < b, db, (da + db) / 2))   (ties split, as torch)
    case Op::Max:
        return where(b2(Op::Gt, f.arg(0), f.arg(1)), d[0], where(b2(Op::Lt, f.arg(0), f.arg(1)), d[1], (d[0] + d[1]) / 2.0));
    // d mod(a, b) = d(a - b floor(a/b)) = da - floor(a/b) db
    case Op::Mod: return d[0] - b1(Op::Floor, f.arg(0) / f.arg(1)) * d[1];
    // d clamp(u, lo, hi) = where(u < lo, where(lo > hi, dhi, dlo), where(u > hi, dhi, du))
    //   The gradient passes to u at the bounds themselves, as torch.clamp. The
    //   value is min(max(u, lo), hi), which is hi whenever lo > hi; the inner
    //   where follows it there (it folds away when lo and hi are constants).
    case Op::Clamp: {
        const Expr &lo = f.arg(1), &hi = f.arg(2);
        return where(b2(Op::Lt, u, lo), where(b2(Op::Gt, lo, hi), d[2], d[1]), where(b2(Op::Gt, u, hi), d[2], du));
    }
    }
    ACTJIT_ASSERT(false, fmt::format("no derivative rule for '{}'", op_info(f.op()).name));
    return zero;
}

}  // namespace

Expr diff(const Expr& e, const Expr& wrt) {
    ACTJIT_ASSERT(e && wrt, "diff() of a null expression");
    if (wrt.op() != Op::Input && wrt.op() != Op::Param && wrt.op() != Op::Feature)
        throw ValueError("can only differentiate with respect to x, feature or a parameter");
    // The feature index is an integer: nothing varies continuously with it.
    if (wrt.op() == Op::Feature) return num(0);

    std::unordered_map<const Node*, Expr> memo;
    for_each_node_postorder(std::span<const Expr>(&e, 1), [&](const Expr& f) {
        Expr d[3];
        bool all_zero = true;
        for (int i = 0; i < f.num_args(); ++i) {
            d[i] = memo.at(f.arg(i).get());
            all_zero = all_zero && d[i].is_const(0);
        }
        Expr df;
        if (f.num_args() == 0)
            df = num(f.same_as(wrt) ? 1.0 : 0.0);
        else if (all_zero)
            df = num(0);  // f does not depend on wrt
        else
            df = derivative(f, d);
        memo.emplace(f.get(), std::move(df));
    });
    return memo.at(e.get());
}

std::vector<Partial> gradient(const Formula& f) {
    // Differentiating the simplified body makes the partials share their
    // sub-expressions with simplify(f.body), which a fused kernel evaluates.
    const Expr body = simplify(f.body);
    std::vector<Partial> partials;
    partials.push_back({"x", simplify(diff(body, input()))});
    for (const ParamDecl& p : f.params) partials.push_back({p.name, simplify(diff(body, param(p.name)))});
    return partials;
}

}  // namespace actjit
