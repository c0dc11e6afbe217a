// The persistent compile cache (see ObjectCache.h): key hashing, the build
// identity that goes into every key, the folder and size bound, the entry
// file format, and the llvm::ObjectCache hook through which ORC hands over
// the objects it compiles. Writes go through llvm::sys::fs::TempFile (unique
// temporary file, atomic rename, removed on a signal) and eviction is
// llvm::pruneCache; llvm::localCache is not used because in LLVM 19 its
// stream commits in a destructor that calls report_fatal_error when the
// rename fails, and a cache must never stop a compilation.
#include "runtime/codegen/ObjectCache.h"

#include <link.h>
#include <llvm-c/Core.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/CachePruning.h>
#include <llvm/Support/DataExtractor.h>
#include <llvm/Support/EndianStream.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Support/xxhash.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace chain::codegen {
namespace {

constexpr char kMagic[] = "CHAINOBJ";  // 8 bytes, no terminator in the file
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kKeyChars = 32;       // xxh3-128 in hex
constexpr size_t kHeaderBytes = 8 + 4 + kKeyChars + 8 + 8 + 8;
constexpr uint64_t kDefaultMaxBytes = uint64_t(256) << 20;
constexpr uint32_t kMaxRank = 64;
constexpr int kPruneIntervalSeconds = 10;
// pruneCache only considers files named "llvmcache-*": entries and the
// temporary files a killed writer may leave behind (they age out by LRU).
constexpr char kEntryPrefix[] = "llvmcache-chain-";

struct Counters {
  std::atomic<int64_t> hits{0}, misses{0}, rejected{0}, stores{0}, storeFailures{0};
};
Counters& counters() {
  static Counters c;
  return c;
}

void warnOnce(std::once_flag& once, const std::string& message) {
  std::call_once(once, [&] { std::fprintf(stderr, "chain: warning: %s\n", message.c_str()); });
}

// --- build identity ---------------------------------------------------------
// The GNU build ID of the loaded ELF object (the executable or a shared
// library) that holds a code address, read from its PT_NOTE segments in
// memory; without one, a hash of its executable segments. Either changes with
// every rebuild, so an entry never outlives the compiler that wrote it.
// (LLVM's object::getBuildID needs the object's file, and dladdr does not
// reliably name the main program's file.)

struct IdentitySearch {
  uintptr_t addr = 0;
  std::string id;
};

std::string buildIdNote(const dl_phdr_info& info) {
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info.dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    uint64_t align = ph.p_align == 8 ? 8 : 4;
    const char* p = reinterpret_cast<const char*>(info.dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (size_t(end - p) >= sizeof(ElfW(Nhdr))) {
      ElfW(Nhdr) note;
      std::memcpy(&note, p, sizeof note);
      const char* name = p + sizeof note;
      const char* desc = name + llvm::alignTo(note.n_namesz, align);
      const char* next = desc + llvm::alignTo(note.n_descsz, align);
      if (next > end) break;
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0)
        return llvm::toHex(llvm::StringRef(desc, note.n_descsz), true);
      p = next;
    }
  }
  return "";
}

std::string textHash(const dl_phdr_info& info) {
  uint64_t h = 0;
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info.dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    const auto* bytes = reinterpret_cast<const uint8_t*>(info.dlpi_addr + ph.p_vaddr);
    h = h * 31 + llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(bytes, ph.p_memsz));
  }
  return "text-" + llvm::utohexstr(h, true);
}

int identifyObject(dl_phdr_info* info, size_t, void* data) {
  auto& search = *static_cast<IdentitySearch*>(data);
  bool holds = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && search.addr >= lo && search.addr - lo < ph.p_memsz) holds = true;
  }
  if (!holds) return 0;
  search.id = buildIdNote(*info);
  if (search.id.empty()) search.id = textHash(*info);
  return 1;
}

