// JIT kernels against the reference interpreter: every catalog activation,
// both dtypes, trainable per-feature and shared parameters, odd shapes,
// in-place calls, every vector width, random formulas.
#include "jit_test_util.hpp"

#include <actjit/catalog.hpp>
#include <actjit/formula.hpp>

#include <catch2/catch.hpp>

#include <bit>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>

using namespace actjit;
using namespace actjit::test;

namespace {

struct Shape {
    std::int64_t rows, cols;
};

// Tails, single elements, few features (tiled), odd feature counts (rows).
const Shape kShapes[] = {{0, 0}, {0, 8}, {8, 0}, {1, 1},  {15, 1}, {1, 15}, {17, 1}, {1, 17},
                         {3, 5}, {5, 3}, {2, 8}, {9, 4}, {17, 16}, {3, 40}, {7, 33}, {64, 8}};

template <class T>
void check_spec(const KernelSpec& spec, const Kernel& k, Shape s, std::uint32_t seed, bool specials = false) {
    const auto d = make_data<T>(spec, s.rows, s.cols, seed, specials);
    const auto r = reference(spec, d);
    INFO("shape " << s.rows << " x " << s.cols << (specials ? " with special values" : ""));
    const std::string mismatch = check_against_reference(k, d, r);
    INFO(mismatch);
    CHECK(mismatch.empty());
}

KernelSpec catalog_spec(const Activation& a, DType dtype, ParamKind kind) {
    KernelSpec spec = KernelSpec::from_catalog(a, dtype);
    for (auto& b : spec.params) {
        b.kind = kind;
        b.trainable = kind != ParamKind::Fixed;
    }
    return spec;
}

template <class T>
void check_catalog(DType dtype) {
    for (const Activation& a : catalog()) {
        INFO("activation " << a.name);
        // As the catalog binds it, then every parameter trainable per feature,
        // then every parameter trainable and shared.
        std::vector<KernelSpec> specs{KernelSpec::from_catalog(a, dtype)};
        if (!a.params.empty()) {
            specs.push_back(catalog_spec(a, dtype, ParamKind::PerFeature));
            specs.push_back(catalog_spec(a, dtype, ParamKind::Shared));
        }
        for (std::size_t v = 0; v < specs.size(); ++v) {
            INFO("binding variant " << v);
            const Kernel k = compile_jit(specs[v]);
            std::uint32_t seed = 1;
            for (Shape s : kShapes) check_spec<T>(specs[v], k, s, seed++);
            check_spec<T>(specs[v], k, {33, 7}, seed++, true);
        }
    }
}

}  // namespace

TEST_CASE("every catalog activation matches the interpreter in f32", "[jit][catalog]") { check_catalog<float>(DType::f32); }

TEST_CASE("every catalog activation matches the interpreter in f64", "[jit][catalog]") { check_catalog<double>(DType::f64); }

TEST_CASE("large inputs: 1000003 elements, one and many features", "[jit][large]") {
    for (const char* name : {"silu", "prepu", "brelu", "expolu", "soft_exponential"}) {
        INFO("activation " << name);
        const Activation* a = find_activation(name);
        REQUIRE(a);
        for (Shape s : {Shape{1000003, 1}, Shape{1, 1000003}}) {
            const auto spec32 = KernelSpec::from_catalog(*a, DType::f32);
            check_spec<float>(spec32, compile_jit(spec32), s, 7);
        }
        const auto spec64 = KernelSpec::from_catalog(*a, DType::f64);
        check_spec<double>(spec64, compile_jit(spec64), {1000003, 1}, 8);
    }
}

TEST_CASE("every vector width gives the same results", "[jit][width]") {
    for (const char* name : {"prepu", "brelu", "gelu", "soft_exponential", "hardswish"}) {
        INFO("activation " << name);
        const Activation* a = find_activation(name);
        REQUIRE(a);
        for (int width : {1, 2, 4, 8, 16, 32}) {
            INFO("vector width " << width);
            JitOptions o;
            o.vector_width = width;
            const auto spec32 = KernelSpec::from_catalog(*a, DType::f32);
            const Kernel k32 = compile_jit(spec32, o);
            const auto spec64 = KernelSpec::from_catalog(*a, DType::f64);
            const Kernel k64 = compile_jit(spec64, o);
            std::uint32_t seed = 100;
            for (Shape s : kShapes) {
                check_spec<float>(spec32, k32, s, seed++);
                check_spec<double>(spec64, k64, s, seed++);
            }
        }
    }
}

TEST_CASE("every optimization level gives the same results", "[jit][opt]") {
    const Activation* a = find_activation("prepu");
    REQUIRE(a);
    const auto spec = KernelSpec::from_catalog(*a, DType::f32);
    for (int level = 0; level <= 3; ++level) {
        INFO("opt level " << level);
        JitOptions o;
        o.opt_level = level;
        const Kernel k = compile_jit(spec, o);
        for (Shape s : {Shape{17, 16}, Shape{5, 3}, Shape{9, 4}}) check_spec<float>(spec, k, s, 3);
    }
}

