// actjit::inspect: kinks, smoothness classes, gradient risks, tails, Gaussian
// moments (against independent quadrature and Monte Carlo), and every error path.
#include <actjit/catalog.hpp>
#include <actjit/error.hpp>
#include <actjit/eval.hpp>
#include <actjit/inspect.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

using namespace actjit;

namespace {

Report run(std::string_view formula, InspectOptions o = {}) { return inspect(parse_formula(formula), o); }

InspectOptions with_param(std::string name, double v) {
    InspectOptions o;
    o.params[std::move(name)] = v;
    return o;
}

/// The risks of one kind.
std::vector<Risk> risks_of(const Report& r, RiskKind kind) {
    std::vector<Risk> out;
    std::copy_if(r.risks.begin(), r.risks.end(), std::back_inserter(out), [&](const Risk& k) { return k.kind == kind; });
    return out;
}

/// E[g(x)] for x ~ N(0, 1) by the trapezoid rule on [-12, 12]: a different
/// method from inspect()'s split Gauss-Legendre.
template <class G>
double trapezoid_gaussian(G g) {
    constexpr int n = 240000;
    const double h = 24.0 / n;
    double sum = 0;
    for (int i = 0; i <= n; ++i) {
        const double x = -12 + h * i;
        const double w = (i == 0 || i == n) ? 0.5 : 1.0;
        sum += w * g(x) * std::exp(-x * x / 2);
    }
    return sum * h / std::sqrt(2 * std::numbers::pi);
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

TEST_CASE("relu: C0 at 0, where f' jumps from 0 to 1", "[inspect]") {
    const Report r = run("relu");
    CHECK(r.smoothness == Smoothness::C0);
    REQUIRE(r.kinks.size() == 1);
    const Kink& k = r.kinks[0];
    CHECK(k.x == 0);
    CHECK(k.smoothness == Smoothness::C0);
    CHECK(k.order == 1);
    CHECK(k.left == Approx(0).margin(1e-12));
    CHECK(k.right == Approx(1));
    CHECK(k.what == "f' jumps from 0 to 1");
    CHECK(k.cause == "relu(x)");
    CHECK(r.smooth_switches.empty());
}

TEST_CASE("hardswish: C0 at -3 and 3", "[inspect]") {
    const Report r = run("hardswish");
    CHECK(r.smoothness == Smoothness::C0);
    REQUIRE(r.kinks.size() == 2);
    CHECK(r.kinks[0].x == -3);
    CHECK(r.kinks[1].x == 3);
    for (const Kink& k : r.kinks) CHECK(k.smoothness == Smoothness::C0);
    CHECK(r.kinks[0].left == Approx(0).margin(1e-9));
    CHECK(r.kinks[0].right == Approx(-0.5));  // (2x + 3) / 6 at -3
    CHECK(r.kinks[1].left == Approx(1.5));
    CHECK(r.kinks[1].right == Approx(1));
}

TEST_CASE("expolu: C1 at -b (f'' jumps), C0 at b (f' jumps), parameters honoured", "[inspect]") {
    const Report r = run("expolu");
    CHECK(r.smoothness == Smoothness::C0);
    REQUIRE(r.kinks.size() == 2);
    CHECK(r.kinks[0].x == -1);
    CHECK(r.kinks[0].smoothness == Smoothness::C1);
    CHECK(r.kinks[0].order == 2);
    CHECK(r.kinks[0].right == Approx(2).epsilon(1e-5));
    CHECK(r.kinks[1].x == 1);
    CHECK(r.kinks[1].smoothness == Smoothness::C0);
    CHECK(r.kinks[1].left == Approx(4));
    CHECK(r.kinks[1].right == Approx(1));

    // b = 2: the kinks move to -2 and 2; p = 3 makes the left one C2 there.
    InspectOptions o;
    o.params = {{"b", 2.0}, {"p", 3.0}};
    const Report moved = run("expolu", o);
    REQUIRE(moved.kinks.size() == 1);
    CHECK(moved.kinks[0].x == 2);
    CHECK(moved.smooth_switches == std::vector<double>{-2});
    CHECK(moved.param_values == std::vector<double>{1, 2, 3});
}

TEST_CASE("elu: C0 at 0 when alpha != 1, C1 when alpha == 1", "[inspect]") {
    const Report two = run("elu", with_param("alpha", 2));
    REQUIRE(two.kinks.size() == 1);
    CHECK(two.kinks[0].x == 0);
    CHECK(two.kinks[0].smoothness == Smoothness::C0);
    CHECK(two.kinks[0].left == Approx(2));
    CHECK(two.kinks[0].right == Approx(1));
    CHECK(two.smoothness == Smoothness::C0);

    const Report one = run("elu");
    REQUIRE(one.kinks.size() == 1);
    CHECK(one.kinks[0].smoothness == Smoothness::C1);
    CHECK(one.kinks[0].order == 2);
    CHECK(one.smoothness == Smoothness::C1);
}

TEST_CASE("silu, gelu, mish, sigmoid, tanh are C-infinity", "[inspect]") {
    for (const char* name : {"silu", "gelu", "mish", "sigmoid", "tanh", "gelu_tanh"}) {
        INFO(name);
        const Report r = run(name);
        CHECK(r.smoothness == Smoothness::CInfinity);
        CHECK(r.kinks.empty());
        CHECK(r.smooth_switches.empty());
    }
}

TEST_CASE("switches that do not break smoothness up to f''", "[inspect]") {
    // softplus switches to x at beta * x > threshold: continuous to 1e-6 there.
    InspectOptions o;
    o.lo = -30;
    o.hi = 30;
    const Report r = run("softplus", o);
    CHECK(r.kinks.empty());
    CHECK(r.smooth_switches == std::vector<double>{20});
    CHECK(r.smoothness == Smoothness::C2);
}

TEST_CASE("singular points: NaN domains, poles, vertical tangents, jumps", "[inspect]") {
    SECTION("log(x): NaN for x < 0, -inf at 0") {
        const Report r = run("log(x)");
        CHECK(r.smoothness == Smoothness::Singular);
        REQUIRE(r.kinks.size() == 1);
        CHECK(r.kinks[0].x == 0);
        CHECK(r.kinks[0].smoothness == Smoothness::Singular);
        const std::vector<Risk> nf = risks_of(r, RiskKind::NonFinite);
        REQUIRE(nf.size() == 2);
        CHECK(nf[0].lo == -6);
        CHECK(nf[0].hi == Approx(-0.006));
        CHECK(nf[0].reason == "f is NaN (from log(x))");
        CHECK(nf[1].lo == 0);
        CHECK(nf[1].hi == 0);
        CHECK(nf[1].reason == "f is -inf (from log(x))");
    }
    SECTION("x^s with s = 0.5: NaN for a negative base") {
        const Report r = inspect(parse_expr("x^s"), with_param("s", 0.5));
        CHECK(r.smoothness == Smoothness::Singular);
        const std::vector<Risk> nf = risks_of(r, RiskKind::NonFinite);
        REQUIRE(!nf.empty());
        CHECK(nf[0].lo == -6);
        CHECK(nf[0].hi < 0);
        CHECK(nf[0].reason == "f is NaN (from x^0.5)");
        // f' = 0.5 x^-0.5 is inf at 0.
        CHECK(std::any_of(nf.begin(), nf.end(), [](const Risk& k) { return k.lo == 0 && k.reason.starts_with("f' is inf"); }));
    }
    SECTION("a pole between grid points") {
        const Report r = run("1 / (x - 0.1234)");
        REQUIRE(r.kinks.size() == 1);
        CHECK(r.kinks[0].x == Approx(0.1234).epsilon(1e-12));
        CHECK(r.kinks[0].smoothness == Smoothness::Singular);
        CHECK(r.kinks[0].what == "pole: |f| grows without bound");
        const std::vector<Risk> nf = risks_of(r, RiskKind::NonFinite);
        REQUIRE(nf.size() == 1);
        CHECK(nf[0].lo == Approx(0.1234).epsilon(1e-12));
        CHECK(!risks_of(r, RiskKind::Exploding).empty());
    }
    SECTION("cbrt: continuous with a vertical tangent (C0)") {
        const Report r = run("cbrt(x)");
        REQUIRE(r.kinks.size() == 1);
        CHECK(r.kinks[0].smoothness == Smoothness::C0);
        CHECK(r.kinks[0].what == "f' is unbounded near the point");
    }
    SECTION("floor: a jump at every integer") {
        const Report r = run("floor(x)");
        CHECK(r.smoothness == Smoothness::Discontinuous);
        REQUIRE(r.kinks.size() == 12);  // -5 ... 6
        CHECK(r.kinks[0].x == -5);
        CHECK(r.kinks[0].what == "f jumps from -6 to -5");
    }
    SECTION("min, clamp, abs, where on a condition that is not a comparison") {
        CHECK(run("min(x, 0.5 * x)").kinks.at(0).right == Approx(0.5));
        const Report c = run("clamp(x, -1, 2)");
        REQUIRE(c.kinks.size() == 2);
        CHECK(c.kinks[0].x == -1);
        CHECK(c.kinks[1].x == 2);
        CHECK(run("abs(x - 0.3)").kinks.at(0).x == Approx(0.3).epsilon(1e-12));
        // sqrt(x^2) = |x|: f' = x / sqrt(x^2) is 0/0 at the point, a jump nonetheless.
        CHECK(run("sqrt(x^2)").kinks.at(0).what == "f' jumps from -1 to 1");
        const Report w = run("where(relu(x - 1), 2 * x, x)");
        REQUIRE(w.kinks.size() == 1);
        CHECK(w.kinks[0].x == 1);
        CHECK(w.kinks[0].smoothness == Smoothness::Discontinuous);
    }
}

TEST_CASE("dead zones and saturation", "[inspect]") {
    const std::vector<Risk> dead = risks_of(run("relu"), RiskKind::DeadZone);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].lo == -6);
    CHECK(dead[0].hi == 0);
    CHECK(dead[0].reason == "f' = 0: no gradient flows (dying units)");

