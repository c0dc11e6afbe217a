// The derivative rules of every scalar op, in one table (Derivatives.cpp).
//
// A rule receives the primal operands `x` and result `y` of one op (values
// already available where the adjoint code is being built) and the adjoint
// `dy` of its result, and returns the adjoint contribution for each operand
// (nullptr: none, e.g. an integer operand or a zero derivative). Structured
// ops (if/for/while), calls and tape ops are reversed by the AD pass itself;
// for them `hasScalarRule` is false.
#pragma once

#include <vector>

#include "ir/IR.h"

namespace chain::passes {

// True when `k` is differentiated by `scalarAdjoint` (possibly with a zero
// derivative); false for ops the AD pass reverses structurally.
bool hasScalarRule(ir::OpKind k);

std::vector<ir::Value*> scalarAdjoint(ir::Builder& b, const ir::Operation& op,
                                      const std::vector<ir::Value*>& x, ir::Value* y,
                                      ir::Value* dy);

}  // namespace chain::passes
