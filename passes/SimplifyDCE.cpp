// Dead code elimination for the simplify pass. Use counts are computed once
// for the whole function and kept up to date while a backward sweep removes
// every removable op whose results are unused: pure ops, and ops with regions
// (if/for/while/map/reduce) whose regions hold no effect (print, tape ops,
// assert), no call and no integer division that may trap. An i64 div/rem
// whose divisor is not a constant other than 0 and -1 counts as an effect
// (SPEC §4: an integer division by zero is a runtime error, even when the
// quotient is unused); it is still folded and CSE'd by the rebuild. Then loop-
// carried values of for/while that nothing outside needs (their result is
// unused and, inside the loop, they only feed their own next value) and
// unused results of `if` are removed, and the sweep runs again.
#include <cassert>
#include <set>
#include <unordered_map>
#include <vector>

#include "passes/Simplify.h"

namespace chain::passes {

namespace {

using ir::Block;
using ir::Operation;
using ir::OpKind;
using ir::Value;
using Uses = std::unordered_map<const Value*, int>;

void countUses(const Block& b, Uses& u, int delta) {
  for (auto& op : b.ops) {
    for (Value* v : op->operands) u[v] += delta;
    for (auto& r : op->regions) countUses(*r, u, delta);
  }
}

// An i64 div/rem that may raise a runtime error: its divisor is not a
// constant known to be neither 0 nor -1 (INT64_MIN / -1 also traps).
bool mayTrapDivision(const Operation& op) {
  if (op.kind != OpKind::Div && op.kind != OpKind::Rem) return false;
  if (op.operands.size() != 2 || op.operand(0)->type.elem != ir::Scalar::I64) return false;
  const Operation* d = op.operand(1)->def;
  return !(d && d->kind == OpKind::ConstI && d->i != 0 && d->i != -1);
}

// An op that must run even when its results are unused (regions aside).
bool isEffect(const Operation& op) {
  return hasFlag(op.kind, ir::Effect) || op.kind == OpKind::Call || op.kind == OpKind::GradCall ||
         mayTrapDivision(op);
}

bool hasEffects(const Block& b) {
  for (auto& op : b.ops) {
    if (isEffect(*op)) return true;
    for (auto& r : op->regions)
      if (hasEffects(*r)) return true;
  }
  return false;
}

bool removable(const Operation& op) {
  if (op.kind == OpKind::If || op.kind == OpKind::For || op.kind == OpKind::While ||
      (hasFlag(op.kind, ir::Pure) && !isEffect(op))) {
    for (auto& r : op.regions)
      if (hasEffects(*r)) return false;
    return true;
  }
  return false;
}

bool sweep(Block& b, Uses& u) {
  bool changed = false;
  for (size_t j = b.ops.size(); j-- > 0;) {
    Operation& op = *b.ops[j];
    for (auto& r : op.regions) changed |= sweep(*r, u);
    if (!removable(op)) continue;
    bool used = false;
    for (auto& r : op.results) used |= u[r.get()] > 0;
    if (used) continue;
    for (Value* v : op.operands) u[v] -= 1;
    for (auto& r : op.regions) countUses(*r, u, -1);
    b.ops.erase(b.ops.begin() + static_cast<long>(j));
    changed = true;
  }
  return changed;
}

void markAllUsed(const Block& b, std::set<const Value*>& live) {
  for (auto& op : b.ops) {
    live.insert(op->operands.begin(), op->operands.end());
    for (auto& r : op->regions) markAllUsed(*r, live);
  }
}

// Backward liveness over one block whose yield operands at the positions
// set in `yieldLive` are needed.
void liveness(const Block& b, const std::vector<bool>& yieldLive, std::set<const Value*>& live) {
  for (size_t j = b.ops.size(); j-- > 0;) {
    const Operation& op = *b.ops[j];
    if (op.kind == OpKind::Yield) {
      for (size_t k = 0; k < op.operands.size(); ++k)
        if (k < yieldLive.size() && yieldLive[k]) live.insert(op.operands[k]);
      continue;
    }
    bool isLive = !removable(op);
    for (auto& r : op.results) isLive |= live.count(r.get()) != 0;
    if (!isLive) continue;
    live.insert(op.operands.begin(), op.operands.end());
    for (auto& r : op.regions) markAllUsed(*r, live);
  }
}

// Which carried values of loop `op` are needed (a fixpoint from the used results).
std::vector<bool> liveCarried(const Operation& op, Uses& u) {
  bool isFor = op.kind == OpKind::For;
  const Block& body = *op.regions[isFor ? 0 : 1];
  size_t first = isFor ? 1 : 0;  // index of carried value 0 among the body args
  std::vector<bool> live(op.results.size());
  for (size_t k = 0; k < live.size(); ++k) live[k] = u[op.result(k)] > 0;
  std::set<const Value*> condLive;
  if (!isFor) markAllUsed(*op.regions[0], condLive);
  for (bool changed = true; changed;) {
    changed = false;
    std::set<const Value*> bodyLive;
    liveness(body, live, bodyLive);
    for (size_t k = 0; k < live.size(); ++k) {
      bool needed = bodyLive.count(body.arg(first + k)) ||
                    (!isFor && condLive.count(op.regions[0]->arg(k)));
      if (!live[k] && needed) live[k] = changed = true;
    }
  }
  return live;
}

void eraseArg(Block& b, size_t i) {
  b.args.erase(b.args.begin() + static_cast<long>(i));
  for (size_t a = 0; a < b.args.size(); ++a) b.args[a]->index = static_cast<int>(a);
}

// Removes the dead carried values of loop `op`; returns true if any.
bool pruneLoop(Operation& op, Uses& u) {
  std::vector<bool> live = liveCarried(op, u);
  bool isFor = op.kind == OpKind::For;
  Block& body = *op.regions[isFor ? 0 : 1];
  size_t first = isFor ? 1 : 0, firstInit = isFor ? 2 : 0;
  bool any = false;
  Operation* yield = body.terminator();
  for (size_t k = live.size(); k-- > 0;) {
    if (live[k]) continue;
    any = true;
    u[yield->operands[k]] -= 1;
    yield->operands.erase(yield->operands.begin() + static_cast<long>(k));
  }
  if (!any) return false;
  sweep(body, u);
  for (size_t k = live.size(); k-- > 0;) {
    if (live[k]) continue;
    assert(u[body.arg(first + k)] == 0 && u[op.result(k)] == 0 && "carried value still used");
    eraseArg(body, first + k);
    if (!isFor) eraseArg(*op.regions[0], k);
    u[op.operands[firstInit + k]] -= 1;
    op.operands.erase(op.operands.begin() + static_cast<long>(firstInit + k));
    op.results.erase(op.results.begin() + static_cast<long>(k));
  }
  for (size_t r = 0; r < op.results.size(); ++r) op.results[r]->index = static_cast<int>(r);
  return true;
}

// Removes the unused results of an `if` (and what its regions yield for them).
bool pruneIf(Operation& op, Uses& u) {
  bool any = false;
  for (size_t r = op.results.size(); r-- > 0;) {
    if (u[op.result(r)] > 0) continue;
    for (auto& region : op.regions) {
      Operation* y = region->terminator();
      u[y->operands[r]] -= 1;
      y->operands.erase(y->operands.begin() + static_cast<long>(r));
    }
    op.results.erase(op.results.begin() + static_cast<long>(r));
    any = true;
  }
  for (size_t r = 0; r < op.results.size(); ++r) op.results[r]->index = static_cast<int>(r);
  return any;
}

bool pruneRegionOps(Block& b, Uses& u) {
  bool changed = false;
  for (auto& op : b.ops) {
    for (auto& r : op->regions) changed |= pruneRegionOps(*r, u);
    if (op->kind == OpKind::For || op->kind == OpKind::While) changed |= pruneLoop(*op, u);
    if (op->kind == OpKind::If) changed |= pruneIf(*op, u);
  }
  return changed;
}

}  // namespace

bool eliminateDeadCode(ir::Function& f) {
  Uses u;
  countUses(f.body, u, 1);
  bool any = sweep(f.body, u);
  while (pruneRegionOps(f.body, u)) {
    any = true;
    sweep(f.body, u);
  }
  return any;
}

}  // namespace chain::passes
