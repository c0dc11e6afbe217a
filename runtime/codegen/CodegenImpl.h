// Internal interface of the code generator: FnEmitter turns one call-free
// Chain IR function into the LLVM function "chain.entry.<F>" with the uniform
// signature i32 (ptr ctx, ptr args, ptr results) of RuntimeABI.h.
//
// The emitter is split by concern: Codegen.cpp (entry, parameters, op
// dispatch, module assembly), CodegenScalar.cpp (constants, arithmetic, math,
// comparisons, casts), CodegenControl.cpp (if / for / while and regions),
// CodegenEffects.cpp (print, the tape, runtime errors, the NaN check).
// Everything here is private to runtime/codegen.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/IR.h"
#include "runtime/codegen/Codegen.h"

namespace chain::codegen::detail {

// Field indices of ChainCallCtx in its LLVM struct type (see ctxType()).
enum CtxField : unsigned {
  kTapeBase = 0,
  kTapeTop = 1,
  kTapeCap = 2,
  kTapePeak = 3,
  kPrintStream = 4,
  kStatus = 5,
  kMessage = 6,
};

// A compiler bug: prints the message and aborts (also in release builds).
[[noreturn]] void internalError(const std::string& msg);

class FnEmitter {
 public:
  FnEmitter(llvm::Module& m, const ir::Function& f, const CodegenOptions& opts);
  // Emits chain.entry.<f> into the module.
  void emit();

 private:
  // --- Codegen.cpp: entry, values, dispatch --------------------------------
  llvm::Type* typeOf(ir::Type t);
  llvm::Type* memTypeOf(ir::Type t);  // bool is stored as i8
  llvm::Value* get(const ir::Value* v);
  void set(const ir::Value* v, llvm::Value* x);
  llvm::Value* loadScalar(ir::Type t, llvm::Value* ptr);
  void storeScalar(ir::Type t, llvm::Value* x, llvm::Value* ptr);
  llvm::Value* loadParam(const ir::Value* p, unsigned index);
  void storeResult(ir::Type t, llvm::Value* x, unsigned index);
  void emitOp(const ir::Operation& op);

  // --- CodegenScalar.cpp (no switch over OpKind: emitOp picks the helper) --
  bool isFloatOp(const ir::Operation& op) const { return op.operand(0)->type.isFloat(); }
  llvm::Value* constFloat(const ir::Operation& op);
  llvm::Value* arith(const ir::Operation& op, llvm::Instruction::BinaryOps fop,
                     llvm::Instruction::BinaryOps iop);
  llvm::Value* emitIntDivRem(const ir::Operation& op, bool isRem);
  llvm::Value* floatIntrinsic(const ir::Operation& op, llvm::Intrinsic::ID id);
  llvm::Value* floatLibm(const ir::Operation& op, const char* name);
  llvm::Value* minMax(const ir::Operation& op, bool isMax);
  llvm::Value* negate(const ir::Operation& op);
  llvm::Value* absolute(const ir::Operation& op);
  llvm::Value* sigmoid(const ir::Operation& op);
  llvm::Value* relu(const ir::Operation& op);
  llvm::Value* softplus(const ir::Operation& op);
  llvm::Value* compare(const ir::Operation& op, llvm::CmpInst::Predicate fp,
                       llvm::CmpInst::Predicate sp, llvm::CmpInst::Predicate up);
  llvm::Value* emitCast(const ir::Operation& op);
  llvm::Value* intrinsic(llvm::Intrinsic::ID id, std::vector<llvm::Value*> args);
  llvm::Value* libm(const char* name, std::vector<llvm::Value*> args);
  llvm::Value* floatOperand(const ir::Operation& op, size_t n);  // asserts a float type

  // --- CodegenControl.cpp --------------------------------------------------
  // Binds the region's arguments to `args`, emits its ops and returns the
  // values of its terminator (yield / return).
  std::vector<llvm::Value*> emitRegion(const ir::Block& r, const std::vector<llvm::Value*>& args);
  void emitIf(const ir::Operation& op);
  void emitFor(const ir::Operation& op);
  void emitWhile(const ir::Operation& op);

  // --- CodegenEffects.cpp --------------------------------------------------
  llvm::StructType* ctxType();
  llvm::Value* ctxFieldPtr(CtxField f);
  llvm::Constant* globalString(const std::string& s);
  std::string where(const ir::Operation& op) const;  // "file:line:col: "
  llvm::FunctionCallee runtimeFn(const char* name);
  // When `cond` holds: chain_rt_error(ctx, status, msg()) and return status;
  // msg() is evaluated in the (cold) error block.
  void raiseIf(llvm::Value* cond, int32_t status, const std::function<llvm::Value*()>& msg);
  void raiseIf(llvm::Value* cond, int32_t status, llvm::Value* msg);
  // When `cond` holds: return `status` (the message is already set).
  void exitIf(llvm::Value* cond, int32_t status);
  void nanCheck(const ir::Operation& op, llvm::Value* x);
  void emitPrint(const ir::Operation& op);
  void emitTapePush(const ir::Operation& op);
  void emitTapePop(const ir::Operation& op);

  llvm::Module& mod_;
  llvm::LLVMContext& llctx_;
  llvm::IRBuilder<> b_;
  const ir::Function& f_;
  const CodegenOptions& opts_;
  llvm::Function* fn_ = nullptr;
  llvm::Value* ctxArg_ = nullptr;
  llvm::Value* argsArg_ = nullptr;
  llvm::Value* resultsArg_ = nullptr;
  llvm::BasicBlock* exitBB_ = nullptr;      // returns exitStatus_
  llvm::PHINode* exitStatus_ = nullptr;
  std::unordered_map<const ir::Value*, llvm::Value*> vals_;
  std::map<std::string, llvm::Constant*> strings_;
};

// Builds an LLVM module holding chain.entry.<F> for each F in `fns`
// (unoptimised, not yet verified) for the target data layout `dl`.
std::unique_ptr<llvm::Module> buildModule(llvm::LLVMContext& ctx, const llvm::DataLayout& dl,
                                          const ir::Module& m,
                                          const std::vector<const ir::Function*>& fns,
                                          const CodegenOptions& opts);

}  // namespace chain::codegen::detail
