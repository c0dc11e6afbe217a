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
// arguments and returns its outputs (one for a gradient check, every
// gradient element for a Hessian check).
struct Probe {
  std::function<double(double)> set;
  std::function<std::vector<double>()> eval;
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

// The numeric derivative of each output with respect to the entry at x0,
// scale `scale` (see the opening comment); every output shares the ladder's
// evaluations, and each keeps its own best-agreeing pair. The entry holds x0
// again on return.
std::vector<Estimate> numericDerivatives(const Probe& p, double x0, double scale) {
  double eps = p.single ? double(std::numeric_limits<float>::epsilon()) : std::numeric_limits<double>::epsilon();
  if (!(scale > 0) || !std::isfinite(scale)) scale = 1;
  double h = std::cbrt(eps) * std::max(1.0, scale);
  std::vector<std::vector<Estimate>> ladder;  // per step, per output
  for (int k = 0, n = ladderLength(scale); k < n; ++k, h /= kStepRatio) {
    double up = p.set(x0 + h);
    std::vector<double> hi = p.eval();
    double down = p.set(x0 - h);
    std::vector<double> lo = p.eval();
    if (up == down) continue;
    std::vector<Estimate> rung;
    for (size_t r = 0; r < hi.size(); ++r) rung.push_back({(hi[r] - lo[r]) / (up - down), (up - down) / 2, 0});
    ladder.push_back(std::move(rung));
  }
  p.set(x0);
  size_t outputs = ladder.empty() ? p.eval().size() : ladder[0].size();
  std::vector<Estimate> out(outputs);
  for (size_t r = 0; r < outputs; ++r) {
    Estimate& best = out[r];
    for (size_t k = 0; k + 1 < ladder.size(); ++k) {
      double gap = std::abs(ladder[k][r].value - ladder[k + 1][r].value);
      if (gap < best.spread) best = {ladder[k][r].value, ladder[k][r].step, gap};
    }
    if (std::isinf(best.spread))  // no two finite estimates agree: the first finite one, if any
      for (const auto& rung : ladder)
        if (std::isfinite(rung[r].value)) {
          best = rung[r];
          break;
        }
  }
  return out;
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

// The outputs compared at some arguments: the function's value (a gradient
// check), or every element of its gradient (a Hessian check).
using Eval = std::function<std::vector<double>(const std::vector<Value>&)>;

// The derivatives to compare for output r and element j of the argument, and
// the index that names entry (r, j).
struct Expected {
  std::function<double(size_t r, int64_t j)> analytic;
  std::function<std::vector<int64_t>(size_t r, int64_t j)> index;
};

// Every element j of argument `slot` (a scalar is element 0), perturbed in a
// private copy: one ladder of evaluations per element, compared with
// expected.analytic(r, j) for every output r.
void checkArgument(const Eval& f, std::vector<Value> args, size_t slot, const std::string& name,
                   const Expected& expected, double tol, GradCheckResult& res) {
  bool array = args[slot].kind() == Value::Kind::Tensor;
  Tensor work;
  int64_t j = 0, n = 1;
  Probe p;
  double rms = 0;
  if (array) {
    const Tensor& x = args[slot].tensor();
    work = Tensor(x.dtype(), x.shape());
    if (x.numel() > 0) std::memcpy(work.data(), x.data(), size_t(x.numel()) * elementBytes(x.dtype()));
    args[slot] = Value(work);  // shares work's buffer: edits below are seen by the calls
    rms = rootMeanSquare(work);
    n = x.numel();
    p.single = x.dtype() == DType::F32;
    p.set = [&](double v) {
      if (p.single) work.data<float>()[j] = float(v);
      else work.data<double>()[j] = v;
      return work.at(j);
    };
  } else {
    p.single = args[slot].kind() == Value::Kind::F32;
    p.set = [&](double v) {
      args[slot] = p.single ? Value(float(v)) : Value(v);
      return args[slot].asDouble();
    };
  }
  p.eval = [&] { return f(args); };
  DType dtype = p.single ? DType::F32 : DType::F64;
  for (; j < n; ++j) {
    double x0 = array ? work.at(j) : args[slot].asDouble();
    std::vector<Estimate> d = numericDerivatives(p, x0, array ? std::max(std::abs(x0), rms) : std::abs(x0));
    for (size_t r = 0; r < d.size(); ++r) account(res, name, dtype, expected.index(r, j), expected.analytic(r, j), d[r], tol);
  }
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
  Eval value = [&](const std::vector<Value>& a) { return std::vector<double>{f(a).asDouble()}; };

  GradCheckResult res;
  for (size_t k = 0; k < idx.size(); ++k) {
    const Value& x = args.at(idx[k]);
    const Value& gk = grads.at(k);
    if (x.kind() == Value::Kind::Tensor && (gk.kind() != Value::Kind::Tensor || gk.tensor().numel() != x.tensor().numel()))
      throw std::runtime_error("checkGradient: the gradient of an array parameter is not an array of its shape");
    double tol = toleranceFor(f.paramTypes().at(idx[k]).dtype, tolerance, res);
    std::vector<int64_t> shape = x.kind() == Value::Kind::Tensor ? x.tensor().shape() : std::vector<int64_t>{};
    Expected e{[&](size_t, int64_t j) { return elementOf(gk, j); },
               [&](size_t, int64_t j) { return shape.empty() ? std::vector<int64_t>{} : multiIndex(shape, j); }};
    checkArgument(value, args, size_t(idx[k]), f.paramNames().at(idx[k]), e, tol, res);
  }
  res.ok = res.failures == 0;
  return res;
}

// Column j of the Hessian is the derivative of the gradient with respect to
// element j: one ladder of gradient evaluations per element, the same steps
// and tolerances as checkGradient, entry (i, j) reported at index (i..., j...).
GradCheckResult checkHessian(const Module& m, const std::string& fn, const std::string& wrt,
                             const std::vector<Value>& args, double tolerance) {
  std::vector<std::string> wrtList = wrt.empty() ? std::vector<std::string>{} : std::vector<std::string>{wrt};
  Function g = m.gradient(fn, wrtList, false);
  Function h = m.hessian(fn, wrt);
  int p = resolveWrt(m.impl_->decl(fn), wrtList)[0];
  const Value& x = args.at(size_t(p));
  int64_t n = x.kind() == Value::Kind::Tensor ? x.tensor().numel() : 1;
  std::vector<int64_t> shape = x.kind() == Value::Kind::Tensor ? x.tensor().shape() : std::vector<int64_t>{};
  Value H = h(args);
  GradCheckResult res;
  double tol = toleranceFor(g.paramTypes().at(size_t(p)).dtype, tolerance, res);
  Eval gradient = [&](const std::vector<Value>& a) {
    Value gv = g(a);
    std::vector<double> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[size_t(i)] = elementOf(gv, i);
    return out;
  };
  Expected e{[&](size_t i, int64_t j) { return elementOf(H, int64_t(i) * n + j); },
             [&](size_t i, int64_t j) {
               if (shape.empty()) return std::vector<int64_t>{};
               std::vector<int64_t> index = multiIndex(shape, int64_t(i));
               for (int64_t k : multiIndex(shape, j)) index.push_back(k);
               return index;
             }};
  checkArgument(gradient, args, size_t(p), g.paramNames().at(size_t(p)), e, tol, res);
  res.ok = res.failures == 0;
  return res;
}

}  // namespace chain
