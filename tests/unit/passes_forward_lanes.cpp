// Vector-mode forward AD (passes/ForwardAD.cpp, lanes > 1): a tangent
// function with B lanes returns, in lane l, exactly (bit for bit, under the
// reference interpreter) what the one-lane tangent function returns for
// direction l, through for, while, if, element updates, maps and every
// reduction, and over a gradient with tape ops (forward over reverse, the
// Hessian's sweep). The lane layout is checked too: parameters f's, then B
// groups of tangents; results f's, then B groups of tangents.
#include <catch2/catch.hpp>

#include <random>

#include "passes/ForwardAD.h"
#include "passes/ReverseAD.h"
#include "passes_pipeline_util.h"

using namespace chain;
using pipetest::Program;

namespace {

// f after the whole pipeline, prepared for differentiation as the runtime
// prepares a primal (forDifferentiation before the passes).
std::unique_ptr<ir::Function> optimised(Program& p, const std::string& name) {
  auto f = ir::cloneFunction(*p.m->lookup(name));
  f->forDifferentiation = true;
  for (const passes::PassInfo& pass : passes::registry()) pass.run(*p.m, *f);
  REQUIRE(ir::verifyFunction(*f, p.m.get()).empty());
  return f;
}

std::vector<double> values(const ir::RtValue& v) {
  if (!v.isArray()) return {v.num()};
  return *v.fdata;
}

ir::RtValue randomVec(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.2, 1.0);
  std::vector<double> v(n);
  for (double& e : v) e = u(rng);
  return pipetest::vec(v);
}

// The B-lane tangent function of f w.r.t. parameter 0 against B one-lane
// sweeps with the same directions; args: f's arguments.
void checkLanes(const Program& p, const ir::Function& f, const std::vector<ir::RtValue>& args, int B,
                std::mt19937& rng) {
  auto one = passes::forwardAD(f, {0}, f.name + ".t1", 1);
  auto many = passes::forwardAD(f, {0}, f.name + ".tB", B);
  INFO(ir::printFunction(*many));
  REQUIRE(ir::verifyFunction(*one, p.m.get()).empty());
  REQUIRE(ir::verifyFunction(*many, p.m.get()).empty());
  size_t nf = 0;
  for (const ir::Type& t : f.resultTypes) nf += t.isFloat();
  REQUIRE(many->numParams() == f.numParams() + size_t(B));
  REQUIRE(many->resultTypes.size() == f.resultTypes.size() + size_t(B) * nf);
  std::vector<ir::RtValue> dirs, manyArgs = args;
  for (int l = 0; l < B; ++l) {
    dirs.push_back(randomVec(args[0].size(), rng));
    manyArgs.push_back(dirs.back());
  }
  std::vector<ir::RtValue> got = ir::interpret(*p.m, *many, manyArgs);
  for (int l = 0; l < B; ++l) {
    std::vector<ir::RtValue> oneArgs = args;
    oneArgs.push_back(dirs[size_t(l)]);
    std::vector<ir::RtValue> want = ir::interpret(*p.m, *one, oneArgs);
    for (size_t r = 0; r < f.resultTypes.size(); ++r) CHECK(values(got[r]) == values(want[r]));
    for (size_t k = 0; k < nf; ++k) {
      INFO("lane " << l << ", tangent " << k);
      CHECK(values(got[f.resultTypes.size() + size_t(l) * nf + k]) == values(want[f.resultTypes.size() + k]));
    }
  }
}

const char* kBodies[] = {
    "sum(x * x * y) + sum(exp(x))",
    "prod(x + 2.0) + max(x * y) + min(x * x) + logsumexp(x * 3.0)",
    "let z = [x[i] / (1.0 + y[i] * y[i]) for i in 0..n]\n sum(z * z) * sum(log1p(z * z))",
    "var s = 0.0\n for i in 0..n { s = s * 0.5 + x[i] * x[i] * y[i] + sin(s) }\n s",
    "var z = zeros(n)\n for i in 0..n { z[i] = x[i] * y[i] + x[(i + 1) % n] }\n sum(z * z * z)",
    "var s = sum(x * x)\n var k = 0\n while s < 50.0 and k < 100 { s = s * 1.7 + x[0]; k += 1 }\n s",
    "var p = x\n for t in 0..3 { p = [p[i] * p[(i + 1) % n] + y[i] for i in 0..n] }\n sum(p)",
    "var s = 0.0\n for i in 0..n { if x[i] > 0.5 { s += x[i] * x[i] } else { s -= exp(x[i]) } }\n s * s",
};

}  // namespace

TEST_CASE("forward lanes: B directions in one sweep equal B one-direction sweeps", "[ad][forward]") {
  std::mt19937 rng(5);
  for (const char* body : kBodies) {
    std::string src = std::string("fn f(x: f64[n], y: f64[n]) -> f64 {\n ") + body + "\n}";
    INFO(src);
    Program p = pipetest::compile(src);
    auto f = optimised(p, "f");
    std::vector<ir::RtValue> args{randomVec(5, rng), randomVec(5, rng)};
    for (int B : {2, 4}) checkLanes(p, *f, args, B, rng);
    // Over the gradient (tape ops in the loops): the Hessian's sweep.
    auto g = passes::reverseAD(*f, {0}, true, "f.g");
    REQUIRE(ir::verifyFunction(*g, p.m.get()).empty());
    checkLanes(p, *g, args, 3, rng);
  }
}

TEST_CASE("forward lanes: a vector result and a loop-carried array", "[ad][forward]") {
  std::mt19937 rng(9);
  Program p = pipetest::compile(
      "fn f(x: f64[n], y: f64[n]) -> f64[n] {\n"
      " var z = x\n for t in 0..2 { z = [z[i] * x[(i + 1) % n] + y[i] for i in 0..n] }\n z\n}");
  auto f = optimised(p, "f");
  checkLanes(p, *f, {randomVec(6, rng), randomVec(6, rng)}, 4, rng);
}
