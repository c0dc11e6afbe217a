// Code generation, part 6: array loops. Counted loops of a simple shape
// (i = lo; i < hi; ++i, nsw) that LLVM's loop vectoriser recognises; `map`
// (a row-major loop nest storing the region's value, innermost loop
// contiguous), `reduce` (an accumulator; sum / prod use `reassoc` fadd / fmul
// and nothing else gets fast-math flags; max / min use llvm.maximum /
// llvm.minimum, so a NaN element makes the result NaN and +0 > -0;
// logsumexp evaluates a costly body once with a running max, a trivial one
// (loads, one cheap op) in two vectorisable passes: m = max, then m +
// log(sum exp(x - m)); an infinite or NaN m is returned as it is)
// (`matmul`: CodegenMatMul.cpp). A map's output buffer gets a fresh
// alias scope, so its loops need no runtime alias checks against it. A
// counted loop nested in another loop is marked not to be interleaved by the
// loop vectoriser (nestedLoopMetadata: less IR, no vector body wider than a
// short row). Large
// maps and reduces run their loops in chunks on all cores
// (CodegenParallel.cpp); mapRows and reduceRange emit one chunk's loops.
//
// Bounds checks of the index ops at the top level of a map / reduce region
// whose index is the region's own index plus a constant, or is invariant,
// are hoisted before the loop (one range test, reporting the first index that
// would fail), so the loop body has no early exit and vectorises.
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <tuple>
#include <limits>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {
bool definedIn(const ir::Value* v, const ir::Block& region) {
  const ir::Block* d = v->def ? v->def->parent : v->owner;
  for (; d; d = d->parentOp ? d->parentOp->parent : nullptr)
    if (d == &region) return true;
  return false;
}

namespace {

// x = region arg #j (+/- a constant): returns j and sets c; else -1.
int affineInArg(const ir::Value* x, const ir::Block& region, int64_t& c) {
  for (size_t j = 0; j < region.args.size(); ++j)
    if (ir::argPlusConstant(x, region.arg(j), c)) return static_cast<int>(j);
  c = 0;
  return -1;
}

}  // namespace

std::vector<llvm::Value*> FnEmitter::countedLoop(llvm::Value* lo, llvm::Value* hi,
                                                 const std::vector<llvm::Value*>& init,
                                                 const LoopBody& body) {
  llvm::BasicBlock* pre = b_.GetInsertBlock();
  auto* head = llvm::BasicBlock::Create(llctx_, "loop.head", fn_);
  auto* bodyBB = llvm::BasicBlock::Create(llctx_, "loop.body", fn_);
  auto* exit = llvm::BasicBlock::Create(llctx_, "loop.end", fn_);
  b_.CreateBr(head);
  b_.SetInsertPoint(head);
  llvm::PHINode* iv = b_.CreatePHI(b_.getInt64Ty(), 2, "j");
  iv->addIncoming(lo, pre);
  std::vector<llvm::PHINode*> phis;
  std::vector<llvm::Value*> carried;
  for (llvm::Value* x : init) {
    llvm::PHINode* phi = b_.CreatePHI(x->getType(), 2);
    phi->addIncoming(x, pre);
    phis.push_back(phi);
    carried.push_back(phi);
  }
  b_.CreateCondBr(b_.CreateICmpSLT(iv, hi), bodyBB, exit);
  b_.SetInsertPoint(bodyBB);
  bool nested = loopDepth_ > 0;
  ++loopDepth_;
  std::vector<llvm::Value*> next = body(iv, carried);
  --loopDepth_;
  if (next.size() != phis.size()) internalError("loop body returned the wrong number of values");
  llvm::Value* inext = b_.CreateAdd(iv, b_.getInt64(1), "j.next", false, /*nsw=*/true);
  llvm::BasicBlock* latch = b_.GetInsertBlock();
  llvm::BranchInst* back = b_.CreateBr(head);
  if (nested) back->setMetadata(llvm::LLVMContext::MD_loop, nestedLoopMetadata());
  iv->addIncoming(inext, latch);
  for (size_t k = 0; k < phis.size(); ++k) phis[k]->addIncoming(next[k], latch);
  b_.SetInsertPoint(exit);
  return carried;
}

