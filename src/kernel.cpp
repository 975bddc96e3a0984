// The backend-neutral half of kernels: parameter bindings, argument checks,
// splitting tensors into row blocks over the thread pool, deterministic
// reduction of parameter gradients, and the interpreted backend.
#include <actjit/build.hpp>
#include <actjit/diff.hpp>
#include <actjit/eval.hpp>
#include <actjit/kernel.hpp>

#include "thread_pool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>

#include <unistd.h>

namespace actjit {

// ---- KernelSpec ---------------------------------------------------------------

KernelSpec KernelSpec::fixed(const Formula& f, DType dtype, const std::vector<std::pair<std::string, double>>& values) {
    for (const auto& [name, value] : values) {
        if (!f.find_param(name)) throw ValueError(fmt::format("formula has no parameter '{}'", name));
        if (!std::isfinite(value)) throw ValueError(fmt::format("value of parameter '{}' is not finite", name));
    }
    KernelSpec spec{f, {}, dtype};
    for (const ParamDecl& p : f.params) {
        ParamBinding b{p.name, ParamKind::Fixed, false, 0};
        auto it = std::find_if(values.rbegin(), values.rend(), [&](const auto& v) { return v.first == p.name; });
        if (it != values.rend())
            b.value = it->second;
        else if (p.default_value)
            b.value = *p.default_value;
        else
            throw ValueError(fmt::format("parameter '{}' has no value", p.name));
        spec.params.push_back(std::move(b));
    }
    return spec;
}

KernelSpec KernelSpec::from_catalog(const Activation& a, DType dtype) {
    const Formula& f = activation_formula(a);
    KernelSpec spec{f, {}, dtype};
    for (const ParamDecl& p : f.params) {
        auto it = std::find_if(a.params.begin(), a.params.end(), [&](const CatalogParam& c) { return c.name == p.name; });
        ParamBinding b{p.name, ParamKind::Fixed, false, 0};
        if (it != a.params.end()) {
            b.value = it->default_value;
            if (it->trainable) {
                b.kind = it->per_feature ? ParamKind::PerFeature : ParamKind::Shared;
                b.trainable = true;
            }
        } else if (p.default_value) {
            b.value = *p.default_value;
        } else {
            throw ValueError(fmt::format("catalog entry '{}' has no default for parameter '{}'", a.name, p.name));
        }
        spec.params.push_back(std::move(b));
    }
    return spec;
}

std::vector<const ParamBinding*> KernelSpec::runtime_params() const {
    std::vector<const ParamBinding*> out;
    for (const ParamBinding& b : params)
        if (b.kind != ParamKind::Fixed) out.push_back(&b);
    return out;
}

std::vector<const ParamBinding*> KernelSpec::trainable_params() const {
    std::vector<const ParamBinding*> out;
    for (const ParamBinding& b : params)
        if (b.kind != ParamKind::Fixed && b.trainable) out.push_back(&b);
    return out;
}

void KernelSpec::validate() const {
    if (!formula.body) throw ValueError("kernel spec has an empty formula");
    if (params.size() != formula.params.size())
        throw ValueError(fmt::format("kernel spec binds {} parameters, the formula has {}", params.size(), formula.params.size()));
    for (std::size_t i = 0; i < params.size(); ++i) {
        const ParamBinding& b = params[i];
        if (b.name != formula.params[i].name)
            throw ValueError(fmt::format("kernel spec binds parameter {} as '{}', the formula calls it '{}'", i + 1, b.name,
                                         formula.params[i].name));
        if (b.kind == ParamKind::Fixed && b.trainable)
            throw ValueError(fmt::format("parameter '{}' is fixed and cannot be trainable", b.name));
        if (b.kind == ParamKind::Fixed && !std::isfinite(b.value))
            throw ValueError(fmt::format("fixed value of parameter '{}' is not finite", b.name));
    }
    if (dtype != DType::f32 && dtype != DType::f64) throw ValueError("kernel spec has an unknown dtype");
}

// ---- Kernel: checks and blocking ------------------------------------------------

namespace {

/// Elements per block. Blocks depend only on the tensor's shape, never on
/// the thread count, which is what makes gradient sums reproducible.
constexpr std::int64_t kBlockElements = 32 * 1024;
/// Most doubles of per-block gradient slots one backward call may use; wider
/// gradients get fewer, larger blocks (still a function of the shape only).
constexpr std::int64_t kMaxSlotDoubles = std::int64_t{1} << 21;
/// Parameter pointer arrays up to this size live on the stack.
constexpr std::size_t kInlineParams = 8;

const char* dtype_name(DType d) { return d == DType::f32 ? "f32" : "f64"; }

/// A small array (of pointers, offsets), on the stack when short. Not
/// initialized: every user writes each element before reading it (a call on
/// 8 elements spent ~20 instructions zeroing and tearing down the old one).
template <class P>
class SmallArray {
public:
    explicit SmallArray(std::size_t n) {
        if (n > kInlineParams) heap_ = std::make_unique_for_overwrite<P[]>(n);
    }
    P* data() noexcept { return heap_ ? heap_.get() : inline_; }
    P& operator[](std::size_t i) noexcept { return data()[i]; }

private:
    P inline_[kInlineParams];
    std::unique_ptr<P[]> heap_;
};

struct Blocking {
    std::int64_t rows_per_block;
    std::int64_t num_blocks;
};

/// streaming_threshold(): -2 until first asked for.
std::atomic<std::int64_t> g_streaming_threshold{-2};

std::int64_t default_streaming_threshold() {
    if (const char* env = std::getenv("ACTJIT_STREAMING_THRESHOLD")) {
        char* end = nullptr;
        const long long v = std::strtoll(env, &end, 10);
        if (end != env && *end == '\0') return v < 0 ? -1 : static_cast<std::int64_t>(v);
    }
    // The last-level cache one core shares, as Linux describes it ("32768K");
    // glibc's sysconf reports the whole socket's L3 on some AMD parts (320 MB
    // on the development VM, whose cores share 32 MB).
    if (std::FILE* f = std::fopen("/sys/devices/system/cpu/cpu0/cache/index3/size", "r")) {
        long long v = 0;
        char unit = 0;
        const int got = std::fscanf(f, "%lld%c", &v, &unit);
        std::fclose(f);
        if (got >= 1 && v > 0)
            return detail::streaming_threshold_for_cache(v << (unit == 'K' ? 10 : unit == 'M' ? 20 : 0));
    }
    long llc = -1;
#ifdef _SC_LEVEL3_CACHE_SIZE
    llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    return detail::streaming_threshold_for_cache(llc);
}

bool is_streaming(std::int64_t output_bytes) {
    // The threshold's atomic load inline; streaming_threshold() only once,
    // to read the default.
    std::int64_t t = g_streaming_threshold.load(std::memory_order_relaxed);
    if (t == -2) [[unlikely]]
        t = streaming_threshold();
    return t >= 0 && output_bytes >= t;
}

Blocking make_blocking(std::int64_t rows, std::int64_t cols, std::int64_t grad_width) {
    std::int64_t rpb = std::max<std::int64_t>(1, kBlockElements / std::max<std::int64_t>(cols, 1));
    if (grad_width > 0) {
        const std::int64_t max_blocks = std::max<std::int64_t>(1, kMaxSlotDoubles / grad_width);
        rpb = std::max(rpb, (rows + max_blocks - 1) / max_blocks);
    }
    return {rpb, rows == 0 ? 0 : (rows + rpb - 1) / rpb};
}

}  // namespace

namespace detail {
/// Per kernel, per pass: whether streaming stores paid in its last trial
/// (kUnknown before the first), and how many calls could have had one.
struct StreamingChoice {
    static constexpr int kUnknown = 0, kStream = 1, kPlain = 2;
    struct Pass {
        std::atomic<int> choice{kUnknown};
        std::atomic<std::uint64_t> trial_calls{0};
    };
    Pass forward, backward;
};

/// What a Kernel's copies share: the streaming choices, and what a call on
/// one block needs to check its arguments and call the backend's Entry
/// directly, in one cache line (the spec's ParamBindings, with their names,
/// are lines more).
struct alignas(64) KernelState {
    KernelImpl::Entry entry;          // null functions: no direct calls
    DType dtype = DType::f32;
    std::uint8_t num_params = 0;      // runtime parameters
    std::uint8_t num_grads = 0;       // trainable ones
    std::uint8_t grad_per_feature = 0;  // bit k: trainable parameter k is PerFeature (cols doubles, else 1)
    StreamingChoice streaming;
};
}  // namespace detail

namespace {
/// Direct calls take at most this many runtime parameters...
constexpr std::size_t kDirectParams = 8;
/// ... and this many doubles of gradient sums (a per-feature parameter of
/// 256 columns), on the stack.
constexpr std::int64_t kDirectSlots = 256;
static_assert(kDirectParams <= 8, "KernelState::grad_per_feature has a bit per trainable parameter");
}  // namespace

Kernel::Kernel(KernelSpec spec, std::shared_ptr<const KernelImpl> impl)
    : impl_(std::move(impl)), state_(std::make_shared<detail::KernelState>()) {
    if (!impl_) throw ValueError("kernel has no implementation");
    spec.validate();
    spec_ = std::make_shared<const KernelSpec>(std::move(spec));
    detail::KernelState& st = *state_;
    st.dtype = spec_->dtype;
    std::size_t params = 0, grads = 0;
    for (const ParamBinding& b : spec_->params) {
        if (b.kind == ParamKind::Fixed) continue;
        ++params;
        if (!b.trainable) continue;
        if (b.kind == ParamKind::PerFeature && grads < kDirectParams) st.grad_per_feature |= std::uint8_t(1u << grads);
        ++grads;
    }
    if (params <= kDirectParams) {
        st.entry = impl_->entry();
        st.num_params = static_cast<std::uint8_t>(params);
        st.num_grads = static_cast<std::uint8_t>(grads);
    }
}

namespace {

/// True when every argument is right: what Kernel::check verifies, without
/// its messages, divisions or stack frame (a call on 8 elements spent 14 % of
/// its time in check). check() runs only when this says no, to say why.
[[gnu::always_inline]] inline bool arguments_ok(const KernelSpec& s, DType dtype, const void* x, const void* y,
                                                const void* dy, std::int64_t rows, std::int64_t cols,
                                                std::size_t num_params, const void* const* params,
                                                std::size_t num_grads, void* const* grads, bool is_backward) noexcept {
    std::int64_t n = 0;
    if (dtype != s.dtype || rows < 0 || cols < 0 || __builtin_mul_overflow(rows, cols, &n) || n > kMaxKernelElements)
        return false;
    if (n != 0 && (!x || !y || (is_backward && !dy))) return false;
    std::size_t p = 0, g = 0;
    for (const ParamBinding& b : s.params) {
        if (b.kind == ParamKind::Fixed) continue;
        const bool needed = b.kind == ParamKind::Shared || cols > 0;
        if (p == num_params || (needed && !params[p])) return false;
        ++p;
        if (is_backward && b.trainable) {
            if (g == num_grads || (needed && !grads[g])) return false;
            ++g;
        }
    }
    return p == num_params && (!is_backward || g == num_grads);
}

}  // namespace

[[gnu::cold, gnu::noinline]] void Kernel::check(DType dtype, const void* x, const void* y, const void* dy,
                                               std::int64_t rows, std::int64_t cols, std::size_t num_params,
                                               const void* const* params, std::size_t num_grads, void* const* grads,
                                               bool is_backward) const {
    if (!impl_) throw ValueError("kernel is empty (default-constructed)");
    const KernelSpec& s = *spec_;
    const char* fn = is_backward ? "backward" : "forward";
    if (dtype != s.dtype)
        throw ValueError(fmt::format("{}: kernel is compiled for {} but called with {} data", fn, dtype_name(s.dtype),
                                     dtype == DType::f32 ? "float" : "double"));
    if (rows < 0) throw ValueError(fmt::format("{}: rows must be >= 0, got {}", fn, rows));
    if (cols < 0) throw ValueError(fmt::format("{}: cols must be >= 0, got {}", fn, cols));
    if (cols > 0 && rows > kMaxKernelElements / cols)
        throw ValueError(fmt::format("{}: {} x {} elements is more than the limit of {}", fn, rows, cols, kMaxKernelElements));
    const bool empty = rows == 0 || cols == 0;
    if (!empty) {
        if (!x) throw ValueError(fmt::format("{}: x is null", fn));
        if (!y) throw ValueError(fmt::format("{}: {} is null", fn, is_backward ? "dx" : "y"));
        if (is_backward && !dy) throw ValueError(fmt::format("{}: dy is null", fn));
    }

    std::size_t want_params = 0, want_grads = 0;
    for (const ParamBinding& b : s.params) {
        if (b.kind == ParamKind::Fixed) continue;
        ++want_params;
        want_grads += b.trainable ? 1 : 0;
    }
    auto names = [&](bool trainable_only) {
        std::string out;
        for (const ParamBinding& b : s.params) {
            if (b.kind == ParamKind::Fixed || (trainable_only && !b.trainable)) continue;
            out += out.empty() ? b.name : ", " + b.name;
        }
        return out.empty() ? std::string() : " (" + out + ")";
    };
    if (num_params != want_params)
        throw ValueError(fmt::format("{}: expected {} parameter array{}{}, got {}", fn, want_params, want_params == 1 ? "" : "s",
                                     names(false), num_params));
    if (is_backward && num_grads != want_grads)
        throw ValueError(fmt::format("{}: expected {} gradient array{}{}, got {}", fn, want_grads, want_grads == 1 ? "" : "s",
                                     names(true), num_grads));
    std::size_t p = 0, g = 0;
    for (const ParamBinding& b : s.params) {
        if (b.kind == ParamKind::Fixed) continue;
        // A per-feature array of 0 columns may be null; everything else must not be.
        const bool needed = b.kind == ParamKind::Shared || cols > 0;
        if (needed && !params[p]) throw ValueError(fmt::format("{}: parameter array for '{}' is null", fn, b.name));
        ++p;
        if (is_backward && b.trainable) {
            if (needed && !grads[g]) throw ValueError(fmt::format("{}: gradient array for '{}' is null", fn, b.name));
            ++g;
        }
    }
}

namespace {

/// Runs blocks [0, num_blocks) with block(b, streaming). With `streaming`,
/// a pass learns whether streaming pays (see set_streaming_threshold in
/// kernel.hpp) on its first such call with enough blocks, and again on the
/// 4th, 16th, 64th, ... after it, so that a trial a noisy moment misled is
/// corrected: block 0 untimed, then kStreamingTrialBlocks blocks on the
/// calling thread in runs of kStreamingTrialRun, streaming or not in the
/// order S P P S S P P S, each run timed; the least run time of each way
/// decides. The rest of the blocks, and later calls, use the choice.
template <class Block>
void run_blocks(std::int64_t num_blocks, bool streaming, detail::StreamingChoice::Pass& pass, const Block& block) {
    using detail::StreamingChoice;
    std::int64_t first = 0;
    if (streaming) {
        int c = pass.choice.load(std::memory_order_relaxed);
        if (num_blocks > kStreamingTrialBlocks + 1) {
            const std::uint64_t n = pass.trial_calls.fetch_add(1, std::memory_order_relaxed);
            const bool power_of_4 = n >= 4 && (n & (n - 1)) == 0 && (n & 0x5555555555555555u) != 0;
            if (c == StreamingChoice::kUnknown || n == 0 || power_of_4) {
                using clock = std::chrono::steady_clock;
                block(0, false);
                clock::duration least[2] = {clock::duration::max(), clock::duration::max()};
                for (std::int64_t r = 0; r < kStreamingTrialBlocks / kStreamingTrialRun; ++r) {
                    const bool s = (r % 4 == 0) || (r % 4 == 3);
                    const auto t0 = clock::now();
                    for (std::int64_t i = 0; i < kStreamingTrialRun; ++i) block(1 + r * kStreamingTrialRun + i, s);
                    least[s] = std::min(least[s], clock::now() - t0);
                }
                first = 1 + kStreamingTrialBlocks;
                // Streaming unless clearly slower: where it loses, it loses
                // 2x (gelu); where it wins, trials are noisy.
                c = least[1] * 10 <= least[0] * 11 ? StreamingChoice::kStream : StreamingChoice::kPlain;
                pass.choice.store(c, std::memory_order_relaxed);
            }
        }
        streaming = c != StreamingChoice::kPlain;
    }
    if (num_blocks - first == 1) return block(first, streaming);  // no dispatch
    if (num_blocks > first)
        detail::parallel_for(num_blocks - first, [&](std::int64_t b) { block(first + b, streaming); });
}

template <class T>
void run_forward(const KernelImpl& impl, detail::StreamingChoice::Pass& choice, const T* x, T* y, std::int64_t rows,
                 std::int64_t cols, const void* const* params) {
    if (rows == 0 || cols == 0) return;
    const bool streaming = is_streaming(rows * cols * static_cast<std::int64_t>(sizeof(T)));
    // One block (what make_blocking would say): no divisions, no dispatch.
    if (rows * cols <= kBlockElements) return impl.forward(x, y, rows, cols, params, streaming);
    const Blocking blk = make_blocking(rows, cols, 0);
    run_blocks(blk.num_blocks, streaming, choice, [&](std::int64_t b, bool s) {
        const std::int64_t r0 = b * blk.rows_per_block;
        const std::int64_t n = std::min(blk.rows_per_block, rows - r0);
        impl.forward(x + r0 * cols, y + r0 * cols, n, cols, params, s);
    });
}

template <class T>
void run_backward(const KernelSpec& spec, const KernelImpl& impl, detail::StreamingChoice::Pass& choice, const T* x,
                  const T* dy, T* dx, std::int64_t rows, std::int64_t cols, const void* const* params,
                  T* const* grads) {
    // Gradient layout: trainable parameters in order, `cols` (PerFeature) or
    // 1 (Shared) doubles each; `grad_width` doubles per block.
    const std::size_t num_grads = [&] {
        std::size_t n = 0;
        for (const ParamBinding& b : spec.params) n += b.kind != ParamKind::Fixed && b.trainable;
        return n;
    }();
    SmallArray<std::int64_t> offset(num_grads + 1);
    {
        std::size_t k = 0;
        offset[0] = 0;
        for (const ParamBinding& b : spec.params)
            if (b.kind != ParamKind::Fixed && b.trainable) {
                offset[k + 1] = offset[k] + (b.kind == ParamKind::PerFeature ? cols : 1);
                ++k;
            }
    }
    const std::int64_t grad_width = offset[num_grads];
    const bool empty = rows == 0 || cols == 0;
    // Per-block slots, reused across calls on this thread.
    thread_local std::vector<double> slots;
    if (!empty && rows * cols <= kBlockElements) {
        // One block (what make_blocking says for any such shape): no
        // divisions, no dispatch, no sum over blocks.
        const bool streaming = is_streaming(rows * cols * static_cast<std::int64_t>(sizeof(T)));
        if (grad_width == 0) return impl.backward(x, dy, dx, rows, cols, params, nullptr, streaming);
        if (slots.size() < static_cast<std::size_t>(grad_width)) slots.resize(static_cast<std::size_t>(grad_width));
        SmallArray<double*> g(num_grads);
        for (std::size_t k = 0; k < num_grads; ++k) g[k] = slots.data() + offset[k];
        impl.backward(x, dy, dx, rows, cols, params, g.data(), streaming);
        for (std::size_t k = 0; k < num_grads; ++k)
            for (std::int64_t i = offset[k]; i < offset[k + 1]; ++i) grads[k][i - offset[k]] = static_cast<T>(slots[i]);
        return;
    }
    const Blocking blk = make_blocking(rows, cols, grad_width);

    const std::int64_t num_slots = empty ? 1 : blk.num_blocks;
    if (grad_width > 0) {
        slots.resize(static_cast<std::size_t>(num_slots * grad_width));
        if (empty) std::fill(slots.begin(), slots.end(), 0.0);
    }
    double* slot_base = slots.data();
    const bool streaming = is_streaming(rows * cols * static_cast<std::int64_t>(sizeof(T)));

    if (!empty)
        run_blocks(blk.num_blocks, streaming, choice, [&](std::int64_t b, bool s) {
            const std::int64_t r0 = b * blk.rows_per_block;
            const std::int64_t n = std::min(blk.rows_per_block, rows - r0);
            SmallArray<double*> g(num_grads);
            for (std::size_t k = 0; k < num_grads; ++k) g[k] = slot_base + b * grad_width + offset[k];
            impl.backward(x + r0 * cols, dy + r0 * cols, dx + r0 * cols, n, cols, params, g.data(), s);
        });
    if (grad_width == 0) return;

    // Sum the blocks' slots in block order into slot 0: the same additions in
    // the same order for any thread count.
    for (std::int64_t b = 1; b < num_slots; ++b) {
        const double* src = slot_base + b * grad_width;
        for (std::int64_t i = 0; i < grad_width; ++i) slot_base[i] += src[i];
    }
    for (std::size_t k = 0; k < num_grads; ++k)
        for (std::int64_t i = offset[k]; i < offset[k + 1]; ++i) grads[k][i - offset[k]] = static_cast<T>(slot_base[i]);
}

template <class T>
SmallArray<const void*> erase_params(std::span<const T* const> params) {
    SmallArray<const void*> out(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) out[i] = params[i];
    return out;
}

template <class T>
SmallArray<void*> erase_grads(std::span<T* const> grads) {
    SmallArray<void*> out(grads.size());
    for (std::size_t i = 0; i < grads.size(); ++i) out[i] = grads[i];
    return out;
}

}  // namespace

namespace {

/// One block that streams no output and has every argument right: what
/// arguments_ok and run_forward / run_backward would say, from the state's
/// one line and the arguments alone (no spec, no virtual call, no
/// thread-local slots).
template <class T>
[[gnu::always_inline]] inline bool direct_shape_ok(const detail::KernelState& st, DType dtype, const void* x,
                                                   const void* y, std::int64_t rows, std::int64_t cols,
                                                   std::span<const T* const> params, const void** p) noexcept {
    if (dtype != st.dtype || params.size() != st.num_params) return false;
    // Both at most kBlockElements: the product cannot overflow.
    if (rows <= 0 || cols <= 0 || rows > kBlockElements || cols > kBlockElements || rows * cols > kBlockElements)
        return false;
    if (!x || !y) return false;
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (!params[i]) return false;
        p[i] = params[i];
    }
    return !is_streaming(rows * cols * static_cast<std::int64_t>(sizeof(T)));
}

template <class T>
[[gnu::always_inline]] inline bool forward_direct(const detail::KernelState* st, DType dtype, const T* x, T* y,
                                                  std::int64_t rows, std::int64_t cols,
                                                  std::span<const T* const> params) {
    if (!st || !st->entry.forward) return false;
    const void* p[kDirectParams];
    if (!direct_shape_ok(*st, dtype, x, y, rows, cols, params, p)) return false;
    st->entry.forward(x, y, rows, cols, p, 0);
    return true;
}

template <class T>
[[gnu::always_inline]] inline bool backward_direct(const detail::KernelState* st, DType dtype, const T* x, const T* dy,
                                                   T* dx, std::int64_t rows, std::int64_t cols,
                                                   std::span<const T* const> params, std::span<T* const> grads) {
    if (!st || !st->entry.backward || grads.size() != st->num_grads || !dy) return false;
    const void* p[kDirectParams];
    if (!direct_shape_ok(*st, dtype, x, dx, rows, cols, params, p)) return false;
    if (st->num_grads == 0) {
        st->entry.backward(x, dy, dx, rows, cols, p, nullptr, 0);
        return true;
    }
    const int per_feature = std::popcount(st->grad_per_feature);
    if (st->num_grads - per_feature + per_feature * cols > kDirectSlots) return false;
    double slots[kDirectSlots];
    double* g[kDirectParams];
    std::int64_t width[kDirectParams];
    for (std::size_t k = 0, at = 0; k < grads.size(); ++k) {
        if (!grads[k]) return false;
        width[k] = (st->grad_per_feature >> k) & 1 ? cols : 1;
        g[k] = slots + at;
        at += static_cast<std::size_t>(width[k]);
    }
    st->entry.backward(x, dy, dx, rows, cols, p, g, 0);
    for (std::size_t k = 0; k < grads.size(); ++k)
        for (std::int64_t i = 0; i < width[k]; ++i) grads[k][i] = static_cast<T>(g[k][i]);
    return true;
}

}  // namespace

