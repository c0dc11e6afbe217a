// End-to-end tests of the public API (chain/chain.h): compile from source,
// call primal and gradient functions through the JIT, and check values,
// gradients (analytic and central finite differences), errors and memory.
#include <catch2/catch.hpp>

#include <chain/chain.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

using chain::Value;

namespace {

chain::Module compile(const std::string& src, chain::Options o = {}) {
  return chain::Jit(o).compile_string(src, "test.chain");
}

double num(const Value& v) { return v.asDouble(); }

}  // namespace

TEST_CASE("API: run and differentiate a scalar function", "[api]") {
  auto m = compile("fn f(x: f64, y: f64) -> f64 { x * y + sin(x) }");
  CHECK(num(m.function("f")({0.5, 2.0})) == Approx(1.0 + std::sin(0.5)));
  Value g = m.gradient("f")({0.5, 2.0});
  REQUIRE(g.kind() == Value::Kind::Tuple);
  CHECK(num(g.tuple()[0]) == Approx(2.0 + std::cos(0.5)));
  CHECK(num(g.tuple()[1]) == Approx(0.5));
  Value gx = m.gradient("f", {"x"})({0.5, 2.0});
  CHECK(num(gx) == Approx(2.0 + std::cos(0.5)));
  Value vg = m.gradient("f", {"y"}, true)({0.5, 2.0});
  CHECK(num(vg.tuple()[0]) == Approx(1.0 + std::sin(0.5)));
  CHECK(num(vg.tuple()[1]) == Approx(0.5));
}

TEST_CASE("API: every scalar built-in's gradient passes the finite-difference check", "[api]") {
  const char* bodies[] = {"exp(x)", "log(x)", "sqrt(x)", "sin(x)", "cos(x)", "tan(x)", "tanh(x)",
                          "abs(x)", "sigmoid(x)", "relu(x)", "softplus(x)", "log1p(x)", "expm1(x)",
                          "pow(x, y)", "x ** y", "min(x, y)", "max(x, y)", "atan2(x, y)", "x / y",
                          "x % y", "x * floor(y)", "ceil(x) + y"};
  for (const char* body : bodies) {
    auto m = compile(std::string("fn f(x: f64, y: f64) -> f64 { ") + body + " }");
    for (double x : {0.3, 1.7}) {
      chain::GradCheckResult r = chain::checkGradient(m, "f", {}, {x, 1.3});
      INFO(body << " at x = " << x << ": max abs error " << r.maxAbsError);
      CHECK(r.ok);
    }
  }
}

TEST_CASE("API: gradients through loops, while, if and calls (JIT)", "[api]") {
  auto m = compile(
      "fn step(s: f64, x: f64) -> f64 { if s > 1.0 { s * 0.5 + x } else { s * x + 1.0 } }\n"
      "fn f(x: f64, n: i64) -> f64 {\n"
      "  var s = x\n"
      "  for i in 0..n { for j in 0..i { s = step(s, x) } }\n"
      "  var k = 0\n"
      "  while s < 50.0 and k < 1000 { s = s * 1.5 + x\n k += 1 }\n"
      "  s\n"
      "}\n");
  for (int64_t n : {0, 1, 4}) {
    chain::GradCheckResult r = chain::checkGradient(m, "f", {"x"}, {0.7, n});
    INFO("n = " << n << ": " << r.maxAbsError);
    CHECK(r.ok);
  }
}

TEST_CASE("API: grad used inside the language", "[api]") {
  auto m = compile(
      "fn sq(x: f64, y: f64) -> f64 { x * x * y }\n"
      "fn d(x: f64) -> f64 { grad(sq)(x, 3.0) }\n"
      "fn both(x: f64) -> (f64, f64) { grad(sq, wrt=(x, y))(x, 2.0) }\n"
      "fn vg(x: f64) -> f64 { let (v, g) = value_and_grad(sq, wrt=y)(x, 2.0)\n v + g }\n");
  CHECK(num(m.function("d")({2.0})) == Approx(12.0));
  Value b = m.function("both")({3.0});
  CHECK(num(b.tuple()[0]) == Approx(12.0));
  CHECK(num(b.tuple()[1]) == Approx(9.0));
  CHECK(num(m.function("vg")({3.0})) == Approx(18.0 + 9.0));
}

