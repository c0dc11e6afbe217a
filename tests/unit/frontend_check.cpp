// Unit tests of the type checker (frontend::check): every diagnostic with its
// exact message and position, numeric promotion and float-literal typing,
// several independent errors in one run, recursion, and the typing rules of
// grad / value_and_grad.
#include <catch2/catch.hpp>

#include "frontend/Frontend.h"

using namespace chain;

namespace {

struct Checked {
  std::string src;
  DiagEngine diag;
  std::unique_ptr<ast::Program> prog;
  bool ok = false;
  bool parsed = false;

  explicit Checked(std::string s) : src(std::move(s)), diag("t.chain", &src) {
    prog = frontend::parse(src, diag);
    parsed = !diag.hasErrors();
    if (parsed) ok = frontend::check(*prog, diag);
  }
  // "line:col: message" for every diagnostic, in report order.
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const Diagnostic& d : diag.diagnostics())
      out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " +
                    d.message);
    return out;
  }
  bool has(const std::string& e) const {
    for (const std::string& x : errors())
      if (x == e) return true;
    return false;
  }
  const ast::FnDecl& fn(const std::string& name) const {
    for (auto& f : prog->fns)
      if (f->name == name) return *f;
    FAIL("no function " << name);
    return *prog->fns[0];
  }
  // The type of the final expression of `name`'s body.
  std::string resultType(const std::string& name) const {
    const ast::FnDecl& f = fn(name);
    return typeStr(f.body->result->sem);
  }
  static std::string typeStr(const ast::SemType& t) {
    if (t.kind == ast::SemType::Value) return t.type.str();
    if (t.kind == ast::SemType::Tuple) {
      std::string s = "(";
      for (size_t i = 0; i < t.elems.size(); ++i) s += (i ? ", " : "") + typeStr(t.elems[i]);
      return s + ")";
    }
    return t.kind == ast::SemType::Function ? "function"
           : t.kind == ast::SemType::Void   ? "void"
                                            : "invalid";
  }
};

void expectOnly(const Checked& c, const std::string& err) {
  INFO(c.diag.render());
  REQUIRE(c.parsed);
  CHECK_FALSE(c.ok);
  REQUIRE(c.errors().size() == 1);
  CHECK(c.errors()[0] == err);
}

void expectOk(const Checked& c) {
  INFO(c.diag.render());
  REQUIRE(c.parsed);
  CHECK(c.ok);
  CHECK(c.diag.count() == 0);
}

}  // namespace

TEST_CASE("check: a well-typed scalar program", "[check]") {
  Checked c(R"(fn f(x: f64, n: i64) -> f64 {
    var s = 0.0
    for i in 0..n {
        s += x * i
    }
    let (a, b) = (s, n)
    if a > 1.0 and b > 2 { s = s * 2.0 } else if a < 0.0 { s -= 1.0 }
    while s > 100.0 { s /= 2.0 }
    print("s", s, (a, b))
    s + a
}
)");
  expectOk(c);
}

TEST_CASE("check: float literals take the type of their context", "[check]") {
  Checked c(R"(fn a(x: f32) { x * 2.0 }
fn b(x: f32) { 2.0 * x + 1.0 }
fn c() { 2.0 }
fn d(n: i64) { n * 2.5 }
fn e(x: f32) { (1.0 + 2.0) * x }
fn g(x: f32) -> f32 { 3.0 }
fn h(x: f32) { -1.5 - x }
fn k(n: i64) { n / 2 }
fn m(n: i64) { n ** 2 }
fn p(x: f32) { if x > 0.0 { 1.0 } else { x } }
fn q(x: f32) { max(x, 0.0) }
fn r(x: f32) { exp(x) + sqrt(4) }
)");
  INFO(c.diag.render());
  // exp(x) is f32 and sqrt(4) is f64: mixing them is an error.
  REQUIRE(c.errors().size() == 1);
  CHECK(c.errors()[0] == "12:23: cannot mix f32 and f64; use f64(x) or f32(x)");
  CHECK(c.resultType("a") == "f32");
  CHECK(c.resultType("b") == "f32");
  CHECK(c.resultType("c") == "f64");
  CHECK(c.resultType("d") == "f64");
  CHECK(c.resultType("e") == "f32");
  CHECK(c.resultType("g") == "f32");  // the declared result type is the context
  CHECK(c.resultType("h") == "f32");
  CHECK(c.resultType("k") == "i64");
  CHECK(c.resultType("m") == "f64");
  CHECK(c.resultType("p") == "f32");
  CHECK(c.resultType("q") == "f32");
}

