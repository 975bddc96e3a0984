// Seeded random numbers with distributions defined here (std::normal_distribution
// and std::shuffle differ between standard libraries; these do not).
#include <actjit/nn/core.hpp>

#include <cmath>
#include <numeric>

namespace actjit::nn {

double Rng::normal() {
    if (has_spare_) {
        has_spare_ = false;
        return spare_;
    }
    // Box-Muller on (0, 1] x [0, 1): u1 > 0 so log(u1) is finite.
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * 3.14159265358979323846 * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
}

std::uint64_t Rng::below(std::uint64_t n) {
    ACTJIT_ASSERT(n > 0);
    // Reject the top partial range so that every residue is equally likely.
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t r = engine_();
    while (r >= limit) r = engine_();
    return r % n;
}

std::vector<Index> Rng::permutation(Index n) {
    std::vector<Index> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), Index{0});
    shuffle(p.begin(), p.end());
    return p;
}

}  // namespace actjit::nn
