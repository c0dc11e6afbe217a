// chain::checkGradient (runtime/GradCheck.cpp) with array parameters: every
// element of a wrt tensor is perturbed, the caller's tensors are left as they
// were, wrong derivatives are caught, and f32 arrays pass with the looser
// tolerance.
#include <catch2/catch.hpp>

#include <cmath>

#include "chain/chain.h"

using namespace chain;

namespace {

Tensor vec(std::vector<double> xs) {
  Tensor t(DType::F64, {int64_t(xs.size())});
  for (size_t i = 0; i < xs.size(); ++i) t.data<double>()[i] = xs[i];
  return t;
}

const char* kModel = R"(
fn smooth(A: f64[n, d], x: f64[d]) -> f64 {
    let y = A @ x
    sum(sin(y) * y) + dot(x, x)
}

fn steps(x: f64[n]) -> f64 {
    sum(floor(x) + 0.5 * x)
}

fn single(x: f32[n]) -> f32 {
    sum(exp(x) * x)
}
)";

}  // namespace

TEST_CASE("checkGradient perturbs every element of array parameters", "[runtime][gradcheck]") {
  Module m = Jit().compile_string(kModel, "gradcheck.chain");
  Tensor A(DType::F64, {2, 3});
  const double a0[6] = {-0.2, -0.1, 0.0, 0.1, 0.2, 0.3};
  for (int i = 0; i < 6; ++i) A.data<double>()[i] = a0[i];
  Tensor x = vec({0.5, -1.0, 2.0});
  GradCheckResult r = checkGradient(m, "smooth", {"A", "x"}, {A, x});
  CHECK(r.ok);
  CHECK(r.maxAbsError < 1e-7);
  CHECK(r.maxAbsError > 0.0);  // finite differences are never exact: the check really ran
  // The caller's arrays are untouched.
  for (int i = 0; i < 6; ++i) CHECK(A.data<double>()[i] == a0[i]);
  CHECK(x.data<double>()[2] == 2.0);
}

TEST_CASE("checkGradient catches a wrong array gradient", "[runtime][gradcheck]") {
  Module m = Jit().compile_string(kModel, "gradcheck.chain");
  // floor jumps at 1.0: its conventional derivative 0 disagrees with the
  // finite difference there (element 0 only).
  GradCheckResult bad = checkGradient(m, "steps", {"x"}, {vec({1.0, 2.5})});
  CHECK_FALSE(bad.ok);
  CHECK(bad.maxAbsError > 1e3);
  GradCheckResult good = checkGradient(m, "steps", {"x"}, {vec({1.5, 2.5})});
  CHECK(good.ok);
}

TEST_CASE("checkGradient on f32 arrays uses the looser tolerance", "[runtime][gradcheck]") {
  Module m = Jit().compile_string(kModel, "gradcheck.chain");
  Tensor x(DType::F32, {4});
  for (int i = 0; i < 4; ++i) x.data<float>()[i] = 0.25f * float(i) - 0.4f;
  GradCheckResult r = checkGradient(m, "single", {"x"}, {x});
  CHECK(r.ok);
  CHECK(r.maxRelError < 1e-2);
}
