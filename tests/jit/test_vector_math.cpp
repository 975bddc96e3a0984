// Accuracy of the JIT's vector math (jit/vector_math.cpp) through the public
// API: every transcendental builtin compiled as `op(x)`, float32 and float64,
// every vector width, on dense samples over the whole float range plus the
// special values, compared in ulps with a long double reference.
#include <actjit/formula.hpp>
#include <actjit/jit.hpp>
#include <actjit/kernel.hpp>

#include <catch2/catch.hpp>

#include <bit>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using actjit::DType;

long double reference(const std::string& op, long double x) {
    if (op == "exp") return std::exp(x);
    if (op == "exp2") return std::exp2(x);
    if (op == "expm1") return std::expm1(x);
    if (op == "log") return std::log(x);
    if (op == "log2") return std::log2(x);
    if (op == "log10") return std::log10(x);
    if (op == "log1p") return std::log1p(x);
    if (op == "sin") return std::sin(x);
    if (op == "cos") return std::cos(x);
    if (op == "tan") return std::tan(x);
    if (op == "asin") return std::asin(x);
    if (op == "acos") return std::acos(x);
    if (op == "atan") return std::atan(x);
    if (op == "sinh") return std::sinh(x);
    if (op == "cosh") return std::cosh(x);
    if (op == "tanh") return std::tanh(x);
    if (op == "asinh") return std::asinh(x);
    if (op == "acosh") return std::acosh(x);
    if (op == "atanh") return std::atanh(x);
    if (op == "erf") return std::erf(x);
    if (op == "erfc") return std::erfc(x);
    if (op == "cbrt") return std::cbrt(x);
    if (op == "softsign") return std::isinf(x) ? std::copysign(1.0L, x) : x / (1 + std::fabs(x));
    if (op == "sigmoid") return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
    if (op == "softplus") return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    FAIL("no reference for " << op);
    return 0;
}

const char* const kUnary[] = {"exp",  "exp2",  "expm1", "log",   "log2",  "log10", "log1p",   "sin",
                              "cos",  "tan",   "asin",  "acos",  "atan",  "sinh",  "cosh",    "tanh",
                              "asinh", "acosh", "atanh", "erf",  "erfc",  "cbrt",  "sigmoid", "softplus",
                              "softsign"};

/// Distance in ulps between `got` and the correctly rounded value of `ref`
/// (counting representable numbers between them; +-0 are one number).
/// NaN against NaN is 0, NaN against a number is "infinitely" far.
template <class T>
double ulps(T got, long double ref) {
    using I = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
    const T want = static_cast<T>(ref);
    if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got) ? 0 : HUGE_VAL;
    if (got == want) return 0;
    auto ord = [](T v) {
        I i;
        std::memcpy(&i, &v, sizeof v);
        return i < 0 ? static_cast<long double>(std::numeric_limits<I>::min()) - i : static_cast<long double>(i);
    };
    return static_cast<double>(std::fabs(ord(got) - ord(want)));
}

/// Dense samples: a stride through every bit pattern (all magnitudes, both
/// signs, subnormals, NaNs), uniform values where the functions bend, and the
/// special values and thresholds.
template <class T>
std::vector<T> samples() {
    std::vector<T> v;
    if constexpr (sizeof(T) == 4) {
        for (std::uint64_t bits = 0; bits < (std::uint64_t{1} << 32); bits += 40009) {
            const auto u = static_cast<std::uint32_t>(bits);
            float f;
            std::memcpy(&f, &u, 4);
            v.push_back(f);
        }
    } else {
        std::mt19937_64 rng(11);
        for (int i = 0; i < 100000; ++i) {
            const std::uint64_t u = rng();
            double d;
            std::memcpy(&d, &u, 8);
            v.push_back(d);
        }
    }
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> narrow(-1.5, 1.5), mid(-12, 12), wide(-800, 800);
    for (int i = 0; i < 20000; ++i) {
        v.push_back(static_cast<T>(narrow(rng)));
        v.push_back(static_cast<T>(mid(rng)));
        v.push_back(static_cast<T>(wide(rng)));
    }
    using L = std::numeric_limits<T>;
    const double specials[] = {0.0, -0.0, HUGE_VAL, -HUGE_VAL, std::nan(""), 1.0, -1.0, 0.5, 2.0, 3.92, 9.0, 10.0,
                               88.72283, 88.7229, 89.0, 89.5, -87.33654, -103.97208, -104.0, 709.78, 709.79,
                               -745.13, -745.14, 1e-30, -1e-30, 1e30, -1e30, 1.8446744e19, -1.8446744e19};
    for (double s : specials) v.push_back(static_cast<T>(s));
    for (T s : {L::max(), L::lowest(), L::min(), -L::min(), L::denorm_min(), -L::denorm_min(), L::epsilon()})
        v.push_back(s);
    return v;
}

