// Differential test of the simplify pass: random well-typed programs (scalar
// ops of every kind, constants chosen to hit the folding rules and their
// exceptions, ifs and for loops, prints) are run by the reference interpreter
// before and after simplify; results and printed output must be identical.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Simplify.h"

using namespace chain::ir;

namespace {

const Type F = Type::f64(), I = Type::i64(), B = Type::boolean();

struct Pool {
  std::vector<Value*> f, i, b;
  std::vector<Value*>& of(Type t) { return t == F ? f : t == I ? i : b; }
};

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  std::unique_ptr<Function> function() {
    auto fn = std::make_unique<Function>();
    fn->name = "r";
    Pool pool;
    pool.f = {fn->body.addArg(F, "x"), fn->body.addArg(F, "y")};
    pool.i = {fn->body.addArg(I, "n")};
    pool.b = {fn->body.addArg(B, "c")};
    Builder b(&fn->body);
    fill(b, pool, 12, 0);
    std::vector<Value*> rets = {pool.f.back(), pool.f[pool.f.size() - 2], pick(pool.f),
                                pick(pool.f), pool.i.back(), pick(pool.i), pick(pool.b)};
    for (Value* v : rets) fn->resultTypes.push_back(v->type);
    b.ret(rets);
    return fn;
  }

 private:
  int roll(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  Value* pick(const std::vector<Value*>& vs) { return vs[roll(static_cast<int>(vs.size()))]; }
  template <class T>
  T choose(std::initializer_list<T> xs) {
    return xs.begin()[roll(static_cast<int>(xs.size()))];
  }

  void fill(Builder& b, Pool& pool, int n, int depth) {
    for (int k = 0; k < n; ++k) step(b, pool, depth);
  }

  void step(Builder& b, Pool& pool, int depth) {
    double inf = std::numeric_limits<double>::infinity();
    switch (roll(depth < 2 ? 13 : 11)) {
      case 0: pool.f.push_back(b.constF(choose({0.0, -0.0, 1.0, -1.0, 2.5, 0.5, 3.0, inf, -inf}))); return;
      case 1: pool.i.push_back(b.constI(choose<int64_t>({0, 1, -1, 2, 7, -7, INT64_MIN}))); return;
      case 2: pool.f.push_back(b.binary(choose({OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div,
                                                 OpKind::Min, OpKind::Max, OpKind::Pow, OpKind::Rem,
                                                 OpKind::Atan2}),
                                         pick(pool.f), pick(pool.f)));
        return;
      case 3: pool.f.push_back(b.unary(choose({OpKind::Neg, OpKind::Abs, OpKind::Exp, OpKind::Log,
                                                OpKind::Sqrt, OpKind::Sin, OpKind::Floor, OpKind::Tanh,
                                                OpKind::Relu, OpKind::Expm1, OpKind::StopGradient}),
                                        pick(pool.f)));
        return;
      case 4: pool.i.push_back(b.binary(choose({OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div,
                                                 OpKind::Rem, OpKind::Min, OpKind::Max}),
                                         pick(pool.i), pick(pool.i)));
        return;
      case 5: pool.i.push_back(b.unary(choose({OpKind::Neg, OpKind::Abs}), pick(pool.i))); return;
      case 6: {
        OpKind k = choose({OpKind::Lt, OpKind::Le, OpKind::Gt, OpKind::Ge, OpKind::Eq, OpKind::Ne});
        Type t = choose({F, I});
        pool.b.push_back(b.binary(k, pick(pool.of(t)), pick(pool.of(t))));
        return;
      }
      case 7:
        if (roll(3) == 0) pool.b.push_back(b.create(OpKind::Not, {pick(pool.b)}, {B})->result());
        else pool.b.push_back(b.binary(choose({OpKind::And, OpKind::Or}), pick(pool.b), pick(pool.b)));
        return;
      case 8: {
        Type t = choose({F, I});
        pool.of(t).push_back(b.select(pick(pool.b), pick(pool.of(t)), pick(pool.of(t))));
        return;
      }
      case 9: {
        Type from = choose({F, I, B}), to = choose({F, I});
        if (from == to) return;
        Value* v = b.create(OpKind::Cast, {pick(pool.of(from))}, {to})->result();
        pool.of(to).push_back(v);
        return;
      }
      case 10: {
        Operation* p = b.create(OpKind::Print, {pick(pool.f)}, {});
        p->s = "p";
        return;
      }
      case 11: return genIf(b, pool, depth);
      case 12: return genFor(b, pool, depth);
    }
  }

  void genIf(Builder& b, Pool& pool, int depth) {
    Operation* op = b.create(OpKind::If, {pick(pool.b)}, {F, I}, 2);
    for (int r = 0; r < 2; ++r) {
      Pool inner = pool;
      Builder in(op->region(r));
      fill(in, inner, roll(4), depth + 1);
      in.yield({pick(inner.f), pick(inner.i)});
    }
    pool.f.push_back(op->result(0));
    pool.i.push_back(op->result(1));
  }

  void genFor(Builder& b, Pool& pool, int depth) {
    Value* lo = b.constI(roll(2));
    Value* hi = roll(2) ? b.constI(roll(4)) : b.binary(OpKind::Min, pick(pool.i), b.constI(3));
    Operation* op = b.create(OpKind::For, {lo, hi, pick(pool.f), pick(pool.i)}, {F, I}, 1);
    Block* body = op->region(0);
    Pool inner = pool;
    inner.i.push_back(body->addArg(I, "i"));
    inner.f.push_back(body->addArg(F, "a"));
    inner.i.push_back(body->addArg(I, "k"));
    Builder in(body);
    fill(in, inner, 1 + roll(4), depth + 1);
    in.yield({pick(inner.f), pick(inner.i)});
    pool.f.push_back(op->result(0));
    pool.i.push_back(op->result(1));
  }

  std::mt19937_64 rng_;
};

bool same(const RtValue& a, const RtValue& b) {
  if (a.type != b.type) return false;
  if (!a.type.isFloat()) return a.i == b.i;
  if (std::isnan(a.f) && std::isnan(b.f)) return true;
  return std::memcmp(&a.f, &b.f, sizeof a.f) == 0;
}

}  // namespace

