// The loops around bench/baseline_math.hpp: forward and fused backward for
// each activation shape. Included by one translation unit per build flavour,
// which first defines:
//
//   ACTJIT_BENCH_SIMD            _Pragma("omp simd") or nothing
//   ACTJIT_BENCH_SIMD_SUM(var)   _Pragma("omp simd reduction(+:var)") or nothing
//
// `#pragma omp simd` asserts that iterations are independent, so y may alias x
// (and dx may alias x or dy) only exactly, element for element, as actjit's
// kernels allow; partially overlapping buffers are not supported.
#pragma once

#include "baseline_math.hpp"
#include "baselines.hpp"

#include <cstdint>
#include <memory>
#include <vector>

#ifndef ACTJIT_BENCH_SIMD
#error "define ACTJIT_BENCH_SIMD and ACTJIT_BENCH_SIMD_SUM before including baseline_kernels.hpp"
#endif

namespace actjit_bench {
namespace {

/// Per-column constants of a per-feature parameter, computed once per call
/// (on the stack for up to 256 columns).
template <class C>
class ColumnConsts {
public:
    template <class Prepare>
    ColumnConsts(const float* param, std::int64_t cols, Prepare prepare) {
        if (cols > kSmall) {
            heap_ = std::make_unique<C[]>(static_cast<std::size_t>(cols));
            data_ = heap_.get();
        }
        for (std::int64_t j = 0; j < cols; ++j) data_[j] = prepare(param[j]);
    }
    const C* data() const { return data_; }

private:
    static constexpr std::int64_t kSmall = 256;
    C small_[kSmall];
    std::unique_ptr<C[]> heap_;
    C* data_ = small_;
};

template <class A>
void forward(const float* x, float* y, std::int64_t rows, std::int64_t cols, const float* param) {
    const std::int64_t n = rows * cols;
    if constexpr (A::shape == Shape::Elementwise) {
        (void)param;
        ACTJIT_BENCH_SIMD
        for (std::int64_t i = 0; i < n; ++i) y[i] = A::f(x[i]);
    } else if constexpr (A::shape == Shape::SharedParam) {
        // Inside the lambda the pointers are copied to locals: read from the
        // closure, GCC reloads them every iteration (and gathers through them).
        A::dispatch(*param, [&](auto variant, auto c) {
            using V = decltype(variant);
            const float* const xs = x;
            float* const ys = y;
            const std::int64_t count = n;
            ACTJIT_BENCH_SIMD
            for (std::int64_t i = 0; i < count; ++i) ys[i] = V::f(xs[i], c);
        });
    } else if constexpr (A::shape == Shape::FeatureIndex) {
        (void)param;
        for (std::int64_t r = 0; r < rows; ++r) {
            const float* xr = x + r * cols;
            float* yr = y + r * cols;
            ACTJIT_BENCH_SIMD
            for (std::int64_t j = 0; j < cols; ++j) yr[j] = A::f(xr[j], j);
        }
    } else {
        static_assert(A::shape == Shape::PerFeatureParam);
        const ColumnConsts<typename A::C> consts(param, cols, A::prepare);
        const typename A::C* cs = consts.data();
        for (std::int64_t r = 0; r < rows; ++r) {
            const float* xr = x + r * cols;
            float* yr = y + r * cols;
            ACTJIT_BENCH_SIMD
            for (std::int64_t j = 0; j < cols; ++j) yr[j] = A::f(xr[j], cs[j]);
        }
    }
}

template <class A>
void backward(const float* x, const float* dy, float* dx, std::int64_t rows, std::int64_t cols, const float* param,
              double* grad) {
    const std::int64_t n = rows * cols;
    if constexpr (A::shape == Shape::Elementwise) {
        (void)param, (void)grad;
        ACTJIT_BENCH_SIMD
        for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * A::df(x[i]);
    } else if constexpr (A::shape == Shape::SharedParam) {
        A::dispatch(*param, [&](auto variant, auto c) {
            using V = decltype(variant);
            const float* const xs = x;
            const float* const dys = dy;
            float* const dxs = dx;
            const std::int64_t count = n;
            double sum = 0;
            ACTJIT_BENCH_SIMD_SUM(sum)
            for (std::int64_t i = 0; i < count; ++i) {
                const float g = dys[i];
                const Grad d = V::df(xs[i], c);
                dxs[i] = g * d.dx;
                sum += static_cast<double>(g * d.dp);
            }
            *grad = sum;
        });
    } else if constexpr (A::shape == Shape::FeatureIndex) {
        (void)param, (void)grad;
        for (std::int64_t r = 0; r < rows; ++r) {
            const float* xr = x + r * cols;
            const float* dyr = dy + r * cols;
            float* dxr = dx + r * cols;
            ACTJIT_BENCH_SIMD
            for (std::int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j] * A::df(xr[j], j);
        }
    } else {
        static_assert(A::shape == Shape::PerFeatureParam);
        const ColumnConsts<typename A::C> consts(param, cols, A::prepare);
        const typename A::C* cs = consts.data();
        for (std::int64_t j = 0; j < cols; ++j) grad[j] = 0;
        for (std::int64_t r = 0; r < rows; ++r) {
            const float* xr = x + r * cols;
            const float* dyr = dy + r * cols;
            float* dxr = dx + r * cols;
            ACTJIT_BENCH_SIMD
            for (std::int64_t j = 0; j < cols; ++j) {
                const float g = dyr[j];
                const Grad d = A::df(xr[j], cs[j]);
                dxr[j] = g * d.dx;
                grad[j] += static_cast<double>(g * d.dp);
            }
        }
    }
}

template <class A>
constexpr ParamLayout layout_of() {
    switch (A::shape) {
        case Shape::SharedParam: return ParamLayout::Shared;
        case Shape::PerFeatureParam: return ParamLayout::PerFeature;
        case Shape::Elementwise:
        case Shape::FeatureIndex: return ParamLayout::None;
    }
    return ParamLayout::None;
}

template <class A>
constexpr float bench_param_of() {
    if constexpr (requires { A::bench_param; })
        return A::bench_param;
    else
        return 0.0f;
}

/// The table of this translation unit's kernels, in catalog order.
std::vector<Baseline> make_baselines() {
    std::vector<Baseline> table;
    for_each_activation([&](auto a) {
        using A = decltype(a);
        table.push_back({A::name, layout_of<A>(), bench_param_of<A>(), &forward<A>, &backward<A>});
    });
    return table;
}

}  // namespace
}  // namespace actjit_bench