TEST_CASE("API: a 1,000,000-iteration loop differentiates in bounded memory", "[api]") {
  // The step is nonlinear in s, so the reverse sweep needs every s_i.
  auto m = compile(
      "fn f(x: f64, n: i64) -> f64 {\n"
      "  var s = 0.0\n"
      "  for i in 0..n { s = 0.5 * sin(s) + x * 0.001 }\n"
      "  s\n"
      "}\n");
  chain::Function g = m.gradient("f", {"x"});
  double grad = num(g({1.0, int64_t(1000000)}));
  // ds_{i+1}/dx = 0.5 cos(s_i) ds_i/dx + 0.001
  double s = 0, ds = 0;
  for (int i = 0; i < 1000000; ++i) {
    ds = 0.5 * std::cos(s) * ds + 0.001;
    s = 0.5 * std::sin(s) + 0.001;
  }
  CHECK(grad == Approx(ds).epsilon(1e-9));
  int64_t tape = chain::Function::lastTapeBytes();
  // one f64 of carried state per iteration (8 bytes), not more than 2x that
  CHECK(tape >= 8 * 1000000);
  CHECK(tape <= 16 * 1000000);
  g({1.0, int64_t(10)});
  CHECK(chain::Function::lastTapeBytes() <= 16 * 10);
}

TEST_CASE("API: a loop linear in its carried value needs no tape", "[api]") {
  auto m = compile(
      "fn f(x: f64, n: i64) -> f64 {\n"
      "  var s = 0.0\n"
      "  for i in 0..n { s = s * 0.999999 + x * 0.5 }\n"
      "  s\n"
      "}\n");
  chain::Function g = m.gradient("f", {"x"});
  double grad = num(g({1.0, int64_t(1000000)}));
  // s_n = 0.5 x (1 - r^n) / (1 - r), r = 0.999999
  double r = 0.999999;
  CHECK(grad == Approx(0.5 * (1 - std::pow(r, 1000000)) / (1 - r)).epsilon(1e-9));
  // the reverse sweep never reads s, so nothing of it is recorded
  CHECK(chain::Function::lastTapeBytes() == 0);
}

TEST_CASE("API: errors are exceptions carrying diagnostics", "[api]") {
  try {
    compile("fn f(x: f64) -> f64 {\n  x + y\n}\nfn g(a: f64) -> f64 { a + true }\n");
    FAIL("expected a CompileError");
  } catch (const chain::CompileError& e) {
    std::string msg = e.what();
    CHECK(msg.find("test.chain:2:") != std::string::npos);
    CHECK(msg.find("unknown name 'y'") != std::string::npos);
    CHECK(msg.find("test.chain:4:") != std::string::npos);  // several errors in one run
    CHECK(msg.find("^") != std::string::npos);
  }
  auto m = compile("fn f(a: i64, b: i64) -> i64 { a / b }\nfn h(x: f64, n: i64) -> f64 { x * f64(n) }");
  CHECK_THROWS_AS(m.function("nope"), chain::UsageError);
  CHECK_THROWS_AS(m.function("f")({1}), chain::InputError);
  CHECK_THROWS_AS(m.function("f")({1.5, int64_t(2)}), chain::InputError);
  CHECK_THROWS_AS(m.gradient("f"), chain::CompileError);         // no float parameter
  CHECK_THROWS_AS(m.gradient("h", {"n"}), chain::CompileError);  // i64 parameter
  CHECK_THROWS_AS(m.gradient("h", {"zz"}), chain::UsageError);
  try {
    m.function("f")({int64_t(1), int64_t(0)});
    FAIL("expected a RuntimeError");
  } catch (const chain::RuntimeError& e) {
    CHECK(std::string(e.what()).find("test.chain:1:") != std::string::npos);
    CHECK(std::string(e.what()).find("division by zero") != std::string::npos);
  }
  // the module stays usable after a runtime error
  CHECK(m.function("f")({int64_t(7), int64_t(2)}).asInt() == 3);
}

