// Cases of the ADBench-style problems (gmm, lstm) and of the digits MLP:
// sizes, seeded inputs, and the bindings of the C++ references.
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "harness.h"
#include "refs/refs.h"

namespace bench {
namespace {

std::string sizeName(std::initializer_list<std::pair<const char*, int64_t>> kv) {
  std::string s;
  for (auto& [k, v] : kv) s += (s.empty() ? "" : " ") + std::string(k) + "=" + std::to_string(v);
  return s;
}

struct GmmData {
  ref::GmmDims dims;
  std::vector<double> alphas, means, icf, x;
};

Case gmmCase(int64_t d, int64_t k, int64_t n) {
  auto data = std::make_shared<GmmData>();
  GmmData& g = *data;
  const int64_t t = d * (d + 1) / 2;
  g.dims = {d, k, n, 1.0, 0};
  Gen gen(1000 + d * 1000 + k);
  g.alphas = gen.uniform(k, -1.0, 1.0);
  g.means = gen.uniform(k * d, 0.0, 1.0);
  g.icf = gen.uniform(k * t, -0.5, 0.5);
  g.x = gen.uniform(n * d, 0.0, 1.0);
  Case c;
  c.problem = "gmm";
  c.size = sizeName({{"d", d}, {"k", k}, {"n", n}});
  c.model = "gmm.chain";
  c.fn = "gmm_objective";
  c.wrt = {"alphas", "means", "icf"};
  c.args = {view(g.alphas, {k}), view(g.means, {k, d}), view(g.icf, {k, t}), view(g.x, {n, d}),
            chain::Value(g.dims.gamma), chain::Value(int64_t(g.dims.m))};
  GmmData* p = data.get();
  c.refPrimal = [p] { return ref::gmmPrimal(p->dims, p->alphas.data(), p->means.data(), p->icf.data(), p->x.data()); };
  c.refGradient = [p, k, d, t](std::vector<double>& out) {
    out.resize(k + k * d + k * t);
    return ref::gmmGradient(p->dims, p->alphas.data(), p->means.data(), p->icf.data(), p->x.data(), out.data(),
                            out.data() + k, out.data() + k + k * d);
  };
  double work = double(n) * double(k) * double(d) * double(d);
  c.maxSamples = work > 1e8 ? 3 : work > 1e7 ? 5 : 11;
  c.torchParams = c.size + " gamma=1 m=0";
  c.torchInputs = {&g.alphas, &g.means, &g.icf, &g.x};
  c.keep = data;
  return c;
}

struct LstmData {
  int64_t l, c, b;
  std::vector<double> main, extra, state, seq;
};

Case lstmCase(int64_t l, int64_t c, int64_t b) {
  auto data = std::make_shared<LstmData>();
  LstmData& s = *data;
  s.l = l, s.c = c, s.b = b;
  Gen gen(2000 + l * 10000 + c);
  s.main = gen.uniform(2 * l * 4 * b, -1.0, 1.0);
  s.extra = gen.uniform(3 * b, -1.0, 1.0);
  s.state = gen.uniform(2 * l * b, -1.0, 1.0);
  s.seq = gen.uniform(c * b, 0.0, 1.0);
  for (double& v : s.seq) v = v < 0.5 ? 0.0 : 1.0;  // bits of the characters
  Case k;
  k.problem = "lstm";
  k.size = sizeName({{"l", l}, {"c", c}, {"b", b}});
  k.model = "lstm.chain";
  k.fn = "lstm_objective";
  k.wrt = {"main_params", "extra_params"};
  k.args = {view(s.main, {2 * l, 4 * b}), view(s.extra, {3, b}), view(s.state, {2 * l, b}), view(s.seq, {c, b})};
  LstmData* p = data.get();
  k.refPrimal = [p] {
    return ref::lstmPrimal(p->l, p->c, p->b, p->main.data(), p->extra.data(), p->state.data(), p->seq.data());
  };
  k.refGradient = [p](std::vector<double>& out) {
    out.resize(p->main.size() + p->extra.size());
    return ref::lstmGradient(p->l, p->c, p->b, p->main.data(), p->extra.data(), p->state.data(), p->seq.data(),
                             out.data(), out.data() + p->main.size());
  };
  k.torchParams = k.size;
  k.torchInputs = {&s.main, &s.extra, &s.state, &s.seq};
  k.keep = data;
  return k;
}

struct MlpData {
  int64_t h, n;
  std::vector<double> W1, b1, W2, b2, data;
};

// bench/data/digits.csv: 65 numbers a line (64 pixels, then the digit).
std::vector<double> readDigits(int64_t& rows) {
  std::string path = std::string(CHAIN_BENCH_DIR) + "/data/digits.csv";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<double> v;
  std::string line;
  rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) v.push_back(std::stod(cell));
    ++rows;
  }
  if (v.size() != size_t(rows) * 65) throw std::runtime_error(path + ": expected 65 columns");
  return v;
}

