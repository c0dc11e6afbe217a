/* examples/linear_regression.chain exported with --fn predict --grad loss:w,b,
 * called on examples/linear_regression.json (sizes from the arrays). */
#include "linear_regression.h"
#include "args.h"
#include "common.h"

int main(void) {
  int64_t d = N_OF(w), n = N_OF(y);
  double pred[N_OF(y)], v, gw[N_OF(w)], gb;
  ok(predict(w, b, X, d, n, pred), "predict", chain_last_error());
  show("predict", pred, n);
  ok(loss_grad(w, b, X, y, d, n, &v, gw, &gb), "loss_grad", chain_last_error());
  show("value", &v, 1);
  show("grad.w", gw, d);
  show("grad.b", &gb, 1);
  return 0;
}
