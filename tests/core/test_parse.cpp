// The formula parser: what each piece of text means, and every error path
// with its exact message and position.
#include <actjit/catalog.hpp>
#include <actjit/formula.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace actjit;

namespace {

Expr x() { return input(); }
Expr c(double v) { return constant(v); }
Expr p(const char* name) { return param(name); }
Expr op(Op o, std::initializer_list<Expr> args) { return make(o, args); }

/// The error parsing `text` gives (fails the test if it parses).
FormulaError error_of(std::string_view text) {
    try {
        parse_formula(text);
    } catch (const FormulaError& e) {
        return e;
    }
    FAIL("parsed without error: " << std::string(text.substr(0, 80)));
    return FormulaError("", 0);
}

struct Expected {
    std::string message;
    std::size_t offset;
    std::size_t length = 1;
    std::string note = {};
};

void check_error(std::string_view text, const Expected& want) {
    INFO("formula: " << std::string(text.substr(0, 80)));
    FormulaError e = error_of(text);
    CHECK(e.message() == want.message);
    CHECK(e.offset() == want.offset);
    CHECK(e.length() == want.length);
    CHECK(e.note() == want.note);
    CHECK(std::string(e.what()) == want.message);
}

}  // namespace

TEST_CASE("leaves: numbers, x, feature, pi, e and parameters", "[parse]") {
    CHECK(parse_expr("1").same_as(c(1)));
    CHECK(parse_expr("0.5").same_as(c(0.5)));
    CHECK(parse_expr(".5").same_as(c(0.5)));
    CHECK(parse_expr("5.").same_as(c(5)));
    CHECK(parse_expr("1e-3").same_as(c(1e-3)));
    CHECK(parse_expr("2.5E+2").same_as(c(250)));
    CHECK(parse_expr("1e-310").same_as(c(1e-310)));  // subnormal, still exact
    CHECK(parse_expr("0e999").same_as(c(0)));        // zero is zero at any scale
    CHECK(parse_expr("x").same_as(x()));
    CHECK(parse_expr("  x\t\n").same_as(x()));
    CHECK(parse_expr("feature").same_as(feature_index()));
    CHECK(parse_expr("pi").same_as(c(std::numbers::pi)));
    CHECK(parse_expr("e").same_as(c(std::numbers::e)));
    CHECK(parse_expr("alpha").same_as(p("alpha")));
    CHECK(parse_expr("_a1").same_as(p("_a1")));
    CHECK(parse_expr("X").same_as(p("X")));  // names are case-sensitive
}

