// Code generation and JIT: Chain IR (call-free, after inlining) to LLVM IR,
// LLVM's optimisation pipeline for the host CPU, and ORC LLJIT.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "runtime/codegen/RuntimeABI.h"

namespace chain::codegen {

struct CodegenOptions {
  int optLevel = 2;          // 0..3
  bool boundsChecks = true;
  bool nanCheck = false;     // check every float result of an op (NaN/Inf)
  std::string fileName;      // for runtime error messages "file:line:col"
};

using EntryFn = int32_t (*)(ChainCallCtx*, void* const*, void* const*);

// One LLJIT instance; functions are added in batches (one LLVM module each).
// Thread-safe for lookups and calls once added.
class JitEngine {
 public:
  static std::unique_ptr<JitEngine> create();  // throws std::runtime_error on failure
  virtual ~JitEngine() = default;
  // Compiles `fns` (all from `m`, no Call/GradCall ops left) and adds them.
  virtual void add(const ir::Module& m, const std::vector<const ir::Function*>& fns,
                   const CodegenOptions& opts) = 0;
  // The entry point "chain.entry.<name>" of an added function.
  virtual EntryFn lookup(const std::string& name) = 0;
};

// Text of the LLVM IR (after the O-level pipeline when optimized) and of the
// host assembly for `fns`, without adding them to a JIT.
std::string emitLLVM(const ir::Module& m, const std::vector<const ir::Function*>& fns,
                     const CodegenOptions& opts, bool optimized);
std::string emitAsm(const ir::Module& m, const std::vector<const ir::Function*>& fns,
                    const CodegenOptions& opts);

// Whether the host CPU has `feature` (LLVM's name: "avx2", "avx512f", ...),
// as the JIT's target sees it.
bool hostHasFeature(const std::string& feature);

}  // namespace chain::codegen
