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

// The v that `op` equals when it is an i64 max(v, c) with c <= 0 a constant
// and v >= 0 (the extent of a range 0..v); otherwise null.
inline const ir::Value* maxOfNonNegative(const ir::Operation& op) {
  if (op.kind != ir::OpKind::Max || op.result()->type != ir::Type::i64()) return nullptr;
  int64_t c;
  for (size_t s = 0; s < 2; ++s)
    if (constInt(op.operand(s), c) && c <= 0 && nonNegative(op.operand(1 - s))) return op.operand(1 - s);
  return nullptr;
}

}  // namespace chain::passes