template <class T>
void check_unary(const std::string& op, int width) {
    constexpr DType dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
    actjit::JitOptions options;
    options.vector_width = width;
    const actjit::Kernel k = actjit::compile_jit(
        actjit::KernelSpec::fixed(actjit::parse_formula(op + "(x)"), dtype), options);
    const std::vector<T> x = samples<T>();
    std::vector<T> y(x.size());
    // One row: the whole array goes through the vector loop and one tail.
    k.forward(x.data(), y.data(), 1, static_cast<std::int64_t>(x.size()));
    double worst = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double d = ulps<T>(y[i], reference(op, x[i]));
        if (d > worst) worst = d, at = i;
    }
    INFO(op << (sizeof(T) == 4 ? " f32" : " f64") << " width " << width << ": worst " << worst << " ulp at x = "
            << static_cast<double>(x[at]) << ", got " << static_cast<double>(y[at]) << ", want "
            << static_cast<double>(reference(op, x[at])));
    CHECK(worst <= 4);
}

}  // namespace

TEST_CASE("vector math: float32 unary builtins within 4 ulp at every width", "[jit][vmath]") {
    for (const char* op : kUnary)
        for (int width : {0, 4, 8, 16}) check_unary<float>(op, width);
}

TEST_CASE("vector math: float64 unary builtins within 4 ulp at every width", "[jit][vmath]") {
    for (const char* op : kUnary)
        for (int width : {0, 2, 4, 8}) check_unary<double>(op, width);
}

TEST_CASE("vector math: float32 erf with AVX2 or AVX-512 takes its register tables, within 1 ulp", "[jit][vmath]") {
    // Every 61st float of [0, 4.5) and its negation, plus the neighbours of
    // each interval boundary i/4 (where the table index changes) and 4.
    std::vector<float> xs;
    for (std::uint32_t b = 0; b < std::bit_cast<std::uint32_t>(4.5f); b += 61) {
        xs.push_back(std::bit_cast<float>(b));
        xs.push_back(-std::bit_cast<float>(b));
    }
    for (int i = 1; i <= 16; ++i) {
        float v = static_cast<float>(i) / 4;
        for (int k = 0; k < 3; ++k) v = std::nextafter(v, 0.0f);
        for (int k = 0; k < 6; ++k, v = std::nextafter(v, 5.0f)) xs.push_back(v);
    }
    for (float v : {0.0f, -0.0f, HUGE_VALF, -HUGE_VALF, std::nanf(""), 1e-45f, 3.92f, 1e30f}) xs.push_back(v);
    const std::string host = actjit::Engine::global().target_description();
    const bool avx512 = host.find("avx512") != std::string::npos;
    const bool avx2 = avx512 || host.find("avx2") != std::string::npos;
    // 16-entry tables for whole 512-bit vectors with AVX-512, else 8-entry
    // ones for whole 256-bit vectors with AVX2; `haswell`: AVX2 alone.
    struct Case {
        int width;
        const char* cpu;
    };
    for (Case c : {Case{8, ""}, Case{16, ""}, Case{32, ""}, Case{0, "haswell"}}) {
        if (*c.cpu != '\0' && !avx2) continue;  // a CPU the host cannot run
        actjit::JitOptions options;
        options.vector_width = c.width;
        options.cpu = c.cpu;
        const auto spec = actjit::KernelSpec::fixed(actjit::parse_formula("erf(x)"), DType::f32);
        const std::string ir = actjit::Engine::global().emit(spec, actjit::EmitKind::llvm, options);
        INFO("width " << c.width << " cpu '" << c.cpu << "'");
        const bool zmm = avx512 && c.width % 16 == 0 && *c.cpu == '\0';
        CHECK((ir.find("llvm.x86.avx512.permvar.sf.512") != std::string::npos) == zmm);
        CHECK((ir.find("llvm.x86.avx2.permps") != std::string::npos) == (avx2 && !zmm));
        const actjit::Kernel k = actjit::compile_jit(spec, options);
        std::vector<float> y(xs.size());
        k.forward(xs.data(), y.data(), 1, static_cast<std::int64_t>(xs.size()));
        double worst = 0;
        std::size_t at = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double d = ulps<float>(y[i], std::erf(static_cast<long double>(xs[i])));
            if (d > worst) worst = d, at = i;
        }
        INFO("worst " << worst << " ulp at x = " << xs[at] << ", got " << y[at]);
        CHECK(worst <= (avx2 ? 1 : 4));
        CHECK(std::signbit(y[xs.size() - 7]));  // erf(-0) = -0
    }
}

