// Results of the benchmark harness: one Row per case, printed as a console
// table and written as BENCHMARKS.md (machine, flags, method, table, which
// targets of issue 4 are met); and the optional PyTorch reference.
#pragma once

#include <chain/chain.h>

#include <ostream>
#include <string>
#include <vector>

#include "harness.h"

namespace bench {

struct Row {
  std::string problem, size, error;
  bool ok = false;
  double valueError = 0, gradError = 0;  // relative, Chain vs C++
  double refPrimalUs = 0, refGradUs = 0, chainPrimalUs = 0, chainGradUs = 0;
  double tunedPrimalUs = -1, tunedGradUs = -1;  // the hand-tuned model's; < 0: none
  double chainPrimalNUs = 0, chainGradNUs = 0;  // on N threads (chain_bench_suite --threads)
  double compileMs = 0, cachedCompileMs = 0;  // cold, and from the compile cache
  int64_t tapeBytes = 0;
  double torchGradUs = -1;  // < 0: not measured
};

// printf-style formatting of one number ("%.2f").
std::string fmt(const char* f, double v);

void printCheckRow(std::ostream& os, const Row& r);
void printHeader(std::ostream& os, int threads);
void printRow(std::ostream& os, const Row& r);
void writeMarkdown(const std::string& path, const std::vector<Row>& rows, const chain::Options& opts, bool torch,
                   int threads);

// PyTorch (Debian's python3-torch), one thread, float64: available when
// `python3 -c "import torch"` works; the gradient's median time in µs, or -1.
bool torchAvailable();
double torchGradUs(const Case& c);

// PyTorch's times (µs) of the primal, jvp, gradient and hvp with respect to
// the case's first gradient parameter (torch_ref.py ... derived); all -1
// when not measured or when its value disagrees.
struct TorchDerived {
  double primalUs = -1, jvpUs = -1, gradUs = -1, hvpUs = -1;
  double hessUs = -1;  // torch.autograd.functional.hessian(vectorize=True); -1: not timed
};
TorchDerived torchDerived(const Case& c);

// Median per-call time (µs) of warm calls of f (harness.cpp).
double timeUs(const std::function<void()>& f, int maxSamples);

// The derivative table (harness_derived.cpp): prints it as markdown, writes
// it to `out` when not empty; 1 when a case failed.
int runDerived(const std::vector<Case>& cases, const chain::Options& opts, bool torch, const std::string& out);

}  // namespace bench
