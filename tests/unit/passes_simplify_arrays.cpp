// Unit tests of the simplify pass on arrays: dim folds, index(map) fusion
// (done for cheap bodies and single reads, not for an expensive map read
// many times), bounds checks that survive fusion, the small array folds and
// results that stay the same under the reference interpreter.
#include <catch2/catch.hpp>

#include <cmath>

#include "array_ir_util.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Simplify.h"

using namespace arrtest;
using chain::passes::simplify;

namespace {

const Type F = Type::f64(), I = Type::i64(), B = Type::boolean();
const Type F1 = arr(Scalar::F64, 1), F2 = arr(Scalar::F64, 2);

RtValue vec(std::vector<double> v) { return RtValue::array(Scalar::F64, {int64_t(v.size())}, v); }

void simplifyChecked(Fn& t) {
  simplify(t.m, *t.f);
  auto errs = verifyFunction(*t.f, &t.m);
  std::string all;
  for (auto& e : errs) all += e + "\n";
  INFO(all << printFunction(*t.f));
  REQUIRE(errs.empty());
}

const Operation* ret(Fn& t) { return t.f->body.terminator(); }

std::string errorOf(Fn& t, const std::vector<RtValue>& args) {
  try {
    interpret(t.m, *t.f, args);
  } catch (const InterpError& e) {
    return e.what();
  }
  return "(no error)";
}

// exp(x[i] - mx) for every i, summed: the shape of a stable logsumexp.
void buildLogSumExp(Fn& t) {
  Builder& b = t.b;
  Value* n = dim(b, t.p(0), 0);
  Value* mx = reduce(b, "max", b.constI(0), n, [&](Builder& in, Value* i) { return index(in, t.p(0), {i}); });
  Value* e = map(b, {dim(b, t.p(0), 0)}, [&](Builder& in, const std::vector<Value*>& i) {
    return in.unary(OpKind::Exp, in.binary(OpKind::Sub, index(in, t.p(0), {i[0]}), mx));
  });
  Value* s = reduce(b, "sum", b.constI(0), dim(b, e, 0), [&](Builder& in, Value* i) { return index(in, e, {i}); });
  b.ret({b.binary(OpKind::Add, b.unary(OpKind::Log, s), mx)});
}

}  // namespace

TEST_CASE("simplify arrays: dim folds", "[passes][simplify][arrays]") {
  Fn t({F2, I, I, F}, {I, I, I, I, I, I, I, I, I}, {"A", "n", "m", "v"});
  Builder& b = t.b;
  Value* fl = b.create(OpKind::Fill, {t.p(3), t.p(1), t.p(2)}, {F2})->result();
  Value* mp = map(b, {t.p(2), t.p(1)}, [&](Builder& in, const std::vector<Value*>&) { return in.constF(1.0); });
  Value* tr = b.create(OpKind::Transpose, {t.p(0)}, {F2})->result();
  Value* bd = b.create(OpKind::Build, {fl, fl, fl}, {arr(Scalar::F64, 3)})->result();
  Value* up = select(b, OpKind::Update, t.p(0), t.p(3), {0, 0}, {t.p(1), t.p(2)});
  Value* sl = select(b, OpKind::Slice, fl, nullptr, {1, 0}, {t.p(2), t.p(1), t.p(2)});
  Value* mm = b.create(OpKind::MatMul, {tr, fl}, {F2})->result();
  b.ret({dim(b, fl, 1), dim(b, mp, 0), dim(b, tr, 0), dim(b, bd, 0), dim(b, bd, 2), dim(b, up, 1),
         dim(b, sl, 0), dim(b, mm, 0), dim(b, mm, 1)});
  simplifyChecked(t);
  const Operation* r = ret(t);
  CHECK(r->operand(0) == t.p(2));
  CHECK(r->operand(1) == t.p(2));
  REQUIRE(r->operand(2)->def);
  CHECK(r->operand(2)->def->kind == OpKind::Dim);
  CHECK(r->operand(2)->def->operand(0) == t.p(0));
  CHECK(r->operand(2)->def->i == 1);
  REQUIRE(r->operand(3)->def);
  CHECK(r->operand(3)->def->kind == OpKind::ConstI);
  CHECK(r->operand(3)->def->i == 3);
  CHECK(r->operand(4) == t.p(2));
  CHECK(r->operand(5)->def->kind == OpKind::Dim);
  CHECK(r->operand(5)->def->operand(0) == t.p(0));
  CHECK(r->operand(6)->def->kind == OpKind::Sub);  // m..n -> n - m
  CHECK(r->operand(7) == r->operand(5));           // dim(A^T, 0) = dim(A, 1)
  CHECK(r->operand(8) == t.p(2));
  CHECK(countOps(t.f->body, OpKind::Fill) == 0);
  CHECK(countOps(t.f->body, OpKind::Map) == 0);
  CHECK(countOps(t.f->body, OpKind::MatMul) == 0);
}

