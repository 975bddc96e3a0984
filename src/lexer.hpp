// The formula language's lexer, and helpers the parser, printer and
// diagnostics share. Internal to actjit::core.
#pragma once

#include <actjit/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace actjit::lang {

enum class Tok : unsigned char {
    End,
    Number,
    Ident,
    LParen,   // (
    RParen,   // )
    Comma,    // ,
    Semi,     // ;
    Assign,   // =
    Plus,     // +
    Minus,    // -
    Star,     // *
    Slash,    // /
    Caret,    // ^ or **
    Lt,       // <
    Le,       // <=
    Gt,       // >
    Ge,       // >=
    EqEq,     // ==
    Ne,       // !=
    AndAnd,   // &&
    OrOr,     // ||
    Bang,     // !
};

struct Token {
    Tok kind;
    std::size_t offset;  // byte offset of the first character
    std::size_t length;  // bytes
    double value = 0;    // Number only
};

/// Split `text` into tokens (the last one is End). Throws FormulaError for a
/// character that starts no token, a non-ASCII byte, a malformed or
/// out-of-range number, or an over-long name.
std::vector<Token> tokenize(std::string_view text);

/// How a token is named in "found ..." messages: `'*'`, `'tanhh'`,
/// `end of input`. Long token texts are cut with "...".
std::string describe(const Token& t, std::string_view text);

/// `'text'`, cut to at most 32 characters with "...".
std::string quoted(std::string_view s);

/// Names with a fixed meaning that a parameter may not take.
bool is_reserved_name(std::string_view name);

/// The callable name nearest to `name` (builtins and catalog), or empty.
std::string nearest_callable_name(std::string_view name);

/// Longest parameter name accepted (matches actjit::param()).
inline constexpr std::size_t kMaxNameLength = 64;

}  // namespace actjit::lang
