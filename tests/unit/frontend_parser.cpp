// Unit tests for the Chain parser and AST printer: precedence, statements,
// block results, calls/generators/comprehensions, source positions, error
// messages and recovery, and robustness on hostile input.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "frontend/AST.h"
#include "frontend/Frontend.h"

using namespace chain;
using namespace chain::ast;

namespace {

struct Parsed {
  std::string src;
  DiagEngine diag{"t.chain", &src};
  std::unique_ptr<Program> prog;
  explicit Parsed(std::string s) : src(std::move(s)) { prog = frontend::parse(src, diag); }
  std::string ast() const { return printAST(*prog); }
  // "line:col: message" of every diagnostic, in report order.
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const Diagnostic& d : diag.diagnostics())
      out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message);
    return out;
  }
};

// The printed form of expression `e` (parsed as `let v = e` in a function).
std::string expr(const std::string& e) {
  Parsed p("fn f() {\n  let v = " + e + "\n}\n");
  INFO(p.diag.render());
  REQUIRE_FALSE(p.diag.hasErrors());
  std::string s = p.ast();
  const std::string head = "\n  (let v ";
  size_t at = s.find(head);
  REQUIRE(at != std::string::npos);
  s = s.substr(at + head.size());
  REQUIRE(s.size() >= 3);
  return s.substr(0, s.size() - 3);  // "))\n": the let and the fn
}

// The printed AST of a program that must parse without errors.
std::string ok(const std::string& src) {
  Parsed p(src);
  INFO(p.diag.render());
  REQUIRE_FALSE(p.diag.hasErrors());
  return p.ast();
}

const Block& body(const Parsed& p, size_t fn = 0) {
  REQUIRE(p.prog->fns.size() > fn);
  return *p.prog->fns[fn]->body;
}

}  // namespace

TEST_CASE("parser: operator precedence and associativity", "[parser]") {
  CHECK(expr("-x**2") == "(unary - (binary ** (name x) (int 2)))");
  CHECK(expr("a + b * c") == "(binary + (name a) (binary * (name b) (name c)))");
  CHECK(expr("a * b + c") == "(binary + (binary * (name a) (name b)) (name c))");
  CHECK(expr("a - b - c") == "(binary - (binary - (name a) (name b)) (name c))");
  CHECK(expr("2**3**2") == "(binary ** (int 2) (binary ** (int 3) (int 2)))");
  CHECK(expr("2**-1") == "(binary ** (int 2) (unary - (int 1)))");
  CHECK(expr("-a * b") == "(binary * (unary - (name a)) (name b))");
  CHECK(expr("not a == b") == "(unary not (binary == (name a) (name b)))");
  CHECK(expr("a or b and c") == "(binary or (name a) (binary and (name b) (name c)))");
  CHECK(expr("a and b or c") == "(binary or (binary and (name a) (name b)) (name c))");
  CHECK(expr("not a and b") == "(binary and (unary not (name a)) (name b))");
  CHECK(expr("a + b < c * d") ==
        "(binary < (binary + (name a) (name b)) (binary * (name c) (name d)))");
  CHECK(expr("X @ w + b") == "(binary + (binary @ (name X) (name w)) (name b))");
  CHECK(expr("a % b / c") == "(binary / (binary % (name a) (name b)) (name c))");
  CHECK(expr("(a + b) * c") == "(binary * (binary + (name a) (name b)) (name c))");
  CHECK(expr("f(x)**2") == "(binary ** (call (name f) (name x)) (int 2))");
  CHECK(expr("x[i]**2") == "(binary ** (index (name x) (name i)) (int 2))");
  CHECK(expr("a >= b") == "(binary >= (name a) (name b))");
  CHECK(expr("a != -b") == "(binary != (name a) (unary - (name b)))");
}

TEST_CASE("parser: literals", "[parser]") {
  CHECK(expr("1.5e-3") == "(float 1.5e-3)");
  CHECK(expr("42") == "(int 42)");
  CHECK(expr("true") == "(bool true)");
  CHECK(expr("false") == "(bool false)");
  CHECK(expr("\"a\\\"b\"") == "(string \"a\\\"b\")");
  Parsed p("fn f() -> f64 { 0.1 }");
  REQUIRE(body(p).result);
  CHECK(body(p).result->kind == ExprKind::FloatLit);
  CHECK(body(p).result->fval == 0.1);
}

