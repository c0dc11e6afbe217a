/* tests/export/errors.chain exported with --fn at --fn make --fn pick --fn
 * sized: prints each call's status and chain_last_error(), and the results
 * of the calls that succeed; then calls `at` from four threads at once, two
 * failing, and counts wrong statuses, values or messages (each thread has
 * its own chain_last_error). It also defines `entry` and `rhs`, names the
 * object uses internally, to show that none of them leaks. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"

int entry(void) { return 7; }
int rhs(void) { return 8; }

static void *worker(void *arg) {
  int bad = arg != NULL, wrong = 0;
  double x[3] = {1.0, 2.0, 3.0}, r = 0;
  for (int i = 0; i < 2000; ++i) {
    int status = at(x, bad ? 7 : 1, 3, &r);
    if (status != (bad ? 4 : 0) || (!bad && r != 2.0)) ++wrong;
  }
  if (bad ? strstr(chain_last_error(), "index 7 is out of bounds") == NULL : chain_last_error()[0] != 0) ++wrong;
  return (void *)(long)wrong;
}

static void report(const char *what, int status) {
  printf("%s: %d %s\n", what, status, status ? chain_last_error() : "");
}

int main(void) {
  double x[3] = {1.0, 2.0, 3.0}, r, out[3];
  report("at ok", at(x, 2, 3, &r));
  printf("at value: %.17g\n", r);
  report("at bounds", at(x, 5, 3, &r));
  report("at negative size", at(x, 0, -1, &r));
  report("at null output", at(x, 0, 3, NULL));
  report("make inner negative size", make(2, &r));
  float xf[4] = {0.5f, 1.5f, 2.5f, 3.5f}, f;
  int64_t idx[2] = {4, -3}, idx2[2];
  bool flag;
  report("pick ok", pick(xf, 1, true, idx, 4, 2, &f, idx2, &flag));
  printf("pick values: %.9g %lld %lld %d\n", f, (long long)idx2[0], (long long)idx2[1], (int)flag);
  report("sized ok", sized(x, 3, out));
  printf("sized values: %.17g %.17g %.17g\n", out[0], out[1], out[2]);
  report("sized negative", sized(x, -2, out));
  printf("entry %d rhs %d\n", entry(), rhs());
  pthread_t threads[4];
  long wrong = 0;
  for (long t = 0; t < 4; ++t) pthread_create(&threads[t], NULL, worker, (void *)(t % 2));
  for (int t = 0; t < 4; ++t) {
    void *w;
    pthread_join(threads[t], &w);
    wrong += (long)w;
  }
  printf("threads: %ld wrong\n", wrong);
  return 0;
}
