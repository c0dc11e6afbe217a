// The shape of reverse AD's output where it decides speed and memory (issue
// 4): a reversed loop pushes only the carried state its reverse reads (a
// carried array read only for its size is pushed as its size), a read at a
// loop-invariant index inside a map/reduce accumulates its adjoint in a
// register instead of a scatter-add per element, and the gradients stay
// those of finite differences (reference interpreter).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

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
using ir::Scalar;

namespace {

struct Compiled {
  std::string src;
  std::unique_ptr<ir::Module> m;
  std::unique_ptr<ir::Function> primal, grad;
};

// Source -> inlined, simplified primal -> simplified gradient w.r.t. every
// float parameter (value included).
Compiled compile(const std::string& src, const std::string& name) {
  Compiled c{src, nullptr, nullptr, nullptr};
  DiagEngine diag("test.chain", &c.src);
  auto prog = frontend::parse(c.src, diag);
  REQUIRE(!diag.hasErrors());
  frontend::check(*prog, diag);
  INFO(diag.render());
  REQUIRE(!diag.hasErrors());
  c.m = frontend::lower(*prog);
  c.primal = ir::cloneFunction(*c.m->lookup(name));
  passes::inlineCalls(*c.m, *c.primal);
  passes::simplify(*c.m, *c.primal);
  std::vector<int> wrt;
  for (size_t i = 0; i < c.primal->numParams(); ++i)
    if (c.primal->param(i)->type.isFloat()) wrt.push_back(int(i));
  c.grad = passes::reverseAD(*c.primal, wrt, true, name + ".grad");
  auto errs = ir::verifyFunction(*c.grad);
  INFO((errs.empty() ? "" : errs[0]) << "\n" << ir::printFunction(*c.grad));
  REQUIRE(errs.empty());
  passes::simplify(*c.m, *c.grad);
  REQUIRE(ir::verifyFunction(*c.grad).empty());
  return c;
}

// Every op of `b` at any depth, with the number of `for` ops enclosing it.
void walk(const ir::Block& b, int fors, const std::function<void(const ir::Operation&, int)>& f) {
  for (auto& op : b.ops) {
    f(*op, fors);
    for (auto& r : op->regions) walk(*r, fors + (op->kind == OpKind::For), f);
  }
}

std::vector<const ir::Operation*> opsOf(const ir::Function& g, OpKind k) {
  std::vector<const ir::Operation*> out;
  walk(g.body, 0, [&](const ir::Operation& op, int) {
    if (op.kind == k) out.push_back(&op);
  });
  return out;
}

// Gradient (flattened, parameter by parameter) vs central differences.
void checkGradient(Compiled& c, const std::vector<RtValue>& args) {
  std::vector<RtValue> r = ir::interpret(*c.m, *c.grad, args);
  std::vector<double> g;
  for (size_t k = 1; k < r.size(); ++k)
    for (double v : r[k].values()) g.push_back(v);
  auto eval = [&](const std::vector<RtValue>& a) { return ir::interpret(*c.m, *c.primal, a).at(0).f; };
  CHECK(r.at(0).f == Approx(eval(args)).epsilon(1e-12));
  size_t at = 0;
  for (size_t p = 0; p < args.size(); ++p) {
    if (!args[p].type.isFloat()) continue;
    for (size_t i = 0; i < args[p].size(); ++i, ++at) {
      std::vector<RtValue> plus = args, minus = args;
      plus[p] = args[p].deepCopy();
      minus[p] = args[p].deepCopy();
      double x = args[p].values()[i], h = 1e-6 * std::max(1.0, std::abs(x));
      plus[p].set(i, RtValue::f64(x + h));
      minus[p].set(i, RtValue::f64(x - h));
      INFO("parameter " << p << " element " << i);
      REQUIRE(at < g.size());
      CHECK(g[at] == Approx((eval(plus) - eval(minus)) / (2 * h)).epsilon(1e-5).margin(1e-6));
    }
  }
  CHECK(at == g.size());
}

const char* kLlsq = R"(
fn llsq(x: f64[m], n: i64) -> f64 {
    let t = [-1.0 + f64(i) * 2.0 / f64(n - 1) for i in 0..n]
    var r = [if t[i] > 0.0 { 1.0 } else { -1.0 } for i in 0..n]
    var tp = ones(n)
    for j in 0..m {
        r = [r[i] - x[j] * tp[i] for i in 0..n]
        tp = [tp[i] * t[i] for i in 0..n]
    }
    0.5 * sum(r * r)
}
)";

}  // namespace

