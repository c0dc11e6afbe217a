// A reference interpreter for the IR: plain, slow and obviously correct. It is
// the oracle for the JIT (tests compare the two) and runs AD output directly,
// so gradients can be checked without code generation.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace chain::ir {

// A scalar value of any IR scalar type.
struct RtValue {
  Type type;
  double f = 0;   // f64 and f32 (f32 values are kept rounded to float)
  int64_t i = 0;  // i64 and bool
  static RtValue f64(double v) { return {Type::f64(), v, 0}; }
  static RtValue f32(float v) { return {Type::f32(), v, 0}; }
  static RtValue i64(int64_t v) { return {Type::i64(), 0, v}; }
  static RtValue boolean(bool v) { return {Type::boolean(), 0, v ? 1 : 0}; }
  double num() const { return type.isFloat() ? f : double(i); }
};

struct InterpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs `f` of module `m` (calls are followed into `m`). Prints go to `out`
// when it is not null. Throws InterpError on a runtime error.
std::vector<RtValue> interpret(const Module& m, const Function& f, const std::vector<RtValue>& args,
                               std::string* out = nullptr);

}  // namespace chain::ir
