// Code generation, part 3: structured control flow. Regions are emitted
// inline into the current LLVM function: `if` becomes a conditional branch
// and phis for its results; `for` a counted loop (phis for the index and the
// carried values, no iterations when hi <= lo); `while` a condition block
// evaluated on the carried phis, then the body. Regions nest arbitrarily: the
// insertion point after emitRegion is wherever the region's code ended.
// Values crossing regions are flattened (an array is its data pointer and
// dims, see CodegenImpl.h); the buffer plan says which loop inits and loop
// yields are copied so that carried arrays own their buffers. A loop whose
// body allocates releases, at each back edge, every arena buffer allocated
// since the loop started except the yielded ones (memory stays bounded by
// the carried state, not the trip count).
#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {

std::vector<llvm::Value*> FnEmitter::emitRegion(const ir::Block& r,
                                                const std::vector<llvm::Value*>& args) {
  size_t pos = 0;
  for (const auto& a : r.args) bindFlat(a.get(), args, pos);
  if (pos != args.size()) internalError("region argument count mismatch");
  const ir::Operation* term = r.terminator();
  if (!term || !hasFlag(term->kind, ir::Terminator))
    internalError("region without a terminator");
  for (size_t i = 0; i + 1 < r.ops.size(); ++i) emitOp(*r.ops[i]);
  std::vector<llvm::Value*> out;
  for (size_t k = 0; k < term->operands.size(); ++k) {
    const ir::Value* v = term->operand(k);
    std::vector<llvm::Value*> xs;
    if (v->type.rank != 0 && plan_->copyYield(*term, k)) {
      ArrVal c = copyArray(v->type, arr(v));
      xs.push_back(c.data);
      xs.insert(xs.end(), c.dims.begin(), c.dims.end());
    } else {
      xs = flat(v);
    }
    out.insert(out.end(), xs.begin(), xs.end());
  }
  return out;
}

// The flattened init values of a loop, copying the arrays the plan says.
std::vector<llvm::Value*> FnEmitter::loopInits(const ir::Operation& op, size_t first) {
  std::vector<llvm::Value*> out;
  for (size_t k = first; k < op.operands.size(); ++k) {
    const ir::Value* v = op.operand(k);
    std::vector<llvm::Value*> xs;
    if (v->type.rank != 0 && plan_->copyInit(op, k)) {
      ArrVal c = copyArray(v->type, arr(v));
      xs.push_back(c.data);
      xs.insert(xs.end(), c.dims.begin(), c.dims.end());
    } else {
      xs = flat(v);
    }
    out.insert(out.end(), xs.begin(), xs.end());
  }
  return out;
}

// %r... = if %c { then } { else }
void FnEmitter::emitIf(const ir::Operation& op) {
  if (op.regions.size() != 2) internalError("if without two regions");
  auto* thenBB = llvm::BasicBlock::Create(llctx_, "if.then", fn_);
  auto* elseBB = llvm::BasicBlock::Create(llctx_, "if.else", fn_);
  auto* mergeBB = llvm::BasicBlock::Create(llctx_, "if.end", fn_);
  b_.CreateCondBr(get(op.operand(0)), thenBB, elseBB);

  b_.SetInsertPoint(thenBB);
  std::vector<llvm::Value*> tv = emitRegion(*op.region(0), {});
  llvm::BasicBlock* thenEnd = b_.GetInsertBlock();
  b_.CreateBr(mergeBB);

  b_.SetInsertPoint(elseBB);
  std::vector<llvm::Value*> ev = emitRegion(*op.region(1), {});
  llvm::BasicBlock* elseEnd = b_.GetInsertBlock();
  b_.CreateBr(mergeBB);

  b_.SetInsertPoint(mergeBB);
  std::vector<llvm::Type*> types;
  for (const auto& r : op.results) {
    std::vector<llvm::Type*> ts = flatTypes(r->type);
    types.insert(types.end(), ts.begin(), ts.end());
  }
  if (tv.size() != types.size() || ev.size() != types.size())
    internalError("if region yields the wrong number of values");
  std::vector<llvm::Value*> merged;
  for (size_t k = 0; k < types.size(); ++k) {
    llvm::PHINode* phi = b_.CreatePHI(types[k], 2);
    phi->addIncoming(tv[k], thenEnd);
    phi->addIncoming(ev[k], elseEnd);
    merged.push_back(phi);
  }
  size_t pos = 0;
  for (const auto& r : op.results) bindFlat(r.get(), merged, pos);
}

