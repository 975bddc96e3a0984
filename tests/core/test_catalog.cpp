// The built-in catalog: every entry of ../shared/ACTIVATIONS.md, with the
// formulas, parameters and defaults decided in docs/CATALOG.md.
#include <actjit/build.hpp>
#include <actjit/catalog.hpp>
#include <actjit/eval.hpp>
#include <actjit/formula.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace actjit;

namespace {

struct Row {
    const char* name;
    const char* formula;
    std::vector<CatalogParam> params;
    const char* source;
};

// The table, written out again independently of src/catalog.cpp.
const std::vector<Row>& table() {
    static const std::vector<Row> rows = {
        {"prepu", "relu(x)^(softsign(s) + 1)", {{"s", 0, true, true}}, "prepu_notebook.txt"},
        {"expolu", "where(x < -b, 0, where(x < b, (x + b)^p / a, x + (2*b)^p / a - b))",
         {{"a", 1, false, false}, {"b", 1, false, false}, {"p", 2, false, false}}, "expolu_post.txt"},
        {"powerlu", "where(x < -1, 0, where(x < 1, (x + 1)^k / 2^k, x))", {{"k", 4, false, false}}, "expolu_post.txt"},
        {"paralu", "where(x < -c, 0, where(x < c, (x + c)^2 / (4*c), x))", {{"c", 0.1, false, false}}, "expolu_post.txt"},
        {"quartlu", "where(x < -c, 0, where(x < c/3, (x + c)^4 * 27 / (256 * c^3), x))", {{"c", 0.1, false, false}},
         "expolu_post.txt"},
        {"silu", "x * sigmoid(x)", {}, "custom_activations_article.txt"},
        {"swish", "x * sigmoid(beta * x)", {{"beta", 1, false, false}}, "nonlinear_activation_notebook.txt"},
        {"soft_exponential",
         "where(alpha < 0, -log1p(-alpha * (x + alpha)) / alpha, where(alpha > 0, expm1(alpha * x) / alpha + alpha, "
         "x + alpha * (1 + x^2 / 2)))",
         {{"alpha", 0, true, false}}, "custom_activations_article.txt"},
        {"brelu", "where(mod(feature, 2) == 0, relu(x), -relu(-x))", {}, "custom_activations_article.txt"},
        {"mish", "x * tanh(softplus(x))", {}, "nonlinear_activation_notebook.txt"},
        {"relu", "relu(x)", {}, "pytorch"},
        {"leaky_relu", "where(x > 0, x, negative_slope * x)", {{"negative_slope", 0.01, false, false}}, "pytorch"},
        {"prelu", "where(x > 0, x, a * x)", {{"a", 0.25, true, false}}, "pytorch"},
        {"elu", "where(x > 0, x, alpha * expm1(x))", {{"alpha", 1, false, false}}, "pytorch"},
        {"selu", "scale * where(x > 0, x, alpha * expm1(x))",
         {{"scale", 1.0507009873554805, false, false}, {"alpha", 1.6732632423543772, false, false}}, "pytorch"},
        {"celu", "where(x > 0, x, alpha * expm1(x / alpha))", {{"alpha", 1, false, false}}, "pytorch"},
        {"gelu", "0.5 * x * (1 + erf(x * 0.7071067811865476))", {}, "pytorch"},
        {"gelu_tanh", "0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x^3)))", {}, "pytorch"},
        {"sigmoid", "sigmoid(x)", {}, "pytorch"},
        {"tanh", "tanh(x)", {}, "pytorch"},
        {"softsign", "softsign(x)", {}, "pytorch"},
        {"logsigmoid", "-softplus(-x)", {}, "pytorch"},
        {"hardtanh", "where(x <= min_val, min_val, where(x >= max_val, max_val, x))",
         {{"min_val", -1, false, false}, {"max_val", 1, false, false}}, "pytorch"},
        {"hardsigmoid", "where(x <= -3, 0, where(x >= 3, 1, x / 6 + 0.5))", {}, "pytorch"},
        {"hardswish", "where(x < -3, 0, where(x <= 3, x * (x + 3) / 6, x))", {}, "pytorch"},
        {"softplus", "where(beta * x > threshold, x, softplus(beta * x) / beta)",
         {{"beta", 1, false, false}, {"threshold", 20, false, false}}, "pytorch"},
        {"tanhshrink", "x - tanh(x)", {}, "pytorch"},
    };
    return rows;
}

/// The row's formula behind a signature declaring its parameters.
std::string with_signature(const Row& row) {
    std::string sig = "f(x";
    for (std::size_t i = 0; i < row.params.size(); ++i) sig += (i == 0 ? "; " : ", ") + row.params[i].name;
    return sig + ") = " + row.formula;
}

double eval_at(const Expr& e, double xv, const ParamValues& params = {}, std::int64_t feature = 0) {
    return evaluate(e, xv, params, feature);
}

}  // namespace

