// Code generation: expression DAG -> explicitly vectorized LLVM IR.
//
// Every function walks the block of rows in vectors of W lanes. The expression
// DAG is hash-consed, so each node is emitted once per loop body (memoized by
// node address) and the forward value, d/dx and every d/dparam share their
// common sub-expressions. Tails are one masked iteration (llvm.masked.load /
// store), never a scalar loop.
//
// Three loop shapes, chosen per function (and, for column-dependent code, at
// run time from `cols`):
//   flat   nothing depends on the column: one loop over rows*cols elements.
//   tiled  column-dependent and W % cols == 0 (few features, e.g. 8 with 16
//          lanes): still one flat loop; lane l is always column l % cols, so
//          per-feature parameters are loop-invariant tiled vectors, and
//          per-feature gradient sums live in W-lane double accumulators that
//          are folded per column after the loop.
//   rows   otherwise: per row, over the columns in vectors; per-feature
//          parameters are loaded at the column offset and per-feature gradient
//          sums accumulate in the (double) gradient arrays.
// A where() whose condition is the same in every lane (only constants and
// shared parameters) is decided once before the loops, which are emitted once
// per outcome (emit_versions), each with only the branch it takes.
//
// A pow(u, w) whose base is often exactly zero (u = relu(...) and the like:
// prepu) is computed on packed lanes (compact.hpp): the loop runs in chunks,
// each in three passes: collect packs the lanes with u != 0, the pow runs
// over the packed vectors, and the loop body proper puts the results back
// into their lanes (the others take C's pow(+-0, w)).
#include "codegen.hpp"

#include "compact.hpp"
#include "vector_math.hpp"

#include <actjit/build.hpp>
#include <actjit/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <functional>
#include <map>
#include <unordered_map>
#include <tuple>
#include <unordered_set>

namespace actjit::jit {
namespace {

using llvm::Value;

struct Env {
    Value* x = nullptr;        // <W x T>
    Value* feature = nullptr;  // <W x T> column index, when column-dependent
    bool feature_aligned = false;  // feature = W*k + lane (the rows shape)
    std::vector<Value*> params;  // <W x T> per runtime slot
    // Rows shape with column hoisting: the column's offset in the chunk,
    // where the hoisted nodes' values are loaded from (plan_hoisting).
    Value* hoist_index = nullptr;
};

enum class Shape { flat, tiled, rows };

bool is_zero(const Expr& e) { return e.is_const() && e.value() == 0.0; }

/// relu(v), max(v, 0) or max(0, v): where not 0, above 0 (or +inf or NaN).
bool positive_base(const Expr& u) {
    return u.op() == Op::Relu || (u.op() == Op::Max && (is_zero(u.arg(0)) || is_zero(u.arg(1))));
}

/// relu(v) or max(0, v): +0 or more, or NaN, in every lane; never -0. (max(v, 0)
/// is v where v is -0: a tie gives the first operand, as in the interpreter.)
bool nonnegative_base(const Expr& u) {
    return u.op() == Op::Relu || (u.op() == Op::Max && is_zero(u.arg(0)));
}

/// Exactly 0 in many lanes: relu(v), max(v, 0), clamp(v, 0, c), where(c, 0, v)
/// and where(c, v, 0).
bool zero_prone(const Expr& u) {
    switch (u.op()) {
    case Op::Relu: return true;
    case Op::Max: return is_zero(u.arg(0)) || is_zero(u.arg(1));
    case Op::Clamp: return is_zero(u.arg(1));
    case Op::Where: return is_zero(u.arg(1)) || is_zero(u.arg(2));
    default: return false;
    }
}

/// Worth computing once instead of once per row (column hoisting): more
/// than a few arithmetic instructions. A constant divisor is a multiply, a
/// small integer power a few, mod(feature, k) in the rows shape a constant.
bool costly(const Expr& e) {
    switch (e.op()) {
    case Op::Div: case Op::Mod: return !e.arg(1).is_const();
    case Op::Pow: {
        if (!e.arg(1).is_const()) return true;
        const double p = e.arg(1).value();
        return p != std::floor(p) || std::fabs(p) > 32;
    }
    case Op::Exp: case Op::Exp2: case Op::Log: case Op::Log2: case Op::Log10: case Op::Log1p: case Op::Expm1:
    case Op::Sqrt: case Op::Cbrt: case Op::Sin: case Op::Cos: case Op::Tan: case Op::Asin: case Op::Acos:
    case Op::Atan: case Op::Sinh: case Op::Cosh: case Op::Tanh: case Op::Asinh: case Op::Acosh: case Op::Atanh:
    case Op::Erf: case Op::Erfc: case Op::Sigmoid: case Op::Softplus: case Op::Softsign:
        return true;
    case Op::Const: case Op::Input: case Op::Param: case Op::Feature: case Op::Add: case Op::Sub: case Op::Mul:
    case Op::Neg: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Eq: case Op::Ne: case Op::And:
    case Op::Or: case Op::Not: case Op::Where: case Op::Abs: case Op::Sign: case Op::Floor: case Op::Relu:
    case Op::Min: case Op::Max: case Op::Clamp:
        return false;
    }
    return false;
}

/// Where a chunked loop is (lane compaction, see for_span).
enum class Phase { plain, collect, consume };

/// Elements per chunk of a compacted or column-hoisted loop, in 32-bit
/// units (512 floats, 256 doubles: 2 KiB per buffer, which stays in L1).
/// The backward's are 384: its chunk holds x, dy and dx, four packed
/// buffers (prepu: u, w, the pow and its log) and more column buffers. On
/// the Intel Xeon VM prepu's backward at n = 16M, best of 4 alternating
/// runs against 512: one thread 1.10x with 384 (1.12x with 256), two
/// threads 0.95x (0.86x with 256); the forward lost 8 % at 16M with 256
/// and keeps 512; 1024 was slower for both.
constexpr std::uint64_t kCompactUnits = 512;
constexpr std::uint64_t kCompactUnitsBackward = 384;

class Emitter {
public:
    Emitter(llvm::Module& m, const LoweredKernel& k, const CodegenTarget& t)
        : m_(m), ctx_(m.getContext()), k_(k), t_(t), b_(ctx_), lanes_(t.lanes) {
        T_ = k.dtype == DType::f32 ? llvm::Type::getFloatTy(ctx_) : llvm::Type::getDoubleTy(ctx_);
        VT_ = llvm::FixedVectorType::get(T_, static_cast<unsigned>(lanes_));
        VD_ = llvm::FixedVectorType::get(llvm::Type::getDoubleTy(ctx_), static_cast<unsigned>(lanes_));
        i64_ = llvm::Type::getInt64Ty(ctx_);
        i32_ = llvm::Type::getInt32Ty(ctx_);
        ptr_ = llvm::PointerType::getUnqual(ctx_);
        elem_align_ = llvm::Align(k.dtype == DType::f32 ? 4 : 8);
        for (std::size_t s = 0; s < k.runtime.size(); ++s) slot_of_[k.runtime[s].name] = static_cast<int>(s);
    }

    void emit_forward();
    void emit_backward();

private:
    // ---- function scaffolding ----
    llvm::Function* begin_function(const char* name, llvm::ArrayRef<llvm::Type*> args);
    llvm::AllocaInst* entry_alloca(llvm::Type* ty, const char* name);
    llvm::BasicBlock* block(const char* name) { return llvm::BasicBlock::Create(ctx_, name, fn_); }

    /// for (v = start; v < end; v += step) body(v); step 1 when null
    void for_range(Value* start, Value* end, const std::function<void(Value*)>& body, Value* step = nullptr);
    /// for (i = start; i + W <= end; i += W) body(i, null); then one masked
    /// iteration body(i, mask) when elements remain.
    void for_vectors(Value* start, Value* end, const std::function<void(Value*, Value*)>& body);
    /// for_vectors, or with pows to compact, in chunks of chunk_units_.
    void for_span(Value* start, Value* end, const std::function<void(Value*, Value*)>& body);
    /// One chunk of a compacted loop: pass() (its vectors) in Phase::collect,
    /// the packed pows, pass() again in Phase::consume.
    void compacted_chunk(const std::function<void()>& pass);

    Value* load(Value* base, Value* index, Value* mask, llvm::Type* vt, llvm::Align align);
    /// A software prefetch of base[index] + kPrefetchBytes for a full vector
    /// of a loop that prefetch_inputs_ (plan_quotients) calls slow enough,
    /// in calls with kPrefetchFlag (else of the vector's own line: in
    /// cache). Not in Phase::consume, which reads what collect loaded.
    void prefetch_ahead(Value* base, Value* index, Value* mask);
    void store(Value* v, Value* base, Value* index, Value* mask, llvm::Align align);
    /// store() of a kernel output: with the streaming flag and the address
    /// aligned to the vector, a non-temporal store (a full vector only).
    void store_output(Value* v, Value* base, Value* index, Value* mask);
    /// The parameter pointers (param_ptrs_) and the flags argument's
    /// streaming bit, read once at the top of a kernel function.
    void begin_kernel(Value* params, Value* flags);
    /// The fence streaming stores need before the function returns.
    void end_streaming();
    Value* lane_ids(llvm::Type* elem);  // <0, 1, ..., W-1>
    Value* splat(double v) { return llvm::ConstantFP::get(VT_, v); }
    /// The element type's least normal number.
    double min_normal() const {
        return k_.dtype == DType::f32 ? static_cast<double>(std::numeric_limits<float>::min())
                                      : std::numeric_limits<double>::min();
    }
    /// 32-bit units per element (the compaction buffers' unit).
    std::uint64_t units() const { return k_.dtype == DType::f32 ? 1 : 2; }
    /// Elements per chunk of a chunked loop.
    Value* chunk_elements() { return llvm::ConstantInt::get(i64_, chunk_units_ / units()); }
    Value* as_number(Value* mask) { return b_.CreateUIToFP(mask, VT_); }
    // Truth of a condition operand: non-zero and not NaN (as the interpreter).
    Value* truth(Value* v) { return b_.CreateFCmpONE(v, splat(0.0)); }

    /// Run `body` over the block in the right loop shape. `columns`: the code
    /// depends on the column. body(offset, mask, env, shape, column).
    using Body = std::function<void(Value* off, Value* mask, const Env& env, Shape shape, Value* col)>;
    void emit_loops(Value* rows, Value* cols, bool columns, std::span<const Expr> roots, const Body& body);
    void emit_loop_shapes(Value* rows, Value* cols, bool columns, const Env& env, const Body& body);
    /// The rows shape's environment for the vector at column c.
    Env column_env(const Env& env, Value* c, Value* mask);
    void emit_versions(std::span<const Expr> roots, const Env& env, int max_versions,
                       const std::function<void()>& emit_loop);
    /// Post-order over the nodes `roots` need under the assumed conditions.
    void visit_needed(std::span<const Expr> roots, const std::function<void(const Expr&)>& fn) const;

    // ---- column hoisting ----
    /// Which nodes of `roots` depend on the column but not on x (prepu's
    /// softsign(s) + 1): the rows shape computes them once per chunk of
    /// columns instead of once per row.
    void plan_hoisting(std::span<const Expr> roots);
    /// Their values for columns [c0, c1), into the hoisting buffers.
    void compute_hoisted(Value* c0, Value* c1, const Env& env);
    /// A hoisted value of the vector's columns (env has a hoist_index).
    Value* load_hoisted(llvm::AllocaInst* buf, const Env& env);

    // ---- lane compaction ----
    /// Which pows of `roots` (as the current loop version needs them) to
    /// compute on packed lanes.
    void plan_compaction(std::span<const Expr> roots);
    /// Phase::collect for one vector: pack each compacted pow's operands.
    void collect_lanes(Value* off, Value* mask, const Env& env);
    /// The pows over the packed operands of one chunk.
    void emit_packed_pows();
    /// Phase::consume: the compacted pow's value (and its log) in lane order.
    Value* unpack_pow(std::size_t index, Value* u, Value* w, const Env& env);
    /// pow(+-0, w) for the lanes of a pow whose base is zero: the hoisted
    /// value where plan_hoisting made one (zero_pow_of_), else computed.
    Value* zero_base_pow(const Expr& w, Value* u, Value* wv, bool signed_zero, const Env& env);

