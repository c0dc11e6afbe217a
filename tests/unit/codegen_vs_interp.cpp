// The JIT against the reference IR interpreter (ir/Interpreter.h), the
// oracle: every unary and binary scalar op on f64, f32 and i64 over a grid of
// inputs (including -0, infinities, NaN, INT64_MIN), every cast, the random
// numbers (bit for bit) and a loop program. All functions go to the JIT in one batch. Runtime errors must
// agree too (the interpreter throws, the JIT returns CHAIN_ERR_RUNTIME).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "codegen_util.h"
#include "ir/Interpreter.h"

using namespace cgtest;
using K = chain::ir::OpKind;
using chain::ir::RtValue;
using chain::ir::Scalar;
using chain::ir::Type;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<RtValue> grid(Scalar s) {
  std::vector<RtValue> g;
  if (s == Scalar::I64) {
    for (int64_t v : {INT64_MIN, int64_t(-7), int64_t(-1), int64_t(0), int64_t(1), int64_t(2),
                      int64_t(7), INT64_MAX})
      g.push_back(RtValue::i64(v));
  } else if (s == Scalar::Bool) {
    g = {RtValue::boolean(false), RtValue::boolean(true)};
  } else {
    for (double v : {-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, 1e300, kInf, kNaN})
      g.push_back(s == Scalar::F64 ? RtValue::f64(v) : RtValue::f32(static_cast<float>(v)));
  }
  return g;
}

Slot toSlot(const RtValue& v) {
  switch (v.type.elem) {
    case Scalar::F64: return D(v.f);
    case Scalar::F32: return F(static_cast<float>(v.f));
    case Scalar::I64: return I(v.i);
    case Scalar::Bool: return B(v.i != 0);
  }
  return Slot{};
}

// Exact agreement, except f32 transcendentals (libm's f32 functions against
// the interpreter's rounded double result; sigmoid and softplus round
// several f32 steps): 4 ulp.
bool agree(const RtValue& want, const Slot& got, bool loose) {
  switch (want.type.elem) {
    case Scalar::F64: {
      if (std::isnan(want.f)) return std::isnan(got.d);
      return std::memcmp(&want.f, &got.d, sizeof(double)) == 0;
    }
    case Scalar::F32: {
      float w = static_cast<float>(want.f);
      if (std::isnan(w)) return std::isnan(got.f);
      if (std::memcmp(&w, &got.f, sizeof(float)) == 0) return true;
      float ulp = std::fabs(std::nextafter(w, std::numeric_limits<float>::infinity()) - w);
      return loose && std::fabs(w - got.f) <= 4 * ulp;
    }
    case Scalar::I64: return want.i == got.i;
    case Scalar::Bool: return (want.i != 0) == (got.b != 0);
  }
  return false;
}

struct Case {
  chain::ir::Function* fn;
  std::vector<Scalar> params;
  bool loose;
};

void addFn(chain::ir::Module& m, std::vector<Case>& cases, const std::string& name,
           std::vector<Type> params, bool loose,
           const std::function<chain::ir::Value*(chain::ir::Builder&,
                                                 std::vector<chain::ir::Value*>)>& body) {
  auto f = std::make_unique<chain::ir::Function>();
  f->name = name;
  std::vector<chain::ir::Value*> ps;
  std::vector<Scalar> kinds;
  for (Type t : params) {
    ps.push_back(f->body.addArg(t));
    kinds.push_back(t.elem);
  }
  chain::ir::Builder b(&f->body);
  b.setLoc({1, 1});
  chain::ir::Value* r = body(b, ps);
  f->resultTypes.push_back(r->type);
  b.ret({r});
  cases.push_back({m.add(std::move(f)), kinds, loose});
}

