// The value of every operation, once, for float and double. Private to src/.
//
// The float instantiation calls float libm (std::exp(float) is expf, ...), so
// the float interpreter is a real float reference, not double rounded late.
// Kinked functions propagate NaN like PyTorch: relu, abs, sign, min, max and
// clamp of a NaN are NaN.
#pragma once

#include <actjit/expr.hpp>

#include <cmath>
#include <limits>

namespace actjit::detail {

/// Truth value of a condition operand: non-zero and not NaN.
template <class T>
inline bool truthy(T c) noexcept {
    return c != T(0) && !std::isnan(c);
}

/// sigmoid(x) = 1 / (1 + exp(-x)), in the form that never overflows.
template <class T>
inline T sigmoid(T x) noexcept {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    T e = std::exp(x);
    return e / (T(1) + e);
}

/// softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).
template <class T>
inline T softplus(T x) noexcept {
    if (std::isnan(x)) return x;
    return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x)));
}

/// softsign(x) = x / (1 + |x|), with its limits at +-inf.
template <class T>
inline T softsign(T x) noexcept {
    if (std::isinf(x)) return std::copysign(T(1), x);
    return x / (T(1) + std::abs(x));
}

template <class T>
inline T nan_min(T a, T b) noexcept {
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return b < a ? b : a;
}

template <class T>
inline T nan_max(T a, T b) noexcept {
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return b > a ? b : a;
}

/// op applied to operand values. Leaves are not operations (the interpreter
/// loads them); asking for one is a bug.
template <class T>
T apply(Op op, T a, T b, T c) {
    const T one = T(1), zero = T(0);
    switch (op) {
    case Op::Const:
    case Op::Input:
    case Op::Param:
    case Op::Feature: break;
    case Op::Add: return a + b;
    case Op::Sub: return a - b;
    case Op::Mul: return a * b;
    case Op::Div: return a / b;
    case Op::Pow: return std::pow(a, b);
    case Op::Neg: return -a;
    case Op::Lt: return a < b ? one : zero;
    case Op::Le: return a <= b ? one : zero;
    case Op::Gt: return a > b ? one : zero;
    case Op::Ge: return a >= b ? one : zero;
    case Op::Eq: return a == b ? one : zero;
    case Op::Ne: return a != b ? one : zero;
    case Op::And: return truthy(a) && truthy(b) ? one : zero;
    case Op::Or: return truthy(a) || truthy(b) ? one : zero;
    case Op::Not: return truthy(a) ? zero : one;
    case Op::Where: return truthy(a) ? b : c;
    case Op::Exp: return std::exp(a);
    case Op::Exp2: return std::exp2(a);
    case Op::Log: return std::log(a);
    case Op::Log2: return std::log2(a);
    case Op::Log10: return std::log10(a);
    case Op::Log1p: return std::log1p(a);
    case Op::Expm1: return std::expm1(a);
    case Op::Sqrt: return std::sqrt(a);
    case Op::Cbrt: return std::cbrt(a);
    case Op::Abs: return std::abs(a);
    case Op::Sign: return std::isnan(a) ? a : a > zero ? one : a < zero ? -one : zero;
    case Op::Floor: return std::floor(a);
    case Op::Sin: return std::sin(a);
    case Op::Cos: return std::cos(a);
    case Op::Tan: return std::tan(a);
    case Op::Asin: return std::asin(a);
    case Op::Acos: return std::acos(a);
    case Op::Atan: return std::atan(a);
    case Op::Sinh: return std::sinh(a);
    case Op::Cosh: return std::cosh(a);
    case Op::Tanh: return std::tanh(a);
    case Op::Asinh: return std::asinh(a);
    case Op::Acosh: return std::acosh(a);
    case Op::Atanh: return std::atanh(a);
    case Op::Erf: return std::erf(a);
    case Op::Erfc: return std::erfc(a);
    case Op::Sigmoid: return sigmoid(a);
    case Op::Softplus: return softplus(a);
    case Op::Softsign: return softsign(a);
    case Op::Relu: return std::isnan(a) ? a : a > zero ? a : zero;
    case Op::Min: return nan_min(a, b);
    case Op::Max: return nan_max(a, b);
    // mod(a, b) = a - b * floor(a / b): the result has the sign of b (Python's %).
    case Op::Mod: return a - b * std::floor(a / b);
    // clamp(u, lo, hi) = min(max(u, lo), hi), as torch.clamp.
    case Op::Clamp: return nan_min(nan_max(a, b), c);
    }
    ACTJIT_ASSERT(false, "apply() on a leaf");
    return zero;
}

}  // namespace actjit::detail
