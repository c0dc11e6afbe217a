// The multi-threaded paths that scripts/sanitize.sh runs under
// ThreadSanitizer (tests tagged [tsan], in build-tsan's unit_tsan; in the
// normal build they are part of unit_runtime like any other test):
// Function::compileAll compiling a parallel model's functions on several
// threads at once, application threads compiling their own modules while
// calling shared functions, and application threads calling the same
// functions at once, each call cutting its loops into chunks on the shared
// 2-thread pool (maps, reductions, matmul, gradient loops with private
// accumulators). The other [tsan] tests live in runtime_parallel.cpp and
// runtime_api.cpp. JIT-compiled code is not instrumented: what TSan checks is
// the runtime around it (the API, the lazy compile, chain_rt's arenas, tapes
// and parallel entry) and LLVM's and Chain's compiler on several threads.
#include <catch2/catch.hpp>

#include <atomic>
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

Value randomArray(std::mt19937_64& rng, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> xs(static_cast<size_t>(n));
  for (double& x : xs) x = g(rng);
  return Value(Tensor::fromValues(DType::F64, std::move(shape), xs));
}

// Every kind of parallel loop, small enough for TSan: a rank-2 map with an
// inner reduction, logsumexp, max, a matmul, and (in the gradient) the
// reverse maps with scatter-adds into the shared c[idx[i]] (private
// accumulators per chunk, merged in chunk order).
const char* kModel = R"(
fn f(W: f64[h, d], x: f64[n, d], c: f64[k, d], idx: i64[n]) -> f64 {
    let z = [tanh(sum(W[j, q] * x[i, q] for q in 0..d) + c[idx[i], j % d]) for i in 0..n, j in 0..h]
    let s = [logsumexp(z[i]) for i in 0..n]
    let p = x @ transpose(W)
    sum(s) + max(x[i, 0] for i in 0..n) + 0.001 * sum(p * p)
}
fn g(x: f64[n, d], c: f64[k, d], idx: i64[n]) -> f64 {
    sum(tanh(x[i, q] * c[idx[i], q]) for i in 0..n, q in 0..d)
}
)";

std::vector<Value> modelArgs(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> is(2000);
  for (size_t k = 0; k < is.size(); ++k) is[k] = double((k * 7919) % 13);
  return {randomArray(rng, {6, 8}), randomArray(rng, {2000, 8}), randomArray(rng, {13, 8}),
          Value(Tensor::fromValues(DType::I64, {2000}, is))};
}

Module compileModel(int threads) {
  Options o;
  o.threads = threads;
  o.parallelGrain = 64;  // many chunks even for these small loops
  o.cache = false;       // compile for real, on the threads that ask
  return Jit(o).compile_string(kModel, "tsan.chain");
}

}  // namespace

TEST_CASE("threads: compileAll compiles a parallel model's functions at once, then calls them", "[tsan]") {
  std::vector<Value> args = modelArgs(1);
  std::vector<Value> gargs{args[1], args[2], args[3]};
  // The reference: one thread, compiled lazily one function after the other.
  Module ref = compileModel(1);
  std::vector<double> want = flat(ref.gradient("f", {"W", "x", "c"}, true)(args));
  std::vector<double> wantG = flat(ref.gradient("g", {"x", "c"}, true)(gargs));
  Module m = compileModel(2);
  std::vector<Function> fns{m.function("f"), m.gradient("f", {"W", "x", "c"}, true), m.function("g"),
                            m.gradient("g", {"x", "c"}, true)};
  Function::compileAll(fns);
  for (const Function& f : fns) CHECK(f.isCompiled());
  CHECK(flat(fns[0](args))[0] == want[0]);
  CHECK(sameBits(flat(fns[1](args)), want));
  CHECK(sameBits(flat(fns[3](gargs)), wantG));
  CHECK(flat(fns[2](gargs))[0] == wantG[0]);
}

TEST_CASE("threads: application threads call the same parallel functions at once", "[tsan]") {
  Module m = compileModel(2);
  Function f = m.function("f"), df = m.gradient("f", {"W", "x", "c"}, true);
  std::vector<Value> args = modelArgs(2);
  const std::vector<double> want = flat(df(args));
  const double wantF = flat(f(args))[0];
  std::atomic<int> bad{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      for (int k = 0; k < 3; ++k) {
        // half the threads take the gradient, half the value, interleaved
        if ((t + k) % 2 == 0)
          bad += !sameBits(flat(df(args)), want);
        else
          bad += flat(f(args))[0] != wantF;
      }
    });
  for (auto& th : pool) th.join();
  CHECK(bad == 0);
}

// 8 threads at once: each compiles its own generated programs (frontend, AD,
// LLVM) while calling two functions compiled before the threads started.
TEST_CASE("threads: compiling modules while calling shared compiled functions", "[threads][tsan]") {
  Module shared = Jit().compile_string(
      "fn f(x: f64, v: f64[n]) -> f64 {\n    var s = x\n    for i in 0..n { s = sin(s) + v[i] * x }\n"
      "    s + logsumexp(v * x)\n}\n",
      "shared.chain");
  Function f = shared.function("f"), g = shared.gradient("f", {}, true);
  Value v = Tensor::fromValues(DType::F64, {64}, std::vector<double>(64, 0.25));
  const double fRef = f({0.3, v}).asDouble();
  const double gRef = g({0.3, v}).tuple()[1].tuple()[0].asDouble();
  std::atomic<int> bad{0}, compiled{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 3; ++k) {
        testgen::GenOptions opts;
        opts.grad = false;  // (nested derivatives compile slowly under ThreadSanitizer)
        testgen::Program p = testgen::ProgramGenerator(uint64_t(9000 + 10 * t + k), opts).generate();
        try {
          Module m = Jit().compile_string(p.source, "thread.chain");
          std::vector<Value> args;
          for (auto& ps : p.params) args.push_back(ps.kind == 'f' ? Value(0.5) : Value(int64_t(2)));
          m.gradient(p.entry, {}, true)(args);
          ++compiled;
        } catch (const RuntimeError&) {
          ++compiled;  // (a generated division by zero)
        } catch (const std::exception&) {
          ++bad;  // must not happen: counted here, not thrown out of the thread
        }
        for (int c = 0; c < 20; ++c) {
          bad += f({0.3, v}).asDouble() != fRef;
          bad += g({0.3, v}).tuple()[1].tuple()[0].asDouble() != gRef;
        }
      }
    });
  for (auto& th : threads) th.join();
  CHECK(compiled == 24);
  CHECK(bad == 0);
}
