// The buffer plan (runtime/codegen/BufferPlan.h): which update / add_at run
// in place and which loop inits / yields are copied, checked both as
// decisions and by running the code: an array still read later, an alias made
// by select or by an if branch, a loop yielding an outer array, the same
// array given as two loop inits. Value semantics must hold in every case.
// Also the arena's per-iteration release: loops and map bodies that allocate
// keep the arena's peak (ChainCallCtx::arenaPeak) bounded by one iteration.
#include <catch2/catch.hpp>

#include "codegen_array_util.h"
#include "runtime/codegen/BufferPlan.h"

using namespace cgtest;
using chain::codegen::detail::BufferPlan;

namespace {

Value* zeros(ir::Builder& b, int64_t n) {
  return b.create(AK::Fill, {b.constF(0.0), b.constI(n)}, {F64A(1)})->result();
}

Value* set1(ir::Builder& b, Value* x, double v, int64_t i) {
  return sel(b, AK::Update, F64A(1), {x, b.constF(v), b.constI(i)}, {0});
}

std::vector<std::vector<double>> run(FnBuilder& fb, std::vector<void*> args = {}) {
  Compiled c = compile(fb);
  size_t n = fb.fn->resultTypes.size();
  std::vector<ChainArray> out(n);
  std::vector<void*> rp;
  for (ChainArray& a : out) rp.push_back(&a);
  RawCall r = callRaw(c.entry, args, rp);
  REQUIRE(r.status == 0);
  std::vector<std::vector<double>> vals;
  for (ChainArray& a : out) vals.push_back(takeResult<double>(a, 1));
  return vals;
}

using V = std::vector<double>;

}  // namespace

TEST_CASE("buffer plan: the last use of a fresh array is in place, earlier ones copy",
          "[codegen][arrays][plan]") {
  FnBuilder fb("p", {});
  ir::Builder& b = fb.b;
  Value* x = zeros(b, 3);
  Value* y = set1(b, x, 5, 0);  // x is returned later: copy
  Value* z = set1(b, y, 6, 1);  // y dead afterwards: in place
  fb.ret({x, z});
  BufferPlan plan(*fb.fn);
  CHECK_FALSE(plan.inPlace(*y->def));
  CHECK(plan.inPlace(*z->def));
  auto r = run(fb);
  CHECK(r[0] == V{0, 0, 0});
  CHECK(r[1] == V{5, 6, 0});
}

TEST_CASE("buffer plan: parameters and select aliases are never written", "[codegen][arrays][plan]") {
  FnBuilder fb("s", {F64A(1), Type::boolean()});
  ir::Builder& b = fb.b;
  Value* x = zeros(b, 3);
  Value* s = b.select(fb.p(1), x, fb.p(0));  // s may alias x or the parameter
  Value* y = set1(b, x, 7, 2);                // x's last use, but s is read later
  Value* w = set1(b, s, 9, 0);                // s's class holds a parameter
  fb.ret({y, w, s});
  BufferPlan plan(*fb.fn);
  CHECK_FALSE(plan.inPlace(*y->def));
  CHECK_FALSE(plan.inPlace(*w->def));
  ArrArg<double> p({1, 2, 3}, {3});
  uint8_t c = 1;
  auto r = run(fb, {p.ptr(), &c});
  CHECK(r[0] == V{0, 0, 7});
  CHECK(r[1] == V{9, 0, 0});
  CHECK(r[2] == V{0, 0, 0});
  c = 0;
  r = run(fb, {p.ptr(), &c});
  CHECK(r[1] == V{9, 2, 3});
  CHECK(p.data == V{1, 2, 3});
}

TEST_CASE("buffer plan: an if branch yielding an array still read later", "[codegen][arrays][plan]") {
  FnBuilder fb("i", {Type::boolean()});
  ir::Builder& b = fb.b;
  Value* x = zeros(b, 2);
  ir::Operation* iff = b.create(AK::If, {fb.p(0)}, {F64A(1)}, 2);
  ir::Builder tb(iff->region(0));
  Value* t = set1(tb, x, 1, 0);
  tb.yield({t});
  ir::Builder eb(iff->region(1));
  eb.yield({x});
  Value* r2 = set1(b, iff->result(), 7, 1);
  fb.ret({x, r2});
  BufferPlan plan(*fb.fn);
  CHECK_FALSE(plan.inPlace(*t->def));   // x is returned
  CHECK_FALSE(plan.inPlace(*r2->def));  // the if result may be x
  for (uint8_t c : {0, 1}) {
    uint8_t cc = c;
    auto r = run(fb, {&cc});
    CHECK(r[0] == V{0, 0});
    CHECK(r[1] == V{c ? 1.0 : 0.0, 7});
  }
}