TEST_CASE("the catalog holds exactly the table, in order", "[catalog]") {
    std::span<const Activation> all = catalog();
    REQUIRE(all.size() == table().size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Activation& a = all[i];
        const Row& row = table()[i];
        INFO(a.name);
        CHECK(a.name == row.name);
        CHECK(a.source == row.source);
        CHECK_FALSE(a.summary.empty());
        CHECK(a.summary.find('\n') == std::string::npos);
        // Same formula, up to spacing: same parsed node.
        CHECK(activation_formula(a).body.same_as(parse_formula(with_signature(row)).body));
        REQUIRE(a.params.size() == row.params.size());
        for (std::size_t k = 0; k < a.params.size(); ++k) {
            CHECK(a.params[k].name == row.params[k].name);
            CHECK(a.params[k].default_value == row.params[k].default_value);
            CHECK(a.params[k].trainable == row.params[k].trainable);
            CHECK(a.params[k].per_feature == row.params[k].per_feature);
        }
        CHECK(find_activation(a.name) == &a);
    }
    // Seeds first, then the standard set.
    auto first_pytorch = std::find_if(all.begin(), all.end(), [](const Activation& a) { return a.source == "pytorch"; });
    CHECK(std::all_of(first_pytorch, all.end(), [](const Activation& a) { return a.source == "pytorch"; }));
    CHECK(first_pytorch - all.begin() == 10);
    CHECK(find_activation("nope") == nullptr);
    CHECK(find_activation("") == nullptr);
    CHECK(find_activation("PReLU") == nullptr);
}

TEST_CASE("every entry parses, with its parameters free and defaults recorded", "[catalog]") {
    for (const Activation& a : catalog()) {
        INFO(a.name);
        const Formula& f = activation_formula(a);
        CHECK(f.name == a.name);
        REQUIRE(f.params.size() == a.params.size());
        for (std::size_t k = 0; k < a.params.size(); ++k) CHECK(f.params[k] == ParamDecl{a.params[k].name, a.params[k].default_value});
        // The body uses exactly the declared parameters.
        std::vector<std::string> used = params_of(f.body);
        std::set<std::string> declared;
        for (const CatalogParam& p : a.params) declared.insert(p.name);
        CHECK(std::set<std::string>(used.begin(), used.end()) == declared);
        CHECK(uses_feature_index(f.body) == (a.name == "brelu"));
        // Cached: the same object every time.
        CHECK(&activation_formula(a) == &f);
        // The bare name is the entry.
        Formula bare = parse_formula(a.name);
        CHECK(bare.body.same_as(f.body));
        CHECK(bare.params == f.params);
    }
}

TEST_CASE("every entry round-trips through text", "[catalog][print]") {
    for (const Activation& a : catalog()) {
        INFO(a.name);
        const Formula& f = activation_formula(a);
        std::string text = to_string(f);
        Formula back = parse_formula(text);
        CHECK(back.name == a.name);
        CHECK(back.body.same_as(f.body));
        CHECK(back.params == f.params);
        CHECK(parse_expr(to_string(f.body)).same_as(f.body));
        // And called with defaults, the expansion round-trips too.
        Expr called = parse_expr(a.name + "(x)");
        CHECK(parse_expr(to_string(called)).same_as(called));
        CHECK(params_of(called).empty());
    }
    CHECK(to_string(activation_formula(*find_activation("expolu"))) ==
          "expolu(x; a=1, b=1, p=2) = where(x < -b, 0, where(x < b, (x + b)^p / a, x + (2 * b)^p / a - b))");
    CHECK(to_string(parse_expr("expolu(x)")) == "where(x < -1, 0, where(x < 1, (x + 1)^2 / 1, x + (2 * 1)^2 / 1 - 1))");
}

