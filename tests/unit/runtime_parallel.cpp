// Parallel maps and reductions (issue 13, runtime/rt/Parallel.h and
// runtime/codegen/CodegenParallel.cpp): every result, primal and gradient,
// is the same bits for 1, 2, 3 and 8 threads -- on models with loops big
// enough to be cut into many chunks, and on random programs compiled with a
// grain of 1 (every loop in one-iteration chunks); a runtime error inside a
// chunk is the one a serial run reports; several application threads may
// call one function at once.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <thread>

#include "chain/chain.h"
#include "tests/random/Differential.h"
#include "tests/unit/same_bits_util.h"

using namespace chain;

namespace {

using samebits::flat;
using samebits::sameBits;

Module compileWith(const std::string& src, int threads, int64_t grain = 0) {
  Options o;
  o.threads = threads;
  o.parallelGrain = grain;
  return Jit(o).compile_string(src, "par.chain");
}

Value randomArray(std::mt19937_64& rng, std::vector<int64_t> shape, double scale = 1.0) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::normal_distribution<double> g(0.0, scale);
  std::vector<double> xs(static_cast<size_t>(n));
  for (double& x : xs) x = g(rng);
  return Value(Tensor::fromValues(DType::F64, std::move(shape), xs));
}

// A model with every kind of parallel loop: maps (rank 1 and 2), sum,
// logsumexp (cheap and costly bodies), max, nested generators, matmul.
const char* kModel = R"(
fn f(W: f64[h, d], x: f64[n, d], b: f64[h]) -> f64 {
    let z = [tanh(sum(W[j, k] * x[i, k] for k in 0..d) + b[j]) for i in 0..n, j in 0..h]
    let s = [logsumexp(z[i]) for i in 0..n]
    let m = max(x[i, 0] for i in 0..n)
    let p = x @ transpose(W)
    sum(s) + logsumexp(exp(z[i, 0]) for i in 0..n) + logsumexp(x[:, 1]) + m + 0.001 * sum(p * p)
}
)";

}  // namespace

TEST_CASE("parallel: a model's value and gradient are the same bits for 1, 2, 3 and 8 threads", "[parallel]") {
  std::mt19937_64 rng(13);
  std::vector<Value> args{randomArray(rng, {24, 16}), randomArray(rng, {20000, 16}), randomArray(rng, {24})};
  std::vector<double> want, wantGrad;
  for (int threads : {1, 2, 3, 8}) {
    Module m = compileWith(kModel, threads);
    std::vector<double> v = flat(m.function("f")(args));
    std::vector<double> g = flat(m.gradient("f", {"W", "x", "b"}, true)(args));
    INFO("threads " << threads);
    if (want.empty()) {
      want = v, wantGrad = g;
      REQUIRE(std::isfinite(v[0]));
      REQUIRE(g.size() == 1 + 24 * 16 + 20000 * 16 + 24);
      continue;
    }
    CHECK(sameBits(v, want));
    CHECK(sameBits(g, wantGrad));
  }
  // The chunked sums agree with the interpreter's serial ones to rounding.
  Module m = compileWith(kModel, 2);
  double interp = m.function("f").interpret(args).asDouble();
  CHECK(want[0] == Approx(interp).epsilon(1e-12));
}

