// Code generation, part 1: the entry function of each IR function (its
// uniform signature, parameter loads, result stores, the common error exit),
// the mapping of IR values to LLVM values, and the dispatch over every op
// kind. The op families live in CodegenScalar.cpp, CodegenControl.cpp,
// CodegenEffects.cpp and the CodegenArray*.cpp files. A function that
// allocates from the arena releases it (back to the head seen on entry)
// before each return, on success and on error.
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <cstdlib>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {

void internalError(const std::string& msg) {
  llvm::errs() << "chain: internal error in code generation: " << msg << "\n";
  llvm::errs().flush();
  std::abort();
}

FnEmitter::FnEmitter(llvm::Module& m, const ir::Function& f, const CodegenOptions& opts)
    : mod_(m), llctx_(m.getContext()), b_(m.getContext()), f_(f), opts_(opts) {}

llvm::Type* FnEmitter::typeOf(ir::Type t) {
  if (t.rank != 0) internalError("array values are not supported by code generation yet");
  switch (t.elem) {
    case ir::Scalar::F64: return b_.getDoubleTy();
    case ir::Scalar::F32: return b_.getFloatTy();
    case ir::Scalar::I64: return b_.getInt64Ty();
    case ir::Scalar::Bool: return b_.getInt1Ty();
  }
  internalError("bad scalar kind");
}

llvm::Type* FnEmitter::memTypeOf(ir::Type t) {
  return t.elem == ir::Scalar::Bool ? b_.getInt8Ty() : typeOf(t);
}

llvm::Value* FnEmitter::get(const ir::Value* v) {
  auto it = vals_.find(v);
  if (it == vals_.end()) internalError("use of a value that is not defined (dominance)");
  return it->second;
}

void FnEmitter::set(const ir::Value* v, llvm::Value* x) { vals_[v] = x; }

std::vector<llvm::Type*> FnEmitter::flatTypes(ir::Type t) {
  if (t.rank == 0) return {typeOf(t)};
  std::vector<llvm::Type*> ts{b_.getPtrTy()};
  ts.insert(ts.end(), static_cast<size_t>(t.rank), b_.getInt64Ty());
  return ts;
}

std::vector<llvm::Value*> FnEmitter::flat(const ir::Value* v) {
  if (v->type.rank == 0) return {get(v)};
  const ArrVal& a = arr(v);
  std::vector<llvm::Value*> xs{a.data};
  xs.insert(xs.end(), a.dims.begin(), a.dims.end());
  return xs;
}

void FnEmitter::bindFlat(const ir::Value* v, const std::vector<llvm::Value*>& xs, size_t& pos) {
  size_t n = flatSize(v->type);
  if (pos + n > xs.size()) internalError("flattened value list too short");
  if (v->type.rank == 0) {
    set(v, xs[pos++]);
    return;
  }
  ArrVal a;
  a.data = xs[pos++];
  for (int k = 0; k < v->type.rank; ++k) a.dims.push_back(xs[pos++]);
  setArr(v, std::move(a));
}

llvm::Value* FnEmitter::loadScalar(ir::Type t, llvm::Value* ptr) {
  llvm::Value* x = b_.CreateLoad(memTypeOf(t), ptr);
  if (t.elem == ir::Scalar::Bool) x = b_.CreateICmpNE(x, b_.getInt8(0));
  return x;
}

void FnEmitter::storeScalar(ir::Type t, llvm::Value* x, llvm::Value* ptr) {
  if (t.elem == ir::Scalar::Bool) x = b_.CreateZExt(x, b_.getInt8Ty());
  b_.CreateStore(x, ptr);
}

// Parameter `index`: args[index] points to a scalar, or (rank >= 1) to a
// ChainArray descriptor (bound with setArr; returns null).
llvm::Value* FnEmitter::loadParam(const ir::Value* p, unsigned index) {
  llvm::Value* slot = b_.CreateConstInBoundsGEP1_64(b_.getPtrTy(), argsArg_, index);
  llvm::Value* ptr = b_.CreateLoad(b_.getPtrTy(), slot, "arg.ptr");
  if (p->type.rank != 0) {
    setArr(p, loadArrayParam(p->type, ptr));
    return nullptr;
  }
  return loadScalar(p->type, ptr);
}

void FnEmitter::storeResult(ir::Type t, llvm::Value* x, unsigned index) {
  llvm::Value* slot = b_.CreateConstInBoundsGEP1_64(b_.getPtrTy(), resultsArg_, index);
  llvm::Value* ptr = b_.CreateLoad(b_.getPtrTy(), slot, "res.ptr");
  if (t.rank != 0) internalError("array results go through storeArrayResults");
  storeScalar(t, x, ptr);
}

void FnEmitter::emit() {
  llvm::Type* ptrTy = b_.getPtrTy();
  auto* fty = llvm::FunctionType::get(b_.getInt32Ty(), {ptrTy, ptrTy, ptrTy}, false);
  fn_ = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, "chain.entry." + f_.name,
                               mod_);
  fn_->addFnAttr(llvm::Attribute::NoUnwind);
  for (unsigned i = 0; i < 3; ++i) {
    fn_->addParamAttr(i, llvm::Attribute::NoAlias);
    fn_->addParamAttr(i, llvm::Attribute::NoCapture);
  }
  fn_->addParamAttr(1, llvm::Attribute::ReadOnly);
  fn_->addParamAttr(2, llvm::Attribute::ReadOnly);
  ctxArg_ = fn_->getArg(0);
  argsArg_ = fn_->getArg(1);
  resultsArg_ = fn_->getArg(2);
  ctxArg_->setName("ctx");
  argsArg_->setName("args");
  resultsArg_->setName("results");

  llvm::BasicBlock* entry = beginBody();
  plan_ = std::make_unique<BufferPlan>(f_);
  std::vector<llvm::Value*> params, paramData;
  for (size_t i = 0; i < f_.numParams(); ++i) {
    llvm::Value* x = loadParam(f_.param(i), static_cast<unsigned>(i));
    std::vector<llvm::Value*> xs = x ? std::vector<llvm::Value*>{x} : flat(f_.param(i));
    if (!x) paramData.push_back(arr(f_.param(i)).data);
    if (!x) paramData_.insert(arr(f_.param(i)).data);
    params.insert(params.end(), xs.begin(), xs.end());
  }
  const ir::Operation* ret = f_.body.terminator();
  if (!ret || ret->kind != ir::OpKind::Return) internalError("function body without return");
  std::vector<llvm::Value*> results = emitRegion(f_.body, params);
  storeArrayResults(*ret, results);
  size_t pos = 0;
  for (size_t j = 0; j < ret->operands.size(); ++j) {
    ir::Type t = ret->operand(j)->type;
    if (t.rank == 0) storeResult(t, results[pos], static_cast<unsigned>(j));
    pos += flatSize(t);
  }
  b_.CreateRet(b_.getInt32(CHAIN_OK));
  endBody(entry, paramData);
}

