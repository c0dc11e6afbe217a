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
#include "passes_grad_util.h"

using namespace chain;
using ir::RtValue;
using ir::Scalar;

namespace {

using pipetest::compile;
using pipetest::Program;

using gradtest::checkGrad;
using pipetest::mat;
using pipetest::vec;

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
