// The built-in catalog (docs/ACTIVATIONS.md) as DSL expressions, written as
// the catalog's formulas are, so to_expr(catalog::expolu<>) is the body of
// the runtime's "expolu" entry.
//
// An activation with parameters is a variable template whose arguments are
// expressions, defaulting to the parameters themselves:
//   catalog::expolu<>                 parameters a, b, p free
//   catalog::expolu<1_c, 1_c, 3_c>    fixed values (constants in the type)
//   catalog::prepu<param<"slope">>    renamed
// Parameterless ones are plain objects: catalog::silu, catalog::mish.
//
// They live in actjit::dsl::catalog rather than actjit::dsl so that
// `using namespace actjit::dsl;` does not take the names silu, prepu,... from
// the user (who may well write their own prepu, as docs/DSL.md does).
#pragma once

#include <actjit/catalog.hpp>
#include <actjit/dsl/lower.hpp>

namespace actjit::dsl::catalog {

// ---- From the seeds ----------------------------------------------------------------

template <auto s = param<"s">>
inline constexpr auto prepu = pow(dsl::relu(x), dsl::softsign(s) + 1_c);

template <auto a = param<"a">, auto b = param<"b">, auto p = param<"p">>
inline constexpr auto expolu = where(x < -b, 0_c, where(x < b, pow(x + b, p) / a, x + pow(2_c * b, p) / a - b));

template <auto k = param<"k">>
inline constexpr auto powerlu = where(x < -1_c, 0_c, where(x < 1_c, pow(x + 1_c, k) / pow(2_c, k), x));

template <auto c = param<"c">>
inline constexpr auto paralu = where(x < -c, 0_c, where(x < c, pow(x + c, 2_c) / (4_c * c), x));

template <auto c = param<"c">>
inline constexpr auto quartlu =
    where(x < -c, 0_c, where(x < c / 3_c, pow(x + c, 4_c) * 27_c / (256_c * pow(c, 3_c)), x));

inline constexpr auto silu = x * dsl::sigmoid(x);

template <auto beta = param<"beta">>
inline constexpr auto swish = x * dsl::sigmoid(beta * x);

template <auto alpha = param<"alpha">>
inline constexpr auto soft_exponential =
    where(alpha < 0_c, -log1p(-alpha * (x + alpha)) / alpha,
          where(alpha > 0_c, expm1(alpha * x) / alpha + alpha, x + alpha * (1_c + pow(x, 2_c) / 2_c)));

inline constexpr auto brelu = where(mod(feature, 2_c) == 0_c, dsl::relu(x), -dsl::relu(-x));

inline constexpr auto mish = x * dsl::tanh(dsl::softplus(x));

// ---- PyTorch's standard set ------------------------------------------------------------

inline constexpr auto relu = dsl::relu(x);

template <auto negative_slope = param<"negative_slope">>
inline constexpr auto leaky_relu = where(x > 0_c, x, negative_slope * x);

template <auto a = param<"a">>
inline constexpr auto prelu = where(x > 0_c, x, a * x);

template <auto alpha = param<"alpha">>
inline constexpr auto elu = where(x > 0_c, x, alpha * expm1(x));

template <auto scale = param<"scale">, auto alpha = param<"alpha">>
inline constexpr auto selu = scale * where(x > 0_c, x, alpha * expm1(x));

template <auto alpha = param<"alpha">>
inline constexpr auto celu = where(x > 0_c, x, alpha * expm1(x / alpha));

inline constexpr auto gelu = 0.5_c * x * (1_c + erf(x * 0.7071067811865476_c));

inline constexpr auto gelu_tanh = 0.5_c * x * (1_c + dsl::tanh(0.7978845608028654_c * (x + 0.044715_c * pow(x, 3_c))));

inline constexpr auto sigmoid = dsl::sigmoid(x);
inline constexpr auto tanh = dsl::tanh(x);
inline constexpr auto softsign = dsl::softsign(x);

inline constexpr auto logsigmoid = -dsl::softplus(-x);

template <auto min_val = param<"min_val">, auto max_val = param<"max_val">>
inline constexpr auto hardtanh = where(x <= min_val, min_val, where(x >= max_val, max_val, x));

inline constexpr auto hardsigmoid = where(x <= -3_c, 0_c, where(x >= 3_c, 1_c, x / 6_c + 0.5_c));

inline constexpr auto hardswish = where(x < -3_c, 0_c, where(x <= 3_c, x * (x + 3_c) / 6_c, x));

template <auto beta = param<"beta">, auto threshold = param<"threshold">>
inline constexpr auto softplus = where(beta * x > threshold, x, dsl::softplus(beta * x) / beta);

inline constexpr auto tanhshrink = x - dsl::tanh(x);

}  // namespace actjit::dsl::catalog

namespace actjit::dsl {

/// A KernelSpec for e bound as the runtime catalog binds the activation
/// `name` (trainable, per-feature or shared; others Fixed at their defaults),
/// with e's formula: e.g. catalog_spec(catalog::prepu<>, "prepu").
/// ValueError if there is no such entry or e's parameters differ from it.
template <expression E>
KernelSpec catalog_spec(E e, std::string_view name, DType dtype = DType::f32) {
    const Activation* a = find_activation(name);
    if (!a) throw ValueError("no catalog activation named '" + std::string(name) + "'");
    KernelSpec spec = KernelSpec::from_catalog(*a, dtype);
    std::vector<std::pair<std::string, double>> defaults;
    for (const CatalogParam& p : a->params) defaults.emplace_back(p.name, p.default_value);
    Formula f = to_formula(e, a->name, {});
    for (ParamDecl& decl : f.params)
        for (const auto& [n, v] : defaults)
            if (n == decl.name) decl.default_value = v;
    if (f.params.size() != spec.formula.params.size())
        throw ValueError("the expression's parameters differ from catalog entry '" + a->name + "'");
    // Bindings follow the formula's parameter order.
    std::vector<ParamBinding> bindings;
    for (const ParamDecl& decl : f.params) {
        auto it = std::find_if(spec.params.begin(), spec.params.end(),
                               [&](const ParamBinding& b) { return b.name == decl.name; });
        if (it == spec.params.end())
            throw ValueError("'" + decl.name + "' is not a parameter of catalog entry '" + a->name + "'");
        bindings.push_back(*it);
    }
    spec.formula = std::move(f);
    spec.params = std::move(bindings);
    spec.validate();
    return spec;
}

}  // namespace actjit::dsl
