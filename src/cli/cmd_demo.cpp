// actjit demo: the main job on a built-in default. PRePU, relu(x)^(softsign(s)
// + 1): its derivatives, and values and gradients on a grid from the JIT
// kernels (per-feature s, gradients reduced in the kernel), checked against the
// reference interpreter.
#include "cli.hpp"

#include <actjit/catalog.hpp>
#include <actjit/diff.hpp>
#include <actjit/error.hpp>
#include <actjit/inspect.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <memory>

namespace actjit::cli {

namespace {

struct DemoOptions {
    std::string name = "prepu";
    std::string engine = "auto";
};

int run_demo(const DemoOptions& o) {
    const Activation* act = find_activation(o.name);
    if (!act) {
        const std::string near = nearest_known_name(o.name);
        throw ValueError(fmt::format("no catalog activation named '{}'{}", o.name,
                                     near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
    }
    const Formula& f = activation_formula(*act);
    fmt::print("{}: {}\n", act->name, act->summary);
    fmt::print("  f(x) = {}\n", to_string(f.body));
    for (const Partial& p : gradient(f)) fmt::print("  d/d{} = {}\n", p.name, to_string(p.expr));

    // Every point is one column of a single-row tensor: parameters are
    // per-feature, so each point has its own parameter values and the
    // kernel's per-feature gradients are per point.
    const std::vector<double> grid_x = {-2, -1.5, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 1.5, 2};
    const bool has_param = !f.params.empty();
    const std::vector<double> defaults = resolve_params(f, {});
    // The first parameter (prepu's s) takes its default - 1, + 0, + 1.
    std::vector<double> settings = {0};
    if (has_param) settings = {defaults[0] - 1, defaults[0], defaults[0] + 1};
    const std::size_t per = grid_x.size(), npoints = per * (has_param ? settings.size() : 1);

    KernelSpec spec{f, {}, DType::f32};
    for (const ParamDecl& p : f.params) spec.params.push_back({p.name, ParamKind::PerFeature, true, 0});
    std::vector<float> x(npoints), y(npoints), dy(npoints, 1.0f), dx(npoints);
    std::vector<std::vector<float>> pvals(f.params.size(), std::vector<float>(npoints)), gvals = pvals;
    for (std::size_t i = 0; i < npoints; ++i) {
        x[i] = static_cast<float>(grid_x[i % per]);
        for (std::size_t k = 0; k < f.params.size(); ++k)
            pvals[k][i] = static_cast<float>(k == 0 ? settings[i / per] : defaults[k]);
    }
    std::vector<const float*> pptr;
    std::vector<float*> gptr;
    for (auto& v : pvals) pptr.push_back(v.data());
    for (auto& v : gvals) gptr.push_back(v.data());

    Kernel kernel;
    std::string engine = "jit";
    if (o.engine != "interp") {
        try {
            kernel = jit_kernel(spec);
        } catch (const Error& e) {
            if (o.engine == "jit") throw;
            fmt::print("\n(jit unavailable: {}; using the interpreter)\n", e.what());
        }
    }
    if (!kernel) {
        kernel = compile_interpreted(spec);
        engine = "interpreted";
    }
    const auto cols = static_cast<std::int64_t>(npoints);
    kernel.forward(x.data(), y.data(), 1, cols, pptr);
    kernel.backward(x.data(), dy.data(), dx.data(), 1, cols, pptr, gptr);

    fmt::print("\nvalues and gradients ({} kernel, f32):\n", engine);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header;
    if (has_param) header.push_back(f.params[0].name);
    header.insert(header.end(), {"x", "f", "df/dx"});
    for (const ParamDecl& p : f.params) header.push_back("df/d" + p.name);
    rows.push_back(header);
    for (std::size_t i = 0; i < npoints; ++i) {
        std::vector<std::string> row;
        if (has_param) row.push_back(format_number(pvals[0][i], DType::f32));
        for (float v : {x[i], y[i], dx[i]}) row.push_back(format_number(v, DType::f32));
        for (const auto& g : gvals) row.push_back(format_number(g[i], DType::f32));
        rows.push_back(std::move(row));
    }
    fmt::print("{}", format_table(rows));

    // The reference: the interpreter in double, point by point.
    double worst = 0;
    bool ok = true;
    for (std::size_t i = 0; i < npoints; ++i) {
        ParamValues values;
        for (std::size_t k = 0; k < f.params.size(); ++k) values[f.params[k].name] = pvals[k][i];
        const double xi = x[i];
        const PointResults ref = evaluate_with_gradient<double>(f, std::span<const double>(&xi, 1), values,
                                                                static_cast<std::int64_t>(i));
        auto compare = [&](double got, double want) {
            if (!std::isfinite(want) || !std::isfinite(got)) {
                ok = ok && ((std::isnan(want) && std::isnan(got)) || got == want);
                return;
            }
            const double err = std::abs(got - want) / std::max(1.0, std::abs(want));
            worst = std::max(worst, err);
        };
        compare(y[i], ref.y[0]);
        compare(dx[i], ref.grads[0][0]);
        for (std::size_t k = 0; k < gvals.size(); ++k) compare(gvals[k][i], ref.grads[k + 1][0]);
    }
    ok = ok && worst <= 1e-5;
    fmt::print("\nchecked against the reference interpreter (double): largest relative difference {:.2g} -> {}\n", worst,
               ok ? "ok" : "MISMATCH");
    if (act->name == "prepu")
        fmt::print("note: for x <= 0 every gradient is exactly 0, also for s < 0 where the exponent is below 1.\n");

    // What `actjit inspect` says about it before training (docs/INSPECT.md).
    const Report r = inspect(f);
    fmt::print("\ninspect (parameters at their defaults, x in [{}, {}]): {}", r.lo, r.hi, to_string(r.smoothness));
    for (const Kink& k : r.kinks) fmt::print("; x = {:g}: {}", k.x, k.what);
    fmt::print("\n");
    for (const Risk& risk : r.risks)
        fmt::print("  {} on [{:g}, {:g}]: {}\n", to_string(risk.kind), risk.lo, risk.hi, risk.reason);
    fmt::print("  init gain 1/sqrt(E[f(x)^2]) for x ~ N(0, 1): {:.4g}   (actjit inspect {} --ascii for a plot)\n",
               r.stats.gain, act->name);
    return ok ? 0 : 1;
}

}  // namespace

void add_demo(CLI::App& app, Action& action) {
    auto o = std::make_shared<DemoOptions>();
    CLI::App* cmd = app.add_subcommand("demo", "The main job on a built-in default: PRePU's derivatives and gradients on a grid");
    cmd->add_option("name", o->name, "A catalog activation to show instead of prepu")->capture_default_str();
    cmd->add_option("--engine", o->engine, "auto (jit if it works, else the interpreter), jit or interp")
        ->check(CLI::IsMember({"auto", "jit", "interp"}))
        ->capture_default_str();
    cmd->callback([o, &action] { action = [o] { return run_demo(*o); }; });
}

}  // namespace actjit::cli
