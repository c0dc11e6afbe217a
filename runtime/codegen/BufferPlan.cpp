// Buffer planning (see BufferPlan.h): one walk of the function in program
// order, building buffer classes (union-find over array values) and deciding,
// at each update / add_at, loop init and loop-body yield, whether a buffer
// may be reused or must be copied. Liveness is answered from use lists and
// op positions on the structured IR: "is w used after op U?" looks at the
// ops after U in each enclosing block, and a repeating region (for, while,
// map, reduce) makes every use inside it count when w is defined outside.
#include "runtime/codegen/BufferPlan.h"

#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace chain::codegen::detail {

using ir::Block;
using ir::OpKind;
using ir::Operation;
using ir::Value;

class BufferPlanner {
 public:
  BufferPlanner(const ir::Function& f, BufferPlan& plan) : plan_(plan) {
    indexBlock(f.body);
    for (size_t i = 0; i < f.numParams(); ++i) root(f.param(i), true);
    walk(f.body);
  }

 private:
  // --- use lists and positions ----------------------------------------------
  void indexBlock(const Block& b) {
    for (size_t i = 0; i < b.ops.size(); ++i) {
      const Operation* op = b.ops[i].get();
      pos_[op] = i;
      for (const Value* v : op->operands) uses_[v].push_back(op);
      for (const auto& r : op->regions) indexBlock(*r);
    }
  }

  // The ancestor of `op` (or op itself) whose parent block is `b`, or null.
  static const Operation* ancestorIn(const Operation* op, const Block* b) {
    while (op && op->parent != b) op = op->parent ? op->parent->parentOp : nullptr;
    return op;
  }

  static const Block* defBlock(const Value* v) { return v->def ? v->def->parent : v->owner; }

  // v is defined in `b` or in a region nested (at any depth) below it.
  static bool definedWithin(const Value* v, const Block* b) {
    for (const Block* d = defBlock(v); d; d = d->parentOp ? d->parentOp->parent : nullptr)
      if (d == b) return true;
    return false;
  }

  static bool repeats(const Operation* p) {
    return p->kind == OpKind::For || p->kind == OpKind::While || p->kind == OpKind::Map ||
           p->kind == OpKind::Reduce;
  }

  // Some use of w lies strictly inside the regions of p.
  bool usedInside(const Value* w, const Operation* p) const {
    auto it = uses_.find(w);
    if (it == uses_.end()) return false;
    for (const Operation* u : it->second)
      for (const Operation* a = u->parent ? u->parent->parentOp : nullptr; a;
           a = a->parent ? a->parent->parentOp : nullptr)
        if (a == p) return true;
    return false;
  }

  // w may be read after op u executes.
  bool liveAfter(const Value* w, const Operation* u) const {
    auto it = uses_.find(w);
    const Operation* op = u;
    while (op) {
      const Block* b = op->parent;
      if (it != uses_.end())
        for (const Operation* use : it->second) {
          const Operation* a = ancestorIn(use, b);
          if (a && pos_.at(a) > pos_.at(op)) return true;
        }
      if (definedWithin(w, b)) return false;
      const Operation* p = b->parentOp;
      if (p && repeats(p) && usedInside(w, p)) return true;
      op = p;
    }
    return false;
  }

  // --- union-find over array values -------------------------------------
  const Value* find(const Value* v) {
    auto it = parent_.find(v);
    if (it == parent_.end()) {
      root(v, false);
      return v;
    }
    while (parent_[v] != v) v = parent_[v] = parent_[parent_[v]];
    return v;
  }
  void root(const Value* v, bool readOnly) {
    if (v->type.rank == 0) return;
    parent_[v] = v;
    members_[v] = {v};
    if (readOnly) readOnly_.insert(v);
  }
  void unite(const Value* a, const Value* b) {
    if (a->type.rank == 0 || b->type.rank == 0) return;
    const Value* ra = find(a);
    const Value* rb = find(b);
    if (ra == rb) return;
    if (members_[ra].size() < members_[rb].size()) std::swap(ra, rb);
    parent_[rb] = ra;
    auto& ma = members_[ra];
    ma.insert(ma.end(), members_[rb].begin(), members_[rb].end());
    members_.erase(rb);
    if (readOnly_.count(rb)) readOnly_.insert(ra);
  }

  // --- decisions --------------------------------------------------------
  void walk(const Block& b) {
    for (const auto& op : b.ops) visit(*op);
  }

  void freshResults(const Operation& op) {
    for (const auto& r : op.results) root(r.get(), false);
  }