template <class T>
[[gnu::noinline]] void Kernel::forward_blocks(const T* x, T* y, std::int64_t rows, std::int64_t cols,
                                              std::span<const T* const> params) const {
    constexpr DType dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
    auto p = erase_params(params);
    if (!impl_ || !arguments_ok(*spec_, dtype, x, y, nullptr, rows, cols, params.size(), p.data(), 0, nullptr, false))
        check(dtype, x, y, nullptr, rows, cols, params.size(), p.data(), 0, nullptr, false);
    run_forward(*impl_, state_->streaming.forward, x, y, rows, cols, p.data());
}

template <class T>
[[gnu::noinline]] void Kernel::backward_blocks(const T* x, const T* dy, T* dx, std::int64_t rows, std::int64_t cols,
                                               std::span<const T* const> params, std::span<T* const> grads) const {
    constexpr DType dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
    auto p = erase_params(params);
    auto g = erase_grads(grads);
    if (!impl_ || !arguments_ok(*spec_, dtype, x, dx, dy, rows, cols, params.size(), p.data(), grads.size(), g.data(), true))
        check(dtype, x, dx, dy, rows, cols, params.size(), p.data(), grads.size(), g.data(), true);
    run_backward(*spec_, *impl_, state_->streaming.backward, x, dy, dx, rows, cols, p.data(), grads.data());
}

