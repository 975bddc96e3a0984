// A small fork-join thread pool for element-wise kernels.
//
// Persistent workers wait for a job; parallel_for(n, fn) runs fn(0..n-1), each
// index exactly once, on the workers and on the calling thread, and returns
// when all are done. Which thread runs which index is unspecified, so callers
// that need bitwise-reproducible results must make every index write only its
// own output (Kernel does: one gradient slot per block, summed in block order).
//
// Thread safety: parallel_for may be called from many threads at once. One job
// runs on the workers at a time; a call that finds the pool busy, or that comes
// from inside a job, runs its indices on the calling thread instead of waiting
// (so nested or concurrent use can never deadlock). The steady state allocates
// nothing.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace actjit::detail {

/// A non-owning reference to a callable `void(std::int64_t)`.
class IndexFn {
public:
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, IndexFn>)
    IndexFn(F&& f) noexcept  // NOLINT: implicit by design, like std::function_ref
        : object_(const_cast<void*>(static_cast<const void*>(&f))),
          call_([](void* o, std::int64_t i) { (*static_cast<std::remove_reference_t<F>*>(o))(i); }) {}

    void operator()(std::int64_t i) const { call_(object_, i); }

private:
    void* object_;
    void (*call_)(void*, std::int64_t);
};

/// Threads kernels use (>= 1), including the calling thread.
int pool_num_threads() noexcept;
/// 0 = all hardware threads; otherwise 1..kMaxThreads (else ValueError).
void pool_set_num_threads(int n);
inline constexpr int kMaxThreads = 1024;

/// Run fn(i) for every i in [0, n). Exceptions thrown by fn are caught; the
/// first is rethrown on the calling thread after every index has finished.
void parallel_for(std::int64_t n, IndexFn fn);

}  // namespace actjit::detail
