// Generated-code performance, logsumexp: a reduce whose body is costly is
// evaluated once per element (a running max, CodegenArrayLoops.cpp), and
// gives the same values as the two-pass form on ordinary, large, -inf, +inf
// and NaN inputs and on empty ranges; a plain-load body keeps its two passes.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "codegen_array_util.h"

using namespace cgtest;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// r(x: f64[?], lo, hi) = logsumexp over i in lo..hi of body(x[i]).
FnBuilder lseBuilder(const std::function<Value*(ir::Builder&, Value*)>& body) {
  FnBuilder fb("r", {F64A(1), Type::i64(), Type::i64()});
  Value* r = reduceOf(fb.b, "logsumexp", Type::f64(), fb.p(1), fb.p(2),
                      [&](ir::Builder& in, Value* i) { return body(in, at(in, fb.p(0), {i})); });
  fb.ret({r});
  return fb;
}

// -(-x): two arithmetic ops (not a "cheap" body), exact for every double.
Value* negNeg(ir::Builder& in, Value* x) { return in.unary(AK::Neg, in.unary(AK::Neg, x)); }
Value* plain(ir::Builder&, Value* x) { return x; }

double run(const Compiled& c, std::vector<double> xs, int64_t lo, int64_t hi) {
  ArrArg<double> x(xs, {static_cast<int64_t>(xs.size())});
  double out = 0;
  RawCall r = callRaw(c.entry, {x.ptr(), &lo, &hi}, {&out});
  REQUIRE(r.status == 0);
  return out;
}

double reference(const std::vector<double>& xs) {
  double m = -kInf;
  for (double x : xs) m = std::isnan(x) || std::isnan(m) ? kNaN : std::max(m, x);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (double x : xs) s += std::exp(x - m);
  return m + std::log(s);
}

size_t countCalls(const std::string& ir, const std::string& callee) {
  size_t n = 0;
  for (size_t p = ir.find(callee); p != std::string::npos; p = ir.find(callee, p + 1))
    if (ir.rfind("call", p) != std::string::npos && ir.rfind('\n', p) < ir.rfind("call", p)) ++n;
  return n;
}

}  // namespace

TEST_CASE("perf: logsumexp of a costly body agrees with the two-pass form", "[codegen][perf]") {
  FnBuilder fbOnline = lseBuilder(negNeg), fbTwo = lseBuilder(plain);
  Compiled online = compile(fbOnline), two = compile(fbTwo);
  std::vector<std::vector<double>> cases = {
      {3, -1.5, 8, 0.25, 2},
      {1000, 1000},
      {-1000, -1001},
      {-kInf, -kInf},
      {-kInf, 1.0, -kInf, 2.0},      // -inf first: the running sum must not turn NaN
      {-kInf, -kInf, 5.0},
      {kInf, 1},
      {1, kInf, kInf},
      {1, kNaN, 3},
      {kNaN, -kInf},
      {-kInf, kInf},
      {2, 7, 1, 8, 2, 8, 1, 8, 2, 8},  // increasing and repeated maxima
  };
  for (const auto& xs : cases) {
    double want = reference(xs);
    int64_t n = static_cast<int64_t>(xs.size());
    double a = run(online, xs, 0, n), b = run(two, xs, 0, n);
    INFO("case of " << n << " elements, first " << xs[0] << ", want " << want << ", online " << a);
    if (std::isnan(want)) {
      CHECK(std::isnan(a));
      CHECK(std::isnan(b));
    } else if (std::isinf(want)) {
      CHECK(a == want);
      CHECK(b == want);
    } else {
      CHECK(a == Approx(want).epsilon(1e-14));
      CHECK(b == Approx(want).epsilon(1e-14));
    }
  }
  CHECK(run(online, {1, 2, 3}, 2, 2) == -kInf);  // empty ranges: the identity
  CHECK(run(online, {1, 2, 3}, 3, 1) == -kInf);
  CHECK(run(online, {1, 2, 3}, 1, 3) == Approx(std::log(std::exp(2.0) + std::exp(3.0))));
  // A long random vector (vectorised two-pass vs running max).
  std::mt19937_64 rng(7);
  std::normal_distribution<double> g(0.0, 30.0);
  std::vector<double> big(4099);
  for (double& x : big) x = g(rng);
  CHECK(run(online, big, 0, 4099) == Approx(reference(big)).epsilon(1e-13));
  CHECK(run(two, big, 0, 4099) == Approx(reference(big)).epsilon(1e-13));
}

TEST_CASE("perf: a costly logsumexp body is emitted once, a load twice", "[codegen][perf]") {
  auto tanhBody = [](ir::Builder& in, Value* x) { return in.unary(AK::Tanh, x); };
  FnBuilder costly = lseBuilder(tanhBody);
  std::string ir = codegen::emitLLVM(costly.mod, {costly.fn}, {}, /*optimized=*/false);
  INFO(ir);
  CHECK(countCalls(ir, "tanh") == 1);
  // The running max reaches the right value through tanh as well.
  Compiled c = compile(costly);
  double want = std::log(std::exp(std::tanh(0.5)) + std::exp(std::tanh(-2.0)) + std::exp(std::tanh(3.0)));
  CHECK(run(c, {0.5, -2.0, 3.0}, 0, 3) == Approx(want).epsilon(1e-14));
  // A plain load keeps the two vectorisable passes: two loops in the IR.
  FnBuilder load = lseBuilder(plain);
  std::string ir2 = codegen::emitLLVM(load.mod, {load.fn}, {}, false);
  // (one more of each where the chunks' partials are combined, CodegenParallel.cpp)
  CHECK(countCalls(ir2, "llvm.maximum") == 2);
  CHECK(countCalls(ir2, "llvm.exp") == 2);
  CHECK(countCalls(ir, "llvm.maximum") == 2);
}
