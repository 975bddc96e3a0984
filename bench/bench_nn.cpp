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

void prepu_mlp(benchmark::State& state, const char* act) {
    actjit::set_num_threads(1);
    const Dataset<float> data = prepu_notebook_data(8000, 0);
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
    const Dataset<float> data = expolu_post_data();
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