TEST_CASE("simplify arrays: sum(exp(x[i] - m)) fuses the map away", "[passes][simplify][arrays]") {
  Fn t({F1}, {F}, {"x"});
  buildLogSumExp(t);
  std::vector<RtValue> args = {vec({1.0, -2.0, 3.5, 0.25})};
  double before = interpret(t.m, *t.f, args)[0].f;
  simplifyChecked(t);
  INFO(printFunction(*t.f));
  CHECK(countOps(t.f->body, OpKind::Map) == 0);
  CHECK(countOps(t.f->body, OpKind::Assert) == 0);  // the read is in range by construction
  CHECK(interpret(t.m, *t.f, args)[0].f == before);
  CHECK(before == Approx(std::log(std::exp(1.0) + std::exp(-2.0) + std::exp(3.5) + std::exp(0.25))));
}

TEST_CASE("simplify arrays: chained elementwise maps fuse into one", "[passes][simplify][arrays]") {
  // y = [x[i] * 2 for i]; z = [exp(y[i]) + x[i] for i]; return z
  Fn t({F1}, {F1}, {"x"});
  Builder& b = t.b;
  Value* y = map(b, {dim(b, t.p(0), 0)}, [&](Builder& in, const std::vector<Value*>& i) {
    return in.binary(OpKind::Mul, index(in, t.p(0), {i[0]}), in.constF(2.0));
  });
  Value* z = map(b, {dim(b, y, 0)}, [&](Builder& in, const std::vector<Value*>& i) {
    return in.binary(OpKind::Add, in.unary(OpKind::Exp, index(in, y, {i[0]})), index(in, t.p(0), {i[0]}));
  });
  b.ret({z});
  std::vector<RtValue> args = {vec({0.5, -1.0, 2.0})};
  auto before = interpret(t.m, *t.f, args)[0].values();
  simplifyChecked(t);
  INFO(printFunction(*t.f));
  CHECK(countOps(t.f->body, OpKind::Map) == 1);
  CHECK(countOps(t.f->body, OpKind::Assert) == 0);
  CHECK(interpret(t.m, *t.f, args)[0].values() == before);
}

TEST_CASE("simplify arrays: an expensive map read many times is not fused", "[passes][simplify][arrays]") {
  // M = [sum(exp(x[i] * x[j]) for j) for i]; sum(M[j] for i, j): every M[j]
  // is read n times; recomputing the inner sum per read would cost n^3.
  Fn t({F1}, {F}, {"x"});
  Builder& b = t.b;
  Value* n = dim(b, t.p(0), 0);
  Value* M = map(b, {n}, [&](Builder& in, const std::vector<Value*>& i) {
    return reduce(in, "sum", in.constI(0), n, [&](Builder& r, Value* j) {
      return r.unary(OpKind::Exp, r.binary(OpKind::Mul, index(r, t.p(0), {i[0]}), index(r, t.p(0), {j})));
    }, "j");
  });
  Value* s = reduce(b, "sum", b.constI(0), n, [&](Builder& in, Value*) {
    return reduce(in, "sum", in.constI(0), n, [&](Builder& r, Value* j) { return index(r, M, {j}); }, "q");
  });
  b.ret({s});
  std::vector<RtValue> args = {vec({0.1, 0.2, -0.3})};
  double before = interpret(t.m, *t.f, args)[0].f;
  simplifyChecked(t);
  INFO(printFunction(*t.f));
  CHECK(countOps(t.f->body, OpKind::Map) == 1);
  CHECK(interpret(t.m, *t.f, args)[0].f == before);
}

