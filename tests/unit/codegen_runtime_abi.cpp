// The chain_rt_* helpers called by compiled code: tape growth by doubling and
// its high-water mark, print formatting (shortest round-trip floats), error
// recording, aligned allocation, and the out-of-memory path of a compiled
// tape push (status CHAIN_ERR_MEMORY returned by the entry).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>

#include <cstring>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "codegen_util.h"

using namespace cgtest;
using K = chain::ir::OpKind;
using chain::ir::Type;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHAIN_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CHAIN_TEST_ASAN 1
#endif

namespace {

std::string printed(int32_t kind, double fv, int64_t iv, const char* label = "") {
  FILE* tmp = std::tmpfile();
  ChainCallCtx ctx;
  chain::rt::initCtx(ctx, tmp);
  chain_rt_print(&ctx, label, kind, fv, iv);
  std::rewind(tmp);
  char buf[128] = {0};
  std::string s = std::fgets(buf, sizeof buf, tmp) ? buf : "";
  std::fclose(tmp);
  chain::rt::releaseCtx(ctx);  // (initCtx may hand over the thread's spare tape)
  return s;
}

}  // namespace

TEST_CASE("runtime abi: tape reserve grows by doubling and tracks the peak", "[codegen]") {
  ChainCallCtx ctx;
  chain::rt::initCtx(ctx, nullptr);
  // start without the tape a previous call on this thread left for reuse
  std::free(ctx.tapeBase);
  ctx.tapeBase = nullptr;
  ctx.tapeCap = 0;
  CHECK(ctx.printStream == stdout);
  chain_rt_tape_reserve(&ctx, 16);
  REQUIRE(ctx.tapeBase != nullptr);
  CHECK(ctx.tapeCap == 4096);
  CHECK(ctx.tapePeak == 16);
  ctx.tapeTop = 4000;
  chain_rt_tape_reserve(&ctx, 200);
  CHECK(ctx.tapeCap == 8192);
  CHECK(ctx.tapePeak == 4200);
  ctx.tapeBase[8191] = 1;  // the memory is really there
  chain_rt_tape_reserve(&ctx, 100000);
  CHECK(ctx.tapeCap == 131072);
  CHECK(ctx.status == CHAIN_OK);
  char* base = ctx.tapeBase;
  chain::rt::releaseCtx(ctx);
  CHECK(ctx.tapeBase == nullptr);
  CHECK(ctx.tapeCap == 0);
  // the next context on this thread starts with that buffer, empty
  ChainCallCtx next;
  chain::rt::initCtx(next, nullptr);
  CHECK(next.tapeBase == base);
  CHECK(next.tapeCap == 131072);
  CHECK(next.tapeTop == 0);
  CHECK(next.tapePeak == 0);
  chain::rt::releaseCtx(next);
}

TEST_CASE("runtime abi: freed arena blocks are reused by size class", "[codegen]") {
  ChainCallCtx ctx;
  chain::rt::initCtx(ctx, nullptr);
  void* mark = ctx.arena;
  void* a = chain_rt_alloc(&ctx, 100);
  void* b = chain_rt_alloc(&ctx, 3000);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(a) % 64 == 0);
  CHECK(ctx.arenaBytes == 3100);
  chain_rt_arena_release(&ctx, mark);
  CHECK(ctx.arenaBytes == 0);
  // same size classes: the freed blocks come back (newest freed first)
  void* b2 = chain_rt_alloc(&ctx, 2500);
  void* a2 = chain_rt_alloc(&ctx, 150);
  CHECK(b2 == b);
  CHECK(a2 == a);
  static_cast<char*>(b2)[2499] = 1;  // the memory is really there
  CHECK(ctx.arenaPeak == 3100);
  chain::rt::releaseCtx(ctx);
  CHECK(ctx.arena == nullptr);
}

TEST_CASE("runtime abi: an arena buffer is exported as a result without a copy", "[codegen]") {
  ChainCallCtx ctx;
  chain::rt::initCtx(ctx, nullptr);
  auto* a = static_cast<double*>(chain_rt_alloc(&ctx, 3 * sizeof(double)));
  auto* b = static_cast<double*>(chain_rt_alloc(&ctx, 2 * sizeof(double)));
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  a[0] = 1.5, a[1] = -2.0, a[2] = 4.0;
  CHECK(ctx.arenaBytes == 40);
  void* r = chain_rt_export(&ctx, a, 24);
  CHECK(r == a);  // taken out of the arena as it is
  CHECK(ctx.arenaBytes == 16);
  void* again = chain_rt_export(&ctx, a, 24);  // returned twice: the second is a copy
  REQUIRE(again != nullptr);
  CHECK(again != a);
  CHECK(static_cast<double*>(again)[2] == 4.0);
  double outside[2] = {7.0, 8.0};  // not an arena buffer: copied
  void* c = chain_rt_export(&ctx, outside, 16);
  REQUIRE(c != nullptr);
  CHECK(c != outside);
  CHECK(static_cast<double*>(c)[1] == 8.0);
  chain::rt::releaseCtx(ctx);  // frees b; the results stay
  CHECK(a[1] == -2.0);
  chain_rt_free(r);
  chain_rt_free(again);
  chain_rt_free(c);
}

