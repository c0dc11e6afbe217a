// The hoist pass: loop-invariant code motion on the structured IR. It runs
// once after the simplify fixpoint (see Registry.cpp), on primal and
// gradient functions alike, in three steps:
//
// 1. Assert cleanup. An assert is removed when dominating asserts already
//    prove its condition: a constant true, the same condition value, an
//    `and` of proved conditions, or an i64 equality a == b where dominating
//    asserts proved a == c and c == b (the shape checks an inlined function
//    repeats against its caller's sizes). What an assert inside a region
//    proves holds only inside that region.
// 2. Hoisting, bottom-up (inner loops first, so an op can leave several
//    loops). An op directly in a loop region (for body, while condition and
//    body, map and reduce region) is invariant when no value it uses (its
//    operands and the free values of its regions) is an argument of the
//    region or a result of an op of the region that stays. Pure ops move
//    (map, reduce, fill, slice, matmul... included), and so do if/for/while
//    whose regions hold only such ops; effects (print, tape, assert) and
//    calls never move, and nothing is hoisted out of an `if` branch.
//    A loop may run zero times, so an op that might fail or behave
//    differently when run where it did not run before is "unsafe": any
//    MayTrap op (index, slice, division...), a fill or map of a size not
//    known to be >= 0, a float result (--nan-check checks it), a while loop
//    (might not end). Unsafe ops leave a for,
//    reduce or map whose trip count is not known to be positive only inside
//    a guard placed before the loop:
//        %r... = if <the loop runs> { ops; yield r... } else { yield 0 / empty arrays }
//    and the loop reads the guard's results. A while condition runs at
//    least once (no guard needed); a while body cannot be guarded (its
//    first test needs the carried values) and keeps its unsafe ops.
//    An i64 eq/ne, or an `and` of conditions, that the facts decide (the
//    run-time shape guards of the reverse of maps, ReverseADArrays.cpp)
//    becomes a constant, and an `if` on a constant then gives way to the
//    taken region's ops.
// 3. Dead code elimination (a map fused at its only read by the simplifier
//    stays alive while its body holds an assert; step 1 often frees it).
#include "passes/Hoist.h"

#include <map>
#include <memory>
#include <set>
#include <unordered_set>
#include <vector>

#include "passes/IntFacts.h"
#include "passes/Simplify.h"

namespace chain::passes {

namespace {

using ir::Block;
using ir::Builder;
using ir::Operation;
using ir::OpKind;
using ir::Scalar;
using ir::Type;
using ir::Value;

// ---- 1. assert cleanup -------------------------------------------------------

struct Facts {
  std::map<const Value*, const Value*> parent;  // union-find of equal i64 values
  std::set<const Value*> proved;                // conditions known to be true

