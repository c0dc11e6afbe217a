// The simplifications that make the LSTM gradient (bench/models/lstm.chain)
// elementwise: asserted size equalities replace one size by the other
// (SimplifyFacts.cpp), so broadcast checks and `select(n == 1, 0, i)`
// indices fold; a loop that only updates rows of a carried array (or yields
// an array of its init's size) keeps its dims (simplify's sameShape and
// reverse AD's shape proofs, ReverseADShapes.cpp). Each test checks the IR
// shape the change produces (it fails without the change) and the gradient
// against central finite differences and, where simple, analytic values.
#include <catch2/catch.hpp>

#include <cmath>

#include "passes/Hoist.h"
#include "passes_grad_util.h"

using namespace chain;
using ir::RtValue;
using ir::Scalar;

namespace {

using gradtest::checkGrad;

using pipetest::count;
using pipetest::countIf;
using pipetest::mat;
using pipetest::vec;

bool onEquality(const ir::Operation& op) {
  const ir::Value* c = op.operand(0);
  return c->def && c->def->kind == ir::OpKind::Eq;
}

// Selects of an i64 on an equality (the broadcast index `select(n == 1, 0, i)`
// and size `select(n == 1, m, n)`).
size_t countIndexSelects(const ir::Block& b) {
  return countIf(b, [](const ir::Operation& op) {
    return op.kind == ir::OpKind::Select && op.result()->type == ir::Type::i64() && onEquality(op);
  });
}

// Ifs on an equality: the run-time shape guards of the reverse of maps
// (`if dim(a, 0) == n { map } else { scatter loop }`).
size_t countShapeGuards(const ir::Block& b) {
  return countIf(b, [](const ir::Operation& op) { return op.kind == ir::OpKind::If && onEquality(op); });
}

// The pipeline the JIT runs on a gradient: inline + simplify + hoist on the
// primal, reverse AD, simplify + hoist on the gradient.
std::unique_ptr<ir::Function> fullGrad(ir::Module& m, const std::string& name) {
  auto f = gradtest::prepared(m, name);
  passes::hoistInvariants(m, *f);
  auto g = passes::reverseAD(*f, gradtest::floatParams(*f), true, name + ".grad");
  passes::simplify(m, *g);
  passes::hoistInvariants(m, *g);
  REQUIRE(ir::verifyFunction(*g).empty());
  return g;
}

// ADBench's LSTM (bench/models/lstm.chain), small.
const char* kLstm = R"(
fn lstm(main_params: f64[two_l, four_b], extra_params: f64[3, b], state: f64[two_l, b],
        sequence: f64[c, b]) -> f64 {
    let l = two_l / 2
    var s = state
    var total = 0.0
    for t in 0..c - 1 {
        var input = [sequence[t, j] * extra_params[0, j] for j in 0..b]
        for layer in 0..l {
            let w = main_params[2 * layer]
            let bias = main_params[2 * layer + 1]
            let hidden = s[2 * layer]
            let cell = s[2 * layer + 1]
            let forget = [sigmoid(input[j] * w[j] + bias[j]) for j in 0..b]
            let ingate = [sigmoid(hidden[j] * w[b + j] + bias[b + j]) for j in 0..b]
            let outgate = [sigmoid(input[j] * w[2 * b + j] + bias[2 * b + j]) for j in 0..b]
            let change = [tanh(hidden[j] * w[3 * b + j] + bias[3 * b + j]) for j in 0..b]
            let new_cell = cell * forget + ingate * change
            let new_hidden = outgate * tanh(new_cell)
            s[2 * layer + 1] = new_cell
            s[2 * layer] = new_hidden
            input = new_hidden
        }
        let ypred = input * extra_params[1] + extra_params[2]
        let lse = log(sum(exp(ypred)) + 2.0)
        total += sum(sequence[t + 1, j] * (ypred[j] - lse) for j in 0..b)
    }
    -total / f64((c - 1) * b)
}
)";

std::vector<double> ramp(size_t n, double scale, double shift) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = scale * std::sin(1.3 * double(i) + shift);
  return v;
}

}  // namespace

TEST_CASE("lstm: asserted sizes fold broadcast selects and checks", "[ad][lstm][simplify]") {
  // x * y of two sizes that the inlined call's shape assert makes equal: no
  // broadcast index (or broadcast check) left.
  const char* src = R"(
fn g(a: f64[k], b: f64[k]) -> f64 {
    sum(a * b)
}
fn f(x: f64[n], y: f64[m]) -> f64 {
    g(x, y) + sum(x * y)
}
)";
  pipetest::Program p = pipetest::compile(src);
  auto f = pipetest::after(p, "f");
  INFO(ir::printFunction(*f));
  CHECK(countIndexSelects(f->body) == 0);
  CHECK(count(f->body, ir::OpKind::Assert) == 1);
  checkGrad(src, "f", {vec({1, 2, 3}), vec({4, -5, 6})}, {8, -10, 12, 2, 4, 6});
}