    // expolu's dead zone ends at the kink x = -1, not at the grid point before it.
    const std::vector<Risk> expolu_dead = risks_of(run("expolu"), RiskKind::DeadZone);
    REQUIRE(expolu_dead.size() == 1);
    CHECK(expolu_dead[0].hi == -1);

    for (const char* name : {"sigmoid", "tanh"}) {
        INFO(name);
        const std::vector<Risk> sat = risks_of(run(name), RiskKind::Saturation);
        REQUIRE(sat.size() == 2);
        CHECK(sat[0].lo == -6);
        CHECK(sat[0].hi < -2);
        CHECK(sat[1].lo > 2);
        CHECK(sat[1].hi == 6);
    }
    // leaky_relu's slope does not vanish: no saturation, no dead zone; relu is dead, not saturating.
    CHECK(risks_of(run("leaky_relu"), RiskKind::Saturation).empty());
    CHECK(risks_of(run("leaky_relu"), RiskKind::DeadZone).empty());
    CHECK(risks_of(run("relu"), RiskKind::Saturation).empty());
    CHECK(risks_of(run("silu"), RiskKind::Saturation).size() == 1);
}

TEST_CASE("exploding slopes on the range and beyond it", "[inspect]") {
    InspectOptions o;
    o.lo = -1;
    o.hi = 1;
    const std::vector<Risk> steep = risks_of(run("2000 * x"), RiskKind::Exploding);
    REQUIRE(steep.size() == 1);
    CHECK(steep[0].lo == -6);
    CHECK(steep[0].hi == 6);

    const Report sq = run("x^2", o);
    const std::vector<Risk> grow = risks_of(sq, RiskKind::Exploding);
    REQUIRE(grow.size() == 2);
    CHECK(grow[0].lo == -HUGE_VAL);
    CHECK(grow[1].hi == HUGE_VAL);
    CHECK(sq.right.growth == Approx(1).epsilon(1e-3));
    CHECK_FALSE(sq.right.slope_bounded);

    // relu's slope beyond the range is proved bounded (comparisons decided by interval analysis).
    const Report relu = run("relu");
    CHECK(relu.right.slope_bounded);
    CHECK(relu.right.slope_range.lo == 1);
    CHECK(relu.right.slope_range.hi == 1);
    CHECK(relu.left.slope_range.hi == 0);
    CHECK(risks_of(relu, RiskKind::Exploding).empty());

    // exp overflows at log(DBL_MAX) in double and log(FLT_MAX) in float.
    const Report e = run("exp(x)");
    CHECK(e.right.overflow_x == Approx(std::log(1.7976931348623157e308)).epsilon(1e-6));
    CHECK(e.right.f32_overflow_x == Approx(88.7228).epsilon(1e-4));
    CHECK(std::isnan(e.left.overflow_x));
    CHECK(!risks_of(e, RiskKind::F32NonFinite).empty());
}

