// Kernels: parameter bindings, argument checks, blocking over the thread pool,
// deterministic gradient sums, and the interpreted backend against evaluate().
#include <actjit/build.hpp>
#include <actjit/catalog.hpp>
#include <actjit/diff.hpp>
#include <actjit/eval.hpp>
#include <actjit/kernel.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using namespace actjit;
using Catch::Matchers::Contains;

namespace {

/// Restores the thread count a test changed.
struct ThreadCountGuard {
    int saved = num_threads();
    ~ThreadCountGuard() { set_num_threads(saved); }
};

/// x * sigmoid(a * x) + b * x with `a` per-feature trainable, `b` shared
/// trainable, `c` shared fixed... the shapes every check needs.
KernelSpec test_spec(DType dtype) {
    KernelSpec s{parse_formula("x * sigmoid(a * x) + b * x + c"), {}, dtype};
    s.params = {{"a", ParamKind::PerFeature, true, 0}, {"b", ParamKind::Shared, true, 0}, {"c", ParamKind::Fixed, false, 0.5}};
    return s;
}

std::vector<float> ramp(std::size_t n, double lo, double hi) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n > 1 ? n - 1 : 1));
    return v;
}

bool same_or_both_nan(double a, double b, double rel) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::abs(a - b) <= rel * std::max({1.0, std::abs(a), std::abs(b)});
}

/// A backend that records how Kernel split the work.
struct RecordingImpl final : KernelImpl {
    mutable std::mutex mutex;
    mutable std::vector<std::pair<std::int64_t, std::int64_t>> calls;  // (first element offset, rows)
    mutable std::vector<std::thread::id> threads;
    const float* base = nullptr;
    std::int64_t throw_at_offset = -1;

    mutable std::vector<bool> streaming;

    void forward(const void* x, void* y, std::int64_t rows, std::int64_t cols, const void* const*,
                 bool stream) const override {
        const std::int64_t off = static_cast<const float*>(x) - base;
        {
            std::lock_guard lock(mutex);
            calls.emplace_back(off, rows);
            threads.push_back(std::this_thread::get_id());
            streaming.push_back(stream);
        }
        if (off == throw_at_offset) throw ValueError("block failed");
        std::memcpy(y, x, static_cast<std::size_t>(rows * cols) * sizeof(float));
    }
    void backward(const void*, const void*, void*, std::int64_t, std::int64_t, const void* const*, double* const*,
                  bool) const override {}
};

/// A backend whose blocks take longer when streaming (or when not): what the
/// first streaming call of each pass learns from. Records the flag per call.
struct TimedImpl final : KernelImpl {
    bool streaming_is_slow = true;
    mutable std::mutex mutex;
    mutable std::vector<bool> forward_flags, backward_flags;
    void wait(bool stream) const {
        if (stream == streaming_is_slow) std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    void forward(const void*, void*, std::int64_t, std::int64_t, const void* const*, bool stream) const override {
        wait(stream);
        std::lock_guard lock(mutex);
        forward_flags.push_back(stream);
    }
    void backward(const void*, const void*, void*, std::int64_t, std::int64_t, const void* const*, double* const* g,
                  bool stream) const override {
        wait(stream);
        if (g) g[0][0] = 1;
        std::lock_guard lock(mutex);
        backward_flags.push_back(stream);
    }
};

}  // namespace

TEST_CASE("KernelSpec::fixed binds every parameter to a value or its default", "[kernel]") {
    Formula f = parse_formula("f(x; a = 2, b) = a * x + b");
    KernelSpec s = KernelSpec::fixed(f, DType::f64, {{"b", 3.0}});
    REQUIRE(s.params.size() == 2);
    CHECK(s.params[0].name == "a");
    CHECK(s.params[0].kind == ParamKind::Fixed);
    CHECK(s.params[0].value == 2.0);
    CHECK(s.params[1].value == 3.0);
    CHECK(s.runtime_params().empty());
    CHECK(s.trainable_params().empty());
    CHECK_NOTHROW(s.validate());

    CHECK_THROWS_MATCHES(KernelSpec::fixed(f), ValueError, Catch::Matchers::Message("parameter 'b' has no value"));
    CHECK_THROWS_MATCHES(KernelSpec::fixed(f, DType::f32, {{"q", 1.0}, {"b", 1.0}}), ValueError,
                         Catch::Matchers::Message("formula has no parameter 'q'"));
    CHECK_THROWS_WITH(KernelSpec::fixed(f, DType::f32, {{"b", std::numeric_limits<double>::infinity()}}), Contains("not finite"));
}

TEST_CASE("KernelSpec::from_catalog binds as the catalog says", "[kernel]") {
    const Activation* prepu = find_activation("prepu");
    REQUIRE(prepu);
    KernelSpec s = KernelSpec::from_catalog(*prepu);
    REQUIRE(s.params.size() == 1);
    CHECK(s.params[0].name == "s");
    CHECK(s.params[0].kind == ParamKind::PerFeature);
    CHECK(s.params[0].trainable);
    REQUIRE(s.runtime_params().size() == 1);
    REQUIRE(s.trainable_params().size() == 1);

    const Activation* elu = find_activation("elu");
    REQUIRE(elu);
    KernelSpec e = KernelSpec::from_catalog(*elu, DType::f64);
    CHECK(e.dtype == DType::f64);
    for (const ParamBinding& b : e.params) {
        CHECK(b.kind == ParamKind::Fixed);  // elu's alpha is not trainable
        CHECK_FALSE(b.trainable);
    }
    for (const Activation& a : catalog()) CHECK_NOTHROW(KernelSpec::from_catalog(a).validate());
}

