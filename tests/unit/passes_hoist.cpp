// Unit tests of the hoist pass (passes/Hoist.cpp): invariant ops leave
// for/while/map/reduce regions (through several loops), ops that may trap
// leave a loop that may run zero times only behind a guard, while bodies
// keep them, asserts proved by dominating asserts go, and every program
// computes the same values (and the same errors) under the interpreter
// before and after.
#include "passes_pipeline_util.h"

using namespace pipetest;
using chain::ir::OpKind;
using chain::ir::RtValue;

TEST_CASE("hoist: an invariant reduction leaves a for loop, results unchanged", "[passes][hoist]") {
  Program p = compile(R"(
fn f(x: f64[n], m: i64) -> f64 {
    var s = 0.0
    for i in 0..m {
        s += sum(exp(x)) * f64(i)
    }
    s
})");
  auto before = after(p, "f", "simplify");
  auto hoisted = after(p, "f", "hoist");
  INFO(chain::ir::printFunction(*hoisted));
  CHECK(loopDepth(before->body, OpKind::Exp) == 2);   // for, reduce
  CHECK(loopDepth(hoisted->body, OpKind::Exp) == 1);  // reduce only
  CHECK(count(hoisted->body, OpKind::If) == 1);       // guarded: exp is checked by --nan-check
  for (int64_t m : {0, 1, 4}) {
    std::vector<RtValue> args = {vec({0.5, -1.0, 2.0}), RtValue::i64(m)};
    CHECK(run(p, *hoisted, args) == run(p, *before, args));
  }
  CHECK(run(p, *hoisted, {vec({0.5, -1.0, 2.0}), RtValue::i64(3)}) ==
        chain::ir::formatRtValue(RtValue::f64(3 * (std::exp(0.5) + std::exp(-1.0) + std::exp(2.0)))));
}

TEST_CASE("hoist: a read that may trap is guarded by the trip count", "[passes][hoist]") {
  Program p = compile(R"(
fn f(x: f64[n], m: i64, k: i64) -> f64 {
    var s = 0.0
    for i in 0..m {
        s += x[k] * f64(i)
    }
    s
})");
  auto before = after(p, "f", "simplify");
  auto hoisted = after(p, "f", "hoist");
  INFO(chain::ir::printFunction(*hoisted));
  CHECK(loopDepth(hoisted->body, OpKind::Index) == 0);
  CHECK(count(hoisted->body, OpKind::If) == 1);
  RtValue x = vec({1.0, 2.0, 3.0});
  // the loop never runs: the out-of-bounds read must not happen
  CHECK(run(p, *hoisted, {x, RtValue::i64(0), RtValue::i64(7)}) == "0.0");
  std::string err = run(p, *before, {x, RtValue::i64(2), RtValue::i64(7)});
  CHECK(err.rfind("error: ", 0) == 0);
  CHECK(run(p, *hoisted, {x, RtValue::i64(2), RtValue::i64(7)}) == err);
  CHECK(run(p, *hoisted, {x, RtValue::i64(3), RtValue::i64(1)}) == "6.0");
}

TEST_CASE("hoist: out of two loops, and no guard when the trip count is known", "[passes][hoist]") {
  Program p = compile(R"(
fn f(x: f64[n], y: f64[n], a: i64) -> f64 {
    var s = 0.0
    for i in 0..3 {
        for j in 0..a {
            s += sum(x[l] * y[l] for l in 0..n) + f64(i * j)
        }
    }
    s
})");
  auto before = after(p, "f", "simplify");
  auto hoisted = after(p, "f", "hoist");
  INFO(chain::ir::printFunction(*hoisted));
  CHECK(loopDepth(before->body, OpKind::Mul) >= 2);
  // the dot product now sits in the outer loop's guard, i.e. outside both fors
  CHECK(loopDepth(hoisted->body, OpKind::Reduce) == 0);
  for (int64_t a : {0, 2}) {
    std::vector<RtValue> args = {vec({1.0, 2.0}), vec({3.0, -4.0}), RtValue::i64(a)};
    CHECK(run(p, *hoisted, args) == run(p, *before, args));
  }
  CHECK(run(p, *hoisted, {vec({1.0, 2.0}), vec({3.0, -4.0}), RtValue::i64(2)}) == "-27.0");

  Program q = compile(R"(
fn g(x: f64[n]) -> f64 {
    var s = 0.0
    for i in 0..4 {
        s += exp(x[0]) * f64(i)
    }
    s
})");
  auto h = after(q, "g", "hoist");
  INFO(chain::ir::printFunction(*h));
  CHECK(count(h->body, OpKind::If) == 0);  // 0..4 runs: no guard needed
  CHECK(loopDepth(h->body, OpKind::Exp) == 0);
  CHECK(run(q, *h, {vec({0.0})}) == "6.0");
}