void runCases(const std::vector<Case>& cases, const chain::ir::Module& m,
              chain::codegen::JitEngine& jit) {
  for (const Case& c : cases) {
    chain::codegen::EntryFn e = jit.lookup(c.fn->name);
    REQUIRE(e);
    std::vector<std::vector<RtValue>> inputs{{}};
    for (Scalar s : c.params) {
      std::vector<std::vector<RtValue>> next;
      for (auto& in : inputs)
        for (const RtValue& v : grid(s)) {
          next.push_back(in);
          next.back().push_back(v);
        }
      inputs = next;
    }
    for (const auto& in : inputs) {
      std::vector<Slot> slots;
      for (const RtValue& v : in) slots.push_back(toSlot(v));
      CallResult got = call(e, slots, 1);
      std::string args;
      for (const RtValue& v : in) args += (v.type.isFloat() ? std::to_string(v.f) : std::to_string(v.i)) + " ";
      INFO(c.fn->name << "(" << args << ")");
      try {
        std::vector<RtValue> want = chain::ir::interpret(m, *c.fn, in);
        REQUIRE(got.status == CHAIN_OK);
        CHECK(agree(want[0], got.results[0], c.loose));
      } catch (const chain::ir::InterpError& err) {
        INFO("interpreter: " << err.what());
        CHECK(got.status == CHAIN_ERR_RUNTIME);
      }
    }
  }
}

}  // namespace

TEST_CASE("codegen vs interpreter: every scalar op on every type", "[codegen]") {
  chain::ir::Module m;
  m.fileName = "oracle.chain";
  std::vector<Case> cases;
  const K numericBinary[] = {K::Add, K::Sub, K::Mul, K::Div, K::Rem, K::Min, K::Max,
                             K::Lt,  K::Le,  K::Gt,  K::Ge,  K::Eq,  K::Ne};
  const K floatBinary[] = {K::Pow, K::Atan2};
  const K floatUnary[] = {K::Exp,  K::Log,     K::Sqrt, K::Sin,     K::Cos,   K::Tan,
                          K::Tanh, K::Sigmoid, K::Relu, K::Softplus, K::Log1p, K::Expm1,
                          K::Floor, K::Ceil,   K::Neg,  K::Abs};
  for (Type t : {Type::f64(), Type::f32(), Type::i64()}) {
    bool fl = t.isFloat();
    for (K k : numericBinary)
      addFn(m, cases, std::string(chain::ir::opName(k)) + "_" + t.str(), {t, t}, false,
            [k](chain::ir::Builder& b, auto p) { return b.binary(k, p[0], p[1]); });
    for (K k : fl ? std::vector<K>(std::begin(floatBinary), std::end(floatBinary))
                  : std::vector<K>{})
      addFn(m, cases, std::string(chain::ir::opName(k)) + "_" + t.str(), {t, t}, true,
            [k](chain::ir::Builder& b, auto p) { return b.binary(k, p[0], p[1]); });
    for (K k : fl ? std::vector<K>(std::begin(floatUnary), std::end(floatUnary))
                  : std::vector<K>{K::Neg, K::Abs})
      addFn(m, cases, std::string(chain::ir::opName(k)) + "_" + t.str(), {t}, true,
            [k](chain::ir::Builder& b, auto p) { return b.unary(k, p[0]); });
  }
  for (K k : {K::And, K::Or})
    addFn(m, cases, std::string(chain::ir::opName(k)) + "_bool",
          {Type::boolean(), Type::boolean()}, false,
          [k](chain::ir::Builder& b, auto p) { return b.binary(k, p[0], p[1]); });
  const Type all[] = {Type::f64(), Type::f32(), Type::i64(), Type::boolean()};
  for (Type from : all)
    for (Type to : all)
      if (from != to)
        addFn(m, cases, "cast_" + from.str() + "_" + to.str(), {from}, false,
              [to](chain::ir::Builder& b, auto p) { return b.cast(p[0], to); });
  addFn(m, cases, "select_f64", {Type::boolean(), Type::f64(), Type::f64()}, false,
        [](chain::ir::Builder& b, auto p) { return b.select(p[0], p[1], p[2]); });

  std::vector<const chain::ir::Function*> fns;
  for (const Case& c : cases) fns.push_back(c.fn);
  for (int opt : {0, 2}) {
    chain::codegen::CodegenOptions o;
    o.optLevel = opt;
    auto jit = chain::codegen::JitEngine::create();
    jit->add(m, fns, o);
    runCases(cases, m, *jit);
  }
}

