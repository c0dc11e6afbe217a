// Code generation, part 9: reverse AD's accumulating loops on all cores.
//
// Reverse mode turns a map or reduce into a `for` over the same indices
// whose iterations only add into the carried adjoints (ir/IR.h: For with
// s = "accumulate"): scalars in registers, arrays by scatter-adds. Such a
// loop runs in the fixed chunks of CodegenParallel.cpp, each carried value
// treated by what the iterations do with it:
// * owner: an array into which iteration i only adds at row i (axis 0 index
//   = the loop index, every add_at in place): the chunks share its buffer,
//   since they write disjoint rows (a partition by owner, no copies);
// * private: any other array: chunk 0 adds into the initial buffer and
//   chunk k >= 1 into its own buffer (allocated by the caller, zeroed by the
//   chunk; at most kMaxPrivateChunks of them, and at least 8 units of work
//   per element of those buffers per chunk), added into the first in chunk
//   order after the loop: each element sums the chunks in chunk order, the
//   elements in parallel chunks of disjoint ranges (mergePrivate);
// * scalar: chunk 0 starts from the initial value, the others from 0; the
//   chunks' sums are added in chunk order.
// Chunk 0 starting from the initial values makes a one-chunk run the serial
// loop itself, and the chunking depends on the sizes alone, so results are
// the same bits for every thread count (SPEC §6). A loop that carries a bool
// or an integer (the "first extremal element seen" of max / min), prints or
// uses the tape stays serial (emitFor), as does every loop inside a chunk.
#include <llvm/IR/Intrinsics.h>

#include <algorithm>
#include <set>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {
namespace {

constexpr int64_t kMaxPrivateChunks = 16;  // private copies of an array, at most
constexpr int64_t kMaxScalarChunks = 256;

// Adds to `chain` the values of `b` that carry the accumulator: add_at
// results into it, and loop / if results and loop arguments that pass it on.
void chainOf(const ir::Block& b, std::set<const ir::Value*>& chain) {
  for (const auto& opPtr : b.ops) {
    const ir::Operation& op = *opPtr;
    if (op.kind == ir::OpKind::AddAt && chain.count(op.operand(0))) chain.insert(op.result());
    if (op.kind == ir::OpKind::For)
      for (size_t k = 2; k < op.operands.size(); ++k)
        if (chain.count(op.operand(k))) chain.insert(op.region(0)->arg(k - 1));
    for (const auto& r : op.regions) chainOf(*r, chain);
    if (op.kind != ir::OpKind::For && op.kind != ir::OpKind::If) continue;
    for (const auto& r : op.regions)
      for (size_t k = 0; k < op.results.size(); ++k)
        if (chain.count(r->terminator()->operand(k))) chain.insert(op.result(k));
  }
}

}  // namespace

// Owner when every use of the accumulator's values is an in-place add_at at
// row `iv`, or passes it on without a copy (yield, a loop's init), or a dim.
bool FnEmitter::ownedByRow(const ir::Block& body, const ir::Value* acc, const ir::Value* iv) {
  std::set<const ir::Value*> chain{acc};
  chainOf(body, chain);
  bool ok = true;
  std::function<void(const ir::Block&)> walk = [&](const ir::Block& b) {
    for (const auto& opPtr : b.ops) {
      const ir::Operation& op = *opPtr;
      for (size_t k = 0; k < op.operands.size(); ++k) {
        if (!chain.count(op.operand(k))) continue;
        int64_t c = 0;
        bool row = op.kind == ir::OpKind::AddAt && k == 0 && !op.ints.empty() && op.ints[0] == 0 &&
                   ir::argPlusConstant(op.operand(2), iv, c) && c == 0 && plan_->inPlace(op);
        bool passed = (op.kind == ir::OpKind::Yield && !(b.parentOp && b.parentOp->kind == ir::OpKind::For &&
                                                         plan_->copyYield(op, k))) ||
                      (op.kind == ir::OpKind::For && k >= 2 && !plan_->copyInit(op, k));
        ok &= row || passed || op.kind == ir::OpKind::Dim;
      }
      for (const auto& r : op.regions) walk(*r);
    }
  };
  walk(body);
  return ok;
}

