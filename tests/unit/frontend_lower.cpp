// Unit tests of the lowering to IR (frontend::lower): the structure of the
// ops it builds (kinds, operands, regions, loop-carried values, If results,
// GradCall attributes, source positions), checked with the IR verifier, and
// the values the reference interpreter computes from them.
#include <catch2/catch.hpp>

#include "frontend/Frontend.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

using namespace chain;
using ir::OpKind;
using ir::RtValue;

namespace {

struct Lowered {
  std::string src;
  DiagEngine diag;
  std::unique_ptr<ast::Program> prog;
  std::unique_ptr<ir::Module> mod;

  explicit Lowered(std::string s) : src(std::move(s)), diag("t.chain", &src) {
    prog = frontend::parse(src, diag);
    INFO(diag.render());
    REQUIRE_FALSE(diag.hasErrors());
    REQUIRE(frontend::check(*prog, diag));
    mod = frontend::lower(*prog);
    std::vector<std::string> errs = ir::verifyModule(*mod);
    std::string all;
    for (auto& e : errs) all += e + "\n";
    INFO(all << ir::printModule(*mod));
    REQUIRE(errs.empty());
  }
  const ir::Function& fn(const std::string& name) const {
    const ir::Function* f = mod->lookup(name);
    REQUIRE(f);
    return *f;
  }
  std::vector<RtValue> run(const std::string& name, const std::vector<RtValue>& args,
                           std::string* out = nullptr) const {
    return ir::interpret(*mod, fn(name), args, out);
  }
};

// The ops of a block, in order, of the given kind.
std::vector<const ir::Operation*> opsOf(const ir::Block& b, OpKind k) {
  std::vector<const ir::Operation*> out;
  for (auto& op : b.ops)
    if (op->kind == k) out.push_back(op.get());
  return out;
}

size_t countDeep(const ir::Block& b, OpKind k) {
  size_t n = 0;
  for (auto& op : b.ops) {
    n += op->kind == k;
    for (auto& r : op->regions) n += countDeep(*r, k);
  }
  return n;
}

}  // namespace

TEST_CASE("lower: signature, parameters and a straight-line body", "[lower]") {
  Lowered l("fn f(x: f64, n: i64) -> f64 {\n let y = x * n\n y + 1.0\n}\n");
  const ir::Function& f = l.fn("f");
  CHECK(f.paramNames == std::vector<std::string>{"x", "n"});
  REQUIRE(f.numParams() == 2);
  CHECK(f.param(0)->type == ir::Type::f64());
  CHECK(f.param(1)->type == ir::Type::i64());
  CHECK(f.param(0)->name == "x");
  CHECK(f.resultTypes == std::vector<ir::Type>{ir::Type::f64()});
  // cast n, mul, constf, add, return
  std::vector<OpKind> kinds;
  for (auto& op : f.body.ops) kinds.push_back(op->kind);
  CHECK(kinds == std::vector<OpKind>{OpKind::Cast, OpKind::Mul, OpKind::ConstF, OpKind::Add,
                                     OpKind::Return});
  const ir::Operation& cast = *f.body.ops[0];
  CHECK(cast.operand(0) == f.param(1));
  CHECK(cast.result()->type == ir::Type::f64());
  // Every op carries its source position.
  CHECK(f.body.ops[1]->loc.line == 2);
  CHECK(f.body.ops[1]->loc.col == 12);
  CHECK(f.body.ops[3]->loc.line == 3);
  CHECK(f.body.ops[3]->loc.col == 4);
  auto r = l.run("f", {RtValue::f64(1.5), RtValue::i64(4)});
  REQUIRE(r.size() == 1);
  CHECK(r[0].f == 7.0);
}

