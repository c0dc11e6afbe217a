// The compile pipeline behind the public API, as separate steps so that
// `chain emit --stage` can show the text after any of them:
//
//   source -parse/check/lower-> IR module (pristine)
//   primal F:    clone -> grad calls materialised -> [registry passes: inline, simplify]
//   gradient G:  primal pipeline of F -> reverse AD -> simplify
//   derived D:   primal pipeline of F (reversible grad calls kept opaque) ->
//                one AD pass per level -> grad calls materialised -> simplify
//
// Every step's result is verified when CHAIN_VERIFY_EACH_PASS is defined.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "frontend/AST.h"
#include "ir/DiffSpec.h"
#include "ir/IR.h"

namespace chain::pipeline {

struct FrontendResult {
  std::string fileName;
  std::string source;
  std::unique_ptr<ast::Program> ast;
  std::unique_ptr<ir::Module> module;  // as lowered, never modified
};

// Parses, checks and lowers; throws chain::CompileError with every diagnostic.
std::unique_ptr<FrontendResult> runFrontend(std::string source, std::string fileName);

// Called after each named stage with the function as it is then.
using StageHook = std::function<void(const std::string& stage, const ir::Function&)>;

// The call-free primal of `name`, ready for code generation.
// `forGradient`: the result is reverse AD's input (see
// ir::Function::forDifferentiation). Every grad call is materialised.
// Throws chain::CompileError when a derivative it calls cannot be built: an
// error of the functions that need it, not of the whole file.
std::unique_ptr<ir::Function> buildPrimal(const ir::Module& m, const std::string& name,
                                          const StageHook& hook = {}, bool forGradient = false);

// The call-free gradient of `name` (see passes::reverseAD for its results).
// Throws chain::CompileError when `name` cannot be differentiated (for a
// function that uses grad, at its first grad call).
std::unique_ptr<ir::Function> buildGradient(const ir::Module& m, const std::string& name,
                                            const std::vector<int>& wrt, bool withValue,
                                            const StageHook& hook = {});

// The call-free function `levels` make of `name` (ir/DiffSpec.h): jvp,
// vjp, jacobian, hessian, hvp and gradients, nested to any depth. Forward
// mode (passes/ForwardAD.h) handles any function, gradients included;
// reverse mode (passes/ReverseAD.h) handles functions without tape ops and
// reverses an inner grad, value_and_grad or hvp by its symmetric rule (one
// forward sweep over the gradient; design in Pipeline.cpp); the gradient of
// a function that still contains tape ops (an inner jacobian, hessian, or
// jvp of a gradient) is assembled from forward sweeps. The jacobian level
// picks reverse or forward sweeps by the sizes at run time
// (passes/DerivedFunctions.h jacobianBySize). Throws chain::CompileError
// when a level does not apply.
std::unique_ptr<ir::Function> buildDerived(const ir::Module& m, const std::string& name,
                                           const std::vector<ir::DiffLevel>& levels,
                                           const StageHook& hook = {});

// Throws chain::CompileError when a level of `levels` does not apply to
// `name` (as buildDerived would), from the signatures alone.
void checkDerivable(const ir::Module& m, const std::string& name, const std::vector<ir::DiffLevel>& levels);

}  // namespace chain::pipeline
