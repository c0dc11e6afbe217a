// Internal to the simplify pass: the folding rules for one scalar op whose
// operands are already simplified (constant folding and exact identities).
#pragma once

#include <cstdint>
#include <vector>

#include "ir/IR.h"

namespace chain::passes::fold {

struct Result {
  enum Kind { None, Existing, Constant } kind = None;
  ir::Value* value = nullptr;  // Existing: use this value instead
  // Constant: a constant op of kind `constKind` (ConstF/ConstI/ConstB) with
  // attribute f or i and type `type`.
  ir::OpKind constKind = ir::OpKind::ConstF;
  double f = 0.0;
  int64_t i = 0;
  ir::Type type;
};

// `op` is the original op (kind, attributes, result types); `operands` its
// simplified operands. Never changes a result (IEEE 754 as written), never
// folds an integer division that traps, and never folds a float op into a
// NaN or infinity from finite operands (so that --nan-check still names the
// op that produced it at run time).
Result foldOp(const ir::Operation& op, const std::vector<ir::Value*>& operands);

// The constant value of `v` if it is defined by a ConstF/ConstI/ConstB op.
bool constantOf(const ir::Value* v, double& f, int64_t& i);

}  // namespace chain::passes::fold
