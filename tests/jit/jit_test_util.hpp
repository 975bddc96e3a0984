// Shared helpers of the JIT kernel tests: random data, the reference computed
// element by element with the interpreter (double, and float libm), and a
// comparison that reports the first mismatch.
#pragma once

#include <actjit/build.hpp>
#include <actjit/diff.hpp>
#include <actjit/eval.hpp>
#include <actjit/jit.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace actjit::test {

/// Inputs for one kernel call: x, dy, one array per runtime parameter.
template <class T>
struct KernelData {
    std::int64_t rows = 0, cols = 0;
    std::vector<T> x, dy;
    std::vector<std::vector<T>> params;
};

/// Dense inputs in [-lo, hi] with the usual kinks (0, +-1, +-3, +-0.1) mixed in;
/// `specials` adds inf, -inf, NaN, huge, tiny and subnormal values.
template <class T>
KernelData<T> make_data(const KernelSpec& spec, std::int64_t rows, std::int64_t cols, std::uint32_t seed,
                        bool specials = false) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-5, 5);
    std::uniform_real_distribution<double> small(-0.5, 0.5);
    const double kinks[] = {0.0, 1.0, -1.0, 3.0, -3.0, 0.1, -0.1, 2.0, -2.0};
    const double odd[] = {HUGE_VAL, -HUGE_VAL, std::numeric_limits<double>::quiet_NaN(), 1e30, -1e30, 1e-30, -1e-30,
                          static_cast<double>(std::numeric_limits<T>::denorm_min()), 100, -100, 1e5, -1e5};
    KernelData<T> d;
    d.rows = rows;
    d.cols = cols;
    const auto n = static_cast<std::size_t>(rows * cols);
    d.x.resize(n);
    d.dy.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto pick = rng() % 16;
        double v = u(rng);
        if (pick == 0) v = kinks[rng() % std::size(kinks)];
        if (specials && pick == 1) v = odd[rng() % std::size(odd)];
        d.x[i] = static_cast<T>(v);
        d.dy[i] = static_cast<T>(u(rng));
    }
    for (const ParamBinding* b : spec.runtime_params()) {
        const std::size_t len = b->kind == ParamKind::PerFeature ? static_cast<std::size_t>(cols) : 1;
        std::vector<T> p(len);
        for (auto& v : p) v = static_cast<T>(b->value + small(rng));
        d.params.push_back(std::move(p));
    }
    return d;
}

/// Whether generated IR compacts lanes: with the AVX2 index tables, or with
/// AVX-512's vcompressps (jit/compact.cpp).
inline bool compacts_lanes(std::string_view ir) {
    return ir.find("actjit_lane_compress") != std::string_view::npos ||
           ir.find("llvm.x86.avx512.mask.compress") != std::string_view::npos;
}

/// Given inputs as one column (`column`: rows = x.size(), cols = 1) or one
/// row, dy = 1 everywhere, and one value array per runtime parameter.
template <class T = float>
KernelData<T> listed_data(std::vector<T> x, bool column, std::vector<std::vector<T>> params = {}) {
    KernelData<T> d;
    const auto n = static_cast<std::int64_t>(x.size());
    d.rows = column ? n : 1;
    d.cols = column ? 1 : n;
    d.dy.assign(x.size(), T(1));
    d.x = std::move(x);
    d.params = std::move(params);
    return d;
}

/// The formula with its Fixed parameters folded in, and the expressions the
/// kernels compute: f, df/dx, df/d(each trainable parameter).
inline std::vector<Expr> reference_outputs(const KernelSpec& spec) {
    std::vector<std::pair<Expr, Expr>> fixed;
    for (const ParamBinding& b : spec.params)
        if (b.kind == ParamKind::Fixed) fixed.emplace_back(param(b.name), constant(b.value));
    const Expr f = fixed.empty() ? simplify(spec.formula.body) : substitute(spec.formula.body, fixed, true);
    std::vector<Expr> out{f, diff(f, input())};
    for (const ParamBinding* t : spec.trainable_params()) out.push_back(diff(f, param(t->name)));
    return out;
}

/// Reference results, element by element, in double and in float.
struct Reference {
    std::vector<double> y, dx;
    std::vector<float> y32, dx32;                  // float interpreter (f32 data only)
    std::vector<std::vector<double>> grads, grads_abs;  // per trainable param: sums and sums of |terms|
    std::vector<std::vector<char>> grads_nan;       // a NaN went into the float reference's sum
    std::vector<std::vector<double>> grads32;       // sums of the float reference's terms
};

