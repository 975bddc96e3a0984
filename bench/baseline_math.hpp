// The math of every catalog activation, written once by hand, the way a
// careful engineer writes a fused float32 kernel: y = f(x), and for the
// backward pass df/dx and (where the catalog makes a parameter trainable) the
// partial derivative with respect to that parameter.
//
// This header is included by two translation units compiled with different
// flags (baselines_scalar.cpp: -O3, libm; baselines_simd.cpp: -O3 -ffast-math
// -fopenmp-simd, which vectorizes the libm calls through glibc's libmvec).
// Everything here therefore has internal linkage: the two copies must never be
// merged by the linker.
//
// Conventions are those of the catalog (docs/PERFORMANCE.md, CATALOG_TABLE):
// PyTorch's derivative at kinks (relu'(0) = 0, hardtanh' = 0 at the bounds,
// hardswish' = -0.5 at -3 and 1.5 at 3), and zero gradients where the
// reference evaluator's NaN-safe rules give zero (prepu at x <= 0).
// Fixed parameters are folded in as constants, as a hand-written kernel would.
// All math is branch-free (both operands computed, then selected) so that the
// simd translation unit vectorizes; libm is called through the C names (expf,
// not std::exp) so that glibc's `declare simd` variants apply.
#pragma once

#include <math.h>

#include <cstdint>
#include <string_view>

namespace actjit_bench {
namespace {

/// How an activation sees the tensor: element-wise, element-wise with one
/// shared trainable scalar, per-feature (the column index matters), or with a
/// trainable per-feature parameter.
enum class Shape { Elementwise, SharedParam, FeatureIndex, PerFeatureParam };

/// The backward pass of one element: df/dx and df/dparam.
struct Grad {
    float dx;
    float dp;
};

inline float select(bool c, float a, float b) { return c ? a : b; }
inline float relu(float x) { return x <= 0.0f ? 0.0f : x; }  // NaN passes
inline float sigmoid_of_exp_neg(float e) { return 1.0f / (1.0f + e); }  // e = exp(-z)

// ---- Seeds -------------------------------------------------------------------

/// relu(x)^(softsign(s) + 1), s trainable per feature.
struct Prepu {
    static constexpr std::string_view name = "prepu";
    static constexpr Shape shape = Shape::PerFeatureParam;
    static constexpr float bench_param = 0.5f;  // exponent 4/3
    struct C {
        float q, dq;  // q = softsign(s) + 1, dq = dq/ds = 1 / (1 + |s|)^2
    };
    static C prepare(float s) {
        const float d = 1.0f + fabsf(s);
        return {1.0f + s / d, 1.0f / (d * d)};
    }
    // pow and log get |x|: the result is discarded where x <= 0, and
    // libmvec's powf/logf take a slow scalar path for every vector holding a
    // negative lane (a careful engineer finds this in the profile). A select
    // to 1 is folded away by -ffast-math (GCC knows x > 0 in the kept arm).
    static float positive(float x) { return fabsf(x); }
    static float f(float x, C c) { return select(x <= 0.0f, 0.0f, powf(positive(x), c.q)); }
    static Grad df(float x, C c) {
        // d/dx x^q = q x^(q-1); d/ds x^q = x^q log(x) dq/ds; both 0 for x <= 0
        // (relu'(0) = 0 and d/db a^b = 0 where a == 0: no 0 * inf).
        const float xp = positive(x);
        const float pm1 = powf(xp, c.q - 1.0f);
        const float l = logf(xp);
        const bool off = x <= 0.0f;
        return {select(off, 0.0f, c.q * pm1), select(off, 0.0f, pm1 * x * l * c.dq)};
    }
};

/// where(x < -b, 0, where(x < b, (x + b)^p / a, x + (2b)^p / a - b)), a = b = 1, p = 2.
struct Expolu {
    static constexpr std::string_view name = "expolu";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) {
        const float t = x + 1.0f;
        return select(x < -1.0f, 0.0f, select(x < 1.0f, t * t, x + 3.0f));
    }
    static float df(float x) { return select(x < -1.0f, 0.0f, select(x < 1.0f, 2.0f * (x + 1.0f), 1.0f)); }
};

/// where(x < -1, 0, where(x < 1, (x + 1)^k / 2^k, x)), k = 4.
struct Powerlu {
    static constexpr std::string_view name = "powerlu";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) {
        const float t = x + 1.0f, t2 = t * t;
        return select(x < -1.0f, 0.0f, select(x < 1.0f, t2 * t2 * (1.0f / 16.0f), x));
    }
    static float df(float x) {
        const float t = x + 1.0f;
        return select(x < -1.0f, 0.0f, select(x < 1.0f, t * t * t * 0.25f, 1.0f));
    }
};

