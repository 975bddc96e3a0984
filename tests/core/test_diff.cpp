// Derivatives: every builtin against central finite differences (first and
// second order), the conventions at kinks, the NaN-safety guarantees, and the
// simplified shape of small derivatives.
#include <actjit/build.hpp>
#include <actjit/catalog.hpp>
#include <actjit/diff.hpp>
#include <actjit/eval.hpp>
#include <actjit/formula.hpp>

#include "derivative_check.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

using namespace actjit;
using actjit::test::agrees;
using actjit::test::finite_difference;

namespace {

Expr x() { return input(); }
Expr k(double v) { return constant(v); }
Expr raw(Op op, std::initializer_list<Expr> args) { return make(op, args); }

std::vector<double> grid() {
    std::vector<double> xs;
    for (int i = 0; i <= 90; ++i) xs.push_back(-4.3 + i * 0.0953);
    for (double v : {-9.7, -6.1, 5.3, 8.9}) xs.push_back(v);
    return xs;
}

/// Every operation applied to x and to a parameter s (both operand orders for
/// binary ones), so each operand position is differentiated.
std::vector<Expr> forms_of(Op op) {
    const Expr s = param("s"), t = param("t");
    switch (op_info(op).arity) {
    case 1: return {make(op, {x()})};
    case 2: return {make(op, {x(), s}), make(op, {s, x()}), make(op, {raw(Op::Sin, {x()}), raw(Op::Mul, {s, x()})})};
    case 3:
        if (op == Op::Where) return {make(op, {raw(Op::Gt, {x(), s}), raw(Op::Sin, {x()}), raw(Op::Mul, {s, x()})})};
        return {make(op, {x(), s, t}), make(op, {s, x(), t}), make(op, {s, t, x()})};
    default: return {};
    }
}

/// Checks d f / d leaf against finite differences at (x, s, t) over a grid;
/// returns how many points were usable (smooth and finite).
int check_against_fd(const Expr& f, const Expr& leaf, const std::vector<double>& xs, const std::vector<double>& ss) {
    const Expr df = diff(f, leaf);
    const std::vector<Expr> outs = {f, df};
    Interpreter interp(outs, {"s", "t"});
    int usable = 0;
    for (double s : ss)
        for (double x0 : xs) {
            const double t = s + 1.25;
            auto eval_at = [&](double xv, double sv, double tv, int out) {
                double p[2] = {sv, tv};
                double y[2];
                interp.run<double>(xv, 0, p, y);
                return y[out];
            };
            double v0 = leaf.op() == Op::Input ? x0 : leaf.name() == "s" ? s : t;
            auto f_of = [&](double v) {
                if (leaf.op() == Op::Input) return eval_at(v, s, t, 0);
                if (leaf.name() == "s") return eval_at(x0, v, t, 0);
                return eval_at(x0, s, v, 0);
            };
            auto fd = finite_difference(f_of, v0);
            if (!fd.usable) continue;
            ++usable;
            const double exact = eval_at(x0, s, t, 1);
            CAPTURE(to_string(f), leaf.op() == Op::Input ? std::string("x") : leaf.name(), x0, s, exact, fd.slope, fd.tolerance);
            CHECK(agrees(exact, fd));
        }
    return usable;
}

}  // namespace

TEST_CASE("every builtin's derivative matches finite differences", "[diff]") {
    const std::vector<double> ss = {-1.3, 0.45, 2.2};
    for (int i = 0; i < kNumOps; ++i) {
        const Op op = static_cast<Op>(i);
        if (op_info(op).kind == OpKind::Leaf) continue;
        for (const Expr& f : forms_of(op)) {
            CAPTURE(op_info(op).name);
            int usable = 0;
            for (const Expr& leaf : {x(), param("s"), param("t")})
                if (depends_on(f, leaf)) usable += check_against_fd(f, leaf, grid(), ss);
            CHECK(usable >= 40);  // the check is not vacuous
        }
    }
}

TEST_CASE("every builtin's second derivative matches finite differences of the first", "[diff]") {
    const std::vector<double> ss = {-1.3, 0.45, 2.2};
    for (int i = 0; i < kNumOps; ++i) {
        const Op op = static_cast<Op>(i);
        if (op_info(op).kind == OpKind::Leaf) continue;
        for (const Expr& f : forms_of(op)) {
            CAPTURE(op_info(op).name);
            int usable = 0;
            for (const Expr& leaf : {x(), param("s")})
                if (depends_on(f, leaf)) usable += check_against_fd(diff(f, leaf), x(), grid(), ss);
            CHECK(usable >= 40);
        }
    }
}

