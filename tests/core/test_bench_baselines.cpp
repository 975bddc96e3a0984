// The hand-written benchmark baselines (bench/baseline_math.hpp) against the
// reference evaluator: forward values, dx = dy * f'(x), and the parameter
// gradients reduced over rows, for every catalog activation. The kernels are
// compiled here header-only with this test's flags (no fast-math: the scalar
// flavour); actjit_bench checks its -ffast-math flavour against the scalar one
// before timing it. No Google Benchmark, no LLVM.
#define ACTJIT_BENCH_SIMD
#define ACTJIT_BENCH_SIMD_SUM(var)
#include "../../bench/baseline_kernels.hpp"

#include <actjit/catalog.hpp>
#include <actjit/eval.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

using actjit_bench::Baseline;
using actjit_bench::ParamLayout;

const std::vector<Baseline>& baselines() {
    static const std::vector<Baseline> table = actjit_bench::make_baselines();
    return table;
}

/// Float result against the double reference: a few ulp relative, plus an
/// absolute slack proportional to the input's magnitude for the results that
/// are differences of nearly equal terms (tanhshrink, gelu for x << 0).
bool close(double got, double want, double x, double scale = 1) {
    if (std::isnan(want)) return std::isnan(got);
    if (std::fabs(want) > std::numeric_limits<float>::max()) return std::isinf(got) && (got > 0) == (want > 0);
    return std::fabs(got - want) <= 2e-5 * std::fabs(want) + 2e-6 * scale * (1 + std::fabs(x));
}

/// Points: dense over [lo, hi], every kink of the catalog, and a few large values.
std::vector<float> sample_points(float lo, float hi) {
    std::vector<float> xs;
    for (int i = 0; i <= 1200; ++i) xs.push_back(lo + (hi - lo) * static_cast<float>(i) / 1200.0f);
    for (const float k : {0.0f, -0.0f, 1.0f, -1.0f, 3.0f, -3.0f, 20.0f, -20.0f, 0.1f, -0.1f, 1e-3f, -1e-3f, 1e-20f,
                          -1e-20f, 30.0f, -30.0f, 50.0f, -50.0f})
        if (k >= lo && k <= hi) xs.push_back(k);
    return xs;
}

struct Case {
    const Baseline* baseline;
    const actjit::Activation* activation;
    float param;  // the trainable parameter's value (per feature: column 0's)
    float lo, hi;
};

/// Runs one baseline over [rows x cols] and checks every output against
/// evaluate_with_gradient<double>, column by column (the feature index and
/// per-feature parameter differ by column).
void check(const Case& c) {
    const Baseline& b = *c.baseline;
    const actjit::Formula& formula = actjit::activation_formula(*c.activation);
    INFO("activation " << b.name << ", parameter " << c.param);

    constexpr std::int64_t cols = 6;
    const std::vector<float> points = sample_points(c.lo, c.hi);
    const std::int64_t rows = static_cast<std::int64_t>(points.size());
    std::vector<float> x(rows * cols), dy(rows * cols), y(rows * cols), dx(rows * cols);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t j = 0; j < cols; ++j) {
            x[r * cols + j] = points[(r + 7 * j) % rows];  // each column sees every point
            dy[r * cols + j] = 0.25f + 0.125f * static_cast<float>((r + j) % 7);
        }
    std::vector<float> param(cols, c.param);
    if (b.param == ParamLayout::PerFeature)
        for (std::int64_t j = 0; j < cols; ++j) param[j] = c.param + 0.3f * static_cast<float>(j) - 0.6f;
    std::vector<double> grad(cols, std::nan(""));

    b.forward(x.data(), y.data(), rows, cols, param.data());
    b.backward(x.data(), dy.data(), dx.data(), rows, cols, param.data(), grad.data());

    // The one trainable parameter, if any.
    std::string pname;
    for (const actjit::CatalogParam& p : c.activation->params)
        if (p.trainable) pname = p.name;
    REQUIRE((b.param == ParamLayout::None) == pname.empty());

    double shared_sum = 0, shared_scale = 0;
    for (std::int64_t j = 0; j < cols; ++j) {
        std::vector<double> xs(rows);
        for (std::int64_t r = 0; r < rows; ++r) xs[r] = x[r * cols + j];
        actjit::ParamValues values;
        if (!pname.empty()) values[pname] = param[j];
        const actjit::PointResults ref = actjit::evaluate_with_gradient<double>(formula, xs, values, j);
        REQUIRE(ref.names.at(0) == "x");
        std::size_t pk = 0;
        for (std::size_t k = 1; k < ref.names.size(); ++k)
            if (ref.names[k] == pname) pk = k;
        REQUIRE(pname.empty() == (pk == 0));

        double col_sum = 0, col_scale = 0;
        for (std::int64_t r = 0; r < rows; ++r) {
            const std::int64_t i = r * cols + j;
            INFO("x = " << x[i] << ", feature " << j);
            CHECK(close(y[i], ref.y[r], x[i]));
            const double want_dx = dy[i] * ref.grads[0][r];
            CHECK(close(dx[i], want_dx, x[i], 1 + std::fabs(x[i])));
            if (pk != 0) {
                col_sum += dy[i] * ref.grads[pk][r];
                col_scale += std::fabs(dy[i] * ref.grads[pk][r]);
            }
        }
        if (b.param == ParamLayout::PerFeature) {
            INFO("gradient of " << pname << ", feature " << j);
            CHECK(std::fabs(grad[j] - col_sum) <= 1e-5 * col_scale + 1e-6);
        }
        shared_sum += col_sum;
        shared_scale += col_scale;
    }
    if (b.param == ParamLayout::Shared) {
        INFO("gradient of " << pname);
        CHECK(std::fabs(grad[0] - shared_sum) <= 1e-5 * shared_scale + 1e-6);
    }
}

}  // namespace