/// where(x < -c, 0, where(x < c, (x + c)^2 / (4c), x)), c = 0.1.
struct Paralu {
    static constexpr std::string_view name = "paralu";
    static constexpr Shape shape = Shape::Elementwise;
    static constexpr float c = 0.1f;
    static float f(float x) {
        const float t = x + c;
        return select(x < -c, 0.0f, select(x < c, t * t * (1.0f / (4.0f * c)), x));
    }
    static float df(float x) { return select(x < -c, 0.0f, select(x < c, (x + c) * (1.0f / (2.0f * c)), 1.0f)); }
};

/// where(x < -c, 0, where(x < c/3, (x + c)^4 * 27 / (256 c^3), x)), c = 0.1.
struct Quartlu {
    static constexpr std::string_view name = "quartlu";
    static constexpr Shape shape = Shape::Elementwise;
    static constexpr double c = 0.1;
    static constexpr float k = static_cast<float>(27.0 / (256.0 * c * c * c));
    static float f(float x) {
        const float t = x + float(c), t2 = t * t;
        return select(x < float(-c), 0.0f, select(x < float(c / 3), t2 * t2 * k, x));
    }
    static float df(float x) {
        const float t = x + float(c);
        return select(x < float(-c), 0.0f, select(x < float(c / 3), t * t * t * (4.0f * k), 1.0f));
    }
};

/// x * sigmoid(x).
struct Silu {
    static constexpr std::string_view name = "silu";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return x * sigmoid_of_exp_neg(expf(-x)); }
    static float df(float x) {
        // (x s)' = s + x s (1 - s)
        const float s = sigmoid_of_exp_neg(expf(-x));
        return s * (1.0f + x * (1.0f - s));
    }
};

/// x * sigmoid(beta x), beta = 1 (fixed).
struct Swish {
    static constexpr std::string_view name = "swish";
    static constexpr Shape shape = Shape::Elementwise;
    static constexpr float beta = 1.0f;
    static float f(float x) { return x * sigmoid_of_exp_neg(expf(-beta * x)); }
    static float df(float x) {
        const float s = sigmoid_of_exp_neg(expf(-beta * x));
        return s * (1.0f + beta * x * (1.0f - s));
    }
};

/// soft_exponential: alpha < 0: -log1p(-alpha (x + alpha)) / alpha;
/// alpha == 0: x; alpha > 0: expm1(alpha x) / alpha + alpha. alpha is a
/// trainable shared scalar, so the branch is taken once per call, outside the
/// loop: three variants.
struct SoftExponential {
    static constexpr std::string_view name = "soft_exponential";
    static constexpr Shape shape = Shape::SharedParam;
    static constexpr float bench_param = 0.5f;  // the exp branch (the default 0 is the identity)
    struct C {
        float a, inv;
    };
    static C prepare(float a) { return {a, a != 0.0f ? 1.0f / a : 0.0f}; }

    struct Negative {
        static float f(float x, C c) { return -log1pf(-c.a * (x + c.a)) * c.inv; }
        static Grad df(float x, C c) {
            // u = -a (x + a); y = -log1p(u) / a
            // dy/dx = 1 / (1 + u); dy/da = (x + 2a) / ((1 + u) a) + log1p(u) / a^2
            const float u = -c.a * (x + c.a);
            const float r = 1.0f / (1.0f + u);
            const float l = log1pf(u);
            return {r, (x + 2.0f * c.a) * r * c.inv + l * c.inv * c.inv};
        }
    };
    struct Zero {
        // y = x + a (1 + x^2 / 2): dy/dx = 1 + a x, dy/da = 1 + x^2 / 2
        static float f(float x, C c) { return x + c.a * (1.0f + 0.5f * x * x); }
        static Grad df(float x, C c) { return {1.0f + c.a * x, 1.0f + 0.5f * x * x}; }
    };
    struct Positive {
        static float f(float x, C c) { return expm1f(c.a * x) * c.inv + c.a; }
        static Grad df(float x, C c) {
            // m = expm1(a x); dy/dx = m + 1; dy/da = x (m + 1) / a - m / a^2 + 1
            const float m = expm1f(c.a * x);
            return {m + 1.0f, x * (m + 1.0f) * c.inv - m * c.inv * c.inv + 1.0f};
        }
    };
    template <class Fn>
    static void dispatch(float a, Fn&& fn) {
        if (a < 0.0f)
            fn(Negative{}, prepare(a));
        else if (a > 0.0f)
            fn(Positive{}, prepare(a));
        else
            fn(Zero{}, prepare(a));  // also NaN: the Zero variant propagates it
    }
};