void Kernel::forward(const float* x, float* y, std::int64_t rows, std::int64_t cols, std::span<const float* const> params) const {
    if (!forward_direct(state_.get(), DType::f32, x, y, rows, cols, params)) forward_blocks(x, y, rows, cols, params);
}

void Kernel::forward(const double* x, double* y, std::int64_t rows, std::int64_t cols, std::span<const double* const> params) const {
    if (!forward_direct(state_.get(), DType::f64, x, y, rows, cols, params)) forward_blocks(x, y, rows, cols, params);
}

void Kernel::backward(const float* x, const float* dy, float* dx, std::int64_t rows, std::int64_t cols,
                      std::span<const float* const> params, std::span<float* const> grads) const {
    if (!backward_direct(state_.get(), DType::f32, x, dy, dx, rows, cols, params, grads))
        backward_blocks(x, dy, dx, rows, cols, params, grads);
}

void Kernel::backward(const double* x, const double* dy, double* dx, std::int64_t rows, std::int64_t cols,
                      std::span<const double* const> params, std::span<double* const> grads) const {
    if (!backward_direct(state_.get(), DType::f64, x, dy, dx, rows, cols, params, grads))
        backward_blocks(x, dy, dx, rows, cols, params, grads);
}

void set_num_threads(int n) { detail::pool_set_num_threads(n); }