    // ---- expressions ----
    /// What shares work in `roots` (mish's exp, exp/expm1, pow(u, w + 1)
    /// from pow(u, w), log(u) with pow(u, w)): fills the per-eval maps below.
    void find_sharing(std::span<const Expr> roots);
    std::vector<Value*> eval(std::span<const Expr> roots, const Env& env);
    Value* node(const Expr& e, const std::unordered_map<const Node*, Value*>& memo, const Env& env);
    Value* pow_const(Value* a, double p);
    /// Whether `e` (a Div) is a / d with |d| >= 1 for every input
    /// (interval analysis) and d neither constant nor uniform (those are a
    /// multiply by the reciprocal: div_const, div_uniform).
    bool quotient_candidate(const Expr& e) {
        if (e.op() != Op::Div || e.arg(1).is_const() || (uniform_.at(e.arg(1).get()) && !uniform_.at(e.get())))
            return false;
        const Interval d = value_range(e.arg(1));
        return d.lo >= 1 || d.hi <= -1;
    }
    /// Whether the pow `e` (f32) takes emit_pow_bounded: a base >= 0 and
    /// an exponent within +-kPowBoundedExponent for every input (interval
    /// analysis), not a constant. Every loop shape, the packed lanes and the
    /// tails decide alike, so a value has the same bits in each.
    bool bounded_pow(const Expr& e) {
        if (k_.dtype != DType::f32 || e.op() != Op::Pow || e.arg(1).is_const()) return false;
        const Interval u = value_range(e.arg(0));
        const Interval w = value_range(e.arg(1));
        return u.lo >= 0 && w.lo >= -kPowBoundedExponent && w.hi <= kPowBoundedExponent;
    }
    /// Sets quotients_ (the candidates) and estimate_quotients_ for the
    /// function whose loops compute `roots`: whether its time per vector is
    /// the divider's; and prefetch_inputs_, from the same count.
    void plan_quotients(std::span<const Expr> roots);
    /// a / d for |d| >= 1: emit_quotient's code where estimate_quotients_,
    /// else the division (`inf_operands`: d may be infinite).
    Value* quotient(Value* a, Value* d, bool inf_operands) {
        return estimate_quotients_ ? emit_quotient(b_, a, d, inf_operands) : b_.CreateFDiv(a, d);
    }
    Value* div_const(Value* a, double c);
    Value* div_uniform(Value* a, Value* b);
    Value* exp_clamped(const Expr& u, Value* uv);
    /// `positive`: u is relu(v) or max(0, v), so +0 or more, or NaN (never -0).
    /// `w`: the range of t's exponent (interval analysis); `zero`: the
    /// result for zero bases (zero_base_pow).
    Value* pow_shifted(Value* u, Value* t, Value* w1, Value* zero, bool positive, const Interval& w);
    /// 2^k for pow_shifted's base test where |w| is bounded, else 0.
    double shifted_base_bound(const Interval& w) const;
    Value* transcendental(Op op, llvm::ArrayRef<Value*> args);
    /// pow(u, w) for a rare block: a call to one function per module
    /// (`actjit.pow`, preserve_all: the caller keeps every register), so that
    /// the pow's code is compiled once, not at every rare site.
    Value* rare_pow(Value* u, Value* w);
    Value* libm_lanes(Op op, llvm::ArrayRef<Value*> args);
    Value* min_nan(Value* a, Value* c);
    Value* max_nan(Value* a, Value* c);
    Value* intrinsic(llvm::Intrinsic::ID id, Value* a) {
        return b_.CreateUnaryIntrinsic(id, a);
    }

    llvm::Module& m_;
    llvm::LLVMContext& ctx_;
    const LoweredKernel& k_;
    const CodegenTarget& t_;
    llvm::IRBuilder<> b_;
    int lanes_;
    llvm::Type* T_;
    llvm::FixedVectorType* VT_;
    llvm::FixedVectorType* VD_;
    llvm::Type* i64_;
    llvm::Type* i32_;
    llvm::PointerType* ptr_;
    llvm::Align elem_align_;
    std::unordered_map<std::string, int> slot_of_;
    Value* stream_ = nullptr;  // i1: write outputs around the cache where aligned
    Value* prefetch_ = nullptr;  // i1: prefetch the inputs ahead (kPrefetchFlag)
    // The offset where the vector loop being emitted starts (0, or the row's
    // first element): every full vector of it has that offset's alignment.
    Value* run_start_ = nullptr;
    // Per eval(): every u of a tanh(softplus(u)) in the roots, and the shared
    // exp(min(u, clamp)) of each u (see exp_clamped).
    std::unordered_set<const Node*> mish_args_;
    std::unordered_map<const Node*, Value*> exp_clamped_;
    // Per eval(): pow(u, w + 1) -> pow(u, w) when both are needed (prepu's
    // backward): the first is computed from the second (see pow_shifted).
    std::unordered_map<const Node*, Expr> pow_shift_;
    // Per eval(): each u with both exp(u) and expm1(u) needed, and once made,
    // the pair (see emit_exp_expm1).
    std::unordered_map<const Node*, std::pair<Value*, Value*>> exp_pairs_;
    // Per eval(): base u -> (the pow(u, w) emitted as a transcendental, its
    // shared log(u)) when log(u) is needed too (see emit_pow_log).
    struct PowLog {
        Expr pow;
        Value* ln = nullptr;
    };
    std::unordered_map<const Node*, PowLog> pow_logs_;
    // Loop versions: which nodes are uniform (the same in every lane of the
    // call: no x, feature or per-feature parameter), and the where()
    // conditions assumed true or false in the loop version being emitted.
    std::unordered_map<const Node*, bool> uniform_;
    std::unordered_map<const Node*, bool> on_x_;  // depends on x
    std::unordered_set<const Node*> quotients_;  // quotient_candidate nodes (plan_quotients)
    bool estimate_quotients_ = false;             // plan_quotients
    bool prefetch_inputs_ = false;                // plan_quotients: the loop is slow enough to prefetch
    std::unordered_map<const Node*, bool> assumed_;

    // Lane compaction (plan_compaction): per compacted pow(u, w), its
    // buffers (32-bit units) and how many units were packed (collect) or
    // have been read back (consume) in the current chunk.
    struct Compacted {
        Expr pow;
        bool uniform_w = false;  // w is not packed: the same in every lane
        bool positive = false;     // u > 0, +inf or NaN where packed: relu(v), max(v, 0), max(0, v)
        bool nonnegative = false;  // and +0 where not packed (never -0): relu(v), max(0, v)
        llvm::AllocaInst* u = nullptr;
        llvm::AllocaInst* w = nullptr;
        llvm::AllocaInst* result = nullptr;
        llvm::AllocaInst* log = nullptr;  // log(u) too (emit_pow_log), else null
        llvm::AllocaInst* count = nullptr;
    };
    std::vector<Compacted> compacted_;
    // Column hoisting: node -> its buffer (one value per column of a chunk),
    // in post-order; and whether eval() loads them (it does where the
    // environment has a hoist_index) instead of visiting below them.
    std::vector<std::pair<Expr, llvm::AllocaInst*>> hoisted_;
    std::unordered_map<const Node*, llvm::AllocaInst*> hoist_buffer_;
    // Per-feature exponents w of pows whose zero-base lanes take C's
    // pow(+0, w) (the compacted pows, u^(w+1) made from u^w): w -> the node
    // pow(0, w), hoisted like the others (six instructions a vector less).
    std::unordered_map<const Node*, Expr> zero_pow_of_;
    bool load_hoisted_ = false;
    Phase phase_ = Phase::plain;
    Value* lane_mask_ = nullptr;      // live lanes of the vector being emitted (null: all)
    bool fast_paths_ = true;          // the vector math's fast paths (not in tails run once per call)
    const Env* loop_env_ = nullptr;   // emit_loops' environment (shared parameters)
    Value* x_arg_ = nullptr;          // the kernel's x
    Value* dy_arg_ = nullptr;         // and dy (the backward's)
    std::uint64_t chunk_units_ = kCompactUnits;  // this function's chunks (kCompactUnitsBackward)

    llvm::Function* fn_ = nullptr;
    llvm::BasicBlock* entry_ = nullptr;
    llvm::Function* rare_pow_fn_ = nullptr;
    std::vector<Value*> param_ptrs_;  // per runtime slot
};

// ---- scaffolding -------------------------------------------------------------

llvm::Function* Emitter::begin_function(const char* name, llvm::ArrayRef<llvm::Type*> args) {
    auto* fty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), args, false);
    fn_ = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, name, m_);
    fn_->setDoesNotThrow();
    fn_->addFnAttr("target-cpu", t_.cpu);
    if (!t_.features.empty()) fn_->addFnAttr("target-features", t_.features);
    // Our explicit vectors are as wide as the registers: make the backend use
    // them (some CPUs otherwise prefer 256-bit vectors on AVX-512).
    const auto bits = std::to_string(t_.vector_bits);
    fn_->addFnAttr("min-legal-vector-width", bits);
    fn_->addFnAttr("prefer-vector-width", bits);
    fn_->addFnAttr("no-trapping-math", "true");
    entry_ = block("entry");
    b_.SetInsertPoint(entry_);
    return fn_;
}

llvm::AllocaInst* Emitter::entry_alloca(llvm::Type* ty, const char* name) {
    llvm::IRBuilder<> eb(entry_, entry_->begin());
    return eb.CreateAlloca(ty, nullptr, name);
}

void Emitter::for_range(Value* start, Value* end, const std::function<void(Value*)>& body, Value* step) {
    auto* iv = entry_alloca(i64_, "r");
    b_.CreateStore(start, iv);
    auto* cond = block("range.cond");
    auto* loop = block("range.body");
    auto* exit = block("range.exit");
    b_.CreateBr(cond);
    b_.SetInsertPoint(cond);
    Value* v = b_.CreateLoad(i64_, iv);
    b_.CreateCondBr(b_.CreateICmpSLT(v, end), loop, exit);
    b_.SetInsertPoint(loop);
    body(v);
    b_.CreateStore(b_.CreateAdd(v, step ? step : llvm::ConstantInt::get(i64_, 1)), iv);
    b_.CreateBr(cond);
    b_.SetInsertPoint(exit);
}

void Emitter::for_vectors(Value* start, Value* end, const std::function<void(Value*, Value*)>& body) {
    auto* W = llvm::ConstantInt::get(i64_, static_cast<std::uint64_t>(lanes_));
    auto mask_for = [&](Value* i) {
        // lanes [0, min(end - i, W)) are live
        Value* rem = b_.CreateSub(end, i);
        rem = b_.CreateTrunc(b_.CreateSelect(b_.CreateICmpSLT(rem, W), rem, W), i32_);
        return b_.CreateICmpULT(lane_ids(i32_), b_.CreateVectorSplat(static_cast<unsigned>(lanes_), rem));
    };
    // A plain body and one masked tail. Masking every iteration instead
    // (one body: half the code and compile time) measured 10-50 % slower on
    // Zen 4 for backward kernels (masked stores; docs/JIT.md).
    // Full vectors while i <= end - W, bottom-tested: the latch is one add,
    // one compare and one branch, where the top-tested loop this replaced
    // spent a second branch and another add per iteration (which matters
    // only for relu-sized bodies). LoopRotate would give the same shape for
    // ~10 % more compile time.
    auto* iv = entry_alloca(i64_, "i");
    b_.CreateStore(start, iv);
    auto* loop = block("vec.body");
    auto* tail_check = block("vec.tailcheck");
    auto* tail = block("vec.tail");
    auto* exit = block("vec.exit");
    Value* last = b_.CreateSub(end, W, "last");
    b_.CreateCondBr(b_.CreateICmpSLE(start, last), loop, tail_check);

    b_.SetInsertPoint(loop);
    Value* i = b_.CreateLoad(i64_, iv);
    body(i, nullptr);
    Value* next = b_.CreateAdd(i, W);
    b_.CreateStore(next, iv);
    b_.CreateCondBr(b_.CreateICmpSLE(next, last), loop, tail_check);

    b_.SetInsertPoint(tail_check);
    Value* it = b_.CreateLoad(i64_, iv);
    b_.CreateCondBr(b_.CreateICmpSLT(it, end), tail, exit);

    b_.SetInsertPoint(tail);
    body(it, mask_for(it));
    b_.CreateBr(exit);
    b_.SetInsertPoint(exit);
}