bool FnEmitter::parallelAccumulate(const ir::Operation& op) {
  const ir::Block& region = *op.region(0);
  if (inChunk_ || op.s != "accumulate" || printsOrTapes(region)) return false;
  std::vector<AccSlot> slots;
  for (size_t k = 2; k < op.operands.size(); ++k) {
    ir::Type t = op.operand(k)->type;
    if (!t.isFloat()) return false;
    if (t.rank == 0) slots.push_back(AccSlot::Scalar);
    else if (ownedByRow(region, region.arg(k - 1), region.arg(0)) && !plan_->copyYield(*region.terminator(), k - 2))
      slots.push_back(AccSlot::Owner);
    else slots.push_back(AccSlot::Private);
  }
  emitAccumulate(op, slots);
  return true;
}

// The parallel form (see the file comment). Env: lo, the chunk size, the
// scalar partials, each private slot's zeroed buffers, then every init.
void FnEmitter::emitAccumulate(const ir::Operation& op, const std::vector<AccSlot>& slots) {
  const ir::Block& region = *op.region(0);
  llvm::Value* lo = get(op.operand(0));
  llvm::Value* hi = get(op.operand(1));
  std::vector<llvm::Value*> init = loopInits(op, 2);
  std::vector<ir::Type> types = carriedTypes(op, 2);
  llvm::Value* n = b_.CreateSelect(b_.CreateICmpSGT(hi, lo), b_.CreateSub(hi, lo), b_.getInt64(0));
  llvm::Value* chunk = chunkSize(n, workOf(region, region), kMaxScalarChunks);
  // private copies: at most kMaxPrivateChunks, each worth 8 units per element
  std::vector<ArrVal> initArrs(slots.size());
  llvm::Value* privElems = b_.getInt64(0);
  size_t pos = 0, nScalars = 0;
  for (size_t s = 0; s < slots.size(); ++s) {
    if (types[s].rank > 0) {
      initArrs[s].data = init[pos];
      initArrs[s].dims.assign(init.begin() + long(pos) + 1, init.begin() + long(pos) + 1 + types[s].rank);
    }
    pos += flatSize(types[s]);
    nScalars += slots[s] == AccSlot::Scalar;
    if (slots[s] == AccSlot::Private) privElems = b_.CreateAdd(privElems, numel(initArrs[s].dims));
  }
  bool anyPrivate = std::count(slots.begin(), slots.end(), AccSlot::Private) > 0;
  if (anyPrivate) {
    llvm::Value* work = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax, workOf(region, region), b_.getInt64(1));
    llvm::Value* need = b_.CreateUDiv(b_.CreateMul(privElems, b_.getInt64(8)), work);
    chunk = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax, chunk, need);
    chunk = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umax, chunk,
                                     b_.CreateAdd(b_.CreateUDiv(n, b_.getInt64(kMaxPrivateChunks)), b_.getInt64(1)));
    chunk = balancedChunk(n, chunk);
  }
  llvm::Value* chunks = b_.CreateSelect(b_.CreateICmpEQ(n, b_.getInt64(0)), b_.getInt64(0),
                                        b_.CreateAdd(b_.CreateUDiv(b_.CreateSub(n, b_.getInt64(1)), chunk), b_.getInt64(1)));
  llvm::Value* others = b_.CreateSelect(b_.CreateICmpEQ(chunks, b_.getInt64(0)), b_.getInt64(0),
                                        b_.CreateSub(chunks, b_.getInt64(1)));
  llvm::Value* partials = entryAlloca(llvm::ArrayType::get(b_.getInt64Ty(), uint64_t(kMaxScalarChunks * std::max<size_t>(nScalars, 1))), "acc.partials");
  std::vector<llvm::Value*> extra{lo, chunk, partials};
  std::vector<llvm::Value*> privs(slots.size(), nullptr);
  for (size_t s = 0; s < slots.size(); ++s) {
    if (slots[s] != AccSlot::Private) continue;
    llvm::Value* bytes = b_.CreateMul(byteSize(types[s], initArrs[s].dims), others);
    privs[s] = allocBytes(bytes);  // zeroed by its chunk (accumulateChunk)
    extra.push_back(privs[s]);
  }
  extra.insert(extra.end(), init.begin(), init.end());
  const size_t firstInit = extra.size() - init.size();
  parallelFor(capturesOfRegion(region), extra, n, chunk,
              [&](llvm::Value* clo, llvm::Value* chi, const std::vector<llvm::Value*>& ex) {
                accumulateChunk(op, slots, clo, chi, ex, firstInit);
              });
  // combine in chunk order
  std::vector<llvm::Value*> results;
  pos = 0;
  size_t scalar = 0;
  for (size_t s = 0; s < slots.size(); ++s) {
    ir::Type t = types[s];
    if (slots[s] == AccSlot::Scalar) {
      llvm::Type* et = elemTy(t);
      auto part = [&](llvm::Value* k) {
        llvm::Value* at = b_.CreateAdd(b_.CreateMul(k, b_.getInt64(int64_t(nScalars))), b_.getInt64(int64_t(scalar)));
        return b_.CreateLoad(et, b_.CreateGEP(et, partials, at));
      };
      llvm::Value* first = part(b_.getInt64(0));
      llvm::Value* sum = countedLoop(b_.getInt64(1), chunks, {first}, [&](llvm::Value* k, const std::vector<llvm::Value*>& acc) {
        return std::vector<llvm::Value*>{b_.CreateFAdd(acc[0], part(k))};
      })[0];
      results.push_back(b_.CreateSelect(b_.CreateICmpEQ(chunks, b_.getInt64(0)), init[pos], sum));
      ++scalar;
    } else {
      if (slots[s] == AccSlot::Private) mergePrivate(t, initArrs[s], privs[s], others);
      results.push_back(initArrs[s].data);
      results.insert(results.end(), initArrs[s].dims.begin(), initArrs[s].dims.end());
    }
    pos += flatSize(t);
  }
  pos = 0;
  for (const auto& r : op.results) bindFlat(r.get(), results, pos);
}

