// The reference interpreter: values of every operation, float against
// double, NaN conventions, shared nodes, parameters and their error paths.
#include <actjit/build.hpp>
#include <actjit/eval.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace actjit;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Expr x() { return input(); }
Expr k(double v) { return constant(v); }

/// Points covering every builtin's interesting domain.
std::vector<double> grid() {
    std::vector<double> xs;
    for (int i = 0; i <= 80; ++i) xs.push_back(-4.1 + i * 0.10375);
    for (double v : {-30.0, -12.5, -7.25, 7.25, 12.5, 30.0, 0.0, 1.0, -1.0, 0.5}) xs.push_back(v);
    return xs;
}

}  // namespace

TEST_CASE("apply_op gives libm's values and the documented conventions", "[eval]") {
    CHECK(apply_op(Op::Add, 2.0, 3.0) == 5.0);
    CHECK(apply_op(Op::Pow, 2.0, 10.0) == 1024.0);
    CHECK(apply_op(Op::Exp, 1.0) == std::exp(1.0));
    CHECK(apply_op(Op::Erf, 0.5f) == std::erf(0.5f));
    CHECK(apply_op(Op::Tanh, 0.25f) == std::tanh(0.25f));
    // comparisons and logic give 1 or 0; NaN is false
    CHECK(apply_op(Op::Lt, 1.0, 2.0) == 1.0);
    CHECK(apply_op(Op::Ge, 1.0, 2.0) == 0.0);
    CHECK(apply_op(Op::Lt, kNaN, 2.0) == 0.0);
    CHECK(apply_op(Op::And, 2.0, -1.0) == 1.0);
    CHECK(apply_op(Op::And, kNaN, 1.0) == 0.0);
    CHECK(apply_op(Op::Or, 0.0, kNaN) == 0.0);
    CHECK(apply_op(Op::Not, kNaN) == 1.0);
    // where selects; a NaN condition is false
    CHECK(apply_op(Op::Where, 1.0, 2.0, kNaN) == 2.0);
    CHECK(apply_op(Op::Where, kNaN, kNaN, 3.0) == 3.0);
    // stable forms
    CHECK(apply_op(Op::Sigmoid, -800.0) == 0.0);
    CHECK(apply_op(Op::Sigmoid, 800.0) == 1.0);
    CHECK(apply_op(Op::Sigmoid, 0.0) == 0.5);
    CHECK(apply_op(Op::Softplus, 800.0) == 800.0);
    CHECK(apply_op(Op::Softplus, -800.0) == 0.0);
    CHECK(apply_op(Op::Softplus, 0.0) == Approx(std::log(2.0)));
    CHECK(apply_op(Op::Softplus, 100.0f) == 100.0f);
    CHECK(apply_op(Op::Softsign, 3.0) == 0.75);
    CHECK(apply_op(Op::Softsign, kInf) == 1.0);
    CHECK(apply_op(Op::Softsign, -kInf) == -1.0);
    // kinks
    CHECK(apply_op(Op::Relu, -2.0) == 0.0);
    CHECK(apply_op(Op::Relu, 2.0) == 2.0);
    CHECK(apply_op(Op::Sign, -0.0) == 0.0);
    CHECK(apply_op(Op::Sign, -3.0) == -1.0);
    CHECK(apply_op(Op::Clamp, 5.0, -1.0, 1.0) == 1.0);
    CHECK(apply_op(Op::Clamp, -5.0, -1.0, 1.0) == -1.0);
    CHECK(apply_op(Op::Clamp, 0.5, -1.0, 1.0) == 0.5);
    // mod has the sign of the divisor (a - b floor(a/b))
    CHECK(apply_op(Op::Mod, 5.0, 3.0) == 2.0);
    CHECK(apply_op(Op::Mod, -5.0, 3.0) == 1.0);
    CHECK(apply_op(Op::Mod, 5.0, -3.0) == -1.0);
    CHECK(std::isnan(apply_op(Op::Mod, 5.0, 0.0)));
}

