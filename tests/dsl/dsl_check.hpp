// Shared checks of the DSL tests: one DSL expression against the runtime
// (to_expr -> parse round trip, Interpreter values, actjit::diff, finite
// differences) and against the JIT kernels.
#pragma once

#include <actjit/diff.hpp>
#include <actjit/dsl.hpp>
#include <actjit/eval.hpp>
#include <actjit/formula.hpp>
#ifdef ACTJIT_DSL_TEST_JIT
#include <actjit/jit.hpp>
#endif

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace dsltest {

namespace dsl = actjit::dsl;

/// |a - b| <= atol + rtol * max(|a|, |b|); NaN matches NaN, Inf matches itself.
inline bool close(double a, double b, double rtol, double atol) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::abs(a - b) <= atol + rtol * std::max(std::abs(a), std::abs(b));
}

/// Points away from every kink of the catalog (0, +-1, +-3, +-c, c/3, ...).
inline const std::vector<double>& points() {
    static const std::vector<double> xs = {-4.3,  -3.1,  -2.05, -1.5, -0.93, -0.5, -0.27, -0.11, -0.0731, -0.021,
                                           0.013, 0.047, 0.07,  0.19, 0.42,  0.77, 1.23,  1.9,   2.6,     3.4,
                                           4.9,   7.3};
    return xs;
}

/// The runtime's name -> value map of a params(...) pack.
template <class... B>
actjit::ParamValues to_map(const dsl::param_values<B...>& ps) {
    actjit::ParamValues m;
    std::apply([&](const auto&... b) { ((m[std::string(b.name)] = b.value), ...); }, ps.values);
    return m;
}
inline actjit::ParamValues to_map(const dsl::no_params&) { return {}; }

struct Partial {
    std::string name;                      // "x" or a parameter name
    std::function<double(double)> native;  // the DSL derivative, evaluated natively
    actjit::Expr leaf;                     // input() or param(name)
};

template <class E, class P>
std::vector<Partial> partials(E e, const P& ps, std::int64_t feature) {
    std::vector<Partial> out;
    out.push_back({"x", [ps, feature](double xv) { return dsl::d(E{}, dsl::x)(xv, ps, feature); }, actjit::input()});
    [&]<class... Param>(dsl::type_list<Param...>) {
        (out.push_back({std::string(Param::name),
                        [ps, feature](double xv) { return dsl::d(E{}, Param{})(xv, ps, feature); },
                        actjit::param(Param::name)}),
         ...);
    }(dsl::params_of_t<E>{});
    (void)e;
    return out;
}

/// Everything that does not need the JIT, at every point:
///  - parse_expr(to_string(e)) is to_expr(e) (the same node);
///  - native double evaluation matches the reference interpreter;
///  - each DSL partial (d/dx, d/dparam) matches the runtime diff() of
///    to_expr(e), and a central finite difference wherever the function is
///    smooth around the point (most points must be smooth).
template <class E, class P = dsl::no_params>
void check_against_runtime(E e, const P& ps = {}, std::int64_t feature = 0) {
    const actjit::Expr ex = dsl::to_expr(e);
    const std::string text = dsl::to_string(e);
    INFO("expression: " << text);
    CHECK(actjit::parse_expr(text).same_as(ex));
    // Derivative types print and parse back too (they hold folded, negative constants).
    const actjit::Expr dex = dsl::to_expr(dsl::d(e, dsl::x));
    CHECK(actjit::parse_expr(dsl::to_string(dsl::d(e, dsl::x))).same_as(dex));
    const actjit::ParamValues map = to_map(ps);

    for (double xv : points()) {
        INFO("x = " << xv);
        CHECK(close(e(xv, ps, feature), actjit::evaluate(ex, xv, map, feature), 1e-13, 1e-300));
    }
    for (const Partial& p : partials(e, ps, feature)) {
        INFO("d/d" << p.name);
        const actjit::Expr runtime = actjit::diff(ex, p.leaf);
        std::size_t smooth = 0;
        for (double xv : points()) {
            INFO("x = " << xv);
            const double g = p.native(xv);
            CHECK(close(g, actjit::evaluate(runtime, xv, map, feature), 1e-11, 1e-13));
            // Central and one-sided differences of the function in p.
            auto f_at = [&](double delta) {
                actjit::ParamValues m = map;
                double xx = xv;
                if (p.name == "x") xx += delta; else m[p.name] += delta;
                return actjit::evaluate(ex, xx, m, feature);
            };
            const double base = p.name == "x" ? xv : map.at(p.name);
            const double h = 1e-6 * std::max(1.0, std::abs(base));
            const double f0 = f_at(0), fp = f_at(h), fm = f_at(-h);
            const double central = (fp - fm) / (2 * h), right = (fp - f0) / h, left = (f0 - fm) / h;
            if (!std::isfinite(central) || !std::isfinite(g)) continue;
            if (!close(right, left, 1e-3, 1e-4)) continue;  // a kink or a jump: no derivative to compare
            ++smooth;
            CHECK(close(g, central, 2e-5, 2e-6));
        }
        CHECK(smooth >= points().size() / 2);
    }
}

