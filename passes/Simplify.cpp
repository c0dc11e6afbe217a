// The simplify pass, rebuild part. The function body is rebuilt op by op
// through a value map: each pure op is folded (SimplifyFold.cpp, and for
// arrays SimplifyArrays.cpp) or looked up in a scoped CSE table before it is
// emitted; `if` with a constant condition is replaced by the taken region's
// ops, `for` with constant bounds lo >= hi by its inits, and region results
// that merely forward a value from outside the region are replaced by that
// value. Dead code is then removed (SimplifyDCE.cpp). Array folds and map
// fusion expose more of each other, so the rebuild runs for a few rounds
// while they still find something.
#include "passes/Simplify.h"

#include <algorithm>
#include <cstring>

#include "passes/SimplifyImpl.h"

namespace chain::passes {

namespace simp {

using ir::Block;
using ir::Builder;
using ir::Operation;
using ir::OpKind;
using ir::Value;

CseKey makeKey(const Operation& op, const std::vector<Value*>& operands) {
  uint64_t fbits;
  std::memcpy(&fbits, &op.f, sizeof fbits);
  std::vector<const Value*> ops(operands.begin(), operands.end());
  if (hasFlag(op.kind, ir::Commutative) && ops.size() == 2 && std::less<const Value*>()(ops[1], ops[0]))
    std::swap(ops[0], ops[1]);
  std::vector<int> types;
  for (auto& r : op.results) types.push_back(static_cast<int>(r->type.elem) * 64 + r->type.rank);
  return {op.kind, fbits, op.i, op.s, op.ints, ops, types};
}

namespace {

bool hasEffects(const Block& b) {
  for (auto& op : b.ops) {
    if (hasFlag(op->kind, ir::Effect) || op->kind == OpKind::Call || op->kind == OpKind::GradCall)
      return true;
    for (auto& r : op->regions)
      if (hasEffects(*r)) return true;
  }
  return false;
}

}  // namespace

void countAllUses(const Block& b, Uses& u) {
  for (auto& op : b.ops) {
    for (Value* v : op->operands) u[v] += 1;
    for (auto& r : op->regions) countAllUses(*r, u);
  }
}

void Simplifier::emitOp(Builder& b, const Operation& op) {
  if (op.kind == OpKind::If) return emitIf(b, op);
  if (op.kind == OpKind::For) return emitFor(b, op);
  if (op.kind == OpKind::While) return emitWhile(b, op);
  if (op.kind == OpKind::Map || op.kind == OpKind::Reduce) return emitMapReduce(b, op);
  if (!hasFlag(op.kind, ir::Pure) || hasFlag(op.kind, ir::Effect) || !op.regions.empty()) {
    Operation* n = b.clone(op, map_);
    for (size_t k = 0; k < n->operands.size(); ++k) n->operands[k] = canon(n->operands[k]);
    if (op.kind != OpKind::Assert) return;
    learnAssert(n->operand(0));
    // the checks emitAssert would add again (a size check of the last round) are done
    scopes_.back().emplace(makeKey(*n, n->operands), n);
    return;
  }
  directIndex_ = op.kind == OpKind::Index ? &op : nullptr;
  std::vector<Value*> rs = emitPure(b, op, mapAll(op.operands));
  directIndex_ = nullptr;
  for (size_t i = 0; i < op.results.size(); ++i) map_[op.result(i)] = rs[i];
}

std::vector<Value*> Simplifier::emitPure(Builder& b, const Operation& op,
                                         const std::vector<Value*>& operands) {
  if (op.kind == OpKind::Fill) sizeAsserts(b, op, {operands.begin() + 1, operands.end()});
  fold::Result r = fold::foldOp(op, operands);
  if (r.kind == fold::Result::Existing) return {r.value};
  if (r.kind == fold::Result::Constant) return {constant(b, r, op.loc)};
  if (Value* v = foldContext(op, operands)) return {v};
  if (Value* v = foldArray(b, op, operands)) {
    ++arrayChanges_;
    return {v};
  }
  CseKey key = makeKey(op, operands);
  Operation* n = lookup(key);
  if (!n) {
    n = shell(b, op, operands);
    scopes_.back()[key] = n;
  }
  std::vector<Value*> out;
  for (auto& res : n->results) out.push_back(res.get());
  return out;
}

Value* Simplifier::constant(Builder& b, const fold::Result& r, ir::SrcLoc loc) {
  Operation tmp(r.constKind);
  tmp.f = r.f;
  tmp.i = r.i;
  tmp.addResult(r.type);
  CseKey key = makeKey(tmp, {});
  if (Operation* prev = lookup(key)) return prev->result();
  tmp.loc = loc;
  std::map<const Value*, Value*> scratch;
  Operation* n = b.clone(tmp, scratch);
  scopes_.back()[key] = n;
  return n->result();
}

Operation* Simplifier::lookup(const CseKey& key) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto f = it->find(key);
    if (f != it->end()) return f->second;
  }
  return nullptr;
}