namespace detail {
std::int64_t streaming_threshold_for_cache(std::int64_t llc_bytes) noexcept {
    // A virtual machine's sysfs names the whole socket's L3 (480 MiB on a
    // 2-vCPU Xeon VM, shared with other tenants), where outputs of 64 MiB
    // already run at memory speed and streaming stores made relu 1.6x
    // faster: no core counts on more than 32 MiB.
    constexpr std::int64_t kCap = std::int64_t{32} << 20;
    return llc_bytes > 0 && llc_bytes < kCap ? llc_bytes : kCap;
}
}  // namespace detail

void set_streaming_threshold(std::int64_t bytes) { g_streaming_threshold.store(bytes < 0 ? -1 : bytes); }

std::int64_t streaming_threshold() noexcept {
    std::int64_t t = g_streaming_threshold.load(std::memory_order_relaxed);
    if (t == -2) {
        std::int64_t expected = -2;
        g_streaming_threshold.compare_exchange_strong(expected, default_streaming_threshold());
        t = g_streaming_threshold.load(std::memory_order_relaxed);
    }
    return t;
}
int num_threads() noexcept { return detail::pool_num_threads(); }

// ---- The interpreted backend ------------------------------------------------------

namespace {

class InterpretedKernel final : public KernelImpl {
public:
    explicit InterpretedKernel(const KernelSpec& spec) : is_f64_(spec.dtype == DType::f64) {
        std::vector<std::pair<Expr, Expr>> fixed;
        std::vector<std::string> runtime;
        for (const ParamBinding& b : spec.params) {
            if (b.kind == ParamKind::Fixed) {
                fixed.emplace_back(param(b.name), constant(b.value));
            } else {
                runtime.push_back(b.name);
                per_feature_.push_back(b.kind == ParamKind::PerFeature);
            }
        }
        const Expr body = fixed.empty() ? spec.formula.body : substitute(spec.formula.body, fixed);
        // Backward outputs: df/dx, then df/dp for each trainable parameter.
        std::vector<Expr> bwd{diff(body, input())};
        for (const ParamBinding& b : spec.params) {
            if (b.kind == ParamKind::Fixed) continue;
            const bool t = b.trainable;
            trainable_.push_back(t);
            if (t) bwd.push_back(diff(body, param(b.name)));
        }
        forward_.emplace(std::span<const Expr>(&body, 1), runtime);
        backward_.emplace(bwd, runtime);
    }

