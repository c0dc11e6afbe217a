// chain_rt: the runtime helpers that compiled code calls (ChainRT.h), in a
// library of their own with no LLVM dependency, linked by the JIT
// (chain_codegen) and by programs that link code written by `chain export`:
// tape growth, print (scalars and nested lists), error reporting (with "{}"
// formatting), the per-call arena and result allocation, the per-call
// context set-up, the random numbers (ir/Philox.h, header-only) and the body
// of every exported C function (chain_rt_call_exported, chain_last_error).
// None of them throws: errors are recorded in the context. It uses nothing of
// the C++ library that needs libstdc++ at link time (no exceptions, no
// thread_local destructors: the per-thread caches are freed by a pthread key's
// destructor), so a C program links it with `cc ... libchain_rt.a -lm`.
//
// The arena is a singly linked list of blocks, newest first: each block is a
// 64-byte header (the link) followed by the buffer, so buffers stay 64-byte
// aligned and releasing back to a mark pops blocks until the head is it.
// Blocks come from a per-thread cache of freed blocks in power-of-two size
// classes (128 B .. 4 MiB, at most 64 MiB kept per thread), so the many small
// temporaries of a loop (a 14-element row per LSTM gate) cost a list pop and
// push instead of posix_memalign and free (~850 instructions each, measured
// with callgrind). The AD tape's buffer is kept per thread across calls too.
#include "runtime/rt/ChainRT.h"

#include "ir/Philox.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <pthread.h>

