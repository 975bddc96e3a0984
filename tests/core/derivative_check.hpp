// Test helpers shared by the derivative tests: central finite differences with
// a kink detector, and a comparison with a tolerance that accounts for the
// round-off of the difference quotient.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace actjit::test {

struct FiniteDifference {
    bool usable = false;  // finite values around x0 and no kink between them
    double slope = 0;     // central difference
    double tolerance = 0; // how far an exact derivative may be from `slope`
};

/// The central difference of f at x0 with step 1e-6 * max(1, |x0|). Not usable
/// when f is not finite at x0 +- h, or when the left and right one-sided
/// differences disagree (a kink or jump inside [x0 - h, x0 + h]), or when the
/// curvature is so large that the difference quotient is not meaningful.
inline FiniteDifference finite_difference(const std::function<double(double)>& f, double x0) {
    FiniteDifference r;
    const double h = 1e-6 * std::max(1.0, std::abs(x0));
    const double fm = f(x0 - h), f0 = f(x0), fp = f(x0 + h);
    if (!std::isfinite(fm) || !std::isfinite(f0) || !std::isfinite(fp)) return r;
    const double left = (f0 - fm) / h, right = (fp - f0) / h;
    r.slope = (fp - fm) / (2 * h);
    const double roundoff = 64 * std::numeric_limits<double>::epsilon() * (std::abs(fm) + std::abs(f0) + std::abs(fp)) / h;
    r.tolerance = 2e-5 * (1 + std::abs(r.slope)) + roundoff;
    // Smooth functions have left - right ~ f'' h; a kink makes it O(1).
    r.usable = std::abs(left - right) <= 1e-3 * (1 + std::abs(r.slope)) + 4 * roundoff;
    return r;
}

/// A finite difference that is also stable under halving the step: for
/// arbitrary (possibly ill-conditioned) expressions, where a single difference
/// quotient may be dominated by round-off or curvature.
inline FiniteDifference converged_finite_difference(const std::function<double(double)>& f, double x0) {
    FiniteDifference r = finite_difference(f, x0);
    if (!r.usable) return r;
    const double h = 0.5e-6 * std::max(1.0, std::abs(x0));
    const double fm = f(x0 - h), fp = f(x0 + h);
    const double half = (fp - fm) / (2 * h);
    r.usable = std::isfinite(half) && std::abs(half - r.slope) <= r.tolerance;
    r.tolerance *= 2;
    return r;
}

/// True when `exact` agrees with the finite difference.
inline bool agrees(double exact, const FiniteDifference& fd) {
    return std::isfinite(exact) && std::abs(exact - fd.slope) <= fd.tolerance;
}

}  // namespace actjit::test
