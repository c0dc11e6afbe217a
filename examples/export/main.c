/* examples/export: the C route. `chain export rosenbrock.chain --fn rosenbrock
 * --grad rosenbrock -o model` (run by CMakeLists.txt) writes model/rosenbrock.h
 * and model/rosenbrock.o; this plain C program calls them and links the
 * chain_rt library alone (CMake: chain::rt), no LLVM. It prints the value and
 * gradient at (0.5, 0.5), minimises the 4-dimensional function by gradient
 * descent, and shows how an error comes back (status and chain_last_error). */
#include <stdio.h>

#include "rosenbrock.h"

int main(void) {
  double x[4] = {0.5, 0.5, 0.0, 0.0}, value, grad[4];
  if (rosenbrock(x, 2, &value) != 0 || rosenbrock_grad(x, 2, &value, grad) != 0) {
    fprintf(stderr, "error: %s\n", chain_last_error());
    return 1;
  }
  printf("rosenbrock(0.5, 0.5) = %g\n", value);
  printf("gradient = (%g, %g)\n", grad[0], grad[1]);

  double y[4] = {-1.0, 1.0, -1.0, 1.0};
  for (int step = 0; step < 20000; ++step) {
    if (rosenbrock_grad(y, 4, &value, grad) != 0) {
      fprintf(stderr, "error: %s\n", chain_last_error());
      return 1;
    }
    for (int i = 0; i < 4; ++i) y[i] -= 1e-3 * grad[i];
  }
  printf("after 20000 steps: f = %.3g at (%.3f, %.3f, %.3f, %.3f)\n", value, y[0], y[1], y[2], y[3]);

  int status = rosenbrock(x, -1, &value);
  printf("rosenbrock with n = -1: status %d, \"%s\"\n", status, chain_last_error());
  return 0;
}
