// From a lowered kernel to LLVM IR: one module holding the forward and the
// fused backward function, explicitly vectorized (no auto-vectorizer), and the
// small optimization pipeline run on it.
//
//   void actjit_fwd(const T* x, T* y, i64 rows, i64 cols, const T* const* params)
//   void actjit_bwd(const T* x, const T* dy, T* dx, i64 rows, i64 cols,
//                   const T* const* params, double* const* grads)
//
// x and y (x, dy and dx) may alias: no noalias on them.
#pragma once

#include "llvm.hpp"
#include "lower.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace actjit::jit {

inline constexpr const char* kForwardName = "actjit_fwd";
inline constexpr const char* kBackwardName = "actjit_bwd";
/// Bit of the kernels' last argument (`flags`): write the output with
/// non-temporal stores where it is aligned (KernelImpl's `streaming`).
inline constexpr std::uint64_t kStreamFlag = 1;
/// flags bit 1: the inputs come from memory (a call whose output is at least
/// the streaming threshold): prefetch x (and dy) ahead of the loads.
inline constexpr std::uint64_t kPrefetchFlag = 2;
/// How far ahead of a full vector's load the prefetch reads.
inline constexpr std::int64_t kPrefetchBytes = 4096;
/// And the second prefetch of the lane-compacted loops' collect pass, into
/// L2: their pow passes between the collects read no memory.
inline constexpr std::int64_t kPrefetchFarBytes = 16384;

struct CodegenTarget {
    std::string triple;
    std::string cpu;       // "target-cpu" of the functions
    std::string features;  // "target-features" of the functions
    int lanes = 1;         // vector width W in elements
    int vector_bits = 128; // widest vector register the target has
    bool compact_lanes = true;  // JitOptions::compact_lanes
};

/// Which kernels a module holds. The engine compiles forward and backward as
/// two modules, on two threads where the host has the cores (docs/JIT.md).
enum class KernelPart { forward, backward, both };

/// Build the module. Verifies it; a broken module is an InternalError.
std::unique_ptr<llvm::Module> emit_kernel_module(llvm::LLVMContext& ctx, const LoweredKernel& k,
                                                 const CodegenTarget& target, const llvm::DataLayout& dl,
                                                 const std::string& module_id, KernelPart part = KernelPart::both);

/// Our pipeline (the IR is vectorized already: a few cheap function passes).
/// opt_level 0 runs only mem2reg. Never throws.
void optimize_module(llvm::Module& m, int opt_level);

/// The optimization level recorded in a module by emit_kernel_module.
int module_opt_level(const llvm::Module& m);
void set_module_opt_level(llvm::Module& m, int opt_level);

}  // namespace actjit::jit
