// See staging.hpp.
#include "staging.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace actjit::jit {

bool streams_in_place(const StoreLayout& l, const void* out, std::int64_t cols, bool columns) noexcept {
    const std::size_t v = l.vector_bytes;
    if (reinterpret_cast<std::uintptr_t>(out) % v != 0) return false;
    if (!columns || cols <= 0) return true;
    const auto lanes = static_cast<std::int64_t>(v / l.elem);
    const bool tiled = cols <= lanes && lanes % cols == 0;  // emit_loop_shapes' test (jit/codegen.cpp)
    return tiled || (static_cast<std::size_t>(cols) * l.elem) % v == 0;
}

void* staging_buffer(std::size_t bytes) noexcept {
    struct Free {
        void operator()(void* p) const noexcept { std::free(p); }
    };
    thread_local std::unique_ptr<void, Free> buffer;
    if (bytes > kMaxStagingBytes) return nullptr;
    if (!buffer) buffer.reset(std::aligned_alloc(64, kMaxStagingBytes));
    return buffer.get();
}

void stream_copy(void* dst, const void* src, std::size_t bytes) noexcept {
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    std::size_t head = (64 - reinterpret_cast<std::uintptr_t>(d) % 64) % 64;
    if (head > bytes) head = bytes;
    std::memcpy(d, s, head);
    d += head;
    s += head;
    bytes -= head;
#if defined(__SSE2__)
    // Four 16-byte non-temporal stores fill one write-combining line; the
    // loads come from the staging buffer, in L1 or L2, at any alignment.
    for (; bytes >= 64; bytes -= 64, d += 64, s += 64)
        for (int k = 0; k < 4; ++k)
            _mm_stream_si128(reinterpret_cast<__m128i*>(d + 16 * k),
                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16 * k)));
    _mm_sfence();
#endif
    std::memcpy(d, s, bytes);
}

}  // namespace actjit::jit
