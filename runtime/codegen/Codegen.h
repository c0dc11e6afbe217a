// Code generation and JIT: Chain IR (call-free, after inlining) to LLVM IR,
// LLVM's optimisation pipeline for the host CPU, and ORC LLJIT.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "runtime/rt/ChainRT.h"

namespace chain::codegen {

// The persistent compile cache (ObjectCache.h).
struct CacheOptions {
  bool enabled = true;
  std::string dir;       // empty: $CHAIN_CACHE_DIR, else $XDG_CACHE_HOME/chain, else ~/.cache/chain
  int64_t maxBytes = 0;  // 0: $CHAIN_CACHE_MAX_BYTES, else 256 MiB
};

struct CodegenOptions {
  int optLevel = 2;          // 0..3
  bool boundsChecks = true;
  bool nanCheck = false;     // check every float result of an op (NaN/Inf)
  int64_t parallelGrain = 0; // work per parallel chunk (0: the default, CodegenParallel.cpp)
  std::string fileName;      // for runtime error messages "file:line:col"
  CacheOptions cache;
};

// What the caller needs of a compiled function when its IR is not built:
// the entry's name and the IR types of its arguments and results. Kept with
// the object in a cache entry.
struct CachedSignature {
  std::string name;
  std::vector<ir::Type> params, results;
};

// The cache key of function `fnKey` (its name, or its gradient's) of a model
// whose source text is `source`, compiled with `opts`: source, options, the
// Chain and LLVM builds, target triple, CPU, features and LLVM's own options.
// Empty when opts.cache is disabled.
std::string cacheKey(const CodegenOptions& opts, const std::string& source, const std::string& fnKey);

// Process-wide counts of cache events, for tests and CHAIN_TIME_PASSES.
struct CacheStats {
  int64_t hits = 0;           // entries loaded and linked
  int64_t misses = 0;         // no entry under the key
  int64_t rejected = 0;       // an entry was there but damaged, truncated, foreign or unlinkable
  int64_t stores = 0;         // entries written
  int64_t storeFailures = 0;  // entries that could not be written (folder unusable)
};
CacheStats cacheStats();

using EntryFn = int32_t (*)(ChainCallCtx*, void* const*, void* const*);

// One LLJIT instance; functions are added in batches (one LLVM module each).
// Thread-safe for lookups and calls once added.
class JitEngine {
 public:
  static std::unique_ptr<JitEngine> create();  // throws std::runtime_error on failure
  virtual ~JitEngine() = default;
  // Compiles `fns` (all from `m`, no Call/GradCall ops left) and adds them;
  // with a `cacheKey` (see cacheKey()), the object is also stored under it.
  virtual void add(const ir::Module& m, const std::vector<const ir::Function*>& fns,
                   const CodegenOptions& opts, const std::string& cacheKey = {}) = 0;
  // Adds the batch stored under `cacheKey` and returns its signatures, or
  // std::nullopt when the cache has no usable entry for it (compile then).
  virtual std::optional<std::vector<CachedSignature>> addCached(const std::string& cacheKey,
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

// --- object files for `chain export` (ObjectEmit.cpp) ----------------------

// One dimension of an exported function's array parameter or result.
struct ExportDim {
  enum Kind { Literal, Size, Param } kind = Literal;
  int64_t value = 0;  // the literal; the index of the size argument; the index of the i64 parameter
};

// A C function written into the object: the parameters of the entry
// "chain.entry.<entry>" in order (scalars by value, arrays as pointers to
// their elements), then one int64_t per size name, then one pointer per
// (flat) result; it returns 0, 3 (a negative size, a null output) or 4 (an
// error of the compiled code), see chain_rt_call_exported.
struct ExportedFunction {
  std::string cName;
  std::string entry;
  std::vector<ir::Type> params, results;                      // the entry's, flat
  std::vector<std::vector<ExportDim>> paramDims, resultDims;  // per parameter / result; empty for scalars
  std::vector<std::string> sizeNames;                         // the size arguments, in order
  std::vector<std::string> paramNames;                        // for messages about i64 parameters used as sizes
};

// An unknown --target-cpu (or a target LLVM cannot build).
class TargetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The relocatable object (ELF bytes, position independent) holding `fns`
// compiled exactly as the JIT compiles them (same code generation and
// optimisation pipeline) for CPU `cpu` ("" or "native": the host, with its
// features; else that CPU with its default features), plus one C function
// per `exported`. Every symbol but those C functions is internal. Throws
// TargetError for an unknown CPU.
std::string emitObject(const ir::Module& m, const std::vector<const ir::Function*>& fns,
                       const std::vector<ExportedFunction>& exported, const CodegenOptions& opts,
                       const std::string& cpu);

// Whether the host CPU has `feature` (LLVM's name: "avx2", "avx512f", ...),
// as the JIT's target sees it.
bool hostHasFeature(const std::string& feature);

}  // namespace chain::codegen
