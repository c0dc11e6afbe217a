// Differential checking of one generated program (see ProgramGenerator.h):
// the JIT (public API, -O2 and -O0) against the reference interpreter on the
// lowered IR, the JIT gradient against the interpreter running the reverse-AD
// output, and the JIT gradient against central finite differences.
//
//   primal:   JIT -O2 == JIT -O0 == ir::interpret(lowered module)   (rel 1e-12,
//             or the same runtime error message)
//   gradient: JIT value_and_grad == ir::interpret(pipeline::buildGradient)
//   FD:       gradient == central differences (Richardson-extrapolated) to
//             ~1e-5, skipping points where the steps h and 2h disagree (a kink
//             or jump nearby) and programs that use stop_gradient.
//   Hessian:  on the programs asked for (DiffOptions::checkHessian), with
//             respect to one float parameter of the entry function, at the
//             first point: hvp(f)(x, v) == hessian(f)(x) v (rel 1e-9), JIT
//             and interpreter alike and equal; and chain::checkHessian (finite
//             differences of the gradient) to 1e-5, skipping a point where
//             the gradient's central differences with steps h and 2h disagree
//             (a kink of the gradient) and programs that use stop_gradient.
//
// A dead operation that fails (an unused `1 / 0`) raises an error in the
// interpreter on the lowered IR while the optimised code has dropped it; such
// points are compared against the interpreted optimised primal instead and
// counted in DiffStats::deadTraps.
//
// Used by tests/unit/runtime_random_programs.cpp (the fixed-seed run in the
// default suite and the longer campaign of scripts/random-programs.sh).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "chain/chain.h"
#include "ir/Interpreter.h"
#include "runtime/Pipeline.h"
#include "tests/random/ProgramGenerator.h"