TEST_CASE("lower: f32 literals and integer operations", "[lower]") {
  Lowered l(R"(fn f(x: f32) { x * 2.5 }
fn g(a: i64, b: i64) { (a / b, a % b, -a, a ** 2) }
fn h(x: f64) { (i64(x), i64(-x), f64(true), abs(-3)) }
)");
  const ir::Function& f = l.fn("f");
  auto consts = opsOf(f.body, OpKind::ConstF);
  REQUIRE(consts.size() == 1);
  CHECK(consts[0]->result()->type == ir::Type::f32());
  CHECK(consts[0]->f == 2.5);
  CHECK(f.resultTypes == std::vector<ir::Type>{ir::Type::f32()});
  CHECK(opsOf(f.body, OpKind::Cast).empty());

  auto g = l.run("g", {RtValue::i64(-7), RtValue::i64(2)});
  REQUIRE(g.size() == 4);
  CHECK(g[0].i == -3);  // truncation toward zero
  CHECK(g[1].i == -1);  // sign of the dividend
  CHECK(g[2].i == 7);
  CHECK(g[3].type == ir::Type::f64());
  CHECK(g[3].f == 49.0);
  auto h = l.run("h", {RtValue::f64(2.7)});
  REQUIRE(h.size() == 4);
  CHECK(h[0].i == 2);
  CHECK(h[1].i == -2);
  CHECK(h[2].f == 1.0);
  CHECK(h[3].i == 3);
}

TEST_CASE("lower: a for loop carries the two vars it updates", "[lower]") {
  Lowered l(R"(fn f(x: f64, n: i64) -> f64 {
    var s = 0.0
    var p = 1.0
    var unused = 5.0
    for i in 0..n {
        s += x * i
        p = p * x
        let q = p
    }
    s + p + unused
}
)");
  const ir::Function& f = l.fn("f");
  auto fors = opsOf(f.body, OpKind::For);
  REQUIRE(fors.size() == 1);
  const ir::Operation& loop = *fors[0];
  REQUIRE(loop.operands.size() == 4);  // lo, hi, s, p
  CHECK(loop.operand(1) == f.param(1));
  CHECK(loop.operand(2)->def->kind == OpKind::ConstF);
  CHECK(loop.operand(2)->def->f == 0.0);
  CHECK(loop.operand(3)->def->f == 1.0);
  REQUIRE(loop.results.size() == 2);
  const ir::Block& body = *loop.region(0);
  REQUIRE(body.args.size() == 3);
  CHECK(body.arg(0)->type == ir::Type::i64());
  CHECK(body.arg(0)->name == "i");
  CHECK(body.arg(1)->name == "s");
  CHECK(body.arg(2)->name == "p");
  const ir::Operation* y = body.terminator();
  REQUIRE(y->kind == OpKind::Yield);
  REQUIRE(y->operands.size() == 2);
  CHECK(y->operand(0)->def->kind == OpKind::Add);
  CHECK(y->operand(0)->def->operand(0) == body.arg(1));
  CHECK(y->operand(1)->def->kind == OpKind::Mul);
  // After the loop, s and p are the For results.
  const ir::Operation* ret = f.body.terminator();
  const ir::Operation* sum2 = ret->operand(0)->def;  // (s + p) + unused
  REQUIRE(sum2->kind == OpKind::Add);
  const ir::Operation* sum1 = sum2->operand(0)->def;
  CHECK(sum1->operand(0) == loop.result(0));
  CHECK(sum1->operand(1) == loop.result(1));
  auto r = l.run("f", {RtValue::f64(2.0), RtValue::i64(3)});
  // s = 2*(0+1+2) = 6, p = 8, unused = 5
  CHECK(r[0].f == 19.0);
  auto zero = l.run("f", {RtValue::f64(2.0), RtValue::i64(0)});
  CHECK(zero[0].f == 6.0);
}