TEST_CASE("check: f32 and f64 never mix", "[check]") {
  Checked c("fn f(x: f32, y: f64) { x + y }\n");
  expectOk(Checked("fn f(x: f32, y: f64) { f64(x) + y }\n"));
  expectOnly(c, "1:26: cannot mix f32 and f64; use f64(x) or f32(x)");
}

TEST_CASE("check: unknown names and functions", "[check]") {
  expectOnly(Checked("fn f(x: f64) { x + y }\n"), "1:20: unknown name 'y'");
  expectOnly(Checked("fn f(x: f64) { foo(x) }\n"), "1:16: unknown function 'foo'");
}

TEST_CASE("check: assignment needs a var", "[check]") {
  Checked c(R"(fn f(x: f64) {
    let y = 1.0
    y = 2.0
    x += 1.0
    y
}
)");
  INFO(c.diag.render());
  REQUIRE(c.errors().size() == 2);
  CHECK(c.errors()[0] == "3:5: cannot assign to 'y': it is not a var (declared at 2:9)");
  CHECK(c.errors()[1] == "4:5: cannot assign to 'x': it is not a var (declared at 1:6)");
}

TEST_CASE("check: the loop variable is immutable and i64", "[check]") {
  expectOnly(Checked("fn f(n: i64) {\n var s = 0\n for i in 0..n { i = 2 }\n s\n}\n"),
             "3:18: cannot assign to 'i': it is not a var (declared at 3:6)");
  expectOnly(Checked("fn f(x: f64) {\n var s = 0.0\n for i in 0..x { s += 1.0 }\n s\n}\n"),
             "3:14: range bounds must be i64, found f64");
}

TEST_CASE("check: return only as the last statement", "[check]") {
  expectOk(Checked("fn f(x: f64) -> f64 {\n let y = x\n return y * 2.0\n}\n"));
  Checked c("fn f(x: f64) -> f64 {\n if x > 0.0 { return x }\n x\n}\n");
  expectOnly(c, "2:15: return must be the last statement of the function");
}

TEST_CASE("check: only print may stand alone", "[check]") {
  Checked c("fn f(x: f64) {\n x + 1.0\n print(x)\n x\n}\n");
  expectOnly(c, "2:4: expression result is unused; only print(...) may stand alone");
}

TEST_CASE("check: conditions must be bool", "[check]") {
  expectOnly(Checked("fn f(x: f64) {\n if x { print(x) }\n x\n}\n"),
             "2:5: condition must be bool, found f64");
  expectOnly(Checked("fn f(n: i64) {\n var k = n\n while k { k -= 1 }\n k\n}\n"),
             "3:8: condition must be bool, found i64");
  expectOnly(Checked("fn f(x: f64) { if x { 1.0 } else { 2.0 } }\n"),
             "1:19: condition must be bool, found f64");
}

TEST_CASE("check: if-expression branches must agree", "[check]") {
  expectOnly(Checked("fn f(x: f64) { if x > 0.0 { 1.0 } else { true } }\n"),
             "1:16: if-expression branches have different types: f64 and bool");
  Checked c("fn f(x: f64, n: i64) { if x > 0.0 { n } else { x } }\n");
  expectOk(c);
  CHECK(c.resultType("f") == "f64");
}

