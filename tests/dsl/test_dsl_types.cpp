// Compile-time facts: literals, node types, simplification, derivative types,
// constexpr evaluation. Most checks are static_asserts (they run as this file
// compiles); the TEST_CASEs hold the ones that need the runtime.
#include <actjit/dsl.hpp>

#include <catch2/catch.hpp>

#include <type_traits>

using namespace actjit::dsl;

namespace {

template <class A, class B>
constexpr bool same(A, B) {
    return std::is_same_v<A, B>;
}

constexpr auto s = param<"s">;
constexpr auto t = param<"t">;

// ---- The example -----------------------------------------------------------
constexpr auto prepu = pow(relu(x), softsign(s) + 1_c);
constexpr auto dx = d(prepu, x);
constexpr auto ds = d(prepu, s);
static_assert(std::is_same_v<decltype(d(x * x, x)), decltype(2_c * x)>);

// ---- Literals -----------------------------------------------------------------------
static_assert(same(2_c, lit<2.0>{}));
static_assert(same(0.5_c, lit<0.5>{}));
static_assert(same(1e-3_c, lit<1e-3>{}));
static_assert(same(1'000_c, lit<1000.0>{}));
static_assert(same(2.5e+2_c, lit<250.0>{}));
static_assert(same(0.7071067811865476_c, lit<0.7071067811865476>{}));  // exact: 16 digits, fast path
static_assert(same(0.7978845608028654_c, lit<0.7978845608028654>{}));
static_assert(same(0.044715_c, lit<0.044715>{}));
static_assert(same(.25_c, lit<0.25>{}));
static_assert(same(-3_c, lit<-3.0>{}));            // minus on a constant folds, as "-3" parses to Const(-3)
static_assert(same(-0_c, lit<0.0>{}));             // never -0
static_assert(same(constant<-0.0>, lit<0.0>{}));
static_assert(same(constant<1.0507009873554805>, lit<1.0507009873554805>{}));
static_assert(same("s"_p, s));

// ---- Operators build what is written -------------------------------------------------
static_assert(same(x + s, node<actjit::Op::Add, input_t, param_t<"s">>{}));
static_assert(same(x * 1_c, node<actjit::Op::Mul, input_t, lit<1.0>>{}));  // no simplification as written
static_assert(same(-x, node<actjit::Op::Neg, input_t>{}));
static_assert(same(x < s, node<actjit::Op::Lt, input_t, param_t<"s">>{}));
static_assert(same(x == s, node<actjit::Op::Eq, input_t, param_t<"s">>{}));
static_assert(same(x != s, node<actjit::Op::Ne, input_t, param_t<"s">>{}));
static_assert(same((x > s) && (x < t), node<actjit::Op::And, decltype(x > s), decltype(x < t)>{}));
static_assert(same((x > s) || !(x < t), node<actjit::Op::Or, decltype(x > s), node<actjit::Op::Not, decltype(x < t)>>{}));
static_assert(same(where(x > 0_c, x, 0_c), node<actjit::Op::Where, decltype(x > 0_c), input_t, lit<0.0>>{}));
static_assert(same(clamp(x, -1_c, 1_c), node<actjit::Op::Clamp, input_t, lit<-1.0>, lit<1.0>>{}));
static_assert(same(mod(feature, 2_c), node<actjit::Op::Mod, feature_t, lit<2.0>>{}));
static_assert(tree_size(prepu) == 7);

// ---- Simplifying construction ---------------------------------------------------------
namespace sp = actjit::dsl::simp;
static_assert(same(sp::add(2_c, 3_c), 5_c));
static_assert(same(sp::add(x, 0_c), x));
static_assert(same(sp::add(0_c, x), x));
static_assert(same(sp::mul(x, 1_c), x));
static_assert(same(sp::mul(0_c, x), 0_c));
static_assert(same(sp::mul(x, 3_c), 3_c * x));               // constants to the left
static_assert(same(sp::mul(2_c, sp::mul(3_c, x)), 6_c * x));
static_assert(same(sp::add(x, x), 2_c * x));                 // like terms
static_assert(same(sp::add(3_c * x, 2_c * x), 5_c * x));
static_assert(same(sp::sub(x, x), 0_c));
static_assert(same(sp::sub(1_c, 1_c - tanh(x)), tanh(x)));
static_assert(same(d(x - tanh(x), x), pow(tanh(x), 2_c)));  // tanhshrink' = tanh^2
static_assert(same(sp::mul(x, x), pow(x, 2_c)));             // like factors
static_assert(same(sp::mul(pow(x, 2_c), x), pow(x, 3_c)));
static_assert(same(sp::mul(pow(x, s), pow(x, t)), pow(x, s + t)));
static_assert(same(sp::neg(sp::neg(s)), s));                 // -(-a)
static_assert(same(sp::neg(-x), x));
static_assert(same(sp::neg(2_c), -2_c));
static_assert(same(sp::pow(x, 1_c), x));
static_assert(same(sp::pow(x, 0_c), 1_c));
static_assert(same(sp::pow(2_c, 10_c), 1024_c));
static_assert(same(sp::where(1_c, x, s), x));
static_assert(same(sp::where(x > 0_c, s, s), s));
static_assert(same(sp::add(x, -s), x - s));
static_assert(same(sp::sub(x, -s), x + s));
// NaN safety: the product goes inside the where.
static_assert(same(sp::mul(s, where(x > 0_c, t, 0_c)), where(x > 0_c, s * t, 0_c)));
static_assert(same(sp::mul(where(x > 0_c, 0_c, t), s), where(x > 0_c, 0_c, t * s)));
static_assert(same(sp::make<actjit::Op::Lt>(1_c, 2_c), 1_c));
static_assert(same(sp::make<actjit::Op::And>(0_c, x > s), 0_c));
static_assert(same(sp::sub(softsign(s) + 1_c, 1_c), softsign(s)));
static_assert(same(sp::add(x - 2_c, 3_c), x + 1_c));

// ---- Derivatives ------------------------------------------------------------------------
static_assert(same(d(x, x), 1_c));
static_assert(same(d(s, x), 0_c));
static_assert(same(d(s, s), 1_c));
static_assert(same(d(feature, x), 0_c));
static_assert(same(d(3_c * x + s, x), 3_c));
static_assert(same(d(pow(x, 3_c), x), 3_c * pow(x, 2_c)));
static_assert(same(d(relu(x), x), where(x > 0_c, 1_c, 0_c)));        // relu'(0) = 0
static_assert(same(d(abs(x), x), sign(x)));                        // abs' = sign
static_assert(same(d(sign(x) + floor(x), x), 0_c));
static_assert(same(d(x < s, x), 0_c));
static_assert(same(d(exp(x), x), exp(x)));
static_assert(same(d(-(-x), x), 1_c));
static_assert(same(d(s * x, s), x));
static_assert(same(d(where(x > s, x * x, s), x), where(x > s, 2_c * x, 0_c)));
static_assert(same(d(clamp(x, -1_c, 1_c), x), where(x < -1_c, 0_c, where(x > 1_c, 0_c, 1_c))));  // passes at bounds
static_assert(same(d(min(x, s), x), where(x < s, 1_c, where(x > s, 0_c, 0.5_c))));                 // half at ties
static_assert(same(d(max(x, s), s), where(x > s, 0_c, where(x < s, 1_c, 0.5_c))));
// relu(x)^q: d/dx = where(x > 0, where(q == 0, 0, q relu(x)^(q-1)), 0): no 0 * inf for x < 0.
using q_t = decltype(softsign(s) + 1_c);
static_assert(is_op<decltype(dx), actjit::Op::Where>);
static_assert(same(arg_t<0, decltype(dx)>{}, x > 0_c));
static_assert(same(arg_t<2, decltype(dx)>{}, 0_c));
static_assert(same(arg_t<1, decltype(dx)>{}, where(q_t{} == 0_c, 0_c, q_t{} * pow(relu(x), softsign(s)))));
static_assert(is_op<decltype(ds), actjit::Op::Where>);
static_assert(tree_size(dx) <= 24 && tree_size(ds) <= 40);
// Second order.
static_assert(same(d(d(pow(x, 3_c), x), x), 6_c * x));

// ---- Constexpr evaluation -----------------------------------------------------------------
constexpr auto poly = 3_c * pow(x, 3_c) - 2_c * x + s;
static_assert(poly(2.0, params(s = 1.0)) == 21.0);
static_assert(d(poly, x)(2.0, params(s = 1.0)) == 34.0);
static_assert(d(d(poly, x), x)(2.0, params(s = 1.0)) == 36.0);
static_assert(d(poly, s)(2.0, params(s = 1.0)) == 1.0);
static_assert(where(x > 0_c, x, 0.5_c * x)(-4.0) == -2.0);
static_assert(clamp(x, -1_c, 1_c)(3.0) == 1.0);
static_assert(mod(x, 3_c)(-1.0) == 2.0);                          // floored, sign of the divisor
static_assert(((x > 0_c) && !(x > 2_c))(1.0) == 1.0);
static_assert(catalog::brelu(-2.0, {}, 0) == 0.0 && catalog::brelu(-2.0, {}, 1) == -2.0);
static_assert(catalog::hardswish(1.5) == 1.125);
static_assert(catalog::expolu<1_c, 1_c, 2_c>(0.5) == 2.25);
static_assert(poly(2.0f, params(s = 1.0)) == 21.0f);

// ---- Parameters ---------------------------------------------------------------------------
static_assert(num_params<decltype(prepu)> == 1);
static_assert(num_params<decltype(x * t + s * t)> == 2);
static_assert(param_names(x * t + s * t)[0] == "t" && param_names(x * t + s * t)[1] == "s");
static_assert(same(substitute(x * s + t, s = 2_c), x * 2_c + t));
// Operand types named through decltype of a constexpr variable are const: still found.
using with_const_operands = node<actjit::Op::Add, decltype(s), decltype(t)>;
static_assert(std::is_same_v<arg_t<0, with_const_operands>, param_t<"s">>);
static_assert(num_params<with_const_operands> == 2);
static_assert(same(substitute(with_const_operands{}, s = 1_c), node<actjit::Op::Add, lit<1.0>, param_t<"t">>{}));
static_assert(d(with_const_operands{}, s)(0.0, params(s = 1.0, t = 1.0)) == 1.0);
static_assert(same(substitute(x * s + t, "s"_p = t, "t"_p = 1_c), x * 1_c + 1_c));  // in order

}  // namespace

TEST_CASE("the issue's example compiles and evaluates", "[dsl][types]") {
    const auto ps = params(s = 0.5);
    const double q = 0.5 / 1.5 + 1;
    CHECK(prepu(0.5, ps) == Approx(std::pow(0.5, q)));
    CHECK(dx(0.5, ps) == Approx(q * std::pow(0.5, q - 1)));
    CHECK(ds(0.5, ps) == Approx(std::pow(0.5, q) * std::log(0.5) / (1.5 * 1.5)));
    CHECK(dx(-0.5, ps) == 0.0);
    CHECK(ds(-0.5, ps) == 0.0);
}

TEST_CASE("to_string prints a formula the parser reads back", "[dsl][types]") {
    CHECK(to_string(x * 2_c) == actjit::to_string(actjit::parse_expr("x * 2")));
    CHECK(actjit::parse_expr(to_string(prepu)).same_as(to_expr(prepu)));
    CHECK(actjit::parse_expr(to_string(-3_c * -x)).same_as(to_expr(-3_c * -x)));
    CHECK(to_expr(x - 3_c).same_as(actjit::parse_expr("x - 3")));
    CHECK(to_expr(pow(relu(x), softsign(s) + 1_c)).same_as(actjit::parse_expr("relu(x)^(softsign(s) + 1)")));
    CHECK(to_expr(x < -3_c).same_as(actjit::parse_expr("x < -3")));
    CHECK(to_expr(where((x > s) && !(x < t), feature, x)).same_as(actjit::parse_expr("where(x > s and not x < t, feature, x)")));
}

TEST_CASE("to_formula records parameters in order, with defaults", "[dsl][types]") {
    const actjit::Formula f = to_formula(x * t + s, "mine", {{"s", 0.5}});
    CHECK(f.name == "mine");
    REQUIRE(f.params.size() == 2);
    CHECK(f.params[0].name == "t");
    CHECK_FALSE(f.params[0].default_value.has_value());
    CHECK(f.params[1].name == "s");
    CHECK(f.params[1].default_value == 0.5);
    CHECK_THROWS_AS(to_formula(x * t, "", {{"nope", 1.0}}), actjit::ValueError);
}