/// Even features relu(x), odd features -relu(-x).
struct Brelu {
    static constexpr std::string_view name = "brelu";
    static constexpr Shape shape = Shape::FeatureIndex;
    static float f(float x, std::int64_t feature) {
        return select((feature & 1) == 0, relu(x), select(x >= 0.0f, 0.0f, x));
    }
    static float df(float x, std::int64_t feature) {
        return select((feature & 1) == 0, select(x > 0.0f, 1.0f, 0.0f), select(x < 0.0f, 1.0f, 0.0f));
    }
};

/// x * tanh(softplus(x)). With e = exp(x): tanh(log1p(e)) = n / (n + 2),
/// n = e (e + 2): one exp instead of exp, log1p and tanh. exp's argument is
/// clamped at 20, where n / (n + 2) is already 1 in float.
struct Mish {
    static constexpr std::string_view name = "mish";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) {
        const float e = expf(fminf(x, 20.0f));
        const float n = e * (e + 2.0f);
        return x * (n / (n + 2.0f));
    }
    static float df(float x) {
        // (x t)' = t + x (1 - t^2) sigmoid(x), sigmoid(x) = e / (1 + e)
        const float e = expf(fminf(x, 20.0f));
        const float n = e * (e + 2.0f);
        const float t = n / (n + 2.0f);
        return t + x * (1.0f - t * t) * (e / (1.0f + e));
    }
};

// ---- PyTorch's standard set -------------------------------------------------

struct Relu {
    static constexpr std::string_view name = "relu";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return relu(x); }
    static float df(float x) { return select(x > 0.0f, 1.0f, 0.0f); }
};

struct LeakyRelu {
    static constexpr std::string_view name = "leaky_relu";
    static constexpr Shape shape = Shape::Elementwise;
    static constexpr float slope = 0.01f;
    static float f(float x) { return select(x > 0.0f, x, slope * x); }
    static float df(float x) { return select(x > 0.0f, 1.0f, slope); }
};

/// where(x > 0, x, a x), a trainable shared scalar.
struct Prelu {
    static constexpr std::string_view name = "prelu";
    static constexpr Shape shape = Shape::SharedParam;
    static constexpr float bench_param = 0.25f;
    struct C {
        float a;
    };
    static C prepare(float a) { return {a}; }
    static float f(float x, C c) { return select(x > 0.0f, x, c.a * x); }
    static Grad df(float x, C c) {
        const bool pos = x > 0.0f;
        return {select(pos, 1.0f, c.a), select(pos, 0.0f, x)};
    }
    template <class Fn>
    static void dispatch(float a, Fn&& fn) {
        fn(Prelu{}, prepare(a));
    }
};

struct Elu {
    static constexpr std::string_view name = "elu";
    static constexpr Shape shape = Shape::Elementwise;
    static constexpr float alpha = 1.0f;
    static float f(float x) { return select(x > 0.0f, x, alpha * expm1f(x)); }
    static float df(float x) { return select(x > 0.0f, 1.0f, alpha * (expm1f(x) + 1.0f)); }
};

struct Selu {
    static constexpr std::string_view name = "selu";
    static constexpr Shape shape = Shape::Elementwise;
    static constexpr float scale = 1.0507009873554805f;
    static constexpr float alpha = 1.6732632423543772f;
    static float f(float x) { return scale * select(x > 0.0f, x, alpha * expm1f(x)); }
    static float df(float x) { return select(x > 0.0f, scale, (scale * alpha) * (expm1f(x) + 1.0f)); }
};

struct Celu {
    static constexpr std::string_view name = "celu";
    static constexpr Shape shape = Shape::Elementwise;
    static constexpr float alpha = 1.0f;
    static float f(float x) { return select(x > 0.0f, x, alpha * expm1f(x * (1.0f / alpha))); }
    static float df(float x) { return select(x > 0.0f, 1.0f, expm1f(x * (1.0f / alpha)) + 1.0f); }
};

/// 0.5 x (1 + erf(x / sqrt 2)).
struct Gelu {
    static constexpr std::string_view name = "gelu";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
    static float df(float x) {
        // Phi(x) + x phi(x)
        return 0.5f * (1.0f + erff(x * 0.70710678118654752f)) + x * 0.39894228040143268f * expf(-0.5f * x * x);
    }
};

