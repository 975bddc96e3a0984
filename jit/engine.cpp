// The JIT engine: one LLJIT session, a kernel cache, an optional on-disk
// object cache.
//
// Building the session (Engine::Engine), in steps:
//   1. JITTargetMachineBuilder::detectHost: the host triple, CPU, features.
//   2. LLJITBuilder with our compile function: a pool of code generators (one
//      per concurrent compile, each a TargetMachine and the machine-code
//      pipeline it keeps from module to module), which reports every object
//      to the disk cache.
//   3. The IR transform layer runs our small optimization pipeline.
//   4. Process symbols (libm, memset) are linked by default; the vector math
//      library adds its symbols to the main JITDylib.
//
// Each compiled kernel pair lives in its own JITDylib (linked against main),
// so its symbol names are fixed ("actjit_fwd", "actjit_bwd"), a cached object
// from disk can be added as is, and removing the JITDylib when the last Kernel
// copy goes frees all of its memory.
//
// Thread safety: the LLJIT is safe for concurrent adds and lookups; each
// module has its own ThreadSafeContext; code generators are taken from a pool;
// the kernel cache is guarded by a mutex, and concurrent compiles of one key
// wait for a single compile (a shared_future in the cache entry).
#include <actjit/jit.hpp>

#include "codegen.hpp"
#include "compact.hpp"
#include "llvm.hpp"
#include "lower.hpp"
#include "staging.hpp"
#include "vector_math.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>

namespace actjit {
namespace jit {
namespace {

std::string to_message(llvm::Error err) {
    std::string msg;
    llvm::handleAllErrors(std::move(err), [&](const llvm::ErrorInfoBase& e) {
        if (!msg.empty()) msg += "; ";
        msg += e.message();
    });
    return msg;
}

template <class T>
T unwrap(llvm::Expected<T> v, const char* what) {
    if (!v) throw Error(fmt::format("jit: {}: {}", what, to_message(v.takeError())));
    return std::move(*v);
}

void check(llvm::Error err, const char* what) {
    if (err) throw Error(fmt::format("jit: {}: {}", what, to_message(std::move(err))));
}

void init_llvm_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        llvm::InitializeNativeTarget();
        llvm::InitializeNativeTargetAsmPrinter();
        llvm::InitializeNativeTargetAsmParser();
    });
}

/// 64-bit FNV-1a with a seed; two seeds give the 128-bit disk cache name.
std::uint64_t fnv1a(std::string_view s, std::uint64_t seed) {
    std::uint64_t h = 1469598103934665603ull ^ seed;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

/// Bump when generated code changes for the same key (invalidates disk caches).
constexpr const char* kCodegenVersion = "codegen-6";

constexpr std::string_view kDiskMagic = "actjit-object-v1\n";

/// On-disk object cache. Files are named by a 128-bit hash of the key and
/// hold the key text, so a hash collision can never load the wrong kernel.
/// Best effort: any I/O problem means "not cached".
class DiskCache final : public llvm::ObjectCache {
public:
    explicit DiskCache(std::string dir) : dir_(std::move(dir)) {}
    bool enabled() const { return !dir_.empty(); }
    const std::string& dir() const { return dir_; }

    static std::string name_of(const std::string& key) {
        return fmt::format("{:016x}{:016x}", fnv1a(key, 0), fnv1a(key, 0x9e3779b97f4a7c15ull));
    }

    std::unique_ptr<llvm::MemoryBuffer> load(const std::string& key) const {
        if (!enabled()) return nullptr;
        std::ifstream in(path_of(key), std::ios::binary);
        if (!in) return nullptr;
        std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::string header = header_of(key);
        if (data.size() <= header.size() || data.compare(0, header.size(), header) != 0) return nullptr;
        return llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(data).drop_front(header.size()), key_id(key));
    }

    // llvm::ObjectCache: we load objects ourselves (before building any IR),
    // so getObject never has one; every compiled object is stored.
    void notifyObjectCompiled(const llvm::Module* m, llvm::MemoryBufferRef obj) override {
        if (!enabled() || !m) return;
        auto* md = m->getNamedMetadata("actjit.key");
        if (!md || md->getNumOperands() != 1) return;
        auto* s = llvm::dyn_cast<llvm::MDString>(md->getOperand(0)->getOperand(0));
        if (!s) return;
        const std::string key = s->getString().str();
        std::error_code ec;
        std::filesystem::create_directories(dir_, ec);
        if (ec) return;
        const auto final_path = path_of(key);
        auto tmp = final_path;
        tmp += fmt::format(".tmp{}", tmp_counter_.fetch_add(1));
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out) return;
            const std::string header = header_of(key);
            out.write(header.data(), static_cast<std::streamsize>(header.size()));
            out.write(obj.getBufferStart(), static_cast<std::streamsize>(obj.getBufferSize()));
            if (!out) {
                out.close();
                std::filesystem::remove(tmp, ec);
                return;
            }
        }
        std::filesystem::rename(tmp, final_path, ec);  // atomic: readers see old or new
        if (ec) std::filesystem::remove(tmp, ec);
    }
    std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module*) override { return nullptr; }

    static std::string key_id(const std::string& key) { return "actjit-" + name_of(key); }