TEST_CASE("check: shadowing and redeclaration", "[check]") {
  expectOk(Checked("fn f(x: f64) {\n let y = x\n if x > 0.0 { let y = 2.0; print(y) }\n y\n}\n"));
  expectOk(Checked("fn f(x: f64) {\n let x = x * 2.0\n x\n}\n"));
  expectOnly(Checked("fn f(x: f64) {\n let y = x\n let y = 2.0\n y\n}\n"),
             "3:6: 'y' is already declared in this block (at 2:6)");
}

TEST_CASE("check: let with a type and tuple unpacking", "[check]") {
  expectOk(Checked("fn f(x: f32) {\n let y: f32 = 2.0\n let z: f64 = 3\n x * y\n}\n"));
  expectOnly(Checked("fn f(x: f32) {\n let y: f64 = x\n y\n}\n"),
             "2:15: 'y' is declared f64 but the value is f32");
  expectOnly(Checked("fn f(x: f64) {\n let (a, b) = (x, x, x)\n a\n}\n"),
             "2:15: cannot unpack (f64, f64, f64) into 2 names");
  expectOnly(Checked("fn f(x: f64) {\n let (a, b) = x\n a\n}\n"),
             "2:15: cannot unpack f64 into 2 names");
}

TEST_CASE("check: assignments keep the var's type", "[check]") {
  expectOk(Checked("fn f(x: f64, n: i64) {\n var s = 0.0\n s = n\n s += n\n s\n}\n"));
  expectOnly(Checked("fn f(x: f64) {\n var k = 0\n k += x\n k\n}\n"),
             "3:7: cannot assign f64 to 'k' of type i64");
  expectOnly(Checked("fn f(x: f64) {\n var b = true\n b = x\n b\n}\n"),
             "3:6: cannot assign f64 to 'b' of type bool");
}

TEST_CASE("check: function results", "[check]") {
  expectOnly(Checked("fn f(x: f64) -> f64 {\n print(x)\n}\n"),
             "1:1: function 'f' must end with a result of type f64");
  expectOnly(Checked("fn f(x: f64) -> i64 {\n x\n}\n"),
             "2:2: function 'f' must return i64, found f64");
  Checked c("fn g(x: f64) { (x, 1) }\nfn f(x: f64) -> f64 {\n let (a, n) = g(x)\n a * n\n}\n");
  expectOk(c);
  CHECK(c.resultType("g") == "(f64, i64)");
}

TEST_CASE("check: calls of user functions", "[check]") {
  // Functions may be called before their definition; their result type is
  // inferred on demand.
  Checked c("fn f(x: f64) { g(x, 2) }\nfn g(a: f64, k: i64) { a * k }\n");
  expectOk(c);
  CHECK(c.resultType("f") == "f64");
  expectOnly(Checked("fn g(a: f64, k: i64) { a * k }\nfn f(x: f64) { g(x) }\n"),
             "2:16: 'g' expects 2 arguments, found 1");
  expectOnly(Checked("fn g(a: f64, k: i64) { a * k }\nfn f(x: f64) { g(x, x) }\n"),
             "2:21: argument 2 of 'g' ('k') must be i64, found f64");
  expectOnly(Checked("fn g(a: f64) { a }\nfn g(b: f64) { b }\n"),
             "2:1: function 'g' is already defined at 1:1");
}

TEST_CASE("check: recursion is rejected", "[check]") {
  expectOnly(Checked("fn f(x: f64) -> f64 { f(x) }\n"),
             "1:23: recursive call to 'f' is not supported");
  Checked c("fn a(x: f64) -> f64 { b(x) }\nfn b(x: f64) -> f64 { a(x) + 1.0 }\n");
  INFO(c.diag.render());
  CHECK_FALSE(c.ok);
  REQUIRE(c.errors().size() == 2);
  CHECK(c.has("1:23: recursive call to 'b' is not supported"));
  CHECK(c.has("2:23: recursive call to 'a' is not supported"));
  // Through grad, and without declared result types.
  expectOnly(Checked("fn f(x: f64) { grad(f)(x) }\n"), "1:21: recursive call to 'f' is not supported");
  Checked d("fn a(x: f64) { b(x) }\nfn b(x: f64) { a(x) }\n");
  CHECK_FALSE(d.ok);
  CHECK(d.has("1:16: recursive call to 'b' is not supported"));
}

