// actjit compile FORMULA --emit llvm|asm: the generated code.
// actjit bench FORMULA [--n N] [--threads T]: JIT kernels against the
// interpreted ones, forward and backward, in one run.
#include "cli.hpp"

#include <actjit/error.hpp>
#ifdef ACTJIT_HAVE_JIT
#include <actjit/jit.hpp>
#endif

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <new>
#include <cmath>
#include <memory>
#include <optional>

namespace actjit::cli {

namespace {

struct CompileOptions {
    std::string formula;
    std::string emit = "llvm";
    std::vector<std::string> params;
    std::string dtype = "f32";
    int vector_width = 0;
    bool no_compact = false;
};

int run_compile(const CompileOptions& o) {
    const Formula f = load_formula(o.formula);
    const KernelSpec spec = bind_spec(f, parse_params(o.params, f), parse_dtype(o.dtype));
#ifdef ACTJIT_HAVE_JIT
    JitOptions jo;
    jo.vector_width = o.vector_width;
    jo.compact_lanes = !o.no_compact;
    std::string code;
    try {
        code = Engine::global().emit(spec, o.emit == "asm" ? EmitKind::asm_ : EmitKind::llvm, jo);
    } catch (const Error&) {
        throw;
    } catch (const InternalError&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(fmt::format("jit: {}", e.what()));
    }
    fmt::print("{}", code);
    if (!code.empty() && code.back() != '\n') fmt::print("\n");
    return 0;
#else
    (void)spec;
    throw Error("this actjit was built without the JIT (ACTJIT_WITH_JIT=OFF): nothing to emit");
#endif
}

struct BenchOptions {
    std::string formula;
    std::int64_t n = std::int64_t{1} << 20;
    std::int64_t cols = 1;
    int threads = 0;
    std::vector<std::string> params;
    std::string dtype = "f32";
    double min_time = 0.25;
    bool no_compact = false;
};

using Clock = std::chrono::steady_clock;

/// Elements per second of `fn` (one call = n elements), over at least
/// `min_time` seconds after one warm-up call.
template <class F>
double throughput(std::int64_t n, double min_time, F&& fn) {
    fn();
    std::int64_t calls = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
        fn();
        ++calls;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < min_time);
    return static_cast<double>(n) * static_cast<double>(calls) / elapsed;
}

/// 64-byte aligned storage, as PyTorch's CPU allocator aligns tensors: the
/// JIT's streaming stores need outputs aligned to the vector (a std::vector of
/// millions of floats is mmap'ed memory plus 16 bytes).
template <class T>
struct Aligned64 {
    using value_type = T;
    Aligned64() = default;
    template <class U>
    Aligned64(const Aligned64<U>&) noexcept {}
    T* allocate(std::size_t n) {
        if (void* p = std::aligned_alloc(64, std::max<std::size_t>(64, (n * sizeof(T) + 63) / 64 * 64)))
            return static_cast<T*>(p);
        throw std::bad_alloc();
    }
    void deallocate(T* p, std::size_t) noexcept { std::free(p); }
    friend bool operator==(const Aligned64&, const Aligned64&) noexcept { return true; }
};

template <class T>
int bench(const BenchOptions& o, const KernelSpec& spec) {
    const std::int64_t rows = o.n / o.cols;
    std::vector<T, Aligned64<T>> x(static_cast<std::size_t>(o.n)), y(x.size()), dy(x.size()), dx(x.size());
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    for (T& v : x) {  // uniform in [-4, 4), a fixed sequence
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        v = static_cast<T>(static_cast<double>(state >> 11) * 0x1.0p-53 * 8.0 - 4.0);
    }
    std::fill(dy.begin(), dy.end(), T(1));
    std::vector<std::vector<T>> pvals, gvals;
    std::vector<const T*> pptr;
    std::vector<T*> gptr;
    std::string desc;
    for (const ParamBinding& b : spec.params) {
        desc += fmt::format("{}{} = {} ({})", desc.empty() ? "" : ", ", b.name, b.value,
                            b.kind == ParamKind::Fixed ? "fixed" : b.kind == ParamKind::Shared ? "shared" : "per-feature");
        if (b.kind == ParamKind::Fixed) continue;
        const std::size_t len = b.kind == ParamKind::PerFeature ? static_cast<std::size_t>(o.cols) : 1;
        pvals.emplace_back(len, static_cast<T>(b.value));
        if (b.trainable) gvals.emplace_back(len);
    }
    for (auto& v : pvals) pptr.push_back(v.data());
    for (auto& v : gvals) gptr.push_back(v.data());

    fmt::print("bench {}: {} elements ({} x {}), {}, {} thread{}\n", o.formula, o.n, rows, o.cols,
               std::is_same_v<T, float> ? "f32" : "f64", num_threads(), num_threads() == 1 ? "" : "s");
    if (!desc.empty()) fmt::print("parameters: {}\n", desc);

    const Kernel interp = compile_interpreted(spec);
    std::optional<Kernel> jit;
    std::string jit_note;
    double compile_ms = 0;
    try {
        const auto t0 = Clock::now();
        jit = jit_kernel(spec, !o.no_compact);
        compile_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    } catch (const Error& e) {
        jit_note = e.what();
    }

    auto fwd = [&](const Kernel& k) { return throughput(o.n, o.min_time, [&] { k.forward(x.data(), y.data(), rows, o.cols, pptr); }); };
    auto bwd = [&](const Kernel& k) {
        return throughput(o.n, o.min_time, [&] { k.backward(x.data(), dy.data(), dx.data(), rows, o.cols, pptr, gptr); });
    };
    const double interp_f = fwd(interp), interp_b = bwd(interp);
    std::vector<std::vector<std::string>> table{{"", "forward", "backward"}};
    if (jit) {
        fmt::print("jit compile: {:.2f} ms (forward + backward, first compile in this process)\n", compile_ms);
        const double jit_f = fwd(*jit), jit_b = bwd(*jit);
        table.push_back({"jit", si(jit_f) + "elem/s", si(jit_b) + "elem/s"});
        table.push_back({"interp", si(interp_f) + "elem/s", si(interp_b) + "elem/s"});
        table.push_back({"speedup", fmt::format("{:.1f}x", jit_f / interp_f), fmt::format("{:.1f}x", jit_b / interp_b)});
    } else {
        fmt::print("jit: unavailable: {}\n", jit_note);
        table.push_back({"interp", si(interp_f) + "elem/s", si(interp_b) + "elem/s"});
    }
    fmt::print("{}", format_table(table));
    return 0;
}

int run_bench(const BenchOptions& o) {
    const Formula f = load_formula(o.formula);
    if (o.n % o.cols != 0) throw ValueError(fmt::format("--n ({}) must be a multiple of --cols ({})", o.n, o.cols));
    const DType dtype = parse_dtype(o.dtype);
    const KernelSpec spec = bind_spec(f, parse_params(o.params, f), dtype);
    const int saved = num_threads();
    if (o.threads > 0) set_num_threads(o.threads);
    struct Restore {
        int n;
        ~Restore() { set_num_threads(n); }
    } restore{saved};
    return dtype == DType::f32 ? bench<float>(o, spec) : bench<double>(o, spec);
}

void add_binding_options(CLI::App* cmd, std::vector<std::string>& params, std::string& dtype) {
    cmd->add_option("-p,--param", params, "Fold a parameter into the kernel as a constant: NAME=VALUE (repeatable)");
    cmd->add_option("--dtype", dtype, "f32 or f64")->check(CLI::IsMember({"f32", "f64"}))->capture_default_str();
}

}  // namespace