TEST_CASE("codegen vs interpreter: random numbers, bit for bit", "[codegen]") {
  // Every pair of the i64 grid (INT64_MIN .. INT64_MAX) as key and index.
  chain::ir::Module m;
  std::vector<Case> cases;
  for (K k : {K::RandUniform, K::RandNormal, K::RandMix})
    for (Type t : {Type::f64(), Type::f32()}) {
      if (k == K::RandMix && t == Type::f32()) continue;
      Type rt = k == K::RandMix ? Type::i64() : t;
      addFn(m, cases, std::string(chain::ir::opName(k)) + "_" + rt.str(), {Type::i64(), Type::i64()},
            false, [k, rt](chain::ir::Builder& b, auto p) {
              return b.create(k, {p[0], p[1]}, {rt})->result();
            });
    }
  std::vector<const chain::ir::Function*> fns;
  for (const Case& c : cases) fns.push_back(c.fn);
  auto jit = chain::codegen::JitEngine::create();
  jit->add(m, fns, chain::codegen::CodegenOptions{});
  runCases(cases, m, *jit);
}

TEST_CASE("codegen vs interpreter: a loop with a branch and a tape", "[codegen]") {
  // for i in 0..n: push(acc); acc = if acc > 1 { acc / 2 } else { acc * 3 + i }
  // then for i in 0..n: acc = acc + pop() * 0.5
  chain::ir::Module m;
  std::vector<Case> cases;
  addFn(m, cases, "loop", {Type::i64()}, false, [](chain::ir::Builder& b, auto p) {
    chain::ir::Block* top = b.block();
    auto* l1 = b.create(K::For, {b.constI(0), p[0], b.constF(0.25)}, {Type::f64()}, 1);
    chain::ir::Value* i = l1->region(0)->addArg(Type::i64());
    chain::ir::Value* acc = l1->region(0)->addArg(Type::f64());
    b.setBlock(l1->region(0));
    b.create(K::TapePush, {acc}, {});
    auto* iff = b.create(K::If, {b.binary(K::Gt, acc, b.constF(1.0))}, {Type::f64()}, 2);
    b.setBlock(iff->region(0));
    b.yield({b.binary(K::Div, acc, b.constF(2.0))});
    b.setBlock(iff->region(1));
    b.yield({b.binary(K::Add, b.binary(K::Mul, acc, b.constF(3.0)), b.cast(i, Type::f64()))});
    b.setBlock(l1->region(0));
    b.yield({iff->result()});
    b.setBlock(top);
    auto* l2 = b.create(K::For, {b.constI(0), p[0], l1->result()}, {Type::f64()}, 1);
    l2->region(0)->addArg(Type::i64());
    chain::ir::Value* acc2 = l2->region(0)->addArg(Type::f64());
    b.setBlock(l2->region(0));
    auto* pop = b.create(K::TapePop, {}, {Type::f64()});
    b.yield({b.binary(K::Add, acc2, b.binary(K::Mul, pop->result(), b.constF(0.5)))});
    b.setBlock(top);
    return l2->result();
  });
  auto jit = chain::codegen::JitEngine::create();
  jit->add(m, {cases[0].fn}, {});
  chain::codegen::EntryFn e = jit->lookup("loop");
  REQUIRE(e);
  for (int64_t n : {-5, 0, 1, 2, 7, 100, 1000}) {
    std::vector<RtValue> want = chain::ir::interpret(m, *cases[0].fn, {RtValue::i64(n)});
    CallResult got = call(e, {I(n)}, 1);
    REQUIRE(got.status == CHAIN_OK);
    CHECK(got.tapeTop == 0);
    CHECK(agree(want[0], got.results[0], false));
  }
}
