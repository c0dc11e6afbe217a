// Code generation, part 8: maps and reduces on all cores (issue 13; the
// runtime side is runtime/rt/Parallel.h).
//
// Design. A `map` or `reduce` whose loop is worth it (the cost rule below)
// is outlined: its loop over axis 0 (a reduce: its one range) becomes a chunk
// function i32 chunk(ptr env, ptr ctx, i64 lo, i64 hi) running the
// iterations lo..hi-1, which reads every value the region captures from an
// env struct the caller fills (flattened as for control flow: an array is its
// data pointer and its dims). The caller then calls
// chain_rt_parallel_for(chunk, env, ctx, n, chunkSize), which runs the fixed
// chunks [k*c, min(n, (k+1)*c)) on oneTBB, each with its own context (arena,
// tape); errors come back as the status of the lowest failing chunk.
// * A map's chunk writes rows lo..hi-1 of the output, allocated by the caller
//   before the loop (so the elements are the same bits however it is cut).
// * A reduce's chunk stores its partial result (logsumexp: its running max m
//   and sum s) in slot k of a per-function buffer of kMaxReduceChunks slots;
//   the caller folds the slots in chunk order. logsumexp combines the pairs
//   as M = max m_k, S = sum s_k exp(m_k - M) (a chunk whose exp(m_k - M) is
//   0 or undefined adds nothing), then M + log(S) as before.
// * Determinism: the chunk size c depends only on the trip count n and the
//   body's cost estimate (a function of the sizes), never on the thread
//   count (the chunks of a loop are of equal sizes, +-1: balancedChunk),
//   and the 1-thread run goes through the same chunks in the same
//   order, so results are bit-identical for every thread count.
// * matmul (CodegenMatMul.cpp) runs blocks of rows of C, a multiple of the
//   tile height, so every element is computed by the same kernel (tile or
//   plain loop) however the rows are cut.
// * Nesting: inside a chunk function every map / reduce is serial (the outer
//   loop already spreads over the cores; no oversubscription). Regions that
//   print or use the tape stay serial (output order, a per-call tape).
// * Reverse AD's `accumulate` loops (CodegenParallelAcc.cpp) use the same
//   chunks; their private copies are zeroed by their chunks and merged in
//   parallel chunks of disjoint element ranges, in chunk order per element.
// * Measuring it: a 1-thread run calls the chunks through two noinline
//   functions of runtime/rt/Parallel.cpp, oneChunk (a loop cut into one
//   chunk: no thread count speeds it up) and serialChunks (several), so
//   callgrind's inclusive cost of serialChunks over the call's is the
//   parallel fraction p of a function (bench/gaps.md gives the figures; 2
//   threads give at most 1 / (1 - p/2)).
// * Cost rule: the work of one iteration is estimated from the body (one
//   unit per op, kCallCost per transcendental call, nested loops times their
//   trip counts when those are known before the loop) and a chunk gets at
//   least kGrain units (Options::parallelGrain overrides it). kGrain = 16384
//   units, about 10-20 us of work, is set well above oneTBB's cost of a task
//   (a few us); it is NOT yet a measured optimum: when it was written the
//   shared 2-core machine ran at a load average of 6-11, so timings could
//   not tell grains apart (re-measure with chain_bench_suite --threads 2 on
//   an idle machine). A loop whose trip counts are constants and whose whole
//   work is below kGrain is emitted inline, without a chunk function.
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <set>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {
namespace {

constexpr int64_t kGrain = 1 << 14;          // work units per chunk, at least
constexpr int64_t kMaxReduceChunks = 256;    // slots of the partials buffer
constexpr int64_t kCallCost = 8;             // a libm / vector-math call
constexpr int64_t kMaxTrips = int64_t(1) << 20;  // estimates saturate here...
constexpr int64_t kMaxWork = int64_t(1) << 40;   // ... and here (no overflow)

int64_t opCost(ir::OpKind k) {
  using K = ir::OpKind;
  switch (k) {
    case K::ConstF: case K::ConstI: case K::ConstB: case K::Yield: case K::Dim:
      return 0;
    case K::Exp: case K::Log: case K::Pow: case K::Sin: case K::Cos: case K::Tan: case K::Tanh:
    case K::Sigmoid: case K::Softplus: case K::Log1p: case K::Expm1: case K::Atan2:
    case K::RandUniform: case K::RandNormal:
      return kCallCost;
    default:
      return 1;
  }
}

// The work of `b` when it has no nested loops (else -1).
int64_t flatWork(const ir::Block& b) {
  int64_t w = 0;
  for (const auto& op : b.ops) {
    if (!op->regions.empty()) return -1;
    w += opCost(op->kind);
  }
  return w;
}

int64_t constOf(const ir::Value* v) {
  return v->def && v->def->kind == ir::OpKind::ConstI ? v->def->i : -1;
}

// Values used in `region` (at any depth) and defined outside it, in order of
// first use.
std::vector<const ir::Value*> capturesOf(const ir::Block& region) {
  std::vector<const ir::Value*> out;
  std::set<const ir::Value*> seen;
  std::function<void(const ir::Block&)> walk = [&](const ir::Block& b) {
    for (const auto& op : b.ops) {
      for (const ir::Value* v : op->operands)
        if (!definedIn(v, region) && seen.insert(v).second) out.push_back(v);
      for (const auto& r : op->regions) walk(*r);
    }
  };
  walk(region);
  return out;
}

}  // namespace

bool printsOrTapes(const ir::Block& b) {
  for (const auto& op : b.ops) {
    if (op->kind == ir::OpKind::Print || op->kind == ir::OpKind::TapePush || op->kind == ir::OpKind::TapePop)
      return true;
    for (const auto& r : op->regions)
      if (printsOrTapes(*r)) return true;
  }
  return false;
}

std::vector<const ir::Value*> FnEmitter::capturesOfRegion(const ir::Block& region) const { return capturesOf(region); }

int64_t FnEmitter::grain() const { return opts_.parallelGrain > 0 ? opts_.parallelGrain : kGrain; }

bool FnEmitter::runsParallel(const ir::Operation& op) const {
  const ir::Block& region = *op.region(0);
  if (inChunk_ || printsOrTapes(region)) return false;
  // constant trip counts and a loop-free body: inline when below one grain
  int64_t trips = 1;
  if (op.kind == ir::OpKind::Map) {
    for (const ir::Value* n : op.operands) {
      int64_t c = constOf(n);
      if (c < 0 || c > kMaxTrips) return true;
      trips *= c;
      if (trips > kMaxTrips) return true;
    }
  } else {
    int64_t lo = constOf(op.operand(0)), hi = constOf(op.operand(1));
    if (lo < 0 || hi < 0 || hi - lo > kMaxTrips) return true;
    trips = hi > lo ? hi - lo : 0;
  }
  int64_t w = flatWork(region);
  return w < 0 || trips * (w > 0 ? w : 1) >= grain();
}

llvm::Value* FnEmitter::workOf(const ir::Block& region, const ir::Block& top) {
  auto sat = [&](llvm::Value* x, int64_t cap) { return b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, x, b_.getInt64(cap)); };
  // a trip count known before the loop (else a guess), clamped to 0..kMaxTrips
  auto extent = [&](const ir::Value* v) -> llvm::Value* {
    if (!definedIn(v, top)) return sat(b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, get(v), b_.getInt64(0)), kMaxTrips);
    int64_t c = constOf(v);
    return b_.getInt64(c >= 0 ? std::min(c, kMaxTrips) : 16);
  };
  int64_t flat = 0;
  llvm::Value* total = b_.getInt64(0);
  for (const auto& opPtr : region.ops) {
    const ir::Operation& op = *opPtr;
    if (op.regions.empty()) {
      flat += opCost(op.kind);
      continue;
    }
    llvm::Value* trips = b_.getInt64(1);
    llvm::Value* inner = workOf(*op.region(0), top);
    switch (op.kind) {
      case ir::OpKind::Map:
        for (const ir::Value* n : op.operands) trips = sat(b_.CreateMul(trips, extent(n)), kMaxTrips);
        break;
      case ir::OpKind::Reduce: case ir::OpKind::For: {
        llvm::Value* lo = extent(op.operand(0));
        llvm::Value* hi = extent(op.operand(1));
        trips = b_.CreateSelect(b_.CreateICmpUGT(hi, lo), b_.CreateSub(hi, lo), b_.getInt64(0));
        break;
      }
      case ir::OpKind::While: trips = b_.getInt64(16); break;
      default:  // if: the costlier branch
        for (size_t r = 1; r < op.regions.size(); ++r)
          inner = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax, inner, workOf(*op.region(r), top));
        break;
    }
    total = sat(b_.CreateAdd(total, b_.CreateMul(trips, inner)), kMaxWork);
  }
  return sat(b_.CreateAdd(total, b_.getInt64(flat)), kMaxWork);
}