#ifdef ACTJIT_DSL_TEST_JIT
/// JIT kernels from compile(e) (every parameter Fixed at its value in ps)
/// against native evaluation: forward and backward, f64 and f32, on a
/// [rows x 2] tensor (features 0 and 1).
template <class E, class P = dsl::no_params>
void check_against_jit(E e, const P& ps = {}) {
    INFO("expression: " << dsl::to_string(e));
    const auto& xs = points();
    const std::int64_t cols = 2, rows = static_cast<std::int64_t>(xs.size());
    std::vector<double> x2, dy2;
    for (double xv : xs)
        for (int c = 0; c < cols; ++c) {
            x2.push_back(xv + 0.001 * c);
            dy2.push_back(0.5 + 0.25 * c);
        }
    dsl::compile_options options;
    for (std::string_view name : dsl::param_names(e))  // only the expression's own parameters
        options.values.emplace_back(std::string(name), to_map(ps).at(std::string(name)));

    options.dtype = actjit::DType::f64;
    const actjit::Kernel k64 = actjit::compile(e, options);
    std::vector<double> y(x2.size()), dx(x2.size());
    k64.forward(x2.data(), y.data(), rows, cols);
    k64.backward(x2.data(), dy2.data(), dx.data(), rows, cols);
    for (std::size_t i = 0; i < x2.size(); ++i) {
        const std::int64_t feature = static_cast<std::int64_t>(i) % cols;
        INFO("x = " << x2[i] << ", feature " << feature);
        CHECK(close(y[i], e(x2[i], ps, feature), 1e-12, 1e-14));
        CHECK(close(dx[i], dy2[i] * dsl::d(e, dsl::x)(x2[i], ps, feature), 1e-11, 1e-13));
    }

    options.dtype = actjit::DType::f32;
    const actjit::Kernel k32 = actjit::compile(e, options);
    std::vector<float> xf(x2.begin(), x2.end()), dyf(dy2.begin(), dy2.end()), yf(x2.size()), dxf(x2.size());
    k32.forward(xf.data(), yf.data(), rows, cols);
    k32.backward(xf.data(), dyf.data(), dxf.data(), rows, cols);
    for (std::size_t i = 0; i < xf.size(); ++i) {
        const std::int64_t feature = static_cast<std::int64_t>(i) % cols;
        INFO("x = " << xf[i] << ", feature " << feature);
        CHECK(close(yf[i], e(xf[i], ps, feature), 2e-5, 2e-6));
        CHECK(close(dxf[i], dyf[i] * dsl::d(e, dsl::x)(xf[i], ps, feature), 2e-4, 2e-5));
    }
}
#endif

}  // namespace dsltest
