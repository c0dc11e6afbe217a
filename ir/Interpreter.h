// A reference interpreter for the IR: plain, slow and obviously correct. It is
// the oracle for the JIT (tests compare the two) and runs AD output directly,
// so gradients can be checked without code generation.
//
// Values: a scalar keeps its payload in `f` (floats; f32 kept rounded to
// float) or `i` (i64 and bool). An array (type.rank >= 1) keeps its sizes in
// `shape` and its elements in row-major order in `fdata` (float arrays) or
// `idata` (i64 and bool arrays, exact). Arrays are values: the interpreter
// never writes into an element vector it did not just create, so sharing the
// vectors between RtValues is safe.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace chain::ir {

struct RtValue {
  Type type;
  double f = 0;   // f64 and f32 scalars (f32 values are kept rounded to float)
  int64_t i = 0;  // i64 and bool scalars
  std::vector<int64_t> shape;                   // arrays: one size per axis
  std::shared_ptr<std::vector<double>> fdata;   // float arrays, row-major
  std::shared_ptr<std::vector<int64_t>> idata;  // i64 / bool arrays, row-major

  static RtValue make(Type t, double f, int64_t i) {
    RtValue r;
    r.type = t;
    r.f = f;
    r.i = i;
    return r;
  }
  static RtValue f64(double v) { return make(Type::f64(), v, 0); }
  static RtValue f32(float v) { return make(Type::f32(), v, 0); }
  static RtValue i64(int64_t v) { return make(Type::i64(), 0, v); }
  static RtValue boolean(bool v) { return make(Type::boolean(), 0, v ? 1 : 0); }
  // A scalar of type `t` from a double (f32 rounded, i64 truncated, bool != 0).
  static RtValue scalarOf(Type t, double v);
  // A zero-filled array with element type `elem` and the given sizes.
  static RtValue array(Scalar elem, std::vector<int64_t> shape);
  // An array from row-major values (i64/bool converted from the doubles).
  static RtValue array(Scalar elem, std::vector<int64_t> shape, const std::vector<double>& values);
  static RtValue arrayI(std::vector<int64_t> shape, std::vector<int64_t> values);

  double num() const { return type.isFloat() ? f : double(i); }
  bool isArray() const { return type.rank > 0; }
  size_t size() const;                          // number of elements (1 for a scalar)
  RtValue at(size_t flat) const;                // element `flat` as a scalar
  void set(size_t flat, const RtValue& scalar);  // only on a freshly made array
  std::vector<double> values() const;           // all elements as doubles
  RtValue deepCopy() const;                     // an array with its own element vector
};

struct InterpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs `f` of module `m` (calls are followed into `m`). Prints go to `out`
// when it is not null. Throws InterpError on a runtime error; its message
// starts with the op's "LINE:COL: ".
std::vector<RtValue> interpret(const Module& m, const Function& f, const std::vector<RtValue>& args,
                               std::string* out = nullptr);

// The text `print` writes for one value: floats in shortest round-trip form
// (always with '.', 'e', nan or inf), bools true/false, arrays as nested
// lists `[[1.0, 2.0], [3.0, 4.0]]`.
std::string formatRtValue(const RtValue& v);

}  // namespace chain::ir
