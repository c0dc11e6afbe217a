// Unit tests of the type checker on arrays: the symbolic sizes it infers
// (size names, literals, "?"), and every static array error with its exact
// message and position: rank mismatches, different literal sizes, float
// indices, element assignments to non-vars, comprehensions whose ranges use
// their own indices, reductions and array built-ins misused, grad wrt arrays.
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
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const Diagnostic& d : diag.diagnostics())
      out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " +
                    d.message);
    return out;
  }
  // The type (with symbolic sizes) of the final expression of `name`'s body.
  std::string resultType(const std::string& name) const {
    for (auto& f : prog->fns)
      if (f->name == name) return str(f->body->result->sem);
    return "no function " + name;
  }
  static std::string str(const ast::SemType& t) {
    if (t.kind == ast::SemType::Tuple) {
      std::string s = "(";
      for (size_t i = 0; i < t.elems.size(); ++i) s += (i ? ", " : "") + str(t.elems[i]);
      return s + ")";
    }
    if (t.kind != ast::SemType::Value) return "not a value";
    std::string s = ir::Type{t.type.elem, 0}.str();
    if (t.type.rank == 0) return s;
    s += "[";
    for (size_t k = 0; k < t.dims.size(); ++k) s += (k ? ", " : "") + t.dims[k];
    return s + "]";
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

TEST_CASE("check arrays: symbolic sizes of results", "[check][arrays]") {
  Checked c(R"(fn bcast(X: f64[n, d], b: f64[d]) { X + b }
fn mv(A: f64[n, d], x: f64[d]) { A @ x }
fn mm(A: f64[n, d], B: f64[d, 4]) { A @ B }
fn tr(A: f64[n, d]) { transpose(A) }
fn comp(n: i64) { [f64(i + j) for i in 0..n, j in 0..3] }
fn z(n: i64, k: i64) { zeros(n, k + 1, 2, dtype=f32) }
fn row(A: f64[n, d], i: i64) { A[i] }
fn col(A: f64[n, d], j: i64) { A[:, j] }
fn sl(A: f64[n, d], a: i64) { A[a..n, 0..2] }
fn lit(x: f64) { [[x, 1.0], [2, 3.0]] }
fn rowcomp(A: f64[n, d]) { [A[i] * 2.0 for i in 0..3] }
fn id(v: f64[k]) -> f64[k] { v }
fn call(A: f64[n, d]) { id(A[0]) }
fn made(n: i64) -> f64[n] { ones(n) }
fn use() { made(5) }
fn one(x: f64[n], y: f64[1]) { x * y }
fn red(x: i64[n]) { (sum(x), mean(x), max(x), logsumexp(f64(x))) }
fn g(x: f64[n], w: f64[n]) -> f64 { sum(x * w) }
fn dg(x: f64[n], w: f64[n]) { grad(g, wrt=w)(x, w) }
)");
  INFO(c.diag.render());
  REQUIRE(c.ok);
  CHECK(c.resultType("bcast") == "f64[n, d]");
  CHECK(c.resultType("mv") == "f64[n]");
  CHECK(c.resultType("mm") == "f64[n, 4]");
  CHECK(c.resultType("tr") == "f64[d, n]");
  CHECK(c.resultType("comp") == "f64[n, 3]");
  CHECK(c.resultType("z") == "f32[n, ?, 2]");
  CHECK(c.resultType("row") == "f64[d]");
  CHECK(c.resultType("col") == "f64[n]");
  CHECK(c.resultType("sl") == "f64[?, 2]");
  CHECK(c.resultType("lit") == "f64[2, 2]");
  CHECK(c.resultType("rowcomp") == "f64[3, d]");
  CHECK(c.resultType("call") == "f64[d]");
  CHECK(c.resultType("use") == "f64[5]");
  CHECK(c.resultType("one") == "f64[n]");
  CHECK(c.resultType("red") == "(i64, f64, i64, f64)");
  CHECK(c.resultType("dg") == "f64[n]");
}

TEST_CASE("check arrays: rank mismatches are compile errors", "[check][arrays]") {
  expectOnly(Checked("fn f(x: f64[n]) -> f64[n, n] { x }\n"),
             "1:32: function 'f' must return f64[n, n], found f64[n]");
  expectOnly(Checked("fn f(A: f64[n, d]) { let y: f64[n] = A\n sum(y) }\n"),
             "1:38: 'y' is declared f64[n] but the value is f64[n, d]");
  expectOnly(Checked("fn f(A: f64[n, d]) { A[0, 1, 2] }\n"),
             "1:22: too many indices for 'A': it has rank 2, found 3 indices");
  expectOnly(Checked("fn f(x: f64) { x[0] }\n"), "1:16: cannot index 'x': it is f64, not an array");
  expectOnly(Checked("fn f(A: f64[n, d, k], x: f64[k]) { A @ x }\n"),
             "1:38: matmul expects arrays of rank 1 or 2, found f64[n, d, k] and f64[k]");
  expectOnly(Checked("fn f(x: f64[n]) { var S = zeros(n, n)\n S[0] = S\n sum(S) }\n"),
             "2:9: cannot assign f64[?, ?] to 'S[...]' of type f64[?]");
  expectOnly(Checked("fn f(x: f64[n]) { var y = x\n y = zeros(n, 2)\n sum(y) }\n"),
             "2:6: cannot assign f64[n, 2] to 'y' of type f64[?]");
  expectOnly(Checked("fn f(x: f64[n]) { dot(x, zeros(n, n)) }\n"),
             "1:19: dot expects arrays of rank 1, found f64[n] and f64[n, n]");
  expectOnly(Checked("fn f(x: f64[n]) { transpose(x) }\n"),
             "1:29: 'transpose' expects an array of rank 2, found f64[n]");
}

TEST_CASE("check arrays: different literal sizes are compile errors", "[check][arrays]") {
  expectOnly(Checked("fn f(a: f64[3], b: f64[4]) { a + b }\n"),
             "1:32: operator '+': cannot broadcast sizes 3 and 4 in axis 0");
  expectOnly(Checked("fn f(A: f64[n, 3], b: f64[2]) { A * b }\n"),
             "1:35: operator '*': cannot broadcast sizes 3 and 2 in axis 1");
  expectOnly(Checked("fn f(A: f64[2, 3], x: f64[4]) { A @ x }\n"),
             "1:35: matmul: inner sizes differ: 3 vs 4");
  expectOnly(Checked("fn g(x: f64[3]) -> f64 { sum(x) }\nfn f(y: f64[4]) { g(y) }\n"),
             "2:21: argument 1 of 'g' ('x') has size 4 in axis 0 but the type requires 3");
  expectOnly(Checked("fn g(x: f64[n], y: f64[n]) -> f64 { sum(x * y) }\n"
                     "fn f(a: f64[2], b: f64[3]) { g(a, b) }\n"),
             "2:35: argument 2 of 'g' ('y') has size 3 in axis 0 but n = 2");
  expectOnly(Checked("fn f() { [[1.0, 2.0], [3.0]] }\n"),
             "1:23: ragged array literal: element 2 has size 1 in axis 0, element 1 has 2");
  expectOnly(Checked("fn f() { let x: f64[3] = [1.0, 2.0]\n sum(x) }\n"),
             "1:26: 'x' is declared f64[3] but the value is f64[2]");
  expectOnly(Checked("fn f(x: f64[n]) { var y = x\n y[0..2] = [1.0, 2.0, 3.0]\n sum(y) }\n"),
             "2:12: cannot assign f64[3] to 'y[...]': size 3 in axis 0, the selection has 2");
  // Different size names may agree at run time: no compile error.
  expectOk(Checked("fn f(A: f64[n, d], x: f64[n]) { A @ x }\n"));
  expectOk(Checked("fn f(a: f64[n], b: f64[m]) { a + b }\n"));
}

TEST_CASE("check arrays: indices, element assignments, comprehensions", "[check][arrays]") {
  expectOnly(Checked("fn f(x: f64[n], t: f64) { x[t] }\n"), "1:29: an index must be i64, found f64");
  expectOnly(Checked("fn f(x: f64[n]) { x[0.0..2] }\n"), "1:21: an index must be i64, found f64");
  expectOnly(Checked("fn f(x: f64[n]) { let y = x\n y[0] = 1.0\n sum(y) }\n"),
             "2:2: cannot assign to an element of 'y': it is not a var (declared at 1:23)");
  expectOnly(Checked("fn f(x: f64[n]) { x[0] += 1.0\n sum(x) }\n"),
             "1:19: cannot assign to an element of 'x': it is not a var (declared at 1:6)");
  expectOnly(Checked("fn f(n: i64) { [1.0 for i in 0..n, j in 0..i] }\n"),
             "1:44: the ranges of a comprehension cannot use its own index 'i' (ragged arrays are "
             "not supported)");
  expectOnly(Checked("fn f(x: f64[n]) { [x[0..i] for i in 0..n] }\n"),
             "1:20: comprehension elements must be scalars, or arrays whose sizes are size names "
             "or literals; found f64[?]");
  expectOnly(Checked("fn f(n: i64) { var s = 0.0\n let a = [if i > 0 { s = 1.0\n 1.0 } else { 2.0 } "
                     "for i in 0..n]\n s }\n"),
             "2:22: cannot assign to 's' inside a comprehension or generator");
  expectOnly(Checked("fn f(n: i64) { var x = zeros(n)\n x[0] = true\n sum(x) }\n"),
             "2:9: cannot assign bool to 'x[...]' of type f64");
  expectOnly(Checked("fn f() { let e = []\n 1.0 }\n"),
             "1:18: an empty array literal needs a type: let x: f64[n] = []");
  // A generator's ranges may use its earlier indices.
  expectOk(Checked("fn f(L: f64[n, n]) { sum(L[i, j] for i in 0..n, j in 0..i) }\n"));
}

TEST_CASE("check arrays: reductions and array built-ins misused", "[check][arrays]") {
  expectOnly(Checked("fn f(x: f64) { sum(x) }\n"),
             "1:20: 'sum' expects an array or a generator, found f64");
  expectOnly(Checked("fn f(x: f64) { max(x) }\n"),
             "1:20: 'max' expects an array or a generator, found f64");
  expectOnly(Checked("fn f(b: bool[n]) { sum(b) }\n"), "1:24: 'sum' expects numbers, found bool[n]");
  expectOnly(Checked("fn f(x: f64[n]) { sum(x, x) }\n"),
             "1:19: 'sum' expects an array or a generator, found 2 arguments");
  expectOnly(Checked("fn f(x: f64[n], a: i64) { size(x, a) }\n"),
             "1:35: the axis of 'size' must be an integer literal");
  expectOnly(Checked("fn f(x: f64[n]) { size(x, 1) }\n"), "1:27: axis 1 is out of range for f64[n]");
  expectOnly(Checked("fn f(n: i64) { zeros(n, dtype=bool) }\n"), "1:31: dtype must be f64, f32 or i64");
  expectOnly(Checked("fn f(n: f64) { zeros(n) }\n"),
             "1:22: 'zeros' expects sizes of type i64, found f64");
  expectOnly(Checked("fn f(x: f64) { len(x) }\n"), "1:20: 'len' expects an array, found f64");
  expectOnly(Checked("fn f(a: f32[n], b: f64[n]) { a + b }\n"),
             "1:32: cannot mix f32 and f64; use f64(x) or f32(x)");
  expectOnly(Checked("fn f(a: i64[n], b: i64[n]) { a @ b }\n"),
             "1:32: matmul expects float arrays of one type, found i64[n] and i64[n]");
  expectOnly(Checked("fn f(x: f64[n]) -> f64[k] { x }\n"),
             "1:20: unknown size name 'k' in the result type of 'f' (size names are bound by the "
             "parameters' types)");
  expectOnly(Checked("fn f(x: f64[n]) { let y: f64[m] = x\n sum(y) }\n"),
             "1:26: unknown size name 'm' (size names are bound by the parameters' types)");
  expectOnly(Checked("fn f(n: f64, x: f64[n]) { sum(x) }\n"),
             "1:17: size name 'n' is also the name of a parameter that is not i64");
}

TEST_CASE("check arrays: grad with respect to arrays", "[check][arrays]") {
  expectOk(Checked("fn f(w: f64[d], x: f64[d]) -> f64 { sum(w * x) }\n"
                   "fn g(w: f64[d], x: f64[d]) -> f64[d] { grad(f, wrt=w)(w, x) }\n"));
  expectOnly(Checked("fn f(w: f64[d], k: i64[d]) -> f64 { sum(w) }\n"
                     "fn g(w: f64[d], k: i64[d]) { grad(f, wrt=k)(w, k) }\n"),
             "2:42: cannot differentiate 'f' with respect to 'k': it is i64[d], not a float");
  expectOnly(Checked("fn f(w: f64[d]) { w * 2.0 }\nfn g(w: f64[d]) { grad(f)(w) }\n"),
             "2:24: cannot differentiate 'f': its result is f64[d], not a scalar float");
}
