// Unit tests of the lowering of arrays (SPEC §2-§4): every program is parsed,
// checked, lowered, verified (ir::verifyModule) and run through the reference
// interpreter, whose VALUES are compared with hand computation: indexing and
// slicing, comprehensions, reductions over arrays and generators,
// broadcasting (and its run-time size check), matmul, zeros/ones/fill,
// len/size, element and slice updates in loops, arrays through while and if,
// size-name asserts at function entry.
#include <catch2/catch.hpp>

#include <cmath>

#include "frontend/Frontend.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

using namespace chain;
using ir::OpKind;
using ir::RtValue;
using ir::Scalar;

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
    bool ok = frontend::check(*prog, diag);
    INFO(diag.render());
    REQUIRE(ok);
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
    INFO(ir::printModule(*mod));
    return ir::interpret(*mod, fn(name), args, out);
  }
  RtValue run1(const std::string& name, const std::vector<RtValue>& args) const {
    std::vector<RtValue> r = run(name, args);
    REQUIRE(r.size() == 1);
    return r[0];
  }
  // The message of the runtime error that running `name` raises.
  std::string error(const std::string& name, const std::vector<RtValue>& args) const {
    try {
      run(name, args);
    } catch (const ir::InterpError& e) {
      return e.what();
    }
    return "(no error)";
  }
};

RtValue vec(std::vector<double> v) {
  int64_t n = static_cast<int64_t>(v.size());
  return RtValue::array(Scalar::F64, {n}, v);
}
RtValue mat(int64_t rows, int64_t cols, std::vector<double> v) {
  return RtValue::array(Scalar::F64, {rows, cols}, v);
}
RtValue ivec(std::vector<int64_t> v) {
  int64_t n = static_cast<int64_t>(v.size());
  return RtValue::arrayI({n}, v);
}

size_t countDeep(const ir::Block& b, OpKind k) {
  size_t n = 0;
  for (auto& op : b.ops) {
    n += op->kind == k;
    for (auto& r : op->regions) n += countDeep(*r, k);
  }
  return n;
}

void checkArray(const RtValue& r, std::vector<int64_t> shape, std::vector<double> values) {
  CHECK(r.shape == shape);
  std::vector<double> got = r.values();
  REQUIRE(got.size() == values.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(values[i]).margin(1e-12));
}

const RtValue A23 = mat(2, 3, {1, 2, 3, 4, 5, 6});

}  // namespace

TEST_CASE("lower arrays: indexing and every slice form", "[lower][arrays]") {
  Lowered l(R"(fn elem(A: f64[n, d], i: i64, j: i64) -> f64 { A[i, j] }
fn row(A: f64[n, d], i: i64) -> f64[d] { A[i] }
fn col(A: f64[n, d], j: i64) -> f64[n] { A[:, j] }
fn cols(A: f64[n, d]) -> f64[n, 2] { A[:, 1..3] }
fn rows(A: f64[n, d]) { A[0..1, :] }
fn tail(x: f64[n]) { x[2..n] }
fn part(A: f64[n, d]) { A[1, 0..2] }
)");
  CHECK(l.run1("elem", {A23, RtValue::i64(1), RtValue::i64(2)}).f == 6.0);
  checkArray(l.run1("row", {A23, RtValue::i64(1)}), {3}, {4, 5, 6});
  checkArray(l.run1("col", {A23, RtValue::i64(1)}), {2}, {2, 5});
  checkArray(l.run1("cols", {A23}), {2, 2}, {2, 3, 5, 6});
  checkArray(l.run1("rows", {A23}), {1, 3}, {1, 2, 3});
  checkArray(l.run1("tail", {vec({1, 2, 3, 4, 5})}), {3}, {3, 4, 5});
  checkArray(l.run1("part", {A23}), {2}, {4, 5});
  // index and slice ops with the kinds of SPEC: A[i] on rank 2 = [0, 2].
  const ir::Function& row = l.fn("row");
  bool found = false;
  for (auto& op : row.body.ops)
    if (op->kind == OpKind::Slice) {
      CHECK(op->ints == std::vector<int64_t>{0, 2});
      found = true;
    }
  CHECK(found);
  // Out of bounds: a runtime error naming the position.
  std::string err = l.error("elem", {A23, RtValue::i64(2), RtValue::i64(0)});
  CHECK(err == "1:48: index 2 is out of bounds for axis 0 of size 2");
}

