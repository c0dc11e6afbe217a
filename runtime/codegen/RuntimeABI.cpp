// The runtime helpers that JIT-compiled code calls (RuntimeABI.h): tape
// growth, print, error reporting, array allocation, and the per-call context
// set-up. None of them throws: errors are recorded in the context.
#include "runtime/codegen/RuntimeABI.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// Shortest "%.Ng" form that reads back as the same double (N = 1..17).
void formatDouble(char* buf, size_t n, double v) {
  if (std::isnan(v)) { std::snprintf(buf, n, "nan"); return; }
  if (std::isinf(v)) { std::snprintf(buf, n, v < 0 ? "-inf" : "inf"); return; }
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, n, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) return;
  }
}

// Same for a float (its value passed as a double): 1..9 digits.
void formatFloat(char* buf, size_t n, double v) {
  if (std::isnan(v) || std::isinf(v)) { formatDouble(buf, n, v); return; }
  float f = static_cast<float>(v);
  for (int prec = 1; prec <= 9; ++prec) {
    std::snprintf(buf, n, "%.*g", prec, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) return;
  }
}

}  // namespace

extern "C" {

void chain_rt_tape_reserve(ChainCallCtx* ctx, int64_t bytes) {
  int64_t need = ctx->tapeTop + bytes;
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
  void* p = nullptr;
  size_t n = bytes > 0 ? static_cast<size_t>(bytes) : 1;
  if (bytes < 0 || posix_memalign(&p, 64, n) != 0) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "out of memory: cannot allocate %" PRId64 " bytes", bytes);
    chain_rt_error(ctx, CHAIN_ERR_MEMORY, msg);
    return nullptr;
  }
  return p;
}

void chain_rt_free(void* p) { std::free(p); }

}  // extern "C"

namespace chain::rt {

void initCtx(ChainCallCtx& ctx, FILE* printStream) {
  std::memset(&ctx, 0, sizeof ctx);
  ctx.printStream = printStream ? printStream : stdout;
}

void releaseCtx(ChainCallCtx& ctx) {
  std::free(ctx.tapeBase);
  ctx.tapeBase = nullptr;
  ctx.tapeTop = ctx.tapeCap = 0;
}

}  // namespace chain::rt
