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
#include <actjit/inspect.hpp>

#include <actjit/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace actjit {

std::string_view to_string(Smoothness s) noexcept {
    switch (s) {
    case Smoothness::Singular: return "singular";
    case Smoothness::Discontinuous: return "discontinuous";
    case Smoothness::C0: return "C0";
    case Smoothness::C1: return "C1";
    case Smoothness::C2: return "C2";
    case Smoothness::CInfinity: return "C-infinity";
    }
    return "?";
}

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

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
/// Gaussian moments integrate over [-kQuadBound, kQuadBound]: the N(0, 1) mass
/// outside is 1.5e-23.
constexpr double kQuadBound = 10;

/// A number as the messages show it: 4 significant digits, "NaN", "inf".
std::string num(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (v == 0) return "0";  // also -0
    return fmt::format("{:.4g}", v);
}

/// An expression as the messages show it: at most 48 characters.
std::string short_text(const Expr& e) {
    std::string s = to_string(e);
    if (s.size() > 48) s = s.substr(0, 45) + "...";
    return s;
}

/// The same value for the purpose of detecting a change (NaN equals NaN).
bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

/// Expressions of x alone (parameters already folded in), evaluated together.
class Functions {
public:
    explicit Functions(std::vector<Expr> outputs) : outputs_(std::move(outputs)), interp_(outputs_, {}) {}
    std::size_t size() const { return outputs_.size(); }
    void at(double x, std::span<double> out) const { interp_.run<double>(x, 0, {}, out); }
    void at(float x, std::span<float> out) const { interp_.run<float>(x, 0, {}, out); }
    std::vector<double> at(double x) const {
        std::vector<double> out(size());
        at(x, out);
        return out;
    }

private:
    std::vector<Expr> outputs_;
    Interpreter interp_;
};

Expr fold_constants(const Expr& e, const std::vector<std::pair<Expr, Expr>>& constants) { return simplify(substitute(e, constants)); }

// ---- Switches ----------------------------------------------------------------

struct Switch {
    Expr indicator;  // changes value exactly where `cause` switches
    Expr cause;
};

bool is_condition(Op op) {
    switch (op) {
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge:
    case Op::Eq:
    case Op::Ne:
    case Op::And:
    case Op::Or:
    case Op::Not: return true;
    default: return false;
    }
}

/// The indicators of every node of the roots that can switch as x varies.
std::vector<Switch> switches_of(std::span<const Expr> roots) {
    const Expr x = input();
    std::vector<Switch> out;
    std::unordered_set<Expr, ExprHash> seen;
    auto add = [&](const Expr& indicator, const Expr& cause) {
        if (!indicator.is_const() && seen.insert(indicator).second) out.push_back({indicator, cause});
    };
    auto sign = [](const Expr& u) { return call(Op::Sign, u); };
    for_each_node_postorder(roots, [&](const Expr& n) {
        if (n.num_args() == 0 || !depends_on(n, x)) return;
        const Expr& u = n.arg(0);
        switch (n.op()) {
        // Conditions switch where their truth value changes: they are their own indicator.
        case Op::Lt:
        case Op::Le:
        case Op::Gt:
        case Op::Ge:
        case Op::Eq:
        case Op::Ne: add(n, n); break;
        case Op::Where:
            if (!is_condition(u.op())) add(build(Op::Ne, {u, constant(0)}), n);
            break;
        // Kinks and jumps of the piecewise builtins.
        case Op::Relu:
        case Op::Abs:
        case Op::Sign: add(sign(u), n); break;
        case Op::Min:
        case Op::Max: add(sign(u - n.arg(1)), n); break;
        case Op::Clamp:
            add(sign(u - n.arg(1)), n);
            add(sign(u - n.arg(2)), n);
            break;
        case Op::Floor: add(n, n); break;
        case Op::Mod: add(call(Op::Floor, u / n.arg(1)), n); break;
        // Domain boundaries and poles.
        case Op::Div: add(sign(n.arg(1)), n); break;
        case Op::Pow:
            // a^n with a constant integer n >= 0 is a polynomial: smooth everywhere.
            if (!(n.arg(1).is_const() && n.arg(1).value() >= 0 && std::floor(n.arg(1).value()) == n.arg(1).value()))
                add(sign(u), n);
            break;
        case Op::Log:
        case Op::Log2:
        case Op::Log10:
        case Op::Sqrt:
        case Op::Cbrt: add(sign(u), n); break;
        case Op::Log1p: add(sign(u + 1.0), n); break;
        case Op::Asin:
        case Op::Acos:
        case Op::Atanh:
            add(sign(u - 1.0), n);
            add(sign(u + 1.0), n);
            break;
        case Op::Acosh: add(sign(u - 1.0), n); break;
        // tan has poles at pi/2 + k pi, where floor(u / pi + 1/2) steps.
        case Op::Tan: add(call(Op::Floor, u / std::numbers::pi + 0.5), n); break;
        default: break;
        }
    });
    return out;
}

