// Interval analysis: a conservative range for every node of a DAG.
//
// Leaves x and parameters are unbounded, the feature index is >= 0; all are
// taken to be numbers (possibly infinite, never NaN), so `maybe_nan` says
// whether an operation can create a NaN from non-NaN operands. Ranges are
// closed: exp's range is [0, inf], since exp underflows to 0 in floating point.
#include <actjit/build.hpp>
#include <actjit/eval.hpp>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace actjit {

namespace {

constexpr double kInf = HUGE_VAL;

Interval make_range(double lo, double hi, bool maybe_nan) {
    // A NaN bound (inf - inf in interval arithmetic) means "unknown" on that side.
    if (std::isnan(lo)) lo = -kInf;
    if (std::isnan(hi)) hi = kInf;
    return Interval{lo, hi, maybe_nan};
}

bool contains(const Interval& r, double v) { return r.lo <= v && v <= r.hi; }
bool has_inf(const Interval& r) { return r.lo == -kInf || r.hi == kInf; }

/// f non-decreasing: [f(lo), f(hi)].
Interval increasing(Op op, const Interval& a, bool maybe_nan) {
    return make_range(apply_op(op, a.lo), apply_op(op, a.hi), a.maybe_nan || maybe_nan);
}
/// f non-increasing: [f(hi), f(lo)].
Interval decreasing(Op op, const Interval& a, bool maybe_nan) {
    return make_range(apply_op(op, a.hi), apply_op(op, a.lo), a.maybe_nan || maybe_nan);
}

Interval hull(const Interval& a, const Interval& b) {
    return Interval{std::min(a.lo, b.lo), std::max(a.hi, b.hi), a.maybe_nan || b.maybe_nan};
}

/// The range of a product, corner by corner; 0 * inf corners count as 0 for
/// the bounds and as a possible NaN.
Interval times(const Interval& a, const Interval& b) {
    double lo = kInf, hi = -kInf;
    for (double p : {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi}) {
        if (std::isnan(p)) p = 0;
        lo = std::min(lo, p);
        hi = std::max(hi, p);
    }
    bool nan = (contains(a, 0) && has_inf(b)) || (contains(b, 0) && has_inf(a));
    return make_range(lo, hi, a.maybe_nan || b.maybe_nan || nan);
}

Interval divide(const Interval& a, const Interval& b) {
    bool nan = a.maybe_nan || b.maybe_nan || (contains(a, 0) && contains(b, 0)) || (has_inf(a) && has_inf(b));
    if (!b.excludes_zero()) {
        if (a.lo >= 0 && b.lo >= 0) return Interval{0, kInf, nan};
        return Interval{-kInf, kInf, nan};
    }
    Interval inv = make_range(1 / b.hi, 1 / b.lo, false);
    Interval r = times(a, inv);
    r.maybe_nan = nan || r.maybe_nan;
    return r;
}

Interval power(const Interval& a, const Interval& b) {
    bool nan = a.maybe_nan || b.maybe_nan;
    bool integral_exponent = b.lo == b.hi && std::isfinite(b.lo) && std::floor(b.lo) == b.lo;
    if (a.lo >= 0) {
        // Monotone in the base for a fixed exponent; otherwise just >= 0.
        if (b.lo == b.hi && std::isfinite(b.lo)) {
            double p = std::pow(a.lo, b.lo), q = std::pow(a.hi, b.lo);
            return make_range(std::min(p, q), std::max(p, q), nan);
        }
        return Interval{0, kInf, nan};
    }
    // A negative base: NaN unless the exponent is an integer.
    if (integral_exponent) {
        if (std::fmod(b.lo, 2.0) == 0) return Interval{0, kInf, nan};
        return Interval{-kInf, kInf, nan};
    }
    return Interval{-kInf, kInf, true};
}

Interval range_of(const Expr& e, const Interval* r) {
    const Interval& a = r[0];
    const Interval& b = r[1];
    const Interval& c = r[2];
    switch (e.op()) {
    case Op::Const: return Interval{e.value(), e.value(), false};
    case Op::Input:
    case Op::Param: return Interval{-kInf, kInf, false};
    case Op::Feature: return Interval{0, kInf, false};
    case Op::Add:
        return make_range(a.lo + b.lo, a.hi + b.hi,
                          a.maybe_nan || b.maybe_nan || (a.hi == kInf && b.lo == -kInf) || (a.lo == -kInf && b.hi == kInf));
    case Op::Sub:
        return make_range(a.lo - b.hi, a.hi - b.lo,
                          a.maybe_nan || b.maybe_nan || (a.hi == kInf && b.hi == kInf) || (a.lo == -kInf && b.lo == -kInf));
    case Op::Mul: return times(a, b);
    case Op::Div: return divide(a, b);
    case Op::Pow: return power(a, b);
    case Op::Neg: return Interval{-a.hi, -a.lo, a.maybe_nan};
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge:
    case Op::Eq:
    case Op::Ne:
    case Op::And:
    case Op::Or:
    case Op::Not: return Interval{0, 1, false};
    case Op::Where: return hull(b, c);
    case Op::Exp:
    case Op::Exp2:
    case Op::Expm1:
    case Op::Cbrt:
    case Op::Floor:
    case Op::Sign:
    case Op::Sinh:
    case Op::Tanh:
    case Op::Asinh:
    case Op::Erf:
    case Op::Sigmoid:
    case Op::Softplus:
    case Op::Softsign:
    case Op::Relu: return increasing(e.op(), a, false);
    case Op::Atan: return make_range(std::atan(a.lo), std::atan(a.hi), a.maybe_nan);
    case Op::Erfc: return decreasing(e.op(), a, false);
    case Op::Log:
    case Op::Log2:
    case Op::Log10:
    case Op::Sqrt: {
        bool nan = a.lo < 0;
        return make_range(apply_op(e.op(), std::max(a.lo, 0.0)), apply_op(e.op(), a.hi), a.maybe_nan || nan);
    }
    case Op::Log1p: {
        bool nan = a.lo < -1;
        return make_range(std::log1p(std::max(a.lo, -1.0)), std::log1p(a.hi), a.maybe_nan || nan);
    }
    case Op::Abs:
    case Op::Cosh: {
        Interval m = a.lo >= 0 ? a : a.hi <= 0 ? Interval{-a.hi, -a.lo, a.maybe_nan} : Interval{0, std::max(-a.lo, a.hi), a.maybe_nan};
        return increasing(e.op(), m, false);
    }
    case Op::Sin:
    case Op::Cos: return Interval{-1, 1, a.maybe_nan || has_inf(a)};
    case Op::Tan: return Interval{-kInf, kInf, a.maybe_nan || has_inf(a)};
    case Op::Asin:
        return make_range(std::asin(std::clamp(a.lo, -1.0, 1.0)), std::asin(std::clamp(a.hi, -1.0, 1.0)),
                          a.maybe_nan || a.lo < -1 || a.hi > 1);
    case Op::Acos:
        return make_range(std::acos(std::clamp(a.hi, -1.0, 1.0)), std::acos(std::clamp(a.lo, -1.0, 1.0)),
                          a.maybe_nan || a.lo < -1 || a.hi > 1);
    case Op::Acosh: return make_range(std::acosh(std::max(a.lo, 1.0)), std::acosh(std::max(a.hi, 1.0)), a.maybe_nan || a.lo < 1);
    case Op::Atanh:
        return make_range(std::atanh(std::clamp(a.lo, -1.0, 1.0)), std::atanh(std::clamp(a.hi, -1.0, 1.0)),
                          a.maybe_nan || a.lo < -1 || a.hi > 1);
    case Op::Min: return Interval{std::min(a.lo, b.lo), std::min(a.hi, b.hi), a.maybe_nan || b.maybe_nan};
    case Op::Max: return Interval{std::max(a.lo, b.lo), std::max(a.hi, b.hi), a.maybe_nan || b.maybe_nan};
    case Op::Mod: {
        // a - b*floor(a/b) has the sign of b and magnitude below |b| in exact
        // arithmetic. In floating point, a/b rounded up to an integer gives a
        // tiny result of the other sign, and a huge quotient loses all digits,
        // so: |result| <= 2 max|b| while |a/b| < 2^50, else unknown.
        bool nan = a.maybe_nan || b.maybe_nan || contains(b, 0) || has_inf(a) || has_inf(b);
        const double max_a = std::max(std::abs(a.lo), std::abs(a.hi));
        const double max_b = std::max(std::abs(b.lo), std::abs(b.hi));
        const double min_b = b.excludes_zero() ? std::min(std::abs(b.lo), std::abs(b.hi)) : 0.0;
        if (min_b > 0 && max_a / min_b < 0x1p50 && std::isfinite(max_b)) return Interval{-2 * max_b, 2 * max_b, nan};
        return Interval{-kInf, kInf, nan};
    }
    case Op::Clamp: {
        // min(max(u, lo), hi) is non-decreasing in all three operands.
        return make_range(apply_op(Op::Clamp, a.lo, b.lo, c.lo), apply_op(Op::Clamp, a.hi, b.hi, c.hi),
                          a.maybe_nan || b.maybe_nan || c.maybe_nan);
    }
    }
    return Interval{};
}

}  // namespace

Interval value_range(const Expr& e) {
    std::unordered_map<const Node*, Interval> ranges;
    for_each_node_postorder(std::span<const Expr>(&e, 1), [&](const Expr& n) {
        Interval r[3];
        for (int i = 0; i < n.num_args(); ++i) r[i] = ranges.at(n.arg(i).get());
        ranges.emplace(n.get(), range_of(n, r));
    });
    return ranges.at(e.get());
}

}  // namespace actjit
