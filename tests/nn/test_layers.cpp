// Layers: values against direct formulas, gradients against finite differences.
#include "gradcheck.hpp"

using namespace nntest;

TEST_CASE("linear computes x W^T + b like torch.nn.Linear", "[nn][linear]") {
    LinearLayer<double> lin(3, 2);
    lin.weight().value << 1, 2, 3, 4, 5, 6;
    lin.bias().value << 0.5, -1;
    Mat x(2, 3);
    x << 1, 0, -1, 2, 1, 0;
    const Mat y = lin.forward(view(x));
    CHECK(y(0, 0) == 1 - 3 + 0.5);
    CHECK(y(0, 1) == 4 - 6 - 1);
    CHECK(y(1, 0) == 2 + 2 + 0.5);
    CHECK(y(1, 1) == 8 + 5 - 1);
}

TEST_CASE("linear initialization follows torch's bounds and is seeded", "[nn][linear]") {
    LinearLayer<double> a(16, 4), b(16, 4);
    Rng r1(7), r2(7);
    a.reset_parameters(r1);
    b.reset_parameters(r2);
    CHECK(a.weight().value == b.weight().value);
    CHECK(a.weight().value.cwiseAbs().maxCoeff() <= 0.25);
    CHECK(a.bias().value.cwiseAbs().maxCoeff() <= 0.25);
    CHECK(a.weight().value.cwiseAbs().maxCoeff() > 0.15);  // actually spread over the range
    LinearLayer<double> n(512, 512, Init::Normal);
    Rng r3(1);
    n.reset_parameters(r3);
    const double mean = n.weight().value.mean();
    const double var = (n.weight().value.array() - mean).square().mean();
    CHECK(std::abs(mean) < 0.01);
    CHECK(std::abs(var - 1) < 0.02);
}

TEST_CASE("linear gradients match finite differences", "[nn][linear][grad]") {
    Rng rng(1);
    for (auto [in, out, rows] : {std::tuple<Index, Index, Index>{1, 8, 5}, {8, 8, 36}, {20, 3, 4}, {40, 40, 1}}) {
        LinearLayer<double> lin(in, out);
        lin.reset_parameters(rng);
        check_layer(lin, random_matrix(rows, in, rng), rng);
    }
}

TEST_CASE("linear rejects inputs of the wrong width", "[nn][linear][errors]") {
    LinearLayer<double> lin(3, 2);
    Mat x(2, 4);
    x.setZero();
    CHECK_THROWS_AS(lin.forward(view(x)), actjit::ValueError);
    CHECK_THROWS_AS(LinearLayer<double>(0, 2), actjit::ValueError);
}

TEST_CASE("standardize matches (h - mean) / std with unbiased std", "[nn][norm]") {
    StandardizeLayer<double> s;
    Mat x(2, 4);
    x << 1, 2, 3, 4, -1, 5, 0, 2;
    const Mat y = s.forward(view(x));
    for (Index r = 0; r < 2; ++r) {
        const double mean = x.row(r).mean();
        const double sd = std::sqrt((x.row(r).array() - mean).square().sum() / 3);
        for (Index c = 0; c < 4; ++c) CHECK(y(r, c) == Approx((x(r, c) - mean) / sd).epsilon(1e-14));
    }
    CHECK(y.row(0).mean() == Approx(0).margin(1e-15));
}

TEST_CASE("standardize gradients match finite differences", "[nn][norm][grad]") {
    Rng rng(2);
    for (double eps : {0.0, 0.1}) {
        StandardizeLayer<double> s(eps);
        check_layer(s, random_matrix(3, 7, rng), rng);
        check_layer(s, random_matrix(1, 512, rng), rng, 1e-6, 1e-5);
    }
}

TEST_CASE("standardize needs two features", "[nn][norm][errors]") {
    StandardizeLayer<double> s;
    Mat x(3, 1);
    x.setOnes();
    CHECK_THROWS_AS(s.forward(view(x)), actjit::ValueError);
}

TEST_CASE("max-abs normalization divides each row by its largest magnitude", "[nn][norm]") {
    MaxAbsNormLayer<double> m(1e-6);
    Mat x(2, 3);
    x << 1, -4, 2, 0.5, 0.25, 0;
    const Mat y = m.forward(view(x));
    CHECK(y(0, 1) == Approx(-4 / (4 + 1e-6)));
    CHECK(y(0, 0) == Approx(1 / (4 + 1e-6)));
    CHECK(y(1, 0) == Approx(0.5 / (0.5 + 1e-6)));
}

TEST_CASE("max-abs gradients match finite differences (unique maxima)", "[nn][norm][grad]") {
    Rng rng(3);
    MaxAbsNormLayer<double> m(1e-6);
    // Random rows have a unique maximum magnitude, so the function is smooth there.
    check_layer(m, random_matrix(4, 6, rng), rng);
    MaxAbsNormLayer<double> m2(0.5);
    check_layer(m2, random_matrix(2, 5, rng), rng);
}
