// Forward-mode automatic differentiation (Jacobian-vector products): an
// IR-to-IR pass that writes the tangent function of a call-free function.
// The design is at the top of ForwardAD.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace chain::passes {

// Builds a new function `name` whose parameters are those of `f` (call-free,
// i.e. inlined) followed by one tangent per parameter in `wrt` (same type as
// the parameter, in wrt order; `wrt` names float parameters), and whose
// results are f's results followed by the tangent of each float result of f
// (same type as that result), in order. The tangent is the directional
// derivative of the result along the given parameter tangents. `f` may
// contain tape ops (it may itself be a gradient): every float value pushed on
// the tape is pushed with its tangent, so forward mode composes over reverse
// mode (Hessian-vector products).
//
// With lanes = B > 1 (vector mode) the function carries B independent
// directions through one sweep: its parameters are f's, then B groups of one
// tangent per wrt parameter (lane 0's group first), and its results f's,
// then B groups of the float results' tangents. The primal is computed once
// for all B directions.
std::unique_ptr<ir::Function> forwardAD(const ir::Function& f, const std::vector<int>& wrt,
                                        const std::string& name, int lanes = 1);

}  // namespace chain::passes