TEST_CASE("in place: y may alias x, dx may alias x or dy", "[jit][alias]") {
    const Activation* a = find_activation("prepu");
    REQUIRE(a);
    const auto spec = KernelSpec::from_catalog(*a, DType::f32);
    const Kernel k = compile_jit(spec);
    for (Shape s : {Shape{17, 16}, Shape{5, 3}, Shape{33, 8}}) {
        INFO("shape " << s.rows << " x " << s.cols);
        const auto d = make_data<float>(spec, s.rows, s.cols, 11);
        const auto n = d.x.size();
        std::vector<const float*> params{d.params[0].data()};
        std::vector<float> y(n), dx(n), g(static_cast<std::size_t>(s.cols)), g2(g.size());
        k.forward(d.x.data(), y.data(), s.rows, s.cols, params);
        std::vector<float*> gp{g.data()};
        k.backward(d.x.data(), d.dy.data(), dx.data(), s.rows, s.cols, params, gp);

        auto inplace = d.x;
        k.forward(inplace.data(), inplace.data(), s.rows, s.cols, params);
        CHECK(inplace == y);

        auto x_as_dx = d.x;
        std::vector<float*> gp2{g2.data()};
        k.backward(x_as_dx.data(), d.dy.data(), x_as_dx.data(), s.rows, s.cols, params, gp2);
        CHECK(x_as_dx == dx);
        CHECK(g2 == g);

        auto dy_as_dx = d.dy;
        k.backward(d.x.data(), dy_as_dx.data(), dy_as_dx.data(), s.rows, s.cols, params, gp2);
        CHECK(dy_as_dx == dx);
        CHECK(g2 == g);
    }
}

TEST_CASE("parameter gradients are identical for any thread count", "[jit][threads]") {
    const Activation* a = find_activation("prepu");
    REQUIRE(a);
    const auto spec = KernelSpec::from_catalog(*a, DType::f32);
    const Kernel k = compile_jit(spec);
    const auto d = make_data<float>(spec, 4096, 64, 5);
    std::vector<const float*> params{d.params[0].data()};
    std::vector<float> dx(d.x.size());
    std::vector<std::vector<float>> results;
    const int before = num_threads();
    for (int t : {1, 2, 3, 8}) {
        set_num_threads(t);
        std::vector<float> g(64);
        std::vector<float*> gp{g.data()};
        k.backward(d.x.data(), d.dy.data(), dx.data(), 4096, 64, params, gp);
        results.push_back(g);
    }
    set_num_threads(before);
    for (const auto& r : results) CHECK(r == results[0]);
}

TEST_CASE("fixed parameters are folded: expolu with p = 2 has no pow call", "[jit][fold]") {
    const Activation* a = find_activation("expolu");
    REQUIRE(a);
    const auto spec = KernelSpec::from_catalog(*a, DType::f32);
    const std::string ir = Engine::global().emit(spec, EmitKind::llvm);
    CHECK(ir.find("define void @actjit_fwd") != std::string::npos);
    CHECK(ir.find("define void @actjit_bwd") != std::string::npos);
    CHECK(ir.find("pow") == std::string::npos);
    CHECK(ir.find("fmul") != std::string::npos);
}

TEST_CASE("constant divisors and mod(feature, k) lower to multiplies and lane patterns, same values", "[jit][div]") {
    // 1/c normal: a multiply (within 1.5 ulp); c or 1/c not normal in f32
    // (1e-39 is subnormal, 1/3e38 is subnormal): a real division.
    for (const char* text : {"x / 6 + 0.5", "x / 0.4", "x / -3", "x / 1e-39", "x / 3e38", "x / 0.25",
                             "where(mod(feature, 2) == 0, relu(x), x / 3)", "mod(feature, 4) * x + mod(feature, 3)"}) {
        INFO("formula " << text);
        for (DType dtype : {DType::f32, DType::f64}) {
            const KernelSpec spec{parse_formula(text), {}, dtype};
            const Kernel k = compile_jit(spec);
            std::uint32_t seed = 7;
            for (Shape s : {Shape{17, 1}, Shape{3, 40}, Shape{7, 33}, Shape{2, 8}}) {
                if (dtype == DType::f32) {
                    check_spec<float>(spec, k, s, seed++);
                    check_spec<float>(spec, k, s, seed++, true);
                } else {
                    check_spec<double>(spec, k, s, seed++, true);
                }
            }
        }
    }
    // A Shared (uniform) divisor: a * (1/a) where a and 1/a are normal, the
    // division otherwise; both ways against the interpreter.
    const float inf = std::numeric_limits<float>::infinity();
    for (float a : {3.0f, -0.4f, 0.0f, -0.0f, 1e-40f, 1e38f, 2e-38f, inf, std::numeric_limits<float>::quiet_NaN()}) {
        INFO("x / a + exp(x) / a with a = " << a);
        KernelSpec spec{parse_formula("x / a + exp(x) / a"), {}, DType::f32};
        spec.params.push_back({"a", ParamKind::Shared, true, 1.0});
        const Kernel k = compile_jit(spec);
        for (std::uint32_t seed : {3u, 4u}) {
            KernelData<float> d = make_data<float>(spec, 9, 5, seed, seed == 4);
            d.params = {{a}};
            const std::string mismatch = check_against_reference(k, d, reference(spec, d));
            INFO(mismatch);
            CHECK(mismatch.empty());
        }
    }
    // The multiply really replaces the division where it may, and only there.
    auto ir = [](const char* text) {
        return Engine::global().emit(KernelSpec{parse_formula(text), {}, DType::f32}, EmitKind::llvm);
    };
    CHECK(ir("x / 6").find("fdiv") == std::string::npos);
    CHECK(ir("x / 1e-39").find("fdiv") != std::string::npos);
    CHECK(ir("x / 3e38").find("fdiv") != std::string::npos);
}