void add_compile(CLI::App& app, Action& action) {
    auto o = std::make_shared<CompileOptions>();
    CLI::App* cmd = app.add_subcommand("compile", "Print the JIT's optimized LLVM IR or assembly for a formula's kernels");
    cmd->add_option("formula", o->formula, "The formula, a catalog name, or - to read it from stdin")->required();
    cmd->add_option("--emit", o->emit, "llvm or asm")->check(CLI::IsMember({"llvm", "asm"}))->capture_default_str();
    cmd->add_option("--vector-width", o->vector_width, "Lanes (0 = best for this host)")
        ->check(CLI::Range(0, 64))
        ->capture_default_str();
    cmd->add_flag("--no-compact", o->no_compact, "Compute pows of relu-like bases in every lane (no lane compaction)");
    add_binding_options(cmd, o->params, o->dtype);
    cmd->footer("A catalog name is bound as the catalog says; in any other formula every parameter is a per-feature,\n"
                "trainable kernel argument unless --param folds it in.");
    cmd->callback([o, &action] { action = [o] { return run_compile(*o); }; });
}

void add_bench(CLI::App& app, Action& action) {
    auto o = std::make_shared<BenchOptions>();
    CLI::App* cmd = app.add_subcommand("bench", "Throughput of the JIT kernels against the interpreted ones, forward and backward");
    cmd->add_option("formula", o->formula, "The formula, a catalog name, or - to read it from stdin")->required();
    cmd->add_option("-n,--n", o->n, "Elements per call")->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 28))->capture_default_str();
    cmd->add_option("--cols", o->cols, "Features (columns); n must be a multiple")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 28))
        ->capture_default_str();
    cmd->add_option("--threads", o->threads, "Threads (0 = all cores)")->check(CLI::Range(0, 1024))->capture_default_str();
    cmd->add_option("--min-time", o->min_time, "Seconds to time each kernel for")->check(CLI::Range(0.0, 60.0))->capture_default_str();
    cmd->add_flag("--no-compact", o->no_compact, "Compute pows of relu-like bases in every lane (no lane compaction)");
    add_binding_options(cmd, o->params, o->dtype);
    cmd->callback([o, &action] { action = [o] { return run_bench(*o); }; });
}

}  // namespace actjit::cli