TEST_CASE("hoist: a while body keeps what may trap, loses what cannot", "[passes][hoist]") {
  Program p = compile(R"(
fn f(x: f64[n], k: i64, m: i64) -> f64 {
    var s = 0.0
    var i = 0
    while i < m {
        s += x[k] * f64(i + k * 3)
        i += 1
    }
    s
})");
  auto before = after(p, "f", "simplify");
  auto hoisted = after(p, "f", "hoist");
  INFO(chain::ir::printFunction(*hoisted));
  CHECK(loopDepth(hoisted->body, OpKind::Index) == 1);  // may trap: stays in the body
  size_t mulsIn = 0;
  for (auto& op : hoisted->body.ops)
    if (op->kind == OpKind::Mul && op->result()->type == chain::ir::Type::i64()) ++mulsIn;
  CHECK(mulsIn == 1);  // k * 3 left the loop
  CHECK(run(p, *hoisted, {vec({1.0, 2.0}), RtValue::i64(5), RtValue::i64(0)}) == "0.0");
  std::vector<RtValue> args = {vec({1.0, 2.0}), RtValue::i64(1), RtValue::i64(3)};
  CHECK(run(p, *hoisted, args) == run(p, *before, args));
  CHECK(run(p, *hoisted, args) == "24.0");  // x[1] * (3 + 4 + 5)
}

TEST_CASE("hoist: asserts proved by dominating asserts are removed", "[passes][hoist]") {
  Program p = compile(R"(
fn inner(a: f64[n], b: f64[n]) -> f64 {
    sum(a[i] * b[i] for i in 0..n)
}
fn f(x: f64[n], y: f64[n], m: i64) -> f64 {
    sum(logsumexp([inner(x, y) * f64(i) + f64(c) for c in 0..m]) for i in 0..3)
})");
  auto before = after(p, "f", "simplify");
  auto hoisted = after(p, "f", "hoist");
  INFO(chain::ir::printFunction(*before) << "\n" << chain::ir::printFunction(*hoisted));
  CHECK(count(before->body, OpKind::Assert) > count(hoisted->body, OpKind::Assert));
  CHECK(loopDepth(hoisted->body, OpKind::Assert) <= 0);  // none left inside a loop
  for (int64_t m : {0, 2}) {
    std::vector<RtValue> args = {vec({1.0, 2.0}), vec({0.5, 0.25}), RtValue::i64(m)};
    CHECK(run(p, *hoisted, args) == run(p, *before, args));
  }
  // a shape mismatch is still reported
  std::vector<RtValue> bad = {vec({1.0, 2.0}), vec({0.5}), RtValue::i64(2)};
  CHECK(run(p, *hoisted, bad).rfind("error: ", 0) == 0);
  CHECK(run(p, *hoisted, bad) == run(p, *before, bad));
}

TEST_CASE("hoist: comparisons decided by dominating asserts fold their ifs", "[passes][hoist]") {
  // inner(x, y) asserts dim(y) == n, so `n == m`, `m != n` and their `and`
  // are known: the ifs on them give way to the taken branch. z's extent is
  // max(n, 0), which is n (a dim is never negative): inner(z, x)'s shape
  // assert goes too.
  Program p = compile(R"(
fn inner(a: f64[n], b: f64[n]) -> f64 {
    sum(a[i] * b[i] for i in 0..n)
}
fn f(x: f64[n], y: f64[m]) -> f64 {
    let d = inner(x, y)
    let z = [x[i] * 2.0 for i in 0..n]
    let e = inner(z, x)
    let u = if n == m { d } else { d + 100.0 }
    let v = if m != n { e + 100.0 } else { e }
    let w = if n == m and m == n { 1.0 } else { 1000.0 }
    u + v + w
})");
  auto inlined = after(p, "f", "inline");
  auto before = after(p, "f", "simplify");
  auto hoisted = after(p, "f", "hoist");
  INFO(chain::ir::printFunction(*before) << "\n" << chain::ir::printFunction(*hoisted));
  CHECK(count(inlined->body, OpKind::If) >= 3);  // (simplify may already fold them)
  CHECK(count(hoisted->body, OpKind::If) == 0);
  CHECK(count(hoisted->body, OpKind::Assert) == 1);  // dim(y) == n, checked once
  std::vector<RtValue> args = {vec({1.0, 2.0}), vec({0.5, 0.25})};
  CHECK(run(p, *hoisted, args) == run(p, *before, args));
  CHECK(run(p, *hoisted, args) == chain::ir::formatRtValue(RtValue::f64(1.0 + 10.0 + 1.0)));
  std::vector<RtValue> bad = {vec({1.0, 2.0}), vec({0.5})};
  CHECK(run(p, *hoisted, bad).rfind("error: ", 0) == 0);
  CHECK(run(p, *hoisted, bad) == run(p, *before, bad));
}