TEST_CASE("operator precedence and associativity", "[parse]") {
    Expr a = p("a"), b = p("b"), cc = p("c");
    // -x^2 is -(x^2); 2^-x is allowed; ^ is right-associative.
    CHECK(parse_expr("-x^2").same_as(op(Op::Neg, {op(Op::Pow, {x(), c(2)})})));
    CHECK(parse_expr("2^-x").same_as(op(Op::Pow, {c(2), op(Op::Neg, {x()})})));
    CHECK(parse_expr("a^b^c").same_as(op(Op::Pow, {a, op(Op::Pow, {b, cc})})));
    CHECK(parse_expr("a**b**c").same_as(parse_expr("a^b^c")));
    CHECK(parse_expr("-a^-b^c").same_as(op(Op::Neg, {op(Op::Pow, {a, op(Op::Neg, {op(Op::Pow, {b, cc})})})})));
    CHECK(parse_expr("(a^b)^c").same_as(op(Op::Pow, {op(Op::Pow, {a, b}), cc})));
    // + - * / are left-associative; * binds tighter than +.
    CHECK(parse_expr("a - b - c").same_as(op(Op::Sub, {op(Op::Sub, {a, b}), cc})));
    CHECK(parse_expr("a / b / c").same_as(op(Op::Div, {op(Op::Div, {a, b}), cc})));
    CHECK(parse_expr("a + b * c").same_as(op(Op::Add, {a, op(Op::Mul, {b, cc})})));
    CHECK(parse_expr("a * b + c").same_as(op(Op::Add, {op(Op::Mul, {a, b}), cc})));
    CHECK(parse_expr("-a * b").same_as(op(Op::Mul, {op(Op::Neg, {a}), b})));
    CHECK(parse_expr("a * -b").same_as(op(Op::Mul, {a, op(Op::Neg, {b})})));
    CHECK(parse_expr("a - -b").same_as(op(Op::Sub, {a, op(Op::Neg, {b})})));
    CHECK(parse_expr("--a").same_as(op(Op::Neg, {op(Op::Neg, {a})})));
    // Comparisons sit between arithmetic and logic.
    CHECK(parse_expr("a + 1 < b * 2").same_as(op(Op::Lt, {op(Op::Add, {a, c(1)}), op(Op::Mul, {b, c(2)})})));
    CHECK(parse_expr("not a and b").same_as(op(Op::And, {op(Op::Not, {a}), b})));
    CHECK(parse_expr("not a < b").same_as(op(Op::Not, {op(Op::Lt, {a, b})})));
    CHECK(parse_expr("a or b and c").same_as(op(Op::Or, {a, op(Op::And, {b, cc})})));
    CHECK(parse_expr("a and b or c").same_as(op(Op::Or, {op(Op::And, {a, b}), cc})));
    CHECK(parse_expr("not not a").same_as(op(Op::Not, {op(Op::Not, {a})})));
    CHECK(parse_expr("a && b || !c").same_as(parse_expr("a and b or not c")));
    CHECK(parse_expr("(a < b) < c").same_as(op(Op::Lt, {op(Op::Lt, {a, b}), cc})));
    CHECK(parse_expr("a <= b").op() == Op::Le);
    CHECK(parse_expr("a > b").op() == Op::Gt);
    CHECK(parse_expr("a >= b").op() == Op::Ge);
    CHECK(parse_expr("a == b").op() == Op::Eq);
    CHECK(parse_expr("a != b").op() == Op::Ne);
}

TEST_CASE("a minus on a number literal is a negative constant", "[parse]") {
    CHECK(parse_expr("-2").same_as(c(-2)));
    CHECK(parse_expr("- 2").same_as(c(-2)));
    CHECK(parse_expr("-0").same_as(c(-0.0)));
    CHECK(parse_expr("(-2)^x").same_as(op(Op::Pow, {c(-2), x()})));
    CHECK(parse_expr("x^-2").same_as(op(Op::Pow, {x(), c(-2)})));
    CHECK(parse_expr("x - -2").same_as(op(Op::Sub, {x(), c(-2)})));
    CHECK(parse_expr("-2 * x").same_as(op(Op::Mul, {c(-2), x()})));
    // ... but not when the literal is raised to a power, nor through parentheses.
    CHECK(parse_expr("-2^x").same_as(op(Op::Neg, {op(Op::Pow, {c(2), x()})})));
    CHECK(parse_expr("-(2)").same_as(op(Op::Neg, {c(2)})));
    CHECK(parse_expr("-(-2)").same_as(op(Op::Neg, {c(-2)})));
    CHECK(parse_expr("--2").same_as(op(Op::Neg, {c(-2)})));
}

TEST_CASE("builtin calls", "[parse]") {
    CHECK(parse_expr("exp(x)").same_as(op(Op::Exp, {x()})));
    CHECK(parse_expr("where(x > 0, x, 0)").same_as(op(Op::Where, {op(Op::Gt, {x(), c(0)}), x(), c(0)})));
    CHECK(parse_expr("clamp(x, -1, 1)").same_as(op(Op::Clamp, {x(), c(-1), c(1)})));
    CHECK(parse_expr("pow(x, 3)").same_as(op(Op::Pow, {x(), c(3)})));
    CHECK(parse_expr("pow(x, 3)").same_as(parse_expr("x^3")));
    CHECK(parse_expr("x ** 3").same_as(parse_expr("x^3")));
    CHECK(parse_expr("min(x, 1) + max(x, 1) + mod(x, 2)").op() == Op::Add);
    CHECK(parse_expr("relu(x)").same_as(op(Op::Relu, {x()})));
    // Every Call-kind op is callable by its spelling with its arity.
    for (int i = 0; i < kNumOps; ++i) {
        const OpInfo& info = op_info(static_cast<Op>(i));
        if (info.kind != OpKind::Call) continue;
        std::string text = std::string(info.spelling) + "(x";
        for (int k = 1; k < info.arity; ++k) text += ", x";
        text += ")";
        INFO(text);
        Expr e = parse_expr(text);
        CHECK(e.op() == info.op);
        CHECK(e.num_args() == info.arity);
    }
}

