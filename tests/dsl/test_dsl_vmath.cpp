// The span loops' vectorizable math (include/actjit/dsl/vmath.hpp): each
// function against long double libm on dense samples and the IEEE special
// values, and the span loops against the scalar (libm) evaluation.
#include "dsl_check.hpp"

#include <actjit/dsl/vmath.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace actjit::dsl;

namespace {

/// Distance in units in the last place between a and b (0 for equal, also
/// for two NaNs; huge when only one is NaN).
template <class T>
double ulps(T a, T b) {
    if (a != a || b != b) return (a != a && b != b) ? 0.0 : 1e30;
    if (a == b) return 0.0;
    using U = std::conditional_t<std::is_same_v<T, float>, std::int32_t, std::int64_t>;
    auto ord = [](T v) {
        const U i = std::bit_cast<U>(v);
        return i < 0 ? static_cast<long double>(std::numeric_limits<U>::min()) - static_cast<long double>(i)
                     : static_cast<long double>(i);
    };
    return static_cast<double>(ord(a) > ord(b) ? ord(a) - ord(b) : ord(b) - ord(a));
}

long double ref_sigmoid(long double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }
long double ref_softplus(long double x) {
    if (x != x) return x;
    return (x > 0 ? x : 0.0L) + std::log1p(std::exp(x > 0 ? -x : x));
}

template <class T>
std::vector<T> samples() {
    std::vector<T> v;
    constexpr T inf = std::numeric_limits<T>::infinity();
    for (T s : {T(0), T(-0.0), inf, -inf, std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::min(),
                std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::max(), -std::numeric_limits<T>::max(),
                -std::numeric_limits<T>::denorm_min(), T(1), T(-1), T(1e-30), T(-1e-30), T(88.72), T(-87.3), T(-103.9),
                T(709.7), T(-745.1), T(0.5), T(-0.5), T(10), T(-10), T(20), T(-20)})
        v.push_back(s);
    if constexpr (std::is_same_v<T, float>) {
        for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += 2011) v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(b)));
    } else {
        std::mt19937_64 rng(7);
        for (int i = 0; i < 400000; ++i) v.push_back(std::bit_cast<double>(rng()));  // all magnitudes
        std::uniform_real_distribution<double> u(-50, 50);
        for (int i = 0; i < 200000; ++i) v.push_back(u(rng));
        std::uniform_real_distribution<double> w(-1e-3, 1e-3);
        for (int i = 0; i < 100000; ++i) v.push_back(w(rng));
    }
    // The activations' working range, densely.
    for (int i = -200000; i <= 200000; ++i) v.push_back(static_cast<T>(i * 1e-4));
    return v;
}

template <class T, class F, class R>
double max_ulps(const std::vector<T>& xs, F f, R ref, const char* name) {
    double worst = 0;
    T at = 0;
    for (T xv : xs) {
        const T want = static_cast<T>(ref(static_cast<long double>(xv)));
        const double e = ulps(f(xv), want);
        if (e > worst) worst = e, at = xv;
    }
    UNSCOPED_INFO(name << ": max " << worst << " ulp at x = " << at);
    return worst;
}

template <class T>
void check_all(double limit) {
    const std::vector<T> xs = samples<T>();
    CHECK(max_ulps(xs, [](T v) { return vmath::exp(v); }, [](long double v) { return std::exp(v); }, "exp") <= limit);
    CHECK(max_ulps(xs, [](T v) { return vmath::expm1(v); }, [](long double v) { return std::expm1(v); }, "expm1") <= limit);
    CHECK(max_ulps(xs, [](T v) { return vmath::log(v); }, [](long double v) { return std::log(v); }, "log") <= limit);
    CHECK(max_ulps(xs, [](T v) { return vmath::log1p(v); }, [](long double v) { return std::log1p(v); }, "log1p") <= limit);
    CHECK(max_ulps(xs, [](T v) { return vmath::tanh(v); }, [](long double v) { return std::tanh(v); }, "tanh") <= limit);
    CHECK(max_ulps(xs, [](T v) { return vmath::sigmoid(v); }, ref_sigmoid, "sigmoid") <= limit);
    CHECK(max_ulps(xs, [](T v) { return vmath::softplus(v); }, ref_softplus, "softplus") <= limit);
}

}  // namespace

TEST_CASE("vmath float functions are within 4 ulp of libm, limits included", "[dsl][vmath]") { check_all<float>(4); }

TEST_CASE("vmath double functions are within 4 ulp of libm, limits included", "[dsl][vmath]") { check_all<double>(4); }

TEST_CASE("vmath erf (float) is within 4 ulp of long double erf", "[dsl][vmath]") {
    const std::vector<float> xs = samples<float>();
    CHECK(max_ulps(xs, [](float v) { return vmath::erf(v); }, [](long double v) { return std::erf(v); }, "erf") <= 4);
    CHECK(std::isnan(vmath::erf(std::numeric_limits<float>::quiet_NaN())));
    CHECK(vmath::erf(std::numeric_limits<float>::infinity()) == 1.0f);
    CHECK(vmath::erf(-std::numeric_limits<float>::infinity()) == -1.0f);
    CHECK(std::signbit(vmath::erf(-0.0f)));
}