llvm::BasicBlock* FnEmitter::beginBody() {
  auto* entry = llvm::BasicBlock::Create(llctx_, "entry", fn_);
  exitBB_ = llvm::BasicBlock::Create(llctx_, "error.exit", fn_);
  b_.SetInsertPoint(exitBB_);
  exitStatus_ = b_.CreatePHI(b_.getInt32Ty(), 4, "status");
  b_.CreateRet(exitStatus_);
  b_.SetInsertPoint(entry);
  return entry;
}

void FnEmitter::endBody(llvm::BasicBlock* entry, const std::vector<llvm::Value*>& paramData) {
  if (exitStatus_->getNumIncomingValues() == 0) {
    exitBB_->eraseFromParent();  // no runtime error possible
  } else {
    exitBB_->moveAfter(&fn_->back());
  }
  if (usesArena_) releaseArenaOnReturn(entry);
  annotateAliasing(paramData);
}

// Tells LLVM what is known about the memory of array buffers, so that loops
// need no runtime alias checks (vector.memcheck): every chain_rt_alloc call
// returns a fresh arena block (`noalias` return, like malloc: two blocks
// never overlap while both are live), and the arena never overlaps the
// caller's parameter arrays, so loads from parameter data carry the alias
// scope "params" and loads / stores whose base is an arena block are marked
// `noalias` with it. Accesses through other pointers (phis of buffers, the
// tape, the context) are left as they are.
void FnEmitter::annotateAliasing(const std::vector<llvm::Value*>& paramData) {
  std::set<const llvm::Value*> params(paramData.begin(), paramData.end());
  auto isAlloc = [](const llvm::Value* v) {
    const auto* c = llvm::dyn_cast<llvm::CallInst>(v);
    const llvm::Function* callee = c ? c->getCalledFunction() : nullptr;
    return callee && callee->getName() == "chain_rt_alloc";
  };
  llvm::MDBuilder md(llctx_);
  llvm::MDNode* domain = md.createAnonymousAliasScopeDomain("chain.buffers");
  llvm::MDNode* scope = md.createAnonymousAliasScope(domain, "chain.params");
  llvm::MDNode* scopes = llvm::MDNode::get(llctx_, {scope});
  for (llvm::BasicBlock& bb : *fn_)
    for (llvm::Instruction& in : bb) {
      if (auto* c = llvm::dyn_cast<llvm::CallInst>(&in); c && isAlloc(c)) {
        c->addRetAttr(llvm::Attribute::NoAlias);
        continue;
      }
      llvm::Value* ptr = llvm::getLoadStorePointerOperand(&in);
      if (!ptr) continue;
      const llvm::Value* base = llvm::getUnderlyingObject(ptr);
      unsigned kind = 0;
      if (params.count(base) && llvm::isa<llvm::LoadInst>(in)) kind = llvm::LLVMContext::MD_alias_scope;
      else if (isAlloc(base)) kind = llvm::LLVMContext::MD_noalias;
      else continue;
      in.setMetadata(kind, llvm::MDNode::concatenate(in.getMetadata(kind), scopes));
    }
}

