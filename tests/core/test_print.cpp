// Printing: minimal parentheses, exact constants, and print -> parse giving
// back the very same node.
#include <actjit/formula.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace actjit;

namespace {

Expr x() { return input(); }
Expr c(double v) { return constant(v); }
Expr p(const char* name) { return param(name); }
Expr op(Op o, std::initializer_list<Expr> args) { return make(o, args); }

/// print(e) parses back to e itself.
void check_round_trip(const Expr& e) {
    std::string text = to_string(e);
    INFO("printed: " << text);
    Expr back = parse_expr(text);
    CHECK(back.same_as(e));
    CHECK(to_string(back) == text);
}

}  // namespace

TEST_CASE("parentheses only where precedence needs them", "[print]") {
    const char* canonical[] = {
        "x + 1",
        "x - (a - b)",
        "x - (a + b)",
        "a - b - c",
        "a / (b * c)",
        "a / b * c",
        "(a + b) * c",
        "-(a + b)",
        "-a * b",
        "-(a * b)",
        "-x^2",
        "(-x)^2",
        "(a * b)^c",
        "a^(b * c)",
        "a^b^c",
        "(a^b)^c",
        "2^-x",
        "a^-b^c",
        "a^(-b)^c",
        "--a",
        "a < b",
        "(a < b) == (c < d)",
        "a + 1 <= b * 2",
        "not a and b",
        "not (a and b)",
        "not a < b",
        "(not a) < b",
        "-(not a)",
        "a or b and c",
        "(a or b) and c",
        "a and b or c",
        "a and (b or c)",
        "not not a",
        "where(x > 0, x, a * x)",
        "clamp(x, -1, 1) + max(x, a) * min(a, b)",
        "exp(-x^2 / 2)",
        "(x + b)^p / a",
        "relu(x)^(softsign(s) + 1)",
        "x * feature",
        "(x + 1) * (x - 1) / (x * x)",
        "a - (b < c)",
        "a - b < c",
    };
    for (const char* text : canonical) {
        INFO(text);
        Expr e = parse_expr(text);
        CHECK(to_string(e) == text);
        CHECK(parse_expr(to_string(e)).same_as(e));
    }
}

TEST_CASE("redundant parentheses and spelling variants print canonically", "[print]") {
    CHECK(to_string(parse_expr("((x))+(1)")) == "x + 1");
    CHECK(to_string(parse_expr("x**2")) == "x^2");
    CHECK(to_string(parse_expr("pow(x, 2)")) == "x^2");
    CHECK(to_string(parse_expr("x&&y||!z")) == "x and y or not z");
    CHECK(to_string(parse_expr("(a*b)*c")) == "a * b * c");
    CHECK(to_string(parse_expr("a*(b*c)")) == "a * (b * c)");
    CHECK(to_string(parse_expr("-(x^2)")) == "-x^2");
    CHECK(to_string(parse_expr("x ^ (-2)")) == "x^-2");
}

TEST_CASE("constants print as the shortest exact text", "[print]") {
    CHECK(to_string(c(1)) == "1");
    CHECK(to_string(c(0)) == "0");
    CHECK(to_string(c(-0.0)) == "-0");
    CHECK(to_string(c(0.1)) == "0.1");
    CHECK(to_string(c(-2.5)) == "-2.5");
    CHECK(to_string(c(1e20)) == "1e+20");
    CHECK(to_string(c(1e-7)) == "1e-07");
    CHECK(to_string(c(0.1 + 0.2)) == "0.30000000000000004");
    CHECK(to_string(c(1.0507009873554805)) == "1.0507009873554805");
    const double hard[] = {std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
                           std::numeric_limits<double>::denorm_min(), -std::numeric_limits<double>::max(),
                           std::nextafter(1.0, 2.0), M_PI, 1.0 / 3.0, 123456789012345678.0, 5e-324, 0.5, 100000.0};
    for (double v : hard) {
        INFO(v);
        check_round_trip(c(v));
        check_round_trip(op(Op::Mul, {c(v), x()}));
        check_round_trip(op(Op::Pow, {c(v), x()}));
        check_round_trip(op(Op::Pow, {c(-v), x()}));
        check_round_trip(op(Op::Neg, {c(v)}));
        check_round_trip(op(Op::Neg, {c(-v)}));
        check_round_trip(op(Op::Sub, {x(), c(-v)}));
    }
}

TEST_CASE("negative constants and negations stay distinct", "[print]") {
    CHECK(to_string(op(Op::Neg, {c(2)})) == "-(2)");
    CHECK(to_string(op(Op::Neg, {c(-2)})) == "--2");
    CHECK(to_string(op(Op::Sub, {x(), c(-2)})) == "x - -2");
    CHECK(to_string(op(Op::Add, {x(), c(-2)})) == "x + -2");
    CHECK(to_string(op(Op::Pow, {c(-2), x()})) == "(-2)^x");
    CHECK(to_string(op(Op::Pow, {x(), c(-2)})) == "x^-2");
    CHECK(to_string(op(Op::Pow, {x(), op(Op::Neg, {c(2)})})) == "x^-(2)");
    CHECK(to_string(op(Op::Mul, {c(-1), x()})) == "-1 * x");
    CHECK(to_string(op(Op::Mul, {x(), c(-1)})) == "x * -1");
    CHECK(to_string(op(Op::Neg, {op(Op::Pow, {c(2), x()})})) == "-2^x");
    for (const Expr& e : {op(Op::Neg, {c(2)}), op(Op::Neg, {c(-2)}), op(Op::Neg, {c(0)}), op(Op::Neg, {c(-0.0)}),
                          op(Op::Pow, {op(Op::Neg, {c(2)}), x()}), op(Op::Neg, {op(Op::Neg, {c(3)})})})
        check_round_trip(e);
}

