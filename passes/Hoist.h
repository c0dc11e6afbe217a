// The hoist pass: loop-invariant code motion at IR level (see Hoist.cpp).
#pragma once

#include "ir/IR.h"

namespace chain::passes {

// Removes asserts that dominating asserts already prove, moves pure
// loop-invariant ops out of for/while bodies and map/reduce regions
// (guarding those that may trap behind the loop's trip-count test), then
// removes dead code.
void hoistInvariants(ir::Module& m, ir::Function& f);

// For / reduce / map that certainly runs its region at least once (constant
// non-empty range).
bool knownNonEmpty(const ir::Operation& loop);

}  // namespace chain::passes
