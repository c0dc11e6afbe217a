// Reverse AD of offset (stencil) reads in maps and reductions, `a[i - 1]`,
// `a[i + 1]`, `A[i, j - 1]` (ReverseADOffsets.cpp): each program is parsed,
// lowered, inlined and simplified, differentiated, simplified again, and run
// under the reference interpreter; every gradient element is compared with
// a hand-derived (analytic) value and with central finite differences. The
// printed gradient IR is checked too: offset reads give a map over the
// array, not a `for` loop of scatter-adds (`add_at`) at i +/- c.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <regex>
#include <sstream>

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

using gradtest::gradFn;
using pipetest::mat;
using pipetest::vec;

// Checks the value, every gradient element against finite differences, and
// against `analytic` (all float parameters, flattened).
void checkGrad(const std::string& src, const std::string& name, const std::vector<RtValue>& args,
               const std::vector<double>& analytic) {
  gradtest::checkGrad(src, name, args, analytic, 1e-10, 1e-12);
}

// The printed gradient of `name` w.r.t. `wrt`.
std::string gradIR(const std::string& src, const std::string& name, const std::vector<int>& wrt) {
  Program p = compile(src);
  return ir::printFunction(*gradFn(*p.m, name, wrt));
}

// The number of `add_at` ops in `ir` with an index `add`/`sub` of a block
// argument (a loop index) and a constant: a scatter-add at i +/- c in a loop
// over i, what offset reads used to become.
int shiftedScatters(const std::string& ir) {
  std::map<std::string, std::string> defs;  // %name -> "op operand0 operand1"
  std::regex def(R"((%[0-9A-Za-z_.]+) = (\w+) ?([^:]*))");
  std::istringstream in(ir);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    std::smatch m;
    if (std::regex_search(line, m, def)) defs[m[1]] = m[2].str() + " " + m[3].str();
    std::regex arg(R"((%[0-9A-Za-z_.]+): )");
    if (line.find("^(") != std::string::npos)
      for (std::sregex_iterator it(line.begin(), line.end(), arg), end; it != end; ++it) defs[(*it)[1]] = "arg ";
  }
  auto trim = [](std::string v) {
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of(' ') + 1);
    return v;
  };
  auto isConst = [&](const std::string& v) { return defs[trim(v)].rfind("consti ", 0) == 0; };
  auto isArg = [&](const std::string& v) { return defs[trim(v)] == "arg "; };
  int n = 0;
  std::regex at(R"(add_at %[0-9A-Za-z_.]+ \[([^\]]*)\])");
  std::regex shift(R"(^(add|sub) ([^,]+),([^,]+)$)");
  for (const std::string& line : lines) {
    std::smatch m;
    if (!std::regex_search(line, m, at)) continue;
    std::istringstream idx(m[1].str());
    for (std::string v; std::getline(idx, v, ',');) {
      v.erase(0, v.find_first_not_of(' '));
      std::smatch s;
      std::string d = defs[v];
      d.erase(d.find_last_not_of(' ') + 1);
      if (std::regex_match(d, s, shift) && ((isConst(s[2]) && isArg(s[3])) || (isArg(s[2]) && isConst(s[3])))) ++n;
    }
  }
  return n;
}


}  // namespace

TEST_CASE("reverse AD offsets: a[i - 1] behind if i == 0", "[ad][offsets]") {
  // y0 = w0, yi = wi * a(i-1); f = sum(y^2). The loop keeps y a map.
  const std::string src = R"(fn f(a: f64[n], w: f64[n]) -> f64 {
  let y = [if i == 0 { w[0] } else { w[i] * a[i - 1] } for i in 0..n]
  var s = 0.0
  for k in 0..n { s = s + y[k] * y[k] }
  s
}
)";
  // y = [0.5, -1, 4]: da_j = 2 y(j+1) w(j+1), dw0 = 2 w0, dwi = 2 yi a(i-1)
  checkGrad(src, "f", {vec({1, 2, 3}), vec({0.5, -1, 2})}, {2, 16, 0, 1, -2, 16});
  std::string ir = gradIR(src, "f", {0});
  INFO(ir);
  CHECK(shiftedScatters(ir) == 0);
  CHECK(ir.find("map") != std::string::npos);
}

