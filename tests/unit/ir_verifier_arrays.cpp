// Unit tests of the verifier's array type rules: well-formed array IR passes
// (also arrays through select/if/for/tape), and each kind of malformed array
// op is reported.
#include <catch2/catch.hpp>

#include "array_ir_util.h"
#include "ir/Verifier.h"

using namespace arrtest;

namespace {

const Type F = Type::f64(), I = Type::i64(), B = Type::boolean();
const Type F1 = arr(Scalar::F64, 1), F2 = arr(Scalar::F64, 2), I1 = arr(Scalar::I64, 1);

std::string joined(const std::vector<std::string>& errs) {
  std::string s;
  for (auto& e : errs) s += e + "\n";
  return s;
}

// Builds fn f(A: f64[?,?], x: f64[?], n: i64, c: bool) with `body`, returning
// nothing useful, and returns the verifier's messages.
std::string check(const std::function<void(Fn&)>& body) {
  Fn t({F2, F1, I, B}, {}, {"A", "x", "n", "c"});
  body(t);
  t.b.ret({});
  return joined(verifyFunction(*t.f, &t.m));
}

}  // namespace

TEST_CASE("verifier: well-formed array IR", "[ir][verifier][arrays]") {
  std::string errs = check([](Fn& t) {
    Builder& b = t.b;
    Value* n = dim(b, t.p(0), 1);
    Value* m = map(b, {dim(b, t.p(0), 0), n}, [&](Builder& in, const std::vector<Value*>& i) {
      return in.binary(OpKind::Add, index(in, t.p(0), {i[0], i[1]}), index(in, t.p(1), {i[1]}));
    });
    Value* s = reduce(b, "logsumexp", b.constI(0), n, [&](Builder& in, Value* i) { return index(in, t.p(1), {i}); });
    Value* cnt = reduce(b, "max", b.constI(0), n, [&](Builder& in, Value* i) { return i; });
    select(b, OpKind::Slice, m, nullptr, {1, 0}, {b.constI(0), n, t.p(2)});
    select(b, OpKind::Update, m, s, {0, 0}, {t.p(2), cnt});
    select(b, OpKind::AddAt, m, t.p(1), {0, 2}, {t.p(2)});
    b.create(OpKind::MatMul, {m, t.p(1)}, {F1});
    b.create(OpKind::MatMul, {t.p(1), t.p(1)}, {F});
    b.create(OpKind::Transpose, {m}, {F2});
    b.create(OpKind::Fill, {b.constB(true), n}, {arr(Scalar::Bool, 1)});
    b.create(OpKind::Build, {t.p(1), t.p(1)}, {F2});
    b.create(OpKind::Assert, {t.p(3), n}, {})->s = "n = {}";
    b.select(t.p(3), m, t.p(0));
    Operation* loop = b.create(OpKind::For, {b.constI(0), n, t.p(1)}, {F1}, 1);
    loop->region(0)->addArg(I, "i");
    Value* carried = loop->region(0)->addArg(F1, "v");
    Builder in(loop->region(0));
    in.yield({carried});
    b.create(OpKind::TapePush, {loop->result()}, {});
    b.create(OpKind::TapePop, {}, {F1});
  });
  CHECK(errs == "");
}

