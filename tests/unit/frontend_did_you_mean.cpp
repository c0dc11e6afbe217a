// Did-you-mean suggestions (frontend/DidYouMean.h and the checker's choice of
// candidates): the closest name within a third of the misspelt name's
// length, none for names shorter than three characters, and only names that
// fit where the unknown one is used.
#include <catch2/catch.hpp>

#include "frontend/DidYouMean.h"
#include "frontend/Frontend.h"

using namespace chain;
using chain::frontend::didYouMean;

namespace {

// The messages of the diagnostics that checking `src` reports.
std::vector<std::string> messages(const std::string& src) {
  DiagEngine diag("t.chain", &src);
  auto prog = frontend::parse(src, diag);
  REQUIRE(!diag.hasErrors());
  frontend::check(*prog, diag);
  std::vector<std::string> out;
  for (const Diagnostic& d : diag.sorted()) out.push_back(d.message);
  return out;
}

}  // namespace

TEST_CASE("did you mean: the closest candidate within a third of the length", "[frontend][didyoumean]") {
  CHECK(didYouMean("sigmod", {"exp", "sigmoid", "softplus"}) == "; did you mean 'sigmoid'?");
  CHECK(didYouMean("lenght", {"length", "len"}) == "; did you mean 'length'?");  // 2 edits of 6
  CHECK(didYouMean("lenght", {"len"}).empty());                                  // 3 edits
  CHECK(didYouMean("abc", {"abd", "abe"}) == "; did you mean 'abd'?");           // the first of a tie
  CHECK(didYouMean("abc", {"xbd", "abx"}) == "; did you mean 'abx'?");           // the closer one
  CHECK(didYouMean("ab", {"abc", "ac"}).empty());                                // too short to guess
  CHECK(didYouMean("total", {"total"}).empty());                                 // not itself
  CHECK(didYouMean("total", {}).empty());
}

TEST_CASE("did you mean: candidates fit the use of the unknown name", "[frontend][didyoumean]") {
  // A value: bindings and user functions, not built-ins.
  CHECK(messages("fn f(sigma: f64) -> f64 { sigm + expp }\n") ==
        std::vector<std::string>{"unknown name 'sigm'; did you mean 'sigma'?", "unknown name 'expp'"});
  // A call: built-ins, user functions and function bindings, not values.
  CHECK(messages("fn helper(x: f64) -> f64 { x }\nfn f(sigma: f64) -> f64 {\n"
                 " let dh = grad(helper)\n expp(sigma) + sigmaa(sigma) + helpr(sigma) + dhh(sigma)\n}\n") ==
        std::vector<std::string>{"unknown function 'expp'; did you mean 'exp'?", "unknown function 'sigmaa'",
                                 "unknown function 'helpr'; did you mean 'helper'?",
                                 "unknown function 'dhh'; did you mean 'dh'?"});
  // grad's function: user functions, not built-ins.
  CHECK(messages("fn f(x: f64) -> f64 { grad(sinn)(x) + grad(helpr)(x) }\nfn helper(x: f64) -> f64 { x }\n") ==
        std::vector<std::string>{"unknown function 'sinn'", "unknown function 'helpr'; did you mean 'helper'?"});
  // An assignment: value bindings, not functions.
  CHECK(messages("fn count(x: f64) -> f64 {\n var counter = x\n countr = 1.0\n coun = 2.0\n counter\n}\n") ==
        std::vector<std::string>{"unknown name 'countr'; did you mean 'counter'?", "unknown name 'coun'"});
}
