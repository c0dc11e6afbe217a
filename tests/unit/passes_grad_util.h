// Test helper for the reverse-AD unit tests: differentiates a Chain function
// (inline + simplify, reverse AD, simplify, each step verified), runs the
// gradient under the reference interpreter, and compares every element with
// central finite differences and, when given, with analytic values.
#pragma once

#include <algorithm>
#include <cmath>

#include "passes/Inline.h"
#include "passes/ReverseAD.h"
#include "passes/Simplify.h"
#include "passes_pipeline_util.h"

namespace gradtest {

using namespace chain;
using ir::RtValue;

// Function `name` inlined and simplified (what reverse AD receives).
inline std::unique_ptr<ir::Function> prepared(ir::Module& m, const std::string& name) {
  auto f = ir::cloneFunction(*m.lookup(name));
  passes::inlineCalls(m, *f);
  passes::simplify(m, *f);
  return f;
}

inline std::vector<int> floatParams(const ir::Function& f) {
  std::vector<int> wrt;
  for (size_t i = 0; i < f.numParams(); ++i)
    if (f.param(i)->type.isFloat()) wrt.push_back(int(i));
  return wrt;
}

// The gradient function of `name` w.r.t. `wrt` (every float parameter when
// empty), verified, then simplified and verified again.
inline std::unique_ptr<ir::Function> gradFn(ir::Module& m, const std::string& name, std::vector<int> wrt = {}) {
  auto f = prepared(m, name);
  if (wrt.empty()) wrt = floatParams(*f);
  auto g = passes::reverseAD(*f, wrt, true, name + ".grad");
  auto errs = ir::verifyFunction(*g);
  INFO((errs.empty() ? "" : errs[0]) << "\n" << ir::printFunction(*g));
  REQUIRE(errs.empty());
  passes::simplify(m, *g);
  REQUIRE(ir::verifyFunction(*g).empty());
  return g;
}

// The gradient w.r.t. every float parameter, flattened parameter by parameter
// (arrays row-major); the value in *value.
inline std::vector<double> gradient(ir::Module& m, const std::string& name, const std::vector<RtValue>& args,
                                    double* value) {
  auto g = gradFn(m, name);
  std::vector<RtValue> r = ir::interpret(m, *g, args);
  *value = r.at(0).f;
  std::vector<double> out;
  for (size_t k = 1; k < r.size(); ++k)
    for (double v : r[k].values()) out.push_back(v);
  return out;
}

// Central finite differences of `name` at `args`, in gradient()'s order.
inline std::vector<double> finiteDiff(ir::Module& m, const std::string& name, std::vector<RtValue> args) {
  auto f = prepared(m, name);
  auto eval = [&] { return ir::interpret(m, *f, args).at(0).f; };
  std::vector<double> out;
  for (RtValue& a : args) {
    if (!a.type.isFloat()) continue;
    if (!a.isArray()) {
      double x = a.f, h = 1e-6 * std::max(1.0, std::abs(x));
      a.f = x + h;
      double fp = eval();
      a.f = x - h;
      double fm = eval();
      a.f = x;
      out.push_back((fp - fm) / (2 * h));
      continue;
    }
    RtValue orig = a;
    for (size_t i = 0; i < orig.size(); ++i) {
      double x = orig.values()[i], h = 1e-6 * std::max(1.0, std::abs(x));
      a = orig.deepCopy();
      a.set(i, RtValue::f64(x + h));
      double fp = eval();
      a = orig.deepCopy();
      a.set(i, RtValue::f64(x - h));
      double fm = eval();
      out.push_back((fp - fm) / (2 * h));
    }
    a = orig;
  }
  return out;
}

// Checks the value, every gradient element against finite differences and,
// when `analytic` is given, against it (relative `eps`, absolute `margin`).
inline void checkGrad(const std::string& src, const std::string& name, const std::vector<RtValue>& args,
                      const std::vector<double>& analytic = {}, double eps = 1e-12, double margin = 0.0) {
  pipetest::Program p = pipetest::compile(src);
  double value = 0;
  std::vector<double> g = gradient(*p.m, name, args, &value);
  std::vector<double> fd = finiteDiff(*p.m, name, args);
  auto f = prepared(*p.m, name);
  CHECK(value == Approx(ir::interpret(*p.m, *f, args).at(0).f).epsilon(1e-12));
  REQUIRE(g.size() == fd.size());
  for (size_t i = 0; i < g.size(); ++i) {
    INFO(name << " gradient element " << i);
    CHECK(g[i] == Approx(fd[i]).epsilon(1e-5).margin(1e-6));
  }
  if (analytic.empty()) return;
  REQUIRE(analytic.size() == g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    INFO(name << " gradient element " << i);
    CHECK(g[i] == Approx(analytic[i]).epsilon(eps).margin(margin));
  }
}

}  // namespace gradtest