private:
    std::filesystem::path path_of(const std::string& key) const { return std::filesystem::path(dir_) / (name_of(key) + ".o"); }
    static std::string header_of(const std::string& key) {
        return fmt::format("{}{}\n{}\n", kDiskMagic, key.size(), key);
    }
    std::string dir_;
    std::atomic<std::uint64_t> tmp_counter_{0};
};

/// The resolved target a compile is for.
struct Target {
    CodegenTarget codegen;
    int opt_level = 2;
};

}  // namespace

/// A TargetMachine and, once it has compiled a module, its machine-code
/// pipeline, kept for the next module: the legacy pass manager runs module
/// after module (AsmPrinter and MachineModuleInfo reset their state at the
/// end of each run; llc's -run-twice relies on it), and building the
/// pipeline anew cost 2.2 million instructions per module, 17 % of a
/// relu-sized compile (docs/JIT.md). One compile at a time uses one.
struct Codegen {
    std::unique_ptr<llvm::TargetMachine> tm;
    llvm::SmallVector<char, 0> object;             // what `pm` writes
    std::unique_ptr<llvm::raw_svector_ostream> os;  // into `object`
    std::unique_ptr<llvm::legacy::PassManager> pm;
};

/// Everything that must outlive every kernel: the LLJIT session and its
/// helpers. Kernels hold a shared_ptr to it.
struct EngineCore {
    std::unique_ptr<llvm::orc::LLJIT> jit;
    llvm::orc::JITTargetMachineBuilder jtmb{llvm::Triple()};
    std::string host_cpu;
    std::string host_features;  // "+a,-b,..."
    llvm::StringMap<bool> host_feature_map;
    int host_vector_bits = 128;
    DiskCache disk;
    std::atomic<std::uint64_t> next_dylib{0};
    bool parallel_compile = false;  // forward and backward on two threads

    // Code generators: one per concurrent compile, per codegen level.
    std::mutex codegen_mutex;
    std::map<int, std::vector<std::unique_ptr<Codegen>>> codegen_pool;

    explicit EngineCore(std::string dir) : disk(std::move(dir)) {}

