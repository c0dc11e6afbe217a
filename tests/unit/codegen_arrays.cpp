// Array code generation, part 1: element access and selections. index / dim
// on f64, f32, i64 and bool parameters, out-of-bounds messages with the
// numbers and line:col, the --no-bounds-checks path, slices of rows, columns
// and ranges, update / add_at (parameters never modified; in place in a
// 1,000,000-update loop), fill, build (with a shape mismatch), transpose,
// assert messages, array results exported to caller memory, print.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

#include "codegen_array_util.h"

using namespace cgtest;

namespace {

std::string printedBy(const std::function<RawCall(FILE*)>& run, RawCall* rc = nullptr) {
  FILE* tmp = std::tmpfile();
  RawCall r = run(tmp);
  if (rc) *rc = r;
  std::rewind(tmp);
  std::string s;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) s.append(buf, n);
  std::fclose(tmp);
  return s;
}

}  // namespace

TEST_CASE("arrays: index and dim on f64, f32, i64 and bool parameters", "[codegen][arrays]") {
  // f(x: f64[?], y: f32[?,?], z: i64[?], w: bool[?], i) =
  //   (x[i] + f64(y[1, i]) , z[i] * dim(y, 1) + dim(x, 0), w[i])
  FnBuilder fb("f", {F64A(1), arrT(Scalar::F32, 2), arrT(Scalar::I64, 1), arrT(Scalar::Bool, 1),
                     Type::i64()});
  ir::Builder& b = fb.b;
  Value* i = fb.p(4);
  Value* y = b.cast(at(b, fb.p(1), {b.constI(1), i}), Type::f64());
  Value* r0 = b.binary(AK::Add, at(b, fb.p(0), {i}), y);
  Value* r1 = b.binary(AK::Add, b.binary(AK::Mul, at(b, fb.p(2), {i}), dimOf(b, fb.p(1), 1)),
                       dimOf(b, fb.p(0), 0));
  fb.ret({r0, r1, at(b, fb.p(3), {i})});
  Compiled c = compile(fb);
  ArrArg<double> x({1.5, 2.5, 3.5}, {3});
  ArrArg<float> yy({0, 0, 0, 10.25f, 20.5f, 30.75f}, {2, 3});
  ArrArg<int64_t> z({4, 5, 6}, {3});
  ArrArg<uint8_t> w({0, 1, 0}, {3});
  for (int64_t k = 0; k < 3; ++k) {
    int64_t ik = k;
    double o0 = 0;
    int64_t o1 = 0;
    uint8_t o2 = 7;
    RawCall r = callRaw(c.entry, {x.ptr(), yy.ptr(), z.ptr(), w.ptr(), &ik}, {&o0, &o1, &o2});
    REQUIRE(r.status == 0);
    CHECK(o0 == x.data[k] + yy.data[3 + k]);
    CHECK(o1 == z.data[k] * 3 + 3);
    CHECK(o2 == (k == 1 ? 1 : 0));
  }
}

namespace {

// f(x: f64[?,?], i, j) = x[i, j], at line 3 col 7.
Compiled index2(bool checks) {
  FnBuilder fb("g", {F64A(2), Type::i64(), Type::i64()});
  fb.b.setLoc({3, 7});
  fb.ret({at(fb.b, fb.p(0), {fb.p(1), fb.p(2)})});
  codegen::CodegenOptions o;
  o.boundsChecks = checks;
  return compile(fb, o);
}

}  // namespace

