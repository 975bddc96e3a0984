// Lane compaction: AVX-512's vcompressps and vexpandps for a zmm, else AVX2's
// vpermps and two 256-entry index tables (see compact.hpp).
#include "compact.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace actjit::jit {
namespace {

constexpr const char* kCompressTable = "actjit_lane_compress";
constexpr const char* kExpandTable = "actjit_lane_expand";

/// Row m of the compress table lists the set bits of m in order (then
/// zeros); row m of the expand table gives each bit its rank among the set
/// bits below it, which is where a packed lane comes from.
struct IndexTables {
    alignas(64) std::array<std::int32_t, 256 * 8> compress{};
    alignas(64) std::array<std::int32_t, 256 * 8> expand{};
};

constexpr IndexTables make_tables() {
    IndexTables t;
    for (int m = 0; m < 256; ++m) {
        int k = 0;
        for (int i = 0; i < 8; ++i) {
            t.expand[static_cast<std::size_t>(m * 8 + i)] = k;
            if (m & (1 << i)) t.compress[static_cast<std::size_t>(m * 8 + k++)] = i;
        }
    }
    return t;
}

constexpr IndexTables kTables = make_tables();
static_assert(kTables.compress[0b10110000 * 8 + 0] == 4 && kTables.compress[0b10110000 * 8 + 2] == 7);
static_assert(kTables.expand[0b10110000 * 8 + 5] == 1 && kTables.expand[0b10110000 * 8 + 7] == 2);

struct Layout {
    unsigned lanes = 0;       // elements in the vector
    unsigned per_piece = 0;   // elements in 256 bits
    unsigned pieces = 0;
    bool f64 = false;
};

Layout layout_of(llvm::Type* vt) {
    auto* v = llvm::cast<llvm::FixedVectorType>(vt);
    Layout l;
    l.lanes = v->getNumElements();
    l.f64 = v->getElementType()->isDoubleTy();
    l.per_piece = l.f64 ? 4 : 8;
    l.pieces = l.lanes / l.per_piece;
    return l;
}

llvm::Value* table(llvm::IRBuilderBase& b, const char* name) {
    llvm::Module* m = b.GetInsertBlock()->getModule();
    auto* ty = llvm::ArrayType::get(b.getInt32Ty(), 256 * 8);
    auto* g = llvm::cast<llvm::GlobalVariable>(m->getOrInsertGlobal(name, ty));
    g->setConstant(true);
    g->setAlignment(llvm::Align(64));
    return g;
}

/// Row `row` of a table: the <8 x i32> lane indices.
llvm::Value* table_row(llvm::IRBuilderBase& b, const char* name, llvm::Value* row) {
    auto* idx_ty = llvm::FixedVectorType::get(b.getInt32Ty(), 8);
    llvm::Value* p = b.CreateGEP(b.getInt32Ty(), table(b, name), b.CreateShl(row, 3));
    return b.CreateAlignedLoad(idx_ty, p, llvm::Align(32));
}

/// Piece p of v as <8 x float>.
llvm::Value* piece(llvm::IRBuilderBase& b, llvm::Value* v, const Layout& l, unsigned p) {
    llvm::SmallVector<int, 8> idx;
    for (unsigned i = 0; i < l.per_piece; ++i) idx.push_back(static_cast<int>(p * l.per_piece + i));
    llvm::Value* part = l.pieces == 1 ? v : b.CreateShuffleVector(v, idx);
    return b.CreateBitCast(part, llvm::FixedVectorType::get(b.getFloatTy(), 8));
}

llvm::Value* permute(llvm::IRBuilderBase& b, llvm::Value* v, llvm::Value* idx) {
    return b.CreateIntrinsic(llvm::Intrinsic::x86_avx2_permps, {}, {v, idx});
}

/// AVX-512's own compress and expand (vcompressps, vexpandps, and the pd
/// forms: register to register, a full vector loaded or stored beside)
/// where the vector is one zmm: fewer instructions than the tables' two
/// 256-bit pieces.
bool native(const LaneSelection& sel) { return sel.mask != nullptr; }

llvm::Value* compress_expand(llvm::IRBuilderBase& b, llvm::Intrinsic::ID id, llvm::Value* v, llvm::Value* mask) {
    // A zero passthru, so that the compress is never folded into its
    // store as vcompressps to memory (microcoded on Zen 4).
    return b.CreateIntrinsic(id, {v->getType()}, {v, llvm::Constant::getNullValue(v->getType()), mask});
}

}  // namespace

bool native_compaction(llvm::Function* fn) {
    return fn != nullptr && fn->hasFnAttribute("target-features") &&
           fn->getFnAttribute("target-features").getValueAsString().contains("+avx512f");
}

bool compaction_supported(llvm::Function* fn, llvm::Type* vt) {
    auto* v = llvm::dyn_cast<llvm::FixedVectorType>(vt);
    if (v == nullptr || fn == nullptr || !fn->hasFnAttribute("target-features")) return false;
    if (!v->getElementType()->isFloatTy() && !v->getElementType()->isDoubleTy()) return false;
    const auto bits = v->getNumElements() * v->getElementType()->getPrimitiveSizeInBits();
    return bits % 256 == 0 && fn->getFnAttribute("target-features").getValueAsString().contains("+avx2");
}