void Emitter::for_span(Value* start, Value* end, const std::function<void(Value*, Value*)>& body) {
    if (compacted_.empty()) return for_vectors(start, end, body);
    Value* chunk = chunk_elements();
    for_range(start, end, [&](Value* cs) {
        Value* next = b_.CreateAdd(cs, chunk);
        Value* ce = b_.CreateSelect(b_.CreateICmpSLT(next, end), next, end);
        compacted_chunk([&] { for_vectors(cs, ce, body); });
    }, chunk);
}

void Emitter::compacted_chunk(const std::function<void()>& pass) {
    auto* zero = llvm::ConstantInt::get(i64_, 0);
    for (const Compacted& c : compacted_) b_.CreateStore(zero, c.count);
    phase_ = Phase::collect;
    pass();
    phase_ = Phase::plain;
    // The packed pows read whole vectors: the lanes past the last packed
    // one are 1 (pow(1, 1), not stale data that may take a vector
    // library's slow path).
    for (const Compacted& c : compacted_) {
        Value* pos = b_.CreateLoad(i64_, c.count);
        for (llvm::AllocaInst* buf : {c.u, c.w})
            if (buf) b_.CreateAlignedStore(splat(1.0), b_.CreateGEP(b_.getFloatTy(), buf, pos), llvm::Align(4));
    }
    emit_packed_pows();
    for (const Compacted& c : compacted_) b_.CreateStore(zero, c.count);
    phase_ = Phase::consume;
    pass();
    phase_ = Phase::plain;
}

Value* Emitter::lane_ids(llvm::Type* elem) {
    std::vector<llvm::Constant*> ids;
    for (int l = 0; l < lanes_; ++l) ids.push_back(llvm::ConstantInt::get(elem, static_cast<std::uint64_t>(l)));
    return llvm::ConstantVector::get(ids);
}

Value* Emitter::load(Value* base, Value* index, Value* mask, llvm::Type* vt, llvm::Align align) {
    auto* elem = llvm::cast<llvm::VectorType>(vt)->getElementType();
    Value* p = b_.CreateGEP(elem, base, index);
    if (!mask) return b_.CreateAlignedLoad(vt, p, align);
    return b_.CreateMaskedLoad(vt, p, align, mask, llvm::Constant::getNullValue(vt));
}

void Emitter::store(Value* v, Value* base, Value* index, Value* mask, llvm::Align align) {
    auto* elem = llvm::cast<llvm::VectorType>(v->getType())->getElementType();
    Value* p = b_.CreateGEP(elem, base, index);
    if (!mask)
        b_.CreateAlignedStore(v, p, align);
    else
        b_.CreateMaskedStore(v, p, align, mask);
}

void Emitter::begin_kernel(Value* params, Value* flags) {
    param_ptrs_.clear();
    for (std::size_t s = 0; s < k_.runtime.size(); ++s)
        param_ptrs_.push_back(b_.CreateAlignedLoad(ptr_, b_.CreateConstGEP1_64(ptr_, params, s), llvm::Align(8)));
    stream_ = b_.CreateICmpNE(b_.CreateAnd(flags, llvm::ConstantInt::get(i64_, kStreamFlag)),
                              llvm::ConstantInt::get(i64_, 0), "stream");
    prefetch_ = b_.CreateICmpNE(b_.CreateAnd(flags, llvm::ConstantInt::get(i64_, kPrefetchFlag)),
                                llvm::ConstantInt::get(i64_, 0), "prefetch");
}

void Emitter::store_output(Value* v, Value* base, Value* index, Value* mask) {
    if (mask) return store(v, base, index, mask, elem_align_);
    // Non-temporal stores need the vector's alignment. Full vectors step by
    // the vector's size from run_start_, so the test is loop-invariant (a
    // row may start anywhere): LICM hoists it and the loop keeps one
    // predictable branch on a register.
    const std::uint64_t bytes = static_cast<std::uint64_t>(lanes_) * (k_.dtype == DType::f32 ? 4 : 8);
    Value* p = b_.CreateGEP(T_, base, index);
    Value* p0 = b_.CreateGEP(T_, base, run_start_);
    Value* misaligned = b_.CreateAnd(b_.CreatePtrToInt(p0, i64_), llvm::ConstantInt::get(i64_, bytes - 1));
    Value* nt = b_.CreateAnd(stream_, b_.CreateICmpEQ(misaligned, llvm::ConstantInt::get(i64_, 0)));
    auto* nt_bb = block("store.nt");
    auto* plain_bb = block("store");
    auto* join = block("store.done");
    // Laid out for the plain store (the in-cache case, where a taken branch
    // per iteration costs): streaming loops are memory-bound either way.
    b_.CreateCondBr(nt, nt_bb, plain_bb, llvm::MDBuilder(ctx_).createBranchWeights(1, 64));
    b_.SetInsertPoint(nt_bb);
    llvm::StoreInst* st = b_.CreateAlignedStore(v, p, llvm::Align(bytes));
    st->setMetadata(llvm::LLVMContext::MD_nontemporal,
                    llvm::MDNode::get(ctx_, llvm::ConstantAsMetadata::get(b_.getInt32(1))));
    b_.CreateBr(join);
    b_.SetInsertPoint(plain_bb);
    b_.CreateAlignedStore(v, p, elem_align_);
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
}

void Emitter::prefetch_ahead(Value* base, Value* index, Value* mask) {
    // Calls that read from memory (outputs of at least the streaming
    // threshold): the hardware prefetcher let the compute-bound kernels stall
    // on every load at n = 16M on the Intel Xeon VM, which they overlapped
    // with none of their arithmetic (silu forward 1.35 G/s against 3.7 in
    // cache); 4 KiB ahead measured best of 2, 4 and 8 KiB (docs/JIT.md).
    if (!prefetch_inputs_ || mask != nullptr || phase_ == Phase::consume) return;
    auto prefetch = [&](std::int64_t bytes, int locality) {
        Value* d = b_.CreateSelect(prefetch_, llvm::ConstantInt::get(i64_, bytes), llvm::ConstantInt::get(i64_, 0));
        Value* p = b_.CreateGEP(b_.getInt8Ty(), b_.CreateGEP(T_, base, index), d);
        b_.CreateIntrinsic(llvm::Intrinsic::prefetch, {ptr_}, {p, b_.getInt32(0), b_.getInt32(locality), b_.getInt32(1)});
    };
    prefetch(kPrefetchBytes, 3);  // read, into L1, data
    // A compacted loop's collect pass is a burst of loads, then its pow pass
    // none: also 16 KiB ahead into L2, so that memory keeps working through
    // the pow passes (prepu at n = 16M, A/Bs of 3-5 rounds: forward
    // 1.04-1.11x, backward 1.02-1.06x; 2 or 8 KiB ahead into L1 instead
    // of 4: no change).
    if (phase_ == Phase::collect) prefetch(kPrefetchFarBytes, 1);
}

void Emitter::end_streaming() {
    // Non-temporal stores are weakly ordered: fence them before returning,
    // so that whoever reads the output (another thread too) sees it.
    auto* fence_bb = block("stream.fence");
    auto* done = block("stream.done");
    b_.CreateCondBr(stream_, fence_bb, done);
    b_.SetInsertPoint(fence_bb);
    b_.CreateFence(llvm::AtomicOrdering::SequentiallyConsistent);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
}

void Emitter::emit_loops(Value* rows, Value* cols, bool columns, std::span<const Expr> roots, const Body& body) {
    Env env;
    env.params.resize(k_.runtime.size());
    // Shared parameters: broadcast scalars, loaded once.
    for (std::size_t s = 0; s < k_.runtime.size(); ++s)
        if (!k_.runtime[s].per_feature)
            env.params[s] = b_.CreateVectorSplat(static_cast<unsigned>(lanes_),
                                                 b_.CreateAlignedLoad(T_, param_ptrs_[s], elem_align_));
    uniform_.clear();
    on_x_.clear();
    assumed_.clear();
    for_each_node_postorder(roots, [&](const Expr& e) {
        bool u = e.op() != Op::Input && e.op() != Op::Feature;
        bool x = e.op() == Op::Input;
        if (e.op() == Op::Param)
            for (const auto& r : k_.runtime) u = u && !(r.per_feature && r.name == e.name());
        for (const Expr& a : e.args()) {
            u = u && uniform_.at(a.get());
            x = x || on_x_.at(a.get());
        }
        uniform_.emplace(e.get(), u);
        on_x_.emplace(e.get(), x);
    });
    plan_quotients(roots);
    // Lane compaction: the body's collect pass packs operands instead.
    const Body chunked = [&](Value* off, Value* mask, const Env& e, Shape shape, Value* col) {
        if (phase_ == Phase::collect) return collect_lanes(off, mask, e);
        lane_mask_ = mask;
        // A masked tail of the flat or tiled loop runs once per call (or per
        // chunk): the vector math's exact code alone there. The rows shape's
        // run once per row and keep the fast paths.
        fast_paths_ = mask == nullptr || shape == Shape::rows;
        body(off, mask, e, shape, col);
        lane_mask_ = nullptr;
        fast_paths_ = true;
    };
    loop_env_ = &env;
    // At most 4 versions of the loops (compile time grows with each).
    emit_versions(roots, env, 4, [&] {
        plan_compaction(roots);
        if (columns) plan_hoisting(roots);
        emit_loop_shapes(rows, cols, columns, env, chunked);
        compacted_.clear();
        hoisted_.clear();
        hoist_buffer_.clear();
        zero_pow_of_.clear();
    });
    assumed_.clear();
    loop_env_ = nullptr;
}

void Emitter::emit_versions(std::span<const Expr> roots, const Env& env, int max_versions,
                            const std::function<void()>& emit_loop) {
    // A where() whose condition depends only on constants and shared
    // parameters (soft_exponential's alpha < 0) takes the same branch in
    // every lane: decide it once before the loops and emit one loop version
    // per outcome, each computing only its branch. The outermost such
    // condition the current version still needs is the last in post-order.
    const Expr* cond = nullptr;
    if (max_versions >= 2)
        visit_needed(roots, [&](const Expr& e) {
            if (e.op() == Op::Where && uniform_.at(e.arg(0).get()) && !e.arg(0).is_const() &&
                !assumed_.count(e.arg(0).get()))
                cond = &e.arg(0);
        });
    if (cond == nullptr) {
        emit_loop();
        return;
    }
    Value* c = b_.CreateExtractElement(truth(eval(std::span<const Expr>(cond, 1), env)[0]), std::uint64_t{0});
    auto* on_true = block("version.t");
    auto* on_false = block("version.f");
    auto* join = block("version.done");
    b_.CreateCondBr(c, on_true, on_false);
    for (bool taken : {true, false}) {
        b_.SetInsertPoint(taken ? on_true : on_false);
        assumed_[cond->get()] = taken;
        emit_versions(roots, env, max_versions / 2, emit_loop);
        assumed_.erase(cond->get());
        b_.CreateBr(join);
    }
    b_.SetInsertPoint(join);
}

