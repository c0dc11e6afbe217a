// The IR verifier: structural consistency (def/owner/index links), operand
// arity and types per op, region signatures, terminators, lexical dominance
// and call signatures. Returns human-readable messages (empty = valid).
#pragma once

#include <string>
#include <vector>

#include "ir/IR.h"

namespace chain::ir {

// `m`, when given, is used to check call/grad_call callees and signatures.
std::vector<std::string> verifyFunction(const Function& f, const Module* m = nullptr);
std::vector<std::string> verifyModule(const Module& m);

// Verifies `f`; on failure prints the errors and the function to stderr and
// aborts (an internal compiler error). Used after every pass when
// CHAIN_VERIFY_EACH_PASS is defined.
void verifyOrDie(const Function& f, const char* afterPass, const Module* m = nullptr);

}  // namespace chain::ir
