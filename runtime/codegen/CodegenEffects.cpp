// Code generation, part 4: effects and the runtime interface. Access to the
// ChainCallCtx fields, declarations of the chain_rt_* helpers, runtime errors
// (a cold block calling chain_rt_error, then the common exit that returns the
// status), the optional NaN/infinity check, print, and the AD tape (a LIFO
// byte stack of 8-byte slots: push grows it through chain_rt_tape_reserve on
// the slow path; pop reads the slots back in push order). Pushes and pops
// with arrays have a dynamic size: see CodegenArrayEffects.cpp.
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <cmath>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {

// { char* tapeBase; i64 tapeTop, tapeCap, tapePeak; FILE* printStream;
//   i32 status; char message[512]; void* arena; i64 arenaBytes, arenaPeak }
// -- must match RuntimeABI.h.
llvm::StructType* FnEmitter::ctxType() {
  llvm::Type* ptr = b_.getPtrTy();
  llvm::Type* i64 = b_.getInt64Ty();
  return llvm::StructType::get(llctx_, {ptr, i64, i64, i64, ptr, b_.getInt32Ty(),
                                        llvm::ArrayType::get(b_.getInt8Ty(), 512), ptr, i64, i64});
}

llvm::Value* FnEmitter::ctxFieldPtr(CtxField f) { return b_.CreateStructGEP(ctxType(), ctxArg_, f); }

llvm::Constant* FnEmitter::globalString(const std::string& s) {
  auto it = strings_.find(s);
  if (it != strings_.end()) return it->second;
  llvm::Constant* g = b_.CreateGlobalString(s, ".str", 0, &mod_);
  strings_[s] = g;
  return g;
}

std::string FnEmitter::where(const ir::Operation& op) const {
  std::string w = opts_.fileName.empty() ? "" : opts_.fileName + ":";
  return w + std::to_string(op.loc.line) + ":" + std::to_string(op.loc.col) + ": ";
}

llvm::FunctionCallee FnEmitter::runtimeFn(const char* name) {
  llvm::Type* ptr = b_.getPtrTy();
  llvm::Type* i32 = b_.getInt32Ty();
  llvm::Type* vd = b_.getVoidTy();
  std::string n = name;
  llvm::FunctionType* ty = nullptr;
  if (n == "chain_rt_tape_reserve")
    ty = llvm::FunctionType::get(vd, {ptr, b_.getInt64Ty()}, false);
  else if (n == "chain_rt_print")
    ty = llvm::FunctionType::get(vd, {ptr, ptr, i32, b_.getDoubleTy(), b_.getInt64Ty()}, false);
  else if (n == "chain_rt_error")
    ty = llvm::FunctionType::get(vd, {ptr, i32, ptr}, false);
  else if (n == "chain_rt_error_fmt")
    ty = llvm::FunctionType::get(vd, {ptr, i32, ptr, ptr, i32}, false);
  else if (n == "chain_rt_alloc" || n == "chain_rt_alloc_result")
    ty = llvm::FunctionType::get(ptr, {ptr, b_.getInt64Ty()}, false);
  else if (n == "chain_rt_export")
    ty = llvm::FunctionType::get(ptr, {ptr, ptr, b_.getInt64Ty()}, false);
  else if (n == "chain_rt_arena_release" || n == "chain_rt_free")
    ty = llvm::FunctionType::get(vd, n == "chain_rt_free" ? std::vector<llvm::Type*>{ptr}
                                                          : std::vector<llvm::Type*>{ptr, ptr},
                                 false);
  else if (n == "chain_rt_arena_release_keep")
    ty = llvm::FunctionType::get(vd, {ptr, ptr, ptr, i32}, false);
  else if (n == "chain_rt_parallel_for")
    ty = llvm::FunctionType::get(i32, {ptr, ptr, ptr, b_.getInt64Ty(), b_.getInt64Ty()}, false);
  else if (n == "chain_rt_print_array")
    ty = llvm::FunctionType::get(vd, {ptr, ptr, i32, ptr, i32, ptr}, false);
  else
    internalError("unknown runtime helper " + n);
  llvm::FunctionCallee c = mod_.getOrInsertFunction(n, ty);
  if (auto* fn = llvm::dyn_cast<llvm::Function>(c.getCallee())) {
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    if (n == "chain_rt_error" || n == "chain_rt_error_fmt") fn->addFnAttr(llvm::Attribute::Cold);
    // Fresh, unaliased memory: lets LLVM prove arena buffers distinct from
    // the parameters' data, so loops vectorise without runtime alias checks.
    if (n == "chain_rt_alloc" || n == "chain_rt_alloc_result") {
      fn->addRetAttr(llvm::Attribute::NoAlias);
      fn->addRetAttr(llvm::Attribute::getWithAlignment(llctx_, llvm::Align(64)));
    }
    for (unsigned i = 0; i < ty->getNumParams(); ++i)  // (export returns its data)
      if (ty->getParamType(i)->isPointerTy() && i > 0 && n != "chain_rt_export")
        fn->addParamAttr(i, llvm::Attribute::NoCapture);
  }
  return c;
}

void FnEmitter::raiseIf(llvm::Value* cond, int32_t status,
                        const std::function<llvm::Value*()>& msg) {
  auto* err = llvm::BasicBlock::Create(llctx_, "rt.error", fn_);
  auto* cont = llvm::BasicBlock::Create(llctx_, "cont", fn_);
  b_.CreateCondBr(cond, err, cont, llvm::MDBuilder(llctx_).createUnlikelyBranchWeights());
  b_.SetInsertPoint(err);
  b_.CreateCall(runtimeFn("chain_rt_error"), {ctxArg_, b_.getInt32(status), msg()});
  exitStatus_->addIncoming(b_.getInt32(status), err);
  b_.CreateBr(exitBB_);
  b_.SetInsertPoint(cont);
}

llvm::AllocaInst* FnEmitter::entryAlloca(llvm::Type* t, const char* name) {
  llvm::IRBuilder<> eb(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
  return eb.CreateAlloca(t, nullptr, name);
}

void FnEmitter::raiseFmtIf(llvm::Value* cond, int32_t status, const std::string& fmt,
                           const std::vector<llvm::Value*>& vals) {
  auto* err = llvm::BasicBlock::Create(llctx_, "rt.error", fn_);
  auto* cont = llvm::BasicBlock::Create(llctx_, "cont", fn_);
  b_.CreateCondBr(cond, err, cont, llvm::MDBuilder(llctx_).createUnlikelyBranchWeights());
  b_.SetInsertPoint(err);
  llvm::Type* arrTy = llvm::ArrayType::get(b_.getInt64Ty(), vals.empty() ? 1 : vals.size());
  llvm::Value* buf = entryAlloca(arrTy, "err.vals");
  for (size_t k = 0; k < vals.size(); ++k)
    b_.CreateStore(vals[k], b_.CreateConstInBoundsGEP2_64(arrTy, buf, 0, k));
  b_.CreateCall(runtimeFn("chain_rt_error_fmt"),
                {ctxArg_, b_.getInt32(status), globalString(fmt), buf,
                 b_.getInt32(static_cast<int32_t>(vals.size()))});
  exitStatus_->addIncoming(b_.getInt32(status), err);
  b_.CreateBr(exitBB_);
  b_.SetInsertPoint(cont);
}

void FnEmitter::raiseIf(llvm::Value* cond, int32_t status, llvm::Value* msg) {
  raiseIf(cond, status, [msg] { return msg; });
}

void FnEmitter::exitIf(llvm::Value* cond, int32_t status) {
  auto* cont = llvm::BasicBlock::Create(llctx_, "cont", fn_);
  llvm::BasicBlock* here = b_.GetInsertBlock();
  b_.CreateCondBr(cond, exitBB_, cont, llvm::MDBuilder(llctx_).createUnlikelyBranchWeights());
  exitStatus_->addIncoming(b_.getInt32(status), here);
  b_.SetInsertPoint(cont);
}

// isnan(x) || isinf(x)  <=>  !(|x| < inf)
void FnEmitter::nanCheck(const ir::Operation& op, llvm::Value* x) {
  if (!opts_.nanCheck) return;
  llvm::Value* ax = intrinsic(llvm::Intrinsic::fabs, {x});
  llvm::Value* bad = b_.CreateFCmpUGE(ax, llvm::ConstantFP::getInfinity(x->getType()));
  std::string name = std::string("'") + ir::opName(op.kind) + "'";
  llvm::Constant* nanMsg = globalString(where(op) + "NaN produced by " + name);
  llvm::Constant* infMsg = globalString(where(op) + "infinity produced by " + name);
  raiseIf(bad, CHAIN_ERR_NAN, [&] { return b_.CreateSelect(b_.CreateFCmpUNO(x, x), nanMsg, infMsg); });
}

// chain_rt_print(ctx, label, kind, fv, iv) once per operand.
void FnEmitter::emitPrint(const ir::Operation& op) {
  llvm::Constant* label = globalString(op.s);
  for (const ir::Value* v : op.operands) {
    if (v->type.rank != 0) {
      printArray(label, v);
      continue;
    }
    llvm::Value* x = get(v);
    llvm::Value* fv = llvm::ConstantFP::get(b_.getDoubleTy(), 0.0);
    llvm::Value* iv = b_.getInt64(0);
    int32_t kind = 0;
    switch (v->type.elem) {
      case ir::Scalar::F64: kind = 0; fv = x; break;
      case ir::Scalar::F32: kind = 1; fv = b_.CreateFPExt(x, b_.getDoubleTy()); break;
      case ir::Scalar::I64: kind = 2; iv = x; break;
      case ir::Scalar::Bool: kind = 3; iv = b_.CreateZExt(x, b_.getInt64Ty()); break;
    }
    b_.CreateCall(runtimeFn("chain_rt_print"), {ctxArg_, label, b_.getInt32(kind), fv, iv});
  }
}

// Ensures room for the slots (slow path: chain_rt_tape_reserve; on failure
// return CHAIN_ERR_MEMORY), stores operand k in slot k, bumps tapeTop/Peak.
void FnEmitter::emitTapePush(const ir::Operation& op) {
  if (op.operands.empty()) return;
  for (const ir::Value* v : op.operands)
    if (v->type.rank != 0) return tapePushDynamic(op);
  int64_t bytes = 8 * static_cast<int64_t>(op.operands.size());
  llvm::Type* i64 = b_.getInt64Ty();
  llvm::Value* topPtr = ctxFieldPtr(kTapeTop);
  llvm::Value* capPtr = ctxFieldPtr(kTapeCap);
  llvm::Value* top = b_.CreateLoad(i64, topPtr, "tape.top");
  llvm::Value* newTop = b_.CreateAdd(top, b_.getInt64(bytes), "tape.newtop", false, true);
  llvm::Value* full = b_.CreateICmpSGT(newTop, b_.CreateLoad(i64, capPtr));
  auto* grow = llvm::BasicBlock::Create(llctx_, "tape.grow", fn_);
  auto* ok = llvm::BasicBlock::Create(llctx_, "tape.ok", fn_);
  b_.CreateCondBr(full, grow, ok, llvm::MDBuilder(llctx_).createUnlikelyBranchWeights());
  b_.SetInsertPoint(grow);
  b_.CreateCall(runtimeFn("chain_rt_tape_reserve"), {ctxArg_, b_.getInt64(bytes)});
  exitIf(b_.CreateICmpSGT(newTop, b_.CreateLoad(i64, capPtr)), CHAIN_ERR_MEMORY);
  b_.CreateBr(ok);

  b_.SetInsertPoint(ok);
  llvm::Value* base = b_.CreateLoad(b_.getPtrTy(), ctxFieldPtr(kTapeBase), "tape.base");
  llvm::Value* slot0 = b_.CreateInBoundsGEP(b_.getInt8Ty(), base, top);
  for (size_t k = 0; k < op.operands.size(); ++k) {
    llvm::Value* p = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), slot0, 8 * k);
    storeScalar(op.operand(k)->type, get(op.operand(k)), p);
  }
  b_.CreateStore(newTop, topPtr);
  llvm::Value* peakPtr = ctxFieldPtr(kTapePeak);
  llvm::Value* peak = b_.CreateLoad(i64, peakPtr);
  b_.CreateStore(b_.CreateSelect(b_.CreateICmpSGT(newTop, peak), newTop, peak), peakPtr);
}

// The results mirror the operands of the matching push, in the same order.
void FnEmitter::emitTapePop(const ir::Operation& op) {
  if (op.results.empty()) return;
  for (const auto& r : op.results)
    if (r->type.rank != 0) return tapePopDynamic(op);
  int64_t bytes = 8 * static_cast<int64_t>(op.results.size());
  llvm::Type* i64 = b_.getInt64Ty();
  llvm::Value* topPtr = ctxFieldPtr(kTapeTop);
  llvm::Value* top = b_.CreateLoad(i64, topPtr, "tape.top");
  llvm::Value* newTop = b_.CreateSub(top, b_.getInt64(bytes), "tape.newtop", false, true);
  llvm::Value* base = b_.CreateLoad(b_.getPtrTy(), ctxFieldPtr(kTapeBase), "tape.base");
  llvm::Value* slot0 = b_.CreateInBoundsGEP(b_.getInt8Ty(), base, newTop);
  for (size_t k = 0; k < op.results.size(); ++k) {
    llvm::Value* p = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), slot0, 8 * k);
    set(op.result(k), loadScalar(op.result(k)->type, p));
  }
  b_.CreateStore(newTop, topPtr);
}

}  // namespace chain::codegen::detail
