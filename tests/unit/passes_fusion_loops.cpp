// Unit tests of the fusion heuristics of the simplify pass
// (passes/SimplifyArrays.cpp): index(map) is replaced by the map body only
// when that does not move work into a deeper loop (or the body is trivial),
// so exp(icf[:, 0..d]) read inside a sum over points stays one materialised
// array, as in the GMM objective; results stay the same.
#include "passes_pipeline_util.h"

using namespace pipetest;
using chain::ir::OpKind;
using chain::ir::RtValue;

namespace {

// The GMM pattern: exp of a slice, read inside a nested sum over points.
const char* kGmmLike = R"(
fn f(icf: f64[k, t], x: f64[n, d]) -> f64 {
    let Q = exp(icf[:, 0..d])
    sum(logsumexp([sum(Q[c, j] * x[i, j] for j in 0..d) for c in 0..k]) for i in 0..n)
}
)";

}  // namespace

TEST_CASE("fusion: exp of a slice read in a nested sum stays a map", "[passes][fusion]") {
  Program p = compile(kGmmLike);
  auto f = after(p, "f", "simplify");
  INFO(chain::ir::printFunction(*f));
  CHECK(count(f->body, OpKind::Exp) == 1);
  CHECK(loopDepth(f->body, OpKind::Exp) == 1);  // in the top-level map only
  auto raw = chain::ir::cloneFunction(*p.m->lookup("f"));
  std::vector<RtValue> args = {mat(2, 3, {0.1, 0.2, 0.3, -0.4, 0.5, 0.6}), mat(2, 2, {1.0, 2.0, -1.0, 0.5})};
  CHECK(run(p, *f, args) == run(p, *raw, args));
  // reference value computed by hand
  double q[2][2] = {{std::exp(0.1), std::exp(0.2)}, {std::exp(-0.4), std::exp(0.5)}};
  double xs[2][2] = {{1.0, 2.0}, {-1.0, 0.5}};
  double total = 0;
  for (auto& xi : xs) {
    double a = q[0][0] * xi[0] + q[0][1] * xi[1], b = q[1][0] * xi[0] + q[1][1] * xi[1];
    double m = std::max(a, b);
    total += m + std::log(std::exp(a - m) + std::exp(b - m));
  }
  CHECK(std::stod(run(p, *f, args)) == Approx(total).epsilon(1e-14));
}

TEST_CASE("fusion: a trivial body is fused at any depth, a costly one at its depth", "[passes][fusion]") {
  Program p = compile(R"(
fn f(x: f64[n], y: f64[n], m: i64) -> f64 {
    let s = x + y
    let e = exp(x) * y
    sum(sum(s[j] * f64(i) for j in 0..n) for i in 0..m) + sum(e)
})");
  auto f = after(p, "f", "simplify");
  INFO(chain::ir::printFunction(*f));
  CHECK(count(f->body, OpKind::Map) == 0);  // x + y fused into the nested sum, e into sum(e)
  auto raw = chain::ir::cloneFunction(*p.m->lookup("f"));
  std::vector<RtValue> args = {vec({1.0, 2.0}), vec({0.5, -3.0}), RtValue::i64(3)};
  CHECK(run(p, *f, args) == run(p, *raw, args));

  Program q = compile(R"(
fn g(x: f64[n], m: i64) -> f64 {
    let e = exp(x)
    sum(sum(e[j] * f64(i) for j in 0..n) for i in 0..m)
})");
  auto g = after(q, "g", "simplify");
  INFO(chain::ir::printFunction(*g));
  CHECK(count(g->body, OpKind::Map) == 1);  // exp would run m times per element
  CHECK(loopDepth(g->body, OpKind::Exp) == 1);
  auto graw = chain::ir::cloneFunction(*q.m->lookup("g"));
  std::vector<RtValue> gargs = {vec({0.25, -1.0}), RtValue::i64(4)};
  CHECK(run(q, *g, gargs) == run(q, *graw, gargs));
}

TEST_CASE("fusion: a costly comprehension read by logsumexp stays a map", "[passes][fusion]") {
  Program p = compile(R"(
fn f(x: f64[n, d]) -> f64 {
    logsumexp([sum(exp(x[c, j]) for j in 0..d) for c in 0..n])
})");
  auto f = after(p, "f", "simplify");
  INFO(chain::ir::printFunction(*f));
  // Reverse AD of a fused logsumexp would recompute the body for the weights.
  CHECK(count(f->body, OpKind::Map) == 1);
  auto raw = chain::ir::cloneFunction(*p.m->lookup("f"));
  std::vector<RtValue> args = {mat(2, 2, {0.1, 0.2, 0.3, 0.4})};
  CHECK(run(p, *f, args) == run(p, *raw, args));
}

TEST_CASE("fusion: a costly map read in transposed loop order stays a map", "[passes][fusion]") {
  // M is written c-major; reading M[c, i] inside `sum over i { over c }`
  // would run its body i-major. It stays materialised; read in its own
  // order (N[c, i] inside `over c { over i }`) the same body is fused.
  Program p = compile(R"(
fn f(L: f64[k, d], x: f64[n, d]) -> f64 {
    let M = [sum(L[c, j] * x[i, j] for j in 0..d) for c in 0..k, i in 0..n]
    let N = [sum(L[c, j] * x[i, j] for j in 0..d) for c in 0..k, i in 0..n]
    sum(max([M[c, i] for c in 0..k]) for i in 0..n) + sum(max([N[c, i] for i in 0..n]) for c in 0..k)
})");
  auto f = after(p, "f", "simplify");
  INFO(chain::ir::printFunction(*f));
  // M's map (2-D) survives; N is fused into its reader
  int twoD = 0;
  for (auto& op : f->body.ops)
    if (op->kind == OpKind::Map && op->operands.size() == 2) ++twoD;
  CHECK(twoD == 1);
  auto raw = chain::ir::cloneFunction(*p.m->lookup("f"));
  std::vector<RtValue> args = {mat(2, 2, {1.0, -2.0, 0.5, 3.0}), mat(3, 2, {1.0, 2.0, -1.0, 0.5, 4.0, -3.0})};
  CHECK(run(p, *f, args) == run(p, *raw, args));
  // by hand: M[c, i] = L[c] . x[i]
  double L[2][2] = {{1.0, -2.0}, {0.5, 3.0}}, x[3][2] = {{1.0, 2.0}, {-1.0, 0.5}, {4.0, -3.0}};
  double m[2][3];
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 3; ++i) m[c][i] = L[c][0] * x[i][0] + L[c][1] * x[i][1];
  double total = 0;
  for (int i = 0; i < 3; ++i) total += std::max(m[0][i], m[1][i]);
  for (int c = 0; c < 2; ++c) total += std::max({m[c][0], m[c][1], m[c][2]});
  CHECK(std::stod(run(p, *f, args)) == Approx(total).epsilon(1e-14));
}