TEST_CASE("lower arrays: comprehensions", "[lower][arrays]") {
  Lowered l(R"(fn sq(x: f64[n]) { [x[i] * x[i] for i in 0..n] }
fn tr(A: f64[n, d]) { [A[j, i] for i in 0..d, j in 0..n] }
fn off(n: i64) { [f64(i) for i in 2..n] }
fn ints(n: i64) { [i * 10 + j for i in 0..n, j in 1..3] }
fn empty(n: i64) { [1.0 for i in 5..n] }
fn rowsx2(A: f64[n, d]) { [A[n - 1 - i] * 2.0 for i in 0..n] }
fn blocks(x: f64[k]) { [x * f64(i) + [1.0, 2.0][j] for i in 0..2, j in 0..2] }
)");
  checkArray(l.run1("rowsx2", {A23}), {2, 3}, {8, 10, 12, 2, 4, 6});
  RtValue blocks = l.run1("blocks", {vec({10, 20})});
  checkArray(blocks, {2, 2, 2}, {1, 1, 2, 2, 11, 21, 12, 22});
  checkArray(l.run1("sq", {vec({1, 2, 3})}), {3}, {1, 4, 9});
  checkArray(l.run1("tr", {A23}), {3, 2}, {1, 4, 2, 5, 3, 6});
  checkArray(l.run1("off", {RtValue::i64(5)}), {3}, {2, 3, 4});
  RtValue ints = l.run1("ints", {RtValue::i64(2)});
  CHECK(ints.type == ir::Type{Scalar::I64, 2});
  checkArray(ints, {2, 2}, {1, 2, 11, 12});
  checkArray(l.run1("empty", {RtValue::i64(3)}), {0}, {});
  CHECK(countDeep(l.fn("tr").body, OpKind::Map) == 1);
}

TEST_CASE("lower arrays: reductions over arrays", "[lower][arrays]") {
  Lowered l(R"(fn s(A: f64[n, d]) { sum(A) }
fn p(x: f64[n]) { prod(x) }
fn mx(A: f64[n, d]) { max(A) }
fn mn(x: f64[n]) { min(x) }
fn avg(A: f64[n, d]) { mean(A) }
fn lse(x: f64[n]) { logsumexp(x) }
fn isum(x: i64[n]) { sum(x) }
fn imax(x: i64[n]) { max(x) }
fn imean(x: i64[n]) { mean(x) }
fn pair(a: f64, b: f64) { max(a, b) }
)");
  CHECK(l.run1("s", {A23}).f == 21.0);
  CHECK(l.run1("p", {vec({2, 3, 4})}).f == 24.0);
  CHECK(l.run1("mx", {mat(2, 2, {1, 7, -3, 2})}).f == 7.0);
  CHECK(l.run1("mn", {vec({4, -1, 2})}).f == -1.0);
  CHECK(l.run1("avg", {A23}).f == Approx(3.5));
  CHECK(l.run1("lse", {vec({1, 2, 3})}).f ==
        Approx(std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0))));
  RtValue is = l.run1("isum", {ivec({1, 2, 3})});
  CHECK(is.type == ir::Type::i64());
  CHECK(is.i == 6);
  CHECK(l.run1("imax", {ivec({1, 9, 3})}).i == 9);
  RtValue im = l.run1("imean", {ivec({1, 2})});
  CHECK(im.type == ir::Type::f64());
  CHECK(im.f == 1.5);
  CHECK(l.run1("pair", {RtValue::f64(2), RtValue::f64(5)}).f == 5.0);
  // Empty arrays: sum 0, prod 1, max -inf.
  CHECK(l.run1("p", {vec({})}).f == 1.0);
  CHECK(std::isinf(l.run1("mn", {vec({})}).f));
}

