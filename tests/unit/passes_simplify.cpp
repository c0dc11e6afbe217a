// Unit tests of the simplify pass: constant folding (and what must not be
// folded), exact identities, constant control flow, forwarding of region
// results, scoped CSE and dead code elimination. Every result is verified.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "ir/Philox.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Simplify.h"

using namespace chain::ir;
using chain::passes::simplify;

namespace {

struct Fn {
  Module m;
  Function* f;
  Builder b;
  Fn(std::vector<Type> params, std::vector<Type> results,
     std::vector<const char*> names = {"x", "y", "n", "c"}) {
    auto fn = std::make_unique<Function>();
    fn->name = "f";
    fn->resultTypes = std::move(results);
    for (size_t i = 0; i < params.size(); ++i) fn->body.addArg(params[i], names[i]);
    f = m.add(std::move(fn));
    b.setBlock(&f->body);
  }
  Value* p(size_t i) const { return f->param(i); }
  std::string run() {
    simplify(m, *f);
    auto errs = verifyFunction(*f, &m);
    std::string all;
    for (auto& e : errs) all += e + "\n";
    INFO(all << printFunction(*f));
    CHECK(errs.empty());
    return printFunction(*f);
  }
};

const Type F = Type::f64(), I = Type::i64(), B = Type::boolean();

}  // namespace

TEST_CASE("simplify: constant folding", "[passes][simplify]") {
  Fn t({}, {F, I, B, F, I});
  Value* e = t.b.unary(OpKind::Exp, t.b.constF(0.0));
  Value* m = t.b.binary(OpKind::Mul, t.b.constI(2), t.b.constI(3));
  Value* c = t.b.binary(OpKind::Lt, t.b.constF(1.5), t.b.constF(2.0));
  Value* cast = t.b.cast(t.b.binary(OpKind::Div, t.b.constI(-7), t.b.constI(2)), F);
  Value* r = t.b.binary(OpKind::Rem, t.b.constI(-7), t.b.constI(2));
  t.b.ret({e, m, t.b.create(OpKind::Not, {c}, {B})->result(), cast, r});
  CHECK(t.run() ==
        "fn @f() -> (f64, i64, bool, f64, i64) {\n"
        "  %0 = constf 1.0 : f64\n"
        "  %1 = consti 6 : i64\n"
        "  %2 = constf -3.0 : f64\n"
        "  %3 = consti -1 : i64\n"
        "  %4 = constb false : bool\n"
        "  return %0, %1, %4, %2, %3\n"
        "}\n");
}

TEST_CASE("simplify: float folding uses the operand precision", "[passes][simplify]") {
  Fn t({}, {Type::f32(), I});
  Value* a = t.b.constF(static_cast<float>(0.1), Type::f32());
  Value* s = t.b.binary(OpKind::Add, a, t.b.constF(static_cast<float>(0.2), Type::f32()));
  Value* trunc = t.b.cast(t.b.constF(-2.75), I);
  t.b.ret({s, trunc});
  t.run();
  REQUIRE(t.f->body.ops.size() == 3);
  CHECK(t.f->body.ops[0]->f == static_cast<double>(0.1f + 0.2f));
  CHECK(t.f->body.ops[1]->i == -2);
}

TEST_CASE("simplify: random numbers of constants fold to the generator's value", "[passes][simplify]") {
  Fn t({I}, {I, F, Type::f32(), F});
  Value* k = t.b.constI(42);
  Value* mix = t.b.create(OpKind::RandMix, {k, t.b.constI(0)}, {I})->result();
  Value* u = t.b.create(OpKind::RandUniform, {k, t.b.constI(1)}, {F})->result();
  Value* z = t.b.create(OpKind::RandNormal, {mix, t.b.constI(0)}, {Type::f32()})->result();
  Value* open = t.b.create(OpKind::RandUniform, {t.p(0), t.b.constI(1)}, {F})->result();
  t.b.ret({mix, u, z, open});
  t.run();
  const Operation* ret = t.f->body.terminator();
  CHECK(ret->operand(0)->def->i == chain::philox::mixKey(42, 0));
  CHECK(ret->operand(1)->def->f == chain::philox::uniform01(42, 1));
  CHECK(ret->operand(2)->def->f == double(chain::philox::normal01f(chain::philox::mixKey(42, 0), 0)));
  CHECK(ret->operand(3)->def->kind == OpKind::RandUniform);  // the key is not a constant
}

