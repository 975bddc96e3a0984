// actjit inspect FORMULA: smoothness, gradient risks and statistics of an
// activation (actjit::inspect), as a text report, JSON, an ASCII plot or an SVG.
#include "cli.hpp"

#include <actjit/error.hpp>
#include <actjit/inspect.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace actjit::cli {

namespace {

struct InspectCliOptions {
    std::string formula;
    std::vector<std::string> params;
    std::string range = "-6:6";
    std::size_t samples = 2001;
    std::string format = "text";
    std::string plot;
    bool ascii = false;
};

/// "A:B" as two finite numbers.
std::pair<double, double> parse_range(const std::string& text) {
    const std::size_t colon = text.find(':', text.empty() ? 0 : 1);  // the first ':' after a possible sign
    if (colon == std::string::npos) throw ValueError(fmt::format("--range: expected A:B (for example -6:6), found '{}'", text));
    return {parse_number(std::string_view(text).substr(0, colon), "--range"),
            parse_number(std::string_view(text).substr(colon + 1), "--range")};
}

/// A number for people: 6 significant digits, "inf", "NaN".
std::string g(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (v == 0) return "0";
    return fmt::format("{:.6g}", v);
}

std::string interval(double lo, double hi) { return lo == hi ? fmt::format("x = {}", g(lo)) : fmt::format("[{}, {}]", g(lo), g(hi)); }

/// Long derivative texts are cut in the text report (JSON has them whole).
std::string clipped(const Expr& e) {
    std::string s = to_string(e);
    return s.size() <= 200 ? s : s.substr(0, 197) + "...";
}

// ---- Text -----------------------------------------------------------------------

std::string text_report(const Report& r, const std::string& title) {
    std::string out = fmt::format("inspect {}\n", title);
    if (!r.param_names.empty()) {
        std::string ps;
        for (std::size_t k = 0; k < r.param_names.size(); ++k) ps += fmt::format("{}{} = {}", k ? ", " : "", r.param_names[k], g(r.param_values[k]));
        out += fmt::format("parameters: {}\n", ps);
    }
    out += fmt::format("range: [{}, {}], {} samples\n\n", g(r.lo), g(r.hi), r.x.size());
    out += fmt::format("f     = {}\nf'    = {}\nf''   = {}\n", clipped(r.f), clipped(r.df), clipped(r.d2f));
    for (const Partial& p : r.dparams) out += fmt::format("df/d{} = {}\n", p.name, clipped(p.expr));

    out += fmt::format("\nSmoothness: {} on [{}, {}]\n", to_string(r.smoothness), g(r.lo), g(r.hi));
    std::vector<std::vector<std::string>> rows;
    constexpr std::size_t kMaxRows = 24;
    for (std::size_t i = 0; i < r.kinks.size() && i < kMaxRows; ++i) {
        const Kink& k = r.kinks[i];
        rows.push_back({"  x = " + g(k.x), std::string(to_string(k.smoothness)), k.what, "(" + k.cause + ")"});
    }
    out += format_table(rows);
    if (r.kinks.size() > kMaxRows) out += fmt::format("  ... and {} more\n", r.kinks.size() - kMaxRows);
    if (!r.smooth_switches.empty()) {
        std::string xs;
        for (std::size_t i = 0; i < r.smooth_switches.size() && i < kMaxRows; ++i) xs += (i ? ", " : "") + g(r.smooth_switches[i]);
        out += fmt::format("  branches switch with no jump up to f'' at x = {}{}\n", xs, r.smooth_switches.size() > kMaxRows ? ", ..." : "");
    }
    if (r.kinks.empty() && r.smooth_switches.empty()) out += "  no branch switches and no singular points on the range\n";

    out += "\nGradient risks\n";
    rows.clear();
    for (const Risk& k : r.risks) rows.push_back({"  " + std::string(to_string(k.kind)), interval(k.lo, k.hi), k.reason});
    out += rows.empty() ? "  none found\n" : format_table(rows);

    out += "\nTails (beyond the range)\n";
    for (const Tail* t : {&r.left, &r.right}) {
        const char* dir = t->side < 0 ? "x -> -inf" : "x -> +inf";
        std::string s = t->slope_bounded ? fmt::format("f' in [{}, {}] (proved by interval analysis)", g(t->slope_range.lo), g(t->slope_range.hi))
                                         : std::string("f' not proved bounded");
        s += fmt::format("; f'({}) = {}", g(t->far_x), g(t->far_slope));
        if (std::isfinite(t->growth) && std::abs(t->growth) >= 0.01) s += fmt::format(", |f'| ~ |x|^{:.3g}", t->growth);
        if (!std::isnan(t->overflow_x)) s += fmt::format("; not finite from x = {}", g(t->overflow_x));
        if (!std::isnan(t->f32_overflow_x)) s += fmt::format("; f32 not finite from x = {}", g(t->f32_overflow_x));
        out += fmt::format("  {}: {}\n", dir, s);
    }

    const Statistics& s = r.stats;
    out += "\nStatistics\n";
    out += fmt::format("  f(0) = {}, f'(0) = {}\n", g(s.f0), g(s.df0));
    auto extremes = [](double mn, double xmn, double mx, double xmx) {
        return std::isnan(mn) ? std::string("no finite value") : fmt::format("min {} at x = {}, max {} at x = {}", g(mn), g(xmn), g(mx), g(xmx));
    };
    out += fmt::format("  f  on the range: {}\n", extremes(s.f_min, s.x_f_min, s.f_max, s.x_f_max));
    out += fmt::format("  f' on the range: {}\n", extremes(s.df_min, s.x_df_min, s.df_max, s.x_df_max));
    out += fmt::format("  monotone: {}\n", to_string(s.monotone));
    auto m = [](double v) { return std::isnan(v) ? std::string("n/a") : g(v); };  // a moment
    out += fmt::format("  x ~ N(0, 1): E[f] = {}, Var[f] = {}, E[f^2] = {}\n", m(s.f.mean), m(s.f.variance), m(s.f.second));
    out += fmt::format("               E[f'] = {}, Var[f'] = {}, E[f'^2] = {}\n", m(s.df.mean), m(s.df.variance), m(s.df.second));
    out += fmt::format("  init gain 1/sqrt(E[f^2]) = {} (weights ~ N(0, gain^2 / fan_in))\n", m(s.gain));
    return out;
}

// ---- JSON -----------------------------------------------------------------------

std::string jnum(double v) { return json_number(v, DType::f64); }

std::string jarray(const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + jnum(v[i]);
    return s + "]";
}

std::string json_report(const Report& r) {
    std::string params, dparams, dparam_samples;
    for (std::size_t k = 0; k < r.param_names.size(); ++k) {
        const std::string sep = k ? ", " : "";
        params += sep + json_string(r.param_names[k]) + ": " + jnum(r.param_values[k]);
        dparams += sep + json_string(r.param_names[k]) + ": " + json_string(to_string(r.dparams[k].expr));
        dparam_samples += sep + json_string(r.param_names[k]) + ": " + jarray(r.dparam[k]);
    }
    std::string kinks;
    for (const Kink& k : r.kinks)
        kinks += fmt::format("{}{{\"x\": {}, \"class\": {}, \"order\": {}, \"left\": {}, \"right\": {}, \"what\": {}, \"cause\": {}}}",
                             kinks.empty() ? "" : ", ", jnum(k.x), json_string(to_string(k.smoothness)), k.order, jnum(k.left), jnum(k.right),
                             json_string(k.what), json_string(k.cause));
    std::string risks;
    for (const Risk& k : r.risks)
        risks += fmt::format("{}{{\"kind\": {}, \"lo\": {}, \"hi\": {}, \"reason\": {}}}", risks.empty() ? "" : ", ",
                             json_string(to_string(k.kind)), jnum(k.lo), jnum(k.hi), json_string(k.reason));
    auto tail = [](const Tail& t) {
        return fmt::format(
            "{{\"slope_range\": [{}, {}], \"slope_maybe_nan\": {}, \"slope_bounded\": {}, \"far_x\": {}, \"far_slope\": {}, \"growth\": {}, "
            "\"overflow_x\": {}, \"f32_overflow_x\": {}}}",
            jnum(t.slope_range.lo), jnum(t.slope_range.hi), t.slope_range.maybe_nan, t.slope_bounded, jnum(t.far_x), jnum(t.far_slope),
            jnum(t.growth), jnum(t.overflow_x), jnum(t.f32_overflow_x));
    };
    auto moments = [](const Moments& m) {
        return fmt::format("{{\"mean\": {}, \"variance\": {}, \"second\": {}}}", jnum(m.mean), jnum(m.variance), jnum(m.second));
    };
    const Statistics& s = r.stats;
    std::string out = "{\n";
    out += fmt::format("  \"formula\": {},\n  \"params\": {{{}}},\n  \"range\": [{}, {}],\n", json_string(r.formula), params, jnum(r.lo), jnum(r.hi));
    out += fmt::format("  \"f\": {},\n  \"df\": {},\n  \"d2f\": {},\n  \"dparams\": {{{}}},\n", json_string(to_string(r.f)),
                       json_string(to_string(r.df)), json_string(to_string(r.d2f)), dparams);
    out += fmt::format("  \"smoothness\": {},\n  \"kinks\": [{}],\n  \"smooth_switches\": {},\n", json_string(to_string(r.smoothness)), kinks,
                       jarray(r.smooth_switches));
    out += fmt::format("  \"risks\": [{}],\n", risks);
    out += fmt::format("  \"tails\": {{\"left\": {}, \"right\": {}}},\n", tail(r.left), tail(r.right));
    out += fmt::format(
        "  \"stats\": {{\"f0\": {}, \"df0\": {}, \"f_min\": {}, \"x_f_min\": {}, \"f_max\": {}, \"x_f_max\": {}, \"df_min\": {}, "
        "\"x_df_min\": {}, \"df_max\": {}, \"x_df_max\": {}, \"monotone\": {}, \"gaussian\": {{\"f\": {}, \"df\": {}}}, \"gain\": {}}},\n",
        jnum(s.f0), jnum(s.df0), jnum(s.f_min), jnum(s.x_f_min), jnum(s.f_max), jnum(s.x_f_max), jnum(s.df_min), jnum(s.x_df_min),
        jnum(s.df_max), jnum(s.x_df_max), json_string(to_string(s.monotone)), moments(s.f), moments(s.df), jnum(s.gain));
    out += fmt::format("  \"samples\": {{\"x\": {}, \"f\": {}, \"df\": {}, \"d2f\": {}, \"dparams\": {{{}}}}}\n}}\n", jarray(r.x), jarray(r.y),
                       jarray(r.dy), jarray(r.d2y), dparam_samples);
    return out;
}

// ---- Plots ----------------------------------------------------------------------

/// The y range of the plots: f and f' (f'' is drawn clipped to it), padded.
/// Where a few values dwarf the rest (a pole), the 1%..99% quantiles.
std::pair<double, double> y_range(const Report& r) {
    std::vector<double> v;
    for (const std::vector<double>* curve : {&r.y, &r.dy})
        for (double y : *curve)
            if (std::isfinite(y)) v.push_back(y);
    if (v.empty()) return {-1, 1};
    std::sort(v.begin(), v.end());
    double lo = v.front(), hi = v.back();
    const double q_lo = v[v.size() / 100], q_hi = v[v.size() - 1 - v.size() / 100];
    if (hi - lo > 10 * (q_hi - q_lo) && q_hi > q_lo) lo = q_lo, hi = q_hi;
    if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) lo -= 1, hi += 1;
    const double pad = 0.05 * (hi - lo);
    return {lo - pad, hi + pad};
}