TEST_CASE("catalog calls: defaults, overrides and their values", "[catalog]") {
    const double xs[] = {-25, -3.5, -3, -1.2, -0.3, 0, 0.05, 0.7, 1, 2.5, 3, 19, 30};
    for (const Activation& a : catalog()) {
        INFO(a.name);
        const Formula& f = activation_formula(a);
        ParamValues defaults;
        for (const CatalogParam& p : a.params) defaults[p.name] = p.default_value;
        // softplus(x) is the builtin (a builtin of matching arity wins), so
        // call the entry with its first default given explicitly.
        std::string call_defaults = a.name + "(x";
        if (find_builtin(a.name) && !a.params.empty()) call_defaults += fmt::format(", {}", a.params[0].default_value);
        Expr called = parse_expr(call_defaults + ")");
        for (double xv : xs)
            for (std::int64_t feature : {0, 1}) {
                INFO("x = " << xv << ", feature = " << feature);
                double want = eval_at(f.body, xv, defaults, feature);
                double got = eval_at(called, xv, {}, feature);
                CHECK((got == want || (std::isnan(got) && std::isnan(want))));
            }
        // Overriding every parameter with a named parameter gives the body back.
        std::string call = a.name + "(x";
        for (const CatalogParam& p : a.params) call += ", " + p.name;
        CHECK(parse_expr(call + ")").same_as(f.body));
    }
    // Overrides are positional, in the table's order.
    Expr e = parse_expr("expolu(x, 2, 0.5, 3)");
    CHECK(eval_at(e, 0.25) == Approx(std::pow(0.75, 3) / 2));
    CHECK(eval_at(parse_expr("leaky_relu(x, 0.2)"), -1) == Approx(-0.2));
    CHECK(eval_at(parse_expr("hardtanh(x, -2)"), -1.5) == Approx(-1.5));
    CHECK(eval_at(parse_expr("hardtanh(x, -2)"), 1.5) == Approx(1));
    CHECK(eval_at(parse_expr("softplus(x, 2)"), 1) == Approx(1.0634640055214863));
    CHECK(eval_at(parse_expr("softplus(x, 1, 0.5)"), 1) == 1);
    CHECK(eval_at(parse_expr("swish(x, 0)"), 3) == Approx(1.5));
    CHECK(eval_at(parse_expr("prepu(x, t)"), 4, {{"t", 1}}) == Approx(std::pow(4, 1.5)));
}

TEST_CASE("catalog values match PyTorch's definitions", "[catalog]") {
    auto at = [](const char* name, double xv, const ParamValues& params = {}, std::int64_t feature = 0) {
        const Formula& f = activation_formula(*find_activation(name));
        ParamValues values;
        for (const ParamDecl& p : f.params) values[p.name] = *p.default_value;
        for (const auto& [k, v] : params) values[k] = v;
        return eval_at(f.body, xv, values, feature);
    };
    CHECK(at("gelu", 1) == Approx(0.8413447460685429).epsilon(1e-14));
    CHECK(at("gelu_tanh", 1) == Approx(0.8411919906082768).epsilon(1e-14));
    CHECK(at("selu", -1) == Approx(-1.1113307378125625).epsilon(1e-14));
    CHECK(at("elu", -1) == Approx(-0.6321205588285577).epsilon(1e-14));
    CHECK(at("celu", -1, {{"alpha", 2}}) == Approx(-0.7869386805747332).epsilon(1e-14));
    CHECK(at("softplus", 1) == Approx(1.3132616875182228).epsilon(1e-14));
    CHECK(at("softplus", 25) == 25);  // above the threshold: linear
    CHECK(at("mish", 1) == Approx(0.8650983882673103).epsilon(1e-14));
    CHECK(at("logsigmoid", -1) == Approx(-1.3132616875182228).epsilon(1e-14));
    CHECK(at("tanhshrink", 1) == Approx(0.23840584404423515).epsilon(1e-14));
    CHECK(at("silu", 1) == Approx(0.7310585786300049).epsilon(1e-14));
    CHECK(at("swish", 1) == Approx(0.7310585786300049).epsilon(1e-14));
    CHECK(at("sigmoid", 1) == Approx(0.7310585786300049).epsilon(1e-14));
    CHECK(at("leaky_relu", -2) == Approx(-0.02));
    CHECK(at("prelu", -2) == Approx(-0.5));
    CHECK(at("relu", -2) == 0);
    CHECK(at("hardtanh", -3) == -1);
    CHECK(at("hardtanh", 0.5) == 0.5);
    CHECK(at("hardsigmoid", 1) == Approx(2.0 / 3));
    CHECK(at("hardsigmoid", -4) == 0);
    CHECK(at("hardsigmoid", 4) == 1);
    CHECK(at("hardswish", 1) == Approx(2.0 / 3));
    CHECK(at("hardswish", 4) == 4);
    CHECK(at("hardswish", -4) == 0);
    CHECK(at("prepu", 2) == Approx(2));  // s = 0: exponent 1
    CHECK(at("prepu", -2) == 0);
    CHECK(at("expolu", 0) == Approx(1));
    CHECK(at("expolu", -1.5) == 0);
    CHECK(at("expolu", 2) == Approx(5));  // x + (2b)^p / a - b
    CHECK(at("powerlu", 0) == Approx(1.0 / 16));
    CHECK(at("paralu", 0) == Approx(0.025));
    CHECK(at("quartlu", 0.5) == 0.5);
    CHECK(at("soft_exponential", 1) == 1);
    CHECK(at("soft_exponential", 1, {{"alpha", 0.5}}) == Approx(1.7974425414002564).epsilon(1e-14));
    CHECK(at("soft_exponential", 1, {{"alpha", -0.5}}) == Approx(0.44628710262841953).epsilon(1e-14));
    CHECK(at("brelu", 2, {}, 0) == 2);
    CHECK(at("brelu", -2, {}, 0) == 0);
    CHECK(at("brelu", 2, {}, 1) == 0);
    CHECK(at("brelu", -2, {}, 1) == -2);
    CHECK(at("brelu", -2, {}, 3) == -2);
}

