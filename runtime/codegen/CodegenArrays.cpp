// Code generation, part 5: array values. An array is {data pointer, dims}
// (CodegenImpl.h). Parameters come as ChainArray descriptors and are only
// read; temporaries come from the per-call arena (chain_rt_alloc, released
// when the entry returns); results are copied into chain_rt_alloc_result
// memory that the caller owns. This file holds the element addressing,
// bounds checks ("file:3:7: index 7 is out of bounds for axis 0 of size 5",
// all removed with boundsChecks = false), and the ops dim, index, slice,
// update / add_at (in place when the BufferPlan allows), select and
// stop_gradient on arrays, fill, build, transpose and assert. Sizes: a
// negative fill / map size is a runtime error (checkedSize), and a new
// buffer's byte size that wraps 64 bits is out of memory (checkedByteSize).
#include <llvm/IR/Intrinsics.h>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen::detail {

const ArrVal& FnEmitter::arr(const ir::Value* v) {
  auto it = arrs_.find(v);
  if (it == arrs_.end()) internalError("use of an array value that is not defined");
  return it->second;
}

void FnEmitter::setArr(const ir::Value* v, ArrVal a) {
  if (static_cast<int>(a.dims.size()) != v->type.rank) internalError("array rank mismatch");
  arrs_[v] = std::move(a);
}

int64_t FnEmitter::elemBytes(ir::Type t) const {
  switch (t.elem) {
    case ir::Scalar::F64: case ir::Scalar::I64: return 8;
    case ir::Scalar::F32: return 4;
    case ir::Scalar::Bool: return 1;
  }
  internalError("bad scalar kind");
}

llvm::Value* FnEmitter::numel(const std::vector<llvm::Value*>& dims) {
  llvm::Value* n = b_.getInt64(1);
  for (llvm::Value* d : dims) n = b_.CreateMul(n, d, "numel", /*NUW=*/true, /*NSW=*/true);
  return n;
}

llvm::Value* FnEmitter::byteSize(ir::Type t, const std::vector<llvm::Value*>& dims) {
  return b_.CreateMul(numel(dims), b_.getInt64(elemBytes(t)), "bytes", true, true);
}

// Like byteSize, but for a new buffer whose dims may be anything: the
// products are unsigned multiplies with overflow flags, and an overflow (or a
// negative dim, which is huge as unsigned) gives -1 bytes, which
// chain_rt_alloc rejects as out of memory. No extra branch on the fast path.
llvm::Value* FnEmitter::checkedByteSize(ir::Type t, const std::vector<llvm::Value*>& dims) {
  llvm::Value* n = b_.getInt64(static_cast<uint64_t>(elemBytes(t)));
  llvm::Value* overflow = b_.getFalse();
  for (llvm::Value* d : dims) {
    llvm::Value* r = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umul_with_overflow, n, d);
    n = b_.CreateExtractValue(r, 0, "bytes");
    overflow = b_.CreateOr(overflow, b_.CreateExtractValue(r, 1));
  }
  return b_.CreateSelect(overflow, b_.getInt64(static_cast<uint64_t>(-1)), n, "bytes.checked");
}

// Operand `v` of `op` (fill, map) used as an array size: a negative size is a
// runtime error, as in the interpreter ("array size -5 is negative").
llvm::Value* FnEmitter::checkedSize(const ir::Operation& op, const ir::Value* v) {
  llvm::Value* n = get(v);
  raiseFmtIf(b_.CreateICmpSLT(n, b_.getInt64(0)), CHAIN_ERR_RUNTIME,
             where(op) + "array size {} is negative", {n});
  return n;
}

llvm::Value* FnEmitter::allocBytes(llvm::Value* bytes) {
  usesArena_ = true;
  ++allocCount_;
  llvm::Value* p = b_.CreateCall(runtimeFn("chain_rt_alloc"), {ctxArg_, bytes}, "buf");
  exitIf(b_.CreateIsNull(p), CHAIN_ERR_MEMORY);
  return p;
}