std::string identityOf(const void* codeAddress) {
  IdentitySearch search;
  search.addr = reinterpret_cast<uintptr_t>(codeAddress);
  dl_iterate_phdr(identifyObject, &search);
  return search.id;
}

// Chain's code (this file's object) and LLVM's (the library that defines
// LLVMGetVersion, which also gives the version of the LLVM actually loaded).
const std::string& buildIdentity() {
  static const std::string id = [] {
    unsigned major = 0, minor = 0, patch = 0;
    LLVMGetVersion(&major, &minor, &patch);
    return "chain " + identityOf(reinterpret_cast<const void*>(&identityOf)) + ", LLVM " +
           std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch) + " " +
           identityOf(reinterpret_cast<const void*>(&LLVMGetVersion));
  }();
  return id;
}

// --- entry files -------------------------------------------------------------

std::string entryPath(const std::string& dir, const std::string& key) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, kEntryPrefix + key);
  return std::string(path);
}

uint64_t maxBytes(const CacheOptions& opts) {
  if (opts.maxBytes > 0) return uint64_t(opts.maxBytes);
  const char* env = std::getenv("CHAIN_CACHE_MAX_BYTES");
  if (!env || !*env) return kDefaultMaxBytes;
  uint64_t bytes = 0;
  if (!llvm::StringRef(env).getAsInteger(10, bytes) && bytes > 0) return bytes;
  static std::once_flag once;
  warnOnce(once, std::string("CHAIN_CACHE_MAX_BYTES='") + env +
                     "' is not a positive number of bytes; the compile cache keeps 256 MiB");
  return kDefaultMaxBytes;
}

std::string encodeSignatures(const std::vector<CachedSignature>& sigs) {
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::support::endian::Writer w(os, llvm::endianness::little);
  w.write<uint32_t>(uint32_t(sigs.size()));
  for (const CachedSignature& s : sigs) {
    w.write<uint32_t>(uint32_t(s.name.size()));
    os << s.name;
    for (const std::vector<ir::Type>* types : {&s.params, &s.results}) {
      w.write<uint32_t>(uint32_t(types->size()));
      for (const ir::Type& t : *types) {
        w.write<uint8_t>(uint8_t(t.elem));
        w.write<uint32_t>(uint32_t(t.rank));
      }
    }
  }
  return out;
}

bool decodeTypes(const llvm::DataExtractor& d, llvm::DataExtractor::Cursor& c, std::vector<ir::Type>& out) {
  uint32_t n = d.getU32(c);
  if (!c || n > d.size()) return false;
  for (uint32_t i = 0; i < n && c; ++i) {
    uint8_t elem = d.getU8(c);
    uint32_t rank = d.getU32(c);
    if (elem > uint8_t(ir::Scalar::Bool) || rank > kMaxRank) return false;
    out.push_back(ir::Type{ir::Scalar(elem), int(rank)});
  }
  return bool(c);
}

std::optional<std::vector<CachedSignature>> decodeSignatures(llvm::StringRef meta) {
  llvm::DataExtractor d(meta, /*IsLittleEndian=*/true, 8);
  llvm::DataExtractor::Cursor c(0);
  std::vector<CachedSignature> sigs;
  uint32_t n = d.getU32(c);
  bool ok = c && n > 0 && n <= meta.size();
  for (uint32_t i = 0; ok && i < n; ++i) {
    CachedSignature s;
    uint32_t len = d.getU32(c);
    s.name = d.getBytes(c, len).str();
    ok = c && !s.name.empty() && decodeTypes(d, c, s.params) && decodeTypes(d, c, s.results);
    sigs.push_back(std::move(s));
  }
  ok = ok && d.eof(c);
  llvm::consumeError(c.takeError());
  if (!ok) return std::nullopt;
  return sigs;
}

std::string encodeHeader(const std::string& key, uint64_t metaBytes, llvm::StringRef body) {
  std::string out(kMagic, 8);
  llvm::raw_string_ostream os(out);
  llvm::support::endian::Writer w(os, llvm::endianness::little);
  w.write<uint32_t>(kFormatVersion);
  os << key;
  w.write<uint64_t>(metaBytes);
  w.write<uint64_t>(body.size() - metaBytes);
  w.write<uint64_t>(llvm::xxh3_64bits(body));
  return out;
}

