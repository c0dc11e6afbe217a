// The binary interface between compiled code and its runtime, the library
// chain_rt (runtime/rt/), which has no LLVM dependency: the JIT resolves the
// helpers below to this library's functions, and the objects `chain export`
// writes call them by name (link libchain_rt.a). chain_rt needs only the C
// library (and libm): a plain C program links it with `cc`.
//
// Every compiled function F has one uniform entry point, exported from the
// JIT under the symbol "chain.entry.<F>":
//
//   int32_t entry(ChainCallCtx* ctx, void* const* args, void* const* results);
//
//   args[i]    points to parameter i: a double / float / int64_t / uint8_t
//              (bool) for scalars; for arrays a ChainArray descriptor.
//   results[j] points to storage for result j (same encoding; for arrays the
//              callee fills the ChainArray descriptor: data from
//              chain_rt_alloc_result, owned by the caller afterwards and freed
//              with chain_rt_free; shape[0..rank-1] filled in). On an error
//              return no array result is left allocated.
//   returns    0 on success, else a ChainStatus; ctx->message says what and
//              where ("model.chain:3:7: integer division by zero").
//
// Arrays: a ChainArray is row-major and contiguous; element types f64 double,
// f32 float, i64 int64_t, bool uint8_t. Parameter memory belongs to the
// caller: compiled code never writes or frees it. Temporaries come from a
// per-call arena (ctx->arena, a linked list of blocks): chain_rt_alloc
// registers each buffer there and the entry releases everything it allocated
// before it returns, on success and on error (chain_rt_arena_release back to
// the arena head seen on entry), so a context can be reused for many calls.
//
// No C++ exception ever crosses a JIT frame: runtime helpers record errors in
// the context and compiled code returns the status.
#pragma once

#include <cstdint>
#include <cstdio>