struct SwitchPoint {
    double a, b;  // adjacent (or nearly) doubles with the indicator different at each
    Expr cause;
};

/// A round number in [a, b] for display: the midpoint with its noise removed.
double display_point(double a, double b) {
    const double m = a + (b - a) / 2;
    const double q = 1e-10 * std::max(1.0, std::abs(m));
    const double r = std::round(m / q) * q;
    return r == 0 ? 0.0 : r;  // never -0
}

/// Every point of [grid.front(), grid.back()] where some indicator changes value.
std::vector<SwitchPoint> find_switch_points(const std::vector<Switch>& switches, const std::vector<double>& grid) {
    std::vector<SwitchPoint> points;
    if (switches.empty()) return points;
    std::vector<Expr> indicators;
    for (const Switch& s : switches) indicators.push_back(s.indicator);
    const Functions fn(indicators);
    const std::size_t k = fn.size();
    std::vector<double> prev = fn.at(grid[0]), cur(k), mid(k);
    for (std::size_t i = 1; i < grid.size(); ++i) {
        fn.at(grid[i], cur);
        for (std::size_t j = 0; j < k; ++j) {
            if (same(prev[j], cur[j])) continue;
            // Bisect: keep the indicator's left value at a and something else at b.
            double a = grid[i - 1], b = grid[i];
            const double va = prev[j];
            for (int it = 0; it < 2100; ++it) {  // more than enough halvings for any two doubles
                const double m = a + (b - a) / 2;
                if (m <= a || m >= b) break;
                fn.at(m, mid);
                (same(mid[j], va) ? a : b) = m;
            }
            points.push_back({a, b, switches[j].cause});
        }
        std::swap(prev, cur);
    }
    // One point per place: different indicators switching at the same x merge.
    std::sort(points.begin(), points.end(), [](const SwitchPoint& p, const SwitchPoint& q) { return p.a < q.a; });
    std::vector<SwitchPoint> merged;
    for (const SwitchPoint& p : points) {
        if (!merged.empty() && p.a - merged.back().b <= 1e-9 * std::max(1.0, std::abs(p.a))) {
            merged.back().b = std::max(merged.back().b, p.b);
            continue;
        }
        merged.push_back(p);
    }
    return merged;
}

/// The grid x[i] = lo + (hi - lo) i / (n - 1): exact at both ends, and at 0 for
/// a symmetric range with an odd count.
std::vector<double> make_grid(double lo, double hi, std::size_t n) {
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
    x.back() = hi;
    return x;
}

// ---- Kinks ------------------------------------------------------------------

/// The derivatives of order 0..2 of f at one point: fn outputs f, f', f''.
struct Jet {
    double v[3];
};

Jet jet(const Functions& fn, double x) {
    Jet j{};
    fn.at(x, std::span<double>(j.v, 3));
    return j;
}

/// Whether derivative k grows without bound approaching x from the side of
/// `near` (at distance delta) and `nearer` (distance delta / 1000).
bool blows_up(double near, double nearer) {
    return !std::isfinite(nearer) || (std::abs(nearer) > 1e3 && std::abs(nearer) > 2 * std::abs(near));
}

constexpr const char* kOrderName[3] = {"f", "f'", "f''"};