TEST_CASE("vector math: exp and expm1 of one argument share their reduction, bitwise the same values", "[jit][vmath]") {
    // One body needing both (as soft_exponential's backward does) against
    // kernels computing each alone, on dense samples with every limit.
    std::vector<float> xs;
    for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += 65537) xs.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(b)));
    for (float v : {0.0f, -0.0f, -24.9f, -25.0f, -25.1f, -87.0f, -103.9f, -104.5f, 88.7f, 88.8f, 89.5f, HUGE_VALF, -HUGE_VALF, std::nanf("")})
        xs.push_back(v);
    for (int i = -4000; i <= 4000; ++i) xs.push_back(static_cast<float>(i) * 0.03f);
    for (std::int64_t width : {0, 4, 16}) {
        INFO("width " << width);
        actjit::JitOptions options;
        options.vector_width = static_cast<int>(width);
        auto run = [&](const char* formula, std::int64_t cols) {
            const auto k = actjit::compile_jit(actjit::KernelSpec::fixed(actjit::parse_formula(formula), DType::f32), options);
            std::vector<float> in, out;
            for (float v : xs)
                for (std::int64_t c = 0; c < cols; ++c) in.push_back(v);
            out.resize(in.size());
            k.forward(in.data(), out.data(), static_cast<std::int64_t>(xs.size()), cols);
            return out;
        };
        const auto both = run("where(feature == 0, exp(x), expm1(x))", 2);
        const auto e = run("exp(x)", 1), em1 = run("expm1(x)", 1);
        std::size_t differ = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            differ += std::bit_cast<std::uint32_t>(both[2 * i]) != std::bit_cast<std::uint32_t>(e[i]);
            differ += std::bit_cast<std::uint32_t>(both[2 * i + 1]) != std::bit_cast<std::uint32_t>(em1[i]);
        }
        CHECK(differ == 0);
    }
    // Sharing really happens: fewer FMAs than for two different arguments.
    auto fmas = [](const char* formula) {
        const std::string ir = actjit::Engine::global().emit(
            actjit::KernelSpec::fixed(actjit::parse_formula(formula), DType::f32), actjit::EmitKind::llvm);
        std::size_t n = 0;
        for (std::size_t at = ir.find("@llvm.fma"); at != std::string::npos; at = ir.find("@llvm.fma", at + 1)) ++n;
        return n;
    };
    CHECK(fmas("where(feature == 0, exp(x), expm1(x))") < fmas("where(feature == 0, exp(x), expm1(x + 1))"));
}

