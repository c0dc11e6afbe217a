// Code generation of structured control flow and effects through the JIT:
// if with results, counted for loops, while loops with data-dependent trip
// counts, nesting, the AD tape (a million-push round trip), print, the text
// emitters, O0 vs O3 agreement and concurrent calls from several threads.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <thread>

#include "codegen_util.h"

using namespace cgtest;
using K = chain::ir::OpKind;
using chain::ir::Type;
using chain::ir::Value;
using chain::ir::Operation;

namespace {

// for i in lo..hi: acc += f64(i)   (returns acc)
Value* sumLoop(chain::ir::Builder& b, Value* lo, Value* hi, Value* init) {
  Operation* loop = b.create(K::For, {lo, hi, init}, {Type::f64()}, 1);
  chain::ir::Block* body = loop->region(0);
  Value* i = body->addArg(Type::i64(), "i");
  Value* acc = body->addArg(Type::f64(), "acc");
  chain::ir::Block* saved = b.block();
  b.setBlock(body);
  b.yield({b.binary(K::Add, acc, b.cast(i, Type::f64()))});
  b.setBlock(saved);
  return loop->result();
}

// Collatz: steps until n == 1 (while loop with carried (n, steps)).
void buildCollatz(FnBuilder& fb) {
  auto& b = fb.b;
  Operation* w = b.create(K::While, {fb.p(0), b.constI(0)}, {Type::i64(), Type::i64()}, 2);
  chain::ir::Block* cond = w->region(0);
  Value* cn = cond->addArg(Type::i64());
  cond->addArg(Type::i64());
  b.setBlock(cond);
  b.yield({b.binary(K::Gt, cn, b.constI(1))});
  chain::ir::Block* body = w->region(1);
  Value* n = body->addArg(Type::i64());
  Value* steps = body->addArg(Type::i64());
  b.setBlock(body);
  Value* even = b.binary(K::Eq, b.binary(K::Rem, n, b.constI(2)), b.constI(0));
  Value* half = b.binary(K::Div, n, b.constI(2));
  Value* odd = b.binary(K::Add, b.binary(K::Mul, n, b.constI(3)), b.constI(1));
  b.yield({b.select(even, half, odd), b.binary(K::Add, steps, b.constI(1))});
  b.setBlock(&fb.fn->body);
  fb.ret({w->result(1)});
}

int64_t collatzRef(int64_t n) {
  int64_t s = 0;
  while (n > 1) {
    n = n % 2 == 0 ? n / 2 : 3 * n + 1;
    ++s;
  }
  return s;
}

// sum over i in 0..n, j in 0..i of sin(i) * j, as nested for loops.
void buildNested(FnBuilder& fb) {
  auto& b = fb.b;
  Operation* outer = b.create(K::For, {b.constI(0), fb.p(0), b.constF(0.0)}, {Type::f64()}, 1);
  chain::ir::Block* ob = outer->region(0);
  Value* i = ob->addArg(Type::i64());
  Value* acc = ob->addArg(Type::f64());
  b.setBlock(ob);
  Value* si = b.unary(K::Sin, b.cast(i, Type::f64()));
  Operation* inner = b.create(K::For, {b.constI(0), i, acc}, {Type::f64()}, 1);
  chain::ir::Block* ib = inner->region(0);
  Value* j = ib->addArg(Type::i64());
  Value* acc2 = ib->addArg(Type::f64());
  b.setBlock(ib);
  b.yield({b.binary(K::Add, acc2, b.binary(K::Mul, si, b.cast(j, Type::f64())))});
  b.setBlock(ob);
  b.yield({inner->result()});
  b.setBlock(&fb.fn->body);
  fb.ret({outer->result()});
}

double nestedRef(int64_t n) {
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) {
    double si = std::sin(static_cast<double>(i));
    for (int64_t j = 0; j < i; ++j) acc = acc + si * static_cast<double>(j);
  }
  return acc;
}

}  // namespace

TEST_CASE("codegen: if with results", "[codegen]") {
  FnBuilder fb("iff", {Type::f64()});
  auto& b = fb.b;
  Value* pos = b.binary(K::Gt, fb.p(0), b.constF(0.0));
  Operation* iff = b.create(K::If, {pos}, {Type::f64(), Type::i64()}, 2);
  b.setBlock(iff->region(0));
  b.yield({b.binary(K::Mul, fb.p(0), b.constF(2.0)), b.constI(1)});
  b.setBlock(iff->region(1));
  b.yield({b.unary(K::Neg, fb.p(0)), b.constI(0)});
  b.setBlock(&fb.fn->body);
  fb.ret({iff->result(0), iff->result(1)});
  Compiled c = compile(fb);
  CallResult a = c({D(3.0)});
  CHECK(a.results[0].d == 6.0);
  CHECK(a.results[1].i == 1);
  CallResult n = c({D(-4.0)});
  CHECK(n.results[0].d == 4.0);
  CHECK(n.results[1].i == 0);
}

