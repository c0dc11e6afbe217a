// Gradients of array programs through the JIT, each checked against central
// finite differences (chain::checkGradient) on seeded random inputs, plus
// analytic checks and the memory claims of SPEC §6 (tape bytes).
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

void checkModel(const std::string& src, const std::vector<Value>& args, const std::vector<std::string>& wrt = {}) {
  chain::Module m = chain::Jit().compile_string(src, "test.chain");
  std::string fn = m.functionNames().back();
  chain::GradCheckResult r = chain::checkGradient(m, fn, wrt, args, 1e-6);
  INFO(src << "\nmax abs error " << r.maxAbsError << ", max rel error " << r.maxRelError);
  CHECK(r.ok);
}

}  // namespace

TEST_CASE("array AD: reductions, comprehensions and elementwise ops", "[arrays][ad]") {
  std::mt19937 rng(42);
  Tensor x = randomTensor({7}, rng), y = randomTensor({7}, rng);
  const char* bodies[] = {
      "sum(x * y)",
      "sum(x[i] * y[i] for i in 0..n)",
      "prod(x + 2.0)",
      "max(x * y)",
      "min(exp(x) - y)",
      "mean(x * x)",
      "logsumexp(x * 3.0)",
      "logsumexp(x[i] + y[i] for i in 0..n)",
      "sum(exp(x - max(x)))",
      "dot(x, y) + dot(x, x)",
      "sum([x[i] * y[(i + 1) % n] for i in 0..n])",
      "sum(x[i] * x[j] for i in 0..n, j in 0..i)",
      "sum(sigmoid(x) * tanh(y) + softplus(x * y))",
      "sum(relu(x) + abs(y) + sqrt(x * x + 1.0))",
      "sum(pow(x * x + 1.0, y))",
      "sum(x[2..5]) * sum(y[0..3])",
      "sum(max(x, y)) + sum(min(x, 0.0))",
      "sum(if x[0] > 0.0 { x * 2.0 } else { y * y })",
  };
  for (const char* body : bodies) {
    std::string src = std::string("fn f(x: f64[n], y: f64[n]) -> f64 { ") + body + " }";
    checkModel(src, {x, y});
  }
}

TEST_CASE("array AD: prod with zeros is exact", "[arrays][ad]") {
  chain::Module m = chain::Jit().compile_string("fn f(x: f64[n]) -> f64 { prod(x) }");
  Tensor x = Tensor::fromValues(DType::F64, {4}, {2.0, 0.0, 3.0, 5.0});
  Value g = m.gradient("f")({x});
  Tensor t = g.tensor();
  CHECK(t.at(0) == 0.0);
  CHECK(t.at(1) == 30.0);
  CHECK(t.at(2) == 0.0);
  CHECK(t.at(3) == 0.0);
  Tensor z = Tensor::fromValues(DType::F64, {3}, {0.0, 0.0, 3.0});
  Tensor t2 = m.gradient("f")({z}).tensor();
  CHECK((t2.at(0) == 0.0 && t2.at(1) == 0.0 && t2.at(2) == 0.0));
}

TEST_CASE("array AD: max reduction sends the adjoint to the first maximum", "[arrays][ad]") {
  chain::Module m = chain::Jit().compile_string("fn f(x: f64[n]) -> f64 { max(x) }");
  Tensor x = Tensor::fromValues(DType::F64, {4}, {1.0, 3.0, 3.0, 2.0});
  Tensor g = m.gradient("f")({x}).tensor();
  CHECK(g.at(0) == 0.0);
  CHECK(g.at(1) == 1.0);
  CHECK(g.at(2) == 0.0);
  CHECK(g.at(3) == 0.0);
}

