// C++ reference for GradBench's `ode` problem (from cmpad's an_ode): RK4 with
// s steps over [0, 2] of y0' = x0, yi' = xi * y(i-1), y(0) = 0; the objective
// is the last element of y(2). The gradient stores y at the start of every
// step, then walks the steps backwards, recomputing the stages of each step
// and pulling the adjoint through them (the right-hand side is linear in y).
#include <vector>

#include "refs.h"

namespace bench::ref {
namespace {

void rhs(int64_t n, const double* x, const double* y, double* z) {
  z[0] = x[0];
  for (int64_t i = 1; i < n; ++i) z[i] = x[i] * y[i - 1];
}

// Adjoint of z = rhs(x, y) for seed zb: dx += ..., yb += ... .
void rhsAdjoint(int64_t n, const double* x, const double* y, const double* zb, double* dx, double* yb) {
  dx[0] += zb[0];
  for (int64_t i = 1; i < n; ++i) {
    dx[i] += zb[i] * y[i - 1];
    yb[i - 1] += zb[i] * x[i];
  }
}

struct Stages {
  std::vector<double> k1, k2, k3, k4, u2, u3, u4;
  explicit Stages(int64_t n) : k1(n), k2(n), k3(n), k4(n), u2(n), u3(n), u4(n) {}
};

void stages(int64_t n, const double* x, const double* y, double h, Stages& st) {
  rhs(n, x, y, st.k1.data());
  for (int64_t i = 0; i < n; ++i) st.u2[i] = y[i] + h / 2.0 * st.k1[i];
  rhs(n, x, st.u2.data(), st.k2.data());
  for (int64_t i = 0; i < n; ++i) st.u3[i] = y[i] + h / 2.0 * st.k2[i];
  rhs(n, x, st.u3.data(), st.k3.data());
  for (int64_t i = 0; i < n; ++i) st.u4[i] = y[i] + h * st.k3[i];
  rhs(n, x, st.u4.data(), st.k4.data());
}

void step(int64_t n, double h, const Stages& st, double* y) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = y[i] + h / 6.0 * (st.k1[i] + 2.0 * st.k2[i] + 2.0 * st.k3[i] + st.k4[i]);
}

}  // namespace

double odePrimal(int64_t n, const double* x, int64_t s) {
  const double h = 2.0 / double(s);
  std::vector<double> y(n, 0.0);
  Stages st(n);
  for (int64_t k = 0; k < s; ++k) {
    stages(n, x, y.data(), h, st);
    step(n, h, st, y.data());
  }
  return y[n - 1];
}

double odeGradient(int64_t n, const double* x, int64_t s, double* dx) {
  const double h = 2.0 / double(s);
  std::vector<double> ys(s * n), y(n, 0.0);
  Stages st(n);
  for (int64_t k = 0; k < s; ++k) {
    std::copy(y.begin(), y.end(), ys.begin() + k * n);
    stages(n, x, y.data(), h, st);
    step(n, h, st, y.data());
  }
  for (int64_t i = 0; i < n; ++i) dx[i] = 0;
  // yo: adjoint of y after the step; yb: of y before it; kb: of one stage; ub: of its input.
  std::vector<double> yo(n, 0.0), yb(n), kb(n), ub(n);
  yo[n - 1] = 1.0;
  for (int64_t k = s - 1; k >= 0; --k) {
    const double* y0 = &ys[k * n];
    stages(n, x, y0, h, st);
    // y' = y + h/6 (k1 + 2 k2 + 2 k3 + k4)
    for (int64_t i = 0; i < n; ++i) {
      yb[i] = yo[i];
      kb[i] = h / 6.0 * yo[i];
      ub[i] = 0;
    }
    rhsAdjoint(n, x, st.u4.data(), kb.data(), dx, ub.data());  // k4 = f(u4), u4 = y + h k3
    for (int64_t i = 0; i < n; ++i) {
      yb[i] += ub[i];
      kb[i] = h / 3.0 * yo[i] + h * ub[i];
      ub[i] = 0;
    }
    rhsAdjoint(n, x, st.u3.data(), kb.data(), dx, ub.data());  // k3 = f(u3), u3 = y + h/2 k2
    for (int64_t i = 0; i < n; ++i) {
      yb[i] += ub[i];
      kb[i] = h / 3.0 * yo[i] + h / 2.0 * ub[i];
      ub[i] = 0;
    }
    rhsAdjoint(n, x, st.u2.data(), kb.data(), dx, ub.data());  // k2 = f(u2), u2 = y + h/2 k1
    for (int64_t i = 0; i < n; ++i) {
      yb[i] += ub[i];
      kb[i] = h / 6.0 * yo[i] + h / 2.0 * ub[i];
      ub[i] = 0;
    }
    rhsAdjoint(n, x, y0, kb.data(), dx, ub.data());  // k1 = f(y)
    for (int64_t i = 0; i < n; ++i) yo[i] = yb[i] + ub[i];
  }
  return y[n - 1];
}

}  // namespace bench::ref
