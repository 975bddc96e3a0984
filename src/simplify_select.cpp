// Rewrite rules for where() and the builtins.
#include "simplify_rules.hpp"

namespace actjit::rules {

Expr where(const Expr& c, const Expr& a, const Expr& b) {
    // where(<constant>, a, b) -> the chosen branch (constants are never NaN)
    if (c.is_const()) return c.value() != 0 ? a : b;
    // where(c, a, a) -> a  (covers where(c, 0, 0) -> 0)
    if (a.same_as(b)) return a;
    // where(not u, a, b) -> where(u, b, a): not u is true exactly when u is not
    // truthy (0 or NaN), which is when where(u, ...) takes its second branch.
    if (c.op() == Op::Not) return build(Op::Where, {c.arg(0), b, a});
    // where(c, where(c, p, q), b) -> where(c, p, b);  where(c, a, where(c, p, q)) -> where(c, a, q)
    if (a.op() == Op::Where && a.arg(0).same_as(c)) return build(Op::Where, {c, a.arg(1), b});
    if (b.op() == Op::Where && b.arg(0).same_as(c)) return build(Op::Where, {c, a, b.arg(2)});
    return make(Op::Where, {c, a, b});
}

Expr unary(Op op, const Expr& a) {
    switch (op) {
    // abs(-u) -> abs(u);  abs(abs(u)) -> abs(u)
    case Op::Abs:
        if (a.op() == Op::Neg) return build(Op::Abs, {a.arg(0)});
        if (a.op() == Op::Abs) return a;
        break;
    // relu(relu(u)) -> relu(u)
    case Op::Relu:
        if (a.op() == Op::Relu) return a;
        break;
    // floor(floor(u)) -> floor(u);  sign(sign(u)) -> sign(u)
    case Op::Floor:
    case Op::Sign:
        if (a.op() == op) return a;
        break;
    default: break;
    }
    return make(op, {a});
}

}  // namespace actjit::rules