namespace chain::testgen {

struct DiffStats {
  int programs = 0, points = 0, runtimeErrors = 0, gradChecked = 0, fdChecked = 0, fdSkipped = 0,
      nonFinite = 0, deadTraps = 0, hessChecked = 0, hessSkipped = 0, hvpChecked = 0;
  void add(const DiffStats& o) {
    programs += o.programs, points += o.points, runtimeErrors += o.runtimeErrors, gradChecked += o.gradChecked;
    fdChecked += o.fdChecked, fdSkipped += o.fdSkipped, nonFinite += o.nonFinite, deadTraps += o.deadTraps;
    hessChecked += o.hessChecked, hessSkipped += o.hessSkipped, hvpChecked += o.hvpChecked;
  }
};

struct DiffOptions {
  bool checkPrimal = true;  // also compile the primal alone at -O2 (else only value_and_grad)
  bool checkO0 = true;      // also compile the primal at -O0
  double primalTol = 1e-12;
  double fdTol = 1e-5;
  int points = 3;  // argument points per program
  bool checkHessian = false;  // the Hessian and hvp of one float parameter (first point)
  double hessTol = 1e-5, hvpTol = 1e-9;
};

namespace detail {

inline bool close(double a, double b, double tol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::abs(a - b) <= tol * std::max({1.0, std::abs(a), std::abs(b)});
}

inline std::string fmt(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// "rand.chain:3:7: message" and "3:7: message" name the same error.
inline std::string normaliseError(std::string msg, const std::string& file) {
  if (msg.rfind(file + ":", 0) == 0) msg = msg.substr(file.size() + 1);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

inline void flatten(const Value& v, std::vector<double>& out) {
  switch (v.kind()) {
    case Value::Kind::Tensor:
      for (int64_t k = 0; k < v.tensor().numel(); ++k) out.push_back(v.tensor().at(k));
      return;
    case Value::Kind::Tuple:
      for (auto& e : v.tuple()) flatten(e, out);
      return;
    default: out.push_back(v.asDouble()); return;
  }
}

inline std::vector<double> flatten(const std::vector<ir::RtValue>& rs) {
  std::vector<double> out;
  for (auto& r : rs) {
    std::vector<double> vs = r.values();
    out.insert(out.end(), vs.begin(), vs.end());
  }
  return out;
}

// One argument point: f64 uniform in [-2, 2], i64 in 0..4, arrays of size n.
struct Point {
  std::vector<Value> api;
  std::vector<ir::RtValue> ir;
  std::string text;
};

inline Point makePoint(const Program& p, Rng& rng) {
  Point pt;
  int64_t n = rng.range(1, 4);
  std::ostringstream os;
  os.precision(17);
  os << "{";
  for (size_t k = 0; k < p.params.size(); ++k) {
    const ParamSpec& s = p.params[k];
    os << (k ? ", " : "") << "\"" << s.name << "\": ";
    if (s.kind == 'f') {
      double x = -2.0 + 4.0 * rng.unit();
      pt.api.push_back(Value(x));
      pt.ir.push_back(ir::RtValue::f64(x));
      os << x;
    } else if (s.kind == 'i') {
      int64_t i = rng.range(0, 4);
      pt.api.push_back(Value(i));
      pt.ir.push_back(ir::RtValue::i64(i));
      os << i;
    } else {
      std::vector<double> xs;
      for (int64_t j = 0; j < n; ++j) xs.push_back(-2.0 + 4.0 * rng.unit());
      pt.api.push_back(Value(Tensor::fromValues(DType::F64, {n}, xs)));
      pt.ir.push_back(ir::RtValue::array(ir::Scalar::F64, {n}, xs));
      os << "[";
      for (size_t j = 0; j < xs.size(); ++j) os << (j ? ", " : "") << xs[j];
      os << "]";
    }
  }
  os << "}";
  pt.text = os.str();
  return pt;
}

// The float inputs of a point as addressable doubles (scalars and elements).
struct FloatSlot {
  size_t param;
  int64_t elem;  // -1 for a scalar
};

inline std::vector<FloatSlot> floatSlots(const Program& p, const Point& pt) {
  std::vector<FloatSlot> s;
  for (size_t k = 0; k < p.params.size(); ++k) {
    if (p.params[k].kind == 'f') s.push_back({k, -1});
    if (p.params[k].kind == 'a')
      for (int64_t j = 0; j < pt.api[k].tensor().numel(); ++j) s.push_back({k, j});
  }
  return s;
}

inline std::vector<Value> withSlot(const std::vector<Value>& args, const FloatSlot& s, double v) {
  std::vector<Value> a = args;
  if (s.elem < 0) {
    a[s.param] = Value(v);
  } else {
    const Tensor& t = args[s.param].tensor();
    std::vector<double> xs;
    for (int64_t j = 0; j < t.numel(); ++j) xs.push_back(t.at(j));
    xs[size_t(s.elem)] = v;
    a[s.param] = Value(Tensor::fromValues(DType::F64, t.shape(), xs));
  }
  return a;
}

// Central differences from f(x + h), f(x - h), f(x + 2h), f(x - 2h): smooth
// when the steps h and 2h agree (no kink or jump within 2h); fd is their
// Richardson extrapolation, noise the rounding error to allow for.
struct Central {
  double d1, d2, fd, noise;
  bool smooth;
  Central(const double fv[4], double h) {
    d1 = (fv[0] - fv[1]) / (2 * h), d2 = (fv[2] - fv[3]) / (4 * h), fd = (4 * d1 - d2) / 3;
    noise = 1e3 * std::numeric_limits<double>::epsilon() *
            std::max({std::abs(fv[0]), std::abs(fv[1]), std::abs(fv[2]), std::abs(fv[3])}) / h;
    smooth = std::isfinite(d1) && std::isfinite(d2) && std::abs(d1 - d2) <= 2e-6 * std::max(1.0, std::abs(d1)) + noise;
  }
};

inline double slotValue(const std::vector<Value>& args, const FloatSlot& s) {
  return s.elem < 0 ? args[s.param].asDouble() : args[s.param].tensor().at(s.elem);
}

}  // namespace detail

// Checks one program on `opts.points` argument points drawn from its seed.
class ProgramChecker {
 public:
  ProgramChecker(const Program& p, uint64_t seed, const DiffOptions& o, DiffStats& st)
      : p_(p), seed_(seed), opts_(o), st_(st) {}

  // Empty when everything agrees, else a report: what differs (expected and
  // got), the arguments and the program.
  std::string run() {
    ++st_.programs;
    std::string r = compile();
    Rng rng(seed_ ^ 0x5EEDull);
    for (int k = 0; k < opts_.points && r.empty(); ++k) {
      detail::Point pt = detail::makePoint(p_, rng);
      ++st_.points;
      r = checkPoint(pt);
      if (!r.empty()) r += "  args: " + pt.text + "\n";
    }
    return r.empty() ? r : r + "--- program (seed " + std::to_string(seed_) + ") ---\n" + p_.source;
  }

 private:
  const std::string file_ = "rand.chain";
  const Program& p_;
  uint64_t seed_;
  DiffOptions opts_;
  DiffStats& st_;
  std::unique_ptr<pipeline::FrontendResult> fe_;
  const ir::Function* irf_ = nullptr;
  std::unique_ptr<ir::Function> gir_, pir_;  // interpreted gradient; optimised primal
  Module m2_;
  Function f2_, f0_, g2_, hess_, hvp_;  // hess_, hvp_: of parameter hessParam_ (-1: not checked)
  int hessParam_ = -1;
  bool hessDone_ = false;

  // The Hessian and hvp of one float parameter of the entry function, drawn from the seed.
  void compileHessian(uint64_t seed) {
    std::vector<int> fs;
    for (size_t k = 0; k < p_.params.size(); ++k)
      if (p_.params[k].kind != 'i') fs.push_back(int(k));
    if (fs.empty()) return;
    hessParam_ = fs[size_t((seed >> 3) % fs.size())];
    const std::string& w = p_.params[size_t(hessParam_)].name;
    hess_ = m2_.hessian(p_.entry, w);
    hess_.compile();
    hvp_ = m2_.hvp(p_.entry, w);
    hvp_.compile();
  }

  // One JIT compile of the value-and-gradient (-O2); the primal alone at -O2
  // and -O0 when asked; the frontend again for the interpreter.
  std::string compile() {
    try {
      m2_ = Jit().compile_string(p_.source, file_);
      g2_ = m2_.gradient(p_.entry, {}, true);
      g2_.compile();  // handles compile lazily: a compile error belongs here
      if (opts_.checkHessian) compileHessian(seed_);
      if (opts_.checkPrimal) {
        f2_ = m2_.function(p_.entry);
        f2_.compile();
      }
      if (opts_.checkO0) {
        Options o0;
        o0.optLevel = 0;
        f0_ = Jit(o0).compile_string(p_.source, file_).function(p_.entry);
        f0_.compile();
      }
      fe_ = pipeline::runFrontend(p_.source, file_);
    } catch (const std::exception& e) {
      return std::string("generated program does not compile: ") + e.what() + "\n";
    }
    irf_ = fe_->module->lookup(p_.entry);
    std::vector<int> wrt;
    for (size_t k = 0; k < p_.params.size(); ++k)
      if (p_.params[k].kind != 'i') wrt.push_back(int(k));
    gir_ = pipeline::buildGradient(*fe_->module, p_.entry, wrt, true);
    if (p_.usesGrad) pir_ = pipeline::buildPrimal(*fe_->module, p_.entry);  // grad calls materialised
    return irf_ ? "" : "entry function missing from the IR module\n";
  }

  // Calls `f`; returns the error message (normalised) or "" and the results.
  std::string call(const Function& f, const std::vector<Value>& args, std::vector<double>& out) const {
    out.clear();
    try {
      detail::flatten(f(args), out);
      return "";
    } catch (const RuntimeError& e) {
      return detail::normaliseError(e.what(), file_);
    }
  }
  std::string interp(const ir::Function& f, const std::vector<ir::RtValue>& args, std::vector<double>& out) const {
    out.clear();
    try {
      out = detail::flatten(ir::interpret(*fe_->module, f, args));
      return "";
    } catch (const ir::InterpError& e) {
      return detail::normaliseError(e.what(), file_);
    }
  }

  std::string checkPoint(const detail::Point& pt) {
    using detail::fmt;
    std::vector<double> gj, gi, vi, v2, v0;
    std::string eg = call(g2_, pt.api, gj), ei = interp(p_.usesGrad ? *pir_ : *irf_, pt.ir, vi);
    if (eg.empty() && !ei.empty()) {
      // The optimiser may delete a dead operation that would have failed
      // (integer division by zero): compare with the optimised primal then.
      if (!pir_) pir_ = pipeline::buildPrimal(*fe_->module, p_.entry);
      if (!interp(*pir_, pt.ir, vi).empty())
        return "runtime error differs: JIT gradient none, interpreter '" + ei + "'\n";
      ++st_.deadTraps;
      ei.clear();
    }
    if (eg != ei) return "runtime error differs: JIT gradient '" + eg + "', interpreter '" + ei + "'\n";
    if (opts_.checkPrimal) {
      std::string e2 = call(f2_, pt.api, v2);
      if (e2 != eg) return "runtime error differs: JIT primal '" + e2 + "', JIT gradient '" + eg + "'\n";
    }
    if (opts_.checkO0) {
      std::string e0 = call(f0_, pt.api, v0);
      if (e0 != eg) return "runtime error differs: JIT -O0 primal '" + e0 + "', JIT -O2 gradient '" + eg + "'\n";
    }
    if (!eg.empty()) {
      ++st_.runtimeErrors;
      return "";
    }
    double tol = opts_.primalTol;
    if (!detail::close(gj[0], vi[0], tol)) return "primal: interpreter " + fmt(vi[0]) + ", JIT value_and_grad " + fmt(gj[0]) + "\n";
    if (opts_.checkPrimal && !detail::close(v2[0], vi[0], tol)) return "primal: interpreter " + fmt(vi[0]) + ", JIT -O2 " + fmt(v2[0]) + "\n";
    if (opts_.checkO0 && !detail::close(v0[0], vi[0], tol)) return "primal: interpreter " + fmt(vi[0]) + ", JIT -O0 " + fmt(v0[0]) + "\n";
    std::string egi = interp(*gir_, pt.ir, gi);
    if (!egi.empty()) return "interpreted gradient raised: " + egi + "\n";
    if (gj.size() != gi.size()) return "gradient sizes differ\n";
    for (size_t j = 1; j < gj.size(); ++j)
      if (!detail::close(gj[j], gi[j], tol))
        return "gradient element " + std::to_string(j - 1) + ": interpreter " + fmt(gi[j]) + ", JIT " + fmt(gj[j]) + "\n";
    ++st_.gradChecked;
    if (p_.hasStopGradient) return hessianChecks(pt);
    if (!std::isfinite(gj[0])) {
      ++st_.nonFinite;
      return "";
    }
    std::string r = finiteDifferences(pt, gj);
    return r.empty() ? hessianChecks(pt) : r;
  }

  // At the first point without a runtime error: H v == hvp, JIT and
  // interpreter, then H against finite differences of the gradient.
  std::string hessianChecks(const detail::Point& pt) {
    if (hessParam_ < 0 || hessDone_) return "";
    hessDone_ = true;
    using detail::fmt;
    Rng rng(seed_ ^ 0x4E55ull);
    const Value& x = pt.api[size_t(hessParam_)];
    std::vector<double> vs;
    Value v;
    if (x.kind() == Value::Kind::Tensor) {
      for (int64_t j = 0; j < x.tensor().numel(); ++j) vs.push_back(-1.0 + 2.0 * rng.unit());
      v = Value(Tensor::fromValues(DType::F64, x.tensor().shape(), vs));
    } else {
      vs.push_back(-1.0 + 2.0 * rng.unit());
      v = Value(vs[0]);
    }
    std::vector<Value> hargs = pt.api;
    hargs.push_back(v);
    std::vector<double> H, hv, Hi, hvi;
    try {
      detail::flatten(hess_(pt.api), H);
      detail::flatten(hvp_(hargs), hv);
      detail::flatten(hess_.interpret(pt.api), Hi);
      detail::flatten(hvp_.interpret(hargs), hvi);
    } catch (const RuntimeError& e) {
      return std::string("hessian or hvp raised where the gradient did not: ") + e.what() + "\n";
    }
    size_t n = vs.size();
    if (H.size() != n * n || hv.size() != n || Hi.size() != n * n || hvi.size() != n)
      return "hessian or hvp has the wrong number of elements\n";
    for (size_t i = 0; i < n * n; ++i)
      if (!std::isfinite(H[i])) {
        ++st_.nonFinite;
        return "";
      }
    for (size_t i = 0; i < n * n; ++i)
      if (!detail::close(H[i], Hi[i], opts_.hvpTol))
        return "hessian element " + std::to_string(i) + ": interpreter " + fmt(Hi[i]) + ", JIT " + fmt(H[i]) + "\n";
    for (size_t i = 0; i < n; ++i) {
      double s = 0, scale = 1;
      for (size_t j = 0; j < n; ++j) s += H[i * n + j] * vs[j], scale += std::abs(H[i * n + j] * vs[j]);
      if (std::abs(hv[i] - s) > opts_.hvpTol * std::max(scale, std::abs(hv[i])))
        return "hvp element " + std::to_string(i) + ": JIT " + fmt(hv[i]) + ", H v " + fmt(s) + "\n";
      if (!detail::close(hvi[i], hv[i], opts_.hvpTol))
        return "hvp element " + std::to_string(i) + ": interpreter " + fmt(hvi[i]) + ", JIT " + fmt(hv[i]) + "\n";
    }
    ++st_.hvpChecked;
    if (p_.hasStopGradient) return "";
    if (!gradientSmooth(pt)) {
      ++st_.hessSkipped;
      return "";
    }
    GradCheckResult r = checkHessian(m2_, p_.entry, p_.params[size_t(hessParam_)].name, pt.api, opts_.hessTol);
    ++st_.hessChecked;
    if (r.ok) return "";
    std::string at;
    if (r.worst)
      for (int64_t k : r.worst->index) at += " " + std::to_string(k);
    return "hessian vs finite differences: " + std::to_string(r.failures) + " of " + std::to_string(r.entries) +
           " entries off" + (r.worst ? ", worst [" + at + " ]: numeric " + fmt(r.worst->numeric) + ", analytic " +
                                           fmt(r.worst->analytic) : std::string()) + "\n";
  }

  // Whether the gradient entries of the Hessian's parameter have central
  // differences with steps h and 2h that agree along each of its elements
  // (no kink or jump of the gradient nearby).
  bool gradientSmooth(const detail::Point& pt) {
    std::vector<detail::FloatSlot> slots = detail::floatSlots(p_, pt);
    for (const detail::FloatSlot& s : slots) {
      if (s.param != size_t(hessParam_)) continue;
      double x = detail::slotValue(pt.api, s), h = 1e-5 * std::max(1.0, std::abs(x));
      const double steps[4] = {h, -h, 2 * h, -2 * h};
      std::vector<double> g[4];
      for (int q = 0; q < 4; ++q)
        if (!call(g2_, detail::withSlot(pt.api, s, x + steps[q]), g[q]).empty()) return false;
      for (size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].param != size_t(hessParam_)) continue;
        double gv[4];
        for (int q = 0; q < 4; ++q) gv[q] = g[q][i + 1];
        if (!detail::Central(gv, h).smooth) return false;
      }
    }
    return true;
  }

