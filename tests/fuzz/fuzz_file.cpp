// libFuzzer targets for the array file readers of the command line
// (cli/FileInput.cpp): built as fuzz_npy (cli::readNpy) and, with
// CHAIN_FUZZ_CSV defined, fuzz_csv (cli::readCsv). The input bytes are
// written to a scratch file and read for a parameter of every dtype and rank
// 0-3 (the first byte picks the parameter type, the rest is the file; the
// csv reader must refuse rank 3 cleanly). chain::InputError is the expected
// outcome of bad input; any other escape, crash, sanitizer report or huge
// allocation is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "chain/chain.h"
#include "cli/ArrayInput.h"

namespace {

#ifdef CHAIN_FUZZ_CSV
const char* const kSuffix = ".csv";
chain::Tensor (*const kRead)(const std::string&, const chain::TypeInfo&, const std::string&) = chain::cli::readCsv;
#else
const char* const kSuffix = ".npy";
chain::Tensor (*const kRead)(const std::string&, const chain::TypeInfo&, const std::string&) = chain::cli::readNpy;
#endif

std::string scratchPath() {
  static std::string p = "/tmp/chain-fuzz-" + std::to_string(getpid()) + kSuffix;
  return p;
}

chain::TypeInfo typeFor(uint8_t b) {
  static const chain::DType dts[] = {chain::DType::F64, chain::DType::F32, chain::DType::I64, chain::DType::Bool};
  chain::TypeInfo t;
  t.dtype = dts[b & 3];
  int rank = (b >> 2) & 3;
  static const char* names[] = {"n", "3", "d"};
  for (int k = 0; k < rank; ++k) t.dims.push_back(names[k]);
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  chain::TypeInfo t = typeFor(data[0]);
  FILE* f = std::fopen(scratchPath().c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data + 1, 1, size - 1, f);
  std::fclose(f);
  try {
    chain::Tensor x = kRead("x", t, scratchPath());
    if (x.numel() > 0) (void)x.at(x.numel() - 1);
  } catch (const chain::InputError&) {
  }
  return 0;
}