    void forward(const void* x, void* y, std::int64_t rows, std::int64_t cols, const void* const* params,
                 bool /*streaming*/) const override {
        if (is_f64_) return fwd(static_cast<const double*>(x), static_cast<double*>(y), rows, cols, params);
        fwd(static_cast<const float*>(x), static_cast<float*>(y), rows, cols, params);
    }

    void backward(const void* x, const void* dy, void* dx, std::int64_t rows, std::int64_t cols, const void* const* params,
                  double* const* grads, bool /*streaming*/) const override {
        if (is_f64_)
            return bwd(static_cast<const double*>(x), static_cast<const double*>(dy), static_cast<double*>(dx), rows, cols,
                       params, grads);
        bwd(static_cast<const float*>(x), static_cast<const float*>(dy), static_cast<float*>(dx), rows, cols, params, grads);
    }

private:
    template <class T>
    void load_params(const void* const* params, std::int64_t col, std::vector<T>& out) const {
        for (std::size_t k = 0; k < per_feature_.size(); ++k)
            out[k] = static_cast<const T*>(params[k])[per_feature_[k] ? col : 0];
    }

    template <class T>
    void fwd(const T* x, T* y, std::int64_t rows, std::int64_t cols, const void* const* params) const {
        std::vector<T> p(per_feature_.size());
        T out = 0;
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c) {
                const std::int64_t i = r * cols + c;
                load_params(params, c, p);
                forward_->run<T>(x[i], c, p, std::span<T>(&out, 1));
                y[i] = out;
            }
    }

