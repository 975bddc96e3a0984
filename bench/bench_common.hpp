// Shared pieces of actjit_bench: input data, the sizes, and how each
// implementation is bound to a benchmark. Every benchmark file registers its
// benchmarks from a function called by bench/main.cpp (bench_dsl.cpp may use
// BENCHMARK macros instead; both end up in the same run).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace actjit_bench {

/// The element counts of `kernel/<act>/<impl>/<pass>/<n>`.
inline constexpr std::int64_t kSizes[] = {4096, 262144, 16777216};
/// Columns of every benchmark tensor (rows = n / kCols): the per-feature shape.
inline constexpr std::int64_t kCols = 64;
/// The interpreter is too slow for the largest size.
inline constexpr std::int64_t kMaxInterpElements = 262144;

/// A 64-byte aligned float buffer.
class FloatBuffer {
public:
    explicit FloatBuffer(std::size_t n);
    float* data() noexcept { return data_.get(); }
    const float* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return n_; }
    std::span<float> span() noexcept { return {data(), n_}; }

private:
    struct Free {
        void operator()(float* p) const noexcept;
    };
    std::unique_ptr<float, Free> data_;
    std::size_t n_;
};

/// Inputs of size n, made once per size and shared by every benchmark:
/// x uniform in [-6, 6] (every branch of every catalog activation taken,
/// unpredictably), dy uniform in [-1, 1]; deterministic.
struct Inputs {
    FloatBuffer x, dy;
};
const Inputs& inputs(std::int64_t n);

/// Output buffers of size n (y, dx), shared by every benchmark of that size.
struct Outputs {
    FloatBuffer y, dx;
};
Outputs& outputs(std::int64_t n);

/// "kernel/<act>/<impl>/<pass>/<n>".
std::string kernel_benchmark_name(std::string_view act, std::string_view impl, std::string_view pass, std::int64_t n);

void register_kernel_benchmarks();
void register_compile_benchmarks();
void register_copy_benchmarks();

}  // namespace actjit_bench
