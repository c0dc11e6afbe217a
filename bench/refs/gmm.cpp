// C++ reference for the GMM objective of ADBench (Srajer, Kukelova and
// Fitzgibbon 2018) and its hand-written gradient. The primal follows ADBench's
// `gmm_objective` loop for loop; the gradient runs the same loops once more
// per point, keeping each component's centred point and Q·(x - mu) so the
// softmax weights of the log-sum-exp can scale the adjoints.
#include <cmath>
#include <vector>

#include "refs.h"

namespace bench::ref {
namespace {

double logsumexp(int64_t n, const double* v) {
  double mx = v[0];
  for (int64_t i = 1; i < n; ++i) mx = v[i] > mx ? v[i] : mx;
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(v[i] - mx);
  return mx + std::log(s);
}

// out = Q x with Q lower triangular: diagonal qdiag, strict lower triangle
// `ltri` packed column by column.
void qTimesX(int64_t d, const double* qdiag, const double* ltri, const double* x, double* out) {
  for (int64_t i = 0; i < d; ++i) out[i] = qdiag[i] * x[i];
  int64_t idx = 0;
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = i + 1; j < d; ++j) out[j] += ltri[idx++] * x[i];
}

double logGammaDistrib(double a, int64_t p) {
  double out = 0.25 * double(p * (p - 1)) * std::log(M_PI);
  for (int64_t j = 1; j <= p; ++j) out += std::lgamma(a + 0.5 * double(1 - j));
  return out;
}

struct Pre {
  std::vector<double> qdiags, sumQs;
};

Pre preprocess(const GmmDims& g, const double* icf) {
  const int64_t t = g.d * (g.d + 1) / 2;
  Pre p{std::vector<double>(g.k * g.d), std::vector<double>(g.k)};
  for (int64_t c = 0; c < g.k; ++c) {
    double s = 0;
    for (int64_t j = 0; j < g.d; ++j) {
      s += icf[c * t + j];
      p.qdiags[c * g.d + j] = std::exp(icf[c * t + j]);
    }
    p.sumQs[c] = s;
  }
  return p;
}

double wishartPrior(const GmmDims& g, const Pre& p, const double* icf) {
  const int64_t d = g.d, t = d * (d + 1) / 2, dof = d + g.m + 1;
  double C = double(dof * d) * (std::log(g.gamma) - 0.5 * std::log(2.0)) - logGammaDistrib(0.5 * double(dof), d);
  double out = 0;
  for (int64_t c = 0; c < g.k; ++c) {
    double frob = 0;
    for (int64_t j = 0; j < d; ++j) frob += p.qdiags[c * d + j] * p.qdiags[c * d + j];
    for (int64_t j = d; j < t; ++j) frob += icf[c * t + j] * icf[c * t + j];
    out += 0.5 * g.gamma * g.gamma * frob - double(g.m) * p.sumQs[c];
  }
  return out - double(g.k) * C;
}

}  // namespace

double gmmPrimal(const GmmDims& g, const double* alphas, const double* means, const double* icf, const double* x) {
  const int64_t d = g.d, k = g.k, t = d * (d + 1) / 2;
  Pre p = preprocess(g, icf);
  std::vector<double> xc(d), qxc(d), main(k);
  double slse = 0;
  for (int64_t i = 0; i < g.n; ++i) {
    for (int64_t c = 0; c < k; ++c) {
      for (int64_t j = 0; j < d; ++j) xc[j] = x[i * d + j] - means[c * d + j];
      qTimesX(d, &p.qdiags[c * d], icf + c * t + d, xc.data(), qxc.data());
      double sq = 0;
      for (int64_t j = 0; j < d; ++j) sq += qxc[j] * qxc[j];
      main[c] = alphas[c] + p.sumQs[c] - 0.5 * sq;
    }
    slse += logsumexp(k, main.data());
  }
  double constant = -double(g.n * d) * 0.5 * std::log(2 * M_PI);
  return constant + slse - double(g.n) * logsumexp(k, alphas) + wishartPrior(g, p, icf);
}

double gmmGradient(const GmmDims& g, const double* alphas, const double* means, const double* icf, const double* x,
                   double* dalphas, double* dmeans, double* dicf) {
  const int64_t d = g.d, k = g.k, t = d * (d + 1) / 2;
  Pre p = preprocess(g, icf);
  std::vector<double> xc(k * d), qxc(k * d), main(k), gxc(d);
  for (int64_t c = 0; c < k; ++c) dalphas[c] = 0;
  for (int64_t e = 0; e < k * d; ++e) dmeans[e] = 0;
  for (int64_t e = 0; e < k * t; ++e) dicf[e] = 0;
  double slse = 0;
  for (int64_t i = 0; i < g.n; ++i) {
    for (int64_t c = 0; c < k; ++c) {
      double* xci = &xc[c * d];
      double* q = &qxc[c * d];
      for (int64_t j = 0; j < d; ++j) xci[j] = x[i * d + j] - means[c * d + j];
      qTimesX(d, &p.qdiags[c * d], icf + c * t + d, xci, q);
      double sq = 0;
      for (int64_t j = 0; j < d; ++j) sq += q[j] * q[j];
      main[c] = alphas[c] + p.sumQs[c] - 0.5 * sq;
    }
    double lse = logsumexp(k, main.data());
    slse += lse;
    for (int64_t c = 0; c < k; ++c) {
      // w = softmax weight; d main / d Qxc = -Qxc.
      double w = std::exp(main[c] - lse);
      dalphas[c] += w;
      const double* xci = &xc[c * d];
      const double* q = &qxc[c * d];
      const double* qd = &p.qdiags[c * d];
      double* di = dicf + c * t;
      for (int64_t j = 0; j < d; ++j) {
        double gz = -w * q[j];
        di[j] += w + gz * xci[j] * qd[j];  // sum_qs term and exp(diagonal)
        gxc[j] = qd[j] * gz;
      }
      int64_t idx = d;
      for (int64_t l = 0; l < d; ++l) {
        double acc = 0;
        for (int64_t j = l + 1; j < d; ++j, ++idx) {
          double gz = -w * q[j];
          di[idx] += gz * xci[l];
          acc += icf[c * t + idx] * gz;
        }
        gxc[l] += acc;
      }
      for (int64_t j = 0; j < d; ++j) dmeans[c * d + j] -= gxc[j];
    }
  }
  // - n * logsumexp(alphas)
  double lseA = logsumexp(k, alphas);
  for (int64_t c = 0; c < k; ++c) dalphas[c] -= double(g.n) * std::exp(alphas[c] - lseA);
  // Wishart prior: 0.5 gamma^2 (sum exp(2 q) + sum l^2) - m sum q.
  const double g2 = g.gamma * g.gamma;
  for (int64_t c = 0; c < k; ++c) {
    for (int64_t j = 0; j < d; ++j) {
      double qd = p.qdiags[c * d + j];
      dicf[c * t + j] += g2 * qd * qd - double(g.m);
    }
    for (int64_t j = d; j < t; ++j) dicf[c * t + j] += g2 * icf[c * t + j];
  }
  double constant = -double(g.n * d) * 0.5 * std::log(2 * M_PI);
  return constant + slse - double(g.n) * lseA + wishartPrior(g, p, icf);
}

}  // namespace bench::ref
