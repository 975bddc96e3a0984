// The Activation layer over actjit kernels: values, trainable parameters, gradients.
#include "gradcheck.hpp"

#include <cmath>

using namespace nntest;

namespace {

ActivationOptions interp(ParamMode mode = ParamMode::Default) { return {Backend::Interpreter, mode}; }

/// Inputs away from 0 (the kinks of relu-based units).
Mat away_from_zero(Index rows, Index cols, Rng& rng) {
    Mat m = random_matrix(rows, cols, rng, 0.2, 2.5);
    for (Index i = 0; i < m.size(); ++i)
        if (rng.uniform() < 0.4) m.data()[i] = -m.data()[i];
    return m;
}

}  // namespace

TEST_CASE("activation computes the catalog formula", "[nn][activation]") {
    ActivationLayer<double> silu("silu", 3, interp());
    Mat x(2, 3);
    x << -1, 0, 1, 2, -3, 0.5;
    const Mat y = silu.forward(view(x));
    for (Index i = 0; i < x.size(); ++i) CHECK(y.data()[i] == Approx(x.data()[i] / (1 + std::exp(-x.data()[i]))).epsilon(1e-12));
    CHECK(silu.params().empty());
}

TEST_CASE("prepu has one trainable s per feature, starting at 0", "[nn][activation]") {
    ActivationLayer<double> prepu("prepu", 8, interp());
    REQUIRE(prepu.params().size() == 1);
    CHECK(prepu.params()[0]->value.size() == 8);
    CHECK(prepu.param_values("s") == std::vector<double>(8, 0.0));
    CHECK(prepu.describe().find("per-feature trainable") != std::string::npos);
    // s = 0: power 1, so prepu is relu.
    Mat x(1, 8);
    x << -2, -1, -0.5, 0, 0.5, 1, 2, 3;
    const Mat y = prepu.forward(view(x));
    for (Index c = 0; c < 8; ++c) CHECK(y(0, c) == Approx(std::max(0.0, x(0, c))));
}

TEST_CASE("activation gradients match finite differences", "[nn][activation][grad]") {
    Rng rng(4);
    SECTION("silu, no parameters") {
        ActivationLayer<double> a("silu", 5, interp());
        check_layer(a, random_matrix(6, 5, rng), rng);
    }
    SECTION("prepu, per-feature s") {
        ActivationLayer<double> a("prepu", 4, interp());
        a.set_param_values("s", {0.3, -0.5, 0.9, 0.0});
        check_layer(a, away_from_zero(7, 4, rng), rng);
    }
    SECTION("swish with a shared trainable beta") {
        ActivationLayer<double> a("swish", 3, interp(ParamMode::Shared));
        REQUIRE(a.params().size() == 1);
        CHECK(a.params()[0]->value.size() == 1);
        a.set_param_values("beta", {1.7});
        check_layer(a, random_matrix(5, 3, rng), rng);
    }
    SECTION("soft exponential, shared alpha, both signs") {
        for (double alpha : {0.4, -0.3}) {
            ActivationLayer<double> a("soft_exponential", 3, interp());
            a.set_param_values("alpha", {alpha});
            check_layer(a, random_matrix(4, 3, rng, -0.8, 0.8), rng);
        }
    }
    SECTION("a formula with a signature, per-feature parameters") {
        ActivationLayer<double> a("f(x; a=0.5, b=2) = a * tanh(b * x) + x", 3, interp());
        REQUIRE(a.params().size() == 2);
        check_layer(a, random_matrix(4, 3, rng), rng);
    }
}

TEST_CASE("activation specs from a parsed formula bind parameters as asked", "[nn][activation]") {
    const actjit::Formula f = actjit::parse_formula("g(x; a=0.25, b=3) = a * x + b");
    const actjit::KernelSpec per = activation_spec(f, actjit::DType::f64);
    REQUIRE(per.params.size() == 2);
    CHECK(per.params[0].kind == actjit::ParamKind::PerFeature);
    CHECK(per.params[0].trainable);
    CHECK(activation_spec(f, actjit::DType::f64, ParamMode::Shared).params[1].kind == actjit::ParamKind::Shared);
    const actjit::KernelSpec fixed = activation_spec(f, actjit::DType::f64, ParamMode::Fixed);
    CHECK(fixed.params[1].kind == actjit::ParamKind::Fixed);
    CHECK(fixed.params[1].value == 3);
    ActivationLayer<double> layer(per, 2, Backend::Interpreter);
    CHECK(layer.param_values("a") == std::vector<double>{0.25, 0.25});
    Mat x(1, 2);
    x << 1, -2;
    const Mat y = layer.forward(view(x));
    CHECK(y(0, 0) == 3.25);
    CHECK(y(0, 1) == 2.5);
}

