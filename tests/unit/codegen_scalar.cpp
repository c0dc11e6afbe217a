// Code generation of scalar ops through the JIT: arithmetic, every math op
// against <cmath> (f64 and f32), min/max ties and NaN, i64 division and
// remainder, runtime errors with source positions, casts, and --nan-check.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "codegen_util.h"

using namespace cgtest;
using K = chain::ir::OpKind;
using chain::ir::Type;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// f(x) = op(x) for one unary op on type t.
Compiled unaryFn(K k, Type t, chain::codegen::CodegenOptions opts = {}) {
  FnBuilder fb("u", {t});
  fb.ret({fb.b.unary(k, fb.p(0))});
  return compile(fb, opts);
}

Compiled binaryFn(K k, Type t, chain::codegen::CodegenOptions opts = {}) {
  FnBuilder fb("bin", {t, t});
  fb.ret({fb.b.binary(k, fb.p(0), fb.p(1))});
  return compile(fb, opts);
}

bool sameDouble(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

double refUnary(K k, double x) {
  switch (k) {
    case K::Neg: return -x;
    case K::Abs: return std::fabs(x);
    case K::Exp: return std::exp(x);
    case K::Log: return std::log(x);
    case K::Sqrt: return std::sqrt(x);
    case K::Sin: return std::sin(x);
    case K::Cos: return std::cos(x);
    case K::Tan: return std::tan(x);
    case K::Tanh: return std::tanh(x);
    case K::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case K::Relu: return x > 0 ? x : 0.0;
    case K::Softplus: return std::fmax(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
    case K::Log1p: return std::log1p(x);
    case K::Expm1: return std::expm1(x);
    case K::Floor: return std::floor(x);
    case K::Ceil: return std::ceil(x);
    default: return kNaN;
  }
}

const K kUnary[] = {K::Neg,  K::Abs,     K::Exp,  K::Log,     K::Sqrt,  K::Sin,
                    K::Cos,  K::Tan,     K::Tanh, K::Sigmoid, K::Relu,  K::Softplus,
                    K::Log1p, K::Expm1,  K::Floor, K::Ceil};

}  // namespace

TEST_CASE("codegen: f64 arithmetic with several results", "[codegen]") {
  FnBuilder fb("arith", {Type::f64(), Type::f64()});
  auto& b = fb.b;
  ir::Value* x = fb.p(0);
  ir::Value* y = fb.p(1);
  fb.ret({b.binary(K::Add, x, y), b.binary(K::Sub, x, y), b.binary(K::Mul, x, y),
          b.binary(K::Div, x, y), b.binary(K::Rem, x, y), b.binary(K::Pow, x, y),
          b.binary(K::Atan2, x, y)});
  Compiled c = compile(fb);
  REQUIRE(c.entry);
  for (auto [x0, y0] : {std::pair{3.5, 2.0}, {-7.25, 1.5}, {0.3, -0.1}, {2.0, 0.0}}) {
    CallResult r = c({D(x0), D(y0)});
    REQUIRE(r.status == CHAIN_OK);
    CHECK(r.results[0].d == x0 + y0);
    CHECK(r.results[1].d == x0 - y0);
    CHECK(r.results[2].d == x0 * y0);
    CHECK(sameDouble(r.results[3].d, x0 / y0));
    CHECK(sameDouble(r.results[4].d, std::fmod(x0, y0)));
    CHECK(sameDouble(r.results[5].d, std::pow(x0, y0)));
    CHECK(r.results[6].d == std::atan2(x0, y0));
  }
}

TEST_CASE("codegen: every unary math op matches <cmath> (f64)", "[codegen]") {
  const double inputs[] = {-2.5, -1.0, -0.0, 0.0, 0.3, 1.0, 2.75, 40.0, -800.0, 800.0};
  for (K k : kUnary) {
    Compiled c = unaryFn(k, Type::f64());
    REQUIRE(c.entry);
    for (double x : inputs) {
      CallResult r = c({D(x)});
      REQUIRE(r.status == CHAIN_OK);
      double want = refUnary(k, x);
      INFO(chain::ir::opName(k) << "(" << x << ") = " << r.results[0].d << ", want " << want);
      // libm and LLVM's lowering may differ in the last bit for transcendentals.
      if (std::isnan(want) || std::isinf(want))
        CHECK(sameDouble(r.results[0].d, want));
      else
        CHECK(r.results[0].d == Approx(want).epsilon(1e-15).margin(1e-300));
    }
  }
}

TEST_CASE("codegen: unary math ops on f32", "[codegen]") {
  const float inputs[] = {-2.5f, -0.5f, 0.0f, 0.3f, 1.0f, 3.0f};
  for (K k : kUnary) {
    Compiled c = unaryFn(k, Type::f32());
    REQUIRE(c.entry);
    for (float x : inputs) {
      CallResult r = c({F(x)});
      REQUIRE(r.status == CHAIN_OK);
      float want = static_cast<float>(refUnary(k, x));
      INFO(chain::ir::opName(k) << "(" << x << ")");
      if (std::isnan(want))
        CHECK(std::isnan(r.results[0].f));
      else
        CHECK(r.results[0].f == Approx(want).epsilon(1e-6).margin(1e-30));
    }
  }
}

TEST_CASE("codegen: softplus is stable for large arguments", "[codegen]") {
  Compiled c = unaryFn(K::Softplus, Type::f64());
  CHECK(c({D(1000.0)}).results[0].d == 1000.0);
  CHECK(c({D(-1000.0)}).results[0].d == 0.0);
  Compiled s = unaryFn(K::Sigmoid, Type::f64());
  CHECK(s({D(0.0)}).results[0].d == 0.5);
}

TEST_CASE("codegen: min and max send ties and NaN in b to the first operand", "[codegen]") {
  Compiled mn = binaryFn(K::Min, Type::f64());
  Compiled mx = binaryFn(K::Max, Type::f64());
  CHECK(mn({D(1.0), D(2.0)}).results[0].d == 1.0);
  CHECK(mn({D(3.0), D(2.0)}).results[0].d == 2.0);
  CHECK(mx({D(1.0), D(2.0)}).results[0].d == 2.0);
  // tie between +0 and -0: the first operand, sign included
  CHECK(!std::signbit(mn({D(0.0), D(-0.0)}).results[0].d));
  CHECK(std::signbit(mn({D(-0.0), D(0.0)}).results[0].d));
  CHECK(!std::signbit(mx({D(0.0), D(-0.0)}).results[0].d));
  CHECK(std::signbit(mx({D(-0.0), D(0.0)}).results[0].d));
  // NaN in b -> a; NaN in a -> a (NaN)
  CHECK(mn({D(1.0), D(kNaN)}).results[0].d == 1.0);
  CHECK(mx({D(1.0), D(kNaN)}).results[0].d == 1.0);
  CHECK(std::isnan(mn({D(kNaN), D(1.0)}).results[0].d));
  CHECK(std::isnan(mx({D(kNaN), D(1.0)}).results[0].d));
  Compiled imn = binaryFn(K::Min, Type::i64());
  Compiled imx = binaryFn(K::Max, Type::i64());
  CHECK(imn({I(-5), I(3)}).results[0].i == -5);
  CHECK(imx({I(-5), I(3)}).results[0].i == 3);
}

TEST_CASE("codegen: i64 arithmetic, division truncates, remainder has the dividend's sign",
          "[codegen]") {
  FnBuilder fb("idiv", {Type::i64(), Type::i64()});
  auto& b = fb.b;
  fb.ret({b.binary(K::Div, fb.p(0), fb.p(1)), b.binary(K::Rem, fb.p(0), fb.p(1)),
          b.binary(K::Add, fb.p(0), fb.p(1)), b.binary(K::Mul, fb.p(0), fb.p(1)),
          b.unary(K::Neg, fb.p(0)), b.unary(K::Abs, fb.p(0))});
  Compiled c = compile(fb);
  struct Case { int64_t a, b; };
  for (Case t : {Case{7, 2}, Case{-7, 2}, Case{7, -2}, Case{-7, -2}, Case{0, 5}, Case{6, 3}}) {
    CallResult r = c({I(t.a), I(t.b)});
    REQUIRE(r.status == CHAIN_OK);
    CHECK(r.results[0].i == t.a / t.b);
    CHECK(r.results[1].i == t.a % t.b);
    CHECK(r.results[2].i == t.a + t.b);
    CHECK(r.results[3].i == t.a * t.b);
    CHECK(r.results[4].i == -t.a);
    CHECK(r.results[5].i == (t.a < 0 ? -t.a : t.a));
  }
  CHECK(c({I(-7), I(2)}).results[0].i == -3);
  CHECK(c({I(-7), I(2)}).results[1].i == -1);
}

TEST_CASE("codegen: integer division by zero is a runtime error with the position",
          "[codegen]") {
  FnBuilder fb("dz", {Type::i64(), Type::i64()});
  fb.b.setLoc({3, 7});
  ir::Value* q = fb.b.binary(K::Div, fb.p(0), fb.p(1));
  fb.b.setLoc({4, 9});
  ir::Value* r = fb.b.binary(K::Rem, fb.p(0), fb.p(1));
  fb.ret({q, r});
  for (int opt : {0, 2}) {
    chain::codegen::CodegenOptions o;
    o.optLevel = opt;
    o.fileName = "model.chain";
    Compiled c = compile(fb, o);
    CallResult bad = c({I(10), I(0)});
    CHECK(bad.status == CHAIN_ERR_RUNTIME);
    CHECK(bad.message == "model.chain:3:7: integer division by zero");
    CallResult ovf = c({I(INT64_MIN), I(-1)});
    CHECK(ovf.status == CHAIN_ERR_RUNTIME);
    CHECK(ovf.message.find("3:7: integer overflow in division") != std::string::npos);
    CallResult ok = c({I(10), I(3)});
    CHECK(ok.status == CHAIN_OK);
    CHECK(ok.results[0].i == 3);
    CHECK(ok.results[1].i == 1);
  }
  // the remainder alone: INT64_MIN % -1 overflows too (as in the interpreter)
  FnBuilder fr("rem", {Type::i64(), Type::i64()});
  fr.b.setLoc({5, 2});
  fr.ret({fr.b.binary(K::Rem, fr.p(0), fr.p(1))});
  Compiled c = compile(fr);
  CallResult rm = c({I(INT64_MIN), I(-1)});
  CHECK(rm.status == CHAIN_ERR_RUNTIME);
  CHECK(rm.message == "test.chain:5:2: integer overflow in division");
  CHECK(c({I(INT64_MIN), I(3)}).results[0].i == INT64_MIN % 3);
  CallResult z = c({I(1), I(0)});
  CHECK(z.status == CHAIN_ERR_RUNTIME);
  CHECK(z.message == "test.chain:5:2: integer division by zero");
}

TEST_CASE("codegen: comparisons, logic and select", "[codegen]") {
  FnBuilder fb("cmp", {Type::f64(), Type::f64()});
  auto& b = fb.b;
  ir::Value* x = fb.p(0);
  ir::Value* y = fb.p(1);
  ir::Value* lt = b.binary(K::Lt, x, y);
  ir::Value* ne = b.binary(K::Ne, x, y);
  ir::Value* both = b.binary(K::And, lt, ne);
  ir::Value* either = b.binary(K::Or, b.binary(K::Ge, x, y), b.binary(K::Eq, x, y));
  fb.ret({lt, b.binary(K::Le, x, y), b.binary(K::Gt, x, y), ne, both, either,
          b.unary(K::Not, lt), b.select(lt, x, y)});
  Compiled c = compile(fb);
  CallResult r = c({D(1.0), D(2.0)});
  std::vector<int> want{1, 1, 0, 1, 1, 0, 0};
  for (size_t k = 0; k < want.size(); ++k) CHECK(r.results[k].b == want[k]);
  CHECK(r.results[7].d == 1.0);
  CallResult n = c({D(kNaN), D(2.0)});  // ordered compares false, ne true
  std::vector<int> wantN{0, 0, 0, 1, 0, 0, 1};
  for (size_t k = 0; k < wantN.size(); ++k) CHECK(n.results[k].b == wantN[k]);
  CHECK(n.results[7].d == 2.0);
}

TEST_CASE("codegen: casts", "[codegen]") {
  FnBuilder fb("casts", {Type::f64(), Type::i64(), Type::boolean()});
  auto& b = fb.b;
  fb.ret({b.cast(fb.p(0), Type::i64()), b.cast(fb.p(0), Type::f32()),
          b.cast(fb.p(0), Type::boolean()), b.cast(fb.p(1), Type::f64()),
          b.cast(fb.p(1), Type::boolean()), b.cast(fb.p(2), Type::f64()),
          b.cast(fb.p(2), Type::i64()), b.cast(b.cast(fb.p(0), Type::f32()), Type::i64())});
  Compiled c = compile(fb);
  CallResult r = c({D(-2.7), I(-3), B(true)});
  CHECK(r.results[0].i == -2);
  CHECK(r.results[1].f == -2.7f);
  CHECK(r.results[2].b == 1);
  CHECK(r.results[3].d == -3.0);
  CHECK(r.results[4].b == 1);
  CHECK(r.results[5].d == 1.0);
  CHECK(r.results[6].i == 1);
  CHECK(r.results[7].i == -2);
  CHECK(c({D(2.9), I(0), B(false)}).results[0].i == 2);
  CallResult n = c({D(kNaN), I(0), B(false)});
  CHECK(n.results[0].i == 0);
  CHECK(n.results[2].b == 1);  // NaN != 0
  CHECK(n.results[4].b == 0);
  CHECK(n.results[5].d == 0.0);
  CHECK(n.results[7].i == 0);
  CHECK(c({D(1e300), I(0), B(false)}).results[0].i == INT64_MAX);
  CHECK(c({D(-1e300), I(0), B(false)}).results[0].i == INT64_MIN);
  CHECK(c({D(0.0), I(0), B(false)}).results[2].b == 0);
}

TEST_CASE("codegen: nan-check names the op and position", "[codegen]") {
  chain::codegen::CodegenOptions on;
  on.nanCheck = true;
  on.fileName = "m.chain";
  FnBuilder fb("nc", {Type::f64()});
  fb.b.setLoc({2, 5});
  ir::Value* l = fb.b.unary(K::Log, fb.p(0));
  fb.b.setLoc({2, 12});
  ir::Value* e = fb.b.unary(K::Exp, fb.p(0));
  fb.ret({fb.b.binary(K::Add, l, e)});
  Compiled c = compile(fb, on);
  CallResult r = c({D(-1.0)});
  CHECK(r.status == CHAIN_ERR_NAN);
  CHECK(r.message == "m.chain:2:5: NaN produced by 'log'");
  CallResult inf = c({D(1000.0)});
  CHECK(inf.status == CHAIN_ERR_NAN);
  CHECK(inf.message == "m.chain:2:12: infinity produced by 'exp'");
  CallResult ok = c({D(1.0)});
  CHECK(ok.status == CHAIN_OK);
  CHECK(ok.results[0].d == std::exp(1.0));
  // off (the default): NaN flows through
  Compiled off = compile(fb);
  CallResult n = off({D(-1.0)});
  CHECK(n.status == CHAIN_OK);
  CHECK(std::isnan(n.results[0].d));
}

TEST_CASE("codegen: constants of every type and stop_gradient", "[codegen]") {
  FnBuilder fb("consts", {});
  auto& b = fb.b;
  fb.ret({b.constF(2.5), b.constF(0.1, Type::f32()), b.constI(-42), b.constB(true),
          b.unary(K::StopGradient, b.constF(7.0))});
  Compiled c = compile(fb);
  CallResult r = c({});
  CHECK(r.results[0].d == 2.5);
  CHECK(r.results[1].f == 0.1f);
  CHECK(r.results[2].i == -42);
  CHECK(r.results[3].b == 1);
  CHECK(r.results[4].d == 7.0);
}