namespace {

/// For exp and expm1 (fast path: every lane within +-87, +-708 in f64):
/// values across those limits and the limits of exp itself, so a fast path
/// taken too far fails the check below.
template <class T>
std::vector<T> exp_samples() {
    const double span = sizeof(T) == 4 ? 110.0 : 760.0;
    std::vector<T> in;
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> all(-span, span), mid(-30, 30);
    for (int i = 0; i < 4000; ++i) {
        in.push_back(static_cast<T>(all(rng)));
        in.push_back(static_cast<T>(mid(rng)));
    }
    using L = std::numeric_limits<T>;
    const double f32_edges[] = {87.0, 87.3, 88.0, 88.3, 88.4, 88.7, 88.72, 88.73, -87.0, -87.33, -87.4, -88.0,
                                -100.0, -103.9, -104.0, 25.0, -25.0, -24.9};
    const double f64_edges[] = {708.0, 708.4, 709.0, 709.7, 709.78, 709.79, -708.0, -708.4, -709.0, -745.0,
                                -745.2, 40.0, -40.0, -39.9};
    if constexpr (sizeof(T) == 4)
        for (double v : f32_edges) in.push_back(static_cast<T>(v));
    else
        for (double v : f64_edges) in.push_back(static_cast<T>(v));
    for (double v : {0.0, -0.0, 1e-30, -1e-30, std::nan("")}) in.push_back(static_cast<T>(v));
    for (T v : {L::min(), L::denorm_min(), -L::denorm_min()}) in.push_back(v);
    return in;
}

/// For exp2 (fast path: every lane within +-125, +-1021 in f64): values
/// across those limits and exp2's own.
template <class T>
std::vector<T> exp2_samples() {
    std::vector<T> in;
    const double span = sizeof(T) == 4 ? 160.0 : 1100.0;
    std::mt19937 rng(8);
    std::uniform_real_distribution<double> all(-span, span);
    for (int i = 0; i < 8000; ++i) in.push_back(static_cast<T>(all(rng)));
    const double f32_edges[] = {125.0, 125.4, 125.6, 126.0, 126.5, 127.0, 127.9, 128.0, -125.0, -125.6, -126.0,
                                -126.5, -127.0, -149.0, -150.0, -151.0};
    const double f64_edges[] = {1021.0, 1021.6, 1022.0, 1023.0, 1023.9, 1024.0, -1021.0, -1021.6, -1022.0,
                                -1022.5, -1074.0, -1075.0};
    if constexpr (sizeof(T) == 4)
        for (double v : f32_edges) in.push_back(static_cast<T>(v));
    else
        for (double v : f64_edges) in.push_back(static_cast<T>(v));
    for (double v : {0.0, -0.0, 0.5, -0.5, 1e-30, std::nan("")}) in.push_back(static_cast<T>(v));
    return in;
}

/// For the log family (fast path: every lane positive, normal, finite): a
/// stride through every bit pattern (both signs, subnormals, 0, inf, NaN)
/// and values just above -1 and around 1.
template <class T>
std::vector<T> log_samples() {
    std::vector<T> in;
    using I = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    const I step = static_cast<I>(sizeof(T) == 4 ? 100003ULL : 429496729600003ULL);
    for (I bits = 0, prev = 0; bits >= prev; prev = bits, bits += step) in.push_back(std::bit_cast<T>(bits));
    std::mt19937 rng(6);
    std::uniform_real_distribution<double> near1(0.5, 2.0), above_m1(-1.0, -0.9);
    for (int i = 0; i < 3000; ++i) {
        in.push_back(static_cast<T>(near1(rng)));
        in.push_back(static_cast<T>(above_m1(rng)));
    }
    using L = std::numeric_limits<T>;
    for (T v : {L::min(), L::max(), L::denorm_min(), T(0), T(-0.0), T(-1), T(1), L::infinity(), -L::infinity(),
                L::quiet_NaN(), std::nextafter(T(-1), T(0)), std::nextafter(L::min(), T(0))})
        in.push_back(v);
    return in;
}

/// The vector math's fast paths (exp and expm1 for vectors whose every
/// lane is within +-87, +-708 in f64; the log family for vectors of
/// positive, normal, finite lanes) must give a lane the bits the exact code
/// gives it: its value must not depend on its neighbours. Each sample is
/// computed in a vector of 16 copies of itself (the fast path wherever the
/// sample allows it) and beside an `unusual` value (every fourth lane, so
/// every vector at width 4, 8 or 16 takes the exact path).
template <class T>
void check_fast_exact_agree(const char* formula, int width, const std::vector<T>& in, T unusual) {
    constexpr DType dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
    std::vector<T> uniform, mixed;  // mixed: lane 4k is +inf, lanes 4k+1..4k+3 are in[3k..3k+2]
    for (T v : in) uniform.insert(uniform.end(), 16, v);
    for (std::size_t i = 0; i < in.size(); i += 3) {
        mixed.push_back(unusual);
        for (std::size_t j = i; j < i + 3; ++j) mixed.push_back(j < in.size() ? in[j] : T(1));
    }
    actjit::JitOptions options;
    options.vector_width = width;
    const auto k = actjit::compile_jit(actjit::KernelSpec::fixed(actjit::parse_formula(formula), dtype), options);
    std::vector<T> fast(uniform.size()), exact(mixed.size());
    k.forward(uniform.data(), fast.data(), 1, static_cast<std::int64_t>(uniform.size()));
    k.forward(mixed.data(), exact.data(), 1, static_cast<std::int64_t>(mixed.size()));
    std::size_t differ = 0, first = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const T a = fast[16 * i], b = exact[(i / 3) * 4 + 1 + i % 3];
        const bool same = std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
        if (!same && differ++ == 0) first = i;
    }
    INFO(formula << (sizeof(T) == 4 ? " f32" : " f64") << " width " << width << ": " << differ
                 << " lanes differ, first at x = " << static_cast<double>(in[first]) << ": fast "
                 << static_cast<double>(fast[16 * first]) << ", exact "
                 << static_cast<double>(exact[(first / 3) * 4 + 1 + first % 3]));
    CHECK(differ == 0);
}

}  // namespace

TEST_CASE("vector math: exp's fast path gives the exact path's bits", "[jit][vmath]") {
    for (const char* f : {"exp(x)", "expm1(x)", "sigmoid(x)", "softplus(x)", "tanh(x)", "sinh(x)", "cosh(x)",
                          "erf(x)", "3 * exp(x) + expm1(x)", "elu(x)", "silu(x)", "mish(x)"}) {
        for (int width : {4, 8, 16}) check_fast_exact_agree<float>(f, width, exp_samples<float>(), HUGE_VALF);
        for (int width : {2, 4, 8}) check_fast_exact_agree<double>(f, width, exp_samples<double>(), HUGE_VAL);
    }
    for (int width : {4, 8, 16}) check_fast_exact_agree<float>("exp2(x)", width, exp2_samples<float>(), HUGE_VALF);
    for (int width : {2, 4, 8}) check_fast_exact_agree<double>("exp2(x)", width, exp2_samples<double>(), HUGE_VAL);
    // The fast path is there: a branch to the exact code, in a kernel that
    // calls exp (and in the shared exp/expm1 pair).
    for (const char* f : {"exp(x)", "exp2(x)", "sigmoid(x)", "3 * exp(x) + expm1(x)"}) {
        const std::string ir = actjit::Engine::global().emit(
            actjit::KernelSpec::fixed(actjit::parse_formula(f), DType::f32), actjit::EmitKind::llvm);
        INFO(f);
        CHECK(ir.find("vmath.slow") != std::string::npos);
    }
}