TEST_CASE("reverse AD offsets: a[i + 1] over 0..n-1, in a map and in a reduce", "[ad][offsets]") {
  // d_i = (a(i+1) - a(i)) (a(i+1) + a(i)); f = sum d^2:
  // da_j = 4 d(j-1) a_j [j >= 1] - 4 d_j a_j [j <= n-2]
  const std::vector<double> a{1, 3, 2, 5};
  const size_t n = a.size();
  std::vector<double> d, da(n, 0.0);
  for (size_t i = 0; i + 1 < n; ++i) d.push_back((a[i + 1] - a[i]) * (a[i + 1] + a[i]));
  for (size_t j = 0; j < n; ++j) da[j] = (j >= 1 ? 4 * d[j - 1] * a[j] : 0.0) - (j + 2 <= n ? 4 * d[j] * a[j] : 0.0);
  const std::string viaMap = R"(fn f(a: f64[n]) -> f64 {
  let d = [(a[i + 1] - a[i]) * (a[i + 1] + a[i]) for i in 0..n - 1]
  var s = 0.0
  for k in 0..n - 1 { s = s + d[k] * d[k] }
  s
}
)";
  checkGrad(viaMap, "f", {vec(a)}, da);
  std::string ir = gradIR(viaMap, "f", {0});
  INFO(ir);
  CHECK(shiftedScatters(ir) == 0);
  checkGrad("fn f(a: f64[n]) -> f64 { sum(((a[i + 1] - a[i]) * (a[i + 1] + a[i])) ** 2.0 for i in 0..n - 1) }\n",
            "f", {vec(a)}, da);
}

TEST_CASE("reverse AD offsets: a 3-point stencil carried by a loop", "[ad][offsets]") {
  // y <- M y, s times (Mij = w0 [j = i-1] + w1 [j = i] + w2 [j = i+1] inside,
  // the identity at both ends); f = sum(y^2), so da = 2 (M^T)^s M^s a.
  const std::string src = R"(fn f(a: f64[n], s: i64) -> f64 {
  var y = a
  for t in 0..s {
    y = [if i == 0 or i == n - 1 { y[i] } else { 0.25 * y[i - 1] + 0.5 * y[i] - 0.75 * y[i + 1] } for i in 0..n]
  }
  sum(y * y)
}
)";
  const std::vector<double> a{0.3, -1.2, 2.0, 0.7, -0.4};
  const size_t n = a.size();
  const int steps = 3;
  std::vector<std::vector<double>> M(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i) {
    if (i == 0 || i == n - 1) {
      M[i][i] = 1;
      continue;
    }
    M[i][i - 1] = 0.25, M[i][i] = 0.5, M[i][i + 1] = -0.75;
  }
  auto apply = [&](const std::vector<double>& v, bool transposed) {
    std::vector<double> out(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) out[i] += (transposed ? M[j][i] : M[i][j]) * v[j];
    return out;
  };
  std::vector<double> y = a;
  for (int t = 0; t < steps; ++t) y = apply(y, false);
  for (double& v : y) v *= 2;
  for (int t = 0; t < steps; ++t) y = apply(y, true);
  checkGrad(src, "f", {vec(a), RtValue::i64(steps)}, y);
  std::string ir = gradIR(src, "f", {0});
  INFO(ir);
  CHECK(shiftedScatters(ir) == 0);
}

