// libFuzzer target: the command line's JSON argument reader (cli/Args.cpp,
// cli/ArrayInput.cpp): inline `--args` text is parsed and bound against a
// fixed function with one parameter of every kind (scalars, arrays of each
// dtype and rank 1-2 sharing size names). Inputs that would name a file
// (a leading '@', or "@path" values) are skipped: files are fuzzed by
// fuzz_npy and fuzz_csv. chain::InputError is the expected outcome of bad
// input; anything else escaping, a crash or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chain/chain.h"
#include "cli/Args.h"

namespace {

const chain::Function& target() {
  static chain::Module m = [] {
    chain::Options o;
    o.cache = false;  // a fuzzer never writes to the user's compile cache
    return chain::Jit(o).compile_string(
        "fn f(a: f64, b: i64, c: bool, d: f32, x: f64[n], M: f64[n, d2], y: i64[n], z: f32[3], t: bool[2],\n"
        "     L: i64[2, k]) -> f64 { a }\n",
        "fuzz.chain");
  }();
  static chain::Function f = m.function("f");
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (text.empty() || text[0] == '@' || text.find('@') != std::string::npos) return 0;
  try {
    chain::cli::ArgsSource src = chain::cli::readArgs({text});
    std::vector<chain::Value> args = chain::cli::bindArgs(src, target());
    (void)args;
  } catch (const chain::InputError&) {
  }
  return 0;
}
