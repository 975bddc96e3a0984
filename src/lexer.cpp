// The formula language's lexer: bytes to tokens, each with its byte offset.
#include "lexer.hpp"

#include <actjit/catalog.hpp>
#include <actjit/expr.hpp>
#include <actjit/formula.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace actjit::lang {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/// number ::= digits [ '.' [digits] ] [ exponent ] | '.' digits [ exponent ]
/// exponent ::= ('e'|'E') ['+'|'-'] digits
/// An 'e' not followed by digits is not part of the number (`2e` is 2, then e).
std::size_t scan_number(std::string_view s, std::size_t i) {
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i])) ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        std::size_t j = i + 1;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < s.size() && is_digit(s[j])) {
            while (j < s.size() && is_digit(s[j])) ++j;
            i = j;
        }
    }
    return i;
}

double number_value(std::string_view text, std::size_t offset, std::size_t length) {
    std::string_view lit = text.substr(offset, length);
    double v = 0;
    auto [end, ec] = std::from_chars(lit.data(), lit.data() + lit.size(), v);
    bool nonzero_digits = lit.find_first_of("123456789") < lit.find_first_of("eE");
    // Overflow, and underflow of a non-zero literal to zero, are both errors:
    // neither may silently become a different number.
    if (ec == std::errc::result_out_of_range || !std::isfinite(v) || (v == 0 && nonzero_digits))
        throw FormulaError(fmt::format("number {} is out of range", quoted(lit)), offset, length);
    if (ec != std::errc() || end != lit.data() + lit.size())
        throw FormulaError(fmt::format("malformed number {}", quoted(lit)), offset, length);
    return v;
}

}  // namespace

std::string quoted(std::string_view s) {
    constexpr std::size_t kMax = 32;
    if (s.size() <= kMax) return fmt::format("'{}'", s);
    return fmt::format("'{}...'", s.substr(0, kMax - 3));
}

std::string describe(const Token& t, std::string_view text) {
    if (t.kind == Tok::End) return "end of input";
    return quoted(text.substr(t.offset, t.length));
}

std::vector<Token> tokenize(std::string_view text) {
    std::vector<Token> toks;
    std::size_t i = 0;
    const std::size_t n = text.size();
    auto peek = [&](std::size_t k) { return i + k < n ? text[i + k] : '\0'; };
    while (true) {
        while (i < n && is_space(text[i])) ++i;
        if (i == n) break;
        const char c = text[i];
        const std::size_t start = i;
        auto punct = [&](Tok kind, std::size_t len) {
            toks.push_back({kind, start, len});
            i += len;
        };
        if (is_digit(c) || (c == '.' && is_digit(peek(1)))) {
            i = scan_number(text, i);
            toks.push_back({Tok::Number, start, i - start, number_value(text, start, i - start)});
            continue;
        }
        if (is_ident_start(c)) {
            while (i < n && is_ident_char(text[i])) ++i;
            if (i - start > kMaxNameLength)
                throw FormulaError(fmt::format("name {} is longer than {} characters", quoted(text.substr(start, i - start)),
                                               kMaxNameLength),
                                   start, i - start);
            toks.push_back({Tok::Ident, start, i - start});
            continue;
        }
        switch (c) {
            case '(': punct(Tok::LParen, 1); continue;
            case ')': punct(Tok::RParen, 1); continue;
            case ',': punct(Tok::Comma, 1); continue;
            case ';': punct(Tok::Semi, 1); continue;
            case '+': punct(Tok::Plus, 1); continue;
            case '-': punct(Tok::Minus, 1); continue;
            case '/': punct(Tok::Slash, 1); continue;
            case '^': punct(Tok::Caret, 1); continue;
            case '*': peek(1) == '*' ? punct(Tok::Caret, 2) : punct(Tok::Star, 1); continue;
            case '<': peek(1) == '=' ? punct(Tok::Le, 2) : punct(Tok::Lt, 1); continue;
            case '>': peek(1) == '=' ? punct(Tok::Ge, 2) : punct(Tok::Gt, 1); continue;
            case '=': peek(1) == '=' ? punct(Tok::EqEq, 2) : punct(Tok::Assign, 1); continue;
            case '!': peek(1) == '=' ? punct(Tok::Ne, 2) : punct(Tok::Bang, 1); continue;
            case '&':
                if (peek(1) == '&') { punct(Tok::AndAnd, 2); continue; }
                throw FormulaError("unexpected character '&'", start, 1, "use 'and' (or '&&') for logical and");
            case '|':
                if (peek(1) == '|') { punct(Tok::OrOr, 2); continue; }
                throw FormulaError("unexpected character '|'", start, 1, "use 'or' (or '||') for logical or");
            default: break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) throw FormulaError(fmt::format("non-ASCII byte {:#04x} in formula", u), start, 1);
        if (u < 0x20 || u == 0x7f) throw FormulaError(fmt::format("unexpected character '\\x{:02x}'", u), start, 1);
        throw FormulaError(fmt::format("unexpected character '{}'", c), start, 1);
    }
    toks.push_back({Tok::End, n, 1});
    return toks;
}

bool is_reserved_name(std::string_view name) {
    return name == "x" || name == "feature" || name == "pi" || name == "e" || name == "and" || name == "or" ||
           name == "not" || find_builtin(name) != nullptr || find_activation(name) != nullptr;
}

}  // namespace actjit::lang
