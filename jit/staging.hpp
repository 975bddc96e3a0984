// Streaming stores for outputs the generated code cannot stream itself: a
// misaligned output, or rows that do not start on a vector boundary. The
// kernel writes such a block into a per-thread, cache-resident staging
// buffer, and stream_copy() moves it to the output around the caches. No LLVM
// here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace actjit::jit {

/// How a compiled kernel lays out its stores (JitKernel): the element size
/// and the vector size in bytes, and whether each pass's loops depend on the
/// column (the rows and tiled shapes; else one flat loop, jit/codegen.cpp).
struct StoreLayout {
    std::size_t elem = 4;
    std::size_t vector_bytes = 64;
    bool forward_columns = false;
    bool backward_columns = false;
};

/// Whether the generated code's own non-temporal stores reach every full
/// vector of an output at `out` of `cols` columns: the first full vector of
/// each loop is aligned to the vector (the flat and tiled shapes: the
/// output's start; the rows shape: every row's start).
bool streams_in_place(const StoreLayout& l, const void* out, std::int64_t cols, bool columns) noexcept;

/// This thread's 64-byte aligned staging buffer of at least `bytes`, or
/// nullptr where `bytes` is above kMaxStagingBytes or it cannot be allocated.
inline constexpr std::size_t kMaxStagingBytes = std::size_t{1} << 20;
void* staging_buffer(std::size_t bytes) noexcept;

/// memcpy(dst, src, bytes), with non-temporal stores for every whole 64-byte
/// line of dst (plain copies for the partial lines at both ends), then a
/// store fence, so that whoever reads dst next sees every byte.
void stream_copy(void* dst, const void* src, std::size_t bytes) noexcept;

}  // namespace actjit::jit
