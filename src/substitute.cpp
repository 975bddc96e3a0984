// substitute(): replace sub-expressions, memoized over the DAG, iteratively.
#include <actjit/build.hpp>

#include <unordered_map>
#include <vector>

namespace actjit {

Expr substitute(const Expr& e, std::span<const std::pair<Expr, Expr>> replacements, bool simplifying) {
    ACTJIT_ASSERT(e, "substitute() on a null expression");
    std::unordered_map<const Node*, Expr> done;  // node -> its replacement
    for (const auto& [from, to] : replacements) {
        ACTJIT_ASSERT(from && to, "null expression in a substitution");
        done.emplace(from.get(), to);  // the first replacement of a node wins
    }
    if (auto it = done.find(e.get()); it != done.end()) return it->second;

    // Post-order walk that does not descend into nodes already decided (the
    // replaced ones and shared ones already rebuilt).
    struct Frame {
        const Expr* expr;
        int next;
    };
    std::vector<Frame> stack{{&e, 0}};
    while (!stack.empty()) {
        Frame& f = stack.back();
        const Expr& n = *f.expr;
        if (f.next < n.num_args()) {
            const Expr& child = n.arg(f.next++);
            if (!done.count(child.get())) stack.push_back({&child, 0});
            continue;
        }
        stack.pop_back();
        if (done.count(n.get())) continue;  // reached twice before being finished
        Expr args[3];
        bool changed = false;
        for (int i = 0; i < n.num_args(); ++i) {
            args[i] = done.at(n.arg(i).get());
            changed = changed || !args[i].same_as(n.arg(i));
        }
        std::span<const Expr> new_args(args, static_cast<std::size_t>(n.num_args()));
        // Only nodes whose operands changed are rebuilt; the rest stay as they are.
        Expr r = !changed ? n : simplifying ? build(n.op(), new_args) : make(n.op(), new_args);
        done.emplace(n.get(), std::move(r));
    }
    return done.at(e.get());
}

}  // namespace actjit
