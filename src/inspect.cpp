// inspect(): samples, kinks, gradient risks and statistics of an activation.
//
// The work is done on the formula with its parameters (and the feature index)
// folded in as constants, so every condition is a function of x alone:
//  1. Switches: every node where smoothness can break gives an *indicator*, an
//     expression whose value changes exactly where the node switches branch
//     (a comparison itself, sign(u) for relu(u), floor(a / b) for mod(a, b),
//     sign(u) for log(u) ...). Indicators are sampled on the grid; a change
//     between two neighbours is bisected to adjacent doubles.
//  2. Each switch point is classified from one-sided limits of f, f', f''
//     taken a small step delta to each side (first-order extrapolated to the
//     point), and from their growth as the step shrinks (poles, vertical
//     tangents).
//  3. Risks are runs of grid samples with a property (non-finite, |f'| small...),
//     plus the tails beyond the range: interval analysis of f' and probes at
//     geometrically growing |x|.
//  4. Gaussian moments by composite Gauss-Legendre quadrature on [-10, 10],
//     with panels split at the switch points.
//
// Steps 1 and 2 live in inspect_kinks.cpp, step 3 in inspect_risks.cpp, the
// declarations they share in inspect_detail.hpp.
#include <actjit/inspect.hpp>

#include <actjit/error.hpp>

#include "inspect_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace actjit {

using namespace inspection;

namespace inspection {

std::string num(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (v == 0) return "0";  // also -0
    return fmt::format("{:.4g}", v);
}

std::string short_text(const Expr& e) {
    std::string s = to_string(e);
    if (s.size() > 48) s = s.substr(0, 45) + "...";
    return s;
}

}  // namespace inspection

std::string_view to_string(Monotonicity m) noexcept {
    switch (m) {
    case Monotonicity::Increasing: return "increasing";
    case Monotonicity::NonDecreasing: return "non-decreasing";
    case Monotonicity::Decreasing: return "decreasing";
    case Monotonicity::NonIncreasing: return "non-increasing";
    case Monotonicity::None: return "no";
    }
    return "?";
}

namespace {

/// Gaussian moments integrate over [-kQuadBound, kQuadBound]: the N(0, 1) mass
/// outside is 1.5e-23.
constexpr double kQuadBound = 10;

Expr fold_constants(const Expr& e, const std::vector<std::pair<Expr, Expr>>& constants) { return simplify(substitute(e, constants)); }

/// The grid x[i] = lo + (hi - lo) i / (n - 1): exact at both ends, and at 0 for
/// a symmetric range with an odd count.
std::vector<double> make_grid(double lo, double hi, std::size_t n) {
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
    x.back() = hi;
    return x;
}

// ---- Statistics ------------------------------------------------------------------

/// E[g(x)], E[g(x)^2] for x ~ N(0, 1) with g = output `k` of fn; composite
/// 8-point Gauss-Legendre on panels of width <= 1/4 between the breakpoints.
Moments gaussian_moments(const Functions& fn, int k, const std::vector<double>& breaks) {
    static constexpr double kNodes[4] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363};
    static constexpr double kWeights[4] = {0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763};
    const double inv_sqrt_2pi = 1 / std::sqrt(2 * std::numbers::pi);
    auto phi = [&](double x) { return inv_sqrt_2pi * std::exp(-x * x / 2); };
    double m1 = 0, m2 = 0;
    bool finite = true;
    auto add = [&](double x, double w) {
        const double g = jet(fn, x).v[k];
        finite = finite && std::isfinite(g);
        m1 += w * g * phi(x);
        m2 += w * g * g * phi(x);
    };
    for (std::size_t b = 0; b + 1 < breaks.size(); ++b) {
        const double lo = breaks[b], hi = breaks[b + 1];
        const int panels = std::max(1, static_cast<int>(std::ceil((hi - lo) / 0.25)));
        const double h = (hi - lo) / panels;
        for (int p = 0; p < panels; ++p) {
            const double c = lo + (p + 0.5) * h, r = h / 2;
            for (int i = 0; i < 4; ++i) {
                add(c - r * kNodes[i], r * kWeights[i]);
                add(c + r * kNodes[i], r * kWeights[i]);
            }
        }
    }
    // Convergence: the integrand of E[g^2] must be negligible at the bounds.
    for (double x : {-kQuadBound, kQuadBound}) {
        const double g = jet(fn, x).v[k];
        finite = finite && std::isfinite(g) && g * g * phi(x) <= 1e-12 * std::max(m2, 1e-300);
    }
    if (!finite) return {};
    return {m1, std::max(0.0, m2 - m1 * m1), m2};
}

