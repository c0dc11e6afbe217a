// Code generation, part 3: structured control flow. Regions are emitted
// inline into the current LLVM function: `if` becomes a conditional branch
// and phis for its results; `for` a counted loop (phis for the index and the
// carried values, no iterations when hi <= lo); `while` a condition block
// evaluated on the carried phis, then the body. Regions nest arbitrarily: the
// insertion point after emitRegion is wherever the region's code ended.
#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {

std::vector<llvm::Value*> FnEmitter::emitRegion(const ir::Block& r,
                                                const std::vector<llvm::Value*>& args) {
  if (args.size() != r.args.size()) internalError("region argument count mismatch");
  for (size_t i = 0; i < args.size(); ++i) set(r.arg(i), args[i]);
  const ir::Operation* term = r.terminator();
  if (!term || !hasFlag(term->kind, ir::Terminator))
    internalError("region without a terminator");
  for (size_t i = 0; i + 1 < r.ops.size(); ++i) emitOp(*r.ops[i]);
  std::vector<llvm::Value*> out;
  for (const ir::Value* v : term->operands) out.push_back(get(v));
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
  if (tv.size() != op.results.size() || ev.size() != op.results.size())
    internalError("if region yields the wrong number of values");
  for (size_t k = 0; k < op.results.size(); ++k) {
    llvm::PHINode* phi = b_.CreatePHI(typeOf(op.result(k)->type), 2);
    phi->addIncoming(tv[k], thenEnd);
    phi->addIncoming(ev[k], elseEnd);
    set(op.result(k), phi);
  }
}

// %r... = for %lo, %hi, %init... { ^(%i, %c...): ... yield %c'... }
void FnEmitter::emitFor(const ir::Operation& op) {
  if (op.regions.size() != 1 || op.operands.size() < 2) internalError("malformed for");
  size_t n = op.operands.size() - 2;
  llvm::Value* lo = get(op.operand(0));
  llvm::Value* hi = get(op.operand(1));
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
    llvm::PHINode* phi = b_.CreatePHI(typeOf(op.operand(2 + k)->type), 2);
    phi->addIncoming(get(op.operand(2 + k)), pre);
    carried.push_back(phi);
    args.push_back(phi);
  }
  b_.CreateCondBr(b_.CreateICmpSLT(iv, hi), body, exit);

  b_.SetInsertPoint(body);
  std::vector<llvm::Value*> next = emitRegion(*op.region(0), args);
  if (next.size() != n) internalError("for region yields the wrong number of values");
  llvm::Value* inext = b_.CreateAdd(iv, b_.getInt64(1), "i.next", false, /*nsw=*/true);
  llvm::BasicBlock* latch = b_.GetInsertBlock();
  b_.CreateBr(head);
  iv->addIncoming(inext, latch);
  for (size_t k = 0; k < n; ++k) carried[k]->addIncoming(next[k], latch);

  b_.SetInsertPoint(exit);
  if (op.results.size() != n) internalError("for result count mismatch");
  for (size_t k = 0; k < n; ++k) set(op.result(k), carried[k]);
}

// %r... = while %init... { cond ^(%c...): yield %b } { body ^(%c...): yield %c'... }
void FnEmitter::emitWhile(const ir::Operation& op) {
  if (op.regions.size() != 2) internalError("malformed while");
  size_t n = op.operands.size();
  llvm::BasicBlock* pre = b_.GetInsertBlock();
  auto* condBB = llvm::BasicBlock::Create(llctx_, "while.cond", fn_);
  auto* bodyBB = llvm::BasicBlock::Create(llctx_, "while.body", fn_);
  auto* exit = llvm::BasicBlock::Create(llctx_, "while.end", fn_);
  b_.CreateBr(condBB);

  b_.SetInsertPoint(condBB);
  std::vector<llvm::PHINode*> carried;
  std::vector<llvm::Value*> args;
  for (size_t k = 0; k < n; ++k) {
    llvm::PHINode* phi = b_.CreatePHI(typeOf(op.operand(k)->type), 2);
    phi->addIncoming(get(op.operand(k)), pre);
    carried.push_back(phi);
    args.push_back(phi);
  }
  std::vector<llvm::Value*> c = emitRegion(*op.region(0), args);
  if (c.size() != 1) internalError("while condition must yield one bool");
  b_.CreateCondBr(c[0], bodyBB, exit);

  b_.SetInsertPoint(bodyBB);
  std::vector<llvm::Value*> next = emitRegion(*op.region(1), args);
  if (next.size() != n) internalError("while body yields the wrong number of values");
  llvm::BasicBlock* latch = b_.GetInsertBlock();
  b_.CreateBr(condBB);
  for (size_t k = 0; k < n; ++k) carried[k]->addIncoming(next[k], latch);

  b_.SetInsertPoint(exit);
  if (op.results.size() != n) internalError("while result count mismatch");
  for (size_t k = 0; k < n; ++k) set(op.result(k), carried[k]);
}

}  // namespace chain::codegen::detail
