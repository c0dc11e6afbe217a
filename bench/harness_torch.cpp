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

namespace {

// Runs torch_ref.py on the case's inputs with `mode` ("" or "derived") and
// reads `count` numbers from its output; false when it fails.
bool runTorchRef(const Case& c, const std::string& mode, double* out, int count) {
  if (c.torchInputs.empty()) return false;
  char path[] = "/tmp/chain_bench_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return false;
  close(fd);
  {
    std::ofstream f(path, std::ios::binary);
    for (const std::vector<double>* v : c.torchInputs)
      f.write(reinterpret_cast<const char*>(v->data()), std::streamsize(v->size() * sizeof(double)));
  }
  std::string cmd = torchPython() + " '" + std::string(CHAIN_BENCH_DIR) + "/torch_ref.py' " + c.problem + " '" + c.torchParams +
                    "' " + path + " " + mode + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  int read = 0;
  if (p) {
    while (read < count && std::fscanf(p, "%lf", &out[read]) == 1) ++read;
    pclose(p);
  }
  std::remove(path);
  return read == count;
}

bool agrees(const Case& c, double value) {
  double ref = c.refPrimal();
  return std::fabs(value - ref) <= 1e-8 * std::max(std::fabs(ref), 1e-300);
}

}  // namespace

double torchGradUs(const Case& c) {
  double r[2];
  if (!runTorchRef(c, "", r, 2) || r[1] < 0) return -1;
  return agrees(c, r[0]) ? r[1] : -2;  // -2: disagrees
}

TorchDerived torchDerived(const Case& c) {
  double r[6];
  if (!runTorchRef(c, "derived", r, 6) || !agrees(c, r[0])) return {};
  return {r[1], r[2], r[3], r[4], r[5]};
}

}  // namespace bench