/// Whether derivative `order` (0: f) jumps or blows up in [a, b]: its curve breaks there.
bool jumps_in(const Report& r, double a, double b, int order) {
    for (const Kink& k : r.kinks)
        if (k.order <= order && k.x >= a && k.x <= b) return true;
    return false;
}

std::string ascii_plot(const Report& r) {
    constexpr int kW = 72, kH = 20;
    const auto [ylo, yhi] = y_range(r);
    std::vector<std::string> grid(kH, std::string(kW, ' '));
    auto row_of = [&](double y) { return static_cast<int>(std::lround(std::clamp((yhi - y) / (yhi - ylo) * (kH - 1), -1.0, 1.0 * kH))); };
    auto col_of = [&](double x) { return static_cast<int>(std::lround((x - r.lo) / (r.hi - r.lo) * (kW - 1))); };
    if (ylo < 0 && yhi > 0) grid[static_cast<std::size_t>(row_of(0))].assign(kW, '-');
    if (r.lo < 0 && r.hi > 0)
        for (auto& line : grid) line[static_cast<std::size_t>(col_of(0))] = line[static_cast<std::size_t>(col_of(0))] == '-' ? '+' : '|';
    auto put = [&](int row, int col, char c) {
        if (row < 0 || row >= kH || col < 0 || col >= kW) return;
        char& cell = grid[static_cast<std::size_t>(row)][static_cast<std::size_t>(col)];
        cell = (cell == '*' && c == 'o') || (cell == 'o' && c == '*') ? '#' : c;
    };
    const std::size_t n = r.x.size();
    struct Curve {
        const std::vector<double>* values;
        char mark;
        int order;
    };
    for (const auto& [values, mark, order] : {Curve{&r.dy, 'o', 1}, Curve{&r.y, '*', 0}}) {
        int prev_row = -1;
        std::size_t prev_i = 0;
        for (int c = 0; c < kW; ++c) {
            const auto i = static_cast<std::size_t>(std::lround(static_cast<double>(c) * static_cast<double>(n - 1) / (kW - 1)));
            const double y = (*values)[i];
            if (!std::isfinite(y)) {
                prev_row = -1;
                continue;
            }
            const int row = std::clamp(row_of(y), 0, kH - 1);
            // Join to the previous column so steep stretches stay connected.
            if (prev_row >= 0 && std::abs(row - prev_row) > 1 && !jumps_in(r, r.x[prev_i], r.x[i], order))
                for (int k = std::min(row, prev_row) + 1; k < std::max(row, prev_row); ++k) put(k, c, mark);
            put(row, c, mark);
            prev_row = row;
            prev_i = i;
        }
    }
    std::string out;
    const std::string top = g(yhi), bottom = g(ylo);
    const std::size_t margin = std::max(top.size(), bottom.size());
    for (int k = 0; k < kH; ++k) {
        const std::string label = k == 0 ? top : k == kH - 1 ? bottom : "";
        out += fmt::format("{:>{}} |{}\n", label, margin, grid[static_cast<std::size_t>(k)]);
    }
    const std::string lo = g(r.lo), hi = g(r.hi);
    out += fmt::format("{:>{}}  {}{:>{}}\n", "", margin, lo, hi, kW - static_cast<int>(lo.size()));
    out += fmt::format("{:>{}}  * f   o f'   # both\n", "", margin);
    return out;
}

