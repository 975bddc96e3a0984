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

TEST_CASE("x^-n for a huge x is the small number, not 1 / inf (as the interpreter and the JIT)", "[dsl][eval]") {
    // 1 / x^n overflows in x^n where (1 / x)^n is still a number.
    constexpr auto g = pow(x, -3_c);
    for (float v : {1e13f, -1e13f, 3e12f, 10.0f, 2.0f, 0.5f, 3e-13f, 1e20f}) {
        INFO(v);
        const double want = std::pow(static_cast<double>(v), -3.0);
        const float got = g(v);
        if (std::fabs(want) < 1e-36)
            CHECK(std::fabs(static_cast<double>(got) - want) <= 4 * 1.4e-45 + 1e-6 * std::fabs(want));
        else
            CHECK(got == Approx(want).epsilon(1e-6));
        CHECK(dsltest::close(got, actjit::evaluate(to_expr(g), v), 1e-6, 1e-44));
    }
    CHECK(g(1e13f) > 0.0f);
    CHECK(pow(x, -2_c)(10.0f) == 0.01f);
    CHECK(pow(x, -2_c)(1e160) == Approx(1e-320).epsilon(1e-3));
    // And over spans (the vectorized loops).
    std::vector<float> in = {1e13f, 10.0f, -1e13f, 2.0f}, out(4);
    forward(g, std::span<const float>(in), std::span<float>(out));
    CHECK(out[0] > 0.0f);
    CHECK(out[0] == Approx(1e-39).epsilon(1e-5));
    CHECK(out[2] < 0.0f);
    CHECK(out[3] == 0.125f);
}

// ---- Over [rows x cols]: the feature index is the column -----------------------

namespace {
// Reads the feature index: brelu's parity, and a parameter gradient that
// depends on it.
constexpr auto g = where(mod(feature, 2_c) == 0_c, relu(x), -relu(-x)) + s * x * (feature + 1_c);
}  // namespace

TEST_CASE("forward_rows and backward_rows give element (r, j) feature j", "[dsl][eval][span]") {
    const double sv = 0.375;
    const auto ps = params(s = sv);
    for (std::int64_t cols : {1, 3, 8, 64, 67, 130}) {
        INFO("cols = " << cols);
        const std::int64_t rows = 5;
        const std::vector<double> xd = grid(static_cast<std::size_t>(rows * cols) + 1);  // drop one: no 0 on the grid end
        std::vector<double> xs(xd.begin(), xd.begin() + rows * cols), dy(xs.size()), y(xs.size()), dx(xs.size());
        for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = std::cos(0.37 * static_cast<double>(i));
        std::vector<double> grads(1, -1.0);
        forward_rows(g, xs, y, cols, ps);
        backward_rows(g, std::span<const double>(xs), std::span<const double>(dy), std::span<double>(dx), cols, ps,
                      std::span<double>(grads));
        double want_grad = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const auto j = static_cast<std::int64_t>(i) % cols;
            CHECK(dsltest::close(y[i], g(xs[i], ps, j), 4e-15, 1e-300));
            CHECK(dsltest::close(dx[i], dy[i] * d(g, x)(xs[i], ps, j), 4e-15, 1e-300));
            want_grad += dy[i] * d(g, s)(xs[i], ps, j);
        }
        CHECK(grads[0] == Approx(want_grad).epsilon(1e-12).margin(1e-12));
        // The gradient is d/ds of sum dy * g: a finite difference agrees.
        auto loss = [&](double s_) {
            double l = 0;
            for (std::size_t i = 0; i < xs.size(); ++i) l += dy[i] * g(xs[i], params(s = s_), static_cast<std::int64_t>(i) % cols);
            return l;
        };
        CHECK(grads[0] == Approx((loss(sv + 1e-6) - loss(sv - 1e-6)) / 2e-6).epsilon(1e-6));
        // Float spans, in place too.
        std::vector<float> xf(xs.begin(), xs.end()), yf(xs.size());
        forward_rows(g, std::span<const float>(xf), std::span<float>(yf), cols, ps);
        forward_rows(g, std::span<const float>(xf), std::span<float>(xf), cols, ps);
        for (std::size_t i = 0; i < xf.size(); ++i) {
            const auto j = static_cast<std::int64_t>(i) % cols;
            CHECK(dsltest::close(yf[i], g(static_cast<float>(xs[i]), ps, j), 5e-7, 1e-38));
            CHECK(xf[i] == yf[i]);
        }
    }
}

TEST_CASE("forward_rows matches the catalog's brelu, feature by feature", "[dsl][eval][span]") {
    const std::int64_t cols = 6;
    std::vector<float> xs(48), ys(48);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i % 7) - 3.0f;
    forward_rows(catalog::brelu, std::span<const float>(xs), std::span<float>(ys), cols);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const float xv = xs[i];
        const bool even = (i % cols) % 2 == 0;
        CHECK(ys[i] == (even ? std::max(xv, 0.0f) : std::min(xv, 0.0f)));
    }
}

TEST_CASE("the rows functions reject bad shapes", "[dsl][eval][span][errors]") {
    std::vector<double> a(12), b(12), c(11);
    const auto ps = params(s = 1.0);
    CHECK_THROWS_WITH(forward_rows(g, a, b, 0, ps), Catch::Contains("cols must be 1 to 2147483647, got 0"));
    CHECK_THROWS_WITH(forward_rows(g, a, b, -3, ps), Catch::Contains("got -3"));
    CHECK_THROWS_WITH(forward_rows(g, a, b, std::int64_t{1} << 31, ps), Catch::Contains("cols must be"));
    CHECK_THROWS_WITH(forward_rows(g, a, b, 5, ps), Catch::Contains("12 elements are not rows of 5 columns"));
    CHECK_THROWS_WITH(forward_rows(g, a, c, 4, ps), Catch::Contains("12 and 11"));
    CHECK_THROWS_WITH(backward_rows(g, a, c, b, 4, ps), Catch::Contains("12 and 11"));
    CHECK_THROWS_WITH(backward_rows(g, a, b, c, 4, ps), Catch::Contains("12 and 11"));
    CHECK_THROWS_WITH(backward_rows(g, a, b, b, 5, ps), Catch::Contains("not rows of 5"));
    std::vector<double> g2(2);
    CHECK_THROWS_WITH(backward_rows(g, std::span<const double>(a), std::span<const double>(b), std::span<double>(b), 4,
                                    ps, std::span<double>(g2)),
                      Catch::Contains("1 parameters"));
}
