// build() and simplify(): each rewrite rule is a same_as check against the
// node it must produce, built with raw make() so the expectation is exact.
#include <actjit/build.hpp>
#include <actjit/eval.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace actjit;

namespace {

Expr x() { return input(); }
Expr k(double v) { return constant(v); }
Expr raw(Op op, std::initializer_list<Expr> args) { return make(op, args); }

}  // namespace

TEST_CASE("constant folding", "[simplify]") {
    CHECK((k(2) + k(3)).same_as(k(5)));
    CHECK((k(2) * k(3)).same_as(k(6)));
    CHECK(pow(k(2), k(10)).same_as(k(1024)));
    CHECK(call(Op::Exp, k(0)).same_as(k(1)));
    CHECK(build(Op::Lt, {k(1), k(2)}).same_as(k(1)));
    CHECK(build(Op::Clamp, {k(5), k(0), k(1)}).same_as(k(1)));
    // -0 folds to +0
    CHECK(build(Op::Mul, {k(-1), k(0)}).same_as(k(0)));
    // results that are not finite stay symbolic
    CHECK((k(1) / k(0)).same_as(raw(Op::Div, {k(1), k(0)})));
    CHECK(call(Op::Log, k(-1)).same_as(raw(Op::Log, {k(-1)})));
    CHECK(call(Op::Exp, k(1000)).same_as(raw(Op::Exp, {k(1000)})));
}

TEST_CASE("additive identities and canonical order", "[simplify]") {
    CHECK((x() + 0.0).same_as(x()));
    CHECK((0.0 + x()).same_as(x()));
    CHECK((x() - 0.0).same_as(x()));
    CHECK((0.0 - x()).same_as(raw(Op::Neg, {x()})));
    CHECK((x() - x()).same_as(k(0)));
    // constants to the right in a sum, negative constants as subtraction
    CHECK((k(3) + x()).same_as(raw(Op::Add, {x(), k(3)})));
    CHECK((x() + -3.0).same_as(raw(Op::Sub, {x(), k(3)})));
    CHECK((x() - -3.0).same_as(raw(Op::Add, {x(), k(3)})));
    CHECK(((x() + 1.0) + 2.0).same_as(raw(Op::Add, {x(), k(3)})));
    CHECK(((x() - 1.0) + 1.0).same_as(x()));
    CHECK(((5.0 - x()) + 1.0).same_as(raw(Op::Sub, {k(6), x()})));
    CHECK(((5.0 - x()) - 1.0).same_as(raw(Op::Sub, {k(4), x()})));
    CHECK((5.0 - (x() + 1.0)).same_as(raw(Op::Sub, {k(4), x()})));
    CHECK((5.0 - (x() - 1.0)).same_as(raw(Op::Sub, {k(6), x()})));
    CHECK((1.0 - (x() + 1.0)).same_as(raw(Op::Neg, {x()})));
    CHECK(((x() + 1.0) - 1.0).same_as(x()));
    // a + (-b) -> a - b, a - (-b) -> a + b, (-a) + b -> b - a
    Expr s = param("s");
    CHECK((x() + -s).same_as(raw(Op::Sub, {x(), s})));
    CHECK((x() - -s).same_as(raw(Op::Add, {x(), s})));
    CHECK((-s + x()).same_as(raw(Op::Sub, {x(), s})));
}

TEST_CASE("like terms", "[simplify]") {
    Expr s = param("s");
    // constant terms move outwards so that like terms meet
    CHECK(((x() + 3.0) + x()).same_as(raw(Op::Add, {raw(Op::Mul, {k(2), x()}), k(3)})));
    CHECK((x() + (s - 3.0)).same_as(raw(Op::Sub, {raw(Op::Add, {x(), s}), k(3)})));
    CHECK(((x() - 3.0) - s).same_as(raw(Op::Sub, {raw(Op::Sub, {x(), s}), k(3)})));
    CHECK((s - (x() + 3.0)).same_as(raw(Op::Sub, {raw(Op::Sub, {s, x()}), k(3)})));
    CHECK((s - (x() - 3.0)).same_as(raw(Op::Add, {raw(Op::Sub, {s, x()}), k(3)})));
    // cancellation
    CHECK((1.0 - (1.0 - call(Op::Tanh, x()))).same_as(raw(Op::Tanh, {x()})));
    CHECK(((x() + s) - s).same_as(x()));
    CHECK(((s + x()) - s).same_as(x()));
    CHECK((x() + (s - x())).same_as(s));
    CHECK(((s - x()) + x()).same_as(s));
    // exact constant quotients
    CHECK(((2.0 * x()) / 2.0).same_as(x()));
    CHECK(((3.0 * x()) / 2.0).same_as(raw(Op::Mul, {k(1.5), x()})));
    CHECK(((1.0 * s + 0.1 * x()) / 3.0).same_as(raw(Op::Div, {raw(Op::Add, {s, raw(Op::Mul, {k(0.1), x()})}), k(3)})));
    CHECK((x() + x()).same_as(raw(Op::Mul, {k(2), x()})));
    CHECK((3.0 * x() + 2.0 * x()).same_as(raw(Op::Mul, {k(5), x()})));
    CHECK((3.0 * x() - x()).same_as(raw(Op::Mul, {k(2), x()})));
    CHECK((3.0 * x() - 3.0 * x()).same_as(k(0)));
    CHECK((x() - 2.0 * x()).same_as(raw(Op::Neg, {x()})));
    CHECK((x() * x()).same_as(raw(Op::Pow, {x(), k(2)})));
    CHECK((x() * pow(x(), 3.0)).same_as(raw(Op::Pow, {x(), k(4)})));
    CHECK((pow(x(), 2.0) * pow(x(), 0.5)).same_as(raw(Op::Pow, {x(), k(2.5)})));
    CHECK((2.0 * (3.0 * s)).same_as(raw(Op::Mul, {k(6), s})));
    // constants move outwards: (2*s) * x -> 2*(s*x)
    CHECK(((2.0 * s) * x()).same_as(raw(Op::Mul, {k(2), raw(Op::Mul, {s, x()})})));
}

