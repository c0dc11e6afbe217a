// Unit tests of the IR printer on array ops: exact text of a function with a
// map and a reduce, and the in-place syntax of every array op.
#include <catch2/catch.hpp>

#include "array_ir_util.h"
#include "ir/Printer.h"

using namespace arrtest;

namespace {
const Type F = Type::f64(), I = Type::i64(), B = Type::boolean();
const Type F1 = arr(Scalar::F64, 1), F2 = arr(Scalar::F64, 2);
}  // namespace

TEST_CASE("printer: map and reduce", "[ir][printer][arrays]") {
  // f(x) = logsumexp-like: m = [exp(x[i]) for i]; sum(m[i] * 2 for i)
  Fn t({F1}, {F}, {"x"});
  Value* n = dim(t.b, t.p(0), 0);
  Value* m = map(t.b, {n}, [&](Builder& in, const std::vector<Value*>& i) {
    return in.unary(OpKind::Exp, index(in, t.p(0), {i[0]}));
  });
  Value* s = reduce(t.b, "sum", t.b.constI(0), n, [&](Builder& in, Value* i) {
    return in.binary(OpKind::Mul, index(in, m, {i}), in.constF(2.0));
  });
  t.b.ret({s});
  CHECK(printFunction(*t.f) ==
        "fn @f(%x: f64[?]) -> (f64) {\n"
        "  %0 = dim %x, 0 : i64\n"
        "  %1 = map (%0) : f64[?] {\n"
        "  ^(%i: i64):\n"
        "    %2 = index %x, %i : f64\n"
        "    %3 = exp %2 : f64\n"
        "    yield %3\n"
        "  }\n"
        "  %4 = consti 0 : i64\n"
        "  %5 = reduce sum (%4, %0) : f64 {\n"
        "  ^(%r: i64):\n"
        "    %6 = index %1, %r : f64\n"
        "    %7 = constf 2.0 : f64\n"
        "    %8 = mul %6, %7 : f64\n"
        "    yield %8\n"
        "  }\n"
        "  return %5\n"
        "}\n");
}

TEST_CASE("printer: selections, fill, build, matmul, assert", "[ir][printer][arrays]") {
  Fn t({F2, I, I, F1}, {F2}, {"A", "i", "j", "v"});
  Value* s1 = select(t.b, OpKind::Slice, t.p(0), nullptr, {0, 2}, {t.p(1)});
  Value* s2 = select(t.b, OpKind::Slice, t.p(0), nullptr, {1, 0}, {t.p(1), t.p(2), t.p(1)});
  Value* up = select(t.b, OpKind::Update, t.p(0), t.b.constF(1.0), {0, 0}, {t.p(1), t.p(2)});
  Value* ad = select(t.b, OpKind::AddAt, up, t.p(3), {0, 2}, {t.p(1)});
  Value* fl = t.b.create(OpKind::Fill, {t.b.constF(0.0), t.p(1), t.p(2)}, {F2})->result();
  Value* bd = t.b.create(OpKind::Build, {s1, s2}, {F2})->result();
  Value* mm = t.b.create(OpKind::MatMul, {ad, fl}, {F2})->result();
  Value* tr = t.b.create(OpKind::Transpose, {mm}, {F2})->result();
  Value* c = t.b.binary(OpKind::Lt, t.p(1), t.p(2));
  t.b.create(OpKind::Assert, {c, t.p(1), t.p(2)}, {})->s = "i = {} >= {}";
  (void)bd;
  t.b.ret({tr});
  CHECK(printFunction(*t.f) ==
        "fn @f(%A: f64[?,?], %i: i64, %j: i64, %v: f64[?]) -> (f64[?,?]) {\n"
        "  %0 = slice %A [%i, :] : f64[?]\n"
        "  %1 = slice %A [%i..%j, %i] : f64[?]\n"
        "  %2 = constf 1.0 : f64\n"
        "  %3 = update %A [%i, %j] = %2 : f64[?,?]\n"
        "  %4 = add_at %3 [%i, :] += %v : f64[?,?]\n"
        "  %5 = constf 0.0 : f64\n"
        "  %6 = fill %5 (%i, %j) : f64[?,?]\n"
        "  %7 = build %0, %1 : f64[?,?]\n"
        "  %8 = matmul %4, %6 : f64[?,?]\n"
        "  %9 = transpose %8 : f64[?,?]\n"
        "  %10 = lt %i, %j : bool\n"
        "  assert %10 \"i = {} >= {}\", %i, %j\n"
        "  return %9\n"
        "}\n");
}
