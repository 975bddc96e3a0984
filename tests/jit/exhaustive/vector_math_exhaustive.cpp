// Opt-in exhaustive accuracy check of the JIT's float32 vector math: every one
// of the 2^32 float inputs of every unary transcendental builtin, against a
// double-precision reference (libm in double, then rounded), in ulps.
//
//   actjit_vmath_exhaustive [--cpu=NAME] [op...]   (default: all; exit status 1 on failure)
//
// Built and registered with CTest only with -DACTJIT_EXHAUSTIVE_TESTS=ON; it
// takes minutes per function.
#include <actjit/formula.hpp>
#include <actjit/jit.hpp>
#include <actjit/kernel.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Ref = double (*)(double);

double sigmoid(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

/// The double-precision reference for `op` (looked up once, not per element).
Ref reference(const std::string& op) {
    static const std::pair<const char*, Ref> table[] = {
        {"exp", [](double x) { return std::exp(x); }},     {"exp2", [](double x) { return std::exp2(x); }},
        {"expm1", [](double x) { return std::expm1(x); }}, {"log", [](double x) { return std::log(x); }},
        {"log2", [](double x) { return std::log2(x); }},   {"log10", [](double x) { return std::log10(x); }},
        {"log1p", [](double x) { return std::log1p(x); }}, {"sin", [](double x) { return std::sin(x); }},
        {"cos", [](double x) { return std::cos(x); }},     {"tan", [](double x) { return std::tan(x); }},
        {"asin", [](double x) { return std::asin(x); }},   {"acos", [](double x) { return std::acos(x); }},
        {"atan", [](double x) { return std::atan(x); }},   {"sinh", [](double x) { return std::sinh(x); }},
        {"cosh", [](double x) { return std::cosh(x); }},   {"tanh", [](double x) { return std::tanh(x); }},
        {"asinh", [](double x) { return std::asinh(x); }}, {"acosh", [](double x) { return std::acosh(x); }},
        {"atanh", [](double x) { return std::atanh(x); }}, {"erf", [](double x) { return std::erf(x); }},
        {"erfc", [](double x) { return std::erfc(x); }},   {"cbrt", [](double x) { return std::cbrt(x); }},
        {"sigmoid", sigmoid},                              {"softplus", softplus},
    };
    for (const auto& [name, fn] : table)
        if (op == name) return fn;
    std::fprintf(stderr, "unknown op %s\n", op.c_str());
    std::exit(2);
}

/// Ulps between `got` and the float nearest `ref`; NaN vs number: huge.
double ulps(float got, double ref) {
    const float want = static_cast<float>(ref);
    if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got) ? 0 : 1e30;
    auto ord = [](float v) {
        std::int32_t i;
        std::memcpy(&i, &v, 4);
        return i < 0 ? static_cast<std::int64_t>(INT32_MIN) - i : static_cast<std::int64_t>(i);
    };
    return static_cast<double>(std::llabs(ord(got) - ord(want)));
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> ops(argv + 1, argv + argc);
    // --cpu=NAME: compile for that CPU (JitOptions::cpu; haswell on an
    // AVX-512 host gives the AVX2 kernels).
    actjit::JitOptions options;
    for (auto it = ops.begin(); it != ops.end();)
        if (it->rfind("--cpu=", 0) == 0) {
            options.cpu = it->substr(6);
            it = ops.erase(it);
        } else {
            ++it;
        }
    if (ops.empty())
        ops = {"exp",  "exp2", "expm1", "log",   "log2",  "log10", "log1p", "sin",  "cos",  "tan",     "asin",    "acos",
               "atan", "sinh", "cosh",  "tanh", "asinh", "acosh", "atanh", "erf", "erfc", "cbrt", "sigmoid", "softplus"};
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    constexpr std::uint64_t kChunk = std::uint64_t{1} << 24;
    std::vector<float> x(kChunk), y(kChunk);
    int failures = 0;
    for (const std::string& op : ops) {
        const Ref ref = reference(op);
        const actjit::Kernel k =
            actjit::compile_jit(actjit::KernelSpec::fixed(actjit::parse_formula(op + "(x)"), actjit::DType::f32), options);
        double worst = 0;
        float worst_x = 0;
        std::uint64_t over = 0;
        for (std::uint64_t base = 0; base < (std::uint64_t{1} << 32); base += kChunk) {
            for (std::uint64_t i = 0; i < kChunk; ++i) {
                const auto bits = static_cast<std::uint32_t>(base + i);
                std::memcpy(&x[i], &bits, 4);
            }
            k.forward(x.data(), y.data(), 1, static_cast<std::int64_t>(kChunk));
            std::vector<double> w(threads, 0);
            std::vector<float> wx(threads, 0);
            std::vector<std::uint64_t> o(threads, 0);
            std::vector<std::thread> pool;
            for (unsigned t = 0; t < threads; ++t)
                pool.emplace_back([&, t] {
                    for (std::uint64_t i = t; i < kChunk; i += threads) {
                        const double d = ulps(y[i], ref(x[i]));
                        if (d > 4) ++o[t];
                        if (d > w[t]) w[t] = d, wx[t] = x[i];
                    }
                });
            for (auto& th : pool) th.join();
            for (unsigned t = 0; t < threads; ++t) {
                over += o[t];
                if (w[t] > worst) worst = w[t], worst_x = wx[t];
            }
        }
        std::printf("%-9s max %.0f ulp (at x = %.9g), %llu inputs over 4 ulp\n", op.c_str(), worst,
                    static_cast<double>(worst_x), static_cast<unsigned long long>(over));
        std::fflush(stdout);
        if (over != 0) ++failures;
    }
    return failures == 0 ? 0 : 1;
}
