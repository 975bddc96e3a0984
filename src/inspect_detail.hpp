// inspect()'s internals, shared by src/inspect.cpp (the driver, statistics),
// src/inspect_kinks.cpp (switch points, kinks, smoothness class) and
// src/inspect_risks.cpp (tails, gradient risks). Private to src/.
//
// Everything works on expressions of x alone: the formula with its parameters
// and the feature index folded in as constants.
#pragma once

#include <actjit/inspect.hpp>

#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace actjit::inspection {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

/// A number as the messages show it: 4 significant digits, "NaN", "inf".
std::string num(double v);
/// An expression as the messages show it: at most 48 characters.
std::string short_text(const Expr& e);

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

/// The derivatives of order 0..2 of f at one point: fn outputs f, f', f''.
struct Jet {
    double v[3];
};

inline Jet jet(const Functions& fn, double x) {
    Jet j{};
    fn.at(x, std::span<double>(j.v, 3));
    return j;
}

inline constexpr const char* kOrderName[3] = {"f", "f'", "f''"};

// ---- Switches and kinks (inspect_kinks.cpp) ------------------------------------

struct Switch {
    Expr indicator;  // changes value exactly where `cause` switches
    Expr cause;
};

/// The indicators of every node of the roots that can switch as x varies.
std::vector<Switch> switches_of(std::span<const Expr> roots);

struct SwitchPoint {
    double a, b;  // adjacent (or nearly) doubles with the indicator different at each
    Expr cause;
};

/// A round number in [a, b] for display: the midpoint with its noise removed.
double display_point(double a, double b);

/// Every point of [grid.front(), grid.back()] where some indicator changes value.
std::vector<SwitchPoint> find_switch_points(const std::vector<Switch>& switches, const std::vector<double>& grid);

/// Classify a switch point from one-sided limits of f, f', f'' (C2 when none jumps).
Kink classify(const Functions& fn, const SwitchPoint& p);

/// r.kinks, r.smooth_switches and the range's smoothness class r.smoothness,
/// from the switch points on the sampled grid r.x (and the samples r.y).
void find_kinks(Report& r, const Functions& fn, const std::vector<Switch>& switches);

// ---- Tails and risks (inspect_risks.cpp) ------------------------------------------

/// f' beyond `edge` on `side` (-1: below, 1: above) of a range `width` wide:
/// interval analysis of bound_df, probes at growing distance, overflow points.
Tail tail(const Functions& fn, const Expr& bound_df, double edge, double width, int side);

/// The gradient risks of r, whose samples, kinks, tails and statistics are
/// filled in; bound holds f, f', f'' with the parameters folded in.
std::vector<Risk> find_risks(const Report& r, const InspectOptions& o, const Functions& fn, const std::vector<Expr>& bound);

}  // namespace actjit::inspection
