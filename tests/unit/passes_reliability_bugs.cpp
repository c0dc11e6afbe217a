// Regression tests for the reliability bugs of issue 5 at the IR level:
// * simplify's DCE removed an unused i64 div/rem whose divisor may be zero,
//   so a program that must fail at run time (SPEC §4) returned normally;
//   dead divisions by a safe constant are still removed, and folding and CSE
//   of divisions still work;
// * full inlining is exponential in the call depth (g_i calls g_{i-1}
//   twice): inlinedOpCount computes the result's size without cloning and
//   inlineCalls refuses a result above kMaxInlinedOps with a CompileError.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "chain/chain.h"
#include "frontend/Frontend.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Inline.h"
#include "passes/ReverseAD.h"
#include "passes/Simplify.h"

using namespace chain;
using ir::OpKind;
using ir::RtValue;

namespace {

std::unique_ptr<ir::Module> lowered(const std::string& src) {
  DiagEngine diag("rel.chain", &src);
  auto prog = frontend::parse(src, diag);
  if (!diag.hasErrors()) frontend::check(*prog, diag);
  INFO(diag.render());
  REQUIRE(!diag.hasErrors());
  return frontend::lower(*prog);
}

std::unique_ptr<ir::Function> simplified(ir::Module& m, const std::string& name) {
  auto f = ir::cloneFunction(*m.lookup(name));
  passes::inlineCalls(m, *f);
  passes::simplify(m, *f);
  auto errs = ir::verifyFunction(*f, &m);
  INFO((errs.empty() ? "" : errs[0]) << ir::printFunction(*f));
  REQUIRE(errs.empty());
  return f;
}

int countKind(const ir::Block& b, OpKind k) {
  int n = 0;
  for (auto& op : b.ops) {
    n += op->kind == k;
    for (auto& r : op->regions) n += countKind(*r, k);
  }
  return n;
}

size_t countOps(const ir::Block& b) {
  size_t n = 0;
  for (auto& op : b.ops) {
    ++n;
    for (auto& r : op->regions) n += countOps(*r);
  }
  return n;
}

// The runtime error `f` raises on `args`, or "" when it returns.
std::string failure(const ir::Module& m, const ir::Function& f, const std::vector<RtValue>& args) {
  try {
    ir::interpret(m, f, args);
  } catch (const ir::InterpError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("dce: an unused i64 division by a value that may be zero is kept", "[passes][regression]") {
  // The brief's program: `k` is never used.
  auto m = lowered("fn f(n: i64) -> f64 {\n    let k = 4 / (n - 2)\n    1.0\n}\n");
  auto f = simplified(*m, "f");
  INFO(ir::printFunction(*f));
  CHECK(countKind(f->body, OpKind::Div) == 1);
  CHECK(failure(*m, *f, {RtValue::i64(2)}) == "2:15: integer division by zero");
  CHECK(failure(*m, *f, {RtValue::i64(3)}).empty());
}

TEST_CASE("dce: unused i64 rem, and divisions inside if, for and comprehensions are kept",
          "[passes][regression]") {
  auto m = lowered(
      "fn r(n: i64) -> f64 {\n    let k = n % n\n    2.0\n}\n"
      "fn inif(n: i64, x: f64) -> f64 {\n    if x > 0.0 {\n        let k = 7 / n\n    }\n    x\n}\n"
      "fn inloop(n: i64, x: f64) -> f64 {\n    var s = x\n    for i in 0..3 {\n"
      "        let k = i / n\n        s = s + 1.0\n    }\n    s\n}\n"
      "fn incomp(n: i64, x: f64) -> f64 {\n    let a = [i / n for i in 0..4]\n    x\n}\n");
  auto r = simplified(*m, "r");
  CHECK(countKind(r->body, OpKind::Rem) == 1);
  CHECK(failure(*m, *r, {RtValue::i64(0)}).find("integer division by zero") != std::string::npos);
  CHECK(failure(*m, *r, {RtValue::i64(5)}).empty());
  for (const char* name : {"inif", "inloop", "incomp"}) {
    auto f = simplified(*m, name);
    INFO(name << "\n" << ir::printFunction(*f));
    CHECK(countKind(f->body, OpKind::Div) == 1);
    CHECK(failure(*m, *f, {RtValue::i64(0), RtValue::f64(1.5)}).find("integer division by zero") !=
          std::string::npos);
    CHECK(failure(*m, *f, {RtValue::i64(2), RtValue::f64(1.5)}).empty());
  }
  // The `if` is only taken for x > 0: the division is not hoisted out of it.
  auto f = simplified(*m, "inif");
  CHECK(failure(*m, *f, {RtValue::i64(0), RtValue::f64(-1.0)}).empty());
}

TEST_CASE("dce: dead divisions that cannot trap are still removed; folding and CSE still work",
          "[passes][regression]") {
  auto m = lowered(
      "fn safe(n: i64, x: f64) -> f64 {\n    let k = n / 3\n    let r = n % 7\n    let q = x / 0.0\n    x\n}\n"
      "fn folded(x: f64) -> f64 {\n    x * f64(17 / 5 + 17 % 5)\n}\n"
      "fn cse(n: i64, x: f64) -> f64 {\n    x * f64(10 / n) + f64(10 / n)\n}\n"
      "fn zero(x: f64) -> f64 {\n    let k = 1 / 0\n    x\n}\n");
  auto safe = simplified(*m, "safe");
  INFO(ir::printFunction(*safe));
  CHECK(countKind(safe->body, OpKind::Div) == 0);  // i64 by 3, and the float division
  CHECK(countKind(safe->body, OpKind::Rem) == 0);
  auto folded = simplified(*m, "folded");
  CHECK(countKind(folded->body, OpKind::Div) == 0);
  CHECK(countKind(folded->body, OpKind::Rem) == 0);
  CHECK(ir::interpret(*m, *folded, {RtValue::f64(2.0)}).at(0).f == 10.0);  // 2 * (3 + 2)
  auto cse = simplified(*m, "cse");
  CHECK(countKind(cse->body, OpKind::Div) == 1);
  CHECK(ir::interpret(*m, *cse, {RtValue::i64(4), RtValue::f64(3.0)}).at(0).f == 8.0);
  // A constant division by zero is neither folded nor removed.
  auto zero = simplified(*m, "zero");
  CHECK(countKind(zero->body, OpKind::Div) == 1);
  CHECK(failure(*m, *zero, {RtValue::f64(1.0)}) == "14:15: integer division by zero");
}

TEST_CASE("dce: an integer division in the forward sweep of a gradient still traps",
          "[passes][regression]") {
  auto m = lowered("fn f(x: f64, n: i64) -> f64 {\n    let k = 4 / (n - 2)\n    x * x\n}\n");
  auto primal = simplified(*m, "f");
  auto g = passes::reverseAD(*primal, {0}, true, "f.grad");
  passes::simplify(*m, *g);
  INFO(ir::printFunction(*g));
  CHECK(countKind(g->body, OpKind::Div) == 1);
  CHECK(failure(*m, *g, {RtValue::f64(3.0), RtValue::i64(2)}) == "2:15: integer division by zero");
  std::vector<RtValue> out = ir::interpret(*m, *g, {RtValue::f64(3.0), RtValue::i64(5)});
  CHECK(out.at(0).f == 9.0);
  CHECK(out.at(1).f == 6.0);
}

namespace {

// g0(x) = sin(x) * x;  g_i(x) = g_{i-1}(x) + g_{i-1}(x + 1.0), built in IR
// directly (the frontend rejects the deep ones itself).
std::unique_ptr<ir::Module> doublingChain(int levels) {
  auto m = std::make_unique<ir::Module>();
  m->fileName = "chain.chain";
  for (int i = 0; i <= levels; ++i) {
    auto f = std::make_unique<ir::Function>();
    f->name = "g" + std::to_string(i);
    f->resultTypes = {ir::Type::f64()};
    f->loc = {i + 1, 1};
    ir::Value* x = f->body.addArg(ir::Type::f64(), "x");
    ir::Builder b(&f->body);
    if (i == 0) {
      b.ret({b.binary(OpKind::Mul, b.unary(OpKind::Sin, x), x)});
    } else {
      std::string callee = "g" + std::to_string(i - 1);
      ir::Operation* c1 = b.create(OpKind::Call, {x}, {ir::Type::f64()});
      c1->s = callee;
      ir::Operation* c2 = b.create(OpKind::Call, {b.binary(OpKind::Add, x, b.constF(1.0))}, {ir::Type::f64()});
      c2->s = callee;
      b.ret({b.binary(OpKind::Add, c1->result(), c2->result())});
    }
    m->add(std::move(f));
  }
  return m;
}

}  // namespace

TEST_CASE("inline: the inlined size is computed without cloning and matches the result",
          "[passes][inline][regression]") {
  for (int levels : {0, 1, 5, 10}) {
    auto m = doublingChain(levels);
    auto f = ir::cloneFunction(*m->lookup("g" + std::to_string(levels)));
    uint64_t predicted = passes::inlinedOpCount(*m, *f);
    passes::inlineCalls(*m, *f);
    INFO("levels " << levels);
    CHECK(predicted == countOps(f->body));
    CHECK(predicted == (5ull << levels) - 2);  // 3 ops per level, 2 per leaf, and the return
  }
}

TEST_CASE("inline: an exponential result is a compile error naming the function, quickly",
          "[passes][inline][regression]") {
  for (int levels : {16, 30, 70}) {
    auto m = doublingChain(levels);
    auto f = ir::cloneFunction(*m->lookup("g" + std::to_string(levels)));
    size_t before = countOps(f->body);
    auto t0 = std::chrono::steady_clock::now();
    std::string msg;
    try {
      passes::inlineCalls(*m, *f);
    } catch (const CompileError& e) {
      msg = e.what();
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    INFO("levels " << levels << ": " << msg << " (" << ms << " ms)");
    std::string where = "chain.chain:" + std::to_string(levels + 1) + ":1: error: inlining every call in 'g" +
                        std::to_string(levels) + "' would produce ";
    CHECK(msg.rfind(where, 0) == 0);
    CHECK(msg.find("(limit 200000)") != std::string::npos);
    if (levels == 16) CHECK(msg.find(" 327678 operations") != std::string::npos);
    CHECK(countOps(f->body) == before);  // nothing was cloned
  }
  // One level below the limit still inlines.
  auto m = doublingChain(15);
  auto f = ir::cloneFunction(*m->lookup("g15"));
  CHECK_NOTHROW(passes::inlineCalls(*m, *f));
  CHECK(countOps(f->body) == (5u << 15) - 2);
}