TEST_CASE("check: built-ins", "[check]") {
  Checked c(R"(fn f(x: f64, n: i64, b: bool) {
    let a = exp(n) + abs(x) + sigmoid(x) + relu(x) + softplus(x) + log1p(x) + expm1(x)
    let k = abs(n) + i64(x) + i64(b)
    let p = pow(x, 2) + pow(n, n) + min(x, n) + max(n, 1) + atan2(x, 1.0)
    let g = f32(x) * 2.0
    stop_gradient(x) + a + k + p + f64(g)
}
)");
  expectOk(c);
  expectOnly(Checked("fn f(x: f64) { exp(x, x) }\n"), "1:16: 'exp' expects one number, found 2 arguments");
  expectOnly(Checked("fn f(b: bool) { exp(b) }\n"), "1:21: 'exp' expects a number, found bool");
  expectOnly(Checked("fn f(x: f64) { pow(x) }\n"), "1:16: 'pow' expects two numbers, found 1 argument");
  expectOnly(Checked("fn f(n: i64) { stop_gradient(n) }\n"),
             "1:30: 'stop_gradient' expects a float, found i64");
  expectOnly(Checked("fn f(x: f64) { let y = print(x)\n y }\n"), "1:24: print(...) returns no value");
}

TEST_CASE("check: several independent errors in one run", "[check]") {
  Checked c(R"(fn f(x: f64) {
    let a = x + unknown1
    let b = a * 2.0
    let c = x + true
    if x { print(x) }
    nofn(x)
    x
}
fn g(n: i64) -> f64 { n + missing }
)");
  INFO(c.diag.render());
  CHECK_FALSE(c.ok);
  std::vector<std::string> want = {
      "2:17: unknown name 'unknown1'",
      "4:15: operator '+' expects numbers, found f64 and bool",
      "5:8: condition must be bool, found f64",
      "6:5: unknown function 'nofn'",
      "6:5: expression result is unused; only print(...) may stand alone",
      "9:27: unknown name 'missing'",
  };
  CHECK(c.errors() == want);
}

TEST_CASE("check: grad typing", "[check]") {
  Checked c(R"(fn f(x: f64, y: f64, n: i64) -> f64 { x * y * n }
fn h(x: f32) -> f32 { x * x }
fn main(x: f64, y: f64) {
    let g1 = grad(f)(x, y, 3)
    let g2 = grad(f, wrt=y)(x, y, 3)
    let g3 = grad(f, wrt=(x, y))(x, y, 3)
    let g4 = value_and_grad(f)(x, y, 3)
    let g5 = value_and_grad(f, wrt=(y, x))(x, y, 3)
    let d = grad(f, wrt=y)
    let e = f
    let g6 = d(x, y, 1) + e(x, y, 2)
    let g7 = grad(h)(f32(x))
    (g1, g2, g3, g4, g5, g6, g7)
}
)");
  expectOk(c);
  CHECK(c.resultType("main") ==
        "(f64, f64, (f64, f64), (f64, f64), (f64, (f64, f64)), f64, f32)");
}

