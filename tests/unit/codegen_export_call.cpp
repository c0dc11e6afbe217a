// chain_rt_call_exported and chain_last_error (runtime/rt/ExportCall.cpp),
// the common body of the C functions `chain export` writes, called here with
// hand-written entries: argument checks (status 3), an entry's error (4,
// its message), array results copied into the caller's buffer and freed.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <thread>

#include "runtime/rt/ChainRT.h"

namespace {

// results[0]: an f64[3] array {1, 2, 3}; results[1]: the scalar 7.5.
int32_t arrayEntry(ChainCallCtx* ctx, void* const*, void* const* results) {
  auto* a = static_cast<ChainArray*>(results[0]);
  a->data = chain_rt_alloc_result(ctx, 3 * sizeof(double));
  if (!a->data) return ctx->status;
  double vals[3] = {1.0, 2.0, 3.0};
  std::memcpy(a->data, vals, sizeof vals);
  a->shape[0] = 3;
  *static_cast<double*>(results[1]) = 7.5;
  return CHAIN_OK;
}

int32_t failingEntry(ChainCallCtx* ctx, void* const*, void* const*) {
  chain_rt_error(ctx, CHAIN_ERR_RUNTIME, "m.chain:2:5: index 9 is out of bounds for axis 0 of size 3");
  return CHAIN_ERR_RUNTIME;
}

struct Call {
  double out[3] = {0, 0, 0};
  double scalar = 0;
  ChainArray desc{};
  void* results[2] = {&desc, &scalar};
  ChainExportResult specs[2] = {{out, 8, 1, {3}}, {nullptr, 0, 0, {}}};
  int32_t run(ChainEntryFn entry, int64_t n) {
    const char* names[1] = {"n"};
    return chain_rt_call_exported("f", entry, nullptr, results, specs, 2, &n, names, 1);
  }
};

}  // namespace

TEST_CASE("export call: array results land in the caller's buffer", "[export]") {
  Call c;
  REQUIRE(c.run(arrayEntry, 3) == 0);
  CHECK(c.out[0] == 1.0);
  CHECK(c.out[1] == 2.0);
  CHECK(c.out[2] == 3.0);
  CHECK(c.scalar == 7.5);
  CHECK(c.desc.data == nullptr);  // freed by the call
}

TEST_CASE("export call: bad arguments are status 3, errors of the code 4", "[export]") {
  Call c;
  CHECK(c.run(arrayEntry, -2) == 3);
  CHECK(std::string(chain_last_error()) == "f: size n is negative (-2)");
  c.specs[0].out = nullptr;
  CHECK(c.run(arrayEntry, 3) == 3);
  CHECK(std::string(chain_last_error()) == "f: the pointer for output 0 is null");
  Call d;
  CHECK(d.run(failingEntry, 3) == 4);
  CHECK(std::string(chain_last_error()) == "m.chain:2:5: index 9 is out of bounds for axis 0 of size 3");
  // a success leaves the message; another thread has its own
  CHECK(d.run(arrayEntry, 3) == 0);
  CHECK(std::string(chain_last_error()).find("index 9") != std::string::npos);
  std::string other = "unset";
  std::thread([&] { other = chain_last_error(); }).join();
  CHECK(other.empty());
}
