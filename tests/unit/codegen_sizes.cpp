// Array sizes in generated code against the reference interpreter: a
// negative size given to fill or map is the runtime error "array size -5 is
// negative" at the op's position in both; an array whose byte size wraps 64
// bits (n * n * 8 with n = 2^32 or 3037000500, n^3 * 8 with n = 2^21) is "out
// of memory" (CHAIN_ERR_MEMORY, the arena released) instead of a too-small
// buffer written out of bounds, where the interpreter throws std::bad_alloc;
// a size that does not wrap but cannot be allocated is the ordinary "cannot
// allocate N bytes". Also slices with b < a, checked and unchecked.
#include <catch2/catch.hpp>

#include <new>

#include "codegen_array_util.h"
#include "ir/Interpreter.h"

using namespace cgtest;
using chain::ir::RtValue;

namespace {

const char* kOverflow = "out of memory: cannot allocate an array of 2^63 bytes or more";

// f(n: i64) -> elem[n, ..] built by `make` (rank = extents), at 3:7.
struct SizeFn {
  FnBuilder fb{"f", {Type::i64()}};
  Compiled c;
  int rank;
  SizeFn(int rank, const std::function<Value*(ir::Builder&, Value*)>& make) : rank(rank) {
    fb.b.setLoc({3, 7});
    fb.ret({make(fb.b, fb.p(0))});
    c = compile(fb);
  }
  // Calls the JIT; on success frees the result and returns its shape in `shape`.
  RawCall run(int64_t n, std::vector<int64_t>* shape = nullptr) {
    ChainArray out{};
    RawCall r = callRaw(c.entry, {&n}, {&out});
    if (r.status == 0) {
      if (shape) shape->assign(out.shape, out.shape + rank);
      chain_rt_free(out.data);
    }
    return r;
  }
  // The interpreter's error for n ("" when it succeeds).
  std::string interpError(int64_t n) {
    try {
      ir::interpret(fb.mod, *fb.fn, {RtValue::i64(n)});
    } catch (const ir::InterpError& e) {
      return e.what();
    }
    return "";
  }
};

Value* fill2(ir::Builder& b, Scalar elem, Value* n) {
  Value* v = elem == Scalar::F64 ? b.constF(1.5) : elem == Scalar::I64 ? b.constI(7) : b.constB(true);
  return b.create(AK::Fill, {v, n, n}, {arrT(elem, 2)})->result();
}

Value* map2(ir::Builder& b, Value* n, Value* m) {
  return mapOf(b, Scalar::F64, {n, m}, [](ir::Builder& in, std::vector<Value*> i) {
    return in.cast(in.binary(AK::Add, i[0], i[1]), Type::f64());
  });
}

}  // namespace

TEST_CASE("sizes: a negative fill or map size is the interpreter's runtime error", "[codegen][sizes]") {
  SizeFn fill(2, [](ir::Builder& b, Value* n) { return fill2(b, Scalar::F64, n); });
  SizeFn map(2, [](ir::Builder& b, Value* n) { return map2(b, b.constI(3), n); });
  SizeFn tr(2, [](ir::Builder& b, Value* n) {
    return b.create(AK::Transpose, {fill2(b, Scalar::I64, n)}, {arrT(Scalar::I64, 2)})->result();
  });
  for (SizeFn* f : {&fill, &map, &tr}) {
    for (int64_t n : {int64_t(-5), int64_t(-1), INT64_MIN}) {
      RawCall r = f->run(n);
      CHECK(r.status == CHAIN_ERR_RUNTIME);
      CHECK(r.message == "test.chain:3:7: array size " + std::to_string(n) + " is negative");
      CHECK(r.message == "test.chain:" + f->interpError(n));
    }
    std::vector<int64_t> shape;
    RawCall ok = f->run(0, &shape);
    CHECK(ok.status == 0);
    CHECK(ok.message.empty());
    CHECK(f->interpError(0).empty());
  }
  std::vector<int64_t> shape;
  CHECK(map.run(4, &shape).status == 0);
  CHECK(shape == std::vector<int64_t>{3, 4});
}