void Emitter::emit_loop_shapes(Value* rows, Value* cols, bool columns, const Env& env, const Body& body) {
    Value* n = b_.CreateMul(rows, cols, "n");
    run_start_ = llvm::ConstantInt::get(i64_, 0);
    if (!columns) {
        for_span(llvm::ConstantInt::get(i64_, 0), n, [&](Value* i, Value* mask) {
            body(i, mask, env, Shape::flat, nullptr);
        });
        return;
    }
    // tiled when 0 < cols <= W and W % cols == 0: W is a power of two, so
    // cols is one and l % cols is l & (cols - 1) (no divisions per call).
    auto* W = llvm::ConstantInt::get(i64_, static_cast<std::uint64_t>(lanes_));
    auto* zero = llvm::ConstantInt::get(i64_, 0);
    auto* one = llvm::ConstantInt::get(i64_, 1);
    Value* positive = b_.CreateICmpSGT(cols, zero);
    Value* safe_cols = b_.CreateSelect(positive, cols, one);
    Value* col_bits = b_.CreateSub(safe_cols, one);
    Value* divides = b_.CreateICmpEQ(b_.CreateAnd(safe_cols, col_bits), zero);
    Value* tiled = b_.CreateAnd(positive, b_.CreateAnd(b_.CreateICmpSLE(cols, W), divides));
    auto* tiled_bb = block("tiled");
    auto* rows_bb = block("rows");
    auto* done = block("done");
    b_.CreateCondBr(tiled, tiled_bb, rows_bb);

    // tiled: lane l is column l % cols in every iteration.
    b_.SetInsertPoint(tiled_bb);
    {
        Env tenv = env;
        Value* idx = b_.CreateAnd(lane_ids(i64_), b_.CreateVectorSplat(static_cast<unsigned>(lanes_), col_bits));
        tenv.feature = b_.CreateUIToFP(idx, VT_);
        auto* all = llvm::ConstantInt::getTrue(llvm::FixedVectorType::get(llvm::Type::getInt1Ty(ctx_), static_cast<unsigned>(lanes_)));
        for (std::size_t s = 0; s < k_.runtime.size(); ++s)
            if (k_.runtime[s].per_feature)
                tenv.params[s] = b_.CreateMaskedGather(VT_, b_.CreateGEP(T_, param_ptrs_[s], idx), elem_align_, all);
        for_span(zero, n, [&](Value* i, Value* mask) { body(i, mask, tenv, Shape::tiled, nullptr); });
        b_.CreateBr(done);
    }

    // rows: per row, the columns in vectors.
    b_.SetInsertPoint(rows_bb);
    auto row = [&](Value* r, Value* c0, Value* c1) {
        Value* base = b_.CreateMul(r, cols);
        run_start_ = base;
        for_vectors(c0, c1, [&](Value* c, Value* mask) {
            Env renv = column_env(env, c, mask);
            if (!hoisted_.empty()) renv.hoist_index = b_.CreateSub(c, c0);
            body(b_.CreateAdd(base, c), mask, renv, Shape::rows, c);
        });
    };
    if (compacted_.empty() && hoisted_.empty()) {
        for_range(zero, rows, [&](Value* r) { row(r, zero, cols); });
    } else {
        // Chunks of about chunk_units_ elements: as many whole rows as fit,
        // or pieces of one row when rows are longer; the hoisted nodes are
        // computed for the chunk's columns first (once, for whole rows).
        // (Compacted chunks of one short row measured slower: the packed
        // loads then follow their stores too closely for store-to-load
        // forwarding, which fails on them.)
        Value* chunk = chunk_elements();
        Value* fits = b_.CreateICmpSLE(cols, chunk);
        Value* rows_per = b_.CreateSelect(fits, b_.CreateSDiv(chunk, safe_cols), one);
        Value* col_step = b_.CreateSelect(fits, safe_cols, chunk);
        for_range(zero, rows, [&](Value* r0) {
            Value* r_next = b_.CreateAdd(r0, rows_per);
            Value* r1 = b_.CreateSelect(b_.CreateICmpSLT(r_next, rows), r_next, rows);
            for_range(zero, cols, [&](Value* c0) {
                Value* c_next = b_.CreateAdd(c0, col_step);
                Value* c1 = b_.CreateSelect(b_.CreateICmpSLT(c_next, cols), c_next, cols);
                if (!hoisted_.empty()) {
                    // Whole rows: the chunks all cover columns [0, cols), computed once.
                    auto* compute_bb = block("hoist");
                    auto* computed_bb = block("hoist.done");
                    Value* first = b_.CreateICmpEQ(r0, zero);
                    b_.CreateCondBr(b_.CreateOr(b_.CreateNot(fits), first), compute_bb, computed_bb);
                    b_.SetInsertPoint(compute_bb);
                    compute_hoisted(c0, c1, env);
                    b_.CreateBr(computed_bb);
                    b_.SetInsertPoint(computed_bb);
                }
                auto pass = [&] { for_range(r0, r1, [&](Value* r) { row(r, c0, c1); }); };
                if (compacted_.empty())
                    pass();
                else
                    compacted_chunk(pass);
            }, col_step);
        }, rows_per);
    }
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
}

// ---- forward -------------------------------------------------------------------

void Emitter::emit_forward() {
    // void actjit_fwd(const T* x, T* y, i64 rows, i64 cols, const T* const* params, u64 flags)
    auto* f = begin_function(kForwardName, {ptr_, ptr_, i64_, i64_, ptr_, i64_});
    Value* x = f->getArg(0);
    x_arg_ = x;
    dy_arg_ = nullptr;
    chunk_units_ = kCompactUnits;
    Value* y = f->getArg(1);
    Value* rows = f->getArg(2);
    Value* cols = f->getArg(3);
    Value* params = f->getArg(4);
    begin_kernel(params, f->getArg(5));

    const std::vector<Expr> roots = forward_roots(k_);
    emit_loops(rows, cols, forward_needs_columns(k_), roots, [&](Value* off, Value* mask, const Env& env0, Shape, Value*) {
        Env env = env0;
        env.x = load(x, off, mask, VT_, elem_align_);
        prefetch_ahead(x, off, mask);
        Value* out = eval(roots, env)[0];
        store_output(out, y, off, mask);
    });
    end_streaming();
    b_.CreateRetVoid();
}

// ---- backward ------------------------------------------------------------------

void Emitter::emit_backward() {
    // void actjit_bwd(const T* x, const T* dy, T* dx, i64 rows, i64 cols,
    //                 const T* const* params, double* const* grads, u64 flags)
    auto* f = begin_function(kBackwardName, {ptr_, ptr_, ptr_, i64_, i64_, ptr_, ptr_, i64_});
    Value* x = f->getArg(0);
    x_arg_ = x;
    Value* dy = f->getArg(1);
    dy_arg_ = dy;
    chunk_units_ = kCompactUnitsBackward;
    Value* dx = f->getArg(2);
    Value* rows = f->getArg(3);
    Value* cols = f->getArg(4);
    Value* params = f->getArg(5);
    Value* grads = f->getArg(6);
    begin_kernel(params, f->getArg(7));

    const llvm::Align dalign(8);
    std::vector<Value*> grad_ptrs;
    std::vector<llvm::AllocaInst*> acc(k_.grads.size(), nullptr);
    for (std::size_t g = 0; g < k_.grads.size(); ++g) {
        grad_ptrs.push_back(b_.CreateAlignedLoad(ptr_, b_.CreateConstGEP1_64(ptr_, grads, g), llvm::Align(8)));
        acc[g] = entry_alloca(VD_, "acc");
        b_.CreateStore(llvm::Constant::getNullValue(VD_), acc[g]);
        if (k_.grads[g].per_feature) {
            // The sums are overwritten, not added to.
            b_.CreateMemSet(grad_ptrs[g], b_.getInt8(0), b_.CreateMul(cols, llvm::ConstantInt::get(i64_, 8)), dalign);
        }
    }

    const std::vector<Expr> roots = backward_roots(k_);
    const bool columns = backward_needs_columns(k_);

    Value* zero_d = llvm::Constant::getNullValue(VD_);
    emit_loops(rows, cols, columns, roots, [&](Value* off, Value* mask, const Env& env0, Shape shape, Value* col) {
        Env env = env0;
        env.x = load(x, off, mask, VT_, elem_align_);
        Value* dyv = load(dy, off, mask, VT_, elem_align_);
        prefetch_ahead(x, off, mask);
        prefetch_ahead(dy, off, mask);
        std::vector<Value*> vals = eval(roots, env);
        store_output(b_.CreateFMul(dyv, vals[0]), dx, off, mask);
        for (std::size_t g = 0; g < k_.grads.size(); ++g) {
            // d loss / d param += dy * d f / d param, in double.
            Value* contrib = b_.CreateFMul(dyv, vals[g + 1]);
            if (k_.dtype == DType::f32) contrib = b_.CreateFPExt(contrib, VD_);
            if (k_.grads[g].per_feature && shape == Shape::rows) {
                Value* sum = b_.CreateFAdd(load(grad_ptrs[g], col, mask, VD_, dalign), contrib);
                store(sum, grad_ptrs[g], col, mask, dalign);
            } else {
                if (mask) contrib = b_.CreateSelect(mask, contrib, zero_d);  // masked-off lanes may hold NaN
                b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(VD_, acc[g]), contrib), acc[g]);
            }
        }
    });

    // Fold the register accumulators, lane by lane in order (deterministic).
    for (std::size_t g = 0; g < k_.grads.size(); ++g) {
        Value* a = b_.CreateLoad(VD_, acc[g]);
        if (!k_.grads[g].per_feature) {
            Value* total = b_.CreateFAddReduce(llvm::ConstantFP::get(b_.getDoubleTy(), 0.0), a);
            b_.CreateAlignedStore(total, grad_ptrs[g], dalign);
            continue;
        }
        // Per-feature sums from the tiled shape (zero if the rows shape ran):
        // lane l belongs to column l % cols = l & (cols - 1) (the tiled
        // shape's cols is a power of two; for any other cols the sums are
        // zero and l & (cols - 1) < cols is a valid column). Skipped when
        // cols == 0.
        auto* fold = block("fold");
        auto* after = block("fold.done");
        b_.CreateCondBr(b_.CreateICmpSGT(cols, llvm::ConstantInt::get(i64_, 0)), fold, after);
        b_.SetInsertPoint(fold);
        Value* col_bits = b_.CreateSub(cols, llvm::ConstantInt::get(i64_, 1));
        for (int l = 0; l < lanes_; ++l) {
            Value* c = b_.CreateAnd(llvm::ConstantInt::get(i64_, static_cast<std::uint64_t>(l)), col_bits);
            Value* p = b_.CreateGEP(b_.getDoubleTy(), grad_ptrs[g], c);
            Value* v = b_.CreateFAdd(b_.CreateAlignedLoad(b_.getDoubleTy(), p, dalign),
                                     b_.CreateExtractElement(a, static_cast<std::uint64_t>(l)));
            b_.CreateAlignedStore(v, p, dalign);
        }
        b_.CreateBr(after);
        b_.SetInsertPoint(after);
    }
    end_streaming();
    b_.CreateRetVoid();
}

// ---- expressions -----------------------------------------------------------------

