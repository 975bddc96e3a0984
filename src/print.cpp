// Printing expressions as formula text that parses back to the same node.
//
// Parentheses are minimal by precedence, low to high:
//   or < and < not < comparison < + - < * / < unary - < ^ < primary
// `+ - * / and or` are left-associative (the right operand is printed one level
// up), comparisons are non-associative (both operands one level up), `^` is
// right-associative with its right operand printed at unary level (`2^-x`). A
// negative constant is a unary minus on a literal, so it prints at unary level
// (`(-2)^x`, `x * -2`); a Neg node on a non-negative constant prints as `-(2)`,
// which the parser keeps as a Neg node. Constants print as the shortest text
// that reads back as the same double.
//
// The printer is iterative (expressions may be kMaxExprDepth deep) and refuses
// to print more than kMaxPrintLength bytes: a DAG with heavy sharing can stand
// for an exponentially large tree.
#include "lexer.hpp"

#include <actjit/formula.hpp>

#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <iterator>
#include <unordered_map>
#include <string_view>
#include <vector>

namespace actjit {

namespace {

constexpr std::size_t kMaxPrintLength = std::size_t{16} << 20;

enum Level : int { kOr = 1, kAnd, kNot, kCmp, kSum, kProduct, kUnary, kPower, kPrimary };

int level_of(const Expr& e) {
    switch (e.op()) {
        case Op::Or: return kOr;
        case Op::And: return kAnd;
        case Op::Not: return kNot;
        case Op::Lt:
        case Op::Le:
        case Op::Gt:
        case Op::Ge:
        case Op::Eq:
        case Op::Ne: return kCmp;
        case Op::Add:
        case Op::Sub: return kSum;
        case Op::Mul:
        case Op::Div: return kProduct;
        case Op::Neg: return kUnary;
        case Op::Pow: return kPower;
        case Op::Const: return std::signbit(e.value()) ? kUnary : kPrimary;
        default: return kPrimary;
    }
}

/// Operand levels (left, right) for a binary infix operator of level `lv`.
std::pair<int, int> operand_levels(Op op, int lv) {
    if (op == Op::Pow) return {kPrimary, kUnary};
    if (lv == kCmp) return {kSum, kSum};
    return {lv, lv + 1};
}

std::string format_number(double v) { return fmt::format("{}", v); }

class Printer {
public:
    std::string print(const Expr& root) {
        ACTJIT_ASSERT(root, "printing a null expression");
        // Every node of the tree prints at least one byte: refuse at once
        // when the tree the DAG stands for is already too big.
        if (tree_size(root) > kMaxPrintLength) too_large();
        todo_.push_back({&root, 0, {}});
        while (!todo_.empty()) {
            Task t = todo_.back();
            todo_.pop_back();
            if (t.expr)
                emit(*t.expr, t.min_level);
            else
                out_ += t.text;
            if (out_.size() > kMaxPrintLength) too_large();
        }
        return std::move(out_);
    }

private:
    [[noreturn]] static void too_large() {
        throw LimitError(fmt::format("expression too large to print (more than {} bytes as text)", kMaxPrintLength));
    }

    /// Number of nodes of `root` as a tree (shared nodes counted at each use),
    /// saturating just above kMaxPrintLength.
    static std::size_t tree_size(const Expr& root) {
        std::unordered_map<const Node*, std::size_t> size;
        for_each_node_postorder(std::span<const Expr>(&root, 1), [&](const Expr& n) {
            std::size_t total = 1;
            for (const Expr& a : n.args()) total = std::min(total + size.at(a.get()), kMaxPrintLength + 1);
            size.emplace(n.get(), total);
        });
        return size.at(root.get());
    }

    // The handles pointed to live in the root or in its nodes' operand
    // arrays, which stay put for the whole print.
    struct Task {
        const Expr* expr;  // null: emit `text`
        int min_level;
        std::string_view text;
    };

    // Tasks are pushed in reverse so they run left to right.
    void text(std::string_view s) { todo_.push_back({nullptr, 0, s}); }
    void node(const Expr& e, int min_level) { todo_.push_back({&e, min_level, {}}); }

    void emit(const Expr& e, int min_level) {
        const int lv = level_of(e);
        const bool parens = lv < min_level;
        if (parens) text(")");
        emit_bare(e, lv);
        if (parens) text("(");
    }

    /// Push the tasks for `e` without its own parentheses (in reverse order).
    void emit_bare(const Expr& e, int lv) {
        const OpInfo& info = op_info(e.op());
        switch (e.op()) {
            case Op::Const: out_pending(format_number(e.value())); return;
            case Op::Input: text("x"); return;
            case Op::Feature: text("feature"); return;
            case Op::Param:
                // `pi`, `exp`, `x`... would read back as something else.
                if (lang::is_reserved_name(e.name()))
                    throw ValueError(fmt::format("parameter '{}' cannot be printed: the name is reserved in formulas", e.name()));
                out_pending(e.name());
                return;
            case Op::Neg:
                if (e.arg(0).is_const() && !std::signbit(e.arg(0).value())) {
                    text(")");
                    node(e.arg(0), kPrimary);
                    text("-(");
                } else {
                    node(e.arg(0), kUnary);
                    text("-");
                }
                return;
            case Op::Not:
                node(e.arg(0), kNot);
                text("not ");
                return;
            default: break;
        }
        if (info.kind == OpKind::Infix) {
            auto [left, right] = operand_levels(e.op(), lv);
            node(e.arg(1), right);
            if (e.op() == Op::Pow) {
                text("^");
            } else {
                text(" ");
                text(info.spelling);
                text(" ");
            }
            node(e.arg(0), left);
            return;
        }
        ACTJIT_ASSERT(info.kind == OpKind::Call, fmt::format("cannot print '{}'", info.name));
        text(")");
        for (int i = e.num_args() - 1; i >= 0; --i) {
            node(e.arg(i), kOr);
            if (i > 0) text(", ");
        }
        text("(");
        text(info.spelling);
    }

    /// Text that is not a literal: kept alive in `strings_` until the end.
    void out_pending(std::string s) {
        strings_.push_back(std::move(s));
        text(strings_.back());
    }

    std::vector<Task> todo_;
    std::deque<std::string> strings_;  // stable addresses for the views in todo_
    std::string out_;
};

}  // namespace

std::string to_string(const Expr& e) { return Printer().print(e); }

std::string to_string(const Formula& f) {
    bool defaults = false;
    for (const ParamDecl& p : f.params) defaults = defaults || p.default_value.has_value();
    std::string body = to_string(f.body);
    if (f.name.empty() && !defaults) return body;
    std::string sig = fmt::format("{}(x", f.name.empty() ? "f" : f.name);
    for (std::size_t i = 0; i < f.params.size(); ++i) {
        const ParamDecl& p = f.params[i];
        sig += i == 0 ? "; " : ", ";
        sig += p.name;
        if (p.default_value) fmt::format_to(std::back_inserter(sig), "={}", *p.default_value);
    }
    return sig + ") = " + body;
}

}  // namespace actjit
