// actjit eval FORMULA --at X1,X2,... : values and gradients at points.
#include "cli.hpp"

#include <actjit/error.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <memory>

namespace actjit::cli {

namespace {

constexpr std::size_t kMaxPoints = 1'000'000;
constexpr std::int64_t kMaxFeature = 65535;

struct EvalOptions {
    std::string formula;
    std::string at;
    std::vector<std::string> params;
    std::int64_t feature = 0;
    std::string engine = "interp";
    std::string dtype = "f64";
    std::string format = "text";
};

/// Values and per-point gradients from a JIT kernel. Kernels reduce parameter
/// gradients over rows, so each point is a one-row call; the point sits in
/// column `feature` (the other columns are zeros with dy = 0), which both
/// gives the feature index its value and keeps per-feature gradients per point.
template <class T>
PointResults eval_jit(const Formula& f, std::span<const double> xs, const ParamValues& given, std::int64_t feature, DType dtype) {
    const std::vector<double> values = resolve_params(f, given);
    KernelSpec spec{f, {}, dtype};
    for (const ParamDecl& p : f.params) spec.params.push_back({p.name, ParamKind::PerFeature, true, 0});
    const Kernel k = jit_kernel(spec);

    const std::int64_t cols = feature + 1;
    const auto col = static_cast<std::size_t>(feature);
    std::vector<std::vector<T>> pvals, gvals;
    std::vector<const T*> pptr;
    std::vector<T*> gptr;
    for (double v : values) {
        pvals.emplace_back(static_cast<std::size_t>(cols), static_cast<T>(v));
        gvals.emplace_back(static_cast<std::size_t>(cols));
    }
    for (auto& v : pvals) pptr.push_back(v.data());
    for (auto& v : gvals) gptr.push_back(v.data());
    std::vector<T> x(static_cast<std::size_t>(cols)), y(x.size()), dy(x.size()), dx(x.size());
    dy[col] = 1;

    PointResults r;
    r.names.push_back("x");
    for (const ParamDecl& p : f.params) r.names.push_back(p.name);
    r.grads.assign(r.names.size(), std::vector<double>(xs.size()));
    for (std::size_t i = 0; i < xs.size(); ++i) {
        x[col] = static_cast<T>(xs[i]);
        k.forward(x.data(), y.data(), 1, cols, pptr);
        k.backward(x.data(), dy.data(), dx.data(), 1, cols, pptr, gptr);
        r.y.push_back(static_cast<double>(y[col]));
        r.grads[0][i] = static_cast<double>(dx[col]);
        for (std::size_t p = 0; p < gvals.size(); ++p) r.grads[p + 1][i] = static_cast<double>(gvals[p][col]);
    }
    return r;
}

int run_eval(const EvalOptions& o) {
    const Formula f = load_formula(o.formula);
    const std::vector<double> xs = parse_number_list(o.at, "--at");
    if (xs.size() > kMaxPoints) throw ValueError(fmt::format("--at: at most {} points, got {}", kMaxPoints, xs.size()));
    const ParamValues given = parse_params(o.params, f);
    for (const ParamDecl& p : f.params)  // a parameter with no value, whatever the engine
        if (!p.default_value && !given.contains(p.name))
            throw ValueError(fmt::format("parameter '{}' has no value: give one with --param {}=VALUE", p.name, p.name));
    const DType dtype = parse_dtype(o.dtype);
    if (dtype == DType::f32) {
        for (double v : xs)
            if (!std::isfinite(static_cast<float>(v)))
                throw ValueError(fmt::format("--at: {} is not a finite f32 number", v));
        for (const auto& [name, v] : given)
            if (!std::isfinite(static_cast<float>(v)))
                throw ValueError(fmt::format("--param {}: {} is not a finite f32 number", name, v));
    }

    if (o.engine == "jit" && !have_jit())
        throw Error("--engine jit: this actjit was built without the JIT (ACTJIT_WITH_JIT=OFF); use --engine interp");
    PointResults r;
    if (o.engine == "jit")
        r = dtype == DType::f32 ? eval_jit<float>(f, xs, given, o.feature, dtype) : eval_jit<double>(f, xs, given, o.feature, dtype);
    else
        r = dtype == DType::f32 ? evaluate_with_gradient<float>(f, xs, given, o.feature)
                                : evaluate_with_gradient<double>(f, xs, given, o.feature);

    // Inputs are shown as the dtype sees them.
    std::vector<double> shown_x(xs.begin(), xs.end());
    if (dtype == DType::f32)
        for (double& v : shown_x) v = static_cast<double>(static_cast<float>(v));

    if (o.format == "json") {
        auto array = [&](const std::vector<double>& v) {
            std::string s = "[";
            for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json_number(v[i], dtype);
            return s + "]";
        };
        std::string grads;
        for (std::size_t k = 0; k < r.names.size(); ++k)
            grads += fmt::format("{}{}: {}", k ? ", " : "", json_string(r.names[k]), array(r.grads[k]));
        fmt::print("{{\"formula\": {}, \"x\": {}, \"y\": {}, \"grad\": {{{}}}}}\n", json_string(o.formula == "-" ? to_string(f) : o.formula),
                   array(shown_x), array(r.y), grads);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header{"x", "y"};
    for (const std::string& n : r.names) header.push_back("dy/d" + n);
    rows.push_back(header);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        std::vector<std::string> row{format_number(shown_x[i], dtype), format_number(r.y[i], dtype)};
        for (const auto& g : r.grads) row.push_back(format_number(g[i], dtype));
        rows.push_back(std::move(row));
    }
    fmt::print("{}", format_table(rows));
    return 0;
}

}  // namespace

void add_eval(CLI::App& app, Action& action) {
    auto o = std::make_shared<EvalOptions>();
    CLI::App* cmd = app.add_subcommand("eval", "Evaluate a formula and its gradients (d/dx and d/d each parameter) at points");
    cmd->add_option("formula", o->formula, "The formula, a catalog name, or - to read it from stdin")->required();
    cmd->add_option("--at", o->at, "Comma-separated points: -2,-0.5,0,1e-3")->required();
    cmd->add_option("-p,--param", o->params, "A parameter value NAME=VALUE (repeatable); others take their defaults");
    cmd->add_option("--feature", o->feature, "The feature (column) index the points belong to")
        ->check(CLI::Range(std::int64_t{0}, kMaxFeature))
        ->capture_default_str();
    cmd->add_option("--engine", o->engine, "interp (the reference evaluator) or jit (compiled kernels)")
        ->check(CLI::IsMember({"interp", "jit"}))
        ->capture_default_str();
    cmd->add_option("--dtype", o->dtype, "Arithmetic in f32 or f64")->check(CLI::IsMember({"f32", "f64"}))->capture_default_str();
    cmd->add_option("--format", o->format, "text (a table) or json (one object)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    cmd->callback([o, &action] { action = [o] { return run_eval(*o); }; });
}

}  // namespace actjit::cli