TEST_CASE("catalog calls expand the activation's body", "[parse][catalog]") {
    // Defaults become constants; positional values override them in order.
    Expr swish_default = parse_expr("swish(x)");
    CHECK(swish_default.same_as(op(Op::Mul, {x(), op(Op::Sigmoid, {op(Op::Mul, {c(1), x()})})})));
    CHECK(parse_expr("swish(x, 2)").same_as(op(Op::Mul, {x(), op(Op::Sigmoid, {op(Op::Mul, {c(2), x()})})})));
    CHECK(parse_expr("swish(x, beta)").same_as(parse_expr("x * sigmoid(beta * x)")));
    CHECK(parse_expr("silu(x) + 0.1*x").same_as(parse_expr("x * sigmoid(x) + 0.1 * x")));
    // The argument replaces x everywhere, and may itself use x and parameters.
    CHECK(parse_expr("silu(2*x + s)").same_as(parse_expr("(2*x + s) * sigmoid(2*x + s)")));
    CHECK(parse_expr("expolu(x)").same_as(
        parse_expr("where(x < -1, 0, where(x < 1, (x + 1)^2 / 1, x + (2*1)^2 / 1 - 1))")));
    CHECK(parse_expr("expolu(x, 1, 1, 3)").same_as(
        parse_expr("where(x < -1, 0, where(x < 1, (x + 1)^3 / 1, x + (2*1)^3 / 1 - 1))")));
    CHECK(parse_expr("expolu(x, 2)").same_as(
        parse_expr("where(x < -1, 0, where(x < 1, (x + 1)^2 / 2, x + (2*1)^2 / 2 - 1))")));
    // A builtin of matching arity wins; otherwise the catalog entry is called.
    CHECK(parse_expr("softplus(x)").same_as(op(Op::Softplus, {x()})));
    CHECK(parse_expr("softplus(x, 2)").same_as(parse_expr("where(2 * x > 20, x, softplus(2 * x) / 2)")));
    CHECK(parse_expr("softplus(x, 2, 10)").same_as(parse_expr("where(2 * x > 10, x, softplus(2 * x) / 2)")));
    CHECK(parse_expr("relu(x)").same_as(op(Op::Relu, {x()})));
    CHECK(parse_expr("brelu(x)").same_as(parse_expr("where(mod(feature, 2) == 0, relu(x), -relu(-x))")));
    // Parameters passed to a catalog call are the formula's parameters.
    Formula f = parse_formula("prepu(x, t) * k");
    REQUIRE(f.params.size() == 2);
    CHECK(f.params[0].name == "t");
    CHECK(f.params[1].name == "k");
}

TEST_CASE("a formula that is a catalog name is that activation", "[parse][catalog]") {
    Formula f = parse_formula("prepu");
    CHECK(f.name == "prepu");
    CHECK(f.body.same_as(parse_expr("relu(x)^(softsign(s) + 1)")));
    REQUIRE(f.params.size() == 1);
    CHECK(f.params[0] == ParamDecl{"s", 0.0});
    Formula sp = parse_formula("  softplus ");
    CHECK(sp.name == "softplus");
    REQUIRE(sp.params.size() == 2);
    CHECK(sp.params[0] == ParamDecl{"beta", 1.0});
    CHECK(sp.params[1] == ParamDecl{"threshold", 20.0});
    CHECK(parse_expr("mish").same_as(parse_expr("x * tanh(softplus(x))")));
    // A parameter that is not a catalog name is just a parameter.
    CHECK(parse_formula("prepuu").body.same_as(p("prepuu")));
}

