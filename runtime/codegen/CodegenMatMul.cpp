// Code generation of `matmul` in its four rank forms. [k]@[k] and [n,k]@[k]
// are dot products (a `reassoc` reduction LLVM vectorises). [n,k]@[k,m] of
// floats runs a register-blocked kernel over 4-row x (2 vectors) tiles of C:
// the 8 vector accumulators stay in registers for the whole p loop, and each
// step loads two vectors of B's row p and broadcasts four elements of A's
// column p, so the loop is bound by multiply-adds, not by loads and stores of
// C (the plain i-p-j loop loads and stores C[i, j..] for every p). The rows
// and columns left over by the tiles, integer products and [k]@[k,m] use the
// plain loop: for i, for p, a = A[i,p], for j: C[i,j] += a * B[p,j]. Matrix
// products may be summed in any order (SPEC §4): the tiles use `reassoc` and
// `contract` (fused multiply-adds).
#include <llvm/IR/Intrinsics.h>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {

namespace {
constexpr int64_t kRows = 4;     // rows of C per tile
constexpr int64_t kVectors = 2;  // vectors of C per tile row
}  // namespace

// C[i0..i1, j0..j1] += A[i0..i1, :] @ B[:, j0..j1], the plain loop.
void FnEmitter::matMulPlain(const MatMulArgs& mm, llvm::Value* i0, llvm::Value* i1, llvm::Value* j0,
                            llvm::Value* j1) {
  simpleLoop(i0, i1, [&](llvm::Value* i) {
    llvm::Value* cRow = b_.CreateMul(i, mm.m, "", true, true);
    simpleLoop(b_.getInt64(0), mm.k, [&](llvm::Value* p) {
      llvm::Value* a = loadScalar(mm.et, elemPtr(mm.ta, mm.A, b_.CreateAdd(b_.CreateMul(i, mm.k, "", true, true), p, "", true, true)));
      llvm::Value* bRow = b_.CreateMul(p, mm.m, "", true, true);
      simpleLoop(j0, j1, [&](llvm::Value* j) {
        llvm::Value* cp = elemPtr(mm.tr, mm.C, b_.CreateAdd(cRow, j, "", true, true));
        llvm::Value* bv = loadScalar(mm.et, elemPtr(mm.ta, mm.B, b_.CreateAdd(bRow, j, "", true, true)));
        storeScalar(mm.et, fmaStep(mm.et, loadScalar(mm.et, cp), a, bv, false), cp);
      });
    });
  });
}

