// actjit diff FORMULA [--wrt x|NAME|all] [--order 1|2]: simplified derivatives.
#include "cli.hpp"

#include <actjit/diff.hpp>
#include <actjit/error.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace actjit::cli {

namespace {

struct DiffOptions {
    std::string formula;
    std::string wrt = "all";
    int order = 1;
    bool stats = false;
};

int run_diff(const DiffOptions& o) {
    const Formula f = load_formula(o.formula);
    std::vector<std::string> names;
    if (o.wrt == "all") {
        names.push_back("x");
        for (const ParamDecl& p : f.params) names.push_back(p.name);
    } else {
        std::size_t start = 0;
        for (;;) {
            const std::size_t comma = o.wrt.find(',', start);
            std::string name = o.wrt.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (name != "x" && !f.find_param(name)) {
                std::string known = "x";
                for (const ParamDecl& p : f.params) known += ", " + p.name;
                throw ValueError(fmt::format("--wrt: the formula has no parameter '{}' (it can be differentiated with respect to {})",
                                             name, known));
            }
            names.push_back(std::move(name));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    if (o.stats) fmt::print("# f: {} nodes\n", dag_size(f.body));
    for (const std::string& name : names) {
        const Expr wrt = name == "x" ? input() : param(name);
        Expr d = diff(f.body, wrt);
        if (o.order == 2) d = diff(d, wrt);
        if (o.stats) fmt::print("# {}: {} nodes\n", o.order == 2 ? fmt::format("d2/d{}2", name) : "d/d" + name, dag_size(d));
        if (o.order == 2)
            fmt::print("d2/d{}2 = {}\n", name, to_string(d));
        else
            fmt::print("d/d{} = {}\n", name, to_string(d));
    }
    return 0;
}

}  // namespace

void add_diff(CLI::App& app, Action& action) {
    auto o = std::make_shared<DiffOptions>();
    CLI::App* cmd = app.add_subcommand("diff", "Print the simplified derivatives of a formula, one 'd/dNAME = ...' a line");
    cmd->add_option("formula", o->formula, "The formula, a catalog name, or - to read it from stdin")->required();
    cmd->add_option("--wrt", o->wrt, "x, a parameter name, a comma-separated list of them, or all")->capture_default_str();
    cmd->add_option("--order", o->order, "1 for first derivatives, 2 for second")->check(CLI::Range(1, 2))->capture_default_str();
    cmd->add_flag("--stats", o->stats, "Also print the DAG node count of f and of each derivative");
    cmd->callback([o, &action] { action = [o] { return run_diff(*o); }; });
}

}  // namespace actjit::cli