    llvm::Expected<std::unique_ptr<Codegen>> acquire_codegen(int opt_level) {
        {
            std::lock_guard lock(codegen_mutex);
            auto& free = codegen_pool[opt_level];
            if (!free.empty()) {
                auto cg = std::move(free.back());
                free.pop_back();
                return cg;
            }
        }
        auto b = jtmb;
        b.setCodeGenOptLevel(codegen_level(opt_level));
        auto tm = b.createTargetMachine();
        if (!tm) return tm.takeError();
        auto cg = std::make_unique<Codegen>();
        cg->tm = std::move(*tm);
        return cg;
    }
    void release_codegen(int opt_level, std::unique_ptr<Codegen> cg) {
        std::lock_guard lock(codegen_mutex);
        codegen_pool[opt_level].push_back(std::move(cg));
    }
    static llvm::CodeGenOptLevel codegen_level(int opt_level) {
        // Our IR is already vectorized and simple: Less gives the same loops
        // as Default at a lower compile latency (docs/JIT.md).
        switch (opt_level) {
        case 0: return llvm::CodeGenOptLevel::None;
        case 3: return llvm::CodeGenOptLevel::Default;
        default: return llvm::CodeGenOptLevel::Less;
        }
    }
};

namespace {

/// Compile function for the IR compile layer: thread-safe (a TargetMachine
/// per concurrent call), reports every object to the disk cache. Never throws.
class PooledCompiler final : public llvm::orc::IRCompileLayer::IRCompiler {
public:
    explicit PooledCompiler(EngineCore& core)
        : IRCompiler(llvm::orc::irManglingOptionsFromTargetOptions(llvm::TargetOptions())), core_(core) {}

    llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> operator()(llvm::Module& m) override {
        // What llvm::orc::SimpleCompiler does, with the pipeline kept.
        const int level = module_opt_level(m);
        auto acquired = core_.acquire_codegen(level);
        if (!acquired) return acquired.takeError();
        Codegen& cg = **acquired;
        if (!cg.pm) {
            cg.os = std::make_unique<llvm::raw_svector_ostream>(cg.object);
            cg.pm = std::make_unique<llvm::legacy::PassManager>();
            llvm::MCContext* mc = nullptr;
            if (cg.tm->addPassesToEmitMC(*cg.pm, mc, *cg.os))
                return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                               "the target cannot emit machine code");
        }
        cg.object.clear();
        cg.pm->run(m);
        auto obj = std::make_unique<llvm::SmallVectorMemoryBuffer>(
            std::move(cg.object), m.getModuleIdentifier() + "-jitted-objectbuffer", /*RequiresNullTerminator=*/false);
        cg.object.clear();
        core_.disk.notifyObjectCompiled(&m, obj->getMemBufferRef());
        core_.release_codegen(level, std::move(*acquired));
        return obj;
    }

private:
    EngineCore& core_;
};

/// A compiled kernel pair. Its JITDylib is removed when the last handle goes.
class JitKernel final : public KernelImpl {
public:
    using Fwd = void (*)(const void*, void*, std::int64_t, std::int64_t, const void* const*, std::uint64_t);
    using Bwd = void (*)(const void*, const void*, void*, std::int64_t, std::int64_t, const void* const*,
                         double* const*, std::uint64_t);

    JitKernel(std::shared_ptr<EngineCore> core, llvm::orc::JITDylib* jd, StoreLayout layout)
        : core_(std::move(core)), jd_(jd), layout_(layout) {}
    ~JitKernel() override {
        if (jd_) llvm::consumeError(core_->jit->getExecutionSession().removeJITDylib(*jd_));
    }
    void set(Fwd fwd, Bwd bwd) {
        fwd_ = fwd;
        bwd_ = bwd;
    }

