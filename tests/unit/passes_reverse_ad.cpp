// Reverse AD checked through the reference interpreter: each program is
// parsed, lowered, inlined and simplified, differentiated, and its gradient
// compared with analytic values and central finite differences.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "frontend/Frontend.h"
#include "ir/Interpreter.h"
#include "ir/Verifier.h"
#include "passes/Inline.h"
#include "passes/ReverseAD.h"
#include "passes/Simplify.h"

using namespace chain;
using ir::RtValue;

namespace {

struct Compiled {
  std::string src;
  std::unique_ptr<ir::Module> m;
};

Compiled compile(const std::string& src) {
  Compiled c{src, nullptr};
  DiagEngine diag("test.chain", &c.src);
  auto prog = frontend::parse(c.src, diag);
  REQUIRE(!diag.hasErrors());
  frontend::check(*prog, diag);
  INFO(diag.render());
  REQUIRE(!diag.hasErrors());
  c.m = frontend::lower(*prog);
  return c;
}

std::unique_ptr<ir::Function> prepared(ir::Module& m, const std::string& name) {
  auto f = ir::cloneFunction(*m.lookup(name));
  passes::inlineCalls(m, *f);
  passes::simplify(m, *f);
  return f;
}

double eval(ir::Module& m, const ir::Function& f, const std::vector<RtValue>& args) {
  return ir::interpret(m, f, args).at(0).f;
}

// Gradient of `name` w.r.t. every float parameter at `args`, plus the value.
std::vector<double> gradient(ir::Module& m, const std::string& name, const std::vector<RtValue>& args,
                             double* value = nullptr) {
  auto f = prepared(m, name);
  std::vector<int> wrt;
  for (size_t i = 0; i < f->numParams(); ++i)
    if (f->param(i)->type.isFloat()) wrt.push_back(int(i));
  auto g = passes::reverseAD(*f, wrt, true, name + ".grad");
  auto errs = ir::verifyFunction(*g);
  INFO((errs.empty() ? "" : errs[0]));
  REQUIRE(errs.empty());
  passes::simplify(m, *g);
  REQUIRE(ir::verifyFunction(*g).empty());
  std::vector<RtValue> r = ir::interpret(m, *g, args);
  if (value) *value = r[0].f;
  std::vector<double> out;
  for (size_t k = 1; k < r.size(); ++k) out.push_back(r[k].f);
  return out;
}

std::vector<double> finiteDiff(ir::Module& m, const std::string& name, std::vector<RtValue> args) {
  auto f = prepared(m, name);
  std::vector<double> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].type.isFloat()) continue;
    double x = args[i].f, h = 1e-6 * std::max(1.0, std::abs(x));
    args[i].f = x + h;
    double fp = eval(m, *f, args);
    args[i].f = x - h;
    double fm = eval(m, *f, args);
    args[i].f = x;
    out.push_back((fp - fm) / (2 * h));
  }
  return out;
}

void checkAgainstFD(const std::string& src, const std::string& name, const std::vector<RtValue>& args) {
  Compiled c = compile(src);
  double value = 0;
  std::vector<double> g = gradient(*c.m, name, args, &value);
  std::vector<double> fd = finiteDiff(*c.m, name, args);
  auto f = prepared(*c.m, name);
  CHECK(value == Approx(eval(*c.m, *f, args)));
  REQUIRE(g.size() == fd.size());
  for (size_t k = 0; k < g.size(); ++k) {
    INFO(src << "\nparameter " << k << ": AD " << g[k] << " FD " << fd[k]);
    CHECK(g[k] == Approx(fd[k]).epsilon(1e-6).margin(1e-7));
  }
}

RtValue F(double v) { return RtValue::f64(v); }
RtValue I(int64_t v) { return RtValue::i64(v); }

}  // namespace

TEST_CASE("AD of straight-line code matches the analytic gradient", "[ad]") {
  Compiled c = compile("fn f(x: f64, y: f64) -> f64 { x * y + sin(x) }");
  std::vector<double> g = gradient(*c.m, "f", {F(0.7), F(-1.3)});
  REQUIRE(g.size() == 2);
  CHECK(g[0] == Approx(-1.3 + std::cos(0.7)));
  CHECK(g[1] == Approx(0.7));
}

TEST_CASE("AD of x*x is 2x", "[ad]") {
  Compiled c = compile("fn sq(x: f64) -> f64 { x * x }");
  CHECK(gradient(*c.m, "sq", {F(3.0)})[0] == 6.0);
}

TEST_CASE("AD of every scalar built-in agrees with finite differences", "[ad]") {
  const char* bodies[] = {
      "exp(x)", "log(x)", "sqrt(x)", "sin(x)", "cos(x)", "tan(x)", "tanh(x)", "abs(x)",
      "sigmoid(x)", "relu(x)", "softplus(x)", "log1p(x)", "expm1(x)", "pow(x, y)", "x ** y",
      "min(x, y)", "max(x, y)", "atan2(x, y)", "x / y", "x - y", "x % y", "floor(x) * y",
      "ceil(x) + y", "-x", "if x > y { x } else { y * y }"};
  for (const char* body : bodies) {
    std::string src = std::string("fn f(x: f64, y: f64) -> f64 { ") + body + " }";
    for (double x : {0.37, 1.9}) checkAgainstFD(src, "f", {F(x), F(1.3)});
  }
}