TEST_CASE("parser: ranges bind more loosely than arithmetic", "[parser]") {
  std::string s = ok("fn f(c: i64) {\n  for i in 0..c - 1 {\n    print(i)\n  }\n}\n");
  CHECK(s.find("(for i (int 0) (binary - (name c) (int 1))\n    (expr (call (name print) (name i))))") !=
        std::string::npos);
  CHECK(expr("x[2..n - 1]") == "(index (name x) (range (int 2) (binary - (name n) (int 1))))");
  CHECK(expr("A[:, j]") == "(index (name A) (colon) (name j))");
  CHECK(expr("D[:, 0..64]") == "(index (name D) (colon) (range (int 0) (int 64)))");
  CHECK(expr("A[i, j + 1]") == "(index (name A) (name i) (binary + (name j) (int 1)))");
}

TEST_CASE("parser: calls, named arguments and generators", "[parser]") {
  CHECK(expr("grad(f, wrt=p)") == "(call (name grad) (name f) (named wrt (name p)))");
  CHECK(expr("grad(f, wrt=(p, q))") ==
        "(call (name grad) (name f) (named wrt (tuple (name p) (name q))))");
  CHECK(expr("zeros(n, 3, dtype=f32)") ==
        "(call (name zeros) (name n) (int 3) (named dtype (name f32)))");
  CHECK(expr("f()") == "(call (name f))");
  CHECK(expr("f(a, b,)") == "(call (name f) (name a) (name b))");
  CHECK(expr("grad(grad(f))(x)") == "(call (call (name grad) (call (name grad) (name f))) (name x))");
  CHECK(expr("sum(x[i] * y[i] for i in 0..n)") ==
        "(call (name sum) (generator (binary * (index (name x) (name i)) (index (name y) (name i))) "
        "(in i (int 0) (name n))))");
  CHECK(expr("sum(L[i, j] for i in 0..n, j in 0..i)") ==
        "(call (name sum) (generator (index (name L) (name i) (name j)) (in i (int 0) (name n)) "
        "(in j (int 0) (name i))))");
}

TEST_CASE("parser: arrays, comprehensions, tuples", "[parser]") {
  CHECK(expr("[]") == "(array)");
  CHECK(expr("[1.0, 2.0, 3.0,]") == "(array (float 1.0) (float 2.0) (float 3.0))");
  CHECK(expr("[[1.0, 0.0], [0.0, 1.0]]") ==
        "(array (array (float 1.0) (float 0.0)) (array (float 0.0) (float 1.0)))");
  CHECK(expr("[A[j, i] for i in 0..d, j in 0..n]") ==
        "(comprehension (index (name A) (name j) (name i)) (in i (int 0) (name d)) "
        "(in j (int 0) (name n)))");
  CHECK(expr("(a, b)") == "(tuple (name a) (name b))");
  CHECK(expr("(a, b, c,)") == "(tuple (name a) (name b) (name c))");
  CHECK(expr("(a)") == "(name a)");
  // Newlines inside brackets are free.
  CHECK(expr("[1,\n  2,\n  3]") == "(array (int 1) (int 2) (int 3))");
}

TEST_CASE("parser: if expressions and else-if chains", "[parser]") {
  CHECK(expr("if c { a } else { b }") ==
        "(if-expr (name c) (then (result (name a))) (else (result (name b))))");
  CHECK(expr("if c { a } else if d { b } else { e }") ==
        "(if-expr (name c) (then (result (name a))) (else (result (if-expr (name d) "
        "(then (result (name b))) (else (result (name e)))))))");
  CHECK(expr("if c { let t = 1.0; t } else { 2.0 }") ==
        "(if-expr (name c) (then (let t (float 1.0)) (result (name t))) (else (result (float 2.0))))");
}