// C[r0..r1, 0..cols] = A @ B over whole tiles (r1 - r0, cols multiples of
// the tile) with `lanes` elements per vector.
void FnEmitter::matMulTiles(const MatMulArgs& mm, llvm::Value* r0, llvm::Value* r1, llvm::Value* cols, unsigned lanes) {
  llvm::Type* et = typeOf(mm.et);
  auto* vt = llvm::FixedVectorType::get(et, lanes);
  llvm::Align align(et->getPrimitiveSizeInBits() / 8);
  llvm::FastMathFlags fmf;
  fmf.setAllowReassoc();
  fmf.setAllowContract();
  const int64_t width = kVectors * int64_t(lanes);
  llvm::Value* zero = llvm::ConstantFP::get(vt, 0.0);
  simpleLoop(b_.getInt64(0), b_.CreateUDiv(b_.CreateSub(r1, r0), b_.getInt64(kRows)), [&](llvm::Value* ib) {
    llvm::Value* i = b_.CreateAdd(r0, b_.CreateMul(ib, b_.getInt64(kRows), "", true, true), "", true, true);
    simpleLoop(b_.getInt64(0), b_.CreateUDiv(cols, b_.getInt64(width)), [&](llvm::Value* jb) {
      llvm::Value* j = b_.CreateMul(jb, b_.getInt64(width), "", true, true);
      std::vector<llvm::Value*> init(kRows * kVectors, zero);
      std::vector<llvm::Value*> acc = countedLoop(b_.getInt64(0), mm.k, init,
          [&](llvm::Value* p, const std::vector<llvm::Value*>& in) {
            llvm::Value* bRow = b_.CreateAdd(b_.CreateMul(p, mm.m, "", true, true), j, "", true, true);
            std::vector<llvm::Value*> bv;
            for (int64_t u = 0; u < kVectors; ++u) {
              llvm::Value* at = elemPtr(mm.ta, mm.B, b_.CreateAdd(bRow, b_.getInt64(u * lanes), "", true, true));
              bv.push_back(b_.CreateAlignedLoad(vt, at, align));
            }
            std::vector<llvm::Value*> out(in.size());
            for (int64_t r = 0; r < kRows; ++r) {
              llvm::Value* row = b_.CreateAdd(i, b_.getInt64(r), "", true, true);
              llvm::Value* aOff = b_.CreateAdd(b_.CreateMul(row, mm.k, "", true, true), p, "", true, true);
              llvm::Value* a = b_.CreateVectorSplat(lanes, loadScalar(mm.et, elemPtr(mm.ta, mm.A, aOff)));
              for (int64_t u = 0; u < kVectors; ++u) {
                size_t s = size_t(r * kVectors + u);
                llvm::Value* prod = b_.CreateFMul(a, bv[size_t(u)]);
                llvm::cast<llvm::Instruction>(prod)->setFastMathFlags(fmf);
                out[s] = b_.CreateFAdd(in[s], prod);
                llvm::cast<llvm::Instruction>(out[s])->setFastMathFlags(fmf);
              }
            }
            return out;
          });
      for (int64_t r = 0; r < kRows; ++r) {
        llvm::Value* row = b_.CreateAdd(i, b_.getInt64(r), "", true, true);
        llvm::Value* cRow = b_.CreateAdd(b_.CreateMul(row, mm.m, "", true, true), j, "", true, true);
        for (int64_t u = 0; u < kVectors; ++u) {
          llvm::Value* at = elemPtr(mm.tr, mm.C, b_.CreateAdd(cRow, b_.getInt64(u * lanes), "", true, true));
          b_.CreateAlignedStore(acc[size_t(r * kVectors + u)], at, align);
        }
      }
    });
  });
}

// The rows of C in blocks (a multiple of kRows each, on all cores unless
// already in a chunk): in each, whole tiles, then the rows below them (all
// columns) and the columns right of them (tiled rows). The tiles cover rows
// 0 .. n & ~(kRows-1) whatever the blocks, so every element is computed by
// the same kernel: the same bits for every thread count.
void FnEmitter::matMulRows(const MatMulArgs& mm, llvm::Value* n, unsigned lanes) {
  llvm::Value* rowsAll = b_.CreateAnd(n, b_.getInt64(~(kRows - 1)));
  llvm::Value* width = b_.getInt64(kVectors * int64_t(lanes));
  llvm::Value* cols = b_.CreateSub(mm.m, b_.CreateURem(mm.m, width));
  auto block = [&](const MatMulArgs& x, llvm::Value* r0, llvm::Value* r1, llvm::Value* tiledRows, llvm::Value* tiledCols) {
    llvm::Value* tiledEnd = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax, r0,
                                                     b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, r1, tiledRows));
    matMulTiles(x, r0, tiledEnd, tiledCols, lanes);
    matMulPlain(x, tiledEnd, r1, b_.getInt64(0), x.m);
    matMulPlain(x, r0, tiledEnd, tiledCols, x.m);
  };
  if (inChunk_) return block(mm, b_.getInt64(0), n, rowsAll, cols);
  // kGrain of multiply-adds per block, rounded up to whole tiles
  llvm::Value* perRow = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, b_.CreateMul(mm.k, mm.m), b_.getInt64(int64_t(1) << 40));
  llvm::Value* rows = chunkSize(n, perRow, 0);
  rows = b_.CreateAnd(b_.CreateAdd(rows, b_.getInt64(kRows - 1)), b_.getInt64(~(kRows - 1)));
  parallelFor({}, {mm.A, mm.B, mm.C, mm.k, mm.m, rowsAll, cols}, n, rows,
              [&](llvm::Value* r0, llvm::Value* r1, const std::vector<llvm::Value*>& ex) {
                MatMulArgs x{ex[0], ex[1], ex[2], ex[3], ex[4], mm.ta, mm.tr, mm.et};
                block(x, r0, r1, ex[5], ex[6]);
              });
}

