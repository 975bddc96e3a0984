// Vector transcendental functions for the JIT (see docs/VECTOR_MATH.md).
//
// Three implementations, chosen per operation and element type by
// vmath::choice() from measurements (docs/VECTOR_MATH.md has the numbers):
//
//  * inline: branch-free polynomial IR built with IRBuilderBase only (no
//    globals, no calls), generic over the element type (float or double) and
//    the lane count, so the code generator can put it anywhere, masked tail
//    iterations included. Classic scheme: Cody-Waite range reduction, a
//    near-minimax polynomial evaluated with FMA (Horner), exponent handling
//    through integer bit manipulation. Used for the activation hot paths:
//    exp, exp2, expm1, log, log2, log10, log1p, tanh, sigmoid, softplus, erf
//    (f32), sinh, cosh, asinh, acosh.
//  * glibc libmvec calls, width-matched to the ISA the function is compiled
//    for (AVX-512F, AVX2, SSE2), splitting or padding other widths:
//    trigonometric and inverse trigonometric functions, atanh, erf (f64),
//    erfc, cbrt, pow (called with base 1 where the base is 0, whose C
//    result is selected instead: libmvec's slow path costs 3x otherwise).
//  * SLEEF 3.5 calls (u10 variants, erfc u15), likewise: f64 tan, and every
//    other function for comparison (emit_sleef).
//
// Polynomial coefficients: fitted for this project with mpmath 1.3 chebyfit
// at 50 digits (a Chebyshev least-squares fit, within a small factor of
// minimax) of the function, interval and degree stated above each table,
// with the error of the fit.
//
// Every emitter clears the builder's fast-math flags for its own
// instructions: the range reductions depend on exact rounding.

#include "vector_math_detail.hpp"

#include <actjit/detail/poly_tables.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace actjit::jit {
namespace vmath {
namespace {

using llvm::ArrayRef;
using llvm::Value;

// ---- Polynomial coefficient tables: include/actjit/detail/poly_tables.hpp ---

using namespace actjit::poly;

// ---- A small IR vocabulary over one float type ------------------------------

/// Emits arithmetic on values of one type T (float, double, or a fixed
/// vector of them), with the matching integer type for bit manipulation.
class Math {
public:
    Math(llvm::IRBuilderBase& b, llvm::Type* type) : b_(b), t_(type) {
        llvm::Type* elt = type->getScalarType();
        f64_ = elt->isDoubleTy();
        llvm::Type* ielt = b.getIntNTy(f64_ ? 64 : 32);
        if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(type))
            it_ = llvm::FixedVectorType::get(ielt, vt->getNumElements());
        else
            it_ = ielt;
    }

    llvm::IRBuilderBase& b() { return b_; }
    bool f64() const { return f64_; }
    /// Without fast paths unless_any emits the exact code alone (masked
    /// tails: one vector per call, where the second copy would only cost
    /// compile time).
    void set_fast_paths(bool on) { fast_paths_ = on; }
    int mant_bits() const { return f64_ ? 52 : 23; }
    int exp_bias() const { return f64_ ? 1023 : 127; }
    double min_normal() const { return f64_ ? 0x1p-1022 : 0x1p-126; }

    Value* c(double v) { return llvm::ConstantFP::get(t_, v); }
    Value* ci(std::int64_t v) { return llvm::ConstantInt::get(it_, static_cast<std::uint64_t>(v), true); }
    Value* inf() { return llvm::ConstantFP::getInfinity(t_, false); }
    Value* ninf() { return llvm::ConstantFP::getInfinity(t_, true); }
    Value* nan() { return llvm::ConstantFP::getNaN(t_); }

    Value* add(Value* a, Value* x) { return b_.CreateFAdd(a, x); }
    Value* sub(Value* a, Value* x) { return b_.CreateFSub(a, x); }
    Value* mul(Value* a, Value* x) { return b_.CreateFMul(a, x); }
    Value* div(Value* a, Value* x) { return b_.CreateFDiv(a, x); }
    Value* neg(Value* a) { return b_.CreateFNeg(a); }
    Value* fma(Value* a, Value* x, Value* y) { return b_.CreateIntrinsic(llvm::Intrinsic::fma, {t_}, {a, x, y}); }

    /// a / d without the divider where the function is compiled for AVX-512
    /// and T is whole 512-bit vectors (vdivps and vdivpd are the bottleneck
    /// of loops that do little else: softsign): r = vrcp14(d) (relative
    /// error 2^-14), Newton steps r += r (1 - d r) (one for floats, two for
    /// doubles) and q = a r: within 2 ulp of a / d, as -ffast-math code
    /// divides, and r is shared by every quotient with the same divisor. (A
    /// remainder step instead of the Newton step, q = q0 - r (d q0 - a), is
    /// within 0.6 ulp for the same count, but per quotient, not per divisor:
    /// softsign's backward 0.9x, x / (1 + x*x)'s 0.6x.) For |d| >= 1 (or
    /// NaN); `inf_operands`: d may be +-inf, where the Newton step is NaN and
    /// a * 0 is the quotient (a compare of the estimate with 0 and a blend
    /// more). fdiv elsewhere.
    Value* quotient(Value* a, Value* d, bool inf_operands = false) {
        Value* r0 = rcp14(d);
        if (r0 == nullptr) return div(a, d);
        Value* r = r0;
        for (int step = 0; step < (f64_ ? 2 : 1); ++step) r = fma(r, fma(neg(d), r, c(1.0)), r);
        Value* q = mul(a, r);
        // vrcp14(+-inf) = +-0, and no other |d| >= 1 has a zero estimate.
        return inf_operands ? sel(eq(r0, c(0.0)), mul(a, c(0.0)), q) : q;
    }
    Value* abs(Value* a) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a); }
    Value* copysign(Value* mag, Value* sgn) {
        return b_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, mag, sgn);
    }
    Value* sel(Value* cond, Value* a, Value* x) { return b_.CreateSelect(cond, a, x); }

    Value* gt(Value* a, Value* x) { return b_.CreateFCmpOGT(a, x); }
    Value* ge(Value* a, Value* x) { return b_.CreateFCmpOGE(a, x); }
    Value* lt(Value* a, Value* x) { return b_.CreateFCmpOLT(a, x); }
    Value* eq(Value* a, Value* x) { return b_.CreateFCmpOEQ(a, x); }
    Value* uno(Value* a) { return b_.CreateFCmpUNO(a, a); }
    Value* floor(Value* a) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, a); }
    /// a < x or either is NaN.
    Value* ult(Value* a, Value* x) { return b_.CreateFCmpULT(a, x); }

    /// Clamp to [lo, hi]; NaN stays NaN (the comparisons are false for it).
    Value* clamp(Value* x, double lo, double hi) {
        x = sel(gt(x, c(hi)), c(hi), x);
        return sel(lt(x, c(lo)), c(lo), x);
    }

    Value* bits(Value* x) { return b_.CreateBitCast(x, it_); }
    Value* flt(Value* i) { return b_.CreateBitCast(i, t_); }
    Value* iadd(Value* a, Value* x) { return b_.CreateAdd(a, x); }
    Value* isub(Value* a, Value* x) { return b_.CreateSub(a, x); }
    Value* iand(Value* a, Value* x) { return b_.CreateAnd(a, x); }
    Value* shl(Value* a, int n) { return b_.CreateShl(a, ci(n)); }
    Value* ashr(Value* a, int n) { return b_.CreateAShr(a, ci(n)); }
    Value* lshr(Value* a, int n) { return b_.CreateLShr(a, ci(n)); }
    Value* ior(Value* a, Value* x) { return b_.CreateOr(a, x); }
    Value* itof(Value* i) { return b_.CreateSIToFP(i, t_); }
    Value* imin(Value* a, Value* x) { return sel(b_.CreateICmpSLT(a, x), a, x); }
    /// Truncation to the integer type; only for values that fit it (else poison).
    Value* ftoi(Value* a) { return b_.CreateFPToSI(a, it_); }
    Value* ieq(Value* a, Value* x) { return b_.CreateICmpEQ(a, x); }

    /// Horner's scheme with FMA, coefficients lowest degree first.
    template <std::size_t N>
    Value* poly(Value* x, const double (&k)[N]) {
        Value* acc = c(k[N - 1]);
        for (std::size_t i = N - 1; i-- > 0;) acc = fma(acc, x, c(k[i]));
        return acc;
    }

    /// Estrin's scheme (pairs, then powers x^2, x^4, ...): more operations
    /// than Horner but a critical path of ~log2(N) FMAs instead of N, for
    /// code whose speed is bound by latency (pow_f32_).
    template <std::size_t N>
    Value* poly_estrin(Value* x, const double (&k)[N]) {
        std::vector<Value*> terms;
        for (std::size_t i = 0; i < N; i += 2)
            terms.push_back(i + 1 < N ? fma(c(k[i + 1]), x, c(k[i])) : c(k[i]));
        Value* xp = mul(x, x);
        while (terms.size() > 1) {
            std::vector<Value*> next;
            for (std::size_t i = 0; i < terms.size(); i += 2)
                next.push_back(i + 1 < terms.size() ? fma(terms[i + 1], xp, terms[i]) : terms[i]);
            terms.swap(next);
            if (terms.size() > 1) xp = mul(xp, xp);
        }
        return terms[0];
    }

    /// 2^n for integer n (in the integer type) with -bias < n <= bias.
    Value* pow2i(Value* n) { return flt(shl(iadd(n, ci(exp_bias())), mant_bits())); }

    /// Round to the nearest integer by adding 1.5 * 2^mant: returns the
    /// rounded value as float and as integer bits (no fptosi: NaN lanes give
    /// harmless garbage integers instead of poison). Needs |x| < 2^(mant-1).
    std::pair<Value*, Value*> round_int(Value* x_plus_magic) {
        Value* m = magic();
        Value* n_f = sub(x_plus_magic, m);
        Value* n_i = isub(bits(x_plus_magic), bits(m));
        return {n_f, n_i};
    }
    Value* magic() { return c(f64_ ? 6755399441055744.0 : 12582912.0); }

    /// `fast` where no lane of `bad` is set, else `slow()` for the whole
    /// value: a branch to a block of its own, weighted as rare. Where the
    /// builder cannot branch (not at the end of a block in a function), only
    /// `slow()`: pass `fast` as a thunk too, so nothing is emitted for it.
    /// Both must give the same bits in every lane that is not bad, so the
    /// result of a lane never depends on its neighbours.
    template <class Fast, class Slow>
    Value* unless_any(Value* bad_of_fast_args, Fast fast, Slow slow) {
        if (!can_branch()) return slow();
        Value* f = fast();
        return join_rare_slow_path(b_, bad_of_fast_args, f, slow, "vmath");
    }

    /// Whether unless_any emits a fast path: fast paths are on and the
    /// builder is at the end of a block of a function.
    bool can_branch() {
        llvm::BasicBlock* from = b_.GetInsertBlock();
        return fast_paths_ && from != nullptr && from->getParent() != nullptr && b_.GetInsertPoint() == from->end();
    }

    /// Whether T is whole 256-bit vectors of floats and the function is
    /// compiled for AVX2 (AVX-512 included): lookup() of 8 entries can permute.
    bool has_avx2_float_parts() {
        auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t_);
        if (f64_ || vt == nullptr || vt->getNumElements() % 8 != 0) return false;
        llvm::BasicBlock* bb = b_.GetInsertBlock();
        return bb != nullptr && function_isa(bb->getParent()).avx2;
    }

    /// Whether T is whole 512-bit vectors and the function is compiled for
    /// AVX-512: quotient() takes the estimate, ldexp() vscalefps.
    bool has_avx512_parts() {
        auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t_);
        if (vt == nullptr || vt->getNumElements() % (f64_ ? 8 : 16) != 0) return false;
        llvm::BasicBlock* bb = b_.GetInsertBlock();
        return bb != nullptr && function_isa(bb->getParent()).avx512f;
    }

    /// p * 2^n for integer n (n_f: n as T, n_i: as integers) where the
    /// product is correctly rounded once: with AVX-512, vscalefps /
    /// vscalefpd (one instruction, every n: the same bits as the multiply by
    /// a normal 2^n, and as scale()'s two exact-then-rounded products); else
    /// p * pow2i(n_i), for -bias < n <= bias.
    Value* ldexp(Value* p, Value* n_f, Value* n_i) {
        if (!has_avx512_parts()) return mul(p, pow2i(n_i));
        const auto id = f64_ ? llvm::Intrinsic::x86_avx512_mask_scalef_pd_512
                             : llvm::Intrinsic::x86_avx512_mask_scalef_ps_512;
        Value* all = f64_ ? b_.getInt8(0xff) : b_.getInt16(0xffff);
        return per_512_bits({p, n_f}, [&](llvm::ArrayRef<Value*> a) {
            // rounding 4: the current direction (MXCSR), as a multiply.
            return b_.CreateIntrinsic(id, {}, {a[0], a[1], llvm::Constant::getNullValue(a[0]->getType()), all,
                                              b_.getInt32(4)});
        });
    }

    /// Each lane's entry of a K-entry float table, chosen by the low log2(K)
    /// bits of its index (i32 lanes), the table a register constant: K = 16,
    /// one vpermps per 512-bit part (has_avx512_parts(), T float); K = 8, one
    /// 256-bit vpermps per part (has_avx2_float_parts()).
    template <std::size_t K>
    Value* lookup(const double (&table)[K], Value* idx) {
        static_assert(K == 8 || K == 16);
        llvm::SmallVector<llvm::Constant*, K> entries;
        for (double v : table) entries.push_back(llvm::ConstantFP::get(b_.getFloatTy(), v));
        Value* tab = llvm::ConstantVector::get(entries);
        const auto id = K == 16 ? llvm::Intrinsic::x86_avx512_permvar_sf_512 : llvm::Intrinsic::x86_avx2_permps;
        return per_512_bits(
            {idx}, [&](llvm::ArrayRef<Value*> a) { return b_.CreateIntrinsic(id, {}, {tab, a[0]}); }, K);
    }

