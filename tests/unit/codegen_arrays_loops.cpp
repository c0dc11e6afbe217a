// Array code generation, part 2: loops over arrays. map and reduce of every
// kind (sum, prod, max, min, logsumexp; f64 and i64; empty ranges give the
// identities; logsumexp stays finite for large inputs; NaN propagates through
// max), hoisted bounds checks in map bodies, matmul in its four rank forms
// against a naive loop (and the inner-size error), arrays carried through
// for / while / if, a tape round trip of arrays, and packed vector
// instructions in the assembly of a dot product and an elementwise map.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "codegen_array_util.h"

using namespace cgtest;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

// r(x: f64[?], lo, hi) = reduce kind (lo, hi) x[i]
Compiled reduceFn(const std::string& kind, Scalar elem) {
  FnBuilder fb("r", {arrT(elem, 1), Type::i64(), Type::i64()});
  Type t{elem, 0};
  Value* r = reduceOf(fb.b, kind, kind == "logsumexp" ? Type::f64() : t, fb.p(1), fb.p(2),
                      [&](ir::Builder& in, Value* i) { return at(in, fb.p(0), {i}); });
  fb.ret({r});
  return compile(fb);
}

template <class T, class R>
R runReduce(const Compiled& c, std::vector<T> xs, int64_t lo, int64_t hi, int32_t* status = nullptr) {
  ArrArg<T> x(xs, {static_cast<int64_t>(xs.size())});
  R out{};
  RawCall r = callRaw(c.entry, {x.ptr(), &lo, &hi}, {&out});
  if (status) *status = r.status;
  else REQUIRE(r.status == 0);
  return out;
}

}  // namespace

TEST_CASE("arrays: reduce of every kind, with empty ranges", "[codegen][arrays]") {
  std::vector<double> xs{3, -1.5, 8, 0.25, 2};
  Compiled sum = reduceFn("sum", Scalar::F64), prod = reduceFn("prod", Scalar::F64);
  Compiled mx = reduceFn("max", Scalar::F64), mn = reduceFn("min", Scalar::F64);
  Compiled lse = reduceFn("logsumexp", Scalar::F64);
  CHECK(runReduce<double, double>(sum, xs, 0, 5) == 11.75);
  CHECK(runReduce<double, double>(sum, xs, 1, 3) == 6.5);
  CHECK(runReduce<double, double>(prod, xs, 0, 5) == -18);
  CHECK(runReduce<double, double>(mx, xs, 0, 5) == 8);
  CHECK(runReduce<double, double>(mn, xs, 0, 5) == -1.5);
  double want = std::log(std::exp(3.0) + std::exp(-1.5) + std::exp(8.0) + std::exp(0.25) + std::exp(2.0));
  CHECK(runReduce<double, double>(lse, xs, 0, 5) == Approx(want).epsilon(1e-14));
  // Empty ranges (also hi < lo): identities.
  CHECK(runReduce<double, double>(sum, xs, 2, 2) == 0);
  CHECK(runReduce<double, double>(prod, xs, 4, 1) == 1);
  CHECK(runReduce<double, double>(mx, xs, 3, 3) == -kInf);
  CHECK(runReduce<double, double>(mn, xs, 3, 3) == kInf);
  CHECK(runReduce<double, double>(lse, xs, 3, 3) == -kInf);
  // logsumexp is stable: large and all -inf inputs.
  CHECK(runReduce<double, double>(lse, {1000, 1000}, 0, 2) == Approx(1000 + std::log(2.0)));
  CHECK(runReduce<double, double>(lse, {-1000, -1001}, 0, 2) ==
        Approx(-1000 + std::log1p(std::exp(-1.0))));
  CHECK(runReduce<double, double>(lse, {-kInf, -kInf}, 0, 2) == -kInf);
  CHECK(runReduce<double, double>(lse, {kInf, 1}, 0, 2) == kInf);
  // NaN propagates through max / min and logsumexp.
  double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(runReduce<double, double>(mx, {1, nan, 3}, 0, 3)));
  CHECK(std::isnan(runReduce<double, double>(mn, {1, nan, 3}, 0, 3)));
  CHECK(std::isnan(runReduce<double, double>(lse, {1, nan, 3}, 0, 3)));
  // A reduction over an out-of-range slice reports the first bad index.
  int32_t status = 0;
  runReduce<double, double>(sum, xs, 2, 9, &status);
  CHECK(status == CHAIN_ERR_RUNTIME);
}