TEST_CASE("array AD: matrices, matmul forms and broadcasting", "[arrays][ad]") {
  std::mt19937 rng(7);
  Tensor A = randomTensor({4, 3}, rng), B = randomTensor({3, 5}, rng);
  Tensor v = randomTensor({3}, rng), u = randomTensor({4}, rng), b = randomTensor({3}, rng);
  checkModel("fn f(A: f64[n, k], B: f64[k, m]) -> f64 { sum((A @ B) * (A @ B)) }", {A, B});
  checkModel("fn f(A: f64[n, k], v: f64[k]) -> f64 { sum(exp(A @ v)) }", {A, v});
  checkModel("fn f(A: f64[n, k], u: f64[n]) -> f64 { sum(sin(u @ A)) }", {A, u});
  checkModel("fn f(A: f64[n, k], b: f64[k]) -> f64 { sum(relu(A + b) * (A - b)) }", {A, b});
  checkModel("fn f(A: f64[n, k]) -> f64 { sum(transpose(A) @ A) }", {A});
  checkModel("fn f(A: f64[n, k]) -> f64 { sum(A[1] * A[2]) + sum(A[:, 0]) * A[3, 2] }", {A});
  checkModel(
      "fn f(X: f64[n, d], w: f64[d], y: f64[n]) -> f64 {\n"
      "  let r = X @ w - y\n"
      "  0.5 * sum(r * r)\n"
      "}",
      {A, v, u});
  checkModel(
      "fn f(W: f64[c, d], X: f64[n, d]) -> f64 {\n"
      "  sum(logsumexp(W[k] @ X[i] for k in 0..c) for i in 0..n)\n"
      "}",
      {B, randomTensor({2, 5}, rng)}, {"W"});
}

TEST_CASE("array AD: loops carrying arrays and element updates", "[arrays][ad]") {
  std::mt19937 rng(3);
  Tensor x = randomTensor({6}, rng);
  // carried vector, elementwise updates of the whole array
  checkModel(
      "fn f(x: f64[n], k: i64) -> f64 {\n"
      "  var s = x\n"
      "  for t in 0..k { s = sin(s) + x * 0.5 }\n"
      "  sum(s * s)\n"
      "}",
      {x, int64_t(4)}, {"x"});
  // element updates in a loop (undo log), reading earlier elements
  checkModel(
      "fn f(x: f64[n]) -> f64 {\n"
      "  var y = zeros(n)\n"
      "  y[0] = x[0]\n"
      "  for i in 1..n { y[i] = y[i - 1] * x[i] + sin(x[i - 1]) }\n"
      "  sum(y * y)\n"
      "}",
      {x});
  // += on elements, rows and a while loop
  Tensor M = randomTensor({3, 4}, rng);
  checkModel(
      "fn f(M: f64[r, c]) -> f64 {\n"
      "  var S = M\n"
      "  var k = 0\n"
      "  while k < 3 {\n"
      "    S[k % r, 1] += S[(k + 1) % r, 2] * 2.0\n"
      "    S[(k + 2) % r] = S[k % r] * 0.5\n"
      "    k += 1\n"
      "  }\n"
      "  sum(S * M)\n"
      "}",
      {M});
}

TEST_CASE("array AD: a 100,000-step loop carrying a 100-vector", "[arrays][ad][memory]") {
  // nonlinear in s: the reverse sweep needs the vector of every step
  chain::Module m = chain::Jit().compile_string(
      "fn f(x: f64[n], steps: i64) -> f64 {\n"
      "  var s = x\n"
      "  for t in 0..steps { s = 0.5 * sin(s) + x * 0.0001 }\n"
      "  sum(s)\n"
      "}");
  Tensor x = Tensor::fromValues(DType::F64, {100}, std::vector<double>(100, 1.0));
  Tensor g = m.gradient("f", {"x"})({x, int64_t(100000)}).tensor();
  // every element follows s' = 0.5 sin(s) + 0.0001 x from s = x = 1
  double s = 1, ds = 1;
  for (int t = 0; t < 100000; ++t) {
    ds = 0.5 * std::cos(s) * ds + 0.0001;
    s = 0.5 * std::sin(s) + 0.0001;
  }
  CHECK(g.at(0) == Approx(ds).epsilon(1e-9));
  CHECK(g.at(99) == Approx(ds).epsilon(1e-9));
  int64_t tape = chain::Function::lastTapeBytes();
  INFO("tape bytes: " << tape);
  CHECK(tape >= 100000 * 100 * 8);      // the carried vector per step ...
  CHECK(tape <= 100000 * 100 * 8 * 12 / 10);  // ... and not much more
}

TEST_CASE("array AD: a loop linear in its carried vector records only its size", "[arrays][ad][memory]") {
  chain::Module m = chain::Jit().compile_string(
      "fn f(x: f64[n], steps: i64) -> f64 {\n"
      "  var s = x\n"
      "  for t in 0..steps { s = s * 0.9999 + x * 0.0001 }\n"
      "  sum(s)\n"
      "}");
  Tensor x = Tensor::fromValues(DType::F64, {100}, std::vector<double>(100, 1.0));
  Tensor g = m.gradient("f", {"x"})({x, int64_t(100000)}).tensor();
  // s_T = x (a^T + (1 - a^T)) = x for a = 0.9999, b = 1 - a: ds/dx = 1 per element
  CHECK(g.at(0) == Approx(1.0).epsilon(1e-9));
  int64_t tape = chain::Function::lastTapeBytes();
  INFO("tape bytes: " << tape);
  CHECK(tape <= 100000 * 8 * 2);  // at most a size per step, never the vector
}