void Emitter::plan_quotients(std::span<const Expr> roots) {
    // A division by |d| >= 1 is faster as vrcp14 and a Newton step
    // (emit_quotient) only where the divider bounds the loop. On the Intel
    // Xeon with AVX-512 (2026-12-02, one thread, 4096 floats) a vdivps of 16
    // floats took about 3.6 ns, 10-11 cycles (vdivpd of 8 doubles 5.7 ns),
    // beside the two vector ports, where the estimate takes port slots: 3
    // per divisor (5 for doubles: two Newton steps) and a multiply per
    // quotient (+ a compare and a blend for the infinity guard). So a
    // loop that does little else gains (softsign 1.8x, x / (1 + x*x) 2.1x
    // forward, 2.7x backward; in f64 2.3-3.5x), one with an exp in it loses
    // (x / (1 + exp(-x)) forward: the estimate 0.93x), unless it divides
    // twice by the same d (its backward: the estimate 1.18x). Per function,
    // from the formula's nodes that depend on x (the rest is hoisted), each
    // counted once: so every loop shape, tail and lane-compacted variant of
    // the function divides the same way and gives the same bits.
    const bool f64 = k_.dtype == DType::f64;
    const double divide = f64 ? 20 : 10, per_divisor = f64 ? 5 : 3, guard = 2;
    double ports = static_cast<double>(roots.size() == 1 ? 1 : 4 * roots.size());  // dy * ..., gradient sums
    double divider = 0, divider_left = 0, estimates = 0;
    std::unordered_set<const Node*> divisors;
    quotients_.clear();
    for_each_node_postorder(roots, [&](const Expr& e) {
        const bool candidate = quotient_candidate(e);
        if (candidate) quotients_.insert(e.get());
        if (!on_x_.at(e.get())) return;
        switch (e.op()) {
        case Op::Input: case Op::Const: case Op::Param: case Op::Feature: break;
        case Op::Div:
            if (candidate) {
                divider += divide;
                estimates += 1 + guard;
                if (divisors.insert(e.arg(1).get()).second) estimates += per_divisor + 1;
            } else if (e.arg(1).is_const() || uniform_.at(e.arg(1).get())) {
                ports += 1;
            } else {
                divider += divide;
                divider_left += divide;
            }
            break;
        case Op::Softsign:
            ports += 3;
            divider += divide;
            estimates += per_divisor + 1;
            break;
        case Op::Sqrt: divider += divide; divider_left += divide; break;
        case Op::Pow: ports += e.arg(1).is_const() && e.arg(1).value() == std::floor(e.arg(1).value()) ? 3 : 40; break;
        case Op::Min: case Op::Max: case Op::Clamp: case Op::Sign: case Op::Mod: ports += 3; break;
        default:
            // Arithmetic, compares, selects: about one instruction; a
            // transcendental a dozen or more (sigmoid and tanh: a division
            // too).
            if (costly(e)) {
                ports += 16;
                if (e.op() == Op::Sigmoid || e.op() == Op::Tanh) {
                    divider += divide;
                    divider_left += divide;
                }
            } else {
                ports += 1;
            }
        }
    });
    const double with_divider = std::max(ports / 2, divider);
    const double with_estimate = std::max((ports + estimates) / 2, divider_left);
    estimate_quotients_ = estimates > 0 && with_estimate < with_divider;
    // Loops with a transcendental or a pow in them prefetch their inputs
    // (prefetch_ahead); the cheaper ones keep pace with the hardware
    // prefetcher and would pay an instruction per vector in cache.
    prefetch_inputs_ = ports >= 16;
}

void Emitter::find_sharing(std::span<const Expr> roots) {
    mish_args_.clear();
    exp_clamped_.clear();
    for_each_node_postorder(roots, [&](const Expr& e) {
        if (e.op() == Op::Tanh && e.arg(0).op() == Op::Softplus) mish_args_.insert(e.arg(0).arg(0).get());
    });
    pow_shift_.clear();
    exp_pairs_.clear();
    pow_logs_.clear();
    {
        // One pass over the needed nodes finds what shares work: exp(u) with
        // expm1(u), pow(u, w + 1) with pow(u, w), and log(u) with pow(u, w).
        std::unordered_set<const Node*> exps, expm1s, logs;
        std::map<std::pair<const Node*, const Node*>, Expr> pows;  // (base, exponent) -> pow node
        std::vector<Expr> pow_order;                               // the same, in visiting order
        visit_needed(roots, [&](const Expr& e) {
            if (e.op() == Op::Exp) exps.insert(e.arg(0).get());
            if (e.op() == Op::Expm1) expm1s.insert(e.arg(0).get());
            if (e.op() == Op::Log) logs.insert(e.arg(0).get());
            if (e.op() == Op::Pow && !e.arg(1).is_const() &&
                pows.emplace(std::pair{e.arg(0).get(), e.arg(1).get()}, e).second)
                pow_order.push_back(e);
        });
        for (const Node* u : exps)
            if (expm1s.count(u)) exp_pairs_.emplace(u, std::pair<Value*, Value*>{nullptr, nullptr});
        // pow(u, w + 1) next to pow(u, w) (prepu: w = softsign(s)), and
        // pow(u, w) next to pow(u, w - 1) (relu(x)^p's d/dx has p *
        // relu(x)^(p - 1)): the first from the second. Not in chains: a
        // pow made from another is never the source of a third.
        auto is_const = [](const Expr& e, double v) { return e.is_const() && e.value() == v; };
        auto shift = [&](const Node* u, const Expr& hi, const Expr& lo) {
            auto h = pows.find({u, hi.get()});
            auto l = pows.find({u, lo.get()});
            if (h == pows.end() || l == pows.end() || pow_shift_.count(l->second.get())) return;
            for (const auto& [from, to] : pow_shift_)
                if (to.get() == h->second.get()) return;
            pow_shift_.emplace(h->second.get(), l->second);
        };
        for (const Expr& p : pow_order) {  // in visiting order: the same choice in every process
            const Node* u = p.arg(0).get();
            const Expr& w = p.arg(1);
            if (w.op() == Op::Add)
                for (int i = 0; i < 2; ++i) {
                    if (is_const(w.arg(i), 1.0)) shift(u, w, w.arg(1 - i));   // u^(v + 1), u^v
                    if (is_const(w.arg(i), -1.0)) shift(u, w.arg(1 - i), w);  // u^v, u^(v - 1)
                }
            if (w.op() == Op::Sub && is_const(w.arg(1), 1.0)) shift(u, w.arg(0), w);
        }
        // The pow emitted as a transcendental (not u * u^w) brings log2|u|.
        for (const Expr& p : pow_order)
            if (!pow_shift_.count(p.get()) && logs.count(p.arg(0).get()))
                pow_logs_.emplace(p.arg(0).get(), PowLog{p, nullptr});
    }
}

std::vector<Value*> Emitter::eval(std::span<const Expr> roots, const Env& env) {
    load_hoisted_ = env.hoist_index != nullptr;
    find_sharing(roots);
    std::unordered_map<const Node*, Value*> memo;
    auto emit_all = [&](std::span<const Expr> sub) {
        visit_needed(sub, [&](const Expr& e) {
            if (!memo.count(e.get())) memo.emplace(e.get(), node(e, memo, env));
        });
    };
    visit_needed(roots, [&](const Expr& e) {
        // log(u) after the pow(u, w) it shares log2|u| with (w's nodes first).
        if (e.op() == Op::Log)
            if (auto it = pow_logs_.find(e.arg(0).get()); it != pow_logs_.end() && !memo.count(it->second.pow.get()))
                emit_all(std::span<const Expr>(&it->second.pow, 1));
        // pow(u, w) first when pow(u, w + 1) is made from it (u is there;
        // w is not when w + 1 is a hoisted node).
        if (auto it = pow_shift_.find(e.get()); it != pow_shift_.end() && !memo.count(it->second.get()))
            emit_all(std::span<const Expr>(&it->second, 1));
        if (!memo.count(e.get())) memo.emplace(e.get(), node(e, memo, env));
    });
    std::vector<Value*> out;
    for (const Expr& r : roots) out.push_back(memo.at(r.get()));
    load_hoisted_ = false;
    return out;
}

void Emitter::visit_needed(std::span<const Expr> roots, const std::function<void(const Expr&)>& fn) const {
    // for_each_node_postorder, except that a where() with an assumed
    // condition visits only the branch it takes.
    std::unordered_set<const Node*> seen;
    struct Frame {
        const Expr* e;
        int next, end;
    };
    auto frame = [&](const Expr& e) -> Frame {
        if (load_hoisted_ && hoist_buffer_.count(e.get())) return {&e, 0, 0};
        if (e.op() == Op::Where)
            if (auto it = assumed_.find(e.arg(0).get()); it != assumed_.end()) {
                const int i = it->second ? 1 : 2;
                return {&e, i, i + 1};
            }
        return {&e, 0, e.num_args()};
    };
    std::vector<Frame> stack;
    for (const Expr& root : roots) {
        if (!seen.insert(root.get()).second) continue;
        stack.push_back(frame(root));
        while (!stack.empty()) {
            Frame& f = stack.back();
            if (f.next < f.end) {
                const Expr& child = f.e->arg(f.next++);
                if (seen.insert(child.get()).second) stack.push_back(frame(child));
            } else {
                const Expr* e = f.e;
                stack.pop_back();
                fn(*e);
            }
        }
    }
}

Env Emitter::column_env(const Env& env, Value* c, Value* mask) {
    Env e = env;
    for (std::size_t s = 0; s < k_.runtime.size(); ++s)
        if (k_.runtime[s].per_feature) e.params[s] = load(param_ptrs_[s], c, mask, VT_, elem_align_);
    Value* col = b_.CreateAdd(b_.CreateVectorSplat(static_cast<unsigned>(lanes_), c), lane_ids(i64_));
    e.feature = b_.CreateUIToFP(col, VT_);
    e.feature_aligned = true;
    return e;
}

// ---- column hoisting --------------------------------------------------------------

void Emitter::plan_hoisting(std::span<const Expr> roots) {
    hoisted_.clear();
    hoist_buffer_.clear();
    zero_pow_of_.clear();
    // Column-only: depends on the column (feature or a per-feature
    // parameter), not on x. Hoisted: a column-only node that an x-dependent
    // node uses (or a root) and that is costly to compute or has a costly
    // node below it, or that is three or more operations on a per-feature
    // parameter (prepu's (abs(s) + 1)^2: a load instead of three vector
    // instructions, 1.04-1.10x its backward in cache). Not the feature
    // index's arithmetic alone: brelu's mod(feature, 2) == 0 is cheaper
    // than a load.
    std::unordered_set<const Node*> needed, wanted;
    std::unordered_map<const Node*, bool> worth;
    std::unordered_map<const Node*, std::pair<int, bool>> ops;  // operations, a per-feature parameter below
    auto column_only = [&](const Expr& e) { return !on_x_.at(e.get()) && !uniform_.at(e.get()); };
    auto hoist = [&](const Expr& e) { return column_only(e) && worth.at(e.get()); };
    visit_needed(roots, [&](const Expr& e) {
        needed.insert(e.get());
        bool w = costly(e);
        auto [count, param] = std::pair<int, bool>{e.num_args() > 0 ? 1 : 0, e.op() == Op::Param};
        for (const Expr& a : e.args())
            if (needed.count(a.get()) && column_only(a)) {
                w = w || worth.at(a.get());
                count += ops.at(a.get()).first;
                param = param || ops.at(a.get()).second;
            }
        ops.emplace(e.get(), std::pair{count, param});
        w = w || (param && column_only(e) && count >= 3);
        worth.emplace(e.get(), w);
        if (!on_x_.at(e.get())) return;
        for (const Expr& a : e.args())
            if (needed.count(a.get()) && hoist(a)) wanted.insert(a.get());
    });
    for (const Expr& r : roots)
        if (hoist(r)) wanted.insert(r.get());
    // Room for a chunk's columns and one vector read past its end.
    auto* buf_ty = llvm::ArrayType::get(T_, chunk_units_ / units() + static_cast<std::uint64_t>(lanes_));
    auto add = [&](const Expr& e) {
        llvm::AllocaInst* buf = entry_alloca(buf_ty, "hoisted");
        buf->setAlignment(llvm::Align(32));
        hoisted_.emplace_back(e, buf);
        hoist_buffer_.emplace(e.get(), buf);
    };
    visit_needed(roots, [&](const Expr& e) {
        if (wanted.count(e.get())) add(e);
    });
    // pow(+0, w) for the zero lanes of the pows that have them (unpack_pow,
    // pow_shifted) where w is per feature: after the nodes above, so that
    // the order is the same in every process.
    find_sharing(roots);
    auto zero_lanes = [&](const Expr& w) {
        if (!column_only(w) || zero_pow_of_.count(w.get())) return;
        const Expr z = make(Op::Pow, {constant(0.0), w});
        zero_pow_of_.emplace(w.get(), z);
        add(z);
    };
    visit_needed(roots, [&](const Expr& e) {
        if (e.op() != Op::Pow || e.arg(1).is_const() || !nonnegative_base(e.arg(0))) return;
        const bool compacted = std::any_of(compacted_.begin(), compacted_.end(),
                                           [&](const Compacted& c) { return c.pow.get() == e.get(); });
        if (compacted || pow_shift_.count(e.get())) zero_lanes(e.arg(1));
    });
}

Value* Emitter::zero_base_pow(const Expr& w, Value* u, Value* wv, bool signed_zero, const Env& env) {
    if (!signed_zero && env.hoist_index)
        if (auto it = zero_pow_of_.find(w.get()); it != zero_pow_of_.end())
            return load_hoisted(hoist_buffer_.at(it->second.get()), env);
    return emit_pow_zero_base(b_, u, wv, signed_zero);
}

