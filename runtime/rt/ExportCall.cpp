// The part of chain_rt that the C functions written by `chain export` call
// (ChainRT.h): chain_rt_call_exported, the common body of every exported
// function (argument checks, the call of the entry with a fresh context, the
// copy of array results into the caller's buffers), and chain_last_error, the
// thread's message of its last failed call. The exported wrappers
// themselves are generated (runtime/codegen/ObjectEmit.cpp); they only lay
// out the entry's argument and result arrays and call this.
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "runtime/rt/ChainRT.h"

namespace {

// Plain data (no destructor): see the pthread-key note in Runtime.cpp.
thread_local char lastError[sizeof(ChainCallCtx::message) + 128];

int32_t fail(int32_t status, const char* message) {
  std::snprintf(lastError, sizeof lastError, "%s", message);
  return status;
}

// Status 3 when a size is negative, an output pointer null or an array
// result too large to address; 0 otherwise.
int32_t checkArguments(const char* fn, void* const* results, const ChainExportResult* specs,
                       int32_t nresults, const int64_t* sizes, const char* const* sizeNames,
                       int32_t nsizes) {
  char msg[sizeof lastError];
  for (int32_t k = 0; k < nsizes; ++k)
    if (sizes[k] < 0) {
      std::snprintf(msg, sizeof msg, "%s: size %s is negative (%" PRId64 ")", fn, sizeNames[k], sizes[k]);
      return fail(3, msg);
    }
  for (int32_t j = 0; j < nresults; ++j) {
    const ChainExportResult& r = specs[j];
    int64_t elems = 1;
    for (int64_t a = 0; a < r.rank; ++a) {
      if (r.shape[a] < 0) {
        std::snprintf(msg, sizeof msg, "%s: output %d would have a negative size (%" PRId64 ")", fn, j,
                      r.shape[a]);
        return fail(3, msg);
      }
      if (r.shape[a] != 0 && elems > (INT64_C(1) << 60) / r.shape[a]) {
        std::snprintf(msg, sizeof msg, "%s: output %d has more elements than memory can hold", fn, j);
        return fail(3, msg);
      }
      elems *= r.shape[a];
    }
    if (r.elemBytes > 0 ? r.out == nullptr : results[j] == nullptr) {
      std::snprintf(msg, sizeof msg, "%s: the pointer for output %d is null", fn, j);
      return fail(3, msg);
    }
  }
  return 0;
}

// Whether array result j came back with the declared shape.
bool sameShape(const ChainExportResult& r, const ChainArray& a) {
  for (int64_t k = 0; k < r.rank; ++k)
    if (a.shape[k] != r.shape[k]) return false;
  return true;
}

}  // namespace

extern "C" {

int32_t chain_rt_call_exported(const char* fn, ChainEntryFn entry, void* const* args,
                               void* const* results, ChainExportResult* specs, int32_t nresults,
                               const int64_t* sizes, const char* const* sizeNames, int32_t nsizes) {
  if (int32_t bad = checkArguments(fn, results, specs, nresults, sizes, sizeNames, nsizes)) return bad;
  ChainCallCtx ctx;
  chain::rt::initCtx(ctx, stdout);
  int32_t status = entry(&ctx, args, results);
  if (status != CHAIN_OK) {
    fail(4, ctx.message[0] ? ctx.message : "runtime error");
    chain::rt::releaseCtx(ctx);
    return 4;
  }
  chain::rt::releaseCtx(ctx);
  bool shapesOk = true;
  for (int32_t j = 0; j < nresults; ++j)
    if (specs[j].elemBytes > 0) shapesOk = shapesOk && sameShape(specs[j], *static_cast<ChainArray*>(results[j]));
  for (int32_t j = 0; j < nresults; ++j) {
    const ChainExportResult& r = specs[j];
    if (r.elemBytes == 0) continue;
    auto* a = static_cast<ChainArray*>(results[j]);
    int64_t elems = 1;
    for (int64_t k = 0; k < r.rank; ++k) elems *= r.shape[k];
    if (shapesOk && elems > 0) std::memcpy(r.out, a->data, size_t(elems * r.elemBytes));
    chain_rt_free(a->data);
    a->data = nullptr;
  }
  if (!shapesOk) {  // the entry checks its declared result shape: a bug
    char msg[sizeof lastError];
    std::snprintf(msg, sizeof msg, "%s: internal error: a result's shape differs from its declared type", fn);
    return fail(4, msg);
  }
  return 0;
}

const char* chain_last_error(void) { return lastError; }

}  // extern "C"