TEST_CASE("small derivatives come out simplified", "[diff][simplify]") {
    const Expr s = param("s");
    CHECK(diff(raw(Op::Mul, {x(), x()}), x()).same_as(raw(Op::Mul, {k(2), x()})));
    CHECK(diff(x() * x(), x()).same_as(raw(Op::Mul, {k(2), x()})));
    CHECK(diff(pow(x(), 3.0), x()).same_as(raw(Op::Mul, {k(3), raw(Op::Pow, {x(), k(2)})})));
    CHECK(diff(3.0 * x() + 1.0, x()).same_as(k(3)));
    CHECK(diff(call(Op::Exp, x()), x()).same_as(raw(Op::Exp, {x()})));
    CHECK(diff(call(Op::Sin, s * x()), s).same_as(raw(Op::Mul, {raw(Op::Cos, {raw(Op::Mul, {s, x()})}), x()})));
    CHECK(diff(call(Op::Relu, x()), x()).same_as(raw(Op::Where, {raw(Op::Gt, {x(), k(0)}), k(1), k(0)})));
    // 2^x needs no guard: the base is provably positive
    CHECK(diff(pow(k(2), x()), x()).same_as(raw(Op::Mul, {k(std::log(2.0)), raw(Op::Pow, {k(2), x()})})));
    // guards the interval analysis proves unnecessary are left out
    const Expr pos = call(Op::Exp, s) + 1.0;
    CHECK(diff(pow(x(), pos), x()).same_as(raw(Op::Mul, {pos, raw(Op::Pow, {x(), call(Op::Exp, s)})})));
    CHECK(diff(pow(pos, x()), x()).same_as(raw(Op::Mul, {raw(Op::Pow, {pos, x()}), raw(Op::Log, {pos})})));
    CHECK(diff(pow(x(), s), x()).op() == Op::Where);
    CHECK(diff(pow(s, x()), x()).op() == Op::Where);
    CHECK(diff(x(), x()).same_as(k(1)));
    CHECK(diff(s, x()).same_as(k(0)));
}

TEST_CASE("derivatives with respect to absent leaves and the feature index are 0", "[diff]") {
    const Expr e = call(Op::Tanh, param("s") * x()) + feature_index();
    CHECK(diff(e, param("nope")).same_as(k(0)));
    CHECK(diff(e, feature_index()).same_as(k(0)));
    CHECK(diff(k(3), x()).same_as(k(0)));
    CHECK_THROWS_AS(diff(e, x() + 1.0), ValueError);
}

TEST_CASE("kinks follow torch's conventions", "[diff][kinks]") {
    const Expr s = param("s"), t = param("t");
    auto d_at = [](const Expr& f, const Expr& wrt, double xv, ParamValues p = {}) { return evaluate(diff(f, wrt), xv, p); };
    // relu'(0) = 0; abs'(0) = 0; sign' = floor' = 0 everywhere
    CHECK(d_at(call(Op::Relu, x()), x(), 0.0) == 0.0);
    CHECK(d_at(call(Op::Relu, x()), x(), 1e-300) == 1.0);
    CHECK(d_at(call(Op::Abs, x()), x(), 0.0) == 0.0);
    CHECK(d_at(call(Op::Abs, x()), x(), -2.0) == -1.0);
    CHECK(d_at(call(Op::Sign, x()), x(), 0.0) == 0.0);
    CHECK(d_at(call(Op::Floor, x()), x(), 1.0) == 0.0);
    // clamp passes the gradient to u at its bounds, to lo/hi strictly outside
    const Expr cl = build(Op::Clamp, {x(), s, t});
    const ParamValues b = {{"s", -1.0}, {"t", 1.0}};
    CHECK(d_at(cl, x(), -1.0, b) == 1.0);
    CHECK(d_at(cl, x(), 1.0, b) == 1.0);
    CHECK(d_at(cl, x(), 1.5, b) == 0.0);
    CHECK(d_at(cl, s, -1.0, b) == 0.0);
    CHECK(d_at(cl, s, -1.5, b) == 1.0);
    CHECK(d_at(cl, t, 1.0, b) == 0.0);
    CHECK(d_at(cl, t, 1.5, b) == 1.0);
    // min/max split the gradient in half at ties
    for (Op op : {Op::Min, Op::Max}) {
        const Expr m = build(op, {x(), s});
        CHECK(d_at(m, x(), 2.0, {{"s", 2.0}}) == 0.5);
        CHECK(d_at(m, s, 2.0, {{"s", 2.0}}) == 0.5);
    }
    CHECK(d_at(build(Op::Min, {x(), s}), x(), 1.0, {{"s", 2.0}}) == 1.0);
    CHECK(d_at(build(Op::Max, {x(), s}), x(), 1.0, {{"s", 2.0}}) == 0.0);
    // mod(a, b) = a - b floor(a/b): d/da = 1, d/db = -floor(a/b)
    CHECK(d_at(build(Op::Mod, {x(), s}), x(), 7.0, {{"s", 3.0}}) == 1.0);
    CHECK(d_at(build(Op::Mod, {x(), s}), s, 7.0, {{"s", 3.0}}) == -2.0);
    // comparisons and where's condition contribute nothing
    CHECK(diff(build(Op::Lt, {x(), s}), x()).same_as(k(0)));
    CHECK(diff(build(Op::And, {x(), s}), s).same_as(k(0)));
    // x^b: d/dx is 0 where b == 0; d/db is 0 where x == 0 and b >= 0
    const Expr p = pow(x(), s);
    CHECK(d_at(p, x(), 0.0, {{"s", 0.0}}) == 0.0);
    CHECK(d_at(p, s, 0.0, {{"s", 0.0}}) == 0.0);
    CHECK(d_at(p, s, 0.0, {{"s", 2.5}}) == 0.0);
    CHECK(d_at(p, x(), 0.0, {{"s", 2.0}}) == 0.0);
    CHECK(d_at(p, x(), 0.0, {{"s", 1.0}}) == 1.0);
}