Value* Emitter::load_hoisted(llvm::AllocaInst* buf, const Env& env) {
    return b_.CreateAlignedLoad(VT_, b_.CreateGEP(T_, buf, env.hoist_index), elem_align_);
}

void Emitter::compute_hoisted(Value* c0, Value* c1, const Env& env) {
    std::vector<Expr> exprs;
    for (const auto& [e, buf] : hoisted_) exprs.push_back(e);
    for_vectors(c0, c1, [&](Value* c, Value* mask) {
        const std::vector<Value*> v = eval(exprs, column_env(env, c, mask));
        Value* at = b_.CreateSub(c, c0);
        for (std::size_t i = 0; i < v.size(); ++i) store(v[i], hoisted_[i].second, at, mask, elem_align_);
    });
}

// ---- lane compaction ------------------------------------------------------------

void Emitter::plan_compaction(std::span<const Expr> roots) {
    compacted_.clear();
    if (!t_.compact_lanes || !compaction_supported(fn_, VT_)) return;
    find_sharing(roots);
    // Room past the chunk's units: compress_store writes 8 units per piece,
    // and the packed pows read and write a whole vector from their start.
    auto* buf_ty = llvm::ArrayType::get(b_.getFloatTy(), chunk_units_ + units() * static_cast<std::uint64_t>(lanes_) + 8);
    auto buffer = [&](const char* name) {
        llvm::AllocaInst* a = entry_alloca(buf_ty, name);
        a->setAlignment(llvm::Align(32));
        return a;
    };
    visit_needed(roots, [&](const Expr& e) {
        // pow(u, w + 1) made from pow(u, w) follows the compacted pow(u, w).
        if (e.op() != Op::Pow || e.arg(1).is_const() || !on_x_.at(e.get()) || pow_shift_.count(e.get()) ||
            !zero_prone(e.arg(0)))
            return;
        Compacted c;
        c.pow = e;
        c.uniform_w = uniform_.at(e.arg(1).get());
        c.positive = positive_base(e.arg(0));
        c.nonnegative = nonnegative_base(e.arg(0));
        c.u = buffer("pack.u");
        if (!c.uniform_w) c.w = buffer("pack.w");
        c.result = buffer("pack.pow");
        if (auto it = pow_logs_.find(e.arg(0).get()); it != pow_logs_.end() && it->second.pow.get() == e.get())
            c.log = buffer("pack.log");
        c.count = entry_alloca(i64_, "pack.n");
        compacted_.push_back(c);
    });
}

void Emitter::collect_lanes(Value* off, Value* mask, const Env& env) {
    Env e = env;
    e.x = load(x_arg_, off, mask, VT_, elem_align_);
    prefetch_ahead(x_arg_, off, mask);
    // dy is read in the consume pass, which prefetches nothing: ahead of it
    // here (prepu backward at n = 16M 1.05x).
    if (dy_arg_) prefetch_ahead(dy_arg_, off, mask);
    std::vector<Expr> operands;
    for (const Compacted& c : compacted_) {
        operands.push_back(c.pow.arg(0));
        if (!c.uniform_w) operands.push_back(c.pow.arg(1));
    }
    const std::vector<Value*> v = eval(operands, e);
    std::size_t k = 0;
    for (const Compacted& c : compacted_) {
        Value* u = v[k++];
        Value* w = c.uniform_w ? nullptr : v[k++];
        // NaN bases are packed too: pow(NaN, w) is the pow's business.
        Value* active = b_.CreateFCmpUNE(u, splat(0.0));
        if (mask) active = b_.CreateAnd(active, mask);
        const LaneSelection sel = select_lanes(b_, active, VT_);
        Value* pos = b_.CreateLoad(i64_, c.count);
        compress_store(b_, u, sel, c.u, pos);
        if (w) compress_store(b_, w, sel, c.w, pos);
        b_.CreateStore(b_.CreateAdd(pos, sel.total), c.count);
    }
}

void Emitter::emit_packed_pows() {
    auto* step = llvm::ConstantInt::get(i64_, static_cast<std::uint64_t>(lanes_) * units());
    for (Compacted& c : compacted_) {
        // Full vectors over the packed units (two per iteration measured no
        // faster on Zen 3).
        for_range(llvm::ConstantInt::get(i64_, 0), b_.CreateLoad(i64_, c.count), [&](Value* p) {
            auto at = [&](llvm::AllocaInst* buf) { return b_.CreateGEP(b_.getFloatTy(), buf, p); };
            Value* u = b_.CreateAlignedLoad(VT_, at(c.u), llvm::Align(4));
            Value* w = c.uniform_w ? eval(std::span<const Expr>(&c.pow.arg(1), 1), *loop_env_)[0]
                                   : b_.CreateAlignedLoad(VT_, at(c.w), llvm::Align(4));
            Value* result = nullptr;
            Value* ln = nullptr;
            // Packed lanes have u != 0: the zero base's sign does not matter.
            if (bounded_pow(c.pow))
                std::tie(result, ln) = emit_pow_bounded(b_, u, w, c.log != nullptr, /*signed_zero=*/false,
                                                         /*zero_lanes=*/false);
            if (result == nullptr && c.positive)
                std::tie(result, ln) = emit_pow_positive(b_, u, w, c.log != nullptr);
            else if (result == nullptr && c.log)
                std::tie(result, ln) = emit_pow_log(b_, u, w);
            if (!ln) c.log = nullptr;  // log(u) is computed where it is used
            if (!result) result = transcendental(Op::Pow, {u, w});
            b_.CreateAlignedStore(result, at(c.result), llvm::Align(4));
            if (c.log) b_.CreateAlignedStore(ln, at(c.log), llvm::Align(4));
        }, step);
    }
}

Value* Emitter::unpack_pow(std::size_t index, Value* u, Value* w, const Env& env) {
    const Compacted& c = compacted_[index];
    Value* active = b_.CreateFCmpUNE(u, splat(0.0));
    if (lane_mask_) active = b_.CreateAnd(active, lane_mask_);
    const LaneSelection sel = select_lanes(b_, active, VT_);
    Value* pos = b_.CreateLoad(i64_, c.count);
    Value* result =
        b_.CreateSelect(active, expand_load(b_, VT_, sel, c.result, pos), zero_base_pow(c.pow.arg(1), u, w, !c.nonnegative, env));
    if (c.log) {
        // log(+-0) = -inf in the lanes that were not packed.
        Value* ln = b_.CreateSelect(active, expand_load(b_, VT_, sel, c.log, pos), splat(-HUGE_VAL));
        pow_logs_.at(c.pow.arg(0).get()).ln = ln;
    }
    b_.CreateStore(b_.CreateAdd(pos, sel.total), c.count);
    return result;
}

Value* Emitter::min_nan(Value* a, Value* c) {
    // The interpreter's nan_min: c < a ? c : a, so that a tie (-0 and +0)
    // gives a; NaN in either operand gives NaN (torch.minimum), unlike
    // llvm.minnum. (`c < a ? c : a` is one vminps; with a constant c the NaN
    // test of c folds away.)
    Value* r = b_.CreateSelect(b_.CreateFCmpOLT(c, a), c, a);  // a when unordered
    return b_.CreateSelect(b_.CreateFCmpUNO(c, c), c, r);
}

Value* Emitter::max_nan(Value* a, Value* c) {
    Value* r = b_.CreateSelect(b_.CreateFCmpOGT(c, a), c, a);
    return b_.CreateSelect(b_.CreateFCmpUNO(c, c), c, r);
}

Value* Emitter::div_const(Value* a, double c) {
    // a / c as a * (1/c), rounded once more than the division: within 1.5
    // ulp of it (exact when c is a power of two), and a multiply instead of
    // a divide (vdivps is the bottleneck of hardsigmoid, paralu and
    // friends). Only where c and 1/c are normal numbers of the kernel's
    // type, so that no quotient overflows or underflows differently.
    const bool f32 = k_.dtype == DType::f32;
    const double r = f32 ? static_cast<double>(1.0f / static_cast<float>(c)) : 1.0 / c;
    const double lo = min_normal();
    const double hi = f32 ? static_cast<double>(std::numeric_limits<float>::max()) : std::numeric_limits<double>::max();
    auto normal = [&](double v) { return std::fabs(v) >= lo && std::fabs(v) <= hi; };
    if (normal(c) && normal(r)) return b_.CreateFMul(a, splat(r));
    return b_.CreateFDiv(a, splat(c));
}

double Emitter::shifted_base_bound(const Interval& w) const {
    const double big = std::max(std::fabs(w.lo), std::fabs(w.hi));
    if (!(big <= 8)) return 0;  // unbounded or wide: the general test
    const int e = k_.dtype == DType::f32 ? 125 : 1021;
    return std::ldexp(1.0, static_cast<int>(std::floor(e / std::max(big, 1.0))));
}

Value* Emitter::pow_shifted(Value* u, Value* t, Value* w1, Value* zero, bool positive, const Interval& w) {
    // u^(w+1) = u * u^w (t = u^w), within 1.5 ulp of u^(w+1) for exact
    // w + 1, where that holds: t is not infinite, not below the normal
    // range when |u| > 1 (the product would magnify its lost bits), and w
    // is finite (-1 * (-1)^inf is -1, not 1). A NaN t makes a NaN product,
    // which is right where w + 1 is not an integer (a negative base, a NaN
    // base) or NaN: not for NaN^0 = 1 or a w + 1 rounded to an integer. Zero
    // bases take C's pow(+-0, w + 1) (prepu's relu(x) is +0 for half of all
    // x, and 0 * 0^w is NaN for w < 0). A vector with any other lane takes
    // pow itself: u^w overflowing for tiny u, say. A positive base is never
    // -0 and NaN only where t is: cheaper tests.
    Value* zero_base = b_.CreateFCmpOEQ(u, splat(0.0));
    Value* bad = nullptr;
    const double bound = positive ? shifted_base_bound(w) : 0;
    if (bound > 0) {
        // |w| <= W for every number w (prepu's softsign(s): W = 1), and a
        // base 2^-k <= u <= 2^k with k = E / W makes 2^-E <= t <= 2^E, E
        // two below the largest exponent: t is normal and finite, which is
        // all the general test below asks. A NaN w makes t NaN (1 for u = 1)
        // and so the product, as pow(u, NaN); a NaN u makes both NaN, and
        // NaN^0 = 1 is the select below. Two compares on u instead of eleven
        // on t, u and w + 1; a nonzero base out of that range takes pow.
        Value* tiny = b_.CreateAnd(b_.CreateFCmpOLT(u, splat(1.0 / bound)), b_.CreateNot(zero_base));
        bad = b_.CreateOr(tiny, b_.CreateFCmpOGT(u, splat(bound)));
    } else {
        Value* inf = splat(HUGE_VAL);
        Value* at = intrinsic(llvm::Intrinsic::fabs, t);
        bad = b_.CreateFCmpOEQ(at, inf);
        Value* w1_int = positive ? b_.CreateFCmpOEQ(w1, splat(0.0))
                                 : b_.CreateFCmpOEQ(w1, intrinsic(llvm::Intrinsic::floor, w1));
        bad = b_.CreateOr(bad, b_.CreateAnd(b_.CreateFCmpUNO(t, t), w1_int));
        bad = b_.CreateOr(bad, b_.CreateAnd(b_.CreateFCmpOLT(at, splat(min_normal())),
                                            b_.CreateFCmpOGT(intrinsic(llvm::Intrinsic::fabs, u), splat(1.0))));
        bad = b_.CreateOr(bad, b_.CreateFCmpOEQ(intrinsic(llvm::Intrinsic::fabs, w1), inf));
        bad = b_.CreateAnd(bad, b_.CreateNot(zero_base));
    }
    Value* fast = b_.CreateSelect(zero_base, zero, b_.CreateFMul(u, t));
    // u^0 is 1 exactly: u * u^-1 is 1 only to within an ulp, and a formula
    // may test it (a^x - 1 == 0 in the derivative of u^(a^x) at x = 0).
    fast = b_.CreateSelect(b_.CreateFCmpOEQ(w1, splat(0.0)), splat(1.0), fast);
    if (!positive) {
        // A finite negative base with a non-integer w + 1 is NaN, also
        // where w rounded to an integer (u^v from u^(v - 1) for |v| < 2^-25).
        Value* neg = b_.CreateAnd(b_.CreateFCmpOLT(u, splat(0.0)), b_.CreateFCmpOGT(u, splat(-HUGE_VAL)));
        Value* nonint = b_.CreateFCmpUNE(w1, intrinsic(llvm::Intrinsic::floor, w1));
        fast = b_.CreateSelect(b_.CreateAnd(neg, nonint), splat(std::numeric_limits<double>::quiet_NaN()), fast);
    }
    return join_rare_slow_path(b_, bad, fast, [&] { return rare_pow(u, w1); }, "pow");
}

