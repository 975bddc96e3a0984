// The kernels' fork-join pool (see thread_pool.hpp).
#include "thread_pool.hpp"

#include <actjit/error.hpp>

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace actjit::detail {

namespace {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

int hardware_threads() noexcept {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(std::min<unsigned>(n, kMaxThreads));
}

/// True on a pool worker and on a caller while it takes part in a job: a
/// parallel_for from there runs inline.
thread_local bool t_inside_job = false;

class Pool {
public:
    int num_threads() const noexcept { return desired_.load(std::memory_order_relaxed); }
    void set_num_threads(int n) noexcept { desired_.store(n, std::memory_order_relaxed); }

    void run(std::int64_t n, IndexFn fn) {
        if (n <= 0) return;
        const int threads = num_threads();
        if (n == 1 || threads <= 1 || t_inside_job) return run_inline(n, fn);
        std::unique_lock job(job_mutex_, std::try_to_lock);
        if (!job.owns_lock()) return run_inline(n, fn);  // busy with another caller's job
        resize(threads - 1);

        {
            std::lock_guard lock(mutex_);
            fn_ = &fn;
            n_ = n;
            next_.store(0, std::memory_order_relaxed);
            error_ = nullptr;
            pending_ = static_cast<int>(workers_.size());
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();

        t_inside_job = true;
        take_indices();
        t_inside_job = false;
        {
            std::unique_lock lock(mutex_);
            done_.wait(lock, [&] { return pending_ == 0; });
            fn_ = nullptr;
        }
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

private:
    static void run_inline(std::int64_t n, IndexFn fn) {
        for (std::int64_t i = 0; i < n; ++i) fn(i);
    }

    void take_indices() {
        const std::int64_t n = n_;
        for (std::int64_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < n;) {
            try {
                (*fn_)(i);
            } catch (...) {
                std::lock_guard lock(error_mutex_);
                if (!error_) error_ = std::current_exception();
            }
        }
    }

    void worker_loop(std::uint64_t seen) {
        t_inside_job = true;
        for (;;) {
            // Spin a little before sleeping: back-to-back kernel calls then
            // skip the futex round trip.
            for (int spin = 0; spin < 4096 && generation_.load(std::memory_order_acquire) == seen; ++spin)
                cpu_relax();
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
                if (stop_) return;
                seen = generation_.load(std::memory_order_relaxed);
            }
            take_indices();
            {
                std::lock_guard lock(mutex_);
                if (--pending_ == 0) done_.notify_one();
            }
        }
    }

    /// Called with job_mutex_ held and no job running.
    void resize(int num_workers) {
        if (static_cast<int>(workers_.size()) == num_workers) return;
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        for (std::thread& t : workers_) t.join();
        workers_.clear();
        stop_ = false;
        workers_.reserve(static_cast<std::size_t>(num_workers));
        const std::uint64_t now = generation_.load(std::memory_order_relaxed);
        for (int i = 0; i < num_workers; ++i) workers_.emplace_back([this, now] { worker_loop(now); });
    }

    std::atomic<int> desired_{hardware_threads()};

    std::mutex job_mutex_;  // held by the caller for the whole of a job
    std::mutex mutex_;      // guards the fields below
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    std::atomic<std::uint64_t> generation_{0};
    bool stop_ = false;
    int pending_ = 0;

    IndexFn* fn_ = nullptr;
    std::int64_t n_ = 0;
    std::atomic<std::int64_t> next_{0};
    std::mutex error_mutex_;
    std::exception_ptr error_;
};

Pool& pool() {
    // Never destroyed: kernels may run during static destruction, and idle
    // workers are harmless at exit.
    static Pool* p = new Pool;
    return *p;
}

}  // namespace

int pool_num_threads() noexcept { return pool().num_threads(); }

void pool_set_num_threads(int n) {
    if (n < 0 || n > kMaxThreads)
        throw ValueError(fmt::format("number of threads must be 0 (all cores) or 1..{}, got {}", kMaxThreads, n));
    pool().set_num_threads(n == 0 ? hardware_threads() : n);
}

void parallel_for(std::int64_t n, IndexFn fn) { pool().run(n, fn); }

}  // namespace actjit::detail