TEST_CASE("parameter gradients that vanish", "[inspect]") {
    const std::vector<Risk> prepu = risks_of(run("prepu"), RiskKind::ParamZero);
    REQUIRE(prepu.size() == 1);
    CHECK(prepu[0].lo == -6);
    CHECK(prepu[0].hi == 0);
    CHECK(prepu[0].reason == "the gradient of s is 0: no gradient from these inputs");

    // softplus's threshold never gets a gradient on [-6, 6].
    const std::vector<Risk> sp = risks_of(run("softplus"), RiskKind::ParamZero);
    CHECK(std::any_of(sp.begin(), sp.end(), [](const Risk& k) {
        return k.lo == -6 && k.hi == 6 && k.reason == "the gradient of threshold is 0 on the whole range: it cannot learn at this value";
    }));
    // Several parameters with the same zero run are one risk.
    const std::vector<Risk> ex = risks_of(run("expolu"), RiskKind::ParamZero);
    REQUIRE(ex.size() == 1);
    CHECK(ex[0].reason.starts_with("the gradient of a, b, p is 0"));

    const std::vector<Risk> nf = risks_of(run("x * sqrt(a)", with_param("a", 0)), RiskKind::ParamNonFinite);
    REQUIRE(nf.size() == 1);
    CHECK(nf[0].lo == -6);
    CHECK(nf[0].hi == 6);
    CHECK(nf[0].reason == "df/da is -inf");
}