Monotonicity monotonicity(const std::vector<double>& y) {
    bool inc = true, dec = true, strict_inc = true, strict_dec = true;
    double scale = 0;
    for (double v : y) {
        if (!std::isfinite(v)) return Monotonicity::None;
        scale = std::max(scale, std::abs(v));
    }
    const double tol = 1e-12 * scale;  // rounding noise on a flat stretch
    for (std::size_t i = 1; i < y.size(); ++i) {
        const double d = y[i] - y[i - 1];
        inc = inc && d >= -tol;
        dec = dec && d <= tol;
        strict_inc = strict_inc && d > 0;
        strict_dec = strict_dec && d < 0;
    }
    return strict_inc ? Monotonicity::Increasing
           : strict_dec ? Monotonicity::Decreasing
           : inc        ? Monotonicity::NonDecreasing
           : dec        ? Monotonicity::NonIncreasing
                        : Monotonicity::None;
}

Statistics statistics(const Report& r, const Functions& fn, const std::vector<Switch>& switches) {
    Statistics s{};
    const Jet zero = jet(fn, 0.0);
    s.f0 = zero.v[0];
    s.df0 = zero.v[1];
    auto extremes = [&](const std::vector<double>& v, double& mn, double& mx, double& xmn, double& xmx) {
        mn = mx = xmn = xmx = kNaN;
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (!std::isfinite(v[i])) continue;
            if (std::isnan(mn) || v[i] < mn) mn = v[i], xmn = r.x[i];
            if (std::isnan(mx) || v[i] > mx) mx = v[i], xmx = r.x[i];
        }
    };
    extremes(r.y, s.f_min, s.f_max, s.x_f_min, s.x_f_max);
    extremes(r.dy, s.df_min, s.df_max, s.x_df_min, s.x_df_max);
    s.monotone = monotonicity(r.y);

    // Panels split at the switch points; a pole or a NaN side makes the moments
    // of f undefined, an unbounded f' those of f' (they would not be reliable).
    std::vector<double> breaks{-kQuadBound};
    bool f_defined = true, df_defined = true;
    for (const SwitchPoint& p : find_switch_points(switches, make_grid(-kQuadBound, kQuadBound, 4001))) {
        breaks.push_back(p.a);
        const Kink k = classify(fn, p);
        f_defined = f_defined && k.smoothness != Smoothness::Singular;
        df_defined = df_defined && f_defined && !(k.unbounded && k.order == 1);
    }
    breaks.push_back(kQuadBound);
    s.f = f_defined ? gaussian_moments(fn, 0, breaks) : Moments{};
    s.df = df_defined ? gaussian_moments(fn, 1, breaks) : Moments{};
    s.gain = s.f.second > 0 ? 1 / std::sqrt(s.f.second) : kNaN;
    return s;
}