TEST_CASE("vmath limits: overflow, underflow, NaN, zeros, saturation", "[dsl][vmath]") {
    constexpr float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(vmath::exp(89.0f) == inf);
    CHECK(vmath::exp(1e30f) == inf);
    CHECK(vmath::exp(-104.0f) == 0.0f);
    CHECK(vmath::exp(-inf) == 0.0f);
    CHECK(vmath::exp(-100.0f) > 0.0f);  // subnormal result
    CHECK(std::isnan(vmath::exp(nan)));
    CHECK(vmath::expm1(-inf) == -1.0f);
    CHECK(vmath::expm1(inf) == inf);
    CHECK(std::signbit(vmath::expm1(-0.0f)));
    CHECK(vmath::log(0.0f) == -inf);
    CHECK(vmath::log(-0.0f) == -inf);
    CHECK(std::isnan(vmath::log(-1.0f)));
    CHECK(std::isnan(vmath::log(-inf)));
    CHECK(vmath::log(inf) == inf);
    CHECK(vmath::log1p(-1.0f) == -inf);
    CHECK(std::isnan(vmath::log1p(-2.0f)));
    CHECK(std::signbit(vmath::log1p(-0.0f)));
    CHECK(vmath::tanh(inf) == 1.0f);
    CHECK(vmath::tanh(-1e30f) == -1.0f);
    CHECK(std::signbit(vmath::tanh(-0.0f)));
    CHECK(vmath::sigmoid(inf) == 1.0f);
    CHECK(vmath::sigmoid(-inf) == 0.0f);
    CHECK(std::isnan(vmath::sigmoid(nan)));
    CHECK(vmath::softplus(1e30f) == 1e30f);
    CHECK(vmath::softplus(inf) == inf);
    CHECK(vmath::softplus(-inf) == 0.0f);
    CHECK(std::isnan(vmath::softplus(nan)));
    CHECK(vmath::exp(1e300) == std::numeric_limits<double>::infinity());
    CHECK(vmath::log(0.0) == -std::numeric_limits<double>::infinity());
    CHECK(vmath::log(std::numeric_limits<double>::denorm_min()) == Approx(-744.44007));
}

TEST_CASE("vmath pow(float) follows C pow, special cases included, within 2 ulp", "[dsl][vmath]") {
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> as = {0.0f, -0.0f, 1.0f, -1.0f, inf, -inf, nan, 0.5f, -0.5f, 2.0f, -2.0f, 1e-40f, 1e30f, -3.0f};
    std::vector<float> bs = {0.0f, -0.0f, 1.0f, -1.0f, 2.0f, 3.0f, -3.0f, 0.5f, -0.5f, inf, -inf, nan, 1e10f, 2.5f, 127.9f};
    for (int i = 0; i <= 400; ++i) as.push_back(static_cast<float>(i) * 0.037f - 1.3f);
    for (int i = 0; i <= 60; ++i) bs.push_back(static_cast<float>(i) * 0.21f - 6.0f);
    double worst = 0;
    for (float a : as)
        for (float b : bs) {
            const float want = std::pow(a, b);
            const float got = vmath::pow(a, b);
            INFO("pow(" << a << ", " << b << ") = " << got << ", libm " << want);
            if (std::isnan(want) || std::isinf(want) || want == 0) {
                CHECK(ulps(got, want) == 0);
                if (want == 0) CHECK(std::signbit(got) == std::signbit(want));
            } else {
                const double e = ulps(got, static_cast<float>(std::pow(static_cast<long double>(a), static_cast<long double>(b))));
                worst = std::max(worst, e);
                CHECK(e <= 2);
            }
        }
    INFO("max " << worst << " ulp");
    CHECK(worst <= 2);
}

namespace {
template <class T, class E, class P>
void span_vs_scalar(const char* name, E e, const P& ps, double limit) {
    INFO(name);
    std::vector<T> xs;
    for (int i = -3000; i <= 3000; ++i) xs.push_back(static_cast<T>(i * 0.005));
    for (T s : {T(0), T(-0.0), T(100), T(-100), T(1e6), T(-1e6), T(1e-20)}) xs.push_back(s);
    std::vector<T> ys(xs.size()), dys(xs.size(), T(1)), dxs(xs.size());
    forward(e, std::span<const T>(xs), std::span<T>(ys), ps);
    backward(e, std::span<const T>(xs), std::span<const T>(dys), std::span<T>(dxs), ps);
    const auto de = d(e, x);
    double wf = 0, wb = 0, wbx = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const T yf = e(xs[i], ps), yb = de(xs[i], ps);
        // In units of epsilon times max(|value|, 1): where the formula cancels
        // (1 + tanh(z) for z << 0, say), libm's own error is absolute too.
        auto err = [](T got, T want) {
            if (got != got || want != want) return (got != got && want != want) ? 0.0 : 1e30;
            const double scale = std::max(std::abs(static_cast<double>(want)), 1.0);
            return std::abs(static_cast<double>(got) - static_cast<double>(want)) / scale /
                   static_cast<double>(std::numeric_limits<T>::epsilon());
        };
        wf = std::max(wf, err(ys[i], yf));
        if (err(dxs[i], yb) > wb) wb = err(dxs[i], yb), wbx = static_cast<double>(xs[i]);
    }
    INFO("forward max " << wf << " ulp, backward max " << wb << " ulp at x = " << wbx);
    CHECK(wf <= limit);
    CHECK(wb <= 4 * limit);  // d/dx cancels more (1 - tanh^2 times a large factor)
}
}  // namespace