llvm::Value* FnEmitter::chunkSize(llvm::Value* n, llvm::Value* work, int64_t maxChunks) {
  work = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax, work, b_.getInt64(1));
  llvm::Value* c = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax, b_.CreateUDiv(b_.getInt64(grain()), work),
                                            b_.getInt64(1));
  if (maxChunks > 0)  // ceil(n / maxChunks) <= n / maxChunks + 1
    c = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax, c,
                                 b_.CreateAdd(b_.CreateUDiv(n, b_.getInt64(maxChunks)), b_.getInt64(1)));
  return balancedChunk(n, c);
}

// The last chunk is no longer short: 4096 iterations in chunks of 1092 are
// 4 chunks of 1024 (2 threads: 2048 each instead of 2184 and 1912). The
// count never grows, and c depends on the sizes alone as before.
llvm::Value* FnEmitter::balancedChunk(llvm::Value* n, llvm::Value* c) {
  llvm::Value* one = b_.getInt64(1);
  llvm::Value* chunks = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax,
                                                 b_.CreateUDiv(b_.CreateSub(b_.CreateAdd(n, c), one), c), one);
  llvm::Value* even = b_.CreateUDiv(b_.CreateSub(b_.CreateAdd(n, chunks), one), chunks);
  return b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax, even, one);
}