TEST_CASE("formula parameters: signature order, else first appearance", "[parse]") {
    Formula f = parse_formula("b * x + a + b");
    REQUIRE(f.params.size() == 2);
    CHECK(f.params[0] == ParamDecl{"b", std::nullopt});
    CHECK(f.params[1] == ParamDecl{"a", std::nullopt});
    CHECK(f.name.empty());
    CHECK(f.find_param("a") == &f.params[1]);
    CHECK(f.find_param("z") == nullptr);
    CHECK(parse_formula("x * 2").params.empty());
}

TEST_CASE("signatures", "[parse]") {
    Formula f = parse_formula("myact(x; a=1, b=-0.5) = a * x + b");
    CHECK(f.name == "myact");
    CHECK(f.body.same_as(parse_expr("a * x + b")));
    REQUIRE(f.params.size() == 2);
    CHECK(f.params[0] == ParamDecl{"a", 1.0});
    CHECK(f.params[1] == ParamDecl{"b", -0.5});

    // Signature order wins over appearance order; undefaulted and unused params are kept.
    Formula g = parse_formula("g(x; b, a=2, unused) = a + b");
    REQUIRE(g.params.size() == 3);
    CHECK(g.params[0] == ParamDecl{"b", std::nullopt});
    CHECK(g.params[1] == ParamDecl{"a", 2.0});
    CHECK(g.params[2] == ParamDecl{"unused", std::nullopt});

    Formula h = parse_formula("h(x) = x * sigmoid(x)");
    CHECK(h.name == "h");
    CHECK(h.params.empty());
    CHECK(parse_formula("s(x; a=.5e1) = a").params[0].default_value == 5.0);
    // A signature may call catalog activations in its body.
    CHECK(parse_formula("m(x; t=0) = prepu(x, t)").body.same_as(parse_expr("relu(x)^(softsign(t) + 1)")));
}

TEST_CASE("signature errors", "[parse][errors]") {
    check_error("myact(x; a=1) = a*x + c", {"parameter 'c' is not declared in the signature of 'myact'", 22, 1, "declared: a"});
    check_error("f(x) = s * x", {"parameter 's' is not declared in the signature of 'f'", 7, 1, "it declares no parameters"});
    check_error("f(x; a, a) = a", {"parameter 'a' is declared twice", 8});
    check_error("f(y) = 1", {"expected 'x' as the first parameter of 'f', found 'y'", 2, 1,
                             "the input comes first: name(x; a=1, b=2) = ..."});
    check_error("f(x; x) = 1", {"'x' is the input and cannot be a parameter", 5});
    check_error("f(x; exp) = 1", {"'exp' is a reserved name and cannot be a parameter", 5, 3});
    check_error("f(x; pi=2) = 1", {"'pi' is a reserved name and cannot be a parameter", 5, 2});
    check_error("f(x; prepu) = 1", {"'prepu' is a reserved name and cannot be a parameter", 5, 5});
    check_error("f(x; a=b) = a", {"expected a number as the default of 'a', found 'b'", 7});
    check_error("f(x; a=) = a", {"expected a number as the default of 'a', found ')'", 7});
    check_error("f(x; 1) = 1", {"expected a parameter name, found '1'", 5});
    check_error("k(x;) = x", {"expected a parameter name, found ')'", 4});
    check_error("f(x; a b) = 1", {"expected ')' to close '(' at 1, found 'b'", 7});
    check_error("f(x; a) x", {"expected '=' after the signature, found 'x'", 8});
    check_error("f(x) x", {"unknown function 'f'", 0, 1, "to multiply, write 'f * (...)'"});
    check_error("f(x;a) + 1", {"expected '=' after the signature, found '+'", 7});
    check_error("f(x) =", {"expected an expression, found end of input", 6});
    check_error("and(x) = 1", {"'and' cannot name a formula", 0, 3});
    check_error("f(x; a=1e999) = a", {"number '1e999' is out of range", 7, 5});
    CHECK_THROWS_WITH(parse_expr("f(x; a) = a"), "a signature is not allowed here");
}

