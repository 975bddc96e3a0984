// The expression IR: immutable, hash-consed nodes in a DAG.
//
// Structurally equal expressions are the same node (same address), so equality
// is a pointer comparison and common sub-expressions are shared by
// construction. Nodes are reference counted; a node is freed, and removed from
// the intern table, when its last Expr handle goes.
//
// Thread safety: Expr handles may be created, copied and destroyed from any
// number of threads at once (the intern table is guarded by a mutex, counts are
// atomic). A node never changes after it is made.
#pragma once

#include <actjit/error.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace actjit {

enum class Op : std::uint8_t {
#define ACTJIT_OP(name, spelling, arity, kind) name,
#include <actjit/ops.def>
#undef ACTJIT_OP
};

enum class OpKind : std::uint8_t { Leaf, Infix, Prefix, Call };

inline constexpr int kNumOps = 0
#define ACTJIT_OP(name, spelling, arity, kind) +1
#include <actjit/ops.def>
#undef ACTJIT_OP
    ;

/// Static facts about an operation, from ops.def.
struct OpInfo {
    Op op;
    std::string_view name;      // enum name, e.g. "Exp"
    std::string_view spelling;  // how it is written, e.g. "exp", "+", "and"
    int arity;
    OpKind kind;
};

const OpInfo& op_info(Op op) noexcept;
/// The builtin called `name` in formulas (Call kind ops, plus "pow"), if any.
const OpInfo* find_builtin(std::string_view name) noexcept;

/// Limits that keep every recursive algorithm well inside the stack.
inline constexpr std::uint32_t kMaxExprDepth = 4096;

class Expr;
struct Node;

namespace detail {
void release(const Node* n) noexcept;
}

/// A value-like handle to a node. Cheap to copy. Never null once made by one of
/// the factory functions; a default-constructed Expr is null (`!e`).
class Expr {
public:
    Expr() noexcept = default;
    Expr(const Expr& o) noexcept;
    Expr(Expr&& o) noexcept : n_(o.n_) { o.n_ = nullptr; }
    Expr& operator=(const Expr& o) noexcept;
    Expr& operator=(Expr&& o) noexcept;
    ~Expr() { if (n_) detail::release(n_); }

    explicit operator bool() const noexcept { return n_ != nullptr; }
    const Node* get() const noexcept { return n_; }
    const Node* operator->() const noexcept { return n_; }
    const Node& operator*() const noexcept { return *n_; }

    // Convenience accessors (the node must not be null).
    Op op() const noexcept;
    int num_args() const noexcept;
    const Expr& arg(int i) const noexcept;
    std::span<const Expr> args() const noexcept;
    bool is_const() const noexcept;
    bool is_const(double v) const noexcept;  // a constant equal to v
    double value() const noexcept;           // Const only
    const std::string& name() const noexcept;  // Param only
    std::uint32_t depth() const noexcept;
    std::size_t hash() const noexcept;

    /// Same node (hash-consing makes this structural equality).
    bool same_as(const Expr& o) const noexcept { return n_ == o.n_; }
    friend bool operator==(const Expr& a, const Expr& b) noexcept { return a.n_ == b.n_; }

    /// Adopt a node whose count was already incremented for this handle.
    static Expr adopt(const Node* n) noexcept { Expr e; e.n_ = n; return e; }

private:
    const Node* n_ = nullptr;
};

struct Node {
    Op op;
    std::uint8_t num_args;
    std::uint32_t depth;      // 1 for leaves
    std::size_t hash;
    double value;             // Const: the value (always finite); else 0
    std::string name;         // Param: the name; else empty
    Expr args[3];
    mutable std::atomic<std::int64_t> refs{0};
};

inline Expr::Expr(const Expr& o) noexcept : n_(o.n_) {
    if (n_) n_->refs.fetch_add(1, std::memory_order_relaxed);
}
inline Expr& Expr::operator=(const Expr& o) noexcept {
    if (o.n_) o.n_->refs.fetch_add(1, std::memory_order_relaxed);
    if (n_) detail::release(n_);
    n_ = o.n_;
    return *this;
}
inline Expr& Expr::operator=(Expr&& o) noexcept {
    if (this != &o) {
        if (n_) detail::release(n_);
        n_ = o.n_;
        o.n_ = nullptr;
    }
    return *this;
}
inline Op Expr::op() const noexcept { return n_->op; }
inline int Expr::num_args() const noexcept { return n_->num_args; }
inline const Expr& Expr::arg(int i) const noexcept { return n_->args[i]; }
inline std::span<const Expr> Expr::args() const noexcept { return {n_->args, n_->num_args}; }
inline bool Expr::is_const() const noexcept { return n_->op == Op::Const; }
inline bool Expr::is_const(double v) const noexcept { return n_->op == Op::Const && n_->value == v; }
inline double Expr::value() const noexcept { return n_->value; }
inline const std::string& Expr::name() const noexcept { return n_->name; }
inline std::uint32_t Expr::depth() const noexcept { return n_->depth; }
inline std::size_t Expr::hash() const noexcept { return n_->hash; }

struct ExprHash {
    std::size_t operator()(const Expr& e) const noexcept { return e.hash(); }
};

// ---- Raw factories: build exactly the node asked for (no simplification). ----
// They validate: arity, non-null operands, finite constants, a valid parameter
// name, depth <= kMaxExprDepth (else LimitError).

Expr constant(double v);          // ValueError if v is not finite
Expr input();                     // x
Expr param(std::string_view name);  // a named parameter
Expr feature_index();             // the column index of the element, 0-based
Expr make(Op op, std::initializer_list<Expr> args);
Expr make(Op op, std::span<const Expr> args);

/// The node with the same op (and value/name) as `e` and new operands.
/// Returns `e` itself when every operand is the same node.
Expr with_args(const Expr& e, std::span<const Expr> args);

/// Number of distinct nodes reachable from the roots (DAG size).
std::size_t dag_size(std::span<const Expr> roots);
inline std::size_t dag_size(const Expr& e) { return dag_size(std::span<const Expr>(&e, 1)); }

/// Visit every distinct node reachable from the roots, operands before users
/// (topological order). Iterative: safe for deep expressions.
void for_each_node_postorder(std::span<const Expr> roots, const std::function<void(const Expr&)>& visit);

/// Parameter names in order of first appearance (depth-first, left to right).
std::vector<std::string> params_of(const Expr& e);
bool depends_on(const Expr& e, const Expr& leaf);
bool uses_feature_index(const Expr& e);

/// Number of live nodes in the intern table (for tests of memory bounds).
std::size_t live_node_count() noexcept;

}  // namespace actjit
