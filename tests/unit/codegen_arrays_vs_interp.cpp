// Array code generation against the reference interpreter (ir::interpret):
// a small dense layer (matmul, map, logsumexp), a loop of in-place updates
// and slices, i64 reductions with fill and build, and the out-of-bounds error
// (the JIT's message is "test.chain:" + the interpreter's). Reductions may be
// reordered by the JIT, so floats agree to a relative 1e-12.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "codegen_array_util.h"
#include "ir/Interpreter.h"

using namespace cgtest;
using chain::ir::RtValue;

namespace {

// One argument in the ABI encoding, kept alive for the call.
struct AbiArg {
  Slot scalar{};
  std::vector<double> f64;
  std::vector<float> f32;
  std::vector<int64_t> i64;
  std::vector<uint8_t> b8;
  ChainArray desc{};
};

void pack(const RtValue& v, AbiArg& a) {
  if (!v.isArray()) {
    switch (v.type.elem) {
      case Scalar::F64: a.scalar.d = v.f; break;
      case Scalar::F32: a.scalar.f = static_cast<float>(v.f); break;
      case Scalar::I64: a.scalar.i = v.i; break;
      case Scalar::Bool: a.scalar.b = v.i != 0; break;
    }
    return;
  }
  std::vector<double> xs = v.values();
  for (size_t k = 0; k < v.shape.size(); ++k) a.desc.shape[k] = v.shape[k];
  switch (v.type.elem) {
    case Scalar::F64: a.f64 = xs; a.desc.data = a.f64.data(); break;
    case Scalar::F32: a.f32.assign(xs.begin(), xs.end()); a.desc.data = a.f32.data(); break;
    case Scalar::I64: a.i64.assign(xs.begin(), xs.end()); a.desc.data = a.i64.data(); break;
    case Scalar::Bool: a.b8.assign(xs.begin(), xs.end()); a.desc.data = a.b8.data(); break;
  }
}

bool close(double want, double got) {
  if (std::isnan(want)) return std::isnan(got);
  if (want == got) return true;
  return std::fabs(want - got) <= 1e-12 * std::max(std::fabs(want), std::fabs(got));
}

// Runs `fb` in the interpreter and the JIT on `args`; compares everything.
void compareWithInterp(FnBuilder& fb, const std::vector<RtValue>& args) {
  std::vector<RtValue> want;
  std::string interpErr;
  try {
    want = ir::interpret(fb.mod, *fb.fn, args);
  } catch (const ir::InterpError& e) {
    interpErr = e.what();
  }
  Compiled c = compile(fb);
  std::vector<AbiArg> abi(args.size());
  std::vector<void*> ap;
  for (size_t k = 0; k < args.size(); ++k) {
    pack(args[k], abi[k]);
    ap.push_back(args[k].isArray() ? static_cast<void*>(&abi[k].desc) : &abi[k].scalar);
  }
  size_t nres = fb.fn->resultTypes.size();
  std::vector<AbiArg> res(nres);
  std::vector<void*> rp;
  for (size_t j = 0; j < nres; ++j)
    rp.push_back(fb.fn->resultTypes[j].rank ? static_cast<void*>(&res[j].desc) : &res[j].scalar);
  RawCall r = callRaw(c.entry, ap, rp);
  if (!interpErr.empty()) {
    CHECK(r.status == CHAIN_ERR_RUNTIME);
    CHECK(r.message == "test.chain:" + interpErr);
    return;
  }
  REQUIRE(r.status == 0);
  REQUIRE(want.size() == nres);
  for (size_t j = 0; j < nres; ++j) {
    Type t = fb.fn->resultTypes[j];
    std::vector<double> got;
    if (t.rank == 0) {
      got = {t.elem == Scalar::F64 ? res[j].scalar.d
             : t.elem == Scalar::F32 ? double(res[j].scalar.f)
             : t.elem == Scalar::I64 ? double(res[j].scalar.i) : double(res[j].scalar.b)};
    } else {
      std::vector<int64_t> shape;
      if (t.elem == Scalar::F64) got = takeResult<double>(res[j].desc, t.rank, &shape);
      if (t.elem == Scalar::I64) {
        auto v = takeResult<int64_t>(res[j].desc, t.rank, &shape);
        got.assign(v.begin(), v.end());
      }
      CHECK(shape == want[j].shape);
    }
    std::vector<double> w = want[j].values();
    REQUIRE(w.size() == got.size());
    for (size_t k = 0; k < w.size(); ++k) {
      INFO("result " << j << " element " << k);
      CHECK(close(w[k], got[k]));
    }
  }
}

RtValue randomArray(std::mt19937& rng, std::vector<int64_t> shape, double scale) {
  std::normal_distribution<double> d(0, scale);
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<double> xs(static_cast<size_t>(n));
  for (double& x : xs) x = d(rng);
  return RtValue::array(Scalar::F64, shape, xs);
}

}  // namespace