// dst[e] += priv[0][e] + ... + priv[others-1][e], in that order, for each
// element e: in chunks of disjoint element ranges (each element's sum is the
// same whatever the cut), `others` units of work per element.
void FnEmitter::mergePrivate(ir::Type t, const ArrVal& dst, llvm::Value* priv, llvm::Value* others) {
  ir::Type et{t.elem, 0};
  llvm::Value* count = numel(dst.dims);
  parallelFor({}, {dst.data, priv, others, count}, count, chunkSize(count, others, 0),
              [&](llvm::Value* lo, llvm::Value* hi, const std::vector<llvm::Value*>& ex) {
                simpleLoop(lo, hi, [&](llvm::Value* e) {
                  llvm::Value* at = elemPtr(t, ex[0], e);
                  llvm::Value* x = countedLoop(b_.getInt64(0), ex[2], {loadScalar(et, at)},
                                               [&](llvm::Value* k, const std::vector<llvm::Value*>& acc) {
                                                 llvm::Value* off = b_.CreateAdd(b_.CreateMul(k, ex[3]), e);
                                                 return std::vector<llvm::Value*>{
                                                     b_.CreateFAdd(acc[0], loadScalar(et, elemPtr(t, ex[1], off)))};
                                               })[0];
                  storeScalar(et, x, at);
                });
              });
}

