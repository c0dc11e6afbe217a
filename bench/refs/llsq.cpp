// C++ reference for GradBench's `llsq` problem: 1/2 sum_i (s_i - sum_j x_j
// t_i^j)^2 with t_i = -1 + 2i/(n-1) and s_i = sign(t_i). The powers t_i^j
// are built column by column (tp *= t), so the inner loops run over the n
// points and vectorise; the gradient -sum_i r_i t_i^j reuses the residual.
#include <vector>

#include "refs.h"

namespace bench::ref {
namespace {

void points(int64_t n, std::vector<double>& t, std::vector<double>& r) {
  for (int64_t i = 0; i < n; ++i) {
    t[i] = -1.0 + double(i) * 2.0 / double(n - 1);
    r[i] = t[i] > 0 ? 1.0 : (t[i] < 0 ? -1.0 : 0.0);
  }
}

// r = s - sum_j x_j t^j
void residual(int64_t m, const double* x, int64_t n, std::vector<double>& t, std::vector<double>& r) {
  std::vector<double> tp(n, 1.0);
  points(n, t, r);
  for (int64_t j = 0; j < m; ++j) {
    for (int64_t i = 0; i < n; ++i) {
      r[i] -= x[j] * tp[i];
      tp[i] *= t[i];
    }
  }
}

}  // namespace

double llsqPrimal(int64_t m, const double* x, int64_t n) {
  std::vector<double> t(n), r(n);
  residual(m, x, n, t, r);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += r[i] * r[i];
  return 0.5 * s;
}

double llsqGradient(int64_t m, const double* x, int64_t n, double* dx) {
  std::vector<double> t(n), r(n), tp(n, 1.0);
  residual(m, x, n, t, r);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += r[i] * r[i];
  for (int64_t j = 0; j < m; ++j) {
    double g = 0;
    for (int64_t i = 0; i < n; ++i) {
      g -= r[i] * tp[i];
      tp[i] *= t[i];
    }
    dx[j] = g;
  }
  return 0.5 * s;
}

}  // namespace bench::ref