TEST_CASE("NaN in gives NaN out for kinked functions, as torch", "[eval]") {
    for (Op op : {Op::Relu, Op::Abs, Op::Sign, Op::Floor, Op::Sigmoid, Op::Softplus, Op::Softsign}) {
        CAPTURE(op_info(op).name);
        CHECK(std::isnan(apply_op(op, kNaN)));
        CHECK(std::isnan(apply_op(op, std::numeric_limits<float>::quiet_NaN())));
    }
    CHECK(std::isnan(apply_op(Op::Min, kNaN, 1.0)));
    CHECK(std::isnan(apply_op(Op::Min, 1.0, kNaN)));
    CHECK(std::isnan(apply_op(Op::Max, kNaN, 1.0)));
    CHECK(std::isnan(apply_op(Op::Max, 1.0, kNaN)));
    CHECK(std::isnan(apply_op(Op::Clamp, kNaN, 0.0, 1.0)));
    CHECK(std::isnan(apply_op(Op::Clamp, 0.5, kNaN, 1.0)));
    CHECK(std::isnan(apply_op(Op::Clamp, 0.5, 0.0, kNaN)));
}

TEST_CASE("float and double evaluation agree for every operation", "[eval]") {
    Expr s = param("s");
    const std::vector<double> ss = {-1.7, 0.6, 2.3};
    int compared = 0;
    for (int i = 0; i < kNumOps; ++i) {
        const Op op = static_cast<Op>(i);
        const OpInfo& info = op_info(op);
        if (info.kind == OpKind::Leaf) continue;
        std::vector<Expr> forms;
        if (info.arity == 1) forms = {make(op, {x()})};
        if (info.arity == 2) forms = {make(op, {x(), s}), make(op, {s, x()})};
        if (info.arity == 3) forms = {make(op, {x(), s, k(1.5)}), make(op, {make(Op::Gt, {x(), s}), x(), s})};
        for (const Expr& f : forms) {
            Interpreter interp(std::span<const Expr>(&f, 1), {"s"});
            for (double sv : ss)
                for (double xv : grid()) {
                    // Compare at the float inputs, so both see the same point.
                    const float xf = static_cast<float>(xv), sf = static_cast<float>(sv);
                    float yf = 0;
                    double yd = 0;
                    interp.run<float>(xf, 0, std::span<const float>(&sf, 1), std::span<float>(&yf, 1));
                    interp.run<double>(xf, 0, std::span<const double>(std::vector<double>{sf}.data(), 1), std::span<double>(&yd, 1));
                    CAPTURE(info.name, xv, sv, yf, yd);
                    if (std::isnan(yd)) {
                        CHECK(std::isnan(yf));
                        continue;
                    }
                    if (std::abs(yd) > 1e30) continue;  // beyond float's range
                    // floor and mod jump: a float rounding of a/b may land on the other side
                    if ((op == Op::Mod) && std::abs(yf - yd) > 1e-3) continue;
                    CHECK(std::abs(yf - yd) <= 2e-6 * std::abs(yd) + 1e-6);
                    ++compared;
                }
        }
    }
    CHECK(compared > 10000);
}

TEST_CASE("shared nodes are computed once and outputs come in order", "[eval]") {
    Expr e = call(Op::Exp, x());
    std::vector<Expr> outs = {e + 1.0, e * 2.0, e};
    Interpreter interp(outs, {});
    CHECK(interp.num_outputs() == 3);
    double out[3];
    interp.run<double>(1.0, 0, {}, out);
    CHECK(out[0] == std::exp(1.0) + 1);
    CHECK(out[1] == 2 * std::exp(1.0));
    CHECK(out[2] == std::exp(1.0));
}

TEST_CASE("where never lets the unselected operand's NaN through", "[eval]") {
    // where(x > 0, sqrt(x), 0) at x < 0: sqrt gives NaN, but it is not selected
    Expr e = make(Op::Where, {make(Op::Gt, {x(), k(0)}), make(Op::Sqrt, {x()}), k(0)});
    CHECK(evaluate(e, -4.0) == 0.0);
    CHECK(evaluate(e, 4.0) == 2.0);
    // a NaN input selects the false branch (NaN > 0 is false)
    CHECK(evaluate(e, kNaN) == 0.0);
}