TEST_CASE("simplify arrays: an expensive map read once per element is fused", "[passes][simplify][arrays]") {
  Fn t({F1}, {F}, {"x"});
  Builder& b = t.b;
  Value* n = dim(b, t.p(0), 0);
  Value* M = map(b, {n}, [&](Builder& in, const std::vector<Value*>& i) {
    return reduce(in, "sum", in.constI(0), n, [&](Builder& r, Value* j) {
      return r.unary(OpKind::Exp, r.binary(OpKind::Mul, index(r, t.p(0), {i[0]}), index(r, t.p(0), {j})));
    }, "j");
  });
  Value* s = reduce(b, "sum", b.constI(0), n, [&](Builder& in, Value* i) { return index(in, M, {i}); });
  b.ret({s});
  std::vector<RtValue> args = {vec({0.1, 0.2, -0.3})};
  double before = interpret(t.m, *t.f, args)[0].f;
  simplifyChecked(t);
  INFO(printFunction(*t.f));
  CHECK(countOps(t.f->body, OpKind::Map) == 0);
  CHECK(interpret(t.m, *t.f, args)[0].f == before);
}

TEST_CASE("simplify arrays: out-of-range reads still fail after folding", "[passes][simplify][arrays]") {
  // ([exp(x[i]) for i][k], fill(1.0, n)[k], x[1..3][k])
  Fn t({F1, I}, {F, F, F}, {"x", "k"});
  Builder& b = t.b;
  b.setLoc({4, 9});
  Value* e = map(b, {dim(b, t.p(0), 0)}, [&](Builder& in, const std::vector<Value*>& i) {
    return in.unary(OpKind::Exp, index(in, t.p(0), {i[0]}));
  });
  b.setLoc({5, 3});
  Value* r0 = index(b, e, {t.p(1)});
  Value* fl = b.create(OpKind::Fill, {b.constF(1.0), b.constI(4)}, {F1})->result();
  b.setLoc({6, 3});
  Value* r1 = index(b, fl, {t.p(1)});
  Value* sl = select(b, OpKind::Slice, t.p(0), nullptr, {1}, {b.constI(1), b.constI(3)});
  b.setLoc({7, 3});
  Value* r2 = index(b, sl, {t.p(1)});
  b.ret({r0, r1, r2});
  RtValue x = vec({0.0, 1.0, 2.0, 3.0, 4.0});
  auto before = interpret(t.m, *t.f, {x, RtValue::i64(1)});
  simplifyChecked(t);
  INFO(printFunction(*t.f));
  CHECK(countOps(t.f->body, OpKind::Map) == 0);
  CHECK(countOps(t.f->body, OpKind::Fill) == 0);
  CHECK(countOps(t.f->body, OpKind::Slice) == 0);
  auto after = interpret(t.m, *t.f, {x, RtValue::i64(1)});
  CHECK(after[0].f == before[0].f);
  CHECK(after[1].f == 1.0);
  CHECK(after[2].f == 2.0);
  CHECK(errorOf(t, {x, RtValue::i64(5)}) == "5:3: index 5 is out of bounds for axis 0 of size 5");
  CHECK(errorOf(t, {x, RtValue::i64(-1)}) == "5:3: index -1 is out of bounds for axis 0 of size 5");
  CHECK(errorOf(t, {vec({0, 1, 2, 3, 4, 5, 6}), RtValue::i64(4)}) ==
        "6:3: index 4 is out of bounds for axis 0 of size 4");
  CHECK(errorOf(t, {vec({0, 1, 2, 3}), RtValue::i64(2)}) ==
        "7:3: index 2 is out of bounds for axis 0 of size 2");
  // the slice range itself is still checked: x[1..3] of a 2-element x
  CHECK(errorOf(t, {vec({0, 1}), RtValue::i64(0)}).find("range 1..3 is out of bounds for axis 0 of size 2") !=
        std::string::npos);
}