void FnEmitter::exitOnStatus(llvm::Value* status) {
  auto* cont = llvm::BasicBlock::Create(llctx_, "cont", fn_);
  llvm::BasicBlock* here = b_.GetInsertBlock();
  b_.CreateCondBr(b_.CreateICmpNE(status, b_.getInt32(CHAIN_OK)), exitBB_, cont,
                  llvm::MDBuilder(llctx_).createUnlikelyBranchWeights());
  exitStatus_->addIncoming(status, here);
  b_.SetInsertPoint(cont);
}

void FnEmitter::parallelFor(const std::vector<const ir::Value*>& caps, const std::vector<llvm::Value*>& extra,
                            llvm::Value* n, llvm::Value* chunk, const ChunkBody& body) {
  std::vector<llvm::Value*> vals;
  for (const ir::Value* c : caps) {
    std::vector<llvm::Value*> xs = flat(c);
    vals.insert(vals.end(), xs.begin(), xs.end());
  }
  size_t nCaps = vals.size();
  vals.insert(vals.end(), extra.begin(), extra.end());
  std::vector<llvm::Type*> types;
  for (llvm::Value* v : vals) types.push_back(v->getType());
  if (types.empty()) types.push_back(b_.getInt8Ty());
  llvm::StructType* envTy = llvm::StructType::get(llctx_, types);
  llvm::Value* env = entryAlloca(envTy, "chunk.env");
  for (size_t k = 0; k < vals.size(); ++k) b_.CreateStore(vals[k], b_.CreateStructGEP(envTy, env, unsigned(k)));
  llvm::Function* fn = outlineChunk(caps, vals, envTy, nCaps, body);
  exitOnStatus(b_.CreateCall(runtimeFn("chain_rt_parallel_for"), {fn, env, ctxArg_, n, chunk}));
}

