// The vectorized baselines: the same source as baselines_scalar.cpp, built
// with -O3 -march=native -ffast-math -fopenmp-simd (bench/CMakeLists.txt), so
// GCC vectorizes every loop and calls glibc's libmvec for expf, logf, powf,
// expm1f, log1pf, tanhf and erff. See bench/baselines.hpp.
#if !defined(__FAST_MATH__)
#error "baselines_simd.cpp must be compiled with -ffast-math (libmvec declarations)"
#endif
#define ACTJIT_BENCH_SIMD _Pragma("omp simd")
#define ACTJIT_BENCH_SIMD_SUM(var) _Pragma(ACTJIT_BENCH_STR(omp simd reduction(+ : var)))
#define ACTJIT_BENCH_STR(s) #s
#include "baseline_kernels.hpp"

namespace actjit_bench {

std::span<const Baseline> simd_baselines() {
    static const std::vector<Baseline> table = make_baselines();
    return table;
}

}  // namespace actjit_bench