TEST_CASE("simplify: random programs keep their results", "[passes][simplify][random]") {
  double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<RtValue>> inputs = {
      {RtValue::f64(1.5), RtValue::f64(-2.0), RtValue::i64(3), RtValue::boolean(true)},
      {RtValue::f64(-0.0), RtValue::f64(0.0), RtValue::i64(0), RtValue::boolean(false)},
      {RtValue::f64(std::nan("")), RtValue::f64(inf), RtValue::i64(-1), RtValue::boolean(true)},
      {RtValue::f64(0.25), RtValue::f64(1.0), RtValue::i64(INT64_MIN), RtValue::boolean(false)},
  };
  int compared = 0;
  for (uint64_t seed = 1; seed <= 1500; ++seed) {
    Module m;
    Function* f = m.add(Gen(seed).function());
    auto g = cloneFunction(*f, "r");
    Module m2;
    chain::passes::simplify(m2, *g);
    auto errs = verifyFunction(*g);
    INFO("seed " << seed << "\n" << printFunction(*f) << "after:\n" << printFunction(*g));
    REQUIRE(errs.empty());
    for (auto& args : inputs) {
      std::string out1, out2;
      std::vector<RtValue> r1, r2;
      try {
        r1 = interpret(m, *f, args, &out1);
      } catch (const InterpError&) {
        continue;  // a trap that simplify may remove when its result is dead
      }
      REQUIRE_NOTHROW(r2 = interpret(m2, *g, args, &out2));
      REQUIRE(r1.size() == r2.size());
      for (size_t k = 0; k < r1.size(); ++k) {
        INFO("result " << k << ": " << r1[k].f << "/" << r1[k].i << " vs " << r2[k].f << "/" << r2[k].i);
        CHECK(same(r1[k], r2[k]));
      }
      CHECK(out1 == out2);
      ++compared;
    }
  }
  CHECK(compared > 3000);
}