TEST_CASE("vector math: the log family's fast path gives the exact path's bits", "[jit][vmath]") {
    for (const char* f : {"log(x)", "log2(x)", "log10(x)", "log1p(x)", "x * log(x) + log1p(x)"}) {
        for (int width : {4, 8, 16}) check_fast_exact_agree<float>(f, width, log_samples<float>(), -1.0f);
        for (int width : {2, 4, 8}) check_fast_exact_agree<double>(f, width, log_samples<double>(), -1.0);
    }
    for (const char* f : {"log(x)", "log1p(x)"}) {
        const std::string ir = actjit::Engine::global().emit(
            actjit::KernelSpec::fixed(actjit::parse_formula(f), DType::f32), actjit::EmitKind::llvm);
        INFO(f);
        CHECK(ir.find("vmath.slow") != std::string::npos);
    }
}

TEST_CASE("vector math: limits and special values", "[jit][vmath]") {
    auto run = [](const char* formula, std::vector<float> x) {
        const auto k = actjit::compile_jit(actjit::KernelSpec::fixed(actjit::parse_formula(formula), DType::f32));
        std::vector<float> y(x.size());
        k.forward(x.data(), y.data(), 1, static_cast<std::int64_t>(x.size()));
        return y;
    };
    const float inf = HUGE_VALF, nan = std::nanf("");
    auto y = run("exp(x)", {100.0f, -200.0f, inf, -inf, nan});
    CHECK(y[0] == inf);
    CHECK(y[1] == 0.0f);
    CHECK(y[2] == inf);
    CHECK(y[3] == 0.0f);
    CHECK(std::isnan(y[4]));
    y = run("log(x)", {0.0f, -0.0f, -1.0f, inf, nan, -inf});
    CHECK(y[0] == -inf);
    CHECK(y[1] == -inf);
    CHECK(std::isnan(y[2]));
    CHECK(y[3] == inf);
    CHECK(std::isnan(y[4]));
    CHECK(std::isnan(y[5]));
    y = run("tanh(x)", {50.0f, -50.0f, inf, -inf, -0.0f});
    CHECK(y[0] == 1.0f);
    CHECK(y[1] == -1.0f);
    CHECK(y[2] == 1.0f);
    CHECK(y[3] == -1.0f);
    CHECK(std::signbit(y[4]));
    y = run("sigmoid(x)", {-1000.0f, -inf, 1000.0f, inf, -100.0f});
    CHECK(y[0] == 0.0f);
    CHECK(y[1] == 0.0f);
    CHECK(y[2] == 1.0f);
    CHECK(y[3] == 1.0f);
    CHECK(y[4] > 0.0f);  // e^-100 is a subnormal float: not flushed to zero
    y = run("softplus(x)", {1e30f, 100.0f, inf, -inf, -1000.0f});
    CHECK(y[0] == 1e30f);
    CHECK(y[1] == 100.0f);
    CHECK(y[2] == inf);
    CHECK(y[3] == 0.0f);
    CHECK(y[4] == 0.0f);
    y = run("erf(x)", {5.0f, -5.0f, inf, -inf, nan});
    CHECK(y[0] == 1.0f);
    CHECK(y[1] == -1.0f);
    CHECK(y[2] == 1.0f);
    CHECK(y[3] == -1.0f);
    CHECK(std::isnan(y[4]));
}

namespace {

/// pow(x, p) with p a per-feature runtime parameter: a non-constant exponent.
template <class T>
void check_pow() {
    constexpr DType dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
    actjit::KernelSpec spec;
    spec.formula = actjit::parse_formula("pow(x, p)");
    spec.params = {{"p", actjit::ParamKind::PerFeature, false, 0.0}};
    spec.dtype = dtype;
    const auto k = actjit::compile_jit(spec);
    const double pv[] = {0,    -0.0, 1,    -1,  2,   -2,  3,   -3,   0.5,  -0.5,  1.5,  2.5,    -2.5,
                         1e10, -1e10, 31,  -31, 0.3, HUGE_VAL, -HUGE_VAL, std::nan(""), 7.25, -126, 100};
    const double xv[] = {0,      -0.0, 1,   -1,  2,     -2,    0.5,  -0.5, 3,   -3,  1e-30, -1e-30, 1e30,
                         -1e30, 10,   -10, 0.999, 1.001, HUGE_VAL, -HUGE_VAL, std::nan(""), 1.7, -8, 1e-40};
    std::vector<T> ps, xs;
    for (double v : pv) ps.push_back(static_cast<T>(v));
    for (double v : xv) xs.push_back(static_cast<T>(v));
    const auto cols = static_cast<std::int64_t>(ps.size());
    const auto rows = static_cast<std::int64_t>(xs.size()) + 200;
    std::vector<T> x(static_cast<std::size_t>(rows * cols)), y(x.size());
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-4, 4);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c)
            x[static_cast<std::size_t>(r * cols + c)] =
                r < static_cast<std::int64_t>(xs.size()) ? xs[static_cast<std::size_t>(r)] : static_cast<T>(u(rng));
    const T* params[] = {ps.data()};
    k.forward(x.data(), y.data(), rows, cols, params);
    double worst = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const T p = ps[i % ps.size()];
        const double d = ulps<T>(y[i], std::pow(static_cast<long double>(x[i]), static_cast<long double>(p)));
        if (d > worst) worst = d, at = i;
    }
    INFO("pow worst " << worst << " ulp at x = " << static_cast<double>(x[at])
                      << ", p = " << static_cast<double>(ps[at % ps.size()]) << ", got " << static_cast<double>(y[at]));
    CHECK(worst <= 4);
}

}  // namespace