// One chunk: the serial loop over lo+clo .. lo+chi-1 from this chunk's
// starting accumulators; then its scalar sums to the partials and its arrays
// into their buffers (when the last add was not in place).
void FnEmitter::accumulateChunk(const ir::Operation& op, const std::vector<AccSlot>& slots, llvm::Value* clo,
                                llvm::Value* chi, const std::vector<llvm::Value*>& ex, size_t firstInit) {
  const ir::Block& region = *op.region(0);
  std::vector<ir::Type> types = carriedTypes(op, 2);
  llvm::Value* k = b_.CreateUDiv(clo, ex[1]);
  llvm::Value* first = b_.CreateICmpEQ(k, b_.getInt64(0));
  std::vector<llvm::Value*> start;
  size_t pos = firstInit, priv = 3, nScalars = 0;
  for (AccSlot s : slots) nScalars += s == AccSlot::Scalar;
  std::vector<llvm::Value*> buffers(slots.size(), nullptr);
  for (size_t s = 0; s < slots.size(); ++s) {
    ir::Type t = types[s];
    if (slots[s] == AccSlot::Scalar) {
      start.push_back(b_.CreateSelect(first, ex[pos], llvm::ConstantFP::get(typeOf(t), 0.0)));
    } else {
      llvm::Value* data = ex[pos];
      if (slots[s] == AccSlot::Private) {
        std::vector<llvm::Value*> dims(ex.begin() + long(pos) + 1, ex.begin() + long(pos) + 1 + t.rank);
        llvm::Value* bytes = byteSize(t, dims);
        llvm::Value* mine = b_.CreateGEP(b_.getInt8Ty(), ex[priv++], b_.CreateMul(bytes, b_.CreateSub(k, b_.getInt64(1))));
        b_.CreateMemSet(mine, b_.getInt8(0), b_.CreateSelect(first, b_.getInt64(0), bytes), llvm::MaybeAlign(8));
        data = b_.CreateSelect(first, data, mine);
      }
      buffers[s] = data;
      start.push_back(data);
      start.insert(start.end(), ex.begin() + long(pos) + 1, ex.begin() + long(pos) + 1 + t.rank);
    }
    pos += flatSize(t);
  }
  llvm::Value* mark = arenaMark();
  size_t allocsBefore = allocCount_;
  std::vector<llvm::Value*> end = countedLoop(
      b_.CreateAdd(ex[0], clo), b_.CreateAdd(ex[0], chi), start,
      [&](llvm::Value* i, const std::vector<llvm::Value*>& cur) {
        std::vector<llvm::Value*> args{i};
        args.insert(args.end(), cur.begin(), cur.end());
        std::vector<llvm::Value*> next = emitRegion(region, args);
        if (allocCount_ != allocsBefore) releaseIteration(mark, dataPointers(types, next));
        return next;
      });
  pos = 0;
  size_t scalar = 0;
  for (size_t s = 0; s < slots.size(); ++s) {
    ir::Type t = types[s];
    if (slots[s] == AccSlot::Scalar) {
      llvm::Value* at = b_.CreateAdd(b_.CreateMul(k, b_.getInt64(int64_t(nScalars))), b_.getInt64(int64_t(scalar++)));
      b_.CreateStore(end[pos], b_.CreateGEP(elemTy(t), ex[2], at));
    } else if (slots[s] == AccSlot::Private) {
      std::vector<llvm::Value*> dims(end.begin() + long(pos) + 1, end.begin() + long(pos) + 1 + t.rank);
      llvm::Value* moved = b_.CreateICmpNE(end[pos], buffers[s]);
      auto* copy = llvm::BasicBlock::Create(llctx_, "acc.copy", fn_);
      auto* done = llvm::BasicBlock::Create(llctx_, "acc.done", fn_);
      b_.CreateCondBr(moved, copy, done);
      b_.SetInsertPoint(copy);
      b_.CreateMemCpy(buffers[s], llvm::MaybeAlign(1), end[pos], llvm::MaybeAlign(1), byteSize(t, dims));
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
    }
    pos += flatSize(t);
  }
}

}  // namespace chain::codegen::detail
