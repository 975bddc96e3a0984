// Native evaluation: params(...), scalars in float and double, the span
// loops (forward, in place, backward, parameter gradients) and their errors.
#include "dsl_check.hpp"

#include <numeric>

using namespace actjit::dsl;

namespace {
constexpr auto s = param<"s">;
constexpr auto t = param<"t">;
constexpr auto f = t * x * sigmoid(s * x) + where(x > 0_c, pow(x, 2_c), 0_c);

std::vector<double> grid(std::size_t n) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = -6.0 + 12.0 * static_cast<double>(i) / static_cast<double>(n - 1);
    return v;
}
}  // namespace

TEST_CASE("params: by param object or by \"name\"_p, in any order", "[dsl][eval]") {
    const double a = f(0.7, params(s = 1.5, t = 2.0));
    CHECK(a == f(0.7, params("t"_p = 2.0, "s"_p = 1.5)));
    CHECK(a == Approx(2.0 * 0.7 / (1 + std::exp(-1.5 * 0.7)) + 0.49));
    // Extra values are allowed (one params(...) can serve several expressions).
    CHECK(a == f(0.7, params(s = 1.5, t = 2.0, "unused"_p = 9)));
}

TEST_CASE("scalar evaluation in float follows float libm", "[dsl][eval]") {
    const auto ps = params(s = 1.5f, t = 2.0f);
    for (double xv : grid(41)) {
        const float xf = static_cast<float>(xv);
        const float expect = 2.0f * xf * (1.0f / (1.0f + std::exp(-1.5f * xf))) + (xf > 0 ? xf * xf : 0.0f);
        CHECK(f(xf, ps) == Approx(expect).epsilon(1e-6));
        CHECK(dsltest::close(f(xf, ps), f(static_cast<double>(xf), ps), 1e-6, 1e-7));
    }
}

// The span loops use vmath.hpp's functions (on in this test target, see
// tests/dsl/CMakeLists.txt) and the scalar evaluation libm's: a few ulp apart.
TEST_CASE("forward and backward over spans match scalar evaluation", "[dsl][eval][span]") {
    const auto ps = params(s = 0.8, t = -1.25);
    for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 1000u}) {
        INFO("n = " << n);
        const std::vector<double> xv = n >= 2 ? grid(n) : std::vector<double>(n, 0.3);
        std::vector<double> y(xv.size()), dy(xv.size()), dx(xv.size());
        std::iota(dy.begin(), dy.end(), 0.5);
        forward(f, xv, y, ps);
        backward(f, xv, dy, dx, ps);
        for (std::size_t i = 0; i < xv.size(); ++i) {
            CHECK(dsltest::close(y[i], f(xv[i], ps), 4e-15, 1e-300));
            CHECK(dsltest::close(dx[i], dy[i] * d(f, x)(xv[i], ps), 4e-15, 1e-300));
        }
        std::vector<float> xf(xv.begin(), xv.end()), yf(xv.size());
        forward(f, xf, yf, ps);
        for (std::size_t i = 0; i < xf.size(); ++i) CHECK(dsltest::close(yf[i], f(xf[i], ps), 5e-7, 1e-38));
    }
}

TEST_CASE("forward in place", "[dsl][eval][span]") {
    std::vector<float> v = {-2.0f, -0.5f, 0.0f, 0.25f, 3.0f};
    const std::vector<float> orig = v;
    forward(catalog::silu, std::span<const float>(v), std::span<float>(v));
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(dsltest::close(v[i], catalog::silu(orig[i]), 5e-7, 1e-38));
}

TEST_CASE("backward's parameter gradients are sums of dy * df/dp, checked by finite differences", "[dsl][eval][span]") {
    const std::vector<double> xs = grid(257);
    std::vector<double> dy(xs.size()), dx(xs.size());
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = std::cos(0.1 * static_cast<double>(i));
    std::vector<double> grads(2, -1.0);
    const double sv = 0.8, tv = -1.25;
    backward(f, std::span<const double>(xs), std::span<const double>(dy), std::span<double>(dx),
             params(s = sv, t = tv), std::span<double>(grads));
    STATIC_REQUIRE(param_names(f)[0] == "t");
    // sum_i dy_i f(x_i; p) is linear in dy, so its derivative in p is the gradient.
    auto loss = [&](double s_, double t_) {
        double l = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) l += dy[i] * f(xs[i], params(s = s_, t = t_));
        return l;
    };
    const double h = 1e-6;
    CHECK(grads[0] == Approx((loss(sv, tv + h) - loss(sv, tv - h)) / (2 * h)).epsilon(1e-6));
    CHECK(grads[1] == Approx((loss(sv + h, tv) - loss(sv - h, tv)) / (2 * h)).epsilon(1e-6));
    // And float spans, summed in double.
    std::vector<float> xf(xs.begin(), xs.end()), dyf(dy.begin(), dy.end()), dxf(xs.size());
    std::vector<double> gf(2);
    backward(f, std::span<const float>(xf), std::span<const float>(dyf), std::span<float>(dxf),
             params(s = sv, t = tv), std::span<double>(gf));
    CHECK(gf[0] == Approx(grads[0]).epsilon(1e-4));
    CHECK(gf[1] == Approx(grads[1]).epsilon(1e-4));
}

TEST_CASE("span functions reject mismatched lengths", "[dsl][eval][span][errors]") {
    std::vector<double> a(4), b(3), c(4);
    const auto ps = params(s = 1.0, t = 1.0);
    CHECK_THROWS_AS(forward(f, a, b, ps), actjit::ValueError);
    CHECK_THROWS_AS(backward(f, a, b, c, ps), actjit::ValueError);
    CHECK_THROWS_AS(backward(f, a, c, b, ps), actjit::ValueError);
    std::vector<double> g1(1);
    CHECK_THROWS_WITH(backward(f, std::span<const double>(a), std::span<const double>(c), std::span<double>(c), ps,
                               std::span<double>(g1)),
                      Catch::Contains("2 parameters"));
    CHECK_THROWS_WITH(forward(f, a, b, ps), Catch::Contains("4 and 3"));
}

TEST_CASE("feature index and NaN semantics follow the interpreter", "[dsl][eval]") {
    constexpr auto g = where(mod(feature, 3_c) == 1_c, x, -x);
    CHECK(g(2.0, {}, 0) == -2.0);
    CHECK(g(2.0, {}, 4) == 2.0);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    // A NaN condition is false; relu/abs/sign/min/max/clamp of NaN are NaN.
    CHECK(where(x, 1_c, 2_c)(nan) == 2.0);
    for (double v : {relu(x)(nan), abs(x)(nan), sign(x)(nan), min(x, 1_c)(nan), max(1_c, x)(nan),
                     clamp(x, 0_c, 1_c)(nan)})
        CHECK(std::isnan(v));
    CHECK(sigmoid(x)(-1000.0) == 0.0);
    CHECK(sigmoid(x)(1000.0) == 1.0);
    CHECK(softsign(x)(std::numeric_limits<double>::infinity()) == 1.0);
    CHECK(softplus(x)(-1000.0) == 0.0);
    CHECK(softplus(x)(1000.0) == 1000.0);
    for (double v : {-800.0, -30.0, -1e-9, 0.0, 2.5, 40.0, 800.0}) {
        INFO(v);
        CHECK(sigmoid(x)(v) == actjit::evaluate(to_expr(sigmoid(x)), v));
        CHECK(softplus(x)(v) == actjit::evaluate(to_expr(softplus(x)), v));
        CHECK(softsign(x)(v) == actjit::evaluate(to_expr(softsign(x)), v));
    }
}
