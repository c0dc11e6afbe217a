// Unit tests of the inline pass: calls at any depth are replaced by the
// callee's body (recursively), grad_call is left alone, results verify.
#include <catch2/catch.hpp>

#include <functional>

#include "ir/DiffSpec.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Inline.h"
#include "passes/Passes.h"
#include "passes/Simplify.h"

using namespace chain::ir;
using chain::passes::inlineCalls;

namespace {

const Type F = Type::f64(), I = Type::i64();

Function* newFn(Module& m, const std::string& name, std::vector<std::pair<const char*, Type>> params,
                std::vector<Type> results) {
  auto f = std::make_unique<Function>();
  f->name = name;
  f->resultTypes = std::move(results);
  for (auto& [n, t] : params) f->body.addArg(t, n);
  return m.add(std::move(f));
}

Value* call(Builder& b, const std::string& callee, std::vector<Value*> args, std::vector<Type> rts) {
  Operation* op = b.create(OpKind::Call, std::move(args), rts);
  op->s = callee;
  return op->result();
}

int countKind(const Block& b, OpKind k) {
  int n = 0;
  for (auto& op : b.ops) {
    n += op->kind == k;
    for (auto& r : op->regions) n += countKind(*r, k);
  }
  return n;
}

void checkValid(const Module& m, const Function& f) {
  auto errs = verifyFunction(f, &m);
  std::string all;
  for (auto& e : errs) all += e + "\n";
  INFO(all << printFunction(f));
  CHECK(errs.empty());
}

// sq(p) = p * p;  g(a, b) = sq(a) - b
void addCallees(Module& m) {
  Function* sq = newFn(m, "sq", {{"p", F}}, {F});
  Builder sb(&sq->body);
  sb.ret({sb.binary(OpKind::Mul, sq->param(0), sq->param(0))});
  Function* g = newFn(m, "g", {{"a", F}, {"b", F}}, {F});
  Builder gb(&g->body);
  gb.ret({gb.binary(OpKind::Sub, call(gb, "sq", {g->param(0)}, {F}), g->param(1))});
}

}  // namespace

TEST_CASE("inline: two calls with different arguments", "[passes][inline]") {
  Module m;
  addCallees(m);
  Function* f = newFn(m, "main", {{"x", F}, {"y", F}}, {F});
  Builder b(&f->body);
  Value* c1 = call(b, "g", {f->param(0), f->param(1)}, {F});
  Value* c2 = call(b, "g", {f->param(1), b.constF(2.0)}, {F});
  b.ret({b.binary(OpKind::Add, c1, c2)});
  inlineCalls(m, *f);
  checkValid(m, *f);
  CHECK(countKind(f->body, OpKind::Call) == 0);
  CHECK(printFunction(*f) ==
        "fn @main(%x: f64, %y: f64) -> (f64) {\n"
        "  %0 = mul %x, %x : f64\n"
        "  %1 = sub %0, %y : f64\n"
        "  %2 = constf 2.0 : f64\n"
        "  %3 = mul %y, %y : f64\n"
        "  %4 = sub %3, %2 : f64\n"
        "  %5 = add %1, %4 : f64\n"
        "  return %5\n"
        "}\n");
  // The callees are unchanged.
  CHECK(countKind(m.lookup("g")->body, OpKind::Call) == 1);
}

TEST_CASE("inline: calls inside regions, several results, grad_call kept", "[passes][inline]") {
  Module m;
  addCallees(m);
  Function* two = newFn(m, "two", {{"v", F}}, {F, F});
  Builder tb(&two->body);
  tb.ret({two->param(0), tb.unary(OpKind::Neg, two->param(0))});
  Function* f = newFn(m, "main", {{"x", F}, {"n", I}}, {F});
  Builder b(&f->body);
  Operation* loop = b.create(OpKind::For, {b.constI(0), f->param(1), f->param(0)}, {F}, 1);
  loop->region(0)->addArg(I, "i");
  Value* acc = loop->region(0)->addArg(F, "acc");
  Builder in(loop->region(0));
  Operation* t = in.create(OpKind::Call, {acc}, {F, F});
  t->s = "two";
  in.yield({call(in, "g", {t->result(1), t->result(0)}, {F})});
  Operation* gc = b.create(OpKind::GradCall, {loop->result()}, {F});
  gc->s = "sq";
  gc->ints = encodeLevels({{DiffKind::Grad, {0}}});
  b.ret({gc->result()});
  inlineCalls(m, *f);
  checkValid(m, *f);
  CHECK(countKind(f->body, OpKind::Call) == 0);
  CHECK(countKind(f->body, OpKind::GradCall) == 1);
  CHECK(printFunction(*f) ==
        "fn @main(%x: f64, %n: i64) -> (f64) {\n"
        "  %0 = consti 0 : i64\n"
        "  %1 = for %0, %n, %x : f64 {\n"
        "  ^(%i: i64, %acc: f64):\n"
        "    %2 = neg %acc : f64\n"
        "    %3 = mul %2, %2 : f64\n"
        "    %4 = sub %3, %acc : f64\n"
        "    yield %4\n"
        "  }\n"
        "  %5 = grad_call @sq(%1) grad wrt=[0] : f64\n"
        "  return %5\n"
        "}\n");
}

TEST_CASE("registry: inline then simplify, in pipeline order", "[passes][registry]") {
  const auto& reg = chain::passes::registry();
  REQUIRE(reg.size() >= 2);
  CHECK(reg[0].name == "inline");
  CHECK(reg[1].name == "simplify");
  CHECK(chain::passes::findPass("simplify") == &reg[1]);
  CHECK(chain::passes::findPass("nope") == nullptr);
  Module m;
  addCallees(m);
  Function* f = newFn(m, "main", {{"x", F}}, {F});
  Builder b(&f->body);
  Value* c1 = call(b, "sq", {f->param(0)}, {F});
  Value* c2 = call(b, "sq", {f->param(0)}, {F});  // same value: CSE after inlining
  b.ret({b.binary(OpKind::Add, c1, c2)});
  reg[0].run(m, *f);
  reg[1].run(m, *f);
  checkValid(m, *f);
  CHECK(printFunction(*f) ==
        "fn @main(%x: f64) -> (f64) {\n"
        "  %0 = mul %x, %x : f64\n"
        "  %1 = add %0, %0 : f64\n"
        "  return %1\n"
        "}\n");
}