TEST_CASE("f32 against f64: cancellation is flagged, ordinary rounding is not", "[inspect]") {
    const std::vector<Risk> shrink = risks_of(run("tanhshrink"), RiskKind::Precision);
    REQUIRE(shrink.size() == 1);
    CHECK(shrink[0].lo < 0);
    CHECK(shrink[0].hi > 0);  // x - tanh(x) near 0
    CHECK(shrink[0].reason.starts_with("f in f32 is up to"));
    // tanh' = 1 - tanh(x)^2 cancels in f32 for large |x|.
    const std::vector<Risk> tanh = risks_of(run("tanh"), RiskKind::Precision);
    REQUIRE(!tanh.empty());
    CHECK(tanh[0].reason.starts_with("f' in f32"));
    for (const char* name : {"silu", "sigmoid", "relu", "elu", "mish", "prepu", "softsign"}) {
        INFO(name);
        CHECK(risks_of(run(name), RiskKind::Precision).empty());
    }
}

TEST_CASE("samples are the reference interpreter's values", "[inspect]") {
    InspectOptions o;
    o.lo = -2;
    o.hi = 3;
    o.samples = 51;
    o.params["s"] = -0.5;
    const Formula& f = activation_formula(*find_activation("prepu"));
    const Report r = inspect(f, o);
    REQUIRE(r.x.size() == 51);
    CHECK(r.x.front() == -2);
    CHECK(r.x.back() == 3);
    CHECK(r.x[20] == 0);
    const PointResults ref = evaluate_with_gradient<double>(f, r.x, o.params);
    for (std::size_t i = 0; i < r.x.size(); ++i) {
        CHECK(r.y[i] == Approx(ref.y[i]));
        CHECK(r.dy[i] == Approx(ref.grads[0][i]));
        CHECK(r.dparam[0][i] == Approx(ref.grads[1][i]));
    }
    // f'' against a central difference of f'.
    const double x = 1.3, h = 1e-5;
    const double fd = (evaluate(r.df, x + h, o.params) - evaluate(r.df, x - h, o.params)) / (2 * h);
    CHECK(evaluate(r.d2f, x, o.params) == Approx(fd).epsilon(1e-6));
    CHECK(r.param_names == std::vector<std::string>{"s"});
    CHECK(r.param_values == std::vector<double>{-0.5});
}