// The chunk function: the same emitter state (values, arena use, error
// exit) set up afresh for it and restored afterwards.
llvm::Function* FnEmitter::outlineChunk(const std::vector<const ir::Value*>& caps,
                                        const std::vector<llvm::Value*>& parentVals, llvm::StructType* envTy,
                                        size_t nCaps, const ChunkBody& body) {
  llvm::Type* ptr = b_.getPtrTy();
  auto* fty = llvm::FunctionType::get(b_.getInt32Ty(), {ptr, ptr, b_.getInt64Ty(), b_.getInt64Ty()}, false);
  auto* chunkFn = llvm::Function::Create(fty, llvm::Function::InternalLinkage,
                                         fn_->getName() + ".chunk" + std::to_string(chunkFns_++), mod_);
  chunkFn->addFnAttr(llvm::Attribute::NoUnwind);
  chunkFn->addParamAttr(0, llvm::Attribute::NoAlias);
  chunkFn->addParamAttr(0, llvm::Attribute::ReadOnly);
  chunkFn->addParamAttr(1, llvm::Attribute::NoAlias);
  llvm::IRBuilderBase::InsertPoint ip = b_.saveIP();
  llvm::Function* fn = fn_;
  llvm::Value* ctx = ctxArg_;
  llvm::BasicBlock* exitBB = exitBB_;
  llvm::PHINode* exitStatus = exitStatus_;
  bool usesArena = usesArena_;
  decltype(vals_) vals;
  decltype(arrs_) arrs;
  vals.swap(vals_);
  arrs.swap(arrs_);
  fn_ = chunkFn;
  ctxArg_ = chunkFn->getArg(1);
  usesArena_ = false;
  inChunk_ = true;

  llvm::BasicBlock* entry = beginBody();
  // A captured constant (pow's exponent 2.0, a literal size) is used as the
  // constant itself, not loaded from the env: LLVM folds it into the body
  // as it does in serial code (pow(x, 2.0) -> x * x, constant trip counts).
  // Through the env, gmm's pow(x, 2.0) stayed a libm call per element: its
  // 1-thread primal was 5x the serial loop's (1.57 ms against 0.31 ms).
  std::vector<llvm::Value*> xs;
  for (unsigned k = 0; k < envTy->getNumElements(); ++k) {
    if (k < parentVals.size())
      if (auto* c = llvm::dyn_cast<llvm::Constant>(parentVals[k])) {
        xs.push_back(c);
        continue;
      }
    xs.push_back(b_.CreateLoad(envTy->getElementType(k), b_.CreateStructGEP(envTy, chunkFn->getArg(0), k)));
  }
  size_t pos = 0;
  for (const ir::Value* c : caps) bindFlat(c, xs, pos);
  std::vector<llvm::Value*> paramData;  // the entry's parameter buffers, loaded here
  for (size_t k = 0; k < parentVals.size(); ++k)
    if (paramData_.count(parentVals[k])) paramData.push_back(xs[k]);
  std::vector<llvm::Value*> extra(xs.begin() + long(nCaps), xs.end());
  body(chunkFn->getArg(2), chunkFn->getArg(3), extra);
  b_.CreateRet(b_.getInt32(CHAIN_OK));
  endBody(entry, paramData);

  fn_ = fn;
  ctxArg_ = ctx;
  exitBB_ = exitBB;
  exitStatus_ = exitStatus;
  usesArena_ = usesArena;
  inChunk_ = false;
  vals.swap(vals_);
  arrs.swap(arrs_);
  b_.restoreIP(ip);
  return chunkFn;
}

// Rows of the output in chunks; a row costs its elements times the body.
void FnEmitter::parallelMap(const ir::Operation& op, const ArrVal& out) {
  const ir::Block& region = *op.region(0);
  llvm::Value* work = workOf(region, region);
  std::vector<llvm::Value*> extra{out.data};
  for (size_t k = 0; k < out.dims.size(); ++k) {
    if (k > 0) work = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, b_.CreateMul(work, b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, out.dims[k], b_.getInt64(kMaxTrips))), b_.getInt64(kMaxWork));
    extra.push_back(out.dims[k]);
  }
  parallelFor(capturesOf(region), extra, out.dims[0], chunkSize(out.dims[0], work, 0),
              [&](llvm::Value* lo, llvm::Value* hi, const std::vector<llvm::Value*>& ex) {
                ArrVal o;
                o.data = ex[0];
                o.dims.assign(ex.begin() + 1, ex.end());
                mapRows(op, o, lo, hi);
              });
}

