// kernel/<activation>/<impl>/<pass>/<n>: one activation's forward or fused
// backward pass over an [n / 64 x 64] float32 tensor, items = elements.
//
//   jit     actjit::compile_jit(KernelSpec::from_catalog(...)), 1 thread
//   jit_mt  the same on every core (n = 16777216 only)
//   scalar  hand-written plain loop (bench/baselines_scalar.cpp)
//   simd    hand-written vectorized loop (bench/baselines_simd.cpp)
//   interp  actjit::compile_interpreted, the reference evaluator (n <= 262144)
//
// Trainable parameters are runtime arguments (and their gradients are reduced
// in the backward pass) exactly as KernelSpec::from_catalog binds them; their
// values are the baselines' bench_param (prepu s = 0.5, prelu a = 0.25,
// soft_exponential alpha = 0.5), other parameters are fixed at their defaults.
// Before its first timed run, every implementation is checked against the
// scalar baseline on 4096 elements; a mismatch skips the benchmark with an
// error instead of timing a wrong kernel.
#include "bench_common.hpp"
#include "baselines.hpp"

#include <actjit/catalog.hpp>
#include <actjit/jit.hpp>
#include <actjit/kernel.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace actjit_bench {
namespace {

/// One implementation of one activation with its parameters bound.
class Bound {
public:
    virtual ~Bound() = default;
    virtual void forward(const float* x, float* y, std::int64_t rows, std::int64_t cols) = 0;
    virtual void backward(const float* x, const float* dy, float* dx, std::int64_t rows, std::int64_t cols) = 0;
    /// The parameter gradient of the last backward() (empty if none).
    virtual std::vector<double> grad() const = 0;
};

class BoundBaseline final : public Bound {
public:
    explicit BoundBaseline(const Baseline& b) : b_(b) {
        const std::size_t len = b.param == ParamLayout::PerFeature ? kCols : 1;
        param_.assign(len, b.bench_param);
        grad_.assign(b.param == ParamLayout::None ? 0 : len, 0.0);
    }
    void forward(const float* x, float* y, std::int64_t rows, std::int64_t cols) override {
        b_.forward(x, y, rows, cols, param_.data());
    }
    void backward(const float* x, const float* dy, float* dx, std::int64_t rows, std::int64_t cols) override {
        b_.backward(x, dy, dx, rows, cols, param_.data(), grad_.data());
    }
    std::vector<double> grad() const override { return grad_; }

private:
    const Baseline& b_;
    std::vector<float> param_;
    std::vector<double> grad_;
};

class BoundKernel final : public Bound {
public:
    BoundKernel(actjit::Kernel kernel, float trainable_value) : kernel_(std::move(kernel)) {
        const actjit::Activation* act = actjit::find_activation(kernel_.spec().formula.name);
        for (const actjit::ParamBinding* p : kernel_.spec().runtime_params()) {
            const std::size_t len = p->kind == actjit::ParamKind::PerFeature ? kCols : 1;
            double value = p->value;
            if (act != nullptr)
                for (const actjit::CatalogParam& cp : act->params)
                    if (cp.name == p->name) value = cp.default_value;
            if (p->trainable) value = trainable_value;
            params_.emplace_back(len, static_cast<float>(value));
            if (p->trainable) grads_.emplace_back(len, 0.0f);
        }
        for (const auto& p : params_) param_ptrs_.push_back(p.data());
        for (auto& g : grads_) grad_ptrs_.push_back(g.data());
    }
    void forward(const float* x, float* y, std::int64_t rows, std::int64_t cols) override {
        kernel_.forward(x, y, rows, cols, param_ptrs_);
    }
    void backward(const float* x, const float* dy, float* dx, std::int64_t rows, std::int64_t cols) override {
        kernel_.backward(x, dy, dx, rows, cols, param_ptrs_, grad_ptrs_);
    }
    std::vector<double> grad() const override {
        if (grads_.empty()) return {};
        return {grads_.front().begin(), grads_.front().end()};
    }

private:
    actjit::Kernel kernel_;
    std::vector<std::vector<float>> params_, grads_;
    std::vector<const float*> param_ptrs_;
    std::vector<float*> grad_ptrs_;
};

/// A bound implementation, or why there is none.
struct Entry {
    std::unique_ptr<Bound> bound;
    std::string error;
    std::optional<std::string> checked;  // the verification's verdict ("" = ok)
};

float trainable_value(std::string_view act) {
    const Baseline* b = find_baseline(scalar_baselines(), act);
    if (b != nullptr && b->param != ParamLayout::None) return b->bench_param;
    const actjit::Activation* a = actjit::find_activation(act);
    if (a != nullptr)
        for (const actjit::CatalogParam& p : a->params)
            if (p.trainable) return static_cast<float>(p.default_value);
    return 0.0f;
}

Entry make_entry(const std::string& act, std::string_view impl) {
    Entry e;
    try {
        if (impl == "scalar" || impl == "simd") {
            const Baseline* b = find_baseline(impl == "scalar" ? scalar_baselines() : simd_baselines(), act);
            if (b == nullptr) throw std::runtime_error("no hand-written baseline");
            e.bound = std::make_unique<BoundBaseline>(*b);
        } else {
            const actjit::Activation* a = actjit::find_activation(act);
            if (a == nullptr) throw std::runtime_error("not in the catalog");
            const actjit::KernelSpec spec = actjit::KernelSpec::from_catalog(*a);
            actjit::Kernel k = impl == "interp" ? actjit::compile_interpreted(spec) : actjit::compile_jit(spec);
            e.bound = std::make_unique<BoundKernel>(std::move(k), trainable_value(act));
        }
    } catch (const std::exception& ex) {
        e.error = fmt::format("{} {}: {}", act, impl, ex.what());
    }
    return e;
}

Entry& entry(const std::string& act, std::string_view impl) {
    // jit and jit_mt share one kernel.
    const std::string key = act + "/" + std::string(impl == "jit_mt" ? "jit" : impl);
    static std::map<std::string, Entry> entries;
    auto it = entries.find(key);
    if (it == entries.end()) it = entries.emplace(key, make_entry(act, impl == "jit_mt" ? "jit" : impl)).first;
    return it->second;
}

bool close(double got, double want, double rel, double abs) {
    if (std::isnan(want)) return std::isnan(got);
    if (std::isinf(want)) return got == want;
    return std::fabs(got - want) <= rel * std::fabs(want) + abs;
}

/// "" if `bound` agrees with the scalar baseline on 4096 elements, else what differs.
std::string verify(const std::string& act, Bound& bound) {
    const Baseline* ref = find_baseline(scalar_baselines(), act);
    if (ref == nullptr) return {};  // nothing to compare with
    constexpr std::int64_t n = 4096, rows = n / kCols;
    const Inputs& in = inputs(n);
    BoundBaseline want(*ref);
    std::vector<float> y(n), dx(n), y_ref(n), dx_ref(n);
    bound.forward(in.x.data(), y.data(), rows, kCols);
    bound.backward(in.x.data(), in.dy.data(), dx.data(), rows, kCols);
    want.forward(in.x.data(), y_ref.data(), rows, kCols);
    want.backward(in.x.data(), in.dy.data(), dx_ref.data(), rows, kCols);
    for (std::int64_t i = 0; i < n; ++i) {
        if (!close(y[i], y_ref[i], 1e-4, 1e-5))
            return fmt::format("forward differs from the scalar baseline at x = {}: {} vs {}", in.x.data()[i], y[i], y_ref[i]);
        if (!close(dx[i], dx_ref[i], 1e-4, 1e-5))
            return fmt::format("backward differs from the scalar baseline at x = {}: {} vs {}", in.x.data()[i], dx[i], dx_ref[i]);
    }
    const std::vector<double> g = bound.grad(), g_ref = want.grad();
    if (g.size() != g_ref.size())
        return fmt::format("{} parameter gradients, the baseline has {}", g.size(), g_ref.size());
    for (std::size_t j = 0; j < g.size(); ++j)
        if (!close(g[j], g_ref[j], 1e-3, 1e-3))
            return fmt::format("parameter gradient {} differs from the scalar baseline: {} vs {}", j, g[j], g_ref[j]);
    return {};
}

void run_kernel(benchmark::State& state, const std::string& act, const std::string& impl, bool backward,
                std::int64_t n) {
    Entry& e = entry(act, impl);
    if (!e.bound) {
        state.SkipWithError(e.error.c_str());
        return;
    }
    if (!e.checked) e.checked = impl == "scalar" ? std::string() : verify(act, *e.bound);
    if (!e.checked->empty()) {
        state.SkipWithError(e.checked->c_str());
        return;
    }
    const Inputs& in = inputs(n);
    Outputs& out = outputs(n);
    const std::int64_t rows = n / kCols;
    const int threads = impl == "jit_mt" ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : 1;
    actjit::set_num_threads(threads);
    try {
        for (auto _ : state) {
            if (backward)
                e.bound->backward(in.x.data(), in.dy.data(), out.dx.data(), rows, kCols);
            else
                e.bound->forward(in.x.data(), out.y.data(), rows, kCols);
            benchmark::ClobberMemory();
        }
    } catch (const std::exception& ex) {
        actjit::set_num_threads(1);
        state.SkipWithError(ex.what());
        return;
    }
    actjit::set_num_threads(1);
    state.SetItemsProcessed(state.iterations() * n);
    // Items per second are per CPU second of the calling thread; for jit_mt
    // the report uses the JSON's real_time instead (the names must stay
    // exactly kernel/<act>/<impl>/<pass>/<n>, so no UseRealTime() suffix).
    state.counters["threads"] = threads;
}

}  // namespace

void register_kernel_benchmarks() {
    // The catalog's activations, plus any baseline the catalog lacks (so the
    // baselines are measured even before the catalog is complete).
    std::vector<std::string> acts;
    try {
        for (const actjit::Activation& a : actjit::catalog()) acts.push_back(a.name);
    } catch (const std::exception&) {
    }
    for (const Baseline& b : scalar_baselines())
        if (std::find(acts.begin(), acts.end(), b.name) == acts.end()) acts.emplace_back(b.name);

    for (const std::string& act : acts)
        for (const bool backward : {false, true})
            for (const std::int64_t n : kSizes)
                for (const char* impl : {"jit", "jit_mt", "scalar", "simd", "interp"}) {
                    const std::string_view impl_name = impl;
                    if (impl_name == "jit_mt" && n != kSizes[2]) continue;
                    if (impl_name == "interp" && n > kMaxInterpElements) continue;
                    const std::string name = kernel_benchmark_name(act, impl_name, backward ? "bwd" : "fwd", n);
                    benchmark::RegisterBenchmark(name.c_str(), [act, impl = std::string(impl), backward, n](
                                                                   benchmark::State& state) {
                        run_kernel(state, act, impl, backward, n);
                    });
                }
}

}  // namespace actjit_bench
