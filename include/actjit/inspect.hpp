// Inspection of an activation before training: what it and its derivatives
// look like, where it is not smooth, and where it is dangerous for training.
//
//   Report r = inspect(parse_formula("relu(x)^(softsign(s) + 1)"), {.lo = -4, .hi = 4});
//   r.smoothness;   // Smoothness::C0
//   r.kinks[0];     // x = 0: "f' jumps from 0 to 1", caused by relu(x)
//   r.risks;        // dead zone on [-4, 0], ...
//
// Everything is computed with the reference interpreter (double, and float for
// the f32 checks) on the symbolic derivatives of diff.hpp; no JIT is involved.
// Kinks are found symbolically (the points where a comparison, relu, abs, min,
// max, clamp, floor, or a domain boundary of log, sqrt, pow, / ... switches) and
// confirmed numerically from one-sided limits. docs/INSPECT.md explains every
// field. Thread-safe: inspect() has no shared state.
#pragma once

#include <actjit/build.hpp>
#include <actjit/diff.hpp>
#include <actjit/eval.hpp>
#include <actjit/formula.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace actjit {

/// Sample counts above this are a LimitError.
inline constexpr std::size_t kMaxInspectSamples = 1'000'000;
/// Sample counts below this are a ValueError (kinks need a grid to bracket).
inline constexpr std::size_t kMinInspectSamples = 11;
/// Range bounds beyond +-this are a ValueError.
inline constexpr double kMaxInspectBound = 1e6;

struct InspectOptions {
    double lo = -6;             // the x range [lo, hi] sampled
    double hi = 6;
    std::size_t samples = 2001;  // grid points, lo and hi included
    ParamValues params = {};     // parameter values; others take their defaults
    std::int64_t feature = 0;    // the feature index, for formulas that use it
    // Thresholds of the gradient risks (docs/INSPECT.md).
    double dead_slope = 1e-6;           // |f'| below this: a dead zone
    double saturation_fraction = 0.05;  // |f'| below this fraction of its RMS for x ~ N(0, 1), -> 0 at infinity
    double exploding_slope = 1e3;       // |f'| above this
    double f32_max_ulps = 1024;         // f32 further than this from f64, in f32 ulps (1024: ~1e-4 relative)
};

/// How smooth f is at a point or on the whole range, from worst to best.
enum class Smoothness : std::uint8_t {
    Singular,       // f is not finite (NaN, a pole, an overflow)
    Discontinuous,  // f jumps
    C0,             // f continuous, f' jumps or is unbounded
    C1,             // f' continuous, f'' jumps or is unbounded
    C2,             // f'' continuous where a branch switches (higher orders not checked)
    CInfinity,      // no switch point at all: every operation is smooth on the range
};
std::string_view to_string(Smoothness s) noexcept;  // "singular", ..., "C2", "C-infinity"

/// A point where f, f' or f'' is not continuous.
struct Kink {
    double x = 0;
    Smoothness smoothness = Smoothness::C0;  // the class of f at x
    int order = 0;              // the derivative that jumps or blows up: 0 f, 1 f', 2 f''
    bool unbounded = false;     // it blows up (a pole, a vertical tangent, a NaN side) rather than jumps
    double left = 0, right = 0;  // its one-sided limits (NaN or infinite when singular)
    std::string what;           // "f' jumps from 0 to 1"
    std::string cause;          // the sub-expression that switches at x, e.g. "x < -1"
};

enum class RiskKind : std::uint8_t {
    NonFinite,       // f or f' is NaN or infinite (in double)
    F32NonFinite,    // finite in double, NaN or infinite in float (overflow)
    DeadZone,        // |f'| < dead_slope: no gradient flows
    Saturation,      // |f'| small and vanishing as |x| grows
    Exploding,       // |f'| > exploding_slope, or growing without bound beyond the range
    ParamZero,       // d f / d parameter vanishes: the parameter gets no gradient
    ParamNonFinite,  // d f / d parameter is NaN or infinite
    Precision,       // f32 disagrees with f64 by more than f32_max_ulps (cancellation)
};
std::string_view to_string(RiskKind k) noexcept;  // "non-finite", "f32-non-finite", "dead-zone", ...

/// A danger for training on an x interval [lo, hi] (lo == hi for one point;
/// infinite bounds for a risk beyond the sampled range).
struct Risk {
    RiskKind kind;
    double lo, hi;
    std::string reason;  // "f' = 0: no gradient flows (dying units)"
};

/// What f' does beyond one end of the range.
struct Tail {
    int side = 1;                  // -1: x -> -inf, +1: x -> +inf
    Interval slope_range;          // interval analysis of f' on that side
    bool slope_bounded = false;    // slope_range is finite and NaN-free (proved)
    double far_x = 0;              // the farthest point probed
    double far_slope = 0;          // f' there (double)
    double growth = 0;             // d log|f'| / d log|x| at the far end (1: f' grows like |x|)
    double overflow_x = std::numeric_limits<double>::quiet_NaN();      // where f or f' first stops being finite in double (NaN: never, up to far_x)
    double f32_overflow_x = std::numeric_limits<double>::quiet_NaN();  // the same in float
};

/// Mean, variance and second moment of a function of x ~ N(0, 1); NaN when
/// the function is not finite somewhere or the integral does not converge.
struct Moments {
    double mean = std::numeric_limits<double>::quiet_NaN();
    double variance = std::numeric_limits<double>::quiet_NaN();
    double second = std::numeric_limits<double>::quiet_NaN();
};

enum class Monotonicity : std::uint8_t { Increasing, NonDecreasing, Decreasing, NonIncreasing, None };
std::string_view to_string(Monotonicity m) noexcept;  // "increasing", "non-decreasing", ..., "no"

struct Statistics {
    double f0, df0;                        // f(0), f'(0)
    double f_min, f_max, x_f_min, x_f_max;  // over the finite samples (NaN if none)
    double df_min, df_max, x_df_min, x_df_max;
    Monotonicity monotone;                 // of f on the range
    Moments f, df;                         // of f(x) and f'(x) for x ~ N(0, 1)
    double gain;                           // 1 / sqrt(E[f(x)^2]): the init gain (He's sqrt(2) for relu)
};

struct Report {
    std::string formula;                      // the formula as text
    std::vector<std::string> param_names;     // in the formula's order
    std::vector<double> param_values;         // the values used
    Expr f, df, d2f;                          // f and its simplified derivatives (parameters free)
    std::vector<Partial> dparams;             // d f / d each parameter, simplified
    double lo, hi;                            // the range sampled

    // Samples on the grid x[i] = lo + (hi - lo) i / (samples - 1).
    std::vector<double> x, y, dy, d2y;
    std::vector<std::vector<double>> dparam;  // dparam[k][i] = d f / d param k at x[i]

    Smoothness smoothness;                    // on the range (the worst point)
    std::vector<Kink> kinks;                  // sorted by x
    std::vector<double> smooth_switches;      // switch points with no jump up to f''
    std::vector<Risk> risks;                  // grouped by kind, sorted by x within a kind
    Tail left, right;
    Statistics stats;
};

/// Inspect a formula (parameter defaults from its declarations or the catalog).
/// Throws ValueError for a bad range, sample count below kMinInspectSamples,
/// an unknown parameter, a non-finite parameter value or a parameter with no
/// value; LimitError for more than kMaxInspectSamples samples.
Report inspect(const Formula& f, const InspectOptions& options = {});
/// Inspect an expression; its parameters have no defaults.
Report inspect(const Expr& f, const InspectOptions& options = {});

}  // namespace actjit
