// A KernelSpec lowered to what the code generator needs: fixed parameters
// folded in as constants and simplified, the derivatives the backward kernel
// computes, and the parameter slots. No LLVM here.
#pragma once

#include <actjit/kernel.hpp>

#include <string>
#include <vector>

namespace actjit::jit {

struct LoweredKernel {
    DType dtype = DType::f32;
    Expr f;      // forward: y = f(x), fixed parameters folded and simplified
    Expr dfdx;   // backward: dx = dy * dfdx

    struct Runtime {
        std::string name;
        bool per_feature = false;  // cols values, else one shared scalar
    };
    std::vector<Runtime> runtime;  // slot order = KernelSpec::runtime_params()

    struct Grad {
        int slot = 0;              // runtime slot of the parameter
        bool per_feature = false;  // one sum per column, else one total
        Expr expr;                 // d f / d param
    };
    std::vector<Grad> grads;       // order = KernelSpec::trainable_params()

    /// Canonical text of everything the generated code depends on (not the
    /// target): the disk cache key and what `emit` prints in its header.
    std::string canonical;
};

/// Validate and lower. Throws ValueError on a bad spec.
LoweredKernel lower(const KernelSpec& spec);

/// Does the value of any of `roots` depend on the column (feature index or a
/// per-feature parameter)?
bool needs_columns(const LoweredKernel& k, std::span<const Expr> roots);

/// The roots each pass computes: {f}, and {dfdx, each gradient's expression}.
std::vector<Expr> forward_roots(const LoweredKernel& k);
std::vector<Expr> backward_roots(const LoweredKernel& k);

/// Whether a pass's loops depend on the column (its rows and tiled shapes;
/// else one flat loop): the backward also when a gradient is per feature.
bool forward_needs_columns(const LoweredKernel& k);
bool backward_needs_columns(const LoweredKernel& k);

}  // namespace actjit::jit