TEST_CASE("KernelSpec::validate rejects bindings that do not match the formula", "[kernel]") {
    KernelSpec s = test_spec(DType::f32);
    CHECK_NOTHROW(s.validate());

    KernelSpec missing = s;
    missing.params.pop_back();
    CHECK_THROWS_MATCHES(missing.validate(), ValueError, Catch::Matchers::Message("kernel spec binds 2 parameters, the formula has 3"));

    KernelSpec renamed = s;
    renamed.params[1].name = std::string(1, 'z');  // not = "z": GCC 12 -Wrestrict false positive
    CHECK_THROWS_WITH(renamed.validate(), Contains("as 'z'") && Contains("calls it 'b'"));

    KernelSpec fixed_trainable = s;
    fixed_trainable.params[2].trainable = true;
    CHECK_THROWS_WITH(fixed_trainable.validate(), Contains("'c' is fixed and cannot be trainable"));

    KernelSpec nonfinite = s;
    nonfinite.params[2].value = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(nonfinite.validate(), Contains("not finite"));

    CHECK_THROWS_AS(compile_interpreted(missing), ValueError);
    CHECK_THROWS_AS(Kernel(s, nullptr), ValueError);
}

TEST_CASE("kernels check every argument", "[kernel]") {
    const Kernel k = compile_interpreted(test_spec(DType::f32));
    std::vector<float> x(12, 0.5f), y(12), dy(12, 1.0f), dx(12), a(4, 1.0f), b(1, 0.0f), ga(4), gb(1);
    const float* params[] = {a.data(), b.data()};
    float* grads[] = {ga.data(), gb.data()};

    CHECK_NOTHROW(k.forward(x.data(), y.data(), 3, 4, params));
    CHECK_NOTHROW(k.backward(x.data(), dy.data(), dx.data(), 3, 4, params, grads));

    SECTION("null tensors") {
        CHECK_THROWS_MATCHES(k.forward(nullptr, y.data(), 3, 4, params), ValueError, Catch::Matchers::Message("forward: x is null"));
        CHECK_THROWS_MATCHES(k.forward(x.data(), nullptr, 3, 4, params), ValueError, Catch::Matchers::Message("forward: y is null"));
        CHECK_THROWS_MATCHES(k.backward(x.data(), nullptr, dx.data(), 3, 4, params, grads), ValueError,
                             Catch::Matchers::Message("backward: dy is null"));
        CHECK_THROWS_MATCHES(k.backward(x.data(), dy.data(), nullptr, 3, 4, params, grads), ValueError,
                             Catch::Matchers::Message("backward: dx is null"));
        CHECK_THROWS_MATCHES(k.backward(nullptr, dy.data(), dx.data(), 3, 4, params, grads), ValueError,
                             Catch::Matchers::Message("backward: x is null"));
    }
    SECTION("sizes") {
        CHECK_THROWS_MATCHES(k.forward(x.data(), y.data(), -1, 4, params), ValueError,
                             Catch::Matchers::Message("forward: rows must be >= 0, got -1"));
        CHECK_THROWS_MATCHES(k.forward(x.data(), y.data(), 3, -4, params), ValueError,
                             Catch::Matchers::Message("forward: cols must be >= 0, got -4"));
        CHECK_THROWS_WITH(k.forward(x.data(), y.data(), kMaxKernelElements, 2, params), Contains("more than the limit"));
        // rows * cols overflows int64: still a clean error.
        constexpr auto big = std::numeric_limits<std::int64_t>::max();
        CHECK_THROWS_WITH(k.forward(x.data(), y.data(), big, big, params), Contains("more than the limit"));
        CHECK_THROWS_WITH(k.backward(x.data(), dy.data(), dx.data(), big / 2, 3, params, grads), Contains("more than the limit"));
    }
    SECTION("parameter and gradient counts") {
        const float* one[] = {a.data()};
        CHECK_THROWS_MATCHES(k.forward(x.data(), y.data(), 3, 4, one), ValueError,
                             Catch::Matchers::Message("forward: expected 2 parameter arrays (a, b), got 1"));
        CHECK_THROWS_MATCHES(k.forward(x.data(), y.data(), 3, 4), ValueError,
                             Catch::Matchers::Message("forward: expected 2 parameter arrays (a, b), got 0"));
        float* g1[] = {ga.data()};
        CHECK_THROWS_MATCHES(k.backward(x.data(), dy.data(), dx.data(), 3, 4, params, g1), ValueError,
                             Catch::Matchers::Message("backward: expected 2 gradient arrays (a, b), got 1"));
    }
    SECTION("null parameter and gradient arrays") {
        const float* null_b[] = {a.data(), nullptr};
        CHECK_THROWS_MATCHES(k.forward(x.data(), y.data(), 3, 4, null_b), ValueError,
                             Catch::Matchers::Message("forward: parameter array for 'b' is null"));
        // A shared parameter is read even for an empty tensor's shape checks.
        CHECK_THROWS_AS(k.forward(x.data(), y.data(), 0, 4, null_b), ValueError);
        float* null_ga[] = {nullptr, gb.data()};
        CHECK_THROWS_MATCHES(k.backward(x.data(), dy.data(), dx.data(), 3, 4, params, null_ga), ValueError,
                             Catch::Matchers::Message("backward: gradient array for 'a' is null"));
    }
    SECTION("dtype") {
        std::vector<double> xd(12);
        CHECK_THROWS_MATCHES(k.forward(xd.data(), xd.data(), 3, 4), ValueError,
                             Catch::Matchers::Message("forward: kernel is compiled for f32 but called with double data"));
        const Kernel k64 = compile_interpreted(test_spec(DType::f64));
        CHECK_THROWS_WITH(k64.backward(x.data(), dy.data(), dx.data(), 3, 4, params, grads),
                          Contains("compiled for f64 but called with float data"));
    }
    SECTION("empty kernel") {
        Kernel empty;
        CHECK_FALSE(empty);
        CHECK_THROWS_WITH(empty.forward(x.data(), y.data(), 3, 4), Contains("empty"));
    }
}