TEST_CASE("syntax errors: what was expected and what was found", "[parse][errors]") {
    check_error("", {"expected an expression, found end of input", 0});
    check_error("   \n\t", {"expected an expression, found end of input", 5});
    check_error("(x", {"expected ')' to close '(' at 0, found end of input", 2});
    check_error("x * (x + 1", {"expected ')' to close '(' at 4, found end of input", 10});
    check_error("x +", {"expected an expression, found end of input", 3});
    check_error("x * * 2", {"expected an expression, found '*'", 4});
    check_error("*x", {"expected an expression, found '*'", 0});
    check_error("x )", {"expected end of formula, found ')'", 2});
    check_error("x y", {"expected end of formula, found 'y'", 2, 1, "multiplication needs an explicit '*'"});
    check_error("2x", {"expected end of formula, found 'x'", 1, 1, "multiplication needs an explicit '*'"});
    check_error("2 (x)", {"expected end of formula, found '('", 2, 1, "multiplication needs an explicit '*'"});
    check_error("(x)(x)", {"expected end of formula, found '('", 3, 1, "multiplication needs an explicit '*'"});
    check_error("x = 1", {"expected end of formula, found '='", 2, 1, "use '==' to compare"});
    check_error("(x = 1)", {"expected ')' to close '(' at 0, found '='", 3, 1, "use '==' to compare"});
    check_error("= 1", {"expected an expression, found '='", 0, 1, "use '==' to compare"});
    check_error("x, 1", {"expected end of formula, found ','", 1});
    check_error("()", {"expected an expression, found ')'", 1});
    check_error("a < b < c", {"comparison operators cannot be chained; add parentheses", 6, 1,
                              "write (a < b) and (b < c) for a range test"});
    check_error("a == b != c", {"comparison operators cannot be chained; add parentheses", 7, 2,
                                "write (a < b) and (b < c) for a range test"});
    check_error("x and", {"expected an expression, found end of input", 5});
    check_error("and x", {"expected an expression, found 'and'", 0, 3});
    check_error("x + not y", {"expected an expression, found 'not'", 4, 3,
                              "'not' binds more loosely than arithmetic and comparisons; add parentheses"});
    check_error("x ^", {"expected an expression, found end of input", 3});
    check_error("-", {"expected an expression, found end of input", 1});
    check_error("x; 1", {"expected end of formula, found ';'", 1});
    check_error("1.2.3", {"expected end of formula, found '.3'", 3, 2, "multiplication needs an explicit '*'"});
    check_error("1e", {"expected end of formula, found 'e'", 1, 1, "multiplication needs an explicit '*'"});
}

