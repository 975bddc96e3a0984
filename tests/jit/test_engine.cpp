// The JIT engine: cache, concurrent compiles, memory bounds, the on-disk
// object cache, emitted code, and every error path.
#include "jit_test_util.hpp"

#include <actjit/catalog.hpp>
#include <actjit/formula.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>
#include <unistd.h>

using namespace actjit;
using namespace actjit::test;

namespace {

KernelSpec spec_of(const char* text, DType dtype = DType::f32) {
    return KernelSpec::fixed(parse_formula(text), dtype);
}

/// The kernel computes f correctly at a few points (a cheap sanity check).
void check_works(const Kernel& k) {
    const KernelSpec& spec = k.spec();
    const auto d = make_data<float>(spec, 3, 7, 42);
    const auto r = reference(spec, d);
    const std::string mismatch = check_against_reference(k, d, r);
    INFO(mismatch);
    CHECK(mismatch.empty());
}

std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("actjit-jit-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::remove_all(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    static int& counter() {
        static int c = 0;
        return c;
    }
};

}  // namespace

TEST_CASE("a repeated compile is a cache hit", "[jit][engine][cache]") {
    Engine engine;
    const auto spec = KernelSpec::from_catalog(*find_activation("silu"));
    const Kernel a = engine.compile(spec);
    CHECK(engine.stats().misses == 1);
    CHECK(engine.stats().hits == 0);
    const Kernel b = engine.compile(spec);
    CHECK(engine.stats().misses == 1);
    CHECK(engine.stats().hits == 1);
    CHECK(engine.stats().cached == 1);
    check_works(b);

    // A different dtype, width, opt level or binding is a different kernel.
    engine.compile(KernelSpec::from_catalog(*find_activation("silu"), DType::f64));
    JitOptions o;
    o.vector_width = 4;
    engine.compile(spec, o);
    o = {};
    o.opt_level = 1;
    engine.compile(spec, o);
    CHECK(engine.stats().misses == 4);
    // The same formula spelled out: the same hash-consed body, so a hit.
    engine.compile(spec_of("x * sigmoid(x)"));
    engine.compile(spec_of("x*sigmoid( x )"));
    CHECK(engine.stats().misses == 4);
    CHECK(engine.stats().hits == 3);

    engine.clear_cache();
    CHECK(engine.stats().cached == 0);
    check_works(a);  // kernels outlive the cache
    engine.compile(spec);
    CHECK(engine.stats().misses == 5);
}

TEST_CASE("fixed values are part of the key", "[jit][engine][cache]") {
    Engine engine;
    const Formula f = parse_formula("expolu");
    const Kernel p2 = engine.compile(KernelSpec::fixed(f, DType::f32, {{"p", 2}}));
    const Kernel p3 = engine.compile(KernelSpec::fixed(f, DType::f32, {{"p", 3}}));
    CHECK(engine.stats().misses == 2);
    check_works(p2);
    check_works(p3);
}

TEST_CASE("the cache keeps at most max_cached_kernels (least recently used go)", "[jit][engine][cache]") {
    EngineOptions opts;
    opts.max_cached_kernels = 3;
    Engine engine(opts);
    std::vector<Kernel> kept;
    for (int i = 0; i < 6; ++i) kept.push_back(engine.compile(spec_of(("x * " + std::to_string(i + 2)).c_str())));
    CHECK(engine.stats().cached == 3);
    CHECK(engine.stats().evictions == 3);
    engine.compile(spec_of("x * 7"));  // most recent: a hit
    CHECK(engine.stats().hits == 1);
    engine.compile(spec_of("x * 2"));  // evicted: compiled again
    CHECK(engine.stats().misses == 7);
    for (const auto& k : kept) check_works(k);  // evicted kernels still work
}