TEST_CASE("lower arrays: reductions over generators", "[lower][arrays]") {
  Lowered l(R"(fn dotp(x: f64[n], y: f64[n]) { sum(x[i] * y[i] for i in 0..n) }
fn lower(L: f64[n, n]) { sum(L[i, j] for i in 0..n, j in 0..i) }
fn lowerd(L: f64[n, n]) { sum(L[i, j] for i in 0..n, j in 0..i + 1) }
fn tri(n: i64) { sum(1 for i in 0..n, j in i..n) }
fn m(n: i64) { mean(f64(i) for i in 0..n) }
fn mp(L: f64[n, n]) { mean(L[i, j] for i in 0..n, j in 0..i + 1) }
fn g(x: f64[n]) { max(x[i] - x[i - 1] for i in 1..n) }
fn l(x: f64[n]) { logsumexp(2.0 * x[i] for i in 0..n) }
fn e(n: i64) { sum(1.0 for i in n..0) }
)");
  CHECK(l.run1("dotp", {vec({1, 2, 3}), vec({4, 5, 6})}).f == 32.0);
  RtValue L = mat(3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(l.run1("lower", {L}).f == 4 + 7 + 8);
  CHECK(l.run1("lowerd", {L}).f == 1 + 4 + 5 + 7 + 8 + 9);
  CHECK(l.run1("tri", {RtValue::i64(4)}).i == 10);
  CHECK(l.run1("m", {RtValue::i64(4)}).f == 1.5);
  CHECK(l.run1("mp", {L}).f == Approx(34.0 / 6.0));
  CHECK(l.run1("g", {vec({1, 4, 2, 8})}).f == 6.0);
  CHECK(l.run1("l", {vec({0.5, 1.0})}).f == Approx(std::log(std::exp(1.0) + std::exp(2.0))));
  CHECK(l.run1("e", {RtValue::i64(3)}).f == 0.0);
  CHECK(l.run1("tri", {RtValue::i64(0)}).i == 0);
}

TEST_CASE("lower arrays: elementwise and broadcasting", "[lower][arrays]") {
  Lowered l(R"(fn addrow(X: f64[n, d], b: f64[d]) -> f64[n, d] { X + b }
fn scale(x: f64[n], a: f64) { a * x - 1.0 }
fn any(x: f64[n], y: f64[m]) { x * y }
fn outer(c: f64[n, 1], r: f64[1, m]) { c + r }
fn mixed(x: i64[n], y: f64[n]) { x + y }
fn f32s(x: f32[n]) { x * 2.0 }
fn neg(x: f64[n]) { -x }
fn cmp(x: f64[n]) { x > 0.0 and not (x > 2.0) }
fn math(x: f64[n]) { exp(x) + pow(x, 2.0) + max(x, 1.0) + f64(i64(x)) }
fn sg(x: f64[n]) { stop_gradient(x) * 3.0 }
)");
  checkArray(l.run1("addrow", {A23, vec({10, 20, 30})}), {2, 3}, {11, 22, 33, 14, 25, 36});
  checkArray(l.run1("scale", {vec({1, 2}), RtValue::f64(3)}), {2}, {2, 5});
  // Sizes that may be 1 at run time: broadcast, or an assert naming both sizes.
  checkArray(l.run1("any", {vec({1, 2, 3}), vec({2})}), {3}, {2, 4, 6});
  checkArray(l.run1("any", {vec({2}), vec({1, 2, 3})}), {3}, {2, 4, 6});
  checkArray(l.run1("any", {vec({1, 2}), vec({3, 4})}), {2}, {3, 8});
  std::string err = l.error("any", {vec({1, 2, 3}), vec({1, 2})});
  CHECK(err == "3:34: operator '*': cannot broadcast sizes 3 and 2 in axis 0");
  checkArray(l.run1("outer", {mat(2, 1, {1, 2}), mat(1, 3, {10, 20, 30})}), {2, 3},
             {11, 21, 31, 12, 22, 32});
  RtValue mixed = l.run1("mixed", {ivec({1, 2}), vec({0.5, 0.25})});
  CHECK(mixed.type == ir::Type{Scalar::F64, 1});
  checkArray(mixed, {2}, {1.5, 2.25});
  RtValue f = l.run1("f32s", {RtValue::array(Scalar::F32, {2}, {1.5, 2})});
  CHECK(f.type == ir::Type{Scalar::F32, 1});
  checkArray(f, {2}, {3, 4});
  checkArray(l.run1("neg", {vec({1, -2})}), {2}, {-1, 2});
  RtValue c = l.run1("cmp", {vec({-1, 1, 3})});
  CHECK(c.type == ir::Type{Scalar::Bool, 1});
  checkArray(c, {3}, {0, 1, 0});
  double x = 1.7;
  checkArray(l.run1("math", {vec({x})}), {1}, {std::exp(x) + x * x + x + 1.0});
  checkArray(l.run1("sg", {vec({1, 2})}), {2}, {3, 6});
  // X + b with both sizes named d: indexed directly, no select in the map.
  CHECK(countDeep(l.fn("addrow").body, OpKind::Select) == 0);
  CHECK(countDeep(l.fn("addrow").body, OpKind::Map) == 1);
}

TEST_CASE("lower arrays: matmul in its four forms, dot, transpose", "[lower][arrays]") {
  Lowered l(R"(fn mm(A: f64[n, k], B: f64[k, m]) { A @ B }
fn mv(A: f64[n, k], x: f64[k]) { A @ x }
fn vm(x: f64[k], B: f64[k, m]) { x @ B }
fn vv(x: f64[k], y: f64[k]) { x @ y }
fn d(x: f64[k], y: f64[k]) { dot(x, y) }
fn t(A: f64[n, k]) { transpose(A) }
fn bad(A: f64[n, k], x: f64[m]) { A @ x }
)");
  RtValue B = mat(3, 2, {1, 0, 0, 1, 1, 1});
  checkArray(l.run1("mm", {A23, B}), {2, 2}, {4, 5, 10, 11});
  checkArray(l.run1("mv", {A23, vec({1, 1, 1})}), {2}, {6, 15});
  checkArray(l.run1("vm", {vec({1, 2, 3}), B}), {2}, {4, 5});
  CHECK(l.run1("vv", {vec({1, 2}), vec({3, 4})}).f == 11.0);
  CHECK(l.run1("d", {vec({1, 2}), vec({3, 4})}).f == 11.0);
  checkArray(l.run1("t", {A23}), {3, 2}, {1, 4, 2, 5, 3, 6});
  CHECK(l.error("bad", {A23, vec({1, 2})}) == "7:37: matmul: inner sizes differ: 3 vs 2");
  // k and k: known equal, only the entry assert that x's size is k.
  CHECK(countDeep(l.fn("mv").body, OpKind::Assert) == 1);
  CHECK(countDeep(l.fn("bad").body, OpKind::Assert) == 1);
}

TEST_CASE("lower arrays: zeros, ones, fill, len, size, literals", "[lower][arrays]") {
  Lowered l(R"(fn z(n: i64) { zeros(n, 2) }
fn o(n: i64) { ones(n, dtype=f32) }
fn i(n: i64) { zeros(n, dtype=i64) }
fn f(n: i64) { fill(2.5, n) }
fn fi(n: i64) { fill(3, n, dtype=f64) }
fn sizes(A: f64[n, d]) { len(A) * 10 + size(A, 1) }
fn lit(x: f64) { [[1.0, x], [0, 2.0]] }
fn lit32(x: f32) { [x, 1.0] }
fn emp() -> f64 { let e: f64[0] = []
 f64(len(e)) }
fn sized(n: i64, x: f64[n]) -> f64[n] { x + ones(n) }
)");
  CHECK(l.run1("emp", {}).f == 0.0);
  checkArray(l.run1("sized", {RtValue::i64(2), vec({1, 2})}), {2}, {2, 3});
  CHECK(l.error("sized", {RtValue::i64(3), vec({1, 2})}) ==
        "11:18: shape mismatch: 'x' axis 0 has size 2 but n = 3");
  checkArray(l.run1("z", {RtValue::i64(2)}), {2, 2}, {0, 0, 0, 0});
  RtValue o = l.run1("o", {RtValue::i64(3)});
  CHECK(o.type == ir::Type{Scalar::F32, 1});
  checkArray(o, {3}, {1, 1, 1});
  CHECK(l.run1("i", {RtValue::i64(2)}).type == ir::Type{Scalar::I64, 1});
  checkArray(l.run1("f", {RtValue::i64(2)}), {2}, {2.5, 2.5});
  checkArray(l.run1("fi", {RtValue::i64(1)}), {1}, {3});
  CHECK(l.run1("sizes", {A23}).i == 23);
  checkArray(l.run1("lit", {RtValue::f64(5)}), {2, 2}, {1, 5, 0, 2});
  CHECK(l.run1("lit32", {RtValue::f32(2)}).type == ir::Type{Scalar::F32, 1});
}

TEST_CASE("lower arrays: element, row and slice updates in loops", "[lower][arrays]") {
  Lowered l(R"(fn cumsum(x: f64[n]) -> f64[n] {
  var out = zeros(n)
  var acc = 0.0
  for i in 0..n {
    acc += x[i]
    out[i] = acc
  }
  out
}
fn rows(n: i64) -> f64[n, 2] {
  var S = zeros(n, 2)
  for i in 0..n {
    S[i] = [f64(i), f64(i * i)]
    S[i, 1] += 0.5
  }
  S
}
fn slices(x: f64[n]) {
  var y = x
  y[1..3] = [10.0, 20.0]
  y[0..1] += 100.0
  y[3..n] = -1.0
  y[:] *= 2.0
  y
}
fn cols(A: f64[n, d]) {
  var B = A
  B[:, 0] = [7.0, 8.0]
  B
}
fn bad(x: f64[n]) {
  var y = x
  y[0..len(y) - 2] = [1.0, 2.0, 3.0]
  y
}
)");
  checkArray(l.run1("cumsum", {vec({1, 2, 3})}), {3}, {1, 3, 6});
  checkArray(l.run1("rows", {RtValue::i64(3)}), {3, 2}, {0, 0.5, 1, 1.5, 2, 4.5});
  checkArray(l.run1("slices", {vec({1, 2, 3, 4, 5})}), {5}, {202, 20, 40, -2, -2});
  checkArray(l.run1("cols", {A23}), {2, 3}, {7, 2, 3, 8, 5, 6});
  CHECK(l.error("bad", {vec({1, 2, 3, 4})}) ==
        "33:3: shape mismatch: the value assigned to 'y[...]' has size 3 in axis 0 but the "
        "selection has 2");
  // The updated array is carried by the loop.
  const ir::Function& f = l.fn("cumsum");
  bool carried = false;
  for (auto& op : f.body.ops)
    if (op->kind == OpKind::For)
      for (auto& r : op->results) carried = carried || r->type == ir::Type{Scalar::F64, 1};
  CHECK(carried);
}