TEST_CASE("vector math: pow with a runtime exponent follows C's pow", "[jit][vmath]") {
    check_pow<float>();
    check_pow<double>();
}

TEST_CASE("vector math: log(u) shared with pow(u, w) keeps log's accuracy and special cases", "[jit][vmath]") {
    // Both arms of where() are computed (p is per feature, so the condition
    // is not uniform and the loop is not versioned on it): the kernel needs
    // pow(x, p) and log(x) of the same base. On AVX2 hosts the log comes from
    // the pow's log2|x| (emit_pow_log); elsewhere it is the plain inline log.
    for (const bool take_pow : {false, true}) {
        actjit::KernelSpec spec;
        spec.formula = actjit::parse_formula("where(p > 100, pow(x, p), log(x))");
        spec.params = {{"p", actjit::ParamKind::PerFeature, false, 0.0}};
        spec.dtype = DType::f32;
        const auto k = actjit::compile_jit(spec);
        std::vector<float> x = samples<float>();
        std::vector<float> y(x.size());
        const float p = take_pow ? 101.5f : 1.5f;
        const float* params[] = {&p};
        k.forward(x.data(), y.data(), static_cast<std::int64_t>(x.size()), 1, params);
        double worst = 0;
        std::size_t at = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const long double ref = take_pow ? std::pow(static_cast<long double>(x[i]), static_cast<long double>(p))
                                             : std::log(static_cast<long double>(x[i]));
            const double d = ulps<float>(y[i], ref);
            if (d > worst) worst = d, at = i;
        }
        INFO((take_pow ? "pow" : "log") << " worst " << worst << " ulp at x = " << x[at] << ", got " << y[at]);
        CHECK(worst <= 4);
    }
}

TEST_CASE("vector math: f32 pow is within 4 ulp over all magnitudes", "[jit][vmath]") {
    // Bases from a stride through the bit patterns of the positive and
    // negative floats (subnormals included), exponents from five ranges:
    // moderate, large where the result stays finite, huge against bases near
    // 1 (where log2|a| must be accurate relative to itself), integers
    // (negative bases), and prepu's exponents in (0, 2).
    actjit::KernelSpec spec;
    spec.formula = actjit::parse_formula("pow(x, p)");
    spec.params = {{"p", actjit::ParamKind::PerFeature, false, 0.0}};
    spec.dtype = DType::f32;
    const auto k = actjit::compile_jit(spec);
    constexpr std::int64_t cols = 5;
    std::mt19937 rng(11);
    std::vector<float> x, p(cols), y;
    for (std::uint64_t bits = 1; bits < (std::uint64_t{1} << 32); bits += 2000003) {
        const auto u = static_cast<std::uint32_t>(bits);
        float f;
        std::memcpy(&f, &u, 4);
        if (!std::isfinite(f)) continue;
        for (int c = 0; c < cols; ++c) {
            const float near1 = 1.0f + std::ldexp(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng),
                                                  -std::uniform_int_distribution<int>(1, 23)(rng));
            x.push_back(c == 2 ? near1 : f);
        }
    }
    for (int i = 0; i < 4000; ++i)
        for (int c = 0; c < cols; ++c) x.push_back(std::uniform_real_distribution<float>(-6.0f, 6.0f)(rng));
    const auto rows = static_cast<std::int64_t>(x.size()) / cols;
    y.resize(x.size());
    double worst = 0;
    std::size_t at = 0;
    std::vector<float> worst_p(cols);
    for (int trial = 0; trial < 20; ++trial) {
        p[0] = std::uniform_real_distribution<float>(-3.0f, 3.0f)(rng);
        p[1] = std::uniform_real_distribution<float>(-40.0f, 40.0f)(rng);
        p[2] = std::uniform_real_distribution<float>(-3e4f, 3e4f)(rng);
        p[3] = static_cast<float>(std::uniform_int_distribution<int>(-30, 30)(rng));
        p[4] = std::uniform_real_distribution<float>(0.0f, 2.0f)(rng);
        const float* params[] = {p.data()};
        k.forward(x.data(), y.data(), rows, cols, params);
        for (std::size_t i = 0; i < x.size(); ++i) {
            const float pv = p[i % cols];
            const double d = ulps<float>(y[i], std::pow(static_cast<long double>(x[i]), static_cast<long double>(pv)));
            if (d > worst) worst = d, at = i, worst_p = p;
        }
    }
    INFO("f32 pow worst " << worst << " ulp at x = " << x[at] << ", p = " << worst_p[at % cols] << ", got " << y[at]);
    CHECK(worst <= 4);
}

