/* examples/quickstart.chain exported with --fn loss --fn calibrate --grad loss
 * (every float parameter: k, c, target), called on examples/quickstart.json. */
#include "quickstart.h"
#include "args.h"
#include "common.h"

int main(void) {
  double r, v, g[3];
  ok(loss(k, c, target, steps, &r), "loss", chain_last_error());
  show("loss", &r, 1);
  ok(calibrate(k, target, steps, &r), "calibrate", chain_last_error());
  show("calibrate", &r, 1);
  ok(loss_grad(k, c, target, steps, &v, &g[0], &g[1], &g[2]), "loss_grad", chain_last_error());
  show("value", &v, 1);
  show("grad.k", &g[0], 1);
  show("grad.c", &g[1], 1);
  show("grad.target", &g[2], 1);
  return 0;
}