TEST_CASE("parallel: random programs give the same bits at 1 and 3 threads in one-iteration chunks", "[parallel][random]") {
  int same = 0;
  for (uint64_t seed = 7000; seed < 7040; ++seed) {
    testgen::GenOptions g;
    g.arrays = true;
    g.maxStmts = 3;
    testgen::Program p = testgen::ProgramGenerator(seed, g).generate();
    Module m1 = compileWith(p.source, 1, /*grain=*/1);
    Module m3 = compileWith(p.source, 3, /*grain=*/1);
    Function f1 = m1.gradient(p.entry, {}, true), f3 = m3.gradient(p.entry, {}, true);
    Function serial = compileWith(p.source, 1).gradient(p.entry, {}, true);  // one chunk per loop
    testgen::Rng rng(seed);
    for (int k = 0; k < 3; ++k) {
      testgen::detail::Point pt = testgen::detail::makePoint(p, rng);
      std::string e1, e3;
      std::vector<double> r1, r3;
      try { r1 = flat(f1(pt.api)); } catch (const RuntimeError& e) { e1 = e.what(); }
      try { r3 = flat(f3(pt.api)); } catch (const RuntimeError& e) { e3 = e.what(); }
      INFO("seed " << seed << " args " << pt.text << "\n" << p.source);
      CHECK(e1 == e3);
      CHECK(sameBits(r1, r3));
      if (!e1.empty()) continue;
      // the chunked sums (reduces, accumulating gradient loops) agree with one chunk
      std::vector<double> r0 = flat(serial(pt.api));
      REQUIRE(r0.size() == r1.size());
      for (size_t j = 0; j < r0.size(); ++j) CHECK(testgen::detail::close(r1[j], r0[j], 1e-12));
      ++same;
    }
  }
  CHECK(same > 60);
}

TEST_CASE("parallel: an error inside a chunk is the one the serial loop reports first", "[parallel][tsan]") {
  // Indices 50000 (element 70000) and 90000 (element 190000) are out of
  // bounds; the first one in index order is reported whatever the threads.
  const char* src = R"(
fn f(x: f64[n], idx: i64[m]) -> f64 {
    sum([x[idx[i]] * 2.0 for i in 0..m])
}
)";
  std::vector<double> xs(40000, 1.0);
  std::vector<double> is(200000);
  for (size_t k = 0; k < is.size(); ++k) is[k] = double(k % 40000);
  is[70000] = 50000;
  is[190000] = 90000;
  std::vector<Value> args{Value(Tensor::fromValues(DType::F64, {40000}, xs)),
                          Value(Tensor::fromValues(DType::I64, {200000}, is))};
  for (int threads : {1, 2, 3, 8})
    for (int64_t grain : {0, 1}) {
      INFO("threads " << threads << " grain " << grain);
      Function f = compileWith(src, threads, grain).function("f");
      try {
        f(args);
        FAIL("no runtime error");
      } catch (const RuntimeError& e) {
        CHECK(std::string(e.what()) == "par.chain:3:10: index 50000 is out of bounds for axis 0 of size 40000");
      }
    }
}

TEST_CASE("parallel: several application threads call one function at once", "[parallel][tsan]") {
  Module m = compileWith(kModel, 2);
  Function g = m.gradient("f", {"W", "x", "b"}, true);
  std::mt19937_64 rng(5);
  std::vector<Value> args{randomArray(rng, {8, 16}), randomArray(rng, {6000, 16}), randomArray(rng, {8})};
  std::vector<double> want = flat(g(args));
  std::vector<std::vector<double>> got(4);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < got.size(); ++t)
    pool.emplace_back([&, t] {
      for (int k = 0; k < 3; ++k) got[t] = flat(g(args));
    });
  for (auto& t : pool) t.join();
  for (const auto& r : got) CHECK(sameBits(r, want));
}

TEST_CASE("parallel: negative thread counts and grains are usage errors", "[parallel]") {
  Options o;
  o.threads = -1;
  CHECK_THROWS_AS(Jit(o), UsageError);
  o.threads = 0;
  o.parallelGrain = -5;
  CHECK_THROWS_AS(Jit(o), UsageError);
}

