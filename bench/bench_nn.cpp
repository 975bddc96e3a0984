// Training throughput of the two seed experiments (docs/NETWORKS.md), in
// samples per second, on one thread:
//   train/prepu_mlp/<act>/epoch       one epoch of the PRePU notebook (8000 samples,
//                                     batch 36, Adam, clipping at 100), act in {relu, prepu}
//   train/expolu_deep/<act>/w<W>_l<L> one round of the ExpoLU post (21 samples, one at a
//                                     time, plain SGD), act in {expolu, relu}
#if __has_include(<Eigen/Core>)

#include <actjit/kernel.hpp>
#include <actjit/nn.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

namespace {

using namespace actjit::nn;

Dataset<float> polynomial_data(Index n) {
    Rng rng(0);
    Dataset<float> d;
    d.x.resize(n, 1);
    d.y.resize(n, 1);
    for (Index i = 0; i < n; ++i) {
        const double x = rng.normal(0, 2);
        d.x(i, 0) = static_cast<float>(x);
        d.y(i, 0) = static_cast<float>(1 + 0.25 * x + 2 * x * x - 3 * x * x * x);
    }
    return d;
}

void prepu_mlp(benchmark::State& state, const char* act) {
    actjit::set_num_threads(1);
    const Dataset<float> data = polynomial_data(8000);
    Network net = Network::from_spec(fmt::format("1-8-8-8-8-1 act={}", act));
    Adam<float> opt(net.params());
    TrainOptions o{.epochs = 1, .batch_size = 36, .shuffle = true, .clip_norm = 100, .quiet = true};
    for (auto _ : state) {
        History h = fit(net, opt, data, nullptr, o);
        benchmark::DoNotOptimize(h.epochs.back().train_loss);
        ++o.seed;
    }
    state.SetItemsProcessed(state.iterations() * data.size());
}

void expolu_deep(benchmark::State& state, const char* act, Index width, int layers) {
    actjit::set_num_threads(1);
    const float pairs[21][2] = {{-10, 6}, {-9, 3}, {-8, 1}, {-7, -2}, {-6, -5}, {-5, -2}, {-4, 1}, {-3, 3}, {-2, 5}, {-1, 2}, {0, 0},
                                {10, 6},  {9, 3},  {8, 1},  {7, -2},  {6, -5},  {5, -2},  {4, 1},  {3, 3},  {2, 5},  {1, 2}};
    Dataset<float> data;
    data.x.resize(21, 1);
    data.y.resize(21, 1);
    for (int i = 0; i < 21; ++i) {
        data.x(i, 0) = pairs[i][0];
        data.y(i, 0) = pairs[i][1];
    }
    Network net = Network::from_spec(fmt::format("1-{}*{}-1 act={} norm=standardize init=normal", width, layers, act));
    Sgd<float> opt(net.params(), {.lr = 0.001 / static_cast<double>(width)});
    const TrainOptions o{.epochs = 1, .batch_size = 1, .shuffle = false, .quiet = true};
    for (auto _ : state) {
        History h = fit(net, opt, data, nullptr, o);
        benchmark::DoNotOptimize(h.epochs.back().train_loss);
    }
    state.SetItemsProcessed(state.iterations() * data.size());
}

const bool registered = [] {
    for (const char* act : {"relu", "prepu"})
        benchmark::RegisterBenchmark(fmt::format("train/prepu_mlp/{}/epoch", act).c_str(), prepu_mlp, act)->Unit(benchmark::kMillisecond);
    for (const char* act : {"expolu", "relu"})
        for (auto [w, l] : {std::pair<Index, int>{512, 30}, {128, 30}})
            benchmark::RegisterBenchmark(fmt::format("train/expolu_deep/{}/w{}_l{}", act, w, l).c_str(), expolu_deep, act, w, l)
                ->Unit(benchmark::kMillisecond);
    return true;
}();

}  // namespace

#endif
