// Node construction, hash-consing and reference counting.
#include <actjit/expr.hpp>

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace actjit {

namespace {

constexpr std::array<OpInfo, kNumOps> kOpTable = {{
#define ACTJIT_OP(name, spelling, arity, kind) {Op::name, #name, spelling, arity, OpKind::kind},
#include <actjit/ops.def>
#undef ACTJIT_OP
}};

std::size_t mix(std::size_t h, std::size_t v) noexcept {
    // boost::hash_combine's mixing step, widened to 64 bits.
    return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 12) + (h >> 4));
}

/// Key identifying a node's structure: op, value bits, name, operand nodes.
struct NodeKey {
    const Node* node;
};

bool same_structure(const Node& a, const Node& b) noexcept {
    if (a.op != b.op || a.num_args != b.num_args) return false;
    if (std::bit_cast<std::uint64_t>(a.value) != std::bit_cast<std::uint64_t>(b.value)) return false;
    if (a.name != b.name) return false;
    for (int i = 0; i < a.num_args; ++i)
        if (a.args[i].get() != b.args[i].get()) return false;
    return true;
}

struct KeyHash {
    std::size_t operator()(const NodeKey& k) const noexcept { return k.node->hash; }
};
struct KeyEq {
    bool operator()(const NodeKey& a, const NodeKey& b) const noexcept { return same_structure(*a.node, *b.node); }
};

/// The intern table. Every count change that may reach zero happens under its
/// mutex, and look-ups increment under it too, so a node found in the table can
/// never be one that is being freed.
struct InternTable {
    std::mutex mutex;
    std::unordered_set<NodeKey, KeyHash, KeyEq> nodes;
};

InternTable& table() {
    static InternTable* t = new InternTable;  // never destroyed: Exprs may outlive static destruction
    return *t;
}

Expr intern(Node&& proto) {
    proto.hash = mix(mix(static_cast<std::size_t>(proto.op), std::hash<std::uint64_t>{}(std::bit_cast<std::uint64_t>(proto.value))),
                     std::hash<std::string>{}(proto.name));
    std::uint32_t depth = 0;
    for (int i = 0; i < proto.num_args; ++i) {
        proto.hash = mix(proto.hash, std::hash<const void*>{}(proto.args[i].get()));
        depth = std::max(depth, proto.args[i].depth());
    }
    proto.depth = depth + 1;
    if (proto.depth > kMaxExprDepth)
        throw LimitError(fmt::format("expression too deep: more than {} levels of nesting", kMaxExprDepth));

    InternTable& t = table();
    std::lock_guard lock(t.mutex);
    if (auto it = t.nodes.find(NodeKey{&proto}); it != t.nodes.end()) {
        it->node->refs.fetch_add(1, std::memory_order_relaxed);
        return Expr::adopt(it->node);
    }
    auto* n = new Node{proto.op, proto.num_args, proto.depth, proto.hash, proto.value, std::move(proto.name),
                       {std::move(proto.args[0]), std::move(proto.args[1]), std::move(proto.args[2])}};
    n->refs.store(1, std::memory_order_relaxed);
    t.nodes.insert(NodeKey{n});
    return Expr::adopt(n);
}

bool valid_param_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

}  // namespace

void internal_error(const char* condition, const char* file, int line, const std::string& detail) {
    throw InternalError(fmt::format("internal error: {} ({}:{}){}{}", condition, file, line, detail.empty() ? "" : ": ", detail));
}

namespace detail {

// Nodes that a release on this thread has still to drop. Freeing a node
// releases its operands, which may free them in turn; queuing them here instead
// of recursing keeps deep expressions from overflowing the stack.
thread_local std::vector<const Node*>* tl_pending = nullptr;

void release(const Node* n) noexcept {
    // Fast path: not the last handle.
    std::int64_t c = n->refs.load(std::memory_order_relaxed);
    while (c > 1) {
        if (n->refs.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel)) return;
    }
    if (tl_pending) {  // inside an outer release: let it drop this one
        tl_pending->push_back(n);
        return;
    }
    std::vector<const Node*> pending{n};
    tl_pending = &pending;
    while (!pending.empty()) {
        const Node* m = pending.back();
        pending.pop_back();
        bool last = false;
        {
            // Possibly the last handle: decide under the table's mutex, where
            // look-ups take their counts, so no look-up can revive it.
            InternTable& t = table();
            std::lock_guard lock(t.mutex);
            if (m->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                t.nodes.erase(NodeKey{m});
                last = true;
            }
        }
        if (last) delete m;  // its operands' handles queue themselves on `pending`
    }
    tl_pending = nullptr;
}

}  // namespace detail