TEST_CASE("arrays: i64 reductions and a long sum", "[codegen][arrays]") {
  std::vector<int64_t> xs{4, -7, 9, 2};
  CHECK(runReduce<int64_t, int64_t>(reduceFn("sum", Scalar::I64), xs, 0, 4) == 8);
  CHECK(runReduce<int64_t, int64_t>(reduceFn("prod", Scalar::I64), xs, 0, 4) == -504);
  CHECK(runReduce<int64_t, int64_t>(reduceFn("max", Scalar::I64), xs, 0, 4) == 9);
  CHECK(runReduce<int64_t, int64_t>(reduceFn("min", Scalar::I64), xs, 0, 4) == -7);
  CHECK(runReduce<int64_t, int64_t>(reduceFn("max", Scalar::I64), xs, 0, 0) == INT64_MIN);
  CHECK(runReduce<int64_t, int64_t>(reduceFn("min", Scalar::I64), xs, 0, 0) == INT64_MAX);
  // A vectorised sum of 1001 integers-valued doubles is exact.
  std::vector<double> big(1001);
  for (size_t k = 0; k < big.size(); ++k) big[k] = static_cast<double>(k);
  CHECK(runReduce<double, double>(reduceFn("sum", Scalar::F64), big, 0, 1001) == 500500);
}

TEST_CASE("arrays: map builds arrays; its bounds checks are hoisted but exact", "[codegen][arrays]") {
  // m(x: f64[?], n) = [exp(x[i + 1]) * 2 for i in 0..n], and a 2-D map A[j, i] (transpose).
  FnBuilder fb("m", {F64A(1), Type::i64(), F64A(2)});
  ir::Builder& b = fb.b;
  b.setLoc({6, 3});
  Value* m = mapOf(b, Scalar::F64, {fb.p(1)}, [&](ir::Builder& in, std::vector<Value*> i) {
    Value* k = in.binary(AK::Add, i[0], in.constI(1));
    return in.binary(AK::Mul, in.unary(AK::Exp, at(in, fb.p(0), {k})), in.constF(2.0));
  });
  Value* t = mapOf(b, Scalar::F64, {dimOf(b, fb.p(2), 1), dimOf(b, fb.p(2), 0)},
                   [&](ir::Builder& in, std::vector<Value*> i) { return at(in, fb.p(2), {i[1], i[0]}); });
  fb.ret({m, t});
  Compiled c = compile(fb);
  ArrArg<double> x({0, 1, 2, 3}, {4});
  ArrArg<double> A({1, 2, 3, 4, 5, 6}, {2, 3});
  int64_t n = 3;
  ChainArray o[2] = {};
  RawCall r = callRaw(c.entry, {x.ptr(), &n, A.ptr()}, {&o[0], &o[1]});
  REQUIRE(r.status == 0);
  std::vector<double> got = takeResult<double>(o[0], 1);
  REQUIRE(got.size() == 3);
  for (int k = 0; k < 3; ++k) CHECK(got[k] == std::exp(double(k + 1)) * 2);
  std::vector<int64_t> shape;
  CHECK(takeResult<double>(o[1], 2, &shape) == std::vector<double>{1, 4, 2, 5, 3, 6});
  CHECK(shape == std::vector<int64_t>{3, 2});
  n = 4;  // i + 1 reaches 4
  r = callRaw(c.entry, {x.ptr(), &n, A.ptr()}, {&o[0], &o[1]});
  CHECK(r.status == CHAIN_ERR_RUNTIME);
  CHECK(r.message == "test.chain:6:3: index 4 is out of bounds for axis 0 of size 4");
  n = 0;  // empty map: no error, empty result
  r = callRaw(c.entry, {x.ptr(), &n, A.ptr()}, {&o[0], &o[1]});
  REQUIRE(r.status == 0);
  CHECK(takeResult<double>(o[0], 1).empty());
  takeResult<double>(o[1], 2);
}

