// SGD, Adam and clipping against steps computed by hand (PyTorch's formulas).
#include "gradcheck.hpp"

#include <cmath>

using namespace nntest;

namespace {

Param<double> scalar_param(double value) {
    Param<double> p{"scalar", Mat::Zero(1, 1), Mat::Zero(1, 1)};
    p.value(0, 0) = value;
    return p;
}

}  // namespace

TEST_CASE("sgd without momentum: p -= lr * g", "[nn][optim]") {
    Param<double> p = scalar_param(1);
    Sgd<double> opt({&p}, {.lr = 0.1});
    p.grad(0, 0) = 0.5;
    opt.step();
    CHECK(p.value(0, 0) == Approx(0.95).epsilon(1e-15));
    opt.zero_grad();
    CHECK(p.grad(0, 0) == 0);
}

TEST_CASE("sgd with momentum follows torch (buffer starts at the first gradient)", "[nn][optim]") {
    Param<double> p = scalar_param(1);
    Sgd<double> opt({&p}, {.lr = 0.1, .momentum = 0.9});
    p.grad(0, 0) = 0.5;
    opt.step();  // buf = 0.5
    CHECK(p.value(0, 0) == Approx(0.95).epsilon(1e-15));
    p.grad(0, 0) = 0.5;
    opt.step();  // buf = 0.9 * 0.5 + 0.5 = 0.95
    CHECK(p.value(0, 0) == Approx(0.855).epsilon(1e-15));
}

TEST_CASE("adam with torch defaults matches the bias-corrected update", "[nn][optim]") {
    Param<double> p = scalar_param(1);
    Adam<double> opt({&p}, {.lr = 0.1});
    CHECK(opt.options().beta1 == 0.9);
    CHECK(opt.options().beta2 == 0.999);
    CHECK(opt.options().eps == 1e-8);
    CHECK(AdamOptions{}.lr == 1e-3);
    double m = 0, v = 0, ref = 1;
    const double grads[] = {0.5, 0.25, -1.0, 3.0};
    for (int t = 1; t <= 4; ++t) {
        const double g = grads[t - 1];
        p.grad(0, 0) = g;
        opt.step();
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        const double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
        ref -= (0.1 / bc1) * m / (std::sqrt(v) / std::sqrt(bc2) + 1e-8);
        CHECK(p.value(0, 0) == Approx(ref).epsilon(1e-13));
    }
    CHECK(opt.steps() == 4);
    // The first Adam step moves every parameter by about lr, whatever the gradient's size.
    Param<double> q = scalar_param(0);
    Adam<double> opt2({&q}, {.lr = 0.01});
    q.grad(0, 0) = 1e4;
    opt2.step();
    CHECK(q.value(0, 0) == Approx(-0.01).epsilon(1e-9));
}

TEST_CASE("optimizer options are validated", "[nn][optim][errors]") {
    Param<double> p = scalar_param(1);
    CHECK_THROWS_AS(Sgd<double>({&p}, {.lr = -1}), actjit::ValueError);
    CHECK_THROWS_AS(Adam<double>({&p}, {.beta1 = 1.0}), actjit::ValueError);
    CHECK_THROWS_AS(Adam<double>({&p}, {.lr = std::nan("")}), actjit::ValueError);
}

TEST_CASE("clip_grad_norm scales by max_norm / (norm + 1e-6) over all parameters", "[nn][optim][clip]") {
    Param<double> a = scalar_param(0), b = scalar_param(0);
    a.grad(0, 0) = 3;
    b.grad(0, 0) = 4;
    CHECK(clip_grad_norm<double>({&a, &b}, 10) == Approx(5));
    CHECK(a.grad(0, 0) == 3);  // under the limit: untouched
    CHECK(clip_grad_norm<double>({&a, &b}, 1) == Approx(5));
    CHECK(a.grad(0, 0) == Approx(3 / (5 + 1e-6)).epsilon(1e-15));
    CHECK(b.grad(0, 0) == Approx(4 / (5 + 1e-6)).epsilon(1e-15));
    CHECK_THROWS_AS(clip_grad_norm<double>({&a}, 0), actjit::ValueError);
    b.grad(0, 0) = std::nan("");
    CHECK(std::isnan(clip_grad_norm<double>({&a, &b}, 1)));
}
