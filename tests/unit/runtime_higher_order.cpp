// Forward mode and higher-order derivatives through the API (Module::jvp,
// vjp, jacobian, hessian, hvp), each checked against central finite
// differences of the level below (jvp and jacobian against the function,
// hessian against the gradient), against each other (hvp = H v, vjp = J^T dy,
// jvp = J v), against analytic values, and JIT against the interpreter.
#include <catch2/catch.hpp>

#include <chain/chain.h>

#include <cmath>
#include <random>

#include "runtime_tensor_util.h"

using chain::DType;
using chain_test::randomTensor;
using chain::Tensor;
using chain::Value;

namespace {

Tensor copyOf(const Tensor& t) {
  Tensor c(t.dtype(), t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) c.data<double>()[i] = t.at(i);
  return c;
}

// x + h * e_j (or + h * v when v is given).
Tensor shifted(const Tensor& x, double h, int64_t j, const Tensor* v = nullptr) {
  Tensor c = copyOf(x);
  if (v)
    for (int64_t i = 0; i < c.numel(); ++i) c.data<double>()[i] += h * v->at(i);
  else
    c.data<double>()[j] += h;
  return c;
}

std::vector<double> flat(const Value& v) {
  if (v.kind() != Value::Kind::Tensor) return {v.asDouble()};
  std::vector<double> out;
  for (int64_t i = 0; i < v.tensor().numel(); ++i) out.push_back(v.tensor().at(i));
  return out;
}

void near(double a, double b, double tol, const std::string& what) {
  INFO(what << ": " << a << " vs " << b);
  CHECK(std::abs(a - b) <= tol * std::max(1.0, std::abs(b)));
}

struct Model {
  chain::Module m;
  std::vector<Value> args;  // x first
  const Tensor& x() const { return args[0].tensor(); }
  std::vector<Value> with(Tensor x) const {
    std::vector<Value> a = args;
    a[0] = x;
    return a;
  }
};

// Checks every first and second derivative of scalar f w.r.t. its array x.
void checkScalarModel(const std::string& src, std::vector<Value> args, std::mt19937& rng) {
  INFO(src);
  Model md{chain::Jit().compile_string(src, "test.chain"), args};
  const std::string f = "f";
  const Tensor& x = md.x();
  int64_t n = x.numel();
  chain::Function prim = md.m.function(f), grad = md.m.gradient(f, {"x"});
  Tensor v = randomTensor(x.shape(), rng);
  const double h = 1e-5;
  // jvp: the tangent along v is the directional derivative (central differences).
  std::vector<Value> jargs = args;
  jargs.push_back(v);
  Value jv = md.m.jvp(f, {"x"})(jargs);
  double fd = (prim(md.with(shifted(x, h, 0, &v))).asDouble() - prim(md.with(shifted(x, -h, 0, &v))).asDouble()) / (2 * h);
  near(jv.tuple()[0].asDouble(), prim(args).asDouble(), 1e-12, "jvp value");
  near(jv.tuple()[1].asDouble(), fd, 1e-6, "jvp tangent vs finite differences");
  // vjp with cotangent 1 is the gradient.
  std::vector<Value> vargs = args;
  vargs.push_back(Value(1.0));
  std::vector<double> g = flat(grad(args)), gv = flat(md.m.vjp(f, {"x"})(vargs));
  for (int64_t i = 0; i < n; ++i) near(gv[i], g[i], 1e-12, "vjp(f)(x, 1) vs grad");
  // hessian: columns are central differences of the gradient; symmetric.
  std::vector<double> H = flat(md.m.hessian(f, "x")(args));
  REQUIRE(int64_t(H.size()) == n * n);
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double> gp = flat(grad(md.with(shifted(x, h, j)))), gm = flat(grad(md.with(shifted(x, -h, j))));
    for (int64_t i = 0; i < n; ++i) {
      near(H[i * n + j], (gp[i] - gm[i]) / (2 * h), 1e-5, "hessian vs finite differences of the gradient");
      near(H[i * n + j], H[j * n + i], 1e-10, "hessian symmetry");
    }
  }
  // hvp = H v, and the value/gradient/hessian form agrees.
  std::vector<Value> hargs = args;
  hargs.push_back(v);
  std::vector<double> hv = flat(md.m.hvp(f, "x")(hargs));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < n; ++j) s += H[i * n + j] * v.at(j);
    near(hv[i], s, 1e-9, "hvp vs H v");
  }
  Value vgh = md.m.hessian(f, "x", true)(args);
  near(vgh.tuple()[0].asDouble(), prim(args).asDouble(), 1e-12, "value of (value, grad, hessian)");
  std::vector<double> g2 = flat(vgh.tuple()[1]), H2 = flat(vgh.tuple()[2]);
  for (int64_t i = 0; i < n; ++i) near(g2[i], g[i], 1e-12, "grad of (value, grad, hessian)");
  for (int64_t i = 0; i < n * n; ++i) near(H2[i], H[i], 1e-12, "hessian of (value, grad, hessian)");
  // The interpreter runs the same IR.
  chain::Options io;
  io.backend = chain::Backend::Interpreter;
  chain::Module mi = chain::Jit(io).compile_string(src, "test.chain");
  std::vector<double> Hi = flat(mi.hessian(f, "x")(args)), hvi = flat(mi.hvp(f, "x")(hargs));
  for (int64_t i = 0; i < n * n; ++i) near(Hi[i], H[i], 1e-9, "interpreter hessian");
  for (int64_t i = 0; i < n; ++i) near(hvi[i], hv[i], 1e-9, "interpreter hvp");
}

}  // namespace

