// Gradient risks: non-finite values, f32 overflow, dead zones, saturation,
// exploding and unbounded slopes, parameter gradients and f32 cancellation;
// and the tails beyond the range (step 3 of the overview in inspect.cpp).
#include "inspect_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <optional>
#include <unordered_map>

namespace actjit {

std::string_view to_string(RiskKind k) noexcept {
    switch (k) {
    case RiskKind::NonFinite: return "non-finite";
    case RiskKind::F32NonFinite: return "f32-non-finite";
    case RiskKind::DeadZone: return "dead-zone";
    case RiskKind::Saturation: return "saturation";
    case RiskKind::Exploding: return "exploding-slope";
    case RiskKind::ParamZero: return "param-zero-gradient";
    case RiskKind::ParamNonFinite: return "param-non-finite";
    case RiskKind::Precision: return "f32-precision";
    }
    return "?";
}

namespace inspection {

// ---- Risks --------------------------------------------------------------------

namespace {

/// Runs of consecutive samples where `flag(i)` holds, at least `min_len` long;
/// runs separated by at most `max_gap` unflagged samples are joined.
std::vector<std::pair<std::size_t, std::size_t>> runs(std::size_t n, std::size_t min_len, std::size_t max_gap,
                                                      const std::function<bool(std::size_t)>& flag) {
    std::vector<std::pair<std::size_t, std::size_t>> out;  // [first, last]
    for (std::size_t i = 0; i < n;) {
        if (!flag(i)) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j + 1 < n && flag(j + 1)) ++j;
        if (!out.empty() && i - out.back().second - 1 <= max_gap)
            out.back().second = j;
        else
            out.emplace_back(i, j);
        i = j + 1;
    }
    std::erase_if(out, [&](const auto& r) { return r.second - r.first + 1 < min_len; });
    return out;
}

/// The first node, in evaluation order, that is not finite while its operands
/// are: where a NaN or an infinity comes from at x.
std::string origin_of_nonfinite(const Expr& e, double x) {
    std::vector<Expr> nodes;
    for_each_node_postorder(std::span<const Expr>(&e, 1), [&](const Expr& n) { nodes.push_back(n); });
    const Functions fn(nodes);
    const std::vector<double> v = fn.at(x);
    std::unordered_map<const Node*, double> value;
    for (std::size_t i = 0; i < nodes.size(); ++i) value[nodes[i].get()] = v[i];
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (std::isfinite(v[i])) continue;
        bool operands_finite = true;
        for (const Expr& a : nodes[i].args()) operands_finite = operands_finite && std::isfinite(value.at(a.get()));
        if (operands_finite) return short_text(nodes[i]);
    }
    return {};
}

std::string nonfinite_name(double v) { return std::isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf"; }

/// The size of one f32 ulp at |v| (at least that of the smallest normal float).
double ulp32(double v) {
    const double a = std::max(std::abs(v), static_cast<double>(FLT_MIN));
    return std::ldexp(1.0, std::ilogb(a) - 23);
}

class RiskFinder {
public:
    RiskFinder(const Report& r, const InspectOptions& o, const Functions& fn, const std::vector<Expr>& bound_f)
        : r_(r), o_(o), fn_(fn), bound_f_(bound_f), n_(r.x.size()) {
        for (const Kink& k : r.kinks) switch_x_.push_back(k.x);
        switch_x_.insert(switch_x_.end(), r.smooth_switches.begin(), r.smooth_switches.end());
        std::sort(switch_x_.begin(), switch_x_.end());
    }

    std::vector<Risk> find() {
        nonfinite();
        dead_and_saturated();
        exploding();
        parameters();
        precision();
        return std::move(risks_);
    }

private:
    /// A risk on samples i..j. An end next to a switch point between two samples
    /// moves to it: a dead zone that ends where a branch starts ends there exactly.
    void add(RiskKind kind, std::size_t i, std::size_t j, std::string reason) {
        double lo = r_.x[i], hi = r_.x[j];
        if (i > 0) lo = switch_in(r_.x[i - 1], lo).value_or(lo);
        if (j + 1 < n_) hi = switch_in(hi, r_.x[j + 1]).value_or(hi);
        risks_.push_back({kind, lo, hi, std::move(reason)});
    }

    std::optional<double> switch_in(double a, double b) const {
        auto it = std::upper_bound(switch_x_.begin(), switch_x_.end(), a);
        if (it != switch_x_.end() && *it < b) return *it;
        return std::nullopt;
    }

    /// Samples where f and f' are finite (slope risks are about those).
    bool usable(std::size_t k) const { return std::isfinite(r_.y[k]) && std::isfinite(r_.dy[k]); }

    void nonfinite() {
        // f first; f' only where f is finite (a NaN f has a NaN f' anyway).
        const std::vector<double>* values[2] = {&r_.y, &r_.dy};
        for (int d = 0; d < 2; ++d) {
            const std::vector<double>& v = *values[d];
            for (auto [i, j] : runs(n_, 1, 0, [&](std::size_t k) { return !std::isfinite(v[k]) && (d == 0 || std::isfinite(r_.y[k])); })) {
                // Split a run by kind of value (NaN, inf, -inf) for the message.
                for (std::size_t s = i; s <= j;) {
                    std::size_t t = s;
                    while (t + 1 <= j && nonfinite_name(v[t + 1]) == nonfinite_name(v[s])) ++t;
                    const std::string from = origin_of_nonfinite(bound_f_[static_cast<std::size_t>(d)], r_.x[s]);
                    add(RiskKind::NonFinite, s, t,
                        fmt::format("{} is {}{}", kOrderName[d], nonfinite_name(v[s]), from.empty() ? "" : " (from " + from + ")"));
                    s = t + 1;
                }
            }
        }
        // Poles between grid points (1 / (x - 0.1234)): finite samples on both sides.
        for (const Kink& k : r_.kinks) {
            const auto above = static_cast<std::size_t>(std::upper_bound(r_.x.begin(), r_.x.end(), k.x) - r_.x.begin());
            const bool grid_finite = above > 0 && above < n_ && std::isfinite(r_.y[above - 1]) && std::isfinite(r_.y[above]);
            if (k.smoothness == Smoothness::Singular && std::isfinite(k.left) && std::isfinite(k.right) && grid_finite)
                risks_.push_back({RiskKind::NonFinite, k.x, k.x, fmt::format("{} (at {})", k.what, k.cause)});
        }
        for (const Tail* t : {&r_.left, &r_.right}) {
            if (!std::isnan(t->overflow_x))
                risks_.push_back({RiskKind::NonFinite, t->side < 0 ? -kInf : t->overflow_x, t->side < 0 ? t->overflow_x : kInf,
                                  fmt::format("beyond the range, f or f' is not finite from x = {} on", num(t->overflow_x))});
            if (!std::isnan(t->f32_overflow_x) && (std::isnan(t->overflow_x) || std::abs(t->f32_overflow_x) < std::abs(t->overflow_x)))
                risks_.push_back({RiskKind::F32NonFinite, t->side < 0 ? -kInf : t->f32_overflow_x, t->side < 0 ? t->f32_overflow_x : kInf,
                                  fmt::format("beyond the range, in f32, f or f' is not finite from x = {} on", num(t->f32_overflow_x))});
        }
    }

    void dead_and_saturated() {
        const std::vector<double>& d = r_.dy;
        auto small = [&](std::size_t k) { return usable(k) && std::abs(d[k]) < o_.dead_slope; };
        for (auto [i, j] : runs(n_, 3, 0, small)) {
            bool zero = true;
            for (std::size_t k = i; k <= j; ++k) zero = zero && d[k] == 0;
            add(RiskKind::DeadZone, i, j,
                zero ? "f' = 0: no gradient flows (dying units)"
                     : fmt::format("|f'| < {}: almost no gradient flows (dying units)", num(o_.dead_slope)));
        }
        // The slope scale: the RMS of f'(x) for x ~ N(0, 1). Without one (a pole,
        // an unbounded f') saturation is not assessed.
        const double scale = std::sqrt(r_.stats.df.second);
        if (!(scale > 0)) return;
        const double threshold = o_.saturation_fraction * scale;
        auto low = [&](std::size_t k) { return usable(k) && std::abs(d[k]) < threshold; };
        // A tail run of low slope, on a side where f' vanishes at infinity but is
        // not exactly 0 at the end (that is a dead zone, reported above).
        for (const Tail* t : {&r_.left, &r_.right}) {
            if (!(std::abs(t->far_slope) < o_.dead_slope) || d[t->side < 0 ? 0 : n_ - 1] == 0) continue;
            std::size_t i = 0, j = 0;
            if (t->side < 0) {
                if (!low(0)) continue;
                while (j + 1 < n_ && low(j + 1)) ++j;
            } else {
                if (!low(n_ - 1)) continue;
                i = j = n_ - 1;
                while (i > 0 && low(i - 1)) --i;
            }
            if (j - i + 1 < 3) continue;
            add(RiskKind::Saturation, i, j,
                fmt::format("f' -> 0 as x -> {}: |f'| < {} ({}% of the RMS slope) (saturation)", t->side < 0 ? "-inf" : "inf", num(threshold),
                            num(100 * o_.saturation_fraction)));
        }
    }

    void exploding() {
        const std::vector<double>& d = r_.dy;
        for (auto [i, j] : runs(n_, 1, 0, [&](std::size_t k) { return usable(k) && std::abs(d[k]) > o_.exploding_slope; })) {
            double worst = 0;
            for (std::size_t k = i; k <= j; ++k) worst = std::max(worst, std::abs(d[k]));
            add(RiskKind::Exploding, i, j, fmt::format("|f'| > {}, up to {} (exploding gradients)", num(o_.exploding_slope), num(worst)));
        }
        for (const Tail* t : {&r_.left, &r_.right}) {
            if (t->slope_bounded || !(t->growth >= 0.1)) continue;
            const double edge = t->side < 0 ? r_.lo : r_.hi;
            risks_.push_back({RiskKind::Exploding, t->side < 0 ? -kInf : edge, t->side < 0 ? edge : kInf,
                              std::isinf(t->growth)
                                  ? fmt::format("f' grows without bound as x -> {} (not finite at x = {})", t->side < 0 ? "-inf" : "inf",
                                                num(t->overflow_x))
                                  : fmt::format("f' grows without bound as x -> {}, like |x|^{} (|f'({})| = {})",
                                                t->side < 0 ? "-inf" : "inf", num(t->growth), num(t->far_x), num(std::abs(t->far_slope)))});
        }
    }

    void parameters() {
        // Zero-gradient runs shared by several parameters are one risk naming them all.
        std::vector<std::pair<std::pair<std::size_t, std::size_t>, std::string>> zero_runs;
        for (std::size_t p = 0; p < r_.param_names.size(); ++p) {
            const std::vector<double>& g = r_.dparam[p];
            const std::string& name = r_.param_names[p];
            auto zero = [&](std::size_t k) { return g[k] == 0; };  // structural zeros: where() branches, relu
            for (auto run : runs(n_, 3, 0, zero)) {
                auto it = std::find_if(zero_runs.begin(), zero_runs.end(), [&](const auto& z) { return z.first == run; });
                if (it == zero_runs.end())
                    zero_runs.emplace_back(run, name);
                else
                    it->second += ", " + name;
            }
            for (auto [i, j] : runs(n_, 1, 0, [&](std::size_t k) { return !std::isfinite(g[k]) && std::isfinite(r_.y[k]); }))
                add(RiskKind::ParamNonFinite, i, j, fmt::format("df/d{} is {}", name, nonfinite_name(g[i])));
        }
        for (const auto& [run, names] : zero_runs) {
            const bool whole = run.first == 0 && run.second == n_ - 1;
            add(RiskKind::ParamZero, run.first, run.second,
                fmt::format("the gradient of {} is 0{}", names,
                            whole ? " on the whole range: it cannot learn at this value" : ": no gradient from these inputs"));
        }
    }

    void precision() {
        // f and f' in float at the float-rounded grid against double at the same
        // points. Errors are in f32 ulps of the double value, floored at 2^-20 of
        // the largest |value| (so underflowing tails are not counted), and not
        // counted next to a sign change (relative error means nothing at a root).
        std::vector<double> v64[2] = {std::vector<double>(n_), std::vector<double>(n_)};
        std::vector<double> v32[2] = {std::vector<double>(n_), std::vector<double>(n_)};
        std::vector<char> overflow(n_, 0);
        float out32[3];
        double out64[3];
        for (std::size_t i = 0; i < n_; ++i) {
            const auto xf = static_cast<float>(r_.x[i]);
            fn_.at(xf, std::span<float>(out32, 3));
            fn_.at(static_cast<double>(xf), std::span<double>(out64, 3));
            for (int d = 0; d < 2; ++d) {
                v64[d][i] = out64[d];
                v32[d][i] = out32[d];
                if (std::isfinite(out64[d]) && !std::isfinite(out32[d])) overflow[i] = 1;
            }
        }
        for (auto [i, j] : runs(n_, 1, 0, [&](std::size_t k) { return overflow[k] != 0; }))
            add(RiskKind::F32NonFinite, i, j, "f or f' is not finite in f32 (overflow), finite in f64");
        const std::size_t gap = std::max<std::size_t>(2, n_ / 200);
        for (int d = 0; d < 2; ++d) {
            const std::vector<double>& ref = v64[d];
            double scale = 0;
            for (double v : ref)
                if (std::isfinite(v)) scale = std::max(scale, std::abs(v));
            const double floor = std::ldexp(scale, -20);
            std::vector<double> err(n_, 0.0);
            for (std::size_t k = 0; k < n_; ++k) {
                if (!std::isfinite(ref[k]) || !std::isfinite(v32[d][k])) continue;
                const bool near_root = (k > 0 && !(ref[k - 1] * ref[k] > 0)) || (k + 1 < n_ && !(ref[k] * ref[k + 1] > 0));
                if (!near_root) err[k] = std::abs(v32[d][k] - ref[k]) / ulp32(std::max(std::abs(ref[k]), floor));
            }
            for (auto [i, j] : runs(n_, 1, gap, [&](std::size_t k) { return err[k] > o_.f32_max_ulps; })) {
                std::size_t worst = i;
                for (std::size_t k = i; k <= j; ++k)
                    if (err[k] > err[worst]) worst = k;
                add(RiskKind::Precision, i, j,
                    fmt::format("{} in f32 is up to {} ulp off f64 (absolute error {} at x = {}): cancellation", kOrderName[d], num(err[worst]),
                                num(std::abs(v32[d][worst] - ref[worst])), num(r_.x[worst])));
            }
        }
    }

    std::vector<double> switch_x_;
    const Report& r_;
    const InspectOptions& o_;
    const Functions& fn_;
    const std::vector<Expr>& bound_f_;
    std::size_t n_;
    std::vector<Risk> risks_;
};

}  // namespace

std::vector<Risk> find_risks(const Report& r, const InspectOptions& o, const Functions& fn, const std::vector<Expr>& bound) {
    return RiskFinder(r, o, fn, bound).find();
}

// ---- Tails ----------------------------------------------------------------------

namespace {

/// The first x between a (finite) and b (not) where `finite(x)` stops holding.
template <class F>
double boundary(double a, double b, F finite) {
    for (int it = 0; it < 200; ++it) {
        const double m = a + (b - a) / 2;
        if (m == a || m == b) break;
        (finite(m) ? a : b) = m;
    }
    return display_point(a, b);
}

/// e with every comparison that interval analysis decides replaced by its
/// outcome: value_range() alone gives every comparison [0, 1], so a where()
/// would keep both branches even where one is never taken.
Expr decide_comparisons(const Expr& e) {
    std::vector<std::pair<Expr, Expr>> decided;
    for_each_node_postorder(std::span<const Expr>(&e, 1), [&](const Expr& n) {
        const Op op = n.op();
        if (op != Op::Lt && op != Op::Le && op != Op::Gt && op != Op::Ge && op != Op::Eq && op != Op::Ne) return;
        const Interval d = value_range(n.arg(0) - n.arg(1));  // a - b < 0 exactly when a < b, for numbers
        if (d.maybe_nan) return;
        bool yes = false, no = false;
        switch (op) {
        case Op::Lt: yes = d.hi < 0, no = d.lo >= 0; break;
        case Op::Le: yes = d.hi <= 0, no = d.lo > 0; break;
        case Op::Gt: yes = d.lo > 0, no = d.hi <= 0; break;
        case Op::Ge: yes = d.lo >= 0, no = d.hi < 0; break;
        case Op::Eq: no = d.excludes_zero(); break;
        case Op::Ne: yes = d.excludes_zero(); break;
        default: break;
        }
        if (yes || no) decided.emplace_back(n, constant(yes ? 1.0 : 0.0));
    });
    return decided.empty() ? e : simplify(substitute(e, decided));
}

}  // namespace

Tail tail(const Functions& fn, const Expr& bound_df, double edge, double width, int side) {
    Tail t;
    t.side = side;
    // Interval analysis of f' over [edge, inf) (or (-inf, edge]): x = edge +- |u|.
    const Expr beyond = side > 0 ? constant(edge) + call(Op::Abs, input()) : constant(edge) - call(Op::Abs, input());
    const std::pair<Expr, Expr> sub[1] = {{input(), beyond}};
    t.slope_range = value_range(decide_comparisons(substitute(bound_df, sub)));
    t.slope_bounded = std::isfinite(t.slope_range.lo) && std::isfinite(t.slope_range.hi) && !t.slope_range.maybe_nan;

    auto finite64 = [&](double x) {
        const Jet j = jet(fn, x);
        return std::isfinite(j.v[0]) && std::isfinite(j.v[1]);
    };
    auto finite32 = [&](double x) {
        float v[3];
        fn.at(static_cast<float>(x), std::span<float>(v, 3));
        return std::isfinite(v[0]) && std::isfinite(v[1]);
    };
    // Probes at edge +- width 4^k, up to about 3e6 |width| / 12.
    constexpr int kProbes = 10;
    double xs[kProbes], slope[kProbes];
    double prev = edge;
    bool ok64 = finite64(edge), ok32 = finite32(edge);
    for (int k = 0; k < kProbes; ++k) {
        xs[k] = edge + side * width * std::ldexp(1.0, 2 * k);
        slope[k] = jet(fn, xs[k]).v[1];
        if (ok64 && !finite64(xs[k])) {
            t.overflow_x = boundary(prev, xs[k], finite64);
            ok64 = false;
        }
        if (ok32 && !finite32(xs[k]) && std::abs(xs[k]) < FLT_MAX) {
            t.f32_overflow_x = boundary(prev, xs[k], finite32);
            ok32 = false;
        }
        prev = xs[k];
    }
    t.far_x = xs[kProbes - 1];
    t.far_slope = slope[kProbes - 1];
    const double s1 = std::abs(slope[kProbes - 2]), s2 = std::abs(slope[kProbes - 1]);
    if (!std::isfinite(s2) || !std::isfinite(s1))
        t.growth = std::isnan(t.overflow_x) ? kNaN : kInf;
    else if (s1 > 0 && s2 > 0)
        t.growth = std::log(s2 / s1) / std::log(std::abs(xs[kProbes - 1] / xs[kProbes - 2]));
    else
        t.growth = s2 > 0 ? kInf : 0.0;
    if (!std::isnan(t.overflow_x) && !std::isfinite(t.growth)) t.growth = kInf;
    return t;
}

}  // namespace inspection

}  // namespace actjit