TEST_CASE("call errors", "[parse][errors]") {
    check_error("tanhh(x) * sigmoid(1.702 * x)", {"unknown function 'tanhh'", 0, 5, "did you mean 'tanh'?"});
    check_error("x + sigmod(x)", {"unknown function 'sigmod'", 4, 6, "did you mean 'sigmoid'?"});
    check_error("gelu_tahn(x)", {"unknown function 'gelu_tahn'", 0, 9, "did you mean 'gelu_tanh'?"});
    check_error("foobar(x)", {"unknown function 'foobar'", 0, 6});
    check_error("a(x + 1)", {"unknown function 'a'", 0, 1, "to multiply, write 'a * (...)'"});
    check_error("x(2)", {"'x' is the input, not a function", 0, 1, "multiplication needs an explicit '*'"});
    check_error("pi(2)", {"'pi' is a constant, not a function", 0, 2, "multiplication needs an explicit '*'"});
    check_error("feature(2)", {"'feature' is a constant, not a function", 0, 7, "multiplication needs an explicit '*'"});
    check_error("exp(x, 2)", {"'exp' takes 1 argument, found 2", 0, 3});
    check_error("exp()", {"'exp' takes 1 argument, found 0", 0, 3});
    check_error("1 + where(x, 1)", {"'where' takes 3 arguments, found 2", 4, 5});
    check_error("pow(x)", {"'pow' takes 2 arguments, found 1", 0, 3});
    check_error("expolu(x, 1, 2, 3, 4)", {"'expolu' takes 1 to 4 arguments (x, a, b, p), found 5", 0, 6});
    check_error("expolu()", {"'expolu' takes 1 to 4 arguments (x, a, b, p), found 0", 0, 6});
    check_error("silu(x, 1)", {"'silu' takes 1 argument (x), found 2", 0, 4});
    check_error("softplus(x, 1, 2, 3)", {"'softplus' takes 1 to 3 arguments (x, beta, threshold), found 4", 0, 8});
    check_error("exp(x", {"expected ',' or ')' to close '(' at 3, found end of input", 5});
    check_error("exp(x y)", {"expected ',' or ')' to close '(' at 3, found 'y'", 6, 1, "multiplication needs an explicit '*'"});
    check_error("exp(x,)", {"expected an expression, found ')'", 6});
    check_error("exp + 1", {"expected '(' after 'exp', found '+'", 4, 1, "'exp' is a function: write exp(...)"});
    check_error("silu * 2", {"expected '(' after 'silu', found '*'", 5, 1, "'silu' is a function: write silu(...)"});
    check_error("exp", {"expected '(' after 'exp', found end of input", 3, 1, "'exp' is a function: write exp(...)"});
}

TEST_CASE("lexical errors", "[parse][errors]") {
    check_error("x @ 2", {"unexpected character '@'", 2});
    check_error("x # 2", {"unexpected character '#'", 2});
    check_error("x & y", {"unexpected character '&'", 2, 1, "use 'and' (or '&&') for logical and"});
    check_error("x | y", {"unexpected character '|'", 2, 1, "use 'or' (or '||') for logical or"});
    check_error("x + \x01", {"unexpected character '\\x01'", 4});
    check_error(std::string_view("x +\0 1", 6), {"unexpected character '\\x00'", 3});
    check_error("x + \x7f", {"unexpected character '\\x7f'", 4});
    check_error("x * \xc3\xa9", {"non-ASCII byte 0xc3 in formula", 4});
    check_error("\xff", {"non-ASCII byte 0xff in formula", 0});
    check_error("1e999", {"number '1e999' is out of range", 0, 5});
    check_error("x + 1e-999", {"number '1e-999' is out of range", 4, 6});
    check_error("-1e400", {"number '1e400' is out of range", 1, 5});
    check_error("x + .", {"unexpected character '.'", 4});
    std::string long_name(65, 'a');
    check_error(long_name, {"name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is longer than 64 characters", 0, 65});
    CHECK(parse_expr(std::string(64, 'a')).same_as(param(std::string(64, 'a'))));
    std::string long_number(400, '9');
    check_error(long_number, {"number '99999999999999999999999999999...' is out of range", 0, 400});
}