TEST_CASE("simplify: traps, NaN and infinity are left to run time", "[passes][simplify]") {
  Fn t({}, {I, I, F, F, B, I});
  Value* d0 = t.b.binary(OpKind::Div, t.b.constI(7), t.b.constI(0));
  Value* ov = t.b.binary(OpKind::Rem, t.b.constI(INT64_MIN), t.b.constI(-1));
  Value* lg = t.b.unary(OpKind::Log, t.b.constF(-1.0));
  Value* inf = t.b.binary(OpKind::Div, t.b.constF(1.0), t.b.constF(0.0));
  Value* nanCmp = t.b.binary(OpKind::Ne, t.b.constF(std::nan("")), t.b.constF(1.0));
  Value* big = t.b.cast(t.b.constF(1e19), I);
  t.b.ret({d0, ov, lg, inf, nanCmp, big});
  std::string text = t.run();
  CHECK(text.find("div %") != std::string::npos);
  CHECK(text.find("rem %") != std::string::npos);
  CHECK(text.find("log %") != std::string::npos);
  CHECK(text.find("= div %") != std::string::npos);
  CHECK(text.find("ne %") != std::string::npos);
  CHECK(text.find("cast %") != std::string::npos);
  CHECK(text.find("inf") == std::string::npos);
}

TEST_CASE("simplify: exact identities only", "[passes][simplify]") {
  Fn t({F, F, I, B}, {F, F, F, F, F, F, F, F, I, I, F, F});
  Value *x = t.p(0), *n = t.p(2), *c = t.p(3);
  auto& b = t.b;
  t.b.ret({b.binary(OpKind::Mul, x, b.constF(1.0)),       // x
           b.binary(OpKind::Mul, b.constF(1.0), x),       // x
           b.binary(OpKind::Div, x, b.constF(1.0)),       // x
           b.binary(OpKind::Sub, x, b.constF(0.0)),       // x
           b.binary(OpKind::Add, x, b.constF(-0.0)),      // x
           b.binary(OpKind::Add, x, b.constF(0.0)),       // kept: -0.0 + 0.0 = +0.0
           b.binary(OpKind::Mul, x, b.constF(0.0)),       // kept: NaN, inf
           b.binary(OpKind::Sub, x, b.constF(-0.0)),      // kept
           b.binary(OpKind::Add, b.constI(0), n),         // n
           b.binary(OpKind::Mul, n, b.constI(0)),         // 0
           b.unary(OpKind::Neg, b.unary(OpKind::Neg, x)),  // x
           b.select(c, t.p(1), t.p(1))});                 // y
  CHECK(t.run() ==
        "fn @f(%x: f64, %y: f64, %n: i64, %c: bool) -> (f64, f64, f64, f64, f64, f64, f64, f64, "
        "i64, i64, f64, f64) {\n"
        "  %0 = constf 0.0 : f64\n"
        "  %1 = constf -0.0 : f64\n"
        "  %2 = add %x, %0 : f64\n"
        "  %3 = mul %x, %0 : f64\n"
        "  %4 = sub %x, %1 : f64\n"
        "  %5 = consti 0 : i64\n"
        "  return %x, %x, %x, %x, %x, %2, %3, %4, %n, %5, %x, %y\n"
        "}\n");
}

TEST_CASE("simplify: stop_gradient stays, effects are not merged", "[passes][simplify]") {
  Fn t({F}, {F});
  Value* s = t.b.unary(OpKind::StopGradient, t.p(0));
  t.b.create(OpKind::Print, {s}, {});
  t.b.create(OpKind::Print, {s}, {});
  t.b.ret({s});
  CHECK(t.run() ==
        "fn @f(%x: f64) -> (f64) {\n"
        "  %0 = stop_gradient %x : f64\n"
        "  print \"\", %0\n"
        "  print \"\", %0\n"
        "  return %0\n"
        "}\n");
}