TEST_CASE("lstm: a row-updated carried array keeps its dims", "[ad][lstm][simplify]") {
  // s's rows are replaced in the loop: dim(s, 1) is dim(state, 1) == n, so
  // s[0] * x needs no broadcast select and no shape guard in the gradient.
  const char* src = R"(
fn f(state: f64[2, n], x: f64[n]) -> f64 {
    var s = state
    for t in 0..3 {
        let h = s[0] * x
        s[1] = h
        s[0] = [tanh(h[j]) for j in 0..n]
    }
    sum(s[0]) + sum(s[1])
}
)";
  pipetest::Program p = pipetest::compile(src);
  auto f = pipetest::after(p, "f");
  INFO(ir::printFunction(*f));
  CHECK(countIndexSelects(f->body) == 0);
  auto g = fullGrad(*p.m, "f");
  INFO(ir::printFunction(*g));
  CHECK(countShapeGuards(g->body) == 0);     // no shape guard
  CHECK(count(g->body, ir::OpKind::Assert) <= 2);  // only the entry checks
  checkGrad(src, "f", {mat(2, 3, {0.5, -0.3, 0.8, 0.1, 0.2, -0.4}), vec({0.9, -1.1, 0.7})});
}

TEST_CASE("lstm: a loop yielding an array of its init's size keeps its dims", "[ad][lstm][simplify]") {
  // input is replaced by a new map over 0..n each iteration: its dim is n,
  // so the read input[i] in a map over 0..n needs no bounds assert, and its
  // adjoint is a map (no guard, no scatter loop).
  const char* src = R"(
fn f(x: f64[n], w: f64[n]) -> f64 {
    var input = [x[j] * 2.0 for j in 0..n]
    for k in 0..3 {
        input = [sin(input[j] * w[j]) for j in 0..n]
    }
    sum(input)
}
)";
  pipetest::Program p = pipetest::compile(src);
  auto g = fullGrad(*p.m, "f");
  INFO(ir::printFunction(*g));
  CHECK(countShapeGuards(g->body) == 0);
  CHECK(count(g->body, ir::OpKind::AddAt) == 0);
  CHECK(countIndexSelects(g->body) == 0);
  // n = 1: d/dx of sin(sin(sin(2x w) w) w).
  double x = 0.3, w = 0.7, a = std::sin(2 * x * w), b2 = std::sin(a * w);
  double dx = std::cos(b2 * w) * w * std::cos(a * w) * w * std::cos(2 * x * w) * 2 * w;
  double dw = std::cos(b2 * w) * (b2 + w * std::cos(a * w) * (a + w * std::cos(2 * x * w) * 2 * x));
  checkGrad(src, "f", {vec({x}), vec({w})}, {dx, dw}, 1e-12);
  checkGrad(src, "f", {vec({0.3, -0.2, 0.5}), vec({0.7, 1.1, -0.4})});
}

TEST_CASE("lstm: max(size, 0) and select(n > 0, n, 0) fold to the size", "[ad][lstm][simplify]") {
  const char* src = R"(
fn f(x: f64[n]) -> f64 {
    sum([x[i] * x[i] for i in 0..n])
}
)";
  pipetest::Program p = pipetest::compile(src);
  auto g = fullGrad(*p.m, "f");
  INFO(ir::printFunction(*g));
  CHECK(count(g->body, ir::OpKind::Max) == 0);
  CHECK(countIndexSelects(g->body) == 0);
  checkGrad(src, "f", {vec({1, -2, 3})}, {2, -4, 6});
}

TEST_CASE("lstm: the ADBench objective's gradient is elementwise and exact", "[ad][lstm]") {
  pipetest::Program p = pipetest::compile(kLstm);
  auto g = fullGrad(*p.m, "lstm");
  INFO(ir::printFunction(*g));
  CHECK(countShapeGuards(g->body) == 0);      // no shape guards or scatter fallbacks
  CHECK(countIndexSelects(g->body) == 0);             // no broadcast indices
  CHECK(count(g->body, ir::OpKind::Assert) <= 4);  // the entry shape checks only
  const int64_t l = 2, b = 3, c = 4;
  std::vector<RtValue> args{mat(2 * l, 4 * b, ramp(2 * l * 4 * b, 0.5, 0.1)), mat(3, b, ramp(3 * b, 0.8, 0.7)),
                            mat(2 * l, b, ramp(2 * l * b, 0.6, 0.3)), mat(c, b, ramp(c * b, 1.0, 0.9))};
  checkGrad(kLstm, "lstm", args);
}