TEST_CASE("a / d for d >= 1: a reciprocal estimate on AVX-512, the interpreter's values", "[jit][div]") {
    // softsign's derivative 1 / (abs(x) + 1)^2, and others whose divisor is
    // at least 1 for every input (value_range, in jit/codegen.cpp), against the
    // interpreter with huge, inf and NaN inputs (d = +inf: a / inf = 0).
    for (const char* text : {"x / (abs(x) + 1)^2", "3 / (exp(x) + 1)", "softsign(x)", "x / ((abs(x) + 2) * (relu(x) + 1))",
                             "exp(x) / (-1 - abs(x))", "x / (1 + exp(-x))"}) {
        INFO("formula " << text);
        const KernelSpec spec{parse_formula(text), {}, DType::f32};
        const KernelSpec spec64{parse_formula(text), {}, DType::f64};
        const Kernel k = compile_jit(spec);
        const Kernel k64 = compile_jit(spec64);
        std::uint32_t seed = 40;
        for (Shape s : {Shape{17, 1}, Shape{3, 40}, Shape{7, 33}}) {
            check_spec<float>(spec, k, s, seed++);
            check_spec<float>(spec, k, s, seed++, true);
            check_spec<double>(spec64, k64, s, seed++, true);
        }
        const float inf = std::numeric_limits<float>::infinity();
        const KernelData<float> d = listed_data({0.0f, -0.0f, 1e20f, -3e38f, inf, -inf, 88.0f, 100.0f,
                                                 std::numeric_limits<float>::quiet_NaN(), 0.5f}, false);
        const std::string mismatch = check_against_reference(k, d, reference(spec, d));
        INFO(mismatch);
        CHECK(mismatch.empty());
    }
    // The estimate only where |divisor| >= 1 for every input, only for whole
    // 512-bit vectors (this host's code: an AVX-512 host has 16 floats, 8
    // doubles); the -ffast-math reciprocal is never taken instead.
    auto ir = [&](const char* text, DType dtype) {
        return Engine::global().emit(KernelSpec{parse_formula(text), {}, dtype}, EmitKind::llvm);
    };
    const bool avx512 = ir("x / (abs(x) + 1)^2", DType::f32).find("<16 x float>") != std::string::npos;
    CHECK((ir("x / (abs(x) + 1)^2", DType::f32).find("rcp14") != std::string::npos) == avx512);
    CHECK((ir("x / (abs(x) + 1)^2", DType::f64).find("rcp14") != std::string::npos) == avx512);
    CHECK((ir("x / (-1 - abs(x))", DType::f32).find("rcp14") != std::string::npos) == avx512);
    CHECK(ir("x / (abs(x) + 0.5)", DType::f32).find("rcp14") == std::string::npos);
    CHECK(ir("x / (x + 1)", DType::f32).find("rcp14") == std::string::npos);
    CHECK(ir("x / (abs(x) + 1)^2", DType::f32).find(" arcp ") == std::string::npos);
    // Only where the divider bounds the loop (plan_quotients): x / (1 + x*x)
    // does little else (the estimate: 2.1x), x / (1 + exp(-x))'s forward
    // keeps the vector ports busy with exp (the estimate: 0.93x), so it
    // divides, in its tail too (one decision per function: the same bits
    // everywhere); its backward divides twice by 1 + exp(-x), where one
    // estimate serves both (1.18x).
    CHECK((ir("x / (1 + x*x)", DType::f32).find("fdiv") == std::string::npos) == avx512);
    CHECK((ir("x / (1 + x*x)", DType::f64).find("fdiv") == std::string::npos) == avx512);
    const std::string exp_ir = ir("x / (1 + exp(-x))", DType::f32);
    const std::size_t bwd_at = exp_ir.find("define void @actjit_bwd");
    REQUIRE(bwd_at != std::string::npos);
    const std::string fwd_ir = exp_ir.substr(0, bwd_at), bwd_ir = exp_ir.substr(bwd_at);
    CHECK(fwd_ir.find("fdiv") != std::string::npos);
    CHECK(fwd_ir.find("rcp14") == std::string::npos);
    CHECK((bwd_ir.find("fdiv") == std::string::npos) == avx512);
    // A value gives the same bits in a full vector and in the masked tail.
    for (const char* text : {"x / (1 + x*x)", "x / (1 + exp(-x))", "softsign(x)", "x / (abs(x) + 1)^2"}) {
        INFO("formula " << text);
        const Kernel k = compile_jit(KernelSpec{parse_formula(text), {}, DType::f32});
        std::vector<float> x(47), y(47);
        for (std::size_t i = 0; i < 32; ++i) x[i] = 0.37f * static_cast<float>(i) - 5.1f;
        for (std::size_t i = 32; i < 47; ++i) x[i] = x[i - 32];
        k.forward(x.data(), y.data(), 1, 47);
        for (std::size_t i = 32; i < 47; ++i) CHECK(std::bit_cast<std::uint32_t>(y[i]) == std::bit_cast<std::uint32_t>(y[i - 32]));
    }
}