TEST_CASE("API: compiled functions are safe to call from several threads", "[api][tsan]") {
  auto m = compile("fn f(x: f64, n: i64) -> f64 { var s = x\n for i in 0..n { s = sin(s) + x }\n s }");
  chain::Function g = m.gradient("f", {"x"});
  double expect = num(g({0.3, int64_t(1000)}));
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 50; ++k) ok[size_t(t)] += num(g({0.3, int64_t(1000)})) == expect;
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) CHECK(ok[size_t(t)] == 50);
}

TEST_CASE("API: emit shows every stage", "[api]") {
  auto m = compile("fn sq(x: f64) -> f64 { x * x }");
  CHECK(m.emit("ast", "sq").find("sq") != std::string::npos);
  CHECK(m.emit("ir", "sq").find("mul") != std::string::npos);
  CHECK(m.emit("grad", "sq").find("sq.grad") != std::string::npos);
  std::string opt = m.emit("opt", "sq");
  CHECK(opt.find("add %x, %x") != std::string::npos);  // d/dx x*x = x + x, nothing else
  CHECK(m.emit("llvm", "sq").find("chain.entry.sq") != std::string::npos);
  CHECK(m.emit("asm", "sq").find("ret") != std::string::npos);
  CHECK_THROWS_AS(m.emit("bogus", "sq"), chain::UsageError);
}

TEST_CASE("API: optimisation levels agree", "[api]") {
  const char* src = "fn f(x: f64) -> f64 { var s = 0.0\n for i in 0..10 { s += exp(x * f64(i)) }\n s }";
  double ref = num(compile(src).gradient("f")({0.1}));
  for (int o = 0; o <= 3; ++o) {
    chain::Options opts;
    opts.optLevel = o;
    CHECK(num(compile(src, opts).gradient("f")({0.1})) == Approx(ref).epsilon(1e-14));
  }
}

TEST_CASE("API: handles compile lazily, so a gradient never compiles its primal", "[api][lazy]") {
  auto m = compile("fn f(x: f64, y: f64) -> f64 { x * y + sin(x) }");
  double frontendMs = m.compileMs();
  chain::Function f = m.function("f");
  chain::Function g = m.gradient("f", {"x"}, true);
  CHECK_FALSE(f.isCompiled());
  CHECK_FALSE(g.isCompiled());
  CHECK(m.compileMs() == frontendMs);  // making handles compiles nothing
  Value vg = g({0.5, 2.0});
  CHECK(num(vg.tuple()[1]) == Approx(2.0 + std::cos(0.5)));
  CHECK(g.isCompiled());
  CHECK_FALSE(f.isCompiled());
  CHECK_FALSE(m.function("f").isCompiled());
  double gradMs = m.compileMs();
  CHECK(gradMs > frontendMs);
  CHECK(num(f({0.5, 2.0})) == Approx(1.0 + std::sin(0.5)));
  CHECK(f.isCompiled());
  CHECK(m.function("f").isCompiled());  // handles of one function share its code
  double allMs = m.compileMs();
  CHECK(allMs > gradMs);
  f.compile();
  g({0.5, 2.0});
  CHECK(m.compileMs() == allMs);  // each function is compiled once
}

