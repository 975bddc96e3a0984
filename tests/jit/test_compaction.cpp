// Lane compaction (docs/JIT.md): pow(u, w) with a zero-prone base computed on
// packed lanes gives the bits the unpacked kernel gives, and the values the
// reference interpreter gives, across chunk boundaries, every loop shape and
// the vector widths that compact; and it is used exactly where it applies.
#include "jit_test_util.hpp"

#include <actjit/catalog.hpp>
#include <actjit/formula.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>

using namespace actjit;
using namespace actjit::test;

namespace {

bool host_has_avx2() {
    const std::string t = Engine::global().target_description();
    return t.find("avx2") != std::string::npos || t.find("avx512") != std::string::npos;
}

/// Equal bits, or both NaN.
template <class T>
bool same(T a, T b) {
    if (std::isnan(a) && std::isnan(b)) return true;
    return std::memcmp(&a, &b, sizeof a) == 0;
}

/// Many exact zeros and -0 (the lanes that are not packed), every kind of
/// lane pattern, and the special values.
template <class T>
void zero_heavy(KernelData<T>& d, std::uint32_t seed) {
    std::mt19937 rng(seed);
    for (auto& v : d.x) {
        const auto pick = rng() % 8;
        if (pick == 0) v = T(0);
        if (pick == 1) v = -T(0);
        if (pick == 2) v = -v;
    }
}

struct Case {
    const char* formula;
    ParamKind kind;
    double value;  // around which the parameters are drawn
};

template <class T>
void check_case(const Case& c, DType dtype, int width, std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
    KernelSpec spec{parse_formula(c.formula), {}, dtype};
    for (const ParamDecl& p : spec.formula.params) spec.params.push_back({p.name, c.kind, true, c.value});
    JitOptions packed, plain;
    packed.vector_width = plain.vector_width = width;
    plain.compact_lanes = false;
    const Kernel kp = compile_jit(spec, packed);
    const Kernel ku = compile_jit(spec, plain);
    INFO("formula " << c.formula << ", width " << width << ", shape " << rows << " x " << cols);

    // The values of the reference interpreter (finite inputs: huge bases
    // overflow float gradient sums that the double reference keeps).
    auto r = make_data<T>(spec, rows, cols, seed, false);
    zero_heavy(r, seed + 1);
    const std::string mismatch = check_against_reference(kp, r, reference(spec, r));
    INFO(mismatch);
    CHECK(mismatch.empty());

    // The bits of the kernel that does not compact, special values too.
    auto d = make_data<T>(spec, rows, cols, seed + 2, true);
    zero_heavy(d, seed + 3);
    const auto n = d.x.size();
    std::vector<const T*> params;
    for (const auto& p : d.params) params.push_back(p.data());
    std::vector<T> yp(n), yu(n), dxp(n), dxu(n);
    kp.forward(d.x.data(), yp.data(), rows, cols, params);
    ku.forward(d.x.data(), yu.data(), rows, cols, params);
    std::vector<std::vector<T>> gp, gu;
    std::vector<T*> gpp, gup;
    for (const ParamBinding* b : spec.trainable_params()) {
        const auto len = static_cast<std::size_t>(b->kind == ParamKind::PerFeature ? cols : 1);
        gp.emplace_back(len);
        gu.emplace_back(len);
    }
    for (std::size_t g = 0; g < gp.size(); ++g) {
        gpp.push_back(gp[g].data());
        gup.push_back(gu[g].data());
    }
    kp.backward(d.x.data(), d.dy.data(), dxp.data(), rows, cols, params, gpp);
    ku.backward(d.x.data(), d.dy.data(), dxu.data(), rows, cols, params, gup);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += !same(yp[i], yu[i]) + !same(dxp[i], dxu[i]);
    for (std::size_t g = 0; g < gp.size(); ++g)
        for (std::size_t j = 0; j < gp[g].size(); ++j) bad += !same(gp[g][j], gu[g][j]);
    CHECK(bad == 0);
}

}  // namespace

TEST_CASE("compacted pows give the unpacked kernel's bits and the reference's values", "[jit][compact]") {
    const Case cases[] = {
        {"relu(x)^(softsign(s) + 1)", ParamKind::PerFeature, 0.5},  // prepu: pow, u * pow, log(u)
        {"relu(x)^p", ParamKind::Shared, 1.3},                        // uniform exponent: not packed
        {"max(x, 0)^(p * p + 0.5)", ParamKind::PerFeature, 0.7},
        {"where(x < 0.5, 0, x - 0.5)^p + clamp(x, 0, 2)^q", ParamKind::PerFeature, 1.5},  // two compacted pows
        {"where(x > 1, x, 0)^p * log(where(x > 1, x, 0))", ParamKind::Shared, -0.6},      // negative exponent
    };
    // Tiled (cols dividing 8), rows of one chunk or several per chunk, rows
    // longer than a chunk, one long row, chunk boundaries +-1.
    struct Sh {
        std::int64_t rows, cols;
    };
    // (The forward's chunks are 512 floats, the backward's 384.)
    const Sh shapes[] = {{1, 1},   {1, 7},    {3, 17},  {130, 4}, {40, 64}, {9, 57},
                         {2, 600}, {1, 1025}, {171, 3}, {1, 513}, {1, 385}, {5, 383}};
    std::uint32_t seed = 100;
    for (const Case& c : cases)
        for (const Sh s : shapes) {
            for (int w : {0, 8, 16}) check_case<float>(c, DType::f32, w, s.rows, s.cols, seed++);
            for (int w : {0, 4, 8}) check_case<double>(c, DType::f64, w, s.rows, s.cols, seed++);
        }
}

