// The store pass: in a function prepared for reverse AD, the body of a
// logsumexp whose elements cost a loop each is stored as an array (see
// StoreReduce.cpp).
#pragma once

#include "ir/IR.h"

namespace chain::passes {

// `reduce logsumexp (lo, hi) { e(i) }` whose region holds a loop becomes
// `%v = map (hi - lo) { e(lo + k) }` and `reduce logsumexp (lo, hi) { v[i - lo] }`,
// When that logsumexp is the top of a loop's body over p and its elements use
// nothing else the loop defines, the table is built once before the loop, c
// outermost: `%E = map (hi - lo, np) { e(lo + c, p) }`, read as E[i - lo, p]
// (the reverse sweep then runs components outer). Only when
// f.forDifferentiation is set.
void storeReduceBodies(ir::Module& m, ir::Function& f);

}  // namespace chain::passes
