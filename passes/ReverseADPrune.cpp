// Tape pruning for reversed loops (see the design note in ReverseAD.cpp).
// The forward sweep pushes a loop's whole carried state at every iteration,
// but the reverse loop often reads only part of it: the recomputation of a
// value that no derivative rule reads is dead, and so is the carried array it
// was computed from (llsq's residual r, lstm's running total). Once a reverse
// loop is built, this removes the dead ops of its body, then drops every
// popped value that nothing live reads from both the `tape.pop` and the
// matching `tape.push` of the forward sweep, so that neither the memory nor
// the copy is paid for.
#include <algorithm>

#include "passes/ReverseADImpl.h"

namespace chain::passes::ad {

using ir::Block;
using ir::Operation;
using ir::OpKind;
using ir::Value;

namespace {

// True when `op` or an op nested in its regions has an effect.
bool hasEffect(const Operation& op) {
  if (ir::hasFlag(op.kind, ir::Effect)) return true;
  for (auto& r : op.regions)
    for (auto& inner : r->ops)
      if (hasEffect(*inner)) return true;
  return false;
}

struct Liveness {
  std::set<const Value*> values;
  std::set<const Operation*> ops;

  // One backward pass over `b` (SSA: every use of a value comes after its
  // definition, uses inside regions are visited when their op is).
  void block(const Block& b) {
    for (auto it = b.ops.rbegin(); it != b.ops.rend(); ++it) {
      const Operation& op = **it;
      bool live = ir::hasFlag(op.kind, ir::Terminator) || hasEffect(op);
      for (auto& r : op.results) live |= values.count(r.get()) != 0;
      if (!live) continue;
      ops.insert(&op);
      for (Value* v : op.operands) values.insert(v);
      for (auto& r : op.regions) block(*r);
    }
  }
};

// Erases the ops of `b` (and of its live ops' regions) that are not live.
void eraseDead(Block& b, const Liveness& l) {
  auto& ops = b.ops;
  ops.erase(std::remove_if(ops.begin(), ops.end(),
                           [&](const std::unique_ptr<Operation>& op) { return !l.ops.count(op.get()); }),
            ops.end());
  for (auto& op : ops)
    for (auto& r : op->regions) eraseDead(*r, l);
}

void eraseOp(Operation* op) {
  auto& ops = op->parent->ops;
  ops.erase(std::find_if(ops.begin(), ops.end(),
                         [&](const std::unique_ptr<Operation>& o) { return o.get() == op; }));
}

using Uses = std::map<const Value*, std::vector<Operation*>>;

void collectUses(Block& b, Uses& uses) {
  for (auto& op : b.ops) {
    for (Value* v : op->operands) uses[v].push_back(op.get());
    for (auto& r : op->regions) collectUses(*r, uses);
  }
}

void replaceUses(Block& b, const std::map<const Value*, Value*>& with) {
  for (auto& op : b.ops) {
    for (Value*& v : op->operands) {
      auto it = with.find(v);
      if (it != with.end()) v = it->second;
    }
    for (auto& r : op->regions) replaceUses(*r, with);
  }
}

// `dim %a, axis` emitted just before `before` (in its block).
Value* dimBefore(Operation* before, Value* a, int64_t axis) {
  ir::Builder b(before->parent);
  b.setLoc(before->loc);
  Operation* d = b.create(OpKind::Dim, {a}, {ir::Type::i64()});
  d->i = axis;
  auto& ops = before->parent->ops;
  auto at = std::find_if(ops.begin(), ops.end(),
                         [&](const std::unique_ptr<Operation>& o) { return o.get() == before; });
  std::rotate(at, ops.end() - 1, ops.end());
  return d->result();
}

}  // namespace

// A popped value that nothing reads is dropped; one that only `dim` reads
// (the shape of a zero adjoint) is replaced by its sizes, pushed as scalars.
void pruneReverseBody(Block& body, Operation* pop, Operation* push) {
  Liveness l;
  l.block(body);
  eraseDead(body, l);
  if (!pop || !push) return;
  assert(pop->results.size() == push->operands.size() && "tape.pop does not match its tape.push");
  Uses uses;
  collectUses(body, uses);
  std::vector<Value*> pushed;
  std::vector<std::unique_ptr<Value>> popped;
  std::map<const Value*, Value*> replace;  // dim result -> popped size
  std::vector<Operation*> dims;
  for (size_t k = 0; k < pop->results.size(); ++k) {
    const std::vector<Operation*>& us = uses[pop->result(k)];
    if (us.empty()) continue;
    bool onlyDims = std::all_of(us.begin(), us.end(), [](Operation* u) { return u->kind == OpKind::Dim; });
    if (!onlyDims) {
      pushed.push_back(push->operand(k));
      popped.push_back(std::move(pop->results[k]));
      continue;
    }
    std::map<int64_t, Value*> byAxis;
    for (Operation* d : us) {
      Value*& size = byAxis[d->i];
      if (!size) {
        pushed.push_back(dimBefore(push, push->operand(k), d->i));
        popped.push_back(std::make_unique<Value>());
        size = popped.back().get();
        size->type = ir::Type::i64();
        size->def = pop;
      }
      replace[d->result()] = size;
      dims.push_back(d);
    }
  }
  pop->results = std::move(popped);
  for (size_t k = 0; k < pop->results.size(); ++k) pop->result(k)->index = int(k);
  push->operands = pushed;
  replaceUses(body, replace);
  for (Operation* d : dims) eraseOp(d);
  if (!pop->results.empty()) return;
  eraseOp(pop);
  eraseOp(push);
}

}  // namespace chain::passes::ad