TEST_CASE("API: what the signature rules out throws at once; nested grad compiles lazily", "[api][lazy]") {
  auto m = compile(
      "fn sq(x: f64, y: f64) -> f64 { x * x * y }\n"
      "fn d(x: f64) -> f64 { grad(sq)(x, 3.0) }\n"
      "fn v(x: f64) -> f64[2] { [x, x] }\n");
  CHECK_THROWS_AS(m.gradient("v"), chain::CompileError);  // the signature says so at once
  CHECK_THROWS_AS(m.hessian("v"), chain::CompileError);
  chain::Function g = m.gradient("d");  // d = 6x: its gradient is 6 (forward over reverse)
  CHECK_FALSE(g.isCompiled());
  CHECK(num(g({2.0})) == Approx(6.0));
  CHECK(g.isCompiled());
  CHECK(num(m.function("d")({2.0})) == Approx(12.0));
}

TEST_CASE("API: compileAll compiles several functions at once, with the same code", "[api][lazy][tsan]") {
  const char* src =
      "fn f(x: f64[n], w: f64) -> f64 { sum([exp(w * x[i]) * x[i] for i in 0..n]) }\n"
      "fn h(x: f64[n]) -> f64 { var s = 0.0\n for i in 0..n { s = s + tanh(x[i]) * f64(i) }\n s }\n";
  chain::Options o;
  o.cache = false;
  std::vector<double> data{0.25, -1.5, 2.0, 0.125, 3.0, -0.75, 1.0};
  std::vector<Value> args{Value(chain::Tensor::view(chain::DType::F64, {7}, data.data())), Value(0.5)};
  std::vector<Value> hargs{args[0]};
  // The reference: each function compiled alone, one after the other.
  auto seq = compile(src, o);
  double f0 = num(seq.function("f")(args)), h0 = num(seq.function("h")(hargs));
  Value g0 = seq.gradient("f")(args);
  auto m = compile(src, o);
  std::vector<chain::Function> fns{m.function("f"), m.gradient("f"), m.function("h"), m.gradient("h")};
  double before = m.compileMs();
  auto t0 = std::chrono::steady_clock::now();
  chain::Function::compileAll(fns);
  double wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  for (const chain::Function& f : fns) CHECK(f.isCompiled());
  // Functions compiled at the same time count once: never more than the wall time.
  CHECK(m.compileMs() > before);
  CHECK(m.compileMs() - before <= wallMs + 1e-6);
  CHECK(num(fns[0](args)) == f0);  // bit-identical: the same code
  CHECK(num(fns[2](hargs)) == h0);
  Value g = fns[1](args);
  const chain::Tensor& gx = g.tuple()[0].tensor();
  for (int64_t i = 0; i < 7; ++i) CHECK(gx.at(i) == g0.tuple()[0].tensor().at(i));
  CHECK(num(g.tuple()[1]) == num(g0.tuple()[1]));
  CHECK(fns[3](hargs).tensor().at(6) == Approx(6.0 * (1.0 - std::pow(std::tanh(1.0), 2))));
  chain::Function::compileAll(fns);  // nothing left to do
}

TEST_CASE("API: several threads calling a fresh handle compile it once", "[api][lazy][tsan]") {
  for (chain::Backend backend : {chain::Backend::Jit, chain::Backend::Interpreter}) {
    chain::Options o;
    o.backend = backend;
    auto m = compile("fn f(x: f64, n: i64) -> f64 { var s = x\n for i in 0..n { s = sin(s) + x }\n s }", o);
    double expect = 0.3;
    for (int i = 0; i < 20; ++i) expect = std::sin(expect) + 0.3;
    chain::Function g = m.function("f");
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    std::vector<int> ok(8, 0);
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        try {
          ok[size_t(t)] = num(g({0.3, int64_t(20)})) == Approx(expect).epsilon(1e-12);
        } catch (const std::exception&) {
          ok[size_t(t)] = -1;  // e.g. the JIT asked to add the same function twice
        }
      });
    go = true;
    for (auto& th : threads) th.join();
    for (int t = 0; t < 8; ++t) CHECK(ok[size_t(t)] == 1);
    CHECK(g.isCompiled());
  }
}
