/* Printing for the programs of scripts/test-export.sh: one `LABEL: v1 v2 ...`
 * line per value, every element with %.17g (read back exactly by
 * check_values.py), and a failed call reported with chain_last_error(). */
#include <stdio.h>
#include <stdlib.h>

#define N_OF(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

static void show(const char *label, const double *v, int64_t n) {
  printf("%s:", label);
  for (int64_t i = 0; i < n; ++i) printf(" %.17g", v[i]);
  printf("\n");
}

static void ok(int status, const char *what, const char *message) {
  if (status != 0) {
    fprintf(stderr, "%s returned %d: %s\n", what, status, message);
    exit(1);
  }
}
