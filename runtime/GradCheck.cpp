// checkGradient: compares a compiled gradient with central finite
// differences (`chain check`); checkHessian compares a Hessian with central
// differences of the gradient, row by row (`chain check --order 2`). Each wrt parameter is perturbed on its own; an
// array parameter element by element, in a private copy so the caller's
// tensors are never touched.
//
// The numeric derivative of one entry x (eps: the machine epsilon of the
// parameter's type, c = cbrt(eps)) comes from a ladder of central
// differences D(h) = (f(x + h) - f(x - h)) / 2h at the steps
//   h_k = c * max(1, s) / 4^k,  k = 0 .. K-1,
// where s = max(|x|, the root mean square of the parameter's elements) is
// the entry's scale (1 when it is 0). K is 4, plus one per factor of 4 that s
// lies below 1 (at most 9): the ladder runs from c * max(1, s) (for a scalar
// the classic step c * max(1, |x|)) down to at least c * s / 64, so a small
// parameter (a drag coefficient of 0.01) is also probed at steps that suit
// its own size, and an element of an array of large values is not probed
// with a step far below the array's scale. Of
// the successive pairs D(h_k), D(h_k+1) the one that agrees best is kept and
// its larger-step value D(h_k), the less rounded, is the estimate; the gap
// |D(h_k) - D(h_k+1)| is reported as its spread, a measure of how far the
// estimate itself may be off. The step actually taken is used (f32 rounds
// x + h); a step that rounds away is skipped.
//
// Why several steps: a function with a kink or a jump near x (a `while`
// whose trip count depends on x, a branch on x) is smooth on each side, and
// the steps that cross the kink disagree with each other and with the steps
// that do not. The steps that stay on x's side agree, up to rounding, which
// grows as h shrinks, and truncation, which grows with h: the best-agreeing
// pair lies between. A gradient that is really wrong disagrees with every
// estimate, and a jump at x itself (floor at an integer) gives estimates that
// grow like 1/h and never agree with the gradient. Only a kink closer to x
// than the smallest step stays invisible, and there the finite differences
// see the mean of the two slopes. Libraries' finite-difference routines
// (boost::math::differentiation::finite_difference_derivative, for one) use
// one fixed step per call, which is exactly what fails at such kinks; the
// choice among steps is the point of this file, so it is written here.
//
// An entry's error is |analytic - numeric| / max(1, |analytic|) (absolute for
// gradients below 1, relative above); it passes when the error is at most
// the tolerance of its parameter's type: `tolerance` for f64, at least 1e-2
// for f32, whose differences carry single-precision rounding. The result
// names the worst entry: the largest error in units of its tolerance.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "runtime/ApiImpl.h"

