// actjit_bench: every benchmark of docs/PERFORMANCE.md in one executable.
//   actjit_bench --benchmark_format=json > run.json
//   python3 scripts/bench_report.py run.json --out docs/PERFORMANCE.md
// Kernel benchmarks run on one thread (actjit::set_num_threads(1)) so that
// they compare fairly with the single-threaded hand-written loops; only
// kernel/<act>/jit_mt/... uses every core.
#include "bench_common.hpp"

#include <actjit/kernel.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <random>

namespace actjit_bench {

FloatBuffer::FloatBuffer(std::size_t n)
    : data_(static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64))), n_(n) {
    if (!data_) throw std::bad_alloc();
    std::memset(data_.get(), 0, n * sizeof(float));  // touch every page before timing
}

void FloatBuffer::Free::operator()(float* p) const noexcept { std::free(p); }

const Inputs& inputs(std::int64_t n) {
    static std::map<std::int64_t, Inputs> cache;
    auto it = cache.find(n);
    if (it == cache.end()) {
        Inputs in{FloatBuffer(static_cast<std::size_t>(n)), FloatBuffer(static_cast<std::size_t>(n))};
        std::mt19937 rng(1234);
        std::uniform_real_distribution<float> xs(-6.0f, 6.0f), gs(-1.0f, 1.0f);
        for (float& v : in.x.span()) v = xs(rng);
        for (float& v : in.dy.span()) v = gs(rng);
        it = cache.emplace(n, std::move(in)).first;
    }
    return it->second;
}

Outputs& outputs(std::int64_t n) {
    static std::map<std::int64_t, Outputs> cache;
    auto it = cache.find(n);
    if (it == cache.end())
        it = cache.emplace(n, Outputs{FloatBuffer(static_cast<std::size_t>(n)), FloatBuffer(static_cast<std::size_t>(n))})
                 .first;
    return it->second;
}

std::string kernel_benchmark_name(std::string_view act, std::string_view impl, std::string_view pass, std::int64_t n) {
    return fmt::format("kernel/{}/{}/{}/{}", act, impl, pass, n);
}

/// copy/<n>: memcpy of n floats, the memory-bandwidth ceiling. Items are
/// elements (comparable with a forward pass: both read and write 4 bytes per
/// element); bytes count reads and writes (8 per element).
void register_copy_benchmarks() {
    for (const std::int64_t n : kSizes)
        benchmark::RegisterBenchmark(fmt::format("copy/{}", n).c_str(), [n](benchmark::State& state) {
            const Inputs& in = inputs(n);
            Outputs& out = outputs(n);
            for (auto _ : state) {
                std::memcpy(out.y.data(), in.x.data(), static_cast<std::size_t>(n) * sizeof(float));
                benchmark::ClobberMemory();
            }
            state.SetItemsProcessed(state.iterations() * n);
            state.SetBytesProcessed(state.iterations() * n * 2 * static_cast<std::int64_t>(sizeof(float)));
        });
}

}  // namespace actjit_bench

int main(int argc, char** argv) {
    // Cold compiles must not be served from an on-disk cache.
    ::unsetenv("ACTJIT_CACHE_DIR");
    actjit::set_num_threads(1);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    actjit_bench::register_copy_benchmarks();
    actjit_bench::register_kernel_benchmarks();
    actjit_bench::register_compile_benchmarks();
    benchmark::AddCustomContext("actjit_threads_kernel", "1 (jit_mt: all cores)");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