TEST_CASE("bench baselines: exactly one per catalog activation, same parameter layout", "[bench]") {
    const auto cat = actjit::catalog();
    CHECK(baselines().size() == cat.size());
    for (const actjit::Activation& a : cat) {
        INFO(a.name);
        const auto matches = std::count_if(baselines().begin(), baselines().end(),
                                           [&](const Baseline& b) { return b.name == a.name; });
        REQUIRE(matches == 1);
        const Baseline& b = *std::find_if(baselines().begin(), baselines().end(),
                                          [&](const Baseline& c) { return c.name == a.name; });
        ParamLayout want = ParamLayout::None;
        for (const actjit::CatalogParam& p : a.params)
            if (p.trainable) want = p.per_feature ? ParamLayout::PerFeature : ParamLayout::Shared;
        CHECK(b.param == want);
    }
}

TEST_CASE("bench baselines: forward, backward and parameter gradients match the reference evaluator", "[bench]") {
    for (const Baseline& b : baselines()) {
        const actjit::Activation* a = actjit::find_activation(b.name);
        REQUIRE(a != nullptr);
        if (b.name == "soft_exponential") {
            // Every branch of the formula: alpha < 0 (domain x > -1/alpha - alpha), 0, > 0.
            check({&b, a, -0.5f, -1.4f, 12.0f});
            check({&b, a, 0.0f, -12.0f, 12.0f});
            check({&b, a, 0.5f, -12.0f, 12.0f});
            check({&b, a, b.bench_param, -12.0f, 12.0f});
        } else {
            check({&b, a, b.bench_param, -12.0f, 12.0f});
            check({&b, a, b.bench_param, -50.0f, 50.0f});
        }
    }
}

TEST_CASE("bench baselines: NaN in gives NaN out", "[bench]") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (const Baseline& b : baselines()) {
        INFO(b.name);
        std::vector<float> x(64, nan), y(64, 0.0f), param(64, b.bench_param);
        b.forward(x.data(), y.data(), 1, 64, param.data());
        for (const float v : y) CHECK(std::isnan(v));
    }
}

TEST_CASE("bench baselines: forward in place", "[bench]") {
    for (const Baseline& b : baselines()) {
        INFO(b.name);
        std::vector<float> x(3 * 64), y(3 * 64), param(64, b.bench_param);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = -4.0f + 0.04f * static_cast<float>(i);
        b.forward(x.data(), y.data(), 3, 64, param.data());
        b.forward(x.data(), x.data(), 3, 64, param.data());
        CHECK(x == y);
    }
}