TEST_CASE("buffer plan: conditional update of a loop-carried array stays in place",
          "[codegen][arrays][plan]") {
  // x = zeros(4); for i in 0..4 { x = if i % 2 == 0 { x[i] = i } else { x } }
  FnBuilder fb("c", {});
  ir::Builder& b = fb.b;
  Value* x0 = zeros(b, 4);
  ir::Operation* loop = b.create(AK::For, {b.constI(0), b.constI(4), x0}, {F64A(1)}, 1);
  Value* i = loop->region(0)->addArg(Type::i64());
  Value* x = loop->region(0)->addArg(F64A(1));
  ir::Builder in(loop->region(0));
  Value* even = in.binary(AK::Eq, in.binary(AK::Rem, i, in.constI(2)), in.constI(0));
  ir::Operation* iff = in.create(AK::If, {even}, {F64A(1)}, 2);
  ir::Builder tb(iff->region(0));
  Value* t = sel(tb, AK::Update, F64A(1), {x, tb.cast(i, Type::f64()), i}, {0});
  tb.yield({t});
  ir::Builder(iff->region(1)).yield({x});
  in.yield({iff->result()});
  fb.ret({loop->result()});
  BufferPlan plan(*fb.fn);
  CHECK(plan.inPlace(*t->def));
  CHECK_FALSE(plan.copyInit(*loop, 2));
  CHECK_FALSE(plan.copyYield(*loop->region(0)->terminator(), 0));
  CHECK(run(fb)[0] == V{0, 0, 2, 0});
}

TEST_CASE("buffer plan: a loop yielding an outer array copies it", "[codegen][arrays][plan]") {
  // y = ones; r = for k in 0..3 (x = zeros) { x2 = x[0] = 5; yield y }; return (r, y, ...)
  FnBuilder fb("y", {});
  ir::Builder& b = fb.b;
  Value* x0 = zeros(b, 3);
  Value* y = b.create(AK::Fill, {b.constF(1.0), b.constI(3)}, {F64A(1)})->result();
  ir::Operation* loop = b.create(AK::For, {b.constI(0), b.constI(3), x0}, {F64A(1)}, 1);
  loop->region(0)->addArg(Type::i64());
  Value* x = loop->region(0)->addArg(F64A(1));
  ir::Builder in(loop->region(0));
  Value* x2 = set1(in, x, 5, 0);
  in.yield({y});
  fb.ret({loop->result(), y});
  BufferPlan plan(*fb.fn);
  CHECK(plan.inPlace(*x2->def));
  CHECK(plan.copyYield(*loop->region(0)->terminator(), 0));
  auto r = run(fb);
  CHECK(r[0] == V{1, 1, 1});
  CHECK(r[1] == V{1, 1, 1});
}

TEST_CASE("buffer plan: one array given as two loop inits is copied once", "[codegen][arrays][plan]") {
  FnBuilder fb("two", {});
  ir::Builder& b = fb.b;
  Value* x0 = zeros(b, 2);
  ir::Operation* loop = b.create(AK::For, {b.constI(0), b.constI(1), x0, x0}, {F64A(1), F64A(1)}, 1);
  loop->region(0)->addArg(Type::i64());
  Value* a = loop->region(0)->addArg(F64A(1));
  Value* c = loop->region(0)->addArg(F64A(1));
  ir::Builder in(loop->region(0));
  in.yield({set1(in, a, 1, 0), set1(in, c, 2, 1)});
  fb.ret({loop->result(0), loop->result(1)});
  BufferPlan plan(*fb.fn);
  CHECK(plan.copyInit(*loop, 2) != plan.copyInit(*loop, 3));
  auto r = run(fb);
  CHECK(r[0] == V{1, 0});
  CHECK(r[1] == V{0, 2});
}