TEST_CASE("statistics: values at 0, extremes, monotonicity", "[inspect]") {
    const Report silu = run("silu");
    CHECK(silu.stats.f0 == 0);
    CHECK(silu.stats.df0 == 0.5);
    CHECK(silu.stats.f_min == Approx(-0.2784645).epsilon(1e-4));  // at x = -1.2785
    CHECK(silu.stats.x_f_min == Approx(-1.278).margin(0.006));
    CHECK(silu.stats.f_max == Approx(6 * sigmoid(6)));
    CHECK(silu.stats.monotone == Monotonicity::None);
    CHECK(run("relu").stats.monotone == Monotonicity::NonDecreasing);
    CHECK(run("sigmoid").stats.monotone == Monotonicity::Increasing);
    CHECK(run("-x").stats.monotone == Monotonicity::Decreasing);
}

TEST_CASE("Gaussian moments against independent quadrature and Monte Carlo", "[inspect]") {
    const Report relu = run("relu");
    CHECK(relu.stats.f.mean == Approx(1 / std::sqrt(2 * std::numbers::pi)).epsilon(1e-10));
    CHECK(relu.stats.f.second == Approx(0.5).epsilon(1e-10));
    CHECK(relu.stats.df.mean == Approx(0.5).epsilon(1e-10));
    CHECK(relu.stats.gain == Approx(std::sqrt(2.0)).epsilon(1e-10));  // He

    const Report silu = run("silu");
    auto silu_f = [](double x) { return x * sigmoid(x); };
    auto silu_df = [](double x) { return sigmoid(x) * (1 + x * (1 - sigmoid(x))); };
    const double m2 = trapezoid_gaussian([&](double x) { return silu_f(x) * silu_f(x); });
    const double m1 = trapezoid_gaussian(silu_f);
    CHECK(silu.stats.f.second == Approx(m2).epsilon(1e-8));
    CHECK(silu.stats.f.mean == Approx(m1).epsilon(1e-8));
    CHECK(silu.stats.f.variance == Approx(m2 - m1 * m1).epsilon(1e-8));
    CHECK(silu.stats.df.mean == Approx(trapezoid_gaussian(silu_df)).epsilon(1e-8));
    CHECK(silu.stats.gain == Approx(1 / std::sqrt(m2)).epsilon(1e-8));

    // A kinked function, by Monte Carlo with a fixed seed: elu with alpha = 2.
    const Report elu = run("elu", with_param("alpha", 2));
    std::mt19937_64 rng(12345);
    std::normal_distribution<double> normal;
    constexpr int n = 400000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; ++i) {
        const double x = normal(rng);
        const double y = x > 0 ? x : 2 * std::expm1(x);
        sum += y;
        sum2 += y * y;
    }
    const double mean = sum / n, var = sum2 / n - mean * mean;
    CHECK(std::abs(elu.stats.f.mean - mean) < 5 * std::sqrt(var / n));
    CHECK(elu.stats.f.second == Approx(sum2 / n).epsilon(0.01));

    // Undefined: log is not finite for x <= 0; exp(x^2) is not integrable against N(0, 1).
    CHECK(std::isnan(run("log(x)").stats.f.mean));
    CHECK(std::isnan(run("exp(x^2)").stats.f.second));
    CHECK(std::isnan(run("exp(x^2)").stats.gain));
    // A pole inside [-10, 10] (not on the range) also makes them undefined; an
    // unbounded f' only those of f'.
    CHECK(std::isnan(run("1 / (x - 8)").stats.f.mean));
    CHECK(std::isfinite(run("cbrt(x)").stats.f.second));
    CHECK(std::isnan(run("cbrt(x)").stats.df.second));
}

