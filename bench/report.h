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
  double chainPrimalNUs = 0, chainGradNUs = 0;  // on N threads (chain_bench_suite --threads)
  double compileMs = 0, cachedCompileMs = 0;  // cold, and from the compile cache
  int64_t tapeBytes = 0;
  double torchGradUs = -1;  // < 0: not measured
};

void printCheckRow(std::ostream& os, const Row& r);
void printHeader(std::ostream& os, int threads);
void printRow(std::ostream& os, const Row& r);
void writeMarkdown(const std::string& path, const std::vector<Row>& rows, const chain::Options& opts, bool torch,
                   int threads);

// PyTorch (Debian's python3-torch), one thread, float64: available when
// `python3 -c "import torch"` works; the gradient's median time in µs, or -1.
bool torchAvailable();
double torchGradUs(const Case& c);

}  // namespace bench
