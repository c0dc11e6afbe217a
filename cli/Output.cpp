// Printing chain::Value as text and JSON for the command line. Floats are
// written with the fewest digits that read back to the same value, so the
// output is both readable and exact; tensors are walked in C order into nested
// lists; tuples become "(a, b)" in text and lists in JSON. In text, arrays of
// rank >= 2 put each row on its own line (aligned under the first bracket),
// and an array of more than kElideAbove elements shows only the first and
// last kEdge entries of each longer axis, with "..." between them; JSON is
// always complete.
//
// Signed zeros: values (`run`, the value of `grad`, fitted parameters) are
// printed as IEEE 754 computed them, -0.0 included, because the sign of a
// zero result can matter to the model (1 / x, atan2). Gradients
// (Zeros::Unsigned) print every zero as 0.0, in text and JSON: the sign of a
// zero derivative carries no information, and "-0.0" reads as a problem.
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

constexpr int64_t kElideAbove = 1000;
constexpr int64_t kEdge = 3;

// A float as it is to be printed: -0.0 becomes 0.0 under Zeros::Unsigned.
double shown(double v, Zeros zeros) { return zeros == Zeros::Unsigned && v == 0.0 ? 0.0 : v; }

// Element `flat` of a tensor as JSON (i64 read exactly, not through double).
nlohmann::ordered_json elementJson(const Tensor& t, int64_t flat, Zeros zeros) {
  switch (t.dtype()) {
    case DType::F64: return numberToJson(shown(t.data<double>()[flat], zeros));
    case DType::F32: return numberToJson(shown(t.data<float>()[flat], zeros), true);
    case DType::I64: return t.data<int64_t>()[flat];
    case DType::Bool: return t.data<uint8_t>()[flat] != 0;
  }
  return nullptr;
}

std::string elementText(const Tensor& t, int64_t flat, Zeros zeros) {
  switch (t.dtype()) {
    case DType::F64: return formatNumber(shown(t.data<double>()[flat], zeros));
    case DType::F32: return formatNumber(shown(t.data<float>()[flat], zeros), true);
    case DType::I64: return std::to_string(t.data<int64_t>()[flat]);
    case DType::Bool: return t.data<uint8_t>()[flat] ? "true" : "false";
  }
  return "?";
}

// Elements of a tensor from flat index `offset` along axis `axis`, as JSON.
nlohmann::ordered_json tensorToJson(const Tensor& t, int axis, int64_t& offset, Zeros zeros) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  int64_t n = t.shape()[axis];
  for (int64_t i = 0; i < n; ++i) {
    if (axis + 1 < t.rank()) list.push_back(tensorToJson(t, axis + 1, offset, zeros));
    else list.push_back(elementJson(t, offset++, zeros));
  }
  return list;
}

std::string scalarText(const Value& v, Zeros zeros) {
  switch (v.kind()) {
    case Value::Kind::F64: return formatNumber(shown(v.asDouble(), zeros));
    case Value::Kind::F32: return formatNumber(shown(v.asDouble(), zeros), true);
    case Value::Kind::I64: return std::to_string(v.asInt());
    case Value::Kind::Bool: return v.asBool() ? "true" : "false";
    case Value::Kind::Tensor:
    case Value::Kind::Tuple: break;
  }
  return "?";
}

// Text of the sub-array of `t` at axis `axis` starting at flat index `base`;
// `indent` is the column of the outermost '['.
struct TensorPrinter {
  const Tensor& t;
  bool elide;
  size_t indent;
  Zeros zeros;
  std::string out;

  int64_t stride(int axis) const {
    int64_t s = 1;
    for (int k = axis + 1; k < t.rank(); ++k) s *= t.shape()[k];
    return s;
  }
  void print(int axis, int64_t base) {
    out += '[';
    int64_t n = t.shape()[axis], step = stride(axis);
    bool last = axis + 1 == t.rank();
    std::string sep = last ? ", " : "," + std::string(t.rank() - axis - 1, '\n') + std::string(indent + axis + 1, ' ');
    for (int64_t i = 0; i < n; ++i) {
      if (i) out += sep;
      if (elide && n > 2 * kEdge && i == kEdge) {
        out += "...";
        out += sep;
        i = n - kEdge;
      }
      if (last) out += elementText(t, base + i, zeros);
      else print(axis + 1, base + i * step);
    }
    out += ']';
  }
};

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

nlohmann::ordered_json toJson(const Value& v, Zeros zeros) {
  switch (v.kind()) {
    case Value::Kind::F64: return numberToJson(shown(v.asDouble(), zeros));
    case Value::Kind::F32: return numberToJson(shown(v.asDouble(), zeros), true);
    case Value::Kind::I64: return v.asInt();
    case Value::Kind::Bool: return v.asBool();
    case Value::Kind::Tensor: {
      const Tensor& t = v.tensor();
      if (t.rank() == 0) return t.numel() ? elementJson(t, 0, zeros) : nlohmann::ordered_json(0.0);
      int64_t offset = 0;
      return tensorToJson(t, 0, offset, zeros);
    }
    case Value::Kind::Tuple: {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const Value& e : v.tuple()) list.push_back(toJson(e, zeros));
      return list;
    }
  }
  return nullptr;
}

std::string toText(const Value& v, size_t indent, Zeros zeros) {
  if (v.isScalar()) return scalarText(v, zeros);
  if (v.kind() == Value::Kind::Tensor) {
    const Tensor& t = v.tensor();
    if (t.rank() == 0) return t.numel() ? elementText(t, 0, zeros) : "0.0";
    TensorPrinter p{t, t.numel() > kElideAbove, indent, zeros, {}};
    p.print(0, 0);
    return p.out;
  }
  std::string out = "(";
  const auto& elems = v.tuple();
  for (size_t i = 0; i < elems.size(); ++i) {
    if (i) out += ", ";
    size_t lineStart = out.rfind('\n');
    size_t column = lineStart == std::string::npos ? indent + out.size() : out.size() - lineStart - 1;
    out += toText(elems[i], column, zeros);
  }
  return out + ")";
}

nlohmann::ordered_json errorToJson(int exit, const std::string& message,
                                   const std::vector<CompileError::Diagnostic>& diagnostics) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const CompileError::Diagnostic& d : diagnostics)
    list.push_back({{"file", d.file}, {"line", d.line}, {"col", d.col}, {"message", d.message}});
  return {{"error", {{"exit", exit}, {"message", message}, {"diagnostics", list}}}};
}

}  // namespace chain::cli
