// Lowering a DSL expression to the runtime: its actjit::Expr, its formula
// text, a KernelSpec, and JIT kernels.
//
//   Expr e        = to_expr(prepu);        // raw make(): the node parse_expr(to_string(prepu)) gives
//   std::string s = to_string(prepu);      // "relu(x) ^ (softsign(s) + 1)"
//   compile_options o;  o.values = {{"s", 0.5}};
//   Kernel k      = compile(prepu, o);     // or actjit::compile(prepu, o)
#pragma once

#include <actjit/dsl/eval.hpp>
#include <actjit/formula.hpp>
#include <actjit/jit.hpp>
#include <actjit/kernel.hpp>

#include <string>
#include <utility>
#include <vector>

namespace actjit::dsl {

/// The expression as an actjit::Expr, node for node as written (raw make(),
/// no simplification), so it is the same node the formula parser gives for
/// to_string(e).
template <expression E>
Expr to_expr(E) {
    using T = std::remove_cvref_t<E>;
    if constexpr (is_lit<T>) {
        return actjit::constant(T::value);
    } else if constexpr (std::is_same_v<T, input_t>) {
        return input();
    } else if constexpr (std::is_same_v<T, feature_t>) {
        return feature_index();
    } else if constexpr (is_param<T>) {
        return actjit::param(T::name);
    } else {
        return []<Op O, class... A>(node<O, A...>) { return make(O, {to_expr(A{})...}); }(T{});
    }
}

/// Formula text for e (the runtime printer's, which parses back to to_expr(e)).
template <expression E>
std::string to_string(E e) {
    return actjit::to_string(to_expr(e));
}

/// e as a Formula: body to_expr(e), parameters in order of first appearance,
/// with the defaults given (name, value) pairs, if any.
template <expression E>
Formula to_formula(E e, std::string name = {}, const std::vector<std::pair<std::string, double>>& defaults = {}) {
    Formula f;
    f.name = std::move(name);
    f.body = to_expr(e);
    for (std::string_view p : param_names(e)) {
        ParamDecl decl{std::string(p), std::nullopt};
        for (const auto& [n, v] : defaults)
            if (n == p) decl.default_value = v;
        f.params.push_back(std::move(decl));
    }
    for (const auto& [n, v] : defaults) {
        (void)v;
        if (!f.find_param(n)) throw ValueError("'" + n + "' is not a parameter of the expression");
    }
    return f;
}

struct compile_options {
    DType dtype = DType::f32;
    /// Values of parameters bound Fixed (folded into the kernel).
    std::vector<std::pair<std::string, double>> values;
    /// Bindings for every parameter, in param_names(e) order; when empty,
    /// every parameter is Fixed at its value in `values`.
    std::vector<ParamBinding> bindings;
    JitOptions jit;
};

/// The KernelSpec for e: the bindings given, else every parameter Fixed at
/// its value (ValueError naming a parameter with no value).
template <expression E>
KernelSpec kernel_spec(E e, const compile_options& options = {}) {
    if (options.bindings.empty()) return KernelSpec::fixed(to_formula(e), options.dtype, options.values);
    KernelSpec spec{to_formula(e), options.bindings, options.dtype};
    spec.validate();
    return spec;
}

/// JIT kernels for e: the same kernels the formula to_string(e) compiles to.
template <expression E>
Kernel compile(E e, const compile_options& options = {}) {
    return compile_jit(kernel_spec(e, options), options.jit);
}

}  // namespace actjit::dsl

namespace actjit {
/// actjit::compile(e, options) for a DSL expression e.
template <dsl::expression E>
Kernel compile(E e, const dsl::compile_options& options = {}) {
    return dsl::compile(e, options);
}
}  // namespace actjit
