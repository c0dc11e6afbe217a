// The simplify pass, facts part: what the rebuild knows beyond one op's
// operands. Asserted i64 equalities are kept in a scoped union-find and
// every later operand is read through its representative (so `assert
// dim(s, 1) == b` makes later broadcast checks against b fold; after `assert
// n >= 0` n reads as an earlier max(n, 0)); max(n, 0) of a size is the
// size, and so is select(n > 0, n, 0); `select(N == 1, 0, i)` (the broadcast
// index of an operand whose size might be 1) is i when i runs over 0..N; and
// a loop that only updates elements of a carried array keeps its shape, so
// dims of the loop's argument and result are the dims of its init. So does
// a carried array whose every yield has the dims of its init when the body
// is emitted assuming that of the carried arguments (by induction; a fixed
// point: assume it of all, emit, drop the slots whose yield differs, emit
// again), e.g. `r = r - x[j] * tp` with r and tp of size n. A yield that
// grows, slices or swaps in an array of another size refutes it.
#include "passes/IntFacts.h"
#include "passes/SimplifyImpl.h"

namespace chain::passes::simp {

using ir::Block;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

bool isConst(const Value* v) {
  return v->def && (v->def->kind == OpKind::ConstI || v->def->kind == OpKind::ConstB);
}

// The extent N of the loop that index argument `i` runs over (0..N), or null.
const Value* extentOf(const Value* i) {
  if (i->def || !i->owner || !i->owner->parentOp) return nullptr;
  const Operation* p = i->owner->parentOp;
  if (p->kind == OpKind::Map)
    return static_cast<size_t>(i->index) < p->operands.size() ? p->operand(static_cast<size_t>(i->index))
                                                             : nullptr;
  int64_t lo;
  if ((p->kind == OpKind::Reduce || p->kind == OpKind::For) && i->index == 0 && constInt(p->operand(0), lo) &&
      lo == 0)
    return p->operand(1);
  return nullptr;
}

// True when source value `v` has the shape of `a` (the same value, or `a`
// changed only by update/add_at, loops that only do that, and ifs).
bool sameShapeAs(const Value* v, const Value* a, int depth = 0) {
  if (depth > 64) return false;
  while (v != a) {
    const Operation* d = v->def;
    if (!d) return false;
    if (d->kind == OpKind::Update || d->kind == OpKind::AddAt) {
      v = d->operand(0);
      continue;
    }
    size_t r = static_cast<size_t>(v->index);
    if (d->kind == OpKind::For) {
      const Block& body = *d->region(0);
      return sameShapeAs(body.terminator()->operand(r), body.arg(r + 1), depth + 1) &&
             sameShapeAs(d->operand(2 + r), a, depth + 1);
    }
    if (d->kind == OpKind::If)
      return sameShapeAs(d->region(0)->terminator()->operand(r), a, depth + 1) &&
             sameShapeAs(d->region(1)->terminator()->operand(r), a, depth + 1);
    return false;
  }
  return true;
}

}  // namespace

std::vector<bool> Simplifier::shapeInvariantSlots(const Operation& loop) {
  const Block& body = *loop.region(0);
  std::vector<bool> out(loop.results.size(), false);
  for (size_t r = 0; r < loop.results.size(); ++r)
    out[r] = loop.result(r)->type.rank > 0 && sameShapeAs(body.terminator()->operand(r), body.arg(r + 1));
  return out;
}

bool Simplifier::carriedShapesHold(const Block& body, const std::vector<Value*>& inits, std::vector<bool>& assumed,
                                   std::map<size_t, Value*>& shapes) const {
  bool hold = true;
  for (size_t r = 0; r < assumed.size(); ++r) {
    if (!assumed[r] || dimsOf(body.terminator()->operand(r)) == dimsOf(inits[2 + r])) continue;
    assumed[r] = false;
    shapes.erase(r + 1);
    hold = false;
  }
  return hold;
}

std::vector<Value*> Simplifier::dimsOf(Value* v) const {
  for (int guard = 0; guard < 64; ++guard) {
    auto same = sameShape_.find(v);
    if (same != sameShape_.end()) {
      v = same->second;
      continue;
    }
    const Operation* d = v->def;
    if (!d) return {};
    if (d->kind == OpKind::Update || d->kind == OpKind::AddAt) {
      v = d->operand(0);
      continue;
    }
    std::vector<Value*> out;
    if (d->kind == OpKind::Map) out = d->operands;
    else if (d->kind == OpKind::Fill) out.assign(d->operands.begin() + 1, d->operands.end());
    for (Value*& x : out) x = canon(x);
    return out;
  }
  return {};
}

Value* Simplifier::canon(Value* v) const {
  for (;;) {
    Value* next = nullptr;
    for (auto it = eqScopes_.rbegin(); it != eqScopes_.rend() && !next; ++it) {
      auto f = it->find(v);
      if (f != it->end()) next = f->second;
    }
    if (!next) return v;
    v = next;
  }
}

void Simplifier::learnAssert(Value* cond) {
  auto unite = [&](Value* a, Value* b) {
    Value* x = canon(a);
    Value* y = canon(b);
    if (x == y) return;
    if (isConst(x)) std::swap(x, y);  // a constant stays the representative
    if (isConst(x)) return;           // two different constants: the assert fails
    eqScopes_.back()[x] = y;
  };
  assertedEqualities(cond, unite);
  // After `assert n >= 0` (a size check), n is an existing max(n, 0): that
  // one is the representative, so later sizes n read as the extents of the
  // earlier ranges 0..n (for reverse AD's shape proofs too).
  std::vector<const Value*> conds{cond};
  while (!conds.empty()) {
    const Operation* d = conds.back()->def;
    conds.pop_back();
    if (!d) continue;
    if (d->kind == OpKind::And) conds.insert(conds.end(), {d->operand(0), d->operand(1)});
    int64_t zero;
    if (d->kind != OpKind::Ge || d->operand(0)->type != Type::i64() || !constInt(d->operand(1), zero) || zero != 0)
      continue;
    Operation tmp(OpKind::Max);
    tmp.addResult(Type::i64());
    if (Operation* mx = lookup(makeKey(tmp, {d->operand(0), d->operand(1)}))) unite(d->operand(0), mx->result());
  }
}

Value* Simplifier::foldContext(const Operation& op, const std::vector<Value*>& o) const {
  if (op.kind == OpKind::Max && op.result()->type == Type::i64() && o.size() == 2)
    return maxOfNonNegative(o[0], o[1]);
  if (op.kind != OpKind::Select || o.size() != 3 || o[2]->type != Type::i64()) return nullptr;
  int64_t zero;
  const Operation* c = o[0]->def;
  // select(x > c, x, c) (a trip count max(hi - lo, 0)) with c <= 0 <= x is x.
  if (c && (c->kind == OpKind::Gt || c->kind == OpKind::Lt) && constInt(o[2], zero) && zero <= 0 &&
      nonNegative(o[1])) {
    size_t big = c->kind == OpKind::Gt ? 0 : 1;
    if (c->operand(big) == o[1] && c->operand(1 - big) == o[2]) return o[1];
  }
  if (!constInt(o[1], zero) || zero != 0 || !c || c->kind != OpKind::Eq) return nullptr;
  const Value* n = extentOf(o[2]);
  if (!n) return nullptr;
  int64_t one;
  for (size_t s = 0; s < 2; ++s)
    if (constInt(c->operand(s), one) && one == 1 && c->operand(1 - s) == n) return o[2];
  return nullptr;
}

}  // namespace chain::passes::simp