TEST_CASE("parameters and the feature index", "[eval]") {
    Expr a = param("a"), b = param("b");
    Expr e = make(Op::Add, {make(Op::Mul, {a, x()}), make(Op::Mul, {b, feature_index()})});
    CHECK(evaluate(e, 2.0, {{"a", 3.0}, {"b", 10.0}}, 4) == 46.0);
    Interpreter interp(std::span<const Expr>(&e, 1), {"b", "a"});
    CHECK(interp.params() == std::vector<std::string>{"b", "a"});
    const double p[2] = {10.0, 3.0};
    double y = 0;
    interp.run<double>(2.0, 1, p, std::span<double>(&y, 1));
    CHECK(y == 16.0);
    // an unused extra slot is fine
    Interpreter extra(std::span<const Expr>(&e, 1), {"a", "b", "c"});
    CHECK(extra.params().size() == 3);
}

TEST_CASE("a parameter without a value is an error that names it", "[eval][errors]") {
    Expr e = make(Op::Mul, {param("s"), x()});
    CHECK_THROWS_WITH(evaluate(e, 1.0), "parameter 's' has no value");
    CHECK_THROWS_AS(evaluate(e, 1.0, {{"t", 1.0}}), ValueError);
    CHECK_THROWS_WITH(Interpreter(std::span<const Expr>(&e, 1), {"t"}), "parameter 's' has no value");

    Formula f;
    f.body = make(Op::Add, {make(Op::Mul, {param("a"), x()}), param("b")});
    f.params = {{"a", 2.0}, {"b", std::nullopt}};
    CHECK_THROWS_WITH(resolve_params(f, {}), "parameter 'b' has no value");
    CHECK(resolve_params(f, {{"b", 5.0}}) == std::vector<double>{2.0, 5.0});
    CHECK(resolve_params(f, {{"a", 1.0}, {"b", 5.0}, {"zzz", 9.0}}) == std::vector<double>{1.0, 5.0});
    const double xs[1] = {1.0};
    CHECK_THROWS_AS(evaluate_with_gradient<double>(f, xs, {}), ValueError);
}

TEST_CASE("evaluate_with_gradient gives values and every partial", "[eval]") {
    // f = a * x^2 + b * sin(x)
    Formula f;
    f.body = param("a") * pow(x(), 2.0) + param("b") * call(Op::Sin, x());
    f.params = {{"a", 2.0}, {"b", 0.5}};
    const std::vector<double> xs = {-1.0, 0.0, 0.3, 2.0};
    for (int dtype = 0; dtype < 2; ++dtype) {
        PointResults r = dtype ? evaluate_with_gradient<float>(f, xs, {{"b", 3.0}}) : evaluate_with_gradient<double>(f, xs, {{"b", 3.0}});
        REQUIRE(r.names == std::vector<std::string>{"x", "a", "b"});
        REQUIRE(r.y.size() == xs.size());
        REQUIRE(r.grads.size() == 3);
        const double tol = dtype ? 1e-6 : 1e-15;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double xv = xs[i];
            CHECK(r.y[i] == Approx(2 * xv * xv + 3 * std::sin(xv)).margin(tol).epsilon(tol));
            CHECK(r.grads[0][i] == Approx(4 * xv + 3 * std::cos(xv)).margin(tol).epsilon(tol));
            CHECK(r.grads[1][i] == Approx(xv * xv).margin(tol).epsilon(tol));
            CHECK(r.grads[2][i] == Approx(std::sin(xv)).margin(tol).epsilon(tol));
        }
    }
    // the feature index reaches the formula
    Formula g;
    g.body = x() * feature_index();
    const double one[1] = {2.0};
    PointResults r = evaluate_with_gradient<double>(g, one, {}, 3);
    CHECK(r.y[0] == 6.0);
    CHECK(r.grads[0][0] == 3.0);
}
