// Runtime errors through the public API (issue 10 item 8): what() stays
// "file:line:col: message", and diagnostic() renders the same error like a
// compile error (`file:line:col: runtime error: message`, the source line
// and a caret under the column), identically from the JIT, the interpreter
// and gradient code; an error without a position has no diagnostic.
#include <catch2/catch.hpp>

#include <chain/chain.h>

#include <string>

using chain::Backend;
using chain::DType;
using chain::Tensor;
using chain::Value;

namespace {

const char* kSrc = R"(fn at(x: f64[n], i: i64) -> f64 {
    x[0] * x[i]
}
fn idiv(a: i64, b: i64) -> i64 { a / b }
fn big(n: i64) -> f64[n] { fill(1.0, n) }
)";

chain::RuntimeError errorOf(const chain::Function& f, const std::vector<Value>& args) {
  try {
    f(args);
  } catch (const chain::RuntimeError& e) {
    return e;
  }
  FAIL("expected a RuntimeError");
  return chain::RuntimeError("");
}

}  // namespace

TEST_CASE("runtime errors: rendered with the source line and a caret", "[runtime][errors]") {
  Value x = Value(Tensor::fromValues(DType::F64, {3}, {1, 2, 3}));
  for (Backend backend : {Backend::Jit, Backend::Interpreter}) {
    INFO((backend == Backend::Jit ? "JIT" : "interpreter"));
    chain::Options o;
    o.backend = backend;
    chain::Module m = chain::Jit(o).compile_string(kSrc, "dir:with:colons/err.chain");
    chain::RuntimeError oob = errorOf(m.function("at"), {x, int64_t(5)});
    CHECK(std::string(oob.what()) == "dir:with:colons/err.chain:2:12: index 5 is out of bounds for axis 0 of size 3");
    CHECK(oob.diagnostic() ==
          "dir:with:colons/err.chain:2:12: runtime error: index 5 is out of bounds for axis 0 of size 3\n"
          "      x[0] * x[i]\n"
          "             ^\n");
    chain::RuntimeError copy = oob;  // a copy keeps it
    CHECK(copy.diagnostic() == oob.diagnostic());
    chain::RuntimeError grad = errorOf(m.gradient("at", {"x"}), {x, int64_t(-1)});
    CHECK(grad.diagnostic().rfind("dir:with:colons/err.chain:2:12: runtime error: index -1 is out of bounds", 0) == 0);
    chain::RuntimeError div = errorOf(m.function("idiv"), {int64_t(7), int64_t(0)});
    CHECK(div.diagnostic() ==
          "dir:with:colons/err.chain:4:36: runtime error: integer division by zero\n"
          "  fn idiv(a: i64, b: i64) -> i64 { a / b }\n"
          "                                     ^\n");
    chain::RuntimeError mem = errorOf(m.function("big"), {int64_t(1000000000000000)});
    CHECK(std::string(mem.what()).find("out of memory") == 0);
    CHECK(mem.diagnostic().empty());
  }
  CHECK(chain::RuntimeError("no position").diagnostic().empty());
}