llvm::Value* FnEmitter::arenaMark() {
  return b_.CreateLoad(b_.getPtrTy(), ctxFieldPtr(kArena), "arena.mark");
}

// if (ctx->arena != mark) chain_rt_arena_release[_keep](ctx, mark, keep...)
void FnEmitter::releaseIteration(llvm::Value* mark, const std::vector<llvm::Value*>& keep) {
  llvm::Value* head = b_.CreateLoad(b_.getPtrTy(), ctxFieldPtr(kArena), "arena.head");
  auto* rel = llvm::BasicBlock::Create(llctx_, "arena.release", fn_);
  auto* cont = llvm::BasicBlock::Create(llctx_, "arena.cont", fn_);
  b_.CreateCondBr(b_.CreateICmpNE(head, mark), rel, cont);
  b_.SetInsertPoint(rel);
  if (keep.empty()) {
    b_.CreateCall(runtimeFn("chain_rt_arena_release"), {ctxArg_, mark});
  } else {
    llvm::Type* arrTy = llvm::ArrayType::get(b_.getPtrTy(), keep.size());
    llvm::Value* buf = entryAlloca(arrTy, "arena.keep");
    for (size_t k = 0; k < keep.size(); ++k)
      b_.CreateStore(keep[k], b_.CreateConstInBoundsGEP2_64(arrTy, buf, 0, k));
    b_.CreateCall(runtimeFn("chain_rt_arena_release_keep"),
                  {ctxArg_, mark, buf, b_.getInt32(static_cast<int32_t>(keep.size()))});
  }
  b_.CreateBr(cont);
  b_.SetInsertPoint(cont);
}

std::vector<llvm::Value*> FnEmitter::dataPointers(const std::vector<ir::Type>& types,
                                                  const std::vector<llvm::Value*>& flatVals) {
  std::vector<llvm::Value*> out;
  size_t pos = 0;
  for (ir::Type t : types) {
    if (t.rank != 0) out.push_back(flatVals[pos]);
    pos += flatSize(t);
  }
  return out;
}

ArrVal FnEmitter::newArray(ir::Type t, std::vector<llvm::Value*> dims) {
  ArrVal a;
  a.data = allocBytes(checkedByteSize(t, dims));
  a.dims = std::move(dims);
  return a;
}

ArrVal FnEmitter::copyArray(ir::Type t, const ArrVal& a) {
  ArrVal c = newArray(t, a.dims);
  b_.CreateMemCpy(c.data, llvm::MaybeAlign(1), a.data, llvm::MaybeAlign(1), byteSize(t, a.dims));
  return c;
}

llvm::Value* FnEmitter::elemPtr(ir::Type t, llvm::Value* data, llvm::Value* offset) {
  return b_.CreateInBoundsGEP(elemTy(t), data, offset);
}

// ((i0 * d1 + i1) * d2 + i2) ...
llvm::Value* FnEmitter::rowMajor(const std::vector<llvm::Value*>& dims,
                                 const std::vector<llvm::Value*>& idx) {
  llvm::Value* off = idx[0];
  for (size_t k = 1; k < idx.size(); ++k)
    off = b_.CreateAdd(b_.CreateMul(off, dims[k], "", true, true), idx[k], "off", true, true);
  return off;
}

// 0 <= idx < dim (one unsigned compare), unless bounds checks are off.
void FnEmitter::checkIndex(const ir::Operation& op, llvm::Value* idx, llvm::Value* dim,
                           size_t axis) {
  if (!opts_.boundsChecks) return;
  llvm::Value* bad = b_.CreateICmpUGE(idx, dim);
  raiseFmtIf(bad, CHAIN_ERR_RUNTIME,
             where(op) + "index {} is out of bounds for axis " + std::to_string(axis) +
                 " of size {}",
             {idx, dim});
}