// Creates `op` without regions, with new operands and the same attributes.
Operation* Simplifier::shell(Builder& b, const Operation& op, std::vector<Value*> operands) {
  std::vector<ir::Type> types;
  for (auto& r : op.results) types.push_back(r->type);
  ir::SrcLoc saved = b.loc();
  b.setLoc(op.loc);
  Operation* n = b.create(op.kind, std::move(operands), types, 0);
  b.setLoc(saved);
  n->f = op.f;
  n->i = op.i;
  n->s = op.s;
  n->ints = op.ints;
  for (size_t r = 0; r < op.results.size(); ++r) n->results[r]->name = op.results[r]->name;
  return n;
}

// Adds a region to `n` and emits `src` into it under a new CSE scope.
// Arguments whose index is in `subst` are replaced by the given value
// (loop-invariant carried values).
Block* Simplifier::emitRegion(Operation* n, const Block& src, const std::map<size_t, Value*>& subst,
                              const std::map<size_t, Value*>& sameShape) {
  Block* nb = n->addRegion();
  for (size_t i = 0; i < src.args.size(); ++i) {
    Value* na = nb->addArg(src.args[i]->type, src.args[i]->name);
    auto it = subst.find(i);
    map_[src.args[i].get()] = it == subst.end() ? na : it->second;
    auto sh = sameShape.find(i);
    if (sh != sameShape.end()) sameShape_[na] = sh->second;
  }
  scopes_.emplace_back();
  eqScopes_.emplace_back();
  Builder inner(nb);
  emitBlock(inner, src);
  eqScopes_.pop_back();
  scopes_.pop_back();
  return nb;
}

// Emits the ops of `src` but its terminator into `b`; returns the mapped
// yielded values.
std::vector<Value*> Simplifier::emitInline(Builder& b, const Block& src) {
  for (auto& op : src.ops) {
    if (hasFlag(op->kind, ir::Terminator)) return mapAll(op->operands);
    emitOp(b, *op);
  }
  return {};
}

void Simplifier::emitIf(Builder& b, const Operation& op) {
  Value* c = m(op.operand(0));
  double f;
  int64_t i;
  if (fold::constantOf(c, f, i)) {
    std::vector<Value*> ys = emitInline(b, *op.regions[i ? 0 : 1]);
    for (size_t r = 0; r < op.results.size(); ++r) map_[op.result(r)] = ys[r];
    return;
  }
  Operation* n = shell(b, op, {c});
  Block* t = emitRegion(n, *op.region(0));
  Block* e = emitRegion(n, *op.region(1));
  for (size_t r = 0; r < op.results.size(); ++r) {
    Value* ty = t->terminator()->operand(r);
    Value* ey = e->terminator()->operand(r);
    map_[op.result(r)] = ty == ey && !definedIn(ty, n) ? ty : n->result(r);
  }
}

