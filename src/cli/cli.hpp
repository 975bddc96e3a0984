// The `actjit` command: shared pieces of the sub-commands.
#pragma once

#include <actjit/eval.hpp>
#include <actjit/formula.hpp>
#include <actjit/kernel.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace actjit::cli {

/// What a sub-command does once the command line is parsed; returns the exit code.
using Action = std::function<int()>;

void add_diff(CLI::App& app, Action& action);
void add_eval(CLI::App& app, Action& action);
void add_list(CLI::App& app, Action& action);
void add_compile(CLI::App& app, Action& action);
void add_bench(CLI::App& app, Action& action);
void add_demo(CLI::App& app, Action& action);
void add_inspect(CLI::App& app, Action& action);

/// A diagnostic already rendered (a formula error with its caret line).
class RenderedError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Parse a formula given on the command line ("-": read it from stdin).
/// A FormulaError becomes a RenderedError showing the text and a caret.
Formula load_formula(const std::string& text);

/// A strict decimal number (no trailing junk, finite); `what` names the
/// option in errors.
double parse_number(std::string_view token, std::string_view what);
/// Comma-separated numbers: "-2,-1.5,0,1e-3".
std::vector<double> parse_number_list(std::string_view text, std::string_view what);
/// --param NAME=VALUE arguments, each name checked against the formula.
ParamValues parse_params(const std::vector<std::string>& args, const Formula& f);

/// How the CLI binds a formula for a kernel: a catalog name as the catalog
/// says, any other formula with every parameter per-feature and trainable;
/// then each parameter in `fixed` is folded in as a constant.
KernelSpec bind_spec(const Formula& f, const ParamValues& fixed, DType dtype);

/// Whether this build has the JIT; compile_jit through a clear error if not.
bool have_jit() noexcept;
/// `compact_lanes`: JitOptions::compact_lanes (--no-compact turns it off).
Kernel jit_kernel(const KernelSpec& spec, bool compact_lanes = true);

DType parse_dtype(const std::string& s);
/// Shortest text that reads back as the same value in `dtype`.
std::string format_number(double v, DType dtype);
/// As format_number, but null for NaN and infinities.
std::string json_number(double v, DType dtype);
std::string json_string(std::string_view s);
/// Rows of cells as left-aligned columns separated by two spaces.
std::string format_table(const std::vector<std::vector<std::string>>& rows);
/// "1.23 G", "456 M": an SI-prefixed rate.
std::string si(double v);

}  // namespace actjit::cli