TEST_CASE("reverse AD pushes no carried array that its reverse never reads", "[ad][perf]") {
  Compiled c = compile(kLlsq, "llsq");
  INFO(ir::printFunction(*c.grad));
  auto pushes = opsOf(*c.grad, OpKind::TapePush);
  REQUIRE(pushes.size() == 1);
  // r is read by nothing in the reverse loop, not even for its size (the
  // loop keeps r's shape, so its dims are the init's): not pushed; tp is read
  // by the derivative of x[j] * tp[i].
  int arrays = 0, sizes = 0;
  for (const ir::Value* v : pushes[0]->operands) {
    arrays += v->type.rank == 1;
    sizes += v->type == ir::Type::i64();
  }
  CHECK(arrays == 1);
  CHECK(sizes == 0);
  auto pops = opsOf(*c.grad, OpKind::TapePop);
  REQUIRE(pops.size() == 1);
  CHECK(pops[0]->results.size() == pushes[0]->operands.size());
  checkGradient(c, {RtValue::array(Scalar::F64, {3}, {0.5, -0.25, 0.125}), RtValue::i64(5)});
}

TEST_CASE("a read at a loop-invariant index in a reversed map sums in a register", "[ad][perf]") {
  Compiled c = compile(kLlsq, "llsq");
  INFO(ir::printFunction(*c.grad));
  // x[j]'s adjoint is summed over i by a `reduce sum` inside the reverse
  // loop over j and added once per j: no scatter-add sits in a loop over i.
  int inner = 0, sums = 0;
  walk(c.grad->body, 0, [&](const ir::Operation& op, int fors) {
    inner += op.kind == OpKind::AddAt && fors >= 2;
    sums += op.kind == OpKind::Reduce && op.s == "sum" && fors >= 1;
  });
  CHECK(inner == 0);
  CHECK(sums >= 1);
}

TEST_CASE("register sums of invariant reads are exact, also for empty maps", "[ad][perf]") {
  SECTION("map and reduce, scalar and array reads") {
    Compiled c = compile(R"(
fn f(x: f64[n], y: f64[n], k: i64) -> f64 {
    let a = [x[k] * y[i] + x[k + 1] * x[i] for i in 0..n]
    sum(a[i] * a[i] for i in 0..n) + sum(x[k] * exp(y[i]) for i in 1..n)
}
)", "f");
    checkGradient(c, {RtValue::array(Scalar::F64, {4}, {0.3, -0.7, 1.1, 0.2}),
                      RtValue::array(Scalar::F64, {4}, {0.5, 0.25, -0.5, 1.5}), RtValue::i64(1)});
  }
  SECTION("an out-of-range invariant index in a map that never runs") {
    Compiled c = compile(R"(
fn f(x: f64[n], m: i64) -> f64 {
    sum(x * x) + sum([x[n + 3] * 2.0 for i in 0..m]) + sum(x[n + 5] for i in 0..m)
}
)", "f");
    checkGradient(c, {RtValue::array(Scalar::F64, {3}, {0.5, 2.0, -1.0}), RtValue::i64(0)});
  }
}

TEST_CASE("a while loop pushes only the carried values its reverse reads", "[ad][perf]") {
  Compiled c = compile(R"(
fn f(x: f64[n]) -> f64 {
    var acc = 0.0
    var v = x
    var i = 0
    while i < 3 {
        acc += sum(v[j] * x[j] for j in 0..n)
        v = [v[j] * 0.5 for j in 0..n]
        i += 1
    }
    acc
}
)", "f");
  INFO(ir::printFunction(*c.grad));
  // acc is never read by its reverse (d acc / d acc = 1): not pushed.
  for (const ir::Operation* p : opsOf(*c.grad, OpKind::TapePush))
    for (const ir::Value* v : p->operands) CHECK(v->type != ir::Type::f64());
  checkGradient(c, {RtValue::array(Scalar::F64, {3}, {0.5, -1.0, 2.0})});
}

