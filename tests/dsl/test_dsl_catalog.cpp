// The whole catalog through the DSL: each entry is the runtime catalog's
// formula node for node, its DSL derivatives agree with actjit::diff and
// finite differences, its native values with the interpreter and the JIT,
// and its derivative types stay small.
#include "dsl_check.hpp"

#include <actjit/catalog.hpp>
#include <actjit/kernel.hpp>

#include <map>

using namespace actjit::dsl::literals;
using actjit::dsl::param;
using actjit::dsl::params;
namespace cat = actjit::dsl::catalog;
namespace dsl = actjit::dsl;

namespace {

/// f(name, expression, default parameter values) for every catalog entry.
template <class F>
void for_each_entry(F&& f) {
    f("prepu", cat::prepu<>, params(param<"s"> = 0.0));
    f("expolu", cat::expolu<>, params(param<"a"> = 1.0, param<"b"> = 1.0, param<"p"> = 2.0));
    f("powerlu", cat::powerlu<>, params(param<"k"> = 4.0));
    f("paralu", cat::paralu<>, params(param<"c"> = 0.1));
    f("quartlu", cat::quartlu<>, params(param<"c"> = 0.1));
    f("silu", cat::silu, params());
    f("swish", cat::swish<>, params(param<"beta"> = 1.0));
    f("soft_exponential", cat::soft_exponential<>, params(param<"alpha"> = 0.0));
    f("brelu", cat::brelu, params());
    f("mish", cat::mish, params());
    f("relu", cat::relu, params());
    f("leaky_relu", cat::leaky_relu<>, params(param<"negative_slope"> = 0.01));
    f("prelu", cat::prelu<>, params(param<"a"> = 0.25));
    f("elu", cat::elu<>, params(param<"alpha"> = 1.0));
    f("selu", cat::selu<>, params(param<"scale"> = 1.0507009873554805, param<"alpha"> = 1.6732632423543772));
    f("celu", cat::celu<>, params(param<"alpha"> = 1.0));
    f("gelu", cat::gelu, params());
    f("gelu_tanh", cat::gelu_tanh, params());
    f("sigmoid", cat::sigmoid, params());
    f("tanh", cat::tanh, params());
    f("softsign", cat::softsign, params());
    f("logsigmoid", cat::logsigmoid, params());
    f("hardtanh", cat::hardtanh<>, params(param<"min_val"> = -1.0, param<"max_val"> = 1.0));
    f("hardsigmoid", cat::hardsigmoid, params());
    f("hardswish", cat::hardswish, params());
    f("softplus", cat::softplus<>, params(param<"beta"> = 1.0, param<"threshold"> = 20.0));
    f("tanhshrink", cat::tanhshrink, params());
}

}  // namespace

TEST_CASE("every catalog entry has a DSL object with the same formula, parameters and defaults", "[dsl][catalog]") {
    std::size_t n = 0;
    for_each_entry([&](const char* name, auto e, const auto& ps) {
        INFO(name);
        ++n;
        const actjit::Activation* a = actjit::find_activation(name);
        REQUIRE(a != nullptr);
        const actjit::Formula& f = actjit::activation_formula(*a);
        CHECK(dsl::to_expr(e).same_as(f.body));
        std::map<std::string, double> dsl_defaults, runtime_defaults;
        for (const auto& [k, v] : dsltest::to_map(ps)) dsl_defaults[k] = v;
        for (const actjit::CatalogParam& p : a->params) runtime_defaults[p.name] = p.default_value;
        CHECK(dsl_defaults == runtime_defaults);
        // Parameter order: the DSL's first-appearance order is the formula's.
        std::vector<std::string> names;
        for (std::string_view p : dsl::param_names(e)) names.emplace_back(p);
        CHECK(names == actjit::params_of(f.body));
    });
    CHECK(n == actjit::catalog().size());
}

TEST_CASE("catalog: DSL derivatives agree with actjit::diff and finite differences", "[dsl][catalog][diff]") {
    for_each_entry([](const char* name, auto e, const auto& ps) {
        INFO(name);
        dsltest::check_against_runtime(e, ps, 0);
        dsltest::check_against_runtime(e, ps, 1);  // brelu's odd features
    });
    // The branches the defaults do not reach.
    dsltest::check_against_runtime(cat::prepu<>, params(param<"s"> = -0.7));  // exponent below 1
    dsltest::check_against_runtime(cat::prepu<>, params(param<"s"> = 2.5));
    dsltest::check_against_runtime(cat::soft_exponential<>, params(param<"alpha"> = -0.4));
    dsltest::check_against_runtime(cat::soft_exponential<>, params(param<"alpha"> = 0.6));
    dsltest::check_against_runtime(cat::expolu<>, params(param<"a"> = 2.0, param<"b"> = 0.5, param<"p"> = 3.0));
}