TEST_CASE("codegen: for loop sums 1..n and runs nothing when hi <= lo", "[codegen]") {
  FnBuilder fb("sum", {Type::i64()});
  auto& b = fb.b;
  Value* hi = b.binary(K::Add, fb.p(0), b.constI(1));
  fb.ret({sumLoop(b, b.constI(1), hi, b.constF(0.0))});
  Compiled c = compile(fb);
  CHECK(c({I(10)}).results[0].d == 55.0);
  CHECK(c({I(100000)}).results[0].d == 5000050000.0);
  CHECK(c({I(0)}).results[0].d == 0.0);
  CHECK(c({I(-5)}).results[0].d == 0.0);
}

TEST_CASE("codegen: while loop with a data-dependent trip count", "[codegen]") {
  FnBuilder fb("collatz", {Type::i64()});
  buildCollatz(fb);
  Compiled c = compile(fb);
  for (int64_t n : {1, 2, 7, 27, 97, 871}) CHECK(c({I(n)}).results[0].i == collatzRef(n));
  CHECK(c({I(27)}).results[0].i == 111);
}

TEST_CASE("codegen: nested loops with an outer value used inside", "[codegen]") {
  FnBuilder fb("nested", {Type::i64()});
  buildNested(fb);
  Compiled c = compile(fb);
  for (int64_t n : {0, 1, 5, 50, 300}) CHECK(c({I(n)}).results[0].d == nestedRef(n));
}

TEST_CASE("codegen: tape push/pop round trip over a million iterations", "[codegen]") {
  FnBuilder fb("tape", {Type::i64()});
  auto& b = fb.b;
  const std::vector<Type> slotTypes{Type::f64(), Type::i64(), Type::boolean(), Type::f32()};
  // loop 1: push (0.5 * i, i, i % 3 == 0, f32(i))
  Operation* l1 = b.create(K::For, {b.constI(0), fb.p(0)}, {}, 1);
  Value* i = l1->region(0)->addArg(Type::i64());
  b.setBlock(l1->region(0));
  Value* fi = b.cast(i, Type::f64());
  b.create(K::TapePush, {b.binary(K::Mul, fi, b.constF(0.5)), i,
                         b.binary(K::Eq, b.binary(K::Rem, i, b.constI(3)), b.constI(0)),
                         b.cast(i, Type::f32())}, {});
  b.yield({});
  b.setBlock(&fb.fn->body);
  // loop 2: pop and count mismatches against k = n - 1 - j
  Operation* l2 = b.create(K::For, {b.constI(0), fb.p(0), b.constI(0)}, {Type::i64()}, 1);
  Value* j = l2->region(0)->addArg(Type::i64());
  Value* bad = l2->region(0)->addArg(Type::i64());
  b.setBlock(l2->region(0));
  Operation* pop = b.create(K::TapePop, {}, slotTypes);
  Value* k = b.binary(K::Sub, b.binary(K::Sub, fb.p(0), b.constI(1)), j);
  Value* fk = b.cast(k, Type::f64());
  Value* ok1 = b.binary(K::Eq, pop->result(0), b.binary(K::Mul, fk, b.constF(0.5)));
  Value* ok2 = b.binary(K::Eq, pop->result(1), k);
  Value* ok3 = b.binary(K::Eq, pop->result(2),
                        b.binary(K::Eq, b.binary(K::Rem, k, b.constI(3)), b.constI(0)));
  Value* ok4 = b.binary(K::Eq, pop->result(3), b.cast(k, Type::f32()));
  Value* ok = b.binary(K::And, b.binary(K::And, ok1, ok2), b.binary(K::And, ok3, ok4));
  b.yield({b.binary(K::Add, bad, b.cast(b.unary(K::Not, ok), Type::i64()))});
  b.setBlock(&fb.fn->body);
  fb.ret({l2->result()});
  for (int opt : {0, 2}) {
    chain::codegen::CodegenOptions o;
    o.optLevel = opt;
    Compiled c = compile(fb, o);
    const int64_t n = 1000000;
    CallResult r = c({I(n)});
    REQUIRE(r.status == CHAIN_OK);
    CHECK(r.results[0].i == 0);
    CHECK(r.tapeTop == 0);
    CHECK(r.tapePeak == n * 32);
    CallResult none = c({I(0)});
    CHECK(none.results[0].i == 0);
    CHECK(none.tapePeak == 0);
  }
}