namespace {

// A float always shows it is one: "2" becomes "2.0" (as the CLI prints).
void markFloat(char* buf, size_t n) {
  if (std::strpbrk(buf, ".eEn") == nullptr && std::strlen(buf) + 3 <= n) std::strcat(buf, ".0");
}

// Shortest "%.Ng" form that reads back as the same double (N = 1..17).
void formatDouble(char* buf, size_t n, double v) {
  if (std::isnan(v)) { std::snprintf(buf, n, "nan"); return; }
  if (std::isinf(v)) { std::snprintf(buf, n, v < 0 ? "-inf" : "inf"); return; }
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, n, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  markFloat(buf, n);
}

// Same for a float (its value passed as a double): 1..9 digits.
void formatFloat(char* buf, size_t n, double v) {
  if (std::isnan(v) || std::isinf(v)) { formatDouble(buf, n, v); return; }
  float f = static_cast<float>(v);
  for (int prec = 1; prec <= 9; ++prec) {
    std::snprintf(buf, n, "%.*g", prec, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) break;
  }
  markFloat(buf, n);
}

// Formats one element of kind `kind` (as in chain_rt_print).
void formatElem(char* buf, size_t n, int32_t kind, const void* data, int64_t i) {
  switch (kind) {
    case 0: formatDouble(buf, n, static_cast<const double*>(data)[i]); break;
    case 1: formatFloat(buf, n, static_cast<const float*>(data)[i]); break;
    case 2: std::snprintf(buf, n, "%" PRId64, static_cast<const int64_t*>(data)[i]); break;
    default: std::snprintf(buf, n, "%s", static_cast<const uint8_t*>(data)[i] ? "true" : "false");
  }
}

// Prints the sub-array starting at element `first` whose shape is dims[0..rank-1].
void printNested(FILE* out, int32_t kind, const void* data, int64_t first, int32_t rank,
                 const int64_t* dims) {
  int64_t inner = 1;
  for (int32_t k = 1; k < rank; ++k) inner *= dims[k];
  std::fputc('[', out);
  char buf[64];
  for (int64_t i = 0; i < dims[0]; ++i) {
    if (i > 0) std::fputs(", ", out);
    if (rank == 1) {
      formatElem(buf, sizeof buf, kind, data, first + i);
      std::fputs(buf, out);
    } else {
      printNested(out, kind, data, first + i * inner, rank - 1, dims + 1);
    }
  }
  std::fputc(']', out);
}

constexpr size_t kArenaHeader = 64;

struct ArenaBlock {
  ArenaBlock* prev;
  int64_t bytes;  // payload size, for ctx->arenaBytes
  int32_t sizeClass;  // log2 of the block's size when cached by size, else -1
};

// A block's buffer, and the block of a buffer.
void* dataOf(ArenaBlock* blk) { return reinterpret_cast<char*>(blk) + kArenaHeader; }
ArenaBlock* blockOf(void* data) { return reinterpret_cast<ArenaBlock*>(static_cast<char*>(data) - kArenaHeader); }

constexpr int kMinClass = 7;              // 128-byte blocks
constexpr int kMaxClass = 22;             // 4 MiB blocks; larger ones are not cached
constexpr size_t kCacheLimit = 64 << 20;  // bytes of free blocks kept per thread

// Plain data, so it is never destroyed: a block freed after the thread's
// cleanup (a result released during static destruction) finds `closed` set
// and goes straight back to the allocator.
struct BlockCache {
  ArenaBlock* free[kMaxClass + 1];
  size_t bytes;
  bool closed;
};
thread_local BlockCache blockCache{};

// The tape buffer of the last call on this thread (at most 64 MiB), reused
// by the next one.
struct SpareTape {
  char* base;
  int64_t cap;
};
thread_local SpareTape spareTape{};

// Frees the thread's cached blocks and spare tape when the thread ends: the
// destructor of a pthread key whose value useCache() sets on the thread's
// first use (a thread_local object's destructor would need libstdc++'s
// __cxa_thread_atexit). The main thread's caches are left to the process's
// exit; they stay reachable from its thread-local storage.
void freeThreadCache(void*) {
  for (ArenaBlock*& head : blockCache.free)
    while (head) {
      ArenaBlock* next = head->prev;
      std::free(head);
      head = next;
    }
  blockCache.closed = true;
  std::free(spareTape.base);
  spareTape.base = nullptr;
  spareTape.cap = 0;
}

pthread_key_t cacheKey;
pthread_once_t cacheKeyOnce = PTHREAD_ONCE_INIT;
void makeCacheKey() { pthread_key_create(&cacheKey, freeThreadCache); }
thread_local bool cacheRegistered = false;

void useCache() {
  if (cacheRegistered) return;
  cacheRegistered = true;
  pthread_once(&cacheKeyOnce, makeCacheKey);
  static char token;  // any non-null value: the destructor runs for it
  pthread_setspecific(cacheKey, &token);
}

// A block with room for `total` bytes (header included), or null.
ArenaBlock* takeBlock(size_t total) {
  useCache();
  int c = kMinClass;
  while (c <= kMaxClass && (size_t(1) << c) < total) ++c;
  if (c <= kMaxClass && blockCache.free[c]) {
    ArenaBlock* blk = blockCache.free[c];
    blockCache.free[c] = blk->prev;
    blockCache.bytes -= size_t(1) << c;
    return blk;
  }
  void* p = nullptr;
  size_t size = c <= kMaxClass ? size_t(1) << c : total;
  if (posix_memalign(&p, 64, size) != 0) return nullptr;
  auto* blk = static_cast<ArenaBlock*>(p);
  blk->sizeClass = c <= kMaxClass ? c : -1;
  return blk;
}

void giveBlock(ArenaBlock* blk) {
  if (blk->sizeClass < 0 || blockCache.closed ||
      blockCache.bytes + (size_t(1) << blk->sizeClass) > kCacheLimit) {
    std::free(blk);
    return;
  }
  blk->prev = blockCache.free[blk->sizeClass];
  blockCache.free[blk->sizeClass] = blk;
  blockCache.bytes += size_t(1) << blk->sizeClass;
}


// A negative size is what compiled code passes when an array's byte size
// overflows 64 bits (see checkedByteSize in CodegenArrays.cpp).
void outOfMemory(ChainCallCtx* ctx, int64_t bytes) {
  char msg[160];
  if (bytes < 0)
    std::snprintf(msg, sizeof msg, "out of memory: cannot allocate an array of 2^63 bytes or more");
  else
    std::snprintf(msg, sizeof msg, "out of memory: cannot allocate %" PRId64 " bytes", bytes);
  chain_rt_error(ctx, CHAIN_ERR_MEMORY, msg);
}

}  // namespace