TEST_CASE("empty tensors: no element is touched and gradients are zero", "[kernel]") {
    const Kernel k = compile_interpreted(test_spec(DType::f64));
    std::vector<double> a(4, 1.0), b(1, 0.0), ga(4, 123.0), gb(1, 123.0);
    const double* params[] = {a.data(), b.data()};
    double* grads[] = {ga.data(), gb.data()};
    // rows = 0: null tensors are fine, gradients are overwritten with 0.
    CHECK_NOTHROW(k.forward(nullptr, nullptr, 0, 4, params));
    CHECK_NOTHROW(k.backward(nullptr, nullptr, nullptr, 0, 4, params, grads));
    CHECK(ga == std::vector<double>(4, 0.0));
    CHECK(gb == std::vector<double>(1, 0.0));
    // cols = 0: per-feature arrays are empty and may be null.
    gb[0] = 7;
    const double* no_a[] = {nullptr, b.data()};
    double* no_ga[] = {nullptr, gb.data()};
    CHECK_NOTHROW(k.backward(nullptr, nullptr, nullptr, 5, 0, no_a, no_ga));
    CHECK(gb[0] == 0.0);
}

TEST_CASE("the interpreted kernel matches evaluate() on the whole catalog", "[kernel]") {
    const std::vector<float> xs = ramp(37, -3.5, 3.25);
    for (const Activation& act : catalog()) {
        for (DType dtype : {DType::f64, DType::f32}) {
            INFO(act.name << (dtype == DType::f64 ? " f64" : " f32"));
            const KernelSpec spec = KernelSpec::from_catalog(act, dtype);
            const Kernel k = compile_interpreted(spec);
            const std::int64_t cols = 3, rows = static_cast<std::int64_t>(xs.size());
            // Runtime parameters: the default, nudged per column so columns differ.
            std::vector<std::vector<double>> pvals;
            ParamValues fixed;
            for (const ParamBinding& b : spec.params) {
                if (b.kind == ParamKind::Fixed) {
                    fixed[b.name] = b.value;
                    continue;
                }
                std::vector<double> v(b.kind == ParamKind::PerFeature ? cols : 1);
                for (std::size_t c = 0; c < v.size(); ++c) v[c] = b.value + 0.25 * static_cast<double>(c);
                pvals.push_back(v);
            }
            std::vector<double> x(static_cast<std::size_t>(rows * cols)), dy(x.size());
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t c = 0; c < cols; ++c) {
                    x[static_cast<std::size_t>(r * cols + c)] = xs[static_cast<std::size_t>(r)];
                    dy[static_cast<std::size_t>(r * cols + c)] = 1.0 + 0.125 * static_cast<double>((r + c) % 5);
                }

            auto run = [&]<class T>(T) {
                std::vector<T> xt(x.begin(), x.end()), dyt(dy.begin(), dy.end()), y(x.size()), dx(x.size());
                std::vector<std::vector<T>> pt, gt;
                std::vector<const T*> pp;
                std::vector<T*> gp;
                for (const auto& v : pvals) pt.emplace_back(v.begin(), v.end());
                for (const auto& v : pt) pp.push_back(v.data());
                std::size_t k_rt = 0;
                for (const ParamBinding& b : spec.params) {
                    if (b.kind == ParamKind::Fixed) continue;
                    if (b.trainable) gt.emplace_back(pt[k_rt].size());
                    ++k_rt;
                }
                for (auto& v : gt) gp.push_back(v.data());
                k.forward(xt.data(), y.data(), rows, cols, pp);
                k.backward(xt.data(), dyt.data(), dx.data(), rows, cols, pp, gp);

                const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-12;
                for (std::int64_t c = 0; c < cols; ++c) {
                    ParamValues values = fixed;
                    std::size_t k_p = 0;
                    for (const ParamBinding& b : spec.params) {
                        if (b.kind == ParamKind::Fixed) continue;
                        values[b.name] = pvals[k_p][b.kind == ParamKind::PerFeature ? static_cast<std::size_t>(c) : 0];
                        ++k_p;
                    }
                    std::vector<double> col_x(static_cast<std::size_t>(rows));
                    for (std::int64_t r = 0; r < rows; ++r) col_x[static_cast<std::size_t>(r)] = static_cast<double>(xt[static_cast<std::size_t>(r * cols + c)]);
                    const PointResults ref = evaluate_with_gradient<double>(spec.formula, col_x, values, c);
                    for (std::int64_t r = 0; r < rows; ++r) {
                        const auto i = static_cast<std::size_t>(r * cols + c);
                        INFO("x = " << col_x[static_cast<std::size_t>(r)] << ", column " << c);
                        CHECK(same_or_both_nan(static_cast<double>(y[i]), ref.y[static_cast<std::size_t>(r)], tol));
                        const double want_dx = static_cast<double>(dyt[i]) * ref.grads[0][static_cast<std::size_t>(r)];
                        CHECK(same_or_both_nan(static_cast<double>(dx[i]), want_dx, tol));
                    }
                    // Parameter gradients: sum over rows of dy * df/dp.
                    std::size_t g = 0;
                    for (const ParamBinding& b : spec.params) {
                        if (b.kind == ParamKind::Fixed || !b.trainable) continue;
                        const auto name_it = std::find(ref.names.begin(), ref.names.end(), b.name);
                        REQUIRE(name_it != ref.names.end());
                        const auto& dp = ref.grads[static_cast<std::size_t>(name_it - ref.names.begin())];
                        if (b.kind == ParamKind::PerFeature) {
                            double want = 0;
                            for (std::int64_t r = 0; r < rows; ++r)
                                want += static_cast<double>(dyt[static_cast<std::size_t>(r * cols + c)]) * dp[static_cast<std::size_t>(r)];
                            INFO("d/d" << b.name << ", column " << c);
                            CHECK(same_or_both_nan(static_cast<double>(gt[g][static_cast<std::size_t>(c)]), want, tol * 10));
                        }
                        ++g;
                    }
                }
            };
            if (dtype == DType::f64)
                run(0.0);
            else
                run(0.0f);
        }
    }
}