TEST_CASE("u^(w+1) next to u^w is computed from it, with pow's values", "[jit][pow]") {
    // prepu's backward needs relu(x)^q and relu(x)^(q+1); x^(a+1) likewise,
    // and x^a's backward x^a and x^(a-1). Dense data over a range of
    // exponents (Shared and PerFeature), then the edge cases one by one:
    // +-0 (from C's pow(+-0, w + 1)), subnormal and huge bases, +-inf, NaN
    // and negative bases (NaN where w + 1 is not an integer), NaN^0 = 1
    // (a = -1), and exponents that round to an integer once 1 is added or
    // taken away (a = +-1e-9: (-2)^(1 + 1e-9) is -2, (-2)^(1e-9) is NaN).
    for (const char* text : {"x^(a + 1)", "relu(x)^(softsign(a) + 1)", "abs(x)^(1 + a) + abs(x)^a", "x^a",
                             "relu(x)^a"}) {
        for (double a : {-2.0, -0.9, -0.4, 0.3, 1.0, 2.0}) {
            INFO("formula " << text << ", a around " << a);
            for (DType dtype : {DType::f32, DType::f64}) {
                for (ParamKind kind : {ParamKind::Shared, ParamKind::PerFeature}) {
                    KernelSpec spec{parse_formula(text), {}, dtype};
                    spec.params.push_back({"a", kind, true, a});
                    const Kernel k = compile_jit(spec);
                    std::uint32_t seed = 11;
                    for (Shape s : {Shape{17, 1}, Shape{5, 40}, Shape{33, 7}}) {
                        if (dtype == DType::f32)
                            check_spec<float>(spec, k, s, seed++);
                        else
                            check_spec<double>(spec, k, s, seed++);
                    }
                }
            }
        }
    }
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> xs = {0.0f, -0.0f, 1e-45f, 1e-38f, 0.5f, 1.0f, 2.0f, 1e10f, inf, -inf,
                                   std::numeric_limits<float>::quiet_NaN(), -2.0f, -0.5f, 3.0f, 0.0f, 7.0f};
    for (const char* text : {"x^(a + 1)", "relu(x)^(softsign(a) + 1)", "x^a", "relu(x)^a", "x^a + x^(a - 1)",
                             "x^(a + 1) + where(x < -100, x^a, 0)"}) {
        for (float a : {-0.5f, 0.5f, -1.0f, 1e-9f, -1e-9f}) {
            INFO("formula " << text << ", a = " << a);
            KernelSpec spec{parse_formula(text), {}, DType::f32};
            spec.params.push_back({"a", ParamKind::Shared, true, a});
            const Kernel k = compile_jit(spec);
            for (std::size_t skip : {std::size_t{0}, std::size_t{10}}) {  // with and without NaN, inf
                const KernelData<float> d =
                    listed_data({xs.begin() + static_cast<std::ptrdiff_t>(skip), xs.end()}, true, {{a}});
                const std::string mismatch = check_against_reference(k, d, reference(spec, d));
                INFO(mismatch);
                CHECK(mismatch.empty());
            }
        }
    }
    KernelSpec spec{parse_formula("x^(a + 1)"), {}, DType::f32};
    spec.params.push_back({"a", ParamKind::Shared, true, 0.5});
    const std::string ir = Engine::global().emit(spec, EmitKind::llvm);
    CHECK(ir.find("pow.slow") != std::string::npos);  // the backward's shared pow
}