private:
    /// `op` on each 512-bit part of T values (has_avx512_parts), joined; with
    /// `part_lanes`, on parts of that many lanes instead.
    Value* per_512_bits(llvm::ArrayRef<Value*> args, const std::function<Value*(llvm::ArrayRef<Value*>)>& op,
                        unsigned part_lanes = 0) {
        auto* vt = llvm::cast<llvm::FixedVectorType>(t_);
        const unsigned part = part_lanes != 0 ? part_lanes : f64_ ? 8 : 16;
        auto iota = [](unsigned from, unsigned n) {
            llvm::SmallVector<int, 32> idx;
            for (unsigned i = 0; i < n; ++i) idx.push_back(static_cast<int>(from + i));
            return idx;
        };
        const unsigned n = vt->getNumElements();
        std::vector<Value*> parts;
        for (unsigned k = 0; k < n / part; ++k) {
            llvm::SmallVector<Value*, 2> a;
            for (Value* v : args) a.push_back(n == part ? v : b_.CreateShuffleVector(v, iota(k * part, part)));
            parts.push_back(op(a));
        }
        for (unsigned len = part; parts.size() > 1; len *= 2) {
            std::vector<Value*> joined;
            for (std::size_t i = 0; i < parts.size(); i += 2)
                joined.push_back(b_.CreateShuffleVector(parts[i], parts[i + 1], iota(0, 2 * len)));
            parts.swap(joined);
        }
        return parts[0];
    }

    /// vrcp14ps / vrcp14pd on each 512-bit part of a T value; nullptr where
    /// T is not whole 512-bit vectors or the function is not for AVX-512.
    Value* rcp14(Value* d) {
        if (!has_avx512_parts()) return nullptr;
        const auto id = f64_ ? llvm::Intrinsic::x86_avx512_rcp14_pd_512 : llvm::Intrinsic::x86_avx512_rcp14_ps_512;
        Value* all = f64_ ? b_.getInt8(0xff) : b_.getInt16(0xffff);
        return per_512_bits({d}, [&](llvm::ArrayRef<Value*> a) {
            return b_.CreateIntrinsic(id, {}, {a[0], llvm::Constant::getNullValue(a[0]->getType()), all});
        });
    }

    llvm::IRBuilderBase& b_;
    llvm::Type* t_;
    llvm::Type* it_ = nullptr;
    bool f64_ = false;
    bool fast_paths_ = true;
};

// ln2, log2(e), log10(2), log10(e) split as hi + lo: hi is the value rounded to
// the element type, lo the rest (both rounded to double here, then to float).
struct Split {
    double hi32, lo32, hi64, lo64;
};
constexpr Split kLn2{0.6931471824645996, -1.904654299957768e-09, 0.6931471805599453, 2.3190468138462996e-17};
constexpr Split kLog2e{1.4426950216293335, 1.9259629911266175e-08, 1.4426950408889634, 2.0355273740931033e-17};
constexpr Split kLog10_2{0.3010300099849701, -1.4320988897559699e-08, 0.3010299956639812,
                         -2.8037281277851704e-18};
constexpr Split kLog10e{0.4342944920063019, -1.0103050052231683e-08, 0.4342944819032518, 1.098319650216765e-17};

Value* hi(Math& m, const Split& s) { return m.c(m.f64() ? s.hi64 : s.hi32); }
Value* lo(Math& m, const Split& s) { return m.c(m.f64() ? s.lo64 : s.lo32); }

/// A second value joined where join_rare_slow_path (or unless_any) joined
/// `phi`: `fast` from its fast block, `slow` from its slow one.
llvm::PHINode* phi_beside(llvm::IRBuilderBase& b, llvm::PHINode* phi, Value* fast, Value* slow) {
    llvm::PHINode* p = b.CreatePHI(fast->getType(), 2);
    p->addIncoming(fast, phi->getIncomingBlock(0));
    p->addIncoming(slow, phi->getIncomingBlock(1));
    return p;
}

// ---- exp family --------------------------------------------------------------

/// Range reduction x = n ln2 + r, |r| <= ln2/2 (exact first step with FMA).
struct Reduced {
    Value* n_f;
    Value* n_i;
    Value* r;
};
Reduced reduce_ln2(Math& m, Value* x) {
    auto [n_f, n_i] = m.round_int(m.fma(x, hi(m, kLog2e), m.magic()));
    Value* r = m.fma(m.neg(n_f), hi(m, kLn2), x);
    r = m.fma(m.neg(n_f), lo(m, kLn2), r);
    return {n_f, n_i, r};
}

/// e^r - 1 for |r| <= ln2/2 (accurate relative to the result).
Value* expm1_poly(Math& m, Value* r) {
    Value* q = m.f64() ? m.poly(r, kExpQ64) : m.poly(r, kExpQ32);
    return m.fma(m.mul(r, r), q, r);
}

/// p * 2^n for n in [-(bias + mant + 1), bias + 1]: two exact scalings so
/// subnormal results round once and 2^(bias+1) overflows to inf (with
/// AVX-512 one vscalefps, which rounds once too: the same bits).
Value* scale(Math& m, Value* p, Value* n_i) {
    if (m.has_avx512_parts()) return m.ldexp(p, m.itof(n_i), n_i);
    Value* n1 = m.ashr(n_i, 1);
    Value* n2 = m.isub(n_i, n1);
    return m.mul(m.mul(p, m.pow2i(n1)), m.pow2i(n2));
}

/// Exact for every x, subnormal results, overflow and NaN included.
Value* exp_exact(Math& m, Value* x) {
    // exp overflows above 88.72 (709.78) and is below half the least
    // subnormal under -103.97 (-745.13): clamp just outside.
    Value* xc = m.f64() ? m.clamp(x, -746.0, 710.0) : m.clamp(x, -104.0, 89.0);
    Reduced red = reduce_ln2(m, xc);
    Value* p = m.add(expm1_poly(m, red.r), m.c(1.0));
    return scale(m, p, red.n_i);
}