TEST_CASE("parser: statements", "[parser]") {
  std::string s = ok(
      "fn f(x: f64, A: f64[n, 3], k: i64) -> (f64, f64[n]) {\n"
      "  let a: f64 = x\n"
      "  let (p, q) = g(x)\n"
      "  var s = 0.0\n"
      "  s = 1.0; s += 2.0; s -= 1.0\n"
      "  s *= 2.0\n"
      "  s /= 2.0\n"
      "  v[i, j] = 1.0\n"
      "  while s > 0.0 {\n"
      "    s -= 1.0\n"
      "  }\n"
      "  return (s, v)\n"
      "}\n");
  CHECK(s ==
        "(fn f (params (x f64) (A f64[n, 3]) (k i64)) (result (f64, f64[n]))\n"
        "  (let a (type f64) (name x))\n"
        "  (let (p q) (call (name g) (name x)))\n"
        "  (var s (float 0.0))\n"
        "  (assign = (name s) (float 1.0))\n"
        "  (assign += (name s) (float 2.0))\n"
        "  (assign -= (name s) (float 1.0))\n"
        "  (assign *= (name s) (float 2.0))\n"
        "  (assign /= (name s) (float 2.0))\n"
        "  (assign = (index (name v) (name i) (name j)) (float 1.0))\n"
        "  (while (binary > (name s) (float 0.0))\n"
        "    (assign -= (name s) (float 1.0)))\n"
        "  (return (tuple (name s) (name v))))\n");
}

TEST_CASE("parser: if statements, else on the next line", "[parser]") {
  std::string s = ok(
      "fn f(x: f64) {\n"
      "  if x > 0.0 {\n"
      "    print(x)\n"
      "  }\n"
      "  else if x < 0.0 {\n"
      "    print(\"neg\")\n"
      "  } else {\n"
      "  }\n"
      "  if x == 0.0 { print(0) }\n"
      "}\n");
  CHECK(s ==
        "(fn f (params (x f64))\n"
        "  (if (binary > (name x) (float 0.0))\n"
        "    (then\n"
        "      (expr (call (name print) (name x))))\n"
        "    (else\n"
        "      (if (binary < (name x) (float 0.0))\n"
        "        (then\n"
        "          (expr (call (name print) (string \"neg\"))))\n"
        "        (else))))\n"
        "  (if (binary == (name x) (float 0.0))\n"
        "    (then\n"
        "      (expr (call (name print) (int 0))))))\n");
}

TEST_CASE("parser: block results", "[parser]") {
  // A final expression on its own line, followed by the closing brace.
  Parsed a("fn f(x: f64) -> f64 {\n  let y = x\n  y * 2.0\n\n}\n");
  REQUIRE(body(a).result);
  CHECK(body(a).stmts.size() == 1);
  // A trailing if/else whose branches all end in an expression is the result.
  Parsed b("fn f(x: f64) -> f64 { if x > 0.0 { x } else { -x } }");
  REQUIRE(body(b).result);
  CHECK(body(b).result->kind == ExprKind::IfExpr);
  CHECK(body(b).stmts.empty());
  // ... also through an else-if chain.
  Parsed c("fn f(x: f64) -> f64 {\n  if x > 0.0 {\n    x\n  } else if x < -1.0 {\n    1.0\n  } else {\n    -x\n  }\n}");
  CHECK(c.ast() ==
        "(fn f (params (x f64)) (result f64)\n"
        "  (result (if-expr (binary > (name x) (float 0.0)) (then (result (name x))) (else (result "
        "(if-expr (binary < (name x) (unary - (float 1.0))) (then (result (float 1.0))) (else "
        "(result (unary - (name x))))))))))\n");
  // Not when a branch has no final expression.
  Parsed d("fn f(x: f64) { if x > 0.0 { print(x) } else { print(0) } }");
  CHECK_FALSE(body(d).result);
  REQUIRE(body(d).stmts.size() == 1);
  CHECK(body(d).stmts[0]->kind == StmtKind::If);
  // Not when something follows; the branch results become statements.
  Parsed e("fn f(x: f64) -> f64 {\n  if x > 0.0 { x } else { 1.0 }\n  2.0\n}");
  REQUIRE(body(e).stmts.size() == 1);
  const Stmt& s = *body(e).stmts[0];
  CHECK(s.kind == StmtKind::If);
  CHECK_FALSE(s.thenBlock->result);
  REQUIRE(s.thenBlock->stmts.size() == 1);
  CHECK(s.thenBlock->stmts[0]->kind == StmtKind::ExprStmt);
  REQUIRE(body(e).result);
  CHECK(body(e).result->kind == ExprKind::FloatLit);
  // `;` makes the last expression a statement; print is always a statement.
  Parsed g("fn f() { g(1); }");
  CHECK_FALSE(body(g).result);
  Parsed h("fn f() { print(1) }");
  CHECK_FALSE(body(h).result);
  CHECK(body(h).stmts.size() == 1);
  // A loop body never has a result.
  Parsed l("fn f() { for i in 0..3 { i } }");
  const Stmt& loop = *body(l).stmts[0];
  CHECK_FALSE(loop.body->result);
  CHECK(loop.body->stmts.size() == 1);
  CHECK(ok("fn f() -> f64 { let a = 1.0; a }") ==
        "(fn f (params) (result f64)\n  (let a (float 1.0))\n  (result (name a)))\n");
}