TEST_CASE("u^(w+1) from u^w tests only the base where |w| is bounded", "[jit][pow]") {
    // prepu's exponent softsign(s) + 1 is w + 1 with |w| <= 1: relu(x)^(w+1)
    // is relu(x) * relu(x)^w for bases in [2^-125, 2^125], pow elsewhere
    // (2^62 for |w| <= 2). Bases at and beside those bounds, subnormal, huge,
    // inf and NaN, against exponents at the range's ends (softsign(+-1e30) is
    // +-1), inside it, and NaN, each per feature.
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> xs;
    for (int k : {62, 125}) {
        for (float f : {1.0f, 1.5f, 2.0f, 0.75f}) {
            xs.push_back(std::ldexp(f, k));
            xs.push_back(std::ldexp(f, -k));
        }
    }
    for (float v : {0.0f, 1e-45f, 1e-39f, 3.4e38f, inf, nan, 1.0f, 0.3f, -2.0f}) xs.push_back(v);
    const std::vector<float> as = {1e30f, -1e30f, 3.0f, -3.0f, 0.0f, 0.5f, nan};
    // Each formula with every rotation of the exponents over the bases.
    auto check_bases = [&]<class T>(const std::vector<T>& bases, DType dtype) {
        for (const char* text : {"relu(x)^(softsign(a) + 1)", "relu(x)^(2 * softsign(a) + 1)"}) {
            KernelSpec spec{parse_formula(text), {}, dtype};
            spec.params.push_back({"a", ParamKind::PerFeature, true, 0.0});
            const Kernel k = compile_jit(spec);
            for (std::size_t shift = 0; shift < as.size(); ++shift) {
                std::vector<T> a(bases.size());
                for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<T>(as[(i + shift) % as.size()]);
                INFO("formula " << text << (dtype == DType::f32 ? " (f32)" : " (f64)") << ", exponents shifted by "
                                << shift);
                const KernelData<T> d = listed_data(bases, false, {a});
                const std::string mismatch = check_against_reference(k, d, reference(spec, d));
                INFO(mismatch);
                CHECK(mismatch.empty());
            }
        }
    };
    check_bases(xs, DType::f32);
    // Doubles: 2^+-1021 for |w| <= 1, 2^+-510 for |w| <= 2.
    std::vector<double> xd;
    for (int k : {510, 1021}) {
        for (double f : {1.0, 1.5, 2.0, 0.75}) {
            xd.push_back(std::ldexp(f, k));
            xd.push_back(std::ldexp(f, -k));
        }
    }
    for (double v : {0.0, 5e-324, 1e-310, 1.7e308, double(inf), double(nan), 1.0, 0.3, -2.0}) xd.push_back(v);
    check_bases(xd, DType::f64);
    // The base test's bounds are in prepu's backward: 2^125 and 2^-125.
    const std::string ir = Engine::global().emit(KernelSpec::from_catalog(*find_activation("prepu")), EmitKind::llvm);
    CHECK(ir.find("0x47C0000000000000") != std::string::npos);
    CHECK(ir.find("0x3820000000000000") != std::string::npos);
    // The zero lanes' pow(+0, w) per feature is hoisted with the exponent:
    // forward w and pow(+0, w + 1); backward also pow(+0, w), the
    // exponent's test w + 1 == 0, and d/ds's divisor (abs(s) + 1)^2 (three
    // operations on s).
    const std::size_t bwd_at = ir.find("define void @actjit_bwd");
    REQUIRE(bwd_at != std::string::npos);
    auto buffers = [](std::string_view text) {  // lines "  %hoisted<N> = alloca ..."
        std::size_t n = 0;
        for (std::size_t at = text.find("\n  %hoisted"); at != std::string_view::npos;
             at = text.find("\n  %hoisted", at + 1))
            n += text.substr(at, text.find('\n', at + 1) - at).find("= alloca") != std::string_view::npos;
        return n;
    };
    CHECK(buffers(std::string_view(ir).substr(0, bwd_at)) == 2);
    CHECK(buffers(std::string_view(ir).substr(bwd_at)) == 6);
}

TEST_CASE("u^0 made from u * u^-1 is 1 exactly", "[jit][pow]") {
    // The derivative of clamp(x, 0, 3)^(a^x) has a^x * clamp(x, 0, 3)^(a^x - 1),
    // and a^x is made from a * a^(x - 1) (d/da needs that one): at x = 0 the
    // product was 1 - 2^-24 for this a, and 0^(-2^-24) is inf, not 0^0 = 1.
    // Found by a soak run of the random-formula tests.
    const float a = 0.971845806f;
    for (bool compact : {true, false}) {
        JitOptions o;
        o.compact_lanes = compact;
        KernelSpec spec{parse_formula("clamp(x, 0, 3)^(a^x)"), {}, DType::f32};
        spec.params.push_back({"a", ParamKind::Shared, true, 0.5});
        const Kernel k = compile_jit(spec, o);
        const KernelData<float> d =
            listed_data({0.0f, -0.370799154f, 0.1f, 0.1f, 0.0f, 0.190823168f, 0.0f, 0.777743578f, 0.0f}, false, {{a}});
        const std::string mismatch = check_against_reference(k, d, reference(spec, d));
        INFO("compact_lanes " << compact << ": " << mismatch);
        CHECK(mismatch.empty());
        std::vector<float> dx(d.x.size());
        float ga = 0;
        const float* params[] = {&a};
        float* grads[] = {&ga};
        k.backward(d.x.data(), d.dy.data(), dx.data(), d.rows, d.cols, params, grads);
        CHECK(dx[0] == 1.0f);  // d/dx at x = 0: 1 * 0^0 * 1
        CHECK(dx[4] == 1.0f);
    }
}