TEST_CASE("fixed parameters are folded and not trained", "[nn][activation]") {
    ActivationLayer<double> a("prepu", 4, interp(ParamMode::Fixed));
    CHECK(a.params().empty());
    ActivationLayer<double> e("expolu", 4, interp());
    CHECK(e.params().empty());  // a, b, p fixed in the catalog
    Mat x(1, 4);
    x << -2, -0.5, 0.5, 2;
    const Mat y = e.forward(view(x));
    CHECK(y(0, 0) == 0);
    CHECK(y(0, 1) == Approx(0.25));
    CHECK(y(0, 2) == Approx(2.25));
    CHECK(y(0, 3) == Approx(5));
}

TEST_CASE("activation errors are clear", "[nn][activation][errors]") {
    CHECK_THROWS_AS(ActivationLayer<double>("x * nosuchfn(x)", 3, interp()), actjit::FormulaError);
    CHECK_THROWS_WITH(ActivationLayer<double>("x * k", 3, interp()), Catch::Contains("'k' has no initial value"));
    CHECK_THROWS_WITH(ActivationLayer<double>("prepuu", 3, interp()), Catch::Contains("unknown activation 'prepuu' (did you mean 'prepu'?)"));
    CHECK_THROWS_WITH(ActivationLayer<double>("zzzzqqq", 3, interp()), Catch::Contains("unknown activation 'zzzzqqq'"));
    CHECK(ActivationLayer<double>("x", 3, interp()).params().empty());  // the identity is a formula
    ActivationLayer<double> a("silu", 3, interp());
    Mat x(2, 4);
    x.setZero();
    CHECK_THROWS_WITH(a.forward(view(x)), Catch::Contains("expected an input with 3 features, found 4"));
    CHECK_THROWS_AS(a.set_param_values("nope", {}), actjit::ValueError);
}

TEST_CASE("float activation layers run the f32 kernel", "[nn][activation]") {
    ActivationLayer<float> a("prepu", 2, {Backend::Interpreter, ParamMode::Default});
    a.set_param_values("s", {1.0f, -1.0f});  // powers 1.5 and 0.5
    Matrix<float> x(1, 2);
    x << 4, 4;
    const Matrix<float> y = a.forward(ConstMatrixMap<float>(x.data(), 1, 2));
    CHECK(y(0, 0) == Approx(8.0f));
    CHECK(y(0, 1) == Approx(2.0f));
}

TEST_CASE("jit and interpreter activation layers agree", "[nn][activation][jit]") {
    actjit::Kernel jit;
    try {
        jit = compile_kernel(activation_spec("prepu", actjit::DType::f64), Backend::Jit);
    } catch (const actjit::Error& e) {
        WARN("jit backend not available here, comparison skipped: " << e.what());
        return;
    }
    ActivationLayer<double> a(jit, 6);
    ActivationLayer<double> b("prepu", 6, interp());
    CHECK(ActivationLayer<double>("prepu", 6, {Backend::Auto, ParamMode::Default}).kernel());
    const std::vector<double> s = {0.3, -0.5, 0.9, 0.0, 2.0, -0.9};
    a.set_param_values("s", s);
    b.set_param_values("s", s);
    Rng rng(8);
    const Mat x = away_from_zero(40, 6, rng), g = random_matrix(40, 6, rng);
    const Mat ya = a.forward(view(x)), yb = b.forward(view(x));
    for (Index i = 0; i < ya.size(); ++i) CHECK(close(ya.data()[i], yb.data()[i], 1e-13));
    a.params()[0]->grad.setZero();
    b.params()[0]->grad.setZero();
    const Mat da = a.backward(view(g)), db = b.backward(view(g));
    for (Index i = 0; i < da.size(); ++i) CHECK(close(da.data()[i], db.data()[i], 1e-13));
    for (Index i = 0; i < 6; ++i) CHECK(close(a.params()[0]->grad(0, i), b.params()[0]->grad(0, i), 1e-12));
}