// A counted loop inside another loop (a map or reduce in a `for` body or in
// an outer map's row, an inner dimension of a map) runs over a row, a
// short extent in the benchmark models (lstm's 14 units, gmm's d): the loop
// vectoriser is told not to interleave it (llvm.loop.interleave.count = 1),
// so it emits one vector body of VF lanes instead of 2-4 copies of it. With
// AVX-512 and f64 the interleaved body took 32 elements per iteration, more
// than such a row has, so the row ran entirely in the scalar remainder, and
// the copies were most of the LLVM IR of the gradients that the pipeline and
// instruction selection spend their time on. Top-level loops (the long
// passes over n of lse, ode) keep LLVM's interleaving, which hides the
// latency of their reductions' accumulator chains.
llvm::MDNode* FnEmitter::nestedLoopMetadata() {
  llvm::Metadata* ic[] = {llvm::MDString::get(llctx_, "llvm.loop.interleave.count"),
                          llvm::ConstantAsMetadata::get(b_.getInt32(1))};
  llvm::MDNode* self = llvm::MDNode::getDistinct(llctx_, {nullptr, llvm::MDNode::get(llctx_, ic)});
  self->replaceOperandWith(0, self);
  return self;
}

void FnEmitter::simpleLoop(llvm::Value* lo, llvm::Value* hi,
                           const std::function<void(llvm::Value*)>& body) {
  countedLoop(lo, hi, {}, [&](llvm::Value* i, const std::vector<llvm::Value*>&) {
    body(i);
    return std::vector<llvm::Value*>{};
  });
}

// See the file comment. lo/hi: the range of each region argument; the checks
// only fire when `nonEmpty` (the loop runs at least once).
void FnEmitter::hoistChecks(const ir::Block& region, const std::vector<llvm::Value*>& lo,
                            const std::vector<llvm::Value*>& hi, llvm::Value* nonEmpty) {
  if (!opts_.boundsChecks) return;
  for (const auto& opPtr : region.ops) {
    const ir::Operation& op = *opPtr;
    if (op.kind != ir::OpKind::Index || definedIn(op.operand(0), region)) continue;
    const ArrVal& a = arr(op.operand(0));
    for (size_t k = 0; k + 1 < op.operands.size() && k < a.dims.size(); ++k) {
      const ir::Value* x = op.operand(k + 1);
      llvm::Value* dim = a.dims[k];
      llvm::Value* bad = nullptr;
      llvm::Value* report = nullptr;
      int64_t c = 0;
      int j = affineInArg(x, region, c);
      if (j >= 0) {
        llvm::Value* first = b_.CreateAdd(lo[static_cast<size_t>(j)], b_.getInt64(c));
        llvm::Value* last = b_.CreateAdd(hi[static_cast<size_t>(j)], b_.getInt64(c - 1));
        llvm::Value* firstBad = b_.CreateICmpUGE(first, dim);
        bad = b_.CreateOr(firstBad, b_.CreateICmpSGE(last, dim));
        report = b_.CreateSelect(firstBad, first, dim);
      } else if (!definedIn(x, region) || (x->def && x->def->kind == ir::OpKind::ConstI)) {
        report = definedIn(x, region) ? b_.getInt64(x->def->i) : get(x);
        bad = b_.CreateICmpUGE(report, dim);
      } else {
        continue;
      }
      raiseFmtIf(b_.CreateAnd(nonEmpty, bad), CHAIN_ERR_RUNTIME,
                 where(op) + "index {} is out of bounds for axis " + std::to_string(k) +
                     " of size {}",
                 {report, dim});
      prechecked_.insert({&op, k});
    }
  }
}

