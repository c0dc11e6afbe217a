// Shape facts of the primal for the reverse of maps (ReverseADArrays.cpp):
// whether the dims of an array that a map reads at its own indices are proved
// equal to the map's extents, so that its adjoint is the map alone, with no
// run-time shape guard and scatter fallback.
//
// The proof is a union-find of equal i64 values and dims (array, axis):
//   assert (a == b) [and ...]   a == b
//   d = dim x, k               d == dim(x, k)
//   y = map (n0..) / fill v (n0..)   dim(y, k) == n_k
//   m = max(v, c), c <= 0 constant, v >= 0 (a dim, a constant >= 0, a max
//                               with such an operand)   m == v
// taken from the ops at the top level of the block holding the map and of
// every block around it. The gradient's forward sweep runs every assert of
// the primal before any reverse code runs (recomputation skips them because
// the forward sweep checked them), so an assert in those blocks held for the
// instance of the map being reversed, whether it comes before or after it.
#include "passes/IntFacts.h"
#include "passes/ReverseADImpl.h"

namespace chain::passes::ad {

using ir::Block;
using ir::Operation;
using ir::OpKind;
using ir::Value;

namespace {

class Equalities {
 public:
  int value(const Value* v) { return node(values_, v); }
  int dim(const Value* a, int64_t k) { return node(dims_, {a, k}); }
  int find(int n) const {
    while (parent_[size_t(n)] != n) n = parent_[size_t(n)];
    return n;
  }
  void unite(int a, int b) {
    a = find(a), b = find(b);
    if (a != b) parent_[size_t(a)] = b;
  }

 private:
  template <class K>
  int node(std::map<K, int>& m, const K& k) {
    auto it = m.find(k);
    if (it != m.end()) return it->second;
    int n = int(parent_.size());
    parent_.push_back(n);
    m.emplace(k, n);
    return n;
  }
  std::map<const Value*, int> values_;
  std::map<std::pair<const Value*, int64_t>, int> dims_;
  std::vector<int> parent_;
};

void learnCondition(Equalities& e, const Value* c) {
  if (!c->def) return;
  const Operation& d = *c->def;
  if (d.kind == OpKind::Eq && d.operand(0)->type == ir::Type::i64())
    e.unite(e.value(d.operand(0)), e.value(d.operand(1)));
  if (d.kind == OpKind::And) {
    learnCondition(e, d.operand(0));
    learnCondition(e, d.operand(1));
  }
}

void learnOp(Equalities& e, const Operation& op) {
  if (op.kind == OpKind::Assert) learnCondition(e, op.operand(0));
  if (op.kind == OpKind::Dim) e.unite(e.value(op.result()), e.dim(op.operand(0), op.i));
  if (op.kind == OpKind::Map || op.kind == OpKind::Fill) {
    size_t first = op.kind == OpKind::Fill ? 1 : 0;  // fill's operand 0 is the value
    for (size_t k = first; k < op.operands.size(); ++k)
      e.unite(e.dim(op.result(), int64_t(k - first)), e.value(op.operand(k)));
  }
  if (const Value* v = maxOfNonNegative(op)) e.unite(e.value(op.result()), e.value(v));
}

}  // namespace

bool Emitter::shapeProved(const Operation& loop, const Value* a, const std::vector<Value*>& extents) {
  if (a->type.rank != int(extents.size())) return false;
  Equalities e;
  for (const Block* b = loop.parent; b; b = b->parentOp ? b->parentOp->parent : nullptr)
    for (auto& op : b->ops) learnOp(e, *op);
  for (size_t k = 0; k < extents.size(); ++k)
    if (e.find(e.dim(a, int64_t(k))) != e.find(e.value(extents[k]))) return false;
  return true;
}

}  // namespace chain::passes::ad