/// The |x| up to which exp and expm1 take their fast path: n = round(x
/// log2 e) is then in [-(bias - 1), bias - 1], so 2^n is one normal power
/// and the clamps do nothing.
double exp_fast_limit(const Math& m) { return m.f64() ? 708.0 : 87.0; }

/// exp_exact's bits for |x| <= exp_fast_limit and NaN, without the clamp
/// and with one scaling: p 2^n rounds once, as p 2^n1 2^n2 does (its first
/// product is exact for n >= -(bias - 1)).
Value* exp_in_range(Math& m, Value* x) {
    Reduced red = reduce_ln2(m, x);
    Value* p = m.add(expm1_poly(m, red.r), m.c(1.0));
    return m.ldexp(p, red.n_f, red.n_i);
}

/// A lane of x outside the fast path's range (NaN is inside).
Value* exp_out_of_range(Math& m, Value* x) { return m.gt(m.abs(x), m.c(exp_fast_limit(m))); }

/// exp: the fast path, and the exact one for a vector with any lane beyond
/// +-87 (+-708): sigmoid, silu and tanh run 1.3x faster on Zen 3 than with
/// the clamps and the two scalings in every vector (docs/VECTOR_MATH.md).
Value* exp_(Math& m, Value* x) {
    return m.unless_any(exp_out_of_range(m, x), [&] { return exp_in_range(m, x); }, [&] { return exp_exact(m, x); });
}

/// 2^x = 2^n e^(f ln2), n = round(x), f = x - n; `exact`: the clamp and the
/// two scalings (every x), else one scaling (|x| <= 125, 1021 in f64, or
/// NaN: 2^n is normal there and the clamp does nothing; the same bits).
Value* exp2_core(Math& m, Value* x, bool exact) {
    Value* xc = !exact ? x : m.f64() ? m.clamp(x, -1076.0, 1025.0) : m.clamp(x, -151.0, 129.0);
    auto [n_f, n_i] = m.round_int(m.add(xc, m.magic()));
    Value* f = m.sub(xc, n_f);  // exact, |f| <= 1/2
    Value* r = m.fma(f, hi(m, kLn2), m.mul(f, lo(m, kLn2)));
    Value* p = m.add(expm1_poly(m, r), m.c(1.0));
    return exact ? scale(m, p, n_i) : m.ldexp(p, n_f, n_i);
}

Value* exp2_(Math& m, Value* x) {
    Value* bad = m.gt(m.abs(x), m.c(m.f64() ? 1021.0 : 125.0));
    return m.unless_any(bad, [&] { return exp2_core(m, x, false); }, [&] { return exp2_core(m, x, true); });
}

/// expm1_exact's bits for |x| <= exp_fast_limit and NaN: below -25 (-40)
/// both give -1 (2^n - 1 rounds to -1 and 2^n (e^r - 1) is below half its
/// ulp), and n never reaches the top power.
Value* expm1_in_range(Math& m, Value* x) {
    Reduced red = reduce_ln2(m, x);
    Value* pm1 = expm1_poly(m, red.r);
    Value* t = m.pow2i(red.n_i);
    return m.fma(t, pm1, m.sub(t, m.c(1.0)));
}

/// expm1 without the sign-of-zero fix-up (expm1(-0) gives +0), exact for
/// every x.
Value* expm1_exact(Math& m, Value* x) {
    // Below -25 (-40) the result rounds to -1; above 89 (710) it overflows.
    Value* xc = m.f64() ? m.clamp(x, -40.0, 710.0) : m.clamp(x, -25.0, 89.0);
    Reduced red = reduce_ln2(m, xc);
    Value* pm1 = expm1_poly(m, red.r);
    // e^x - 1 = 2^n (e^r - 1) + (2^n - 1); 2^n is clamped to the largest
    // finite power and the last factor 2 applied after, so n = bias + 1 gives
    // inf, not inf - inf.
    Value* nmax = m.ci(m.exp_bias());
    Value* n = m.imin(red.n_i, nmax);
    Value* t = m.pow2i(n);
    Value* res = m.fma(t, pm1, m.sub(t, m.c(1.0)));
    return m.mul(res, m.sel(m.ieq(n, red.n_i), m.c(1.0), m.c(2.0)));
}

/// expm1 without the sign-of-zero fix-up: the fast path, and the exact one
/// for a vector with any lane beyond +-87 (+-708).
Value* expm1_raw(Math& m, Value* x) {
    return m.unless_any(exp_out_of_range(m, x), [&] { return expm1_in_range(m, x); },
                        [&] { return expm1_exact(m, x); });
}

Value* expm1_(Math& m, Value* x) { return m.sel(m.eq(x, m.c(0.0)), x, expm1_raw(m, x)); }

/// exp(x) and expm1(x) from one range reduction and one polynomial (the
/// soft_exponential backward needs both of alpha*x). Bitwise what exp_ and
/// expm1_ give: both reduce the same clamped x where expm1's clamp (-25,
/// -40 in f64) is not active, and below it expm1 is -1.
std::pair<Value*, Value*> exp_expm1_exact(Math& m, Value* x) {
    Value* xc = m.f64() ? m.clamp(x, -746.0, 710.0) : m.clamp(x, -104.0, 89.0);
    Reduced red = reduce_ln2(m, xc);
    Value* pm1 = expm1_poly(m, red.r);
    Value* e = scale(m, m.add(pm1, m.c(1.0)), red.n_i);
    // As expm1_raw, for n >= -37 (-58); n below that (x under the clamp)
    // gives garbage powers that the final select discards.
    Value* nmax = m.ci(m.exp_bias());
    Value* n = m.imin(red.n_i, nmax);
    Value* t = m.pow2i(n);
    Value* em1 = m.fma(t, pm1, m.sub(t, m.c(1.0)));
    em1 = m.mul(em1, m.sel(m.ieq(n, red.n_i), m.c(1.0), m.c(2.0)));
    em1 = m.sel(m.lt(x, m.c(m.f64() ? -40.0 : -25.0)), m.c(-1.0), em1);
    return {e, m.sel(m.eq(x, m.c(0.0)), x, em1)};
}

/// The pair with the fast path of exp_ and expm1_ (their bits), and the
/// exact pair for a vector with any lane beyond +-87 (+-708).
std::pair<Value*, Value*> exp_expm1_(Math& m, Value* x) {
    // One branch: unless_any joins exp, and expm1 gets a phi of its own in
    // the same join block.
    Value* bad = exp_out_of_range(m, x);
    Value* e = nullptr;
    Value* em1 = nullptr;
    auto fast = [&] {
        Reduced red = reduce_ln2(m, x);
        Value* pm1 = expm1_poly(m, red.r);
        Value* t = m.pow2i(red.n_i);
        e = m.mul(m.add(pm1, m.c(1.0)), t);
        em1 = m.sel(m.eq(x, m.c(0.0)), x, m.fma(t, pm1, m.sub(t, m.c(1.0))));
        return e;
    };
    Value* slow_em1 = nullptr;
    auto slow = [&] {
        auto [se, sm] = exp_expm1_exact(m, x);
        slow_em1 = sm;
        return se;
    };
    Value* e_joined = m.unless_any(bad, fast, slow);
    if (e == nullptr) return {e_joined, slow_em1};  // no branch: the exact pair
    auto* phi = llvm::cast<llvm::PHINode>(e_joined);
    return {e_joined, phi_beside(m.b(), phi, em1, slow_em1)};
}

// ---- log family --------------------------------------------------------------

/// x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2)), for finite x > 0
/// (subnormals included unless `normal`: x is then >= the least normal,
/// +inf or NaN): returns log(1 + f) and e (as float).
struct LogParts {
    Value* e;
    Value* l;  // log(1 + f)
};
LogParts log_parts(Math& m, Value* x, bool normal = false) {
    const int mant = m.mant_bits();
    Value* xs = x;
    Value* eadj = m.ci(0);
    if (!normal) {
        Value* sub = m.lt(x, m.c(m.min_normal()));
        xs = m.sel(sub, m.mul(x, m.c(m.f64() ? 4503599627370496.0 : 8388608.0)), x);
        eadj = m.sel(sub, m.ci(-mant), m.ci(0));
    }
    // Subtracting the bits of sqrt(1/2) puts the mantissa boundary there.
    Value* off = m.bits(m.c(m.f64() ? 0.70710678118654757 : 0.70710677));
    Value* ix = m.isub(m.bits(xs), off);
    Value* e = m.iadd(m.ashr(ix, mant), eadj);
    Value* mbits = m.iadd(m.iand(ix, m.ci((std::int64_t{1} << mant) - 1)), off);
    Value* f = m.sub(m.flt(mbits), m.c(1.0));  // exact (Sterbenz)
    Value* l;
    if (!m.f64()) {
        // f - f^2/2 + f^3 P(f) = f + f^2 (f P(f) - 1/2). Estrin's scheme:
        // softplus and logsigmoid run exp and then log in one dependency
        // chain, and their forward gained 1.11x on Zen 3 (Horner for exp's
        // shorter polynomial: Estrin there cost 3-7 % in sigmoid and tanh).
        Value* p = m.poly_estrin(f, kLogP32);
        l = m.fma(m.mul(f, f), m.fma(f, p, m.c(-0.5)), f);
    } else {
        Value* s = m.div(f, m.add(m.c(2.0), f));
        Value* z = m.mul(s, s);
        Value* hfsq = m.mul(m.c(0.5), m.mul(f, f));
        Value* tz = m.mul(z, m.poly(z, kLogR64));
        l = m.sub(f, m.sub(hfsq, m.mul(s, m.add(hfsq, tz))));
    }
    return {m.itof(e), l};
}

/// The IEEE special cases of log-like functions of `u`: u = +inf gives +inf,
/// u = 0 gives -inf, u < 0 or NaN gives NaN.
Value* log_specials(Math& m, Value* u, Value* res) {
    res = m.sel(m.eq(u, m.inf()), m.inf(), res);
    res = m.sel(m.eq(u, m.c(0.0)), m.ninf(), res);
    return m.sel(m.ult(u, m.c(0.0)), m.nan(), res);
}