TEST_CASE("verifier: malformed array ops", "[ir][verifier][arrays]") {
  auto has = [](const std::string& errs, const std::string& text) {
    INFO(errs);
    CHECK(errs.find(text) != std::string::npos);
  };
  has(check([](Fn& t) { dim(t.b, t.p(1), 1); }), "axis 1 out of range for rank 1");
  has(check([](Fn& t) { dim(t.b, t.p(2), 0); }), "operand must be an array");
  has(check([](Fn& t) { index(t.b, t.p(0), {t.p(2)}); }), "expects 2 indices, has 1");
  has(check([](Fn& t) { index(t.b, t.p(1), {t.p(3)}); }), "operand 1 must be i64");
  has(check([](Fn& t) { t.b.create(OpKind::Index, {t.p(1), t.p(2)}, {Type::f32()}); }), "result type f32, expected f64");
  has(check([](Fn& t) { select(t.b, OpKind::Slice, t.p(0), nullptr, {0}, {t.p(2)}); }), "1 selection kinds for an array of rank 2");
  has(check([](Fn& t) { select(t.b, OpKind::Slice, t.p(0), nullptr, {1, 2}, {t.p(2)}); }), "expects 3 operands for its selection");
  has(check([](Fn& t) { select(t.b, OpKind::Slice, t.p(0), nullptr, {0, 3}, {t.p(2)}); }), "selection kind 3");
  has(check([](Fn& t) { select(t.b, OpKind::Update, t.p(0), t.p(1), {0, 0}, {t.p(2), t.p(2)}); }),
      "value of type f64[?], the selection is f64");
  has(check([](Fn& t) { select(t.b, OpKind::AddAt, t.p(0), t.b.constF(1.0), {0, 2}, {t.p(2)}); }),
      "value of type f64, the selection is f64[?]");
  has(check([](Fn& t) {
        map(t.b, {t.p(2)}, [&](Builder& in, const std::vector<Value*>&) { return in.constF(1.0); });
        t.b.block()->ops.back()->results[0]->type = F2;
      }),
      "result type f64[?,?], expected f64[?]");
  has(check([](Fn& t) { map(t.b, {t.p(3)}, [&](Builder& in, const std::vector<Value*>&) { return in.constF(1.0); }); }),
      "operand 0 must be i64");
  has(check([](Fn& t) { map(t.b, {t.p(2)}, [&](Builder&, const std::vector<Value*>&) { return t.p(1); }); }),
      "must yield one scalar");
  has(check([](Fn& t) {
        Operation* op = t.b.create(OpKind::Map, {t.p(2)}, {F1}, 1);
        op->region(0)->addArg(F, "i");
        Builder(op->region(0)).yield({t.b.constF(0.0)});
      }),
      "arguments (f64), expected 1 i64");
  has(check([](Fn& t) { reduce(t.b, "mean", t.b.constI(0), t.p(2), [&](Builder& in, Value*) { return in.constF(1.0); }); }),
      "unknown reduction 'mean'");
  has(check([](Fn& t) { reduce(t.b, "logsumexp", t.b.constI(0), t.p(2), [&](Builder&, Value* i) { return i; }); }),
      "logsumexp needs float values");
  has(check([](Fn& t) { t.b.create(OpKind::MatMul, {t.p(0), t.p(1)}, {F2}); }), "result type f64[?,?], expected f64[?]");
  has(check([](Fn& t) { t.b.create(OpKind::MatMul, {t.p(1), t.p(2)}, {F}); }), "operands must be rank 1 or 2 arrays");
  has(check([](Fn& t) { t.b.create(OpKind::Transpose, {t.p(1)}, {F1}); }), "operand must be a rank 2 array");
  has(check([](Fn& t) { t.b.create(OpKind::Fill, {t.p(1), t.p(2)}, {F2}); }), "fill value must be a scalar");
  has(check([](Fn& t) { t.b.create(OpKind::Build, {t.p(1), t.p(0)}, {F2}); }), "element 1 has type f64[?,?]");
  has(check([](Fn& t) { t.b.create(OpKind::Build, {t.p(1)}, {F1}); }), "result type f64[?], expected f64[?,?]");
  has(check([](Fn& t) { t.b.create(OpKind::Assert, {t.p(2)}, {}); }), "condition must be a bool scalar");
  has(check([](Fn& t) { t.b.create(OpKind::Add, {t.p(1), t.p(1)}, {F1}); }), "is not a scalar");
  has(check([](Fn& t) { t.b.create(OpKind::Select, {t.p(3), t.p(1), t.p(0)}, {F1}); }), "select arms differ");
}