TEST_CASE("x^-n for a huge x is the subnormal or tiny number, not 1 / inf", "[jit][pow]") {
    // 1 / x^n overflows in x^n where (1 / x)^n is still a number: x = 1e13,
    // n = 3 in float is 1e-39, not 0 (and 0^(x^-3) then 1, not 0: found by a
    // soak run). Lanes beside them keep 1 / x^n: 10^-2 is 0.01 exactly.
    const float inf = std::numeric_limits<float>::infinity();
    for (const char* text : {"x^-3", "x^-2", "x^-5"}) {
        KernelSpec spec = KernelSpec::fixed(parse_formula(text), DType::f32);
        const Kernel k = compile_jit(spec);
        const KernelData<float> d = listed_data({1e13f, 10.0f, -1e13f, 2.0f, 1e20f, 3e-13f, 0.0f, -0.0f, inf, -inf, 1e-20f,
                                                 7.0f, 1e30f, -3.0f, 0.5f, std::numeric_limits<float>::quiet_NaN(), 3e12f},
                                                true);
        INFO("formula " << text);
        const std::string mismatch = check_against_reference(k, d, reference(spec, d));
        INFO(mismatch);
        CHECK(mismatch.empty());
        std::vector<float> y(d.x.size());
        k.forward(d.x.data(), y.data(), d.rows, d.cols);
        for (std::size_t i = 0; i < d.x.size(); ++i) {
            const double want = std::pow(static_cast<double>(d.x[i]), spec.formula.body.arg(1).value());
            INFO("x = " << d.x[i]);
            if (std::isnan(want))
                CHECK(std::isnan(y[i]));
            else if (std::fabs(want) < 1e-36 && want != 0)  // subnormal or tiny: a few ulp of the subnormal grid
                CHECK(std::fabs(y[i] - want) <= 4 * 1.4e-45 + 1e-6 * std::fabs(want));
            else
                CHECK(y[i] == Approx(static_cast<float>(want)).epsilon(1e-6));
        }
        if (std::string(text) == "x^-2") CHECK(y[1] == 0.01f);
    }
    // f64: 1e160^-2 is 1e-320 (subnormal), not 0.
    const Kernel k64 = compile_jit(KernelSpec::fixed(parse_formula("x^-2"), DType::f64));
    const double x64[] = {1e160, 10.0, 3.0, 1e-100};
    double y64[4];
    k64.forward(x64, y64, 4, 1);
    CHECK(y64[0] > 0);
    CHECK(y64[0] == Approx(1e-320).epsilon(1e-3));
    CHECK(y64[1] == 0.01);
    CHECK(y64[3] == Approx(1e200));
}

TEST_CASE("min, max and clamp break ties as the interpreter does: +-0 keep the first operand", "[jit][minmax]") {
    // nan_min(a, b) = b < a ? b : a: max(-0, 0) is -0 and max(0, -0) is +0;
    // the sign then shows in pow(-0, -1) = -inf (found by a soak run: the JIT
    // returned the second operand, +inf there).
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (const char* text : {"max(x, 0)", "max(0, x)", "min(x, 0)", "min(0, x)", "clamp(x, 0, 3)", "clamp(x, -1, 0)",
                             "max(x, 0)^-1", "max(0, x)^-1", "clamp(x, 0, 3)^-3", "max(x, 0)^(a - 2)",
                             "clamp(x * a, 0, 3)^(a - 2)", "max(x, a)", "min(a, x)"}) {
        for (bool compact : {true, false}) {
            JitOptions o;
            o.compact_lanes = compact;
            KernelSpec spec{parse_formula(text), {}, DType::f32};
            if (!spec.formula.params.empty()) spec.params.push_back({"a", ParamKind::Shared, true, 0.0});
            const Kernel k = compile_jit(spec, o);
            const KernelData<float> d =
                listed_data({-0.0f, 0.0f, -0.0f, 1.0f, -1.0f, nan, -0.0f, 0.0f, 2.0f, -0.0f, -0.0f}, false,
                            spec.formula.params.empty() ? std::vector<std::vector<float>>{} : std::vector<std::vector<float>>{{-0.0f}});
            const Reference r = reference(spec, d);
            std::vector<float> y(d.x.size());
            std::vector<const float*> params;
            for (const auto& p : d.params) params.push_back(p.data());
            k.forward(d.x.data(), y.data(), d.rows, d.cols, params);
            for (std::size_t i = 0; i < y.size(); ++i) {
                INFO(text << " at x = " << d.x[i] << ", compact_lanes " << compact << ": got " << y[i] << ", want "
                          << r.y[i]);
                if (std::isnan(r.y[i])) {
                    CHECK(std::isnan(y[i]));
                } else {
                    CHECK(static_cast<double>(y[i]) == r.y[i]);
                    CHECK(std::signbit(y[i]) == std::signbit(r.y[i]));
                }
            }
        }
    }
}

