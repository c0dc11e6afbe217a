// Unit tests of the IR printer: exact text of a function with a for loop and
// an if, value naming rules, attributes and float formatting.
#include <catch2/catch.hpp>

#include <cmath>

#include "ir/DiffSpec.h"
#include "ir/Printer.h"

using namespace chain::ir;

namespace {

// fn f(x: f64, n: i64) -> f64 with a for loop carrying two values and an if.
std::unique_ptr<Function> loopAndIf() {
  auto f = std::make_unique<Function>();
  f->name = "f";
  f->resultTypes = {Type::f64()};
  Value* x = f->body.addArg(Type::f64(), "x");
  Value* n = f->body.addArg(Type::i64(), "n");
  Builder b(&f->body);
  Value* c0 = b.constI(0);
  Value* xx = b.binary(OpKind::Mul, x, x);
  Value* k = b.constF(2.5);
  Operation* loop = b.create(OpKind::For, {c0, n, xx, k}, {Type::f64(), Type::f64()}, 1);
  Block* body = loop->region(0);
  body->addArg(Type::i64(), "i");
  Value* a = body->addArg(Type::f64(), "a");
  Value* bb = body->addArg(Type::f64(), "b");
  Builder in(body);
  in.yield({in.binary(OpKind::Add, a, bb), bb});
  Value* cond = b.binary(OpKind::Lt, loop->result(0), x);
  Operation* iff = b.create(OpKind::If, {cond}, {Type::f64()}, 2);
  Builder t(iff->region(0));
  t.yield({loop->result(0)});
  Builder e(iff->region(1));
  e.yield({e.unary(OpKind::Neg, loop->result(1))});
  b.ret({iff->result()});
  return f;
}

}  // namespace

TEST_CASE("printer: function with a for loop and an if", "[ir][printer]") {
  auto f = loopAndIf();
  const char* expected =
      "fn @f(%x: f64, %n: i64) -> (f64) {\n"
      "  %0 = consti 0 : i64\n"
      "  %1 = mul %x, %x : f64\n"
      "  %2 = constf 2.5 : f64\n"
      "  %3:2 = for %0, %n, %1, %2 : (f64, f64) {\n"
      "  ^(%i: i64, %a: f64, %b: f64):\n"
      "    %4 = add %a, %b : f64\n"
      "    yield %4, %b\n"
      "  }\n"
      "  %5 = lt %3#0, %x : bool\n"
      "  %6 = if %5 : f64 {\n"
      "    yield %3#0\n"
      "  } else {\n"
      "    %7 = neg %3#1 : f64\n"
      "    yield %7\n"
      "  }\n"
      "  return %6\n"
      "}\n";
  CHECK(printFunction(*f) == expected);
}

TEST_CASE("printer: duplicate or missing source names fall back to numbers", "[ir][printer]") {
  Function f;
  f.name = "g";
  f.resultTypes = {Type::f64()};
  Value* x = f.body.addArg(Type::f64(), "x");
  Value* y = f.body.addArg(Type::f64(), "");
  Builder b(&f.body);
  Operation* loop = b.create(OpKind::For, {b.constI(0), b.constI(3), x}, {Type::f64()}, 1);
  loop->region(0)->addArg(Type::i64(), "x");  // same name as the parameter
  Value* c = loop->region(0)->addArg(Type::f64(), "c");
  Builder in(loop->region(0));
  in.yield({in.binary(OpKind::Add, c, y)});
  b.ret({loop->result()});
  std::string text = printFunction(f);
  CHECK(text.find("fn @g(%0: f64, %1: f64) -> (f64) {") == 0);
  CHECK(text.find("^(%5: i64, %c: f64):") != std::string::npos);
  CHECK(text.find("%6 = add %c, %1 : f64") != std::string::npos);
}

TEST_CASE("printer: attributes", "[ir][printer]") {
  Function f;
  f.name = "h";
  f.resultTypes = {Type::f64(), Type::f64()};
  Value* x = f.body.addArg(Type::f64(), "x");
  Builder b(&f.body);
  b.setLoc({3, 7});
  Value* t = b.constB(true);
  Value* i = b.cast(b.constI(-4), Type::f64());
  Operation* pr = b.create(OpKind::Print, {x, t}, {});
  pr->s = "loss \"q\"";
  Operation* call = b.create(OpKind::Call, {x}, {Type::f64()});
  call->s = "sq";
  Operation* g = b.create(OpKind::GradCall, {x, i}, {Type::f64(), Type::f64(), Type::f64()});
  g->s = "loss";
  g->ints = encodeLevels({{DiffKind::ValueAndGrad, {0, 1}}});
  b.ret({call->result(), g->result(2)});
  std::string text = printFunction(f);
  CHECK(text.find("  %0 = constb true : bool\n") != std::string::npos);
  CHECK(text.find("  %1 = consti -4 : i64\n") != std::string::npos);
  CHECK(text.find("  %2 = cast %1 : i64 -> f64\n") != std::string::npos);
  CHECK(text.find("  print \"loss \\\"q\\\"\", %x, %0\n") != std::string::npos);
  CHECK(text.find("  %3 = call @sq(%x) : f64\n") != std::string::npos);
  CHECK(text.find("  %4:3 = grad_call @loss(%x, %2) vgrad wrt=[0,1] : (f64, f64, f64)\n") !=
        std::string::npos);
  CHECK(text.find("  return %3, %4#2\n") != std::string::npos);
  CHECK(text.find("loc(") == std::string::npos);
  PrintOptions opts;
  opts.showLoc = true;
  CHECK(printFunction(f, opts).find("%0 = constb true : bool  loc(3:7)\n") != std::string::npos);
}

TEST_CASE("printer: float constants round-trip and always look like floats", "[ir][printer]") {
  CHECK(formatFloat(2.5) == "2.5");
  CHECK(formatFloat(1.0) == "1.0");
  CHECK(formatFloat(-3.0) == "-3.0");
  CHECK(formatFloat(0.1) == "0.1");
  CHECK(formatFloat(-0.0) == "-0.0");
  CHECK(formatFloat(1e300) == "1e+300");
  CHECK(formatFloat(1.0 / 3.0) == "0.3333333333333333");
  CHECK(formatFloat(std::nan("")) == "nan");
  CHECK(formatFloat(INFINITY) == "inf");
  CHECK(formatFloat(-INFINITY) == "-inf");
  CHECK(formatFloat(static_cast<float>(0.1), Type::f32()) == "0.1");
  CHECK(formatFloat(123456789.0) == "123456789.0");
}

TEST_CASE("printer: module and a single op", "[ir][printer]") {
  Module m;
  for (const char* name : {"a", "b"}) {
    auto f = std::make_unique<Function>();
    f->name = name;
    Builder b(&f->body);
    b.ret({});
    m.add(std::move(f));
  }
  CHECK(printModule(m) == "fn @a() -> () {\n  return\n}\n\nfn @b() -> () {\n  return\n}\n");
  auto f = loopAndIf();
  CHECK(printOp(*f->body.ops[1]) == "%0 = mul %<undefined>, %<undefined> : f64\n");
}