TEST_CASE("multiplicative identities", "[simplify]") {
    Expr s = param("s");
    CHECK((x() * 1.0).same_as(x()));
    CHECK((1.0 * x()).same_as(x()));
    CHECK((x() * 0.0).same_as(k(0)));
    // strong zero even where the other factor may be infinite
    CHECK((0.0 * call(Op::Log, x())).same_as(k(0)));
    CHECK((x() * -1.0).same_as(raw(Op::Neg, {x()})));
    CHECK((x() * 3.0).same_as(raw(Op::Mul, {k(3), x()})));
    CHECK((x() / 1.0).same_as(x()));
    CHECK((x() / -1.0).same_as(raw(Op::Neg, {x()})));
    CHECK((0.0 / x()).same_as(k(0)));
    CHECK((x() / x()).same_as(raw(Op::Div, {x(), x()})));  // x may be 0: not folded
    CHECK((x() * (1.0 / s)).same_as(raw(Op::Div, {x(), s})));
    CHECK((2.0 * (3.0 / s)).same_as(raw(Op::Div, {k(6), s})));
    CHECK((-x() * -s).same_as(raw(Op::Mul, {x(), s})));
    CHECK((-x() / s).same_as(raw(Op::Neg, {raw(Op::Div, {x(), s})})));
}

TEST_CASE("negation", "[simplify]") {
    Expr s = param("s");
    CHECK((-(-x())).same_as(x()));
    CHECK((-(3.0 * x())).same_as(raw(Op::Mul, {k(-3), x()})));
    CHECK((-(x() - s)).same_as(raw(Op::Sub, {s, x()})));
    CHECK((3.0 * -x()).same_as(raw(Op::Mul, {k(-3), x()})));
    CHECK((-k(2)).same_as(k(-2)));
}

TEST_CASE("powers", "[simplify]") {
    Expr s = param("s");
    CHECK(pow(x(), 1.0).same_as(x()));
    CHECK(pow(x(), 0.0).same_as(k(1)));
    CHECK(pow(k(1), s).same_as(k(1)));
    CHECK(pow(x(), s).same_as(raw(Op::Pow, {x(), s})));
    CHECK(pow(k(-8), k(1.0 / 3)).same_as(raw(Op::Pow, {k(-8), k(1.0 / 3)})));  // NaN: not folded
}

TEST_CASE("where", "[simplify]") {
    Expr c = build(Op::Gt, {x(), k(0)});
    Expr s = param("s");
    CHECK(where(k(1), x(), s).same_as(x()));
    CHECK(where(k(0), x(), s).same_as(s));
    CHECK(where(c, s, s).same_as(s));
    CHECK(where(c, k(0), k(0)).same_as(k(0)));
    CHECK(where(build(Op::Not, {c}), x(), s).same_as(raw(Op::Where, {c, s, x()})));
    CHECK(where(c, where(c, x(), k(2)), s).same_as(raw(Op::Where, {c, x(), s})));
    CHECK(where(c, x(), where(c, k(2), s)).same_as(raw(Op::Where, {c, x(), s})));
}