TEST_CASE("prepu's gradients are exactly 0 for x < 0, for every exponent", "[diff][nan]") {
    const Expr s = param("s");
    const Expr prepu = pow(call(Op::Relu, x()), call(Op::Softsign, s) + 1.0);
    const Expr dx = simplify(diff(prepu, x()));
    const Expr ds = simplify(diff(prepu, s));
    for (double sv : {-3.0, -0.5, 0.0, 2.0})
        for (double xv : {-5.0, -1.0, -1e-3, -1e-300, -0.0, 0.0}) {
            CAPTURE(sv, xv);
            CHECK(evaluate(dx, xv, {{"s", sv}}) == 0.0);
            CHECK(evaluate(ds, xv, {{"s", sv}}) == 0.0);
            CHECK(evaluate(diff(dx, x()), xv, {{"s", sv}}) == 0.0);
            CHECK(evaluate(diff(ds, s), xv, {{"s", sv}}) == 0.0);
            CHECK(evaluate(diff(dx, s), xv, {{"s", sv}}) == 0.0);
        }
    // for x > 0 they are the calculus values
    for (double sv : {-3.0, -0.5, 0.0, 2.0})
        for (double xv : {1e-3, 0.5, 2.0}) {
            const double q = sv / (1 + std::abs(sv)) + 1;
            CHECK(evaluate(dx, xv, {{"s", sv}}) == Approx(q * std::pow(xv, q - 1)));
            CHECK(evaluate(ds, xv, {{"s", sv}}) == Approx(std::pow(xv, q) * std::log(xv) / std::pow(1 + std::abs(sv), 2)));
        }
}

TEST_CASE("no NaN from unselected branches or 0 * inf in chain rules", "[diff][nan]") {
    const Expr s = param("s");
    // where(x > 0, sqrt(x), 0): sqrt' = inf at 0 and NaN below, never selected
    const Expr f = where(build(Op::Gt, {x(), k(0)}), call(Op::Sqrt, x()), k(0));
    for (double xv : {-2.0, -1e-300, 0.0}) {
        CHECK(evaluate(diff(f, x()), xv) == 0.0);
        CHECK(evaluate(diff(diff(f, x()), x()), xv) == 0.0);
    }
    // where(x < 0, log(-x), x * s): the log branch's d/dx is -1/x, inf at 0
    const Expr g = where(build(Op::Lt, {x(), k(0)}), call(Op::Log, -x()), x() * s);
    CHECK(evaluate(diff(g, x()), 0.0, {{"s", 3.0}}) == 3.0);
    CHECK(evaluate(diff(g, s), -2.0, {{"s", 3.0}}) == 0.0);
    // where(x > 0, x, 0) * log(x): log(x) and 1/x are NaN or inf for x <= 0,
    // and both product-rule terms are where()s that do not select them there
    const Expr h = where(build(Op::Gt, {x(), k(0)}), x(), k(0)) * call(Op::Log, x());
    for (double xv : {-2.0, 0.0}) {
        CHECK(evaluate(h, xv) == 0.0);
        CHECK(evaluate(diff(h, x()), xv) == 0.0);
        CHECK(evaluate(diff(diff(h, x()), x()), xv) == 0.0);
    }
}