/// A lane of u that is not a positive, normal, finite number (NaN
/// included): the log family's fast path, which leaves out the subnormal
/// pre-scaling and the special cases, is only for vectors without one.
Value* log_arg_unusual(Math& m, Value* u) {
    return m.b().CreateNot(m.b().CreateAnd(m.ge(u, m.c(m.min_normal())), m.lt(u, m.inf())));
}

/// `finish(parts)` of log_parts(x): without the pre-scaling and the special
/// cases where every lane of x is positive, normal and finite (the same
/// bits: those steps do nothing there), with both elsewhere.
template <class Finish>
Value* log_like(Math& m, Value* x, Finish finish) {
    return m.unless_any(log_arg_unusual(m, x), [&] { return finish(log_parts(m, x, /*normal=*/true)); },
                        [&] { return log_specials(m, x, finish(log_parts(m, x))); });
}

/// log(x) = e ln2 + log(1 + f) from log_parts (ln2 split in two).
Value* log_from_parts(Math& m, const LogParts& p) { return m.fma(p.e, hi(m, kLn2), m.fma(p.e, lo(m, kLn2), p.l)); }

Value* log_(Math& m, Value* x) {
    return log_like(m, x, [&](const LogParts& p) { return log_from_parts(m, p); });
}

Value* log2_(Math& m, Value* x) {
    return log_like(m, x, [&](const LogParts& p) { return m.fma(p.l, hi(m, kLog2e), m.fma(p.l, lo(m, kLog2e), p.e)); });
}

Value* log10_(Math& m, Value* x) {
    return log_like(m, x, [&](const LogParts& p) {
        Value* low = m.fma(p.e, lo(m, kLog10_2), m.mul(p.l, lo(m, kLog10e)));
        return m.fma(p.e, hi(m, kLog10_2), m.fma(p.l, hi(m, kLog10e), low));
    });
}

/// log1p without special cases (valid for x in (-1, inf) and NaN, which
/// gives NaN): log(u) + (x - (u - 1))/u with u = 1 + x rounded, the second
/// term correcting for the rounding of u. `u_normal`: u is normal (x >= 0, or
/// checked), or NaN.
Value* log1p_raw(Math& m, Value* x, Value* u, bool u_normal = false) {
    LogParts p = log_parts(m, u, u_normal);
    Value* corr = m.div(m.sub(x, m.sub(u, m.c(1.0))), u);
    return m.fma(p.e, hi(m, kLn2), m.fma(p.e, lo(m, kLn2), m.add(p.l, corr)));
}

Value* log1p_(Math& m, Value* x) {
    Value* u = m.add(x, m.c(1.0));
    // u positive, normal and finite in every lane: log1p_raw alone.
    Value* res = m.unless_any(log_arg_unusual(m, u), [&] { return log1p_raw(m, x, u, /*u_normal=*/true); },
                              [&] { return log_specials(m, u, log1p_raw(m, x, u)); });
    return m.sel(m.eq(x, m.c(0.0)), x, res);  // log1p(-0) = -0
}

// ---- hyperbolic functions and their inverses ---------------------------------

/// e^|x| / 2 (finite up to where cosh is), from the exp reduction with the
/// halving folded into the exponent.
Value* exp_half_abs(Math& m, Value* ax) {
    Value* xc = m.sel(m.gt(ax, m.c(m.f64() ? 711.0 : 90.0)), m.c(m.f64() ? 711.0 : 90.0), ax);
    Reduced red = reduce_ln2(m, xc);
    Value* p = m.add(expm1_poly(m, red.r), m.c(1.0));
    return scale(m, p, m.isub(red.n_i, m.ci(1)));
}

Value* cosh_(Math& m, Value* x) {
    Value* h = exp_half_abs(m, m.abs(x));
    return m.add(h, m.div(m.c(0.25), h));
}

Value* sinh_(Math& m, Value* x) {
    Value* ax = m.abs(x);
    Value* h = exp_half_abs(m, ax);
    Value* big = m.sub(h, m.div(m.c(0.25), h));
    // |x| < 1: (u + u/(u+1))/2 with u = expm1|x|, no cancellation.
    Value* u = expm1_in_range(m, m.sel(m.lt(ax, m.c(1.0)), ax, m.c(0.0)));  // [0, 1) or NaN
    Value* small = m.mul(m.c(0.5), m.add(u, m.div(u, m.add(u, m.c(1.0)))));
    return m.copysign(m.sel(m.lt(ax, m.c(1.0)), small, big), x);
}

/// log1p(w) + extra where `big` lanes instead take log(a) + ln2 (a >= 2^13
/// or 2^28, where asinh/acosh(a) = log(2a) to the last bit).
Value* log1p_or_log2a(Math& m, Value* w, Value* a, Value* big) {
    Value* u0 = m.add(w, m.c(1.0));
    Value* corr = m.div(m.sub(w, m.sub(u0, m.c(1.0))), u0);
    Value* u = m.sel(big, a, u0);
    LogParts p = log_parts(m, u);
    Value* e = m.add(p.e, m.sel(big, m.c(1.0), m.c(0.0)));  // log 2a = (e+1) ln2 + l
    Value* res = m.fma(e, hi(m, kLn2), m.fma(e, lo(m, kLn2), m.add(p.l, m.sel(big, m.c(0.0), corr))));
    return res;
}

Value* asinh_(Math& m, Value* x) {
    Value* ax = m.abs(x);
    Value* big = m.gt(ax, m.c(m.f64() ? 268435456.0 : 8192.0));
    // asinh a = log1p(a + a^2/(1 + sqrt(1 + a^2)))
    Value* a2 = m.mul(ax, ax);
    Value* sq = m.b().CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, m.add(m.c(1.0), a2));
    Value* w = m.add(ax, m.div(a2, m.add(m.c(1.0), sq)));
    Value* res = log1p_or_log2a(m, w, ax, big);
    res = m.sel(m.eq(ax, m.inf()), m.inf(), res);
    res = m.sel(m.eq(ax, m.c(0.0)), ax, res);
    return m.copysign(res, x);
}

Value* acosh_(Math& m, Value* x) {
    Value* big = m.gt(x, m.c(m.f64() ? 268435456.0 : 8192.0));
    // acosh x = log1p(t + sqrt(t (x + 1))), t = x - 1 (exact near 1)
    Value* t = m.sub(x, m.c(1.0));
    Value* sq = m.b().CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, m.mul(t, m.add(x, m.c(1.0))));
    Value* res = log1p_or_log2a(m, m.add(t, sq), x, big);
    res = m.sel(m.eq(x, m.inf()), m.inf(), res);
    return m.sel(m.ult(x, m.c(1.0)), m.nan(), res);
}

// ---- activations ------------------------------------------------------------

Value* tanh_(Math& m, Value* x) {
    // tanh|x| = e / (e + 2), e = expm1(2|x|); |x| >= 10 (20) rounds to 1.
    Value* ax = m.abs(x);
    Value* xc = m.sel(m.gt(ax, m.c(m.f64() ? 20.0 : 10.0)), m.c(m.f64() ? 20.0 : 10.0), ax);
    Value* e = expm1_in_range(m, m.add(xc, xc));  // 2|x| <= 20 (40), or NaN
    return m.copysign(m.div(e, m.add(e, m.c(2.0))), x);
}

Value* sigmoid_(Math& m, Value* x) {
    // t = e^-|x| in (0, 1]: sigmoid = 1/(1+t) for x >= 0, t/(1+t) below, so
    // no overflow and no cancellation anywhere.
    Value* t = exp_(m, m.neg(m.abs(x)));
    Value* num = m.sel(m.ge(x, m.c(0.0)), m.c(1.0), t);
    return m.div(num, m.add(m.c(1.0), t));
}

/// log1p(t) for t in [0, 1] or NaN (float): log1p(g) directly for g = t
/// <= 1/2, and ln2 + log1p(g) with g = (t - 1)/2 (exact: Sterbenz) above.
/// No 1 + t to round and correct for, so no division and no exponent
/// arithmetic: softplus's exp -> log chain is that much shorter.
Value* log1p_unit_f32(Math& m, Value* t) {
    Value* big = m.gt(t, m.c(0.5));
    Value* g = m.sel(big, m.mul(m.sub(t, m.c(1.0)), m.c(0.5)), t);
    Value* p = m.poly_estrin(g, kLog1pUnit32);
    Value* l = m.fma(m.mul(g, g), m.fma(g, p, m.c(-0.5)), g);
    Value* e = m.sel(big, m.c(1.0), m.c(0.0));
    return m.fma(e, hi(m, kLn2), m.fma(e, lo(m, kLn2), l));
}

Value* softplus_(Math& m, Value* x) {
    // max(x, 0) + log1p(e^-|x|); NaN reaches the result through log1p.
    Value* t = exp_(m, m.neg(m.abs(x)));
    Value* l = m.f64() ? log1p_raw(m, t, m.add(t, m.c(1.0)), /*u_normal=*/true) : log1p_unit_f32(m, t);
    return m.add(m.sel(m.gt(x, m.c(0.0)), x, m.c(0.0)), l);
}

