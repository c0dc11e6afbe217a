// chain::CompileError as the API hands it out: what() holds the rendered
// diagnostics (file:line:col: error: message, the source line, a caret) and
// diagnostics() the same errors as data, sorted by position.
#include <catch2/catch.hpp>

#include <chain/chain.h>

#include <string>

namespace {

// The CompileError that `compile` throws (fails the test when none is thrown).
template <class F> chain::CompileError compileErrorOf(F compile) {
  try {
    compile();
  } catch (const chain::CompileError& e) {
    return e;
  }
  FAIL("no CompileError");
  return chain::CompileError("");
}

std::string str(const chain::CompileError::Diagnostic& d) {
  return d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.col) + ": " + d.message;
}

}  // namespace

TEST_CASE("diagnostics: a frontend CompileError lists its diagnostics, sorted", "[runtime][diagnostics]") {
  chain::CompileError e = compileErrorOf([] {
    chain::Jit().compile_string("fn f(x: f64) -> f64 {\n  y + z\n}\nfn g(x: f64) -> f64 { w }\n", "m.chain");
  });
  REQUIRE(e.diagnostics().size() == 3);
  CHECK(str(e.diagnostics()[0]) == "m.chain:2:3: unknown name 'y'");
  CHECK(str(e.diagnostics()[1]) == "m.chain:2:7: unknown name 'z'");
  CHECK(str(e.diagnostics()[2]) == "m.chain:4:23: unknown name 'w'");
  CHECK(std::string(e.what()) ==
        "m.chain:2:3: error: unknown name 'y'\n    y + z\n    ^\n"
        "m.chain:2:7: error: unknown name 'z'\n    y + z\n        ^\n"
        "m.chain:4:23: error: unknown name 'w'\n  fn g(x: f64) -> f64 { w }\n                        ^\n");
  // Copies share the list.
  chain::CompileError copy = e;
  CHECK(copy.diagnostics().size() == 3);
  CHECK(chain::CompileError("no position").diagnostics().empty());
}

TEST_CASE("diagnostics: nested differentiation compiles; emit of one function prints it alone", "[runtime][diagnostics]") {
  const char* src = R"(fn f(x: f64) -> f64 { x * x }
fn g(x: f64) -> f64 { grad(f)(x) }
fn k(x: f64) -> f64 { g(x) + 1.0 }
fn m(x: f64) -> f64 { grad(g)(x) + grad(k)(x) + grad(f)(x) }
fn n(x: f64) -> f64 { m(x) * 2.0 }
)";
  chain::Module mod = chain::Jit().compile_string(src, "t.chain");
  CHECK(mod.function("g")({3.0}).asDouble() == 6.0);
  CHECK(mod.function("k")({3.0}).asDouble() == 7.0);
  CHECK(mod.gradient("f")({3.0}).asDouble() == 6.0);
  // g = 2x, k = 2x + 1: m = 2 + 2 + 2x, n = 2 m
  CHECK(mod.function("m")({3.0}).asDouble() == 10.0);
  CHECK(mod.function("n")({3.0}).asDouble() == 20.0);
  CHECK(mod.gradient("k")({1.0}).asDouble() == 2.0);
  CHECK(mod.gradient("n")({1.0}).asDouble() == 4.0);
  CHECK(mod.emit("ast", "m").rfind("(fn m (params (x f64)) (result f64)\n", 0) == 0);
  CHECK(mod.emit("ast", "m").find("(fn k") == std::string::npos);
  CHECK(mod.emit("ir", "m").rfind("fn @m(%x: f64) -> (f64) {", 0) == 0);
}
