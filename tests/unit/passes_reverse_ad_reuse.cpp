// Reverse AD reads a map's primal elements instead of recomputing them
// (ReverseADArrays.cpp, reuseElement): the reverse of H = tanh(Z) uses
// 1 - H^2 with H read back from the forward map, so the gradient evaluates
// tanh once per element; and simplify does not fuse a map whose body calls a
// transcendental function into several reads (SimplifyArrays.cpp, cheapBody).
// Gradients are checked against finite differences and analytic values.
#include <cmath>

#include "passes_grad_util.h"

using namespace chain;
using gradtest::checkGrad;
using ir::OpKind;
using ir::RtValue;
using pipetest::count;
using pipetest::mat;
using pipetest::vec;

TEST_CASE("reverse AD: the adjoint of a tanh map reads the forward map", "[ad][reuse]") {
  const std::string src = R"(fn f(X: f64[n, d], W: f64[d, h], b: f64[h]) -> f64 {
    let H = tanh(X @ W + b)
    sum(H * H) + sum(H)
}
)";
  // f = sum_ij (H_ij^2 + H_ij), H = tanh(Z), Z = X W + b:
  // dZ_ij = (2 H_ij + 1)(1 - H_ij^2); dW = X^T dZ; db_j = sum_i dZ_ij
  const std::vector<double> X{0.5, -1.0, 2.0, 0.25}, W{0.3, -0.2, 0.1, 0.4}, b{0.05, -0.1};
  double dZ[2][2], dW[2][2] = {}, db[2] = {};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double z = X[i * 2] * W[j] + X[i * 2 + 1] * W[2 + j] + b[j], h = std::tanh(z);
      dZ[i][j] = (2 * h + 1) * (1 - h * h);
    }
  for (int p = 0; p < 2; ++p)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) dW[p][j] += X[i * 2 + p] * dZ[i][j];
  for (int j = 0; j < 2; ++j) db[j] = dZ[0][j] + dZ[1][j];
  // X is a float parameter too: dX = dZ W^T
  std::vector<double> analytic;
  for (int i = 0; i < 2; ++i)
    for (int p = 0; p < 2; ++p) analytic.push_back(dZ[i][0] * W[p * 2] + dZ[i][1] * W[p * 2 + 1]);
  for (auto& row : dW) analytic.insert(analytic.end(), row, row + 2);
  analytic.insert(analytic.end(), db, db + 2);
  checkGrad(src, "f", {mat(2, 2, X), mat(2, 2, W), vec(b)}, analytic, 1e-12, 1e-14);

  pipetest::Program p = pipetest::compile(src);
  auto g = gradtest::gradFn(*p.m, "f");
  INFO(ir::printFunction(*g));
  CHECK(count(g->body, OpKind::Tanh) == 1);  // the forward map's only
}

TEST_CASE("simplify: a map calling exp is not recomputed at each of its reads", "[passes][fusion]") {
  // e is read by two sums: fused, exp would run twice per element
  pipetest::Program p = pipetest::compile(R"(fn f(x: f64[n]) -> f64 {
    let e = exp(x)
    sum(e) + sum(e * x)
}
)");
  auto f = pipetest::after(p, "f", "simplify");
  INFO(ir::printFunction(*f));
  CHECK(count(f->body, OpKind::Exp) == 1);
  std::vector<RtValue> args = {vec({0.5, -1.0, 2.0})};
  double want = 0;
  for (double x : {0.5, -1.0, 2.0}) want += std::exp(x) * (1 + x);
  CHECK(std::stod(pipetest::run(p, *f, args)) == Approx(want).epsilon(1e-14));
}

TEST_CASE("reverse AD: logsumexp's softmax weights are computed once for all its reverse passes", "[ad][reuse]") {
  // a[c] + M[c, i] (a trivial body) is fused into the logsumexp: a is read at
  // the reduce's own index (an adjoint map) and M[c, i] is scattered by a
  // loop; both passes read one map of weights instead of each computing exp.
  const std::string src = R"(fn f(a: f64[k], M: f64[k, n]) -> f64 {
    sum(logsumexp([a[c] + M[c, i] for c in 0..k]) for i in 0..n)
}
)";
  const std::vector<double> a{0.5, -1.0, 0.25}, M{1, 2, -1, 0.5, 0, 3};
  // d/dv_c logsumexp(v) = softmax(v)_c; da = sum_i w_i, dM[c, i] = w_i[c]
  std::vector<double> da(3, 0.0), dM(6, 0.0);
  for (int i = 0; i < 2; ++i) {
    double v[3], mx = -1e300, s = 0;
    for (int c = 0; c < 3; ++c) mx = std::max(mx, v[c] = a[c] + M[c * 2 + i]);
    for (double x : v) s += std::exp(x - mx);
    for (int c = 0; c < 3; ++c) {
      double w = std::exp(v[c] - mx) / s;
      da[c] += w;
      dM[c * 2 + i] = w;
    }
  }
  std::vector<double> analytic = da;
  analytic.insert(analytic.end(), dM.begin(), dM.end());
  checkGrad(src, "f", {vec(a), mat(3, 2, M)}, analytic, 1e-12, 1e-14);

  pipetest::Program p = pipetest::compile(src);
  auto g = gradtest::gradFn(*p.m, "f");
  INFO(ir::printFunction(*g));
  CHECK(count(g->body, OpKind::Exp) == 1);  // the shared weights' map
}

TEST_CASE("simplify: before reverse AD a map calling tanh stays materialised for its one reader", "[passes][fusion]") {
  // c = tanh(x) read once by sum(c * y): fused for the primal; kept as
  // an array when the function is reverse AD's input, so the gradient reads
  // tanh(x) back (and computes tanh once per element).
  const std::string src = R"(fn f(x: f64[n], y: f64[n]) -> f64 {
    let c = [tanh(x[i]) for i in 0..n]
    sum(c[i] * y[i] for i in 0..n)
}
)";
  pipetest::Program p = pipetest::compile(src);
  auto primal = gradtest::prepared(*p.m, "f");
  INFO(ir::printFunction(*primal));
  CHECK(count(primal->body, OpKind::Map) == 0);  // fused into the sum
  auto forAD = ir::cloneFunction(*p.m->lookup("f"));
  forAD->forDifferentiation = true;
  passes::inlineCalls(*p.m, *forAD);
  passes::simplify(*p.m, *forAD);
  INFO(ir::printFunction(*forAD));
  CHECK(count(forAD->body, OpKind::Map) == 1);
  auto g = passes::reverseAD(*forAD, {0, 1}, true, "f.grad");
  passes::simplify(*p.m, *g);
  INFO(ir::printFunction(*g));
  CHECK(count(g->body, OpKind::Tanh) == 1);
  // d/dx_i = (1 - tanh(x_i)^2) y_i, d/dy_i = tanh(x_i)
  std::vector<RtValue> r = ir::interpret(*p.m, *g, {vec({0.5, -1.0}), vec({3.0, 0.25})});
  const double x[2] = {0.5, -1.0}, y[2] = {3.0, 0.25};
  for (int i = 0; i < 2; ++i) {
    double t = std::tanh(x[i]);
    CHECK(r.at(1).values()[i] == Approx((1 - t * t) * y[i]).epsilon(1e-14));
    CHECK(r.at(2).values()[i] == Approx(t).epsilon(1e-14));
  }
}