TEST_CASE("absurd input gets a clear error, never a crash", "[parse][errors][limits]") {
    // Megabytes of text: rejected before any work.
    std::string huge(1 << 20, 'x');
    check_error(huge, {"formula longer than 65536 bytes", 65536});
    std::string huge_sum = "x";
    while (huge_sum.size() < (1 << 20)) huge_sum += "+x";
    check_error(huge_sum, {"formula longer than 65536 bytes", 65536});
    CHECK(parse_expr(std::string(kMaxFormulaLength - 1, ' ') + "x").same_as(x()));

    // Deep nesting: parentheses, calls.
    check_error(std::string(100000, '('), {"formula longer than 65536 bytes", 65536});
    check_error(std::string(60000, '(') + "x", {"nesting deeper than 200 levels", 200});
    check_error(std::string(201, '(') + "x" + std::string(201, ')'), {"nesting deeper than 200 levels", 200});
    std::string calls;
    for (int i = 0; i < 300; ++i) calls += "exp(";
    check_error(calls + "x", {"nesting deeper than 200 levels", 200 * 4 + 3});
    Expr ok = parse_expr(std::string(200, '(') + "x" + std::string(200, ')'));
    CHECK(ok.same_as(x()));

    // Long operator chains are loops, not recursion; too deep an expression
    // is a LimitError from make() turned into a FormulaError.
    std::string sum20000 = "x";
    for (int i = 0; i < 20000; ++i) sum20000 += "+x";
    FormulaError deep = error_of(sum20000);
    CHECK(deep.message() == "expression too deep: more than 4096 levels of nesting");
    CHECK(deep.offset() == 2 * 4097 - 1);  // at the '+' after the operand that went too deep
    CHECK(parse_expr([] {
              std::string s = "x";
              for (int i = 0; i < 4000; ++i) s += "+x";
              return s;
          }())
              .depth() == 4001);
    std::string minus(30000, '-');
    CHECK(error_of(minus + "x").message() == "expression too deep: more than 4096 levels of nesting");
    std::string nots;
    for (int i = 0; i < 5000; ++i) nots += "!";
    CHECK(error_of(nots + "x").message() == "expression too deep: more than 4096 levels of nesting");
    std::string tower = "x";
    for (int i = 0; i < 5000; ++i) tower += "^x";
    CHECK(error_of(tower).message() == "expression too deep: more than 4096 levels of nesting");
    // Wide but shallow: many arguments are fine until the depth or length limit.
    std::string wide = "x";
    for (int i = 0; i < 3000; ++i) wide += "*(x+1)";
    CHECK(parse_expr(wide).op() == Op::Mul);
}

TEST_CASE("parsing is thread-safe", "[parse][catalog]") {
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i)
                ok[t] += parse_expr("expolu(x, a) + swish(x) * prepu(x)").same_as(
                    parse_expr("expolu(x, a) + swish(x) * prepu(x)"));
        });
    for (auto& th : threads) th.join();
    CHECK(ok == std::vector<int>(4, 200));
}

TEST_CASE("random and mutated text: a formula or a FormulaError, nothing else", "[parse][errors]") {
    std::mt19937 rng(7);
    const std::string alphabet = "x+-*/^()<>=!&|,;. 0123456789eEabnotrsw_\t\x01\xc3";
    std::vector<std::string> seeds;
    for (const Activation& a : catalog()) seeds.push_back(a.formula);
    seeds.push_back("myact(x; a=1, b=-0.5) = a * x + b");
    seeds.push_back("not x < 1 and -x^2 >= 2 ** -x or x != 0");
    std::uniform_int_distribution<int> coin(0, 3);
    int parsed = 0, rejected = 0;
    for (int round = 0; round < 4000; ++round) {
        std::string text;
        if (coin(rng) == 0) {
            std::uniform_int_distribution<std::size_t> len(0, 30), ch(0, alphabet.size() - 1);
            for (std::size_t n = len(rng); n > 0; --n) text += alphabet[ch(rng)];
        } else {
            text = seeds[std::uniform_int_distribution<std::size_t>(0, seeds.size() - 1)(rng)];
            for (int edits = 1 + coin(rng); edits > 0; --edits) {
                std::size_t at = std::uniform_int_distribution<std::size_t>(0, text.size())(rng);
                char c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
                switch (coin(rng)) {
                    case 0: if (at < text.size()) text.erase(at, 1); break;
                    case 1: text.insert(at, 1, c); break;
                    default: if (at < text.size()) text[at] = c; break;
                }
            }
        }
        INFO("text: " << text);
        try {
            Formula f = parse_formula(text);
            ++parsed;
            Formula back = parse_formula(to_string(f));
            CHECK(back.body.same_as(f.body));
            CHECK(back.params == f.params);
        } catch (const FormulaError& e) {
            ++rejected;
            CHECK(e.offset() <= text.size());
            CHECK_FALSE(e.message().empty());
            CHECK_FALSE(e.render(text).empty());
        }
    }
    CHECK(parsed > 100);
    CHECK(rejected > 100);
}
