// The store pass: store, rather than recompute, the elements of a reduction
// whose reverse re-reads them. It runs last in the registry and changes only
// a function prepared for reverse AD (ir::Function::forDifferentiation), so
// the primal a user calls keeps its fused one-pass loop.
//
// The adjoint of y = logsumexp_i e(i) seeds element i with exp(e(i) - y), so
// the reverse sweep needs every e(i) again after the forward sweep has
// reduced them. Reverse AD recomputes them (ReverseADArrays.cpp: the shared
// seeds of a region without loops, else once per pass that needs them). When
// e(i) is cheap that is right; when each element is itself a loop (gmm's
// ||Q_c (x_p - mu_c)||^2, a sum over d terms of sums over up to d terms, in a
// logsumexp over components c) the gradient computes every element three
// times: for y, for the weights, and in the reverse of e itself.
//
// Cost rule: an element whose expression holds a loop (map, reduce or for)
// costs at least its trip count in operations, against one store and one
// load for keeping it: such a logsumexp becomes
//     %v = map (n) { ^(k): e(lo + k) }      n = max(hi - lo, 0)
//     %y = reduce logsumexp (lo, hi) { ^(i): index %v, i - lo }
// and the reverse sweep then reads v (an array of the reduce's length, one
// per evaluation of the reduce: n doubles, not a product of loop extents).
// A body without a loop stays as it is (recomputing it costs about what
// storing it would).
#include "passes/StoreReduce.h"

#include <map>

#include "passes/IntFacts.h"

namespace chain::passes {

namespace {

using ir::Block;
using ir::Builder;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

bool holdsLoop(const Block& b) {
  for (auto& op : b.ops) {
    if (op->kind == OpKind::Map || op->kind == OpKind::Reduce || op->kind == OpKind::For) return true;
    for (auto& r : op->regions)
      if (holdsLoop(*r)) return true;
  }
  return false;
}

bool worthStoring(const Operation& op) {
  return op.kind == OpKind::Reduce && op.s == "logsumexp" && holdsLoop(*op.region(0));
}

// Builds the map of op's elements at `b` and rewrites op's region to read it.
void store(Builder& b, Operation& op) {
  b.setLoc(op.loc);
  Value* lo = op.operand(0);
  int64_t c;
  bool zeroLo = constInt(lo, c) && c == 0;
  Value* n = zeroLo ? op.operand(1) : b.binary(OpKind::Sub, op.operand(1), lo);
  if (!nonNegative(n)) n = b.binary(OpKind::Max, n, b.constI(0));
  Block& region = *op.region(0);
  Type t = op.result()->type;
  Operation* map = b.create(OpKind::Map, {n}, {Type{t.elem, 1}}, 1);
  Block* body = map->region(0);
  Value* k = body->addArg(Type::i64(), "k");
  Builder mb(body);
  mb.setLoc(op.loc);
  std::map<const Value*, Value*> vm;
  vm[region.arg(0)] = zeroLo ? k : mb.binary(OpKind::Add, k, lo);
  mb.yield(mb.cloneBody(region, vm));

  // The region becomes ^(i): index %v, i - lo.
  region.ops.clear();
  Builder rb(&region);
  rb.setLoc(op.loc);
  Value* i = region.arg(0);
  Value* at = zeroLo ? i : rb.binary(OpKind::Sub, i, lo);
  rb.yield({rb.create(OpKind::Index, {map->result(), at}, {t})->result()});
}

void storeBlock(Block& b) {
  for (size_t j = 0; j < b.ops.size(); ++j) {
    Operation& op = *b.ops[j];
    for (auto& r : op.regions) storeBlock(*r);
    if (!worthStoring(op)) continue;
    Block tmp;
    Builder tb(&tmp);
    store(tb, op);
    size_t n = tmp.ops.size();
    for (auto& o : tmp.ops) o->parent = &b;
    b.ops.insert(b.ops.begin() + long(j), std::make_move_iterator(tmp.ops.begin()),
                 std::make_move_iterator(tmp.ops.end()));
    j += n;
  }
}

}  // namespace

void storeReduceBodies(ir::Module& m, ir::Function& f) {
  (void)m;
  if (f.forDifferentiation) storeBlock(f.body);
}

}  // namespace chain::passes
