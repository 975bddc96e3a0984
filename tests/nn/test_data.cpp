// Data: seeded splits and shuffles, batching, CSV.
#include "gradcheck.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>

using namespace nntest;

namespace {

Dataset<double> ramp(Index n) {
    Dataset<double> d;
    d.x.resize(n, 1);
    d.y.resize(n, 1);
    for (Index i = 0; i < n; ++i) {
        d.x(i, 0) = static_cast<double>(i);
        d.y(i, 0) = 2.0 * static_cast<double>(i);
    }
    return d;
}

}  // namespace

TEST_CASE("rng distributions are seeded and sane", "[nn][data]") {
    Rng a(5), b(5), c(6);
    CHECK(a.next() == b.next());
    CHECK(a.next() != c.next());
    Rng r(1);
    double sum = 0, sq = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        const double v = r.normal();
        sum += v;
        sq += v * v;
    }
    CHECK(std::abs(sum / n) < 0.03);
    CHECK(std::abs(sq / n - 1) < 0.03);
    for (int i = 0; i < 1000; ++i) CHECK(r.below(7) < 7);
    auto p = r.permutation(100);
    std::sort(p.begin(), p.end());
    for (Index i = 0; i < 100; ++i) CHECK(p[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("train/validation split is seeded, disjoint and complete", "[nn][data]") {
    const auto data = ramp(10000);
    auto [train, val] = train_val_split(data, 0.2, 42);
    CHECK(train.size() == 8000);
    CHECK(val.size() == 2000);
    std::set<double> seen;
    for (Index i = 0; i < train.size(); ++i) seen.insert(train.x(i, 0));
    for (Index i = 0; i < val.size(); ++i) seen.insert(val.x(i, 0));
    CHECK(seen.size() == 10000);
    CHECK(train.y(0, 0) == 2 * train.x(0, 0));  // rows stay paired
    auto [train2, val2] = train_val_split(data, 0.2, 42);
    CHECK(val2.x == val.x);
    auto [train3, val3] = train_val_split(data, 0.2, 43);
    CHECK(val3.x != val.x);
    CHECK(train_val_split(ramp(11), 0.2, 0).second.size() == 3);  // ceil, like sklearn
    CHECK_THROWS_AS(train_val_split(data, 1.0, 0), actjit::ValueError);
}

TEST_CASE("batches keep the last partial batch and reshuffle each epoch", "[nn][data]") {
    const auto data = ramp(10);
    BatchLoader<double> loader(data, 4, true, 9);
    CHECK(loader.num_batches() == 3);
    ConstMatrixMap<double> x(nullptr, 0, 0), y(nullptr, 0, 0);
    std::vector<std::vector<double>> epochs;
    for (int e = 0; e < 3; ++e) {
        loader.start_epoch();
        std::vector<Index> sizes;
        std::vector<double> order;
        while (loader.next(x, y)) {
            sizes.push_back(x.rows());
            for (Index i = 0; i < x.rows(); ++i) {
                order.push_back(x(i, 0));
                CHECK(y(i, 0) == 2 * x(i, 0));
            }
        }
        CHECK(sizes == std::vector<Index>{4, 4, 2});
        auto sorted = order;
        std::sort(sorted.begin(), sorted.end());
        for (int i = 0; i < 10; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
        epochs.push_back(order);
    }
    CHECK(epochs[0] != epochs[1]);
    BatchLoader<double> again(data, 4, true, 9);
    again.start_epoch();
    REQUIRE(again.next(x, y));
    CHECK(x(0, 0) == epochs[0][0]);
    BatchLoader<double> plain(data, 4, false);
    plain.start_epoch();
    REQUIRE(plain.next(x, y));
    CHECK(x(0, 0) == 0);
    CHECK(x(3, 0) == 3);
    CHECK_THROWS_AS(BatchLoader<double>(data, 0, false), actjit::ValueError);
}

TEST_CASE("csv round-trips exactly", "[nn][data][csv]") {
    CsvTable t;
    t.header = {"x", "y"};
    t.values.resize(3, 2);
    t.values << 0.1, -1e-300, 1.0 / 3.0, 12345678.9, -0.0, 5e300;
    const std::string path = "actjit_nn_test_roundtrip.csv";
    write_csv(path, t);
    const CsvTable back = read_csv(path);
    std::remove(path.c_str());
    CHECK(back.header == t.header);
    CHECK(back.values == t.values);
    const CsvTable noheader = parse_csv("1,2\n\n3,4\r\n");
    CHECK(noheader.header.empty());
    CHECK(noheader.values.rows() == 2);
    CHECK(noheader.values(1, 1) == 4);
    auto d = Dataset<float>::from_table(noheader.values, 1);
    CHECK(d.x.cols() == 1);
    CHECK(d.y(0, 0) == 2.0f);
}

TEST_CASE("csv errors name the line and column", "[nn][data][csv][errors]") {
    CHECK_THROWS_WITH(parse_csv("a,b\n1,2\n3\n"), "csv line 3: expected 2 fields, found 1");
    CHECK_THROWS_WITH(parse_csv("1,2\n3,x4\n"), "csv line 2, column 2: expected a finite number, found 'x4'");
    CHECK_THROWS_WITH(parse_csv("1,2\n3,nan\n"), "csv line 2, column 2: expected a finite number, found 'nan'");
    CHECK_THROWS_AS(parse_csv("1,2\n3,1e999\n"), actjit::ValueError);
    Dataset<double> bad = ramp(4);
    bad.y(2, 0) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(bad.validate(), "dataset: expected finite values, found inf in targets row 2, column 0");
    CHECK_THROWS_AS(BatchLoader<double>(bad, 2, false), actjit::ValueError);
    CHECK_THROWS_AS(read_csv("/nonexistent/dir/file.csv"), actjit::ValueError);
    CHECK_THROWS_AS(Dataset<double>::from_table(Matrix<double>(2, 2), 2), actjit::ValueError);
}