TEST_CASE("buffer plan: an update inside a map body never writes an outer array",
          "[codegen][arrays][plan]") {
  // x = zeros(3); m = [ (x[i] = 1)[0] + x[i] ... ] -- each element reads fresh x
  FnBuilder fb("m", {});
  ir::Builder& b = fb.b;
  Value* x = zeros(b, 3);
  Value* u = nullptr;
  Value* m = mapOf(b, Scalar::F64, {b.constI(3)}, [&](ir::Builder& in, std::vector<Value*> i) {
    u = sel(in, AK::Update, F64A(1), {x, in.constF(1.0), i[0]}, {0});
    Value* s = reduceOf(in, "sum", Type::f64(), in.constI(0), in.constI(3),
                        [&](ir::Builder& r, Value* j) { return at(r, u, {j}); });
    return s;
  });
  fb.ret({m});
  BufferPlan plan(*fb.fn);
  CHECK_FALSE(plan.inPlace(*u->def));
  CHECK(run(fb)[0] == V{1, 1, 1});
}

#include <sys/resource.h>

TEST_CASE("arena: loop iterations release their temporaries", "[codegen][arrays][plan]") {
  // x = zeros(n); for k in 0..1000 { t = [x[i] + 1 for i]; x = [t[i] * 1 for i] } -- 2 maps per
  // iteration of 100,000 doubles: 1.6 GB if nothing were released before the return.
  FnBuilder fb("grow", {Type::i64()});
  ir::Builder& b = fb.b;
  Value* x0 = b.create(AK::Fill, {b.constF(0.0), fb.p(0)}, {F64A(1)})->result();
  ir::Operation* loop = b.create(AK::For, {b.constI(0), b.constI(1000), x0}, {F64A(1)}, 1);
  loop->region(0)->addArg(Type::i64());
  Value* x = loop->region(0)->addArg(F64A(1));
  ir::Builder in(loop->region(0));
  Value* t = mapOf(in, Scalar::F64, {dimOf(in, x, 0)}, [&](ir::Builder& r, std::vector<Value*> i) {
    return r.binary(AK::Add, at(r, x, {i[0]}), r.constF(1.0));
  });
  Value* y = mapOf(in, Scalar::F64, {dimOf(in, t, 0)}, [&](ir::Builder& r, std::vector<Value*> i) {
    return r.binary(AK::Mul, at(r, t, {i[0]}), r.constF(1.0));
  });
  in.yield({y});
  fb.ret({loop->result()});
  Compiled c = compile(fb);
  int64_t n = 100000;
  ChainArray out{};
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  RawCall r = callRaw(c.entry, {&n}, {&out});
  getrusage(RUSAGE_SELF, &after);
  REQUIRE(r.status == 0);  // (the message would say if the arena was left non-empty)
  CHECK(r.message.empty());
  std::vector<double> v = takeResult<double>(out, 1);
  REQUIRE(v.size() == 100000);
  CHECK(v[0] == 1000);
  CHECK(v[99999] == 1000);
  CHECK(after.ru_maxrss - before.ru_maxrss < 200 * 1024);  // KiB: far below 1.6 GB
  CHECK(r.arenaPeak <= 4 * 800000 + 1024);  // x0, the two maps of one iteration, the yield
}

TEST_CASE("arena: a map body releases its temporaries per element", "[codegen][arrays][plan]") {
  // [x[i..i+1][0] for i in 0..n]: one 8-byte slice per element (~128 MB of blocks if kept)
  FnBuilder fb("sl", {F64A(1)});
  ir::Builder& b = fb.b;
  Value* m = mapOf(b, Scalar::F64, {dimOf(b, fb.p(0), 0)}, [&](ir::Builder& r, std::vector<Value*> i) {
    Value* s = sel(r, AK::Slice, F64A(1), {fb.p(0), i[0], r.binary(AK::Add, i[0], r.constI(1))}, {1});
    return at(r, s, {r.constI(0)});
  });
  fb.ret({m});
  Compiled c = compile(fb);
  std::vector<double> xs(1000000);
  for (size_t k = 0; k < xs.size(); ++k) xs[k] = double(k);
  ArrArg<double> x(xs, {1000000});
  ChainArray out{};
  RawCall r = callRaw(c.entry, {x.ptr()}, {&out});
  REQUIRE(r.status == 0);
  CHECK(r.message.empty());
  CHECK(takeResult<double>(out, 1) == xs);
  CHECK(r.arenaPeak == 8000000 + 8);  // the result and one slice at a time
}