TEST_CASE("derivative DAGs stay small and shared", "[diff]") {
    // d/dx of a 200-deep chain of sin: linear, not exponential, in size
    Expr e = x();
    for (int i = 0; i < 200; ++i) e = call(Op::Sin, e);
    const Expr d = diff(e, x());
    CHECK(dag_size(d) < 4 * dag_size(e));
    // nested piecewise functions: the NaN-safety pushes of products into
    // where() branches stay bounded (no exponential growth along the chain)
    Expr hs = x();
    for (int i = 0; i < 40; ++i) {
        const Expr lo = build(Op::Lt, {hs, k(-3)}), mid = build(Op::Le, {hs, k(3)});
        hs = where(lo, k(0), where(mid, hs * (hs + 3.0) / 6.0, hs));
    }
    const Expr dhs = diff(hs, x());
    CHECK(dag_size(dhs) < 40 * dag_size(hs));
    CHECK(dag_size(diff(dhs, x())) < 1600 * dag_size(hs));
    for (double xv : {-4.0, -1.0, 0.5, 3.5})
        CHECK(std::isfinite(evaluate(dhs, xv)));
    // and a deep chain is differentiated without recursion
    Expr deep = x();
    for (std::uint32_t i = 0; i + 8 < kMaxExprDepth / 2; ++i) deep = make(Op::Add, {deep, k(1)});
    CHECK(diff(deep, x()).same_as(k(1)));
}

// ---- The catalog ------------------------------------------------------------

namespace {

/// Parameter settings to test an entry at: its defaults, and two others that
/// keep each parameter's sign (prepu's s and soft_exponential's alpha get the
/// values their branches need).
std::vector<std::vector<double>> param_settings(const Formula& f) {
    std::vector<double> defaults, up, down;
    for (const ParamDecl& p : f.params) {
        const double d = p.default_value.value_or(1.0);
        defaults.push_back(d);
        up.push_back(d == 0 ? 0.7 : d * 1.5);
        down.push_back(d == 0 ? -0.4 : d * 0.6);
    }
    std::vector<std::vector<double>> settings = {defaults, up, down};
    if (f.name == "prepu")
        for (double s : {-3.0, -0.5, 2.0}) settings.push_back({s});
    return settings;
}

std::vector<double> catalog_grid() {
    std::vector<double> xs;
    for (int i = 0; i <= 120; ++i) xs.push_back(-6.05 + i * 0.10083);
    for (double v : {-25.0, -12.0, 12.0, 25.0}) xs.push_back(v);
    return xs;
}

/// Every partial of every catalog entry (d/dx, then each parameter) against
/// finite differences; `order` 2 differentiates each partial once more
/// with respect to x and each parameter.
void check_catalog_entry(const Activation& a, int order) {
    const Formula& f = activation_formula(a);
    std::vector<Expr> leaves = {input()};
    for (const ParamDecl& p : f.params) leaves.push_back(param(p.name));
    std::vector<std::pair<Expr, Expr>> checks;  // (function, leaf)
    for (const Expr& leaf : leaves) {
        if (order == 1) {
            checks.push_back({f.body, leaf});
        } else {
            const Expr d1 = diff(f.body, leaf);
            for (const Expr& leaf2 : leaves) checks.push_back({d1, leaf2});
        }
    }
    std::vector<std::string> slots;
    for (const ParamDecl& p : f.params) slots.push_back(p.name);
    int usable = 0;
    for (auto& [g, leaf] : checks) {
        const Expr dg = diff(g, leaf);
        const std::vector<Expr> outs = {g, dg};
        Interpreter interp(outs, slots);
        const int slot = leaf.op() == Op::Input ? -1 : static_cast<int>(std::find(slots.begin(), slots.end(), leaf.name()) - slots.begin());
        for (const std::vector<double>& setting : param_settings(f))
            for (std::int64_t feature : {0, 1})
                for (double x0 : catalog_grid()) {
                    auto run = [&](double xv, std::vector<double> p, int out) {
                        double y[2];
                        interp.run<double>(xv, feature, p, y);
                        return y[out];
                    };
                    auto g_of = [&](double v) {
                        if (slot < 0) return run(v, setting, 0);
                        std::vector<double> p = setting;
                        p[static_cast<std::size_t>(slot)] = v;
                        return run(x0, p, 0);
                    };
                    const double v0 = slot < 0 ? x0 : setting[static_cast<std::size_t>(slot)];
                    // soft_exponential's second derivative in alpha jumps at alpha = 0
                    // (2x + 2x^3/3 from the left, x^3/3 from the right); the alpha = 0
                    // branch gives 0 there (docs/DERIVATIVES.md), which no one-sided
                    // difference reproduces.
                    if (order == 2 && a.name == "soft_exponential" && slot >= 0 && v0 == 0 && to_string(g).find("1 + x^2 / 2") != std::string::npos)
                        continue;
                    auto fd = finite_difference(g_of, v0);
                    if (!fd.usable) continue;
                    ++usable;
                    const double exact = run(x0, setting, 1);
                    CAPTURE(a.name, order, to_string(g), to_string(leaf), x0, feature, setting, exact, fd.slope);
                    CHECK(agrees(exact, fd));
                }
    }
    CHECK(usable >= 300);
}

}  // namespace