TEST_CASE("parser: source positions", "[parser]") {
  Parsed p("fn f(x: f64) -> f64 {\n  let y = g(x) + a[1]\n  y\n}\n");
  REQUIRE_FALSE(p.diag.hasErrors());
  const FnDecl& fn = *p.prog->fns[0];
  CHECK(fn.loc.line == 1);
  CHECK(fn.loc.col == 1);
  CHECK(fn.params[0].loc.col == 6);
  CHECK(fn.params[0].type.loc.col == 9);
  const Stmt& let = *fn.body->stmts[0];
  CHECK(let.loc.line == 2);
  CHECK(let.loc.col == 3);
  CHECK(let.nameLocs[0].col == 7);
  const Expr& plus = *let.value;
  CHECK(plus.loc.col == 16);            // the operator
  CHECK(plus.args[0]->loc.col == 11);   // the call: its callee's first token
  CHECK(plus.args[0]->args[0]->loc.col == 13);
  CHECK(plus.args[1]->loc.col == 18);   // the index: the array's first token
  CHECK(fn.body->result->loc.line == 3);
  Parsed q("fn f() {\n  x[i] += 1.0\n}");
  CHECK(body(q).stmts[0]->loc.col == 3);
}

TEST_CASE("parser: error messages and positions", "[parser]") {
  auto firstError = [](const std::string& src) {
    Parsed p(src);
    REQUIRE(p.diag.hasErrors());
    return p.errors()[0];
  };
  CHECK(firstError("fn f() { let x = g(1, 2 3) }") == "1:25: expected ')' after arguments");
  CHECK(firstError("fn f(x: flt) {}") == "1:9: unknown type 'flt' (expected f64, f32, i64 or bool)");
  CHECK(firstError("fn f(x: 3) {}") == "1:9: expected type");
  CHECK(firstError("fn f(x f64) {}") == "1:8: expected ':' after parameter name");
  CHECK(firstError("fn f() { let y = 1 < 2 < 3 }") == "1:24: comparisons cannot be chained");
  CHECK(firstError("fn f() { let y = 1 xyz }") ==
        "1:20: unexpected token 'xyz' after statement (expected end of line or ';')");
  CHECK(firstError("fn f() { let y = * 2 }") == "1:18: unexpected token '*', expected expression");
  CHECK(firstError("fn f() { let y = }") == "1:18: unexpected token '}', expected expression");
  CHECK(firstError("fn f() { x + 1 = 2 }") ==
        "1:10: cannot assign to this expression (the target must be a variable or an indexed variable)");
  CHECK(firstError("fn f() { let y = if c { 1.0 } }") == "1:31: an 'if' expression needs an 'else' branch");
  CHECK(firstError("fn f() { for i 0..3 { } }") == "1:16: expected 'in' after the loop variable");
  CHECK(firstError("fn f() { f(a=1, 2) }") == "1:17: positional argument after a named argument");
  CHECK(firstError("fn f() { sum(a, x for i in 0..n) }") ==
        "1:19: a generator must be the only argument of a call");
  CHECK(firstError("fn f() { else { } }") == "1:10: 'else' without a matching 'if'");
  CHECK(firstError("let x = 1") == "1:1: unexpected token 'let' at top level (expected 'fn')");
  CHECK(firstError("fn f() {\n  let x = 1\n") == "3:1: expected '}' to close the block opened at line 1");
  CHECK(firstError("fn f() { let (a) = (b,) }") == "1:20: a tuple needs at least two elements");
  CHECK(firstError("fn f() { a[] }") == "1:12: expected index");
}

