// C++ reference for log-sum-exp, max-shifted for stability, and its gradient
// (the softmax).
#include <cmath>

#include "refs.h"

namespace bench::ref {
namespace {

double maxOf(int64_t n, const double* x) {
  double mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  return mx;
}

}  // namespace

double lsePrimal(int64_t n, const double* x) {
  double mx = maxOf(n, x), s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - mx);
  return mx + std::log(s);
}

double lseGradient(int64_t n, const double* x, double* dx) {
  double mx = maxOf(n, x), s = 0;
  for (int64_t i = 0; i < n; ++i) {
    dx[i] = std::exp(x[i] - mx);
    s += dx[i];
  }
  double inv = 1.0 / s;
  for (int64_t i = 0; i < n; ++i) dx[i] *= inv;
  return mx + std::log(s);
}

}  // namespace bench::ref