// ChainArray {void* data; int64_t shape[8]}: data at offset 0, dims from 8.
ArrVal FnEmitter::loadArrayParam(ir::Type t, llvm::Value* desc) {
  if (t.rank > 8) internalError("arrays have rank <= 8");
  ArrVal a;
  a.data = b_.CreateLoad(b_.getPtrTy(), desc, "arg.data");  // may be null when empty
  for (int k = 0; k < t.rank; ++k) {
    llvm::Value* p = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), desc, 8 + 8 * k);
    a.dims.push_back(b_.CreateLoad(b_.getInt64Ty(), p, "arg.dim"));
  }
  return a;
}

// Exports every array result with chain_rt_export (an arena buffer of this
// call is handed over as it is, anything else copied; on failure frees the
// ones already exported and returns CHAIN_ERR_MEMORY), then fills each
// descriptor.
void FnEmitter::storeArrayResults(const ir::Operation& ret, const std::vector<llvm::Value*>& flatRes) {
  std::vector<std::pair<size_t, ArrVal>> arrays;  // result index, value
  size_t pos = 0;
  for (size_t j = 0; j < ret.operands.size(); ++j) {
    ir::Type t = ret.operand(j)->type;
    if (t.rank != 0) {
      ArrVal a;
      a.data = flatRes[pos];
      a.dims.assign(flatRes.begin() + static_cast<long>(pos) + 1,
                    flatRes.begin() + static_cast<long>(pos) + 1 + t.rank);
      arrays.push_back({j, a});
    }
    pos += flatSize(t);
  }
  std::vector<llvm::Value*> bufs;
  for (auto& [j, a] : arrays) {
    llvm::Value* bytes = byteSize(ret.operand(j)->type, a.dims);
    llvm::Value* p = b_.CreateCall(runtimeFn("chain_rt_export"), {ctxArg_, a.data, bytes}, "res.buf");
    auto* fail = llvm::BasicBlock::Create(llctx_, "res.fail", fn_);
    auto* ok = llvm::BasicBlock::Create(llctx_, "res.ok", fn_);
    b_.CreateCondBr(b_.CreateIsNull(p), fail, ok);
    b_.SetInsertPoint(fail);
    for (llvm::Value* q : bufs) b_.CreateCall(runtimeFn("chain_rt_free"), {q});
    exitStatus_->addIncoming(b_.getInt32(CHAIN_ERR_MEMORY), fail);
    b_.CreateBr(exitBB_);
    b_.SetInsertPoint(ok);
    bufs.push_back(p);
  }
  for (size_t q = 0; q < arrays.size(); ++q) {
    const auto& [j, a] = arrays[q];
    llvm::Value* slot = b_.CreateConstInBoundsGEP1_64(b_.getPtrTy(), resultsArg_, j);
    llvm::Value* desc = b_.CreateLoad(b_.getPtrTy(), slot, "res.desc");
    b_.CreateStore(bufs[q], desc);
    for (size_t k = 0; k < a.dims.size(); ++k)
      b_.CreateStore(a.dims[k], b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), desc, 8 + 8 * k));
  }
}

// The array ops dispatched here by emitOp (an if-chain, not a switch: the
// exhaustive switch is emitOp's).
void FnEmitter::emitArrayOp(const ir::Operation& op) {
  using K = ir::OpKind;
  K k = op.kind;
  if (k == K::Dim) {
    const ArrVal& a = arr(op.operand(0));
    if (op.i < 0 || op.i >= static_cast<int64_t>(a.dims.size())) internalError("dim axis");
    set(op.result(), a.dims[static_cast<size_t>(op.i)]);
  } else if (k == K::Index) {
    emitIndex(op);
  } else if (k == K::Slice) {
    emitSlice(op);
  } else if (k == K::Update || k == K::AddAt) {
    emitUpdate(op, k == K::AddAt);
  } else if (k == K::Fill) {
    emitFill(op);
  } else if (k == K::Build) {
    emitBuild(op);
  } else if (k == K::Transpose) {
    emitTranspose(op);
  } else if (k == K::Assert) {
    emitAssert(op);
  } else if (k == K::StopGradient) {
    setArr(op.result(), arr(op.operand(0)));
  } else if (k == K::Select) {
    llvm::Value* c = get(op.operand(0));
    const ArrVal& x = arr(op.operand(1));
    const ArrVal& y = arr(op.operand(2));
    ArrVal r;
    r.data = b_.CreateSelect(c, x.data, y.data);
    for (size_t a = 0; a < x.dims.size(); ++a)
      r.dims.push_back(b_.CreateSelect(c, x.dims[a], y.dims[a]));
    setArr(op.result(), std::move(r));
  } else {
    internalError(std::string("'") + ir::opName(op.kind) + "' is not an array op");
  }
}

