// chain_rt_parallel_for on oneTBB (design: Parallel.h). The chunking is the
// caller's; this file only decides where each chunk runs and which error
// wins. A task_arena per thread count is made on first use and kept for the
// process (never destroyed: worker threads may outlive static destructors).
//
// Synchronisation that ThreadSanitizer can see: oneTBB's own (inside
// Debian's uninstrumented libtbb) is invisible to it, so under TSan the
// hand-offs are also announced to it (__tsan_release / __tsan_acquire on the
// run's Record: the caller before the loop and each chunk at its start, each
// chunk at its end and the caller after the loop).
#include "runtime/rt/Parallel.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#include <sanitizer/tsan_interface.h>
#define CHAIN_TSAN_RELEASE(p) __tsan_release(p)
#define CHAIN_TSAN_ACQUIRE(p) __tsan_acquire(p)
#endif
#endif
#ifndef CHAIN_TSAN_RELEASE
#define CHAIN_TSAN_RELEASE(p) ((void)(p))
#define CHAIN_TSAN_ACQUIRE(p) ((void)(p))
#endif

namespace chain::rt {

int defaultThreads() {
  static const int threads = [] {
    if (const char* env = std::getenv("CHAIN_THREADS")) {
      char* end = nullptr;
      long v = std::strtol(env, &end, 10);
      if (end != env && *end == '\0' && v > 0 && v <= 4096) return static_cast<int>(v);
    }
    unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? static_cast<int>(hw) : 1;
  }();
  return threads;
}

int resolveThreads(int requested) { return requested > 0 ? requested : defaultThreads(); }

}  // namespace chain::rt

namespace {

// The arena of `threads` threads. oneTBB's worker limit defaults to the
// core count; asking for more threads (`--threads 8` on 2 cores, to test
// that results do not change) raises it with a global_control, else oneTBB
// would warn and run fewer.
tbb::task_arena& arenaFor(int threads) {
  static std::mutex mu;
  static auto* arenas = new std::map<int, std::unique_ptr<tbb::task_arena>>();  // never freed
  static tbb::global_control* limit = nullptr;                                  // never freed
  static int limitThreads = 0;
  std::lock_guard<std::mutex> lock(mu);
  size_t allowed = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  if (size_t(threads) > allowed && threads > limitThreads) {
    delete limit;  // the smallest active limit wins: drop ours before raising it
    limit = new tbb::global_control(tbb::global_control::max_allowed_parallelism, size_t(threads));
    limitThreads = threads;
  }
  std::unique_ptr<tbb::task_arena>& a = (*arenas)[threads];
  if (!a) a = std::make_unique<tbb::task_arena>(threads);
  return *a;
}

// What the chunks of one parallel run report: the first failing chunk
// (lowest index wins) and the largest arena and tape peaks, under `mu`.
struct Record {
  std::mutex mu;
  int64_t failed;  // index of the first failing chunk; `chunks` when none
  int32_t status = 0;
  char message[sizeof(ChainCallCtx::message)] = {};
  int64_t arenaPeak = 0, tapePeak = 0;
};

void runChunk(ChainChunkFn body, void* env, ChainCallCtx* ctx, int64_t n, int64_t chunk, int64_t k,
              Record& rec) {
  CHAIN_TSAN_ACQUIRE(&rec);
  FILE* out = nullptr;
  {
    std::lock_guard<std::mutex> lock(rec.mu);
    if (k > rec.failed) return;  // a lower chunk failed already
    out = ctx->printStream;
  }
  ChainCallCtx child;
  chain::rt::initCtx(child, out);
  child.threads = 1;
  int64_t lo = k * chunk;
  int64_t hi = n - lo > chunk ? lo + chunk : n;
  int32_t status = body(env, &child, lo, hi);
  {
    std::lock_guard<std::mutex> lock(rec.mu);
    rec.arenaPeak = std::max(rec.arenaPeak, child.arenaPeak);
    rec.tapePeak = std::max(rec.tapePeak, child.tapePeak);
    if (status != CHAIN_OK && k < rec.failed) {
      rec.failed = k;
      rec.status = status;
      std::memcpy(rec.message, child.message, sizeof rec.message);
    }
  }
  chain::rt::releaseCtx(child);
  CHAIN_TSAN_RELEASE(&rec);
}

// The two serial paths, kept apart (noinline) so that a profile of a
// 1-thread run (callgrind, inclusive costs) tells the work of loops with one
// chunk, which no thread count speeds up, from that of loops with several
// (bench/gaps.md: the parallel fraction of a gradient).
[[gnu::noinline]] int32_t oneChunk(ChainChunkFn body, void* env, ChainCallCtx* ctx, int64_t n) {
  return body(env, ctx, 0, n);
}

[[gnu::noinline]] int32_t serialChunks(ChainChunkFn body, void* env, ChainCallCtx* ctx, int64_t n, int64_t chunk) {
  for (int64_t lo = 0; lo < n; lo += chunk) {
    int32_t status = body(env, ctx, lo, n - lo > chunk ? lo + chunk : n);
    if (status != CHAIN_OK) return status;
  }
  return CHAIN_OK;
}

}  // namespace

extern "C" int32_t chain_rt_parallel_for(ChainChunkFn body, void* env, ChainCallCtx* ctx, int64_t n,
                                         int64_t chunk) {
  if (n <= 0) return CHAIN_OK;
  if (chunk < 1) chunk = 1;
  const int64_t chunks = (n - 1) / chunk + 1;
  const int threads = chain::rt::resolveThreads(ctx->threads);
  if (chunks == 1) return oneChunk(body, env, ctx, n);
  if (threads <= 1) return serialChunks(body, env, ctx, n, chunk);
  Record rec;
  {
    std::lock_guard<std::mutex> lock(rec.mu);
    rec.failed = chunks;
  }
  // (the chunks' lambda holds copies, not references to this frame: its
  // reads then need no hand-off that TSan cannot see)
  Record* record = &rec;
  CHAIN_TSAN_RELEASE(&rec);
  arenaFor(threads).execute([=] {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, chunks, 1),
        [=](const tbb::blocked_range<int64_t>& r) {
          for (int64_t k = r.begin(); k != r.end(); ++k) runChunk(body, env, ctx, n, chunk, k, *record);
        },
        tbb::simple_partitioner());
  });
  CHAIN_TSAN_ACQUIRE(&rec);
  std::lock_guard<std::mutex> lock(rec.mu);
  // The peaks a serial run would have: the caller's use plus one chunk's.
  ctx->arenaPeak = std::max(ctx->arenaPeak, ctx->arenaBytes + rec.arenaPeak);
  ctx->tapePeak = std::max(ctx->tapePeak, ctx->tapeTop + rec.tapePeak);
  if (rec.failed == chunks) return CHAIN_OK;
  ctx->status = rec.status;
  std::memcpy(ctx->message, rec.message, sizeof ctx->message);
  return rec.status;
}
