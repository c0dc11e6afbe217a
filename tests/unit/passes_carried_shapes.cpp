// Unit tests of the loop-carried shape rule of simplify (SimplifyFacts.cpp):
// a carried array whose every yield has its init's sizes, assuming that of
// the carried arguments, keeps them, so whole-array arithmetic on carried
// arrays (GradBench's llsq written plainly: `r = r - x[j] * tp`) loses its
// run-time broadcast selects and checks, in primal and gradient alike, with
// the values of the comprehension form. Loops that change a carried
// array's size (a longer comprehension, a slice, a swap with an array of
// another size) keep their broadcast checks and their errors.
#include "passes_grad_util.h"

using namespace pipetest;
using chain::ir::OpKind;
using chain::ir::RtValue;

namespace {

const char* kSrc = R"(
fn plain(x: f64[m], n: i64) -> f64 {
    let t = [-1.0 + f64(i) * 2.0 / f64(n - 1) for i in 0..n]
    var r = [if t[i] > 0.0 { 1.0 } else if t[i] < 0.0 { -1.0 } else { 0.0 } for i in 0..n]
    var tp = ones(n)
    for j in 0..m {
        r = r - x[j] * tp
        tp = tp * t
    }
    0.5 * sum(r * r)
}
fn tuned(x: f64[m], n: i64) -> f64 {
    let t = [-1.0 + f64(i) * 2.0 / f64(n - 1) for i in 0..n]
    var r = [if t[i] > 0.0 { 1.0 } else if t[i] < 0.0 { -1.0 } else { 0.0 } for i in 0..n]
    var tp = ones(n)
    for j in 0..m {
        r = [r[i] - x[j] * tp[i] for i in 0..n]
        tp = [tp[i] * t[i] for i in 0..n]
    }
    0.5 * sum(r * r)
}
fn grow(x: f64[n], m: i64) -> f64 {
    var a = ones(n)
    var b = ones(n)
    for j in 0..m {
        a = a + x * b
        b = [b[0] for i in 0..len(b) + 1]
    }
    sum(a)
}
fn shrink(x: f64[n], m: i64) -> f64 {
    var a = x * 2.0
    var b = ones(n)
    for j in 0..m {
        a = a[1..len(a)] + b[1..len(b)]
        b = b * 3.0
    }
    sum(a * x)
}
fn swap(x: f64[n], y: f64[k], m: i64) -> f64 {
    var a = x * 1.0
    var b = y * 1.0
    for j in 0..m {
        let c = a
        a = b * 2.0
        b = c + 1.0
    }
    sum(a * x)
}
)";

// Ops that broadcast at run time: the size checks (but those proved true)
// and the i64 selects of a broadcast extent or index.
size_t broadcastOps(const chain::ir::Block& b) {
  return countIf(b, [](const chain::ir::Operation& op) {
    const chain::ir::Operation* c = op.kind == OpKind::Assert ? op.operand(0)->def : nullptr;
    bool always = c && c->kind == OpKind::ConstB && c->i != 0;  // removed later
    bool check = c && !always && op.s.find("cannot broadcast") != std::string::npos;
    bool select = op.kind == OpKind::Select && op.result()->type == chain::ir::Type::i64();
    return check || select;
  });
}

RtValue i64(int64_t v) { return RtValue::i64(v); }

// llsq's objective and gradient (d/dx_j = -sum_i r_i t_i^j), computed here.
std::vector<double> llsqGradient(const std::vector<double>& x, int64_t n, double* value) {
  std::vector<double> g(x.size(), 0.0);
  *value = 0;
  for (int64_t i = 0; i < n; ++i) {
    double t = -1.0 + double(i) * 2.0 / double(n - 1);
    double r = t > 0 ? 1.0 : t < 0 ? -1.0 : 0.0, tp = 1.0;
    for (double xj : x) r -= xj * tp, tp *= t;
    *value += 0.5 * r * r;
    tp = 1.0;
    for (double& gj : g) gj -= r * tp, tp *= t;
  }
  return g;
}

}  // namespace