TEST_CASE("inspect of an expression and of a formula with the feature index", "[inspect]") {
    InspectOptions o = with_param("a", 2);
    const Report r = inspect(parse_expr("a * relu(x)"), o);
    CHECK(r.kinks.at(0).right == Approx(2));
    CHECK_THROWS_WITH(inspect(parse_expr("a * relu(x)")), "parameter 'a' has no value");

    InspectOptions odd;
    odd.feature = 1;
    CHECK(run("brelu").stats.f_max == 6);      // relu on even features
    CHECK(run("brelu", odd).stats.f_max == 0);  // -relu(-x) on odd ones
}

TEST_CASE("inspect errors", "[inspect][errors]") {
    const Formula f = parse_formula("prepu");
    auto opts = [](double lo, double hi, std::size_t n = 2001) {
        InspectOptions o;
        o.lo = lo;
        o.hi = hi;
        o.samples = n;
        return o;
    };
    CHECK_THROWS_MATCHES(inspect(f, opts(2, 1)), ValueError, Catch::Message("inspect: the range [A, B] needs A < B, got [2, 1]"));
    CHECK_THROWS_AS(inspect(f, opts(1, 1)), ValueError);
    CHECK_THROWS_MATCHES(inspect(f, opts(-HUGE_VAL, 1)), ValueError, Catch::Message("inspect: the range bounds must be finite, got [-inf, 1]"));
    CHECK_THROWS_AS(inspect(f, opts(0, std::nan(""))), ValueError);
    CHECK_THROWS_AS(inspect(f, opts(-1e7, 1)), ValueError);
    CHECK_THROWS_WITH(inspect(f, opts(-1e7, 1)), Catch::Contains("must lie within [-1e+06, 1e+06]"));
    CHECK_THROWS_AS(inspect(f, opts(1, 1 + 1e-12)), ValueError);
    CHECK_THROWS_WITH(inspect(f, opts(1, 1 + 1e-12)), Catch::Contains("too narrow"));
    CHECK_THROWS_MATCHES(inspect(f, opts(-1, 1, 0)), ValueError, Catch::Message("inspect: at least 11 samples are needed, got 0"));
    CHECK_THROWS_AS(inspect(f, opts(-1, 1, 10)), ValueError);
    CHECK_NOTHROW(inspect(f, opts(-1, 1, 11)));
    CHECK_THROWS_MATCHES(inspect(f, opts(-1, 1, 1'000'000'000)), LimitError, Catch::Message("inspect: at most 1000000 samples, got 1000000000"));
    CHECK_THROWS_MATCHES(inspect(f, with_param("q", 1)), ValueError,
                         Catch::Message("inspect: the formula has no parameter 'q' (its parameters: s)"));
    CHECK_THROWS_MATCHES(inspect(parse_formula("relu"), with_param("q", 1)), ValueError,
                         Catch::Message("inspect: the formula has no parameter 'q' (it has none)"));
    CHECK_THROWS_MATCHES(inspect(f, with_param("s", HUGE_VAL)), ValueError, Catch::Message("inspect: parameter 's' must be finite, got inf"));
    CHECK_THROWS_MATCHES(inspect(parse_formula("a * x + b"), with_param("a", 1)), ValueError, Catch::Message("parameter 'b' has no value"));
}
