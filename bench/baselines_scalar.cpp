// The scalar baselines: plain loops, -O3 -march=native, libm (no fast-math).
// See bench/baselines.hpp.
#define ACTJIT_BENCH_SIMD
#define ACTJIT_BENCH_SIMD_SUM(var)
#include "baseline_kernels.hpp"

namespace actjit_bench {

std::span<const Baseline> scalar_baselines() {
    static const std::vector<Baseline> table = make_baselines();
    return table;
}

const Baseline* find_baseline(std::span<const Baseline> set, std::string_view name) {
    for (const Baseline& b : set)
        if (b.name == name) return &b;
    return nullptr;
}

}  // namespace actjit_bench