TEST_CASE("parallel: matrix products are the same bits however their rows are cut", "[parallel][tsan]") {
  // 103 rows: 25 tiles of 4 and 3 plain rows; 29 columns: tiles and plain
  // columns. Row blocks of any size give each element the same kernel.
  const char* src = R"(
fn f(A: f64[n, k], B: f64[k, m], x: f64[k]) -> (f64[n, m], f64[n]) {
    (A @ B, A @ x)
}
)";
  std::mt19937_64 rng(3);
  std::vector<Value> args{randomArray(rng, {103, 37}), randomArray(rng, {37, 29}), randomArray(rng, {37})};
  std::vector<double> want = flat(compileWith(src, 1).function("f")(args));
  for (int threads : {1, 2, 3, 8}) {
    INFO("threads " << threads);
    CHECK(sameBits(flat(compileWith(src, threads, /*grain=*/1).function("f")(args)), want));
  }
  std::vector<double> ref = flat(compileWith(src, 1).function("f").interpret(args));
  REQUIRE(ref.size() == want.size());
  for (size_t k = 0; k < ref.size(); ++k) CHECK(want[k] == Approx(ref[k]).epsilon(1e-13));
}

TEST_CASE("parallel: gradient loops with scatter-adds give the same bits at every thread count", "[parallel]") {
  // The reverse of the map over i scatters into g[i] (rows owned by i), into
  // c[idx[i]] (shared: private copies per chunk) and into the scalar s.
  const char* src = R"(
fn f(g: f64[n, d], c: f64[k, d], idx: i64[n], s: f64) -> f64 {
    let y = [sum(tanh(g[i, j] * c[idx[i], j] + s) for j in 0..d) for i in 0..n]
    sum(y[i] * y[i] for i in 0..n)
}
)";
  std::mt19937_64 rng(11);
  std::vector<double> is(30000);
  for (size_t k = 0; k < is.size(); ++k) is[k] = double((k * 7919) % 50);
  std::vector<Value> args{randomArray(rng, {30000, 8}), randomArray(rng, {50, 8}),
                          Value(Tensor::fromValues(DType::I64, {30000}, is)), Value(0.25)};
  std::vector<double> want;
  for (int threads : {1, 2, 3, 8}) {
    INFO("threads " << threads);
    std::vector<double> g = flat(compileWith(src, threads).gradient("f", {"g", "c", "s"})(args));
    if (want.empty()) want = g;
    CHECK(sameBits(g, want));
  }
  std::vector<double> ref = flat(compileWith(src, 1).gradient("f", {"g", "c", "s"}).interpret(args));
  REQUIRE(ref.size() == want.size());
  for (size_t k = 0; k < ref.size(); ++k) CHECK(testgen::detail::close(want[k], ref[k], 1e-11));
}

TEST_CASE("parallel: private copies merged in parallel element ranges give the same bits", "[parallel]") {
  // c[idx[i]] is scattered into from every chunk: private copies of dc
  // (4000 x 8 elements), zeroed by their chunks and merged in ranges of
  // elements, each summing the chunks in chunk order. A grain of 64 cuts the
  // loop, the zeroing and the merge into many chunks.
  const char* src = R"(
fn f(c: f64[k, d], idx: i64[n], w: f64[n]) -> f64 {
    sum(w[i] * sin(c[idx[i], j]) for i in 0..n, j in 0..d)
}
)";
  std::mt19937_64 rng(5);
  std::vector<double> is(20000);
  for (size_t k = 0; k < is.size(); ++k) is[k] = double((k * 7919) % 4000);
  std::vector<Value> args{randomArray(rng, {4000, 8}), Value(Tensor::fromValues(DType::I64, {20000}, is)),
                          randomArray(rng, {20000})};
  for (int64_t grain : {int64_t(64), int64_t(0)}) {
    std::vector<double> want;
    for (int threads : {1, 2, 3, 8}) {
      INFO("grain " << grain << ", threads " << threads);
      std::vector<double> g = flat(compileWith(src, threads, grain).gradient("f", {"c", "w"})(args));
      if (want.empty()) want = g;
      CHECK(sameBits(g, want));
    }
    std::vector<double> ref = flat(compileWith(src, 1).gradient("f", {"c", "w"}).interpret(args));
    REQUIRE(ref.size() == want.size());
    for (size_t k = 0; k < ref.size(); ++k) CHECK(testgen::detail::close(want[k], ref[k], 1e-11));
  }
}