// The entry in `file` if it is one of ours, for `key`, whole and intact.
std::optional<CacheEntry> decodeEntry(llvm::StringRef file, const std::string& key) {
  if (file.size() < kHeaderBytes || !file.starts_with(llvm::StringRef(kMagic, 8))) return std::nullopt;
  llvm::DataExtractor d(file, /*IsLittleEndian=*/true, 8);
  llvm::DataExtractor::Cursor c(8);
  uint32_t version = d.getU32(c);
  llvm::StringRef storedKey = d.getBytes(c, kKeyChars);
  uint64_t metaBytes = d.getU64(c), objectBytes = d.getU64(c), checksum = d.getU64(c);
  llvm::consumeError(c.takeError());
  llvm::StringRef body = file.drop_front(kHeaderBytes);
  if (version != kFormatVersion || storedKey != key || metaBytes > body.size() ||
      objectBytes != body.size() - metaBytes || llvm::xxh3_64bits(body) != checksum)
    return std::nullopt;
  std::optional<std::vector<CachedSignature>> sigs = decodeSignatures(body.take_front(metaBytes));
  if (!sigs) return std::nullopt;
  CacheEntry entry;
  entry.signatures = std::move(*sigs);
  entry.object = llvm::MemoryBuffer::getMemBufferCopy(body.drop_front(metaBytes), "chain-cache-" + key);
  return entry;
}

// Reads the entry file, if any, and marks it as just used: pruneCache orders
// by access time, which relatime and noatime mounts do not keep up to date.
std::optional<CacheEntry> readEntry(const std::string& dir, const std::string& key, bool& present) {
  std::string path = entryPath(dir, key);
  llvm::Expected<llvm::sys::fs::file_t> fd = llvm::sys::fs::openNativeFileForRead(path);
  present = bool(fd);
  if (!fd) {
    llvm::consumeError(fd.takeError());
    return std::nullopt;
  }
  // Volatile: read, not mapped, so a file changed under us cannot fault.
  auto buffer = llvm::MemoryBuffer::getOpenFile(*fd, path, -1, /*RequiresNullTerminator=*/false,
                                                /*IsVolatile=*/true);
  if (buffer)
    (void)llvm::sys::fs::setLastAccessAndModificationTime(
        *fd, std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
  llvm::sys::fs::closeFile(*fd);
  if (!buffer) return std::nullopt;
  return decodeEntry((*buffer)->getBuffer(), key);
}

}  // namespace

CacheStats cacheStats() {
  Counters& c = counters();
  CacheStats s;
  s.hits = c.hits;
  s.misses = c.misses;
  s.rejected = c.rejected;
  s.stores = c.stores;
  s.storeFailures = c.storeFailures;
  return s;
}

std::string hashCacheKey(const std::vector<std::string>& parts) {
  std::string all;
  auto add = [&](const std::string& part) { all += std::to_string(part.size()) + ":" + part; };
  add(std::to_string(kFormatVersion));
  add(buildIdentity());
  for (const std::string& p : parts) add(p);
  llvm::XXH128_hash_t h = llvm::xxh3_128bits(llvm::arrayRefFromStringRef(all));
  return llvm::utohexstr(h.high64, true, 16) + llvm::utohexstr(h.low64, true, 16);
}

std::string cacheDirectory(const CacheOptions& opts) {
  if (!opts.enabled) return "";
  if (!opts.dir.empty()) return opts.dir;
  if (const char* env = std::getenv("CHAIN_CACHE_DIR"); env && *env) return env;
  // $XDG_CACHE_HOME, else ~/.cache; the XDG spec says a relative (or empty)
  // $XDG_CACHE_HOME is to be ignored, which cache_directory does not do.
  llvm::SmallString<256> dir;
  if (!llvm::sys::path::cache_directory(dir) || !llvm::sys::path::is_absolute(dir)) {
    dir.clear();
    if (!llvm::sys::path::home_directory(dir)) return "";
    llvm::sys::path::append(dir, ".cache");
  }
  llvm::sys::path::append(dir, "chain");
  return std::string(dir);
}