TEST_CASE("parser: several errors in one file", "[parser]") {
  Parsed p(
      "fn f(x: f64) -> f64 {\n"
      "  let a = (x + 1.0\n"
      "  let b = x * * 2.0\n"
      "  let c = 1 < 2 < 3\n"
      "  if x { let d = } else { let e = ) }\n"
      "  x\n"
      "}\n"
      "fn g(x f64) -> f64 { x }\n"
      "fn h() -> f64 {\n"
      "  3.0 4.0\n"
      "}\n");
  std::vector<std::string> want = {
      "2:19: expected ')'",
      "3:15: unexpected token '*', expected expression",
      "4:17: comparisons cannot be chained",
      "5:18: unexpected token '}', expected expression",
      "5:35: unexpected token ')', expected expression",
      "8:8: expected ':' after parameter name",
      "10:7: unexpected token '4.0' after statement (expected end of line or ';')",
  };
  CHECK(p.errors() == want);
  // Recovery kept the good parts: f and h parse, with f's final expression.
  REQUIRE(p.prog->fns.size() == 2);
  CHECK(p.prog->fns[0]->name == "f");
  REQUIRE(p.prog->fns[0]->body->result);
  CHECK(p.prog->fns[0]->body->result->kind == ExprKind::Name);
  CHECK(p.prog->fns[1]->name == "h");
}

TEST_CASE("parser: a missing '}' keeps the following functions", "[parser]") {
  Parsed p(
      "fn f(x: f64) -> f64 {\n"
      "  if x > 0.0 {\n"
      "    let y = 1\n"
      "  x\n"
      "fn g() -> f64 { 1.0 }\n"
      "fn h() -> f64 {\n"
      "  let z = 2.0\n");
  CHECK(p.errors() == std::vector<std::string>{
                          "5:1: expected '}' before 'fn' (the block opened at line 2 is not closed)",
                          "8:1: expected '}' to close the block opened at line 6"});
  REQUIRE(p.prog->fns.size() == 3);
  CHECK(p.prog->fns[1]->name == "g");
  CHECK(p.prog->fns[1]->body->result);
  CHECK(p.prog->fns[2]->body->stmts.size() == 1);
}

TEST_CASE("parser: one error per position", "[parser]") {
  Parsed p("fn f() {\n  let x = (((\n");
  CHECK(p.diag.count() == 1);
}

TEST_CASE("parser: 100000 nested parentheses finish quickly", "[parser][robust]") {
  for (const char* open : {"(", "[", "-", "not ", "2**", "f("}) {
    INFO(open);
    std::string src = "fn f() -> f64 {\n  let x = ";
    for (int i = 0; i < 100000; ++i) src += open;
    src += "1";
    for (int i = 0; i < 100000; ++i) src += open[0] == '(' || open[0] == 'f' ? ")" : open[0] == '[' ? "]" : "";
    src += "\n  let y = 2.0\n  y\n}\nfn g() -> f64 { 1.0 }\n";
    auto t0 = std::chrono::steady_clock::now();
    Parsed p(src);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(secs < 2.0);
    REQUIRE(p.diag.count() == 1);
    CHECK(p.diag.diagnostics()[0].message == "expression nested too deeply");
    CHECK(p.diag.diagnostics()[0].loc.line == 2);
    // The rest of the file is still parsed.
    REQUIRE(p.prog->fns.size() == 2);
    CHECK(p.prog->fns[0]->body->result);
    CHECK(p.prog->fns[0]->body->stmts.size() == 1);
  }
}

