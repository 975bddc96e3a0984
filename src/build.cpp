// Simplifying construction: build() folds constants and dispatches to the
// rewrite rules of src/simplify_*.cpp; simplify() re-builds a whole DAG; the
// Expr operators are build() with a friendlier spelling.
#include <actjit/build.hpp>
#include <actjit/eval.hpp>

#include "simplify_rules.hpp"

#include <fmt/format.h>

#include <cmath>
#include <unordered_map>
#include <vector>

namespace actjit {

namespace rules {

Expr num(double v) { return constant(v == 0 ? 0.0 : v); }

std::pair<double, Expr> split_coefficient(const Expr& e) {
    if (e.op() == Op::Mul && e.arg(0).is_const()) return {e.arg(0).value(), e.arg(1)};
    if (e.op() == Op::Neg) return {-1.0, e.arg(0)};
    return {1.0, e};
}

std::pair<Expr, double> split_power(const Expr& e) {
    if (e.op() == Op::Pow && e.arg(1).is_const()) return {e.arg(0), e.arg(1).value()};
    return {e, 1.0};
}

namespace {

/// Walks the tree of wheres nested in where branches, counting its where
/// nodes in `budget`; sets `zero` when a branch is the constant 0. Returns
/// false when the tree has more wheres than the budget.
bool scan_where_tree(const Expr& e, int& budget, bool& zero) {
    if (e.is_const(0)) zero = true;
    if (e.op() != Op::Where) return true;
    if (--budget < 0) return false;
    return scan_where_tree(e.arg(1), budget, zero) && scan_where_tree(e.arg(2), budget, zero);
}

}  // namespace

bool has_zero_branch(const Expr& e) {
    // Only small where trees: pushing a product into a tree of n branches makes
    // n products, and pushing products of such trees into each other again
    // would grow exponentially along a chain rule (nested hardswish, say).
    // With at most 8 wheres the growth per product is bounded, and the
    // results, too large to be pushed into again, stay linear in the chain.
    constexpr int kMaxWheres = 8;
    if (e.op() != Op::Where) return false;
    int budget = kMaxWheres;
    bool zero = false;
    return scan_where_tree(e, budget, zero) && zero;
}

}  // namespace rules

Expr build(Op op, std::span<const Expr> args) {
    const OpInfo& info = op_info(op);
    ACTJIT_ASSERT(info.kind != OpKind::Leaf, fmt::format("build() cannot build leaf '{}'", info.name));
    ACTJIT_ASSERT(static_cast<int>(args.size()) == info.arity,
                  fmt::format("'{}' takes {} operands, got {}", info.name, info.arity, args.size()));
    bool all_const = true;
    const Expr* arg[3] = {nullptr, nullptr, nullptr};
    for (std::size_t i = 0; i < args.size(); ++i) {
        ACTJIT_ASSERT(args[i], "null operand");
        all_const = all_const && args[i].is_const();
        arg[i] = &args[i];
    }
    // Constant folding, in double, when the result is a finite number.
    if (all_const) {
        double v[3] = {0, 0, 0};
        for (std::size_t i = 0; i < args.size(); ++i) v[i] = args[i].value();
        double r = apply_op(op, v[0], v[1], v[2]);
        if (std::isfinite(r)) return rules::num(r);
    }
    switch (op) {
    case Op::Add: return rules::add(*arg[0], *arg[1]);
    case Op::Sub: return rules::sub(*arg[0], *arg[1]);
    case Op::Mul: return rules::mul(*arg[0], *arg[1]);
    case Op::Div: return rules::div(*arg[0], *arg[1]);
    case Op::Pow: return rules::pow(*arg[0], *arg[1]);
    case Op::Neg: return rules::neg(*arg[0]);
    case Op::Where: return rules::where(*arg[0], *arg[1], *arg[2]);
    default:
        if (info.arity == 1) return rules::unary(op, *arg[0]);
        return make(op, args);
    }
}

Expr build(Op op, std::initializer_list<Expr> args) { return build(op, std::span<const Expr>(args.begin(), args.size())); }

namespace {

/// One bottom-up pass: every node re-built from its re-built operands. Memoized
/// by node, so a shared sub-DAG is re-built once.
Expr rebuild_once(const Expr& root) {
    std::unordered_map<const Node*, Expr> done;
    std::vector<Expr> args;
    for_each_node_postorder(std::span<const Expr>(&root, 1), [&](const Expr& e) {
        if (e.num_args() == 0) {
            done.emplace(e.get(), e);
            return;
        }
        args.clear();
        for (const Expr& a : e.args()) args.push_back(done.at(a.get()));
        done.emplace(e.get(), build(e.op(), args));
    });
    return done.at(root.get());
}

}  // namespace

Expr simplify(const Expr& e) {
    ACTJIT_ASSERT(e, "simplify() of a null expression");
    // A pass can enable rules one level up that the previous pass had already
    // passed by; a few passes reach the fixed point in practice.
    constexpr int kMaxPasses = 8;
    Expr cur = e;
    for (int pass = 0; pass < kMaxPasses; ++pass) {
        Expr next = rebuild_once(cur);
        if (next.same_as(cur)) break;
        cur = std::move(next);
    }
    return cur;
}

Expr operator+(const Expr& a, const Expr& b) { return build(Op::Add, {a, b}); }
Expr operator-(const Expr& a, const Expr& b) { return build(Op::Sub, {a, b}); }
Expr operator*(const Expr& a, const Expr& b) { return build(Op::Mul, {a, b}); }
Expr operator/(const Expr& a, const Expr& b) { return build(Op::Div, {a, b}); }
Expr operator-(const Expr& a) { return build(Op::Neg, {a}); }
Expr operator+(const Expr& a, double b) { return a + constant(b); }
Expr operator+(double a, const Expr& b) { return constant(a) + b; }
Expr operator-(const Expr& a, double b) { return a - constant(b); }
Expr operator-(double a, const Expr& b) { return constant(a) - b; }
Expr operator*(const Expr& a, double b) { return a * constant(b); }
Expr operator*(double a, const Expr& b) { return constant(a) * b; }
Expr operator/(const Expr& a, double b) { return a / constant(b); }
Expr operator/(double a, const Expr& b) { return constant(a) / b; }
Expr pow(const Expr& a, const Expr& b) { return build(Op::Pow, {a, b}); }
Expr pow(const Expr& a, double b) { return build(Op::Pow, {a, constant(b)}); }
Expr where(const Expr& c, const Expr& a, const Expr& b) { return build(Op::Where, {c, a, b}); }

Expr call(Op op, const Expr& a) {
    const OpInfo& info = op_info(op);
    ACTJIT_ASSERT(info.kind == OpKind::Call && info.arity == 1, fmt::format("'{}' is not a unary builtin", info.name));
    return build(op, {a});
}

}  // namespace actjit