void validate(const Formula& f, const InspectOptions& o) {
    if (!std::isfinite(o.lo) || !std::isfinite(o.hi))
        throw ValueError(fmt::format("inspect: the range bounds must be finite, got [{}, {}]", num(o.lo), num(o.hi)));
    if (!(o.lo < o.hi)) throw ValueError(fmt::format("inspect: the range [A, B] needs A < B, got [{}, {}]", o.lo, o.hi));
    if (std::abs(o.lo) > kMaxInspectBound || std::abs(o.hi) > kMaxInspectBound)
        throw ValueError(fmt::format("inspect: the range must lie within [-{:g}, {:g}], got [{}, {}]", kMaxInspectBound, kMaxInspectBound, o.lo, o.hi));
    if (o.hi - o.lo < 1e-9 * std::max({1.0, std::abs(o.lo), std::abs(o.hi)}))
        throw ValueError(fmt::format("inspect: the range [{}, {}] is too narrow to sample", o.lo, o.hi));
    if (o.samples < kMinInspectSamples)
        throw ValueError(fmt::format("inspect: at least {} samples are needed, got {}", kMinInspectSamples, o.samples));
    if (o.samples > kMaxInspectSamples)
        throw LimitError(fmt::format("inspect: at most {} samples, got {}", kMaxInspectSamples, o.samples));
    for (const auto& [name, value] : o.params) {
        if (!f.find_param(name)) {
            std::string known;
            for (const ParamDecl& p : f.params) known += (known.empty() ? "" : ", ") + p.name;
            throw ValueError(known.empty() ? fmt::format("inspect: the formula has no parameter '{}' (it has none)", name)
                                           : fmt::format("inspect: the formula has no parameter '{}' (its parameters: {})", name, known));
        }
        if (!std::isfinite(value)) throw ValueError(fmt::format("inspect: parameter '{}' must be finite, got {}", name, num(value)));
    }
}

}  // namespace

Report inspect(const Formula& f, const InspectOptions& o) {
    validate(f, o);
    Report r;
    r.formula = to_string(f);
    r.param_values = resolve_params(f, o.params);
    for (const ParamDecl& p : f.params) r.param_names.push_back(p.name);
    r.lo = o.lo;
    r.hi = o.hi;

    // Symbolic derivatives, parameters free.
    std::vector<Partial> partials = gradient(f);
    r.f = simplify(f.body);
    r.df = partials[0].expr;
    r.d2f = simplify(diff(r.df, input()));
    r.dparams.assign(partials.begin() + 1, partials.end());

    // The same with the parameters and the feature index folded in.
    std::vector<std::pair<Expr, Expr>> constants;
    for (std::size_t k = 0; k < r.param_names.size(); ++k) constants.emplace_back(param(r.param_names[k]), constant(r.param_values[k]));
    constants.emplace_back(feature_index(), constant(static_cast<double>(o.feature)));
    std::vector<Expr> bound{fold_constants(r.f, constants), fold_constants(r.df, constants), fold_constants(r.d2f, constants)};
    const Functions jet_fn(bound);  // f, f', f''
    std::vector<Expr> with_params = bound;
    for (const Partial& p : r.dparams) with_params.push_back(fold_constants(p.expr, constants));
    const Functions sample_fn(with_params);

    // Samples.
    r.x = make_grid(o.lo, o.hi, o.samples);
    const std::size_t n = r.x.size();
    r.y.resize(n);
    r.dy.resize(n);
    r.d2y.resize(n);
    r.dparam.assign(r.dparams.size(), std::vector<double>(n));
    std::vector<double> out(sample_fn.size());
    for (std::size_t i = 0; i < n; ++i) {
        sample_fn.at(r.x[i], out);
        r.y[i] = out[0];
        r.dy[i] = out[1];
        r.d2y[i] = out[2];
        for (std::size_t k = 0; k < r.dparams.size(); ++k) r.dparam[k][i] = out[3 + k];
    }

    // Smoothness.
    const std::vector<Switch> switches = switches_of(bound);
    find_kinks(r, jet_fn, switches);

    // Tails, risks, statistics.
    const double width = o.hi - o.lo;
    r.left = tail(jet_fn, bound[1], o.lo, width, -1);
    r.right = tail(jet_fn, bound[1], o.hi, width, 1);
    r.stats = statistics(r, jet_fn, switches);
    r.risks = find_risks(r, o, jet_fn, bound);
    std::stable_sort(r.risks.begin(), r.risks.end(), [](const Risk& a, const Risk& b) {
        return a.kind != b.kind ? a.kind < b.kind : a.lo < b.lo;
    });
    return r;
}

Report inspect(const Expr& f, const InspectOptions& options) {
    ACTJIT_ASSERT(f, "inspect() of a null expression");
    Formula formula;
    formula.body = f;
    for (std::string& name : params_of(f)) formula.params.push_back({std::move(name), std::nullopt});
    return inspect(formula, options);
}

}  // namespace actjit
