// Code generation, part 2: scalar ops. Arithmetic (integer division and
// remainder guarded against a zero divisor and overflow); math functions
// through LLVM intrinsics (exp, log, sqrt, sin, cos, floor, ceil, pow, fabs,
// abs) or libm calls (tan, tanh, atan2, log1p, expm1 and their f32 variants
// tanf, ...); min/max with ties and NaN in the second operand giving the
// first; comparisons and casts (float -> int saturates through
// llvm.fptosi.sat); the random numbers call the runtime (RuntimeABI.h). No fast-math flags: floating point follows IEEE 754 as
// written (SPEC §4). emitOp (Codegen.cpp) chooses the helper per op kind.
#include <llvm/IR/Intrinsics.h>

#include <cstdint>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {

llvm::Value* FnEmitter::intrinsic(llvm::Intrinsic::ID id, std::vector<llvm::Value*> args) {
  return b_.CreateIntrinsic(id, {args[0]->getType()}, args);
}

// A call of an external function that reads and writes no memory (libm's
// errno is never read), so LLVM may hoist, CSE or drop it like arithmetic.
llvm::Value* FnEmitter::pureCall(const std::string& name, llvm::Type* result,
                                 const std::vector<llvm::Value*>& args) {
  std::vector<llvm::Type*> params;
  for (llvm::Value* a : args) params.push_back(a->getType());
  llvm::FunctionCallee callee =
      mod_.getOrInsertFunction(name, llvm::FunctionType::get(result, params, false));
  if (auto* fn = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    fn->addFnAttr(llvm::Attribute::WillReturn);
    fn->setDoesNotAccessMemory();
  }
  return b_.CreateCall(callee, args);
}

llvm::Value* FnEmitter::libm(const char* name, std::vector<llvm::Value*> args) {
  llvm::Type* t = args[0]->getType();
  std::string full = name;
  if (t->isFloatTy()) full += "f";  // tanf, atan2f, ...
  return pureCall(full, t, args);
}

// uniform / normal element (key, index) and mix(key, i): the runtime's
// wrappers of ir/Philox.h, the functions the interpreter calls.
llvm::Value* FnEmitter::random(const ir::Operation& op) {
  ir::Type t = op.result()->type;
  bool f32 = t.elem == ir::Scalar::F32;
  const char* name = op.kind == ir::OpKind::RandMix ? "chain_rt_mix"
                     : op.kind == ir::OpKind::RandUniform
                         ? (f32 ? "chain_rt_uniform_f32" : "chain_rt_uniform_f64")
                         : (f32 ? "chain_rt_normal_f32" : "chain_rt_normal_f64");
  return pureCall(name, typeOf(t), {get(op.operand(0)), get(op.operand(1))});
}

llvm::Value* FnEmitter::floatOperand(const ir::Operation& op, size_t n) {
  if (!op.operand(n)->type.isFloat())
    internalError(std::string("'") + ir::opName(op.kind) + "' on a non-float operand");
  return get(op.operand(n));
}

llvm::Value* FnEmitter::constFloat(const ir::Operation& op) {
  ir::Type t = op.result()->type;
  if (!t.isFloatScalar()) internalError("constf with a non-float type");
  return llvm::ConstantFP::get(typeOf(t), op.f);
}

llvm::Value* FnEmitter::arith(const ir::Operation& op, llvm::Instruction::BinaryOps fop,
                              llvm::Instruction::BinaryOps iop) {
  return b_.CreateBinOp(isFloatOp(op) ? fop : iop, get(op.operand(0)), get(op.operand(1)));
}

// a / b and a % b on i64: C semantics; a zero divisor and INT64_MIN / -1
// (also INT64_MIN % -1, as in the reference interpreter) are runtime errors.
llvm::Value* FnEmitter::emitIntDivRem(const ir::Operation& op, bool isRem) {
  llvm::Value* a = get(op.operand(0));
  llvm::Value* b = get(op.operand(1));
  llvm::Value* zero = b_.CreateICmpEQ(b, b_.getInt64(0));
  raiseIf(zero, CHAIN_ERR_RUNTIME, globalString(where(op) + "integer division by zero"));
  llvm::Value* minusOne = b_.CreateICmpEQ(b, b_.getInt64(-1));
  llvm::Value* isMin = b_.CreateICmpEQ(a, b_.getInt64(INT64_MIN));
  raiseIf(b_.CreateAnd(isMin, minusOne), CHAIN_ERR_RUNTIME,
          globalString(where(op) + "integer overflow in division"));
  return isRem ? b_.CreateSRem(a, b) : b_.CreateSDiv(a, b);
}

llvm::Value* FnEmitter::floatIntrinsic(const ir::Operation& op, llvm::Intrinsic::ID id) {
  std::vector<llvm::Value*> args;
  for (size_t n = 0; n < op.operands.size(); ++n) args.push_back(floatOperand(op, n));
  return intrinsic(id, args);
}

llvm::Value* FnEmitter::floatLibm(const ir::Operation& op, const char* name) {
  std::vector<llvm::Value*> args;
  for (size_t n = 0; n < op.operands.size(); ++n) args.push_back(floatOperand(op, n));
  return libm(name, args);
}

