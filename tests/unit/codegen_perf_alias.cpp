// Generated-code performance, aliasing: array buffers from the arena are
// `noalias` allocations and never overlap parameter arrays (alias scope
// metadata, Codegen.cpp), so a loop reading parameters and arena arrays and
// writing a fresh array vectorises without runtime alias checks
// (vector.memcheck blocks), and still computes the right values.
#include <catch2/catch.hpp>

#include "codegen_array_util.h"

using namespace cgtest;

namespace {

// f(x, y) = [z[i] * y[i] + x[i] for i] with z = [x[i] + y[i] for i].
FnBuilder twoMaps() {
  FnBuilder fb("f", {F64A(1), F64A(1)});
  Value* n = dimOf(fb.b, fb.p(0), 0);
  Value* z = mapOf(fb.b, Scalar::F64, {n}, [&](ir::Builder& in, std::vector<Value*> i) {
    return in.binary(AK::Add, at(in, fb.p(0), {i[0]}), at(in, fb.p(1), {i[0]}));
  });
  Value* w = mapOf(fb.b, Scalar::F64, {n}, [&](ir::Builder& in, std::vector<Value*> i) {
    Value* zy = in.binary(AK::Mul, at(in, z, {i[0]}), at(in, fb.p(1), {i[0]}));
    return in.binary(AK::Add, zy, at(in, fb.p(0), {i[0]}));
  });
  fb.ret({w});
  return fb;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("perf: arena and parameter buffers need no runtime alias checks", "[codegen][perf]") {
  codegen::CodegenOptions opts;
  opts.boundsChecks = false;
  FnBuilder fb = twoMaps();
  std::string raw = codegen::emitLLVM(fb.mod, {fb.fn}, opts, /*optimized=*/false);
  INFO(raw);
  CHECK(count(raw, "call noalias ptr @chain_rt_alloc") == 2);
  CHECK(count(raw, "!alias.scope") >= 4);  // the parameter loads of both maps
  CHECK(count(raw, "!noalias") >= 3);      // z's store and load, w's store
  std::string opt = codegen::emitLLVM(fb.mod, {fb.fn}, opts, /*optimized=*/true);
  CHECK(count(opt, "vector.body") >= 1);
  CHECK(count(opt, "vector.memcheck") == 0);

  Compiled c = compile(fb, opts);
  std::vector<double> xs(37), ys(37);
  for (size_t k = 0; k < xs.size(); ++k) {
    xs[k] = 0.5 * static_cast<double>(k) - 3;
    ys[k] = 1.0 / (1.0 + static_cast<double>(k));
  }
  ArrArg<double> x(xs, {37}), y(ys, {37});
  ChainArray out{};
  RawCall r = callRaw(c.entry, {x.ptr(), y.ptr()}, {&out});
  REQUIRE(r.status == 0);
  std::vector<double> got = takeResult<double>(out, 1);
  REQUIRE(got.size() == 37);
  for (size_t k = 0; k < xs.size(); ++k) CHECK(got[k] == (xs[k] + ys[k]) * ys[k] + xs[k]);
  // The same buffer passed as both parameters (parameters may alias each
  // other: they share one scope).
  ArrArg<double> x2(xs, {37});
  RawCall r2 = callRaw(c.entry, {x2.ptr(), x2.ptr()}, {&out});
  REQUIRE(r2.status == 0);
  got = takeResult<double>(out, 1);
  for (size_t k = 0; k < xs.size(); ++k) CHECK(got[k] == (xs[k] + xs[k]) * xs[k] + xs[k]);
}
