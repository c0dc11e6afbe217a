// Test helpers shared by the ir_* and passes_* unit tests: build array IR by
// hand (dim, index, map and reduce with their regions) with ir::Builder.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace arrtest {

using namespace chain::ir;

// A module with one function @name(params) -> results being built.
struct Fn {
  Module m;
  Function* f;
  Builder b;
  Fn(std::vector<Type> params, std::vector<Type> results, std::vector<std::string> names,
     const std::string& name = "f") {
    auto fn = std::make_unique<Function>();
    fn->name = name;
    fn->resultTypes = std::move(results);
    for (size_t i = 0; i < params.size(); ++i) fn->body.addArg(params[i], names[i]);
    f = m.add(std::move(fn));
    b.setBlock(&f->body);
  }
  Value* p(size_t i) const { return f->param(i); }
};

inline Type arr(Scalar s, int rank) { return Type{s, rank}; }

inline Value* dim(Builder& b, Value* a, int64_t axis) {
  Operation* op = b.create(OpKind::Dim, {a}, {Type::i64()});
  op->i = axis;
  return op->result();
}

inline Value* index(Builder& b, Value* a, std::vector<Value*> idx) {
  idx.insert(idx.begin(), a);
  return b.create(OpKind::Index, idx, {Type{a->type.elem, 0}})->result();
}

using MapBody = std::function<Value*(Builder&, const std::vector<Value*>&)>;

// map (ext...) { ^(i...): yield body(i...) }; the element type is the body's.
inline Value* map(Builder& b, std::vector<Value*> ext, const MapBody& body) {
  Operation* op = b.create(OpKind::Map, ext, {Type::f64()}, 1);
  std::vector<Value*> args;
  const char* names[] = {"i", "j", "k"};
  for (size_t k = 0; k < ext.size(); ++k) args.push_back(op->region(0)->addArg(Type::i64(), names[k % 3]));
  Builder in(op->region(0));
  in.setLoc(b.loc());
  Value* y = body(in, args);
  in.yield({y});
  op->results[0]->type = Type{y->type.elem, static_cast<int>(ext.size())};
  return op->result();
}

using ReduceBody = std::function<Value*(Builder&, Value*)>;

inline Value* reduce(Builder& b, const std::string& kind, Value* lo, Value* hi, const ReduceBody& body,
                     const char* arg = "r") {
  Operation* op = b.create(OpKind::Reduce, {lo, hi}, {Type::f64()}, 1);
  op->s = kind;
  Value* i = op->region(0)->addArg(Type::i64(), arg);
  Builder in(op->region(0));
  in.setLoc(b.loc());
  Value* y = body(in, i);
  in.yield({y});
  op->results[0]->type = y->type;
  return op->result();
}

// slice / update / add_at with selection kinds `kinds` and operands `sel`.
inline Value* select(Builder& b, OpKind k, Value* a, Value* v, std::vector<int64_t> kinds,
                     std::vector<Value*> sel) {
  std::vector<Value*> ops = {a};
  if (v) ops.push_back(v);
  ops.insert(ops.end(), sel.begin(), sel.end());
  int kept = 0;
  for (int64_t x : kinds) kept += x != 0;
  Type t = k == OpKind::Slice ? Type{a->type.elem, kept} : a->type;
  Operation* op = b.create(k, ops, {t});
  op->ints = std::move(kinds);
  return op->result();
}

inline size_t countOps(const Block& blk, OpKind k) {
  size_t n = 0;
  for (auto& op : blk.ops) {
    n += op->kind == k;
    for (auto& r : op->regions) n += countOps(*r, k);
  }
  return n;
}

}  // namespace arrtest
