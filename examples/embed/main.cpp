// Embedding Chain in a C++ program through its one public header: compile a
// model from a string, call a function and its gradient, run a few steps of
// gradient descent with the JIT-compiled gradient, then Newton's method with
// the Hessian (forward over reverse mode), which needs five steps. Built as `embed_example`
// in Chain's build, and as `embed` by this folder's CMakeLists.txt against an
// installed Chain (scripts/test-install.sh).
#include <chain/chain.h>

#include <cstdio>

namespace {

const char* kModel = R"(
# Rosenbrock's banana function: minimum 0 at (1, 1).
fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2
}

# The same function of one vector, for its 2 x 2 Hessian.
fn banana(v: f64[2]) -> f64 { rosenbrock(v[0], v[1]) }
)";

chain::Tensor vec2(double a, double b) { return chain::Tensor::fromValues(chain::DType::F64, {2}, {a, b}); }

}  // namespace

int main() {
  try {
    chain::Jit jit;  // default options: -O2, bounds checks on
    chain::Module m = jit.compile_string(kModel, "rosenbrock.chain");
    chain::Function f = m.function("rosenbrock");
    chain::Function df = m.gradient("rosenbrock", {"x", "y"});  // returns (d/dx, d/dy)

    double x = 0.5, y = 0.5;
    chain::Value g = df({x, y});
    std::printf("rosenbrock(%g, %g) = %g\n", x, y, f({x, y}).asDouble());
    std::printf("gradient = (%g, %g)\n", g.tuple()[0].asDouble(), g.tuple()[1].asDouble());

    // Plain gradient descent: each step is one call of compiled code.
    for (int step = 0; step < 20000; ++step) {
      chain::Value gs = df({x, y});
      x -= 1e-3 * gs.tuple()[0].asDouble();
      y -= 1e-3 * gs.tuple()[1].asDouble();
    }
    std::printf("after 20000 steps: x = %.4f, y = %.4f, f = %.3g\n", x, y, f({x, y}).asDouble());

    // Newton's method: v <- v - H^-1 g, with g and H from one call.
    chain::Function vgh = m.hessian("banana", "v", /*withValue=*/true);  // (value, gradient, Hessian)
    double a = 0.5, b = 0.5;
    for (int step = 0; step < 6; ++step) {
      chain::Value r = vgh({vec2(a, b)});
      const chain::Tensor& G = r.tuple()[1].tensor();
      const chain::Tensor& H = r.tuple()[2].tensor();
      double det = H.at(0) * H.at(3) - H.at(1) * H.at(2);
      a -= (H.at(3) * G.at(0) - H.at(1) * G.at(1)) / det;
      b -= (H.at(0) * G.at(1) - H.at(2) * G.at(0)) / det;
    }
    chain::Value h0 = m.hessian("banana")({vec2(0.5, 0.5)});
    std::printf("hessian at (0.5, 0.5) = %s\n", h0.str().c_str());
    std::printf("hvp with (1, 0) = %s\n", m.hvp("banana")({vec2(0.5, 0.5), vec2(1.0, 0.0)}).str().c_str());
    std::printf("after 6 Newton steps: x = %.6f, y = %.6f\n", a, b);
    return 0;
  } catch (const chain::CompileError& e) {
    std::fprintf(stderr, "%s", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
