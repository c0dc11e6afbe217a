// The IR printer: readable, deterministic, MLIR-like text for functions and
// modules (used by `chain emit`, golden tests and verifier dumps).
//
//   fn @f(%x: f64, %n: i64) -> (f64) {
//     %0 = mul %x, %x : f64
//     %1:2 = for %lo, %n, %x, %0 : (f64, f64) {
//     ^(%i: i64, %a: f64, %b: f64):
//       %2 = add %a, %b : f64
//       yield %2, %b
//     }
//     return %1#0
//   }
//
// Array ops print their attributes in place:
//
//   %3 = dim %A, 1 : i64
//   %4 = index %A, %i, %j : f64
//   %5 = slice %A [%i, %lo..%hi, :] : f64[?,?]     (index, range, whole axis)
//   %6 = update %a [%i] = %v : f64[?]              (add_at: `+= %v`)
//   %7 = map (%n, %m) : f64[?,?] { ^(%i: i64, %j: i64): ... yield %x }
//   %8 = reduce sum (%lo, %hi) : f64 { ^(%r: i64): ... yield %x }
//   %9 = fill %v (%n, %m) : f64[?,?]
//   assert %c "index {} is out of bounds", %i
//
// Function parameters and region arguments print with their source name when
// it is set, a plain identifier and unique in the function; every other value
// gets a number in order of definition. An op with several results prints as
// `%N:K` and its results are referred to as `%N#0`..`%N#K-1`.
#pragma once

#include <string>

#include "ir/IR.h"

namespace chain::ir {

struct PrintOptions {
  bool showLoc = false;  // append `loc(LINE:COL)` to every op
};

std::string printFunction(const Function& f, const PrintOptions& opts = {});
std::string printModule(const Module& m, const PrintOptions& opts = {});
// One op (with its regions) out of context: values are numbered locally.
std::string printOp(const Operation& op, const PrintOptions& opts = {});
// A float constant as printed: shortest round-trip text, always with '.' or
// 'e' (or nan, inf, -inf).
std::string formatFloat(double v, Type t = Type::f64());

}  // namespace chain::ir
