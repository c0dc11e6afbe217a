// The persistent compile cache (SPEC §7): native objects kept on disk between
// runs, one file per compiled batch, named by a key that hashes everything
// deciding the code (source, options, compiler and LLVM builds, target CPU).
// It is ORC's object-cache hook (llvm::ObjectCache, given to SimpleCompiler)
// plus a lookup that runs before any IR exists, so that a hit skips Chain's
// passes, LLVM IR generation, optimisation and code generation.
//
// Entry file "llvmcache-chain-<key>": a header (magic, format version, key,
// lengths, xxh3 checksum of what follows), the signatures of the batch's
// functions, then the object file. A missing, damaged, truncated or foreign
// file is a miss; the compile that follows replaces it. Files are written to a
// temporary file in the cache folder and renamed over the entry, so
// concurrent writers and readers only ever see whole entries. After a write
// (at most once every 10 s per folder), llvm::pruneCache deletes the least
// recently used entries (access time, set on every hit) beyond the size bound. Nothing here fails a compilation: an
// unusable folder is one warning on stderr per process.
#pragma once

#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/Support/MemoryBuffer.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/codegen/Codegen.h"

namespace chain::codegen {

// What a hit needs: the signatures of the batch and its object file.
struct CacheEntry {
  std::vector<CachedSignature> signatures;
  std::unique_ptr<llvm::MemoryBuffer> object;
};

// The key of a batch: an xxh3-128 hash, in hex, of the cache format version,
// the build identity of Chain's and LLVM's code in this process, and `parts`
// (what the caller says decides the code).
std::string hashCacheKey(const std::vector<std::string>& parts);

// The folder `opts` names, resolved as SPEC §7 says; empty when there is
// none (caching disabled, or no home folder).
std::string cacheDirectory(const CacheOptions& opts);

class DiskObjectCache final : public llvm::ObjectCache {
 public:
  // The folder and bound of the following calls.
  void configure(const CacheOptions& opts) { opts_ = opts; }
  // The intact entry stored under `key`, touched as just used; std::nullopt
  // when it is missing or unusable (counted as a miss or a rejection).
  std::optional<CacheEntry> load(const std::string& key);
  // The next module named `key` that ORC compiles is stored with `sigs`.
  void expect(const std::string& key, std::vector<CachedSignature> sigs);
  // Counts a loaded entry as a hit, or as rejected when the JIT could not
  // link it.
  void noteLinked(bool ok);

  // llvm::ObjectCache: modules are named by their key (setModuleIdentifier).
  void notifyObjectCompiled(const llvm::Module* m, llvm::MemoryBufferRef obj) override;
  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module* m) override;

 private:
  void store(const std::string& dir, const std::string& key, llvm::MemoryBufferRef obj);

  CacheOptions opts_;
  std::string expectedKey_;
  std::vector<CachedSignature> expectedSigs_;
};

}  // namespace chain::codegen
