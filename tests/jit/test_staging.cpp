// Streaming stores through the staging buffer (jit/staging.hpp): where the
// generated code cannot stream an output itself (a misaligned output, rows
// that do not start on a vector), a streaming call writes each block into a
// per-thread buffer and streams it out. The values must be the same bits.
#include "../../jit/staging.hpp"
#include "jit_test_util.hpp"

#include <actjit/catalog.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

using namespace actjit;
using actjit::jit::StoreLayout;

TEST_CASE("staging: which outputs the generated code streams itself", "[jit][stream]") {
    alignas(128) static float buf[64];
    const StoreLayout f32{4, 64, false, true};
    CHECK(jit::streams_in_place(f32, buf, 53, false));       // flat: only the start matters
    CHECK_FALSE(jit::streams_in_place(f32, buf + 1, 53, false));
    CHECK(jit::streams_in_place(f32, buf, 64, true));        // rows of 256 bytes
    CHECK_FALSE(jit::streams_in_place(f32, buf, 53, true));  // rows start anywhere
    CHECK(jit::streams_in_place(f32, buf, 8, true));         // tiled: 16 lanes, 8 columns
    CHECK_FALSE(jit::streams_in_place(f32, buf, 24, true));  // 96-byte rows
    CHECK_FALSE(jit::streams_in_place(f32, buf + 4, 64, true));
    const StoreLayout f64_wide{8, 128, true, true};  // 16 doubles a vector
    CHECK(jit::streams_in_place(f64_wide, buf, 16, true));
    CHECK_FALSE(jit::streams_in_place(f64_wide, buf + 16, 16, true));  // 64-byte aligned, not 128
}

TEST_CASE("staging: stream_copy copies every byte and only those, at every alignment", "[jit][stream]") {
    alignas(64) static unsigned char src[512], dst[640];
    for (std::size_t i = 0; i < sizeof src; ++i) src[i] = static_cast<unsigned char>(i * 7 + 1);
    for (std::size_t off = 0; off < 64; off += 3)
        for (std::size_t src_off : {std::size_t{0}, std::size_t{4}, std::size_t{13}})
            for (std::size_t n : {0, 1, 15, 63, 64, 65, 127, 128, 200, 448}) {
                INFO("dst offset " << off << ", src offset " << src_off << ", bytes " << n);
                std::memset(dst, 0xEE, sizeof dst);
                jit::stream_copy(dst + off, src + src_off, n);
                CHECK(std::memcmp(dst + off, src + src_off, n) == 0);
                bool untouched = true;
                for (std::size_t i = 0; i < sizeof dst; ++i)
                    if ((i < off || i >= off + n) && dst[i] != 0xEE) untouched = false;
                CHECK(untouched);
            }
}