/// 0.5 x (1 + tanh(k0 (x + k1 x^3))).
struct GeluTanh {
    static constexpr std::string_view name = "gelu_tanh";
    static constexpr Shape shape = Shape::Elementwise;
    static constexpr float k0 = 0.7978845608028654f, k1 = 0.044715f;
    static float f(float x) { return 0.5f * x * (1.0f + tanhf(k0 * (x + k1 * x * x * x))); }
    static float df(float x) {
        const float x2 = x * x;
        const float t = tanhf(k0 * x * (1.0f + k1 * x2));
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * k0 * (1.0f + 3.0f * k1 * x2);
    }
};

struct Sigmoid {
    static constexpr std::string_view name = "sigmoid";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return sigmoid_of_exp_neg(expf(-x)); }
    static float df(float x) {
        const float s = sigmoid_of_exp_neg(expf(-x));
        return s * (1.0f - s);
    }
};

/// -softplus(-x) = min(x, 0) - log1p(exp(-|x|)).
struct Logsigmoid {
    static constexpr std::string_view name = "logsigmoid";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return fminf(x, 0.0f) - log1pf(expf(-fabsf(x))); }
    static float df(float x) {
        // sigmoid(-x), from e = exp(-|x|)
        const float e = expf(-fabsf(x));
        return select(x >= 0.0f, e, 1.0f) / (1.0f + e);
    }
};

struct Tanh {
    static constexpr std::string_view name = "tanh";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return tanhf(x); }
    static float df(float x) {
        const float t = tanhf(x);
        return 1.0f - t * t;
    }
};

struct Hardtanh {
    static constexpr std::string_view name = "hardtanh";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return select(x <= -1.0f, -1.0f, select(x >= 1.0f, 1.0f, x)); }
    static float df(float x) { return select(x > -1.0f && x < 1.0f, 1.0f, 0.0f); }
};

struct Hardsigmoid {
    static constexpr std::string_view name = "hardsigmoid";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return select(x <= -3.0f, 0.0f, select(x >= 3.0f, 1.0f, x * (1.0f / 6.0f) + 0.5f)); }
    static float df(float x) { return select(x > -3.0f && x < 3.0f, 1.0f / 6.0f, 0.0f); }
};

struct Hardswish {
    static constexpr std::string_view name = "hardswish";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return select(x < -3.0f, 0.0f, select(x <= 3.0f, x * (x + 3.0f) * (1.0f / 6.0f), x)); }
    static float df(float x) {
        return select(x < -3.0f, 0.0f, select(x <= 3.0f, x * (1.0f / 3.0f) + 0.5f, 1.0f));
    }
};

/// where(beta x > threshold, x, log1p(exp(beta x)) / beta), beta = 1, threshold = 20.
struct Softplus {
    static constexpr std::string_view name = "softplus";
    static constexpr Shape shape = Shape::Elementwise;
    static constexpr float beta = 1.0f, threshold = 20.0f;
    static float f(float x) {
        // exp sees at most the threshold (no overflow); NaN still propagates
        // (fminf would turn it into the threshold).
        const float z = beta * x;
        return select(z > threshold, x, log1pf(expf(select(z > threshold, threshold, z))) * (1.0f / beta));
    }
    static float df(float x) {
        const float z = beta * x;
        const float e = expf(select(z > threshold, threshold, z));
        return select(z > threshold, 1.0f, e / (1.0f + e));
    }
};

struct Softsign {
    static constexpr std::string_view name = "softsign";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return x / (1.0f + fabsf(x)); }
    static float df(float x) {
        const float d = 1.0f + fabsf(x);
        return 1.0f / (d * d);
    }
};

struct Tanhshrink {
    static constexpr std::string_view name = "tanhshrink";
    static constexpr Shape shape = Shape::Elementwise;
    static float f(float x) { return x - tanhf(x); }
    static float df(float x) {
        const float t = tanhf(x);
        return t * t;
    }
};

/// Calls fn(A{}) for every activation above, in catalog order.
template <class Fn>
void for_each_activation(Fn&& fn) {
    fn(Prepu{}), fn(Expolu{}), fn(Powerlu{}), fn(Paralu{}), fn(Quartlu{}), fn(Silu{}), fn(Swish{});
    fn(SoftExponential{}), fn(Brelu{}), fn(Mish{}), fn(Relu{}), fn(LeakyRelu{}), fn(Prelu{});
    fn(Elu{}), fn(Selu{}), fn(Celu{}), fn(Gelu{}), fn(GeluTanh{}), fn(Sigmoid{}), fn(Tanh{});
    fn(Softsign{}), fn(Logsigmoid{}), fn(Hardtanh{}), fn(Hardsigmoid{}), fn(Hardswish{}), fn(Softplus{});
    fn(Tanhshrink{});
}

}  // namespace
}  // namespace actjit_bench
