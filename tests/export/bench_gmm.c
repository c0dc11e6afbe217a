/* Times an exported gradient against `chain bench` (not part of the tests):
 * examples/gmm.chain exported with --grad gmm_objective:alphas,means,icf,
 * arguments in args.h (json_to_c.py), sizes K, D, N given with -D. Prints
 * the median time per call over 15 batches of 1 ms or more, as chain bench
 * measures; with an argument N, makes N calls and prints nothing (for
 * instruction counts: valgrind --tool=callgrind, N = 6 minus N = 1). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "args.h"
#include "gmm.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  static double ga[K], gm[K * D], gi[K * D * (D + 1) / 2], v;
  int64_t t = D * (D + 1) / 2;
#define CALL gmm_objective_grad(alphas, means, icf, x, wishart_gamma, wishart_m, K, D, t, N, &v, ga, gm, gi)
  if (CALL != 0) { fprintf(stderr, "%s\n", chain_last_error()); return 1; }
  if (argc > 1) {
    for (long i = 1; i < atol(argv[1]); ++i) CALL;
    return 0;
  }
  long batch = 1;
  for (;;) {
    double t0 = now();
    for (long i = 0; i < batch; ++i) CALL;
    if (now() - t0 >= 1e-3) break;
    batch *= 2;
  }
  double us[15];
  for (int b = 0; b < 15; ++b) {
    double t0 = now();
    for (long i = 0; i < batch; ++i) CALL;
    us[b] = (now() - t0) / batch * 1e6;
  }
  qsort(us, 15, sizeof us[0], cmp);
  printf("value %.17g grad_us %.3f\n", v, us[7]);
  return 0;
}
