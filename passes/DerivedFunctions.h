// Builders of derived functions from call-free ones, used by the pipeline to
// put jacobian, hessian, hvp and vjp together from the two AD passes
// (ForwardAD.h, ReverseAD.h). Each returns a function that may contain
// `call` ops of the functions it is given (added to `work` under the names it
// uses); the pipeline inlines them and simplifies the result.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace chain::passes {

// J(x...) = [f's results..., if keepResults] then, for each p in `wrt`, the
// Jacobian of result `result` of f with respect to parameter p: an array of
// shape (result's shape ++ p's shape), a scalar when both are scalars. It is
// assembled column by column from forward sweeps of f (forwardAD(f, {p},
// lanes) for each p, in wrt order, added to `work`), each seeded with unit
// tangents: in vector mode, several columns per sweep (one for a scalar p;
// DerivedFunctions.cpp). A copy of f is added to `work` too (under f.name)
// unless `work` already has one.
std::unique_ptr<ir::Function> jacobianByForward(ir::Module& work, const ir::Function& f,
                                                const std::vector<int>& wrt, int result, bool keepResults,
                                                const std::string& name);

// The Jacobian level (jacobian / value_jacobian) of f (one float result y)
// with respect to parameter p, by the sizes: for y = f(x) with numel(y) = m
// and numel(p) = n, m reverse sweeps (each a vjp with a unit cotangent, one
// row of J) when m < n, else forward sweeps (as jacobianByForward, several
// columns per sweep). The sizes are known at run time only, so both loops
// are compiled and an `if` on m < n picks one; statically, a scalar y
// takes one reverse sweep and a scalar p one forward sweep. An f with tape
// ops (a gradient) cannot be reversed: forward sweeps. Adds f, its tangent
// and vjp functions to `work`.
std::unique_ptr<ir::Function> jacobianBySize(ir::Module& work, const ir::Function& f, int p, bool keepResults,
                                             const std::string& name);

// W(x..., dy...) = sum_k <y_k, dy_k>: f's parameters followed by one
// cotangent per result of f (same types, named dy / dy0, dy1, ...), and one
// scalar result, the inner product of f's results with the cotangents. The
// gradient of W with respect to p is vjp(f, wrt=p). All of f's results must
// be floats of one element type.
std::unique_ptr<ir::Function> vjpObjective(const ir::Function& f, const std::string& name);

// A copy of f that returns only the results listed in `keep`.
std::unique_ptr<ir::Function> selectResults(const ir::Function& f, const std::vector<int>& keep,
                                            const std::string& name);

}  // namespace chain::passes