TEST_CASE("sizes: a byte size that wraps 64 bits is out of memory, not a crash", "[codegen][sizes]") {
  SizeFn f64(2, [](ir::Builder& b, Value* n) { return fill2(b, Scalar::F64, n); });
  SizeFn i1(2, [](ir::Builder& b, Value* n) { return fill2(b, Scalar::Bool, n); });
  SizeFn map(2, [](ir::Builder& b, Value* n) { return map2(b, n, n); });
  SizeFn cube(3, [](ir::Builder& b, Value* n) {  // n^3 elements: 2^63 for n = 2^21
    return mapOf(b, Scalar::I64, {n, n, n}, [](ir::Builder&, std::vector<Value*> i) { return i[2]; });
  });
  SizeFn tr(2, [](ir::Builder& b, Value* n) {
    return b.create(AK::Transpose, {fill2(b, Scalar::F64, n)}, {F64A(2)})->result();
  });
  struct Case {
    SizeFn* f;
    int64_t n;
  } cases[] = {{&f64, int64_t(1) << 32}, {&f64, 3037000500}, {&f64, int64_t(1) << 31},
               {&i1, int64_t(1) << 32},  {&map, int64_t(1) << 32}, {&map, 3037000500},
               {&cube, int64_t(1) << 21}, {&cube, int64_t(1) << 22}, {&tr, int64_t(1) << 32}};
  for (const Case& c : cases) {
    INFO("n = " << c.n);
    RawCall r = c.f->run(c.n);
    CHECK(r.status == CHAIN_ERR_MEMORY);
    CHECK(r.message == kOverflow);  // also: the arena was released
    CHECK_THROWS_AS(ir::interpret(c.f->fb.mod, *c.f->fb.fn, {RtValue::i64(c.n)}), std::bad_alloc);
  }
  // 2^29 x 2^29 x 8 = 2^61 bytes does not wrap: the allocation itself fails.
  RawCall big = f64.run(int64_t(1) << 29);
  CHECK(big.status == CHAIN_ERR_MEMORY);
  CHECK(big.message == "out of memory: cannot allocate 2305843009213693952 bytes");
  // Small sizes still work (one compare per allocation, nothing else changes).
  std::vector<int64_t> shape;
  CHECK(cube.run(3, &shape).status == 0);
  CHECK(shape == std::vector<int64_t>{3, 3, 3});
  CHECK(i1.run(5, &shape).status == 0);
  CHECK(shape == std::vector<int64_t>{5, 5});
}

TEST_CASE("sizes: a slice a..b with b < a", "[codegen][sizes]") {
  // f(a: f64[4], lo, hi) = a[lo..hi]
  auto build = [](FnBuilder& fb) {
    fb.b.setLoc({2, 5});
    fb.ret({sel(fb.b, AK::Slice, F64A(1), {fb.p(0), fb.p(1), fb.p(2)}, {1})});
  };
  FnBuilder fb("s", {F64A(1), Type::i64(), Type::i64()});
  build(fb);
  Compiled c = compile(fb);
  ArrArg<double> a({1, 2, 3, 4}, {4});
  int64_t lo = 3, hi = 1;
  ChainArray out{};
  RawCall r = callRaw(c.entry, {a.ptr(), &lo, &hi}, {&out});
  CHECK(r.status == CHAIN_ERR_RUNTIME);
  CHECK(r.message == "test.chain:2:5: range 3..1 is out of bounds for axis 0 of size 4");
  try {
    ir::interpret(fb.mod, *fb.fn, {RtValue::array(Scalar::F64, {4}, {1, 2, 3, 4}), RtValue::i64(3),
                                   RtValue::i64(1)});
    FAIL("the interpreter accepted 3..1");
  } catch (const ir::InterpError& e) {
    CHECK(r.message == std::string("test.chain:") + e.what());
  }
  // Without bounds checks the negative count reaches the allocation, which
  // rejects it: an error, not a write through a wrapped size.
  FnBuilder fb2("s", {F64A(1), Type::i64(), Type::i64()});
  build(fb2);
  codegen::CodegenOptions opts;
  opts.boundsChecks = false;
  Compiled unchecked = compile(fb2, opts);
  r = callRaw(unchecked.entry, {a.ptr(), &lo, &hi}, {&out});
  CHECK(r.status == CHAIN_ERR_MEMORY);
  CHECK(r.message == kOverflow);
}