TEST_CASE("codegen: print writes label and value per operand", "[codegen]") {
  FnBuilder fb("pr", {Type::f64(), Type::i64()});
  auto& b = fb.b;
  Operation* p1 = b.create(K::Print, {fb.p(0), fb.p(1)}, {});
  p1->s = "x";
  b.create(K::Print, {b.constF(0.1, Type::f32()), b.constB(true), b.constB(false)}, {});
  b.create(K::Print, {b.constF(1.0 / 3.0), b.constF(2.0), b.unary(K::Log, b.constF(-1.0))}, {});
  fb.ret({});
  Compiled c = compile(fb);
  FILE* tmp = std::tmpfile();
  REQUIRE(tmp);
  CallResult r = c({D(1.5), I(-3)}, tmp);
  CHECK(r.status == CHAIN_OK);
  std::rewind(tmp);
  std::string text;
  char buf[256];
  while (std::fgets(buf, sizeof buf, tmp)) text += buf;
  std::fclose(tmp);
  CHECK(text == "x 1.5\nx -3\n0.1\ntrue\nfalse\n0.3333333333333333\n2.0\nnan\n");
}

TEST_CASE("codegen: emitLLVM and emitAsm", "[codegen]") {
  FnBuilder fb("simple", {Type::f64(), Type::f64()});
  fb.ret({fb.b.binary(K::Add, fb.b.binary(K::Mul, fb.p(0), fb.p(1)), fb.p(0))});
  chain::codegen::CodegenOptions o;
  std::string raw = chain::codegen::emitLLVM(fb.mod, {fb.fn}, o, false);
  CHECK(raw.find("define i32 @chain.entry.simple(ptr noalias nocapture") != std::string::npos);
  CHECK(raw.find("fmul double") != std::string::npos);
  CHECK(raw.find("fast") == std::string::npos);  // no fast-math flags
  std::string opt = chain::codegen::emitLLVM(fb.mod, {fb.fn}, o, true);
  CHECK(opt.find("chain.entry.simple") != std::string::npos);
  std::string as = chain::codegen::emitAsm(fb.mod, {fb.fn}, o);
  CHECK(as.find("chain.entry.simple") != std::string::npos);
  CHECK(as.find("ret") != std::string::npos);
}

TEST_CASE("codegen: O0 and O3 give the same results", "[codegen]") {
  FnBuilder fb("nested", {Type::i64()});
  buildNested(fb);
  FnBuilder fc("collatz", {Type::i64()});
  buildCollatz(fc);
  for (int64_t n : {3, 40, 250}) {
    std::vector<double> got;
    std::vector<int64_t> steps;
    for (int opt : {0, 1, 2, 3}) {
      chain::codegen::CodegenOptions o;
      o.optLevel = opt;
      got.push_back(compile(fb, o)({I(n)}).results[0].d);
      steps.push_back(compile(fc, o)({I(n)}).results[0].i);
    }
    for (size_t k = 1; k < got.size(); ++k) {
      CHECK(got[k] == got[0]);
      CHECK(steps[k] == steps[0]);
    }
  }
}

TEST_CASE("codegen: two functions in one batch, entries called from 4 threads",
          "[codegen]") {
  FnBuilder fa("nested", {Type::i64()});
  buildNested(fa);
  FnBuilder fc("collatz", {Type::i64()});
  buildCollatz(fc);
  chain::ir::Function* collatzFn = fa.mod.add(std::move(fc.mod.functions[0]));
  auto jit = chain::codegen::JitEngine::create();
  jit->add(fa.mod, {fa.fn, collatzFn}, {});
  chain::codegen::EntryFn nested = jit->lookup("nested");
  chain::codegen::EntryFn collatz = jit->lookup("collatz");
  REQUIRE(nested);
  REQUIRE(collatz);
  CHECK(jit->lookup("missing") == nullptr);
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t n = 0; n < 200; ++n) {
        int64_t m = n + t;
        if (call(nested, {I(m)}, 1).results[0].d != nestedRef(m)) ++failures[t];
        if (call(collatz, {I(m + 1)}, 1).results[0].i != collatzRef(m + 1)) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) CHECK(f == 0);
}