TEST_CASE("streaming (non-temporal) stores give the same bits, aligned or not", "[jit][stream]") {
    // The streaming path stores full vectors whose address is aligned to the
    // vector with !nontemporal and everything else as usual: forward and
    // backward outputs and gradients must be bitwise those of the normal path.
    const std::int64_t saved = streaming_threshold();
    std::vector<float> storage(4 * 4096 + 64);
    float* base = storage.data() + (16 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64 / 4) % 16;  // 64-byte aligned
    for (const char* name : {"silu", "prepu", "soft_exponential", "relu"}) {
        for (int width : {0, 1, 4, 32}) {  // host (16 or 8), scalar, SSE-sized, wider than a register
            const Activation* a = find_activation(name);
            REQUIRE(a);
            const KernelSpec spec = KernelSpec::from_catalog(*a, DType::f32);
            JitOptions options;
            options.vector_width = width;
            const Kernel k = compile_jit(spec, options);
            for (std::ptrdiff_t misalign : {0, 1, 5}) {  // in floats from the aligned base
                INFO(name << ", width " << width << ", output misaligned by " << misalign << " floats");
                const std::int64_t rows = 37, cols = 53;  // rows shape, odd tails
                const auto d = make_data<float>(spec, rows, cols, 5, true);
                std::vector<const float*> p;
                for (const auto& v : d.params) p.push_back(v.data());
                std::vector<float> y_plain(d.x.size()), dx_plain(d.x.size());
                std::vector<std::vector<float>> g_plain, g_stream;
                for (const auto& v : d.params) g_plain.emplace_back(v.size()), g_stream.emplace_back(v.size());
                std::vector<float*> gp, gs;
                for (auto& v : g_plain) gp.push_back(v.data());
                for (auto& v : g_stream) gs.push_back(v.data());
                const std::size_t trainable = spec.trainable_params().size();
                gp.resize(trainable);
                gs.resize(trainable);
                set_streaming_threshold(-1);
                k.forward(d.x.data(), y_plain.data(), rows, cols, p);
                k.backward(d.x.data(), d.dy.data(), dx_plain.data(), rows, cols, p, gp);
                set_streaming_threshold(0);
                float* y = base + misalign;
                float* dx = base + 2 * 4096 + misalign;
                k.forward(d.x.data(), y, rows, cols, p);
                k.backward(d.x.data(), d.dy.data(), dx, rows, cols, p, gs);
                CHECK(std::memcmp(y, y_plain.data(), y_plain.size() * sizeof(float)) == 0);
                CHECK(std::memcmp(dx, dx_plain.data(), dx_plain.size() * sizeof(float)) == 0);
                for (std::size_t g = 0; g < trainable; ++g)
                    CHECK(std::memcmp(g_stream[g].data(), g_plain[g].data(), g_plain[g].size() * sizeof(float)) == 0);
            }
        }
    }
    set_streaming_threshold(saved);
    // The code has the non-temporal stores and the fence they need.
    const std::string ir = Engine::global().emit(KernelSpec::fixed(parse_formula("relu(x)"), DType::f32), EmitKind::llvm);
    CHECK(ir.find("!nontemporal") != std::string::npos);
    CHECK(ir.find("fence seq_cst") != std::string::npos);
}

// ---- random formulas ----------------------------------------------------------

namespace {

/// A random expression over x, a (runtime), the feature index and constants.
Expr random_expr(std::mt19937& rng, int depth) {
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    if (depth == 0 || pick(4) == 0) {
        switch (pick(5)) {
        case 0: return constant(std::ldexp(static_cast<double>(pick(17)) - 8, -pick(3)));
        case 1: return param("a");
        case 2: return feature_index();
        default: return input();
        }
    }
    static const Op unary[] = {Op::Neg,  Op::Exp,   Op::Log,     Op::Sqrt,    Op::Abs,     Op::Sign,     Op::Floor,
                               Op::Sin,  Op::Cos,   Op::Tanh,    Op::Sigmoid, Op::Softplus, Op::Softsign, Op::Relu,
                               Op::Expm1, Op::Log1p, Op::Atan,   Op::Erf,     Op::Cbrt,    Op::Not,      Op::Exp2};
    static const Op binary[] = {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Pow, Op::Lt, Op::Ge, Op::Eq,
                                Op::And, Op::Or,  Op::Min, Op::Max, Op::Mod};
    switch (pick(3)) {
    case 0: return make(unary[pick(static_cast<int>(std::size(unary)))], {random_expr(rng, depth - 1)});
    case 1: {
        const Op op = binary[pick(static_cast<int>(std::size(binary)))];
        Expr b = op == Op::Pow && pick(2) ? constant(pick(7) - 3) : random_expr(rng, depth - 1);
        return make(op, {random_expr(rng, depth - 1), b});
    }
    default:
        if (pick(2)) return make(Op::Where, {random_expr(rng, depth - 1), random_expr(rng, depth - 1), random_expr(rng, depth - 1)});
        return make(Op::Clamp, {random_expr(rng, depth - 1), constant(-1), constant(2)});
    }
}

/// A soak run (docs/BUILDING.md): ACTJIT_RANDOM_SEED and ACTJIT_RANDOM_TRIALS
/// replace a random test's fixed seed and trial count.
unsigned random_env(const char* name, unsigned fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    const unsigned long n = std::strtoul(v, &end, 10);
    return *end == '\0' ? static_cast<unsigned>(n) : fallback;
}

/// `body` with every parameter trainable, Shared and then PerFeature, in f64
/// for odd trials: each kernel against the interpreter on `shapes`. Returns
/// the two specs.
std::vector<KernelSpec> check_random_formula(const Expr& body, int trial, std::initializer_list<Shape> shapes) {
    Formula f;
    f.body = body;
    for (const auto& name : params_of(body)) f.params.push_back({name, 0.5});
    INFO("formula " << to_string(body));
    std::vector<KernelSpec> specs;
    for (ParamKind kind : {ParamKind::Shared, ParamKind::PerFeature}) {
        KernelSpec spec{f, {}, trial % 2 ? DType::f64 : DType::f32};
        for (const auto& p : f.params) spec.params.push_back({p.name, kind, true, 0.5});
        const Kernel k = compile_jit(spec);
        // A soak run may add inf, NaN, huge, tiny and subnormal inputs.
        const bool specials = random_env("ACTJIT_RANDOM_SPECIALS", 0) != 0;
        for (Shape s : shapes) {
            if (spec.dtype == DType::f32)
                check_spec<float>(spec, k, s, static_cast<std::uint32_t>(trial), specials);
            else
                check_spec<double>(spec, k, s, static_cast<std::uint32_t>(trial), specials);
        }
        specs.push_back(std::move(spec));
    }
    return specs;
}


}  // namespace