    // A streaming call whose output the code's own non-temporal stores
    // cannot reach (a misaligned output, as std::vector's 16-byte alignment
    // gives; rows that do not start on a vector) writes the block into this
    // thread's staging buffer and streams it out (staging.hpp): the same
    // values, loops and sums, and 1.26-1.42x the plain stores' speed for
    // memory-bound kernels (docs/JIT.md).
    void forward(const void* x, void* y, std::int64_t rows, std::int64_t cols, const void* const* params,
                 bool streaming) const override {
        if (streaming && !streams_in_place(layout_, y, cols, layout_.forward_columns))
            if (void* tmp = staging_buffer(bytes(rows, cols))) {
                fwd_(x, tmp, rows, cols, params, jit::kPrefetchFlag);
                return stream_copy(y, tmp, bytes(rows, cols));
            }
        fwd_(x, y, rows, cols, params, streaming ? jit::kStreamFlag | jit::kPrefetchFlag : 0);
    }
    void backward(const void* x, const void* dy, void* dx, std::int64_t rows, std::int64_t cols,
                  const void* const* params, double* const* grads, bool streaming) const override {
        if (streaming && !streams_in_place(layout_, dx, cols, layout_.backward_columns))
            if (void* tmp = staging_buffer(bytes(rows, cols))) {
                bwd_(x, dy, tmp, rows, cols, params, grads, jit::kPrefetchFlag);
                return stream_copy(dx, tmp, bytes(rows, cols));
            }
        bwd_(x, dy, dx, rows, cols, params, grads, streaming ? jit::kStreamFlag | jit::kPrefetchFlag : 0);
    }

    Entry entry() const noexcept override { return {fwd_, bwd_}; }

private:
    std::size_t bytes(std::int64_t rows, std::int64_t cols) const {
        return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) * layout_.elem;
    }

    std::shared_ptr<EngineCore> core_;
    llvm::orc::JITDylib* jd_;
    StoreLayout layout_;
    Fwd fwd_ = nullptr;
    Bwd bwd_ = nullptr;
};

}  // namespace
}  // namespace jit

// ---- the kernel cache ------------------------------------------------------------

namespace {

/// In-memory cache key: the formula's body node (hash-consed, so the pointer
/// is its structure; the key holds a reference so the node stays alive), the
/// bindings, the dtype and the resolved options. No printing, no
/// differentiation: a hit costs a hash and a compare.
struct MemKey {
    Expr body;
    std::vector<std::pair<std::string, ParamKind>> names;
    std::vector<std::uint64_t> bits;  // trainable flags and fixed values
    DType dtype;
    int lanes, opt_level;
    std::string cpu;
    bool compact_lanes;

    friend bool operator==(const MemKey&, const MemKey&) = default;
};

struct MemKeyHash {
    std::size_t operator()(const MemKey& k) const noexcept {
        std::size_t h = k.body.hash();
        auto mix = [&](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
        for (const auto& [n, kind] : k.names) {
            mix(std::hash<std::string>{}(n));
            mix(static_cast<std::size_t>(kind));
        }
        for (auto b : k.bits) mix(b);
        mix(static_cast<std::size_t>(k.dtype));
        mix(static_cast<std::size_t>(k.lanes) * 31u + static_cast<std::size_t>(k.opt_level));
        mix(std::hash<std::string>{}(k.cpu));
        mix(k.compact_lanes ? 1 : 0);
        return h;
    }
};

MemKey make_key(const KernelSpec& spec, const jit::Target& t) {
    MemKey k{spec.formula.body, {}, {}, spec.dtype, t.codegen.lanes, t.opt_level, t.codegen.cpu,
             t.codegen.compact_lanes};
    for (const ParamBinding& b : spec.params) {
        k.names.emplace_back(b.name, b.kind);
        std::uint64_t v = 0;
        if (b.kind == ParamKind::Fixed) std::memcpy(&v, &b.value, sizeof v);
        k.bits.push_back(v);
        k.bits.push_back(b.trainable ? 1 : 0);
    }
    // The formula's parameter order decides slot order; names above cover it.
    return k;
}

using ImplPtr = std::shared_ptr<const KernelImpl>;

}  // namespace

struct Engine::Impl {
    EngineOptions options;
    std::shared_ptr<jit::EngineCore> core;

    mutable std::mutex mutex;
    struct Entry {
        std::shared_future<ImplPtr> kernel;
        std::list<const MemKey*>::iterator lru;  // position in `lru` (front = most recent)
        bool ready = false;
    };
    std::unordered_map<MemKey, Entry, MemKeyHash> cache;
    std::list<const MemKey*> lru;
    CacheStats stats;