TEST_CASE("carried shapes: plain llsq broadcasts no more than its comprehension form",
          "[passes][simplify][shapes]") {
  Program p = compile(kSrc);
  auto f = after(p, "plain", "simplify");
  auto tuned = after(p, "tuned", "simplify");
  INFO(chain::ir::printFunction(*f));
  CHECK(broadcastOps(f->body) == 0);
  CHECK(broadcastOps(tuned->body) == 0);
  std::vector<double> x = {0.5, -1.25, 2.0, 0.75};
  for (int64_t n : {0, 1, 2, 7}) {
    INFO("n = " << n);
    CHECK(run(p, *f, {vec(x), i64(n)}) == run(p, *tuned, {vec(x), i64(n)}));
  }
  double value;
  llsqGradient(x, 7, &value);
  CHECK(run(p, *f, {vec(x), i64(7)}) == chain::ir::formatRtValue(RtValue::f64(value)));
  // a negative n is ones(n)'s error, as before
  CHECK(run(p, *f, {vec(x), i64(-2)}).find("array size -2 is negative") != std::string::npos);
}

TEST_CASE("carried shapes: the plain llsq gradient has no broadcast and is right", "[passes][shapes][ad]") {
  Program p = compile(kSrc);
  auto g = gradtest::gradFn(*p.m, "plain", {0});
  INFO(chain::ir::printFunction(*g));
  CHECK(broadcastOps(g->body) == 0);
  std::vector<double> x = {0.5, -1.25, 2.0, 0.75};
  double value;
  std::vector<double> analytic = llsqGradient(x, 9, &value);
  gradtest::checkGrad(kSrc, "plain", {vec(x), i64(9)}, analytic, 1e-9, 1e-12);
}

TEST_CASE("carried shapes: loops that change a carried size keep their checks", "[passes][simplify][shapes]") {
  Program p = compile(kSrc);
  std::vector<double> x = {1.0, 2.0, 3.0};
  for (const char* last : {"simplify", ""}) {
    INFO("after " << (*last ? last : "all passes"));
    auto grow = after(p, "grow", last);
    INFO(chain::ir::printFunction(*grow));
    CHECK(broadcastOps(grow->body) > 0);
    CHECK(run(p, *grow, {vec(x), i64(0)}) == "3.0");
    CHECK(run(p, *grow, {vec(x), i64(1)}) == "9.0");  // 3 + (1 + 2 + 3)
    CHECK(run(p, *grow, {vec(x), i64(2)}) == "error: 26:19: operator '*': cannot broadcast sizes 3 and 4 in axis 0");
    CHECK(run(p, *grow, {vec({1.5}), i64(2)}) == "8.0");  // n = 1 broadcasts: [2.5] + [1.5, 1.5]

    auto shrink = after(p, "shrink", last);
    INFO(chain::ir::printFunction(*shrink));
    CHECK(run(p, *shrink, {vec(x), i64(0)}) == "28.0");  // 2 (1 + 4 + 9)
    CHECK(run(p, *shrink, {vec({4.0}), i64(1)}) == "0.0");  // a is empty: sizes 0 and 1 broadcast
    CHECK(run(p, *shrink, {vec(x), i64(1)}).find("cannot broadcast sizes 2 and 3") != std::string::npos);

    auto swap = after(p, "swap", last);
    INFO(chain::ir::printFunction(*swap));
    std::vector<RtValue> odd = {vec(x), vec({1.0, 1.0}), i64(1)}, even = {vec(x), vec({1.0, 1.0}), i64(2)};
    CHECK(run(p, *swap, odd).find("cannot broadcast sizes 2 and 3") != std::string::npos);
    CHECK(run(p, *swap, even) == chain::ir::formatRtValue(RtValue::f64(40.0)));  // a = 2 (x + 1): 2 (2 + 6 + 12)
  }
}