TEST_CASE("parser: deeply nested blocks and long chains", "[parser][robust]") {
  std::string blocks = "fn f() {\n";
  for (int i = 0; i < 50000; ++i) blocks += "if a {\n";
  for (int i = 0; i < 50000; ++i) blocks += "}\n";
  blocks += "}\nfn g() {}\n";
  Parsed b(blocks);
  CHECK(b.diag.count() == 1);
  CHECK(b.prog->fns.size() == 2);

  std::string chain = "fn f() -> f64 { let x = 1.0";
  for (int i = 0; i < 100000; ++i) chain += " + 1.0";
  chain += "\n 2.0 }";
  Parsed c(chain);
  REQUIRE(c.diag.count() == 1);
  CHECK(c.diag.diagnostics()[0].message.find("too long") != std::string::npos);
  REQUIRE(c.prog->fns.size() == 1);
  CHECK(c.prog->fns[0]->body->result);

  // A long but reasonable expression is fine.
  std::string sum = "fn f(x: f64) -> f64 { x";
  for (int i = 0; i < 500; ++i) sum += " + x";
  sum += " }";
  Parsed s(sum);
  CHECK_FALSE(s.diag.hasErrors());
}

TEST_CASE("parser: random bytes and truncated files never crash", "[parser][robust]") {
  uint32_t seed = 987654321u;
  auto rnd = [&] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  for (int round = 0; round < 50; ++round) {
    std::string junk;
    for (int i = 0; i < 5000; ++i) junk += char(rnd());
    Parsed p(junk);
    CHECK(p.diag.count() <= DiagEngine::kMaxErrors);
  }
  const char* pieces[] = {"fn", "f", "(", ")", "{", "}", "[", "]", "let", "var", "x", "=", "+",
                          "1", "2.0", "if", "else", "for", "in", "..", ",", "\n", ";", "**", "-",
                          "not", "\"s\"", ":", "f64", "->", "return", "while", "and", ">", "@"};
  for (int round = 0; round < 200; ++round) {
    std::string src;
    for (int i = 0; i < 300; ++i) {
      src += pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
      src += ' ';
    }
    Parsed p(src);
    printAST(*p.prog);  // the printer copes with partial trees
  }
  const std::string good =
      "fn loss(W: f64[h, d], b: f64[h], X: f64[n, d], y: f64[n]) -> f64 {\n"
      "  let Z = X @ transpose(W) + b\n"
      "  var s = 0.0\n"
      "  for i in 0..n {\n"
      "    s += (sum(Z[i, j] for j in 0..h) - y[i]) ** 2\n"
      "  }\n"
      "  if s > 1.0 { s } else if s < 0.0 { -s } else { [x * 2.0 for x in 0..3][0] }\n"
      "}\n"
      "fn main() -> (f64, f64[h, d]) { value_and_grad(loss, wrt=W)(W, b, X, y) }\n";
  REQUIRE_FALSE(Parsed(good).diag.hasErrors());
  for (size_t n = 0; n < good.size(); ++n) {
    Parsed p(good.substr(0, n));
    printAST(*p.prog);
  }
}

TEST_CASE("parser: a 10 MB line", "[parser][robust]") {
  std::string src = "fn f() -> f64 {\n  let s = \"" + std::string(10000000, 'a') + "\"\n  1.0 }\n";
  Parsed p(src);
  CHECK_FALSE(p.diag.hasErrors());
  std::string bad = "fn f() -> f64 { " + std::string(10000000, '$') + " 1.0 }";
  Parsed q(bad);
  CHECK(q.diag.count() == 1);
}

TEST_CASE("SemType::str", "[parser]") {
  CHECK(SemType::value(ir::Type::f64()).str() == "f64");
  SemType t;
  t.kind = SemType::Tuple;
  t.elems = {SemType::value(ir::Type::f64()), SemType::value({ir::Scalar::I64, 1})};
  CHECK(t.str() == "(f64, i64[?])");
  CHECK(SemType::invalid().str() == "<invalid>");
}