TEST_CASE("recomputation in a reverse loop drops asserts the forward sweep checked", "[ad][perf]") {
  Compiled c = compile(R"(
fn f(x: f64[n], y: f64[n]) -> f64 {
    var s = 0.0
    for t in 0..3 {
        s += sum(x * y) * f64(t)
    }
    s
}
)", "f");
  INFO(ir::printFunction(*c.grad));
  int asserts = 0;
  walk(c.grad->body, 0, [&](const ir::Operation& op, int) { asserts += op.kind == OpKind::Assert; });
  CHECK(asserts <= 1);  // the primal's broadcast check, once
  checkGradient(c, {RtValue::array(Scalar::F64, {2}, {0.5, -1.0}), RtValue::array(Scalar::F64, {2}, {2.0, 3.0})});
}

namespace {
// The ops of `g` outside every `if` region (the guarded fallbacks for other
// shapes live in ifs), with the number of enclosing fors.
std::vector<const ir::Operation*> unguarded(const ir::Function& g, OpKind k) {
  std::vector<const ir::Operation*> out;
  std::function<void(const ir::Block&)> go = [&](const ir::Block& b) {
    for (auto& op : b.ops) {
      if (op->kind == k) out.push_back(op.get());
      if (op->kind == OpKind::If) {
        go(*op->region(0));  // the same-shape path; region 1 is the fallback
        continue;
      }
      for (auto& r : op->regions) go(*r);
    }
  };
  go(g.body);
  return out;
}
}  // namespace

TEST_CASE("identity reads in a reversed map give a map adjoint, no fill or scatter", "[ad][perf]") {
  Compiled c = compile(R"(
fn f(y: f64[n], k: f64[n]) -> f64 {
    let z = [y[i] + 0.3 * k[i] for i in 0..n]
    let w = [z[i] * exp(k[i]) for i in 0..n]
    sum(w * w)
}
)", "f");
  INFO(ir::printFunction(*c.grad));
  // On the same-shape path: no zero adjoint array, no scatter-add, no loop.
  CHECK(unguarded(*c.grad, OpKind::Fill).empty());
  CHECK(unguarded(*c.grad, OpKind::AddAt).empty());
  CHECK(unguarded(*c.grad, OpKind::For).empty());
  CHECK(!unguarded(*c.grad, OpKind::Map).empty());
  checkGradient(c, {RtValue::array(Scalar::F64, {4}, {0.3, -0.7, 1.1, 0.2}),
                    RtValue::array(Scalar::F64, {4}, {0.5, 0.25, -0.5, 1.5})});
}

TEST_CASE("identity-read adjoints are exact for other shapes, offsets and nested reads", "[ad][perf]") {
  SECTION("a map shorter than the array it reads (guarded scatter)") {
    Compiled c = compile(R"(
fn f(x: f64[n], m: i64) -> f64 {
    sum([x[i] * x[i] + 1.0 for i in 0..m]) + sum(x[i] * 3.0 for i in 0..m)
}
)", "f");
    checkGradient(c, {RtValue::array(Scalar::F64, {5}, {0.5, 2.0, -1.0, 0.25, 3.0}), RtValue::i64(3)});
    checkGradient(c, {RtValue::array(Scalar::F64, {3}, {0.5, 2.0, -1.0}), RtValue::i64(3)});
    checkGradient(c, {RtValue::array(Scalar::F64, {3}, {0.5, 2.0, -1.0}), RtValue::i64(0)});
  }
  SECTION("a reduce over lo..hi with lo > 0, and a read inside an if past the array's end") {
    Compiled c = compile(R"(
fn f(x: f64[n], m: i64) -> f64 {
    sum(x[i] * x[i] for i in 1..n) + sum([if i < n { exp(x[i]) } else { 1.0 } for i in 0..m])
}
)", "f");
    checkGradient(c, {RtValue::array(Scalar::F64, {3}, {0.5, 2.0, -1.0}), RtValue::i64(5)});
    checkGradient(c, {RtValue::array(Scalar::F64, {3}, {0.5, 2.0, -1.0}), RtValue::i64(3)});
  }
  SECTION("rank 2, prod and logsumexp seeds, identity and shifted reads of one array") {
    Compiled c = compile(R"(
fn f(a: f64[n, m], v: f64[n]) -> f64 {
    let b = [a[i, j] * a[i, j] for i in 0..n, j in 0..m]
    let s = [if i > 0 { v[i] * v[i - 1] } else { v[i] } for i in 0..n]
    sum(b) + prod(v[i] + 2.0 for i in 0..n) + logsumexp(v[i] * 2.0 for i in 0..n) + sum(s)
}
)", "f");
    checkGradient(c, {RtValue::array(Scalar::F64, {2, 3}, {0.5, 2.0, -1.0, 0.25, 1.5, -0.75}),
                      RtValue::array(Scalar::F64, {2}, {0.3, -0.6})});
  }
}

