// The built-in catalog: the seeds' activations and PyTorch's standard set.
// Formulas, defaults and kink conventions: docs/CATALOG.md.
#include <actjit/catalog.hpp>

#include <fmt/format.h>

#include <deque>
#include <mutex>
#include <vector>

namespace actjit {

namespace detail {
Formula parse_catalog_body(std::string_view text);  // parse.cpp
}

namespace {

CatalogParam fixed(std::string name, double v) { return {std::move(name), v, false, false}; }
CatalogParam trainable(std::string name, double v, bool per_feature) { return {std::move(name), v, true, per_feature}; }

std::vector<Activation> make_catalog() {
    const std::string pytorch = "pytorch";
    return {
        // ---- From the seeds ----
        {"prepu", "relu(x)^(softsign(s) + 1)", {trainable("s", 0, true)}, "prepu_notebook.txt",
         "power of relu with a trainable exponent softsign(s) + 1 in (0, 2)"},
        {"expolu", "where(x < -b, 0, where(x < b, (x + b)^p / a, x + (2*b)^p / a - b))",
         {fixed("a", 1), fixed("b", 1), fixed("p", 2)}, "expolu_post.txt",
         "zero, then a power ramp (x + b)^p / a on [-b, b), then linear"},
        {"powerlu", "where(x < -1, 0, where(x < 1, (x + 1)^k / 2^k, x))", {fixed("k", 4)}, "expolu_post.txt",
         "zero, then ((x + 1) / 2)^k on [-1, 1), then identity"},
        {"paralu", "where(x < -c, 0, where(x < c, (x + c)^2 / (4*c), x))", {fixed("c", 0.1)}, "expolu_post.txt",
         "relu with a parabolic blend on [-c, c); continuously differentiable"},
        {"quartlu", "where(x < -c, 0, where(x < c/3, (x + c)^4 * 27 / (256 * c^3), x))", {fixed("c", 0.1)},
         "expolu_post.txt", "relu with a quartic blend on [-c, c/3); continuously differentiable"},
        {"silu", "x * sigmoid(x)", {}, "custom_activations_article.txt", "x * sigmoid(x) (sigmoid-weighted linear unit)"},
        {"swish", "x * sigmoid(beta * x)", {fixed("beta", 1)}, "nonlinear_activation_notebook.txt",
         "x * sigmoid(beta * x); silu when beta = 1"},
        {"soft_exponential",
         "where(alpha < 0, -log1p(-alpha * (x + alpha)) / alpha, where(alpha > 0, expm1(alpha * x) / alpha + alpha, "
         "x + alpha * (1 + x^2 / 2)))",
         {trainable("alpha", 0, false)}, "custom_activations_article.txt",
         "logarithmic (alpha < 0), identity (alpha = 0) or exponential (alpha > 0) with a trainable alpha"},
        {"brelu", "where(mod(feature, 2) == 0, relu(x), -relu(-x))", {}, "custom_activations_article.txt",
         "bipolar relu: relu(x) on even features, -relu(-x) on odd ones"},
        {"mish", "x * tanh(softplus(x))", {}, "nonlinear_activation_notebook.txt", "x * tanh(softplus(x))"},
        // ---- PyTorch's standard set ----
        {"relu", "relu(x)", {}, pytorch, "max(x, 0); gradient 0 at 0"},
        {"leaky_relu", "where(x > 0, x, negative_slope * x)", {fixed("negative_slope", 0.01)}, pytorch,
         "x for x > 0, else negative_slope * x"},
        {"prelu", "where(x > 0, x, a * x)", {trainable("a", 0.25, false)}, pytorch,
         "leaky relu with a trainable slope a (one shared value)"},
        {"elu", "where(x > 0, x, alpha * expm1(x))", {fixed("alpha", 1)}, pytorch, "x for x > 0, else alpha * (exp(x) - 1)"},
        {"selu", "scale * where(x > 0, x, alpha * expm1(x))",
         {fixed("scale", 1.0507009873554805), fixed("alpha", 1.6732632423543772)}, pytorch,
         "scaled elu with the self-normalizing constants"},
        {"celu", "where(x > 0, x, alpha * expm1(x / alpha))", {fixed("alpha", 1)}, pytorch,
         "x for x > 0, else alpha * (exp(x / alpha) - 1)"},
        {"gelu", "0.5 * x * (1 + erf(x * 0.7071067811865476))", {}, pytorch, "x * Phi(x), the exact (erf) form"},
        {"gelu_tanh", "0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x^3)))", {}, pytorch,
         "gelu's tanh approximation (approximate='tanh')"},
        {"sigmoid", "sigmoid(x)", {}, pytorch, "1 / (1 + exp(-x))"},
        {"tanh", "tanh(x)", {}, pytorch, "hyperbolic tangent"},
        {"softsign", "softsign(x)", {}, pytorch, "x / (1 + |x|)"},
        {"logsigmoid", "-softplus(-x)", {}, pytorch, "log(sigmoid(x)), computed stably"},
        {"hardtanh", "where(x <= min_val, min_val, where(x >= max_val, max_val, x))",
         {fixed("min_val", -1), fixed("max_val", 1)}, pytorch, "x clipped to [min_val, max_val]; gradient 0 at the bounds"},
        {"hardsigmoid", "where(x <= -3, 0, where(x >= 3, 1, x / 6 + 0.5))", {}, pytorch,
         "piecewise-linear sigmoid: 0, x / 6 + 1/2, 1; gradient 0 at -3 and 3"},
        {"hardswish", "where(x < -3, 0, where(x <= 3, x * (x + 3) / 6, x))", {}, pytorch,
         "x * hardsigmoid(x); gradient -1/2 at -3 and 3/2 at 3"},
        {"softplus", "where(beta * x > threshold, x, softplus(beta * x) / beta)",
         {fixed("beta", 1), fixed("threshold", 20)}, pytorch, "log(1 + exp(beta * x)) / beta, linear above threshold"},
        {"tanhshrink", "x - tanh(x)", {}, pytorch, "x - tanh(x)"},
    };
}

const std::vector<Activation>& entries() {
    static const std::vector<Activation> all = make_catalog();
    return all;
}

/// An entry's formula: its body parsed (builtins only), its parameters in the
/// entry's order with their defaults.
Formula parse_entry(const Activation& a) {
    Formula f = detail::parse_catalog_body(a.formula);
    f.name = a.name;
    f.params.clear();
    for (const CatalogParam& p : a.params) f.params.push_back({p.name, p.default_value});
    return f;
}

}  // namespace

std::span<const Activation> catalog() { return entries(); }

const Activation* find_activation(std::string_view name) {
    for (const Activation& a : entries())
        if (a.name == name) return &a;
    return nullptr;
}

const Formula& activation_formula(const Activation& a) {
    // The catalog's own entries: parsed once, all together (thread-safe
    // static initialization). Their bodies call builtins only, so parsing
    // them never comes back here.
    static const std::vector<Formula> parsed = [] {
        std::vector<Formula> v;
        for (const Activation& e : entries()) v.push_back(parse_entry(e));
        return v;
    }();
    const std::vector<Activation>& all = entries();
    if (&a >= all.data() && &a < all.data() + all.size()) return parsed[static_cast<std::size_t>(&a - all.data())];

    // An Activation made by the caller: parsed on first use, kept for good.
    static std::mutex mutex;
    static std::deque<std::pair<Activation, Formula>> others;
    std::lock_guard lock(mutex);
    for (const auto& [act, f] : others)
        if (act.name == a.name && act.formula == a.formula && act.params.size() == a.params.size()) {
            bool same = true;
            for (std::size_t i = 0; i < a.params.size(); ++i)
                same = same && act.params[i].name == a.params[i].name && act.params[i].default_value == a.params[i].default_value;
            if (same) return f;
        }
    Formula f = parse_entry(a);
    others.emplace_back(a, std::move(f));
    return others.back().second;
}

}  // namespace actjit
