#include "lower.hpp"

#include <actjit/build.hpp>
#include <actjit/diff.hpp>
#include <actjit/formula.hpp>

#include <fmt/format.h>

#include <utility>

namespace actjit::jit {

LoweredKernel lower(const KernelSpec& spec) {
    spec.validate();
    if (!spec.formula.body) throw ValueError("jit: the formula has no body");

    LoweredKernel k;
    k.dtype = spec.dtype;

    // Fixed parameters become constants, so `expolu` with p = 2 is a multiply.
    std::vector<std::pair<Expr, Expr>> fixed;
    for (const ParamBinding& b : spec.params) {
        if (b.kind != ParamKind::Fixed) continue;
        if (b.trainable) throw ValueError(fmt::format("jit: parameter '{}' is fixed, so it cannot be trainable", b.name));
        fixed.emplace_back(param(b.name), constant(b.value));  // ValueError if not finite
    }
    k.f = fixed.empty() ? simplify(spec.formula.body) : substitute(spec.formula.body, fixed, true);
    k.dfdx = diff(k.f, input());

    const auto runtime = spec.runtime_params();
    for (const ParamBinding* b : runtime) k.runtime.push_back({b->name, b->kind == ParamKind::PerFeature});
    // A Formula built by hand may use a parameter its `params` list lacks.
    for (const std::string& name : params_of(k.f)) {
        bool bound = false;
        for (const ParamBinding* b : runtime) bound = bound || b->name == name;
        if (!bound)
            throw ValueError(fmt::format("jit: parameter '{}' is used by the formula but has no binding", name));
    }
    for (const ParamBinding* t : spec.trainable_params()) {
        int slot = -1;
        for (std::size_t i = 0; i < runtime.size(); ++i)
            if (runtime[i]->name == t->name) slot = static_cast<int>(i);
        ACTJIT_ASSERT(slot >= 0, "trainable parameter '" + t->name + "' has no runtime slot");
        k.grads.push_back({slot, t->kind == ParamKind::PerFeature, diff(k.f, param(t->name))});
    }

    k.canonical = fmt::format("{} | {}", k.dtype == DType::f32 ? "f32" : "f64", to_string(k.f));
    for (const auto& r : k.runtime) {
        bool trainable = false;
        for (const auto& g : k.grads) trainable |= k.runtime[static_cast<std::size_t>(g.slot)].name == r.name;
        k.canonical += fmt::format(" | {}:{}{}", r.name, r.per_feature ? "per-feature" : "shared",
                                   trainable ? ",trainable" : "");
    }
    return k;
}

bool needs_columns(const LoweredKernel& k, std::span<const Expr> roots) {
    bool needs = false;
    for_each_node_postorder(roots, [&](const Expr& e) {
        if (e.op() == Op::Feature) needs = true;
        if (e.op() == Op::Param)
            for (const auto& r : k.runtime)
                if (r.per_feature && r.name == e.name()) needs = true;
    });
    return needs;
}

std::vector<Expr> forward_roots(const LoweredKernel& k) { return {k.f}; }

std::vector<Expr> backward_roots(const LoweredKernel& k) {
    std::vector<Expr> roots{k.dfdx};
    for (const auto& g : k.grads) roots.push_back(g.expr);
    return roots;
}

bool forward_needs_columns(const LoweredKernel& k) { return needs_columns(k, forward_roots(k)); }

bool backward_needs_columns(const LoweredKernel& k) {
    for (const auto& g : k.grads)
        if (g.per_feature) return true;
    return needs_columns(k, backward_roots(k));
}

}  // namespace actjit::jit
