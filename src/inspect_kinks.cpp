// Kinks: the switch points where f can stop being smooth, found symbolically,
// bisected to adjacent doubles and classified from one-sided limits; and the
// range's smoothness class (steps 1 and 2 of the overview in inspect.cpp).
#include "inspect_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
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

namespace inspection {

namespace {

/// The same value for the purpose of detecting a change (NaN equals NaN).
bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

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

/// Whether derivative k grows without bound approaching x from the side of
/// `near` (at distance delta) and `nearer` (distance delta / 1000).
bool blows_up(double near, double nearer) {
    return !std::isfinite(nearer) || (std::abs(nearer) > 1e3 && std::abs(nearer) > 2 * std::abs(near));
}

}  // namespace

// ---- Switches ----------------------------------------------------------------

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

double display_point(double a, double b) {
    const double m = a + (b - a) / 2;
    const double q = 1e-10 * std::max(1.0, std::abs(m));
    const double r = std::round(m / q) * q;
    return r == 0 ? 0.0 : r;  // never -0
}

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

// ---- Kinks ------------------------------------------------------------------

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

void find_kinks(Report& r, const Functions& fn, const std::vector<Switch>& switches) {
    r.smoothness = switches.empty() ? Smoothness::CInfinity : Smoothness::C2;
    for (const SwitchPoint& p : find_switch_points(switches, r.x)) {
        Kink k = classify(fn, p);
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
}

}  // namespace inspection

}  // namespace actjit
