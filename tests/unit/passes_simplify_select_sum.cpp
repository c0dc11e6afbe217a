// The simplify fold of a sum with one nonzero term (SimplifyArrays.cpp,
// foldSelectSum): sum(if i == c { e(i) } else { 0.0 } for i in lo..hi)
// becomes if lo <= c < hi { e(c) + 0.0 } else { 0.0 }, exactly (a -0.0 term
// sums to +0.0), and is left alone when c depends on i.
#include <cmath>

#include "passes_pipeline_util.h"

using namespace pipetest;
using chain::ir::OpKind;
using chain::ir::RtValue;

namespace {

const char* kSelect = R"(
fn f(x: f64[n], c: i64, lo: i64) -> f64 {
    sum(if i == c { x[i] * 3.0 } else { 0.0 } for i in lo..n)
}
)";

}  // namespace

TEST_CASE("simplify: a sum of one selected term is that term", "[passes][simplify]") {
  Program p = compile(kSelect);
  auto f = after(p, "f", "simplify");
  INFO(chain::ir::printFunction(*f));
  CHECK(count(f->body, OpKind::Reduce) == 0);
  auto raw = chain::ir::cloneFunction(*p.m->lookup("f"));
  RtValue x = vec({0.5, -0.0, 2.0, 4.0});
  struct Case { int64_t c, lo; double want; };
  for (Case k : {Case{2, 0, 6.0}, Case{0, 0, 1.5}, Case{3, 1, 12.0}, Case{0, 1, 0.0}, Case{4, 0, 0.0},
                 Case{-1, 0, 0.0}, Case{1, 0, 0.0}}) {
    INFO("c=" << k.c << " lo=" << k.lo);
    std::vector<RtValue> args = {x, RtValue::i64(k.c), RtValue::i64(k.lo)};
    CHECK(run(p, *f, args) == run(p, *raw, args));
    CHECK(std::stod(run(p, *f, args)) == k.want);
  }
  // x[1] = -0.0: the term is -0.0, the sum +0.0, as before the fold
  auto r = chain::ir::interpret(*p.m, *f, {x, RtValue::i64(1), RtValue::i64(0)});
  CHECK(r.at(0).f == 0.0);
  CHECK(!std::signbit(r.at(0).f));
}

TEST_CASE("simplify: a sum selecting by an index that depends on i is not folded", "[passes][simplify]") {
  // i == n - 1 - i holds for at most one i, but c is not invariant
  Program p = compile(R"(
fn f(x: f64[n]) -> f64 {
    sum(if i == n - 1 - i { x[i] } else { 0.0 } for i in 0..n)
}
)");
  auto f = after(p, "f", "simplify");
  INFO(chain::ir::printFunction(*f));
  CHECK(count(f->body, OpKind::Reduce) == 1);
  CHECK(run(p, *f, {vec({1.0, 5.0, 2.0})}) == "5.0");
}
