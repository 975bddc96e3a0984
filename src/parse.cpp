// The formula language's parser: tokens to raw expression nodes.
//
// The parser builds exactly the nodes the text spells (raw make(), no
// simplification), so printing a parsed formula and parsing it again gives the
// same node. The only rewrites keep that round trip exact: a minus directly on
// a number literal is a negative constant (`-2`), `pow(a, b)` and `a ** b` are
// `a ^ b`, `pi` and `e` are constants, and a catalog call is replaced by the
// activation's body.
//
// Left-associative chains (`x + x + ... + x`) are parsed by loops, and prefix
// operators and `^` chains by explicit stacks, so the only recursion is through
// parentheses and call arguments; that is bounded by kMaxNesting. Expression
// depth beyond kMaxExprDepth (make() throws LimitError) is reported as a
// FormulaError at the current token.
#include "lexer.hpp"

#include <actjit/catalog.hpp>
#include <actjit/formula.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <numbers>
#include <unordered_map>

namespace actjit {

namespace {

using lang::describe;
using lang::Tok;
using lang::Token;

bool is_comparison(Tok t) {
    return t == Tok::Lt || t == Tok::Le || t == Tok::Gt || t == Tok::Ge || t == Tok::EqEq || t == Tok::Ne;
}

Op comparison_op(Tok t) {
    switch (t) {
        case Tok::Lt: return Op::Lt;
        case Tok::Le: return Op::Le;
        case Tok::Gt: return Op::Gt;
        case Tok::Ge: return Op::Ge;
        case Tok::EqEq: return Op::Eq;
        default: return Op::Ne;
    }
}

std::string plural(std::size_t n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

/// The activation's body with x and its parameters replaced (raw, memoized
/// over the DAG, iterative).
Expr expand_activation(const Activation& a, std::span<const Expr> args) {
    const Formula& f = activation_formula(a);
    std::unordered_map<const Node*, Expr> done;
    done.emplace(input().get(), args[0]);
    for (std::size_t i = 0; i < a.params.size(); ++i) {
        Expr value = i + 1 < args.size() ? args[i + 1] : constant(a.params[i].default_value);
        done.emplace(param(a.params[i].name).get(), std::move(value));
    }
    for_each_node_postorder(std::span<const Expr>(&f.body, 1), [&](const Expr& n) {
        if (done.count(n.get())) return;
        if (n.num_args() == 0) {
            done.emplace(n.get(), n);
            return;
        }
        Expr new_args[3];
        for (int i = 0; i < n.num_args(); ++i) new_args[i] = done.at(n.arg(i).get());
        // `-b` with b's default is the literal `-1`, not `-(1)`.
        if (n.op() == Op::Neg && new_args[0].is_const() && !n.arg(0).is_const()) {
            done.emplace(n.get(), constant(-new_args[0].value()));
            return;
        }
        done.emplace(n.get(), with_args(n, std::span<const Expr>(new_args, static_cast<std::size_t>(n.num_args()))));
    });
    return done.at(f.body.get());
}

class Parser {
public:
    Parser(std::string_view text, bool allow_catalog) : text_(text), allow_catalog_(allow_catalog) {
        if (text.size() > kMaxFormulaLength)
            throw FormulaError(fmt::format("formula longer than {} bytes", kMaxFormulaLength), kMaxFormulaLength, 1);
        toks_ = lang::tokenize(text);
    }

    Formula formula() {
        try {
            if (const Activation* a = bare_activation()) return activation_formula(*a);
            if (is_signature()) return signature_formula();
            Formula f;
            f.body = whole_expression();
            for (std::string& name : params_of(f.body)) f.params.push_back({std::move(name), std::nullopt});
            return f;
        } catch (const LimitError& e) {
            throw FormulaError(e.what(), cur().offset, cur().length);
        }
    }

    Expr expression() {
        try {
            if (const Activation* a = bare_activation()) return activation_formula(*a).body;
            if (is_signature()) fail("a signature is not allowed here", toks_[0], "give only the expression after '='");
            return whole_expression();
        } catch (const LimitError& e) {
            throw FormulaError(e.what(), cur().offset, cur().length);
        }
    }

private:
    const Token& cur() const { return toks_[pos_]; }
    const Token& peek(std::size_t k) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
    std::string_view text_of(const Token& t) const { return text_.substr(t.offset, t.length); }
    bool is_word(const Token& t, std::string_view w) const { return t.kind == Tok::Ident && text_of(t) == w; }
    void advance() {
        if (pos_ + 1 < toks_.size()) ++pos_;
    }

    [[noreturn]] void fail(const std::string& message, const Token& at, std::string note = {}) const {
        throw FormulaError(message, at.offset, at.kind == Tok::End ? 1 : at.length, std::move(note));
    }
    [[noreturn]] void fail_expected(std::string_view what, std::string note = {}) const {
        fail(fmt::format("expected {}, found {}", what, describe(cur(), text_)), cur(), std::move(note));
    }

    /// A note for the classic mistakes at an unexpected token: `2x`, `x = 1`.
    std::string hint_at_current() const {
        if (cur().kind == Tok::Assign) return "use '==' to compare";
        if (pos_ > 0 && ends_operand(toks_[pos_ - 1]) && starts_operand(cur())) return "multiplication needs an explicit '*'";
        return {};
    }
    bool is_keyword(const Token& t) const { return is_word(t, "and") || is_word(t, "or") || is_word(t, "not"); }
    bool ends_operand(const Token& t) const {
        return t.kind == Tok::Number || t.kind == Tok::RParen || (t.kind == Tok::Ident && !is_keyword(t));
    }
    bool starts_operand(const Token& t) const {
        return t.kind == Tok::Number || t.kind == Tok::LParen || (t.kind == Tok::Ident && !is_keyword(t));
    }

    void enter_nesting(const Token& at) {
        if (++nesting_ > kMaxNesting) fail(fmt::format("nesting deeper than {} levels", kMaxNesting), at);
    }

    void expect_close(const Token& open) {
        if (cur().kind != Tok::RParen)
            fail_expected(fmt::format("')' to close '(' at {}", open.offset), hint_at_current());
        advance();
    }

    /// A formula that is only a catalog name: that activation, parameters free.
    const Activation* bare_activation() const {
        if (!allow_catalog_ || toks_.size() != 2 || toks_[0].kind != Tok::Ident) return nullptr;
        return find_activation(text_of(toks_[0]));
    }

    /// `name(x; ...` or `name(...) =` starts a signature. (';' and a single
    /// '=' appear nowhere else in the language.)
    bool is_signature() const {
        if (toks_.size() < 3 || toks_[0].kind != Tok::Ident || toks_[1].kind != Tok::LParen) return false;
        for (std::size_t i = 2; i < toks_.size(); ++i) {
            if (toks_[i].kind == Tok::Semi) return true;
            if (toks_[i].kind == Tok::RParen) return toks_[i + 1].kind == Tok::Assign;
            if (toks_[i].kind == Tok::LParen || toks_[i].kind == Tok::End) return false;
        }
        return false;
    }

    Expr whole_expression() {
        Expr e = expr();
        if (cur().kind != Tok::End) fail_expected("end of formula", hint_at_current());
        return e;
    }

    /// formula   ::= ident '(' 'x' [ ';' paramdecl { ',' paramdecl } ] ')' '=' expr
    /// paramdecl ::= ident [ '=' ['-'] number ]
    Formula signature_formula() {
        Formula f;
        const Token& name_tok = cur();
        f.name = std::string(text_of(name_tok));
        if (f.name == "and" || f.name == "or" || f.name == "not")
            fail(fmt::format("'{}' cannot name a formula", f.name), name_tok);
        advance();  // name
        advance();  // '('
        if (!is_word(cur(), "x"))
            fail_expected(fmt::format("'x' as the first parameter of '{}'", f.name), "the input comes first: name(x; a=1, b=2) = ...");
        advance();
        std::vector<std::size_t> decl_offsets;
        if (cur().kind == Tok::Semi) {
            do {
                advance();  // ';' or ','
                const Token& p = cur();
                if (p.kind != Tok::Ident) fail_expected("a parameter name");
                std::string pname(text_of(p));
                if (pname == "x") fail("'x' is the input and cannot be a parameter", p);
                if (lang::is_reserved_name(pname))
                    fail(fmt::format("'{}' is a reserved name and cannot be a parameter", pname), p);
                if (f.find_param(pname)) fail(fmt::format("parameter '{}' is declared twice", pname), p);
                advance();
                ParamDecl decl{pname, std::nullopt};
                if (cur().kind == Tok::Assign) {
                    advance();
                    double sign = 1;
                    if (cur().kind == Tok::Minus) {
                        sign = -1;
                        advance();
                    }
                    if (cur().kind != Tok::Number) fail_expected(fmt::format("a number as the default of '{}'", pname));
                    decl.default_value = sign * cur().value;
                    advance();
                }
                f.params.push_back(std::move(decl));
            } while (cur().kind == Tok::Comma);
        }
        if (cur().kind != Tok::RParen)
            fail_expected(fmt::format("')' to close '(' at {}", toks_[1].offset));
        advance();
        if (cur().kind != Tok::Assign) fail_expected("'=' after the signature");
        advance();
        param_uses_.clear();
        f.body = whole_expression();
        for (const auto& [pname, offset] : param_uses_) {
            if (f.find_param(pname)) continue;
            std::string declared;
            for (const ParamDecl& d : f.params) declared += (declared.empty() ? "" : ", ") + d.name;
            throw FormulaError(fmt::format("parameter '{}' is not declared in the signature of '{}'", pname, f.name), offset,
                               pname.size(), declared.empty() ? "it declares no parameters" : fmt::format("declared: {}", declared));
        }
        return f;
    }

    /// expr ::= or ;  or ::= and { ('or'|'||') and }
    Expr expr() {
        Expr a = and_expr();
        while (is_word(cur(), "or") || cur().kind == Tok::OrOr) {
            advance();
            Expr b = and_expr();
            a = make(Op::Or, {a, b});
        }
        return a;
    }

    /// and ::= not { ('and'|'&&') not }
    Expr and_expr() {
        Expr a = not_expr();
        while (is_word(cur(), "and") || cur().kind == Tok::AndAnd) {
            advance();
            Expr b = not_expr();
            a = make(Op::And, {a, b});
        }
        return a;
    }

    /// not ::= ('not'|'!') not | cmp
    Expr not_expr() {
        std::size_t nots = 0;
        while (is_word(cur(), "not") || cur().kind == Tok::Bang) {
            ++nots;
            advance();
        }
        Expr a = comparison();
        for (; nots > 0; --nots) a = make(Op::Not, {a});
        return a;
    }

    /// cmp ::= sum [ ('<'|'<='|'>'|'>='|'=='|'!=') sum ]
    Expr comparison() {
        Expr a = sum();
        if (!is_comparison(cur().kind)) return a;
        Op op = comparison_op(cur().kind);
        advance();
        Expr b = sum();
        if (is_comparison(cur().kind))
            fail("comparison operators cannot be chained; add parentheses", cur(), "write (a < b) and (b < c) for a range test");
        return make(op, {a, b});
    }

    /// sum ::= product { ('+'|'-') product }
    Expr sum() {
        Expr a = product();
        while (cur().kind == Tok::Plus || cur().kind == Tok::Minus) {
            Op op = cur().kind == Tok::Plus ? Op::Add : Op::Sub;
            advance();
            Expr b = product();
            a = make(op, {a, b});
        }
        return a;
    }

    /// product ::= unary { ('*'|'/') unary }
    Expr product() {
        Expr a = unary();
        while (cur().kind == Tok::Star || cur().kind == Tok::Slash) {
            Op op = cur().kind == Tok::Star ? Op::Mul : Op::Div;
            advance();
            Expr b = unary();
            a = make(op, {a, b});
        }
        return a;
    }

    /// unary ::= '-' unary | power ;  power ::= primary [ ('^'|'**') unary ]
    /// Iterative: each `^` pushes its base (with the minus signs before it) and
    /// the chain is folded from the right, so `-a^-b^c` is -(a^(-(b^c))).
    /// A minus directly on a number literal not raised to a power is a
    /// negative constant: `-2` is Const(-2), `-2^x` is -(2^x).
    Expr unary() {
        struct Pending {
            std::size_t negations;
            Expr base;
        };
        std::vector<Pending> stack;
        Expr result;
        while (true) {
            std::size_t negations = 0;
            Expr base;
            while (cur().kind == Tok::Minus) {
                if (peek(1).kind == Tok::Number && peek(2).kind != Tok::Caret) {
                    advance();
                    base = constant(-cur().value);
                    advance();
                    break;
                }
                ++negations;
                advance();
            }
            if (!base) base = primary();
            if (cur().kind == Tok::Caret) {
                advance();
                stack.push_back({negations, std::move(base)});
                continue;
            }
            result = std::move(base);
            for (; negations > 0; --negations) result = make(Op::Neg, {result});
            break;
        }
        while (!stack.empty()) {
            Pending p = std::move(stack.back());
            stack.pop_back();
            result = make(Op::Pow, {p.base, result});
            for (; p.negations > 0; --p.negations) result = make(Op::Neg, {result});
        }
        return result;
    }

    /// primary ::= number | ident | ident '(' [ expr { ',' expr } ] ')' | '(' expr ')'
    Expr primary() {
        const Token& t = cur();
        switch (t.kind) {
            case Tok::Number: {
                Expr c = constant(t.value);
                advance();
                return c;
            }
            case Tok::LParen: {
                enter_nesting(t);
                advance();
                Expr e = expr();
                expect_close(t);
                --nesting_;
                return e;
            }
            case Tok::Ident: break;
            default: fail_expected("an expression", cur().kind == Tok::Assign ? "use '==' to compare" : "");
        }
        std::string_view name = text_of(t);
        if (peek(1).kind == Tok::LParen) return call();
        if (name == "x") return advance(), input();
        if (name == "feature") return advance(), feature_index();
        if (name == "pi") return advance(), constant(std::numbers::pi);
        if (name == "e") return advance(), constant(std::numbers::e);
        if (name == "and" || name == "or" || name == "not") {
            std::string note;
            if (name == "not" && pos_ > 0) note = "'not' binds more loosely than arithmetic and comparisons; add parentheses";
            fail_expected("an expression", note);
        }
        if (find_builtin(name) || (allow_catalog_ && find_activation(name))) {
            advance();
            fail_expected(fmt::format("'(' after '{}'", name), fmt::format("'{}' is a function: write {}(...)", name, name));
        }
        if (std::none_of(param_uses_.begin(), param_uses_.end(), [&](const auto& u) { return u.first == name; }))
            param_uses_.emplace_back(std::string(name), t.offset);
        advance();
        return param(name);
    }

    /// A call: a builtin of matching arity, else a catalog activation taking x
    /// and then positional parameter values.
    Expr call() {
        const Token& name_tok = cur();
        const Token& open = peek(1);
        const std::string name(text_of(name_tok));
        if (name == "x") fail("'x' is the input, not a function", name_tok, "multiplication needs an explicit '*'");
        if (name == "pi" || name == "e" || name == "feature")
            fail(fmt::format("'{}' is a constant, not a function", name), name_tok, "multiplication needs an explicit '*'");
        const OpInfo* builtin = find_builtin(name);
        const Activation* activation = allow_catalog_ ? find_activation(name) : nullptr;
        if (!builtin && !activation) {
            std::string near = lang::nearest_callable_name(name);
            std::string note = !near.empty()         ? fmt::format("did you mean '{}'?", near)
                               : name.size() <= 3 ? fmt::format("to multiply, write '{} * (...)'", name)
                                                  : std::string();
            fail(fmt::format("unknown function '{}'", name), name_tok, std::move(note));
        }
        advance();  // name
        enter_nesting(open);
        advance();  // '('
        std::vector<Expr> args;
        if (cur().kind != Tok::RParen) {
            while (true) {
                args.push_back(expr());
                if (cur().kind == Tok::Comma) {
                    advance();
                    continue;
                }
                if (cur().kind == Tok::RParen) break;
                fail_expected(fmt::format("',' or ')' to close '(' at {}", open.offset), hint_at_current());
            }
        }
        advance();  // ')'
        --nesting_;
        if (builtin && static_cast<int>(args.size()) == builtin->arity) return make(builtin->op, args);
        if (activation) {
            if (args.empty() || args.size() > activation->params.size() + 1) {
                std::string names = "x";
                for (const CatalogParam& p : activation->params) names += ", " + p.name;
                std::string takes = activation->params.empty()
                                        ? "1 argument"
                                        : fmt::format("1 to {} arguments", activation->params.size() + 1);
                fail(fmt::format("'{}' takes {} ({}), found {}", name, takes, names, args.size()), name_tok);
            }
            return expand_activation(*activation, args);
        }
        fail(fmt::format("'{}' takes {}, found {}", name, plural(static_cast<std::size_t>(builtin->arity), "argument"),
                         args.size()),
             name_tok);
    }

    std::string_view text_;
    bool allow_catalog_;
    std::vector<Token> toks_;
    std::size_t pos_ = 0;
    int nesting_ = 0;
    std::vector<std::pair<std::string, std::size_t>> param_uses_;  // first use of each parameter name
};

}  // namespace

namespace detail {
/// Parse a catalog body: builtins only, so that building the catalog never
/// needs the catalog.
Formula parse_catalog_body(std::string_view text) { return Parser(text, false).formula(); }
}  // namespace detail

const ParamDecl* Formula::find_param(std::string_view pname) const {
    for (const ParamDecl& p : params)
        if (p.name == pname) return &p;
    return nullptr;
}

Formula parse_formula(std::string_view text) { return Parser(text, true).formula(); }

Expr parse_expr(std::string_view text) { return Parser(text, true).expression(); }

}  // namespace actjit
