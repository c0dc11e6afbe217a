// The element conversions shared by the array readers (ArrayInput.cpp for
// JSON, FileInput.cpp for .npy and .csv): a tensor of the parameter's dtype
// that accepts source elements of any kind and says whether each one fits.
//   f64/f32 parameter: floats, integers (f32 rounds to nearest)
//   i64 parameter:     integers, integral floats within the i64 range
//   bool parameter:    true/false; 0 and 1 too when `numbersAsBool` (CSV)
// Integers written as text (JSON, CSV) round to a float parameter like any
// decimal number; integers from typed binary data (.npy) go in exactly or
// not at all (putExactInt), as SPEC §7 asks of .npy conversions.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "chain/chain.h"

namespace chain::cli {

class ElementWriter {
 public:
  // Checks the allocation (checkAllocation) and allocates the tensor.
  ElementWriter(const std::string& name, const TypeInfo& type, std::vector<int64_t> shape,
                bool numbersAsBool = false);

  bool putFloat(int64_t i, double v);
  bool putInt(int64_t i, int64_t v);
  // Like putInt, but a float parameter takes `v` only when it holds it
  // exactly: every integer up to 2^53 in magnitude for f64 (2^24 for f32),
  // and larger ones only when representable (2^60 is, 2^53 + 1 is not).
  bool putExactInt(int64_t i, int64_t v);
  bool putBool(int64_t i, bool v);
  // What the parameter's elements must be, for messages: "a number".
  std::string expected() const;
  Tensor& tensor() { return t_; }

 private:
  DType dtype_;
  bool numbersAsBool_;
  Tensor t_;
};

}  // namespace chain::cli