// %r... = for %lo, %hi, %init... { ^(%i, %c...): ... yield %c'... }
void FnEmitter::emitFor(const ir::Operation& op) {
  if (op.regions.size() != 1 || op.operands.size() < 2) internalError("malformed for");
  if (parallelAccumulate(op)) return;  // reverse AD's accumulating loops (CodegenParallelAcc.cpp)
  llvm::Value* lo = get(op.operand(0));
  llvm::Value* hi = get(op.operand(1));
  std::vector<llvm::Value*> init = loopInits(op, 2);
  size_t n = init.size();
  llvm::Value* mark = arenaMark();
  size_t allocsBefore = allocCount_;
  llvm::BasicBlock* pre = b_.GetInsertBlock();
  auto* head = llvm::BasicBlock::Create(llctx_, "for.head", fn_);
  auto* body = llvm::BasicBlock::Create(llctx_, "for.body", fn_);
  auto* exit = llvm::BasicBlock::Create(llctx_, "for.end", fn_);
  b_.CreateBr(head);

  b_.SetInsertPoint(head);
  llvm::PHINode* iv = b_.CreatePHI(b_.getInt64Ty(), 2, "i");
  iv->addIncoming(lo, pre);
  std::vector<llvm::PHINode*> carried;
  std::vector<llvm::Value*> args{iv};
  for (size_t k = 0; k < n; ++k) {
    llvm::PHINode* phi = b_.CreatePHI(init[k]->getType(), 2);
    phi->addIncoming(init[k], pre);
    carried.push_back(phi);
    args.push_back(phi);
  }
  b_.CreateCondBr(b_.CreateICmpSLT(iv, hi), body, exit);

  b_.SetInsertPoint(body);
  ++loopDepth_;
  std::vector<llvm::Value*> next = emitRegion(*op.region(0), args);
  --loopDepth_;
  if (next.size() != n) internalError("for region yields the wrong number of values");
  if (allocCount_ != allocsBefore) releaseIteration(mark, dataPointers(carriedTypes(op, 2), next));
  llvm::Value* inext = b_.CreateAdd(iv, b_.getInt64(1), "i.next", false, /*nsw=*/true);
  llvm::BasicBlock* latch = b_.GetInsertBlock();
  b_.CreateBr(head);
  iv->addIncoming(inext, latch);
  for (size_t k = 0; k < n; ++k) carried[k]->addIncoming(next[k], latch);

  b_.SetInsertPoint(exit);
  bindResults(op, carried);
}

// %r... = while %init... { cond ^(%c...): yield %b } { body ^(%c...): yield %c'... }
void FnEmitter::emitWhile(const ir::Operation& op) {
  if (op.regions.size() != 2) internalError("malformed while");
  std::vector<llvm::Value*> init = loopInits(op, 0);
  size_t n = init.size();
  llvm::Value* mark = arenaMark();
  size_t allocsBefore = allocCount_;
  llvm::BasicBlock* pre = b_.GetInsertBlock();
  auto* condBB = llvm::BasicBlock::Create(llctx_, "while.cond", fn_);
  auto* bodyBB = llvm::BasicBlock::Create(llctx_, "while.body", fn_);
  auto* exit = llvm::BasicBlock::Create(llctx_, "while.end", fn_);
  b_.CreateBr(condBB);

  b_.SetInsertPoint(condBB);
  std::vector<llvm::PHINode*> carried;
  std::vector<llvm::Value*> args;
  for (size_t k = 0; k < n; ++k) {
    llvm::PHINode* phi = b_.CreatePHI(init[k]->getType(), 2);
    phi->addIncoming(init[k], pre);
    carried.push_back(phi);
    args.push_back(phi);
  }
  ++loopDepth_;  // loops in either region are nested loops (countedLoop)
  std::vector<llvm::Value*> c = emitRegion(*op.region(0), args);
  if (c.size() != 1) internalError("while condition must yield one bool");
  b_.CreateCondBr(c[0], bodyBB, exit);

  b_.SetInsertPoint(bodyBB);
  std::vector<llvm::Value*> next = emitRegion(*op.region(1), args);
  --loopDepth_;
  if (next.size() != n) internalError("while body yields the wrong number of values");
  if (allocCount_ != allocsBefore) releaseIteration(mark, dataPointers(carriedTypes(op, 0), next));
  llvm::BasicBlock* latch = b_.GetInsertBlock();
  b_.CreateBr(condBB);
  for (size_t k = 0; k < n; ++k) carried[k]->addIncoming(next[k], latch);

  b_.SetInsertPoint(exit);
  bindResults(op, carried);
}

std::vector<ir::Type> FnEmitter::carriedTypes(const ir::Operation& op, size_t first) {
  std::vector<ir::Type> ts;
  for (size_t k = first; k < op.operands.size(); ++k) ts.push_back(op.operand(k)->type);
  return ts;
}

void FnEmitter::bindResults(const ir::Operation& op, const std::vector<llvm::PHINode*>& phis) {
  std::vector<llvm::Value*> xs(phis.begin(), phis.end());
  size_t pos = 0;
  for (const auto& r : op.results) bindFlat(r.get(), xs, pos);
  if (pos != xs.size()) internalError("loop result count mismatch");
}

}  // namespace chain::codegen::detail
