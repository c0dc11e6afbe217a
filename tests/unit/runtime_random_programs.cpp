// Random-program differential testing through the public API: a fixed-seed
// run of generated Chain programs (tests/random/ProgramGenerator.h), each
// compiled once and checked by tests/random/Differential.h (JIT -O2/-O0 vs the
// IR interpreter, the JIT gradient vs the interpreted reverse-AD output and vs
// finite differences). The environment variables CHAIN_RANDOM_PROGRAMS,
// CHAIN_RANDOM_SEED and CHAIN_RANDOM_OUT (a folder for failing programs) turn
// the same test into the longer campaign of scripts/random-programs.sh;
// CHAIN_RANDOM_HESSIAN=K checks the Hessian of one program in K (default 8)
// besides half of those that call derivatives; CHAIN_RANDOM_MAX_ORDER bounds
// the derivative order of the generated calls (GenOptions::maxOrder, 2).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "tests/random/Differential.h"

using namespace chain::testgen;

namespace {

uint64_t envOr(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : dflt;
}

// Generates and checks `count` programs from `seed` on `threads` threads
// (compiled modules are independent); returns the failures in seed order.
std::vector<std::string> campaign(uint64_t seed, int count, bool arrays, int threads, DiffStats& st) {
  std::vector<std::pair<uint64_t, std::string>> failures;
  std::mutex mu;
  std::atomic<int> next{0};
  const char* outDir = std::getenv("CHAIN_RANDOM_OUT");
  const int hessEvery = std::max(1, int(envOr("CHAIN_RANDOM_HESSIAN", 8)));
  const int maxOrder = int(envOr("CHAIN_RANDOM_MAX_ORDER", uint64_t(GenOptions{}.maxOrder)));
  auto worker = [&] {
    DiffStats local;
    for (int k = next++; k < count; k = next++) {
      uint64_t s = seed + uint64_t(k);
      GenOptions g;
      g.arrays = arrays;
      g.maxOrder = maxOrder;
      if (arrays) g.maxStmts = 3;  // array gradients take longer to compile
      Program p = ProgramGenerator(s, g).generate();
      DiffOptions d;
      d.checkPrimal = d.checkO0 = k % 4 == 0;  // a quarter: JIT compiles dominate the time
      // An eighth (one in CHAIN_RANDOM_HESSIAN), and half of those calling
      // derivatives (up to fourth order then): forward over reverse compiles slowest.
      d.checkHessian = k % hessEvery == 3 % hessEvery || (p.usesGrad && k % 2 == 1);
      std::string r;
      try {
        r = checkProgram(p, s, d, local);
      } catch (const std::exception& e) {
        r = std::string("unexpected exception: ") + e.what() + "\n--- program (seed " + std::to_string(s) +
            ") ---\n" + p.source;
      }
      if (r.empty()) continue;
      std::lock_guard<std::mutex> lock(mu);
      failures.push_back({s, r});
      if (outDir)
        std::ofstream(std::string(outDir) + "/seed-" + std::to_string(s) + (arrays ? "-arrays" : "") + ".chain")
            << "# " << r.substr(0, r.find("--- program")) << p.source;
    }
    std::lock_guard<std::mutex> lock(mu);
    st.add(local);
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  std::sort(failures.begin(), failures.end());
  std::vector<std::string> out;
  for (auto& f : failures) out.push_back(f.second);
  return out;
}

void run(const char* label, uint64_t seed, int count, bool arrays) {
  DiffStats st;
  auto t0 = std::chrono::steady_clock::now();
  int threads = int(envOr("CHAIN_RANDOM_THREADS", 2));
  std::vector<std::string> failures = campaign(seed, count, arrays, threads, st);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << label << ": " << st.programs << " programs, " << st.points << " points (" << st.runtimeErrors
            << " runtime errors), " << st.gradChecked << " gradients JIT==interpreter, " << st.fdChecked
            << " partials vs finite differences (" << st.fdSkipped << " skipped as non-smooth), "
            << st.hessChecked << " hessians vs finite differences (" << st.hessSkipped << " skipped as non-smooth), "
            << st.hvpChecked << " hvp == H v, "
            << st.nonFinite << " non-finite values, " << st.deadTraps << " dead failing ops removed, "
            << failures.size() << " failures, " << secs << " s\n";
  for (size_t k = 0; k < failures.size() && k < 5; ++k) {
    INFO(failures[k]);
    CHECK(false);
  }
  CHECK(failures.empty());
}

}  // namespace

TEST_CASE("random scalar programs: JIT, interpreter and finite differences agree", "[random]") {
  uint64_t seed = envOr("CHAIN_RANDOM_SEED", 1);
  int count = int(envOr("CHAIN_RANDOM_PROGRAMS", 2000));
  run("random scalar programs", seed, count * 7 / 8, false);
}

TEST_CASE("random array programs: JIT, interpreter and finite differences agree", "[random]") {
  uint64_t seed = envOr("CHAIN_RANDOM_SEED", 1) + 1000000007ull;
  int count = int(envOr("CHAIN_RANDOM_PROGRAMS", 2000)) / 8;  // (array gradients compile slower)
  run("random array programs", seed, count, true);
}

TEST_CASE("random programs: the differential checker detects a wrong gradient", "[random]") {
  // stop_gradient makes the AD gradient differ from finite differences on
  // purpose; declared as a program without it, the checker must object.
  Program p;
  p.source = "fn f(x0: f64) -> f64 {\n    x0 * stop_gradient(x0)\n}\n";
  p.params = {{"x0", 'f'}};
  DiffStats st;
  std::string r = checkProgram(p, 7, DiffOptions{}, st);
  CHECK(r.find("finite differences") != std::string::npos);
  p.hasStopGradient = true;
  CHECK(checkProgram(p, 7, DiffOptions{}, st) == "");
  // A runtime error must be the same in the JIT and the interpreter.
  p.source = "fn f(x0: f64, n0: i64) -> f64 {\n    x0 * f64(4 / (n0 - n0))\n}\n";
  p.params = {{"x0", 'f'}, {"n0", 'i'}};
  CHECK(checkProgram(p, 7, DiffOptions{}, st) == "");
  CHECK(st.runtimeErrors == 3);
  // The Hessian checks run once per program asked for, on a point without an error.
  DiffOptions h;
  h.checkHessian = true;
  p.source = "fn h0(a0: f64, a1: f64) -> f64 {\n    a0 * a0 * sin(a1)\n}\n\n"
             "fn f(x0: f64, u0: f64[n]) -> f64 {\n    hessian(h0, wrt=a1)(x0, sum(u0)) * sum(u0 * u0)\n}\n";
  p.params = {{"x0", 'f'}, {"u0", 'a'}};
  p.hasStopGradient = false;
  p.usesGrad = true;
  DiffStats sh;
  CHECK(checkProgram(p, 8, h, sh) == "");
  CHECK(checkProgram(p, 1, h, sh) == "");  // (seed 8: wrt u0, seed 1: wrt x0)
  CHECK(sh.hvpChecked == 2);
  CHECK(sh.hessChecked + sh.hessSkipped == 2);
}