TEST_CASE("reverse AD offsets: 2-D reads A[i, j - 1] and A[i - 1, j]", "[ad][offsets]") {
  const int64_t n = 3, m = 4;
  std::vector<double> A;
  for (int64_t k = 0; k < n * m; ++k) A.push_back(0.1 * double(k) - 0.45 + 0.05 * double(k % 3));
  auto at = [&](int64_t i, int64_t j) { return A[size_t(i * m + j)]; };
  // f = sum over i of A[i, 0] + sum over j >= 1 of A[i, j] A[i, j - 1]:
  // dA[i, j] = [j = 0] + A[i, j-1] + A[i, j+1] (in range); cols likewise
  std::vector<double> rows, cols;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      rows.push_back((j >= 1 ? at(i, j - 1) : 0.0) + (j + 1 < m ? at(i, j + 1) : 0.0));
      cols.push_back((i >= 1 ? at(i - 1, j) : 0.0) + (i + 1 < n ? at(i + 1, j) : 0.0));
    }
  // (one step of a loop, which keeps B a map: f = sum(B))
  for (int64_t i = 0; i < n; ++i) rows[size_t(i * m)] += 1.0;
  for (int64_t j = 0; j < m; ++j) cols[size_t(j)] += 1.0;
  const std::string src = R"(fn rows(A: f64[n, m]) -> f64 {
  var B = A
  for t in 0..1 { B = [if j == 0 { B[i, j] } else { B[i, j] * B[i, j - 1] } for i in 0..n, j in 0..m] }
  sum(B)
}
fn cols(A: f64[n, m]) -> f64 {
  var B = A
  for t in 0..1 { B = [if i == 0 { B[i, j] } else { B[i, j] * B[i - 1, j] } for i in 0..n, j in 0..m] }
  sum(B)
}
)";
  checkGrad(src, "rows", {mat(n, m, A)}, rows);
  checkGrad(src, "cols", {mat(n, m, A)}, cols);
  for (const char* fn : {"rows", "cols"}) {
    std::string ir = gradIR(src, fn, {0});
    INFO(ir);
    CHECK(shiftedScatters(ir) == 0);
  }
}

TEST_CASE("reverse AD offsets: a reduce over 1..n reading a[i - 1]", "[ad][offsets]") {
  // f = sum_{i=1}^{n-1} a(i) a(i-1) + exp(a(i-1)):
  // da_j = a(j-1) [j >= 1] + (a(j+1) + exp(a(j))) [j + 1 < n]
  const std::vector<double> a{0.2, -0.5, 1.5, 0.1};
  std::vector<double> da;
  for (size_t j = 0; j < a.size(); ++j)
    da.push_back((j >= 1 ? a[j - 1] : 0.0) + (j + 1 < a.size() ? a[j + 1] + std::exp(a[j]) : 0.0));
  const std::string src = "fn f(a: f64[n]) -> f64 { sum(a[i] * a[i - 1] + exp(a[i - 1]) for i in 1..n) }\n";
  checkGrad(src, "f", {vec(a)}, da);
  std::string ir = gradIR(src, "f", {0});
  INFO(ir);
  CHECK(shiftedScatters(ir) == 0);
  CHECK(ir.find("add_at") == std::string::npos);
}

TEST_CASE("reverse AD offsets: a map smaller than the array read at i + 2", "[ad][offsets]") {
  // y_i = a(i+2) * b(i) for i in 0..n-3; f = sum(y^2):
  // da_j = 2 y(j-2) b(j-2) for 2 <= j < n-1, db_i = 2 y_i a(i+2)
  const std::string src = R"(fn f(a: f64[n], b: f64[n]) -> f64 {
  let y = [a[i + 2] * b[i] for i in 0..n - 3]
  var s = 0.0
  for k in 0..n - 3 { s = s + y[k] * y[k] }
  s
}
)";
  const std::vector<double> a{1, 2, 3, 4, 5, 6}, b{0.5, -1, 0.25, 2, 3, -4};
  const size_t n = a.size();
  std::vector<double> da(n, 0.0), db(n, 0.0);
  for (size_t i = 0; i + 3 < n; ++i) {
    double y = a[i + 2] * b[i];
    da[i + 2] = 2 * y * b[i];
    db[i] = 2 * y * a[i + 2];
  }
  std::vector<double> analytic = da;
  analytic.insert(analytic.end(), db.begin(), db.end());
  checkGrad(src, "f", {vec(a), vec(b)}, analytic);
  std::string ir = gradIR(src, "f", {0});
  INFO(ir);
  CHECK(shiftedScatters(ir) == 0);
}

