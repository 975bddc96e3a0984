// The DSL's span loops built with -ffast-math (as much ML code is): the
// vmath path is off there (its magic-number rounding would be folded away)
// and the loops must still compute the activations.
#include <actjit/dsl.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace actjit::dsl;

static_assert(ACTJIT_DSL_VMATH == 0, "-ffast-math must turn the vmath path off");

TEST_CASE("span loops under -ffast-math compute the activations", "[dsl][fast-math]") {
    std::vector<float> xs, ys, es, dxs;
    for (int i = -2000; i <= 2000; ++i) xs.push_back(static_cast<float>(i) * 0.01f);
    ys.resize(xs.size());
    es.resize(xs.size());
    dxs.resize(xs.size());
    const std::vector<float> dys(xs.size(), 1.0f);
    forward(catalog::silu, std::span<const float>(xs), std::span<float>(ys));
    forward(exp(x), std::span<const float>(xs), std::span<float>(es));
    backward(catalog::silu, std::span<const float>(xs), std::span<const float>(dys), std::span<float>(dxs));
    // Errors relative to max(|value|, 1): -ffast-math reassociates, so
    // where a formula cancels (silu' far left) only the absolute error is
    // small. Folded vmath rounding was off by 40 %.
    auto err = [](double got, double want) { return std::abs(got - want) / std::max(std::abs(want), 1.0); };
    double worst = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double xv = xs[i], s = 1.0 / (1.0 + std::exp(-xv));
        worst = std::max(worst, err(ys[i], xv * s));
        worst = std::max(worst, std::abs(es[i] - std::exp(xv)) / std::exp(xv));
        worst = std::max(worst, err(dxs[i], s + xv * s * (1 - s)));
    }
    INFO("worst relative error " << worst);
    CHECK(worst < 1e-5);
}
