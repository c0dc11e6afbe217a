// checkGradient: compares a compiled gradient with central finite
// differences (`chain check`). Each wrt parameter is perturbed on its own; an
// array parameter element by element (2 calls of the function per element),
// in a private copy so the caller's tensors are never touched. The step is
// h = cbrt(eps) * max(1, |x|) with eps the machine epsilon of the
// parameter's type; f32 parameters use a tolerance of at least 1e-2, since
// their finite differences carry single-precision rounding.
#include <algorithm>
#include <cmath>
#include <cstring>
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

size_t elementBytes(DType t) {
  switch (t) {
    case DType::F64: return 8;
    case DType::F32: return 4;
    case DType::I64: return 8;
    case DType::Bool: return 1;
  }
  return 8;
}

// Folds one comparison of analytic `an` and finite-difference `fd` into res.
void account(GradCheckResult& res, double an, double fd, double tol) {
  double abs = std::abs(an - fd);
  double scale = std::max({std::abs(an), std::abs(fd)});
  double rel = scale > 0 ? abs / scale : 0.0;
  if (std::isnan(an) != std::isnan(fd) || (std::isnan(an) && std::isnan(fd)))
    abs = rel = std::numeric_limits<double>::infinity();
  res.maxAbsError = std::max(res.maxAbsError, abs);
  res.maxRelError = std::max(res.maxRelError, rel);
  if (!(abs <= tol * std::max(1.0, scale))) res.ok = false;
}

// Every element of tensor argument `slot`, perturbed in a private copy.
void checkTensor(const Function& f, std::vector<Value> args, size_t slot, const Value& grad, double tolerance,
                 GradCheckResult& res) {
  const Tensor& x = args[slot].tensor();
  bool single = x.dtype() == DType::F32;
  if (grad.kind() != Value::Kind::Tensor || grad.tensor().numel() != x.numel())
    throw std::runtime_error("checkGradient: the gradient of an array parameter is not an array of its shape");
  Tensor work(x.dtype(), x.shape());
  if (x.numel() > 0) std::memcpy(work.data(), x.data(), size_t(x.numel()) * elementBytes(x.dtype()));
  args[slot] = Value(work);  // shares work's buffer: edits below are seen by the calls
  double eps = single ? double(std::numeric_limits<float>::epsilon()) : std::numeric_limits<double>::epsilon();
  double tol = single ? std::max(tolerance, 1e-2) : tolerance;
  auto set = [&](int64_t i, double v) {
    if (single) work.data<float>()[i] = float(v);
    else work.data<double>()[i] = v;
  };
  for (int64_t i = 0; i < x.numel(); ++i) {
    double x0 = work.at(i);
    double h = std::cbrt(eps) * std::max(1.0, std::abs(x0));
    set(i, x0 + h);
    double hi = f(args).asDouble();
    double up = work.at(i);
    set(i, x0 - h);
    double lo = f(args).asDouble();
    double down = work.at(i);
    set(i, x0);
    account(res, grad.tensor().at(i), (hi - lo) / (up - down), tol);  // the step actually taken (f32 rounds)
  }
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
    if (x.kind() == Value::Kind::Tensor) {
      checkTensor(f, args, size_t(idx[k]), grads.at(k), tolerance, res);
      continue;
    }
    bool single = x.kind() == Value::Kind::F32;
    double eps = single ? double(std::numeric_limits<float>::epsilon())
                        : std::numeric_limits<double>::epsilon();
    double tol = single ? std::max(tolerance, 1e-2) : tolerance;
    double h = std::cbrt(eps) * std::max(1.0, std::abs(x.asDouble()));
    std::vector<Value> plus = args, minus = args;
    plus[idx[k]] = perturbed(x, h);
    minus[idx[k]] = perturbed(x, -h);
    double fd = (f(plus).asDouble() - f(minus).asDouble()) / (2 * h);
    account(res, grads.at(k).asDouble(), fd, tol);
  }
  return res;
}

}  // namespace chain