// Loads ctx->arena at entry and releases back to it before every `ret`.
void FnEmitter::releaseArenaOnReturn(llvm::BasicBlock* entry) {
  b_.SetInsertPoint(entry, entry->getFirstInsertionPt());
  llvm::Value* mark = b_.CreateLoad(b_.getPtrTy(), ctxFieldPtr(kArena), "arena.mark");
  std::vector<llvm::ReturnInst*> rets;
  for (llvm::BasicBlock& bb : *fn_)
    if (auto* r = llvm::dyn_cast<llvm::ReturnInst>(bb.getTerminator())) rets.push_back(r);
  for (llvm::ReturnInst* r : rets) {
    b_.SetInsertPoint(r);
    b_.CreateCall(runtimeFn("chain_rt_arena_release"), {ctxArg_, mark});
  }
}

// The one switch over every op kind. Scalar ops produce one value `r`;
// float results of computing ops go through the optional NaN check.
void FnEmitter::emitOp(const ir::Operation& op) {
  using K = ir::OpKind;
  using P = llvm::CmpInst::Predicate;
  namespace In = llvm::Intrinsic;
  using BO = llvm::Instruction::BinaryOps;
  llvm::Value* r = nullptr;
  bool check = true;
  switch (op.kind) {
    case K::ConstF: r = constFloat(op); check = false; break;
    case K::ConstI: r = b_.getInt64(static_cast<uint64_t>(op.i)); break;
    case K::ConstB: r = b_.getInt1(op.i != 0); break;
    case K::Add: r = arith(op, BO::FAdd, BO::Add); break;
    case K::Sub: r = arith(op, BO::FSub, BO::Sub); break;
    case K::Mul: r = arith(op, BO::FMul, BO::Mul); break;
    case K::Div: r = isFloatOp(op) ? arith(op, BO::FDiv, BO::SDiv) : emitIntDivRem(op, false); break;
    case K::Rem: r = isFloatOp(op) ? arith(op, BO::FRem, BO::SRem) : emitIntDivRem(op, true); break;
    case K::Pow: r = floatIntrinsic(op, In::pow); break;
    case K::Min: r = minMax(op, false); break;
    case K::Max: r = minMax(op, true); break;
    case K::Atan2: r = floatLibm(op, "atan2"); break;
    case K::Neg: r = negate(op); break;
    case K::Abs: r = absolute(op); break;
    case K::Exp: r = floatIntrinsic(op, In::exp); break;
    case K::Log: r = floatIntrinsic(op, In::log); break;
    case K::Sqrt: r = floatIntrinsic(op, In::sqrt); break;
    case K::Sin: r = floatIntrinsic(op, In::sin); break;
    case K::Cos: r = floatIntrinsic(op, In::cos); break;
    case K::Tan: r = floatLibm(op, "tan"); break;
    case K::Tanh: r = floatLibm(op, "tanh"); break;
    case K::Sigmoid: r = sigmoid(op); break;
    case K::Relu: r = relu(op); break;
    case K::Softplus: r = softplus(op); break;
    case K::Log1p: r = floatLibm(op, "log1p"); break;
    case K::Expm1: r = floatLibm(op, "expm1"); break;
    case K::Floor: r = floatIntrinsic(op, In::floor); break;
    case K::Ceil: r = floatIntrinsic(op, In::ceil); break;
    case K::Lt: r = compare(op, P::FCMP_OLT, P::ICMP_SLT, P::ICMP_ULT); break;
    case K::Le: r = compare(op, P::FCMP_OLE, P::ICMP_SLE, P::ICMP_ULE); break;
    case K::Gt: r = compare(op, P::FCMP_OGT, P::ICMP_SGT, P::ICMP_UGT); break;
    case K::Ge: r = compare(op, P::FCMP_OGE, P::ICMP_SGE, P::ICMP_UGE); break;
    case K::Eq: r = compare(op, P::FCMP_OEQ, P::ICMP_EQ, P::ICMP_EQ); break;
    case K::Ne: r = compare(op, P::FCMP_UNE, P::ICMP_NE, P::ICMP_NE); break;
    case K::And: r = b_.CreateAnd(get(op.operand(0)), get(op.operand(1))); break;
    case K::Or: r = b_.CreateOr(get(op.operand(0)), get(op.operand(1))); break;
    case K::Not: r = b_.CreateNot(get(op.operand(0))); break;
    case K::Select:
      if (op.result()->type.rank != 0) return emitArrayOp(op);
      r = b_.CreateSelect(get(op.operand(0)), get(op.operand(1)), get(op.operand(2)));
      check = false;
      break;
    case K::Cast: r = emitCast(op); break;
    // never NaN or infinite: no NaN check
    case K::RandUniform: case K::RandNormal: case K::RandMix: r = random(op); check = false; break;
    case K::StopGradient:
      if (op.result()->type.rank != 0) return emitArrayOp(op);
      r = get(op.operand(0));
      check = false;
      break;
    case K::Call: case K::GradCall:
      internalError(std::string("'") + ir::opName(op.kind) + "' must be inlined before codegen");
    case K::Print: emitPrint(op); return;
    case K::If: emitIf(op); return;
    case K::For: emitFor(op); return;
    case K::While: emitWhile(op); return;
    case K::Yield: case K::Return: internalError("terminator in the middle of a block");
    case K::TapePush: emitTapePush(op); return;
    case K::TapePop: emitTapePop(op); return;
    case K::Dim: case K::Index: case K::Slice: case K::Update: case K::AddAt:
    case K::Transpose: case K::Fill: case K::Build: case K::Assert:
      emitArrayOp(op);
      return;
    case K::Map: emitMap(op); return;
    case K::Reduce: emitReduce(op); return;
    case K::MatMul: emitMatMul(op); return;
  }
  set(op.result(), r);
  if (check && r->getType()->isFloatingPointTy()) nanCheck(op, r);
}

std::unique_ptr<llvm::Module> buildModule(llvm::LLVMContext& ctx, const llvm::DataLayout& dl,
                                          const ir::Module& m,
                                          const std::vector<const ir::Function*>& fns,
                                          const CodegenOptions& opts) {
  auto mod = std::make_unique<llvm::Module>(m.fileName.empty() ? "chain" : m.fileName, ctx);
  mod->setDataLayout(dl);
  for (const ir::Function* f : fns) {
    if (!f) internalError("null function given to code generation");
    FnEmitter(*mod, *f, opts).emit();
  }
  return mod;
}

}  // namespace chain::codegen::detail