TEST_CASE("activation_formula is thread-safe and caches foreign entries", "[catalog]") {
    std::vector<std::thread> threads;
    std::vector<const Formula*> seen(4);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] { seen[t] = &activation_formula(catalog().back()); });
    for (auto& th : threads) th.join();
    CHECK(std::all_of(seen.begin(), seen.end(), [&](const Formula* f) { return f == seen[0]; }));

    Activation mine{"mine", "a * x^2", {{"a", 0.5, true, false}}, "test", "half a square"};
    const Formula& f = activation_formula(mine);
    CHECK(f.name == "mine");
    CHECK(f.body.same_as(parse_expr("a * x^2")));
    REQUIRE(f.params.size() == 1);
    CHECK(f.params[0] == ParamDecl{"a", 0.5});
    CHECK(&activation_formula(Activation(mine)) == &f);
    Activation bad{"bad", "x +", {}, "test", "broken"};
    CHECK_THROWS_AS(activation_formula(bad), FormulaError);
}

TEST_CASE("substitute replaces sub-expressions, raw or simplifying", "[catalog][substitute]") {
    Expr a = param("a"), b = param("b");
    Expr e = parse_expr("a * x + exp(a * x) - b");
    std::pair<Expr, Expr> raw_repl[] = {{a, constant(2)}};
    Expr raw = substitute(e, raw_repl, false);
    CHECK(raw.same_as(parse_expr("2 * x + exp(2 * x) - b")));
    // A whole sub-expression can be replaced; shared nodes are rebuilt once.
    std::pair<Expr, Expr> sub_repl[] = {{parse_expr("a * x"), param("t")}};
    CHECK(substitute(e, sub_repl, false).same_as(parse_expr("t + exp(t) - b")));
    // Nothing to replace: the same node back.
    std::pair<Expr, Expr> none[] = {{param("zz"), constant(1)}};
    CHECK(substitute(e, none, false).same_as(e));
    CHECK(substitute(e, none, true).same_as(e));
    // The root itself.
    std::pair<Expr, Expr> root[] = {{e, input()}};
    CHECK(substitute(e, root, false).same_as(input()));
    // Simplifying: a + 0 and a * 1 disappear.
    std::pair<Expr, Expr> zero[] = {{b, constant(0)}, {a, constant(1)}};
    Expr s = substitute(e, zero, true);
    CHECK(dag_size(s) < dag_size(substitute(e, zero, false)));
    CHECK(evaluate(s, 0.3) == Approx(0.3 + std::exp(0.3)));
    // Deep expressions: no recursion.
    Expr deep = input();
    for (std::uint32_t i = 1; i < kMaxExprDepth; ++i) deep = make(Op::Sin, {deep});
    std::pair<Expr, Expr> x_to_a[] = {{input(), a}};
    Expr swapped = substitute(deep, x_to_a, false);
    CHECK(swapped.depth() == kMaxExprDepth);
    CHECK(params_of(swapped) == std::vector<std::string>{"a"});
    // Raw substitution can make a too-deep expression: a LimitError, no crash.
    std::pair<Expr, Expr> x_to_deep[] = {{input(), make(Op::Neg, {input()})}};
    CHECK_THROWS_AS(substitute(deep, x_to_deep, false), LimitError);
}
