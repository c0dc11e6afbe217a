// libFuzzer target: the frontend on arbitrary bytes. Lexes, parses, checks
// and (when the program is well-formed) lowers and verifies the IR, then
// renders the diagnostics. Any crash, sanitizer report, assert or hang is a
// bug: no source text may crash the compiler (SPEC §7).
#include <cstddef>
#include <cstdint>
#include <string>

#include "frontend/Frontend.h"
#include "ir/Verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string src(reinterpret_cast<const char*>(data), size);
  chain::DiagEngine diag("fuzz.chain", &src);
  auto prog = chain::frontend::parse(src, diag);
  if (!diag.hasErrors()) {
    chain::frontend::check(*prog, diag);
    if (!diag.hasErrors()) {
      auto m = chain::frontend::lower(*prog);
      for (const auto& f : m->functions) chain::ir::verifyOrDie(*f, "lower (fuzz)", m.get());
    }
  }
  std::string text = diag.render();
  (void)text;
  return 0;
}