llvm::Value* FnEmitter::convertScalar(llvm::Value* x, ir::Type from, ir::Type to) {
  if (from == to) return x;
  llvm::Type* t = typeOf(to);
  if (to.isFloat() && from.isFloat()) return b_.CreateFPCast(x, t);
  if (to.isFloat() && from.elem == ir::Scalar::I64) return b_.CreateSIToFP(x, t);
  if (to.isFloat() && from.elem == ir::Scalar::Bool) return b_.CreateUIToFP(x, t);
  if (to.elem == ir::Scalar::I64 && from.elem == ir::Scalar::Bool) return b_.CreateZExt(x, t);
  internalError("unsupported conversion from " + from.str() + " to " + to.str());
}

// Emits the region for `args` and returns its one yielded scalar as `to`.
llvm::Value* FnEmitter::regionScalar(const ir::Block& r, const std::vector<llvm::Value*>& args,
                                     ir::Type to) {
  const ir::Operation* term = r.terminator();
  if (!term || term->operands.size() != 1 || term->operand(0)->type.rank != 0)
    internalError("map / reduce region must yield one scalar");
  std::vector<llvm::Value*> vals = emitRegion(r, args);
  return convertScalar(vals[0], term->operand(0)->type, to);
}

// %a = map (n0..) ^(i0..) { yield x }: a row-major loop nest, on all cores
// when runsParallel (CodegenParallel.cpp).
void FnEmitter::emitMap(const ir::Operation& op) {
  ir::Type t = op.result()->type;
  const ir::Block& region = *op.region(0);
  std::vector<llvm::Value*> dims, zeros;
  llvm::Value* nonEmpty = b_.getTrue();
  for (const ir::Value* n : op.operands) {
    llvm::Value* d = checkedSize(op, n);  // a negative extent is an error, as in the interpreter
    dims.push_back(d);
    zeros.push_back(b_.getInt64(0));
    nonEmpty = b_.CreateAnd(nonEmpty, b_.CreateICmpSGT(d, b_.getInt64(0)));
  }
  if (dims.empty()) internalError("map without extents");
  ArrVal out = newArray(t, dims);
  hoistChecks(region, zeros, dims, nonEmpty);
  if (runsParallel(op))
    parallelMap(op, out);
  else
    mapRows(op, out, b_.getInt64(0), dims[0]);
  setArr(op.result(), std::move(out));
}

// Rows lo..hi-1 (axis 0) of map `op` into `out`, every other axis whole.
void FnEmitter::mapRows(const ir::Operation& op, const ArrVal& out, llvm::Value* lo, llvm::Value* hi) {
  ir::Type t = op.result()->type;
  const ir::Block& region = *op.region(0);
  const std::vector<llvm::Value*>& dims = out.dims;
  llvm::Value* mark = arenaMark();
  std::vector<llvm::Value*> idx;
  std::function<void(size_t, llvm::Value*)> level = [&](size_t k, llvm::Value* linBase) {
    simpleLoop(k == 0 ? lo : b_.getInt64(0), k == 0 ? hi : dims[k], [&](llvm::Value* i) {
      llvm::Value* lin = b_.CreateAdd(b_.CreateMul(linBase, dims[k], "", true, true), i, "lin", true, true);
      idx.push_back(i);
      if (k + 1 == dims.size()) {
        size_t allocsBefore = allocCount_;
        llvm::Value* x = regionScalar(region, idx, {t.elem, 0});
        storeScalar({t.elem, 0}, x, elemPtr(t, out.data, lin));
        if (allocCount_ != allocsBefore) releaseIteration(mark, {});
      } else {
        level(k + 1, lin);
      }
      idx.pop_back();
    });
  };
  llvm::BasicBlock* before = &fn_->back();
  llvm::MDNode* scope = declareFreshScope();
  level(0, b_.getInt64(0));
  markFreshOutput(before, out.data, scope);
}