const OpInfo& op_info(Op op) noexcept { return kOpTable[static_cast<std::size_t>(op)]; }

const OpInfo* find_builtin(std::string_view name) noexcept {
    if (name == "pow") return &op_info(Op::Pow);
    for (const OpInfo& info : kOpTable)
        if (info.kind == OpKind::Call && info.spelling == name) return &info;
    return nullptr;
}

Expr constant(double v) {
    if (!std::isfinite(v)) throw ValueError(fmt::format("constant {} is not a finite number", v));
    Node proto{Op::Const, 0, 0, 0, v, {}, {}};
    return intern(std::move(proto));
}

Expr input() {
    static const Expr x = [] { Node proto{Op::Input, 0, 0, 0, 0.0, {}, {}}; return intern(std::move(proto)); }();
    return x;
}

Expr feature_index() {
    static const Expr f = [] { Node proto{Op::Feature, 0, 0, 0, 0.0, {}, {}}; return intern(std::move(proto)); }();
    return f;
}

Expr param(std::string_view name) {
    if (!valid_param_name(name))
        throw ValueError(fmt::format("'{}' is not a valid parameter name (letters, digits and '_', at most 64)", name));
    Node proto{Op::Param, 0, 0, 0, 0.0, std::string(name), {}};
    return intern(std::move(proto));
}

Expr make(Op op, std::span<const Expr> args) {
    const OpInfo& info = op_info(op);
    ACTJIT_ASSERT(info.kind != OpKind::Leaf, fmt::format("make() cannot build leaf '{}'", info.name));
    ACTJIT_ASSERT(static_cast<int>(args.size()) == info.arity,
                  fmt::format("'{}' takes {} operands, got {}", info.name, info.arity, args.size()));
    Node proto{op, static_cast<std::uint8_t>(args.size()), 0, 0, 0.0, {}, {}};
    for (std::size_t i = 0; i < args.size(); ++i) {
        ACTJIT_ASSERT(args[i], "null operand");
        proto.args[i] = args[i];
    }
    return intern(std::move(proto));
}

Expr make(Op op, std::initializer_list<Expr> args) { return make(op, std::span<const Expr>(args.begin(), args.size())); }

Expr with_args(const Expr& e, std::span<const Expr> args) {
    ACTJIT_ASSERT(static_cast<int>(args.size()) == e.num_args());
    bool same = true;
    for (std::size_t i = 0; i < args.size(); ++i) same = same && args[i].same_as(e.arg(static_cast<int>(i)));
    if (same) return e;
    return make(e.op(), args);
}

void for_each_node_postorder(std::span<const Expr> roots, const std::function<void(const Expr&)>& visit) {
    std::unordered_set<const Node*> seen;
    struct Frame { const Expr* e; int next; };
    std::vector<Frame> stack;
    for (const Expr& root : roots) {
        if (!root || seen.count(root.get())) continue;
        stack.push_back({&root, 0});
        seen.insert(root.get());
        while (!stack.empty()) {
            Frame& f = stack.back();
            if (f.next < f.e->num_args()) {
                const Expr& child = f.e->arg(f.next++);
                if (seen.insert(child.get()).second) stack.push_back({&child, 0});
            } else {
                const Expr* e = f.e;
                stack.pop_back();
                visit(*e);
            }
        }
    }
}

std::size_t dag_size(std::span<const Expr> roots) {
    std::size_t n = 0;
    for_each_node_postorder(roots, [&](const Expr&) { ++n; });
    return n;
}

std::vector<std::string> params_of(const Expr& e) {
    std::vector<std::string> names;
    std::unordered_set<std::string> have;
    for_each_node_postorder(std::span<const Expr>(&e, 1), [&](const Expr& n) {
        if (n.op() == Op::Param && have.insert(n.name()).second) names.push_back(n.name());
    });
    return names;
}

bool depends_on(const Expr& e, const Expr& leaf) {
    bool found = false;
    for_each_node_postorder(std::span<const Expr>(&e, 1), [&](const Expr& n) { found = found || n.same_as(leaf); });
    return found;
}

bool uses_feature_index(const Expr& e) { return depends_on(e, feature_index()); }

std::size_t live_node_count() noexcept {
    InternTable& t = table();
    std::lock_guard lock(t.mutex);
    return t.nodes.size();
}

}  // namespace actjit