Value* Emitter::div_uniform(Value* a, Value* b) {
    // b is the same in every lane and every iteration (a Shared parameter:
    // soft_exponential's three divisions by alpha): a * (1/b), with 1/b
    // hoisted out of the loop by LICM, within 1.5 ulp as div_const, where b
    // and 1/b are normal; elsewhere (b zero, tiny, huge, inf, NaN) a branch,
    // taken the same way in every iteration, to the division itself.
    const bool f32 = k_.dtype == DType::f32;
    const double lo = min_normal(), hi = f32 ? 0x1p126 : 0x1p1022;
    Value* ab = intrinsic(llvm::Intrinsic::fabs, b_.CreateExtractElement(b, std::uint64_t{0}));
    Value* safe = b_.CreateAnd(b_.CreateFCmpOGE(ab, llvm::ConstantFP::get(T_, lo)),
                               b_.CreateFCmpOLE(ab, llvm::ConstantFP::get(T_, hi)));
    Value* r = b_.CreateFDiv(splat(1.0), b);
    llvm::BasicBlock* from = b_.GetInsertBlock();
    auto* div_bb = block("div.uniform");
    auto* join = block("div.join");
    Value* q = b_.CreateFMul(a, r);
    b_.CreateCondBr(safe, join, div_bb, llvm::MDBuilder(ctx_).createBranchWeights(1000, 1));
    b_.SetInsertPoint(div_bb);
    Value* d = b_.CreateFDiv(a, b);
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
    llvm::PHINode* phi = b_.CreatePHI(VT_, 2);
    phi->addIncoming(q, from);
    phi->addIncoming(d, div_bb);
    return phi;
}

Value* Emitter::pow_const(Value* a, double p) {
    // Small integer exponents: square-and-multiply (negative: reciprocal).
    if (p == std::floor(p) && std::fabs(p) <= 32) {
        const auto n = static_cast<long>(std::fabs(p));
        auto power = [&](Value* base) -> Value* {
            Value* result = nullptr;
            for (long k = n; k;) {
                if (k & 1) result = result ? b_.CreateFMul(result, base) : base;
                k >>= 1;
                if (k) base = b_.CreateFMul(base, base);
            }
            return result;
        };
        Value* r = power(a);
        if (!r) return splat(1.0);  // x^0 = 1, also for NaN (as pow does)
        if (p > 0) return r;
        // 1 / x^n, unless x^n overflows or leaves the normal range for a
        // finite x != 0 (x = 1e13, n = 3 in float): (1 / x)^n there, which
        // is a subnormal or a large number where 1 / x^n is 0 or lost its
        // bits. Rare: the other lanes keep 1 / x^n (10^-2 is 0.01 exactly).
        Value* q = b_.CreateFDiv(splat(1.0), r);
        Value* ar = intrinsic(llvm::Intrinsic::fabs, r);
        Value* aa = intrinsic(llvm::Intrinsic::fabs, a);
        Value* out_of_range = b_.CreateOr(b_.CreateFCmpOEQ(ar, splat(HUGE_VAL)), b_.CreateFCmpOLT(ar, splat(min_normal())));
        Value* finite_nonzero = b_.CreateAnd(b_.CreateFCmpONE(aa, splat(HUGE_VAL)), b_.CreateFCmpONE(aa, splat(0.0)));
        Value* bad = b_.CreateAnd(out_of_range, finite_nonzero);
        return join_rare_slow_path(b_, bad, q, [&] {
            return b_.CreateSelect(bad, power(b_.CreateFDiv(splat(1.0), a)), q);
        }, "powi");
    }
    if (p == 0.5 || p == -0.5) {
        // pow(-inf, 0.5) = +inf but sqrt(-inf) = NaN.
        Value* s = intrinsic(llvm::Intrinsic::sqrt, a);
        if (p < 0) s = b_.CreateFDiv(splat(1.0), s);
        Value* is_minus_inf = b_.CreateFCmpOEQ(a, splat(-HUGE_VAL));
        return b_.CreateSelect(is_minus_inf, splat(p > 0 ? HUGE_VAL : 0.0), s);
    }
    return transcendental(Op::Pow, {a, splat(p)});
}

Value* Emitter::exp_clamped(const Expr& u, Value* uv) {
    // exp(min(u, 20)) (40 in double), once per u and loop body, for mish's
    // tanh(softplus(u)) = n / (n + 2), n = e (e + 2), and its derivative's
    // sigmoid(u) = e / (1 + e). Above the clamp both quotients round to 1 and
    // n stays finite; NaN passes the clamp. For u -> -inf, n ~ 2e: no
    // cancellation anywhere.
    auto [it, fresh] = exp_clamped_.emplace(u.get(), nullptr);
    if (fresh) {
        const double big = k_.dtype == DType::f32 ? 20.0 : 40.0;
        Value* uc = b_.CreateSelect(b_.CreateFCmpOGT(uv, splat(big)), splat(big), uv);
        it->second = transcendental(Op::Exp, {uc});
    }
    return it->second;
}

Value* Emitter::transcendental(Op op, llvm::ArrayRef<Value*> args) {
    if (Value* v = emit_vector_math(b_, op, args, fast_paths_)) return v;
    switch (op) {
    case Op::Sigmoid: {
        // e = exp(-|x|): 1 / (1 + e) for x >= 0, e / (1 + e) below (never overflows)
        Value* x = args[0];
        Value* e = transcendental(Op::Exp, {b_.CreateFNeg(intrinsic(llvm::Intrinsic::fabs, x))});
        Value* d = b_.CreateFAdd(splat(1.0), e);
        return b_.CreateSelect(b_.CreateFCmpOGE(x, splat(0.0)), b_.CreateFDiv(splat(1.0), d), b_.CreateFDiv(e, d));
    }
    case Op::Softplus: {
        // max(x, 0) + log1p(exp(-|x|)); NaN stays NaN through |x|
        Value* x = args[0];
        Value* e = transcendental(Op::Exp, {b_.CreateFNeg(intrinsic(llvm::Intrinsic::fabs, x))});
        Value* m = b_.CreateSelect(b_.CreateFCmpOGT(x, splat(0.0)), x, splat(0.0));
        return b_.CreateFAdd(m, transcendental(Op::Log1p, {e}));
    }
    default: return libm_lanes(op, args);
    }
}

Value* Emitter::rare_pow(Value* u, Value* w) {
    // prepu's backward has four rare sites (two loop shapes, each a body and
    // a tail); inline, their pows were a quarter of its compile time.
    // preserve_all makes the callee save what it uses (only when the rare
    // block runs) instead of the caller spilling its live vectors around the
    // call, which slowed the hot loop when this was a plain call (docs/JIT.md).
    if (!rare_pow_fn_) {
        rare_pow_fn_ = make_rare_function(fn_, llvm::FunctionType::get(VT_, {VT_, VT_}, false), "actjit.pow");
        const auto saved_ip = b_.saveIP();
        llvm::Function* saved_fn = fn_;
        llvm::BasicBlock* saved_entry = entry_;
        const bool saved_fast = fast_paths_;
        fn_ = rare_pow_fn_;
        entry_ = block("entry");
        b_.SetInsertPoint(entry_);
        fast_paths_ = false;  // the exact code: this runs for vectors a fast test sent here
        b_.CreateRet(transcendental(Op::Pow, {rare_pow_fn_->getArg(0), rare_pow_fn_->getArg(1)}));
        fn_ = saved_fn;
        entry_ = saved_entry;
        fast_paths_ = saved_fast;
        b_.restoreIP(saved_ip);
    }
    llvm::CallInst* call = b_.CreateCall(rare_pow_fn_, {u, w});
    call->setCallingConv(llvm::CallingConv::PreserveAll);
    return call;
}

Value* Emitter::libm_lanes(Op op, llvm::ArrayRef<Value*> args) {
    // Fallback: one libm call per lane (correct, slow).
    const char* name = nullptr;
    switch (op) {
    case Op::Exp: name = "exp"; break;
    case Op::Exp2: name = "exp2"; break;
    case Op::Expm1: name = "expm1"; break;
    case Op::Log: name = "log"; break;
    case Op::Log2: name = "log2"; break;
    case Op::Log10: name = "log10"; break;
    case Op::Log1p: name = "log1p"; break;
    case Op::Cbrt: name = "cbrt"; break;
    case Op::Sin: name = "sin"; break;
    case Op::Cos: name = "cos"; break;
    case Op::Tan: name = "tan"; break;
    case Op::Asin: name = "asin"; break;
    case Op::Acos: name = "acos"; break;
    case Op::Atan: name = "atan"; break;
    case Op::Sinh: name = "sinh"; break;
    case Op::Cosh: name = "cosh"; break;
    case Op::Tanh: name = "tanh"; break;
    case Op::Asinh: name = "asinh"; break;
    case Op::Acosh: name = "acosh"; break;
    case Op::Atanh: name = "atanh"; break;
    case Op::Erf: name = "erf"; break;
    case Op::Erfc: name = "erfc"; break;
    case Op::Pow: name = "pow"; break;
    default: ACTJIT_ASSERT(false, std::string("no code for op ") + std::string(op_info(op).name));
    }
    std::string fname = std::string(name) + (k_.dtype == DType::f32 ? "f" : "");
    std::vector<llvm::Type*> arg_types(args.size(), T_);
    auto callee = m_.getOrInsertFunction(fname, llvm::FunctionType::get(T_, arg_types, false));
    if (auto* fdecl = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
        fdecl->setDoesNotThrow();
        fdecl->setDoesNotAccessMemory();
    }
    Value* out = llvm::PoisonValue::get(VT_);
    for (int l = 0; l < lanes_; ++l) {
        std::vector<Value*> lane_args;
        for (Value* a : args) lane_args.push_back(b_.CreateExtractElement(a, static_cast<std::uint64_t>(l)));
        out = b_.CreateInsertElement(out, b_.CreateCall(callee, lane_args), static_cast<std::uint64_t>(l));
    }
    return out;
}

