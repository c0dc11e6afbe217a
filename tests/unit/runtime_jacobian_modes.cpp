// Jacobians by the sizes (SPEC §5: "The compiler picks forward or reverse
// mode by the sizes"): f: R^n -> R^m takes m reverse sweeps (rows, one vjp
// each) when m < n and n forward sweeps (columns, one jvp each) otherwise,
// chosen at run time. Both paths are checked against each other (rows of vjp
// with unit cotangents, columns of jvp with unit tangents), against finite
// differences, and the reverse path by its cost.
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
fn g(x: f64[n], A: f64[m, n]) -> f64[m] { tanh(A @ x) * sum(x * x) + x[0] }
fn s(x: f64[n], A: f64[m, n]) -> f64 { sum(tanh(A @ x)) }
fn lang(x: f64[n], A: f64[m, n]) -> f64[m, n] { jacobian(g)(x, A) }
)";

// x + h e_j (a fresh tensor)
Tensor shifted(const Tensor& x, int64_t j, double h) {
  Tensor c(DType::F64, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) c.data<double>()[i] = x.at(i) + (i == j ? h : 0.0);
  return c;
}

Tensor unit(int64_t n, int64_t i) {
  Tensor e(DType::F64, {n});
  e.data<double>()[i] = 1.0;
  return e;
}

// J[i, j] by vjp rows and jvp columns, and their agreement with `J`.
void checkAgainstSweeps(const chain::Module& m, const Tensor& x, const Tensor& A, const std::vector<double>& J) {
  int64_t rows = A.shape()[0], cols = A.shape()[1];
  REQUIRE(int64_t(J.size()) == rows * cols);
  for (int64_t i = 0; i < rows; ++i) {
    std::vector<double> r = flat(m.vjp("g", {"x"})({x, A, unit(rows, i)}));
    for (int64_t j = 0; j < cols; ++j) CHECK(J[size_t(i * cols + j)] == Approx(r[size_t(j)]).epsilon(1e-14));
  }
  for (int64_t j = 0; j < cols; ++j) {
    std::vector<double> c = flat(m.jvp("g", {"x"})({x, A, unit(cols, j)}).tuple()[1]);
    for (int64_t i = 0; i < rows; ++i) CHECK(J[size_t(i * cols + j)] == Approx(c[size_t(i)]).epsilon(1e-14));
  }
}

}  // namespace

TEST_CASE("jacobian: rows (m < n) and columns (m >= n) agree with vjp, jvp and each other", "[ad][higher][jac]") {
  chain::Module m = chain::Jit().compile_string(kSource, "jac.chain");
  std::mt19937 rng(4);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{2, 5}, {5, 2}, {3, 3}, {1, 4}}) {
    INFO(rows << " x " << cols);
    Tensor x = randomTensor({cols}, rng), A = randomTensor({rows, cols}, rng);
    std::vector<double> J = flat(m.jacobian("g", "x")({x, A}));
    checkAgainstSweeps(m, x, A, J);
    // the same Jacobian in the language, and with the value
    std::vector<double> Jl = flat(m.function("lang")({x, A}));
    for (size_t k = 0; k < J.size(); ++k) CHECK(Jl[k] == J[k]);
    Value vj = m.jacobian("g", "x", true)({x, A});
    CHECK(flat(vj.tuple()[0]) == flat(m.function("g")({x, A})));
    CHECK(flat(vj.tuple()[1]) == J);
    // central differences of g
    const double h = 1e-6;
    for (int64_t j = 0; j < cols; ++j) {
      std::vector<double> gp = flat(m.function("g")({shifted(x, j, h), A}));
      std::vector<double> gm = flat(m.function("g")({shifted(x, j, -h), A}));
      for (int64_t i = 0; i < rows; ++i)
        CHECK(J[size_t(i * cols + j)] == Approx((gp[size_t(i)] - gm[size_t(i)]) / (2 * h)).margin(1e-7));
    }
  }
  // A scalar result: the gradient, one reverse sweep.
  Tensor x = randomTensor({4}, rng), A = randomTensor({3, 4}, rng);
  std::vector<double> Js = flat(m.jacobian("s", "x")({x, A})), gs = flat(m.gradient("s", {"x"})({x, A}));
  for (size_t k = 0; k < gs.size(); ++k) CHECK(Js[k] == Approx(gs[k]).epsilon(1e-14));
}

TEST_CASE("jacobian: a wide Jacobian (m = 2, n = 2000) takes m reverse sweeps, not n forward ones",
          "[ad][higher][jac][perf]") {
  chain::Module m = chain::Jit().compile_string(kSource, "jac.chain");
  std::mt19937 rng(2);
  std::vector<Value> args{randomTensor({2000}, rng), randomTensor({2, 2000}, rng)};
  chain::Function J = m.jacobian("g", "x"), G = m.gradient("s", {"x"});
  J.compile();
  G.compile();
  double tj = bestUs(J, args, 50), tg = bestUs(G, args, 50);
  INFO("jacobian: " << tj << " us, grad(s): " << tg << " us, ratio " << tj / tg);
  // two vjps cost about two gradients; 2000 jvps about 2000.
  CHECK(tj < 40 * tg);
}