TEST_CASE("higher order: jvp, vjp, hessian, hvp of scalar array models", "[ad][higher]") {
  std::mt19937 rng(7);
  Tensor x = randomTensor({5}, rng), y = randomTensor({5}, rng);
  const char* bodies[] = {
      "sum(x * y)",  // linear: zero Hessian
      "sum(x * x * y) + sum(exp(x))",
      "prod(x + 2.0)",
      "max(x * y) + min(x * x)",
      "logsumexp(x * 3.0) + mean(x * x)",
      "sum([x[i] * y[(i + 1) % n] * x[(i + 2) % n] for i in 0..n])",
      "sum(x[i] * x[j] * y[i] for i in 0..n, j in 0..i)",
      "sum(sigmoid(x) * tanh(x * y) + softplus(x * y))",
      "sum(sqrt(x * x + 1.0) + pow(x * x + 1.0, y) + atan2(x, y + 2.0))",
      "sum(x[1..4] * x[0..3]) + dot(x, x) * dot(x, y)",
      "if x[0] > 0.0 { sum(x * x * x) } else { sum(y * x * x) }",
      "let z = [x[i] / (1.0 + y[i] * y[i]) for i in 0..n]\n sum(z * z) * sum(log1p(z * z))",
  };
  for (const char* body : bodies)
    checkScalarModel(std::string("fn f(x: f64[n], y: f64[n]) -> f64 {\n ") + body + "\n}", {x, y}, rng);
}

TEST_CASE("higher order: through for, while and element updates", "[ad][higher]") {
  std::mt19937 rng(11);
  Tensor x = randomTensor({4}, rng, 0.2, 1.0), y = randomTensor({4}, rng);
  const char* bodies[] = {
      "var s = 0.0\n for i in 0..n { s = s * 0.5 + x[i] * x[i] * y[i] + sin(s) }\n s",
      "var z = zeros(n)\n for i in 0..n { z[i] = x[i] * y[i] + x[(i + 1) % n] }\n sum(z * z * z)",
      "var s = sum(x * x)\n var k = 0\n while s < 50.0 and k < 100 { s = s * 1.7 + x[0]; k += 1 }\n s",
      "var p = x\n for t in 0..3 { p = [p[i] * p[(i + 1) % n] + y[i] for i in 0..n] }\n sum(p)",
      "var s = 0.0\n for i in 0..n { if x[i] > 0.5 { s += x[i] * x[i] } else { s -= exp(x[i]) } }\n s * s",
  };
  for (const char* body : bodies)
    checkScalarModel(std::string("fn f(x: f64[n], y: f64[n]) -> f64 {\n ") + body + "\n}", {x, y}, rng);
}

TEST_CASE("higher order: matrix products and matrix parameters", "[ad][higher]") {
  std::mt19937 rng(3);
  Tensor W = randomTensor({3, 2}, rng), A = randomTensor({4, 3}, rng), b = randomTensor({2}, rng);
  checkScalarModel("fn f(x: f64[k, m], A: f64[n, k], b: f64[m]) -> f64 {\n"
                   " let z = tanh(A @ x + b)\n sum(z * z) + sum(transpose(x) @ x)\n}",
                   {W, A, b}, rng);
}

