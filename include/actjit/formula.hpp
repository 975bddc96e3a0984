// The formula language: parsing text into expressions and printing them back.
//
//   formula   ::= [ ident '(' 'x' [ ';' paramdecl { ',' paramdecl } ] ')' '=' ] expr
//   paramdecl ::= ident [ '=' number ]
//   expr      ::= or
//   or        ::= and { 'or' and }            ('||' also accepted)
//   and       ::= not { 'and' not }           ('&&' also accepted)
//   not       ::= 'not' not | cmp             ('!' also accepted)
//   cmp       ::= sum [ ('<'|'<='|'>'|'>='|'=='|'!=') sum ]   (non-associative)
//   sum       ::= product { ('+'|'-') product }
//   product   ::= unary { ('*'|'/') unary }
//   unary     ::= '-' unary | power
//   power     ::= primary [ ('^'|'**') unary ]  (right-associative; 2^-x allowed)
//   primary   ::= number | ident | ident '(' [ expr { ',' expr } ] ')' | '(' expr ')'
//
// Identifiers: `x` is the input, `feature` the 0-based column index, `pi` and
// `e` are constants, builtins (exp, relu, where, pow, ...) and catalog
// activations (silu, expolu, ...) are callable; any other identifier is a
// parameter. A catalog call takes x first, then optional positional values for
// its parameters: `expolu(x)` uses the defaults, `expolu(x, 1, 1, 3)` overrides.
// A formula that is only a catalog name (`prepu`) is that activation with its
// parameters free (and their defaults recorded).
#pragma once

#include <actjit/expr.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actjit {

/// Formula texts longer than this are rejected with a FormulaError.
inline constexpr std::size_t kMaxFormulaLength = 64 * 1024;
/// Parentheses and calls nested deeper than this are rejected.
inline constexpr int kMaxNesting = 200;

struct ParamDecl {
    std::string name;
    std::optional<double> default_value;
    friend bool operator==(const ParamDecl&, const ParamDecl&) = default;
};

/// A parsed formula: its body and its parameters in order (signature order if
/// a signature was given, else order of first appearance in the text).
struct Formula {
    std::string name;              // from the signature or the catalog; may be empty
    Expr body;
    std::vector<ParamDecl> params;  // every parameter the body uses, in order
    const ParamDecl* find_param(std::string_view name) const;
};

/// Parse a formula. Throws FormulaError (with the offset of the problem) on any
/// malformed, unknown, oversized or overly nested input. Never crashes.
Formula parse_formula(std::string_view text);

/// Parse just an expression (a signature is not allowed).
Expr parse_expr(std::string_view text);

/// Print an expression as formula text that parses back to the same node.
std::string to_string(const Expr& e);
/// Print a formula; with a signature when it has a name or parameter defaults.
std::string to_string(const Formula& f);

/// The known name closest to `name` (builtins, catalog, x, pi, e), or empty if
/// nothing is close. Used for "did you mean" notes.
std::string nearest_known_name(std::string_view name);

}  // namespace actjit
