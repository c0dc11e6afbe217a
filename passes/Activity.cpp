// Activity analysis: forward (varied) and backward (useful) dependence over
// structured IR, iterated to a fixpoint through loop-carried values.
#include "passes/Activity.h"

#include <functional>

namespace chain::passes {

using ir::Block;
using ir::Operation;
using ir::OpKind;
using ir::Value;

namespace {

// For a loop op: the region argument that carries operand/result `k`.
// For:   operands (lo, hi, init...), region args (i, c...)
// While: operands (init...), both regions' args (c...)
Value* carriedArg(const Operation& op, const Block& region, size_t k) {
  return region.args[op.kind == OpKind::For ? k + 1 : k].get();
}
size_t firstInit(const Operation& op) { return op.kind == OpKind::For ? 2 : 0; }

bool insert(std::set<const Value*>& s, const Value* v) { return s.insert(v).second; }

}  // namespace

Activity::Activity(const ir::Function& f, const std::vector<int>& wrt, int result, bool tapeVaried)
    : tapeVaried_(tapeVaried) {
  for (int w : wrt)
    if (f.param(w)->type.isFloat()) varied_.insert(f.param(w));
  while (propagateVaried(f.body)) {
  }
  const Operation* ret = f.body.terminator();
  if (ret && result < static_cast<int>(ret->operands.size())) useful_.insert(ret->operand(result));
  while (propagateUseful(f.body)) {
  }
}

bool Activity::activeOp(const Operation& op) const {
  for (auto& r : op.results)
    if (active(r.get())) return true;
  return false;
}

// Forward: a float result is varied when an operand is; region ops pass
// variedness from inits and yields to carried args and results.
bool Activity::propagateVaried(const Block& b) {
  bool changed = false;
  for (auto& opPtr : b.ops) {
    const Operation& op = *opPtr;
    if (op.kind == OpKind::Map || op.kind == OpKind::Reduce) {
      // Varied when the element yielded is (captured values flow in).
      changed |= propagateVaried(*op.region(0));
      if (varied(op.region(0)->terminator()->operand(0)) && op.result()->type.isFloat())
        changed |= insert(varied_, op.result());
      continue;
    }
    if (op.kind == OpKind::If || op.kind == OpKind::For || op.kind == OpKind::While) {
      size_t base = firstInit(op);
      for (auto& region : op.regions) {
        if (op.kind != OpKind::If)
          for (size_t k = 0; k < op.results.size(); ++k)
            if (varied(op.operand(base + k)) && region->args.size() > 0)
              changed |= insert(varied_, carriedArg(op, *region, k));
        changed |= propagateVaried(*region);
      }
      // Yields of the if branches / loop bodies feed results (and carried args).
      for (auto& region : op.regions) {
        const Operation* y = region->terminator();
        if (op.kind == OpKind::While && region.get() == op.regions[0].get()) continue;  // cond
        for (size_t k = 0; k < op.results.size(); ++k) {
          if (!varied(y->operand(k))) continue;
          changed |= insert(varied_, op.result(k));
          if (op.kind != OpKind::If)
            for (auto& rg : op.regions) changed |= insert(varied_, carriedArg(op, *rg, k));
        }
      }
      if (op.kind != OpKind::If)
        for (size_t k = 0; k < op.results.size(); ++k)
          if (varied(op.operand(base + k))) changed |= insert(varied_, op.result(k));
      continue;
    }
    if (op.kind == OpKind::StopGradient) continue;
    bool any = op.kind == OpKind::TapePop && tapeVaried_;
    for (Value* v : op.operands) any |= varied(v);
    if (!any) continue;
    for (auto& r : op.results)
      if (r->type.isFloat()) changed |= insert(varied_, r.get());
  }
  return changed;
}

// Backward: operands of an op with a useful result are useful; for region
// ops, a useful result makes the matching yields (and carried args/inits)
// useful, and every value used inside a region by a useful op is useful.
bool Activity::propagateUseful(const Block& b) {
  bool changed = false;
  for (auto it = b.ops.rbegin(); it != b.ops.rend(); ++it) {
    const Operation& op = **it;
    if (op.kind == OpKind::Map || op.kind == OpKind::Reduce) {
      if (useful(op.result())) changed |= insert(useful_, op.region(0)->terminator()->operand(0));
      changed |= propagateUseful(*op.region(0));
      continue;
    }
    bool isRegionOp = op.kind == OpKind::If || op.kind == OpKind::For || op.kind == OpKind::While;
    if (!isRegionOp) {
      bool any = op.kind == OpKind::Return || op.kind == OpKind::Yield;
      if (op.kind == OpKind::Return || op.kind == OpKind::Yield) continue;  // seeded by owner
      for (auto& r : op.results) any |= useful(r.get());
      if (!any) continue;
      for (Value* v : op.operands) changed |= insert(useful_, v);
      continue;
    }
    size_t base = firstInit(op);
    for (size_t k = 0; k < op.results.size(); ++k) {
      bool u = useful(op.result(k));
      if (op.kind != OpKind::If)
        for (auto& rg : op.regions) u |= useful(carriedArg(op, *rg, k));
      if (!u) continue;
      if (op.kind != OpKind::If) {
        changed |= insert(useful_, op.operand(base + k));
        for (auto& rg : op.regions) changed |= insert(useful_, carriedArg(op, *rg, k));
      }
      for (auto& region : op.regions) {
        if (op.kind == OpKind::While && region.get() == op.regions[0].get()) continue;
        changed |= insert(useful_, region->terminator()->operand(k));
      }
    }
    for (auto& region : op.regions) changed |= propagateUseful(*region);
  }
  return changed;
}

std::vector<const Value*> capturedValues(const Block& region) {
  std::set<const Value*> defined;
  std::vector<const Value*> out;
  std::set<const Value*> seen;
  std::function<void(const Block&)> walk = [&](const Block& b) {
    for (auto& a : b.args) defined.insert(a.get());
    for (auto& op : b.ops) {
      for (Value* v : op->operands)
        if (!defined.count(v) && seen.insert(v).second) out.push_back(v);
      for (auto& r : op->regions) walk(*r);
      for (auto& r : op->results) defined.insert(r.get());
    }
  };
  walk(region);
  return out;
}

}  // namespace chain::passes