TEST_CASE("interpreted kernels fold fixed parameters and use the feature index", "[kernel]") {
    const Formula f = parse_formula("where(feature == 1, p * x, x + q)");
    KernelSpec s = KernelSpec::fixed(f, DType::f64, {{"p", 3.0}, {"q", 10.0}});
    const Kernel k = compile_interpreted(s);
    std::vector<double> x = {1, 2, 3, 4}, y(4);
    k.forward(x.data(), y.data(), 2, 2);
    CHECK(y == std::vector<double>{11, 6, 13, 12});
}

TEST_CASE("kernels may run in place", "[kernel]") {
    const Kernel k = compile_interpreted(test_spec(DType::f32));
    const std::int64_t rows = 50000, cols = 3;  // several blocks
    std::vector<float> x = ramp(static_cast<std::size_t>(rows * cols), -4, 4), a = {1.0f, 0.5f, 2.0f}, b = {0.25f};
    const float* params[] = {a.data(), b.data()};
    std::vector<float> y(x.size());
    k.forward(x.data(), y.data(), rows, cols, params);
    std::vector<float> inplace = x;
    k.forward(inplace.data(), inplace.data(), rows, cols, params);
    CHECK(std::memcmp(inplace.data(), y.data(), y.size() * sizeof(float)) == 0);

    std::vector<float> dy = ramp(x.size(), 1, 2), dx(x.size()), ga(3), gb(1), ga2(3), gb2(1);
    float* grads[] = {ga.data(), gb.data()};
    float* grads2[] = {ga2.data(), gb2.data()};
    k.backward(x.data(), dy.data(), dx.data(), rows, cols, params, grads);
    std::vector<float> dx_on_dy = dy;  // dx aliases dy
    k.backward(x.data(), dx_on_dy.data(), dx_on_dy.data(), rows, cols, params, grads2);
    CHECK(std::memcmp(dx_on_dy.data(), dx.data(), dx.size() * sizeof(float)) == 0);
    CHECK(ga == ga2);
    CHECK(gb == gb2);
    std::vector<float> dx_on_x = x;  // dx aliases x
    k.backward(dx_on_x.data(), dy.data(), dx_on_x.data(), rows, cols, params, grads2);
    CHECK(std::memcmp(dx_on_x.data(), dx.data(), dx.size() * sizeof(float)) == 0);
}

TEST_CASE("parameter gradients are bitwise identical for any thread count", "[kernel]") {
    ThreadCountGuard guard;
    const Kernel k = compile_interpreted(test_spec(DType::f32));
    const std::int64_t cols = 4, rows = 250000;  // 1e6 elements, 31 blocks
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-3, 3);
    std::vector<float> x(static_cast<std::size_t>(rows * cols)), dy(x.size());
    for (auto& v : x) v = dist(rng);
    for (auto& v : dy) v = dist(rng);
    std::vector<float> a = {1.0f, 0.5f, 2.0f, -1.0f}, b = {0.25f};
    const float* params[] = {a.data(), b.data()};

    std::vector<float> ref_ga, ref_gb, ref_dx;
    for (int threads : {1, 2, 4, 3}) {
        set_num_threads(threads);
        CHECK(num_threads() == threads);
        std::vector<float> dx(x.size()), ga(4), gb(1);
        float* grads[] = {ga.data(), gb.data()};
        k.backward(x.data(), dy.data(), dx.data(), rows, cols, params, grads);
        if (ref_ga.empty()) {
            ref_ga = ga, ref_gb = gb, ref_dx = dx;
            // And the sums are right: compare with a plain double sum.
            double want_b = 0;
            for (std::size_t i = 0; i < x.size(); ++i) want_b += static_cast<double>(dy[i]) * static_cast<double>(x[i]);
            CHECK(gb[0] == Approx(want_b).epsilon(1e-6));
            continue;
        }
        INFO(threads << " threads");
        CHECK(std::memcmp(ga.data(), ref_ga.data(), sizeof(float) * ga.size()) == 0);
        CHECK(std::memcmp(gb.data(), ref_gb.data(), sizeof(float) * gb.size()) == 0);
        CHECK(std::memcmp(dx.data(), ref_dx.data(), sizeof(float) * dx.size()) == 0);
    }
}