TEST_CASE("higher order: exact values", "[ad][higher]") {
  chain::Module m = chain::Jit().compile_string(R"(
fn f(x: f64, y: f64) -> f64 { x * x * y + sin(x * y) }
fn p(x: f64[n]) -> f64 { prod(x) }
fn g(x: f64[n]) -> f64[n] { [x[i] * x[(i + 1) % n] for i in 0..n] }
fn loop(x: f64) -> f64 {
    var y = x
    while y < 100.0 { y = y * y + 1.0 }
    y
}
)", "exact.chain");
  // d/dx (x^2 y + sin(xy)) = 2xy + y cos(xy); d2/dx2 = 2y - y^2 sin(xy)
  Value j = m.jvp("f", {"x"})({1.5, 2.0, 1.0});
  CHECK(j.tuple()[1].asDouble() == Approx(6.0 + 2.0 * std::cos(3.0)).epsilon(1e-14));
  CHECK(m.hessian("f", "x")({1.5, 2.0}).asDouble() == Approx(4.0 - 4.0 * std::sin(3.0)).epsilon(1e-14));
  CHECK(m.hessian("f", "y")({1.5, 2.0}).asDouble() == Approx(-2.25 * std::sin(3.0)).epsilon(1e-14));
  // prod with one zero factor: d/dx_i = product of the others; two zeros: 0
  Tensor x1 = Tensor::fromValues(DType::F64, {3}, {2.0, 0.0, 3.0});
  Value jp = m.jvp("p")({x1, Tensor::fromValues(DType::F64, {3}, {1.0, 1.0, 1.0})});
  CHECK(jp.tuple()[1].asDouble() == 6.0);
  Tensor x2 = Tensor::fromValues(DType::F64, {3}, {0.0, 0.0, 3.0});
  CHECK(m.jvp("p")({x2, Tensor::fromValues(DType::F64, {3}, {1.0, 1.0, 1.0})}).tuple()[1].asDouble() == 0.0);
  // y_{k+1} = y_k^2 + 1 from 1.5 for three trips: dy/dx = prod 2 y_k
  CHECK(m.jvp("loop")({1.5, 1.0}).tuple()[1].asDouble() == Approx(3.0 * 6.5 * 23.125).epsilon(1e-14));
  // Jacobian of g_i = x_i x_{i+1}; vjp = J^T dy; jvp = J v
  Tensor x = Tensor::fromValues(DType::F64, {3}, {0.5, -1.0, 2.0});
  CHECK(flat(m.jacobian("g")({x})) == std::vector<double>{-1.0, 0.5, 0.0, 0.0, 2.0, -1.0, 2.0, 0.0, 0.5});
  Tensor dy = Tensor::fromValues(DType::F64, {3}, {1.0, 2.0, 3.0});
  CHECK(flat(m.vjp("g")({x, dy})) == std::vector<double>{5.0, 4.5, -0.5});
  CHECK(flat(m.jvp("g")({x, dy}).tuple()[1]) == std::vector<double>{-1.0 + 1.0, 4.0 - 3.0, 2.0 + 1.5});
  Value vj = m.jacobian("g", "", true)({x});
  CHECK(flat(vj.tuple()[0]) == std::vector<double>{-0.5, -2.0, 1.0});
}

TEST_CASE("higher order: jvp with respect to parameters of different types", "[ad][higher]") {
  chain::Module m = chain::Jit().compile_string("fn f(x: f64[n], y: f64) -> f64 { sum(x * x) * y }", "j.chain");
  chain::Function j = m.jvp("f", {"x", "y"});
  REQUIRE(j.paramTypes().size() == 4);
  CHECK(j.paramNames()[2] == "dx");
  CHECK(j.paramTypes()[2].str() == "f64[n]");
  CHECK(j.paramNames()[3] == "dy");
  CHECK(j.paramTypes()[3].str() == "f64");
  // d(sum(x^2) y) = 2 y x.dx + sum(x^2) dy = 2*3*(1*1 + 2*0) + 5*0.5
  Tensor x = Tensor::fromValues(DType::F64, {2}, {1.0, 2.0}), dx = Tensor::fromValues(DType::F64, {2}, {1.0, 0.0});
  CHECK(j({x, 3.0, dx, 0.5}).tuple()[1].asDouble() == Approx(6.0 + 2.5).epsilon(1e-14));
}

TEST_CASE("higher order: bad requests are compile errors naming the function", "[ad][higher]") {
  chain::Module m = chain::Jit().compile_string(R"(
fn v(x: f64[n]) -> f64[n] { x * x }
fn k(x: f64, n: i64) -> f64 { x * f64(n) }
fn c(x: f64) -> i64 { i64(x) }
)", "bad.chain");
  CHECK_THROWS_WITH(m.hessian("v"), Catch::Contains("cannot differentiate 'v': its result is not a scalar float"));
  CHECK_THROWS_WITH(m.hvp("v"), Catch::Contains("cannot differentiate 'v'"));
  CHECK_THROWS_WITH(m.jacobian("k", "n"), Catch::Contains("'n' is i64, not a float"));
  CHECK_THROWS_WITH(m.jvp("c"), Catch::Contains("cannot differentiate 'c': its results are not all floats"));
  CHECK_THROWS_AS(m.jacobian("c"), chain::CompileError);
}

