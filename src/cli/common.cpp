// Shared pieces of the `actjit` sub-commands: reading formulas and numbers,
// binding kernels, formatting.
#include "cli.hpp"

#include <actjit/catalog.hpp>
#include <actjit/error.hpp>
#ifdef ACTJIT_HAVE_JIT
#include <actjit/jit.hpp>
#endif

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <iterator>

namespace actjit::cli {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

/// A token as it may be shown in a message: short, printable.
std::string quoted(std::string_view token) {
    std::string out;
    for (unsigned char c : token.substr(0, 40)) {
        if (c >= 0x20 && c < 0x7f)
            out += static_cast<char>(c);
        else
            out += fmt::format("\\x{:02x}", c);
    }
    if (token.size() > 40) out += "...";
    return "'" + out + "'";
}

}  // namespace

Formula load_formula(const std::string& arg) {
    std::string text = arg;
    if (arg == "-") {
        // Read at most one byte more than the parser accepts: it reports the
        // length error itself, and absurd inputs are not slurped whole.
        text.clear();
        text.resize(kMaxFormulaLength + 1);
        std::cin.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(std::cin.gcount()));
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    }
    try {
        return parse_formula(text);
    } catch (const FormulaError& e) {
        std::string rendered = e.render(text);
        while (!rendered.empty() && rendered.back() == '\n') rendered.pop_back();
        throw RenderedError(rendered);
    }
}

double parse_number(std::string_view token, std::string_view what) {
    std::string_view t = trim(token);
    if (t.empty()) throw ValueError(fmt::format("{}: expected a number, found nothing", what));
    std::string_view digits = t;
    if (digits.front() == '+') digits.remove_prefix(1);
    double v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, std::chars_format::general);
    if (ec == std::errc::result_out_of_range)
        throw ValueError(fmt::format("{}: {} is out of range (not a finite double)", what, quoted(t)));
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
        throw ValueError(fmt::format("{}: expected a number, found {}", what, quoted(t)));
    if (!std::isfinite(v)) throw ValueError(fmt::format("{}: {} is not a finite number", what, quoted(t)));
    return v;
}

std::vector<double> parse_number_list(std::string_view text, std::string_view what) {
    std::vector<double> out;
    if (trim(text).empty()) throw ValueError(fmt::format("{}: expected a comma-separated list of numbers, found nothing", what));
    std::size_t start = 0;
    for (;;) {
        std::size_t comma = text.find(',', start);
        std::string_view tok = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        out.push_back(parse_number(tok, what));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

ParamValues parse_params(const std::vector<std::string>& args, const Formula& f) {
    ParamValues values;
    for (const std::string& arg : args) {
        const std::size_t eq = arg.find('=');
        const std::string_view name = eq == std::string::npos ? std::string_view() : trim(std::string_view(arg).substr(0, eq));
        if (name.empty()) throw ValueError(fmt::format("--param: expected NAME=VALUE, found {}", quoted(arg)));
        if (!f.find_param(name)) {
            std::string known;
            for (const ParamDecl& p : f.params) known += (known.empty() ? "" : ", ") + p.name;
            throw ValueError(known.empty() ? fmt::format("--param: the formula has no parameter {} (it has none)", quoted(name))
                                           : fmt::format("--param: the formula has no parameter {} (its parameters: {})", quoted(name), known));
        }
        values[std::string(name)] = parse_number(std::string_view(arg).substr(eq + 1), fmt::format("--param {}", name));
    }
    return values;
}

KernelSpec bind_spec(const Formula& f, const ParamValues& fixed, DType dtype) {
    KernelSpec spec;
    const Activation* act = f.name.empty() ? nullptr : find_activation(f.name);
    if (act && activation_formula(*act).body == f.body) {
        spec = KernelSpec::from_catalog(*act, dtype);
    } else {
        spec = KernelSpec{f, {}, dtype};
        for (const ParamDecl& p : f.params)
            spec.params.push_back({p.name, ParamKind::PerFeature, true, p.default_value.value_or(1.0)});
    }
    for (ParamBinding& b : spec.params)
        if (auto it = fixed.find(b.name); it != fixed.end()) {
            b.kind = ParamKind::Fixed;
            b.trainable = false;
            b.value = it->second;
        }
    spec.validate();
    return spec;
}

bool have_jit() noexcept {
#ifdef ACTJIT_HAVE_JIT
    return true;
#else
    return false;
#endif
}

Kernel jit_kernel([[maybe_unused]] const KernelSpec& spec, [[maybe_unused]] bool compact_lanes) {
#ifdef ACTJIT_HAVE_JIT
    try {
        JitOptions options;
        options.compact_lanes = compact_lanes;
        return compile_jit(spec, options);
    } catch (const Error&) {
        throw;
    } catch (const InternalError&) {
        throw;
    } catch (const std::exception& e) {  // e.g. a part of the JIT not written yet
        throw Error(fmt::format("jit: {}", e.what()));
    }
#else
    throw Error("this actjit was built without the JIT (ACTJIT_WITH_JIT=OFF)");
#endif
}

DType parse_dtype(const std::string& s) { return s == "f32" ? DType::f32 : DType::f64; }

std::string format_number(double v, DType dtype) {
    if (dtype == DType::f32) return fmt::format("{}", static_cast<float>(v));
    return fmt::format("{}", v);
}

std::string json_number(double v, DType dtype) { return std::isfinite(v) ? format_number(v, dtype) : "null"; }

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f)
                out += fmt::format("\\u{:04x}", c);
            else
                out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

std::string si(double v) {
    static constexpr std::pair<double, const char*> kPrefixes[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
    for (auto [scale, prefix] : kPrefixes)
        if (std::abs(v) >= scale) return fmt::format("{:.3g} {}", v / scale, prefix);
    return fmt::format("{:.3g} ", v);
}

}  // namespace actjit::cli
