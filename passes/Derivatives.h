// The derivative rules of every scalar op, in one table (Derivatives.cpp).
//
// A rule receives the primal operands `x` and result `y` of one op (values
// already available where the adjoint code is being built) and the adjoint
// `dy` of its result, and returns the adjoint contribution for each operand
// (nullptr: none, e.g. an integer operand or a zero derivative). Structured
// ops (if/for/while), calls and tape ops are reversed by the AD pass itself;
// for them `hasScalarRule` is false. A `grad_call` has its own rule below.
#pragma once

#include <vector>

#include "ir/IR.h"

namespace chain::passes {

// True when `k` is differentiated by `scalarAdjoint` (possibly with a zero
// derivative); false for ops the AD pass reverses structurally.
bool hasScalarRule(ir::OpKind k);

// Receives adjoint contributions from the array rules: `add` a whole
// adjoint for operand k, or `addAt` a contribution to a selection of operand
// k's adjoint (scatter-add; `sel` and `kinds` as in slice/add_at).
class AdjointSink {
 public:
  virtual ~AdjointSink() = default;
  virtual void add(size_t operand, ir::Value* contribution) = 0;
  virtual void addAt(size_t operand, ir::Value* contribution, const std::vector<ir::Value*>& sel,
                     const std::vector<int64_t>& kinds) = 0;
};

// True for the array ops without regions (index, slice, update, add_at,
// matmul, transpose, fill, build, dim, assert): differentiated by
// `arrayAdjoint`.
bool hasArrayRule(ir::OpKind k);
void arrayAdjoint(ir::Builder& b, const ir::Operation& op, const std::vector<ir::Value*>& x,
                  ir::Value* y, ir::Value* dy, AdjointSink& sink);

// Array helpers shared by the AD code.
ir::Value* zerosLike(ir::Builder& b, ir::Value* like);  // 0 scalar or a zero array of like's shape
ir::Value* addLike(ir::Builder& b, ir::Value* x, ir::Value* y);  // x + y, elementwise for arrays
ir::Value* scaleLike(ir::Builder& b, ir::Value* s, ir::Value* v);  // s * v, s a scalar, v any shape
std::vector<ir::Value*> dimsOf(ir::Builder& b, ir::Value* a);
// The selection `sel`/`kinds` of `a` (index when every kind is 0, else slice).
ir::Value* selection(ir::Builder& b, ir::Value* a, const std::vector<ir::Value*>& sel,
                     const std::vector<int64_t>& kinds);

// The rule of a `grad_call` (DerivativesGradCall.cpp): reversible when its
// outermost level is grad, value_and_grad or hvp (a symmetric adjoint).
// `gradCallAdjoint` emits the adjoint as another grad_call (to be
// materialised by the pipeline): `x` the mapped operands, `dys` the adjoint
// of each result (nullptr: none), `active` per operand; returns one
// contribution per operand (nullptr: none). The adjoint grad_call has
// attribute i = 1: materialised without print ops.
bool gradCallReversible(const std::vector<int64_t>& levelInts);
std::vector<ir::Value*> gradCallAdjoint(ir::Builder& b, const ir::Operation& op, const std::vector<ir::Value*>& x,
                                        const std::vector<ir::Value*>& dys, const std::vector<bool>& active);

std::vector<ir::Value*> scalarAdjoint(ir::Builder& b, const ir::Operation& op,
                                      const std::vector<ir::Value*>& x, ir::Value* y,
                                      ir::Value* dy);

}  // namespace chain::passes
