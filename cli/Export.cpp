// `chain export` (SPEC §7, §8): a thin client of Module::exportC. Resolves
// --fn (repeated; default the last function when neither --fn nor --grad is
// given) and --grad NAME[:P1,P2] (the list checked like `chain grad --wrt`,
// default every float parameter), then writes DIR/<model>.h and
// DIR/<model>.o. An unknown function or parameter, an unknown --target-cpu
// and an -o folder that cannot be created or written are exit 2; a function
// that cannot be exported (its result's shape not known before the call) is
// exit 1 with a diagnostic at the function.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/Commands.h"

namespace chain::cli {

namespace {

void checkFunction(const Module& m, const std::string& flag, const std::string& name, const std::string& model) {
  std::vector<std::string> names = m.functionNames();
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw UsageError(flag + ": no function '" + name + "' in " + model + " (it defines " + joinNames(names) + ")");
}

// "loss" or "loss:w,b" -> the function and its wrt list.
ExportOptions::Gradient parseGrad(const Module& m, const CliOptions& o, const std::string& spec) {
  ExportOptions::Gradient g;
  size_t colon = spec.find(':');
  g.function = spec.substr(0, colon);
  checkFunction(m, "--grad", g.function, o.model);
  CliOptions wrt = o;
  wrt.wrt.clear();
  if (colon != std::string::npos) {
    std::string list = spec.substr(colon + 1);
    for (size_t at = 0;;) {
      size_t comma = list.find(',', at);
      wrt.wrt.push_back(list.substr(at, comma - at));
      if (wrt.wrt.back().empty())
        throw UsageError("--grad " + spec + ": empty parameter name (write NAME or NAME:P1,P2)");
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  try {
    g.wrt = resolveWrt(wrt, m.function(g.function));
  } catch (const UsageError& e) {
    std::string msg = e.what();
    throw UsageError("--grad" + msg.substr(msg.compare(0, 5, "--wrt") == 0 ? 5 : 0));
  }
  return g;
}

}  // namespace

int cmdExport(const CliOptions& o) {
  CliOptions first = o;
  first.fn = o.fns.empty() ? "" : o.fns[0];
  Loaded l = loadModel(first);  // reads and compiles the model; checks the first --fn
  ExportOptions x;
  x.functions = o.fns;
  for (const std::string& f : o.fns) checkFunction(l.module, "--fn", f, o.model);
  if (o.fns.empty() && o.grads.empty()) x.functions.push_back(l.fnName);
  for (const std::string& g : o.grads) x.gradients.push_back(parseGrad(l.module, o, g));
  x.dir = o.outDir;
  x.targetCpu = o.targetCpu;
  ExportResult r = l.module.exportC(x);
  if (o.json) {
    nlohmann::ordered_json j;
    j["header"] = r.headerPath;
    j["object"] = r.objectPath;
    j["functions"] = r.functions;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "wrote " << r.headerPath << " and " << r.objectPath << ": " << joinNames(r.functions) << "\n";
  }
  return 0;
}

}  // namespace chain::cli