LaneSelection select_lanes(llvm::IRBuilderBase& b, llvm::Value* mask, llvm::Type* vt) {
    const Layout l = layout_of(vt);
    LaneSelection s;
    if (l.pieces == 2 && native_compaction(b.GetInsertBlock()->getParent())) {  // one zmm
        s.mask = mask;
        llvm::Value* bits = b.CreateBitCast(mask, b.getIntNTy(l.lanes));
        llvm::Value* count = b.CreateZExt(b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, bits), b.getInt64Ty());
        s.total = l.f64 ? b.CreateShl(count, 1) : count;  // 32-bit units
        return s;
    }
    for (unsigned p = 0; p < l.pieces; ++p) {
        llvm::SmallVector<int, 8> idx;
        // A double is two 32-bit units: its mask bit, twice.
        for (unsigned i = 0; i < 8; ++i) idx.push_back(static_cast<int>(p * l.per_piece + (l.f64 ? i / 2 : i)));
        llvm::Value* bits = b.CreateBitCast(b.CreateShuffleVector(mask, idx), b.getInt8Ty());
        llvm::Value* row = b.CreateZExt(bits, b.getInt64Ty());
        s.rows.push_back(row);
        s.counts.push_back(b.CreateZExt(b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, bits), b.getInt64Ty()));
        s.total = s.total ? b.CreateAdd(s.total, s.counts.back()) : s.counts.back();
    }
    return s;
}

void compress_store(llvm::IRBuilderBase& b, llvm::Value* v, const LaneSelection& sel, llvm::Value* buf,
                    llvm::Value* pos) {
    if (native(sel)) {
        llvm::Value* packed = compress_expand(b, llvm::Intrinsic::x86_avx512_mask_compress, v, sel.mask);
        b.CreateAlignedStore(packed, b.CreateGEP(b.getFloatTy(), buf, pos), llvm::Align(4));
        return;
    }
    const Layout l = layout_of(v->getType());
    for (unsigned p = 0; p < l.pieces; ++p) {
        llvm::Value* packed = permute(b, piece(b, v, l, p), table_row(b, kCompressTable, sel.rows[p]));
        b.CreateAlignedStore(packed, b.CreateGEP(b.getFloatTy(), buf, pos), llvm::Align(4));
        pos = b.CreateAdd(pos, sel.counts[p]);
    }
}

llvm::Value* expand_load(llvm::IRBuilderBase& b, llvm::Type* vt, const LaneSelection& sel, llvm::Value* buf,
                         llvm::Value* pos) {
    if (native(sel)) {
        llvm::Value* packed = b.CreateAlignedLoad(vt, b.CreateGEP(b.getFloatTy(), buf, pos), llvm::Align(4));
        return compress_expand(b, llvm::Intrinsic::x86_avx512_mask_expand, packed, sel.mask);
    }
    const Layout l = layout_of(vt);
    auto* f8 = llvm::FixedVectorType::get(b.getFloatTy(), 8);
    auto* piece_ty = llvm::FixedVectorType::get(llvm::cast<llvm::FixedVectorType>(vt)->getElementType(), l.per_piece);
    std::vector<llvm::Value*> parts;
    for (unsigned p = 0; p < l.pieces; ++p) {
        llvm::Value* packed = b.CreateAlignedLoad(f8, b.CreateGEP(b.getFloatTy(), buf, pos), llvm::Align(4));
        parts.push_back(b.CreateBitCast(permute(b, packed, table_row(b, kExpandTable, sel.rows[p])), piece_ty));
        pos = b.CreateAdd(pos, sel.counts[p]);
    }
    // Concatenate the pieces, pairwise.
    while (parts.size() > 1) {
        std::vector<llvm::Value*> joined;
        const unsigned n = llvm::cast<llvm::FixedVectorType>(parts[0]->getType())->getNumElements();
        llvm::SmallVector<int, 32> idx;
        for (unsigned i = 0; i < 2 * n; ++i) idx.push_back(static_cast<int>(i));
        for (std::size_t i = 0; i + 1 < parts.size(); i += 2) joined.push_back(b.CreateShuffleVector(parts[i], parts[i + 1], idx));
        parts = std::move(joined);
    }
    return parts[0];
}

llvm::Error add_compaction_symbols(llvm::orc::LLJIT& jit) {
    llvm::orc::SymbolMap symbols;
    symbols[jit.mangleAndIntern(kCompressTable)] = {llvm::orc::ExecutorAddr::fromPtr(kTables.compress.data()),
                                                    llvm::JITSymbolFlags::Exported};
    symbols[jit.mangleAndIntern(kExpandTable)] = {llvm::orc::ExecutorAddr::fromPtr(kTables.expand.data()),
                                                  llvm::JITSymbolFlags::Exported};
    return jit.getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(symbols)));
}

}  // namespace actjit::jit