// A new alias scope, declared here (llvm.experimental.noalias.scope.decl:
// each run of the map is a new instance of it, as for an inlined noalias
// argument).
llvm::MDNode* FnEmitter::declareFreshScope() {
  llvm::MDBuilder md(llctx_);
  if (!scopeDomain_) scopeDomain_ = md.createAnonymousAliasScopeDomain("chain.fresh");
  llvm::MDNode* scope = md.createAnonymousAliasScope(scopeDomain_, "chain.map.out");
  llvm::MDNode* list = llvm::MDNode::get(llctx_, {scope});
  llvm::Function* decl = llvm::Intrinsic::getDeclaration(&mod_, llvm::Intrinsic::experimental_noalias_scope_decl);
  b_.CreateCall(decl, {llvm::MetadataAsValue::get(llctx_, list)});
  return list;
}

// The map's output buffer was allocated just before its loops and nothing
// else in them can reach it (the map's value is not visible in its own
// body): in the blocks after `before`, stores based on `out` get the scope
// and every other load / store is `noalias` with it, so the loop needs no
// runtime alias check against the buffer it fills.
void FnEmitter::markFreshOutput(llvm::BasicBlock* before, llvm::Value* out, llvm::MDNode* scope) {
  bool after = false;
  for (llvm::BasicBlock& bb : *fn_) {
    if (&bb == before) {
      after = true;
      continue;
    }
    if (!after) continue;
    for (llvm::Instruction& in : bb) {
      llvm::Value* ptr = llvm::getLoadStorePointerOperand(&in);
      if (!ptr) continue;
      bool mine = llvm::getUnderlyingObject(ptr) == out;
      if (mine && !llvm::isa<llvm::StoreInst>(in)) continue;  // not emitted; be safe
      unsigned kind = mine ? llvm::LLVMContext::MD_alias_scope : llvm::LLVMContext::MD_noalias;
      in.setMetadata(kind, llvm::MDNode::concatenate(in.getMetadata(kind), scope));
    }
  }
}

llvm::Value* FnEmitter::reduceIdentity(const std::string& kind, ir::Type t) {
  double inf = std::numeric_limits<double>::infinity();
  if (t.isFloat()) {
    double v = kind == "sum" ? 0.0 : kind == "prod" ? 1.0 : kind == "min" ? inf : -inf;
    return llvm::ConstantFP::get(typeOf(t), v);
  }
  if (t.elem != ir::Scalar::I64) internalError("reduce over a non-numeric type");
  if (kind == "sum") return b_.getInt64(0);
  if (kind == "prod") return b_.getInt64(1);
  if (kind == "max") return b_.getInt64(static_cast<uint64_t>(INT64_MIN));
  if (kind == "min") return b_.getInt64(static_cast<uint64_t>(INT64_MAX));
  internalError("reduce kind '" + kind + "' on i64");
}

llvm::Value* FnEmitter::reduceStep(const std::string& kind, ir::Type t, llvm::Value* acc,
                                   llvm::Value* x) {
  namespace In = llvm::Intrinsic;
  llvm::FastMathFlags reassoc;
  reassoc.setAllowReassoc();
  bool f = t.isFloat();
  if (kind == "sum" || kind == "prod") {
    bool sum = kind == "sum";
    if (!f) return sum ? b_.CreateAdd(acc, x) : b_.CreateMul(acc, x);
    llvm::Value* r = sum ? b_.CreateFAdd(acc, x) : b_.CreateFMul(acc, x);
    llvm::cast<llvm::Instruction>(r)->setFastMathFlags(reassoc);
    return r;
  }
  if (kind == "max") return b_.CreateBinaryIntrinsic(f ? In::maximum : In::smax, acc, x);
  if (kind == "min") return b_.CreateBinaryIntrinsic(f ? In::minimum : In::smin, acc, x);
  internalError("unknown reduce kind '" + kind + "'");
}

