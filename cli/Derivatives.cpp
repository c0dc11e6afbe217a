// `chain jacobian` and `chain hessian` (SPEC §7): the value of a function and
// its Jacobian (any float result) or its Hessian (scalar result, printed with
// the gradient) with respect to one float parameter, --wrt (default: the
// first float parameter). Both run one compiled function that returns the
// value too (Module::jacobian / Module::hessian with withValue), so nothing
// else is compiled.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/Args.h"
#include "cli/Commands.h"
#include "cli/Output.h"

namespace chain::cli {
namespace {

// The one --wrt parameter (checked like grad's), or the first float parameter.
std::string singleWrt(const CliOptions& o, const Function& fn, const char* command) {
  if (o.wrt.size() > 1)
    throw UsageError(std::string("--wrt: ") + command + " takes one parameter, got " +
                     std::to_string(o.wrt.size()));
  return resolveWrt(o, fn)[0];
}

// The elements of tuple r, one per (JSON key, text label): one object under
// --json, else one labelled line each.
int printParts(const CliOptions& o, const Value& r, const std::vector<std::pair<std::string, std::string>>& parts) {
  if (o.json) {
    nlohmann::ordered_json j;
    for (size_t k = 0; k < parts.size(); ++k) j[parts[k].first] = toJson(r.tuple()[k]);
    std::cout << j.dump() << "\n";
    return 0;
  }
  for (size_t k = 0; k < parts.size(); ++k)
    std::cout << parts[k].second << toText(r.tuple()[k], parts[k].second.size()) << "\n";
  return 0;
}

}  // namespace

int cmdJacobian(const CliOptions& o) {
  Loaded l = loadModel(o);
  std::string p = singleWrt(o, l.fn, "jacobian");
  std::vector<Value> args = bindArgs(readArgs(o.args), l.fn);
  Function jac = l.module.jacobian(l.fnName, p, /*withValue=*/true);
  routePrintOutput(o);
  return printParts(o, jac(args), {{"value", "value: "}, {"jacobian", "jacobian " + p + ": "}});
}

int cmdHessian(const CliOptions& o) {
  Loaded l = loadModel(o);
  std::string p = singleWrt(o, l.fn, "hessian");
  std::vector<Value> args = bindArgs(readArgs(o.args), l.fn);
  Function hess = l.module.hessian(l.fnName, p, /*withValue=*/true);
  routePrintOutput(o);
  return printParts(o, hess(args), {{"value", "value: "}, {"grad", "grad " + p + ": "}, {"hessian", "hessian " + p + ": "}});
}

}  // namespace chain::cli