// %x = index %a, %i0.. : checks every index (unless hoisted), loads.
void FnEmitter::emitIndex(const ir::Operation& op) {
  const ArrVal& a = arr(op.operand(0));
  if (op.operands.size() != a.dims.size() + 1) internalError("index needs one index per axis");
  std::vector<llvm::Value*> idx;
  for (size_t k = 0; k < a.dims.size(); ++k) {
    llvm::Value* i = get(op.operand(k + 1));
    if (!prechecked_.count({&op, k})) checkIndex(op, i, a.dims[k], k);
    idx.push_back(i);
  }
  ir::Type t = op.operand(0)->type;
  set(op.result(), loadScalar({t.elem, 0}, elemPtr(t, a.data, rowMajor(a.dims, idx))));
}

// Parses the per-axis kinds (attr ints) and their operands from
// `firstOperand` on, checking each index / range against its axis.
Selection FnEmitter::selection(const ir::Operation& op, const ArrVal& a, size_t firstOperand) {
  if (op.ints.size() != a.dims.size()) internalError("selection needs one kind per axis");
  Selection s;
  size_t next = firstOperand;
  for (size_t k = 0; k < a.dims.size(); ++k) {
    llvm::Value* dim = a.dims[k];
    std::string axis = " for axis " + std::to_string(k) + " of size {}";
    if (op.ints[k] == 0) {
      llvm::Value* i = get(op.operand(next++));
      checkIndex(op, i, dim, k);
      s.start.push_back(i);
      s.count.push_back(b_.getInt64(1));
      s.keep.push_back(false);
    } else if (op.ints[k] == 1) {
      llvm::Value* lo = get(op.operand(next++));
      llvm::Value* hi = get(op.operand(next++));
      if (opts_.boundsChecks) {
        llvm::Value* bad = b_.CreateOr(b_.CreateOr(b_.CreateICmpSLT(lo, b_.getInt64(0)),
                                                   b_.CreateICmpSLT(hi, lo)),
                                       b_.CreateICmpSGT(hi, dim));
        raiseFmtIf(bad, CHAIN_ERR_RUNTIME, where(op) + "range {}..{} is out of bounds" + axis,
                   {lo, hi, dim});
      }
      s.start.push_back(lo);
      s.count.push_back(b_.CreateSub(hi, lo, "count", true, true));
      s.keep.push_back(true);
    } else {
      s.start.push_back(b_.getInt64(0));
      s.count.push_back(dim);
      s.keep.push_back(true);
    }
  }
  if (next != op.operands.size()) internalError("selection operand count mismatch");
  return s;
}

// Calls fn(source offset, row-major index within the selection) for every
// selected element; the innermost selected axis is the innermost loop.
void FnEmitter::forSelection(const ArrVal& a, const Selection& s,
                             const std::function<void(llvm::Value*, llvm::Value*)>& fn) {
  std::function<void(size_t, llvm::Value*, llvm::Value*)> level =
      [&](size_t k, llvm::Value* off, llvm::Value* lin) {
        if (k == a.dims.size()) return fn(off, lin);
        llvm::Value* base = b_.CreateMul(off, a.dims[k], "", true, true);
        if (!s.keep[k]) return level(k + 1, b_.CreateAdd(base, s.start[k], "", true, true), lin);
        llvm::Value* linBase = b_.CreateMul(lin, s.count[k], "", true, true);
        simpleLoop(b_.getInt64(0), s.count[k], [&](llvm::Value* j) {
          llvm::Value* src = b_.CreateAdd(base, b_.CreateAdd(s.start[k], j, "", true, true), "", true, true);
          level(k + 1, src, b_.CreateAdd(linBase, j, "", true, true));
        });
      };
  level(0, b_.getInt64(0), b_.getInt64(0));
}

