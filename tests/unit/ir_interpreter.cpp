// Unit tests of the reference interpreter's arrays: every array op against
// hand-computed values, bounds errors with their message and position,
// reduce identities and the stable logsumexp, matmul shapes, literals,
// asserts, tape copies and the print format.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "array_ir_util.h"
#include "ir/Interpreter.h"
#include "ir/Verifier.h"

using namespace arrtest;

namespace {

const Type F = Type::f64(), I = Type::i64(), B = Type::boolean();
const Type F1 = arr(Scalar::F64, 1), F2 = arr(Scalar::F64, 2), I1 = arr(Scalar::I64, 1);

RtValue vec(std::vector<double> v) { return RtValue::array(Scalar::F64, {int64_t(v.size())}, v); }
RtValue mat(int64_t n, int64_t m, std::vector<double> v) { return RtValue::array(Scalar::F64, {n, m}, v); }

std::vector<RtValue> run(Fn& t, std::vector<RtValue> args, std::string* out = nullptr) {
  auto errs = verifyFunction(*t.f, &t.m);
  std::string all;
  for (auto& e : errs) all += e + "\n";
  INFO(all);
  REQUIRE(errs.empty());
  return interpret(t.m, *t.f, args, out);
}

std::string errorOf(Fn& t, std::vector<RtValue> args) {
  try {
    run(t, args);
  } catch (const InterpError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("interpreter: map, index, dim and reduce", "[ir][interp]") {
  // f(x) = (sum(exp(x[i]) for i), [2 * x[i] for i], len(x))
  Fn t({F1}, {F, F1, I}, {"x"});
  Value* n = dim(t.b, t.p(0), 0);
  Value* s = reduce(t.b, "sum", t.b.constI(0), n, [&](Builder& in, Value* i) {
    return in.unary(OpKind::Exp, index(in, t.p(0), {i}));
  });
  Value* m = map(t.b, {n}, [&](Builder& in, const std::vector<Value*>& i) {
    return in.binary(OpKind::Mul, in.constF(2.0), index(in, t.p(0), {i[0]}));
  });
  t.b.ret({s, m, n});
  auto r = run(t, {vec({0.0, 1.0, -2.0})});
  CHECK(r[0].f == Approx(1.0 + std::exp(1.0) + std::exp(-2.0)));
  CHECK(r[1].shape == std::vector<int64_t>{3});
  CHECK(r[1].values() == std::vector<double>{0.0, 2.0, -4.0});
  CHECK(r[2].i == 3);
}

TEST_CASE("interpreter: a rank-2 map and reading it back", "[ir][interp]") {
  // [[i * 10 + j for j in 0..3] for i in 0..2], then index [1, 2]
  Fn t({}, {arr(Scalar::I64, 2), I}, {});
  Value* M = map(t.b, {t.b.constI(2), t.b.constI(3)}, [&](Builder& in, const std::vector<Value*>& i) {
    return in.binary(OpKind::Add, in.binary(OpKind::Mul, i[0], in.constI(10)), i[1]);
  });
  t.b.ret({M, index(t.b, M, {t.b.constI(1), t.b.constI(2)})});
  auto r = run(t, {});
  CHECK(r[0].shape == std::vector<int64_t>{2, 3});
  CHECK(r[0].values() == std::vector<double>{0, 1, 2, 10, 11, 12});
  CHECK(r[1].i == 12);
  CHECK(formatRtValue(r[0]) == "[[0, 1, 2], [10, 11, 12]]");
}

TEST_CASE("interpreter: out-of-bounds reads are errors with position and sizes", "[ir][interp]") {
  Fn t({F1, I}, {F}, {"x", "k"});
  t.b.setLoc({7, 12});
  t.b.ret({index(t.b, t.p(0), {t.p(1)})});
  CHECK(run(t, {vec({1, 2, 3, 4, 5}), RtValue::i64(4)})[0].f == 5.0);
  CHECK(errorOf(t, {vec({1, 2, 3, 4, 5}), RtValue::i64(5)}) ==
        "7:12: index 5 is out of bounds for axis 0 of size 5");
  CHECK(errorOf(t, {vec({1, 2, 3, 4, 5}), RtValue::i64(-1)}) ==
        "7:12: index -1 is out of bounds for axis 0 of size 5");
}

TEST_CASE("interpreter: slice, update and add_at", "[ir][interp]") {
  // A: [3, 2]; row 1, column 0, rows 1..3; A with [0, 1] := 9; A with row 2 += [1, 1]
  Fn t({F2, I, I}, {F1, F1, F2, F2, F2}, {"A", "lo", "hi"});
  Value* one = t.b.constI(1);
  Value* zero = t.b.constI(0);
  Value* row = select(t.b, OpKind::Slice, t.p(0), nullptr, {0, 2}, {one});
  Value* col = select(t.b, OpKind::Slice, t.p(0), nullptr, {2, 0}, {zero});
  Value* rows = select(t.b, OpKind::Slice, t.p(0), nullptr, {1, 2}, {t.p(1), t.p(2)});
  Value* up = select(t.b, OpKind::Update, t.p(0), t.b.constF(9.0), {0, 0}, {zero, one});
  Value* ones = t.b.create(OpKind::Fill, {t.b.constF(1.0), t.b.constI(2)}, {F1})->result();
  Value* add = select(t.b, OpKind::AddAt, t.p(0), ones, {0, 2}, {t.b.constI(2)});
  t.b.ret({row, col, rows, up, add});
  RtValue A = mat(3, 2, {1, 2, 3, 4, 5, 6});
  auto r = run(t, {A, RtValue::i64(1), RtValue::i64(3)});
  CHECK(r[0].values() == std::vector<double>{3, 4});
  CHECK(r[1].values() == std::vector<double>{1, 3, 5});
  CHECK(r[2].shape == std::vector<int64_t>{2, 2});
  CHECK(r[2].values() == std::vector<double>{3, 4, 5, 6});
  CHECK(r[3].values() == std::vector<double>{1, 9, 3, 4, 5, 6});
  CHECK(r[4].values() == std::vector<double>{1, 2, 3, 4, 6, 7});
  CHECK(A.values() == std::vector<double>{1, 2, 3, 4, 5, 6});  // value semantics
  CHECK(errorOf(t, {A, RtValue::i64(2), RtValue::i64(4)}).find("range 2..4 is out of bounds for axis 0 of size 3") !=
        std::string::npos);
  CHECK(errorOf(t, {A, RtValue::i64(2), RtValue::i64(1)}).find("range 2..1") != std::string::npos);
}

TEST_CASE("interpreter: reduce kinds and empty ranges", "[ir][interp]") {
  double inf = std::numeric_limits<double>::infinity();
  Fn t({F1, I, I}, {F, F, F, F, F, I, I}, {"x", "lo", "hi"});
  std::vector<Value*> rs;
  for (const char* k : {"sum", "prod", "max", "min", "logsumexp"})
    rs.push_back(reduce(t.b, k, t.p(1), t.p(2), [&](Builder& in, Value* i) { return index(in, t.p(0), {i}); }));
  for (const char* k : {"max", "min"})
    rs.push_back(reduce(t.b, k, t.p(1), t.p(2), [&](Builder& in, Value* i) { return in.binary(OpKind::Mul, i, i); }));
  t.b.ret(rs);
  RtValue x = vec({1000.0, 2.0, 1000.0, -3.0});
  auto r = run(t, {x, RtValue::i64(0), RtValue::i64(4)});
  CHECK(r[0].f == 1999.0);
  CHECK(r[1].f == -6000000.0);
  CHECK(r[2].f == 1000.0);
  CHECK(r[3].f == -3.0);
  CHECK(r[4].f == Approx(1000.0 + std::log(2.0)));  // stable: no overflow
  CHECK(r[5].i == 9);
  CHECK(r[6].i == 0);
  auto e = run(t, {x, RtValue::i64(3), RtValue::i64(3)});
  CHECK(e[0].f == 0.0);
  CHECK(e[1].f == 1.0);
  CHECK(e[2].f == -inf);
  CHECK(e[3].f == inf);
  CHECK(e[4].f == -inf);
  CHECK(e[5].i == std::numeric_limits<int64_t>::min());
  CHECK(e[6].i == std::numeric_limits<int64_t>::max());
  auto m = run(t, {vec({-inf, -inf}), RtValue::i64(0), RtValue::i64(2)});
  CHECK(m[4].f == -inf);
}

TEST_CASE("interpreter: matmul by ranks, transpose, fill", "[ir][interp]") {
  Fn t({F2, F2, F1}, {F2, F1, F1, F, F2, F2}, {"A", "B", "v"});
  auto mm = [&](Value* a, Value* b, Type rt) { return t.b.create(OpKind::MatMul, {a, b}, {rt})->result(); };
  Value* ab = mm(t.p(0), t.p(1), F2);
  Value* av = mm(t.p(0), t.p(2), F1);
  Value* va = mm(t.p(2), t.p(1), F1);
  Value* vv = mm(t.p(2), t.p(2), F);
  Value* tr = t.b.create(OpKind::Transpose, {t.p(0)}, {F2})->result();
  Value* fl = t.b.create(OpKind::Fill, {t.b.constF(0.5), t.b.constI(1), t.b.constI(3)}, {F2})->result();
  t.b.ret({ab, av, va, vv, tr, fl});
  RtValue A = mat(2, 2, {1, 2, 3, 4}), Bm = mat(2, 2, {5, 6, 7, 8});
  auto r = run(t, {A, Bm, vec({1, -1})});
  CHECK(r[0].values() == std::vector<double>{19, 22, 43, 50});
  CHECK(r[1].values() == std::vector<double>{-1, -1});
  CHECK(r[2].values() == std::vector<double>{-2, -2});
  CHECK(r[3].f == 2.0);
  CHECK(r[4].values() == std::vector<double>{1, 3, 2, 4});
  CHECK(r[5].shape == std::vector<int64_t>{1, 3});
  CHECK(formatRtValue(r[5]) == "[[0.5, 0.5, 0.5]]");
  t.b.setLoc({3, 4});
  std::string err = errorOf(t, {mat(2, 3, {1, 2, 3, 4, 5, 6}), Bm, vec({1, 2})});
  CHECK(err.find("matmul: inner sizes differ (3 vs 2)") != std::string::npos);
}

TEST_CASE("interpreter: build and assert", "[ir][interp]") {
  Fn t({F1, F1, I}, {F2, F1}, {"a", "b", "k"});
  t.b.setLoc({2, 5});
  Value* m = t.b.create(OpKind::Build, {t.p(0), t.p(1)}, {F2})->result();
  Value* v = t.b.create(OpKind::Build, {t.b.constF(1.5), t.b.constF(-2.0)}, {F1})->result();
  t.b.setLoc({9, 1});
  Value* ok = t.b.binary(OpKind::Lt, t.p(2), t.b.constI(10));
  Operation* as = t.b.create(OpKind::Assert, {ok, t.p(2), t.b.constI(10)}, {});
  as->s = "k = {} must be below {}";
  t.b.ret({m, v});
  auto r = run(t, {vec({1, 2}), vec({3, 4}), RtValue::i64(0)});
  CHECK(r[0].shape == std::vector<int64_t>{2, 2});
  CHECK(r[0].values() == std::vector<double>{1, 2, 3, 4});
  CHECK(formatRtValue(r[1]) == "[1.5, -2.0]");
  CHECK(errorOf(t, {vec({1, 2}), vec({3, 4, 5}), RtValue::i64(0)}).find("2:5: array literal") == 0);
  CHECK(errorOf(t, {vec({1, 2}), vec({3, 4}), RtValue::i64(12)}) == "9:1: k = 12 must be below 10");
}

TEST_CASE("interpreter: tape push/pop copies arrays; print format", "[ir][interp]") {
  Fn t({F1, F, B, I}, {F1}, {"x", "y", "c", "n"});
  t.b.create(OpKind::TapePush, {t.p(0)}, {});
  Value* up = select(t.b, OpKind::Update, t.p(0), t.b.constF(7.0), {0}, {t.b.constI(0)});
  Operation* pr = t.b.create(OpKind::Print, {up, t.p(1), t.p(2), t.p(3)}, {});
  pr->s = "v";
  t.b.create(OpKind::Print, {t.b.constF(0.1)}, {});
  Value* popped = t.b.create(OpKind::TapePop, {}, {F1})->result();
  t.b.ret({popped});
  std::string out;
  auto r = run(t, {vec({1, 2}), RtValue::f64(1e300), RtValue::boolean(true), RtValue::i64(-4)}, &out);
  CHECK(r[0].values() == std::vector<double>{1, 2});
  CHECK(out == "v [7.0, 2.0]\nv 1e+300\nv true\nv -4\n0.1\n");
}
