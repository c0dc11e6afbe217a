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
//   u = update/add_at x [..]    dim(u, k) == dim(x, k)
//   for with a carried array whose yielded value has the dims of the
//   argument or of the init     dim(arg, k) == dim(init, k) == dim(result, k)
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

void learnLoop(Equalities& e, const Operation& loop);

void learnOp(Equalities& e, const Operation& op) {
  if (op.kind == OpKind::Assert)
    assertedEqualities(op.operand(0), [&](const Value* a, const Value* b) { e.unite(e.value(a), e.value(b)); });
  if (op.kind == OpKind::Dim) e.unite(e.value(op.result()), e.dim(op.operand(0), op.i));
  if (op.kind == OpKind::Map || op.kind == OpKind::Fill) {
    size_t first = op.kind == OpKind::Fill ? 1 : 0;  // fill's operand 0 is the value
    for (size_t k = first; k < op.operands.size(); ++k)
      e.unite(e.dim(op.result(), int64_t(k - first)), e.value(op.operand(k)));
  }
  if (const Value* v = maxOfNonNegative(op)) e.unite(e.value(op.result()), e.value(v));
  if (op.kind == OpKind::Update || op.kind == OpKind::AddAt)
    for (int64_t k = 0; k < op.result()->type.rank; ++k) e.unite(e.dim(op.result(), k), e.dim(op.operand(0), k));
  if (op.kind == OpKind::For) learnLoop(e, op);
}

// A for's carried array keeps its shape when the body yields it with the
// dims of its argument or of its init (learned from the ops that make the
// yielded value: maps, fills, update chains): then the argument, the init
// and the result have equal dims (by induction over the iterations).
void learnLoop(Equalities& e, const Operation& loop) {
  const Block& body = *loop.region(0);
  const Operation* y = body.terminator();
  for (size_t r = 0; r < loop.results.size(); ++r) {
    const Value* arg = body.arg(r + 1);
    const Value* init = loop.operand(2 + r);
    for (const Value* v = y->operand(r); v->def && v->def->parent == &body; v = v->def->operand(0)) {
      learnOp(e, *v->def);
      if (v->def->kind != OpKind::Update && v->def->kind != OpKind::AddAt) break;
    }
    for (int64_t k = 0; k < arg->type.rank; ++k) {
      int yd = e.find(e.dim(y->operand(r), k));
      if (yd != e.find(e.dim(arg, k)) && yd != e.find(e.dim(init, k))) continue;
      e.unite(e.dim(arg, k), e.dim(init, k));
      e.unite(e.dim(loop.result(r), k), e.dim(init, k));
    }
  }
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