    jit::Target resolve(const JitOptions& o) const;
    ImplPtr build(const KernelSpec& spec, const jit::Target& t, bool& disk_hit);
    std::unique_ptr<llvm::Module> module_for(llvm::LLVMContext& ctx, const jit::LoweredKernel& k,
                                             const jit::Target& t, const std::string& key,
                                             jit::KernelPart part) const;
    std::string disk_key(const jit::LoweredKernel& k, const jit::Target& t) const {
        return fmt::format("actjit {} llvm {} | {} | {} | {} | {} lanes | O{}{}\n{}", jit::kCodegenVersion,
                           LLVM_VERSION_STRING, t.codegen.triple, t.codegen.cpu, t.codegen.features, t.codegen.lanes,
                           t.opt_level, t.codegen.compact_lanes ? "" : " | no compaction", k.canonical);
    }
    void evict_locked();
};

jit::Target Engine::Impl::resolve(const JitOptions& o) const {
    if (o.opt_level < 0 || o.opt_level > 3)
        throw ValueError(fmt::format("jit: opt_level must be 0 to 3, got {}", o.opt_level));
    if (o.vector_width < 0 || o.vector_width > 64 || (o.vector_width & (o.vector_width - 1)) != 0)
        throw ValueError(fmt::format("jit: vector_width must be 0 (host) or a power of two up to 64, got {}", o.vector_width));
    jit::Target t;
    t.opt_level = o.opt_level;
    t.codegen.triple = core->jtmb.getTargetTriple().str();
    t.codegen.cpu = core->host_cpu;
    t.codegen.features = core->host_features;
    t.codegen.vector_bits = core->host_vector_bits;
    if (!o.cpu.empty() && o.cpu != core->host_cpu) {
        // Another CPU: only if the host can run everything it implies.
        std::string err;
        const llvm::Target* target = llvm::TargetRegistry::lookupTarget(t.codegen.triple, err);
        if (!target) throw Error("jit: " + err);
        std::unique_ptr<llvm::MCSubtargetInfo> host(
            target->createMCSubtargetInfo(t.codegen.triple, core->host_cpu, core->host_features));
        if (!host || !host->isCPUStringValid(o.cpu)) throw ValueError(fmt::format("jit: unknown cpu '{}'", o.cpu));
        std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(t.codegen.triple, o.cpu, ""));
        // getHostCPUFeatures lists the instruction-set features, false where
        // the host lacks one (tuning flags are not listed).
        for (const auto& f : core->host_feature_map) {
            const std::string name = f.getKey().str();
            if (!f.getValue() && sti->checkFeatures("+" + name))
                throw ValueError(fmt::format("jit: cpu '{}' needs feature '{}', which this host lacks", o.cpu, name));
        }
        // Its instruction-set features in full, as the host's are given: the
        // vector math choices and lane compaction read them from the
        // functions' "target-features" (without them "haswell" got the
        // SSE2 libmvec calls and no compaction).
        std::vector<std::string> names;
        for (const auto& f : core->host_feature_map) names.push_back(f.getKey().str());
        std::sort(names.begin(), names.end());
        t.codegen.features.clear();
        for (const std::string& name : names) {
            if (!t.codegen.features.empty()) t.codegen.features += ',';
            t.codegen.features += (sti->checkFeatures("+" + name) ? "+" : "-") + name;
        }
        t.codegen.cpu = o.cpu;
        t.codegen.vector_bits = sti->checkFeatures("+avx512f") ? 512 : sti->checkFeatures("+avx") ? 256 : 128;
    }
    t.codegen.lanes = o.vector_width;
    t.codegen.compact_lanes = o.compact_lanes;
    return t;
}

