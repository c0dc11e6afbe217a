// The parallel loop entry point that JIT-compiled code calls, on oneTBB.
//
// Design (issue 13). Compiled code outlines the body of a parallel `map` or
// `reduce` into a function body(env, ctx, lo, hi) that runs the iterations
// [lo, hi) with the captured values it reads from `env`, and calls
// chain_rt_parallel_for(body, env, ctx, n, chunk). The range [0, n) is cut
// into the fixed chunks [k*chunk, min(n, (k+1)*chunk)); the caller chooses
// `chunk` from the problem size alone, never from the thread count, and a
// reduce stores one partial result per chunk that it combines afterwards in
// chunk order. So every result is the same bits for 1, 2, ... N threads and
// from run to run: only *which thread* runs a chunk varies.
//
// * Threads: ctx->threads (0: the process default, chain::rt::defaultThreads;
//   1: the chunks run in order on the calling thread, on `ctx` itself). With
//   more, the chunks are handed to tbb::parallel_for (simple_partitioner, one
//   task per chunk) inside a tbb::task_arena of that many threads, one arena
//   per thread count for the whole process. Several application threads may
//   call at once: they share the arena, so the process never runs more
//   threads than it was asked for.
// * Each chunk of a parallel run gets its own child ChainCallCtx (own arena,
//   own tape, threads = 1 so that it never starts a nested parallel loop),
//   released when the chunk ends; the chunk's temporaries never outlive it.
//   ctx->arenaPeak and tapePeak count the caller's use plus the largest
//   chunk's, as a serial run would (whatever the thread count).
// * Errors: a failing chunk stops the chunks after it from starting; the
//   status and message of the lowest-index failing chunk are copied to `ctx`
//   and returned -- the error the serial loop would have reported first.
#pragma once

#include <cstdint>

#include "runtime/codegen/RuntimeABI.h"

extern "C" {

// Runs body(env, child, lo, hi) over the fixed chunks of [0, n) (see above);
// returns 0 or the status of the lowest failing chunk (message in ctx).
typedef int32_t (*ChainChunkFn)(void* env, ChainCallCtx* ctx, int64_t lo, int64_t hi);
int32_t chain_rt_parallel_for(ChainChunkFn body, void* env, ChainCallCtx* ctx, int64_t n,
                              int64_t chunk);

}  // extern "C"

namespace chain::rt {
// The default thread count: $CHAIN_THREADS when it is a positive integer,
// else every core (std::thread::hardware_concurrency, at least 1).
int defaultThreads();
// The thread count a call with ctx->threads == `requested` uses.
int resolveThreads(int requested);
}  // namespace chain::rt
