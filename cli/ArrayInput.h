// Reading array arguments for the command line (SPEC §7): nested JSON lists,
// NumPy .npy files and CSV files, each converted to a chain::Tensor of the
// parameter's declared dtype and rank, plus the binding of size names
// ("n", "d") to the arrays' shapes. Every problem is a chain::InputError that
// names the parameter (exit status 3); nothing here trusts a size it has not
// checked against the data it has actually read or against the machine's
// memory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/chain.h"

namespace chain::cli {

// Bytes per element of a tensor of dtype t.
size_t elementBytes(DType t);

// A nested JSON list of the parameter's rank. Elements: numbers for f64/f32
// (integers accepted, also "nan"/"inf"/"-inf"), integers for i64 (integral
// floats accepted), true/false for bool.
Tensor tensorFromJson(const std::string& name, const TypeInfo& type, const nlohmann::json& j);

// A NumPy .npy file (format v1/v2/v3, C order, little-endian '<f8', '<f4',
// '<i8', '<i4', '<i2', '|i1', '|u1' or '|b1'), converted to the parameter's
// dtype when every value converts exactly (f8 into f32 rounds); bool data
// only for bool parameters. A rank-0 parameter (a scalar) takes a 0-d array.
Tensor readNpy(const std::string& name, const TypeInfo& type, const std::string& path);

// A CSV file of numbers separated by ',', ';', tabs or runs of spaces
// (detected from the data); the first line is skipped as a header only when
// it has a word and either no number or another field count than the data;
// any other field that is not a number is an error naming its line and
// column (FileInput.cpp has the rules). Blank lines are skipped. Rank 2 takes
// the rows; rank 1 a single row or a single column; rank 0 a single number.
Tensor readCsv(const std::string& name, const TypeInfo& type, const std::string& path);

// Throws InputError when `numel` elements of `dtype` for parameter `name`
// would overflow or need more memory than the machine has.
void checkAllocation(const std::string& name, const std::vector<int64_t>& shape, DType dtype);

// The shape as text: "(3, 4)".
std::string shapeText(const std::vector<int64_t>& shape);

// True when a declared dimension is an integer literal ("3"), not a size name.
bool isLiteralDim(const std::string& dim);

// Binds size names to the arrays' shapes, parameter by parameter, and checks
// literal dimensions. The first parameter that uses a size name binds it;
// a later disagreement is an InputError naming both parameters and axes:
//   argument 'x' axis 0 has size 4, but n = 3 from 'A' axis 0
class SizeBinder {
 public:
  void bind(const std::string& param, const TypeInfo& type, const std::vector<int64_t>& shape);
  const std::map<std::string, int64_t>& sizes() const { return sizes_; }

 private:
  struct Origin {
    std::string param;
    size_t axis;
  };
  std::map<std::string, int64_t> sizes_;
  std::map<std::string, Origin> origins_;
};

}  // namespace chain::cli