TEST_CASE("every catalog entry's gradient matches finite differences", "[diff][catalog]") {
    for (const Activation& a : catalog()) {
        CAPTURE(a.name);
        check_catalog_entry(a, 1);
    }
}

TEST_CASE("every catalog entry's second derivatives match finite differences", "[diff][catalog]") {
    for (const Activation& a : catalog()) {
        CAPTURE(a.name);
        check_catalog_entry(a, 2);
    }
}

TEST_CASE("catalog gradients are never NaN where the value is finite", "[diff][catalog][nan]") {
    std::vector<double> xs = catalog_grid();
    // the kinks and breakpoints of every entry, exactly
    for (double v : {0.0, -0.0, 1.0, -1.0, 3.0, -3.0, 0.1, -0.1, 0.1 / 3, 2.0, -2.0, 20.0, 1e-300, -1e-300, 1e30, -1e30})
        xs.push_back(v);
    for (const Activation& a : catalog()) {
        const Formula& f = activation_formula(a);
        std::vector<Expr> outs = {f.body};
        std::vector<std::string> slots;
        for (const Partial& p : gradient(f)) {
            outs.push_back(p.expr);
            outs.push_back(diff(p.expr, input()));
        }
        for (const ParamDecl& p : f.params) slots.push_back(p.name);
        Interpreter interp(outs, slots);
        std::vector<double> y(outs.size());
        for (const std::vector<double>& setting : param_settings(f))
            for (std::int64_t feature : {0, 1})
                for (double x0 : xs) {
                    interp.run<double>(x0, feature, setting, y);
                    if (!std::isfinite(y[0])) continue;
                    for (std::size_t i = 1; i < y.size(); ++i) {
                        CAPTURE(a.name, x0, setting, feature, i, to_string(outs[i]));
                        CHECK_FALSE(std::isnan(y[i]));
                    }
                }
    }
}