TEST_CASE("staging: one 64-byte aligned buffer per thread, none above the limit", "[jit][stream]") {
    void* a = jit::staging_buffer(1000);
    REQUIRE(a != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
    CHECK(jit::staging_buffer(jit::kMaxStagingBytes) == a);
    CHECK(jit::staging_buffer(jit::kMaxStagingBytes + 1) == nullptr);
    void* other = nullptr;
    std::thread([&] { other = jit::staging_buffer(1000); }).join();
    CHECK(other != nullptr);
    CHECK(other != a);
}

TEST_CASE("staged streaming outputs are the plain outputs' bits, gradients too", "[jit][stream]") {
    // More than 33 blocks of 32768 elements, so that each pass's streaming
    // trial runs both ways; outputs misaligned by one float, or rows of 53
    // floats (which start anywhere), and an aligned output of aligned rows
    // (the code's own non-temporal stores) for comparison.
    const std::int64_t saved = streaming_threshold();
    struct Case {
        const char* name;
        std::int64_t cols;
        std::ptrdiff_t misalign;  // floats
    };
    const Case cases[] = {{"relu", 64, 1}, {"relu", 64, 0}, {"prepu", 64, 1}, {"prepu", 53, 0}, {"silu", 53, 3}};
    for (const Case& c : cases) {
        INFO(c.name << ", " << c.cols << " columns, output misaligned by " << c.misalign << " floats");
        const auto spec = KernelSpec::from_catalog(*find_activation(c.name));
        const std::int64_t rows = 36 * 32768 / c.cols + 7;
        const auto d = test::make_data<float>(spec, rows, c.cols, 9, true);
        std::vector<const float*> p;
        for (const auto& v : d.params) p.push_back(v.data());
        const std::size_t n = d.x.size();
        std::unique_ptr<float, decltype(&std::free)> out(static_cast<float*>(std::aligned_alloc(64, (2 * n + 64) * 4)),
                                                         &std::free);
        REQUIRE(out);
        float* y = out.get() + c.misalign;
        float* dx = out.get() + n + 16 + c.misalign;
        std::vector<float> y_plain(n), dx_plain(n), g_plain(static_cast<std::size_t>(c.cols)), g(g_plain.size());
        std::vector<float*> gp, gs;
        if (!spec.trainable_params().empty()) gp.push_back(g_plain.data()), gs.push_back(g.data());
        set_streaming_threshold(-1);
        const Kernel plain = compile_jit(spec);
        plain.forward(d.x.data(), y_plain.data(), rows, c.cols, p);
        plain.backward(d.x.data(), d.dy.data(), dx_plain.data(), rows, c.cols, p, gp);
        set_streaming_threshold(0);
        const Kernel k = compile_jit(spec);
        for (int call = 0; call < 2; ++call) {  // the trial's call, then the learned choice
            std::memset(out.get(), 0, (2 * n + 64) * 4);
            k.forward(d.x.data(), y, rows, c.cols, p);
            k.backward(d.x.data(), d.dy.data(), dx, rows, c.cols, p, gs);
            CHECK(std::memcmp(y, y_plain.data(), n * 4) == 0);
            CHECK(std::memcmp(dx, dx_plain.data(), n * 4) == 0);
            CHECK(std::memcmp(g.data(), g_plain.data(), g.size() * 4) == 0);
        }
    }
    set_streaming_threshold(saved);
}

TEST_CASE("loops with a transcendental prefetch their inputs in calls that read from memory", "[jit][stream]") {
    auto ir = [](const char* formula, DType dtype = DType::f32) {
        return Engine::global().emit(KernelSpec::fixed(parse_formula(formula), dtype), EmitKind::llvm);
    };
    auto prefetches = [](const std::string& code) { return code.find("@llvm.prefetch") != std::string::npos; };
    CHECK(prefetches(ir("x * sigmoid(x)")));
    CHECK(prefetches(ir("log1p(exp(x))", DType::f64)));
    CHECK(prefetches(Engine::global().emit(KernelSpec::from_catalog(*find_activation("prepu")), EmitKind::llvm)));
    CHECK_FALSE(prefetches(ir("relu(x)")));            // keeps pace with the hardware prefetcher
    CHECK_FALSE(prefetches(ir("x / (1 + abs(x))")));  // softsign
    // Into L1 (locality 3), and in a lane-compacted loop's collect pass
    // also into L2 (locality 1), further ahead.
    auto far = [](const std::string& code) { return code.find("i32 0, i32 1, i32 1)") != std::string::npos; };
    const std::string prepu = Engine::global().emit(KernelSpec::from_catalog(*find_activation("prepu")), EmitKind::llvm);
    CHECK(prepu.find("i32 0, i32 3, i32 1)") != std::string::npos);
    CHECK(far(prepu) == test::compacts_lanes(prepu));
    // The compacted backward's collect pass prefetches dy too (its consume
    // pass reads it): two pairs of prefetches in each collect loop.
    if (test::compacts_lanes(prepu)) {
        const std::string bwd = prepu.substr(prepu.find("define void @actjit_bwd"));
        std::size_t n = 0;
        for (std::size_t at = bwd.find("call void @llvm.prefetch"); at != std::string::npos;
             at = bwd.find("call void @llvm.prefetch", at + 1))
            ++n;
        CHECK(n == 8);  // x and dy, into L1 and L2, in the rows and tiled shapes' collect loops
    }
    CHECK_FALSE(far(ir("x * sigmoid(x)")));
}
