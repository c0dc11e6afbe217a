// The hand-written C++ references of the benchmark suite: for each problem a
// primal (the objective) and a gradient written by hand with plain loops, the
// way a careful engineer would write them. They are compiled with
// -O3 -march=native (no fast-math) and are what Chain is measured against.
// Every array is row-major; gradients are written into caller buffers (which
// they overwrite) and every gradient function also returns the objective.
#pragma once

#include <cstdint>

namespace bench::ref {

// --- gmm: ADBench's Gaussian mixture objective with a Wishart prior ----------
// alphas[k], means[k*d], icf[k*(d*(d+1)/2)] (log diagonal first, then the
// strictly lower triangle packed column by column), x[n*d].
struct GmmDims {
  int64_t d, k, n;
  double gamma;
  int64_t m;
};
double gmmPrimal(const GmmDims& g, const double* alphas, const double* means, const double* icf, const double* x);
double gmmGradient(const GmmDims& g, const double* alphas, const double* means, const double* icf, const double* x,
                   double* dalphas, double* dmeans, double* dicf);

// --- lstm: ADBench's LSTM objective -----------------------------------------
// main[2l*4b], extra[3*b], state[2l*b], seq[c*b].
double lstmPrimal(int64_t l, int64_t c, int64_t b, const double* main, const double* extra, const double* state,
                  const double* seq);
double lstmGradient(int64_t l, int64_t c, int64_t b, const double* main, const double* extra, const double* state,
                    const double* seq, double* dmain, double* dextra);

// --- ode: GradBench's RK4 ODE; objective = last element of y(2) -------------
double odePrimal(int64_t n, const double* x, int64_t s);
double odeGradient(int64_t n, const double* x, int64_t s, double* dx);

// --- llsq: GradBench's polynomial least squares (m coefficients, n points) --
double llsqPrimal(int64_t m, const double* x, int64_t n);
double llsqGradient(int64_t m, const double* x, int64_t n, double* dx);

// --- lse: log-sum-exp -------------------------------------------------------
double lsePrimal(int64_t n, const double* x);
double lseGradient(int64_t n, const double* x, double* dx);

// --- mlp: tanh hidden layer, softmax cross-entropy on the digits ------------
// W1[h*64], b1[h], W2[10*h], b2[10], data[n*65] (64 pixels 0..16, then label).
double mlpPrimal(int64_t h, int64_t n, const double* W1, const double* b1, const double* W2, const double* b2,
                 const double* data);
double mlpGradient(int64_t h, int64_t n, const double* W1, const double* b1, const double* W2, const double* b2,
                   const double* data, double* dW1, double* db1, double* dW2, double* db2);

}  // namespace bench::ref
