// kernel/<activation>/et/<pass>/<n>: the compile-time DSL's native loops
// (expression templates, no JIT) over the catalog, on the same inputs as the
// other implementations of bench_kernels.cpp.
//
// fwd: y = f(x). bwd: dx = dy * f'(x), plus, for the catalog's trainable
// parameters, their gradients summed (as the JIT's backward does; every
// column holds the default value, so one sum stands for the per-feature
// ones). Parameters are runtime values at their catalog defaults.
// Activations that read the feature index (brelu) use the rows loops
// (forward_rows, backward_rows: the feature index is the column).
#include "bench_common.hpp"

#include <actjit/dsl.hpp>

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace actjit_bench {
namespace {

namespace dsl = actjit::dsl;
namespace cat = actjit::dsl::catalog;
using dsl::param;
using dsl::params;
using dsl::operator""_c;

template <class E>
constexpr bool uses_feature(E) {
    if constexpr (std::is_same_v<E, dsl::feature_t>) return true;
    else if constexpr (requires { E::arity; })
        return []<actjit::Op O, class... A>(dsl::node<O, A...>) { return (uses_feature(A{}) || ...); }(E{});
    else return false;
}

template <class E, class P>
void run_et(benchmark::State& state, E e, P ps, std::size_t trainable, bool backward, std::int64_t n) {
    const Inputs& in = inputs(n);
    Outputs& out = outputs(n);
    const std::span<const float> x(in.x.data(), static_cast<std::size_t>(n));
    const std::span<const float> dy(in.dy.data(), static_cast<std::size_t>(n));
    std::vector<double> grads(dsl::num_params<E>);
    for (auto _ : state) {
        if constexpr (uses_feature(E{})) {
            // Row-major [rows x kCols]: the feature index is the column.
            if (!backward)
                dsl::forward_rows(e, x, out.y.span(), kCols, ps);
            else if (trainable == 0)
                dsl::backward_rows(e, x, dy, out.dx.span(), kCols, ps);
            else
                dsl::backward_rows(e, x, dy, out.dx.span(), kCols, ps, std::span<double>(grads));
        } else if (!backward) {
            dsl::forward(e, x, out.y.span(), ps);
        } else if (trainable == 0) {
            dsl::backward(e, x, dy, out.dx.span(), ps);
        } else {
            dsl::backward(e, x, dy, out.dx.span(), ps, std::span<double>(grads));
        }
        benchmark::DoNotOptimize(grads.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n);
}

template <class E, class P>
void add(const char* act, E e, P ps, std::size_t trainable = 0) {
    for (const bool backward : {false, true})
        for (const std::int64_t n : kSizes) {
            const std::string name = kernel_benchmark_name(act, "et", backward ? "bwd" : "fwd", n);
            benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
                run_et(state, e, ps, trainable, backward, n);
            });
        }
}

const bool registered = [] {
    // The JIT benchmarks bind prepu's s and soft_exponential's alpha as
    // trainable at 0.5 and fold every other parameter in as a constant; the
    // DSL's counterpart of a folded parameter is a constant in the type.
    add("prepu", cat::prepu<>, params(param<"s"> = 0.5), 1);
    add("expolu", cat::expolu<1_c, 1_c, 2_c>, params());
    add("powerlu", cat::powerlu<4_c>, params());
    add("paralu", cat::paralu<0.1_c>, params());
    add("quartlu", cat::quartlu<0.1_c>, params());
    add("silu", cat::silu, params());
    add("swish", cat::swish<>, params(param<"beta"> = 1.0));
    add("soft_exponential", cat::soft_exponential<>, params(param<"alpha"> = 0.5), 1);
    add("brelu", cat::brelu, params());
    add("mish", cat::mish, params());
    add("relu", cat::relu, params());
    add("leaky_relu", cat::leaky_relu<>, params(param<"negative_slope"> = 0.01));
    add("prelu", cat::prelu<>, params(param<"a"> = 0.25), 1);
    add("elu", cat::elu<>, params(param<"alpha"> = 1.0));
    add("selu", cat::selu<>, params(param<"scale"> = 1.0507009873554805, param<"alpha"> = 1.6732632423543772));
    add("celu", cat::celu<>, params(param<"alpha"> = 1.0));
    add("gelu", cat::gelu, params());
    add("gelu_tanh", cat::gelu_tanh, params());
    add("sigmoid", cat::sigmoid, params());
    add("tanh", cat::tanh, params());
    add("softsign", cat::softsign, params());
    add("logsigmoid", cat::logsigmoid, params());
    add("hardtanh", cat::hardtanh<>, params(param<"min_val"> = -1.0, param<"max_val"> = 1.0));
    add("hardsigmoid", cat::hardsigmoid, params());
    add("hardswish", cat::hardswish, params());
    add("softplus", cat::softplus<>, params(param<"beta"> = 1.0, param<"threshold"> = 20.0));
    add("tanhshrink", cat::tanhshrink, params());
    return true;
}();

}  // namespace
}  // namespace actjit_bench
