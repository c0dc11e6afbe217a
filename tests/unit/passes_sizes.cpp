// Unit tests of negative array sizes through the passes (issue 10 item 6):
// a fill or map whose size may be negative keeps its check as an assert
// when simplify folds dim(fill) to the size, fuses the array into its reads
// or removes it as dead code, in primal and gradient code alike; one check
// per size and scope, none for sizes known to be >= 0; and hoist does not
// run such a fill before a loop that may not run at all.
#include "passes_grad_util.h"

using namespace pipetest;
using chain::ir::OpKind;
using chain::ir::RtValue;

namespace {

const char* kSrc = R"(
fn lz(x: f64, n: i64) -> f64 {
    f64(len(zeros(n)))
}
fn sf(x: f64, n: i64) -> f64 {
    sum(fill(x, n, n))
}
fn dead(x: f64, n: i64) -> f64 {
    let a = ones(n, 3)
    x * 2.0
}
fn sz(x: f64, n: i64) -> f64 {
    f64(size(fill(x, 2, n), 1)) * x
}
fn rows(x: f64, n: i64) -> f64 {
    sum([fill(x, n) for i in 0..3])
}
fn twice(x: f64, n: i64) -> f64 {
    x * f64(len(zeros(n)) + len(ones(n))) + sum(fill(x, n))
}
fn known(x: f64[m], n: i64) -> f64 {
    sum(zeros(m)) + sum([x[0] for i in 0..n]) + f64(len(fill(1.0, len(x), m)))
}
fn loop(x: f64, m: i64, n: i64) -> f64 {
    var acc = 0.0
    for i in 0..m {
        var a = fill(i64(1), n)
        a[0] = i
        acc += f64(sum(a) + a[n - 1]) * x
    }
    acc
}
)";

size_t sizeAsserts(const chain::ir::Block& b) {
  return countIf(b, [](const chain::ir::Operation& op) {
    return op.kind == OpKind::Assert && op.s == "array size {} is negative";
  });
}

std::vector<RtValue> args(double x, int64_t n) { return {RtValue::f64(x), RtValue::i64(n)}; }

}  // namespace

TEST_CASE("negative sizes: the check survives simplify and hoist", "[passes][simplify][sizes]") {
  Program p = compile(kSrc);
  struct Case {
    const char* fn;
    const char* pos;  // where the error is reported
    const char* ok;   // the value for x = 1.5, n = 2
  };
  for (const Case& c : {Case{"lz", "3:13", "2.0"}, Case{"sf", "6:9", "6.0"}, Case{"dead", "9:13", "3.0"},
                        Case{"sz", "13:14", "3.0"}, Case{"rows", "16:9", "9.0"}, Case{"twice", "19:17", "9.0"}}) {
    for (const char* last : {"simplify", "hoist"}) {
      INFO(c.fn << " after " << last);
      auto f = after(p, c.fn, last);
      INFO(chain::ir::printFunction(*f));
      CHECK(sizeAsserts(f->body) == 1);
      CHECK(run(p, *f, args(1.5, -3)) == std::string("error: ") + c.pos + ": array size -3 is negative");
      CHECK(run(p, *f, args(1.5, 2)) == c.ok);
      CHECK(run(p, *f, args(1.5, 0)) == (std::string(c.fn) == "dead" ? "3.0" : "0.0"));
    }
  }
}

TEST_CASE("negative sizes: the gradient keeps the check", "[passes][sizes][ad]") {
  Program p = compile(kSrc);
  for (const char* fn : {"lz", "sf", "dead", "sz", "twice"}) {
    INFO(fn);
    auto g = gradtest::gradFn(*p.m, fn, {0});
    INFO(chain::ir::printFunction(*g));
    CHECK(sizeAsserts(g->body) >= 1);
    CHECK(run(p, *g, args(1.5, -3)).find(": array size -3 is negative") != std::string::npos);
    CHECK(run(p, *g, args(1.5, 2)).rfind("error", 0) == std::string::npos);
  }
}

TEST_CASE("negative sizes: sizes known to be >= 0 are not checked", "[passes][simplify][sizes]") {
  Program p = compile(kSrc);
  auto f = after(p, "known");
  INFO(chain::ir::printFunction(*f));
  CHECK(sizeAsserts(f->body) == 0);
  // a comprehension over an empty range is empty, as a `for` runs zero times
  CHECK(run(p, *f, {vec({4.0}), RtValue::i64(-3)}) == "1.0");
  CHECK(run(p, *f, {vec({4.0}), RtValue::i64(2)}) == "9.0");
}

TEST_CASE("negative sizes: a fill is not run before a loop that does not run", "[passes][hoist][sizes]") {
  Program p = compile(kSrc);
  auto f = after(p, "loop");
  INFO(chain::ir::printFunction(*f));
  auto call = [&](int64_t m, int64_t n) { return run(p, *f, {RtValue::f64(1.0), RtValue::i64(m), RtValue::i64(n)}); };
  CHECK(call(0, -2) == "0.0");
  CHECK(call(2, -2) == "error: 27:17: array size -2 is negative");
  CHECK(call(2, 3) == "7.0");  // a = [i, 1, 1]: (i + 2) + 1 for i = 0, 1
}
