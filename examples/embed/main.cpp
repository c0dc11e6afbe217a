// Embedding Chain in a C++ program through its one public header: compile a
// model from a string, call a function and its gradient, and run a few steps
// of gradient descent with the JIT-compiled gradient. Built as `embed_example`
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
)";

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
    return 0;
  } catch (const chain::CompileError& e) {
    std::fprintf(stderr, "%s", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