TEST_CASE("reverse AD offsets: reads inside untaken branches", "[ad][offsets]") {
  // y_i = b_i a(i-1) where i > 0 and b_i > 0, else 2 a_i (a[i - 1] is never
  // read where b_i <= 0, nor at i = 0); f = sum(y^2).
  const std::string src = R"(fn f(a: f64[n], b: f64[n]) -> f64 {
  let y = [if i > 0 and b[i] > 0.0 { b[i] * a[i - 1] } else { 2.0 * a[i] } for i in 0..n]
  var s = 0.0
  for k in 0..n { s = s + y[k] * y[k] }
  s
}
)";
  const std::vector<double> a{1.5, -2, 0.5, 3}, b{2, -1, 0.5, 4};
  const size_t n = a.size();
  std::vector<double> da(n, 0.0), db(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && b[i] > 0) {
      double y = b[i] * a[i - 1];
      da[i - 1] += 2 * y * b[i];
      db[i] = 2 * y * a[i - 1];
    } else {
      da[i] += 2 * (2 * a[i]) * 2;
    }
  }
  std::vector<double> analytic = da;
  analytic.insert(analytic.end(), db.begin(), db.end());
  checkGrad(src, "f", {vec(a), vec(b)}, analytic);
  // never taken: the branch's read contributes nothing
  const std::string never = R"(fn g(a: f64[n]) -> f64 {
  let y = [if i > 100 { a[i - 1] * 7.0 } else { 0.5 } for i in 0..n]
  var s = 0.0
  for k in 0..n { s = s + y[k] * a[k] }
  s
}
)";
  checkGrad(never, "g", {vec({1, 2, 3})}, {0.5, 0.5, 0.5});
}

namespace {

const char* kOde = R"(fn rhs(x: f64[n], y: f64[n]) -> f64[n] {
    [if i == 0 { x[0] } else { x[i] * y[i - 1] } for i in 0..n]
}

fn ode_last(x: f64[n], s: i64) -> f64 {
    let h = 2.0 / f64(s)
    var y = zeros(n)
    for step in 0..s {
        let k1 = rhs(x, y)
        let k2 = rhs(x, [y[i] + h / 2.0 * k1[i] for i in 0..n])
        let k3 = rhs(x, [y[i] + h / 2.0 * k2[i] for i in 0..n])
        let k4 = rhs(x, [y[i] + h * k3[i] for i in 0..n])
        y = [y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) for i in 0..n]
    }
    y[n - 1]
}
)";