extern "C" {

enum ChainStatus : int32_t {
  CHAIN_OK = 0,
  CHAIN_ERR_RUNTIME = 1,   // division by zero, index out of bounds
  CHAIN_ERR_NAN = 2,       // --nan-check found a NaN or infinity
  CHAIN_ERR_MEMORY = 3,    // the tape or an array could not be allocated
};

// Per-call state. Create one per call (or per thread); not shared.
struct ChainCallCtx {
  // The AD tape: a LIFO byte stack that grows by doubling.
  char* tapeBase;
  int64_t tapeTop;    // bytes in use
  int64_t tapeCap;    // bytes allocated
  int64_t tapePeak;   // high-water mark, for `chain bench`
  FILE* printStream;  // where print() writes
  int32_t status;
  char message[512];
  void* arena;        // newest arena block (internal), null when empty
  int64_t arenaBytes; // bytes currently allocated in the arena
  int64_t arenaPeak;  // high-water mark of arenaBytes, for `chain bench`
  // Threads for the parallel loops of this call (runtime/rt/Parallel.h):
  // 0 the process default, 1 serial. Not read by compiled code.
  int32_t threads;
};

struct ChainArray {
  void* data;
  int64_t shape[8];  // rank <= 8
};

// Helpers the compiled code calls (resolved by the JIT to these addresses).
void chain_rt_tape_reserve(ChainCallCtx* ctx, int64_t bytes);  // ensure tapeTop+bytes <= tapeCap
void chain_rt_print(ChainCallCtx* ctx, const char* label, int32_t kind, double fv, int64_t iv);
void chain_rt_error(ChainCallCtx* ctx, int32_t status, const char* message);
// An arena buffer (64-byte aligned, at least 1 byte) freed when the entry
// returns; null (and CHAIN_ERR_MEMORY in ctx) when it cannot be allocated.
void* chain_rt_alloc(ChainCallCtx* ctx, int64_t bytes);
// Frees every arena block allocated after `mark` (an earlier ctx->arena).
void chain_rt_arena_release(ChainCallCtx* ctx, void* mark);
// Same, but the buffers keep[0..n-1] (chain_rt_alloc results allocated after
// `mark`, or any other pointers, which are ignored) stay allocated. Loops call
// it at each back edge so that an iteration's temporaries do not pile up.
void chain_rt_arena_release_keep(ChainCallCtx* ctx, void* mark, void* const* keep, int32_t n);
// Memory for an array result (malloc-based, 64-byte aligned, >= 1 byte); the
// caller frees it with chain_rt_free. Null + CHAIN_ERR_MEMORY on failure.
void* chain_rt_alloc_result(ChainCallCtx* ctx, int64_t bytes);
// An array result holding `bytes` bytes of `data`: when data is an arena
// buffer of this call it is taken out of the arena and returned as it is (no
// copy), else a chain_rt_alloc_result copy. Null + CHAIN_ERR_MEMORY on failure.
void* chain_rt_export(ChainCallCtx* ctx, void* data, int64_t bytes);
void chain_rt_free(void* p);
// Records `status` with `fmt`, whose "{}" placeholders are replaced by
// vals[0..n-1] in order (extra "{}" stay as they are).
void chain_rt_error_fmt(ChainCallCtx* ctx, int32_t status, const char* fmt, const int64_t* vals,
                        int32_t n);
// Prints an array as a nested list ("[[1, 2], [3, 4]]"), after the label if
// any; kind as for chain_rt_print (0 f64, 1 f32, 2 i64, 3 bool).
void chain_rt_print_array(ChainCallCtx* ctx, const char* label, int32_t kind, const void* data,
                          int32_t rank, const int64_t* dims);
// The random numbers of SPEC §4 (ir/Philox.h, which the interpreter calls
// too): element `index` (flat, C order) of uniform(key, ...) and
// normal(key, ...), and mix(key, i). Pure functions of their arguments.
double chain_rt_uniform_f64(int64_t key, int64_t index);
float chain_rt_uniform_f32(int64_t key, int64_t index);
double chain_rt_normal_f64(int64_t key, int64_t index);
float chain_rt_normal_f32(int64_t key, int64_t index);
int64_t chain_rt_mix(int64_t key, int64_t i);

// --- the C functions `chain export` writes (runtime/Export.cpp) ------------
typedef int32_t (*ChainEntryFn)(ChainCallCtx* ctx, void* const* args, void* const* results);

// One result of an exported function. Scalars are written by the entry
// straight through the caller's pointer (results[j] is it; elemBytes 0); an
// array result (elemBytes > 0) comes back in the ChainArray results[j]
// points to and is copied into the caller's buffer `out`, whose shape the
// caller sized from the arguments: shape[0..rank-1].
struct ChainExportResult {
  void* out;
  int64_t elemBytes;
  int64_t rank;
  int64_t shape[8];
};

// The body of every exported C function: checks that no size in
// sizes[0..nsizes-1] (named sizeNames[k]) is negative and that no output
// pointer is null (else status 3), calls `entry` with a fresh context,
// copies array results into the caller's buffers and frees them, and
// returns 0, or 4 for an error of the compiled code (the context's message).
// A failure's message is kept for chain_last_error(): the compiled code's own
// ("model.chain:3:7: index 7 is out of bounds ..."), or for a bad argument
// one that names `fn` ("loss: size n is negative (-3)").
int32_t chain_rt_call_exported(const char* fn, ChainEntryFn entry, void* const* args,
                               void* const* results, ChainExportResult* specs, int32_t nresults,
                               const int64_t* sizes, const char* const* sizeNames, int32_t nsizes);

// The message of the last failed call of an exported function on this
// thread ("" when none failed); valid until the thread's next failing call.
const char* chain_last_error(void);

}  // extern "C"

namespace chain::rt {
// Every initCtx pairs with a releaseCtx: the context may start with the
// thread's spare tape buffer, which releaseCtx gives back.
void initCtx(ChainCallCtx& ctx, FILE* printStream);
void releaseCtx(ChainCallCtx& ctx);  // frees the tape and the whole arena
}  // namespace chain::rt