std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
        }
    }
    return out;
}

/// About `target` round tick values (1, 2 or 5 times a power of ten) in [lo, hi].
std::vector<double> ticks(double lo, double hi, int target) {
    const double raw = (hi - lo) / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * mag >= raw) {
            step = m * mag;
            break;
        }
    std::vector<double> out;
    for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    return out;
}

const char* risk_color(RiskKind k) {
    switch (k) {
    case RiskKind::NonFinite:
    case RiskKind::F32NonFinite: return "#d62728";
    case RiskKind::DeadZone: return "#7f7f7f";
    case RiskKind::Saturation: return "#bcbd22";
    case RiskKind::Exploding: return "#9467bd";
    case RiskKind::ParamZero:
    case RiskKind::ParamNonFinite: return "#8c564b";
    case RiskKind::Precision: return "#17becf";
    }
    return "#000000";
}

std::string svg_plot(const Report& r) {
    constexpr double kW = 760, kH = 480, kLeft = 70, kRight = 20, kTop = 40, kBottom = 50;
    const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
    const auto [ylo, yhi] = y_range(r);
    auto sx = [&](double x) { return kLeft + (x - r.lo) / (r.hi - r.lo) * pw; };
    auto sy = [&](double y) { return kTop + (yhi - y) / (yhi - ylo) * ph; };
    std::string s = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" "
        "font-size=\"12\">\n"
        "<title>actjit inspect {2}</title>\n"
        "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
        "<defs><clipPath id=\"plot\"><rect x=\"{3}\" y=\"{4}\" width=\"{5}\" height=\"{6}\"/></clipPath></defs>\n"
        "<text x=\"{7}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{2}  ({8})</text>\n",
        kW, kH, xml_escape(r.formula), kLeft, kTop, pw, ph, kLeft + pw / 2, to_string(r.smoothness));

    // Risk intervals, shaded (one point: a thin band), under everything else.
    std::vector<RiskKind> shown;
    s += "<g class=\"risks\" clip-path=\"url(#plot)\">\n";
    for (const Risk& k : r.risks) {
        const double a = sx(std::max(k.lo, r.lo)), b = sx(std::min(k.hi, r.hi));
        if (b < kLeft || a > kLeft + pw) continue;
        s += fmt::format("<rect class=\"{}\" x=\"{:.2f}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.15\"><title>{}: {}</title></rect>\n",
                         to_string(k.kind), a - (a == b ? 1 : 0), kTop, std::max(b - a, 2.0), ph, risk_color(k.kind), to_string(k.kind),
                         xml_escape(k.reason));
        if (std::find(shown.begin(), shown.end(), k.kind) == shown.end()) shown.push_back(k.kind);
    }
    s += "</g>\n";

    // Grid, ticks, axes.
    s += "<g class=\"axes\" stroke=\"#dddddd\">\n";
    for (double t : ticks(r.lo, r.hi, 8))
        s += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1}\" x2=\"{0:.2f}\" y2=\"{2}\"/><text x=\"{0:.2f}\" y=\"{3}\" text-anchor=\"middle\" "
                         "stroke=\"none\" fill=\"black\">{4}</text>\n",
                         sx(t), kTop, kTop + ph, kTop + ph + 16, g(t));
    for (double t : ticks(ylo, yhi, 6))
        s += fmt::format("<line x1=\"{0}\" y1=\"{1:.2f}\" x2=\"{2}\" y2=\"{1:.2f}\"/><text x=\"{3}\" y=\"{4:.2f}\" text-anchor=\"end\" "
                         "stroke=\"none\" fill=\"black\">{5}</text>\n",
                         kLeft, sy(t), kLeft + pw, kLeft - 6, sy(t) + 4, g(t));
    s += "</g>\n";
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n", kLeft, kTop, pw, ph);
    if (ylo < 0 && yhi > 0) s += fmt::format("<line x1=\"{0}\" y1=\"{2:.2f}\" x2=\"{1}\" y2=\"{2:.2f}\" stroke=\"#888888\"/>\n", kLeft, kLeft + pw, sy(0));
    if (r.lo < 0 && r.hi > 0) s += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1}\" x2=\"{0:.2f}\" y2=\"{2}\" stroke=\"#888888\"/>\n", sx(0), kTop, kTop + ph);
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">x</text>\n", kLeft + pw / 2, kH - 10);

    // Curves: polylines broken where a value is not finite or f jumps.
    struct Curve {
        const std::vector<double>* values;
        const char* cls;
        const char* color;
        const char* dash;
        const char* label;
        int order;
    };
    const Curve curves[] = {{&r.d2y, "d2f", "#2ca02c", " stroke-dasharray=\"5,3\"", "f''", 2},
                            {&r.dy, "df", "#ff7f0e", "", "f'", 1},
                            {&r.y, "f", "#1f77b4", "", "f", 0}};
    s += "<g clip-path=\"url(#plot)\" fill=\"none\" stroke-width=\"2\">\n";
    for (const Curve& c : curves) {
        std::string points;
        auto flush = [&] {
            if (!points.empty())
                s += fmt::format("<polyline class=\"{}\" stroke=\"{}\"{} points=\"{}\"/>\n", c.cls, c.color, c.dash, points);
            points.clear();
        };
        for (std::size_t i = 0; i < r.x.size(); ++i) {
            const double y = (*c.values)[i];
            if (!std::isfinite(y)) {
                flush();
                continue;
            }
            // Far outside the plot, clamp (the clip path hides it) to keep coordinates sane.
            const double py = std::clamp(sy(y), -10 * kH, 11 * kH);
            points += fmt::format("{}{:.2f},{:.2f}", points.empty() ? "" : " ", sx(r.x[i]), py);
            if (i + 1 < r.x.size() && jumps_in(r, r.x[i], r.x[i + 1], c.order)) flush();
        }
        flush();
    }
    s += "</g>\n";

    // Kinks: a dashed line and a marker on f.
    s += "<g class=\"kinks\" stroke=\"#d62728\">\n";
    for (const Kink& k : r.kinks) {
        const double x = sx(k.x);
        s += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1}\" x2=\"{0:.2f}\" y2=\"{2}\" stroke-dasharray=\"2,3\"><title>x = {3}: {4} ({5})</title></line>\n",
                         x, kTop, kTop + ph, g(k.x), xml_escape(k.what), xml_escape(k.cause));
        const double left = k.order == 0 ? k.left : r.y[std::min(r.x.size() - 1, static_cast<std::size_t>(std::lower_bound(r.x.begin(), r.x.end(), k.x) - r.x.begin()))];
        if (std::isfinite(left) && left >= ylo && left <= yhi)
            s += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"4\" fill=\"none\" stroke-width=\"2\"/>\n", x, sy(left));
    }
    s += "</g>\n";

    // Legend.
    double ly = kTop + 16;
    const double lx = kLeft + 12;
    const std::size_t entries = 3 + (r.kinks.empty() ? 0 : 1) + shown.size();
    s += fmt::format("<g class=\"legend\"><rect x=\"{}\" y=\"{}\" width=\"180\" height=\"{}\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n",
                     lx - 6, kTop + 4, 18 * static_cast<double>(entries) + 6);
    for (auto it = std::rbegin(curves); it != std::rend(curves); ++it, ly += 18)
        s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/><text x=\"{}\" y=\"{}\">{}</text>\n", lx, ly - 4,
                         lx + 24, ly - 4, it->color, it->dash, lx + 30, ly, it->label);
    if (!r.kinks.empty()) {
        s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">kink</text>\n",
                         lx + 12, ly - 4, lx + 30, ly);
        ly += 18;
    }
    for (RiskKind k : shown) {
        s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"24\" height=\"10\" fill=\"{}\" fill-opacity=\"0.3\"/><text x=\"{}\" y=\"{}\">{}</text>\n", lx,
                         ly - 9, risk_color(k), lx + 30, ly, to_string(k));
        ly += 18;
    }
    s += "</g>\n</svg>\n";
    return s;
}

