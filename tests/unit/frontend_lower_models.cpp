// Three small realistic models written in Chain (least squares, softmax
// cross-entropy with logsumexp over rows, an MLP layer), lowered, verified and
// run through the reference interpreter, their values compared with the same
// computation written by hand in C++.
#include <catch2/catch.hpp>

#include <cmath>

#include "frontend/Frontend.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

using namespace chain;
using ir::RtValue;
using ir::Scalar;

namespace {

std::unique_ptr<ir::Module> lowerOk(const std::string& src) {
  DiagEngine diag("model.chain", &src);
  auto prog = frontend::parse(src, diag);
  INFO(diag.render());
  REQUIRE_FALSE(diag.hasErrors());
  bool ok = frontend::check(*prog, diag);
  INFO(diag.render());
  REQUIRE(ok);
  auto m = frontend::lower(*prog);
  auto errs = ir::verifyModule(*m);
  INFO((errs.empty() ? std::string() : errs[0]) << ir::printModule(*m));
  REQUIRE(errs.empty());
  return m;
}

// Row-major matrix helpers for the hand computations.
struct Mat {
  int64_t rows, cols;
  std::vector<double> v;
  double at(int64_t i, int64_t j) const { return v[static_cast<size_t>(i * cols + j)]; }
  RtValue rt() const { return RtValue::array(Scalar::F64, {rows, cols}, v); }
};

std::vector<double> seq(size_t n, double a, double b) {
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::sin(a * double(i) + b));
  return out;
}

}  // namespace

TEST_CASE("models: least squares", "[lower][arrays][models]") {
  auto m = lowerOk(R"(
fn loss(X: f64[n, d], w: f64[d], y: f64[n]) -> f64 {
    0.5 * sum((X @ w - y) ** 2.0)
}
)");
  Mat X{4, 3, seq(12, 0.7, 0.1)};
  std::vector<double> w = {0.5, -1.0, 2.0}, y = {1.0, 0.0, -1.0, 0.5};
  double expect = 0;
  for (int64_t i = 0; i < 4; ++i) {
    double r = -y[size_t(i)];
    for (int64_t j = 0; j < 3; ++j) r += X.at(i, j) * w[size_t(j)];
    expect += 0.5 * r * r;
  }
  auto r = ir::interpret(*m, *m->lookup("loss"),
                         {X.rt(), RtValue::array(Scalar::F64, {3}, w), RtValue::array(Scalar::F64, {4}, y)});
  CHECK(r.at(0).f == Approx(expect).epsilon(1e-12));
}

TEST_CASE("models: softmax cross-entropy with logsumexp over rows", "[lower][arrays][models]") {
  auto m = lowerOk(R"(
# Mean negative log-likelihood of the labels under softmax(X @ W^T + b).
fn xent(W: f64[k, d], b: f64[k], X: f64[n, d], labels: i64[n]) -> f64 {
    let logits = X @ transpose(W) + b
    let nll = sum(logsumexp(logits[i, c] for c in 0..k) - logits[i, labels[i]] for i in 0..n)
    nll / f64(n)
}
)");
  Mat W{3, 2, seq(6, 1.3, 0.2)};
  std::vector<double> b = {0.1, -0.2, 0.3};
  Mat X{4, 2, seq(8, 0.9, -0.4)};
  std::vector<int64_t> labels = {0, 2, 1, 2};
  double expect = 0;
  for (int64_t i = 0; i < 4; ++i) {
    std::vector<double> z(3);
    double mx = -INFINITY;
    for (int64_t c = 0; c < 3; ++c) {
      z[size_t(c)] = b[size_t(c)];
      for (int64_t j = 0; j < 2; ++j) z[size_t(c)] += X.at(i, j) * W.at(c, j);
      mx = std::max(mx, z[size_t(c)]);
    }
    double s = 0;
    for (double v : z) s += std::exp(v - mx);
    expect += mx + std::log(s) - z[size_t(labels[size_t(i)])];
  }
  expect /= 4;
  auto r = ir::interpret(*m, *m->lookup("xent"),
                         {W.rt(), RtValue::array(Scalar::F64, {3}, b), X.rt(),
                          RtValue::arrayI({4}, labels)});
  CHECK(r.at(0).f == Approx(expect).epsilon(1e-12));
}

TEST_CASE("models: an MLP layer relu(X @ W + b) and a two-layer loss", "[lower][arrays][models]") {
  auto m = lowerOk(R"(
fn layer(X: f64[n, d], W: f64[d, h], b: f64[h]) -> f64[n, h] {
    relu(X @ W + b)
}
fn mlp(X: f64[n, d], W1: f64[d, h], b1: f64[h], w2: f64[h], y: f64[n]) -> f64 {
    let H = layer(X, W1, b1)
    mean((H @ w2 - y) ** 2.0)
}
)");
  Mat X{3, 2, seq(6, 0.8, 0.3)};
  Mat W{2, 4, seq(8, 1.7, -0.5)};
  std::vector<double> b = {0.1, -0.3, 0.0, 0.2}, w2 = {1.0, -2.0, 0.5, 0.25}, y = {0.3, -0.1, 0.2};
  std::vector<double> H;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      double s = b[size_t(j)];
      for (int64_t k = 0; k < 2; ++k) s += X.at(i, k) * W.at(k, j);
      H.push_back(s > 0 ? s : 0.0);
    }
  auto r = ir::interpret(*m, *m->lookup("layer"),
                         {X.rt(), W.rt(), RtValue::array(Scalar::F64, {4}, b)});
  CHECK(r.at(0).shape == std::vector<int64_t>{3, 4});
  std::vector<double> got = r.at(0).values();
  REQUIRE(got.size() == H.size());
  for (size_t i = 0; i < H.size(); ++i) CHECK(got[i] == Approx(H[i]).margin(1e-12));
  double loss = 0;
  for (size_t i = 0; i < 3; ++i) {
    double o = -y[i];
    for (size_t j = 0; j < 4; ++j) o += H[i * 4 + j] * w2[j];
    loss += o * o / 3;
  }
  auto r2 = ir::interpret(*m, *m->lookup("mlp"),
                          {X.rt(), W.rt(), RtValue::array(Scalar::F64, {4}, b),
                           RtValue::array(Scalar::F64, {4}, w2), RtValue::array(Scalar::F64, {3}, y)});
  CHECK(r2.at(0).f == Approx(loss).epsilon(1e-12));
}
