// Derivative rules of the array ops without regions (map and reduce are
// reversed structurally by ReverseAD). Each case states its math; matrix
// products use matrix-product rules, never an element-by-element expansion.
#include <cassert>
#include <functional>

#include "passes/Derivatives.h"

namespace chain::passes {

using ir::Builder;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

std::vector<Value*> dimsOf(Builder& b, Value* a) {
  std::vector<Value*> dims;
  for (int k = 0; k < a->type.rank; ++k) {
    Operation* d = b.create(OpKind::Dim, {a}, {Type::i64()});
    d->i = k;
    dims.push_back(d->result());
  }
  return dims;
}

namespace {

Type scalarOf(Type t) { return Type{t.elem, 0}; }

Value* index(Builder& b, Value* a, const std::vector<Value*>& idx) {
  std::vector<Value*> ops{a};
  ops.insert(ops.end(), idx.begin(), idx.end());
  return b.create(OpKind::Index, ops, {scalarOf(a->type)})->result();
}

// map (dims) { ^(i...): yield body(i...) }
Value* makeMap(Builder& b, const std::vector<Value*>& dims, Type elem,
               const std::function<Value*(Builder&, const std::vector<Value*>&)>& body) {
  Operation* m = b.create(OpKind::Map, dims, {Type{elem.elem, int(dims.size())}}, 1);
  std::vector<Value*> idx;
  for (size_t k = 0; k < dims.size(); ++k) idx.push_back(m->region(0)->addArg(Type::i64(), "i"));
  Builder rb(m->region(0));
  rb.setLoc(b.loc());
  rb.yield({body(rb, idx)});
  return m->result();
}

// The sum of every element of `a` (nested reduces, one per axis).
Value* sumAll(Builder& b, Value* a, std::vector<Value*> idx = {}) {
  if (int(idx.size()) == a->type.rank) return index(b, a, idx);
  Operation* d = b.create(OpKind::Dim, {a}, {Type::i64()});
  d->i = int64_t(idx.size());
  Operation* r = b.create(OpKind::Reduce, {b.constI(0), d->result()}, {scalarOf(a->type)}, 1);
  r->s = "sum";
  idx.push_back(r->region(0)->addArg(Type::i64(), "i"));
  Builder rb(r->region(0));
  rb.setLoc(b.loc());
  rb.yield({sumAll(rb, a, idx)});
  return r->result();
}

Value* matmul(Builder& b, Value* x, Value* y) {
  int rank = x->type.rank + y->type.rank - 2;
  return b.create(OpKind::MatMul, {x, y}, {Type{x->type.elem, rank}})->result();
}

Value* transpose(Builder& b, Value* a) {
  return b.create(OpKind::Transpose, {a}, {a->type})->result();
}

// outer(u, v)[i, j] = u[i] v[j]
Value* outer(Builder& b, Value* u, Value* v) {
  Value* n = dimsOf(b, u)[0];
  Value* m = dimsOf(b, v)[0];
  return makeMap(b, {n, m}, u->type, [&](Builder& rb, const std::vector<Value*>& i) {
    return rb.binary(OpKind::Mul, index(rb, u, {i[0]}), index(rb, v, {i[1]}));
  });
}

// scale(s, v) = s * v elementwise (s scalar)
Value* scale(Builder& b, Value* s, Value* v) {
  return makeMap(b, dimsOf(b, v), v->type, [&](Builder& rb, const std::vector<Value*>& i) {
    return rb.binary(OpKind::Mul, s, index(rb, v, i));
  });
}

}  // namespace

// The selection `sel`/`kinds` of `a`: an element when every kind is an index.
Value* selection(Builder& b, Value* a, const std::vector<Value*>& sel, const std::vector<int64_t>& kinds) {
  int rank = 0;
  for (int64_t k : kinds) rank += k != 0;
  if (rank == 0) return index(b, a, sel);
  std::vector<Value*> ops{a};
  ops.insert(ops.end(), sel.begin(), sel.end());
  Operation* s = b.create(OpKind::Slice, ops, {Type{a->type.elem, rank}});
  s->ints = kinds;
  return s->result();
}

namespace {

// d(a @ b) for the four rank forms.
void matmulRule(Builder& b, Value* A, Value* B, Value* dC, AdjointSink& sink) {
  int ra = A->type.rank, rb = B->type.rank;
  if (ra == 2 && rb == 2) {
    // C = A B: dA = dC B^T, dB = A^T dC
    sink.add(0, matmul(b, dC, transpose(b, B)));
    sink.add(1, matmul(b, transpose(b, A), dC));
  } else if (ra == 2 && rb == 1) {
    // c = A x: dA = dc x^T (outer product), dx = A^T dc = dc A
    sink.add(0, outer(b, dC, B));
    sink.add(1, matmul(b, dC, A));
  } else if (ra == 1 && rb == 2) {
    // c = x B: dx = B dc, dB = x dc^T (outer product)
    sink.add(0, matmul(b, B, dC));
    sink.add(1, outer(b, A, dC));
  } else {
    // c = x . y: dx = dc y, dy = dc x
    sink.add(0, scale(b, dC, B));
    sink.add(1, scale(b, dC, A));
  }
}

}  // namespace

Value* zerosLike(Builder& b, Value* like) {
  Value* zero = b.constF(0.0, scalarOf(like->type));
  if (like->type.rank == 0) return zero;
  std::vector<Value*> ops{zero};
  for (Value* d : dimsOf(b, like)) ops.push_back(d);
  return b.create(OpKind::Fill, ops, {like->type})->result();
}

Value* scaleLike(Builder& b, Value* s, Value* v) {
  return v->type.rank == 0 ? b.binary(OpKind::Mul, s, v) : scale(b, s, v);
}

Value* addLike(Builder& b, Value* x, Value* y) {
  if (x->type.rank == 0) return b.binary(OpKind::Add, x, y);
  return makeMap(b, dimsOf(b, x), x->type, [&](Builder& rb, const std::vector<Value*>& i) {
    return rb.binary(OpKind::Add, index(rb, x, i), index(rb, y, i));
  });
}

bool hasArrayRule(OpKind k) {
  return k == OpKind::Dim || k == OpKind::Index || k == OpKind::Slice || k == OpKind::Update ||
         k == OpKind::AddAt || k == OpKind::MatMul || k == OpKind::Transpose || k == OpKind::Fill ||
         k == OpKind::Build || k == OpKind::Assert;
}

void arrayAdjoint(Builder& b, const Operation& op, const std::vector<Value*>& x, Value* y, Value* dy,
                  AdjointSink& sink) {
  std::vector<Value*> rest(x.begin() + 1, x.end());
  switch (op.kind) {
    // dim and assert are integer / effect ops: no derivative
    case OpKind::Dim: case OpKind::Assert: return;
    // a[i]: d/da = e_i, a scatter-add of dy at i
    case OpKind::Index:
      sink.addAt(0, dy, rest, std::vector<int64_t>(rest.size(), 0));
      return;
    // a[sel]: the selection's adjoint is scattered back into da
    case OpKind::Slice: sink.addAt(0, dy, rest, op.ints); return;
    // update(a, v, sel): dv = dy[sel]; da = dy with the selection zeroed
    case OpKind::Update: {
      std::vector<Value*> sel(x.begin() + 2, x.end());
      sink.add(1, selection(b, dy, sel, op.ints));
      std::vector<Value*> ops{dy, zerosLike(b, x[1])};
      ops.insert(ops.end(), sel.begin(), sel.end());
      Operation* u = b.create(OpKind::Update, ops, {dy->type});
      u->ints = op.ints;
      sink.add(0, u->result());
      return;
    }
    // add_at(a, v, sel): da = dy, dv = dy[sel]
    case OpKind::AddAt: {
      std::vector<Value*> sel(x.begin() + 2, x.end());
      sink.add(0, dy);
      sink.add(1, selection(b, dy, sel, op.ints));
      return;
    }
    case OpKind::MatMul: matmulRule(b, x[0], x[1], dy, sink); return;
    // transpose: dA = transpose(dY)
    case OpKind::Transpose: sink.add(0, transpose(b, dy)); return;
    // fill(v, dims): dv = sum of dy
    case OpKind::Fill: sink.add(0, sumAll(b, dy)); return;
    // build(e0..): de_k = dy[k]
    case OpKind::Build:
      for (size_t k = 0; k < x.size(); ++k) {
        std::vector<int64_t> kinds(size_t(dy->type.rank), 2);
        kinds[0] = 0;
        sink.add(k, selection(b, dy, {b.constI(int64_t(k))}, kinds));
      }
      return;
    case OpKind::ConstF: case OpKind::ConstI: case OpKind::ConstB: case OpKind::Add:
    case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::Rem: case OpKind::Pow:
    case OpKind::Min: case OpKind::Max: case OpKind::Atan2: case OpKind::Neg: case OpKind::Abs:
    case OpKind::Exp: case OpKind::Log: case OpKind::Sqrt: case OpKind::Sin: case OpKind::Cos:
    case OpKind::Tan: case OpKind::Tanh: case OpKind::Sigmoid: case OpKind::Relu:
    case OpKind::Softplus: case OpKind::Log1p: case OpKind::Expm1: case OpKind::Floor:
    case OpKind::Ceil: case OpKind::Lt: case OpKind::Le: case OpKind::Gt: case OpKind::Ge:
    case OpKind::Eq: case OpKind::Ne: case OpKind::And: case OpKind::Or: case OpKind::Not:
    case OpKind::Select: case OpKind::Cast: case OpKind::StopGradient: case OpKind::RandUniform:
    case OpKind::RandNormal: case OpKind::RandMix: case OpKind::Call:
    case OpKind::GradCall: case OpKind::Print: case OpKind::If: case OpKind::For:
    case OpKind::While: case OpKind::Yield: case OpKind::Return: case OpKind::TapePush:
    case OpKind::TapePop: case OpKind::Map: case OpKind::Reduce:
      break;
  }
  (void)y;
  assert(false && "not an array op with a rule");
}

}  // namespace chain::passes