TEST_CASE("concurrent compiles from 8 threads", "[jit][engine][threads]") {
    Engine engine;
    const auto same = KernelSpec::from_catalog(*find_activation("mish"));
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            try {
                // All threads: the same kernel (one compile, the others wait),
                // and each its own distinct kernels.
                const Kernel k = engine.compile(same);
                const Kernel own = engine.compile(spec_of(("tanh(x) * " + std::to_string(t + 1)).c_str()));
                std::vector<float> x{-1.0f, 0.5f, 2.0f}, y(3);
                own.forward(x.data(), y.data(), 1, 3);
                for (int i = 0; i < 3; ++i)
                    if (std::abs(y[static_cast<std::size_t>(i)] - std::tanh(x[static_cast<std::size_t>(i)]) * static_cast<float>(t + 1)) > 1e-5f)
                        ++failures;
                k.forward(x.data(), y.data(), 1, 3);
            } catch (...) {
                ++failures;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    const CacheStats s = engine.stats();
    CHECK(s.misses == 9);  // mish once, plus 8 distinct
    CHECK(s.hits == 7);
    check_works(engine.compile(same));
}

TEST_CASE("compiling 10000 distinct formulas keeps memory bounded", "[jit][engine][memory]") {
    EngineOptions opts;
    opts.max_cached_kernels = 16;
    Engine engine(opts);
    JitOptions fast;
    fast.opt_level = 0;  // same memory behaviour, a quarter of the time
    auto compile_nth = [&](int i) {
        // Distinct formulas (a distinct constant each), cheap to compile.
        const Kernel k = engine.compile(spec_of(("x * " + std::to_string(i) + ".5 + 1").c_str()), fast);
        float x = 2, y = 0;
        k.forward(&x, &y, 1, 1);
        REQUIRE(y == 2.0f * (static_cast<float>(i) + 0.5f) + 1.0f);
    };
    for (int i = 0; i < 500; ++i) compile_nth(i);
    const std::size_t before = rss_bytes();
    for (int i = 500; i < 10000; ++i) compile_nth(i);
    const std::size_t after = rss_bytes();
    CHECK(engine.stats().cached <= 16);
    CHECK(engine.stats().evictions >= 10000 - 16);
    // Kept kernels cost ~42 KiB each (code pages, JITDylib, symbol tables):
    // 9500 leaked ones would be ~400 MiB; a bounded engine stays flat.
    INFO("rss before " << before / 1024 << " KiB, after 9500 more compiles " << after / 1024 << " KiB");
    CHECK(after < before + 24 * 1024 * 1024);
}

TEST_CASE("the on-disk object cache", "[jit][engine][disk]") {
    TempDir dir;
    const auto spec = KernelSpec::from_catalog(*find_activation("prepu"));
    EngineOptions opts;
    opts.cache_dir = dir.path.string();
    {
        Engine first(opts);
        check_works(first.compile(spec));
        CHECK(first.stats().disk_hits == 0);
    }
    // One object for the forward, one for the backward.
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir.path))
        if (e.path().extension() == ".o") files.push_back(e.path());
    REQUIRE(files.size() == 2);
    {
        Engine second(opts);
        const Kernel k = second.compile(spec);
        CHECK(second.stats().disk_hits == 1);
        check_works(k);
    }
    const auto corrupt = [](const std::filesystem::path& p) {
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out << "actjit-object-v1\ngarbage";
    };
    // A corrupt file is ignored: that half is compiled again (and stored
    // again), the other comes from the disk; not a disk hit.
    corrupt(files[0]);
    {
        Engine third(opts);
        const Kernel k = third.compile(spec);
        CHECK(third.stats().disk_hits == 0);
        check_works(k);
    }
    {
        Engine again(opts);
        check_works(again.compile(spec));
        CHECK(again.stats().disk_hits == 1);  // the recompiled half was stored
    }
    for (const auto& f : files) corrupt(f);
    {
        Engine fourth(opts);
        const Kernel k = fourth.compile(spec);
        CHECK(fourth.stats().disk_hits == 0);
        check_works(k);
    }
    // An unusable directory means no disk cache, not an error.
    EngineOptions bad;
    bad.cache_dir = "/proc/actjit-no-such-dir";
    Engine fifth(bad);
    check_works(fifth.compile(spec));
}

TEST_CASE("a reused code generator writes the objects a fresh one writes", "[jit][engine][disk]") {
    // The engine keeps each code generation pipeline for the next module.
    // Whatever state a run leaves behind must not reach the next object: the
    // objects of prepu compiled first by a fresh engine and compiled after
    // six other kernels, twelve modules (both halves on one thread, so one
    // pipeline makes them all), are the same bytes, and the kernels work.
    const auto objects = [](const std::filesystem::path& dir) {
        std::map<std::string, std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            std::ifstream in(e.path(), std::ios::binary);
            out[e.path().filename().string()] = std::string(std::istreambuf_iterator<char>(in), {});
        }
        return out;
    };
    const auto prepu = KernelSpec::from_catalog(*find_activation("prepu"));
    TempDir fresh_dir, used_dir;
    EngineOptions fresh_opts, used_opts;
    fresh_opts.cache_dir = fresh_dir.path.string();
    used_opts.cache_dir = used_dir.path.string();
    fresh_opts.parallel_compile = used_opts.parallel_compile = false;
    {
        Engine fresh(fresh_opts);
        check_works(fresh.compile(prepu));
    }
    std::map<std::string, std::string> others;
    {
        Engine warm(used_opts);
        for (const char* name : {"gelu", "relu", "mish", "soft_exponential", "elu", "brelu"}) {
            check_works(warm.compile(KernelSpec::from_catalog(*find_activation(name))));
        }
        others = objects(used_dir.path);
        check_works(warm.compile(prepu));
    }
    REQUIRE(others.size() == 12);
    std::map<std::string, std::string> reused = objects(used_dir.path);
    for (const auto& [name, bytes] : others) reused.erase(name);
    const std::map<std::string, std::string> first = objects(fresh_dir.path);
    REQUIRE(first.size() == 2);
    CHECK(reused == first);
}

