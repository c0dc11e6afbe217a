// Printing chain::Value as text and JSON for the command line. Floats are
// written with the fewest digits that read back to the same value, so the
// output is both readable and exact; tensors are walked in C order into nested
// lists; tuples become "(a, b)" in text and lists in JSON.
#include "cli/Output.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace chain::cli {
namespace {

// The shortest "%.Ng" rendering of v that parses back to the same value.
std::string shortestDigits(double v, bool isF32) {
  char buf[64];
  int maxDigits = isF32 ? 9 : 17;
  for (int p = 1; p <= maxDigits; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    double back = std::strtod(buf, nullptr);
    if (isF32 ? static_cast<float>(back) == static_cast<float>(v) : back == v) break;
  }
  return buf;
}

// Elements of a tensor from flat index `offset` along axis `axis`, as JSON.
nlohmann::ordered_json tensorToJson(const Tensor& t, int axis, int64_t& offset) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  int64_t n = t.shape()[axis];
  for (int64_t i = 0; i < n; ++i) {
    if (axis + 1 < t.rank()) {
      list.push_back(tensorToJson(t, axis + 1, offset));
      continue;
    }
    double x = t.at(offset++);
    switch (t.dtype()) {
      case DType::F64: list.push_back(numberToJson(x)); break;
      case DType::F32: list.push_back(numberToJson(x, true)); break;
      case DType::I64: list.push_back(static_cast<int64_t>(x)); break;
      case DType::Bool: list.push_back(x != 0); break;
    }
  }
  return list;
}

std::string scalarText(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::F64: return formatNumber(v.asDouble());
    case Value::Kind::F32: return formatNumber(v.asDouble(), true);
    case Value::Kind::I64: return std::to_string(v.asInt());
    case Value::Kind::Bool: return v.asBool() ? "true" : "false";
    case Value::Kind::Tensor:
    case Value::Kind::Tuple: break;
  }
  return "?";
}

// Text of a tensor's sub-array along `axis`, from flat index `offset`.
void tensorText(const Tensor& t, int axis, int64_t& offset, std::string& out) {
  out += '[';
  int64_t n = t.shape()[axis];
  for (int64_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    if (axis + 1 < t.rank()) {
      tensorText(t, axis + 1, offset, out);
      continue;
    }
    double x = t.at(offset++);
    switch (t.dtype()) {
      case DType::F64: out += formatNumber(x); break;
      case DType::F32: out += formatNumber(x, true); break;
      case DType::I64: out += std::to_string(static_cast<int64_t>(x)); break;
      case DType::Bool: out += x != 0 ? "true" : "false"; break;
    }
  }
  out += ']';
}

}  // namespace

std::string formatNumber(double v, bool isF32) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // nlohmann writes the shortest round-trip form, keeping a ".0" on integral
  // values and using exponents only for very large or small magnitudes.
  return numberToJson(v, isF32).dump();
}

nlohmann::ordered_json numberToJson(double v, bool isF32) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (isF32) return std::strtod(shortestDigits(v, true).c_str(), nullptr);
  return v;
}

nlohmann::ordered_json toJson(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::F64: return numberToJson(v.asDouble());
    case Value::Kind::F32: return numberToJson(v.asDouble(), true);
    case Value::Kind::I64: return v.asInt();
    case Value::Kind::Bool: return v.asBool();
    case Value::Kind::Tensor: {
      const Tensor& t = v.tensor();
      if (t.rank() == 0) return numberToJson(t.numel() ? t.at(0) : 0.0);
      int64_t offset = 0;
      return tensorToJson(t, 0, offset);
    }
    case Value::Kind::Tuple: {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const Value& e : v.tuple()) list.push_back(toJson(e));
      return list;
    }
  }
  return nullptr;
}

std::string toText(const Value& v) {
  if (v.isScalar()) return scalarText(v);
  if (v.kind() == Value::Kind::Tensor) {
    const Tensor& t = v.tensor();
    if (t.rank() == 0) return formatNumber(t.numel() ? t.at(0) : 0.0);
    std::string out;
    int64_t offset = 0;
    tensorText(t, 0, offset, out);
    return out;
  }
  std::string out = "(";
  const auto& elems = v.tuple();
  for (size_t i = 0; i < elems.size(); ++i) {
    if (i) out += ", ";
    out += toText(elems[i]);
  }
  return out + ")";
}

}  // namespace chain::cli
