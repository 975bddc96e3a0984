// Formula diagnostics: rendering an error under its text, and "did you mean".
#include "lexer.hpp"

#include <actjit/catalog.hpp>
#include <actjit/formula.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace actjit {

namespace {

/// Bytes shown as themselves; every other byte is shown as \xNN.
bool printable(unsigned char c) { return c >= 0x20 && c < 0x7f; }

std::size_t display_width(unsigned char c) { return printable(c) ? 1 : 4; }

void append_display(std::string& out, unsigned char c) {
    if (printable(c))
        out += static_cast<char>(c);
    else
        out += fmt::format("\\x{:02x}", c);
}

/// Texts longer than this are shown as a window around the error.
constexpr std::size_t kMaxShown = 100;
constexpr std::size_t kWindow = 70;

}  // namespace

std::string FormulaError::render(const std::string& text) const {
    const std::size_t n = text.size();
    const std::size_t offset = std::min(offset_, n);
    std::size_t begin = 0, end = n;
    if (n > kMaxShown) {
        begin = offset > kWindow / 2 ? offset - kWindow / 2 : 0;
        end = std::min(n, begin + kWindow);
        if (end - begin < kWindow) begin = end > kWindow ? end - kWindow : 0;
    }
    std::string line = "  ";
    if (begin > 0) line += "...";
    std::size_t caret_col = line.size();
    for (std::size_t i = begin; i < end; ++i) {
        if (i == offset) caret_col = line.size();
        append_display(line, static_cast<unsigned char>(text[i]));
    }
    if (offset >= end) caret_col = line.size();
    if (end < n) line += "...";
    while (line.size() > 0 && line.back() == ' ') line.pop_back();

    // The marked span, in display columns, cut at the window's end.
    std::size_t width = 0;
    for (std::size_t i = offset; i < std::min(end, offset + std::max<std::size_t>(length_, 1)); ++i)
        width += display_width(static_cast<unsigned char>(text[i]));
    width = std::max<std::size_t>(width, 1);

    std::string out = fmt::format("error: {}\n{}\n{}^{}\n", message_, line, std::string(caret_col, ' '), std::string(width - 1, '~'));
    if (!note_.empty()) out += fmt::format("note: {}\n", note_);
    return out;
}

namespace {

/// Optimal string alignment distance (edits: insert, delete, substitute,
/// swap two neighbours), case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

/// The candidate closest to `name`: at most 1 edit for names of up to 4
/// characters, else at most 2 (so `foo` is not "close" to `log`). Earlier
/// candidates win ties.
std::string nearest(std::string_view name, const std::vector<std::string_view>& candidates) {
    if (name.empty() || name.size() > 64) return {};
    std::string_view best;
    std::size_t best_d = 3;
    for (std::string_view c : candidates) {
        std::size_t d = edit_distance(name, c);
        if (d < best_d && d < name.size() && d <= (name.size() <= 4 ? 1u : 2u)) {
            best = c;
            best_d = d;
        }
    }
    return std::string(best);
}

std::vector<std::string_view> callable_names() {
    std::vector<std::string_view> names;
    for (int i = 0; i < kNumOps; ++i) {
        const OpInfo& info = op_info(static_cast<Op>(i));
        if (info.kind == OpKind::Call) names.push_back(info.spelling);
    }
    names.push_back("pow");
    for (const Activation& a : catalog()) names.push_back(a.name);
    return names;
}

}  // namespace

std::string nearest_known_name(std::string_view name) {
    std::vector<std::string_view> names = callable_names();
    for (std::string_view r : {"x", "pi", "e", "feature"}) names.push_back(r);
    return nearest(name, names);
}

namespace lang {
std::string nearest_callable_name(std::string_view name) { return nearest(name, callable_names()); }
}  // namespace lang

}  // namespace actjit
