// `chain bench`: compile time, and the median time of warm calls of a
// function and of its gradient. Fast functions are timed in batches (the
// batch grows until it lasts about a millisecond) so the clock's resolution
// does not dominate; the median of the batches' per-call times is reported.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/Args.h"
#include "cli/Commands.h"
#include "cli/Output.h"

namespace chain::cli {
namespace {

using Clock = std::chrono::steady_clock;

double secondsFor(const Function& f, const std::vector<Value>& args, int64_t calls) {
  auto t0 = Clock::now();
  for (int64_t i = 0; i < calls; ++i) f(args);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Timing {
  double medianUs = 0;
  int64_t batch = 1;
  int samples = 0;
};

// Median per-call time of warm calls: at most ~15 batches or ~2 s in all.
Timing timeCalls(const Function& f, const std::vector<Value>& args) {
  f(args);  // warm up: the first call may finish compiling
  Timing t;
  double batchSeconds = secondsFor(f, args, t.batch);
  while (batchSeconds < 1e-3 && t.batch < (int64_t(1) << 24)) {
    t.batch *= 2;
    batchSeconds = secondsFor(f, args, t.batch);
  }
  std::vector<double> perCall{batchSeconds / t.batch};
  double total = batchSeconds;
  while (perCall.size() < 15 && (total < 2.0 || perCall.size() < 3)) {
    double s = secondsFor(f, args, t.batch);
    total += s;
    perCall.push_back(s / t.batch);
  }
  std::sort(perCall.begin(), perCall.end());
  t.medianUs = perCall[perCall.size() / 2] * 1e6;
  t.samples = static_cast<int>(perCall.size());
  return t;
}

}  // namespace

int cmdBench(const CliOptions& o) {
  Loaded l = loadModel(o);
  std::vector<Value> args = bindArgs(readArgs(o.args), l.fn);
  // print() in a benchmark would flood the terminal: send it to stderr.
  Function::setPrintStream(stderr);
  bool hasFloat = false;
  for (const auto& t : l.fn.paramTypes()) hasFloat |= !t.isTuple && (t.dtype == DType::F64 || t.dtype == DType::F32);
  Function g;
  bool withGrad = hasFloat || !o.wrt.empty();
  if (withGrad) g = l.module.gradient(l.fnName, resolveWrt(o, l.fn));
  // Both are timed: compile them at once (on two threads) before timing either.
  Function::compileAll(withGrad ? std::vector<Function>{l.fn, g} : std::vector<Function>{l.fn});
  Timing primal = timeCalls(l.fn, args);
  Timing grad;
  if (withGrad) grad = timeCalls(g, args);
  double compileMs = l.module.compileMs();
  if (o.json) {
    nlohmann::ordered_json j = {{"compile_ms", compileMs}, {"primal_us", primal.medianUs}};
    j["grad_us"] = withGrad ? nlohmann::ordered_json(grad.medianUs) : nlohmann::ordered_json(nullptr);
    j["ratio"] = withGrad && primal.medianUs > 0 ? nlohmann::ordered_json(grad.medianUs / primal.medianUs)
                                                 : nlohmann::ordered_json(nullptr);
    std::cout << j.dump() << "\n";
    return 0;
  }
  char line[200];
  std::snprintf(line, sizeof line, "compile: %10.3f ms\n", compileMs);
  std::cout << line;
  std::snprintf(line, sizeof line, "primal:  %10.4f us  (median of %d batches of %lld calls)\n", primal.medianUs,
                primal.samples, static_cast<long long>(primal.batch));
  std::cout << line;
  if (!withGrad) {
    std::cout << "grad:    (no float parameter)\n";
    return 0;
  }
  std::snprintf(line, sizeof line, "grad:    %10.4f us  (median of %d batches of %lld calls)\n", grad.medianUs,
                grad.samples, static_cast<long long>(grad.batch));
  std::cout << line;
  std::snprintf(line, sizeof line, "ratio:   %10.2f\n", primal.medianUs > 0 ? grad.medianUs / primal.medianUs : 0.0);
  std::cout << line;
  return 0;
}

}  // namespace chain::cli