TEST_CASE("NaN safety: products with a zero-branch where move inside it", "[simplify]") {
    Expr c = build(Op::Gt, {x(), k(0)});
    Expr s = param("s");
    Expr inf_prone = pow(x(), s - 1.0);
    Expr sel = raw(Op::Where, {c, k(1), k(0)});
    // a * where(c, t, 0) -> where(c, a*t, 0), both operand orders
    CHECK((inf_prone * sel).same_as(raw(Op::Where, {c, inf_prone, k(0)})));
    CHECK((sel * inf_prone).same_as(raw(Op::Where, {c, inf_prone, k(0)})));
    // and the mirrored where(c, 0, t)
    Expr sel2 = raw(Op::Where, {c, k(0), s});
    CHECK((inf_prone * sel2).same_as(raw(Op::Where, {c, k(0), raw(Op::Mul, {inf_prone, s})})));
    // division: where(c, t, 0) / a -> where(c, t/a, 0)
    CHECK((raw(Op::Where, {c, s, k(0)}) / x()).same_as(raw(Op::Where, {c, raw(Op::Div, {s, x()}), k(0)})));
    // negation
    CHECK((-raw(Op::Where, {c, s, k(0)})).same_as(raw(Op::Where, {c, raw(Op::Neg, {s}), k(0)})));
    // the point of it: Inf in the unselected factor stays out
    Expr e = inf_prone * sel;
    CHECK(evaluate(e, 0.0, {{"s", 0.5}}) == 0.0);
    CHECK(evaluate(e, -1.0, {{"s", 0.5}}) == 0.0);
    CHECK(std::isnan(evaluate(raw(Op::Mul, {inf_prone, sel}), -1.0, {{"s", 0.5}})));
}

TEST_CASE("builtin identities", "[simplify]") {
    CHECK(call(Op::Abs, -x()).same_as(raw(Op::Abs, {x()})));
    CHECK(call(Op::Abs, call(Op::Abs, x())).same_as(raw(Op::Abs, {x()})));
    CHECK(call(Op::Relu, call(Op::Relu, x())).same_as(raw(Op::Relu, {x()})));
    CHECK(call(Op::Floor, call(Op::Floor, x())).same_as(raw(Op::Floor, {x()})));
    CHECK(call(Op::Tanh, x()).same_as(raw(Op::Tanh, {x()})));
}

TEST_CASE("simplify reaches a fixed point over a raw DAG", "[simplify]") {
    // ((x * 1) + 0) * ((x + 0) * 1) -> x^2
    Expr a = raw(Op::Add, {raw(Op::Mul, {x(), k(1)}), k(0)});
    Expr b = raw(Op::Mul, {raw(Op::Add, {x(), k(0)}), k(1)});
    CHECK(simplify(raw(Op::Mul, {a, b})).same_as(raw(Op::Pow, {x(), k(2)})));
    // shared sub-DAGs stay shared, and simplify is idempotent
    Expr s = simplify(raw(Op::Add, {raw(Op::Mul, {k(2), a}), raw(Op::Mul, {k(3), a})}));
    CHECK(s.same_as(raw(Op::Mul, {k(5), x()})));
    CHECK(simplify(s).same_as(s));
    // leaves and constants are their own simplification
    CHECK(simplify(x()).same_as(x()));
    CHECK(simplify(k(2)).same_as(k(2)));
}

TEST_CASE("simplify handles maximally deep expressions without recursion", "[simplify][limits]") {
    Expr e = x();
    for (std::uint32_t i = 1; i < kMaxExprDepth; ++i) e = raw(Op::Sin, {e});
    Expr s = simplify(e);
    CHECK(s.same_as(e));
    Expr chain = x();
    for (std::uint32_t i = 1; i < kMaxExprDepth / 2; ++i) chain = raw(Op::Neg, {raw(Op::Neg, {chain})});
    CHECK(simplify(chain).same_as(x()));
}

TEST_CASE("value_range", "[simplify][interval]") {
    Expr s = param("s");
    auto r = value_range(call(Op::Softsign, s) + 1.0);
    CHECK(r.lo == 0);
    CHECK(r.hi == 2);
    CHECK_FALSE(r.maybe_nan);
    CHECK(value_range(call(Op::Exp, x())).lo == 0);
    CHECK(value_range(call(Op::Sigmoid, x())).hi == 1);
    CHECK(value_range(call(Op::Relu, x())).lo == 0);
    CHECK(value_range(k(2)).excludes_zero());
    CHECK(value_range(call(Op::Exp, x()) + 1.0).excludes_zero());
    CHECK_FALSE(value_range(x()).excludes_zero());
    CHECK(value_range(feature_index()).lo == 0);
    CHECK(value_range(build(Op::Lt, {x(), s})).hi == 1);
    CHECK(value_range(call(Op::Log, x())).maybe_nan);
    CHECK_FALSE(value_range(call(Op::Log, call(Op::Exp, x()))).maybe_nan);
    CHECK(value_range(x() - call(Op::Exp, x())).maybe_nan);  // inf - inf is possible
    auto w = value_range(where(build(Op::Gt, {x(), k(0)}), call(Op::Tanh, x()), k(3)));
    CHECK(w.lo == -1);
    CHECK(w.hi == 3);
    auto m = value_range(build(Op::Mod, {call(Op::Sin, x()), k(2)}));
    CHECK(m.lo == -4);
    CHECK(m.hi == 4);
    CHECK(value_range(build(Op::Mod, {x(), k(2)})).hi == HUGE_VAL);  // a/b may lose all its digits
    auto q = value_range(pow(call(Op::Sigmoid, x()), 2.0));
    CHECK(q.lo == 0);
    CHECK(q.hi == 1);
}