void FnEmitter::emitSlice(const ir::Operation& op) {
  const ArrVal& a = arr(op.operand(0));
  ir::Type t = op.operand(0)->type;
  Selection s = selection(op, a, 1);
  std::vector<llvm::Value*> dims;
  for (size_t k = 0; k < s.keep.size(); ++k)
    if (s.keep[k]) dims.push_back(s.count[k]);
  ArrVal r = newArray(op.result()->type, dims);
  forSelection(a, s, [&](llvm::Value* src, llvm::Value* lin) {
    b_.CreateStore(b_.CreateLoad(elemTy(t), elemPtr(t, a.data, src)), elemPtr(t, r.data, lin));
  });
  setArr(op.result(), std::move(r));
}

llvm::Value* FnEmitter::zeroOf(ir::Type t) {
  return llvm::Constant::getNullValue(typeOf({t.elem, 0}));
}

llvm::Value* FnEmitter::addElems(ir::Type t, llvm::Value* a, llvm::Value* b) {
  if (t.isFloat()) return b_.CreateFAdd(a, b);
  if (t.elem == ir::Scalar::Bool) return b_.CreateOr(a, b);
  return b_.CreateAdd(a, b);
}

// update / add_at: into operand 0's buffer when the plan allows, else into
// a copy. A scalar value sets one element; an array value must have the
// selection's shape (checked) and is copied / added element by element.
void FnEmitter::emitUpdate(const ir::Operation& op, bool add) {
  ir::Type t = op.operand(0)->type;
  ir::Type et{t.elem, 0};
  const ir::Value* v = op.operand(1);
  Selection s = selection(op, arr(op.operand(0)), 2);
  ArrVal dst = plan_->inPlace(op) ? arr(op.operand(0)) : copyArray(t, arr(op.operand(0)));
  if (v->type.rank == 0) {
    llvm::Value* p = elemPtr(t, dst.data, rowMajor(dst.dims, s.start));
    llvm::Value* x = get(v);
    if (add) {
      x = addElems(et, loadScalar(et, p), x);
      if (et.isFloat()) nanCheck(op, x);
    }
    storeScalar(et, x, p);
  } else {
    const ArrVal& va = arr(v);
    size_t q = 0;
    for (size_t k = 0; k < s.keep.size(); ++k) {
      if (!s.keep[k]) continue;
      if (q >= va.dims.size()) internalError("update value rank mismatch");
      raiseFmtIf(b_.CreateICmpNE(va.dims[q], s.count[k]), CHAIN_ERR_RUNTIME,
                 where(op) + "the assigned array has size {} on axis " + std::to_string(q) +
                     " but the selection has size {}",
                 {va.dims[q], s.count[k]});
      ++q;
    }
    forSelection(dst, s, [&](llvm::Value* off, llvm::Value* lin) {
      llvm::Value* p = elemPtr(t, dst.data, off);
      llvm::Value* x = loadScalar(et, elemPtr(t, va.data, lin));
      if (add) {
        x = addElems(et, loadScalar(et, p), x);
        if (et.isFloat()) nanCheck(op, x);
      }
      storeScalar(et, x, p);
    });
  }
  setArr(op.result(), std::move(dst));
}

// fill(v, n0..): every element v; a negative size is a runtime error.
void FnEmitter::emitFill(const ir::Operation& op) {
  ir::Type t = op.result()->type;
  std::vector<llvm::Value*> dims;
  for (size_t k = 1; k < op.operands.size(); ++k) dims.push_back(checkedSize(op, op.operand(k)));
  ArrVal r = newArray(t, dims);
  llvm::Value* v = get(op.operand(0));
  simpleLoop(b_.getInt64(0), numel(r.dims), [&](llvm::Value* i) {
    storeScalar({t.elem, 0}, v, elemPtr(t, r.data, i));
  });
  setArr(op.result(), std::move(r));
}

