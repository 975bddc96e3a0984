// Vector transcendental functions for the JIT: the interface between the code
// generator (jit/codegen.cpp) and the vector math library (jit/vector_math*.cpp).
//
// emit_vector_math() emits IR computing one builtin on <N x float> or
// <N x double> values (any N >= 1, scalars included), either inline
// (polynomials) or as calls to vector library routines; every symbol such code
// may call is made resolvable by add_vector_math_symbols() once per LLJIT.
#pragma once

#include <actjit/expr.hpp>

#include "llvm.hpp"

#include <utility>

namespace actjit::jit {

/// Emit code computing `op` (a unary/binary builtin from ops.def: Exp, Exp2,
/// Expm1, Log, Log2, Log10, Log1p, Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh,
/// Tanh, Asinh, Acosh, Atanh, Erf, Erfc, Cbrt, Sigmoid, Softplus, and Pow for
/// non-constant exponents) on `args` of type <N x float> or <N x double> (any
/// N >= 1, including scalar float/double). Returns nullptr if `op` is not a
/// transcendental it handles. `fast_paths`: exp, expm1 and the log family
/// branch to their exact code only for vectors that need it (the same bits);
/// without, the exact code alone (for code that runs once per call, such as
/// a masked tail: half the IR).
llvm::Value* emit_vector_math(llvm::IRBuilderBase& b, actjit::Op op, llvm::ArrayRef<llvm::Value*> args,
                              bool fast_paths = true);

/// exp(x) and expm1(x) of one argument, sharing their range reduction and
/// polynomial (bitwise the values emit_vector_math gives for each); nullptrs
/// where those are not inline polynomials.
std::pair<llvm::Value*, llvm::Value*> emit_exp_expm1(llvm::IRBuilderBase& b, llvm::Value* x, bool fast_paths = true);

/// pow(a, e) and log(a) of one base, sharing log2|a|: the pow is bitwise
/// emit_vector_math's, the log within 1 ulp (rounded from a double). Nullptrs
/// where pow is not inline code (it is for f32 on AVX2); prepu's backward
/// needs both.
std::pair<llvm::Value*, llvm::Value*> emit_pow_log(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* e);

/// pow(a, e) where every lane that matters has a > 0, +inf or NaN (the packed
/// lanes of relu(x)^q): emit_vector_math's pow without the zero base and sign
/// rules; and, with `with_log` and where pow is inline code (f32 on AVX2),
/// log(a) as emit_pow_log gives it (else the second value is null).
std::pair<llvm::Value*, llvm::Value*> emit_pow_positive(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* e,
                                                        bool with_log);

/// The largest |e| emit_pow_bounded is for.
inline constexpr double kPowBoundedExponent = 2.0;

/// pow(a, e) for f32 where a >= 0 (+0; -0 too with `signed_zero`), +inf or
/// NaN, and |e| <= kPowBoundedExponent or NaN, in every lane (interval
/// analysis: relu(x)^(softsign(s) + 1)): computed in float, where the general
/// pow converts to double; within 2 ulp. With `with_log`, log(a) too (the
/// inline log's bits). `zero_lanes`: lanes with a = +-0 matter (false for
/// packed lanes, which have none). Nullptrs where pow is not inline code (f32
/// on AVX2).
std::pair<llvm::Value*, llvm::Value*> emit_pow_bounded(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* e,
                                                       bool with_log, bool signed_zero, bool zero_lanes,
                                                       bool fast_paths = true);

/// C's pow(+-0, e) (+inf for e < 0, +-0 for e > 0, 1 for e = 0, NaN for NaN;
/// the sign of a = -0 for an odd integer e): the value of pow(a, e) in every
/// lane where a is +-0. Without `signed_zero` a is +0 there (a relu base),
/// and the sign test is left out.
llvm::Value* emit_pow_zero_base(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* e, bool signed_zero = true);

/// a / d where |d| >= 1 in every lane (or NaN), without the divider where
/// the function is compiled for AVX-512 and the type is whole 512-bit vectors
/// (vrcp14, Newton steps, a multiply): within 2 ulp of the quotient;
/// elsewhere fdiv. `inf_operands`: d may be +-inf (a compare and a blend give
/// a / inf = +-0 there); without, only finite d (or NaN) give the quotient.
llvm::Value* emit_quotient(llvm::IRBuilderBase& b, llvm::Value* a, llvm::Value* d, bool inf_operands);

/// `fast` where no lane of `bad` (i1 or a vector of i1) is set, else `slow()`,
/// emitted in a block of its own that the branch (weighted 1 : 1000) reaches
/// for such vectors; returns the joining phi, with the builder at the end of
/// the join block (`name`.slow, `name`.join). The builder must be at the end
/// of a block of a function, where `fast` is available.
llvm::Value* join_rare_slow_path(llvm::IRBuilderBase& b, llvm::Value* bad, llvm::Value* fast,
                                 llvm::function_ref<llvm::Value*()> slow, const char* name);

/// A new internal function of `caller`'s module for code that runs rarely,
/// called from a block join_rare_slow_path made: the caller's target
/// attributes, preserve_all (the callee saves the registers it uses, so the
/// caller's hot loop keeps its vectors in registers across the call), never
/// inlined, cold. Calls of it must set the same calling convention.
llvm::Function* make_rare_function(llvm::Function* caller, llvm::FunctionType* type, const char* name);

/// Make every external symbol the emitted code may call resolvable in `jit`
/// (e.g. load libmvec/libsleef or define absolute symbols). Called once per
/// LLJIT.
llvm::Error add_vector_math_symbols(llvm::orc::LLJIT& jit);

}  // namespace actjit::jit
