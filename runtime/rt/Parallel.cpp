// chain_rt_parallel_for on oneTBB (design: Parallel.h). The chunking is the
// caller's; this file only decides where each chunk runs and which error
// wins. A task_arena per thread count is made on first use and kept for the
// process (never destroyed: worker threads may outlive static destructors).
//
// Synchronisation that ThreadSanitizer can see: oneTBB's own (Debian's build
// is not instrumented) is invisible to it, so the hand-off is also made with
// atomics in this file -- `published` (release by the caller before the
// chunks start, acquire by each chunk) and `finished` (release by each chunk,
// acquire by the caller after the loop) -- which order everything the caller
// wrote before the loop before the chunks, and the chunks' writes (a map's
// elements, a reduce's partials) before the caller reads them.
#include "runtime/rt/Parallel.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

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

// The first failing chunk of a parallel run (lowest index wins), and the
// largest arena and tape peaks of the chunks.
struct Failure {
  std::mutex mu;
  std::atomic<int64_t> index;
  int32_t status = 0;
  char message[sizeof(ChainCallCtx::message)] = {};
  std::atomic<int64_t> arenaPeak{0}, tapePeak{0};
};

void raise(std::atomic<int64_t>& peak, int64_t v) {
  int64_t old = peak.load(std::memory_order_relaxed);
  while (v > old && !peak.compare_exchange_weak(old, v, std::memory_order_relaxed)) {
  }
}

void runChunk(ChainChunkFn body, void* env, ChainCallCtx* ctx, int64_t n, int64_t chunk, int64_t k,
              Failure& fail) {
  if (k > fail.index.load(std::memory_order_relaxed)) return;  // a lower chunk failed already
  ChainCallCtx child;
  chain::rt::initCtx(child, ctx->printStream);
  child.threads = 1;
  int64_t lo = k * chunk;
  int64_t hi = n - lo > chunk ? lo + chunk : n;
  int32_t status = body(env, &child, lo, hi);
  raise(fail.arenaPeak, child.arenaPeak);
  raise(fail.tapePeak, child.tapePeak);
  if (status != CHAIN_OK) {
    std::lock_guard<std::mutex> lock(fail.mu);
    if (k < fail.index.load(std::memory_order_relaxed)) {
      fail.index.store(k, std::memory_order_relaxed);
      fail.status = status;
      std::memcpy(fail.message, child.message, sizeof fail.message);
    }
  }
  chain::rt::releaseCtx(child);
}

}  // namespace

extern "C" int32_t chain_rt_parallel_for(ChainChunkFn body, void* env, ChainCallCtx* ctx, int64_t n,
                                         int64_t chunk) {
  if (n <= 0) return CHAIN_OK;
  if (chunk < 1) chunk = 1;
  const int64_t chunks = (n - 1) / chunk + 1;
  const int threads = chain::rt::resolveThreads(ctx->threads);
  if (chunks == 1 || threads <= 1) {
    for (int64_t lo = 0; lo < n; lo += chunk) {
      int32_t status = body(env, ctx, lo, n - lo > chunk ? lo + chunk : n);
      if (status != CHAIN_OK) return status;
    }
    return CHAIN_OK;
  }
  Failure fail;
  fail.index.store(chunks, std::memory_order_relaxed);
  std::atomic<int> published{0};
  std::atomic<int64_t> finished{0};
  published.store(1, std::memory_order_release);
  arenaFor(threads).execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, chunks, 1),
        [&](const tbb::blocked_range<int64_t>& r) {
          (void)published.load(std::memory_order_acquire);
          for (int64_t k = r.begin(); k != r.end(); ++k) runChunk(body, env, ctx, n, chunk, k, fail);
          finished.fetch_add(1, std::memory_order_release);
        },
        tbb::simple_partitioner());
  });
  (void)finished.load(std::memory_order_acquire);
  // The peaks a serial run would have: the caller's use plus one chunk's.
  int64_t arena = ctx->arenaBytes + fail.arenaPeak.load(std::memory_order_relaxed);
  int64_t tape = ctx->tapeTop + fail.tapePeak.load(std::memory_order_relaxed);
  if (arena > ctx->arenaPeak) ctx->arenaPeak = arena;
  if (tape > ctx->tapePeak) ctx->tapePeak = tape;
  if (fail.index.load(std::memory_order_relaxed) == chunks) return CHAIN_OK;
  std::lock_guard<std::mutex> lock(fail.mu);
  ctx->status = fail.status;
  std::memcpy(ctx->message, fail.message, sizeof ctx->message);
  return fail.status;
}
