// Reverse mode over gradients (issue 12): the gradient of a function whose
// body calls grad, value_and_grad or hvp, and grad(grad(f)) through the API,
// reverse the inner derivative by its symmetric rule (one forward sweep over
// a gradient, passes/DerivativesGradCall.cpp) instead of numel(p) forward
// sweeps. Checked against analytic values, finite differences
// (checkGradient, checkHessian), the interpreter, and by cost: the gradient
// of sum(grad(f)(x)^2) for x: f64[1000] costs a small constant times grad(f).
#include <catch2/catch.hpp>

#include <chain/chain.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "runtime_tensor_util.h"
#include "runtime_timing_util.h"

using chain::DType;
using chain::Tensor;
using chain::Value;
using chain_test::bestUs;
using chain_test::flat;
using chain_test::randomTensor;

namespace {

const char* kSource = R"(
fn f(x: f64[n], y: f64) -> f64 { sum(x * x * x) / 3.0 + y * dot(x, x) + sum(sin(x * y)) }
fn quartic(x: f64[n]) -> f64 { sum(x * x * x * x) / 12.0 }
fn cube(t: f64) -> f64 { t * t * t }
# a sequential loop: its gradient uses the tape
fn loopy(x: f64[n], y: f64) -> f64 {
    var s = 0.0
    for i in 0..n { s = s * 0.5 + sin(x[i] * y + s) * x[i] }
    s * y
}
fn sqloop(x: f64[n], y: f64) -> f64 {
    let g = grad(loopy, wrt=x)(x, y)
    sum(g * g)
}

# |grad_x f|^2: needs d2f/dx2 and d2f/dxdy
fn sqnorm(x: f64[n], y: f64) -> f64 {
    let g = grad(f, wrt=x)(x, y)
    sum(g * g)
}
# both gradients of f, through a helper
fn both(x: f64[n], y: f64) -> (f64[n], f64) { grad(f, wrt=(x, y))(x, y) }
fn mixed(x: f64[n], y: f64) -> f64 {
    let (gx, gy) = both(x, y)
    sum(gx * x) * gy
}
fn valued(x: f64[n], y: f64) -> f64 {
    let (v, g) = value_and_grad(f, wrt=x)(x, y)
    v * sum(g) + v * v
}
fn valueonly(x: f64[n], y: f64) -> f64 {
    let (v, g) = value_and_grad(f, wrt=x)(x, y)
    v * y
}
# hvp(quartic)(x, v) = x^2 v: grad_x sum(w x^2 v) = 2 w x v, grad_v = w x^2
fn curv(x: f64[n], v: f64[n], w: f64[n]) -> f64 { sum(w * hvp(quartic)(x, v)) }
fn curvf(x: f64[n], v: f64[n], y: f64) -> f64 {
    let h = hvp(f, wrt=x)(x, y, v)
    sum(h * h) * y
}
# a gradient in a loop: steps of gradient descent on f, reversed
fn descent(x: f64[n], y: f64) -> f64 {
    var z = x
    for k in 0..3 { z = z - 0.1 * grad(f, wrt=x)(z, y) }
    sum(z * z) + y * z[0]
}
# a gradient of a function that takes a gradient, inside value_and_grad:
# the adjoint of the outer call is built with the rule for the inner one
fn sqloopx(x: f64[n], y: f64) -> f64 { sum(grad(sqloop, wrt=x)(x, y) * x) }
fn nested(x: f64[n], y: f64) -> f64 {
    let (v, g) = value_and_grad(sqloopx, wrt=x)(x, y)
    sum(g * g) * v
}
fn second(t: f64) -> f64 { grad(grad(cube))(t) }
fn third(t: f64) -> f64 { grad(grad(grad(cube)))(t) }
# d2/dt2 (3 t^2) v = 6 v: hvp over a gradient, from a wrapper of grad(cube)
fn hg(t: f64, v: f64) -> f64 { hvp(grad(cube))(t, v) }
)";

void requireGradientOk(const chain::Module& m, const std::string& fn, const std::vector<Value>& args) {
  INFO(fn);
  chain::GradCheckResult r = chain::checkGradient(m, fn, {}, args, 1e-6);
  CHECK(r.ok);
  CHECK(r.maxRelError < 1e-6);
}

}  // namespace

TEST_CASE("reverse over grad: analytic values", "[ad][higher][rog]") {
  chain::Module m = chain::Jit().compile_string(kSource, "rog.chain");
  // (t^3)'' = 6t, (t^3)''' = 6, (t^3)'''' = 0, in the language and the API
  CHECK(m.function("second")({1.7}).asDouble() == Approx(10.2).epsilon(1e-15));
  CHECK(m.gradient("second")({1.7}).asDouble() == 6.0);
  CHECK(m.function("third")({1.7}).asDouble() == 6.0);
  CHECK(m.gradient("third")({1.7}).asDouble() == 0.0);
  CHECK(m.function("hg")({1.7, 0.5}).asDouble() == 3.0);
  Value dhg = m.gradient("hg", {"t", "v"})({1.7, 0.5});
  CHECK(dhg.tuple()[0].asDouble() == 0.0);
  CHECK(dhg.tuple()[1].asDouble() == 6.0);
  // curv: grad_x = 2 w x v, grad_v = w x^2, grad_w = x^2 v
  Tensor x = Tensor::fromValues(DType::F64, {3}, {0.5, -1.0, 2.0});
  Tensor v = Tensor::fromValues(DType::F64, {3}, {1.0, 2.0, -3.0});
  Tensor w = Tensor::fromValues(DType::F64, {3}, {2.0, 0.5, 1.0});
  Value g = m.gradient("curv", {"x", "v", "w"})({x, v, w});
  std::vector<double> gx = flat(g.tuple()[0]), gv = flat(g.tuple()[1]), gw = flat(g.tuple()[2]);
  for (int i = 0; i < 3; ++i) {
    CHECK(gx[i] == Approx(2 * w.at(i) * x.at(i) * v.at(i)).epsilon(1e-14));
    CHECK(gv[i] == Approx(w.at(i) * x.at(i) * x.at(i)).epsilon(1e-14));
    CHECK(gw[i] == Approx(x.at(i) * x.at(i) * v.at(i)).epsilon(1e-14));
  }
}

