// C++ reference for ADBench's LSTM objective (l layers of b units, c
// characters) and its hand-written gradient. The primal follows ADBench's
// `lstm_objective` (including its log(sum(exp(y)) + 2) "logsumexp"). The
// gradient records, for every character and layer, the layer's input, its
// previous hidden and cell state and its four gates, then runs the layers and
// the characters backwards, carrying the adjoints of the hidden and cell
// states from one character to the previous one.
#include <cmath>
#include <vector>

#include "refs.h"

namespace bench::ref {
namespace {

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// One LSTM cell, in place on hidden/cell; the gates are written to `g`
// (forget, input, output, change: 4 blocks of b) when g is not null.
void cell(int64_t b, const double* w, const double* bias, double* hidden, double* cellState, const double* input,
          double* g) {
  for (int64_t j = 0; j < b; ++j) {
    double f = sigmoid(input[j] * w[j] + bias[j]);
    double i = sigmoid(hidden[j] * w[b + j] + bias[b + j]);
    double o = sigmoid(input[j] * w[2 * b + j] + bias[2 * b + j]);
    double ch = std::tanh(hidden[j] * w[3 * b + j] + bias[3 * b + j]);
    if (g) {
      g[j] = f;
      g[b + j] = i;
      g[2 * b + j] = o;
      g[3 * b + j] = ch;
    }
    cellState[j] = cellState[j] * f + i * ch;
    hidden[j] = o * std::tanh(cellState[j]);
  }
}

}  // namespace

double lstmPrimal(int64_t l, int64_t c, int64_t b, const double* main, const double* extra, const double* state,
                  const double* seq) {
  std::vector<double> s(state, state + 2 * l * b), x(b), y(b);
  double total = 0;
  for (int64_t t = 0; t + 1 < c; ++t) {
    for (int64_t j = 0; j < b; ++j) x[j] = seq[t * b + j] * extra[j];
    const double* in = x.data();
    for (int64_t layer = 0; layer < l; ++layer) {
      double* h = &s[2 * layer * b];
      cell(b, main + 2 * layer * 4 * b, main + (2 * layer + 1) * 4 * b, h, h + b, in, nullptr);
      in = h;
    }
    double se = 0;
    for (int64_t j = 0; j < b; ++j) {
      y[j] = in[j] * extra[b + j] + extra[2 * b + j];
      se += std::exp(y[j]);
    }
    double lse = std::log(se + 2.0);
    const double* gold = seq + (t + 1) * b;
    for (int64_t j = 0; j < b; ++j) total += gold[j] * (y[j] - lse);
  }
  return -total / double((c - 1) * b);
}

double lstmGradient(int64_t l, int64_t c, int64_t b, const double* main, const double* extra, const double* state,
                    const double* seq, double* dmain, double* dextra) {
  const int64_t steps = c - 1, rec = 8 * b;  // per (t, layer): in, h, cell, 4 gates, new cell
  std::vector<double> s(state, state + 2 * l * b), x(b), y(b), tape(steps * l * rec), top(steps * b);
  std::vector<double> ex(steps * b), se(steps);
  double total = 0;
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t j = 0; j < b; ++j) x[j] = seq[t * b + j] * extra[j];
    const double* in = x.data();
    for (int64_t layer = 0; layer < l; ++layer) {
      double* r = &tape[(t * l + layer) * rec];
      double* h = &s[2 * layer * b];
      for (int64_t j = 0; j < b; ++j) {
        r[j] = in[j];
        r[b + j] = h[j];
        r[2 * b + j] = h[b + j];
      }
      cell(b, main + 2 * layer * 4 * b, main + (2 * layer + 1) * 4 * b, h, h + b, in, r + 3 * b);
      for (int64_t j = 0; j < b; ++j) r[7 * b + j] = h[b + j];
      in = h;
    }
    double sum = 0;
    for (int64_t j = 0; j < b; ++j) {
      top[t * b + j] = in[j];
      y[j] = in[j] * extra[b + j] + extra[2 * b + j];
      ex[t * b + j] = std::exp(y[j]);
      sum += ex[t * b + j];
    }
    se[t] = sum + 2.0;
    double lse = std::log(se[t]);
    const double* gold = seq + (t + 1) * b;
    for (int64_t j = 0; j < b; ++j) total += gold[j] * (y[j] - lse);
  }
  for (int64_t e = 0; e < 2 * l * 4 * b; ++e) dmain[e] = 0;
  for (int64_t e = 0; e < 3 * b; ++e) dextra[e] = 0;
  const double dtotal = -1.0 / double(steps * b);
  std::vector<double> dh(l * b, 0.0), dc(l * b, 0.0), din(b);
  for (int64_t t = steps - 1; t >= 0; --t) {
    const double* gold = seq + (t + 1) * b;
    double G = 0;
    for (int64_t j = 0; j < b; ++j) G += gold[j];
    for (int64_t j = 0; j < b; ++j) {
      double dy = dtotal * (gold[j] - G * ex[t * b + j] / se[t]);
      dextra[b + j] += dy * top[t * b + j];
      dextra[2 * b + j] += dy;
      din[j] = dy * extra[b + j];
    }
    for (int64_t layer = l - 1; layer >= 0; --layer) {
      const double* r = &tape[(t * l + layer) * rec];
      const double* w = main + 2 * layer * 4 * b;
      double* dw = dmain + 2 * layer * 4 * b;
      double* db = dmain + (2 * layer + 1) * 4 * b;
      double* dhl = &dh[layer * b];
      double* dcl = &dc[layer * b];
      for (int64_t j = 0; j < b; ++j) {
        double in = r[j], h = r[b + j], cprev = r[2 * b + j];
        double f = r[3 * b + j], i = r[4 * b + j], o = r[5 * b + j], ch = r[6 * b + j];
        double tc = std::tanh(r[7 * b + j]);
        double dnh = din[j] + dhl[j];
        double dnc = dcl[j] + dnh * o * (1 - tc * tc);
        double pf = dnc * cprev * f * (1 - f);
        double pi = dnc * ch * i * (1 - i);
        double po = dnh * tc * o * (1 - o);
        double pc = dnc * i * (1 - ch * ch);
        dw[j] += pf * in;
        db[j] += pf;
        dw[b + j] += pi * h;
        db[b + j] += pi;
        dw[2 * b + j] += po * in;
        db[2 * b + j] += po;
        dw[3 * b + j] += pc * h;
        db[3 * b + j] += pc;
        dcl[j] = dnc * f;
        dhl[j] = pi * w[b + j] + pc * w[3 * b + j];
        din[j] = pf * w[j] + po * w[2 * b + j];
      }
    }
    for (int64_t j = 0; j < b; ++j) dextra[j] += din[j] * seq[t * b + j];
  }
  return -total / double(steps * b);
}

}  // namespace bench::ref