TEST_CASE("blocks depend on the shape only; small inputs stay on the calling thread", "[kernel]") {
    ThreadCountGuard guard;
    auto impl = std::make_shared<RecordingImpl>();
    const Kernel k(KernelSpec::fixed(parse_formula("x")), impl);
    std::vector<float> x = ramp(300000, -1, 1), y(x.size());
    impl->base = x.data();

    k.forward(x.data(), y.data(), 100, 3);  // 300 elements: one block, inline
    REQUIRE(impl->calls.size() == 1);
    CHECK(impl->calls[0] == std::pair<std::int64_t, std::int64_t>(0, 100));
    CHECK(impl->threads[0] == std::this_thread::get_id());

    std::vector<std::vector<std::pair<std::int64_t, std::int64_t>>> layouts;
    for (int threads : {1, 2, 4}) {
        set_num_threads(threads);
        impl->calls.clear();
        impl->threads.clear();
        k.forward(x.data(), y.data(), 100000, 3);
        auto calls = impl->calls;
        std::sort(calls.begin(), calls.end());
        std::int64_t next = 0;
        for (auto [off, rows] : calls) {
            CHECK(off == next);  // contiguous, no overlap
            next = off + rows * 3;
        }
        CHECK(next == 300000);
        CHECK(calls.size() > 1);
        layouts.push_back(calls);
        if (threads == 1)
            for (auto id : impl->threads) CHECK(id == std::this_thread::get_id());
    }
    CHECK(layouts[0] == layouts[1]);
    CHECK(layouts[0] == layouts[2]);
    CHECK(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
}

TEST_CASE("the default streaming threshold is the last-level cache, at most 32 MiB", "[kernel]") {
    CHECK(detail::streaming_threshold_for_cache(std::int64_t{16} << 20) == (std::int64_t{16} << 20));
    CHECK(detail::streaming_threshold_for_cache(std::int64_t{32} << 20) == (std::int64_t{32} << 20));
    // a virtual machine's view of a whole socket's L3
    CHECK(detail::streaming_threshold_for_cache(std::int64_t{480} << 20) == (std::int64_t{32} << 20));
    CHECK(detail::streaming_threshold_for_cache(0) == (std::int64_t{32} << 20));   // unknown
    CHECK(detail::streaming_threshold_for_cache(-1) == (std::int64_t{32} << 20));  // sysconf's "no answer"
}

TEST_CASE("each pass learns on its first large streaming calls whether streaming stores pay", "[kernel]") {
    const std::int64_t saved = streaming_threshold();
    set_streaming_threshold(0);
    const std::int64_t rows = 160 * 1024, cols = 8;  // 40 blocks of 32768 elements
    std::vector<float> x(static_cast<std::size_t>(rows * cols)), y(x.size());
    // The first call: block 0 plain, then runs of 4 blocks S P P S twice, then the choice.
    std::vector<bool> trial{false};
    for (int i = 0; i < 8; ++i) trial.insert(trial.end(), 4, i % 4 == 0 || i % 4 == 3);
    for (bool slow : {true, false}) {
        INFO("streaming is the slow one: " << slow);
        auto impl = std::make_shared<TimedImpl>();
        impl->streaming_is_slow = slow;
        KernelSpec spec{parse_formula("a * x"), {}, DType::f32};
        spec.params.push_back({"a", ParamKind::Shared, true, 1.0});
        const Kernel k(spec, impl);
        const Kernel copy = k;  // copies share what was learned
        const float a = 1;
        const float* params[] = {&a};
        float ga = 0;
        float* grads[] = {&ga};
        k.forward(x.data(), y.data(), rows, cols, params);
        REQUIRE(impl->forward_flags.size() == 40);
        CHECK(std::vector<bool>(impl->forward_flags.begin(), impl->forward_flags.begin() + 33) == trial);
        CHECK(std::vector<bool>(impl->forward_flags.begin() + 33, impl->forward_flags.end()) == std::vector<bool>(7, !slow));
        impl->forward_flags.clear();
        copy.forward(x.data(), y.data(), rows, cols, params);
        CHECK(impl->forward_flags == std::vector<bool>(40, !slow));  // learned: no trial
        // backward learns on its own, and its gradient sums every block once
        k.backward(x.data(), x.data(), y.data(), rows, cols, params, grads);
        REQUIRE(impl->backward_flags.size() == 40);
        CHECK(std::vector<bool>(impl->backward_flags.begin(), impl->backward_flags.begin() + 33) == trial);
        CHECK(std::vector<bool>(impl->backward_flags.begin() + 33, impl->backward_flags.end()) == std::vector<bool>(7, !slow));
        CHECK(ga == 40.0f);
        impl->backward_flags.clear();
        k.backward(x.data(), x.data(), y.data(), rows, cols, params, grads);
        CHECK(impl->backward_flags == std::vector<bool>(40, !slow));
        // The machine changes its mind: calls 3 and 4 keep the choice, the
        // 5th (the 4th after the first) tries again and learns the other.
        impl->streaming_is_slow = !slow;
        for (int call = 3; call <= 5; ++call) {
            impl->forward_flags.clear();
            k.forward(x.data(), y.data(), rows, cols, params);
            REQUIRE(impl->forward_flags.size() == 40);
            if (call < 5) {
                CHECK(impl->forward_flags == std::vector<bool>(40, !slow));
            } else {
                CHECK(std::vector<bool>(impl->forward_flags.begin(), impl->forward_flags.begin() + 33) == trial);
                CHECK(std::vector<bool>(impl->forward_flags.begin() + 33, impl->forward_flags.end()) ==
                      std::vector<bool>(7, slow));
            }
        }
        impl->streaming_is_slow = slow;
        // 33 blocks or fewer: no trial, the threshold alone decides
        const Kernel fresh(spec, impl);
        impl->forward_flags.clear();
        fresh.forward(x.data(), y.data(), 33 * 4096, cols, params);
        CHECK(impl->forward_flags == std::vector<bool>(33, true));
    }
    set_streaming_threshold(saved);
}

TEST_CASE("outputs from the streaming threshold on are marked streaming, in every block", "[kernel]") {
    const std::int64_t saved = streaming_threshold();
    if (std::getenv("ACTJIT_STREAMING_THRESHOLD") == nullptr) {
        // the default: the last-level cache size, at most 32 MiB
        CHECK(saved > 0);
        CHECK(saved <= (std::int64_t{32} << 20));
    }
    auto impl = std::make_shared<RecordingImpl>();
    const Kernel k(KernelSpec::fixed(parse_formula("x")), impl);
    std::vector<float> x = ramp(300000, -1, 1), y(x.size());
    impl->base = x.data();
    auto streaming_of = [&](std::int64_t rows) {
        impl->streaming.clear();
        k.forward(x.data(), y.data(), rows, 3);
        REQUIRE(!impl->streaming.empty());
        const bool first = impl->streaming[0];
        for (bool s : impl->streaming) CHECK(s == first);  // the whole tensor decides, not the block
        return first;
    };
    set_streaming_threshold(4 * 3000);  // bytes: 1000 rows x 3 floats
    CHECK(!streaming_of(999));
    CHECK(streaming_of(1000));
    CHECK(streaming_of(100000));  // many blocks (10: too few for a trial of streaming, see above)
    set_streaming_threshold(0);
    CHECK(streaming_of(1));
    CHECK(streaming_threshold() == 0);
    set_streaming_threshold(-5);
    CHECK(streaming_threshold() == -1);
    CHECK(!streaming_of(100000));
    set_streaming_threshold(saved);
    CHECK(streaming_threshold() == saved);
}

TEST_CASE("an exception in one block reaches the caller; the pool keeps working", "[kernel]") {
    ThreadCountGuard guard;
    set_num_threads(3);
    auto impl = std::make_shared<RecordingImpl>();
    const Kernel k(KernelSpec::fixed(parse_formula("x")), impl);
    std::vector<float> x(200000, 1.0f), y(x.size());
    impl->base = x.data();
    impl->throw_at_offset = 32768;  // the second block
    CHECK_THROWS_WITH(k.forward(x.data(), y.data(), 200000, 1), "block failed");
    impl->throw_at_offset = -1;
    CHECK_NOTHROW(k.forward(x.data(), y.data(), 200000, 1));
    CHECK(y == x);
}

TEST_CASE("kernels run from many threads at once", "[kernel]") {
    ThreadCountGuard guard;
    set_num_threads(2);
    const Kernel k = compile_interpreted(KernelSpec::fixed(parse_formula("2 * x + 1"), DType::f64));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            std::vector<double> x(100000, static_cast<double>(t)), y(x.size());
            for (int rep = 0; rep < 3; ++rep) {
                k.forward(x.data(), y.data(), 100000, 1);
                for (double v : y)
                    if (v != 2.0 * t + 1) ++failures;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
}

TEST_CASE("set_num_threads validates its argument", "[kernel]") {
    ThreadCountGuard guard;
    CHECK(num_threads() >= 1);
    CHECK_THROWS_AS(set_num_threads(-1), ValueError);
    CHECK_THROWS_AS(set_num_threads(100000), ValueError);
    set_num_threads(1);
    CHECK(num_threads() == 1);
    set_num_threads(0);  // back to all cores
    CHECK(num_threads() == static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST_CASE("wide per-feature gradients: bounded slots, same sums for any thread count", "[kernel]") {
    ThreadCountGuard guard;
    KernelSpec spec{parse_formula("a * x * x"), {{"a", ParamKind::PerFeature, true, 0}}, DType::f64};
    const Kernel k = compile_interpreted(spec);
    const std::int64_t rows = 40, cols = 60000;  // gradient slots would be 40 x 60000 doubles unbounded
    std::vector<double> x(static_cast<std::size_t>(rows * cols)), dy(x.size()), dx(x.size()), a(static_cast<std::size_t>(cols), 2.0);
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = 0.001 * static_cast<double>(i % 977);
        dy[i] = 1.0 + 0.5 * static_cast<double>(i % 3);
    }
    const double* params[] = {a.data()};
    std::vector<double> ref;
    for (int threads : {1, 2, 4}) {
        set_num_threads(threads);
        std::vector<double> ga(static_cast<std::size_t>(cols), -1.0);
        double* grads[] = {ga.data()};
        k.backward(x.data(), dy.data(), dx.data(), rows, cols, params, grads);
        if (ref.empty()) {
            ref = ga;
            for (std::int64_t c : {std::int64_t{0}, std::int64_t{12345}, cols - 1}) {
                double want = 0;
                for (std::int64_t r = 0; r < rows; ++r) {
                    const auto i = static_cast<std::size_t>(r * cols + c);
                    want += dy[i] * x[i] * x[i];
                }
                CHECK(ga[static_cast<std::size_t>(c)] == Approx(want).epsilon(1e-12));
            }
        } else {
            INFO(threads << " threads");
            CHECK(std::memcmp(ga.data(), ref.data(), ga.size() * sizeof(double)) == 0);
        }
    }
}

TEST_CASE("kernels with more parameters than the argument arrays keep on the stack", "[kernel]") {
    // Ten trainable parameters: the type-erased parameter and gradient
    // arrays (and the gradient offsets) go to the heap past eight.
    constexpr int kParams = 10;
    // (std::string's operator+ here trips GCC 12's -Wrestrict false positive.)
    auto name = [](int i) { return std::string(1, 'a').append(std::to_string(i)); };
    std::string formula = "x * (a0";
    for (int i = 1; i < kParams; ++i) formula.append(" + ").append(name(i));
    formula += ")";
    KernelSpec spec{parse_formula(formula), {}, DType::f32};
    for (int i = 0; i < kParams; ++i)
        spec.params.push_back({name(i), i % 2 ? ParamKind::Shared : ParamKind::PerFeature, true, 0});
    const Kernel k = compile_interpreted(spec);

    const std::int64_t rows = 3, cols = 4;
    const std::vector<float> x = ramp(rows * cols, -2.0, 3.0), dy = ramp(rows * cols, 0.5, 1.5);
    std::vector<std::vector<float>> values, grad_store;
    std::vector<const float*> params;
    std::vector<float*> grads;
    for (int i = 0; i < kParams; ++i) {
        const std::size_t len = i % 2 ? 1 : static_cast<std::size_t>(cols);
        values.push_back(ramp(len, 0.1 * (i + 1), 0.2 * (i + 1)));
        grad_store.emplace_back(len, -1.0f);
    }
    for (int i = 0; i < kParams; ++i) {
        params.push_back(values[i].data());
        grads.push_back(grad_store[i].data());
    }
    auto sum_at = [&](std::int64_t c) {
        double s = 0;
        for (int i = 0; i < kParams; ++i) s += values[i][i % 2 ? 0 : static_cast<std::size_t>(c)];
        return s;
    };

    std::vector<float> y(x.size()), dx(x.size());
    k.forward(x.data(), y.data(), rows, cols, params);
    k.backward(x.data(), dy.data(), dx.data(), rows, cols, params, grads);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            const std::size_t e = static_cast<std::size_t>(r * cols + c);
            CHECK(y[e] == Approx(x[e] * sum_at(c)).epsilon(1e-6));
            CHECK(dx[e] == Approx(dy[e] * sum_at(c)).epsilon(1e-6));
        }
    for (int i = 0; i < kParams; ++i)
        for (std::size_t c = 0; c < grad_store[i].size(); ++c) {
            double want = 0;
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t cc = 0; cc < cols; ++cc)
                    if (i % 2 || static_cast<std::size_t>(cc) == c) want += dy[r * cols + cc] * x[r * cols + cc];
            CHECK(grad_store[i][c] == Approx(want).epsilon(1e-6));
        }

    // The checks read the heap arrays too: the last parameter's name.
    params.back() = nullptr;
    CHECK_THROWS_MATCHES(k.forward(x.data(), y.data(), rows, cols, params), ValueError,
                         Catch::Matchers::Message("forward: parameter array for 'a9' is null"));
}

namespace {

/// y = a * x + b (a per-feature, b shared, both trainable) both through the
/// virtual functions and through Entry's plain functions, counting which ran.
struct EntryImpl final : KernelImpl {
    static inline int entry_calls = 0, virtual_calls = 0;
    static inline std::uint64_t last_flags = 99;

    template <class T>
    static void fwd(const void* xv, void* yv, std::int64_t rows, std::int64_t cols, const void* const* p) {
        const T* x = static_cast<const T*>(xv);
        T* y = static_cast<T*>(yv);
        const T* a = static_cast<const T*>(p[0]);
        const T b = *static_cast<const T*>(p[1]);
        for (std::int64_t i = 0; i < rows * cols; ++i) y[i] = a[i % cols] * x[i] + b;
    }
    template <class T>
    static void bwd(const void* xv, const void* dyv, void* dxv, std::int64_t rows, std::int64_t cols, const void* const* p,
                    double* const* g) {
        const T* x = static_cast<const T*>(xv);
        const T* dy = static_cast<const T*>(dyv);
        T* dx = static_cast<T*>(dxv);
        const T* a = static_cast<const T*>(p[0]);
        std::fill_n(g[0], cols, 0.0);
        g[1][0] = 0;
        for (std::int64_t i = 0; i < rows * cols; ++i) {
            g[0][i % cols] += static_cast<double>(dy[i]) * static_cast<double>(x[i]);
            g[1][0] += static_cast<double>(dy[i]);
            dx[i] = dy[i] * a[i % cols];
        }
    }
    bool f64;
    explicit EntryImpl(bool is_f64) : f64(is_f64) {}

    void forward(const void* x, void* y, std::int64_t rows, std::int64_t cols, const void* const* p, bool) const override {
        ++virtual_calls;
        f64 ? fwd<double>(x, y, rows, cols, p) : fwd<float>(x, y, rows, cols, p);
    }
    void backward(const void* x, const void* dy, void* dx, std::int64_t rows, std::int64_t cols, const void* const* p,
                  double* const* g, bool) const override {
        ++virtual_calls;
        f64 ? bwd<double>(x, dy, dx, rows, cols, p, g) : bwd<float>(x, dy, dx, rows, cols, p, g);
    }
    template <class T>
    static void entry_fwd(const void* x, void* y, std::int64_t rows, std::int64_t cols, const void* const* p,
                          std::uint64_t flags) {
        ++entry_calls;
        last_flags = flags;
        fwd<T>(x, y, rows, cols, p);
    }
    template <class T>
    static void entry_bwd(const void* x, const void* dy, void* dx, std::int64_t rows, std::int64_t cols,
                          const void* const* p, double* const* g, std::uint64_t flags) {
        ++entry_calls;
        last_flags = flags;
        bwd<T>(x, dy, dx, rows, cols, p, g);
    }
    Entry entry() const noexcept override {
        Entry e;
        e.forward = f64 ? &entry_fwd<double> : &entry_fwd<float>;
        e.backward = f64 ? &entry_bwd<double> : &entry_bwd<float>;
        return e;
    }
};

KernelSpec affine_spec(DType dtype) {
    KernelSpec s{parse_formula("a * x + b"), {}, dtype};
    s.params = {{"a", ParamKind::PerFeature, true, 0}, {"b", ParamKind::Shared, true, 0}};
    return s;
}

/// Runs forward and backward on [rows x cols]; checks values and gradient
/// sums; returns (entry calls, virtual calls) of the two.
template <class T>
std::pair<int, int> run_affine(const Kernel& k, std::int64_t rows, std::int64_t cols) {
    const std::size_t n = static_cast<std::size_t>(rows * cols);
    std::vector<T> x(n), dy(n), y(n), dx(n), a(static_cast<std::size_t>(cols)), b{T(0.5)};
    std::vector<T> ga(static_cast<std::size_t>(cols), T(-1)), gb{T(-1)};
    for (std::size_t i = 0; i < n; ++i) {
        x[i] = static_cast<T>(static_cast<double>(i % 7) - 3.0);
        dy[i] = static_cast<T>(0.25 * static_cast<double>(i % 5));
    }
    for (std::size_t c = 0; c < a.size(); ++c) a[c] = static_cast<T>(1.0 + static_cast<double>(c % 4));
    const T* params[] = {a.data(), b.data()};
    T* grads[] = {ga.data(), gb.data()};
    EntryImpl::entry_calls = EntryImpl::virtual_calls = 0;
    k.forward(x.data(), y.data(), rows, cols, params);
    k.backward(x.data(), dy.data(), dx.data(), rows, cols, params, grads);
    std::vector<double> want_ga(a.size(), 0.0);
    double want_gb = 0;
    bool values_ok = true;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % a.size();
        values_ok = values_ok && y[i] == a[c] * x[i] + b[0] && dx[i] == dy[i] * a[c];
        want_ga[c] += static_cast<double>(dy[i]) * static_cast<double>(x[i]);
        want_gb += static_cast<double>(dy[i]);
    }
    CHECK(values_ok);
    for (std::size_t c = 0; c < a.size(); ++c) CHECK(ga[c] == static_cast<T>(want_ga[c]));
    CHECK(gb[0] == static_cast<T>(want_gb));
    return {EntryImpl::entry_calls, EntryImpl::virtual_calls};
}

}  // namespace