TEST_CASE("lane compaction is used where it applies and only there", "[jit][compact]") {
    auto ir = [](const char* text, JitOptions o = {}) {
        KernelSpec spec{parse_formula(text), {}, DType::f32};
        for (const ParamDecl& p : spec.formula.params) spec.params.push_back({p.name, ParamKind::PerFeature, true, 0.5});
        return Engine::global().emit(spec, EmitKind::llvm, o);
    };
    auto compacts = [](const std::string& code) { return compacts_lanes(code); };
    auto tables = [](const std::string& code) { return code.find("actjit_lane_compress") != std::string::npos; };
    JitOptions off;
    off.compact_lanes = false;
    JitOptions sse2;
    sse2.cpu = "x86-64";
    if (!host_has_avx2()) {
        // Without AVX2 nothing compacts (vpermps is AVX2).
        CHECK_FALSE(compacts(ir("relu(x)^s")));
        return;
    }
    CHECK(compacts(ir("relu(x)^(softsign(s) + 1)")));
    CHECK(compacts(ir("where(x < 0, 0, x)^s")));
    // With AVX-512 a zmm compacts with vcompressps and vexpandps, 256-bit
    // vectors (8 lanes) with the tables; AVX2 always with the tables.
    const bool avx512 = Engine::global().target_description().find("avx512") != std::string::npos;
    JitOptions ymm;
    ymm.vector_width = 8;
    CHECK(tables(ir("relu(x)^(softsign(s) + 1)")) == !avx512);
    CHECK(tables(ir("relu(x)^(softsign(s) + 1)", ymm)));
    CHECK(compacts(ir("relu(x)^(softsign(s) + 1)", ymm)));
    CHECK_FALSE(compacts(ir("relu(x)^(softsign(s) + 1)", off)));
    CHECK_FALSE(compacts(ir("relu(x)^s", sse2)));      // 128-bit vectors
    // Another AVX2 CPU by name: its features go into the code, so it
    // compacts and takes the AVX2 vector math (no libmvec pow called).
    JitOptions haswell;
    haswell.cpu = "haswell";
    std::string hw;
    try {
        hw = ir("relu(x)^(softsign(s) + 1)", haswell);
    } catch (const ValueError& e) {
        CHECK_THAT(e.what(), Catch::Contains("which this host lacks"));  // the only acceptable reason
    }
    if (!hw.empty()) {
        CHECK(tables(hw));
        CHECK(hw.find("\"target-cpu\"=\"haswell\"") != std::string::npos);
        CHECK(hw.find("+avx2") != std::string::npos);
        CHECK(hw.find("-avx512f") != std::string::npos);
        CHECK(hw.find("_ZGV") == std::string::npos);  // the inline AVX2 pow, not libmvec
    }
    CHECK_FALSE(compacts(ir("abs(x)^s")));             // the base is rarely 0
    CHECK_FALSE(compacts(ir("relu(x)^2.5 + s * x")));  // a constant exponent
    JitOptions f64_narrow;
    f64_narrow.vector_width = 2;
    KernelSpec spec{parse_formula("relu(x)^s"), {{"s", ParamKind::PerFeature, true, 0.5}}, DType::f64};
    CHECK_FALSE(compacts(Engine::global().emit(spec, EmitKind::llvm, f64_narrow)));  // 128 bits of doubles
}

TEST_CASE("column hoisting takes costly column-only nodes, and only those", "[jit][hoist]") {
    // In the rows shape, what depends on the column but not on x is computed
    // once per chunk of columns into a buffer, where computing it costs more
    // than loading it.
    auto hoists = [](const char* text) {
        KernelSpec spec{parse_formula(text), {}, DType::f32};
        for (const ParamDecl& p : spec.formula.params) spec.params.push_back({p.name, ParamKind::PerFeature, true, 0.5});
        return Engine::global().emit(spec, EmitKind::llvm).find("%hoisted") != std::string::npos;
    };
    CHECK(hoists("relu(x)^(softsign(s) + 1)"));  // prepu: softsign(s) + 1
    CHECK(hoists("x * exp(s)"));
    CHECK(hoists("x / sqrt(s * s + 1)"));
    CHECK_FALSE(hoists("x * s * s + x"));        // a multiply is cheaper than a load
    CHECK_FALSE(hoists("where(mod(feature, 2) == 0, relu(x), -relu(-x))"));  // brelu: a lane pattern
    CHECK_FALSE(hoists("x * s"));
    CHECK(hoists("x / (abs(s) + 1)^2"));           // three operations on s: a load is cheaper
    CHECK_FALSE(hoists("x * (abs(s) + 1)"));       // two are not
    // Their values: hoisted and not, against the reference (rows of 3, 17,
    // 600 and 1025 columns, so chunks of several rows and pieces of a row).
    for (const char* text :
         {"x * exp(s)", "x / sqrt(s * s + 1) + where(softsign(s) > 0.3, x, -x)", "x / (abs(s) + 1)^2 - x * s"}) {
        KernelSpec spec{parse_formula(text), {}, DType::f32};
        for (const ParamDecl& p : spec.formula.params) spec.params.push_back({p.name, ParamKind::PerFeature, true, 0.5});
        const Kernel k = compile_jit(spec);
        std::uint32_t seed = 500;
        for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{200, 3}, {9, 17}, {3, 600}, {2, 1025}}) {
            INFO("formula " << text << ", shape " << rows << " x " << cols);
            const auto d = make_data<float>(spec, rows, cols, seed++);
            const std::string mismatch = check_against_reference(k, d, reference(spec, d));
            INFO(mismatch);
            CHECK(mismatch.empty());
        }
    }
}