TEST_CASE("vector math: f32 pow of a base >= 0 with an exponent in [-2, 2] is within 2 ulp", "[jit][vmath]") {
    // relu(x)^clamp(p, -2, 2): interval analysis bounds the base below by 0
    // and the exponent by 2, so the pow is computed in float
    // (emit_pow_bounded), as prepu's relu(x)^(softsign(s) + 1) is. Bases
    // from a stride through the positive floats (subnormals included), near
    // 1, and the specials; exponents per column: uniform in [-2, 2], prepu's
    // (0, 2), near +-2, tiny, integers, and NaN. max(x, 0) keeps x = -0, whose
    // sign an odd exponent keeps. Widths 0 (native), 8 and 16, so that the
    // fast path, the exact path and the masked tails all run, and the AVX2
    // code (cpu haswell) where the host can run it.
    std::mt19937 rng(5);
    constexpr std::int64_t cols = 7;
    std::vector<float> x;
    for (std::uint64_t bits = 0; bits <= 0x7f800000u; bits += 1000003) {
        const auto u = static_cast<std::uint32_t>(bits);
        float f;
        std::memcpy(&f, &u, 4);
        for (int c = 0; c < cols; ++c)
            x.push_back(c == 2 ? 1.0f + std::ldexp(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng),
                                                  -std::uniform_int_distribution<int>(1, 23)(rng))
                               : f);
    }
    for (int i = 0; i < 3000; ++i)
        for (int c = 0; c < cols; ++c) x.push_back(std::uniform_real_distribution<float>(-6.0f, 6.0f)(rng));
    using L = std::numeric_limits<float>;
    for (const float v : {0.0f, -0.0f, L::infinity(), L::quiet_NaN(), 1.0f, L::denorm_min(), L::min(), L::max(),
                          -1.0f, -L::infinity()})
        for (int c = 0; c < cols; ++c) x.push_back(v);
    while (x.size() % cols != 0 || (x.size() / cols) % 16 != 5) x.push_back(0.75f);  // a tail of 5 rows
    const auto rows = static_cast<std::int64_t>(x.size()) / cols;
    std::vector<actjit::JitOptions> configs(5);
    configs[1].vector_width = 8;
    configs[2].vector_width = 16;
    configs[3].cpu = "haswell";      // the AVX2 code on an AVX-512 host
    configs[4].compact_lanes = false;  // zero bases in the pow's own lanes
    for (const char* formula : {"relu(x)^clamp(p, -2, 2)", "max(x, 0)^clamp(p, -2, 2)"})
        for (const actjit::JitOptions& options : configs) {
            actjit::KernelSpec spec;
            spec.formula = actjit::parse_formula(formula);
            spec.params = {{"p", actjit::ParamKind::PerFeature, false, 0.0}};
            spec.dtype = DType::f32;
            actjit::Kernel k;
            try {
                k = actjit::compile_jit(spec, options);
            } catch (const actjit::ValueError& e) {
                CHECK_THAT(e.what(), Catch::Contains("which this host lacks"));  // a host without AVX2
                continue;
            }
            const bool keeps_neg_zero = formula[0] == 'm';
            std::vector<float> y(x.size()), p(cols);
            double worst = 0;
            std::size_t at = 0;
            std::vector<float> worst_p(cols);
            for (int trial = 0; trial < 12; ++trial) {
                p[0] = std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng);
                p[1] = std::uniform_real_distribution<float>(0.0f, 2.0f)(rng);
                p[2] = std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng);
                p[3] = (trial % 2 ? 1 : -1) * (2.0f - std::ldexp(1.0f, -std::uniform_int_distribution<int>(1, 23)(rng)));
                p[4] = std::ldexp(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng),
                                  -std::uniform_int_distribution<int>(1, 30)(rng));
                p[5] = static_cast<float>(trial % 5 - 2);
                p[6] = trial % 3 == 0 ? L::quiet_NaN() : std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng);
                const float* params[] = {p.data()};
                k.forward(x.data(), y.data(), rows, cols, params);
                for (std::size_t i = 0; i < x.size(); ++i) {
                    const float pv = p[i % cols];
                    const float base = std::isnan(x[i]) ? x[i] : x[i] > 0 ? x[i] : keeps_neg_zero && x[i] == 0 ? x[i] : 0.0f;
                    const double d = ulps<float>(y[i], std::pow(static_cast<long double>(base), static_cast<long double>(pv)));
                    // The sign of a zero or infinite result (ulps counts +-0 as one number).
                    const bool sign_ok = std::signbit(y[i]) == std::signbit(std::pow(base, pv)) || std::isnan(y[i]);
                    if (d > worst || !sign_ok) worst = sign_ok ? d : HUGE_VAL, at = i, worst_p = p;
                }
            }
            INFO(formula << ", width " << options.vector_width << ", cpu '" << options.cpu << "', compaction "
                         << options.compact_lanes << ": worst " << worst << " ulp at x = " << x[at]
                         << ", p = " << worst_p[at % cols]);
            CHECK(worst <= 2);
        }
    // The float pow is taken where the bound holds (no conversion to double
    // in the forward), not beyond it; on hosts without AVX2 both call libmvec.
    auto forward_ir = [](const char* formula) {
        actjit::KernelSpec spec;
        spec.formula = actjit::parse_formula(formula);
        spec.params = {{"p", actjit::ParamKind::PerFeature, false, 0.0}};
        spec.dtype = DType::f32;
        const std::string ir = actjit::Engine::global().emit(spec, actjit::EmitKind::llvm);
        return ir.substr(0, ir.find("define void @actjit_bwd"));
    };
    const std::string bounded = forward_ir("relu(x)^clamp(p, -2, 2)");
    if (bounded.find("_ZGV") == std::string::npos) {
        CHECK(bounded.find("fpext") == std::string::npos);
        CHECK(bounded.find("@actjit.powb") != std::string::npos);  // the exact path, outlined
        CHECK(forward_ir("relu(x)^clamp(p, -2, 2.5)").find("fpext") != std::string::npos);
        CHECK(forward_ir("x^clamp(p, -2, 2)").find("fpext") != std::string::npos);  // a negative base
    }
}