std::unique_ptr<llvm::Module> Engine::Impl::module_for(llvm::LLVMContext& ctx, const jit::LoweredKernel& k,
                                                       const jit::Target& t, const std::string& key,
                                                       jit::KernelPart part) const {
    auto m = jit::emit_kernel_module(ctx, k, t.codegen, core->jit->getDataLayout(), jit::DiskCache::key_id(key), part);
    jit::set_module_opt_level(*m, t.opt_level);
    auto* md = m->getOrInsertNamedMetadata("actjit.key");
    md->addOperand(llvm::MDNode::get(ctx, {llvm::MDString::get(ctx, key)}));
    return m;
}

namespace {
int lanes_for(const jit::CodegenTarget& c, DType d) {
    return c.lanes > 0 ? c.lanes : c.vector_bits / (d == DType::f32 ? 32 : 64);
}
}  // namespace

ImplPtr Engine::Impl::build(const KernelSpec& spec, const jit::Target& target, bool& disk_hit) {
    jit::Target t = target;
    t.codegen.lanes = lanes_for(t.codegen, spec.dtype);
    const jit::LoweredKernel k = jit::lower(spec);
    const std::string key = disk_key(k, t);

    auto& J = *core->jit;
    auto jd_or = J.createJITDylib(fmt::format("actjit.k{}", core->next_dylib.fetch_add(1)));
    if (!jd_or) throw Error("jit: creating a JITDylib: " + jit::to_message(jd_or.takeError()));
    llvm::orc::JITDylib& jd = *jd_or;
    jd.addToLinkOrder(J.getMainJITDylib());
    jit::StoreLayout layout;
    layout.elem = spec.dtype == DType::f32 ? 4 : 8;
    layout.vector_bytes = static_cast<std::size_t>(t.codegen.lanes) * layout.elem;
    layout.forward_columns = jit::forward_needs_columns(k);
    layout.backward_columns = jit::backward_needs_columns(k);
    auto impl = std::make_shared<jit::JitKernel>(core, &jd, layout);  // removes jd if anything below throws

    // Forward and backward are two modules, each with its own context and
    // disk cache entry, so that they compile on two threads at once: LLVM's
    // code generation is most of a cold compile and the two cost about the
    // same (docs/JIT.md).
    struct Part {
        jit::KernelPart part;
        bool compiled = false;  // from IR (else from the disk cache)
    };
    Part parts[2] = {{jit::KernelPart::forward}, {jit::KernelPart::backward}};
    disk_hit = true;
    for (Part& p : parts) {
        const std::string part_key = key + (p.part == jit::KernelPart::forward ? "\nforward" : "\nbackward");
        if (auto obj = core->disk.load(part_key)) {
            if (auto err = J.addObjectFile(jd, std::move(obj)); !err) continue;
            else llvm::consumeError(std::move(err));  // unusable file: compile instead
        }
        disk_hit = false;
        p.compiled = true;
        auto ctx = std::make_unique<llvm::LLVMContext>();
        auto m = module_for(*ctx, k, t, part_key, p.part);
        jit::check(J.addIRModule(jd, llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx))), "adding the module");
    }

    // A look-up compiles what it finds missing, on the calling thread; the
    // backward's happens on a second thread while this one does the forward.
    auto lookup = [&J, &jd](const char* name) -> std::pair<std::uint64_t, std::string> {
        auto addr = J.lookup(jd, name);
        if (!addr) return {0, jit::to_message(addr.takeError())};
        return {addr->getValue(), {}};
    };
    std::future<std::pair<std::uint64_t, std::string>> bwd_async;
    if (parts[0].compiled && parts[1].compiled && core->parallel_compile) {
        try {
            bwd_async = std::async(std::launch::async, lookup, jit::kBackwardName);
        } catch (const std::system_error&) {
            // No thread to be had: the backward compiles after the forward.
        }
    }
    auto fwd = lookup(jit::kForwardName);
    auto bwd = bwd_async.valid() ? bwd_async.get() : lookup(jit::kBackwardName);
    if (!fwd.second.empty() || !bwd.second.empty())
        throw Error(fmt::format("jit: compiling '{}': {}", k.canonical, fwd.second.empty() ? bwd.second : fwd.second));
    impl->set(reinterpret_cast<jit::JitKernel::Fwd>(fwd.first), reinterpret_cast<jit::JitKernel::Bwd>(bwd.first));
    return impl;
}

