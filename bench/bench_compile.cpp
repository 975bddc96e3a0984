// compile/<activation>/cold: the forward and backward kernels of a catalog
// activation compiled from scratch (differentiation, code generation, LLVM
// optimization and machine code), on an Engine of its own whose cache is
// cleared before every iteration (untimed). No on-disk cache.
// compile/<activation>/cached: the same compile() when the kernel is already
// in the in-memory cache: the look-up a training loop pays per call.
#include "bench_common.hpp"

#include <actjit/catalog.hpp>
#include <actjit/jit.hpp>

#include <benchmark/benchmark.h>

#include <exception>
#include <string>

namespace actjit_bench {
namespace {

void run_compile(benchmark::State& state, const std::string& act, bool cached) {
    try {
        const actjit::Activation* a = actjit::find_activation(act);
        if (a == nullptr) {
            state.SkipWithError("not in the catalog");
            return;
        }
        const actjit::KernelSpec spec = actjit::KernelSpec::from_catalog(*a);
        actjit::Engine engine;  // no cache_dir: main() unsets ACTJIT_CACHE_DIR
        actjit::Kernel kernel = engine.compile(spec);
        for (auto _ : state) {
            if (!cached) {
                state.PauseTiming();
                kernel = actjit::Kernel();
                engine.clear_cache();
                state.ResumeTiming();
            }
            kernel = engine.compile(spec);
            benchmark::DoNotOptimize(kernel);
        }
        state.SetItemsProcessed(state.iterations());
    } catch (const std::exception& ex) {
        state.SkipWithError(ex.what());
    }
}

}  // namespace

void register_compile_benchmarks() {
    std::vector<std::string> acts;
    try {
        for (const actjit::Activation& a : actjit::catalog()) acts.push_back(a.name);
    } catch (const std::exception&) {
    }
    for (const std::string& act : acts) {
        benchmark::RegisterBenchmark(("compile/" + act + "/cold").c_str(),
                                     [act](benchmark::State& s) { run_compile(s, act, false); })
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("compile/" + act + "/cached").c_str(),
                                     [act](benchmark::State& s) { run_compile(s, act, true); })
            ->Unit(benchmark::kMicrosecond);
    }
}

}  // namespace actjit_bench