TEST_CASE("catalog kinks follow the documented conventions", "[diff][catalog][kinks]") {
    auto grad_at = [](std::string_view name, double x0, ParamValues p = {}, std::int64_t feature = 0) {
        const Formula& f = activation_formula(*find_activation(name));
        const double xs[1] = {x0};
        return evaluate_with_gradient<double>(f, xs, p, feature).grads;
    };
    auto dx = [&](std::string_view name, double x0, ParamValues p = {}, std::int64_t feature = 0) { return grad_at(name, x0, p, feature)[0][0]; };
    CHECK(dx("relu", 0.0) == 0.0);
    CHECK(dx("leaky_relu", 0.0) == 0.01);  // torch: x > 0 ? 1 : slope
    CHECK(dx("prelu", 0.0) == 0.25);
    CHECK(dx("elu", 0.0) == 1.0);          // alpha * exp(0)
    CHECK(dx("celu", 0.0) == 1.0);
    CHECK(dx("hardtanh", -1.0) == 0.0);    // torch: 0 at the bounds
    CHECK(dx("hardtanh", 1.0) == 0.0);
    CHECK(dx("hardtanh", 0.999) == 1.0);
    CHECK(dx("hardsigmoid", -3.0) == 0.0);
    CHECK(dx("hardsigmoid", 3.0) == 0.0);
    CHECK(dx("hardsigmoid", 2.9) == Approx(1.0 / 6));
    CHECK(dx("hardswish", -3.0) == -0.5);
    CHECK(dx("hardswish", 3.0) == 1.5);
    CHECK(dx("softplus", 20.0) == Approx(1 / (1 + std::exp(-20.0))));  // at the threshold: softplus branch
    CHECK(dx("softplus", 20.5) == 1.0);
    CHECK(dx("expolu", 1.0) == 1.0);       // x = b: the linear branch
    CHECK(dx("expolu", 0.999) == Approx(2 * 1.999));
    CHECK(dx("expolu", -1.0) == 0.0);      // x = -b: the ramp, whose slope is 0 there
    CHECK(dx("powerlu", 1.0) == 1.0);
    CHECK(dx("paralu", 0.1) == 1.0);
    CHECK(dx("quartlu", 0.1 / 3) == 1.0);
    CHECK(dx("brelu", 0.0, {}, 0) == 0.0);
    CHECK(dx("brelu", 0.0, {}, 1) == 0.0);
    CHECK(dx("brelu", -2.0, {}, 1) == 1.0);
    CHECK(dx("brelu", -2.0, {}, 0) == 0.0);
    CHECK(dx("prepu", 0.0) == 0.0);
    // soft_exponential at alpha = 0: value x, d/dalpha = 1 + x^2/2 (both one-sided limits)
    for (double x0 : {-2.0, -0.5, 0.0, 0.3, 1.7}) {
        auto g = grad_at("soft_exponential", x0, {{"alpha", 0.0}});
        CHECK(g[0][0] == 1.0);
        CHECK(g[1][0] == Approx(1 + x0 * x0 / 2));
        // and the alpha != 0 branches approach it
        CHECK(grad_at("soft_exponential", x0, {{"alpha", 1e-5}})[1][0] == Approx(1 + x0 * x0 / 2).epsilon(1e-3));
        CHECK(grad_at("soft_exponential", x0, {{"alpha", -1e-5}})[1][0] == Approx(1 + x0 * x0 / 2).epsilon(1e-3));
    }
}

TEST_CASE("catalog gradients are the same in float and double", "[diff][catalog][eval]") {
    const std::vector<double> xs = catalog_grid();
    for (const Activation& a : catalog()) {
        const Formula& f = activation_formula(a);
        for (std::int64_t feature : {0, 1}) {
            PointResults d = evaluate_with_gradient<double>(f, xs, {}, feature);
            PointResults s = evaluate_with_gradient<float>(f, xs, {}, feature);
            REQUIRE(d.names == s.names);
            for (std::size_t i = 0; i < xs.size(); ++i) {
                CAPTURE(a.name, xs[i]);
                CHECK(s.y[i] == Approx(d.y[i]).epsilon(1e-5).margin(1e-5));
                for (std::size_t k = 0; k < d.grads.size(); ++k) CHECK(s.grads[k][i] == Approx(d.grads[k][i]).epsilon(1e-4).margin(1e-5));
            }
        }
    }
}

// Prints the node counts of f, f' and f'' (d/dx) for docs/DERIVATIVES.md:
//   actjit_core_tests "[.table]" -s
TEST_CASE("catalog derivative sizes", "[.table]") {
    std::printf("| name | f | f' | f'' | f, f' together | f, f', f'' together | all partials with f |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (const Activation& a : catalog()) {
        const Formula& f = activation_formula(a);
        const Expr body = simplify(f.body);
        const std::vector<Partial> partials = gradient(f);
        const Expr d1 = partials[0].expr;
        const Expr d2 = simplify(diff(d1, input()));
        std::vector<Expr> grads = {body};
        for (const Partial& p : partials) grads.push_back(p.expr);
        const std::vector<Expr> f_d1 = {body, d1}, all = {body, d1, d2};
        std::printf("| %s | %zu | %zu | %zu | %zu | %zu | %zu |\n", a.name.c_str(), dag_size(body), dag_size(d1), dag_size(d2),
                    dag_size(f_d1), dag_size(all), dag_size(grads));
    }
    for (const Activation& a : catalog()) {
        const Formula& f = activation_formula(a);
        std::printf("%s: %s\n", a.name.c_str(), to_string(f.body).c_str());
        for (const Partial& p : gradient(f)) std::printf("  d/d%s = %s\n", p.name.c_str(), to_string(p.expr).c_str());
    }
}