namespace {

/// `formula` compiled as a kernel, on `x`, against `want(x)` computed with
/// the host's own division: the worst distance in ulps and how many differ.
template <class T, class Want>
std::pair<double, std::size_t> against_division(const char* formula, int width, const std::vector<T>& x, Want want) {
    constexpr DType dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
    actjit::JitOptions options;
    options.vector_width = width;
    const actjit::Kernel k = actjit::compile_jit(actjit::KernelSpec::fixed(actjit::parse_formula(formula), dtype), options);
    std::vector<T> y(x.size());
    k.forward(x.data(), y.data(), 1, static_cast<std::int64_t>(x.size()));
    double worst = 0;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const T w = want(x[i]);
        const double d = ulps<T>(y[i], static_cast<long double>(w));
        if (d > worst) {
            worst = d;
            UNSCOPED_INFO(formula << " width " << width << ": x = " << static_cast<double>(x[i]) << " got "
                                  << static_cast<double>(y[i]) << ", the division gives " << static_cast<double>(w));
        }
        differ += d != 0 || std::signbit(y[i]) != std::signbit(w);
    }
    return {worst, differ};
}

template <class T>
void check_quotients() {
    std::vector<T> x = samples<T>();
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> mid(-40, 40);
    for (int i = 0; i < 50000; ++i) x.push_back(static_cast<T>(mid(rng)));
    for (int i = -600; i <= 600; ++i) x.push_back(static_cast<T>(i) / 8);
    auto softsign = [](T v) { return std::isinf(v) ? std::copysign(T(1), v) : v / (T(1) + std::fabs(v)); };
    auto inv_square = [](T v) {
        const T d = T(1) + std::fabs(v);
        return v / (d * d);
    };
    // Twice the native width: the estimate on each 512-bit half.
    for (int width : {0, 8, 16, 32}) {
        if (sizeof(T) == 8 && width == 32) continue;
        const auto [w1, n1] = against_division<T>("softsign(x)", width, x, softsign);
        const auto [w2, n2] = against_division<T>("x / (abs(x) + 1)^2", width, x, inv_square);
        INFO((sizeof(T) == 4 ? "f32" : "f64") << " width " << width << ": softsign " << n1 << " and x / (abs(x) + 1)^2 "
                                              << n2 << " of " << x.size() << " differ from the division");
        CHECK(w1 <= 2);
        CHECK(w2 <= 2);
    }
}

}  // namespace

TEST_CASE("vector math: quotients without the divider are the division's within 2 ulp", "[jit][vmath][div]") {
    // On AVX-512 softsign's x / (1 + |x|), and a / d wherever d >= 1 for
    // every input, are vrcp14 and Newton steps (emit_quotient) where the
    // loop does little else: against the host's division of the same
    // rounded operands, zeros' signs, infinities and NaN included. (Elsewhere
    // they are the division and the check is exact.)
    check_quotients<float>();
    check_quotients<double>();
}
