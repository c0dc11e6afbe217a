// Code generation, part 7: effects on arrays. `print` of an array calls
// chain_rt_print_array (a nested list after the label). A tape push that
// holds arrays has a dynamic size: each operand in order is laid out as an
// 8-byte slot (scalar) or as its data (padded to 8 bytes) followed by its
// rank dims, so the matching pop, which walks the operands in reverse from
// the top, reads an array's dims first, then its data, into a fresh arena
// array (the mirror of the push).
#include <llvm/IR/MDBuilder.h>

#include <functional>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {
namespace {

int32_t printKind(ir::Scalar s) {
  switch (s) {
    case ir::Scalar::F64: return 0;
    case ir::Scalar::F32: return 1;
    case ir::Scalar::I64: return 2;
    case ir::Scalar::Bool: return 3;
  }
  return 0;
}

}  // namespace

void FnEmitter::printArray(llvm::Constant* label, const ir::Value* v) {
  const ArrVal& a = arr(v);
  llvm::Type* dimsTy = llvm::ArrayType::get(b_.getInt64Ty(), 8);
  llvm::Value* dims = entryAlloca(dimsTy, "print.dims");
  for (size_t k = 0; k < a.dims.size(); ++k)
    b_.CreateStore(a.dims[k], b_.CreateConstInBoundsGEP2_64(dimsTy, dims, 0, k));
  b_.CreateCall(runtimeFn("chain_rt_print_array"),
                {ctxArg_, label, b_.getInt32(printKind(v->type.elem)), a.data,
                 b_.getInt32(static_cast<int32_t>(a.dims.size())), dims});
}

namespace {
// (x + 7) & ~7
llvm::Value* pad8(llvm::IRBuilder<>& b, llvm::Value* x) {
  return b.CreateAnd(b.CreateAdd(x, b.getInt64(7)), b.getInt64(~int64_t(7)));
}
}  // namespace

void FnEmitter::tapePushDynamic(const ir::Operation& op) {
  llvm::Type* i64 = b_.getInt64Ty();
  llvm::Value* total = b_.getInt64(0);
  for (const ir::Value* v : op.operands) {
    llvm::Value* sz = b_.getInt64(8 * (v->type.rank == 0 ? 1 : v->type.rank));
    if (v->type.rank != 0) sz = b_.CreateAdd(sz, pad8(b_, byteSize(v->type, arr(v).dims)));
    total = b_.CreateAdd(total, sz);
  }
  llvm::Value* topPtr = ctxFieldPtr(kTapeTop);
  llvm::Value* capPtr = ctxFieldPtr(kTapeCap);
  llvm::Value* top = b_.CreateLoad(i64, topPtr, "tape.top");
  llvm::Value* newTop = b_.CreateAdd(top, total, "tape.newtop", false, true);
  auto* grow = llvm::BasicBlock::Create(llctx_, "tape.grow", fn_);
  auto* ok = llvm::BasicBlock::Create(llctx_, "tape.ok", fn_);
  b_.CreateCondBr(b_.CreateICmpSGT(newTop, b_.CreateLoad(i64, capPtr)), grow, ok,
                  llvm::MDBuilder(llctx_).createUnlikelyBranchWeights());
  b_.SetInsertPoint(grow);
  b_.CreateCall(runtimeFn("chain_rt_tape_reserve"), {ctxArg_, total});
  exitIf(b_.CreateICmpSGT(newTop, b_.CreateLoad(i64, capPtr)), CHAIN_ERR_MEMORY);
  b_.CreateBr(ok);

  b_.SetInsertPoint(ok);
  llvm::Value* base = b_.CreateLoad(b_.getPtrTy(), ctxFieldPtr(kTapeBase), "tape.base");
  llvm::Value* cur = top;
  for (const ir::Value* v : op.operands) {
    if (v->type.rank == 0) {
      storeScalar(v->type, get(v), b_.CreateInBoundsGEP(b_.getInt8Ty(), base, cur));
      cur = b_.CreateAdd(cur, b_.getInt64(8));
      continue;
    }
    const ArrVal& a = arr(v);
    llvm::Value* bytes = byteSize(v->type, a.dims);
    b_.CreateMemCpy(b_.CreateInBoundsGEP(b_.getInt8Ty(), base, cur), llvm::MaybeAlign(8), a.data,
                    llvm::MaybeAlign(1), bytes);
    cur = b_.CreateAdd(cur, pad8(b_, bytes));
    for (llvm::Value* d : a.dims) {
      b_.CreateStore(d, b_.CreateInBoundsGEP(b_.getInt8Ty(), base, cur));
      cur = b_.CreateAdd(cur, b_.getInt64(8));
    }
  }
  b_.CreateStore(newTop, topPtr);
  llvm::Value* peakPtr = ctxFieldPtr(kTapePeak);
  llvm::Value* peak = b_.CreateLoad(i64, peakPtr);
  b_.CreateStore(b_.CreateSelect(b_.CreateICmpSGT(newTop, peak), newTop, peak), peakPtr);
}