TEST_CASE("higher order: checkHessian passes right Hessians and names a wrong entry", "[ad][higher]") {
  chain::Module m = chain::Jit().compile_string(R"(
fn f(x: f64[n], y: f64) -> f64 {
    var s = 0.0
    for i in 0..n { s += exp(x[i] * y) * x[(i + 1) % n] }
    s + y * y * sum(x * x)
}
fn hidden(x: f64[n]) -> f64 { sum(x * stop_gradient(x) * x) }
)", "h.chain");
  Tensor x = Tensor::fromValues(DType::F64, {3}, {0.3, -0.2, 0.5});
  chain::GradCheckResult r = chain::checkHessian(m, "f", "x", {x, 0.7});
  CHECK(r.ok);
  CHECK(r.entries == 9);
  CHECK(r.maxRelError < 1e-8);
  chain::GradCheckResult ry = chain::checkHessian(m, "f", "y", {x, 0.7});
  CHECK(ry.ok);
  CHECK(ry.entries == 1);
  chain::GradCheckResult bad = chain::checkHessian(m, "hidden", "", {Tensor::fromValues(DType::F64, {2}, {1.0, 2.0})});
  CHECK_FALSE(bad.ok);
  CHECK(bad.failures == 2);  // the diagonal: 2 x_i against 4 x_i
  REQUIRE(bad.worst);
  CHECK(bad.worst->index == std::vector<int64_t>{0, 0});
  CHECK(bad.worst->analytic == 2.0);
  CHECK(bad.worst->numeric == Approx(4.0).epsilon(1e-9));
}

// Vector mode (DerivedFunctions.cpp): jacobian and hessian push four
// directions through each sweep, the last batch padded by repeating the last
// direction. At every size around the batch width (1..9: one lane, partial
// and full batches) each column equals the one-direction sweep, hvp(x, e_j)
// or the tangent of jvp(x, e_j), to rounding, and the Hessian passes the
// finite-difference check, through for, while, if, updates, maps and
// reductions.
TEST_CASE("higher order: batched jacobian and hessian columns equal one sweep each", "[ad][higher]") {
  chain::Module m = chain::Jit().compile_string(R"(
fn f(x: f64[n], y: f64) -> f64 {
    var s = 0.0
    var z = zeros(n)
    for i in 0..n {
        if x[i] > 0.0 { s = s * 0.5 + x[i] * x[(i + 1) % n] * y } else { s -= sin(x[i] * s) }
        z[i] = s * x[i]
    }
    var k = 0
    while s < 4.0 and k < 3 { s = s * 1.5 + 1.0; k += 1 }
    let w = [z[i] * x[(i + 2) % n] for i in 0..n]
    s * s + sum(w * w) + logsumexp(w) + max(x * x) + prod(x * 0.5 + 1.0)
}
fn g(x: f64[n], y: f64) -> f64[n] {
    var p = x
    for t in 0..2 { p = [p[i] * x[(i + 1) % n] + y * sin(p[i]) for i in 0..n] }
    p
}
)", "lanes.chain");
  std::mt19937 rng(21);
  chain::Function H = m.hessian("f", "x"), hv = m.hvp("f", "x"), J = m.jacobian("g", "x"), jv = m.jvp("g", {"x"});
  for (int64_t n = 1; n <= 9; ++n) {
    INFO("n = " << n);
    Tensor x = randomTensor({n}, rng);
    std::vector<double> h = flat(H({x, 0.8})), jac = flat(J({x, 0.8}));
    REQUIRE(int64_t(h.size()) == n * n);
    REQUIRE(int64_t(jac.size()) == n * n);
    for (int64_t j = 0; j < n; ++j) {
      Tensor e(DType::F64, {n});
      for (int64_t i = 0; i < n; ++i) e.data<double>()[i] = i == j ? 1.0 : 0.0;
      std::vector<double> col = flat(hv({x, 0.8, e})), jcol = flat(jv({x, 0.8, e}).tuple()[1]);
      for (int64_t i = 0; i < n; ++i) {
        near(h[i * n + j], col[i], 1e-12, "hessian column vs hvp(e_j)");
        near(jac[i * n + j], jcol[i], 1e-12, "jacobian column vs jvp(e_j)");
      }
    }
    chain::GradCheckResult r = chain::checkHessian(m, "f", "x", {x, 0.8});
    CHECK(r.ok);
    CHECK(r.entries == n * n);
  }
}