TEST_CASE("lower: an if statement yields the var assigned in one branch", "[lower]") {
  Lowered l(R"(fn f(x: f64) -> f64 {
    var y = x
    var z = 1.0
    if x > 0.0 {
        y = y * 2.0
    }
    y + z
}
)");
  const ir::Function& f = l.fn("f");
  auto ifs = opsOf(f.body, OpKind::If);
  REQUIRE(ifs.size() == 1);
  const ir::Operation& op = *ifs[0];
  REQUIRE(op.results.size() == 1);  // only y
  CHECK(op.operand(0)->def->kind == OpKind::Gt);
  const ir::Operation* thenYield = op.region(0)->terminator();
  const ir::Operation* elseYield = op.region(1)->terminator();
  REQUIRE(thenYield->operands.size() == 1);
  REQUIRE(elseYield->operands.size() == 1);
  CHECK(thenYield->operand(0)->def->kind == OpKind::Mul);
  CHECK(elseYield->operand(0) == f.param(0));  // the incoming value of y
  CHECK(op.region(1)->ops.size() == 1);
  const ir::Operation* add = f.body.terminator()->operand(0)->def;
  CHECK(add->operand(0) == op.result(0));
  CHECK(l.run("f", {RtValue::f64(3.0)})[0].f == 7.0);
  CHECK(l.run("f", {RtValue::f64(-3.0)})[0].f == -2.0);
}

TEST_CASE("lower: else-if chains and if-expressions", "[lower]") {
  Lowered l(R"(fn sign(x: f64) -> f64 {
    var s = 0.0
    if x > 0.0 { s = 1.0 } else if x < 0.0 { s = -1.0 }
    s
}
fn pick(x: f64, n: i64) { if x > 0.0 { n } else { x } }
fn tup(c: bool) { if c { (1.0, 2) } else { (3.0, 4) } }
)");
  CHECK(l.run("sign", {RtValue::f64(5.0)})[0].f == 1.0);
  CHECK(l.run("sign", {RtValue::f64(-5.0)})[0].f == -1.0);
  CHECK(l.run("sign", {RtValue::f64(0.0)})[0].f == 0.0);
  const ir::Function& pick = l.fn("pick");
  auto ifs = opsOf(pick.body, OpKind::If);
  REQUIRE(ifs.size() == 1);
  REQUIRE(ifs[0]->results.size() == 1);
  CHECK(ifs[0]->result()->type == ir::Type::f64());
  CHECK(l.run("pick", {RtValue::f64(1.0), RtValue::i64(7)})[0].f == 7.0);
  CHECK(l.fn("tup").resultTypes == std::vector<ir::Type>{ir::Type::f64(), ir::Type::i64()});
  auto t = l.run("tup", {RtValue::boolean(false)});
  CHECK(t[0].f == 3.0);
  CHECK(t[1].i == 4);
}

TEST_CASE("lower: a while loop recomputes its condition from the carried values", "[lower]") {
  Lowered l(R"(fn f(x: f64) -> f64 {
    var v = x
    var k = 0
    while v > 1.0 {
        v = v / 2.0
        k += 1
    }
    v + k
}
)");
  const ir::Function& f = l.fn("f");
  auto ws = opsOf(f.body, OpKind::While);
  REQUIRE(ws.size() == 1);
  const ir::Operation& w = *ws[0];
  REQUIRE(w.operands.size() == 2);
  CHECK(w.operand(0) == f.param(0));
  REQUIRE(w.regions.size() == 2);
  const ir::Block& cond = *w.region(0);
  REQUIRE(cond.args.size() == 2);
  const ir::Operation* cy = cond.terminator();
  REQUIRE(cy->operands.size() == 1);
  CHECK(cy->operand(0)->type == ir::Type::boolean());
  CHECK(cy->operand(0)->def->operand(0) == cond.arg(0));
  CHECK(w.region(1)->terminator()->operands.size() == 2);
  CHECK(l.run("f", {RtValue::f64(10.0)})[0].f == 0.625 + 4);
}

