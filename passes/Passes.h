// The pass registry: every IR-to-IR pass in pipeline order, by name, so that
// `chain emit --stage NAME` can show the IR after any of them.
#pragma once

#include <string>
#include <vector>

#include "ir/IR.h"

namespace chain::passes {

using PassFn = void (*)(ir::Module&, ir::Function&);

struct PassInfo {
  std::string name;     // "inline", "simplify", ...
  std::string summary;  // one line for --help
  PassFn run;
};

// The function-level passes in the order the pipeline runs them on a primal
// function. (Reverse AD is not in this list: it makes a new function; see
// passes/ReverseAD.h.)
const std::vector<PassInfo>& registry();
const PassInfo* findPass(const std::string& name);

}  // namespace chain::passes
