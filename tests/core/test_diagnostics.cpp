// Rendering formula errors (message, echoed text, caret, note) and the
// "did you mean" suggestions. The expected renders are golden strings.
#include <actjit/formula.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace actjit;

namespace {

/// The rendered error of parsing `text`.
std::string rendered(const std::string& text) {
    try {
        parse_formula(text);
    } catch (const FormulaError& e) {
        return e.render(text);
    }
    FAIL("parsed without error: " << text.substr(0, 80));
    return {};
}

bool has_trailing_space(const std::string& s) {
    for (std::size_t i = 0; i + 1 < s.size(); ++i)
        if (s[i] == ' ' && s[i + 1] == '\n') return true;
    return !s.empty() && s.back() == ' ';
}

}  // namespace

TEST_CASE("an error renders as message, text, caret and note", "[diagnostics]") {
    CHECK(rendered("tanhh(x) * sigmoid(1.702 * x)") ==
          "error: unknown function 'tanhh'\n"
          "  tanhh(x) * sigmoid(1.702 * x)\n"
          "  ^~~~~\n"
          "note: did you mean 'tanh'?\n");
    CHECK(rendered("x * (x + 1") ==
          "error: expected ')' to close '(' at 4, found end of input\n"
          "  x * (x + 1\n"
          "            ^\n");
    CHECK(rendered("a < b < c") ==
          "error: comparison operators cannot be chained; add parentheses\n"
          "  a < b < c\n"
          "        ^\n"
          "note: write (a < b) and (b < c) for a range test\n");
    CHECK(rendered("expolu(x, 1, 2, 3, 4)") ==
          "error: 'expolu' takes 1 to 4 arguments (x, a, b, p), found 5\n"
          "  expolu(x, 1, 2, 3, 4)\n"
          "  ^~~~~~\n");
    CHECK(rendered("x + 1e999 * 2") ==
          "error: number '1e999' is out of range\n"
          "  x + 1e999 * 2\n"
          "      ^~~~~\n");
    CHECK(rendered("2x") ==
          "error: expected end of formula, found 'x'\n"
          "  2x\n"
          "   ^\n"
          "note: multiplication needs an explicit '*'\n");
    CHECK(rendered("f(x; a=1) = a*x + c") ==
          "error: parameter 'c' is not declared in the signature of 'f'\n"
          "  f(x; a=1) = a*x + c\n"
          "                    ^\n"
          "note: declared: a\n");
}

TEST_CASE("control and non-ASCII bytes are escaped, the caret stays aligned", "[diagnostics]") {
    CHECK(rendered("x +\x01 1") ==
          "error: unexpected character '\\x01'\n"
          "  x +\\x01 1\n"
          "     ^~~~\n");
    CHECK(rendered("x * \xc3\xa9") ==
          "error: non-ASCII byte 0xc3 in formula\n"
          "  x * \\xc3\\xa9\n"
          "      ^~~~\n");
    CHECK(rendered("x +\n\t@") ==
          "error: unexpected character '@'\n"
          "  x +\\x0a\\x09@\n"
          "             ^\n");
    CHECK(rendered(std::string("x\0+", 3)) ==
          "error: unexpected character '\\x00'\n"
          "  x\\x00+\n"
          "   ^~~~\n");
    // \xe2\x80\x8b is a zero-width space: shown, not hidden.
    CHECK(rendered("x\xe2\x80\x8b+1") ==
          "error: non-ASCII byte 0xe2 in formula\n"
          "  x\\xe2\\x80\\x8b+1\n"
          "   ^~~~\n");
}

TEST_CASE("empty and blank input, and no trailing spaces", "[diagnostics]") {
    CHECK(rendered("") ==
          "error: expected an expression, found end of input\n"
          "\n"
          "  ^\n");
    CHECK(rendered("x +   ") ==
          "error: expected an expression, found end of input\n"
          "  x +\n"
          "        ^\n");
    CHECK_FALSE(has_trailing_space(rendered("x +   ")));
    CHECK_FALSE(has_trailing_space(rendered("   ")));
}

TEST_CASE("long texts are shown as a window around the error", "[diagnostics]") {
    std::string terms;
    for (int i = 0; i < 50; ++i) terms += "x + ";  // 200 bytes
    // Error in the middle: cut on both sides.
    CHECK(rendered(terms + "@ + " + terms + "x") ==
          "error: unexpected character '@'\n"
          "  ... + x + x + x + x + x + x + x + x + @ + x + x + x + x + x + x + x + x +...\n" +
              std::string(40, ' ') + "^\n");
    // Near the start: cut on the right only (the space before the cut is trimmed).
    CHECK(rendered("@ + " + terms + "x") ==
          "error: unexpected character '@'\n"
          "  @ + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x ...\n"
          "  ^\n");
    // At the end: cut on the left only; the caret is one past the last byte.
    CHECK(rendered(terms) ==
          "error: expected an expression, found end of input\n"
          "  ...+ x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x +\n" +
              std::string(75, ' ') + "^\n");
    // A megabyte: the window, not the megabyte.
    std::string huge(1 << 20, 'x');
    std::string r = rendered(huge);
    CHECK(r.size() < 300);
    CHECK(r.rfind("error: formula longer than 65536 bytes\n  ...xxx", 0) == 0);
}

TEST_CASE("render is safe for any offset and length", "[diagnostics]") {
    CHECK(FormulaError("m", 100, 5).render("abc") == "error: m\n  abc\n     ^\n");
    CHECK(FormulaError("m", 1, 100).render("abc") == "error: m\n  abc\n   ^~\n");
    CHECK(FormulaError("m", 0, 0, "n").render("abc") == "error: m\n  abc\n  ^\nnote: n\n");
    CHECK(FormulaError("m", 2, 3).render("") == "error: m\n\n  ^\n");
}

TEST_CASE("nearest_known_name suggests close names only", "[diagnostics]") {
    CHECK(nearest_known_name("tanhh") == "tanh");
    CHECK(nearest_known_name("tnah") == "tanh");  // a swap is one edit
    CHECK(nearest_known_name("sigmod") == "sigmoid");
    CHECK(nearest_known_name("Exp") == "exp");
    CHECK(nearest_known_name("softplu") == "softplus");
    CHECK(nearest_known_name("leaky_rel") == "leaky_relu");
    CHECK(nearest_known_name("gelu_tahn") == "gelu_tanh");
    CHECK(nearest_known_name("expolo") == "expolu");
    CHECK(nearest_known_name("featur") == "feature");
    CHECK(nearest_known_name("pie") == "pi");
    CHECK(nearest_known_name("zzzzzz").empty());
    CHECK(nearest_known_name("foo").empty());  // 2 edits from log: too far for a short name
    CHECK(nearest_known_name("a").empty());    // 1 edit from e: but a is a whole name away
    CHECK(nearest_known_name("").empty());
    CHECK(nearest_known_name("exp") == "exp");  // a known name is its own nearest
    CHECK(nearest_known_name(std::string(1000, 'q')).empty());
}