TEST_CASE("catalog: fixed parameters are constants in the type", "[dsl][catalog]") {
    constexpr auto expolu3 = cat::expolu<1_c, 1_c, 3_c>;
    static_assert(dsl::num_params<decltype(expolu3)> == 0);
    CHECK(expolu3(0.5) == cat::expolu<>(0.5, params(param<"a"> = 1.0, param<"b"> = 1.0, param<"p"> = 3.0)));
    // Substituting into the free form gives the same function (-b stays a
    // Neg node there, where the template argument folds to a constant).
    constexpr auto substituted = dsl::substitute(cat::expolu<>, "a"_p = 1_c, "b"_p = 1_c, "p"_p = 3_c);
    static_assert(dsl::num_params<decltype(substituted)> == 0);
    for (double xv : dsltest::points()) CHECK(substituted(xv) == expolu3(xv));
    dsltest::check_against_runtime(expolu3);
    dsltest::check_against_runtime(cat::quartlu<0.1_c>);
    dsltest::check_against_runtime(cat::powerlu<4_c>);
    dsltest::check_against_runtime(cat::prepu<param<"slope">>, params(param<"slope"> = 0.3));
    // The seed's NaN trap: relu(x)^q for x < 0 with q < 1 has exactly zero gradients.
    constexpr auto pr = cat::prepu<>;
    const auto ps = params(param<"s"> = -0.9);
    for (double xv : {-3.0, -1.0, -1e-30}) {
        CHECK(dsl::d(pr, dsl::x)(xv, ps) == 0.0);
        CHECK(dsl::d(pr, param<"s">)(xv, ps) == 0.0);
    }
    CHECK(dsl::d(pr, param<"s">)(0.0, ps) == 0.0);
}

TEST_CASE("catalog: derivative types stay small", "[dsl][catalog][size]") {
    for_each_entry([](const char* name, auto e, const auto&) {
        INFO(name);
        const std::size_t f = actjit::dag_size(dsl::to_expr(e));
        const std::size_t df = actjit::dag_size(dsl::to_expr(dsl::d(e, dsl::x)));
        const std::size_t runtime_df = actjit::dag_size(actjit::diff(dsl::to_expr(e), actjit::input()));
        INFO("f: " << f << " nodes, d/dx: " << df << " (runtime diff: " << runtime_df << ")");
        CHECK(df <= 3 * f + 8);
        CHECK(df <= runtime_df + 6);
        [&]<class... P>(dsl::type_list<P...>) {
            [[maybe_unused]] auto check_param = [&](auto p) {
                INFO("d/d" << p.name);
                CHECK(actjit::dag_size(dsl::to_expr(dsl::d(e, p))) <= 3 * f + 12);
            };
            (check_param(P{}), ...);
        }(dsl::params_of_t<decltype(e)>{});
    });
}

#ifdef ACTJIT_DSL_TEST_JIT
TEST_CASE("catalog: native evaluation agrees with the JIT kernels", "[dsl][catalog][jit]") {
    for_each_entry([](const char* name, auto e, const auto& ps) {
        INFO(name);
        dsltest::check_against_jit(e, ps);
    });
}

TEST_CASE("catalog: trainable parameters' gradients, DSL spans vs JIT", "[dsl][catalog][jit]") {
    // One column, so per-feature and shared gradients are both the sum over all elements.
    auto check = [](const char* name, auto e, const auto& ps) {
        INFO(name);
        const actjit::KernelSpec spec = dsl::catalog_spec(e, name, actjit::DType::f64);
        const actjit::Kernel k = actjit::compile_jit(spec);
        const auto& xs = dsltest::points();
        std::vector<double> dy(xs.size(), 0.75), dx(xs.size()), dx_native(xs.size());
        std::vector<double> values;  // runtime parameters in spec order
        for (const actjit::ParamBinding* b : spec.runtime_params()) values.push_back(dsltest::to_map(ps).at(b->name));
        std::vector<const double*> pptr;
        for (const double& v : values) pptr.push_back(&v);
        std::vector<double> grads(spec.trainable_params().size());
        std::vector<double*> gptr;
        for (double& g : grads) gptr.push_back(&g);
        k.backward(xs.data(), dy.data(), dx.data(), static_cast<std::int64_t>(xs.size()), 1, pptr, gptr);

        std::vector<double> native_grads(dsl::num_params<decltype(e)>);
        dsl::backward(e, std::span<const double>(xs), std::span<const double>(dy), std::span<double>(dx_native), ps,
                      std::span<double>(native_grads));
        for (std::size_t i = 0; i < xs.size(); ++i) CHECK(dsltest::close(dx[i], dx_native[i], 1e-11, 1e-13));
        const auto names = dsl::param_names(e);
        std::size_t g = 0;
        for (const actjit::ParamBinding* b : spec.trainable_params()) {
            const auto at = std::find(names.begin(), names.end(), b->name) - names.begin();
            INFO("d/d" << b->name);
            CHECK(dsltest::close(grads[g++], native_grads[static_cast<std::size_t>(at)], 1e-10, 1e-12));
        }
    };
    check("prepu", cat::prepu<>, params(param<"s"> = -0.3));
    check("prelu", cat::prelu<>, params(param<"a"> = 0.25));
    check("soft_exponential", cat::soft_exponential<>, params(param<"alpha"> = 0.4));
    check("soft_exponential", cat::soft_exponential<>, params(param<"alpha"> = 0.0));
}
#endif
