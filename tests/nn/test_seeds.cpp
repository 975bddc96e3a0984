#include <actjit/nn.hpp>

#include <catch2/catch.hpp>

using namespace actjit::nn;

TEST_CASE("the seed experiments' data", "[nn][data]") {
    const Dataset<float> post = expolu_post_data();
    REQUIRE(post.size() == 21);
    CHECK(post.x(0, 0) == -10.0f);
    CHECK(post.y(0, 0) == 6.0f);
    CHECK(post.x(10, 0) == 0.0f);
    CHECK(post.y(20, 0) == 2.0f);

    const Dataset<float> a = prepu_notebook_data(500, 7);
    const Dataset<float> b = prepu_notebook_data(500, 7);
    const Dataset<float> c = prepu_notebook_data(500, 8);
    REQUIRE(a.size() == 500);
    CHECK(a.x == b.x);  // reproducible from the seed
    CHECK(a.x != c.x);
    double sum = 0, sum_sq = 0;
    for (Index i = 0; i < a.size(); ++i) {
        const double x = a.x(i, 0);
        sum += x;
        sum_sq += x * x;
        CHECK(a.y(i, 0) == Approx(1 + 0.25 * x + 2 * x * x - 3 * x * x * x).epsilon(1e-6).margin(1e-4));
    }
    // x ~ N(0, 2): the sample standard deviation of 500 draws is near 2.
    const double mean = sum / 500, sd = std::sqrt(sum_sq / 500 - mean * mean);
    CHECK(std::abs(mean) < 0.3);
    CHECK(sd == Approx(2.0).epsilon(0.15));
}
