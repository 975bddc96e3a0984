// The LLVM ORC JIT backend: fused, vectorized forward and backward kernels.
//
// Thread safety: an Engine may be used from many threads at once; compile()
// is safe to call concurrently, and the kernels it returns are immutable.
// No LLVM header is included here; everything LLVM lives in jit/.
#pragma once

#include <actjit/kernel.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace actjit {

struct JitOptions {
    int vector_width = 0;     // lanes; 0 = best for the host (AVX-512, AVX2, SSE2)
    int opt_level = 2;        // 0..3
    /// Empty: the host. Else an LLVM CPU name ("x86-64", "haswell") whose
    /// instruction set the host has: code for that CPU, its features in full.
    std::string cpu;
    /// Compute pow(u, w) with a base that is often exactly 0 (relu(x)^q,
    /// prepu) on packed lanes: only the lanes with u != 0 run the pow (AVX2
    /// and wider; docs/JIT.md, "Lane compaction"). Bitwise the same results.
    bool compact_lanes = true;
};

struct EngineOptions {
    /// On-disk object cache directory. Empty: $ACTJIT_CACHE_DIR if set, else none.
    std::string cache_dir;
    /// Most kernels kept in the in-memory cache (least recently used go first).
    std::size_t max_cached_kernels = 1024;
    /// Compile a kernel's forward and backward on two threads at once (only
    /// where the host has more than one core): a cold compile takes about
    /// the longer of the two instead of their sum.
    bool parallel_compile = true;
};

struct CacheStats {
    std::uint64_t hits = 0, misses = 0, disk_hits = 0, evictions = 0;
    std::size_t cached = 0;
};

enum class EmitKind { llvm, asm_ };

class Engine {
public:
    explicit Engine(EngineOptions options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// The process-wide engine.
    static Engine& global();

    /// Compile (or find in the cache) forward and backward kernels for `spec`.
    /// Throws actjit::Error with a clear message on any failure.
    Kernel compile(const KernelSpec& spec, const JitOptions& options = {});

    /// The optimized LLVM IR or assembly of the kernels for `spec`.
    std::string emit(const KernelSpec& spec, EmitKind kind, const JitOptions& options = {});

    CacheStats stats() const;
    void clear_cache();

    /// The host target as the JIT sees it ("x86_64 sapphirerapids avx512, 16 lanes").
    std::string target_description() const;

    struct Impl;
private:
    std::unique_ptr<Impl> impl_;
};

/// Shorthand for Engine::global().compile(spec, options).
Kernel compile_jit(const KernelSpec& spec, const JitOptions& options = {});

}  // namespace actjit
