// The inline pass: replaces every `call` op (at any region depth) by a copy
// of the callee's body, recursively, so that AD and codegen see one function.
// Inlining can grow a program exponentially (g_i calls g_{i-1} twice), so the
// size of the result is computed bottom-up over the call graph first, and a
// result above kMaxInlinedOps is a compile error instead of a hang.
#pragma once

#include <cstdint>

#include "ir/IR.h"

namespace chain::passes {

// The most operations (counted at every region depth) that inlining may
// produce in one function. The frontend checker reports an estimate of the
// same count at the function's definition (frontend/CheckerCallGraph.cpp).
constexpr uint64_t kMaxInlinedOps = 200000;
// Call chains deeper than this are a compile error (the checker reports it):
// inlining recurses once per level (~250 bytes of stack each, several
// times that under AddressSanitizer), and no real model nests so deep.
constexpr int64_t kMaxCallDepth = 2000;

// The number of operations `f` has once every call is inlined, computed
// bottom-up over the call graph without cloning (saturates at UINT64_MAX / 4).
uint64_t inlinedOpCount(const ir::Module& m, const ir::Function& f);

// Inlines every Call in `f` (callees from `m`, inlined recursively; a call
// cycle is a compiler bug since the language forbids recursion). GradCall ops
// are left alone. Throws chain::CompileError naming f's position when the
// result would exceed kMaxInlinedOps operations.
void inlineCalls(ir::Module& m, ir::Function& f);

}  // namespace chain::passes