TEST_CASE("lower arrays: arrays through while, if and calls; tuples; print", "[lower][arrays]") {
  Lowered l(R"(fn halve(x: f64[n]) -> f64 {
  var y = x
  while max(y) > 1.0 {
    y = y / 2.0
  }
  var z = y
  if sum(z) > 1.0 {
    z = z * 0.0
  } else {
    z[0] = 42.0
  }
  sum(z) + sum(if len(x) > 2 { y } else { x })
}
fn norm2(v: f64[k]) -> f64 { sum(v * v) }
fn both(A: f64[n, d]) -> (f64[d], f64) { (A[0], norm2(A[1])) }
fn use(A: f64[n, d]) -> f64 {
  let (r, s) = both(A)
  print("r", r)
  sum(r) + s
}
)");
  // y = [1]: z[0] = 42, sum(x) = 4.  y = [1, 1, 1]: z = 0, sum(y) = 3.
  CHECK(l.run1("halve", {vec({4.0})}).f == 42.0 + 4.0);
  CHECK(l.run1("halve", {vec({4.0, 4.0, 4.0})}).f == 3.0);
  std::string out;
  std::vector<RtValue> r = l.run("use", {A23}, &out);
  CHECK(r.at(0).f == 6.0 + 16 + 25 + 36);
  CHECK(out == "r [1.0, 2.0, 3.0]\n");
}