TEST_CASE("lower: and/or short-circuit through If", "[lower]") {
  Lowered l(R"(fn f(a: bool, x: f64) { a and x > 1.0 }
fn g(a: bool, x: f64) { a or x > 1.0 }
)");
  const ir::Function& f = l.fn("f");
  auto ifs = opsOf(f.body, OpKind::If);
  REQUIRE(ifs.size() == 1);
  REQUIRE(ifs[0]->results.size() == 1);
  CHECK(ifs[0]->result()->type == ir::Type::boolean());
  CHECK(ifs[0]->operand(0) == f.param(0));
  CHECK(countDeep(*ifs[0]->region(0), OpKind::Gt) == 1);  // b evaluated only in `then`
  const ir::Operation* elseVal = ifs[0]->region(1)->terminator()->operand(0)->def;
  REQUIRE(elseVal->kind == OpKind::ConstB);
  CHECK(elseVal->i == 0);
  CHECK(opsOf(f.body, OpKind::And).empty());
  const ir::Function& g = l.fn("g");
  auto gifs = opsOf(g.body, OpKind::If);
  REQUIRE(gifs.size() == 1);
  CHECK(gifs[0]->region(0)->terminator()->operand(0)->def->i == 1);
  CHECK(l.run("f", {RtValue::boolean(true), RtValue::f64(2.0)})[0].i == 1);
  CHECK(l.run("f", {RtValue::boolean(false), RtValue::f64(2.0)})[0].i == 0);
  CHECK(l.run("g", {RtValue::boolean(false), RtValue::f64(0.0)})[0].i == 0);
  CHECK(l.run("g", {RtValue::boolean(true), RtValue::f64(0.0)})[0].i == 1);
}

TEST_CASE("lower: tuples are flattened through calls and let", "[lower]") {
  Lowered l(R"(fn pair(x: f64, n: i64) -> (f64, i64) { (x * 2.0, n + 1) }
fn main(x: f64) -> f64 {
    let (a, b) = pair(x, 3)
    let t = pair(a, b)
    let (c, d) = t
    c + d
}
)");
  CHECK(l.fn("pair").resultTypes == std::vector<ir::Type>{ir::Type::f64(), ir::Type::i64()});
  const ir::Function& m = l.fn("main");
  auto calls = opsOf(m.body, OpKind::Call);
  REQUIRE(calls.size() == 2);
  CHECK(calls[0]->s == "pair");
  CHECK(calls[0]->results.size() == 2);
  CHECK(calls[1]->operand(0) == calls[0]->result(0));
  CHECK(calls[1]->operand(1) == calls[0]->result(1));
  CHECK(l.run("main", {RtValue::f64(1.5)})[0].f == 6.0 + 5.0);
}

TEST_CASE("lower: grad and value_and_grad become GradCall", "[lower]") {
  Lowered l(R"(fn f(x: f64, n: i64, y: f64) -> f64 { x * y * n }
fn main(x: f64, y: f64) {
    let a = grad(f)(x, 2, y)
    let g = grad(f, wrt=(y, x))
    let (gy, gx) = g(x, 2, y)
    let (v, pq) = value_and_grad(f, wrt=(x, y))(x, 2, y)
    let (p, q) = pq
    let h = value_and_grad(f, wrt=y)
    let (w, r) = h(x, 3, y)
    a + gy + gx + v + p + q + w + r
}
)");
  const ir::Function& m = l.fn("main");
  auto gcs = opsOf(m.body, OpKind::GradCall);
  REQUIRE(gcs.size() == 4);
  CHECK(gcs[0]->s == "f");
  CHECK(gcs[0]->ints == std::vector<int64_t>{0, 1, 0});  // [grad, 1 parameter, 0]
  CHECK(gcs[0]->operands.size() == 3);
  CHECK(gcs[0]->results.size() == 1);
  CHECK(gcs[1]->ints == std::vector<int64_t>{0, 2, 2, 0});
  CHECK(gcs[1]->results.size() == 2);
  CHECK(gcs[2]->ints == std::vector<int64_t>{1, 2, 0, 2});  // value_and_grad
  CHECK(gcs[2]->results.size() == 3);
  CHECK(gcs[3]->ints == std::vector<int64_t>{1, 1, 2});
  CHECK(gcs[3]->results.size() == 2);
  CHECK(gcs[3]->operand(1)->def->kind == OpKind::ConstI);
  CHECK(gcs[3]->operand(1)->def->i == 3);
  CHECK(gcs[0]->loc.line == 3);
  // The value and the gradient tuple flatten into three results.
  CHECK(gcs[2]->result(0)->type == ir::Type::f64());
  CHECK(opsOf(m.body, OpKind::Call).empty());
}

