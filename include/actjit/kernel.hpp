// Element-wise activation kernels over [rows x features] row-major tensors:
// the interface shared by every backend (the LLVM JIT in jit/, the reference
// interpreter in src/), and what networks call.
//
// Thread safety: a Kernel is immutable; forward() and backward() may run from
// many threads at once. Copies share the compiled code, which is freed when the
// last copy goes.
#pragma once

#include <actjit/catalog.hpp>
#include <actjit/formula.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace actjit {

enum class DType : std::uint8_t { f32, f64 };

enum class ParamKind : std::uint8_t {
    Fixed,       // folded into the kernel as a constant
    Shared,      // one runtime value (a scalar) for the whole tensor
    PerFeature,  // one runtime value per feature (column)
};

struct ParamBinding {
    std::string name;
    ParamKind kind = ParamKind::Fixed;
    bool trainable = false;  // Shared or PerFeature only: the kernel reduces its gradient
    double value = 0;        // Fixed: the value folded in
};

/// What to compile: a formula, how each of its parameters is bound, a dtype.
struct KernelSpec {
    Formula formula;
    std::vector<ParamBinding> params;  // exactly one per formula parameter, same order
    DType dtype = DType::f32;

    /// Every parameter Fixed at `values` or its default (ValueError if neither).
    static KernelSpec fixed(const Formula& f, DType dtype = DType::f32, const std::vector<std::pair<std::string, double>>& values = {});
    /// A catalog activation bound as the catalog says (trainable, per-feature
    /// or shared); non-trainable parameters Fixed at their defaults.
    static KernelSpec from_catalog(const Activation& a, DType dtype = DType::f32);

    /// Runtime (non-Fixed) parameters, in order: the `params` of forward/backward.
    std::vector<const ParamBinding*> runtime_params() const;
    /// Trainable parameters, in order: the `grads` of backward.
    std::vector<const ParamBinding*> trainable_params() const;
    /// Throws ValueError if bindings do not match the formula's parameters.
    void validate() const;
};

/// Backend interface: one call covers a contiguous block of rows. Arguments
/// are already checked; Kernel splits large tensors into fixed-size row blocks
/// (independent of the thread count), runs blocks on the thread pool, and sums
/// the blocks' parameter gradients in block order, so results are bitwise
/// identical for any number of threads.
class KernelImpl {
public:
    virtual ~KernelImpl() = default;
    /// x, y: rows*cols elements of the spec's dtype. params: one pointer per
    /// runtime parameter (cols values, or 1 for Shared). `streaming`: the
    /// whole output is larger than streaming_threshold(), so the backend may
    /// write it around the caches and prefetch its inputs (a hint; results
    /// are the same either way).
    virtual void forward(const void* x, void* y, std::int64_t rows, std::int64_t cols, const void* const* params,
                         bool streaming) const = 0;
    /// grads: one double array per trainable parameter (cols values, or 1 for
    /// Shared): overwrite it with this block's sum over rows of dy * df/dparam.
    virtual void backward(const void* x, const void* dy, void* dx, std::int64_t rows, std::int64_t cols,
                          const void* const* params, double* const* grads, bool streaming) const = 0;

    /// Plain functions that do what forward() and backward() do with
    /// `streaming` false, called with `flags` 0, or null. Kernel calls them
    /// directly for tensors of one block, which then touch no more memory
    /// than the call needs (a 4096-float backward's x, dy and dx fill a
    /// 48 KiB L1 cache: each line more evicts one of theirs).
    struct Entry {
        void (*forward)(const void* x, void* y, std::int64_t rows, std::int64_t cols, const void* const* params,
                        std::uint64_t flags) = nullptr;
        void (*backward)(const void* x, const void* dy, void* dx, std::int64_t rows, std::int64_t cols,
                         const void* const* params, double* const* grads, std::uint64_t flags) = nullptr;
    };
    virtual Entry entry() const noexcept { return {}; }
};

namespace detail {
struct KernelState;  // src/kernel.cpp
}  // namespace detail

class Kernel {
public:
    Kernel() = default;
    Kernel(KernelSpec spec, std::shared_ptr<const KernelImpl> impl);

    explicit operator bool() const noexcept { return impl_ != nullptr; }
    const KernelSpec& spec() const noexcept { return *spec_; }

    /// y = f(x). `params`: one pointer per runtime parameter (spec order),
    /// each `cols` values (PerFeature) or 1 (Shared). y may alias x.
    void forward(const float* x, float* y, std::int64_t rows, std::int64_t cols,
                 std::span<const float* const> params = {}) const;
    void forward(const double* x, double* y, std::int64_t rows, std::int64_t cols,
                 std::span<const double* const> params = {}) const;