    template <class T>
    void bwd(const T* x, const T* dy, T* dx, std::int64_t rows, std::int64_t cols, const void* const* params,
             double* const* grads) const {
        std::vector<T> p(per_feature_.size());
        std::vector<T> out(backward_->num_outputs());
        // Zero this block's sums.
        for (std::size_t k = 0, g = 0; k < per_feature_.size(); ++k)
            if (trainable_[k]) std::fill_n(grads[g++], per_feature_[k] ? cols : 1, 0.0);
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c) {
                const std::int64_t i = r * cols + c;
                load_params(params, c, p);
                backward_->run<T>(x[i], c, p, out);
                const T g_out = dy[i];
                dx[i] = g_out * out[0];
                for (std::size_t k = 0, g = 0; k < per_feature_.size(); ++k) {
                    if (!trainable_[k]) continue;
                    grads[g][per_feature_[k] ? c : 0] += static_cast<double>(g_out) * static_cast<double>(out[g + 1]);
                    ++g;
                }
            }
    }

    bool is_f64_;
    std::vector<bool> per_feature_;  // per runtime parameter
    std::vector<bool> trainable_;    // per runtime parameter
    std::optional<Interpreter> forward_, backward_;
};

}  // namespace

Kernel compile_interpreted(const KernelSpec& spec) {
    spec.validate();
    return Kernel(spec, std::make_shared<InterpretedKernel>(spec));
}

}  // namespace actjit