bool FnEmitter::popsAreViews() {
  if (popsAreViews_ >= 0) return popsAreViews_ == 1;
  bool popSeen = false, safe = true;
  // returns {has push, has pop} of `b` (at any depth)
  std::function<std::pair<bool, bool>(const ir::Block&)> walk = [&](const ir::Block& b) {
    bool push = false, pop = false;
    for (auto& o : b.ops) {
      if (o->kind == ir::OpKind::TapePush) {
        push = true;
        if (popSeen) safe = false;  // a push after a pop
      }
      if (o->kind == ir::OpKind::TapePop) pop = popSeen = true;
      for (auto& r : o->regions) {
        auto [p, q] = walk(*r);
        bool loop = o->kind == ir::OpKind::For || o->kind == ir::OpKind::While;
        if (loop && p && q) safe = false;  // the next iteration pushes after this one's pop
        push |= p;
        pop |= q;
      }
    }
    return std::make_pair(push, pop);
  };
  walk(f_.body);
  popsAreViews_ = safe ? 1 : 0;
  return safe;
}

void FnEmitter::tapePopDynamic(const ir::Operation& op) {
  llvm::Type* i64 = b_.getInt64Ty();
  llvm::Value* topPtr = ctxFieldPtr(kTapeTop);
  llvm::Value* top = b_.CreateLoad(i64, topPtr, "tape.top");
  llvm::Value* base = b_.CreateLoad(b_.getPtrTy(), ctxFieldPtr(kTapeBase), "tape.base");
  auto at = [&](llvm::Value* off) { return b_.CreateInBoundsGEP(b_.getInt8Ty(), base, off); };
  for (size_t n = op.results.size(); n-- > 0;) {
    const ir::Value* r = op.result(n);
    if (r->type.rank == 0) {
      top = b_.CreateSub(top, b_.getInt64(8));
      set(r, loadScalar(r->type, at(top)));
      continue;
    }
    top = b_.CreateSub(top, b_.getInt64(8 * r->type.rank));
    std::vector<llvm::Value*> dims;
    for (int k = 0; k < r->type.rank; ++k)
      dims.push_back(b_.CreateLoad(i64, at(b_.CreateAdd(top, b_.getInt64(8 * k))), "tape.dim"));
    llvm::Value* bytes = byteSize(r->type, dims);
    top = b_.CreateSub(top, pad8(b_, bytes));
    if (popsAreViews()) {  // the tape keeps these bytes until the call returns
      ArrVal a;
      a.data = at(top);
      a.dims = dims;
      setArr(r, std::move(a));
      continue;
    }
    ArrVal a = newArray(r->type, dims);
    b_.CreateMemCpy(a.data, llvm::MaybeAlign(1), at(top), llvm::MaybeAlign(8), bytes);
    setArr(r, std::move(a));
  }
  b_.CreateStore(top, topPtr);
}

}  // namespace chain::codegen::detail
