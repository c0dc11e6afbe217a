// The simplify pass: constant folding and exact identities, `if`/`for`
// with known conditions or bounds, forwarding of region results that are
// defined outside the region, scoped CSE of pure ops and dead code
// elimination (including dead loop-carried values). Never changes a result:
// IEEE 754 as written, no fast-math.
#pragma once

#include "ir/IR.h"

namespace chain::passes {

void simplify(ir::Module& m, ir::Function& f);

// Dead code elimination only (also run by simplify). Returns true when
// something was removed.
bool eliminateDeadCode(ir::Function& f);

// A libm-class function: tens of cycles, far more than loading a
// materialised element (the random numbers: ten Philox rounds, a call).
bool transcendental(ir::OpKind k);

}  // namespace chain::passes