TEST_CASE("forward and backward compile on one thread or two alike", "[jit][engine]") {
    // parallel_compile off: both halves on the calling thread. The kernels
    // must agree with the reference and give the same bits either way.
    for (const char* name : {"relu", "prepu", "gelu"}) {
        INFO(name);
        const auto spec = KernelSpec::from_catalog(*find_activation(name));
        EngineOptions serial;
        serial.parallel_compile = false;
        Engine one(serial), two;
        const Kernel a = one.compile(spec), b = two.compile(spec);
        check_works(a);
        check_works(b);
        const auto d = make_data<float>(spec, 7, 33, 7, /*specials=*/true);
        std::vector<const float*> params;
        for (const auto& p : d.params) params.push_back(p.data());
        const auto run = [&](const Kernel& k) {
            std::vector<float> y(d.x.size()), dx(d.x.size());
            std::vector<std::vector<float>> grads;
            std::vector<float*> gp;
            for (const ParamBinding* t : spec.trainable_params())
                grads.emplace_back(t->kind == ParamKind::PerFeature ? d.cols : 1);
            for (auto& g : grads) gp.push_back(g.data());
            k.forward(d.x.data(), y.data(), d.rows, d.cols, params);
            k.backward(d.x.data(), d.dy.data(), dx.data(), d.rows, d.cols, params, gp);
            for (auto& g : grads) y.insert(y.end(), g.begin(), g.end());
            y.insert(y.end(), dx.begin(), dx.end());
            return y;
        };
        const std::vector<float> ra = run(a), rb = run(b);
        REQUIRE(ra.size() == rb.size());
        CHECK(std::memcmp(ra.data(), rb.data(), ra.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("emit prints optimized IR and assembly", "[jit][engine][emit]") {
    const auto spec = KernelSpec::from_catalog(*find_activation("silu"));
    const std::string ir = Engine::global().emit(spec, EmitKind::llvm);
    CHECK(ir.find("define void @actjit_fwd") != std::string::npos);
    CHECK(ir.find("define void @actjit_bwd") != std::string::npos);
    CHECK(ir.find("define void @actjit_fwd") < ir.find("define void @actjit_bwd"));  // the two modules in order
    CHECK(ir.find("llvm.masked.store") != std::string::npos);  // the masked tail
    JitOptions o;
    o.vector_width = 8;
    CHECK(Engine::global().emit(spec, EmitKind::llvm, o).find("<8 x float>") != std::string::npos);
    const std::string as = Engine::global().emit(spec, EmitKind::asm_);
    CHECK(as.find("actjit_fwd:") != std::string::npos);
    CHECK(as.find("actjit_bwd:") != std::string::npos);
    o = {};
    o.cpu = "x86-64";  // baseline: SSE2 only
    const std::string sse = Engine::global().emit(spec, EmitKind::asm_, o);
    CHECK(sse.find("zmm") == std::string::npos);
    CHECK(sse.find("xmm") != std::string::npos);
    check_works(compile_jit(spec, o));
}

TEST_CASE("target description", "[jit][engine]") {
    const std::string d = Engine::global().target_description();
    CHECK(d.find("x86_64") != std::string::npos);
    CHECK(d.find("lanes") != std::string::npos);
}

TEST_CASE("compile errors are exceptions with clear messages", "[jit][engine][errors]") {
    const auto spec = KernelSpec::from_catalog(*find_activation("silu"));
    JitOptions o;
    o.opt_level = 4;
    CHECK_THROWS_WITH(compile_jit(spec, o), Catch::Contains("opt_level must be 0 to 3, got 4"));
    o = {};
    o.opt_level = -1;
    CHECK_THROWS_AS(compile_jit(spec, o), ValueError);
    o = {};
    o.vector_width = 3;
    CHECK_THROWS_WITH(compile_jit(spec, o), Catch::Contains("vector_width must be 0 (host) or a power of two"));
    o.vector_width = 128;
    CHECK_THROWS_AS(compile_jit(spec, o), ValueError);
    o.vector_width = -8;
    CHECK_THROWS_AS(compile_jit(spec, o), ValueError);
    o = {};
    o.cpu = "no-such-cpu";
    CHECK_THROWS_WITH(compile_jit(spec, o), Catch::Contains("unknown cpu 'no-such-cpu'"));
    CHECK_THROWS_AS(Engine::global().emit(spec, EmitKind::llvm, o), ValueError);

    // Bad specs.
    KernelSpec wrong = KernelSpec::from_catalog(*find_activation("prepu"));
    wrong.params.clear();
    CHECK_THROWS_AS(compile_jit(wrong), ValueError);
    KernelSpec fixed_trainable = KernelSpec::from_catalog(*find_activation("prepu"));
    fixed_trainable.params[0].kind = ParamKind::Fixed;
    fixed_trainable.params[0].trainable = true;
    CHECK_THROWS_AS(compile_jit(fixed_trainable), ValueError);
    // A hand-built Formula whose params list misses a parameter the body uses.
    KernelSpec unbound;
    unbound.formula.body = parse_expr("x * sigmoid(beta * x)");
    CHECK_THROWS_WITH(compile_jit(unbound), Catch::Contains("parameter 'beta' is used by the formula but has no binding"));
    KernelSpec empty;
    CHECK_THROWS_AS(compile_jit(empty), ValueError);
    CHECK_THROWS_AS(Engine::global().emit(empty, EmitKind::asm_), ValueError);
    // A failed compile is not cached: the next try fails the same way.
    CHECK_THROWS_AS(compile_jit(wrong), ValueError);
}

TEST_CASE("kernel argument errors", "[jit][engine][errors]") {
    const auto spec = KernelSpec::from_catalog(*find_activation("prepu"));
    const Kernel k = compile_jit(spec);
    std::vector<float> x(8, 1.0f), y(8), s(4, 0.0f), g(4);
    const float* p[] = {s.data()};
    float* gp[] = {g.data()};
    CHECK_THROWS_AS(k.forward(nullptr, y.data(), 2, 4, p), ValueError);
    CHECK_THROWS_AS(k.forward(x.data(), nullptr, 2, 4, p), ValueError);
    CHECK_THROWS_AS(k.forward(x.data(), y.data(), -1, 4, p), ValueError);
    CHECK_THROWS_AS(k.forward(x.data(), y.data(), 2, 4), ValueError);  // missing parameter
    const float* null_param[] = {nullptr};
    CHECK_THROWS_AS(k.forward(x.data(), y.data(), 2, 4, null_param), ValueError);
    CHECK_THROWS_AS(k.backward(x.data(), y.data(), y.data(), 2, 4, p), ValueError);  // missing gradient
    CHECK_THROWS_AS(k.backward(x.data(), nullptr, y.data(), 2, 4, p, gp), ValueError);
    std::vector<double> xd(8);
    CHECK_THROWS_AS(k.forward(xd.data(), xd.data(), 2, 4), ValueError);  // wrong dtype
    CHECK_THROWS_AS(k.forward(x.data(), y.data(), std::int64_t{1} << 30, std::int64_t{1} << 30, p), ValueError);
    // Empty tensors are fine, and gradients of zero rows are zero.
    g.assign(4, 7.0f);
    k.backward(nullptr, nullptr, nullptr, 0, 4, p, gp);
    CHECK(g == std::vector<float>(4, 0.0f));
}

TEST_CASE("kernels compiled, run and freed from many threads at once", "[jit][engine][threads]") {
    EngineOptions opts;
    opts.max_cached_kernels = 2;  // most kernels die (JITDylib removed) while others compile
    Engine engine(opts);
    JitOptions fast;
    fast.opt_level = 0;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            try {
                for (int i = 0; i < 40; ++i) {
                    const int c = t * 100 + i % 10;  // some keys repeat across iterations
                    const Kernel k = engine.compile(spec_of(("x * " + std::to_string(c) + " - 1").c_str()), fast);
                    float x[3] = {1, 2, 3}, y[3];
                    k.forward(x, y, 1, 3);
                    for (int j = 0; j < 3; ++j)
                        if (y[j] != x[j] * static_cast<float>(c) - 1) ++failures;
                }
            } catch (...) {
                ++failures;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(engine.stats().cached <= 2);
}