// build(e0..e_{m-1}): scalars stacked into a vector, or equal-shaped arrays
// (checked against e0) stacked along a new leading axis.
void FnEmitter::emitBuild(const ir::Operation& op) {
  ir::Type t = op.result()->type;
  size_t m = op.operands.size();
  if (t.rank == 1) {
    ArrVal r = newArray(t, {b_.getInt64(static_cast<int64_t>(m))});
    for (size_t k = 0; k < m; ++k)
      storeScalar({t.elem, 0}, get(op.operand(k)), elemPtr(t, r.data, b_.getInt64(static_cast<int64_t>(k))));
    return setArr(op.result(), std::move(r));
  }
  if (m == 0) internalError("build of arrays needs at least one element");
  std::vector<llvm::Value*> inner = arr(op.operand(0)).dims;
  for (size_t k = 1; k < m; ++k) {
    const ArrVal& e = arr(op.operand(k));
    for (size_t a = 0; a < inner.size(); ++a)
      raiseFmtIf(b_.CreateICmpNE(e.dims[a], inner[a]), CHAIN_ERR_RUNTIME,
                 where(op) + "array literal: element " + std::to_string(k) + " has size {} on axis " +
                     std::to_string(a) + ", element 0 has size {}",
                 {e.dims[a], inner[a]});
  }
  std::vector<llvm::Value*> dims{b_.getInt64(static_cast<int64_t>(m))};
  dims.insert(dims.end(), inner.begin(), inner.end());
  ArrVal r = newArray(t, dims);
  llvm::Value* chunk = byteSize(t, inner);
  for (size_t k = 0; k < m; ++k) {
    llvm::Value* dst = b_.CreateInBoundsGEP(b_.getInt8Ty(), r.data,
                                            b_.CreateMul(chunk, b_.getInt64(static_cast<int64_t>(k))));
    b_.CreateMemCpy(dst, llvm::MaybeAlign(1), arr(op.operand(k)).data, llvm::MaybeAlign(1), chunk);
  }
  setArr(op.result(), std::move(r));
}

void FnEmitter::emitTranspose(const ir::Operation& op) {
  ir::Type t = op.result()->type;
  const ArrVal& a = arr(op.operand(0));
  if (a.dims.size() != 2) internalError("transpose of a non-matrix");
  llvm::Value* n = a.dims[0];
  llvm::Value* m = a.dims[1];
  ArrVal r = newArray(t, {m, n});
  simpleLoop(b_.getInt64(0), n, [&](llvm::Value* i) {
    simpleLoop(b_.getInt64(0), m, [&](llvm::Value* j) {
      llvm::Value* x = b_.CreateLoad(elemTy(t), elemPtr(t, a.data, rowMajor(a.dims, {i, j})));
      b_.CreateStore(x, elemPtr(t, r.data, rowMajor(r.dims, {j, i})));
    });
  });
  setArr(op.result(), std::move(r));
}

// assert(cond, v0..): the message with "{}" replaced by v0.. when !cond.
void FnEmitter::emitAssert(const ir::Operation& op) {
  if (op.operands.empty()) internalError("assert without a condition");
  std::vector<llvm::Value*> vals;
  for (size_t k = 1; k < op.operands.size(); ++k) {
    llvm::Value* v = get(op.operand(k));
    if (v->getType()->isIntegerTy(1)) v = b_.CreateZExt(v, b_.getInt64Ty());
    if (!v->getType()->isIntegerTy(64)) internalError("assert values must be i64");
    vals.push_back(v);
  }
  raiseFmtIf(b_.CreateNot(get(op.operand(0))), CHAIN_ERR_RUNTIME, where(op) + op.s, vals);
}

}  // namespace chain::codegen::detail
