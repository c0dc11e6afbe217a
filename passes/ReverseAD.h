// Reverse-mode automatic differentiation: an IR-to-IR pass that writes the
// adjoint function of a call-free function by the chain rule.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace chain::passes {

// Builds a new function `name` with the parameters of `f` (which must be
// call-free, i.e. inlined, and return one scalar float as result 0) that
// returns [f's value if withValue] then the gradient with respect to each
// parameter in `wrt` (same types as the parameters), in order.
std::unique_ptr<ir::Function> reverseAD(const ir::Function& f, const std::vector<int>& wrt,
                                        bool withValue, const std::string& name);

}  // namespace chain::passes