std::optional<CacheEntry> DiskObjectCache::load(const std::string& key) {
  std::string dir = cacheDirectory(opts_);
  if (dir.empty() || key.empty()) return std::nullopt;
  bool present = false;
  std::optional<CacheEntry> entry = readEntry(dir, key, present);
  if (!entry) ++(present ? counters().rejected : counters().misses);
  return entry;
}

void DiskObjectCache::noteLinked(bool ok) { ++(ok ? counters().hits : counters().rejected); }

void DiskObjectCache::expect(const std::string& key, std::vector<CachedSignature> sigs) {
  expectedKey_ = key;
  expectedSigs_ = std::move(sigs);
}

// ORC asks before compiling a module. The key was looked up before its IR was
// built, so a hit here is an entry another process wrote in the meantime.
std::unique_ptr<llvm::MemoryBuffer> DiskObjectCache::getObject(const llvm::Module* m) {
  std::string dir = cacheDirectory(opts_);
  if (dir.empty() || expectedKey_.empty() || m->getModuleIdentifier() != expectedKey_) return nullptr;
  bool present = false;
  std::optional<CacheEntry> entry = readEntry(dir, expectedKey_, present);
  if (!entry) return nullptr;
  expectedKey_.clear();  // nothing left to store
  return std::move(entry->object);
}

void DiskObjectCache::notifyObjectCompiled(const llvm::Module* m, llvm::MemoryBufferRef obj) {
  if (expectedKey_.empty() || m->getModuleIdentifier() != expectedKey_) return;
  std::string key = std::move(expectedKey_);
  expectedKey_.clear();
  std::string dir = cacheDirectory(opts_);
  if (!dir.empty()) store(dir, key, obj);
}

void DiskObjectCache::store(const std::string& dir, const std::string& key, llvm::MemoryBufferRef obj) {
  std::string meta = encodeSignatures(expectedSigs_);
  std::string body = meta + obj.getBuffer().str();
  std::string header = encodeHeader(key, meta.size(), body);
  std::string error;
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    error = ec.message();
  } else if (auto tmp = llvm::sys::fs::TempFile::create(entryPath(dir, "tmp-%%%%%%%%%%%%"))) {
    {
      llvm::raw_fd_ostream os(tmp->FD, /*shouldClose=*/false);
      os << header << body;
      os.flush();
      if (os.has_error()) error = os.error().message();
      os.clear_error();
    }
    llvm::Error kept = error.empty() ? tmp->keep(entryPath(dir, key)) : llvm::Error::success();
    if (kept) error = llvm::toString(std::move(kept));
    if (!error.empty()) llvm::consumeError(tmp->discard());
  } else {
    error = llvm::toString(tmp.takeError());
  }
  if (!error.empty()) {
    ++counters().storeFailures;
    static std::once_flag once;
    warnOnce(once, "cannot write the compile cache in '" + dir + "': " + error +
                       " (compiled code is not kept; --no-cache avoids this)");
    return;
  }
  ++counters().stores;
  // A scan stats every file of the folder (thousands in a full cache), so it
  // runs at most once per interval per folder (pruneCache's timestamp file;
  // the first write into a folder without one scans at once): the bound may
  // be overshot by what is written within 10 s.
  llvm::CachePruningPolicy policy;
  policy.Interval = std::chrono::seconds(kPruneIntervalSeconds);
  policy.Expiration = std::chrono::seconds(0);  // no age limit: the size bound only
  policy.MaxSizeBytes = maxBytes(opts_);
  llvm::pruneCache(dir, policy);
}

}  // namespace chain::codegen
