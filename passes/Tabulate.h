// The tabulate pass: costly loop-invariant subexpressions of inner loop
// indices computed once, as small arrays (see Tabulate.cpp).
#pragma once

#include "ir/IR.h"

namespace chain::passes {

// In every loop L (for, map, reduce), an expensive float scalar (a
// transcendental function or a reduce) that does not depend on L but only on
// the indices of loops nested in L with L-invariant ranges becomes a read of
// a table computed once before L, indexed by those loops' indices.
void tabulateInvariants(ir::Module& m, ir::Function& f);

}  // namespace chain::passes