// A carried value whose body yields it unchanged (or yields its init) is
// loop-invariant: the loop is emitted again with its uses replaced by the
// init, and the loop result forwards the init. Dead carried values are then
// removed by DCE. Carried arrays keep their init's shape when the body only
// updates them (shapeInvariantSlots) or, by induction, when assuming that of
// every assumed slot makes each yield have its init's dims (carriedShapesHold).
void Simplifier::emitFor(Builder& b, const Operation& op) {
  std::vector<Value*> operands = mapAll(op.operands);
  double f;
  int64_t lo, hi;
  if (fold::constantOf(operands[0], f, lo) && fold::constantOf(operands[1], f, hi) && lo >= hi) {
    for (size_t r = 0; r < op.results.size(); ++r) map_[op.result(r)] = operands[2 + r];
    return;
  }
  std::map<size_t, Value*> subst;  // body argument index -> init
  std::vector<bool> sameShape = shapeInvariantSlots(op);
  std::vector<bool> assumed(op.results.size(), false);  // shape kept if the yields verify it
  std::map<size_t, Value*> shapes;  // body argument index -> init of the same shape
  for (size_t r = 0; r < op.results.size(); ++r) {
    Value* init = operands[2 + r];
    assumed[r] = !sameShape[r] && init->type.rank > 0 && !dimsOf(init).empty();
    if (sameShape[r] || assumed[r]) shapes[r + 1] = init;
  }
  for (;;) {
    Operation* n = shell(b, op, operands);
    Block* body = emitRegion(n, *op.region(0), subst, shapes);
    if (!carriedShapesHold(*body, operands, assumed, shapes)) {
      subst.clear();  // found under a refuted assumption
      forget(*n);
      b.block()->ops.pop_back();
      continue;
    }
    size_t before = subst.size();
    for (size_t r = 0; r < op.results.size(); ++r) {
      Value* y = body->terminator()->operand(r);
      Value* init = operands[2 + r];
      bool invariant = y == body->arg(r + 1) || y == init;
      if (invariant) subst[r + 1] = init;
      map_[op.result(r)] = invariant ? init : n->result(r);
      if (sameShape[r] || assumed[r]) sameShape_[n->result(r)] = init;
    }
    if (subst.size() == before) return;
    forget(*n);
    b.block()->ops.pop_back();  // emit again with the invariants substituted
  }
}

void Simplifier::emitWhile(Builder& b, const Operation& op) {
  std::vector<Value*> inits = mapAll(op.operands);
  std::map<size_t, Value*> subst;  // argument index (both regions) -> init
  for (;;) {
    Operation* n = shell(b, op, inits);
    Block* cond = emitRegion(n, *op.region(0), subst);
    Block* body = emitRegion(n, *op.region(1), subst);
    double f;
    int64_t c;
    if (fold::constantOf(cond->terminator()->operand(0), f, c) && c == 0 && !hasEffects(*cond)) {
      forget(*n);
      b.block()->ops.pop_back();  // the loop never runs
      for (size_t r = 0; r < op.results.size(); ++r) map_[op.result(r)] = inits[r];
      return;
    }
    size_t before = subst.size();
    for (size_t r = 0; r < op.results.size(); ++r) {
      Value* y = body->terminator()->operand(r);
      bool invariant = y == body->arg(r) || y == inits[r];
      if (invariant) subst[r] = inits[r];
      map_[op.result(r)] = invariant ? inits[r] : n->result(r);
    }
    if (subst.size() == before) return;
    forget(*n);
    b.block()->ops.pop_back();
  }
}

}  // namespace simp

void simplify(ir::Module& m, ir::Function& f) {
  (void)m;
  for (int round = 0; round < 4; ++round) {
    simp::Uses uses;
    simp::countAllUses(f.body, uses);
    ir::Block fresh;
    ir::Builder b(&fresh);
    simp::Simplifier s(uses, f.forDifferentiation);
    s.emitBlock(b, f.body);  // the parameters stay the same Values
    f.body.ops = std::move(fresh.ops);
    for (auto& op : f.body.ops) op->parent = &f.body;
    eliminateDeadCode(f);
    if (s.arrayChanges() == 0) break;
  }
}

}  // namespace chain::passes