TEST_CASE("AD conventions at non-differentiable points", "[ad]") {
  Compiled c = compile(
      "fn r(x: f64) -> f64 { relu(x) }\n"
      "fn a(x: f64) -> f64 { abs(x) }\n"
      "fn mx(x: f64, y: f64) -> f64 { max(x, y) }\n"
      "fn mn(x: f64, y: f64) -> f64 { min(x, y) }\n"
      "fn s(x: f64) -> f64 { stop_gradient(x) * x }\n");
  CHECK(gradient(*c.m, "r", {F(0.0)})[0] == 0.0);
  CHECK(gradient(*c.m, "a", {F(0.0)})[0] == 0.0);
  CHECK(gradient(*c.m, "mx", {F(2.0), F(2.0)}) == std::vector<double>{1.0, 0.0});
  CHECK(gradient(*c.m, "mn", {F(2.0), F(2.0)}) == std::vector<double>{1.0, 0.0});
  CHECK(gradient(*c.m, "s", {F(3.0)})[0] == 3.0);
  // float casts pass the adjoint through (finite differences would see f32 rounding)
  Compiled k = compile("fn c(x: f64) -> f64 { f64(f32(x)) * 2.0 }");
  CHECK(gradient(*k.m, "c", {F(0.3)})[0] == 2.0);
}

TEST_CASE("AD through a for loop with loop-carried state", "[ad]") {
  // s_{k+1} = s_k * x + 1, s_0 = x: after n steps s = x^(n+1) + x^(n-1) + ... + 1
  const std::string src =
      "fn f(x: f64, n: i64) -> f64 {\n"
      "  var s = x\n"
      "  var t = 0.0\n"
      "  for i in 0..n {\n"
      "    s = s * x + 1.0\n"
      "    t += sin(s) * f64(i)\n"
      "  }\n"
      "  s + t\n"
      "}\n";
  checkAgainstFD(src, "f", {F(0.9), I(5)});
  checkAgainstFD(src, "f", {F(0.9), I(0)});
  Compiled c = compile("fn p(x: f64, n: i64) -> f64 { var s = 1.0\n for i in 0..n { s *= x }\n s }");
  CHECK(gradient(*c.m, "p", {F(1.5), I(4)})[0] == Approx(4 * std::pow(1.5, 3)));
}

TEST_CASE("AD through nested for loops", "[ad]") {
  const std::string src =
      "fn f(x: f64, y: f64) -> f64 {\n"
      "  var acc = 0.0\n"
      "  for i in 0..4 {\n"
      "    var inner = x\n"
      "    for j in 0..i {\n"
      "      inner = inner * y + cos(inner)\n"
      "    }\n"
      "    acc += inner * x\n"
      "  }\n"
      "  acc\n"
      "}\n";
  checkAgainstFD(src, "f", {F(0.3), F(0.8)});
}

TEST_CASE("AD through a while loop with a data-dependent trip count", "[ad]") {
  const std::string src =
      "fn f(x: f64, y: f64) -> f64 {\n"
      "  var s = y\n"
      "  var n = 0\n"
      "  while s < 100.0 {\n"
      "    s = s * x + y\n"
      "    n += 1\n"
      "  }\n"
      "  s + f64(n)\n"
      "}\n";
  checkAgainstFD(src, "f", {F(1.7), F(0.9)});
  checkAgainstFD(src, "f", {F(1.7), F(200.0)});  // zero iterations
}

TEST_CASE("AD through if inside a loop and calls", "[ad]") {
  const std::string src =
      "fn g(a: f64, b: f64) -> f64 { if a > b { a * b } else { exp(a - b) } }\n"
      "fn f(x: f64, y: f64) -> f64 {\n"
      "  var s = 0.0\n"
      "  for i in 0..6 {\n"
      "    if f64(i) * 0.3 < x {\n"
      "      s += g(x, f64(i) * y)\n"
      "    } else {\n"
      "      s -= tanh(s * y)\n"
      "    }\n"
      "  }\n"
      "  s\n"
      "}\n";
  checkAgainstFD(src, "f", {F(0.8), F(0.25)});
}

TEST_CASE("AD through tuples and let destructuring", "[ad]") {
  const std::string src =
      "fn pair(x: f64, y: f64) -> (f64, f64) { (x * y, x + y) }\n"
      "fn f(x: f64, y: f64) -> f64 { let (a, b) = pair(x, y)\n a * b }\n";
  Compiled c = compile(src);
  std::vector<double> g = gradient(*c.m, "f", {F(2.0), F(3.0)});
  // f = x y (x + y) = x^2 y + x y^2
  CHECK(g[0] == Approx(2 * 2.0 * 3.0 + 9.0));
  CHECK(g[1] == Approx(4.0 + 2 * 2.0 * 3.0));
}

TEST_CASE("AD gradient of an f32 function stays f32", "[ad]") {
  Compiled c = compile("fn f(x: f32) -> f32 { x * x * 3.0 }");
  auto f = prepared(*c.m, "f");
  auto g = passes::reverseAD(*f, {0}, false, "g");
  REQUIRE(g->resultTypes.size() == 1);
  CHECK(g->resultTypes[0] == ir::Type::f32());
  CHECK(ir::interpret(*c.m, *g, {RtValue::f32(2.0f)})[0].f == Approx(12.0));
}
