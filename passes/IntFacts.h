// Small facts about i64 values, shared by the passes that reason about sizes
// and indices: simplify's array folds, hoist's assert facts and reverse AD's
// shape proofs (ReverseADShapes.cpp).
#pragma once

#include <cstdint>

#include "ir/IR.h"

namespace chain::passes {

// The value of an i64 constant.
inline bool constInt(const ir::Value* v, int64_t& out) {
  if (!v || !v->def || v->def->kind != ir::OpKind::ConstI) return false;
  out = v->def->i;
  return true;
}

// Known >= 0: a dim, a constant >= 0, or a max with such an operand.
inline bool nonNegative(const ir::Value* v) {
  int64_t c;
  if (constInt(v, c)) return c >= 0;
  if (!v->def) return false;
  if (v->def->kind == ir::OpKind::Dim) return true;
  if (v->def->kind == ir::OpKind::Max) return nonNegative(v->def->operand(0)) || nonNegative(v->def->operand(1));
  return false;
}

// The v that i64 max(a, b) equals when one operand is a constant c <= 0 and
// the other, v, is >= 0 (the extent of a range 0..v); otherwise null.
inline ir::Value* maxOfNonNegative(ir::Value* a, ir::Value* b) {
  int64_t c;
  if (constInt(a, c) && c <= 0 && nonNegative(b)) return b;
  if (constInt(b, c) && c <= 0 && nonNegative(a)) return a;
  return nullptr;
}

// The same for a max op.
inline const ir::Value* maxOfNonNegative(const ir::Operation& op) {
  if (op.kind != ir::OpKind::Max || op.result()->type != ir::Type::i64()) return nullptr;
  return maxOfNonNegative(op.operand(0), op.operand(1));
}

// Calls eq(a, b) for every i64 equality a == b that condition `c` asserts:
// c itself, or the operands of its `and`s.
template <class F>
void assertedEqualities(const ir::Value* c, const F& eq) {
  const ir::Operation* d = c->def;
  if (!d) return;
  if (d->kind == ir::OpKind::And) {
    assertedEqualities(d->operand(0), eq);
    assertedEqualities(d->operand(1), eq);
  }
  if (d->kind == ir::OpKind::Eq && d->operand(0)->type == ir::Type::i64()) eq(d->operand(0), d->operand(1));
}

}  // namespace chain::passes
