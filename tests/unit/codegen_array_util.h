// Helpers for the array code generation tests: IR construction shortcuts for
// the array ops (map / reduce with their regions, index, dim, slice, ...),
// ChainArray arguments that own their data, and a raw call of an entry point
// whose array results are copied out and freed with chain_rt_free.
#pragma once

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "codegen_util.h"

namespace cgtest {

using ir::Scalar;
using ir::Type;
using ir::Value;
using AK = ir::OpKind;

inline Type arrT(Scalar s, int rank) { return Type{s, rank}; }
inline Type F64A(int rank = 1) { return arrT(Scalar::F64, rank); }

inline Value* dimOf(ir::Builder& b, Value* a, int axis) {
  ir::Operation* op = b.create(AK::Dim, {a}, {Type::i64()});
  op->i = axis;
  return op->result();
}

inline Value* at(ir::Builder& b, Value* a, std::vector<Value*> idx) {
  std::vector<Value*> ops{a};
  ops.insert(ops.end(), idx.begin(), idx.end());
  return b.create(AK::Index, ops, {Type{a->type.elem, 0}})->result();
}

// map (n0..) ^(i0..) { yield body(b, i...) } with element type `elem`.
inline Value* mapOf(ir::Builder& b, Scalar elem, std::vector<Value*> extents,
                    const std::function<Value*(ir::Builder&, std::vector<Value*>)>& body) {
  ir::Operation* op =
      b.create(AK::Map, extents, {Type{elem, static_cast<int>(extents.size())}}, 1);
  std::vector<Value*> idx;
  for (size_t k = 0; k < extents.size(); ++k) idx.push_back(op->region(0)->addArg(Type::i64()));
  ir::Builder inner(op->region(0));
  inner.setLoc(b.loc());
  inner.yield({body(inner, idx)});
  return op->result();
}

inline Value* reduceOf(ir::Builder& b, const std::string& kind, Type result, Value* lo, Value* hi,
                       const std::function<Value*(ir::Builder&, Value*)>& body) {
  ir::Operation* op = b.create(AK::Reduce, {lo, hi}, {result}, 1);
  op->s = kind;
  Value* i = op->region(0)->addArg(Type::i64());
  ir::Builder inner(op->region(0));
  inner.setLoc(b.loc());
  inner.yield({body(inner, i)});
  return op->result();
}

// slice / update / add_at: kinds per axis (0 index, 1 range, 2 whole).
inline Value* sel(ir::Builder& b, AK k, Type result, std::vector<Value*> operands,
                  std::vector<int64_t> kinds) {
  ir::Operation* op = b.create(k, operands, {result});
  op->ints = std::move(kinds);
  return op->result();
}

// A ChainArray argument owning its data (bool as uint8_t).
template <class T>
struct ArrArg {
  std::vector<T> data;
  ChainArray desc{};
  ArrArg(std::vector<T> v, std::vector<int64_t> shape) : data(std::move(v)) {
    desc.data = data.data();
    for (size_t k = 0; k < shape.size(); ++k) desc.shape[k] = shape[k];
  }
  ArrArg(const ArrArg&) = delete;
  void* ptr() { return &desc; }
};

struct RawCall {
  int32_t status = 0;
  std::string message;
  int64_t tapeTop = 0;
  int64_t arenaPeak = 0;  // bytes
};

inline RawCall callRaw(codegen::EntryFn entry, std::vector<void*> args, std::vector<void*> res,
                       FILE* out = nullptr) {
  ChainCallCtx ctx;
  rt::initCtx(ctx, out ? out : stdout);
  RawCall r;
  r.status = entry(&ctx, args.data(), res.data());
  r.message = ctx.message;
  r.tapeTop = ctx.tapeTop;
  r.arenaPeak = ctx.arenaPeak;
  bool arenaEmpty = ctx.arena == nullptr;
  rt::releaseCtx(ctx);
  if (!arenaEmpty || ctx.arenaBytes != 0) r.message += " [arena not released]";
  return r;
}

// Copies an array result out and frees its memory.
template <class T>
std::vector<T> takeResult(ChainArray& a, int rank, std::vector<int64_t>* shape = nullptr) {
  int64_t n = 1;
  if (shape) shape->clear();
  for (int k = 0; k < rank; ++k) {
    n *= a.shape[k];
    if (shape) shape->push_back(a.shape[k]);
  }
  std::vector<T> out(static_cast<size_t>(n));
  if (n > 0) std::memcpy(out.data(), a.data, sizeof(T) * static_cast<size_t>(n));
  chain_rt_free(a.data);
  a.data = nullptr;
  return out;
}

}  // namespace cgtest