TEST_CASE("one-block calls go straight to the backend's plain functions; the rest through the virtuals", "[kernel]") {
    ThreadCountGuard guard;
    set_num_threads(1);
    for (DType dtype : {DType::f32, DType::f64}) {
        const bool f64 = dtype == DType::f64;
        const Kernel k(affine_spec(dtype), std::make_shared<EntryImpl>(f64));
        auto run = [&](std::int64_t rows, std::int64_t cols) {
            return f64 ? run_affine<double>(k, rows, cols) : run_affine<float>(k, rows, cols);
        };
        // One block, within the stack's gradient slots: both passes direct,
        // with flags 0 (no streaming, no prefetch).
        EntryImpl::last_flags = 99;
        CHECK(run(3, 5) == std::pair{2, 0});
        CHECK(EntryImpl::last_flags == 0);
        CHECK(run(1, 255) == std::pair{2, 0});       // 255 + 1 gradient doubles: the most on the stack
        CHECK(run(512, 64) == std::pair{2, 0});      // 32768 elements: one block
        // A gradient wider than the stack's slots: the backward through the virtuals.
        CHECK(run(2, 256) == std::pair{1, 1});
        // Several blocks: both through the virtuals (and make_blocking).
        CHECK(run(513, 64) == std::pair{0, 2 * 2});
        // A streaming output: through the virtuals, which learn how to write it.
        const std::int64_t saved = streaming_threshold();
        set_streaming_threshold(0);
        CHECK(run(3, 5) == std::pair{0, 2});
        set_streaming_threshold(saved);
        CHECK(run(3, 5) == std::pair{2, 0});
    }

    // Bad arguments never reach the plain functions: the same errors as ever.
    const Kernel k(affine_spec(DType::f32), std::make_shared<EntryImpl>(false));
    std::vector<float> x(12, 1.0f), y(12), dy(12, 1.0f), a(4, 1.0f), b(1, 0.0f), ga(4), gb(1);
    const float* params[] = {a.data(), b.data()};
    float* grads[] = {ga.data(), gb.data()};
    const float* null_a[] = {nullptr, b.data()};
    float* null_gb[] = {ga.data(), nullptr};
    EntryImpl::entry_calls = EntryImpl::virtual_calls = 0;
    CHECK_THROWS_MATCHES(k.forward(x.data(), nullptr, 3, 4, params), ValueError, Catch::Matchers::Message("forward: y is null"));
    CHECK_THROWS_MATCHES(k.backward(x.data(), nullptr, y.data(), 3, 4, params, grads), ValueError,
                         Catch::Matchers::Message("backward: dy is null"));
    CHECK_THROWS_MATCHES(k.forward(x.data(), y.data(), 3, 4, null_a), ValueError,
                         Catch::Matchers::Message("forward: parameter array for 'a' is null"));
    CHECK_THROWS_MATCHES(k.backward(x.data(), dy.data(), y.data(), 3, 4, params, null_gb), ValueError,
                         Catch::Matchers::Message("backward: gradient array for 'b' is null"));
    CHECK_THROWS_MATCHES(k.forward(x.data(), y.data(), 3, 4, std::span<const float* const>(params, 1)), ValueError,
                         Catch::Matchers::Message("forward: expected 2 parameter arrays (a, b), got 1"));
    CHECK_THROWS_MATCHES(k.forward(x.data(), y.data(), -3, 4, params), ValueError,
                         Catch::Matchers::Message("forward: rows must be >= 0, got -3"));
    std::vector<double> xd(12);
    CHECK_THROWS_WITH(k.forward(xd.data(), xd.data(), 3, 4), Contains("compiled for f32 but called with double data"));
    CHECK(EntryImpl::entry_calls == 0);
    CHECK(EntryImpl::virtual_calls == 0);
    // An empty tensor: nothing to call, gradients zeroed, as before.
    CHECK_NOTHROW(k.backward(nullptr, nullptr, nullptr, 0, 4, params, grads));
    CHECK(gb[0] == 0.0f);
    CHECK(EntryImpl::entry_calls == 0);
}