TEST_CASE("arrays vs interpreter: a dense layer with logsumexp", "[codegen][arrays][interp]") {
  // f(x: f64[n], W: f64[m, n], b: f64[m]) = (logsumexp_i (W@x + b)[i], [tanh((W@x)[i] + b[i])], W^T @ W)
  FnBuilder fb("layer", {F64A(1), F64A(2), F64A(1)});
  ir::Builder& b = fb.b;
  b.setLoc({2, 9});
  Value* wx = b.create(AK::MatMul, {fb.p(1), fb.p(0)}, {F64A(1)})->result();
  Value* z = mapOf(b, Scalar::F64, {dimOf(b, wx, 0)}, [&](ir::Builder& in, std::vector<Value*> i) {
    return in.binary(AK::Add, at(in, wx, {i[0]}), at(in, fb.p(2), {i[0]}));
  });
  Value* lse = reduceOf(b, "logsumexp", Type::f64(), b.constI(0), dimOf(b, z, 0),
                        [&](ir::Builder& in, Value* i) { return at(in, z, {i}); });
  Value* act = mapOf(b, Scalar::F64, {dimOf(b, z, 0)}, [&](ir::Builder& in, std::vector<Value*> i) {
    return in.unary(AK::Tanh, at(in, z, {i[0]}));
  });
  Value* wt = b.create(AK::Transpose, {fb.p(1)}, {F64A(2)})->result();
  Value* gram = b.create(AK::MatMul, {wt, fb.p(1)}, {F64A(2)})->result();
  fb.ret({lse, act, gram});
  std::mt19937 rng(3);
  compareWithInterp(fb, {randomArray(rng, {7}, 1), randomArray(rng, {5, 7}, 30), randomArray(rng, {5}, 1)});
  // b too short: index 3 of b (size 3) fails in the map body.
  compareWithInterp(fb, {randomArray(rng, {7}, 1), randomArray(rng, {5, 7}, 1), randomArray(rng, {3}, 1)});
}

TEST_CASE("arrays vs interpreter: updates and slices in a loop", "[codegen][arrays][interp]") {
  // for k in 0..n { A[k, 0] = A[k, 0] * 2 + sum(A[k]); A[:, 1] += A[k] (as add_at of a column) }
  FnBuilder fb("upd", {F64A(2)});
  ir::Builder& b = fb.b;
  Value* n = dimOf(b, fb.p(0), 0);
  ir::Operation* loop = b.create(AK::For, {b.constI(0), n, fb.p(0)}, {F64A(2)}, 1);
  Value* k = loop->region(0)->addArg(Type::i64());
  Value* A = loop->region(0)->addArg(F64A(2));
  ir::Builder in(loop->region(0));
  Value* row = sel(in, AK::Slice, F64A(1), {A, k}, {0, 2});
  Value* s = reduceOf(in, "sum", Type::f64(), in.constI(0), dimOf(in, row, 0),
                      [&](ir::Builder& r, Value* i) { return at(r, row, {i}); });
  Value* v = in.binary(AK::Add, in.binary(AK::Mul, at(in, A, {k, in.constI(0)}), in.constF(2)), s);
  Value* A2 = sel(in, AK::Update, F64A(2), {A, v, k, in.constI(0)}, {0, 0});
  Value* part = sel(in, AK::Slice, F64A(1), {A2, in.constI(0), n, in.constI(1)}, {1, 0});
  Value* A3 = sel(in, AK::AddAt, F64A(2), {A2, part, in.constI(2)}, {2, 0});
  in.yield({A3});
  fb.ret({loop->result(0)});
  std::mt19937 rng(5);
  compareWithInterp(fb, {randomArray(rng, {4, 3}, 1)});
  compareWithInterp(fb, {randomArray(rng, {0, 3}, 1)});
}

TEST_CASE("arrays vs interpreter: i64 reductions, fill and build", "[codegen][arrays][interp]") {
  FnBuilder fb("ints", {arrT(Scalar::I64, 1), Type::i64()});
  ir::Builder& b = fb.b;
  std::vector<Value*> rs;
  for (const char* kind : {"sum", "prod", "max", "min"})
    rs.push_back(reduceOf(b, kind, Type::i64(), b.constI(0), dimOf(b, fb.p(0), 0),
                          [&](ir::Builder& in, Value* i) { return at(in, fb.p(0), {i}); }));
  Value* lse = reduceOf(b, "logsumexp", Type::f64(), b.constI(0), dimOf(b, fb.p(0), 0),
                        [&](ir::Builder& in, Value* i) { return in.cast(at(in, fb.p(0), {i}), Type::f64()); });
  Value* f = b.create(AK::Fill, {b.constI(3), fb.p(1), b.constI(2)}, {arrT(Scalar::I64, 2)})->result();
  Value* bl = b.create(AK::Build, {rs[0], rs[2], fb.p(1)}, {arrT(Scalar::I64, 1)})->result();
  fb.ret({rs[0], rs[1], rs[2], rs[3], lse, f, bl});
  compareWithInterp(fb, {RtValue::arrayI({5}, {3, -4, 11, 2, -9}), RtValue::i64(3)});
  compareWithInterp(fb, {RtValue::arrayI({0}, {}), RtValue::i64(0)});
}
