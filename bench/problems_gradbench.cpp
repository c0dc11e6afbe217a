// Cases of the GradBench-style problems (ode, llsq, lse): sizes, seeded
// inputs, and the bindings of the C++ references.
#include "harness.h"
#include "refs/refs.h"

namespace bench {
namespace {

struct VecData {
  std::vector<double> x;
  int64_t p = 0;  // the integer parameter (s for ode, n for llsq)
};

Case odeCase(int64_t n, int64_t s) {
  auto data = std::make_shared<VecData>();
  Gen gen(4000 + n + s);
  data->x = gen.uniform(n, 0.0, 1.0);  // GradBench: numpy.random.rand(n)
  data->p = s;
  Case c;
  c.problem = "ode";
  c.size = "n=" + std::to_string(n) + " s=" + std::to_string(s);
  c.model = "ode.chain";
  c.fn = "ode_last";
  c.wrt = {"x"};
  c.args = {view(data->x, {n}), chain::Value(s)};
  VecData* p = data.get();
  c.refPrimal = [p] { return ref::odePrimal(int64_t(p->x.size()), p->x.data(), p->p); };
  c.refGradient = [p](std::vector<double>& out) {
    out.resize(p->x.size());
    return ref::odeGradient(int64_t(p->x.size()), p->x.data(), p->p, out.data());
  };
  c.maxSamples = n * s >= 1000000 ? 5 : 11;
  c.torchParams = c.size;
  c.torchInputs = {&data->x};
  c.keep = data;
  return c;
}

Case llsqCase(int64_t m, int64_t n) {
  auto data = std::make_shared<VecData>();
  Gen gen(5000 + n);
  data->x = gen.uniform(m, -1.0, 1.0);
  data->p = n;
  Case c;
  c.problem = "llsq";
  c.size = "m=" + std::to_string(m) + " n=" + std::to_string(n);
  c.model = "llsq.chain";
  c.fn = "llsq";
  c.wrt = {"x"};
  c.args = {view(data->x, {m}), chain::Value(n)};
  VecData* p = data.get();
  c.refPrimal = [p] { return ref::llsqPrimal(int64_t(p->x.size()), p->x.data(), p->p); };
  c.refGradient = [p](std::vector<double>& out) {
    out.resize(p->x.size());
    return ref::llsqGradient(int64_t(p->x.size()), p->x.data(), p->p, out.data());
  };
  c.torchParams = c.size;
  c.torchInputs = {&data->x};
  c.keep = data;
  return c;
}

Case lseCase(int64_t n) {
  auto data = std::make_shared<VecData>();
  Gen gen(6000 + n);
  data->x = gen.uniform(n, -10.0, 10.0);
  Case c;
  c.problem = "lse";
  c.size = "n=" + std::to_string(n);
  c.model = "lse.chain";
  c.fn = "lse";
  c.wrt = {"x"};
  c.args = {view(data->x, {n})};
  VecData* p = data.get();
  c.refPrimal = [p] { return ref::lsePrimal(int64_t(p->x.size()), p->x.data()); };
  c.refGradient = [p](std::vector<double>& out) {
    out.resize(p->x.size());
    return ref::lseGradient(int64_t(p->x.size()), p->x.data(), out.data());
  };
  c.torchParams = c.size;
  c.torchInputs = {&data->x};
  c.keep = data;
  return c;
}

}  // namespace

std::vector<Case> odeCases(bool small) {
  if (small) return {odeCase(10, 3), odeCase(30, 20)};
  std::vector<Case> cs;
  for (int64_t n : {1000, 10000})
    for (int64_t s : {1, 10, 100}) cs.push_back(odeCase(n, s));
  return cs;
}

std::vector<Case> llsqCases(bool small) {
  if (small) return {llsqCase(8, 32)};
  return {llsqCase(128, 256), llsqCase(128, 1024), llsqCase(128, 4096)};
}

std::vector<Case> lseCases(bool small) {
  if (small) return {lseCase(100)};
  return {lseCase(10000), lseCase(1280000)};
}

}  // namespace bench