    /// dx = dy * f'(x) in one pass; for each trainable parameter, its gradient
    /// summed over rows written to `grads` (one pointer per trainable parameter,
    /// `cols` values for PerFeature, 1 for Shared; overwritten, not added to).
    /// Sums are accumulated in double and are identical for any thread count.
    /// dx may alias x or dy.
    void backward(const float* x, const float* dy, float* dx, std::int64_t rows, std::int64_t cols,
                  std::span<const float* const> params = {}, std::span<float* const> grads = {}) const;
    void backward(const double* x, const double* dy, double* dx, std::int64_t rows, std::int64_t cols,
                  std::span<const double* const> params = {}, std::span<double* const> grads = {}) const;

private:
    // Everything but the one-block calls of Entry's functions (src/kernel.cpp).
    template <class T>
    void forward_blocks(const T* x, T* y, std::int64_t rows, std::int64_t cols, std::span<const T* const> params) const;
    template <class T>
    void backward_blocks(const T* x, const T* dy, T* dx, std::int64_t rows, std::int64_t cols,
                         std::span<const T* const> params, std::span<T* const> grads) const;
    void check(DType dtype, const void* x, const void* y, const void* dy, std::int64_t rows, std::int64_t cols,
               std::size_t num_params, const void* const* params, std::size_t num_grads, void* const* grads,
               bool is_backward) const;
    std::shared_ptr<const KernelSpec> spec_;
    std::shared_ptr<const KernelImpl> impl_;
    // Shared by copies: the streaming choices and what the one-block calls
    // need, in one cache line.
    std::shared_ptr<detail::KernelState> state_;
};

/// Largest rows*cols a kernel accepts (absurd sizes are a ValueError).
inline constexpr std::int64_t kMaxKernelElements = std::int64_t{1} << 40;

/// Kernels backed by the reference interpreter: always available, slow.
Kernel compile_interpreted(const KernelSpec& spec);

/// Threads used by kernels for large inputs (default: all cores). 1 = never
/// leave the calling thread; 0 = all cores; negative or more than 1024 is a
/// ValueError. An empty tensor (rows or cols 0) accepts null data pointers,
/// but parameter and gradient pointers must still be non-null.
void set_num_threads(int n);
int num_threads() noexcept;

/// Outputs (y of forward, dx of backward) of at least this many bytes are
/// written with non-temporal stores, around the caches, where the backend can
/// (the JIT: every full vector whose address is aligned to the vector size,
/// e.g. 64 bytes with AVX-512, as PyTorch's CPU allocator aligns tensors;
/// other outputs, from std::vector say, through a per-thread staging buffer
/// streamed out line by line, at 0.75-0.8x the aligned speed). An
/// output that large does not stay in the last-level cache anyway, and normal
/// stores would first read every line they write (measured: memory-bound
/// kernels 1.3-1.9x faster at 16M floats). But on some machines they slow
/// down kernels that compute more per element (gelu and softplus forward 2x
/// slower on a Xeon VM), so each kernel's forward and backward learn it on
/// their first call with more than kStreamingTrialBlocks + 1 blocks, and
/// again on the 4th, 16th, 64th, ... such call after it: those blocks run on
/// the calling thread, half of them streaming (in runs of
/// kStreamingTrialRun), timed, and streaming stays on for that pass unless
/// its fastest run was more than 10 % slower than the other way's (results
/// are the same bits either way). Smaller calls over the threshold stream.
/// Default: $ACTJIT_STREAMING_THRESHOLD (bytes) if set, else the size of the
/// last-level cache a core shares (Linux sysfs, else sysconf) up to 32 MiB,
/// else 32 MiB. 0 = always, negative = never.
void set_streaming_threshold(std::int64_t bytes);
std::int64_t streaming_threshold() noexcept;

/// Blocks timed, after one untimed, to learn whether a kernel's pass streams
/// (4 MiB of float output), in runs of kStreamingTrialRun blocks each way.
inline constexpr std::int64_t kStreamingTrialBlocks = 32;
inline constexpr std::int64_t kStreamingTrialRun = 4;

namespace detail {
/// The default threshold for a last-level cache of `llc_bytes` (<= 0: unknown).
std::int64_t streaming_threshold_for_cache(std::int64_t llc_bytes) noexcept;
}  // namespace detail

}  // namespace actjit