/// erf for float lanes from register tables: with AVX-512 a degree-4
/// polynomial per interval [i/4, (i+1)/4) of |x| < 4, its coefficients
/// picked per lane from 16-entry tables (kErfTabP32: the fit and its error
/// are described there); with AVX2 a degree-6 one per [i/2, (i+1)/2) from
/// 8-entry tables (kErf8TabP32). No exp, no second branch: a chain of one
/// conversion, one permute and 5 (7) FMAs. |x| >= 4 rounds to +-1 (erfc(4) <
/// 2^-25).
template <std::size_t N, std::size_t K>
Value* erf_table_f32(Math& m, Value* x, const double (&a)[K], const double (&c0)[K], const double (&p)[N][K]) {
    static_assert(K == 8 || K == 16);
    Value* ax = m.abs(x);
    Value* big = m.ge(ax, m.c(4.0));  // false for NaN, which flows through t
    // The interval, from |x| < 4 (NaN and the big lanes take interval 0:
    // fptosi stays in range, and their results are NaN or replaced).
    Value* idx = m.ftoi(m.mul(m.sel(m.lt(ax, m.c(4.0)), ax, m.c(0.0)), m.c(K / 4.0)));
    auto lookup = [&](const double (&tab)[K]) { return m.lookup(tab, idx); };
    Value* t = m.sub(ax, lookup(a));  // exact (Sterbenz; a_0 = 0)
    Value* acc = lookup(p[N - 1]);
    for (std::size_t k = N - 1; k-- > 0;) acc = m.fma(acc, t, lookup(p[k]));
    Value* s = m.sel(m.ieq(idx, m.ci(0)), t, lookup(c0));
    Value* r = m.fma(t, acc, s);
    return m.copysign(m.sel(big, m.c(1.0), r), x);
}

Value* erf_(Math& m, Value* x) {
    if (m.f64()) return nullptr;  // SLEEF
    if (m.has_avx512_parts()) return erf_table_f32(m, x, kErfTabA32, kErfTabC0_32, kErfTabP32);
    if (m.has_avx2_float_parts()) return erf_table_f32(m, x, kErf8TabA32, kErf8TabC0_32, kErf8TabP32);
    // Elsewhere (other widths, SSE2; SSE2 calls libmvec, vmath::choice): a
    // polynomial below 1 and 1 - exp(polynomial) above, both in every lane.
    Value* ax = m.abs(x);
    Value* small = m.mul(x, m.poly(m.mul(x, x), kErfSmall32));
    Value* axc = m.sel(m.gt(ax, m.c(3.92)), m.c(3.92), ax);
    Value* large = m.sub(m.c(1.0), exp_(m, m.poly(axc, kErfLarge32)));
    large = m.copysign(m.sel(m.gt(ax, m.c(3.92)), m.c(1.0), large), x);
    return m.sel(m.lt(ax, m.c(1.0)), small, large);
}

// ---- pow ----------------------------------------------------------------------

/// pow's last rules on `res`: NaN in gives NaN, except 1^b and a^0, which
/// are 1.
Value* pow_nan_and_one(Math& m, Value* a, Value* b, Value* res) {
    res = m.sel(m.b().CreateFCmpUNO(a, b), m.add(a, b), res);
    return m.sel(m.b().CreateOr(m.eq(a, m.c(1.0)), m.eq(b, m.c(0.0))), m.c(1.0), res);
}

/// b is an odd integer (b/2 has fraction 1/2; exact: b/2 is exact for every
/// integer b, and infinities and NaN give false).
Value* is_odd_int(Math& m, Value* b) {
    Value* h = m.mul(b, m.c(0.5));
    return m.eq(m.sub(h, m.floor(h)), m.c(0.5));
}

/// C's pow(+-0, b): +inf for b < 0, +0 for b > 0, 1 for b = 0, NaN for NaN;
/// the sign of a = -0 for odd integer b (`signed_zero`: a may be -0).
Value* pow_zero_base(Math& m, Value* a, Value* b, bool signed_zero = true) {
    Value* z = m.sel(m.lt(b, m.c(0.0)), m.inf(), m.c(0.0));
    z = m.sel(m.eq(b, m.c(0.0)), m.c(1.0), z);
    z = m.sel(m.uno(b), b, z);
    return signed_zero ? m.sel(is_odd_int(m, b), m.copysign(z, a), z) : z;
}

/// pow for float lanes without a library call: 2^(b log2|a|) in double, then
/// C's special cases. Every float is a normal double, so there is no
/// subnormal scaling; |a| = m 2^k with m in [sqrt(1/2), sqrt(2)) by integer
/// arithmetic; log(m) = 2s + s^3 R(s^2), s = (m-1)/(m+1) (one division);
/// 2^t = 2^n (1 + r Q(r)) with n = round(t). The double t = b log2|a| is
/// within ~1e-11 relative of the exact value, far inside a float's 2^-24, so
/// the result is within 1 ulp (tests/jit/test_vector_math.cpp).
/// `positive`: every lane that matters has a > 0, +inf or NaN (a packed
/// relu base), so the zero base and the sign rules are left out.
Value* pow_f32_(Math& mf, Value* a, Value* bv, Value** ln_a = nullptr, bool positive = false) {
    llvm::IRBuilderBase& b = mf.b();
    llvm::Type* ft = a->getType();
    llvm::Type* dt = b.getDoubleTy();
    if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(ft)) dt = llvm::FixedVectorType::get(dt, vt->getNumElements());
    Math md(b, dt);
    Value* x = b.CreateFPExt(mf.abs(a), dt);
    Value* ix = md.bits(x);
    // kb = k + 1024 with x = m 2^k, m in [sqrt(1/2), sqrt(2)): offsetting by
    // 2^62 keeps the shift logical (AVX2 has no 64-bit arithmetic shift).
    constexpr std::int64_t kSqrtHalfBits = 0x3FE6A09E667F3BCD;
    Value* kb = md.lshr(md.iadd(ix, md.ci(0x4000000000000000 - kSqrtHalfBits)), 52);
    Value* m = md.flt(md.isub(ix, md.shl(md.isub(kb, md.ci(1024)), 52)));
    // k as double: kb in the low mantissa bits of 2^52, minus 2^52 + 1024.
    Value* k = md.sub(md.flt(md.ior(kb, md.ci(0x4330000000000000))), md.c(4503599627370496.0 + 1024.0));
    Value* f = md.sub(m, md.c(1.0));
    Value* s = md.div(f, md.add(f, md.c(2.0)));
    Value* z = md.mul(s, s);
    Value* ln_m = md.fma(md.mul(s, z), md.poly_estrin(z, kPowLogR), md.add(s, s));
    Value* log2_x = md.fma(ln_m, md.c(1.4426950408889634), k);
    // |a| = 0 and inf as log2 = -inf and +inf, so that the magnitude below
    // is C's for them too (0 or inf by the sign of b). Beyond +-200 the
    // float result is inf or 0 either way.
    log2_x = md.sel(md.eq(x, md.inf()), md.inf(), log2_x);
    if (!positive) log2_x = md.sel(md.eq(x, md.c(0.0)), md.ninf(), log2_x);
    if (ln_a) {
        // log(a) from the same log2|a| (within 0.5 ulp before rounding):
        // NaN for a < 0 and for NaN, -inf at +-0, inf at inf.
        Value* ln = b.CreateFPTrunc(md.mul(log2_x, md.c(0.6931471805599453)), ft);
        *ln_a = mf.sel(positive ? mf.uno(a) : b.CreateOr(mf.lt(a, mf.c(0.0)), mf.uno(a)), mf.nan(), ln);
    }
    // |a| = 1: t = 0, where 0 * inf would give NaN ((-1)^inf = 1). With a
    // positive base the last select gives 1^b = 1 anyway.
    Value* t = md.mul(log2_x, b.CreateFPExt(bv, dt));
    if (!positive) t = md.sel(md.eq(x, md.c(1.0)), md.c(0.0), t);
    t = md.clamp(t, -200.0, 200.0);
    auto [n, n_bits] = md.round_int(md.add(t, md.magic()));
    Value* r = md.sub(t, n);
    Value* p = md.fma(r, md.poly_estrin(r, kPowExp2Q), md.c(1.0));
    Value* res = b.CreateFPTrunc(md.flt(md.iadd(md.bits(p), md.shl(n_bits, 52))), ft);

    // C's rules for the sign, in float: an odd integer b keeps a's sign
    // (-0 and -inf included); a finite negative a with a non-integer b is
    // NaN (-inf is not: (-inf)^2.5 = inf); NaN in gives NaN except 1^b and
    // a^0, which are 1.
    if (!positive) {
        Value* odd = is_odd_int(mf, bv);
        res = mf.sel(odd, mf.copysign(res, a), res);
        Value* neg_finite = b.CreateAnd(mf.lt(a, mf.c(0.0)), mf.gt(a, mf.ninf()));
        res = mf.sel(b.CreateAnd(neg_finite, b.CreateFCmpUNE(bv, mf.floor(bv))), mf.nan(), res);
    }
    return pow_nan_and_one(mf, a, bv, res);
}

struct BoundedPow {
    Value* s;    // ~ w log2(a): which path a vector takes
    Value* res;  // a^w; garbage in the fast path's unusual lanes
    Value* ln;   // log(a) (without the special cases in the fast path), or null
};

/// The bounded pow's arithmetic; `exact`: subnormal bases, the clamps and
/// two scalings, and the special cases.
BoundedPow pow_bounded_core(Math& m, Value* a, Value* w, bool exact, bool with_log, bool signed_zero) {
    const LogParts p = log_parts(m, a, /*normal=*/!exact);
    Value* L = m.fma(p.l, hi(m, kLog2e), m.mul(p.l, lo(m, kLog2e)));
    Value* h = m.mul(w, p.e);
    Value* l = m.fma(w, p.e, m.neg(h));
    Value* s = m.fma(w, L, h);
    // Beyond +-200 the result is inf or 0 either way: n stays within
    // scale()'s two normal powers and r within [-1, 1].
    Value* sc = exact ? m.clamp(s, -200.0, 200.0) : s;
    auto [n_f, n_i] = m.round_int(m.add(sc, m.magic()));
    Value* r = m.add(m.fma(w, L, m.sub(h, n_f)), l);
    if (exact) r = m.clamp(r, -1.0, 1.0);
    Value* rl = m.fma(r, hi(m, kLn2), m.mul(r, lo(m, kLn2)));
    Value* pr = m.add(expm1_poly(m, rl), m.c(1.0));
    Value* res = exact ? scale(m, pr, n_i) : m.ldexp(pr, n_f, n_i);
    Value* ln = with_log ? log_from_parts(m, p) : nullptr;
    if (exact) {
        // +inf: inf for w > 0, 0 for w < 0; +-0: C's pow(+-0, w); then NaN
        // and the ones.
        res = m.sel(m.eq(a, m.inf()), m.sel(m.gt(w, m.c(0.0)), m.inf(), m.c(0.0)), res);
        res = m.sel(m.eq(a, m.c(0.0)), pow_zero_base(m, a, w, signed_zero), res);
        res = pow_nan_and_one(m, a, w, res);
        if (ln) ln = log_specials(m, a, ln);
    }
    return {s, res, ln};
}