TEST_CASE("lower arrays: size names are checked at function entry", "[lower][arrays]") {
  Lowered l(R"(fn f(A: f64[n, d], x: f64[d]) -> f64[n] { A @ x }
fn w(W: f64[n, 3]) { sum(W) }
fn g(A: f64[n, d], x: f64[d]) -> f64 { sum(f(A, x)) + f64(n * 100 + d) }
fn r(x: f64[n]) -> f64[n] { x[0..1] }
fn l(x: f64[n]) -> f64 { let y: f64[n] = x[1..n]
 sum(y) }
)");
  CHECK(l.error("f", {A23, vec({1, 2})}) ==
        "1:20: shape mismatch: 'x' axis 0 has size 2 but d = 3");
  CHECK(l.error("w", {mat(3, 2, {1, 2, 3, 4, 5, 6})}) ==
        "2:6: shape mismatch: 'W' axis 1 has size 2 but the type requires 3");
  CHECK(l.run1("g", {A23, vec({1, 1, 1})}).f == 21.0 + 203);
  CHECK(l.error("r", {vec({1, 2})}) ==
        "4:29: shape mismatch: the result of 'r' axis 0 has size 1 but n = 2");
  CHECK(l.error("l", {vec({1, 2})}) == "5:42: shape mismatch: 'y' axis 0 has size 1 but n = 2");
}