TEST_CASE("lower: binding a plain function value makes a Call", "[lower]") {
  Lowered l("fn sq(x: f64) { x * x }\nfn main(x: f64) {\n let h = sq\n h(x) + sq(2.0)\n}\n");
  auto calls = opsOf(l.fn("main").body, OpKind::Call);
  REQUIRE(calls.size() == 2);
  CHECK(calls[0]->s == "sq");
  CHECK(l.run("main", {RtValue::f64(3.0)})[0].f == 13.0);
}

TEST_CASE("lower: built-ins, print and stop_gradient", "[lower]") {
  Lowered l(R"(fn f(x: f64, n: i64) {
    print("vals", x, (n, x))
    print(n)
    let a = sigmoid(x) + stop_gradient(x) + exp(n) + max(x, n) + atan2(x, 1.0)
    a
}
)");
  const ir::Function& f = l.fn("f");
  auto prints = opsOf(f.body, OpKind::Print);
  REQUIRE(prints.size() == 2);
  CHECK(prints[0]->s == "vals");
  REQUIRE(prints[0]->operands.size() == 3);
  CHECK(prints[0]->operand(1) == f.param(1));
  CHECK(prints[1]->s.empty());
  CHECK(opsOf(f.body, OpKind::Sigmoid).size() == 1);
  CHECK(opsOf(f.body, OpKind::StopGradient).size() == 1);
  CHECK(opsOf(f.body, OpKind::Max).size() == 1);
  CHECK(opsOf(f.body, OpKind::Atan2).size() == 1);
  const ir::Operation* e = opsOf(f.body, OpKind::Exp)[0];
  CHECK(e->operand(0)->def->kind == OpKind::Cast);
  std::string out;
  auto r = l.run("f", {RtValue::f64(0.0), RtValue::i64(0)}, &out);
  CHECK(r[0].f == Approx(0.5 + 0.0 + 1.0 + 0.0 + 0.0));
  CHECK(out.find("vals") != std::string::npos);
}

TEST_CASE("lower: nested blocks, shadowing and loops inside ifs", "[lower]") {
  Lowered l(R"(fn f(x: f64, n: i64) -> f64 {
    var acc = 0.0
    let y = x
    if n > 0 {
        let y = 10.0
        for i in 0..n {
            var acc = 100.0
            acc += y
        }
        for j in 0..n { acc += y }
    }
    acc + y
}
)");
  const ir::Function& f = l.fn("f");
  auto fors = opsOf(*opsOf(f.body, OpKind::If)[0]->region(0), OpKind::For);
  REQUIRE(fors.size() == 2);
  CHECK(fors[0]->operands.size() == 2);  // the inner `var acc` shadows: nothing carried
  CHECK(fors[1]->operands.size() == 3);
  CHECK(l.run("f", {RtValue::f64(1.0), RtValue::i64(3)})[0].f == 31.0);
  CHECK(l.run("f", {RtValue::f64(1.0), RtValue::i64(0)})[0].f == 1.0);
}

TEST_CASE("lower: a function without a result, ending in an if of prints", "[lower]") {
  Lowered l("fn f(x: f64) {\n var k = 0\n if x > 1.0 { k = 2 }\n if k > 0 { print(\"k\", k) } else { print(x) }\n}\n");
  const ir::Function& f = l.fn("f");
  CHECK(f.resultTypes.empty());
  CHECK(f.body.terminator()->kind == OpKind::Return);
  CHECK(f.body.terminator()->operands.empty());
  auto ifs = opsOf(f.body, OpKind::If);
  REQUIRE(ifs.size() == 2);
  CHECK(ifs[0]->results.size() == 1);
  CHECK(ifs[1]->results.empty());
  CHECK(countDeep(f.body, OpKind::Print) == 2);
  std::string out;
  l.run("f", {RtValue::f64(5.0)}, &out);
  CHECK(out.find("k") != std::string::npos);
  CHECK(out.find("2") != std::string::npos);
}
