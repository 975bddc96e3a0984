// actjit: activation functions from the command line.
//
// Exit codes: 0 success, 1 a user error (bad formula or value), 2 bad usage
// (unknown option, missing argument), 3 an internal error (a bug in actjit).
#include "cli.hpp"

#include <actjit/error.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#ifndef ACTJIT_VERSION
#define ACTJIT_VERSION "unknown"
#endif

namespace {

constexpr int kExitUserError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternal = 3;

/// `--at -2,-1` would read "-2,-1" as an option to CLI11; join such values to
/// their option (`--at=-2,-1`, `-n-2`) first. Only options whose value is a number
/// list or NAME=VALUE take part.
std::vector<std::string> join_negative_values(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool takes_number = a == "--at" || a == "--feature" || a == "--n" || a == "-n";
        if (takes_number && i + 1 < args.size()) {
            const std::string& v = args[i + 1];
            if (v.size() >= 2 && v[0] == '-' && (std::isdigit(static_cast<unsigned char>(v[1])) || v[1] == '.')) {
                out.push_back(a[1] == '-' ? a + "=" + v : a + v);  // --at=-2 or -n-2
                ++i;
                continue;
            }
        }
        out.push_back(a);
    }
    return out;
}

void print_error(const std::string& message) { fmt::print(stderr, "error: {}\n", message); }

int run(int argc, char** argv) {
    CLI::App app{"actjit: write an activation function once; get its exact derivatives and fast kernels.", "actjit"};
    app.set_version_flag("--version", std::string("actjit ") + ACTJIT_VERSION +
                                          (actjit::cli::have_jit() ? " (jit: llvm orc)" : " (jit: not built)"));
    app.require_subcommand(1);
    app.fallthrough();  // --version after a sub-command too
    app.footer(
        "Formulas use x for the input, any other name for a parameter, and the builtins and catalog names:\n"
        "  actjit diff 'x * sigmoid(beta * x)'\n"
        "  actjit eval prepu --at -1,0,0.5,2 --param s=-0.5 --format json\n"
        "  actjit list\n"
        "Exit codes: 0 ok, 1 bad formula or value, 2 bad usage, 3 internal error.\n"
        "See docs/CLI.md.\n");

    actjit::cli::Action action;
    actjit::cli::add_diff(app, action);
    actjit::cli::add_eval(app, action);
    actjit::cli::add_list(app, action);
    actjit::cli::add_compile(app, action);
    actjit::cli::add_bench(app, action);
    actjit::cli::add_demo(app, action);
    actjit::cli::add_inspect(app, action);

    std::vector<std::string> args = join_negative_values(argc, argv);
    std::vector<const char*> cargs;
    for (const std::string& a : args) cargs.push_back(a.c_str());
    try {
        app.parse(static_cast<int>(cargs.size()), cargs.data());
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help, the version, or the error
        return code == 0 ? 0 : kExitUsage;
    }
    if (!action) return kExitUsage;  // unreachable: a sub-command is required
    return action();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const actjit::cli::RenderedError& e) {
        fmt::print(stderr, "{}\n", e.what());
        return kExitUserError;
    } catch (const actjit::FormulaError& e) {
        print_error(e.message());  // a formula error with no text at hand
        return kExitUserError;
    } catch (const actjit::Error& e) {
        print_error(e.what());
        return kExitUserError;
    } catch (const actjit::InternalError& e) {
        fmt::print(stderr, "internal error: {}\n(this is a bug in actjit; please report it)\n", e.what());
        return kExitInternal;
    } catch (const std::bad_alloc&) {
        print_error("out of memory");
        return kExitInternal;
    } catch (const std::exception& e) {
        fmt::print(stderr, "internal error: {}\n", e.what());
        return kExitInternal;
    } catch (...) {
        fmt::print(stderr, "internal error: unknown exception\n");
        return kExitInternal;
    }
}
