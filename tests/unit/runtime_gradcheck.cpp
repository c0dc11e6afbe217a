// chain::checkGradient (runtime/GradCheck.cpp): every element of a wrt
// tensor is perturbed, the caller's tensors are left as they were, wrong
// derivatives are caught (and named: parameter, multi-index, analytic,
// numeric), f32 parameters pass with the looser tolerance, a kink near the
// inputs (a while loop whose trip count changes within the classic step) does
// not fail a right gradient, and errors are relative to max(1, |gradient|).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "chain/chain.h"

using namespace chain;

namespace {

// The repository's examples folder, absolute (CMake's CHAIN_SOURCE_DIR):
// __FILE__ may be relative (ccache's base_dir rewrites it), and ctest runs
// the tests from build/tests.
const std::string kExamples = std::string(CHAIN_SOURCE_DIR) + "/examples/";

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

fn mixed(x: f32[n], y: f64) -> f64 {
    f64(sum(exp(x) * x)) + y * y
}

# stop_gradient hides the second factor's derivative: 3 a instead of 4 a at A[1, 2].
fn hidden(A: f64[2, 3]) -> f64 {
    sum(A * A) + stop_gradient(A[1, 2]) * A[1, 2]
}

# Slope 2 below 1 + 3e-6, slope 3 above: the step cbrt(eps) = 6e-6 at x = 1
# straddles the kink, smaller steps do not.
fn kink(x: f64) -> f64 {
    if x < 1.000003 { 2.0 * x } else { 3.0 * x - 1.000003 }
}

# A minimum at x = 1: the gradient is 0, finite differences give about h^2.
fn cubic(x: f64) -> f64 {
    x * x * x - 3.0 * x
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
  REQUIRE(bad.worst);
  CHECK(bad.worst->index == std::vector<int64_t>{0});
  CHECK(bad.worst->analytic == 0.5);
  CHECK(bad.worst->spread > 1e3);  // estimates that grow like 1/h: a jump
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
  REQUIRE(r.tolerances.size() == 1);
  CHECK(r.tolerances[0] == std::make_pair(DType::F32, 1e-2));
}

TEST_CASE("checkGradient reports the tolerance of each dtype", "[runtime][gradcheck]") {
  Module m = Jit().compile_string(kModel, "gradcheck.chain");
  Tensor x(DType::F32, {3});
  for (int i = 0; i < 3; ++i) x.data<float>()[i] = 0.5f * float(i) - 0.5f;
  GradCheckResult r = checkGradient(m, "mixed", {"y", "x"}, {x, 0.75}, 1e-7);
  CHECK(r.ok);
  CHECK(r.entries == 4);
  REQUIRE(r.tolerances.size() == 2);  // in wrt order
  CHECK(r.tolerances[0] == std::make_pair(DType::F64, 1e-7));
  CHECK(r.tolerances[1] == std::make_pair(DType::F32, 1e-2));
  REQUIRE(r.worst);
  CHECK(r.worst->tolerance == (r.worst->param == "x" ? 1e-2 : 1e-7));
}

TEST_CASE("checkGradient names the worst entry of a wrong gradient", "[runtime][gradcheck]") {
  Module m = Jit().compile_string(kModel, "gradcheck.chain");
  Tensor A(DType::F64, {2, 3});
  for (int i = 0; i < 6; ++i) A.data<double>()[i] = 0.25 * double(i + 1);  // A[1, 2] = 1.5
  GradCheckResult r = checkGradient(m, "hidden", {"A"}, {A});
  CHECK_FALSE(r.ok);
  CHECK(r.entries == 6);
  CHECK(r.failures == 1);
  REQUIRE(r.worst);
  CHECK(r.worst->param == "A");
  CHECK(r.worst->index == std::vector<int64_t>{1, 2});
  CHECK(r.worst->analytic == Approx(4.5));  // 2 a + a
  CHECK(r.worst->numeric == Approx(6.0).epsilon(1e-8));  // 4 a
  CHECK(r.worst->relError == Approx(1.5 / 4.5).epsilon(1e-6));
  CHECK(r.worst->spread < 1e-8);  // the finite differences themselves agree
  CHECK(r.maxRelError == r.worst->relError);
}

TEST_CASE("checkGradient passes a right gradient next to a kink", "[runtime][gradcheck]") {
  Module m = Jit().compile_string(kModel, "gradcheck.chain");
  GradCheckResult r = checkGradient(m, "kink", {"x"}, {1.0});
  CHECK(r.ok);
  REQUIRE(r.worst);
  CHECK(r.worst->numeric == Approx(2.0).epsilon(1e-8));
  CHECK(r.worst->step < 3e-6);  // a step that stays below the kink
  CHECK(r.worst->index.empty());
  // Past the kink the slope is 3, and the check passes there too.
  CHECK(checkGradient(m, "kink", {"x"}, {1.01}).ok);
}

// examples/projectile.chain (issue 10): a while loop of dt = 0.001 steps
// whose trip count, and so a kink of the range, moves with v0, angle and drag.
TEST_CASE("checkGradient passes the projectile of issue 10", "[runtime][gradcheck]") {
  Module m = Jit().compile_file(kExamples + "projectile.chain");
  GradCheckResult r = checkGradient(m, "range", {"v0", "angle", "drag"}, {30.0, 0.7, 0.01, 0.001});
  INFO("max error " << r.maxRelError);
  CHECK(r.ok);
  CHECK(r.maxRelError < 1e-8);  // a single step of cbrt(eps) gave 3.3e-5 on drag
  CHECK(r.entries == 3);
}

TEST_CASE("checkGradient errors are relative to max(1, |gradient|)", "[runtime][gradcheck]") {
  Module m = Jit().compile_string(kModel, "gradcheck.chain");
  GradCheckResult r = checkGradient(m, "cubic", {"x"}, {1.0});
  CHECK(r.ok);
  REQUIRE(r.worst);
  CHECK(r.worst->analytic == 0.0);
  CHECK(r.worst->numeric != 0.0);
  // |0 - numeric| / max(|0|, |numeric|) would be 1; against max(1, |gradient|) it is tiny.
  CHECK(r.maxRelError == r.maxAbsError);
  CHECK(r.maxRelError < 1e-9);
}
