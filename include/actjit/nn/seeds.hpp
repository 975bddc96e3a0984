// The data of the seed documents' experiments (../shared/seeds/), shared by
// the examples, the benchmarks and the tests.
#pragma once

#include <actjit/nn/data.hpp>

#include <cstdint>

namespace actjit::nn {

/// prepu_notebook.txt: n points x ~ N(0, 2) drawn from Rng(seed), and
/// y = 1 + 0.25 x + 2 x^2 - 3 x^3 (the notebook's `0.5 * x ** 1/2` is 0.25 x).
Dataset<float> prepu_notebook_data(Index n, std::uint64_t seed);

/// expolu_post.txt: the post's 21 hand-made (x, y) pairs, unnormalized.
Dataset<float> expolu_post_data();

}  // namespace actjit::nn
