// Tensor, Value and TypeInfo of the public API: construction, access and
// readable printing.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "chain/chain.h"

namespace chain {

const char* dtypeName(DType t) {
  switch (t) {
    case DType::F64: return "f64";
    case DType::F32: return "f32";
    case DType::I64: return "i64";
    case DType::Bool: return "bool";
  }
  return "?";
}

namespace {
size_t dtypeSize(DType t) {
  switch (t) {
    case DType::F64: return 8;
    case DType::F32: return 4;
    case DType::I64: return 8;
    case DType::Bool: return 1;
  }
  return 8;
}

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

// The bytes of a tensor of this shape; InputError for a negative size or a
// size no machine can hold (over 2^60 bytes, also catching overflow).
size_t checkedBytes(const std::vector<int64_t>& shape, size_t elemSize) {
  const size_t limit = size_t(1) << 60;
  size_t bytes = elemSize;
  for (int64_t d : shape) {
    if (d < 0) throw InputError("tensor shape " + shapeText(shape) + " has a negative size");
    if (d != 0 && bytes > limit / size_t(d))
      throw InputError("tensor shape " + shapeText(shape) + " needs more memory than any machine has");
    bytes *= size_t(d);
  }
  for (int64_t d : shape)
    if (d == 0) return 0;
  return bytes;
}

std::string formatDouble(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  for (int prec = 15; prec <= 17; ++prec) {  // shortest round-trip form
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

Tensor::Tensor(DType dtype, std::vector<int64_t> shape) : dtype_(dtype), shape_(std::move(shape)) {
  size_t bytes = checkedBytes(shape_, dtypeSize(dtype_));
  owner_ = std::shared_ptr<void>(std::calloc(1, std::max<size_t>(1, bytes)), std::free);
  if (!owner_)
    throw InputError("out of memory: cannot allocate " + std::to_string(bytes) + " bytes for a tensor of shape " +
                     shapeText(shape_));
  data_ = owner_.get();
}

Tensor Tensor::view(DType dtype, std::vector<int64_t> shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

Tensor Tensor::adopt(DType dtype, std::vector<int64_t> shape, void* data, void (*deleter)(void*)) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.owner_ = std::shared_ptr<void>(data, deleter);
  t.data_ = data;
  return t;
}

Tensor Tensor::fromValues(DType dtype, std::vector<int64_t> shape, const std::vector<double>& values) {
  Tensor t(dtype, std::move(shape));
  if (int64_t(values.size()) != t.numel()) throw InputError("tensor: wrong number of values for its shape");
  for (size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case DType::F64: t.data<double>()[i] = values[i]; break;
      case DType::F32: t.data<float>()[i] = float(values[i]); break;
      case DType::I64: t.data<int64_t>()[i] = int64_t(values[i]); break;
      case DType::Bool: t.data<uint8_t>()[i] = values[i] != 0; break;
    }
  }
  return t;
}

int64_t Tensor::numel() const {
  return std::accumulate(shape_.begin(), shape_.end(), int64_t(1), std::multiplies<int64_t>());
}

double Tensor::at(int64_t i) const {
  switch (dtype_) {
    case DType::F64: return static_cast<const double*>(data_)[i];
    case DType::F32: return static_cast<const float*>(data_)[i];
    case DType::I64: return double(static_cast<const int64_t*>(data_)[i]);
    case DType::Bool: return static_cast<const uint8_t*>(data_)[i] ? 1.0 : 0.0;
  }
  return 0;
}

Value::Value(Tensor t) : kind_(Kind::Tensor), tensor_(std::make_shared<Tensor>(std::move(t))) {}
Value::Value(std::vector<Value> elems)
    : kind_(Kind::Tuple), tuple_(std::make_shared<std::vector<Value>>(std::move(elems))) {}

double Value::asDouble() const {
  switch (kind_) {
    case Kind::F64: case Kind::F32: return f_;
    case Kind::I64: case Kind::Bool: return double(i_);
    case Kind::Tensor: case Kind::Tuple: break;
  }
  throw InputError("value is not a scalar");
}

int64_t Value::asInt() const {
  if (kind_ == Kind::I64 || kind_ == Kind::Bool) return i_;
  throw InputError("value is not an integer");
}

bool Value::asBool() const {
  if (kind_ == Kind::Bool) return i_ != 0;
  throw InputError("value is not a bool");
}

const Tensor& Value::tensor() const {
  if (kind_ != Kind::Tensor) throw InputError("value is not a tensor");
  return *tensor_;
}

const std::vector<Value>& Value::tuple() const {
  if (kind_ != Kind::Tuple) throw InputError("value is not a tuple");
  return *tuple_;
}

namespace {
void tensorStr(const Tensor& t, int axis, int64_t& flat, std::string& out) {
  out += "[";
  for (int64_t i = 0; i < t.shape()[axis]; ++i) {
    if (i) out += ", ";
    if (axis + 1 < t.rank()) {
      tensorStr(t, axis + 1, flat, out);
    } else {
      double v = t.at(flat++);
      if (t.dtype() == DType::I64) out += std::to_string(int64_t(v));
      else if (t.dtype() == DType::Bool) out += v != 0 ? "true" : "false";
      else out += formatDouble(v);
    }
  }
  out += "]";
}
}  // namespace

std::string Value::str() const {
  switch (kind_) {
    case Kind::F64: case Kind::F32: return formatDouble(f_);
    case Kind::I64: return std::to_string(i_);
    case Kind::Bool: return i_ ? "true" : "false";
    case Kind::Tensor: {
      std::string out;
      int64_t flat = 0;
      if (tensor_->rank() == 0) return formatDouble(tensor_->at(0));
      tensorStr(*tensor_, 0, flat, out);
      return out;
    }
    case Kind::Tuple: {
      std::string out = "(";
      for (size_t i = 0; i < tuple_->size(); ++i) out += (i ? ", " : "") + (*tuple_)[i].str();
      return out + ")";
    }
  }
  return "?";
}

std::string TypeInfo::str() const {
  if (isTuple) {
    std::string s = "(";
    for (size_t i = 0; i < elems.size(); ++i) s += (i ? ", " : "") + elems[i].str();
    return s + ")";
  }
  std::string s = dtypeName(dtype);
  if (!dims.empty()) {
    s += "[";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + dims[i];
    s += "]";
  }
  return s;
}

}  // namespace chain
