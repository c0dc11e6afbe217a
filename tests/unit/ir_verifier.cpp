// Unit tests of the IR verifier: a valid function has no errors, and each
// kind of broken IR (built by hand) is reported with the op that is wrong.
#include <catch2/catch.hpp>

#include <algorithm>

#include "ir/DiffSpec.h"
#include "ir/Verifier.h"

using namespace chain::ir;

namespace {

bool mentions(const std::vector<std::string>& errs, const std::string& text) {
  for (auto& e : errs)
    if (e.find(text) != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& errs) {
  std::string s;
  for (auto& e : errs) s += e + "\n";
  return s;
}

// fn f(x: f64, n: i64) -> f64: a for loop, an if and a while.
struct Sample {
  std::unique_ptr<Function> f = std::make_unique<Function>();
  Operation* loop = nullptr;
  Operation* iff = nullptr;
  Operation* wh = nullptr;

  Sample() {
    f->name = "f";
    f->resultTypes = {Type::f64()};
    Value* x = f->body.addArg(Type::f64(), "x");
    Value* n = f->body.addArg(Type::i64(), "n");
    Builder b(&f->body);
    loop = b.create(OpKind::For, {b.constI(0), n, x}, {Type::f64()}, 1);
    loop->region(0)->addArg(Type::i64(), "i");
    Value* a = loop->region(0)->addArg(Type::f64(), "a");
    Builder in(loop->region(0));
    in.yield({in.binary(OpKind::Mul, a, x)});
    Value* c = b.binary(OpKind::Gt, loop->result(), x);
    iff = b.create(OpKind::If, {c}, {Type::f64()}, 2);
    Builder t(iff->region(0));
    t.yield({t.unary(OpKind::Exp, x)});
    Builder e(iff->region(1));
    e.yield({x});
    wh = b.create(OpKind::While, {iff->result()}, {Type::f64()}, 2);
    Value* cv = wh->region(0)->addArg(Type::f64(), "v");
    Builder wc(wh->region(0));
    wc.yield({wc.binary(OpKind::Lt, cv, wc.constF(100.0))});
    Value* bv = wh->region(1)->addArg(Type::f64(), "v");
    Builder wb(wh->region(1));
    wb.yield({wb.binary(OpKind::Add, bv, bv)});
    b.ret({wh->result()});
  }
};

}  // namespace

TEST_CASE("verifier: a valid function has no errors", "[ir][verifier]") {
  Sample s;
  auto errs = verifyFunction(*s.f);
  INFO(joined(errs));
  CHECK(errs.empty());
}

TEST_CASE("verifier: operand types and arity", "[ir][verifier]") {
  Sample s;
  Builder b(&s.f->body);
  Value* x = s.f->param(0);
  Value* n = s.f->param(1);
  auto insertBefore = [&](std::unique_ptr<Operation> op) {
    op->parent = &s.f->body;
    s.f->body.ops.insert(s.f->body.ops.end() - 1, std::move(op));
  };
  auto mk = [&](OpKind k, std::vector<Value*> ops, Type rt) {
    auto op = std::make_unique<Operation>(k);
    op->operands = std::move(ops);
    op->addResult(rt);
    return op;
  };
  SECTION("mismatched binary operands") {
    insertBefore(mk(OpKind::Add, {x, n}, Type::f64()));
    auto errs = verifyFunction(*s.f);
    CHECK(mentions(errs, "@f: op 5 (add): operand types differ (f64 vs i64)"));
  }
  SECTION("wrong result type") {
    insertBefore(mk(OpKind::Mul, {x, x}, Type::i64()));
    CHECK(mentions(verifyFunction(*s.f), "op 5 (mul): result type i64, expected f64"));
  }
  SECTION("comparison must give bool") {
    insertBefore(mk(OpKind::Lt, {x, x}, Type::f64()));
    CHECK(mentions(verifyFunction(*s.f), "op 5 (lt): result type f64, expected bool"));
  }
  SECTION("float-only op on an integer") {
    insertBefore(mk(OpKind::Exp, {n}, Type::i64()));
    CHECK(mentions(verifyFunction(*s.f), "op 5 (exp): operand must be a float"));
    insertBefore(mk(OpKind::Pow, {n, n}, Type::i64()));
    CHECK(mentions(verifyFunction(*s.f), "op 6 (pow): operands must be floats"));
  }
  SECTION("logic on non-bool") {
    insertBefore(mk(OpKind::And, {x, x}, Type::f64()));
    CHECK(mentions(verifyFunction(*s.f), "op 5 (and): operands must be bool"));
  }
  SECTION("select") {
    insertBefore(mk(OpKind::Select, {x, x, x}, Type::f64()));
    CHECK(mentions(verifyFunction(*s.f), "op 5 (select): condition must be a bool scalar"));
  }
  SECTION("random numbers: i64 key and index, a float (mix: i64) result") {
    insertBefore(mk(OpKind::RandUniform, {x, n}, Type::f64()));
    CHECK(mentions(verifyFunction(*s.f), "op 5 (rand_uniform): operands must be i64 scalars (key, index)"));
    insertBefore(mk(OpKind::RandNormal, {n, n}, Type::i64()));
    CHECK(mentions(verifyFunction(*s.f), "op 6 (rand_normal): result must be a float scalar"));
    insertBefore(mk(OpKind::RandMix, {n, n}, Type::f64()));
    CHECK(mentions(verifyFunction(*s.f), "op 7 (rand_mix): result type f64, expected i64"));
    insertBefore(mk(OpKind::RandUniform, {n, n}, Type::f32()));
    CHECK_FALSE(mentions(verifyFunction(*s.f), "op 8"));
  }
  SECTION("arity") {
    insertBefore(mk(OpKind::Neg, {x, x}, Type::f64()));
    CHECK(mentions(verifyFunction(*s.f), "op 5 (neg): expects 1 operands, has 2"));
  }
  SECTION("wrong return types") {
    s.f->resultTypes = {Type::i64()};
    CHECK(mentions(verifyFunction(*s.f), "op 5 (return): returns (f64) but the function's results are (i64)"));
  }
}

TEST_CASE("verifier: region signatures", "[ir][verifier]") {
  Sample s;
  SECTION("if condition and yields") {
    s.iff->operands[0] = s.f->param(0);
    s.iff->region(1)->ops.back()->operands[0] = s.f->param(1);
    auto errs = verifyFunction(*s.f);
    CHECK(mentions(errs, "op 3 (if): condition must be bool"));
    CHECK(mentions(errs, "op 3 (if) region 1: yields (i64), expected (f64)"));
  }
  SECTION("for bounds and carried types") {
    s.loop->operands[1] = s.f->param(0);
    s.loop->region(0)->args[1]->type = Type::i64();
    auto errs = verifyFunction(*s.f);
    CHECK(mentions(errs, "op 1 (for): bounds must be i64"));
    CHECK(mentions(errs, "op 1 (for) region 0: arguments (i64, i64), expected (i64, f64)"));
  }
  SECTION("while condition must yield one bool") {
    Block* cond = s.wh->region(0);
    cond->ops.back()->operands[0] = cond->arg(0);
    CHECK(mentions(verifyFunction(*s.f), "op 4 (while) region 0: yields (f64), expected (bool)"));
  }
  SECTION("while body arguments") {
    s.wh->region(1)->addArg(Type::f64(), "extra");
    CHECK(mentions(verifyFunction(*s.f), "op 4 (while) region 1: arguments (f64, f64), expected (f64)"));
  }
  SECTION("missing terminator in a region") {
    s.iff->region(0)->ops.pop_back();
    CHECK(mentions(verifyFunction(*s.f), "op 3 (if) region 0: op 0 (exp): block must end with 'yield'"));
  }
  SECTION("terminator in the middle, missing return") {
    Builder b(&s.f->body);
    b.constI(1);
    auto errs = verifyFunction(*s.f);
    CHECK(mentions(errs, "op 5 (return): terminator in the middle of a block"));
    CHECK(mentions(errs, "op 6 (consti): block must end with 'return'"));
  }
  SECTION("empty region") {
    s.iff->region(1)->ops.clear();
    CHECK(mentions(verifyFunction(*s.f), "op 3 (if) region 1: block is empty"));
  }
}

TEST_CASE("verifier: dominance", "[ir][verifier]") {
  Sample s;
  SECTION("use before definition in the same block") {
    std::swap(s.f->body.ops[2], s.f->body.ops[3]);  // gt after the if that uses it
    CHECK(mentions(verifyFunction(*s.f), "op 2 (if): operand 0 does not dominate its use"));
  }
  SECTION("use of a region value after the region") {
    Value* inner = s.loop->region(0)->ops[0]->result();  // the mul inside the loop
    s.f->body.ops.back()->operands[0] = inner;
    s.f->resultTypes = {Type::f64()};
    CHECK(mentions(verifyFunction(*s.f), "op 5 (return): operand 0 does not dominate its use"));
  }
  SECTION("use of another region's argument") {
    s.iff->region(0)->ops.back()->operands[0] = s.loop->region(0)->arg(1);
    CHECK(mentions(verifyFunction(*s.f), "op 3 (if) region 0: op 1 (yield): operand 0 ('a') does not dominate"));
  }
  SECTION("an outer value used inside a region is fine") {
    CHECK(verifyFunction(*s.f).empty());
  }
}

TEST_CASE("verifier: structural links", "[ir][verifier]") {
  Sample s;
  SECTION("result index") {
    s.f->body.ops[0]->results[0]->index = 3;
    CHECK(mentions(verifyFunction(*s.f), "op 0 (consti): result 0 has inconsistent def/index"));
  }
  SECTION("argument owner") {
    s.loop->region(0)->args[0]->owner = &s.f->body;
    CHECK(mentions(verifyFunction(*s.f), "op 1 (for) region 0: argument 0 has inconsistent owner"));
  }
  SECTION("op parent") {
    s.f->body.ops[0]->parent = nullptr;
    CHECK(mentions(verifyFunction(*s.f), "op 0 (consti): op's parent does not point to its block"));
  }
}

TEST_CASE("verifier: calls against the module", "[ir][verifier]") {
  Module m;
  auto sq = std::make_unique<Function>();
  sq->name = "sq";
  sq->resultTypes = {Type::f64()};
  Value* p = sq->body.addArg(Type::f64(), "p");
  Builder sb(&sq->body);
  sb.ret({sb.binary(OpKind::Mul, p, p)});
  m.add(std::move(sq));
  auto f = std::make_unique<Function>();
  f->name = "main";
  f->resultTypes = {Type::f64()};
  Value* x = f->body.addArg(Type::f64(), "x");
  Builder b(&f->body);
  Operation* call = b.create(OpKind::Call, {x}, {Type::f64()});
  call->s = "sq";
  Operation* g = b.create(OpKind::GradCall, {x}, {Type::f64(), Type::f64()});
  g->s = "sq";
  g->ints = encodeLevels({{DiffKind::ValueAndGrad, {0}}});
  b.ret({b.binary(OpKind::Add, call->result(), g->result(1))});
  Function* main = m.add(std::move(f));
  CHECK(verifyModule(m).empty());
  SECTION("unknown callee") {
    call->s = "nope";
    CHECK(mentions(verifyFunction(*main, &m), "op 0 (call): unknown callee @nope"));
    CHECK(verifyFunction(*main).empty());  // without a module calls are not checked
  }
  SECTION("operand types") {
    call->operands[0] = b.constI(1);  // appended last: move it to the front
    auto& ops = main->body.ops;
    std::rotate(ops.begin(), ops.end() - 1, ops.end());
    auto errs = verifyFunction(*main, &m);
    REQUIRE(errs.size() == 1);
    CHECK(errs[0] == "@main: op 1 (call): operands (i64) do not match @sq parameters (f64)");
  }
  SECTION("grad_call results") {
    g->ints = encodeLevels({{DiffKind::Grad, {0}}});
    CHECK(mentions(verifyFunction(*main, &m), "op 1 (grad_call): results (f64, f64), expected (f64)"));
    g->ints = encodeLevels({{DiffKind::Grad, {3}}});
    CHECK(mentions(verifyFunction(*main, &m), "op 1 (grad_call): cannot derive @sq: parameter index 3 is out of range"));
    g->ints = {7, 1};
    CHECK(mentions(verifyFunction(*main, &m), "op 1 (grad_call): malformed derivative levels"));
  }
}
