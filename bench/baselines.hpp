// Hand-written baseline kernels for every catalog activation, in two builds
// of the same source (bench/baseline_math.hpp + bench/baseline_kernels.hpp):
//
//   scalar  a plain loop: g++ -O3 -march=native, libm, no fast-math
//   simd    the best hand-vectorized form: -O3 -march=native -ffast-math
//           -fopenmp-simd; GCC vectorizes the libm calls through glibc's
//           libmvec (_ZGVeN16v_expf and friends), selects are branch-free
//
// Both are float32 over [rows x cols] row-major tensors and fuse the backward
// pass with the parameter-gradient reduction (sums in double), exactly what
// an actjit kernel does.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace actjit_bench {

/// How the activation's one trainable parameter (if any) is laid out.
enum class ParamLayout { None, Shared, PerFeature };

/// param: nullptr (None), 1 value (Shared) or cols values (PerFeature).
/// y may alias x.
using ForwardFn = void (*)(const float* x, float* y, std::int64_t rows, std::int64_t cols, const float* param);
/// dx = dy * f'(x); grad (None: unused; Shared: 1 value; PerFeature: cols
/// values) is overwritten with the sum over rows of dy * df/dparam.
using BackwardFn = void (*)(const float* x, const float* dy, float* dx, std::int64_t rows, std::int64_t cols,
                            const float* param, double* grad);

struct Baseline {
    std::string_view name;   // the catalog name
    ParamLayout param;
    float bench_param;       // the parameter value the benchmarks use
    ForwardFn forward;
    BackwardFn backward;
};

/// Every catalog activation, in catalog order.
std::span<const Baseline> scalar_baselines();
std::span<const Baseline> simd_baselines();

/// nullptr if `name` has no baseline.
const Baseline* find_baseline(std::span<const Baseline> set, std::string_view name);

}  // namespace actjit_bench
