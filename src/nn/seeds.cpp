#include <actjit/nn/seeds.hpp>

namespace actjit::nn {

Dataset<float> prepu_notebook_data(Index n, std::uint64_t seed) {
    Rng rng(seed);
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

Dataset<float> expolu_post_data() {
    constexpr float kPairs[21][2] = {{-10, 6}, {-9, 3}, {-8, 1}, {-7, -2}, {-6, -5}, {-5, -2}, {-4, 1},
                                     {-3, 3},  {-2, 5}, {-1, 2}, {0, 0},   {10, 6},  {9, 3},   {8, 1},
                                     {7, -2},  {6, -5}, {5, -2}, {4, 1},   {3, 3},   {2, 5},   {1, 2}};
    Dataset<float> d;
    d.x.resize(21, 1);
    d.y.resize(21, 1);
    for (int i = 0; i < 21; ++i) {
        d.x(i, 0) = kPairs[i][0];
        d.y(i, 0) = kPairs[i][1];
    }
    return d;
}

}  // namespace actjit::nn