  const Value* find(const Value* v) const {
    for (auto it = parent.find(v); it != parent.end(); it = parent.find(v)) v = it->second;
    return v;
  }
  void unite(const Value* a, const Value* b) {
    a = find(a), b = find(b);
    if (a != b) parent[a] = b;
  }
};

bool isIntEq(const Value* c) {
  return c->def && c->def->kind == OpKind::Eq && c->def->operand(0)->type == Type::i64();
}

bool implied(const Facts& f, const Value* c) {
  if (c->def && c->def->kind == OpKind::ConstB) return c->def->i != 0;
  if (f.proved.count(c)) return true;
  if (isIntEq(c)) return f.find(c->def->operand(0)) == f.find(c->def->operand(1));
  if (c->def && c->def->kind == OpKind::And)
    return implied(f, c->def->operand(0)) && implied(f, c->def->operand(1));
  // `a and b` is `if a { b } else { false }`
  if (c->def && c->def->kind == OpKind::If && implied(f, c->def->operand(0)))
    return implied(f, c->def->region(0)->terminator()->operand(size_t(c->index)));
  return false;
}

void learn(Facts& f, const Value* c) {
  f.proved.insert(c);
  if (isIntEq(c)) f.unite(c->def->operand(0), c->def->operand(1));
  if (c->def && c->def->kind == OpKind::And) {
    learn(f, c->def->operand(0));
    learn(f, c->def->operand(1));
  }
}

// max(v, c) with c <= 0 and v >= 0 is v (the extent of a range 0..n).
void learnMax(Facts& f, const Operation& op) {
  if (const Value* v = maxOfNonNegative(op)) f.unite(op.result(), v);
}

// An i64 eq/ne or an and of conditions that the facts decide becomes a
// constant in place (its uses then see it; foldIfs removes dead branches).
void decide(const Facts& f, Operation& op) {
  bool eqNe = (op.kind == OpKind::Eq || op.kind == OpKind::Ne) && op.operand(0)->type == Type::i64();
  if ((!eqNe && op.kind != OpKind::And) || op.result()->type.rank != 0) return;
  bool known = op.kind == OpKind::And ? implied(f, op.result())
                                      : f.find(op.operand(0)) == f.find(op.operand(1));
  if (!known) return;
  op.i = op.kind != OpKind::Ne;
  op.kind = OpKind::ConstB;
  op.operands.clear();
}

// `taken`: the ifs whose condition the facts prove (foldIfs takes their
// then-region).
void cleanAsserts(Block& b, Facts facts, std::set<const Operation*>& taken) {
  for (auto it = b.ops.begin(); it != b.ops.end();) {
    Operation& op = **it;
    learnMax(facts, op);
    decide(facts, op);
    if (op.kind == OpKind::If && implied(facts, op.operand(0))) taken.insert(&op);
    if (op.kind == OpKind::Assert) {
      if (implied(facts, op.operand(0))) {
        it = b.ops.erase(it);
        continue;
      }
      learn(facts, op.operand(0));
    }
    for (auto& r : op.regions) cleanAsserts(*r, facts, taken);
    ++it;
  }
}

// ---- 2. hoisting: what may move --------------------------------------------------

// Pure, or if/for/while over pure ops (a yield only inside a region).
bool movable(const Operation& op, bool nested) {
  if (op.kind == OpKind::Yield) return nested;
  if (hasFlag(op.kind, ir::Effect) || hasFlag(op.kind, ir::Terminator)) return false;
  bool control = op.kind == OpKind::If || op.kind == OpKind::For || op.kind == OpKind::While;
  if (!hasFlag(op.kind, ir::Pure) && !control) return false;
  for (auto& r : op.regions)
    for (auto& o : r->ops)
      if (!movable(*o, true)) return false;
  return true;
}

bool unsafeOne(const Operation& op) {
  if (hasFlag(op.kind, ir::MayTrap) || op.kind == OpKind::While) return true;
  if (op.kind == OpKind::ConstF) return false;
  if (op.kind == OpKind::Fill || op.kind == OpKind::Map)  // a negative size is an error
    for (size_t k = op.kind == OpKind::Fill ? 1 : 0; k < op.operands.size(); ++k)
      if (!nonNegative(op.operand(k))) return true;
  for (auto& r : op.results)
    if (r->type.isFloat()) return true;
  return false;
}

bool unsafe(const Operation& op) {
  if (unsafeOne(op)) return true;
  for (auto& r : op.regions)
    for (auto& o : r->ops)
      if (unsafe(*o)) return true;
  return false;
}

// The values `op` reads: its operands and those of the ops in its regions.
void usedValues(const Operation& op, std::vector<const Value*>& out) {
  out.insert(out.end(), op.operands.begin(), op.operands.end());
  for (auto& r : op.regions)
    for (auto& o : r->ops) usedValues(*o, out);
}

// ---- 2. hoisting: moving ---------------------------------------------------------

enum class Mode { Free, Guard, SafeOnly };

struct Taken {
  std::vector<std::unique_ptr<Operation>> plain, guarded;
};

// Moves the invariant ops of region `r` into `t` (in order).
void extract(Block& r, Mode mode, Taken& t) {
  std::unordered_set<const Value*> variant, inGuard;
  for (auto& a : r.args) variant.insert(a.get());
  std::vector<const Value*> used;
  for (auto it = r.ops.begin(); it != r.ops.end();) {
    Operation& op = **it;
    used.clear();
    usedValues(op, used);
    bool stays = !movable(op, false), guard = false;
    for (const Value* v : used) stays = stays || variant.count(v) != 0;
    if (!stays && mode != Mode::Free) {
      bool dep = false;
      for (const Value* v : used) dep = dep || inGuard.count(v) != 0;
      guard = dep || unsafe(op);
      stays = guard && mode == Mode::SafeOnly;
    }
    if (stays) {
      for (auto& res : op.results) variant.insert(res.get());
      ++it;
      continue;
    }
    if (guard) {
      for (auto& res : op.results) inGuard.insert(res.get());
      t.guarded.push_back(std::move(*it));
    } else {
      t.plain.push_back(std::move(*it));
    }
    it = r.ops.erase(it);
  }
}

Value* zeroOf(Builder& b, Type t) {
  Type s{t.elem, 0};
  Value* z = s.isFloat() ? b.constF(0.0, s) : s.elem == Scalar::I64 ? b.constI(0) : b.constB(false);
  if (t.rank == 0) return z;
  std::vector<Value*> operands{z};
  for (int k = 0; k < t.rank; ++k) operands.push_back(b.constI(0));
  return b.create(OpKind::Fill, operands, {t})->result();
}

// The test "the loop runs its region at least once", emitted at `b`.
Value* tripTest(Builder& b, const Operation& loop) {
  if (loop.kind != OpKind::Map) return b.binary(OpKind::Lt, loop.operand(0), loop.operand(1));
  Value* all = nullptr;
  for (Value* n : loop.operands) {
    Value* pos = b.binary(OpKind::Gt, n, b.constI(0));
    all = all ? b.binary(OpKind::And, all, pos) : pos;
  }
  return all;
}

void replaceUses(Block& b, const std::map<const Value*, Value*>& rep) {
  for (auto& op : b.ops) {
    for (Value*& v : op->operands) {
      auto it = rep.find(v);
      if (it != rep.end()) v = it->second;
    }
    for (auto& r : op->regions) replaceUses(*r, rep);
  }
}

// Builds the guard `if` at `b` holding `ops`; the loop's reads of their
// results are redirected to the guard's results.
void emitGuard(Builder& b, Operation& loop, std::vector<std::unique_ptr<Operation>> ops) {
  b.setLoc(loop.loc);
  Value* cond = tripTest(b, loop);
  std::vector<const Value*> used;
  usedValues(loop, used);
  std::set<const Value*> usedSet(used.begin(), used.end());
  std::vector<Value*> out;
  std::vector<Type> types;
  for (auto& op : ops)
    for (auto& res : op->results)
      if (usedSet.count(res.get())) {
        out.push_back(res.get());
        types.push_back(res->type);
      }
  Operation* g = b.create(OpKind::If, {cond}, types, 2);
  Block* then = g->region(0);
  for (auto& op : ops) {
    op->parent = then;
    then->ops.push_back(std::move(op));
  }
  Builder(then).yield(out);
  Builder eb(g->region(1));
  std::vector<Value*> zeros;
  for (Type t : types) zeros.push_back(zeroOf(eb, t));
  eb.yield(zeros);
  std::map<const Value*, Value*> rep;
  for (size_t k = 0; k < out.size(); ++k) rep[out[k]] = g->result(k);
  for (auto& r : loop.regions) replaceUses(*r, rep);
}

// Hoists the invariants of loop `outer.ops[pos]` to just before it; returns
// how many ops were inserted.
size_t hoistFrom(Block& outer, size_t pos) {
  Operation& loop = *outer.ops[pos];
  Taken t;
  if (loop.kind == OpKind::For || loop.kind == OpKind::Map || loop.kind == OpKind::Reduce) {
    extract(*loop.region(0), knownNonEmpty(loop) ? Mode::Free : Mode::Guard, t);
  } else if (loop.kind == OpKind::While) {
    extract(*loop.region(0), Mode::Free, t);
    extract(*loop.region(1), Mode::SafeOnly, t);
  } else {
    return 0;
  }
  if (t.plain.empty() && t.guarded.empty()) return 0;
  Block tmp;
  tmp.ops = std::move(t.plain);
  if (!t.guarded.empty()) {
    Builder b(&tmp);
    emitGuard(b, loop, std::move(t.guarded));
  }
  size_t n = tmp.ops.size();
  for (auto& op : tmp.ops) op->parent = &outer;
  outer.ops.insert(outer.ops.begin() + static_cast<long>(pos), std::make_move_iterator(tmp.ops.begin()),
                   std::make_move_iterator(tmp.ops.end()));
  return n;
}

// `if` with a constant condition: the taken region's ops replace it, its
// results are the region's yielded values (recorded in `rep`). The removed
// ifs go to `graveyard`: later ops still name their results until the
// caller applies `rep`, so they must stay allocated until then.
void foldIfs(Block& b, const std::set<const Operation*>& proved, std::map<const Value*, Value*>& rep,
             std::vector<std::unique_ptr<Operation>>& graveyard) {
  for (size_t j = 0; j < b.ops.size();) {
    Operation& op = *b.ops[j];
    for (auto& r : op.regions) foldIfs(*r, proved, rep, graveyard);
    Value* cond = op.kind == OpKind::If ? op.operand(0) : nullptr;
    for (auto it = rep.find(cond); cond && it != rep.end(); it = rep.find(cond)) cond = it->second;
    const Operation* c = cond ? cond->def : nullptr;
    bool known = c && c->kind == OpKind::ConstB;
    if (!known && !proved.count(&op)) {
      ++j;
      continue;
    }
    Block& taken = *op.region(!known || c->i ? 0 : 1);
    Operation* yield = taken.terminator();
    for (size_t r = 0; r < op.results.size(); ++r) rep[op.result(r)] = yield->operand(r);
    graveyard.push_back(std::move(b.ops[j]));  // owns the moved-from region
    taken.ops.pop_back();
    for (auto& o : taken.ops) o->parent = &b;
    size_t n = taken.ops.size();
    b.ops.erase(b.ops.begin() + long(j));
    b.ops.insert(b.ops.begin() + long(j), std::make_move_iterator(taken.ops.begin()),
                 std::make_move_iterator(taken.ops.end()));
    j += n;  // the spliced ops were folded above
  }
}

void replaceAll(Block& b, const std::map<const Value*, Value*>& rep) {
  for (auto& op : b.ops) {
    for (Value*& v : op->operands)
      for (auto it = rep.find(v); it != rep.end(); it = rep.find(v)) v = it->second;
    for (auto& r : op->regions) replaceAll(*r, rep);
  }
}

void hoistBlock(Block& b) {
  for (size_t j = 0; j < b.ops.size(); ++j) {
    for (auto& r : b.ops[j]->regions) hoistBlock(*r);
    j += hoistFrom(b, j);
  }
}

}  // namespace

bool knownNonEmpty(const Operation& loop) {
  int64_t lo, hi;
  if (loop.kind == OpKind::For || loop.kind == OpKind::Reduce)
    return constInt(loop.operand(0), lo) && constInt(loop.operand(1), hi) && lo < hi;
  for (const Value* n : loop.operands)
    if (!constInt(n, lo) || lo <= 0) return false;
  return loop.kind == OpKind::Map;
}

void hoistInvariants(ir::Module& m, ir::Function& f) {
  (void)m;
  std::set<const Operation*> taken;
  cleanAsserts(f.body, Facts{}, taken);
  std::map<const Value*, Value*> rep;
  std::vector<std::unique_ptr<Operation>> graveyard;
  foldIfs(f.body, taken, rep, graveyard);
  if (!rep.empty()) replaceAll(f.body, rep);
  graveyard.clear();
  hoistBlock(f.body);
  eliminateDeadCode(f);
}

}  // namespace chain::passes