// Partials per chunk, folded in chunk order (see the file comment).
std::vector<llvm::Value*> FnEmitter::parallelReduce(const ir::Operation& op, llvm::Value* lo, llvm::Value* hi) {
  ir::Type t = op.result()->type;
  const ir::Block& region = *op.region(0);
  const bool lse = op.s == "logsumexp";
  const int64_t width = lse ? 2 : 1;
  llvm::Type* et = elemTy(t);
  if (!partials_)
    partials_ = entryAlloca(llvm::ArrayType::get(b_.getInt64Ty(), uint64_t(kMaxReduceChunks * 2)), "partials");
  llvm::Value* n = b_.CreateSelect(b_.CreateICmpSGT(hi, lo), b_.CreateSub(hi, lo), b_.getInt64(0));
  llvm::Value* chunk = chunkSize(n, workOf(region, region), kMaxReduceChunks);
  parallelFor(capturesOf(region), {lo, chunk, partials_}, n, chunk,
              [&](llvm::Value* clo, llvm::Value* chi, const std::vector<llvm::Value*>& ex) {
                std::vector<llvm::Value*> r = reduceRange(op, b_.CreateAdd(ex[0], clo), b_.CreateAdd(ex[0], chi));
                llvm::Value* slot = b_.CreateMul(b_.CreateUDiv(clo, ex[1]), b_.getInt64(width));
                for (size_t j = 0; j < r.size(); ++j)
                  b_.CreateStore(r[j], b_.CreateGEP(et, ex[2], b_.CreateAdd(slot, b_.getInt64(int64_t(j)))));
              });
  llvm::Value* chunks = b_.CreateSelect(b_.CreateICmpEQ(n, b_.getInt64(0)), b_.getInt64(0),
                                        b_.CreateAdd(b_.CreateUDiv(b_.CreateSub(n, b_.getInt64(1)), chunk), b_.getInt64(1)));
  auto part = [&](llvm::Value* k, int64_t j) {
    return b_.CreateLoad(et, b_.CreateGEP(et, partials_, b_.CreateAdd(b_.CreateMul(k, b_.getInt64(width)), b_.getInt64(j))));
  };
  auto fold = [&](llvm::Value* init, const std::function<llvm::Value*(llvm::Value*, llvm::Value*)>& step) {
    return countedLoop(b_.getInt64(0), chunks, {init}, [&](llvm::Value* k, const std::vector<llvm::Value*>& acc) {
      return std::vector<llvm::Value*>{step(acc[0], k)};
    })[0];
  };
  if (!lse)
    return {fold(reduceIdentity(op.s, t), [&](llvm::Value* acc, llvm::Value* k) { return reduceStep(op.s, t, acc, part(k, 0)); })};
  llvm::Value* m = fold(reduceIdentity("max", t), [&](llvm::Value* acc, llvm::Value* k) { return reduceStep("max", t, acc, part(k, 0)); });
  llvm::Value* zero = llvm::ConstantFP::get(typeOf(t), 0.0);
  llvm::Value* s = fold(zero, [&](llvm::Value* acc, llvm::Value* k) {
    llvm::Value* d = b_.CreateFSub(part(k, 0), m);
    llvm::Value* e = b_.CreateSelect(b_.CreateFCmpUNO(d, d), zero, intrinsic(llvm::Intrinsic::exp, {d}));
    llvm::Value* term = b_.CreateSelect(b_.CreateFCmpOEQ(e, zero), zero, b_.CreateFMul(part(k, 1), e));
    return b_.CreateFAdd(acc, term);
  });
  return {m, s};
}

}  // namespace chain::codegen::detail