namespace chain {

namespace {

constexpr int kMinSteps = 4;  // h_0 .. h_0 / 64
constexpr int kMaxSteps = 9;
constexpr double kStepRatio = 4;
constexpr double kF32Tolerance = 1e-2;

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

// One entry under test: set(v) stores v in the entry (rounded to its type)
// and returns the value stored; eval() calls the function at the current
// arguments.
struct Probe {
  std::function<double(double)> set;
  std::function<double()> eval;
  bool single = false;
};

struct Estimate {
  double value = std::numeric_limits<double>::quiet_NaN();
  double step = 0;
  double spread = std::numeric_limits<double>::infinity();  // |D(h_k) - D(h_k+1)| of the pair kept
};

int ladderLength(double scale) {
  if (scale >= 1) return kMinSteps;
  double extra = std::ceil(std::log(1 / scale) / std::log(kStepRatio));  // inf for a denormal scale
  return kMinSteps + int(std::min(extra, double(kMaxSteps - kMinSteps)));
}

// The numeric derivative of the entry at x0 with scale `scale` (see the
// opening comment); the entry holds x0 again on return.
Estimate numericDerivative(const Probe& p, double x0, double scale) {
  double eps = p.single ? double(std::numeric_limits<float>::epsilon()) : std::numeric_limits<double>::epsilon();
  if (!(scale > 0) || !std::isfinite(scale)) scale = 1;
  double h = std::cbrt(eps) * std::max(1.0, scale);
  std::vector<Estimate> ladder;
  for (int k = 0, n = ladderLength(scale); k < n; ++k, h /= kStepRatio) {
    double up = p.set(x0 + h);
    double hi = p.eval();
    double down = p.set(x0 - h);
    double lo = p.eval();
    if (up != down) ladder.push_back({(hi - lo) / (up - down), (up - down) / 2, 0});
  }
  p.set(x0);
  Estimate best;
  for (size_t k = 0; k + 1 < ladder.size(); ++k) {
    double gap = std::abs(ladder[k].value - ladder[k + 1].value);
    if (gap < best.spread) best = {ladder[k].value, ladder[k].step, gap};
  }
  if (std::isinf(best.spread))  // no two finite estimates agree: the first finite one, if any
    for (const Estimate& e : ladder)
      if (std::isfinite(e.value)) return e;
  return best;
}

std::vector<int64_t> multiIndex(const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t a = shape.size(); a-- > 0;) {
    index[a] = flat % shape[a];
    flat /= shape[a];
  }
  return index;
}

// How far outside (> 1) or inside its tolerance an entry is.
double severity(const GradCheckEntry& e) {
  if (e.tolerance > 0) return e.relError / e.tolerance;
  return e.relError > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

// Folds the comparison of one entry into res.
void account(GradCheckResult& res, const std::string& param, DType dtype, std::vector<int64_t> index,
             double analytic, const Estimate& numeric, double tolerance) {
  GradCheckEntry e;
  e.param = param;
  e.dtype = dtype;
  e.index = std::move(index);
  e.analytic = analytic;
  e.numeric = numeric.value;
  e.step = numeric.step;
  e.tolerance = tolerance;
  e.absError = std::abs(analytic - numeric.value);
  e.relError = e.absError / std::max(1.0, std::abs(analytic));
  e.spread = numeric.spread / std::max(1.0, std::abs(analytic));
  if (std::isnan(e.absError)) e.absError = e.relError = std::numeric_limits<double>::infinity();
  res.entries++;
  res.maxAbsError = std::max(res.maxAbsError, e.absError);
  res.maxRelError = std::max(res.maxRelError, e.relError);
  if (!(e.relError <= e.tolerance)) res.failures++;
  if (!res.worst || severity(e) > severity(*res.worst)) res.worst = std::move(e);
}

double rootMeanSquare(const Tensor& x) {
  double sum = 0;
  int64_t n = 0;
  for (int64_t i = 0; i < x.numel(); ++i)
    if (std::isfinite(x.at(i))) sum += x.at(i) * x.at(i), ++n;
  return n ? std::sqrt(sum / double(n)) : 0.0;
}

// A scalar-valued evaluation of the arguments: the function itself, or one
// element of its gradient (checkHessian).
using Eval = std::function<double(const std::vector<Value>&)>;

// Every element of tensor argument `slot`, perturbed in a private copy;
// analytic(i) is the derivative to compare at element i, reported at index
// prefix ++ multi-index of i.
void checkTensor(const Eval& f, std::vector<Value> args, size_t slot, const std::string& name,
                 const std::function<double(int64_t)>& analytic, const std::vector<int64_t>& prefix, double tol,
                 GradCheckResult& res) {
  const Tensor& x = args[slot].tensor();
  Tensor work(x.dtype(), x.shape());
  if (x.numel() > 0) std::memcpy(work.data(), x.data(), size_t(x.numel()) * elementBytes(x.dtype()));
  args[slot] = Value(work);  // shares work's buffer: edits below are seen by the calls
  double rms = rootMeanSquare(work);
  int64_t i = 0;
  Probe p;
  p.single = x.dtype() == DType::F32;
  p.eval = [&] { return f(args); };
  p.set = [&](double v) {
    if (p.single) work.data<float>()[i] = float(v);
    else work.data<double>()[i] = v;
    return work.at(i);
  };
  for (; i < x.numel(); ++i) {
    double x0 = work.at(i);
    Estimate d = numericDerivative(p, x0, std::max(std::abs(x0), rms));
    std::vector<int64_t> index = prefix;
    for (int64_t k : multiIndex(x.shape(), i)) index.push_back(k);
    account(res, name, x.dtype(), index, analytic(i), d, tol);
  }
}

void checkScalar(const Eval& f, std::vector<Value> args, size_t slot, const std::string& name, double analytic,
                 const std::vector<int64_t>& prefix, double tol, GradCheckResult& res) {
  Probe p;
  p.single = args[slot].kind() == Value::Kind::F32;
  p.eval = [&] { return f(args); };
  p.set = [&](double v) {
    args[slot] = p.single ? Value(float(v)) : Value(v);
    return args[slot].asDouble();
  };
  double x0 = args[slot].asDouble();
  Estimate d = numericDerivative(p, x0, std::abs(x0));
  account(res, name, p.single ? DType::F32 : DType::F64, prefix, analytic, d, tol);
}

// Compares the derivative `d` (a scalar or an array of x's shape, flattened
// per element by at()) of `f` with respect to argument `slot`.
void checkArgument(const Eval& f, const std::vector<Value>& args, size_t slot, const std::string& name,
                   const std::function<double(int64_t)>& at, const std::vector<int64_t>& prefix, double tol,
                   GradCheckResult& res) {
  if (args.at(slot).kind() == Value::Kind::Tensor) checkTensor(f, args, slot, name, at, prefix, tol, res);
  else checkScalar(f, args, slot, name, at(0), prefix, tol, res);
}

double elementOf(const Value& v, int64_t i) {
  return v.kind() == Value::Kind::Tensor ? v.tensor().at(i) : v.asDouble();
}

double toleranceFor(DType t, double tolerance, GradCheckResult& res) {
  double tol = t == DType::F32 ? std::max(tolerance, kF32Tolerance) : tolerance;
  if (std::none_of(res.tolerances.begin(), res.tolerances.end(), [&](auto& e) { return e.first == t; }))
    res.tolerances.emplace_back(t, tol);
  return tol;
}

}  // namespace

GradCheckResult checkGradient(const Module& m, const std::string& fn, const std::vector<std::string>& wrt,
                              const std::vector<Value>& args, double tolerance) {
  Function f = m.function(fn);
  Function g = m.gradient(fn, wrt, false);
  const ast::FnDecl& d = m.impl_->decl(fn);
  std::vector<int> idx = resolveWrt(d, wrt);
  std::vector<Value> grads = flatten(g(args));
  Eval value = [&](const std::vector<Value>& a) { return f(a).asDouble(); };

  GradCheckResult res;
  for (size_t k = 0; k < idx.size(); ++k) {
    const Value& x = args.at(idx[k]);
    const Value& gk = grads.at(k);
    if (x.kind() == Value::Kind::Tensor && (gk.kind() != Value::Kind::Tensor || gk.tensor().numel() != x.tensor().numel()))
      throw std::runtime_error("checkGradient: the gradient of an array parameter is not an array of its shape");
    double tol = toleranceFor(f.paramTypes().at(idx[k]).dtype, tolerance, res);
    checkArgument(value, args, size_t(idx[k]), f.paramNames().at(idx[k]), [&](int64_t i) { return elementOf(gk, i); },
                  {}, tol, res);
  }
  res.ok = res.failures == 0;
  return res;
}

// Row i of the Hessian is the derivative of gradient element i: it is
// compared with the finite differences of that element (the same ladder of
// steps), entry (i, j) reported at index (i..., j...).
GradCheckResult checkHessian(const Module& m, const std::string& fn, const std::string& wrt,
                             const std::vector<Value>& args, double tolerance) {
  Function g = m.gradient(fn, wrt.empty() ? std::vector<std::string>{} : std::vector<std::string>{wrt}, false);
  Function h = m.hessian(fn, wrt);
  const ast::FnDecl& d = m.impl_->decl(fn);
  int p = resolveWrt(d, wrt.empty() ? std::vector<std::string>{} : std::vector<std::string>{wrt})[0];
  const Value& x = args.at(size_t(p));
  int64_t n = x.kind() == Value::Kind::Tensor ? x.tensor().numel() : 1;
  std::vector<int64_t> shape = x.kind() == Value::Kind::Tensor ? x.tensor().shape() : std::vector<int64_t>{};
  Value H = h(args);
  GradCheckResult res;
  double tol = toleranceFor(g.paramTypes().at(size_t(p)).dtype, tolerance, res);
  for (int64_t i = 0; i < n; ++i) {
    Eval gi = [&](const std::vector<Value>& a) { return elementOf(g(a), i); };
    std::vector<int64_t> row = shape.empty() ? std::vector<int64_t>{} : multiIndex(shape, i);
    checkArgument(gi, args, size_t(p), g.paramNames().at(size_t(p)), [&](int64_t j) { return elementOf(H, i * n + j); },
                  row, tol, res);
  }
  res.ok = res.failures == 0;
  return res;
}

}  // namespace chain