TEST_CASE("arrays: out-of-bounds index names the position, index, axis and size",
          "[codegen][arrays]") {
  Compiled c = index2(true);
  ArrArg<double> x({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {2, 5});
  auto run = [&](int64_t i, int64_t j, double* out) {
    return callRaw(c.entry, {x.ptr(), &i, &j}, {out});
  };
  double out = -1;
  RawCall r = run(1, 7, &out);
  CHECK(r.status == CHAIN_ERR_RUNTIME);
  CHECK(r.message == "test.chain:3:7: index 7 is out of bounds for axis 1 of size 5");
  r = run(-1, 0, &out);
  CHECK(r.message == "test.chain:3:7: index -1 is out of bounds for axis 0 of size 2");
  r = run(2, 0, &out);
  CHECK(r.message == "test.chain:3:7: index 2 is out of bounds for axis 0 of size 2");
  CHECK(out == -1);
  r = run(1, 4, &out);
  CHECK(r.status == 0);
  CHECK(out == 9);
}

TEST_CASE("arrays: --no-bounds-checks removes every check", "[codegen][arrays]") {
  Compiled c = index2(false);
  ArrArg<double> x({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {2, 5});
  int64_t i = 0, j = 7;  // row-major offset 7: still inside the buffer
  double out = -1;
  RawCall r = callRaw(c.entry, {x.ptr(), &i, &j}, {&out});
  CHECK(r.status == 0);
  CHECK(out == 7);
  // The emitted code has no error path at all.
  FnBuilder fb("h", {F64A(1), Type::i64()});
  fb.ret({at(fb.b, fb.p(0), {fb.p(1)})});
  codegen::CodegenOptions o;
  o.boundsChecks = false;
  std::string ll = codegen::emitLLVM(fb.mod, {fb.fn}, o, false);
  CHECK(ll.find("chain_rt_error") == std::string::npos);
  o.boundsChecks = true;
  ll = codegen::emitLLVM(fb.mod, {fb.fn}, o, false);
  CHECK(ll.find("chain_rt_error_fmt") != std::string::npos);
}

TEST_CASE("arrays: slices of rows, columns and ranges", "[codegen][arrays]") {
  // (A[i], A[:, j], A[1..3, 1..], x[a..b])
  FnBuilder fb("s", {F64A(2), Type::i64(), Type::i64(), F64A(1), Type::i64(), Type::i64()});
  ir::Builder& b = fb.b;
  b.setLoc({2, 4});
  Value* row = sel(b, AK::Slice, F64A(1), {fb.p(0), fb.p(1)}, {0, 2});
  Value* col = sel(b, AK::Slice, F64A(1), {fb.p(0), fb.p(2)}, {2, 0});
  Value* blk = sel(b, AK::Slice, F64A(2),
                   {fb.p(0), b.constI(1), b.constI(3), b.constI(1), dimOf(b, fb.p(0), 1)}, {1, 1});
  Value* rng = sel(b, AK::Slice, F64A(1), {fb.p(3), fb.p(4), fb.p(5)}, {1});
  fb.ret({row, col, blk, rng});
  Compiled c = compile(fb);
  // A = [[0,1,2],[3,4,5],[6,7,8],[9,10,11]]
  ArrArg<double> A({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {4, 3});
  ArrArg<double> x({10, 11, 12, 13, 14}, {5});
  int64_t i = 2, j = 1, lo = 1, hi = 4;
  ChainArray o[4] = {};
  RawCall r = callRaw(c.entry, {A.ptr(), &i, &j, x.ptr(), &lo, &hi}, {&o[0], &o[1], &o[2], &o[3]});
  REQUIRE(r.status == 0);
  std::vector<int64_t> shape;
  CHECK(takeResult<double>(o[0], 1, &shape) == std::vector<double>{6, 7, 8});
  CHECK(takeResult<double>(o[1], 1, &shape) == std::vector<double>{1, 4, 7, 10});
  CHECK(takeResult<double>(o[2], 2, &shape) == std::vector<double>{4, 5, 7, 8});
  CHECK(shape == std::vector<int64_t>{2, 2});
  CHECK(takeResult<double>(o[3], 1, &shape) == std::vector<double>{11, 12, 13});
  // Empty range, then a bad range.
  lo = hi = 5;
  r = callRaw(c.entry, {A.ptr(), &i, &j, x.ptr(), &lo, &hi}, {&o[0], &o[1], &o[2], &o[3]});
  REQUIRE(r.status == 0);
  CHECK(takeResult<double>(o[3], 1, &shape).empty());
  CHECK(shape == std::vector<int64_t>{0});
  for (int k = 0; k < 3; ++k) takeResult<double>(o[k], k == 2 ? 2 : 1);
  lo = 3;
  hi = 6;
  r = callRaw(c.entry, {A.ptr(), &i, &j, x.ptr(), &lo, &hi}, {&o[0], &o[1], &o[2], &o[3]});
  CHECK(r.status == CHAIN_ERR_RUNTIME);
  CHECK(r.message == "test.chain:2:4: range 3..6 is out of bounds for axis 0 of size 5");
  j = 3;
  r = callRaw(c.entry, {A.ptr(), &i, &j, x.ptr(), &lo, &hi}, {&o[0], &o[1], &o[2], &o[3]});
  CHECK(r.message == "test.chain:2:4: index 3 is out of bounds for axis 1 of size 3");
}

TEST_CASE("arrays: update and add_at copy a parameter, never modify it", "[codegen][arrays]") {
  // (update(A, 5.0, i, j), add_at(A, 1.5, i, j), update(A, v, i, :), add_at(A, v, :, j) [wrong shape])
  FnBuilder fb("u", {F64A(2), Type::i64(), Type::i64(), F64A(1)});
  ir::Builder& b = fb.b;
  b.setLoc({5, 1});
  Value* u1 = sel(b, AK::Update, F64A(2), {fb.p(0), b.constF(5.0), fb.p(1), fb.p(2)}, {0, 0});
  Value* u2 = sel(b, AK::AddAt, F64A(2), {fb.p(0), b.constF(1.5), fb.p(1), fb.p(2)}, {0, 0});
  Value* u3 = sel(b, AK::Update, F64A(2), {fb.p(0), fb.p(3), fb.p(1)}, {0, 2});
  Value* u4 = sel(b, AK::AddAt, F64A(2), {u3, fb.p(3), fb.p(2)}, {2, 0});
  fb.ret({u1, u2, u3, u4});
  Compiled c = compile(fb);
  ArrArg<double> A({1, 2, 3, 4, 5, 6}, {2, 3});
  ArrArg<double> v({10, 20, 30}, {3});
  int64_t i = 1, j = 2;
  ChainArray o[4] = {};
  RawCall r = callRaw(c.entry, {A.ptr(), &i, &j, v.ptr()}, {&o[0], &o[1], &o[2], &o[3]});
  CHECK(r.status == CHAIN_ERR_RUNTIME);  // column of size 2 += v of size 3
  CHECK(r.message ==
        "test.chain:5:1: the assigned array has size 3 on axis 0 but the selection has size 2");
  ArrArg<double> v2({10, 20}, {2});
  FnBuilder fb2("u2", {F64A(2), Type::i64(), Type::i64(), F64A(1), F64A(1)});
  ir::Builder& b2 = fb2.b;
  Value* w1 = sel(b2, AK::Update, F64A(2), {fb2.p(0), b2.constF(5.0), fb2.p(1), fb2.p(2)}, {0, 0});
  Value* w2 = sel(b2, AK::AddAt, F64A(2), {fb2.p(0), b2.constF(1.5), fb2.p(1), fb2.p(2)}, {0, 0});
  Value* w3 = sel(b2, AK::Update, F64A(2), {fb2.p(0), fb2.p(3), fb2.p(1)}, {0, 2});
  Value* w4 = sel(b2, AK::AddAt, F64A(2), {w3, fb2.p(4), fb2.p(2)}, {2, 0});
  fb2.ret({w1, w2, w3, w4});
  Compiled c2 = compile(fb2);
  r = callRaw(c2.entry, {A.ptr(), &i, &j, v.ptr(), v2.ptr()}, {&o[0], &o[1], &o[2], &o[3]});
  REQUIRE(r.status == 0);
  CHECK(takeResult<double>(o[0], 2) == std::vector<double>{1, 2, 3, 4, 5, 5});
  CHECK(takeResult<double>(o[1], 2) == std::vector<double>{1, 2, 3, 4, 5, 7.5});
  CHECK(takeResult<double>(o[2], 2) == std::vector<double>{1, 2, 3, 10, 20, 30});
  CHECK(takeResult<double>(o[3], 2) == std::vector<double>{1, 2, 13, 10, 20, 50});
  CHECK(A.data == std::vector<double>{1, 2, 3, 4, 5, 6});  // the parameter is untouched
}

TEST_CASE("arrays: a 1,000,000-update loop works in place", "[codegen][arrays]") {
  // x = fill(0.0, n); for i in 0..n { x[i] = x[i] + f64(i) * 2 }; sum over p[..] too
  // y = p (a parameter) carried through a loop of updates: copied once.
  FnBuilder fb("loop", {Type::i64(), F64A(1)});
  ir::Builder& b = fb.b;
  Value* n = fb.p(0);
  Value* x0 = b.create(AK::Fill, {b.constF(0.0), n}, {F64A(1)})->result();
  ir::Operation* loop = b.create(AK::For, {b.constI(0), n, x0, fb.p(1)}, {F64A(1), F64A(1)}, 1);
  ir::Block* body = loop->region(0);
  Value* i = body->addArg(Type::i64());
  Value* x = body->addArg(F64A(1));
  Value* y = body->addArg(F64A(1));
  ir::Builder in(body);
  Value* e = in.binary(AK::Add, at(in, x, {i}), in.binary(AK::Mul, in.cast(i, Type::f64()), in.constF(2.0)));
  Value* x2 = sel(in, AK::Update, F64A(1), {x, e, i}, {0});
  Value* k = in.binary(AK::Rem, i, dimOf(in, y, 0));
  Value* y2 = sel(in, AK::AddAt, F64A(1), {y, in.constF(1.0), k}, {0});
  in.yield({x2, y2});
  fb.ret({loop->result(0), loop->result(1)});
  Compiled c = compile(fb);
  ArrArg<double> p({0, 0, 0, 0}, {4});
  int64_t nn = 1000000;
  ChainArray o[2] = {};
  auto t0 = std::chrono::steady_clock::now();
  RawCall r = callRaw(c.entry, {&nn, p.ptr()}, {&o[0], &o[1]});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(r.status == 0);
  std::vector<double> xs = takeResult<double>(o[0], 1);
  REQUIRE(xs.size() == 1000000);
  CHECK(xs[0] == 0);
  CHECK(xs[999999] == 1999998);
  CHECK(takeResult<double>(o[1], 1) == std::vector<double>{250000, 250000, 250000, 250000});
  CHECK(p.data == std::vector<double>{0, 0, 0, 0});
  CHECK(secs < 0.5);  // O(1) per update (a copy per iteration would take minutes)
}

TEST_CASE("arrays: fill, build, transpose", "[codegen][arrays]") {
  FnBuilder fb("fbt", {Type::i64(), F64A(1), F64A(1), F64A(2)});
  ir::Builder& b = fb.b;
  b.setLoc({9, 2});
  Value* f = b.create(AK::Fill, {b.constI(7), fb.p(0), b.constI(2)}, {arrT(Scalar::I64, 2)})->result();
  Value* v = b.create(AK::Build, {b.constF(1.0), b.constF(2.5), b.constF(-3.0)}, {F64A(1)})->result();
  Value* m = b.create(AK::Build, {fb.p(1), fb.p(2), fb.p(1)}, {F64A(2)})->result();
  Value* t = b.create(AK::Transpose, {fb.p(3)}, {F64A(2)})->result();
  fb.ret({f, v, m, t});
  Compiled c = compile(fb);
  ArrArg<double> r1({1, 2}, {2}), r2({3, 4}, {2}), r3({3, 4, 5}, {3});
  ArrArg<double> T({1, 2, 3, 4, 5, 6}, {2, 3});
  int64_t n = 3;
  ChainArray o[4] = {};
  RawCall r = callRaw(c.entry, {&n, r1.ptr(), r2.ptr(), T.ptr()}, {&o[0], &o[1], &o[2], &o[3]});
  REQUIRE(r.status == 0);
  std::vector<int64_t> shape;
  CHECK(takeResult<int64_t>(o[0], 2, &shape) == std::vector<int64_t>(6, 7));
  CHECK(shape == std::vector<int64_t>{3, 2});
  CHECK(takeResult<double>(o[1], 1) == std::vector<double>{1, 2.5, -3});
  CHECK(takeResult<double>(o[2], 2, &shape) == std::vector<double>{1, 2, 3, 4, 1, 2});
  CHECK(shape == std::vector<int64_t>{3, 2});
  CHECK(takeResult<double>(o[3], 2, &shape) == std::vector<double>{1, 4, 2, 5, 3, 6});
  CHECK(shape == std::vector<int64_t>{3, 2});
  n = 0;  // zero-size fill
  r = callRaw(c.entry, {&n, r1.ptr(), r3.ptr(), T.ptr()}, {&o[0], &o[1], &o[2], &o[3]});
  CHECK(r.status == CHAIN_ERR_RUNTIME);
  CHECK(r.message == "test.chain:9:2: array literal: element 1 has size 3 on axis 0, element 0 has size 2");
  r = callRaw(c.entry, {&n, r1.ptr(), r2.ptr(), T.ptr()}, {&o[0], &o[1], &o[2], &o[3]});
  REQUIRE(r.status == 0);
  CHECK(takeResult<int64_t>(o[0], 2, &shape).empty());
  CHECK(shape == std::vector<int64_t>{0, 2});
  for (int k = 1; k < 4; ++k) takeResult<double>(o[k], k == 1 ? 1 : 2);
}

TEST_CASE("arrays: assert fills its message", "[codegen][arrays]") {
  FnBuilder fb("a", {Type::i64(), Type::i64()});
  ir::Builder& b = fb.b;
  b.setLoc({4, 11});
  ir::Operation* as = b.create(AK::Assert, {b.binary(AK::Eq, fb.p(0), fb.p(1)), fb.p(0), fb.p(1)}, {});
  as->s = "sizes differ: n = {} but m = {}";
  fb.ret({b.binary(AK::Add, fb.p(0), fb.p(1))});
  Compiled c = compile(fb);
  int64_t x = 3, y = 4, out = 0;
  RawCall r = callRaw(c.entry, {&x, &y}, {&out});
  CHECK(r.status == CHAIN_ERR_RUNTIME);
  CHECK(r.message == "test.chain:4:11: sizes differ: n = 3 but m = 4");
  y = 3;
  r = callRaw(c.entry, {&x, &y}, {&out});
  CHECK(r.status == 0);
  CHECK(out == 6);
}

TEST_CASE("arrays: print of arrays, label first", "[codegen][arrays]") {
  FnBuilder fb("p", {F64A(2), arrT(Scalar::I64, 1)});
  ir::Builder& b = fb.b;
  ir::Operation* p = b.create(AK::Print, {fb.p(0)}, {});
  p->s = "A";
  b.create(AK::Print, {fb.p(1), b.constF(0.5)}, {});
  fb.ret({b.constI(0)});
  Compiled c = compile(fb);
  ArrArg<double> A({1, 2.5, 3, 4}, {2, 2});
  ArrArg<int64_t> z({}, {0});
  int64_t out;
  std::string s = printedBy([&](FILE* f) { return callRaw(c.entry, {A.ptr(), z.ptr()}, {&out}, f); });
  CHECK(s == "A [[1.0, 2.5], [3.0, 4.0]]\n[]\n0.5\n");
}

TEST_CASE("arrays: empty parameters with a null data pointer", "[codegen][arrays]") {
  // (sum(x), x with nothing changed, a copy of x's rows 0..0) on x: f64[0, 3], data == null
  FnBuilder fb("e", {F64A(2)});
  ir::Builder& b = fb.b;
  Value* s = reduceOf(b, "sum", Type::f64(), b.constI(0), dimOf(b, fb.p(0), 0),
                      [&](ir::Builder& in, Value* i) { return at(in, fb.p(0), {i, in.constI(0)}); });
  Value* sl = sel(b, AK::Slice, F64A(2), {fb.p(0), b.constI(0), b.constI(0)}, {1, 2});
  fb.ret({s, fb.p(0), sl});
  Compiled c = compile(fb);
  ChainArray x{};
  x.data = nullptr;
  x.shape[0] = 0;
  x.shape[1] = 3;
  double sum = -1;
  ChainArray o[2] = {};
  RawCall r = callRaw(c.entry, {&x}, {&sum, &o[0], &o[1]});
  REQUIRE(r.status == 0);
  CHECK(sum == 0);
  std::vector<int64_t> shape;
  CHECK(takeResult<double>(o[0], 2, &shape).empty());
  CHECK(shape == std::vector<int64_t>{0, 3});
  CHECK(takeResult<double>(o[1], 2, &shape).empty());
  CHECK(shape == std::vector<int64_t>{0, 3});
}