TEST_CASE("runtime abi: print formats values", "[codegen]") {
  CHECK(printed(0, 0.1, 0) == "0.1\n");
  CHECK(printed(0, 1.0 / 3.0, 0) == "0.3333333333333333\n");
  CHECK(printed(0, 1e300, 0) == "1e+300\n");
  CHECK(printed(0, -2.0, 0, "loss") == "loss -2.0\n");
  CHECK(printed(0, -std::numeric_limits<double>::infinity(), 0) == "-inf\n");
  CHECK(printed(1, static_cast<double>(0.1f), 0) == "0.1\n");
  CHECK(printed(2, 0, INT64_MIN) == "-9223372036854775808\n");
  CHECK(printed(3, 0, 1, "flag") == "flag true\n");
  CHECK(printed(3, 0, 0) == "false\n");
}

TEST_CASE("runtime abi: errors and allocation", "[codegen]") {
  ChainCallCtx ctx;
  chain::rt::initCtx(ctx, nullptr);
  chain_rt_error(&ctx, CHAIN_ERR_RUNTIME, "m.chain:1:2: boom");
  CHECK(ctx.status == CHAIN_ERR_RUNTIME);
  CHECK(std::string(ctx.message) == "m.chain:1:2: boom");
  std::string longMsg(2000, 'x');
  chain_rt_error(&ctx, CHAIN_ERR_NAN, longMsg.c_str());
  CHECK(std::string(ctx.message).size() == sizeof ctx.message - 1);
  void* p = chain_rt_alloc_result(&ctx, 1000);
  REQUIRE(p != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
  chain_rt_free(p);
  chain::rt::releaseCtx(ctx);
}

TEST_CASE("runtime abi: the arena releases back to a mark", "[codegen]") {
  ChainCallCtx ctx;
  chain::rt::initCtx(ctx, nullptr);
  CHECK(ctx.arena == nullptr);
  void* a = chain_rt_alloc(&ctx, 100);
  REQUIRE(a != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(a) % 64 == 0);
  void* mark = ctx.arena;
  void* z = chain_rt_alloc(&ctx, 0);  // zero bytes: still a distinct non-null buffer
  REQUIRE(z != nullptr);
  CHECK(z != a);
  std::memset(a, 1, 100);
  chain_rt_arena_release(&ctx, mark);
  CHECK(ctx.arena == mark);
  CHECK(static_cast<unsigned char*>(a)[99] == 1);  // older buffer still alive
  CHECK(chain_rt_alloc(&ctx, -1) == nullptr);
  CHECK(ctx.status == CHAIN_ERR_MEMORY);
  chain::rt::releaseCtx(ctx);
  CHECK(ctx.arena == nullptr);
}

TEST_CASE("runtime abi: formatted errors and array printing", "[codegen]") {
  ChainCallCtx ctx;
  chain::rt::initCtx(ctx, nullptr);
  int64_t vals[] = {7, -5};
  chain_rt_error_fmt(&ctx, CHAIN_ERR_RUNTIME, "m.chain:1:2: index {} of {} ({})", vals, 2);
  CHECK(ctx.status == CHAIN_ERR_RUNTIME);
  CHECK(std::string(ctx.message) == "m.chain:1:2: index 7 of -5 ({})");
  FILE* tmp = std::tmpfile();
  REQUIRE(tmp);
  ctx.printStream = tmp;
  double d[] = {1.5, -2, 0.1, 4, 5, 6};
  int64_t dims[] = {2, 3};
  chain_rt_print_array(&ctx, "A", 0, d, 2, dims);
  uint8_t bs[] = {1, 0};
  int64_t bd[] = {2};
  chain_rt_print_array(&ctx, "", 3, bs, 1, bd);
  int64_t zd[] = {0};
  chain_rt_print_array(&ctx, "", 2, nullptr, 1, zd);
  std::rewind(tmp);
  char buf[256] = {0};
  size_t n = std::fread(buf, 1, sizeof buf - 1, tmp);
  std::fclose(tmp);
  CHECK(std::string(buf, n) == "A [[1.5, -2.0, 0.1], [4.0, 5.0, 6.0]]\n[true, false]\n[]\n");
  chain::rt::releaseCtx(ctx);
}

#ifndef CHAIN_TEST_ASAN
TEST_CASE("runtime abi: a tape push that cannot allocate returns CHAIN_ERR_MEMORY",
          "[codegen]") {
  FnBuilder fb("push", {Type::f64()});
  fb.b.create(K::TapePush, {fb.p(0)}, {});
  fb.ret({fb.p(0)});
  Compiled c = compile(fb);
  ChainCallCtx ctx;
  chain::rt::initCtx(ctx, nullptr);
  ctx.tapeTop = ctx.tapeCap = int64_t(1) << 61;  // growing needs 2^62 bytes
  double x = 1.0, out = 0.0;
  void* args[] = {&x};
  void* res[] = {&out};
  int32_t status = c.entry(&ctx, args, res);
  CHECK(status == CHAIN_ERR_MEMORY);
  CHECK(ctx.status == CHAIN_ERR_MEMORY);
  CHECK(std::string(ctx.message).find("out of memory") != std::string::npos);
  CHECK(out == 0.0);  // no result stored
  ctx.tapeTop = ctx.tapeCap = 0;
  chain::rt::releaseCtx(ctx);
}
#endif
