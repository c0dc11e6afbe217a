// Differential test of the simplify pass on arrays: random programs (every
// value returned) of rank-1 maps (cheap and expensive bodies), fills, slices, reduces of every
// kind and reads at a parameter index (sometimes out of range) are run by the
// reference interpreter before and after simplify; the results, or the
// runtime error messages, must be identical.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>

#include "array_ir_util.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Simplify.h"

using namespace arrtest;

namespace {

const Type F = Type::f64(), I = Type::i64(), F1 = arr(Scalar::F64, 1);

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  void build(Fn& t) {
    arrays_ = {t.p(0), t.p(1)};
    k_ = t.p(2);
    std::vector<Value*> rets;
    for (int s = 0; s < 8; ++s) step(t.b, rets);
    for (size_t a = 2; a < arrays_.size(); ++a) rets.push_back(arrays_[a]);  // nothing dead: a
    // dead op that would fail may be removed (IR.h), which is not what this tests
    for (Value* v : rets) t.f->resultTypes.push_back(v->type);
    t.b.ret(rets);
  }

 private:
  int roll(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  Value* pick() { return arrays_[static_cast<size_t>(roll(static_cast<int>(arrays_.size())))]; }

  // A scalar element expression at index i.
  Value* element(Builder& b, Value* i) {
    Value* a = index(b, pick(), {i});
    switch (roll(5)) {
      case 0: return b.unary(OpKind::Exp, a);
      case 1: return b.binary(OpKind::Mul, a, index(b, pick(), {i}));
      case 2: return b.binary(OpKind::Sub, a, b.constF(0.5));
      case 3: {  // expensive: a nested reduce
        Value* n = dim(b, pick(), 0);
        return reduce(b, "sum", b.constI(0), n, [&](Builder& r, Value* j) {
          return r.binary(OpKind::Mul, a, index(r, pick(), {j}));
        }, "j");
      }
      default: return a;
    }
  }

  void step(Builder& b, std::vector<Value*>& rets) {
    b.setLoc({roll(90) + 1, roll(9) + 1});
    Value* n = dim(b, pick(), 0);
    switch (roll(6)) {
      case 0: case 1:
        arrays_.push_back(map(b, {n}, [&](Builder& in, const std::vector<Value*>& i) { return element(in, i[0]); }));
        return;
      case 2: arrays_.push_back(b.create(OpKind::Fill, {b.constF(0.25 * roll(8)), n}, {F1})->result()); return;
      case 3: {
        Value* lo = b.constI(roll(2));
        arrays_.push_back(select(b, OpKind::Slice, pick(), nullptr, {1}, {lo, b.binary(OpKind::Add, lo, b.constI(4))}));
        return;
      }
      case 4: {
        const char* kinds[] = {"sum", "prod", "max", "min", "logsumexp"};
        Value* a = pick();
        rets.push_back(reduce(b, kinds[roll(5)], b.constI(0), dim(b, a, 0),
                              [&](Builder& in, Value* i) { return element(in, i); }));
        return;
      }
      default: rets.push_back(index(b, pick(), {k_})); return;
    }
  }

  std::mt19937_64 rng_;
  std::vector<Value*> arrays_;
  Value* k_ = nullptr;
};

// Reads of a map's result (what fusion removes).
size_t mapReads(const Block& blk) {
  size_t n = 0;
  for (auto& op : blk.ops) {
    n += op->kind == OpKind::Index && op->operand(0)->def && op->operand(0)->def->kind == OpKind::Map;
    for (auto& r : op->regions) n += mapReads(*r);
  }
  return n;
}

std::string outcome(Fn& t, const std::vector<RtValue>& args) {
  try {
    std::string s;
    for (const RtValue& v : interpret(t.m, *t.f, args)) s += formatRtValue(v) + ";";
    return s;
  } catch (const InterpError& e) {
    return std::string("error ") + e.what();
  }
}

}  // namespace

TEST_CASE("simplify arrays: random programs keep their results", "[passes][simplify][arrays][random]") {
  size_t mapsBefore = 0, mapsAfter = 0, asserts = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    Fn t({F1, F1, I}, {}, {"x", "y", "k"});
    Gen(seed).build(t);
    std::string before = printFunction(*t.f);
    REQUIRE(verifyFunction(*t.f, &t.m).empty());
    std::vector<std::vector<RtValue>> inputs;
    for (int64_t k : {0, 3, 4, 6, -1}) {
      inputs.push_back({RtValue::array(Scalar::F64, {6}, {0.5, -1.0, 2.0, 0.0, 1.5, -0.25}),
                        RtValue::array(Scalar::F64, {6}, {1.0, 0.5, -2.0, 3.0, 0.125, 1.0}), RtValue::i64(k)});
    }
    std::vector<std::string> want;
    for (auto& in : inputs) want.push_back(outcome(t, in));
    mapsBefore += mapReads(t.f->body);
    chain::passes::simplify(t.m, *t.f);
    mapsAfter += mapReads(t.f->body);
    asserts += countOps(t.f->body, OpKind::Assert);
    auto errs = verifyFunction(*t.f, &t.m);
    INFO("seed " << seed << "\n" << before << "after:\n" << printFunction(*t.f));
    REQUIRE(errs.empty());
    for (size_t c = 0; c < inputs.size(); ++c) CHECK(outcome(t, inputs[c]) == want[c]);
  }
  // the programs do exercise fusion (map reads disappear) and kept bounds checks
  INFO(mapsBefore << " map reads before, " << mapsAfter << " after, " << asserts << " asserts");
  CHECK(mapsAfter < mapsBefore * 3 / 4);
  CHECK(asserts > 0);
}