// True when a reduce body is loads, constants, casts and at most one cheap
// arithmetic op (the passes' "trivial" map body, SimplifyArrays.cpp):
// evaluating it twice (logsumexp's max pass, then its sum pass) costs less
// than the running-max form, and both passes vectorise.
bool FnEmitter::cheapLoadBody(const ir::Block& region) const {
  using K = ir::OpKind;
  auto oneOf = [](K k, std::initializer_list<K> ks) { return std::find(ks.begin(), ks.end(), k) != ks.end(); };
  int arith = 0;
  for (const auto& opPtr : region.ops) {
    K k = opPtr->kind;
    if (!opPtr->regions.empty()) return false;
    if (oneOf(k, {K::ConstF, K::ConstI, K::ConstB, K::Dim, K::Index, K::Cast, K::StopGradient, K::Yield}))
      continue;
    bool cheap = oneOf(k, {K::Add, K::Sub, K::Mul, K::Neg, K::Abs, K::Min, K::Max, K::Select, K::Lt,
                           K::Le, K::Gt, K::Ge, K::Eq, K::Ne, K::And, K::Or, K::Not});
    if (!cheap || ++arith > 1) return false;
  }
  return true;
}

// logsumexp in one pass over a costly body (each element evaluated once):
// running max m and s = sum exp(x - m). For x > m: s = s * exp(m - x) + 1,
// m = x; else s += exp(x - m). An undefined difference (-inf - -inf, inf -
// inf, NaN) adds nothing; m = maximum(m, x) keeps a NaN, and the caller
// returns a non-finite m as it is. Returns {m, s}.
std::pair<llvm::Value*, llvm::Value*> FnEmitter::onlineLogSumExp(const ir::Block& region, ir::Type t,
                                                                llvm::Value* lo, llvm::Value* hi,
                                                                llvm::Value* mark) {
  llvm::Type* ft = typeOf(t);
  llvm::Value* zero = llvm::ConstantFP::get(ft, 0.0);
  llvm::Value* one = llvm::ConstantFP::get(ft, 1.0);
  std::vector<llvm::Value*> ms = countedLoop(
      lo, hi, {llvm::ConstantFP::getInfinity(ft, true), zero},
      [&](llvm::Value* i, const std::vector<llvm::Value*>& acc) {
        size_t allocsBefore = allocCount_;
        llvm::Value* x = regionScalar(region, {i}, t);
        if (allocCount_ != allocsBefore) releaseIteration(mark, {});
        llvm::Value* m = acc[0];
        llvm::Value* s = acc[1];
        llvm::Value* bigger = b_.CreateFCmpOGT(x, m);
        llvm::Value* d = b_.CreateSelect(bigger, b_.CreateFSub(m, x), b_.CreateFSub(x, m));
        llvm::Value* e = b_.CreateSelect(b_.CreateFCmpUNO(d, d), zero, intrinsic(llvm::Intrinsic::exp, {d}));
        llvm::Value* grown = b_.CreateFAdd(b_.CreateFMul(s, e), one);
        llvm::Value* s2 = b_.CreateSelect(bigger, grown, b_.CreateFAdd(s, e));
        return std::vector<llvm::Value*>{b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, m, x), s2};
      });
  return {ms[0], ms[1]};
}

// %s = reduce "kind" (lo, hi) ^(i) { yield x }, on all cores when
// runsParallel (CodegenParallel.cpp).
void FnEmitter::emitReduce(const ir::Operation& op) {
  ir::Type t = op.result()->type;
  const ir::Block& region = *op.region(0);
  llvm::Value* lo = get(op.operand(0));
  llvm::Value* hi = get(op.operand(1));
  hoistChecks(region, {lo}, {hi}, b_.CreateICmpSLT(lo, hi));
  std::vector<llvm::Value*> r = runsParallel(op) ? parallelReduce(op, lo, hi) : reduceRange(op, lo, hi);
  llvm::Value* x = op.s == "logsumexp" ? finishLogSumExp(t, r[0], r[1]) : r[0];
  set(op.result(), x);
  if (t.isFloat()) nanCheck(op, x);
}

