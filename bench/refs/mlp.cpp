// C++ reference for a two-layer perceptron on the digits: H = tanh(X/16 W1^T
// + b1), S = H W2^T + b2, loss = mean_i (logsumexp(S_i) - S_i,label). The
// gradient is ordinary backpropagation; matrix products are plain loops in
// an order whose innermost loop runs over contiguous memory.
#include <cmath>
#include <vector>

#include "refs.h"

namespace bench::ref {
namespace {

constexpr int64_t kPix = 64, kCls = 10, kCols = 65;

// H[n*h] = tanh(X/16 W1^T + b1)
void hiddenLayer(int64_t h, int64_t n, const double* W1, const double* b1, const double* data, double* H) {
  for (int64_t i = 0; i < n; ++i) {
    const double* xi = data + i * kCols;
    for (int64_t u = 0; u < h; ++u) {
      const double* w = W1 + u * kPix;
      double z = 0;
      for (int64_t p = 0; p < kPix; ++p) z += xi[p] / 16.0 * w[p];
      H[i * h + u] = std::tanh(z + b1[u]);
    }
  }
}

// Scores of row i into s[10]; returns logsumexp(s).
double scores(int64_t h, const double* Hi, const double* W2, const double* b2, double* s) {
  double mx = -INFINITY;
  for (int64_t c = 0; c < kCls; ++c) {
    double z = 0;
    for (int64_t u = 0; u < h; ++u) z += Hi[u] * W2[c * h + u];
    s[c] = z + b2[c];
    mx = s[c] > mx ? s[c] : mx;
  }
  double se = 0;
  for (int64_t c = 0; c < kCls; ++c) se += std::exp(s[c] - mx);
  return mx + std::log(se);
}

}  // namespace

double mlpPrimal(int64_t h, int64_t n, const double* W1, const double* b1, const double* W2, const double* b2,
                 const double* data) {
  std::vector<double> H(n * h);
  hiddenLayer(h, n, W1, b1, data, H.data());
  double total = 0, s[kCls];
  for (int64_t i = 0; i < n; ++i) {
    double lse = scores(h, &H[i * h], W2, b2, s);
    total += lse - s[int64_t(data[i * kCols + kPix])];
  }
  return total / double(n);
}

double mlpGradient(int64_t h, int64_t n, const double* W1, const double* b1, const double* W2, const double* b2,
                   const double* data, double* dW1, double* db1, double* dW2, double* db2) {
  std::vector<double> H(n * h), dz(h);
  hiddenLayer(h, n, W1, b1, data, H.data());
  for (int64_t e = 0; e < h * kPix; ++e) dW1[e] = 0;
  for (int64_t e = 0; e < h; ++e) db1[e] = 0;
  for (int64_t e = 0; e < kCls * h; ++e) dW2[e] = 0;
  for (int64_t e = 0; e < kCls; ++e) db2[e] = 0;
  double total = 0, s[kCls];
  const double inv = 1.0 / double(n);
  for (int64_t i = 0; i < n; ++i) {
    const double* Hi = &H[i * h];
    const double* xi = data + i * kCols;
    int64_t label = int64_t(xi[kPix]);
    double lse = scores(h, Hi, W2, b2, s);
    total += lse - s[label];
    for (int64_t u = 0; u < h; ++u) dz[u] = 0;
    for (int64_t c = 0; c < kCls; ++c) {
      double ds = (std::exp(s[c] - lse) - (c == label ? 1.0 : 0.0)) * inv;
      db2[c] += ds;
      for (int64_t u = 0; u < h; ++u) {
        dW2[c * h + u] += ds * Hi[u];
        dz[u] += ds * W2[c * h + u];
      }
    }
    for (int64_t u = 0; u < h; ++u) {
      double g = dz[u] * (1.0 - Hi[u] * Hi[u]);
      db1[u] += g;
      for (int64_t p = 0; p < kPix; ++p) dW1[u * kPix + p] += g * (xi[p] / 16.0);
    }
  }
  return total * inv;
}

}  // namespace bench::ref
