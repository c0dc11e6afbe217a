// checkGradient: compares a compiled gradient with central finite
// differences, parameter by parameter (`chain check`).
#include <cmath>
#include <limits>

#include "runtime/ApiImpl.h"

namespace chain {

namespace {

Value perturbed(const Value& v, double h) {
  if (v.kind() == Value::Kind::F32) return Value(float(v.asDouble() + h));
  return Value(v.asDouble() + h);
}

std::vector<Value> flatten(const Value& v) {
  if (v.kind() != Value::Kind::Tuple) return {v};
  std::vector<Value> out;
  for (auto& e : v.tuple())
    for (auto& x : flatten(e)) out.push_back(x);
  return out;
}

}  // namespace

GradCheckResult checkGradient(const Module& m, const std::string& fn, const std::vector<std::string>& wrt,
                              const std::vector<Value>& args, double tolerance) {
  Function f = m.function(fn);
  Function g = m.gradient(fn, wrt, false);
  const ast::FnDecl& d = m.impl_->decl(fn);
  std::vector<int> idx = resolveWrt(d, wrt);
  std::vector<Value> grads = flatten(g(args));

  GradCheckResult res;
  res.ok = true;
  for (size_t k = 0; k < idx.size(); ++k) {
    const Value& x = args.at(idx[k]);
    if (!x.isScalar()) throw InputError("gradient checks of array parameters are not supported yet");
    bool single = x.kind() == Value::Kind::F32;
    double eps = single ? double(std::numeric_limits<float>::epsilon())
                        : std::numeric_limits<double>::epsilon();
    double tol = single ? std::max(tolerance, 1e-2) : tolerance;
    double h = std::cbrt(eps) * std::max(1.0, std::abs(x.asDouble()));
    std::vector<Value> plus = args, minus = args;
    plus[idx[k]] = perturbed(x, h);
    minus[idx[k]] = perturbed(x, -h);
    double fd = (f(plus).asDouble() - f(minus).asDouble()) / (2 * h);
    double an = grads.at(k).asDouble();
    double abs = std::abs(an - fd);
    double scale = std::max({std::abs(an), std::abs(fd)});
    double rel = scale > 0 ? abs / scale : 0.0;
    if (std::isnan(an) != std::isnan(fd)) abs = rel = std::numeric_limits<double>::infinity();
    res.maxAbsError = std::max(res.maxAbsError, abs);
    res.maxRelError = std::max(res.maxRelError, rel);
    if (!(abs <= tol * std::max(1.0, scale))) res.ok = false;
  }
  return res;
}

}  // namespace chain