template <class T>
Reference reference(const KernelSpec& spec, const KernelData<T>& d) {
    const auto outputs = reference_outputs(spec);
    std::vector<std::string> names;
    for (const ParamBinding* b : spec.runtime_params()) names.push_back(b->name);
    Interpreter interp(outputs, names);
    const auto runtime = spec.runtime_params();
    const auto trainable = spec.trainable_params();
    Reference r;
    const auto n = d.x.size();
    r.y.resize(n);
    r.dx.resize(n);
    if constexpr (std::is_same_v<T, float>) {
        r.y32.resize(n);
        r.dx32.resize(n);
    }
    for (const ParamBinding* t : trainable) {
        const std::size_t len = t->kind == ParamKind::PerFeature ? static_cast<std::size_t>(d.cols) : 1;
        r.grads.emplace_back(len, 0.0);
        r.grads_abs.emplace_back(len, 0.0);
        r.grads_nan.emplace_back(len, 0);
        r.grads32.emplace_back(len, 0.0);
    }
    std::vector<double> p64(runtime.size()), out64(outputs.size());
    std::vector<float> p32(runtime.size()), out32(outputs.size());
    for (std::int64_t row = 0; row < d.rows; ++row)
        for (std::int64_t c = 0; c < d.cols; ++c) {
            const auto i = static_cast<std::size_t>(row * d.cols + c);
            for (std::size_t s = 0; s < runtime.size(); ++s) {
                const auto& p = d.params[s];
                const T v = runtime[s]->kind == ParamKind::PerFeature ? p[static_cast<std::size_t>(c)] : p[0];
                p64[s] = static_cast<double>(v);
                p32[s] = static_cast<float>(v);
            }
            interp.run<double>(static_cast<double>(d.x[i]), c, p64, out64);
            r.y[i] = out64[0];
            r.dx[i] = static_cast<double>(d.dy[i]) * out64[1];
            if constexpr (std::is_same_v<T, float>) {
                interp.run<float>(d.x[i], c, p32, out32);
                r.y32[i] = out32[0];
                r.dx32[i] = d.dy[i] * out32[1];
            }
            for (std::size_t g = 0; g < trainable.size(); ++g) {
                const std::size_t slot = trainable[g]->kind == ParamKind::PerFeature ? static_cast<std::size_t>(c) : 0;
                const double term = static_cast<double>(d.dy[i]) * out64[2 + g];
                r.grads[g][slot] += term;
                r.grads_abs[g][slot] += std::abs(term);
                if constexpr (std::is_same_v<T, float>)
                {
                    const float t32 = d.dy[i] * out32[2 + g];
                    if (std::isnan(t32)) r.grads_nan[g][slot] = 1;
                    r.grads32[g][slot] += static_cast<double>(t32);
                }
            }
        }
    return r;
}

struct Tolerance {
    double rtol, atol;
};
template <class T>
Tolerance tolerance() {
    if constexpr (std::is_same_v<T, float>) return {2e-5, 2e-6};
    return {1e-12, 1e-13};
}

/// `got` agrees with the double reference or with the float one.
inline bool agrees(double got, double ref, double alt, Tolerance tol) {
    if (std::isnan(got)) return std::isnan(ref) || std::isnan(alt);
    if (got == ref || got == alt) return true;
    auto near = [&](double r) { return std::isfinite(r) && std::abs(got - r) <= tol.rtol * std::abs(r) + tol.atol; };
    return near(ref) || near(alt);
}

/// Run the JIT kernel's forward and backward (out of place) and compare with
/// the reference. Returns "" or a description of the first mismatch.
template <class T>
std::string check_against_reference(const Kernel& k, const KernelData<T>& d, const Reference& r) {
    const auto n = d.x.size();
    const Tolerance tol = tolerance<T>();
    std::vector<const T*> params;
    for (const auto& p : d.params) params.push_back(p.data());
    std::vector<T> y(n), dx(n);
    k.forward(d.x.data(), y.data(), d.rows, d.cols, params);
    std::ostringstream why;
    for (std::size_t i = 0; i < n; ++i) {
        const double alt = std::is_same_v<T, float> ? static_cast<double>(r.y32[i]) : r.y[i];
        if (!agrees(static_cast<double>(y[i]), r.y[i], alt, tol)) {
            why.precision(17);
            why << "forward at " << i << " (x = " << d.x[i] << "): got " << y[i] << ", want " << r.y[i];
            return why.str();
        }
    }
    const auto trainable = k.spec().trainable_params();
    std::vector<std::vector<T>> grads;
    std::vector<T*> grad_ptrs;
    for (std::size_t g = 0; g < trainable.size(); ++g) grads.emplace_back(r.grads[g].size(), T(12345));
    for (auto& g : grads) grad_ptrs.push_back(g.data());
    k.backward(d.x.data(), d.dy.data(), dx.data(), d.rows, d.cols, params, grad_ptrs);
    for (std::size_t i = 0; i < n; ++i) {
        const double alt = std::is_same_v<T, float> ? static_cast<double>(r.dx32[i]) : r.dx[i];
        if (!agrees(static_cast<double>(dx[i]), r.dx[i], alt, tol)) {
            why.precision(17);
            why << "backward dx at " << i << " (x = " << d.x[i] << ", dy = " << d.dy[i] << "): got " << dx[i]
                << ", want " << r.dx[i];
            return why.str();
        }
    }
    for (std::size_t g = 0; g < grads.size(); ++g)
        for (std::size_t c = 0; c < grads[g].size(); ++c) {
            const double got = static_cast<double>(grads[g][c]);
            const double want = r.grads[g][c];
            const double allowed = tol.rtol * 4 * r.grads_abs[g][c] + tol.atol;
            const bool nan_ok = std::isnan(want) || (!r.grads_nan.empty() && r.grads_nan[g][c]);
            const double alt = r.grads32.empty() ? want : r.grads32[g][c];
            // The float reference's sum: where a float term overflows (3.5^148
            // in a term whose double value is finite), inf, or NaN from inf - inf.
            const bool ok = std::isnan(got) ? nan_ok || std::isnan(alt)
                                            : (got == want || got == alt ||
                                               (std::isfinite(want) && std::abs(got - want) <= allowed) ||
                                               (std::isfinite(alt) && std::abs(got - alt) <= allowed) ||
                                               (std::isinf(got) && std::isnan(r.grads_abs[g][c])));
            if (!ok) {
                why.precision(17);
                why << "gradient of '" << trainable[g]->name << "' [" << c << "]: got " << got << ", want " << want
                    << " (sum of |terms| " << r.grads_abs[g][c] << ")";
                return why.str();
            }
        }
    return {};
}

}  // namespace actjit::test
