// Scaling tests of the compile pipeline's call-graph walks (issue 5):
// runtime/Pipeline.cpp collects the functions reachable from the compiled one
// and looks for grad calls among them (nested differentiation, an error of
// the functions that need it). Both walks are iterative (a worklist,
// so a 20,000-deep call chain does not recurse 20,000 deep) and linear (a
// visited set; a call DAG whose paths double at each level is walked once per
// function, not once per path). The timings are checked by hand (see the
// report of issue 5), not here. (The inliner, passes/Inline.cpp, recurses
// once per inlined call level, so the checker limits call chains to
// passes::kMaxCallDepth levels.)
#include <catch2/catch.hpp>

#include <chain/chain.h>

#include <string>

namespace {

// c0 .. c{n-1}, one a line; c_i(x) = c_{i-1}(x) + 1.0, c0(x) = x + 1.0.
std::string callChain(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    std::string callee = i > 0 ? "c" + std::to_string(i - 1) + "(x)" : "x";
    s += "fn c" + std::to_string(i) + "(x: f64) -> f64 { " + callee + " + 1.0 }\n";
  }
  return s;
}

// p0(x) = <base>; p_i(x) = p_{i-1}(x) + p_{i-1}(x): 2^levels call paths
// from the top to p0, each function called twice.
std::string doublingDag(const std::string& p, const std::string& base, int levels) {
  std::string s = "fn " + p + "0(x: f64) -> f64 { " + base + " }\n";
  for (int i = 1; i <= levels; ++i)
    s += "fn " + p + std::to_string(i) + "(x: f64) -> f64 { " + p + std::to_string(i - 1) + "(x) + " +
         p + std::to_string(i - 1) + "(x) }\n";
  return s;
}

}  // namespace

TEST_CASE("scaling: a 2,000-deep call chain compiles and runs; 20,000 deep is a diagnostic", "[runtime][scaling]") {
  const int n = 2001;  // c2000 calls 2,000 deep: passes::kMaxCallDepth
  chain::Module m = chain::Jit().compile_string(callChain(n), "chain.chain");
  std::string top = "c" + std::to_string(n - 1);
  CHECK(m.function(top)({1.0}).asDouble() == Approx(1.0 + n));
  CHECK(m.function("c0")({1.0}).asDouble() == Approx(2.0));
  CHECK(m.gradient(top)({1.0}).asDouble() == Approx(1.0));
  try {
    chain::Jit().compile_string(callChain(20000), "chain.chain");
    FAIL("a 20,000-deep call chain compiled");
  } catch (const chain::CompileError& e) {
    CHECK(std::string(e.what()).find("chain.chain:2002:1: error: calls in 'c2001' nest more than 2000 functions deep") !=
          std::string::npos);
  }
}

TEST_CASE("scaling: a gradient through a call DAG that uses grad at the bottom", "[runtime][scaling]") {
  // p0 uses grad at the bottom of the DAG below p12; q12 has no grad; top
  // takes the gradient of both.
  std::string src = "fn sq(x: f64) -> f64 { x * x }\n" + doublingDag("p", "grad(sq)(x)", 12) +
                    doublingDag("q", "x * x", 12) + "fn top(x: f64) -> f64 { grad(q12)(x) + grad(p12)(x) }\n";
  chain::Module m = chain::Jit().compile_string(src, "dag.chain");
  CHECK(m.function("p12")({1.5}).asDouble() == Approx(4096.0 * 3.0));
  CHECK(m.gradient("q12")({1.5}).asDouble() == Approx(4096.0 * 3.0));
  // p0(x) = grad(sq)(x) = 2x, so p12 = 4096 * 2x: its gradient is 8192
  // (forward over reverse, one sweep for the scalar x).
  CHECK(m.gradient("p12")({1.5}).asDouble() == Approx(8192.0));
  CHECK(m.function("top")({1.5}).asDouble() == Approx(12288.0 + 8192.0));
}