void FnEmitter::emitMatMul(const ir::Operation& op) {
  const ArrVal& A = arr(op.operand(0));
  const ArrVal& B = arr(op.operand(1));
  ir::Type ta = op.operand(0)->type;
  ir::Type et{ta.elem, 0};
  if (ta.elem == ir::Scalar::Bool || op.operand(1)->type.elem != ta.elem)
    internalError("matmul needs two numeric arrays of one type");
  size_t ra = A.dims.size(), rb = B.dims.size();
  llvm::Value* k = A.dims[ra - 1];
  llvm::Value* k2 = B.dims[0];
  raiseFmtIf(b_.CreateICmpNE(k, k2), CHAIN_ERR_RUNTIME,
             where(op) + "matrix product: inner sizes differ ({} vs {})", {k, k2});
  auto ld = [&](const ArrVal& X, llvm::Value* off) { return loadScalar(et, elemPtr(ta, X.data, off)); };
  auto dot = [&](const std::function<llvm::Value*(llvm::Value*)>& aAt,
                 const std::function<llvm::Value*(llvm::Value*)>& bAt) {
    return countedLoop(b_.getInt64(0), k, {zeroOf(et)},
                       [&](llvm::Value* p, const std::vector<llvm::Value*>& acc) {
                         return std::vector<llvm::Value*>{fmaStep(et, acc[0], aAt(p), bAt(p), true)};
                       })[0];
  };
  if (ra == 1 && rb == 1) {
    llvm::Value* r = dot([&](llvm::Value* p) { return ld(A, p); }, [&](llvm::Value* p) { return ld(B, p); });
    set(op.result(), r);
    if (et.isFloat()) nanCheck(op, r);
    return;
  }
  ir::Type tr = op.result()->type;
  if (ra == 2 && rb == 1) {
    ArrVal y = newArray(tr, {A.dims[0]});
    // rows i0..i1-1 of y = A @ x, one dot product each
    auto rows = [&](llvm::Value* a, llvm::Value* x, llvm::Value* out, llvm::Value* kk, llvm::Value* i0, llvm::Value* i1) {
      simpleLoop(i0, i1, [&](llvm::Value* i) {
        llvm::Value* row = b_.CreateMul(i, kk, "", true, true);
        llvm::Value* s = countedLoop(b_.getInt64(0), kk, {zeroOf(et)}, [&](llvm::Value* p, const std::vector<llvm::Value*>& acc) {
          llvm::Value* av = loadScalar(et, elemPtr(ta, a, b_.CreateAdd(row, p, "", true, true)));
          return std::vector<llvm::Value*>{fmaStep(et, acc[0], av, loadScalar(et, elemPtr(ta, x, p)), true)};
        })[0];
        storeScalar(et, s, elemPtr(tr, out, i));
      });
    };
    if (inChunk_) {
      rows(A.data, B.data, y.data, k, b_.getInt64(0), A.dims[0]);
    } else {
      parallelFor({}, {A.data, B.data, y.data, k}, A.dims[0], chunkSize(A.dims[0], k, 0),
                  [&](llvm::Value* i0, llvm::Value* i1, const std::vector<llvm::Value*>& ex) {
                    rows(ex[0], ex[1], ex[2], ex[3], i0, i1);
                  });
    }
    nanCheckArray(op, tr, y);
    return setArr(op.result(), std::move(y));
  }
  llvm::Value* n = ra == 2 ? A.dims[0] : b_.getInt64(1);
  llvm::Value* m = B.dims[1];
  ArrVal C = newArray(tr, ra == 2 ? std::vector<llvm::Value*>{n, m} : std::vector<llvm::Value*>{m});
  b_.CreateMemSet(C.data, b_.getInt8(0), byteSize(tr, C.dims), llvm::MaybeAlign(64));
  MatMulArgs mm{A.data, B.data, C.data, k, m, ta, tr, et};
  llvm::Value* zero = b_.getInt64(0);
  if (ra == 2 && et.isFloat()) {
    matMulRows(mm, n, et.elem == ir::Scalar::F32 ? 8 : 4);
  } else {
    matMulPlain(mm, zero, n, zero, m);
  }
  nanCheckArray(op, tr, C);
  setArr(op.result(), std::move(C));
}

}  // namespace chain::codegen::detail
