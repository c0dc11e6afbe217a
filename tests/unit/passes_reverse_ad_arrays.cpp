// Reverse AD of array programs written in Chain, end to end through the
// reference interpreter: each program is parsed, checked, lowered, inlined
// and simplified, differentiated with respect to its float (array or scalar)
// parameters, and every gradient element is compared with central finite
// differences (and, where simple, with the analytic gradient).
#include <catch2/catch.hpp>

#include <cmath>

#include "frontend/Frontend.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Inline.h"
#include "passes/ReverseAD.h"
#include "passes/Simplify.h"
#include "passes_pipeline_util.h"

using namespace chain;
using ir::RtValue;
using ir::Scalar;

namespace {

using pipetest::compile;
using pipetest::Program;

std::unique_ptr<ir::Function> prepared(ir::Module& m, const std::string& name) {
  auto f = ir::cloneFunction(*m.lookup(name));
  passes::inlineCalls(m, *f);
  passes::simplify(m, *f);
  return f;
}

// The gradient of `name` w.r.t. every float parameter, flattened parameter by
// parameter (arrays row-major).
std::vector<double> gradient(ir::Module& m, const std::string& name,
                             const std::vector<RtValue>& args, double* value) {
  auto f = prepared(m, name);
  std::vector<int> wrt;
  for (size_t i = 0; i < f->numParams(); ++i)
    if (f->param(i)->type.isFloat()) wrt.push_back(int(i));
  auto g = passes::reverseAD(*f, wrt, true, name + ".grad");
  auto errs = ir::verifyFunction(*g);
  INFO((errs.empty() ? "" : errs[0]) << "\n" << ir::printFunction(*g));
  REQUIRE(errs.empty());
  passes::simplify(m, *g);
  REQUIRE(ir::verifyFunction(*g).empty());
  std::vector<RtValue> r = ir::interpret(m, *g, args);
  *value = r.at(0).f;
  std::vector<double> out;
  for (size_t k = 1; k < r.size(); ++k)
    for (double v : r[k].values()) out.push_back(v);
  return out;
}

std::vector<double> finiteDiff(ir::Module& m, const std::string& name, std::vector<RtValue> args) {
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

// Checks the value and every gradient element against finite differences.
void checkGrad(const std::string& src, const std::string& name, const std::vector<RtValue>& args,
               const std::vector<double>& analytic = {}) {
  Program p = compile(src);
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
  if (!analytic.empty()) {
    REQUIRE(analytic.size() == g.size());
    for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(analytic[i]).epsilon(1e-12));
  }
}

RtValue vec(std::vector<double> v) {
  int64_t n = static_cast<int64_t>(v.size());
  return RtValue::array(Scalar::F64, {n}, v);
}
RtValue mat(int64_t r, int64_t c, std::vector<double> v) {
  return RtValue::array(Scalar::F64, {r, c}, v);
}

}  // namespace

TEST_CASE("reverse AD arrays: sum of squares and dot products", "[ad][arrays]") {
  checkGrad("fn f(x: f64[n]) -> f64 { sum(x * x) }\n", "f", {vec({1, -2, 3})}, {2, -4, 6});
  checkGrad("fn f(x: f64[n], y: f64[n]) -> f64 { dot(x, y) }\n", "f", {vec({1, 2}), vec({3, 4})},
            {3, 4, 1, 2});
  checkGrad("fn f(x: f64[n], y: f64[n]) -> f64 { sum(x[i] * y[i] for i in 0..n) }\n", "f",
            {vec({1, 2}), vec({3, 4})}, {3, 4, 1, 2});
}

TEST_CASE("reverse AD arrays: least squares, softmax cross-entropy, MLP", "[ad][arrays]") {
  checkGrad("fn loss(X: f64[n, d], w: f64[d], y: f64[n]) -> f64 { 0.5 * sum((X @ w - y) ** 2.0) }\n",
            "loss", {mat(3, 2, {1, 2, 3, 4, 5, 6}), vec({0.5, -0.25}), vec({1, 0, -1})});
  checkGrad(R"(fn xent(W: f64[k, d], X: f64[n, d], labels: i64[n]) -> f64 {
  let logits = X @ transpose(W)
  sum(logsumexp(logits[i, c] for c in 0..k) - logits[i, labels[i]] for i in 0..n) / f64(n)
}
)",
            "xent",
            {mat(3, 2, {0.1, 0.2, -0.3, 0.4, 0.5, -0.6}), mat(2, 2, {1, 2, -1, 0.5}),
             RtValue::arrayI({2}, {2, 0})});
  checkGrad(R"(fn mlp(X: f64[n, d], W: f64[d, h], b: f64[h], v: f64[h]) -> f64 {
  sum(relu(X @ W + b) @ v)
}
)",
            "mlp",
            {mat(2, 2, {1, 2, -1, 0.5}), mat(2, 3, {0.3, -0.2, 0.1, 0.4, 0.25, -0.5}),
             vec({0.15, 0.2, -0.05}), vec({1, -1, 2})});  // no pre-activation at 0
}

TEST_CASE("reverse AD arrays: element updates in loops, slices, broadcasting", "[ad][arrays]") {
  checkGrad(R"(fn f(x: f64[n]) -> f64 {
  var out = zeros(n)
  var acc = 0.0
  for i in 0..n {
    acc = acc * 0.5 + x[i]
    out[i] = acc * acc
  }
  sum(out)
}
)",
            "f", {vec({1, 2, 3})});
  checkGrad("fn f(A: f64[n, d], b: f64[d]) -> f64 { sum(exp(A[:, 0..2] + b[0..2]) * A[1]) }\n",
            "f", {mat(2, 2, {0.1, 0.2, 0.3, 0.4}), vec({0.5, -0.5})});
  checkGrad("fn f(x: f64[n], y: f64[m]) -> f64 { sum(x * y) + mean(x) * max(y) }\n", "f",
            {vec({1, 2, 3}), vec({0.5})});
  checkGrad(R"(fn f(x: f64[n]) -> f64 {
  var y = x
  while sum(y * y) > 1.0 {
    y = y * 0.5
  }
  let z = [y[i] * f64(i + 1) for i in 0..n]
  sum(z) + logsumexp(z)
}
)",
            "f", {vec({1, 2, 3})});
}