namespace {

std::vector<double> naiveMatMul(const std::vector<double>& A, const std::vector<double>& B,
                                int64_t n, int64_t k, int64_t m) {
  std::vector<double> C(static_cast<size_t>(n * m), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) s += A[i * k + p] * B[p * m + j];
      C[i * m + j] = s;
    }
  return C;
}

}  // namespace

TEST_CASE("arrays: matmul in its four rank forms against a naive loop", "[codegen][arrays]") {
  FnBuilder fb("mm", {F64A(2), F64A(2), F64A(1), F64A(1)});
  ir::Builder& b = fb.b;
  b.setLoc({8, 5});
  Value* mm = b.create(AK::MatMul, {fb.p(0), fb.p(1)}, {F64A(2)})->result();
  Value* mv = b.create(AK::MatMul, {fb.p(0), fb.p(2)}, {F64A(1)})->result();
  Value* vm = b.create(AK::MatMul, {fb.p(3), fb.p(1)}, {F64A(1)})->result();
  Value* vv = b.create(AK::MatMul, {fb.p(2), fb.p(2)}, {Type::f64()})->result();
  fb.ret({mm, mv, vm, vv});
  Compiled c = compile(fb);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d(-8, 8);  // small integers: sums are exact
  const int64_t n = 5, k = 19, m = 13;
  auto rnd = [&](int64_t len) {
    std::vector<double> v(static_cast<size_t>(len));
    for (double& x : v) x = d(rng) * 0.5;
    return v;
  };
  ArrArg<double> A(rnd(n * k), {n, k}), B(rnd(k * m), {k, m}), x(rnd(k), {k}), y(rnd(n), {n});
  ChainArray o[3] = {};
  double dot = 0;
  RawCall r = callRaw(c.entry, {A.ptr(), B.ptr(), x.ptr(), y.ptr()}, {&o[0], &o[1], &o[2], &dot});
  CHECK(r.status == CHAIN_ERR_RUNTIME);  // y has n elements, B has k rows
  CHECK(r.message == "test.chain:8:5: matrix product: inner sizes differ (5 vs 19)");
  ArrArg<double> z(rnd(k), {k});
  r = callRaw(c.entry, {A.ptr(), B.ptr(), x.ptr(), z.ptr()}, {&o[0], &o[1], &o[2], &dot});
  REQUIRE(r.status == 0);
  std::vector<int64_t> shape;
  CHECK(takeResult<double>(o[0], 2, &shape) == naiveMatMul(A.data, B.data, n, k, m));
  CHECK(shape == std::vector<int64_t>{n, m});
  CHECK(takeResult<double>(o[1], 1) == naiveMatMul(A.data, x.data, n, k, 1));
  CHECK(takeResult<double>(o[2], 1) == naiveMatMul(z.data, B.data, 1, k, m));
  CHECK(dot == naiveMatMul(x.data, x.data, 1, k, 1)[0]);
}

TEST_CASE("arrays: matmul tiles (4 rows x 2 vectors) and their edges, f64 and f32", "[codegen][arrays]") {
  // [n,k]@[k,m] of floats runs 4 x 8 (f64) / 4 x 16 (f32) tiles plus plain
  // loops for the rows and columns left over: shapes below, at and around
  // the tile sizes, k = 0 included. Small half-integers keep sums exact.
  FnBuilder fb("mm", {F64A(2), F64A(2), arrT(Scalar::F32, 2), arrT(Scalar::F32, 2)});
  ir::Builder& b = fb.b;
  Value* c64 = b.create(AK::MatMul, {fb.p(0), fb.p(1)}, {F64A(2)})->result();
  Value* c32 = b.create(AK::MatMul, {fb.p(2), fb.p(3)}, {arrT(Scalar::F32, 2)})->result();
  fb.ret({c64, c32});
  Compiled c = compile(fb);
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> d(-8, 8);
  auto rnd = [&](int64_t len) {
    std::vector<double> v(static_cast<size_t>(len));
    for (double& x : v) x = d(rng) * 0.5;
    return v;
  };
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {4, 3, 8}, {4, 0, 8}, {8, 2, 16}, {9, 17, 33},
                               {12, 7, 40}, {5, 19, 13}, {17, 4, 9}};
  for (const auto& s : shapes) {
    const int64_t n = s[0], k = s[1], m = s[2];
    INFO("n=" << n << " k=" << k << " m=" << m);
    std::vector<double> a = rnd(n * k), bb = rnd(k * m);
    std::vector<float> af(a.begin(), a.end()), bf(bb.begin(), bb.end());
    ArrArg<double> A(a, {n, k}), B(bb, {k, m});
    ArrArg<float> Af(af, {n, k}), Bf(bf, {k, m});
    ChainArray o[2] = {};
    RawCall r = callRaw(c.entry, {A.ptr(), B.ptr(), Af.ptr(), Bf.ptr()}, {&o[0], &o[1]});
    REQUIRE(r.status == 0);
    std::vector<double> want = naiveMatMul(a, bb, n, k, m);
    CHECK(takeResult<double>(o[0], 2) == want);
    std::vector<float> got32 = takeResult<float>(o[1], 2);
    CHECK(std::vector<double>(got32.begin(), got32.end()) == want);
  }
}

