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

void printLine(const std::string& label, const Value& v) {
  std::cout << label << toText(v, label.size()) << "\n";
}

}  // namespace

int cmdJacobian(const CliOptions& o) {
  Loaded l = loadModel(o);
  std::string p = singleWrt(o, l.fn, "jacobian");
  std::vector<Value> args = bindArgs(readArgs(o.args), l.fn);
  Function jac = l.module.jacobian(l.fnName, p, /*withValue=*/true);
  routePrintOutput(o);
  Value r = jac(args);
  const Value& value = r.tuple()[0];
  const Value& j = r.tuple()[1];
  if (o.json) {
    std::cout << nlohmann::ordered_json{{"value", toJson(value)}, {"jacobian", toJson(j)}}.dump() << "\n";
    return 0;
  }
  printLine("value: ", value);
  printLine("jacobian " + p + ": ", j);
  return 0;
}

int cmdHessian(const CliOptions& o) {
  Loaded l = loadModel(o);
  std::string p = singleWrt(o, l.fn, "hessian");
  std::vector<Value> args = bindArgs(readArgs(o.args), l.fn);
  Function hess = l.module.hessian(l.fnName, p, /*withValue=*/true);
  routePrintOutput(o);
  Value r = hess(args);
  const Value& value = r.tuple()[0];
  const Value& g = r.tuple()[1];
  const Value& h = r.tuple()[2];
  if (o.json) {
    std::cout << nlohmann::ordered_json{{"value", toJson(value)}, {"grad", toJson(g)}, {"hessian", toJson(h)}}.dump()
              << "\n";
    return 0;
  }
  printLine("value: ", value);
  printLine("grad " + p + ": ", g);
  printLine("hessian " + p + ": ", h);
  return 0;
}

}  // namespace chain::cli