TEST_CASE("span loops with vmath match the scalar libm evaluation", "[dsl][vmath][span]") {
    constexpr auto s = param<"s">;
    const auto none = params();
    for (int twice = 0; twice < 2; ++twice) {
        SECTION(twice ? "double" : "float") {
            auto run = [&]<class T>(T) {
                span_vs_scalar<T>("silu", catalog::silu, none, 8);
                span_vs_scalar<T>("mish", catalog::mish, none, 8);
                span_vs_scalar<T>("gelu_tanh", catalog::gelu_tanh, none, 8);
                span_vs_scalar<T>("gelu", catalog::gelu, none, 8);
                span_vs_scalar<T>("prepu", catalog::prepu<>, params(s = 0.3), 8);
                span_vs_scalar<T>("soft_exponential", catalog::soft_exponential<>, params("alpha"_p = 0.4), 8);
                span_vs_scalar<T>("soft_exponential", catalog::soft_exponential<>, params("alpha"_p = -0.05), 8);  // pole of d/dx at x = -19.95, off the grid
            };
            if (twice) run(0.0); else run(0.0f);
        }
    }
}

namespace {
/// Span results equal to the scalar evaluation bit for bit (NaN for NaN):
/// for formulas of comparisons, logic and selects, which round nothing.
template <class T, class E>
void span_equals_scalar(const char* name, E e) {
    INFO(name);
    std::vector<T> xs;
    for (int i = -400; i <= 400; ++i) xs.push_back(static_cast<T>(i * 0.0125));
    const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
    for (T s : {T(0), T(-0.0), inf, -inf, nan, -nan, std::numeric_limits<T>::denorm_min(), T(1e30), T(-1e30)})
        xs.push_back(s);
    std::vector<T> ys(xs.size()), dys(xs.size(), T(1)), dxs(xs.size());
    forward(e, std::span<const T>(xs), std::span<T>(ys));
    backward(e, std::span<const T>(xs), std::span<const T>(dys), std::span<T>(dxs));
    const auto de = d(e, x);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        INFO("x = " << xs[i]);
        const T yf = e(xs[i], params()), yb = de(xs[i], params());
        using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
        CHECK(((ys[i] != ys[i] && yf != yf) || std::bit_cast<Bits>(ys[i]) == std::bit_cast<Bits>(yf)));
        CHECK(((dxs[i] != dxs[i] && yb != yb) || dxs[i] == yb));
    }
}
}  // namespace

// The span loops compute every select as a bit-mask blend and every
// comparison and logical operation without branches (so that they vectorize
// without AVX-512); they must still give exactly the scalar values, NaN and
// infinities included.
TEST_CASE("span loops: comparisons, logic and selects as the scalar evaluation", "[dsl][vmath][span]") {
    const auto logic = where((x > 0.5_c && !(x >= 2_c)) || x == -1_c, min(x, 1_c), max(abs(x), sign(x)));
    const auto clamped = clamp(x * 3_c, -2_c, 2_c) + where(x != x, 7_c, x <= 0_c);
    const auto lo = min(0.25_c, x);  // NaN in the second operand
    const auto hi = max(-0.25_c, x);
    const auto truthy = where(x * 2_c, 1_c, -1_c);            // a condition that may be NaN or 0
    const auto floors = floor(x * 3.75_c) + mod(x, 1.5_c) * 0.5_c;  // -0, halves, huge, inf, NaN
    const auto piecewise = where(x < -1_c, 0_c, where(x < 1_c, (x + 1_c) * (x + 1_c) / 4_c, x));
    for (int twice = 0; twice < 2; ++twice) {
        SECTION(twice ? "double" : "float") {
            auto run = [&]<class T>(T) {
                span_equals_scalar<T>("logic", logic);
                span_equals_scalar<T>("clamped", clamped);
                span_equals_scalar<T>("min", lo);
                span_equals_scalar<T>("max", hi);
                span_equals_scalar<T>("truthy", truthy);
                span_equals_scalar<T>("floor", floor(x));
                span_equals_scalar<T>("floors", floors);
                span_equals_scalar<T>("piecewise", piecewise);
                span_equals_scalar<T>("relu", relu(x));
                span_equals_scalar<T>("hardtanh", where(x <= -1_c, -1_c, where(x >= 1_c, 1_c, x)));
            };
            if (twice) run(0.0); else run(0.0f);
        }
    }
}