/// The exact bounded pow as a call of one internal function per module and
/// variant (`actjit.powb...`), with preserve_all: the callee saves the
/// registers it uses, so the caller's hot loop keeps its vectors in
/// registers (as `actjit.pow`, docs/JIT.md). prepu has two rare sites per
/// kernel (two loop shapes); inline, each was a second copy of the pow.
std::pair<Value*, Value*> call_pow_bounded_exact(Math& m, Value* a, Value* w, bool with_log, bool signed_zero) {
    llvm::IRBuilderBase& b = m.b();
    llvm::Function* caller = b.GetInsertBlock()->getParent();
    llvm::Module* mod = caller->getParent();
    llvm::Type* t = a->getType();
    const auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t);
    const std::string name = std::string("actjit.powb") + (with_log ? ".log" : "") + (signed_zero ? ".sz" : "") +
                             ".v" + std::to_string(vt ? vt->getNumElements() : 1);
    llvm::Type* rt = with_log ? static_cast<llvm::Type*>(llvm::StructType::get(t, t)) : t;
    llvm::Function* f = mod->getFunction(name);
    if (f == nullptr) {
        f = make_rare_function(caller, llvm::FunctionType::get(rt, {t, t}, false), name.c_str());
        llvm::IRBuilder<> fb(llvm::BasicBlock::Create(b.getContext(), "entry", f));
        Math fm(fb, t);
        fm.set_fast_paths(false);
        const BoundedPow e = pow_bounded_core(fm, f->getArg(0), f->getArg(1), true, with_log, signed_zero);
        if (with_log) {
            Value* agg = fb.CreateInsertValue(llvm::PoisonValue::get(rt), e.res, 0);
            fb.CreateRet(fb.CreateInsertValue(agg, e.ln, 1));
        } else {
            fb.CreateRet(e.res);
        }
    }
    llvm::CallInst* call = b.CreateCall(f, {a, w});
    call->setCallingConv(llvm::CallingConv::PreserveAll);
    if (!with_log) return {call, nullptr};
    return {b.CreateExtractValue(call, 0), b.CreateExtractValue(call, 1)};
}

/// pow(a, w) for float lanes where a >= 0 (+-0 included), +inf or NaN, and
/// |w| <= kPowBoundedExponent for every number w (interval analysis: prepu's
/// softsign(s) + 1): in float, 16 lanes a zmm, where pow_f32_ converts to
/// double and works on two halves. With a = m 2^k (k exact, m in
/// [sqrt(1/2), sqrt(2))), L = log2(m) and t = w k + w L: w k = h + l exactly
/// (a product and its FMA remainder), n = round(h + w L) and
/// r = fma(w, L, h - n) + l, where h - n is exact; the bound on |w| keeps
/// |w| times L's error (a float log, within an ulp of |L| <= 1/2) near
/// half an ulp of r: within 2 ulp (1 measured; with |w| <= 8 it was 4,
/// growing with |w|, hence the bound; tests/jit/test_vector_math.cpp).
/// The fast path (every lane normal, finite and |t| <= 125) gives the exact
/// path's bits; the exact path is a call (call_pow_bounded_exact) or, where
/// the builder cannot branch (masked tails), inline. `ln_a`: log(a), log_'s
/// bits. `signed_zero`: a may be -0 (max(x, 0)), which keeps its sign for
/// odd integer w. `zero_lanes`: lanes with a = +-0 matter (not packed), and
/// the fast path serves them too.
Value* pow_f32_bounded_(Math& m, Value* a, Value* w, Value** ln_a, bool signed_zero, bool zero_lanes) {
    if (!m.can_branch()) {
        const BoundedPow e = pow_bounded_core(m, a, w, true, ln_a != nullptr, signed_zero);
        if (ln_a) *ln_a = e.ln;
        return e.res;
    }
    // The fast path's s decides which path a vector takes (NaN w included).
    BoundedPow fast = pow_bounded_core(m, a, w, false, ln_a != nullptr, signed_zero);
    llvm::IRBuilderBase& b = m.b();
    Value* usual = b.CreateAnd(b.CreateAnd(m.ge(a, m.c(m.min_normal())), m.lt(a, m.inf())),
                               b.CreateFCmpOLE(m.abs(fast.s), m.c(125.0)));
    if (zero_lanes) {
        // relu(x)'s zeros, in half the lanes, where lanes are not packed:
        // C's pow(+-0, w) by select (the exact path's values), not a trip
        // to the exact path for nearly every vector (2.5x slower).
        Value* zero = m.eq(a, m.c(0.0));
        usual = b.CreateOr(usual, zero);
        fast.res = m.sel(zero, pow_zero_base(m, a, w, signed_zero), fast.res);
        if (fast.ln) fast.ln = m.sel(zero, m.ninf(), fast.ln);
    }
    Value* ln_exact = nullptr;
    auto exact = [&] {
        auto [res, ln] = call_pow_bounded_exact(m, a, w, ln_a != nullptr, signed_zero);
        ln_exact = ln;
        return res;
    };
    auto* phi = llvm::cast<llvm::PHINode>(join_rare_slow_path(b, b.CreateNot(usual), fast.res, exact, "vmath"));
    if (ln_a) *ln_a = phi_beside(b, phi, fast.ln, ln_exact);
    return phi;
}

// ---- SLEEF ---------------------------------------------------------------------

struct SleefName {
    const char* fn;   // SLEEF's base name
    const char* ulp;  // accuracy suffix
};

bool sleef_name(actjit::Op op, SleefName& out) {
    using actjit::Op;
    switch (op) {
    case Op::Exp: out = {"exp", "u10"}; return true;
    case Op::Exp2: out = {"exp2", "u10"}; return true;
    case Op::Expm1: out = {"expm1", "u10"}; return true;
    case Op::Log: out = {"log", "u10"}; return true;
    case Op::Log2: out = {"log2", "u10"}; return true;
    case Op::Log10: out = {"log10", "u10"}; return true;
    case Op::Log1p: out = {"log1p", "u10"}; return true;
    case Op::Sin: out = {"sin", "u10"}; return true;
    case Op::Cos: out = {"cos", "u10"}; return true;
    case Op::Tan: out = {"tan", "u10"}; return true;
    case Op::Asin: out = {"asin", "u10"}; return true;
    case Op::Acos: out = {"acos", "u10"}; return true;
    case Op::Atan: out = {"atan", "u10"}; return true;
    case Op::Sinh: out = {"sinh", "u10"}; return true;
    case Op::Cosh: out = {"cosh", "u10"}; return true;
    case Op::Tanh: out = {"tanh", "u10"}; return true;
    case Op::Asinh: out = {"asinh", "u10"}; return true;
    case Op::Acosh: out = {"acosh", "u10"}; return true;
    case Op::Atanh: out = {"atanh", "u10"}; return true;
    case Op::Erf: out = {"erf", "u10"}; return true;
    case Op::Erfc: out = {"erfc", "u15"}; return true;
    case Op::Cbrt: out = {"cbrt", "u10"}; return true;
    case Op::Pow: out = {"pow", "u10"}; return true;
    default: return false;
    }
}

}  // namespace

Isa function_isa(llvm::Function* fn) {
    Isa isa;
    if (fn != nullptr && fn->hasFnAttribute("target-features")) {
        llvm::StringRef feats = fn->getFnAttribute("target-features").getValueAsString();
        isa.avx512f = feats.contains("+avx512f");
        isa.avx2 = feats.contains("+avx2") && feats.contains("+fma");
        return isa;
    }
    // A function compiled for another CPU without a feature list: assume
    // only the x86-64 baseline (SSE2), which every x86-64 CPU has.
    if (fn != nullptr && fn->hasFnAttribute("target-cpu") &&
        fn->getFnAttribute("target-cpu").getValueAsString() != llvm::sys::getHostCPUName())
        return isa;
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    isa.avx512f = host.lookup("avx512f");
    isa.avx2 = host.lookup("avx2") && host.lookup("fma");
    return isa;
}