Case mlpCase(int64_t h, int64_t rowsWanted) {
  auto data = std::make_shared<MlpData>();
  MlpData& m = *data;
  int64_t rows = 0;
  m.data = readDigits(rows);
  m.n = rowsWanted < rows ? rowsWanted : rows;
  m.data.resize(m.n * 65);
  m.h = h;
  Gen gen(3000 + h);
  m.W1 = gen.uniform(h * 64, -0.1, 0.1);
  m.b1 = gen.uniform(h, -0.1, 0.1);
  m.W2 = gen.uniform(10 * h, -0.3, 0.3);
  m.b2 = gen.uniform(10, -0.1, 0.1);
  Case c;
  c.problem = "mlp";
  c.size = sizeName({{"h", h}, {"n", m.n}});
  c.model = "mlp.chain";
  c.fn = "loss";
  c.wrt = {"W1", "b1", "W2", "b2"};
  c.args = {view(m.W1, {h, 64}), view(m.b1, {h}), view(m.W2, {10, h}), view(m.b2, {10}), view(m.data, {m.n, 65})};
  MlpData* p = data.get();
  c.refPrimal = [p] {
    return ref::mlpPrimal(p->h, p->n, p->W1.data(), p->b1.data(), p->W2.data(), p->b2.data(), p->data.data());
  };
  c.refGradient = [p](std::vector<double>& out) {
    const int64_t h = p->h;
    out.resize(h * 64 + h + 10 * h + 10);
    double* o = out.data();
    return ref::mlpGradient(h, p->n, p->W1.data(), p->b1.data(), p->W2.data(), p->b2.data(), p->data.data(), o,
                            o + h * 64, o + h * 65, o + h * 75);
  };
  c.torchParams = c.size;
  c.torchInputs = {&m.W1, &m.b1, &m.W2, &m.b2, &m.data};
  c.keep = data;
  return c;
}

}  // namespace

std::vector<Case> gmmCases(bool small) {
  if (small) return {gmmCase(2, 3, 20), gmmCase(5, 4, 30)};
  std::vector<Case> cs;
  const int64_t ds[] = {2, 10, 20, 32, 64}, ks[] = {5, 10, 25, 50, 100};
  for (int i = 0; i < 5; ++i) cs.push_back(gmmCase(ds[i], ks[i], 1000));
  // Two corners off the diagonal: many small components, few large ones.
  cs.push_back(gmmCase(2, 100, 1000));
  cs.push_back(gmmCase(64, 5, 1000));
  return cs;
}

std::vector<Case> lstmCases(bool small) {
  if (small) return {lstmCase(2, 6, 4)};
  std::vector<Case> cs;
  for (int64_t l : {2, 4})
    for (int64_t c : {1024, 4096}) cs.push_back(lstmCase(l, c, 14));
  return cs;
}

std::vector<Case> mlpCases(bool small) {
  if (small) return {mlpCase(5, 40)};
  return {mlpCase(16, 1797), mlpCase(128, 1797)};
}

}  // namespace bench