TEST_CASE("simplify: CSE, commutative and scoped", "[passes][simplify]") {
  Fn t({F, F, I}, {F});
  Value *x = t.p(0), *y = t.p(1);
  auto& b = t.b;
  Value* a = b.binary(OpKind::Mul, x, y);
  Value* a2 = b.binary(OpKind::Mul, y, x);  // commutative: same as a
  Value* s1 = b.binary(OpKind::Sub, x, y);
  Value* s2 = b.binary(OpKind::Sub, y, x);  // not commutative: kept
  Operation* loop = b.create(OpKind::For, {b.constI(0), t.p(2), a}, {F}, 1);
  loop->region(0)->addArg(I, "i");
  Value* acc = loop->region(0)->addArg(F, "acc");
  Builder in(loop->region(0));
  Value* inner = in.binary(OpKind::Mul, x, y);  // reuses the outer x*y
  Value* only = in.binary(OpKind::Add, x, y);   // defined in the loop only
  in.yield({in.binary(OpKind::Add, in.binary(OpKind::Add, acc, inner), only)});
  Value* after = b.binary(OpKind::Add, x, y);  // must not reuse the loop's value
  Value* sum = b.binary(OpKind::Add, b.binary(OpKind::Add, a2, s1), s2);
  b.ret({b.binary(OpKind::Add, b.binary(OpKind::Add, sum, loop->result()), after)});
  CHECK(t.run() ==
        "fn @f(%x: f64, %y: f64, %n: i64) -> (f64) {\n"
        "  %0 = mul %x, %y : f64\n"
        "  %1 = sub %x, %y : f64\n"
        "  %2 = sub %y, %x : f64\n"
        "  %3 = consti 0 : i64\n"
        "  %4 = for %3, %n, %0 : f64 {\n"
        "  ^(%i: i64, %acc: f64):\n"
        "    %5 = add %x, %y : f64\n"
        "    %6 = add %acc, %0 : f64\n"
        "    %7 = add %6, %5 : f64\n"
        "    yield %7\n"
        "  }\n"
        "  %8 = add %x, %y : f64\n"
        "  %9 = add %0, %1 : f64\n"
        "  %10 = add %9, %2 : f64\n"
        "  %11 = add %10, %4 : f64\n"
        "  %12 = add %11, %8 : f64\n"
        "  return %12\n"
        "}\n");
}

TEST_CASE("simplify: dead code, dead loops, loops with effects stay", "[passes][simplify]") {
  Fn t({F, I}, {F}, {"x", "n"});
  Value *x = t.p(0), *n = t.p(1);
  auto& b = t.b;
  b.unary(OpKind::Exp, x);                                 // unused
  b.binary(OpKind::Div, n, b.constI(0));                   // unused, but traps: kept (SPEC §4)
  Operation* dead = b.create(OpKind::For, {b.constI(0), n, x}, {F}, 1);
  dead->region(0)->addArg(I, "i");
  Value* a = dead->region(0)->addArg(F, "a");
  Builder d(dead->region(0));
  d.yield({d.unary(OpKind::Sin, a)});
  Operation* live = b.create(OpKind::For, {b.constI(0), n}, {}, 1);
  live->region(0)->addArg(I, "j");
  Builder l(live->region(0));
  l.create(OpKind::Print, {live->region(0)->arg(0)}, {});
  l.yield({});
  b.ret({x});
  CHECK(t.run() ==
        "fn @f(%x: f64, %n: i64) -> (f64) {\n"
        "  %0 = consti 0 : i64\n"
        "  %1 = div %n, %0 : i64\n"
        "  for %0, %n {\n"
        "  ^(%j: i64):\n"
        "    print \"\", %j\n"
        "    yield\n"
        "  }\n"
        "  return %x\n"
        "}\n");
}

TEST_CASE("simplify: dead loop-carried values are removed", "[passes][simplify]") {
  Fn t({F, I}, {F}, {"x", "n"});
  Value *x = t.p(0), *n = t.p(1);
  Operation* loop = t.b.create(OpKind::For, {t.b.constI(0), n, x, t.b.constI(0)}, {F, I}, 1);
  Block* body = loop->region(0);
  body->addArg(I, "i");
  Value* a = body->addArg(F, "a");
  Value* cnt = body->addArg(I, "cnt");
  Builder in(body);
  Value* next = in.binary(OpKind::Add, cnt, in.constI(1));  // only feeds itself
  in.yield({in.unary(OpKind::Sin, a), next});
  t.b.ret({loop->result(0)});
  CHECK(t.run() ==
        "fn @f(%x: f64, %n: i64) -> (f64) {\n"
        "  %0 = consti 0 : i64\n"
        "  %1 = for %0, %n, %x : f64 {\n"
        "  ^(%i: i64, %a: f64):\n"
        "    %2 = sin %a : f64\n"
        "    yield %2\n"
        "  }\n"
        "  return %1\n"
        "}\n");
}

