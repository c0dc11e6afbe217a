// The optional PyTorch column: when `python3 -c "import torch"` works (with
// PATH's python3 or Debian's /usr/bin/python3), the harness writes a case's
// float inputs (raw little-endian f64, in order) to a temporary file and runs
// bench/torch_ref.py on it, which prints the objective and the median time of
// its gradient. Nothing is installed here.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "report.h"

namespace bench {

namespace {

// The first of `python3` (PATH) and Debian's /usr/bin/python3 that imports
// torch: a PATH python (pyenv, a venv) may shadow the system one that has
// Debian's python3-torch.
const std::string& torchPython() {
  static const std::string py = [] {
    for (const char* cand : {"python3", "/usr/bin/python3"})
      if (std::system((std::string(cand) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0) return std::string(cand);
    return std::string();
  }();
  return py;
}

}  // namespace

bool torchAvailable() { return !torchPython().empty(); }

double torchGradUs(const Case& c) {
  if (c.torchInputs.empty()) return -1;
  char path[] = "/tmp/chain_bench_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    for (const std::vector<double>* v : c.torchInputs)
      out.write(reinterpret_cast<const char*>(v->data()), std::streamsize(v->size() * sizeof(double)));
  }
  std::string cmd = torchPython() + " '" + std::string(CHAIN_BENCH_DIR) + "/torch_ref.py' " + c.problem + " '" + c.torchParams +
                    "' " + path + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  double value = NAN, us = -1;
  if (p) {
    if (std::fscanf(p, "%lf %lf", &value, &us) != 2) us = -1;
    pclose(p);
  }
  std::remove(path);
  if (us < 0) return -1;
  double ref = c.refPrimal();
  if (!(std::fabs(value - ref) <= 1e-8 * std::max(std::fabs(ref), 1e-300))) return -2;  // disagrees
  return us;
}

}  // namespace bench