// The reduction of `op`'s region over lo..hi-1: {result}, or for logsumexp
// {m, s} with the result m + log(s) (finishLogSumExp).
std::vector<llvm::Value*> FnEmitter::reduceRange(const ir::Operation& op, llvm::Value* lo, llvm::Value* hi) {
  ir::Type t = op.result()->type;
  const ir::Block& region = *op.region(0);
  llvm::Value* mark = arenaMark();
  auto pass = [&](const std::string& kind, const std::function<llvm::Value*(llvm::Value*)>& f) {
    return countedLoop(lo, hi, {reduceIdentity(kind, t)},
                       [&](llvm::Value* i, const std::vector<llvm::Value*>& acc) {
                         size_t allocsBefore = allocCount_;
                         llvm::Value* x = f(regionScalar(region, {i}, t));
                         if (allocCount_ != allocsBefore) releaseIteration(mark, {});
                         return std::vector<llvm::Value*>{reduceStep(kind, t, acc[0], x)};
                       })[0];
  };
  auto id = [](llvm::Value* x) { return x; };
  if (op.s != "logsumexp") return {pass(op.s, id)};
  if (!t.isFloat()) internalError("logsumexp must have a float result");
  if (!cheapLoadBody(region)) {
    auto ms = onlineLogSumExp(region, t, lo, hi, mark);
    return {ms.first, ms.second};
  }
  llvm::Value* m = pass("max", id);
  llvm::Value* s = pass("sum", [&](llvm::Value* x) { return intrinsic(llvm::Intrinsic::exp, {b_.CreateFSub(x, m)}); });
  return {m, s};
}

// m + log(s); a NaN m makes it NaN as well, an infinite m is the result.
llvm::Value* FnEmitter::finishLogSumExp(ir::Type t, llvm::Value* m, llvm::Value* s) {
  llvm::Value* finite = b_.CreateFCmpOLT(intrinsic(llvm::Intrinsic::fabs, {m}),
                                         llvm::ConstantFP::getInfinity(typeOf(t)));
  llvm::Value* lse = b_.CreateFAdd(m, intrinsic(llvm::Intrinsic::log, {s}));
  return b_.CreateSelect(b_.CreateOr(finite, b_.CreateFCmpUNO(m, m)), lse, m);
}

// acc + a * b (integer or float; `reassoc` on the float add when it is a
// reduction that may be reordered).
llvm::Value* FnEmitter::fmaStep(ir::Type t, llvm::Value* acc, llvm::Value* a, llvm::Value* b,
                                bool reassoc) {
  if (!t.isFloat()) return b_.CreateAdd(acc, b_.CreateMul(a, b));
  llvm::Value* r = b_.CreateFAdd(acc, b_.CreateFMul(a, b));
  if (reassoc) {
    llvm::FastMathFlags fmf;
    fmf.setAllowReassoc();
    llvm::cast<llvm::Instruction>(r)->setFastMathFlags(fmf);
  }
  return r;
}

// One pass over the elements collecting "some NaN" and "some infinity".
void FnEmitter::nanCheckArray(const ir::Operation& op, ir::Type t, const ArrVal& a) {
  if (!opts_.nanCheck || !t.isFloat()) return;
  ir::Type et{t.elem, 0};
  llvm::Value* inf = llvm::ConstantFP::getInfinity(typeOf(et));
  std::vector<llvm::Value*> flags = countedLoop(
      b_.getInt64(0), numel(a.dims), {b_.getFalse(), b_.getFalse()},
      [&](llvm::Value* i, const std::vector<llvm::Value*>& acc) {
        llvm::Value* x = loadScalar(et, elemPtr(t, a.data, i));
        llvm::Value* isNan = b_.CreateFCmpUNO(x, x);
        llvm::Value* isInf = b_.CreateFCmpOEQ(intrinsic(llvm::Intrinsic::fabs, {x}), inf);
        return std::vector<llvm::Value*>{b_.CreateOr(acc[0], isNan), b_.CreateOr(acc[1], isInf)};
      });
  std::string name = std::string("'") + ir::opName(op.kind) + "'";
  llvm::Constant* nanMsg = globalString(where(op) + "NaN produced by " + name);
  llvm::Constant* infMsg = globalString(where(op) + "infinity produced by " + name);
  raiseIf(b_.CreateOr(flags[0], flags[1]), CHAIN_ERR_NAN,
          [&] { return b_.CreateSelect(flags[0], nanMsg, infMsg); });
}

}  // namespace chain::codegen::detail