extern "C" {

void chain_rt_tape_reserve(ChainCallCtx* ctx, int64_t bytes) {
  int64_t need = ctx->tapeTop + bytes;
  if (need > ctx->tapePeak && need <= ctx->tapeCap) ctx->tapePeak = need;
  if (need <= ctx->tapeCap) return;
  int64_t cap = ctx->tapeCap > 0 ? ctx->tapeCap : 4096;
  while (cap < need) {
    if (cap > INT64_MAX / 2) { cap = need; break; }
    cap *= 2;
  }
  void* p = std::realloc(ctx->tapeBase, static_cast<size_t>(cap));
  if (!p) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "out of memory: the AD tape needs %" PRId64 " bytes", need);
    chain_rt_error(ctx, CHAIN_ERR_MEMORY, msg);
    return;
  }
  ctx->tapeBase = static_cast<char*>(p);
  ctx->tapeCap = cap;
  if (need > ctx->tapePeak) ctx->tapePeak = need;
}

void chain_rt_print(ChainCallCtx* ctx, const char* label, int32_t kind, double fv, int64_t iv) {
  FILE* out = ctx->printStream ? ctx->printStream : stdout;
  char buf[64];
  switch (kind) {
    case 0: formatDouble(buf, sizeof buf, fv); break;
    case 1: formatFloat(buf, sizeof buf, fv); break;
    case 2: std::snprintf(buf, sizeof buf, "%" PRId64, iv); break;
    default: std::snprintf(buf, sizeof buf, "%s", iv ? "true" : "false"); break;
  }
  if (label && *label)
    std::fprintf(out, "%s %s\n", label, buf);
  else
    std::fprintf(out, "%s\n", buf);
}

void chain_rt_error(ChainCallCtx* ctx, int32_t status, const char* message) {
  ctx->status = status;
  std::snprintf(ctx->message, sizeof ctx->message, "%s", message ? message : "");
}

void* chain_rt_alloc(ChainCallCtx* ctx, int64_t bytes) {
  void* data = chain_rt_alloc_result(ctx, bytes);  // the same block, linked into the arena
  if (!data) return nullptr;
  ArenaBlock* blk = blockOf(data);
  blk->prev = static_cast<ArenaBlock*>(ctx->arena);
  ctx->arena = blk;
  ctx->arenaBytes += bytes;
  if (ctx->arenaBytes > ctx->arenaPeak) ctx->arenaPeak = ctx->arenaBytes;
  return data;
}

void chain_rt_arena_release(ChainCallCtx* ctx, void* mark) {
  auto* blk = static_cast<ArenaBlock*>(ctx->arena);
  while (blk && blk != mark) {
    ArenaBlock* prev = blk->prev;
    ctx->arenaBytes -= blk->bytes;
    giveBlock(blk);
    blk = prev;
  }
  ctx->arena = blk;
}

void chain_rt_arena_release_keep(ChainCallCtx* ctx, void* mark, void* const* keep, int32_t n) {
  auto* blk = static_cast<ArenaBlock*>(ctx->arena);
  ArenaBlock* kept = nullptr;  // kept blocks, oldest first after the reversal below
  while (blk && blk != mark) {
    ArenaBlock* prev = blk->prev;
    void* data = dataOf(blk);
    bool keepIt = false;
    for (int32_t k = 0; k < n && !keepIt; ++k) keepIt = keep[k] == data;
    if (keepIt) {
      blk->prev = kept;
      kept = blk;
    } else {
      ctx->arenaBytes -= blk->bytes;
      giveBlock(blk);
    }
    blk = prev;
  }
  // `kept` lists the survivors oldest first: push them back onto the mark.
  ArenaBlock* head = blk;
  while (kept) {
    ArenaBlock* next = kept->prev;
    kept->prev = head;
    head = kept;
    kept = next;
  }
  ctx->arena = head;
}