TEST_CASE("arrays: arrays carried through for, while and if", "[codegen][arrays]") {
  // x = p; while dim-sum(x) < limit { x = if s > 10 { x + 1 (map) } else { x[0] += 2 } }
  FnBuilder fb("w", {F64A(1), Type::f64()});
  ir::Builder& b = fb.b;
  ir::Operation* w = b.create(AK::While, {fb.p(0)}, {F64A(1)}, 2);
  ir::Block* cond = w->region(0);
  Value* cx = cond->addArg(F64A(1));
  ir::Builder cb(cond);
  auto total = [&](ir::Builder& bb, Value* x) {
    return reduceOf(bb, "sum", Type::f64(), bb.constI(0), dimOf(bb, x, 0),
                    [&](ir::Builder& in, Value* i) { return at(in, x, {i}); });
  };
  cb.yield({cb.binary(AK::Lt, total(cb, cx), fb.p(1))});
  ir::Block* body = w->region(1);
  Value* bx = body->addArg(F64A(1));
  ir::Builder bb(body);
  ir::Operation* iff = bb.create(AK::If, {bb.binary(AK::Gt, total(bb, bx), bb.constF(10))}, {F64A(1)}, 2);
  ir::Builder tb(iff->region(0));
  tb.yield({mapOf(tb, Scalar::F64, {dimOf(tb, bx, 0)}, [&](ir::Builder& in, std::vector<Value*> i) {
    return in.binary(AK::Add, at(in, bx, {i[0]}), in.constF(1));
  })});
  ir::Builder eb(iff->region(1));
  eb.yield({sel(eb, AK::AddAt, F64A(1), {bx, eb.constF(2), eb.constI(0)}, {0})});
  bb.yield({iff->result()});
  fb.ret({w->result()});
  Compiled c = compile(fb);
  ArrArg<double> p({1, 2, 3}, {3});
  double limit = 20;
  ChainArray o{};
  RawCall r = callRaw(c.entry, {p.ptr(), &limit}, {&o});
  REQUIRE(r.status == 0);
  // sums: 6 -> 8 -> 10 -> 12 (x[0] = 7) -> map +1: 15 -> 18 -> 21
  CHECK(takeResult<double>(o, 1) == std::vector<double>{10, 5, 6});
  CHECK(p.data == std::vector<double>{1, 2, 3});
}