TEST_CASE("simplify: a carried value used by a live one stays", "[passes][simplify]") {
  Fn t({F, I}, {F}, {"x", "n"});
  Value *x = t.p(0), *n = t.p(1);
  Operation* loop = t.b.create(OpKind::For, {t.b.constI(0), n, x, x}, {F, F}, 1);
  Block* body = loop->region(0);
  body->addArg(I, "i");
  Value* a = body->addArg(F, "a");
  Value* bb = body->addArg(F, "b");
  Builder in(body);
  in.yield({in.binary(OpKind::Mul, a, bb), in.unary(OpKind::Cos, bb)});
  t.b.ret({loop->result(0)});
  std::string text = t.run();
  CHECK(text.find("for %0, %n, %x, %x : (f64, f64)") != std::string::npos);
  CHECK(text.find("cos %b") != std::string::npos);
}

TEST_CASE("simplify: constant conditions and bounds", "[passes][simplify]") {
  Fn t({F, I}, {F, F, F}, {"x", "n"});
  Value *x = t.p(0), *n = t.p(1);
  auto& b = t.b;
  Operation* iff = b.create(OpKind::If, {b.binary(OpKind::Lt, b.constI(1), b.constI(2))}, {F}, 2);
  Builder th(iff->region(0));
  th.yield({th.unary(OpKind::Exp, x)});
  Builder el(iff->region(1));
  el.yield({el.unary(OpKind::Log, x)});
  Operation* never = b.create(OpKind::For, {b.constI(5), b.constI(5), x}, {F}, 1);
  never->region(0)->addArg(I, "i");
  Value* a = never->region(0)->addArg(F, "a");
  Builder nb(never->region(0));
  nb.create(OpKind::Print, {a}, {});
  nb.yield({a});
  Operation* w = b.create(OpKind::While, {x}, {F}, 2);
  w->region(0)->addArg(F, "v");
  Builder wc(w->region(0));
  wc.yield({wc.constB(false)});
  Value* v = w->region(1)->addArg(F, "v");
  Builder wb(w->region(1));
  wb.yield({wb.binary(OpKind::Add, v, v)});
  b.ret({iff->result(), never->result(), w->result()});
  (void)n;
  CHECK(t.run() ==
        "fn @f(%x: f64, %n: i64) -> (f64, f64, f64) {\n"
        "  %0 = exp %x : f64\n"
        "  return %0, %x, %x\n"
        "}\n");
}

TEST_CASE("simplify: region results that forward outer values", "[passes][simplify]") {
  Fn t({F, F, I, B}, {F, F, F});
  Value *x = t.p(0), *y = t.p(1), *n = t.p(2), *c = t.p(3);
  auto& b = t.b;
  Operation* iff = b.create(OpKind::If, {c}, {F, F}, 2);
  Builder th(iff->region(0));
  th.yield({x, th.unary(OpKind::Exp, y)});
  Builder el(iff->region(1));
  el.yield({x, y});
  Operation* loop = b.create(OpKind::For, {b.constI(0), n, y, x}, {F, F}, 1);
  loop->region(0)->addArg(I, "i");
  Value* a = loop->region(0)->addArg(F, "a");
  Value* same = loop->region(0)->addArg(F, "same");
  Builder in(loop->region(0));
  in.yield({in.binary(OpKind::Add, a, same), same});
  b.ret({iff->result(0), iff->result(1), b.binary(OpKind::Add, loop->result(0), loop->result(1))});
  CHECK(t.run() ==
        "fn @f(%x: f64, %y: f64, %n: i64, %c: bool) -> (f64, f64, f64) {\n"
        "  %0 = if %c : f64 {\n"
        "    %1 = exp %y : f64\n"
        "    yield %1\n"
        "  } else {\n"
        "    yield %y\n"
        "  }\n"
        "  %2 = consti 0 : i64\n"
        "  %3 = for %2, %n, %y : f64 {\n"
        "  ^(%i: i64, %a: f64):\n"
        "    %4 = add %a, %x : f64\n"
        "    yield %4\n"
        "  }\n"
        "  %5 = add %3, %x : f64\n"
        "  return %x, %0, %5\n"
        "}\n");
}