/// Classify a switch point from one-sided limits of f, f', f'' (C2 when none jumps).
Kink classify(const Functions& fn, const SwitchPoint& p) {
    Kink k;
    k.x = display_point(p.a, p.b);
    k.cause = short_text(p.cause);
    const double delta = 1e-7 * std::max(1.0, std::abs(k.x));
    const Jet at_a = jet(fn, p.a), at_b = jet(fn, p.b);
    const Jet l = jet(fn, p.a - delta), r = jet(fn, p.b + delta);
    const Jet ll = jet(fn, p.a - delta * 1e-3), rr = jet(fn, p.b + delta * 1e-3);
    // A derivative blows up when it grows as the step shrinks; f also when it is
    // not finite at the point itself. (A derivative's value at the point is a
    // convention, relu'(0) = 0, and may be 0/0 where the sides are finite.)
    auto unbounded = [&](int order) {
        return (order == 0 && (!std::isfinite(at_a.v[0]) || !std::isfinite(at_b.v[0]))) || blows_up(l.v[order], ll.v[order]) ||
               blows_up(r.v[order], rr.v[order]);
    };
    for (int order = 0; order < 3; ++order) {
        k.order = order;
        const Smoothness cls = order == 0 ? Smoothness::Discontinuous : order == 1 ? Smoothness::C0 : Smoothness::C1;
        const char* name = kOrderName[order];
        k.left = l.v[order];
        k.right = r.v[order];
        if (order == 0 && (!std::isfinite(k.left) || !std::isfinite(k.right) || unbounded(0))) {
            k.smoothness = Smoothness::Singular;
            k.unbounded = true;
            k.what = std::isfinite(k.left) && std::isfinite(k.right)
                         ? "pole: |f| grows without bound"
                         : fmt::format("f is {} on the left, {} at the point, {} on the right", num(k.left), num(jet(fn, k.x).v[0]), num(k.right));
            return k;
        }
        if (!std::isfinite(k.left) || !std::isfinite(k.right) || unbounded(order)) {
            k.smoothness = cls;
            k.unbounded = true;
            k.what = fmt::format("{} is unbounded near the point", name);
            return k;
        }
        const double scale = std::max({1.0, std::abs(k.left), std::abs(k.right)});
        const double tol = (order == 2 ? 1e-4 : 1e-6) * scale;
        bool jumps = false;
        if (order < 2 && unbounded(order + 1)) {
            // A vertical tangent next: extrapolating is meaningless, but a
            // continuous function's gap shrinks with the step, a jump's does not.
            const double gap = std::abs(r.v[order] - l.v[order]), nearer_gap = std::abs(rr.v[order] - ll.v[order]);
            jumps = nearer_gap > tol && nearer_gap > 0.5 * gap;
        } else if (order < 2) {
            // The one-sided values extrapolated to the point with the next derivative.
            k.left += delta * l.v[order + 1];
            k.right -= delta * r.v[order + 1];
            jumps = std::abs(k.right - k.left) > tol;
        } else {
            jumps = std::abs(k.right - k.left) > tol;
        }
        if (jumps) {
            k.smoothness = cls;
            k.what = fmt::format("{} jumps from {} to {}", name, num(k.left), num(k.right));
            return k;
        }
    }
    k.smoothness = Smoothness::C2;
    return k;
}

// ---- Risks --------------------------------------------------------------------

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

// ---- Tails ----------------------------------------------------------------------

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
    r.smoothness = switches.empty() ? Smoothness::CInfinity : Smoothness::C2;
    for (const SwitchPoint& p : find_switch_points(switches, r.x)) {
        Kink k = classify(jet_fn, p);
        if (k.smoothness == Smoothness::C2) {
            r.smooth_switches.push_back(k.x);
            continue;
        }
        r.smoothness = std::min(r.smoothness, k.smoothness);
        r.kinks.push_back(std::move(k));
    }
    if (r.smoothness == Smoothness::C2 && r.smooth_switches.empty()) r.smoothness = Smoothness::CInfinity;  // nothing switches on the range
    for (double v : r.y)
        if (!std::isfinite(v)) r.smoothness = Smoothness::Singular;

    // Tails, risks, statistics.
    const double width = o.hi - o.lo;
    r.left = tail(jet_fn, bound[1], o.lo, width, -1);
    r.right = tail(jet_fn, bound[1], o.hi, width, 1);
    r.stats = statistics(r, jet_fn, switches);
    r.risks = RiskFinder(r, o, jet_fn, bound).find();
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