TEST_CASE("a register sum with no scatter left is a reduce sum", "[ad][perf]") {
  Compiled c = compile(kLlsq, "llsq");
  INFO(ir::printFunction(*c.grad));
  // x[j]'s adjoint in the reverse of `r[i] - x[j] * tp[i]` is a reduce
  // inside the reverse loop, not a for carrying a scalar.
  int reduces = 0, scalarFors = 0;
  walk(c.grad->body, 0, [&](const ir::Operation& op, int fors) {
    if (fors < 1) return;
    if (op.kind == OpKind::Reduce && op.s == "sum") ++reduces;
    if (op.kind == OpKind::For)
      for (auto& r : op.results) scalarFors += r->type == ir::Type::f64();
  });
  CHECK(reduces >= 1);
  CHECK(scalarFors == 0);
  checkGradient(c, {RtValue::array(Scalar::F64, {3}, {0.5, -0.25, 0.125}), RtValue::i64(5)});
}

TEST_CASE("identity reads of an array whose shape the primal asserts need no shape guard", "[ad][perf]") {
  // y is carried by the loop; step's signature asserts dim(y) == n in every
  // iteration, so the reverse of the map over 0..n (extent max(n, 0)) and of
  // sum(y) reads y at its own shape: map adjoints, no guarded scatter.
  Compiled c = compile(R"(
fn step(x: f64[n], y: f64[n]) -> f64[n] {
    [y[i] + 0.5 * x[i] * y[i] for i in 0..n]
}
fn f(x: f64[n], s: i64) -> f64 {
    var y = x
    for t in 0..s {
        y = step(x, y)
    }
    sum(y)
}
)", "f");
  INFO(ir::printFunction(*c.grad));
  CHECK(opsOf(*c.grad, OpKind::AddAt).empty());
  int arrayIfs = 0;
  walk(c.grad->body, 0, [&](const ir::Operation& op, int) {
    if (op.kind == OpKind::If)
      for (auto& r : op.results) arrayIfs += r->type.rank > 0;
  });
  CHECK(arrayIfs <= 1);  // at most the hoist-style guard of an empty reverse loop, no shape guard
  for (int64_t s : {0, 1, 3})
    checkGradient(c, {RtValue::array(Scalar::F64, {3}, {0.5, -1.0, 0.25}), RtValue::i64(s)});
}

TEST_CASE("an unproved shape keeps the guard and its scatter fallback", "[ad][perf]") {
  // nothing relates dim(y) to m: the map over 0..m reads y at its own index
  // but y may be longer.
  Compiled c = compile(R"(
fn f(y: f64[n], m: i64) -> f64 {
    sum([y[i] * y[i] for i in 0..m])
}
)", "f");
  INFO(ir::printFunction(*c.grad));
  CHECK(!opsOf(*c.grad, OpKind::AddAt).empty());
  checkGradient(c, {RtValue::array(Scalar::F64, {4}, {0.5, -1.0, 0.25, 2.0}), RtValue::i64(2)});
  checkGradient(c, {RtValue::array(Scalar::F64, {2}, {0.5, -1.0}), RtValue::i64(2)});
}