  void visit(const Operation& op) {
    switch (op.kind) {
      case OpKind::Update: case OpKind::AddAt: update(op); return;
      case OpKind::Select: case OpKind::StopGradient:
        for (const Value* v : op.operands) unite(op.result(), v);
        return;
      case OpKind::If: ifOp(op); return;
      case OpKind::For: case OpKind::While: loop(op); return;
      case OpKind::Map: case OpKind::Reduce:
        for (const auto& r : op.regions) walk(*r);
        freshResults(op);
        return;
      case OpKind::ConstF: case OpKind::ConstI: case OpKind::ConstB: case OpKind::Add:
      case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::Rem: case OpKind::Pow:
      case OpKind::Min: case OpKind::Max: case OpKind::Atan2: case OpKind::Neg: case OpKind::Abs:
      case OpKind::Exp: case OpKind::Log: case OpKind::Sqrt: case OpKind::Sin: case OpKind::Cos:
      case OpKind::Tan: case OpKind::Tanh: case OpKind::Sigmoid: case OpKind::Relu:
      case OpKind::Softplus: case OpKind::Log1p: case OpKind::Expm1: case OpKind::Floor:
      case OpKind::Ceil: case OpKind::Lt: case OpKind::Le: case OpKind::Gt: case OpKind::Ge:
      case OpKind::Eq: case OpKind::Ne: case OpKind::And: case OpKind::Or: case OpKind::Not:
      case OpKind::Cast: case OpKind::RandUniform: case OpKind::RandNormal: case OpKind::RandMix:
      case OpKind::Call: case OpKind::GradCall: case OpKind::Print:
      case OpKind::Yield: case OpKind::Return: case OpKind::TapePush: case OpKind::TapePop:
      case OpKind::Dim: case OpKind::Index: case OpKind::Slice: case OpKind::MatMul:
      case OpKind::Transpose: case OpKind::Fill: case OpKind::Build: case OpKind::Assert:
        for (const auto& r : op.regions) walk(*r);
        freshResults(op);
        return;
    }
  }

  void update(const Operation& op) {
    const Value* a = op.operand(0);
    const Value* ra = find(a);
    bool ok = !readOnly_.count(ra) &&
              !(op.operand(1)->type.rank > 0 && find(op.operand(1)) == ra);
    for (const Value* w : members_[ra])
      if (ok && liveAfter(w, &op)) ok = false;
    if (ok) {
      plan_.inPlace_.insert(&op);
      unite(op.result(), a);
    } else {
      root(op.result(), false);
    }
  }

  void ifOp(const Operation& op) {
    for (const auto& r : op.regions) walk(*r);
    for (size_t k = 0; k < op.results.size(); ++k) {
      root(op.result(k), false);
      for (const auto& r : op.regions) unite(op.result(k), r->terminator()->operand(k));
    }
  }

  void loop(const Operation& op) {
    bool isFor = op.kind == OpKind::For;
    size_t first = isFor ? 2 : 0;
    std::unordered_set<const Value*> taken;  // classes consumed by earlier inits
    for (size_t k = first; k < op.operands.size(); ++k) {
      const Value* v = op.operand(k);
      if (v->type.rank == 0) continue;
      const Value* rv = find(v);
      bool copy = readOnly_.count(rv) || taken.count(rv);
      for (const Value* w : members_[rv])
        if (!copy && (liveAfter(w, &op) || usedInside(w, &op))) copy = true;
      if (copy) plan_.copyInit_.insert({&op, k});
      else taken.insert(rv);
    }
    const Block* body = op.regions.back().get();
    for (size_t r = 0; r < op.regions.size(); ++r) {
      const Block* blk = op.region(r);
      bool condArgs = !isFor && r == 0;
      for (const auto& a : blk->args) root(a.get(), condArgs);
      walk(*blk);
    }
    yields(*body);
    freshResults(op);
  }

  void yields(const Block& body) {
    const Operation* y = body.terminator();
    std::unordered_set<const Value*> taken;
    for (size_t k = 0; k < y->operands.size(); ++k) {
      const Value* v = y->operand(k);
      if (v->type.rank == 0) continue;
      const Value* rv = find(v);
      bool copy = readOnly_.count(rv) || taken.count(rv);
      for (const Value* w : members_[rv])
        if (!copy && !definedWithin(w, &body)) copy = true;
      if (copy) plan_.copyYield_.insert({y, k});
      else taken.insert(rv);
    }
  }

  BufferPlan& plan_;
  std::unordered_map<const Value*, std::vector<const Operation*>> uses_;
  std::unordered_map<const Operation*, size_t> pos_;
  std::unordered_map<const Value*, const Value*> parent_;
  std::unordered_map<const Value*, std::vector<const Value*>> members_;
  std::unordered_set<const Value*> readOnly_;
};

BufferPlan::BufferPlan(const ir::Function& f) { BufferPlanner(f, *this); }

}  // namespace chain::codegen::detail