namespace {

llvm::Function* declare(llvm::Module& mod, const std::string& name, llvm::Type* t, unsigned arity) {
    llvm::SmallVector<llvm::Type*, 2> params(arity, t);
    auto* fty = llvm::FunctionType::get(t, params, false);
    llvm::FunctionCallee callee = mod.getOrInsertFunction(name, fty);
    auto* fn = llvm::cast<llvm::Function>(callee.getCallee());
    fn->setDoesNotAccessMemory();
    fn->setDoesNotThrow();
    fn->addFnAttr(llvm::Attribute::WillReturn);
    return fn;
}

/// The vector ISA classes of the x86 vector function ABIs.
enum class VecIsa { sse2, avx2, avx512 };

/// Calls `name(lanes, isa)` (lanes = 0: the scalar function) on `args`,
/// splitting or padding the vectors to the widest register width the
/// caller's target allows.
template <class NameFn>
Value* call_vector(llvm::IRBuilderBase& b, ArrayRef<Value*> args, NameFn name) {
    llvm::Type* type = args[0]->getType();
    llvm::Type* elt = type->getScalarType();
    const bool f64 = elt->isDoubleTy();
    llvm::BasicBlock* bb = b.GetInsertBlock();
    llvm::Module& mod = *bb->getModule();
    llvm::Function* caller = bb->getParent();
    const auto arity = static_cast<unsigned>(args.size());

    auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(type);
    if (vt == nullptr) return b.CreateCall(declare(mod, name(0u, VecIsa::sse2), type, arity), args);

    // Widest-first list of (lanes, ISA) the caller's ISA allows.
    const Isa isa = function_isa(caller);
    const unsigned lanes128 = f64 ? 2 : 4;
    llvm::SmallVector<std::pair<unsigned, VecIsa>, 3> widths;
    if (isa.avx512f) widths.push_back({lanes128 * 4, VecIsa::avx512});
    if (isa.avx2) widths.push_back({lanes128 * 2, VecIsa::avx2});
    widths.push_back({lanes128, VecIsa::sse2});

    const unsigned n = vt->getNumElements();
    // The narrowest allowed width covering n, else the widest (split).
    auto chosen = widths.front();
    for (auto& w : widths)
        if (w.first >= n) chosen = w;
    const unsigned w = chosen.first;
    llvm::Function* fn = declare(mod, name(w, chosen.second), llvm::FixedVectorType::get(elt, w), arity);
    if (chosen.second == VecIsa::avx512) {
        // 512-bit vectors are passed in zmm registers only where the caller
        // allows 512-bit legal types.
        unsigned have = 0;
        if (caller->hasFnAttribute("min-legal-vector-width"))
            caller->getFnAttribute("min-legal-vector-width").getValueAsString().getAsInteger(10, have);
        if (have < 512) caller->addFnAttr("min-legal-vector-width", "512");
        fn->addFnAttr("min-legal-vector-width", "512");
    }

    Value* zero = llvm::Constant::getNullValue(type);
    const unsigned chunks = (n + w - 1) / w;
    llvm::SmallVector<Value*, 8> parts;
    for (unsigned c = 0; c < chunks; ++c) {
        llvm::SmallVector<int, 16> mask;
        for (unsigned i = 0; i < w; ++i)
            mask.push_back(c * w + i < n ? static_cast<int>(c * w + i) : static_cast<int>(n));
        llvm::SmallVector<Value*, 2> cargs;
        for (Value* a : args) cargs.push_back(w == n ? a : b.CreateShuffleVector(a, zero, mask));
        parts.push_back(b.CreateCall(fn, cargs));
    }
    if (chunks == 1) {
        if (w == n) return parts[0];
        llvm::SmallVector<int, 16> mask;
        for (unsigned i = 0; i < n; ++i) mask.push_back(static_cast<int>(i));
        return b.CreateShuffleVector(parts[0], parts[0], mask);
    }
    // Concatenate the chunks and drop the padding.
    Value* result = llvm::PoisonValue::get(type);
    for (unsigned c = 0; c < chunks; ++c)
        for (unsigned i = 0; i < w && c * w + i < n; ++i)
            result = b.CreateInsertElement(result, b.CreateExtractElement(parts[c], static_cast<std::uint64_t>(i)),
                                           static_cast<std::uint64_t>(c * w + i));
    return result;
}

bool float_args(ArrayRef<Value*> args) {
    if (args.empty()) return false;
    llvm::Type* elt = args[0]->getType()->getScalarType();
    return elt->isFloatTy() || elt->isDoubleTy();
}

/// glibc libmvec's base name for `op` (the x86_64 functions of glibc 2.36).
const char* libmvec_name(actjit::Op op) {
    using actjit::Op;
    switch (op) {
    case Op::Sin: return "sin";
    case Op::Cos: return "cos";
    case Op::Tan: return "tan";
    case Op::Asin: return "asin";
    case Op::Acos: return "acos";
    case Op::Atan: return "atan";
    case Op::Atanh: return "atanh";
    case Op::Erf: return "erf";
    case Op::Erfc: return "erfc";
    case Op::Cbrt: return "cbrt";
    case Op::Pow: return "pow";
    default: return nullptr;
    }
}

/// The call of libmvec's `fn` (libm's for one lane) on `args`.
Value* emit_libmvec_call(llvm::IRBuilderBase& b, const char* fn, ArrayRef<Value*> args) {
    const bool f64 = args[0]->getType()->getScalarType()->isDoubleTy();
    return call_vector(b, args, [&](unsigned lanes, VecIsa isa) {
        const std::string base = std::string(fn) + (f64 ? "" : "f");
        if (lanes == 0) return base;  // libm
        const char* cls = isa == VecIsa::avx512 ? "e" : isa == VecIsa::avx2 ? "d" : "b";
        return std::string("_ZGV") + cls + "N" + std::to_string(lanes) + (args.size() == 2 ? "vv_" : "v_") + base;
    });
}

}  // namespace

Value* emit_sleef(llvm::IRBuilderBase& b, actjit::Op op, ArrayRef<Value*> args) {
    SleefName sn;
    if (!sleef_name(op, sn) || !float_args(args)) return nullptr;
    const bool f64 = args[0]->getType()->getScalarType()->isDoubleTy();
    return call_vector(b, args, [&](unsigned lanes, VecIsa isa) {
        std::string name = std::string("Sleef_") + sn.fn;
        if (lanes == 0) return name + (f64 ? "_" : "f_") + sn.ulp;
        const char* suffix = isa == VecIsa::avx512 ? "avx512f" : isa == VecIsa::avx2 ? "avx2" : "sse2";
        return name + (f64 ? "d" : "f") + std::to_string(lanes) + "_" + sn.ulp + suffix;
    });
}

Value* emit_libmvec(llvm::IRBuilderBase& b, actjit::Op op, ArrayRef<Value*> args) {
    const char* fn = libmvec_name(op);
    if (fn == nullptr || !float_args(args)) return nullptr;
    if (op == actjit::Op::Pow && args.size() == 2) {
        // libmvec's pow takes a slow scalar path for every vector holding a
        // zero base (half the lanes of relu(x)^q): call it with base 1 there
        // and select C's pow(+-0, b) instead.
        llvm::IRBuilderBase::FastMathFlagGuard guard(b);
        b.clearFastMathFlags();
        Math m(b, args[0]->getType());
        Value* zero = m.eq(args[0], m.c(0.0));
        Value* r = emit_libmvec_call(b, fn, {m.sel(zero, m.c(1.0), args[0]), args[1]});
        return m.sel(zero, pow_zero_base(m, args[0], args[1]), r);
    }
    return emit_libmvec_call(b, fn, args);
}

Value* emit_inline(llvm::IRBuilderBase& b, actjit::Op op, ArrayRef<Value*> args, bool fast_paths) {
    if (op == actjit::Op::Pow && args.size() == 2 && args[0]->getType()->getScalarType()->isFloatTy() &&
        args[1]->getType() == args[0]->getType()) {
        llvm::IRBuilderBase::FastMathFlagGuard guard(b);
        b.clearFastMathFlags();
        Math m(b, args[0]->getType());
        return pow_f32_(m, args[0], args[1]);
    }
    if (args.size() != 1) return nullptr;
    llvm::Type* type = args[0]->getType();
    if (!type->getScalarType()->isFloatTy() && !type->getScalarType()->isDoubleTy()) return nullptr;
    llvm::IRBuilderBase::FastMathFlagGuard guard(b);
    b.clearFastMathFlags();
    Math m(b, type);
    m.set_fast_paths(fast_paths);
    Value* x = args[0];
    using actjit::Op;
    switch (op) {
    case Op::Exp: return exp_(m, x);
    case Op::Exp2: return exp2_(m, x);
    case Op::Expm1: return expm1_(m, x);
    case Op::Log: return log_(m, x);
    case Op::Log2: return log2_(m, x);
    case Op::Log10: return log10_(m, x);
    case Op::Log1p: return log1p_(m, x);
    case Op::Tanh: return tanh_(m, x);
    case Op::Sigmoid: return sigmoid_(m, x);
    case Op::Softplus: return softplus_(m, x);
    case Op::Erf: return erf_(m, x);
    case Op::Sinh: return sinh_(m, x);
    case Op::Cosh: return cosh_(m, x);
    case Op::Asinh: return asinh_(m, x);
    case Op::Acosh: return acosh_(m, x);
    default: return nullptr;
    }
}

Impl choice(actjit::Op op, bool f64, Isa isa) {
    using actjit::Op;
    switch (op) {
    case Op::Exp:
    case Op::Exp2:
    case Op::Expm1:
    case Op::Log:
    case Op::Log2:
    case Op::Log10:
    case Op::Log1p:
    case Op::Tanh:
    case Op::Sigmoid:
    case Op::Softplus:
    case Op::Sinh:
    case Op::Cosh:
    case Op::Asinh:
    case Op::Acosh: return Impl::inline_poly;
    // erf (f32): register tables with AVX2 or AVX-512 (erf_table_f32), gelu
    // 1.9x forward with 16 lanes on Zen 5 against the version before, which
    // tied libmvec there; libmvec's erff with SSE2 (docs/VECTOR_MATH.md).
    case Op::Erf: return f64 || !isa.avx2 ? Impl::libmvec : Impl::inline_poly;
    // libmvec measured faster than SLEEF u10 for all of these (both within
    // 4 ulp); tan stays on SLEEF (libmvec measured 4 ulp, exactly the limit,
    // SLEEF 1).
    case Op::Tan: return Impl::sleef;
    case Op::Sin:
    case Op::Cos:
    case Op::Asin:
    case Op::Acos:
    case Op::Atan:
    case Op::Atanh:
    case Op::Erfc:
    case Op::Cbrt: return Impl::libmvec;
    // pow: libmvec with a zero-base guard (emit_libmvec), except f32 with
    // AVX2 and FMA (AVX-512 included): libmvec's 8-lane powf costs 4.6 ns per
    // element on Zen 3, and pow_f32_ is several times faster; with 16 lanes
    // on an Intel Xeon, pow_f32_ made prepu 1.13x faster forward and
    // 1.42-1.47x backward than libmvec's 16-lane powf. (On Zen 4 an earlier
    // inline f32 pow, computed in double, measured 1.8x slower than libmvec;
    // pow_f32_ is unmeasured there. docs/VECTOR_MATH.md.)
    case Op::Pow: return !f64 && isa.avx2 ? Impl::inline_poly : Impl::libmvec;
    default: return Impl::none;
    }
}

}  // namespace vmath

// ---- Symbols -------------------------------------------------------------------