TEST_CASE("arrays: a tape round trip of arrays and scalars", "[codegen][arrays]") {
  // push (x, s, M); x' = x with x[0] = 99; pop -> (x0, s0, M0); return (x0, s0 + 1, M0, x')
  FnBuilder fb("t", {F64A(1), Type::i64(), arrT(Scalar::F32, 2)});
  ir::Builder& b = fb.b;
  b.create(AK::TapePush, {fb.p(0), fb.p(1), fb.p(2)}, {});
  Value* x2 = sel(b, AK::Update, F64A(1), {fb.p(0), b.constF(99), b.constI(0)}, {0});
  ir::Operation* pop = b.create(AK::TapePop, {}, {F64A(1), Type::i64(), arrT(Scalar::F32, 2)});
  fb.ret({pop->result(0), b.binary(AK::Add, pop->result(1), b.constI(1)), pop->result(2), x2});
  Compiled c = compile(fb);
  ArrArg<double> x({1, 2, 3}, {3});
  ArrArg<float> M({1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f}, {3, 2});
  int64_t s = 41, s0 = 0;
  ChainArray o[3] = {};
  RawCall r = callRaw(c.entry, {x.ptr(), &s, M.ptr()}, {&o[0], &s0, &o[1], &o[2]});
  REQUIRE(r.status == 0);
  CHECK(r.tapeTop == 0);
  std::vector<int64_t> shape;
  CHECK(takeResult<double>(o[0], 1) == std::vector<double>{1, 2, 3});
  CHECK(s0 == 42);
  CHECK(takeResult<float>(o[1], 2, &shape) == M.data);
  CHECK(shape == std::vector<int64_t>{3, 2});
  CHECK(takeResult<double>(o[2], 1) == std::vector<double>{99, 2, 3});
}

namespace {

bool hostHasAvx2() {
  return codegen::hostHasFeature("avx2") || codegen::hostHasFeature("avx512f");
}

bool packed(const std::string& s) {
  return s.find("ymm") != std::string::npos || s.find("zmm") != std::string::npos;
}

}  // namespace

TEST_CASE("arrays: a dot product and an elementwise map vectorise", "[codegen][arrays]") {
  if (!hostHasAvx2()) {
    WARN("host without AVX2 / AVX-512: vector check skipped");
    return;
  }
  FnBuilder dot("dot", {F64A(1), F64A(1)});
  Value* s = reduceOf(dot.b, "sum", Type::f64(), dot.b.constI(0), dimOf(dot.b, dot.p(0), 0),
                      [&](ir::Builder& in, Value* i) {
                        return in.binary(AK::Mul, at(in, dot.p(0), {i}), at(in, dot.p(1), {i}));
                      });
  dot.ret({s});
  std::string asmDot = codegen::emitAsm(dot.mod, {dot.fn}, {});
  CHECK(packed(asmDot));
  CHECK(asmDot.find("vfmadd") == std::string::npos);  // no contraction: no fast-math

  FnBuilder mp("emap", {F64A(1)});
  Value* m = mapOf(mp.b, Scalar::F64, {dimOf(mp.b, mp.p(0), 0)}, [&](ir::Builder& in, std::vector<Value*> i) {
    return in.binary(AK::Mul, in.unary(AK::Exp, at(in, mp.p(0), {i[0]})), in.constF(2.0));
  });
  mp.ret({m});
  std::string asmMap = codegen::emitAsm(mp.mod, {mp.fn}, {});
  CHECK(packed(asmMap));
}

TEST_CASE("arrays: --nan-check covers matmul results and add_at", "[codegen][arrays]") {
  FnBuilder fb("nc", {F64A(2), F64A(1)});
  ir::Builder& b = fb.b;
  b.setLoc({3, 14});
  Value* mv = b.create(AK::MatMul, {fb.p(0), fb.p(1)}, {F64A(1)})->result();
  b.setLoc({4, 2});
  Value* u = sel(b, AK::AddAt, F64A(1), {mv, b.constF(1e308), b.constI(0)}, {0});
  fb.ret({u});
  codegen::CodegenOptions o;
  o.nanCheck = true;
  Compiled c = compile(fb, o);
  auto run = [&](std::vector<double> a, std::vector<double> x) {
    ArrArg<double> A(a, {2, 2}), X(x, {2});
    ChainArray out{};
    RawCall r = callRaw(c.entry, {A.ptr(), X.ptr()}, {&out});
    if (r.status == 0) takeResult<double>(out, 1);
    return r;
  };
  RawCall r = run({1e200, 0, 0, 1}, {1e200, 1});
  CHECK(r.status == CHAIN_ERR_NAN);
  CHECK(r.message == "test.chain:3:14: infinity produced by 'matmul'");
  r = run({1, 0, 0, 1}, {1e308, 1});
  CHECK(r.status == CHAIN_ERR_NAN);
  CHECK(r.message == "test.chain:4:2: infinity produced by 'add_at'");
  r = run({1, 0, 0, 1}, {1, 1});
  CHECK(r.status == 0);
}
