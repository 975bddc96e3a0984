// actjit list: the built-in catalog.
#include "cli.hpp"

#include <actjit/catalog.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace actjit::cli {

namespace {

struct ListOptions {
    bool verbose = false;
    std::string format = "text";
};

std::string describe_param(const CatalogParam& p) {
    std::string s = fmt::format("{}={}", p.name, p.default_value);
    if (p.trainable) s += p.per_feature ? " (trainable, per-feature)" : " (trainable, shared)";
    return s;
}

int run_list(const ListOptions& o) {
    if (o.format == "json") {
        std::string out = "[";
        bool first_entry = true;
        for (const Activation& a : catalog()) {
            std::string params;
            for (const CatalogParam& p : a.params)
                params += fmt::format("{}{{\"name\": {}, \"default\": {}, \"trainable\": {}, \"per_feature\": {}}}",
                                      params.empty() ? "" : ", ", json_string(p.name), json_number(p.default_value, DType::f64),
                                      p.trainable, p.per_feature);
            out += fmt::format("{}\n  {{\"name\": {}, \"formula\": {}, \"params\": [{}], \"source\": {}, \"summary\": {}}}",
                               first_entry ? "" : ",", json_string(a.name), json_string(a.formula), params, json_string(a.source),
                               json_string(a.summary));
            first_entry = false;
        }
        fmt::print("{}\n]\n", out);
        return 0;
    }
    std::vector<std::vector<std::string>> rows{{"name", "parameters", "formula"}};
    for (const Activation& a : catalog()) {
        std::string params;
        for (const CatalogParam& p : a.params) params += (params.empty() ? "" : ", ") + describe_param(p);
        rows.push_back({a.name, params.empty() ? "-" : params, a.formula});
        if (o.verbose) rows.push_back({"", "", "  " + a.summary + " [" + a.source + "]"});
    }
    fmt::print("{}", format_table(rows));
    return 0;
}

}  // namespace

void add_list(CLI::App& app, Action& action) {
    auto o = std::make_shared<ListOptions>();
    CLI::App* cmd = app.add_subcommand("list", "List the built-in activations: name, formula, parameters with defaults");
    cmd->add_flag("-v,--verbose", o->verbose, "Also print each entry's summary and source");
    cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    cmd->callback([o, &action] { action = [o] { return run_list(*o); }; });
}

}  // namespace actjit::cli