// bench/models/ode.chain's objective and its exact gradient by forward-mode
// (tangents propagated through the same RK4 steps, one per x_j).
std::vector<double> odeGradient(const std::vector<double>& x, int s) {
  const size_t n = x.size();
  const double h = 2.0 / s;
  auto rhs = [&](const std::vector<double>& y, const std::vector<double>& dy, size_t j,
                 std::vector<double>& f, std::vector<double>& df) {
    f.assign(n, 0.0), df.assign(n, 0.0);
    f[0] = x[0], df[0] = j == 0 ? 1.0 : 0.0;
    for (size_t i = 1; i < n; ++i) {
      f[i] = x[i] * y[i - 1];
      df[i] = x[i] * dy[i - 1] + (i == j ? y[i - 1] : 0.0);
    }
  };
  std::vector<double> grad;
  for (size_t j = 0; j < n; ++j) {
    std::vector<double> y(n, 0.0), dy(n, 0.0), k[4], dk[4], t(n), dt(n);
    for (int step = 0; step < s; ++step) {
      rhs(y, dy, j, k[0], dk[0]);
      const double c[3] = {h / 2, h / 2, h};
      for (int q = 0; q < 3; ++q) {
        for (size_t i = 0; i < n; ++i) t[i] = y[i] + c[q] * k[q][i], dt[i] = dy[i] + c[q] * dk[q][i];
        rhs(t, dt, j, k[q + 1], dk[q + 1]);
      }
      for (size_t i = 0; i < n; ++i) {
        y[i] += h / 6 * (k[0][i] + 2 * k[1][i] + 2 * k[2][i] + k[3][i]);
        dy[i] += h / 6 * (dk[0][i] + 2 * dk[1][i] + 2 * dk[2][i] + dk[3][i]);
      }
    }
    grad.push_back(dy[n - 1]);
  }
  return grad;
}

}  // namespace

TEST_CASE("reverse AD offsets: the ode benchmark model", "[ad][offsets]") {
  const std::vector<double> x{0.7, -0.3, 1.1, 0.4, 0.9};
  const int s = 3;
  std::vector<double> analytic = odeGradient(x, s);
  CHECK(analytic.back() != 0.0);  // n <= 4 s: the last element depends on every x
  checkGrad(kOde, "ode_last", {vec(x), RtValue::i64(s)}, analytic);
  // The y adjoints of the rhs maps are maps over y, not scatter-adds at
  // i - 1 in a for loop over i (4 such loops per step before).
  std::string ir = gradIR(kOde, "ode_last", {0});
  INFO(ir);
  CHECK(shiftedScatters(ir) == 0);
}

TEST_CASE("reverse AD: invariant reads inside if beside identity reads", "[ad][offsets]") {
  // y0 = 3 w0, yi = wi * a(i-1) (i >= 1); f = sum(y^2). w is read at i and,
  // in the branch i == 0, at the invariant index 0: its adjoint is a map plus
  // one register sum (then folded to its one nonzero term), with no loop of
  // scatter-adds.
  const std::string src = R"(fn f(a: f64[n], w: f64[n]) -> f64 {
  let y = [if i == 0 { 3.0 * w[0] } else { w[i] * a[i - 1] } for i in 0..n]
  var s = 0.0
  for k in 0..n { s = s + y[k] * y[k] }
  s
}
)";
  // y = [1.5, -1, 4]: da = [2 y1 w1, 2 y2 w2, 0], dw0 = 2 y0 * 3, dwi = 2 yi a(i-1)
  checkGrad(src, "f", {vec({1, 2, 3}), vec({0.5, -1, 2})}, {2, 16, 0, 9, -2, 16});
  std::string ir = gradIR(src, "f", {1});
  INFO(ir);
  // no `for` over the map's index: the only loops are the source's own `for k`
  // (forward and reverse)
  size_t loops = 0;
  for (size_t at = ir.find(" = for "); at != std::string::npos; at = ir.find(" = for ", at + 1)) ++loops;
  CHECK(loops == 2);
  // w[0]'s register sum, sum(i == 0 ? e(i) : 0 for i), is simplified to e(0)
  CHECK(ir.find("reduce sum") == std::string::npos);
}

TEST_CASE("reverse AD: an invariant read in a branch never taken is not flushed out of range", "[ad][offsets]") {
  // w[7] is out of range for n = 3, but i > 5 never holds: its register sum
  // is 0 and must not be added at index 7.
  const std::string src = R"(fn f(w: f64[n]) -> f64 {
  sum([if i > 5 { w[7] } else { w[i] * w[i] } for i in 0..n])
}
)";
  checkGrad(src, "f", {vec({0.5, -1, 2})}, {1, -2, 4});
}
