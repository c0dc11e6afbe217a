/* examples/ode_sensitivity.chain exported with --fn solve --fn sensitivities
 * (a jacobian inside the model, literal dims) --grad fd_error:p, called on
 * examples/ode_sensitivity.json. */
#include "ode_sensitivity.h"
#include "args.h"
#include "common.h"

int main(void) {
  double u[2], S[8], v, gp[4];
  ok(solve(p, u0, h, steps, u), "solve", chain_last_error());
  show("solve", u, 2);
  ok(sensitivities(p, u0, h, steps, S), "sensitivities", chain_last_error());
  show("sensitivities", S, 8);
  ok(fd_error_grad(p, u0, h, steps, &v, gp), "fd_error_grad", chain_last_error());
  show("value", &v, 1);
  show("grad.p", gp, 4);
  return 0;
}