TEST_CASE("array AD: one element update per iteration keeps only overwritten values", "[arrays][ad][memory]") {
  chain::Module m = chain::Jit().compile_string(
      "fn f(x: f64[n]) -> f64 {\n"
      "  var y = x\n"
      "  for i in 1..n { y[i] = y[i] + 0.5 * y[i - 1] }\n"
      "  sum(y)\n"
      "}");
  const int64_t n = 1000000;
  Tensor x = Tensor::fromValues(DType::F64, {n}, std::vector<double>(size_t(n), 1.0));
  Tensor g = m.gradient("f")({x}).tensor();
  // dy_last/dx_last = 1, and every earlier element adds 0.5 * (its successor's total)
  CHECK(g.at(n - 1) == 1.0);
  CHECK(g.at(n - 2) == 1.5);
  CHECK(g.at(n - 3) == 1.75);
  int64_t tape = chain::Function::lastTapeBytes();
  INFO("tape bytes: " << tape);
  // one (index, old value) pair per update: 16 bytes, never a copy of y per iteration
  CHECK(tape <= 16 * n * 12 / 10);
}

TEST_CASE("array AD: edge shapes (size 1, empty ranges, 1-sized broadcast axes)", "[arrays][ad]") {
  std::mt19937 rng(11);
  Tensor one = randomTensor({1}, rng), row = randomTensor({1, 3}, rng), col = randomTensor({4, 1}, rng);
  Tensor M = randomTensor({4, 3}, rng);
  checkModel("fn f(x: f64[n]) -> f64 { sum(exp(x)) + logsumexp(x) + max(x) + prod(x) }", {one});
  // broadcasting a [1, 3] row and a [4, 1] column against a [4, 3] matrix
  checkModel("fn f(M: f64[n, m], r: f64[a, m], c: f64[n, b]) -> f64 { sum((M + r) * (M - c)) }", {M, row, col});
  // empty ranges contribute nothing (and no gradient)
  chain::Module m = chain::Jit().compile_string(
      "fn f(x: f64[n], k: i64) -> f64 { sum(x[i] * x[i] for i in 0..k) + sum(x[i] for i in k..k) }");
  Tensor x = randomTensor({3}, rng);
  Value v = m.gradient("f", {"x"}, true)({x, int64_t(0)});
  CHECK(v.tuple()[0].asDouble() == 0.0);
  Tensor g = v.tuple()[1].tensor();
  for (int i = 0; i < 3; ++i) CHECK(g.at(i) == 0.0);
  checkModel("fn f(x: f64[n], k: i64) -> f64 { sum(x[i] * x[j] for i in 0..k, j in i..k) }", {x, int64_t(3)}, {"x"});
}

TEST_CASE("array AD: element updates in a while loop use the undo log", "[arrays][ad][memory]") {
  chain::Module m = chain::Jit().compile_string(
      "fn f(x: f64[n]) -> f64 {\n"
      "  var y = x\n"
      "  var i = 1\n"
      "  while i < n {\n"
      "    y[i] = y[i] + 0.5 * y[i - 1]\n"
      "    i += 1\n"
      "  }\n"
      "  sum(y)\n"
      "}");
  const int64_t n = 100000;
  Tensor x = Tensor::fromValues(DType::F64, {n}, std::vector<double>(size_t(n), 1.0));
  Tensor g = m.gradient("f")({x}).tensor();
  CHECK(g.at(n - 1) == 1.0);
  CHECK(g.at(n - 2) == 1.5);
  CHECK(g.at(n - 3) == 1.75);
  // per iteration: the counter (8 bytes) and one (index, old value) pair
  CHECK(chain::Function::lastTapeBytes() <= 24 * n * 12 / 10);
  std::mt19937 rng(5);
  checkModel(
      "fn f(x: f64[n]) -> f64 {\n"
      "  var y = x * 2.0\n"
      "  var i = 0\n"
      "  while i < n - 1 { y[i + 1] = sin(y[i]) * x[i + 1]\n i += 1 }\n"
      "  sum(y * y)\n"
      "}",
      {randomTensor({5}, rng)});
}