TEST_CASE("reverse over grad: finite differences, JIT and interpreter", "[ad][higher][rog]") {
  chain::Module m = chain::Jit().compile_string(kSource, "rog.chain");
  chain::Options io;
  io.backend = chain::Backend::Interpreter;
  chain::Module mi = chain::Jit(io).compile_string(kSource, "rog.chain");
  std::mt19937 rng(5);
  Tensor x = randomTensor({4}, rng), v = randomTensor({4}, rng);
  const std::vector<std::pair<std::string, std::vector<Value>>> cases = {
      {"sqnorm", {x, 0.7}}, {"sqloop", {x, 0.7}}, {"mixed", {x, 0.7}}, {"valued", {x, 0.7}}, {"valueonly", {x, 0.7}},
      {"curv", {x, v, randomTensor({4}, rng)}}, {"curvf", {x, v, 0.7}}, {"descent", {x, 0.7}},
      {"nested", {x, 0.7}}};
  for (auto& [fn, args] : cases) {
    requireGradientOk(m, fn, args);
    // The interpreter runs the same derived IR.
    std::vector<double> a = flat(m.gradient(fn)(args).tuple()[0]), b = flat(mi.gradient(fn)(args).tuple()[0]);
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-12));
  }
  // Second order of a function containing a gradient: the Hessian of sqnorm
  // (its gradient by the rule, then forward sweeps) against differences of
  // that gradient, and hvp over it.
  CHECK(chain::checkHessian(m, "sqnorm", "x", {x, 0.7}).ok);
  CHECK(chain::checkHessian(m, "descent", "y", {x, 0.7}).ok);
  CHECK(chain::checkHessian(m, "sqloop", "x", {x, 0.7}).ok);
  // hvp over such a gradient (forward over the rule's reverse) is H v.
  std::vector<double> H = flat(m.hessian("sqloop", "x")({x, 0.7})), hv = flat(m.hvp("sqloop", "x")({x, 0.7, v}));
  for (int i = 0; i < 4; ++i) {
    double s = 0;
    for (int j = 0; j < 4; ++j) s += H[size_t(i * 4 + j)] * v.at(j);
    CHECK(hv[size_t(i)] == Approx(s).epsilon(1e-10));
  }
}

TEST_CASE("reverse over grad: grad(grad(f)) and grad of hvp through the API", "[ad][higher][rog]") {
  chain::Module m = chain::Jit().compile_string(kSource, "rog.chain");
  std::mt19937 rng(9);
  Tensor x = randomTensor({3}, rng);
  // hessian(sqnorm) by the API equals the Jacobian of its gradient, and
  // the gradient of sqnorm equals 2 H g with H the Hessian of f, g its gradient.
  std::vector<double> H = flat(m.hessian("f", "x")({x, 0.7}));
  std::vector<double> g = flat(m.gradient("f", {"x"})({x, 0.7}));
  std::vector<double> gs = flat(m.gradient("sqnorm", {"x"})({x, 0.7}));
  for (int i = 0; i < 3; ++i) {
    double s = 0;
    for (int j = 0; j < 3; ++j) s += 2 * H[size_t(i * 3 + j)] * g[size_t(j)];
    CHECK(gs[size_t(i)] == Approx(s).epsilon(1e-12));
  }
}

// loopy's gradient reverses a loop (tape ops): before the rule, the gradient
// of sqloop took one forward sweep per element of x.
TEST_CASE("reverse over grad: the gradient of sum(grad(f)(x)^2) costs a constant times grad(f)",
          "[ad][higher][rog][perf]") {
  chain::Module m = chain::Jit().compile_string(kSource, "rog.chain");
  std::mt19937 rng(1);
  std::vector<Value> args{randomTensor({1000}, rng), 0.7};
  chain::Function gf = m.gradient("loopy", {"x"}), gh = m.gradient("sqloop", {"x"});
  gf.compile();
  gh.compile();
  double tf = bestUs(gf, args, 200), th = bestUs(gh, args, 200);
  INFO("grad(loopy): " << tf << " us, grad(sqloop): " << th << " us, ratio " << th / tf);
  // Forward sweeps per element (the old path) take about 1000x; one forward
  // sweep over the gradient takes a few times grad(f).
  CHECK(th < 30 * tf);
  Value dx = gh(args);
  CHECK(dx.tensor().numel() == 1000);
}