// Result buffers are laid out as arena blocks (header, then 64-byte aligned
// data), so an arena buffer can become a result without a copy
// (chain_rt_export) and chain_rt_free frees both alike.
void* chain_rt_alloc_result(ChainCallCtx* ctx, int64_t bytes) {
  ArenaBlock* blk = nullptr;
  if (bytes < 0 || bytes > INT64_MAX - static_cast<int64_t>(kArenaHeader) ||
      !(blk = takeBlock(kArenaHeader + static_cast<size_t>(bytes > 0 ? bytes : 1)))) {
    outOfMemory(ctx, bytes);
    return nullptr;
  }
  blk->prev = nullptr;
  blk->bytes = bytes;
  return dataOf(blk);
}

void* chain_rt_export(ChainCallCtx* ctx, void* data, int64_t bytes) {
  // the newest blocks first; a returned array is usually among the last made
  ArenaBlock** link = reinterpret_cast<ArenaBlock**>(&ctx->arena);
  for (int steps = 0; *link && steps < 64; ++steps, link = &(*link)->prev) {
    ArenaBlock* blk = *link;
    if (dataOf(blk) != data || blk->bytes < bytes) continue;
    *link = blk->prev;
    ctx->arenaBytes -= blk->bytes;
    blk->prev = nullptr;
    return data;
  }
  void* p = chain_rt_alloc_result(ctx, bytes);
  if (p && bytes > 0) std::memcpy(p, data, static_cast<size_t>(bytes));
  return p;
}

void chain_rt_error_fmt(ChainCallCtx* ctx, int32_t status, const char* fmt, const int64_t* vals,
                        int32_t n) {
  char msg[sizeof ctx->message];
  size_t len = 0;
  int32_t next = 0;
  for (const char* c = fmt ? fmt : ""; *c && len + 1 < sizeof msg; ++c) {
    if (c[0] == '{' && c[1] == '}' && next < n) {
      int w = std::snprintf(msg + len, sizeof msg - len, "%" PRId64, vals[next++]);
      len = w > 0 ? std::min(sizeof msg - 1, len + static_cast<size_t>(w)) : len;
      ++c;
    } else {
      msg[len++] = *c;
    }
  }
  msg[len] = '\0';
  chain_rt_error(ctx, status, msg);
}

void chain_rt_print_array(ChainCallCtx* ctx, const char* label, int32_t kind, const void* data,
                          int32_t rank, const int64_t* dims) {
  FILE* out = ctx->printStream ? ctx->printStream : stdout;
  if (label && *label) std::fprintf(out, "%s ", label);
  if (rank <= 0) {
    char buf[64];
    formatElem(buf, sizeof buf, kind, data, 0);
    std::fputs(buf, out);
  } else {
    printNested(out, kind, data, 0, rank, dims);
  }
  std::fputc('\n', out);
}

void chain_rt_free(void* p) {
  if (p) giveBlock(blockOf(p));
}

double chain_rt_uniform_f64(int64_t key, int64_t index) { return chain::philox::uniform01(key, index); }
float chain_rt_uniform_f32(int64_t key, int64_t index) { return chain::philox::uniform01f(key, index); }
double chain_rt_normal_f64(int64_t key, int64_t index) { return chain::philox::normal01(key, index); }
float chain_rt_normal_f32(int64_t key, int64_t index) { return chain::philox::normal01f(key, index); }
int64_t chain_rt_mix(int64_t key, int64_t i) { return chain::philox::mixKey(key, i); }

}  // extern "C"

namespace chain::rt {

void initCtx(ChainCallCtx& ctx, FILE* printStream) {
  std::memset(&ctx, 0, sizeof ctx);  // also the arena and its counters
  ctx.printStream = printStream ? printStream : stdout;
  ctx.tapeBase = spareTape.base;  // tapeTop and tapePeak start at 0
  ctx.tapeCap = spareTape.cap;
  spareTape.base = nullptr;
  spareTape.cap = 0;
}

void releaseCtx(ChainCallCtx& ctx) {
  chain_rt_arena_release(&ctx, nullptr);
  useCache();
  if (ctx.tapeCap <= int64_t(kCacheLimit) && !spareTape.base && !blockCache.closed) {
    spareTape.base = ctx.tapeBase;
    spareTape.cap = ctx.tapeCap;
  } else {
    std::free(ctx.tapeBase);
  }
  ctx.tapeBase = nullptr;
  ctx.tapeTop = ctx.tapeCap = 0;
}

}  // namespace chain::rt