void write_file(const std::string& path, const std::string& content) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error(fmt::format("--plot: cannot write '{}': {}", path, std::strerror(errno)));
    const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
    if (std::fclose(f) != 0 || !ok) throw Error(fmt::format("--plot: cannot write '{}': {}", path, std::strerror(errno)));
}

int run_inspect(const InspectCliOptions& o) {
    const Formula f = load_formula(o.formula);
    InspectOptions opts;
    opts.params = parse_params(o.params, f);
    for (const ParamDecl& p : f.params)
        if (!p.default_value && !opts.params.contains(p.name))
            throw ValueError(fmt::format("parameter '{}' has no value: give one with --param {}=VALUE", p.name, p.name));
    std::tie(opts.lo, opts.hi) = parse_range(o.range);
    opts.samples = o.samples;
    const Report r = inspect(f, opts);

    if (!o.plot.empty()) write_file(o.plot, svg_plot(r));
    if (o.format == "json") {
        fmt::print("{}", json_report(r));
        return 0;
    }
    std::string out = text_report(r, o.formula == "-" ? r.formula : o.formula);
    if (o.ascii) out += "\n" + ascii_plot(r);
    fmt::print("{}", out);
    return 0;
}

}  // namespace

void add_inspect(CLI::App& app, Action& action) {
    auto o = std::make_shared<InspectCliOptions>();
    CLI::App* cmd = app.add_subcommand("inspect", "Smoothness, gradient risks and statistics of an activation, with plots");
    cmd->add_option("formula", o->formula, "The formula, a catalog name, or - to read it from stdin")->required();
    cmd->add_option("-p,--param", o->params, "A parameter value NAME=VALUE (repeatable); others take their defaults");
    cmd->add_option("--range", o->range, "The x range A:B to sample, e.g. -3:3")->capture_default_str();
    cmd->add_option("--samples", o->samples, "Grid points on the range, both ends included")->capture_default_str();
    cmd->add_option("--format", o->format, "text (a report) or json (everything, samples included)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    cmd->add_option("--plot", o->plot, "Also write an SVG plot of f, f' and f'' with kinks and risk intervals to this file");
    cmd->add_flag("--ascii", o->ascii, "Add an ASCII plot of f and f' to the text report");
    cmd->callback([o, &action] { action = [o] { return run_inspect(*o); }; });
}

}  // namespace actjit::cli