Value* Emitter::node(const Expr& e, const std::unordered_map<const Node*, Value*>& memo, const Env& env) {
    if (env.hoist_index)
        if (auto it = hoist_buffer_.find(e.get()); it != hoist_buffer_.end())
            return load_hoisted(it->second, env);
    auto arg = [&](int i) { return memo.at(e.arg(i).get()); };
    switch (e.op()) {
    case Op::Const: return splat(e.value());
    case Op::Input: return env.x;
    case Op::Param: {
        auto it = slot_of_.find(e.name());
        ACTJIT_ASSERT(it != slot_of_.end(), "parameter '" + e.name() + "' has no runtime slot");
        return env.params[static_cast<std::size_t>(it->second)];
    }
    case Op::Feature: ACTJIT_ASSERT(env.feature != nullptr); return env.feature;
    case Op::Add: return b_.CreateFAdd(arg(0), arg(1));
    case Op::Sub: return b_.CreateFSub(arg(0), arg(1));
    case Op::Mul: return b_.CreateFMul(arg(0), arg(1));
    case Op::Div:
        if (e.arg(1).is_const()) return div_const(arg(0), e.arg(1).value());
        if (uniform_.at(e.arg(1).get()) && !uniform_.at(e.get())) return div_uniform(arg(0), arg(1));
        if (quotients_.count(e.get()) != 0) {
            // a / d for |d| >= 1 for every input (interval analysis:
            // softsign's derivative 1 / (abs(x) + 1)^2, 1 / (exp(x) + 1)):
            // on AVX-512, where the divider bounds the loop (plan_quotients),
            // a reciprocal estimate and a Newton step, within 2 ulp (vdivps
            // held softsign's backward to 0.72x the hand-written loop on an
            // Intel Xeon); fdiv elsewhere.
            return quotient(arg(0), arg(1), /*inf_operands=*/true);
        }
        return b_.CreateFDiv(arg(0), arg(1));
    case Op::Neg: return b_.CreateFNeg(arg(0));
    case Op::Pow:
        if (e.arg(1).is_const()) return pow_const(arg(0), e.arg(1).value());
        // pow(+-0, w), as plan_hoisting makes for zero lanes: C's rules.
        if (is_zero(e.arg(0))) return emit_pow_zero_base(b_, arg(0), arg(1));
        if (auto it = pow_shift_.find(e.get()); it != pow_shift_.end()) {
            const bool positive = nonnegative_base(e.arg(0));
            return pow_shifted(arg(0), memo.at(it->second.get()), arg(1),
                               zero_base_pow(e.arg(1), arg(0), arg(1), !positive, env), positive,
                               value_range(it->second.arg(1)));
        }
        if (phase_ == Phase::consume)
            for (std::size_t c = 0; c < compacted_.size(); ++c)
                if (compacted_[c].pow.get() == e.get()) return unpack_pow(c, arg(0), arg(1), env);
        if (bounded_pow(e)) {
            auto it = pow_logs_.find(e.arg(0).get());
            const bool with_log = it != pow_logs_.end() && it->second.pow.get() == e.get();
            auto [p, ln] = emit_pow_bounded(b_, arg(0), arg(1), with_log, !nonnegative_base(e.arg(0)),
                                          /*zero_lanes=*/true, fast_paths_);
            if (with_log) it->second.ln = ln;
            if (p) return p;
        }
        if (auto it = pow_logs_.find(e.arg(0).get()); it != pow_logs_.end() && it->second.pow.get() == e.get()) {
            auto [p, ln] = emit_pow_log(b_, arg(0), arg(1));
            it->second.ln = ln;
            if (p) return p;
        }
        return transcendental(Op::Pow, {arg(0), arg(1)});
    case Op::Lt: return as_number(b_.CreateFCmpOLT(arg(0), arg(1)));
    case Op::Le: return as_number(b_.CreateFCmpOLE(arg(0), arg(1)));
    case Op::Gt: return as_number(b_.CreateFCmpOGT(arg(0), arg(1)));
    case Op::Ge: return as_number(b_.CreateFCmpOGE(arg(0), arg(1)));
    case Op::Eq: return as_number(b_.CreateFCmpOEQ(arg(0), arg(1)));
    case Op::Ne: return as_number(b_.CreateFCmpUNE(arg(0), arg(1)));
    case Op::And: return as_number(b_.CreateAnd(truth(arg(0)), truth(arg(1))));
    case Op::Or: return as_number(b_.CreateOr(truth(arg(0)), truth(arg(1))));
    case Op::Not: return as_number(b_.CreateFCmpUEQ(arg(0), splat(0.0)));
    // Both operands are computed; the select passes only the chosen one, so a
    // NaN in the other never reaches the result.
    case Op::Where:
        if (auto it = assumed_.find(e.arg(0).get()); it != assumed_.end()) return it->second ? arg(1) : arg(2);
        return b_.CreateSelect(truth(arg(0)), arg(1), arg(2));
    case Op::Sqrt: return intrinsic(llvm::Intrinsic::sqrt, arg(0));
    case Op::Abs: return intrinsic(llvm::Intrinsic::fabs, arg(0));
    case Op::Floor: return intrinsic(llvm::Intrinsic::floor, arg(0));
    case Op::Sign: {
        // 1, -1, or x itself (+-0, NaN)
        Value* x = arg(0);
        Value* s = b_.CreateSelect(b_.CreateFCmpOLT(x, splat(0.0)), splat(-1.0), x);
        return b_.CreateSelect(b_.CreateFCmpOGT(x, splat(0.0)), splat(1.0), s);
    }
    case Op::Relu: {
        // x > 0 ? x : 0, NaN stays NaN (torch.relu)
        Value* x = arg(0);
        return b_.CreateSelect(b_.CreateFCmpUGT(x, splat(0.0)), x, splat(0.0));
    }
    case Op::Softsign: {
        // x / (1 + |x|), +-1 from |x| = 2^26 on (where the quotient rounds to
        // it in f32; 2^54 in f64), +-inf included. On AVX-512 the division
        // is a reciprocal estimate and a Newton step, as the -ffast-math
        // hand-written loop divides (within 2 ulp; vdivps limited this
        // kernel to 0.7x the hand-written one), where the loop does little
        // else (plan_quotients).
        Value* x = arg(0);
        Value* ax = intrinsic(llvm::Intrinsic::fabs, x);
        const bool f32 = k_.dtype == DType::f32;
        Value* big = b_.CreateFCmpOGE(ax, splat(f32 ? 0x1p26 : 0x1p54));
        Value* d = b_.CreateFAdd(splat(1.0), ax);
        // |x| >= 2^26 (inf included) takes `one` below.
        Value* q = quotient(x, d, /*inf_operands=*/false);
        Value* one = b_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, splat(1.0), x);
        return b_.CreateSelect(big, one, q);
    }
    case Op::Min: return min_nan(arg(0), arg(1));
    case Op::Max: return max_nan(arg(0), arg(1));
    case Op::Clamp: return min_nan(max_nan(arg(0), arg(1)), arg(2));
    // mod(a, b) = a - b * floor(a / b): the sign of b, as Python's %
    case Op::Mod: {
        // mod(feature, k) for an integer k dividing W, in the rows shape:
        // the lane pattern l mod k, a constant (brelu's parity).
        if (env.feature_aligned && e.arg(0).op() == Op::Feature && e.arg(1).is_const()) {
            const double k = e.arg(1).value();
            if (k >= 1 && k <= lanes_ && k == std::floor(k) && lanes_ % static_cast<int>(k) == 0) {
                std::vector<llvm::Constant*> pattern;
                for (int l = 0; l < lanes_; ++l)
                    pattern.push_back(llvm::ConstantFP::get(T_, static_cast<double>(l % static_cast<int>(k))));
                return llvm::ConstantVector::get(pattern);
            }
        }
        Value* a = arg(0);
        Value* c = arg(1);
        return b_.CreateFSub(a, b_.CreateFMul(c, intrinsic(llvm::Intrinsic::floor, b_.CreateFDiv(a, c))));
    }
    case Op::Tanh:
        if (e.arg(0).op() == Op::Softplus) {  // one exp, no log1p or tanh
            const Expr& u = e.arg(0).arg(0);
            Value* ex = exp_clamped(u, memo.at(u.get()));
            Value* n = b_.CreateFMul(ex, b_.CreateFAdd(ex, splat(2.0)));
            return b_.CreateFDiv(n, b_.CreateFAdd(n, splat(2.0)));
        }
        return transcendental(Op::Tanh, {arg(0)});
    case Op::Sigmoid:
        if (mish_args_.count(e.arg(0).get())) {  // shares tanh(softplus(u))'s exp
            Value* ex = exp_clamped(e.arg(0), arg(0));
            return b_.CreateFDiv(ex, b_.CreateFAdd(splat(1.0), ex));
        }
        return transcendental(Op::Sigmoid, {arg(0)});
    case Op::Exp: case Op::Expm1:
        if (auto it = exp_pairs_.find(e.arg(0).get()); it != exp_pairs_.end()) {
            if (!it->second.first) it->second = emit_exp_expm1(b_, arg(0), fast_paths_);
            if (it->second.first) return e.op() == Op::Exp ? it->second.first : it->second.second;
        }
        return transcendental(e.op(), {arg(0)});
    case Op::Log:
        if (auto it = pow_logs_.find(e.arg(0).get()); it != pow_logs_.end() && it->second.ln) return it->second.ln;
        return transcendental(Op::Log, {arg(0)});
    case Op::Exp2: case Op::Log2: case Op::Log10: case Op::Log1p:
    case Op::Cbrt: case Op::Sin: case Op::Cos: case Op::Tan: case Op::Asin: case Op::Acos: case Op::Atan:
    case Op::Sinh: case Op::Cosh: case Op::Asinh: case Op::Acosh: case Op::Atanh: case Op::Erf:
    case Op::Erfc: case Op::Softplus:
        return transcendental(e.op(), {arg(0)});
    }
    ACTJIT_ASSERT(false, "unknown op");
    return nullptr;
}

}  // namespace

std::unique_ptr<llvm::Module> emit_kernel_module(llvm::LLVMContext& ctx, const LoweredKernel& k,
                                                 const CodegenTarget& target, const llvm::DataLayout& dl,
                                                 const std::string& module_id, KernelPart part) {
    auto m = std::make_unique<llvm::Module>(module_id, ctx);
    m->setDataLayout(dl);
    m->setTargetTriple(target.triple);
    if (part != KernelPart::backward) {
        Emitter e(*m, k, target);
        e.emit_forward();
    }
    if (part != KernelPart::forward) {
        Emitter e(*m, k, target);
        e.emit_backward();
    }
    std::string problems;
    llvm::raw_string_ostream os(problems);
    if (llvm::verifyModule(*m, &os)) {
        os.flush();
        throw InternalError("jit: generated code failed verification: " + problems);
    }
    return m;
}

void set_module_opt_level(llvm::Module& m, int opt_level) {
    m.addModuleFlag(llvm::Module::Warning, "actjit.opt", static_cast<std::uint32_t>(opt_level));
}

int module_opt_level(const llvm::Module& m) {
    if (auto* c = llvm::mdconst::extract_or_null<llvm::ConstantInt>(m.getModuleFlag("actjit.opt")))
        return static_cast<int>(c->getZExtValue());
    return 2;
}

/// Functions up to this many instructions after the first pipeline, with no
/// calls (the piecewise activations: relu's two have 45 and 51, prelu's
/// backward 70; silu's forward has 111, gelu's 51 around a call to erf), get
/// their loops unswitched on the streaming-store test.
constexpr unsigned kUnswitchMaxInstructions = 80;

namespace {
bool unswitch_worthwhile(const llvm::Function& f) {
    if (f.isDeclaration() || f.getInstructionCount() > kUnswitchMaxInstructions) return false;
    for (const llvm::BasicBlock& b : f)
        for (const llvm::Instruction& i : b)
            if (const auto* call = llvm::dyn_cast<llvm::CallBase>(&i))
                if (!call->getCalledFunction() || !call->getCalledFunction()->isIntrinsic()) return false;
    return true;
}
}  // namespace

void optimize_module(llvm::Module& m, int opt_level) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb;
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);

    llvm::FunctionPassManager fpm;
    fpm.addPass(llvm::PromotePass());
    if (opt_level > 0) {
        fpm.addPass(llvm::EarlyCSEPass());
        fpm.addPass(llvm::InstCombinePass());
        // Loop-invariant code out of the loops: what depends only on Shared
        // parameters and constants, and in the tiled loop on the feature
        // pattern too (brelu's parity mask, prepu's exponent per lane).
        fpm.addPass(llvm::createFunctionToLoopPassAdaptor(llvm::LICMPass(llvm::LICMOptions()),
                                                          /*UseMemorySSA=*/true));
        fpm.addPass(llvm::SimplifyCFGPass());
    }
    llvm::ModulePassManager mpm;
    mpm.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(fpm)));
    mpm.run(m, mam);

    // Kernels as small as relu's (a load, a compare or two, a store) are
    // slowed by the streaming-store test, invariant as it is: there the
    // loops are unswitched on it (one copy per outcome). Only there: the
    // pass and the copies cost 25-35 % more compile time, and larger loop
    // bodies do not notice the branch.
    if (opt_level == 0) return;
    llvm::FunctionPassManager small;
    small.addPass(llvm::createFunctionToLoopPassAdaptor(llvm::SimpleLoopUnswitchPass(/*NonTrivial=*/true),
                                                        /*UseMemorySSA=*/true));
    small.addPass(llvm::SimplifyCFGPass());
    for (llvm::Function& f : m)
        if (unswitch_worthwhile(f)) small.run(f, fam);
}

}  // namespace actjit::jit