TEST_CASE("random formulas match the interpreter", "[jit][random]") {
    std::mt19937 rng(random_env("ACTJIT_RANDOM_SEED", 2024));
    const int trials = static_cast<int>(random_env("ACTJIT_RANDOM_TRIALS", 60));
    for (int trial = 0; trial < trials; ++trial)
        check_random_formula(random_expr(rng, 4), trial, {Shape{17, 1}, Shape{3, 5}, Shape{4, 8}});
}

TEST_CASE("SSE2 and AVX2 code: plain loop body and a masked tail", "[jit][width][cpu]") {
    for (const char* cpu : {"x86-64", "haswell"}) {
        INFO("cpu " << cpu);
        JitOptions o;
        o.cpu = cpu;
        for (const char* name : {"prepu", "brelu", "gelu", "soft_exponential", "expolu"}) {
            INFO("activation " << name);
            const auto spec32 = KernelSpec::from_catalog(*find_activation(name), DType::f32);
            const auto spec64 = KernelSpec::from_catalog(*find_activation(name), DType::f64);
            Kernel k32, k64;
            try {
                k32 = compile_jit(spec32, o);
                k64 = compile_jit(spec64, o);
            } catch (const ValueError& e) {
                // Only acceptable reason: this host cannot run that CPU's code.
                CHECK_THAT(e.what(), Catch::Contains("which this host lacks"));
                continue;
            }
            std::uint32_t seed = 300;
            for (Shape s : kShapes) {
                check_spec<float>(spec32, k32, s, seed++);
                check_spec<double>(spec64, k64, s, seed++);
            }
        }
    }
}

TEST_CASE("random formulas with pows of relu-like bases match the interpreter across chunks", "[jit][random][compact]") {
    // Lane compaction and column hoisting run the loops in chunks of 512
    // floats: a long row (three chunks), rows that fill a chunk and a half,
    // the tiled shape over five chunks; bases of every relu-like kind, a
    // random exponent in [-1, 2], and a random formula beside them.
    std::mt19937 rng(random_env("ACTJIT_RANDOM_SEED", 77));
    const int trials = static_cast<int>(random_env("ACTJIT_RANDOM_TRIALS", 24));
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    const std::string host = Engine::global().target_description();
    const bool avx2 = host.find("avx2") != std::string::npos || host.find("avx512") != std::string::npos;
    int compacted = 0;
    for (int trial = 0; trial < trials; ++trial) {
        const Expr v = random_expr(rng, 2);
        Expr base;
        switch (pick(4)) {
        case 0: base = make(Op::Relu, {v}); break;
        case 1: base = make(Op::Max, {v, constant(0)}); break;
        case 2: base = make(Op::Clamp, {v, constant(0), constant(3)}); break;
        default: base = make(Op::Where, {make(Op::Lt, {input(), constant(0.5)}), constant(0), v}); break;
        }
        const Expr w = make(Op::Clamp, {random_expr(rng, 2), constant(-1), constant(2)});
        const Expr body = make(Op::Add, {make(Op::Pow, {base, w}), random_expr(rng, 2)});
        const auto specs = check_random_formula(body, trial, {Shape{1, 1100}, Shape{70, 9}, Shape{600, 4}});
        compacted += compacts_lanes(Engine::global().emit(specs.back(), EmitKind::llvm));
    }
    // Most of them compact (the others' exponent folds to a constant).
    INFO("compacted kernels: " << compacted << " of " << trials);
    if (avx2) CHECK(compacted >= trials / 2);
}