TEST_CASE("check: grad errors name the function and the parameter", "[check]") {
  const char* f = "fn f(x: f64, n: i64) -> f64 { x * n }\n";
  auto with = [&](const std::string& body) { return std::string(f) + body; };
  expectOnly(Checked(with("fn m(x: f64) { grad(f, wrt=n)(x, 1) }\n")),
             "2:28: cannot differentiate 'f' with respect to 'n': it is i64, not a float");
  expectOnly(Checked(with("fn m(x: f64) { grad(f, wrt=z)(x, 1) }\n")),
             "2:28: 'f' has no parameter 'z'");
  expectOnly(Checked("fn f(n: i64, x: f64) -> f64 { x * n }\nfn m(x: f64) { grad(f)(1, x) }\n"),
             "2:21: cannot differentiate 'f' with respect to 'n': it is i64, not a float");
  expectOnly(Checked("fn f(x: f64) -> i64 { i64(x) }\nfn m(x: f64) { grad(f)(x) }\n"),
             "2:21: cannot differentiate 'f': its result is i64, not a scalar float");
  expectOnly(Checked("fn f(x: f64) { (x, x) }\nfn m(x: f64) { grad(f)(x) }\n"),
             "2:21: cannot differentiate 'f': its result is (f64, f64), not a scalar float");
  expectOnly(Checked(with("fn m(x: f64) { grad(grad(f))(x, 1) }\n")),
             "2:21: nested differentiation is not supported yet");
  expectOnly(Checked(with("fn m(x: f64) {\n let g = grad(f)\n grad(g)(x, 1) }\n")),
             "4:7: nested differentiation is not supported yet");
  expectOnly(Checked(with("fn m(x: f64) { grad(f)(x) }\n")),
             "2:16: the gradient of 'f' expects 2 arguments, found 1");
  expectOnly(Checked(with("fn m(x: f64) { grad(nope)(x) }\n")), "2:21: unknown function 'nope'");
}

TEST_CASE("check: a final if with print in both branches is a statement", "[check]") {
  Checked c("fn f(x: f64) { if x > 0.0 { print(x) } else { print(1.0) } }\n");
  expectOk(c);
  expectOnly(Checked("fn f(x: f64) -> f64 { if x > 0.0 { print(x) } else { print(1.0) } }\n"),
             "1:1: function 'f' must end with a result of type f64");
}

TEST_CASE("check: f32 vars with compound assignment", "[check]") {
  Checked c("fn f(x: f32) {\n var s = x\n s *= 0.5\n s -= 1\n s\n}\n");
  expectOk(c);
  CHECK(c.resultType("f") == "f32");
}

TEST_CASE("check: misuse of names, strings and functions", "[check]") {
  expectOnly(Checked("fn exp(x: f64) { x }\n"),
             "1:1: 'exp' is a built-in function and cannot be redefined");
  expectOnly(Checked("fn f(x: f64) { x + \"s\" }\n"),
             "1:20: a string can only be the label of print(\"label\", ...)");
  expectOnly(Checked("fn f(x: f64) { x(1.0) }\n"), "1:16: 'x' is not a function (it is f64)");
  expectOnly(Checked("fn g(x: f64) { x }\nfn f(x: f64) { g }\n"),
             "2:16: a function cannot be used as a value here; call it, or bind it with let");
  expectOnly(Checked("fn f(x: f64) {\n var y = x\n while (if y > 0.0 { y = 1.0; true } else { false }) { y -= 1.0 }\n y\n}\n"),
             "3:22: a while condition cannot assign to variables");
  // An invalid binding is not reported again where it is used.
  expectOnly(Checked("fn f(x: f64) {\n let g = nope\n g(x)\n}\n"), "2:10: unknown name 'nope'");
}

TEST_CASE("check: the gradient of a function that uses grad is not a frontend error", "[check]") {
  // Nested differentiation is an error of m alone, raised when m is compiled
  // (runtime_scaling.cpp): f, g and k still compile and run.
  const char* src = R"(fn f(x: f64) -> f64 { x * x }
fn g(x: f64) -> f64 { grad(f)(x) }
fn k(x: f64) -> f64 { g(x) + 1.0 }
fn m(x: f64) { grad(g)(x) + grad(k)(x) + grad(f)(x) }
)";
  Checked c(src);
  INFO(c.diag.render());
  CHECK(c.ok);
  CHECK(c.errors().empty());
}