TEST_CASE("simplify arrays: small folds", "[passes][simplify][arrays]") {
  Fn t({F2, F1, I, I}, {F2, F2, F, F, F, F, I, F}, {"A", "x", "i", "j"});
  Builder& b = t.b;
  Value* whole = select(b, OpKind::Slice, t.p(0), nullptr, {2, 2}, {});
  Value* tr = b.create(OpKind::Transpose, {t.p(0)}, {F2})->result();
  Value* trtr = b.create(OpKind::Transpose, {tr}, {F2})->result();
  Value* it = index(b, tr, {t.p(2), t.p(3)});
  Value* bd = b.create(OpKind::Build, {b.constF(4.0), b.constF(5.0)}, {F1})->result();
  Value* ib = index(b, bd, {b.constI(1)});
  Value* zero = b.constI(0);
  Value* es = reduce(b, "sum", zero, zero, [&](Builder& in, Value* i) { return index(in, t.p(1), {i}); });
  Value* ep = reduce(b, "prod", b.constI(3), zero, [&](Builder& in, Value* i) { return index(in, t.p(1), {i}); });
  Value* ei = reduce(b, "max", zero, zero, [&](Builder&, Value* i) { return i; });
  Value* em = reduce(b, "max", zero, zero, [&](Builder& in, Value* i) { return index(in, t.p(1), {i}); });
  b.ret({whole, trtr, it, ib, es, ep, ei, em});
  simplifyChecked(t);
  INFO(printFunction(*t.f));
  const Operation* r = ret(t);
  CHECK(r->operand(0) == t.p(0));
  CHECK(r->operand(1) == t.p(0));
  REQUIRE(r->operand(2)->def->kind == OpKind::Index);
  CHECK(r->operand(2)->def->operand(0) == t.p(0));
  CHECK(r->operand(2)->def->operand(1) == t.p(3));
  CHECK(r->operand(2)->def->operand(2) == t.p(2));
  CHECK(r->operand(3)->def->f == 5.0);
  CHECK(r->operand(4)->def->f == 0.0);
  CHECK(r->operand(5)->def->f == 1.0);
  CHECK(r->operand(6)->def->i == INT64_MIN);
  CHECK(r->operand(7)->def->kind == OpKind::Reduce);  // -inf is left to run time
  CHECK(countOps(t.f->body, OpKind::Transpose) == 0);
  CHECK(countOps(t.f->body, OpKind::Build) == 0);
}

TEST_CASE("simplify arrays: arrays through select, if and loops", "[passes][simplify][arrays]") {
  Fn t({F1, B, I}, {F1, F1, F1}, {"x", "c", "n"});
  Builder& b = t.b;
  Value* y = map(b, {dim(b, t.p(0), 0)}, [&](Builder& in, const std::vector<Value*>& i) {
    return in.unary(OpKind::Neg, index(in, t.p(0), {i[0]}));
  });
  Value* s = b.select(b.constB(true), y, t.p(0));
  Operation* iff = b.create(OpKind::If, {t.p(1)}, {F1}, 2);
  Builder(iff->region(0)).yield({t.p(0)});
  Builder(iff->region(1)).yield({t.p(0)});
  Operation* loop = b.create(OpKind::For, {b.constI(0), t.p(2), t.p(0)}, {F1}, 1);
  loop->region(0)->addArg(I, "i");
  Value* v = loop->region(0)->addArg(F1, "v");
  Builder in(loop->region(0));
  in.yield({select(in, OpKind::AddAt, v, in.constF(1.0), {0}, {in.constI(0)})});
  b.ret({s, iff->result(), loop->result()});
  std::vector<RtValue> args = {vec({1, 2}), RtValue::boolean(false), RtValue::i64(3)};
  auto before = interpret(t.m, *t.f, args);
  simplifyChecked(t);
  INFO(printFunction(*t.f));
  REQUIRE(ret(t)->operand(0)->def);
  CHECK(ret(t)->operand(0)->def->kind == OpKind::Map);
  CHECK(ret(t)->operand(1) == t.p(0));
  CHECK(countOps(t.f->body, OpKind::If) == 0);
  auto after = interpret(t.m, *t.f, args);
  for (size_t k = 0; k < 3; ++k) CHECK(after[k].values() == before[k].values());
  CHECK(after[2].values() == std::vector<double>{4, 2});
}