// Every SLEEF entry point emit_sleef() may name, declared with a dummy type:
// only their addresses are taken (and linking them keeps libsleef needed).
#define ACTJIT_SLEEF_FUNCTIONS(X)                                                                    \
    X(exp, u10) X(exp2, u10) X(expm1, u10) X(log, u10) X(log2, u10) X(log10, u10) X(log1p, u10)      \
    X(sin, u10) X(cos, u10) X(tan, u10) X(asin, u10) X(acos, u10) X(atan, u10) X(sinh, u10)         \
    X(cosh, u10) X(tanh, u10) X(asinh, u10) X(acosh, u10) X(atanh, u10) X(erf, u10) X(erfc, u15)    \
    X(cbrt, u10) X(pow, u10)
#define ACTJIT_SLEEF_VARIANTS(fn, u)                                                              \
    Y(Sleef_##fn##f16_##u##avx512f) Y(Sleef_##fn##f8_##u##avx2) Y(Sleef_##fn##f4_##u##sse2)         \
    Y(Sleef_##fn##d8_##u##avx512f) Y(Sleef_##fn##d4_##u##avx2) Y(Sleef_##fn##d2_##u##sse2)          \
    Y(Sleef_##fn##f_##u) Y(Sleef_##fn##_##u)

// The same for glibc's libmvec (x86_64 vector function ABI names).
#define ACTJIT_LIBMVEC_FUNCTIONS(X) \
    X(sin, v) X(cos, v) X(tan, v) X(asin, v) X(acos, v) X(atan, v) X(atanh, v) X(erf, v) X(erfc, v) X(cbrt, v) \
    X(pow, vv)
#define ACTJIT_LIBMVEC_VARIANTS(fn, v)                                                                    \
    Y(_ZGVeN16##v##_##fn##f) Y(_ZGVdN8##v##_##fn##f) Y(_ZGVbN4##v##_##fn##f) Y(_ZGVeN8##v##_##fn) \
    Y(_ZGVdN4##v##_##fn) Y(_ZGVbN2##v##_##fn)

#define Y(name) void name();
extern "C" {
ACTJIT_SLEEF_FUNCTIONS(ACTJIT_SLEEF_VARIANTS)
ACTJIT_LIBMVEC_FUNCTIONS(ACTJIT_LIBMVEC_VARIANTS)
}
#undef Y

llvm::Error add_vector_math_symbols(llvm::orc::LLJIT& jit) {
    llvm::orc::SymbolMap symbols;
    auto add = [&](const char* name, void (*address)()) {
        symbols[jit.mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                              llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
    };
#define Y(name) add(#name, &name);
    ACTJIT_SLEEF_FUNCTIONS(ACTJIT_SLEEF_VARIANTS)
    ACTJIT_LIBMVEC_FUNCTIONS(ACTJIT_LIBMVEC_VARIANTS)
#undef Y
    // libm's scalar functions, for the one-lane case of the libmvec path.
    auto add_fn = [&](const char* name, auto* fn) { add(name, reinterpret_cast<void (*)()>(fn)); };
#define Z(fn)                                                  \
    add_fn(#fn, static_cast<double (*)(double)>(&::fn));       \
    add_fn(#fn "f", static_cast<float (*)(float)>(&::fn##f));
    Z(sin) Z(cos) Z(tan) Z(asin) Z(acos) Z(atan) Z(atanh) Z(erf) Z(erfc) Z(cbrt)
#undef Z
    add_fn("pow", static_cast<double (*)(double, double)>(&::pow));
    add_fn("powf", static_cast<float (*)(float, float)>(&::powf));
    return jit.getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(symbols)));
}

llvm::Value* join_rare_slow_path(llvm::IRBuilderBase& b, llvm::Value* bad, llvm::Value* fast,
                                 llvm::function_ref<llvm::Value*()> slow, const char* name) {
    llvm::BasicBlock* from = b.GetInsertBlock();
    llvm::Value* any = bad->getType()->isVectorTy() ? b.CreateOrReduce(bad) : bad;
    llvm::LLVMContext& ctx = b.getContext();
    auto* slow_bb = llvm::BasicBlock::Create(ctx, std::string(name) + ".slow", from->getParent());
    auto* join = llvm::BasicBlock::Create(ctx, std::string(name) + ".join", from->getParent());
    b.CreateCondBr(any, slow_bb, join, llvm::MDBuilder(ctx).createBranchWeights(1, 1000));
    b.SetInsertPoint(slow_bb);
    llvm::Value* sv = slow();
    llvm::BasicBlock* slow_end = b.GetInsertBlock();
    b.CreateBr(join);
    b.SetInsertPoint(join);
    llvm::PHINode* phi = b.CreatePHI(fast->getType(), 2);
    phi->addIncoming(fast, from);
    phi->addIncoming(sv, slow_end);
    return phi;
}

llvm::Function* make_rare_function(llvm::Function* caller, llvm::FunctionType* type, const char* name) {
    auto* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, caller->getParent());
    // The caller's target attributes; copying them also copies its
    // dso_local (false), which setLinkage makes right again.
    f->copyAttributesFrom(caller);
    f->setLinkage(llvm::Function::InternalLinkage);
    f->setCallingConv(llvm::CallingConv::PreserveAll);
    f->addFnAttr(llvm::Attribute::NoInline);
    f->addFnAttr(llvm::Attribute::Cold);
    return f;
}

std::pair<llvm::Value*, llvm::Value*> emit_exp_expm1(llvm::IRBuilderBase& b, llvm::Value* x, bool fast_paths) {
    const bool f64 = x->getType()->getScalarType()->isDoubleTy();
    if (vmath::choice(actjit::Op::Exp, f64) != vmath::Impl::inline_poly ||
        vmath::choice(actjit::Op::Expm1, f64) != vmath::Impl::inline_poly)
        return {nullptr, nullptr};
    llvm::IRBuilderBase::FastMathFlagGuard guard(b);
    b.clearFastMathFlags();
    vmath::Math m(b, x->getType());
    m.set_fast_paths(fast_paths);
    return vmath::exp_expm1_(m, x);
}

std::pair<llvm::Value*, llvm::Value*> emit_pow_positive(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* e,
                                                        bool with_log) {
    const bool f64 = a->getType()->getScalarType()->isDoubleTy();
    const vmath::Impl impl = vmath::choice(actjit::Op::Pow, f64, vmath::function_isa(b.GetInsertBlock()->getParent()));
    llvm::IRBuilderBase::FastMathFlagGuard guard(b);
    b.clearFastMathFlags();
    vmath::Math m(b, a->getType());
    if (impl == vmath::Impl::inline_poly && !f64) {
        llvm::Value* ln = nullptr;
        llvm::Value* p = vmath::pow_f32_(m, a, e, with_log ? &ln : nullptr, /*positive=*/true);
        return {p, ln};
    }
    // No zero bases: no guard for libmvec's slow path.
    if (impl == vmath::Impl::libmvec)
        return {vmath::emit_libmvec_call(b, vmath::libmvec_name(actjit::Op::Pow), {a, e}), nullptr};
    return {emit_vector_math(b, actjit::Op::Pow, {a, e}), nullptr};
}

std::pair<llvm::Value*, llvm::Value*> emit_pow_bounded(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* e,
                                                       bool with_log, bool signed_zero, bool zero_lanes,
                                                       bool fast_paths) {
    if (!a->getType()->getScalarType()->isFloatTy() ||
        vmath::choice(actjit::Op::Pow, false, vmath::function_isa(b.GetInsertBlock()->getParent())) !=
            vmath::Impl::inline_poly)
        return {nullptr, nullptr};
    llvm::IRBuilderBase::FastMathFlagGuard guard(b);
    b.clearFastMathFlags();
    vmath::Math m(b, a->getType());
    m.set_fast_paths(fast_paths);
    llvm::Value* ln = nullptr;
    llvm::Value* p = vmath::pow_f32_bounded_(m, a, e, with_log ? &ln : nullptr, signed_zero, zero_lanes);
    return {p, ln};
}

std::pair<llvm::Value*, llvm::Value*> emit_pow_log(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* e) {
    const bool f64 = a->getType()->getScalarType()->isDoubleTy();
    if (f64 || vmath::choice(actjit::Op::Pow, false, vmath::function_isa(b.GetInsertBlock()->getParent())) !=
                   vmath::Impl::inline_poly)
        return {nullptr, nullptr};
    llvm::IRBuilderBase::FastMathFlagGuard guard(b);
    b.clearFastMathFlags();
    vmath::Math m(b, a->getType());
    llvm::Value* ln = nullptr;
    llvm::Value* p = vmath::pow_f32_(m, a, e, &ln);
    return {p, ln};
}

llvm::Value* emit_quotient(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* d, bool inf_operands) {
    llvm::IRBuilderBase::FastMathFlagGuard guard(b);
    b.clearFastMathFlags();
    vmath::Math m(b, a->getType());
    return m.quotient(a, d, inf_operands);
}

llvm::Value* emit_pow_zero_base(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* e, bool signed_zero) {
    llvm::IRBuilderBase::FastMathFlagGuard guard(b);
    b.clearFastMathFlags();
    vmath::Math m(b, a->getType());
    return vmath::pow_zero_base(m, a, e, signed_zero);
}

llvm::Value* emit_vector_math(llvm::IRBuilderBase& b, actjit::Op op, llvm::ArrayRef<llvm::Value*> args,
                              bool fast_paths) {
    if (args.empty()) return nullptr;
    const bool f64 = args[0]->getType()->getScalarType()->isDoubleTy();
    switch (vmath::choice(op, f64, vmath::function_isa(b.GetInsertBlock()->getParent()))) {
    case vmath::Impl::inline_poly: return vmath::emit_inline(b, op, args, fast_paths);
    case vmath::Impl::sleef: return vmath::emit_sleef(b, op, args);
    case vmath::Impl::libmvec: return vmath::emit_libmvec(b, op, args);
    case vmath::Impl::none: return nullptr;
    }
    return nullptr;
}

}  // namespace actjit::jit
