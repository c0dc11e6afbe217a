// Times an exported gradient against the JIT's, in one process, interleaved
// (not part of the tests; the README's and the report's figures): the
// gradient of examples/gmm.chain's gmm_objective with respect to alphas,
// means and icf, with value, once through chain::Function::call (the JIT)
// and once through gmm_objective_grad from `chain export ... -o DIR`, on the
// arguments of ARGS.json. Prints the per-call median of 15 rounds of each.
//   chain export examples/gmm.chain --grad gmm_objective:alphas,means,icf -o DIR
//   clang++-19 -std=c++17 -O2 -Iruntime/include -IDIR tests/export/bench_vs_jit.cpp DIR/gmm.o \
//     build/libchain_runtime.a build/libchain_frontend.a build/libchain_passes.a \
//     build/libchain_codegen.a build/libchain_ir.a build/libchain_rt.a -lLLVM-19 -o bench_vs_jit
//   ./bench_vs_jit gmm_big.json
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <chain/chain.h>
#include <nlohmann/json.hpp>

#include "gmm.h"

namespace {

double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Per-call time of `call` in microseconds: batches doubled to >= 1 ms.
template <class F> double perCall(F&& call, long& batch) {
  if (batch == 0) {
    batch = 1;
    for (;;) {
      double t0 = seconds();
      for (long i = 0; i < batch; ++i) call();
      if (seconds() - t0 >= 1e-3) break;
      batch *= 2;
    }
  }
  double t0 = seconds();
  for (long i = 0; i < batch; ++i) call();
  return (seconds() - t0) / double(batch) * 1e6;
}

std::vector<double> flat(const nlohmann::json& j) {
  std::vector<double> out;
  if (!j.is_array()) return {j.get<double>()};
  for (auto& e : j)
    for (double x : flat(e)) out.push_back(x);
  return out;
}

chain::Tensor tensor(const std::vector<double>& v, std::vector<int64_t> shape) {
  return chain::Tensor::fromValues(chain::DType::F64, std::move(shape), v);
}

}  // namespace

int main(int argc, char** argv) {
  std::ifstream in(argv[1]);
  nlohmann::json a = nlohmann::json::parse(in);
  auto alphas = flat(a["alphas"]), means = flat(a["means"]), icf = flat(a["icf"]), x = flat(a["x"]);
  int64_t k = int64_t(a["alphas"].size()), d = int64_t(a["means"][0].size()), t = d * (d + 1) / 2,
          n = int64_t(a["x"].size());
  double gamma = a["wishart_gamma"];
  int64_t m = a["wishart_m"];
  chain::Jit jit;
  chain::Module mod = jit.compile_file("examples/gmm.chain");
  chain::Function g = mod.gradient("gmm_objective", {"alphas", "means", "icf"}, true);
  std::vector<chain::Value> args{tensor(alphas, {k}), tensor(means, {k, d}), tensor(icf, {k, t}),
                                 tensor(x, {n, d}), gamma, m};
  std::vector<double> ga(static_cast<size_t>(k)), gm(static_cast<size_t>(k * d)), gi(static_cast<size_t>(k * t));
  double v = 0;
  auto exported = [&] {
    gmm_objective_grad(alphas.data(), means.data(), icf.data(), x.data(), gamma, m, k, d, t, n, &v, ga.data(),
                       gm.data(), gi.data());
  };
  auto jitted = [&] { (void)g(args); };
  exported();
  double jv = g(args).tuple()[0].asDouble();
  std::printf("value: exported %.17g, jit %.17g\n", v, jv);
  std::vector<double> te, tj;
  long be = 0, bj = 0;
  for (int r = 0; r < 15; ++r) {
    if (r % 2) te.push_back(perCall(exported, be));  // alternating which goes first
    tj.push_back(perCall(jitted, bj));
    if (r % 2 == 0) te.push_back(perCall(exported, be));
  }
  std::sort(te.begin(), te.end());
  std::sort(tj.begin(), tj.end());
  std::printf("median us per call: exported %.1f, jit %.1f, exported/jit %.3f (min %.1f vs %.1f)\n", te[7], tj[7],
              te[7] / tj[7], te[0], tj[0]);
  return 0;
}
