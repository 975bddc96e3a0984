// Private to jit/vector_math*.cpp: the two implementations behind
// emit_vector_math(), exposed separately so tools can compare them.
#pragma once

#include "vector_math.hpp"

namespace actjit::jit::vmath {

/// How a builtin is computed by emit_vector_math().
enum class Impl {
    inline_poly,  // polynomial IR emitted in place (no calls)
    sleef,        // a call to SLEEF 3.5 (width-matched to the target ISA)
    libmvec,      // a call to glibc's libmvec (width-matched likewise)
    none,         // not a transcendental this library handles
};

/// The vector ISA a function may use.
struct Isa {
    bool avx512f = false, avx2 = false;  // avx2: AVX2 and FMA
};

/// The ISA the function being emitted is compiled for: its "target-features"
/// attribute, else the host's (when it has no "target-cpu" or the host's).
Isa function_isa(llvm::Function* fn);

/// The implementation emit_vector_math() uses for `op` on float (f64 = false)
/// or double (f64 = true) elements in a function compiled for `isa`.
Impl choice(actjit::Op op, bool f64, Isa isa = {true, true});

/// The inline polynomial version; nullptr where there is none for this op and
/// element type.
llvm::Value* emit_inline(llvm::IRBuilderBase& b, actjit::Op op, llvm::ArrayRef<llvm::Value*> args,
                         bool fast_paths = true);

/// The SLEEF call version (split or padded to the ISA widths the function's
/// target features allow); nullptr where SLEEF has no such function.
llvm::Value* emit_sleef(llvm::IRBuilderBase& b, actjit::Op op, llvm::ArrayRef<llvm::Value*> args);

/// The glibc libmvec call version; nullptr where libmvec has no such function.
llvm::Value* emit_libmvec(llvm::IRBuilderBase& b, actjit::Op op, llvm::ArrayRef<llvm::Value*> args);

}  // namespace actjit::jit::vmath