void Engine::Impl::evict_locked() {
    // Least recently used first; compiles in flight are never evicted.
    auto it = lru.end();
    while (cache.size() > options.max_cached_kernels && it != lru.begin()) {
        auto victim = std::prev(it);
        auto found = cache.find(**victim);
        if (found == cache.end() || !found->second.ready) {
            it = victim;
            continue;
        }
        lru.erase(victim);
        cache.erase(found);
        ++stats.evictions;
    }
}

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
    jit::init_llvm_once();
    impl_->options = std::move(options);
    std::string dir = impl_->options.cache_dir;
    if (dir.empty())
        if (const char* env = std::getenv("ACTJIT_CACHE_DIR")) dir = env;
    auto core = std::make_shared<jit::EngineCore>(dir);
    core->parallel_compile = impl_->options.parallel_compile && std::thread::hardware_concurrency() > 1;

    // 1. The host target.
    core->jtmb = jit::unwrap(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host");
    core->host_cpu = core->jtmb.getCPU();
    core->host_feature_map = llvm::sys::getHostCPUFeatures();
    core->host_features = core->jtmb.getFeatures().getString();
    const auto has = [&](const char* f) { return core->host_feature_map.lookup(f); };
    core->host_vector_bits = has("avx512f") ? 512 : has("avx") ? 256 : 128;
    core->jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Less);
    // LLJIT links x86-64 ELF objects with JITLink, which places an object's
    // sections together: the small code model's RIP-relative constant loads
    // work, where the JIT default (large) spends a movabs per constant.
    core->jtmb.setCodeModel(llvm::CodeModel::Small);
    core->jtmb.setRelocationModel(llvm::Reloc::PIC_);
    // Loop headers on a 64-byte boundary: a loop as small as prelu's (about
    // 35 bytes) then sits in one op-cache window. On Zen 3 that took prelu's
    // forward in L1 from 340-700 to 260 ns per 4096 floats (docs/JIT.md).
    core->jtmb.getOptions().LoopAlignment = 64;

    // 2. The session, with our pooled, disk-caching compile function.
    auto* raw = core.get();
    core->jit = jit::unwrap(
        llvm::orc::LLJITBuilder()
            .setJITTargetMachineBuilder(core->jtmb)
            .setCompileFunctionCreator([raw](llvm::orc::JITTargetMachineBuilder)
                                           -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
                return std::make_unique<jit::PooledCompiler>(*raw);
            })
            .create(),
        "creating the JIT session");

    // 3. Our optimization pipeline, in the IR transform layer.
    core->jit->getIRTransformLayer().setTransform(
        [](llvm::orc::ThreadSafeModule tsm,
           llvm::orc::MaterializationResponsibility&) -> llvm::Expected<llvm::orc::ThreadSafeModule> {
            tsm.withModuleDo([](llvm::Module& m) { jit::optimize_module(m, jit::module_opt_level(m)); });
            return tsm;
        });

    // 4. Vector math symbols (process symbols are linked by default).
    jit::check(jit::add_vector_math_symbols(*core->jit), "adding the vector math library");
    jit::check(jit::add_compaction_symbols(*core->jit), "adding the lane compaction tables");
    impl_->core = std::move(core);
}

Engine::~Engine() = default;

Engine& Engine::global() {
    static Engine engine;
    return engine;
}

