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
//
// Component-major table. When such a logsumexp over c sits at the top of the
// body of a loop over p (a reduce, a for or a one-axis map: gmm's sum over
// points) and its elements use nothing that loop defines but p, the elements
// are stored once for the whole loop, as a table with c outermost:
//     %E = map (nc, np) { ^(c, q): e(loc + c, lop + q) }   before the loop
//     %y = reduce logsumexp (loc, hic) { ^(i): index %E, i - loc, p - lop }
// Reverse AD reverses a map by a loop nest in its own axis order, so the
// reverse sweep of e (recompute the element, scatter-add into the adjoints of
// what it reads: gmm's means[c, :], the triangle table's [c, :, :]) now runs
// components outer, points inner: the rows of those adjoints stay in cache
// while the points stream by, instead of leaving it on every point (at gmm
// d=64, k=100 the triangle's adjoint is 3.3 MB). This is the loop order of
// the tuned model (bench/models/tuned/gmm.chain, M[c, i]). Memory: nc x np
// doubles, the elements reverse AD needs anyway (one table per evaluation of
// the outer loop). The table evaluates e for every (c, p), which the loop
// does too, as the logsumexp runs unconditionally in every iteration; its
// extents are computed before the loop and are 0 when it would not run.
// Runtime errors and --nan-check report the same source positions (cloned
// ops keep them); the first error found may be at another (c, p).
#include "passes/StoreReduce.h"

#include <functional>
#include <map>
#include <set>

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

bool isZero(const Value* v) {
  int64_t c;
  return constInt(v, c) && c == 0;
}

// max(hi - lo, 0), built at `b` only as far as needed.
Value* extentOf(Builder& b, Value* lo, Value* hi) {
  Value* n = isZero(lo) ? hi : b.binary(OpKind::Sub, hi, lo);
  return nonNegative(n) ? n : b.binary(OpKind::Max, n, b.constI(0));
}

// Builds the map of op's elements at `b` and rewrites op's region to read it.
void store(Builder& b, Operation& op) {
  b.setLoc(op.loc);
  Value* lo = op.operand(0);
  bool zeroLo = isZero(lo);
  Value* n = extentOf(b, lo, op.operand(1));
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

// The values defined in `b` at any depth (op results and region arguments).
void definedIn(const Block& b, std::set<const Value*>& out) {
  for (auto& a : b.args) out.insert(a.get());
  for (auto& op : b.ops) {
    for (auto& r : op->results) out.insert(r.get());
    for (auto& r : op->regions) definedIn(*r, out);
  }
}

// True when every operand in `b` (at any depth) is defined in `b` itself,
// is `p`, or is not in `loop` (the outer loop's definitions).
bool onlyUses(const Block& b, const std::set<const Value*>& own, const Value* p,
              const std::set<const Value*>& loop) {
  for (auto& op : b.ops) {
    for (const Value* v : op->operands)
      if (v != p && loop.count(v) && !own.count(v)) return false;
    for (auto& r : op->regions)
      if (!onlyUses(*r, own, p, loop)) return false;
  }
  return true;
}

// The range (lo, hi) of a loop over one index p = region arg 0, or false.
bool loopRange(Operation& op, Value*& lo, Value*& hi) {
  if (op.kind == OpKind::Reduce || op.kind == OpKind::For) {
    lo = op.operand(0);
    hi = op.operand(1);
    return true;
  }
  if (op.kind == OpKind::Map && op.operands.size() == 1) {
    lo = nullptr;
    hi = op.operand(0);
    return true;
  }
  return false;
}

// The logsumexp worth storing at the top of loop P's body whose elements and
// range use nothing P defines but its index (see the file comment), or null.
Operation* tableCandidate(Operation& P) {
  Value *lo, *hi;
  if (P.regions.size() != 1 || !loopRange(P, lo, hi)) return nullptr;
  Block& body = *P.region(0);
  std::set<const Value*> loop;
  definedIn(body, loop);
  for (auto& op : body.ops) {
    if (!worthStoring(*op) || loop.count(op->operand(0)) || loop.count(op->operand(1))) continue;
    std::set<const Value*> own;
    definedIn(*op->region(0), own);
    if (onlyUses(*op->region(0), own, body.arg(0), loop)) return op.get();
  }
  return nullptr;
}

// E = map (nc, np) { ^(c, q): e(loc + c, lop + q) } at `b` (before P), and
// L's region becomes ^(i): index E, i - loc, p - lop.
void storeTable(Builder& b, Operation& P, Operation& L) {
  b.setLoc(L.loc);
  Value *plo, *phi;
  loopRange(P, plo, phi);
  Value* clo = L.operand(0);
  Value* nc = extentOf(b, clo, L.operand(1));
  Value* np = plo ? extentOf(b, plo, phi) : phi;
  Block& region = *L.region(0);
  Value* p = P.region(0)->arg(0);
  Type t = L.result()->type;
  Operation* map = b.create(OpKind::Map, {nc, np}, {Type{t.elem, 2}}, 1);
  Block* body = map->region(0);
  Value* c = body->addArg(Type::i64(), "c");
  Value* q = body->addArg(Type::i64(), "q");
  Builder mb(body);
  mb.setLoc(L.loc);
  std::map<const Value*, Value*> vm;
  vm[region.arg(0)] = isZero(clo) ? c : mb.binary(OpKind::Add, c, clo);
  vm[p] = !plo || isZero(plo) ? q : mb.binary(OpKind::Add, q, plo);
  mb.yield(mb.cloneBody(region, vm));

  region.ops.clear();
  Builder rb(&region);
  rb.setLoc(L.loc);
  Value* i = region.arg(0);
  Value* ci = isZero(clo) ? i : rb.binary(OpKind::Sub, i, clo);
  Value* pq = !plo || isZero(plo) ? p : rb.binary(OpKind::Sub, p, plo);
  rb.yield({rb.create(OpKind::Index, {map->result(), ci, pq}, {t})->result()});
}

// Inserts the ops `fill` builds (at a scratch block) before b.ops[j];
// returns how many.
size_t insertBefore(Block& b, size_t j, const std::function<void(Builder&)>& fill) {
  Block tmp;
  Builder tb(&tmp);
  fill(tb);
  size_t n = tmp.ops.size();
  for (auto& o : tmp.ops) o->parent = &b;
  b.ops.insert(b.ops.begin() + long(j), std::make_move_iterator(tmp.ops.begin()),
               std::make_move_iterator(tmp.ops.end()));
  return n;
}

void storeBlock(Block& b) {
  for (size_t j = 0; j < b.ops.size(); ++j) {
    // Outer loop first: its table takes the logsumexp's elements, after
    // which the logsumexp's body is a read and is not stored again below.
    if (Operation* L = tableCandidate(*b.ops[j])) {
      Operation& P = *b.ops[j];
      j += insertBefore(b, j, [&](Builder& tb) { storeTable(tb, P, *L); });
    }
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