  // Every float input (scalar or array element) against central differences
  // with steps h and 2h: skipped when they disagree (a kink or jump nearby),
  // else the Richardson extrapolation must match the gradient.
  std::string finiteDifferences(const detail::Point& pt, const std::vector<double>& gj) {
    std::vector<detail::FloatSlot> slots = detail::floatSlots(p_, pt);
    if (slots.size() + 1 != gj.size()) return "gradient has the wrong number of elements\n";
    for (size_t s = 0; s < slots.size(); ++s) {
      double x = detail::slotValue(pt.api, slots[s]), h = 1e-5 * std::max(1.0, std::abs(x));
      const double steps[4] = {h, -h, 2 * h, -2 * h};
      double fv[4];
      for (int q = 0; q < 4; ++q) {
        std::vector<double> r;
        fv[q] = call(g2_, detail::withSlot(pt.api, slots[s], x + steps[q]), r).empty() ? r[0] : NAN;
      }
      detail::Central c(fv, h);
      if (!c.smooth) {
        ++st_.fdSkipped;
        continue;
      }
      double fd = c.fd, d1 = c.d1, d2 = c.d2, noise = c.noise, g = gj[s + 1];
      ++st_.fdChecked;
      if (std::abs(g - fd) > opts_.fdTol * std::max({1.0, std::abs(g), std::abs(fd)}) + noise)
        return "gradient of input " + std::to_string(s) + ": finite differences " + detail::fmt(fd) + " (h: " +
               detail::fmt(d1) + ", 2h: " + detail::fmt(d2) + "), JIT reverse AD " + detail::fmt(g) + "\n";
    }
    return "";
  }
};

inline std::string checkProgram(const Program& p, uint64_t seed, const DiffOptions& opts, DiffStats& st) {
  return ProgramChecker(p, seed, opts, st).run();
}

}  // namespace chain::testgen
