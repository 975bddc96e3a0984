// Lane compaction: pack the selected lanes of vectors into a buffer, and put
// values computed on the packed buffer back into their lanes.
//
// The code generator uses it for a pow(u, w) whose base is often exactly zero
// (prepu's relu(x)^q: half of all inputs): the lanes with u != 0 are packed,
// pow runs on full packed vectors only, and the other lanes take C's
// pow(+-0, w) (docs/JIT.md, "Lane compaction").
//
// Works on 256-bit pieces with AVX2's vpermps and two 256-entry tables of
// lane indices (8 KiB each, one copy in the process, resolved by name like
// libm's functions): any vector of floats or doubles whose size is a multiple
// of 256 bits, in a function compiled for AVX2. A 512-bit vector in a function
// compiled for AVX-512 takes vcompressps / vexpandps (register forms, and a
// whole vector stored or loaded) instead: prepu 1.21-1.24x forward, 1.11-1.12x
// backward in cache on the Intel Xeon. Buffers and positions are in 32-bit
// units (a double is two).
#pragma once

#include "llvm.hpp"

namespace actjit::jit {

/// Whether vectors of type `vt` can be compacted in `fn` (AVX2 in its
/// target features, floats or doubles, a multiple of 256 bits).
bool compaction_supported(llvm::Function* fn, llvm::Type* vt);

/// Whether `fn` compacts a 512-bit vector with AVX-512's vcompressps and
/// vexpandps (its target features have AVX-512F) instead of the tables.
bool native_compaction(llvm::Function* fn);

/// The lanes of one vector that are selected: per 256-bit piece, the 8-bit
/// selection of its 32-bit units (a table row) and how many units it keeps;
/// or, compacted natively, the mask itself.
struct LaneSelection {
    llvm::SmallVector<llvm::Value*, 4> rows;    // i64, 0..255
    llvm::SmallVector<llvm::Value*, 4> counts;  // i64, 0..8
    llvm::Value* mask = nullptr;                // <N x i1> where native_compaction
    llvm::Value* total = nullptr;               // i64: 32-bit units kept
};

/// The selection of `mask` (<N x i1>) for vectors of `vt` (compaction_supported).
LaneSelection select_lanes(llvm::IRBuilderBase& b, llvm::Value* mask, llvm::Type* vt);

/// Store the selected lanes of `v`, in lane order, at `buf` + `pos` (32-bit
/// units, i64). Writes 256 bits per piece: `buf` needs 8 units to spare.
void compress_store(llvm::IRBuilderBase& b, llvm::Value* v, const LaneSelection& sel, llvm::Value* buf,
                    llvm::Value* pos);

/// The inverse: a vector of `vt` whose selected lanes are read in order from
/// `buf` + `pos`; the other lanes are unspecified (select them away).
llvm::Value* expand_load(llvm::IRBuilderBase& b, llvm::Type* vt, const LaneSelection& sel, llvm::Value* buf,
                         llvm::Value* pos);

/// Define the index tables in `jit`'s main JITDylib. Called once per LLJIT.
llvm::Error add_compaction_symbols(llvm::orc::LLJIT& jit);

}  // namespace actjit::jit