// min: (b < a) ? b : a; max: (b > a) ? b : a. A tie or a NaN in b gives a.
llvm::Value* FnEmitter::minMax(const ir::Operation& op, bool isMax) {
  llvm::Value* a = get(op.operand(0));
  llvm::Value* b = get(op.operand(1));
  llvm::Value* take;
  if (isFloatOp(op))
    take = isMax ? b_.CreateFCmpOGT(b, a) : b_.CreateFCmpOLT(b, a);
  else
    take = isMax ? b_.CreateICmpSGT(b, a) : b_.CreateICmpSLT(b, a);
  return b_.CreateSelect(take, b, a);
}

llvm::Value* FnEmitter::negate(const ir::Operation& op) {
  llvm::Value* x = get(op.operand(0));
  return isFloatOp(op) ? b_.CreateFNeg(x) : b_.CreateSub(b_.getInt64(0), x);
}

llvm::Value* FnEmitter::absolute(const ir::Operation& op) {
  llvm::Value* x = get(op.operand(0));
  if (isFloatOp(op)) return intrinsic(llvm::Intrinsic::fabs, {x});
  return b_.CreateIntrinsic(llvm::Intrinsic::abs, {x->getType()}, {x, b_.getInt1(false)});
}

// 1 / (1 + exp(-x))
llvm::Value* FnEmitter::sigmoid(const ir::Operation& op) {
  llvm::Value* x = floatOperand(op, 0);
  llvm::Value* one = llvm::ConstantFP::get(x->getType(), 1.0);
  llvm::Value* e = intrinsic(llvm::Intrinsic::exp, {b_.CreateFNeg(x)});
  return b_.CreateFDiv(one, b_.CreateFAdd(one, e));
}

// x > 0 ? x : 0 (NaN -> 0)
llvm::Value* FnEmitter::relu(const ir::Operation& op) {
  llvm::Value* x = get(op.operand(0));
  if (!isFloatOp(op))
    return b_.CreateSelect(b_.CreateICmpSGT(x, b_.getInt64(0)), x, b_.getInt64(0));
  llvm::Value* zero = llvm::ConstantFP::get(x->getType(), 0.0);
  return b_.CreateSelect(b_.CreateFCmpOGT(x, zero), x, zero);
}

// max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|.
llvm::Value* FnEmitter::softplus(const ir::Operation& op) {
  llvm::Value* x = floatOperand(op, 0);
  llvm::Value* zero = llvm::ConstantFP::get(x->getType(), 0.0);
  llvm::Value* pos = b_.CreateSelect(b_.CreateFCmpOGT(x, zero), x, zero);
  llvm::Value* ax = intrinsic(llvm::Intrinsic::fabs, {x});
  llvm::Value* e = intrinsic(llvm::Intrinsic::exp, {b_.CreateFNeg(ax)});
  return b_.CreateFAdd(pos, libm("log1p", {e}));
}

// fp for floats, sp for i64 (signed), up for bool (false < true).
llvm::Value* FnEmitter::compare(const ir::Operation& op, llvm::CmpInst::Predicate fp,
                                llvm::CmpInst::Predicate sp, llvm::CmpInst::Predicate up) {
  llvm::Value* a = get(op.operand(0));
  llvm::Value* b = get(op.operand(1));
  switch (op.operand(0)->type.elem) {
    case ir::Scalar::F64: case ir::Scalar::F32: return b_.CreateFCmp(fp, a, b);
    case ir::Scalar::I64: return b_.CreateICmp(sp, a, b);
    case ir::Scalar::Bool: return b_.CreateICmp(up, a, b);
  }
  internalError("bad scalar kind");
}

llvm::Value* FnEmitter::emitCast(const ir::Operation& op) {
  llvm::Value* x = get(op.operand(0));
  ir::Scalar from = op.operand(0)->type.elem;
  ir::Type toT = op.result()->type;
  ir::Scalar to = toT.elem;
  llvm::Type* dst = typeOf(toT);
  auto isF = [](ir::Scalar s) { return s == ir::Scalar::F64 || s == ir::Scalar::F32; };
  if (from == to) return x;
  if (isF(from) && isF(to))
    return to == ir::Scalar::F64 ? b_.CreateFPExt(x, dst) : b_.CreateFPTrunc(x, dst);
  if (isF(from) && to == ir::Scalar::I64)  // toward zero; NaN -> 0; saturating
    return b_.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {dst, x->getType()}, {x});
  if (isF(from) && to == ir::Scalar::Bool)
    return b_.CreateFCmpUNE(x, llvm::ConstantFP::get(x->getType(), 0.0));
  if (from == ir::Scalar::I64 && isF(to)) return b_.CreateSIToFP(x, dst);
  if (from == ir::Scalar::I64 && to == ir::Scalar::Bool)
    return b_.CreateICmpNE(x, b_.getInt64(0));
  if (from == ir::Scalar::Bool && isF(to)) return b_.CreateUIToFP(x, dst);
  if (from == ir::Scalar::Bool && to == ir::Scalar::I64) return b_.CreateZExt(x, dst);
  internalError("unsupported cast");
}

}  // namespace chain::codegen::detail
