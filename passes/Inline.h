// The inline pass: replaces every `call` op (at any region depth) by a copy
// of the callee's body, recursively, so that AD and codegen see one function.
#pragma once

#include "ir/IR.h"

namespace chain::passes {

// Inlines every Call in `f` (callees from `m`, inlined recursively; a call
// cycle is a compiler bug since the language forbids recursion). GradCall ops
// are left alone.
void inlineCalls(ir::Module& m, ir::Function& f);

}  // namespace chain::passes