Kernel Engine::compile(const KernelSpec& spec, const JitOptions& options) {
    const jit::Target t = impl_->resolve(options);
    spec.validate();
    MemKey key = make_key(spec, t);

    std::shared_future<ImplPtr> future;
    std::optional<std::promise<ImplPtr>> promise;  // set when this thread compiles
    {
        std::lock_guard lock(impl_->mutex);
        auto it = impl_->cache.find(key);
        if (it != impl_->cache.end()) {
            ++impl_->stats.hits;
            impl_->lru.splice(impl_->lru.begin(), impl_->lru, it->second.lru);
            future = it->second.kernel;
        } else {
            ++impl_->stats.misses;
            promise.emplace();
            future = promise->get_future().share();
            auto pos = impl_->cache.emplace(key, Impl::Entry{future, {}, false}).first;
            impl_->lru.push_front(&pos->first);
            pos->second.lru = impl_->lru.begin();
        }
    }
    if (promise) {
        // Compile outside the lock; other threads asking for this key wait on
        // the future.
        try {
            bool disk_hit = false;
            ImplPtr impl = impl_->build(spec, t, disk_hit);
            promise->set_value(impl);
            std::lock_guard lock(impl_->mutex);
            if (auto it = impl_->cache.find(key); it != impl_->cache.end()) it->second.ready = true;
            if (disk_hit) ++impl_->stats.disk_hits;
            impl_->evict_locked();
        } catch (...) {
            promise->set_exception(std::current_exception());
            std::lock_guard lock(impl_->mutex);
            if (auto it = impl_->cache.find(key); it != impl_->cache.end()) {
                impl_->lru.erase(it->second.lru);
                impl_->cache.erase(it);
            }
            throw;
        }
    }
    return {spec, future.get()};
}

std::string Engine::emit(const KernelSpec& spec, EmitKind kind, const JitOptions& options) {
    jit::Target t = impl_->resolve(options);
    t.codegen.lanes = lanes_for(t.codegen, spec.dtype);
    const jit::LoweredKernel k = jit::lower(spec);
    const std::string key = impl_->disk_key(k, t);
    // The two modules a compile builds, one after the other.
    std::string out = (kind == EmitKind::llvm ? "; actjit: " : "# actjit: ") + k.canonical + "\n";
    for (jit::KernelPart part : {jit::KernelPart::forward, jit::KernelPart::backward}) {
        llvm::LLVMContext ctx;
        auto m = impl_->module_for(ctx, k, t, key, part);
        jit::optimize_module(*m, t.opt_level);
        if (kind == EmitKind::llvm) {
            llvm::raw_string_ostream os(out);
            m->print(os, nullptr);
            continue;
        }
        auto cg = jit::unwrap(impl_->core->acquire_codegen(t.opt_level), "creating a target machine");
        llvm::SmallString<0> buf;
        llvm::raw_svector_ostream asm_os(buf);
        llvm::legacy::PassManager pm;
        if (cg->tm->addPassesToEmitFile(pm, asm_os, nullptr, llvm::CodeGenFileType::AssemblyFile))
            throw Error("jit: the target cannot emit assembly");
        pm.run(*m);
        impl_->core->release_codegen(t.opt_level, std::move(cg));
        out.append(buf.begin(), buf.end());
    }
    return out;
}

CacheStats Engine::stats() const {
    std::lock_guard lock(impl_->mutex);
    CacheStats s = impl_->stats;
    s.cached = impl_->cache.size();
    return s;
}

void Engine::clear_cache() {
    std::lock_guard lock(impl_->mutex);
    for (auto it = impl_->cache.begin(); it != impl_->cache.end();) {
        if (it->second.ready) {
            impl_->lru.erase(it->second.lru);
            it = impl_->cache.erase(it);
        } else {
            ++it;
        }
    }
}

std::string Engine::target_description() const {
    const auto& c = *impl_->core;
    const char* isa = c.host_vector_bits == 512 ? "avx512" : c.host_vector_bits == 256 ? "avx2" : "sse2";
    return fmt::format("{} {} {}, {} lanes", c.jtmb.getTargetTriple().getArchName().str(), c.host_cpu, isa,
                       c.host_vector_bits / 32);
}

Kernel compile_jit(const KernelSpec& spec, const JitOptions& options) { return Engine::global().compile(spec, options); }

}  // namespace actjit