TEST_CASE("formulas print with a signature when they have a name or defaults", "[print]") {
    CHECK(to_string(parse_formula("myact(x; a=1, b=-0.5) = a*x+b")) == "myact(x; a=1, b=-0.5) = a * x + b");
    CHECK(to_string(parse_formula("g(x; b, a=2e-9) = a+b")) == "g(x; b, a=2e-09) = a + b");
    CHECK(to_string(parse_formula("h(x) = x")) == "h(x) = x");
    CHECK(to_string(parse_formula("a*x")) == "a * x");
    CHECK(to_string(parse_formula("swish")) == "swish(x; beta=1) = x * sigmoid(beta * x)");
    Formula unnamed{"", parse_expr("a * x"), {{"a", 3.0}}};
    CHECK(to_string(unnamed) == "f(x; a=3) = a * x");
    for (const char* text : {"myact(x; a=1, b=-0.5) = a*x+b", "g(x; b, a=2, u) = a+b", "h(x) = x", "k(x; c=0.1) = x^c"}) {
        INFO(text);
        Formula f = parse_formula(text);
        Formula back = parse_formula(to_string(f));
        CHECK(back.name == f.name);
        CHECK(back.body.same_as(f.body));
        CHECK(back.params == f.params);
    }
}

TEST_CASE("deep and heavily shared expressions print safely", "[print][limits]") {
    // As deep as an expression may be: printed without recursion, and parsed back.
    Expr deep = x();
    for (std::uint32_t i = 1; i < kMaxExprDepth; ++i) deep = op(Op::Neg, {deep});
    std::string text = to_string(deep);
    CHECK(text.size() == kMaxExprDepth);
    CHECK(parse_expr(text).same_as(deep));
    Expr deep_sum = x();
    for (std::uint32_t i = 1; i < kMaxExprDepth; ++i) deep_sum = op(Op::Sub, {p("a"), deep_sum});
    CHECK(to_string(deep_sum).size() > 4 * kMaxExprDepth);

    // 80 nodes standing for a tree of 2^80: refused, not attempted.
    Expr tree = x();
    for (int i = 0; i < 80; ++i) tree = op(Op::Mul, {tree, tree});
    CHECK_THROWS_AS(to_string(tree), LimitError);
    CHECK_THROWS_WITH(to_string(tree), "expression too large to print (more than 16777216 bytes as text)");
    // A tree of fewer nodes than the limit whose text is still too long.
    Expr wide = param(std::string(64, 'w'));
    for (int i = 0; i < 21; ++i) wide = op(Op::Add, {wide, wide});
    CHECK_THROWS_AS(to_string(wide), LimitError);
}

TEST_CASE("parameters with reserved names are refused, not misprinted", "[print][errors]") {
    for (const char* name : {"x", "pi", "e", "feature", "exp", "where", "pow", "prepu", "and", "not"}) {
        INFO(name);
        CHECK_THROWS_AS(to_string(op(Op::Add, {param(name), x()})), ValueError);
    }
    CHECK_THROWS_WITH(to_string(param("pi")), "parameter 'pi' cannot be printed: the name is reserved in formulas");
    CHECK(to_string(param("pi_2")) == "pi_2");
}

TEST_CASE("random expressions round-trip through text", "[print]") {
    std::mt19937 rng(20261123);
    const double constants[] = {0, -0.0, 1, -1, 2, -2, 0.5, -0.5, 0.1, 3, 1e-300, -1e300, 1e20, M_PI, 7.25e-5};
    std::vector<Op> ops;
    for (int i = 0; i < kNumOps; ++i)
        if (op_info(static_cast<Op>(i)).kind != OpKind::Leaf) ops.push_back(static_cast<Op>(i));
    std::uniform_int_distribution<std::size_t> pick_op(0, ops.size() - 1);
    std::uniform_int_distribution<int> pick_leaf(0, 5);
    std::uniform_int_distribution<std::size_t> pick_const(0, std::size(constants) - 1);

    // Iterative generation: a pool of sub-expressions combined at random.
    for (int round = 0; round < 300; ++round) {
        std::vector<Expr> pool;
        for (int i = 0; i < 6; ++i) {
            switch (pick_leaf(rng)) {
                case 0: pool.push_back(x()); break;
                case 1: pool.push_back(feature_index()); break;
                case 2: pool.push_back(p("a")); break;
                case 3: pool.push_back(p("beta_2")); break;
                default: pool.push_back(c(constants[pick_const(rng)])); break;
            }
        }
        for (int step = 0; step < 12; ++step) {
            Op o = ops[pick_op(rng)];
            int arity = op_info(o).arity;
            std::vector<Expr> args;
            std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
            for (int k = 0; k < arity; ++k) args.push_back(pool[pick(rng)]);
            pool.push_back(make(o, args));
        }
        check_round_trip(pool.back());
    }
}
