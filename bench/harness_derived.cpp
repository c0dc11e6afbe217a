// The derivative table of the benchmark (issue 12, SPEC §6): for every case,
// with respect to its first gradient parameter p, the costs the spec
// states as ratios: jvp ÷ primal (about 3), hvp ÷ grad (about 4), a
// jacobian ÷ grad (a scalar objective: one reverse sweep, by the sizes) and,
// where numel(p) <= 256, the Hessian ÷ numel(p) hvps (at most 1). With
// PyTorch (one thread, float64): its jvp ÷ primal and hvp ÷ grad by
// torch.func (functorch) and its hvp time over Chain's, and where the
// Hessian is timed, PyTorch's dense Hessian
// (torch.autograd.functional.hessian, vectorize=True) over Chain's. Timing as in the
// main table (timeUs: median of batches of warm calls), best of three
// interleaved rounds.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "report.h"

namespace bench {
namespace {

struct DerivedRow {
  std::string problem, size, error;
  int64_t numel = 0;
  double primalUs = 0, gradUs = 0, jvpUs = 0, hvpUs = 0, jacUs = 0, hessUs = -1;
  TorchDerived torch;
};

// A seeded random value shaped like `like` (a direction for jvp and hvp).
chain::Value randomLike(const chain::Value& like, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  if (like.kind() != chain::Value::Kind::Tensor) return chain::Value(u(rng));
  chain::Tensor t(chain::DType::F64, like.tensor().shape());
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = u(rng);
  return chain::Value(t);
}

DerivedRow measure(const Case& c, const chain::Jit& jit, bool torch) {
  DerivedRow r;
  r.problem = c.problem;
  r.size = c.size;
  chain::Module m = jit.compile_file(std::string(CHAIN_BENCH_DIR) + "/models/" + c.model);
  const std::string& p = c.wrt[0];
  chain::Function f = m.function(c.fn), g = m.gradient(c.fn, {p}), t = m.jvp(c.fn, {p}), h = m.hvp(c.fn, p),
                  j = m.jacobian(c.fn, p);
  size_t at = 0;
  while (f.paramNames()[at] != p) ++at;
  const chain::Value& x = c.args[at];
  r.numel = x.kind() == chain::Value::Kind::Tensor ? x.tensor().numel() : 1;
  std::mt19937 rng(12);
  std::vector<chain::Value> withDir = c.args;
  withDir.push_back(randomLike(x, rng));
  chain::Function H = m.hessian(c.fn, p);
  std::vector<std::pair<double*, std::function<void()>>> timed = {
      {&r.primalUs, [&] { f(c.args); }}, {&r.gradUs, [&] { g(c.args); }}, {&r.jvpUs, [&] { t(withDir); }},
      {&r.hvpUs, [&] { h(withDir); }},   {&r.jacUs, [&] { j(c.args); }}};
  if (r.numel <= 256) timed.push_back({&r.hessUs, [&] { H(c.args); }});
  // The machine may be shared: the best of three interleaved rounds.
  for (auto& [us, fn] : timed) *us = 1e300;
  for (int round = 0; round < 3; ++round)
    for (auto& [us, fn] : timed) *us = std::min(*us, timeUs(fn, std::min(c.maxSamples, 5)));
  if (torch) r.torch = torchDerived(c);
  return r;
}

const std::vector<std::string> kHeads = {"problem", "size", "numel(p)", "jvp ÷ primal", "hvp ÷ grad",
                                         "jacobian ÷ grad", "hessian ÷ numel(p) hvps", "PyTorch jvp ÷ primal",
                                         "PyTorch hvp ÷ grad", "PyTorch hvp ÷ Chain hvp",
                                         "PyTorch hessian ÷ Chain hessian"};

std::vector<std::string> cells(const DerivedRow& r) {
  if (!r.error.empty()) return {r.problem, r.size, "error: " + r.error};
  const TorchDerived& t = r.torch;
  bool tok = t.primalUs > 0;
  return {r.problem,
          r.size,
          std::to_string(r.numel),
          fmt("%.2f", r.jvpUs / r.primalUs),
          fmt("%.2f", r.hvpUs / r.gradUs),
          fmt("%.2f", r.jacUs / r.gradUs),
          r.hessUs < 0 ? "–" : fmt("%.2f", r.hessUs / (double(r.numel) * r.hvpUs)),
          tok ? fmt("%.2f", t.jvpUs / t.primalUs) : "–",
          tok ? fmt("%.2f", t.hvpUs / t.gradUs) : "–",
          tok ? fmt("%.2f", t.hvpUs / r.hvpUs) : "–",
          tok && t.hessUs > 0 && r.hessUs > 0 ? fmt("%.2f", t.hessUs / r.hessUs) : "–"};
}

void markdownRow(std::ostream& os, const std::vector<std::string>& cs) {
  os << "|";
  for (const std::string& c : cs) os << " " << c << " |";
  os << "\n";
}

}  // namespace

int runDerived(const std::vector<Case>& cases, const chain::Options& opts, bool torch, const std::string& out) {
  chain::Jit jit(opts);
  std::ostringstream md;
  md << "\n## Derivatives beyond the gradient (issue 12)\n\n"
     << "With respect to each case's first gradient parameter p, warm calls: the best of three interleaved rounds "
     << "of the median of batches (as above). "
     << "SPEC §6: jvp about 3× the primal, hvp about 4× the gradient, a Hessian at most numel(p) hvps. "
     << "*jacobian ÷ grad*: these objectives are scalar, so the Jacobian is one reverse sweep (by the sizes). "
     << (torch ? "PyTorch: torch.func (functorch) jvp, and hvp as jvp of grad (forward over reverse), one thread, float64; "
                  "its Hessian by torch.autograd.functional.hessian(vectorize=True)."
               : "PyTorch was not installed, so its columns are empty.")
     << "\n\n";
  markdownRow(md, kHeads);
  markdownRow(md, std::vector<std::string>(kHeads.size(), "---"));
  bool ok = true;
  for (const Case& c : cases) {
    DerivedRow r;
    try {
      r = measure(c, jit, torch);
    } catch (const std::exception& e) {
      r.problem = c.problem;
      r.size = c.size;
      r.error = e.what();
      ok = false;
    }
    markdownRow(md, cells(r));
    std::cout << md.str().substr(md.str().rfind('\n', md.str().size() - 2) + 1) << std::flush;
  }
  if (!out.empty()) std::ofstream(out) << md.str();
  return ok ? 0 : 1;
}

}  // namespace bench
