// The binary interface between JIT-compiled code and the C++ runtime.
//
// Every compiled function F has one uniform entry point, exported from the
// JIT under the symbol "chain.entry.<F>":
//
//   int32_t entry(ChainCallCtx* ctx, void* const* args, void* const* results);
//
//   args[i]    points to parameter i: a double / float / int64_t / uint8_t
//              (bool) for scalars; for arrays a ChainArray descriptor.
//   results[j] points to storage for result j (same encoding; for arrays the
//              callee fills the descriptor with memory from chain_rt_alloc
//              that the caller then owns and frees with chain_rt_free).
//   returns    0 on success, else a ChainStatus; ctx->message says what and
//              where ("model.chain:3:7: integer division by zero").
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
};

struct ChainArray {
  void* data;
  int64_t shape[8];  // rank <= 8
};

// Helpers the compiled code calls (resolved by the JIT to these addresses).
void chain_rt_tape_reserve(ChainCallCtx* ctx, int64_t bytes);  // ensure tapeTop+bytes <= tapeCap
void chain_rt_print(ChainCallCtx* ctx, const char* label, int32_t kind, double fv, int64_t iv);
void chain_rt_error(ChainCallCtx* ctx, int32_t status, const char* message);
void* chain_rt_alloc(ChainCallCtx* ctx, int64_t bytes);
void chain_rt_free(void* p);

}  // extern "C"

namespace chain::rt {
void initCtx(ChainCallCtx& ctx, FILE* printStream);
void releaseCtx(ChainCallCtx& ctx);  // frees the tape
}  // namespace chain::rt
