// The optional PyTorch column: when `python3 -c "import torch"` works, the
// harness writes a case's float inputs (raw little-endian f64, in order) to a
// temporary file and runs bench/torch_ref.py on it, which prints the
// objective and the median time of its gradient. Nothing is installed here.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "report.h"

namespace bench {

bool torchAvailable() { return std::system("python3 -c 'import torch' >/dev/null 2>&1") == 0; }

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
  std::string cmd = "python3 '" + std::string(CHAIN_BENCH_DIR) + "/torch_ref.py' " + c.problem + " '" + c.torchParams +
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
