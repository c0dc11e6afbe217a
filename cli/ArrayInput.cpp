// Array arguments from JSON, the element conversions every reader shares, the
// memory check done before any allocation whose size comes from input, and
// the binding of size names to shapes. (.npy and .csv: FileInput.cpp.)
#include "cli/ArrayInput.h"

#include <unistd.h>

#include <limits>

#include "cli/ElementWriter.h"

namespace chain::cli {

size_t elementBytes(DType t) {
  switch (t) {
    case DType::F64: return 8;
    case DType::F32: return 4;
    case DType::I64: return 8;
    case DType::Bool: return 1;
  }
  return 8;
}

namespace {

// The machine's physical memory in bytes (a generous bound when unknown).
uint64_t physicalMemory() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return uint64_t(1) << 40;
  return uint64_t(pages) * uint64_t(page);
}

std::string typeText(const std::string& name, const TypeInfo& type) {
  return "argument '" + name + "' (" + type.str() + ")";
}

// "x[1, 2]": the position of an element or sub-list, for messages.
std::string pathText(const std::string& name, const std::vector<int64_t>& path) {
  if (path.empty()) return name;
  std::string s = name + "[";
  for (size_t i = 0; i < path.size(); ++i) s += (i ? ", " : "") + std::to_string(path[i]);
  return s + "]";
}

// The sizes of the first list at every level down to `rank` levels.
std::vector<int64_t> jsonShape(const std::string& name, const TypeInfo& type, const nlohmann::json& j) {
  std::vector<int64_t> shape;
  const nlohmann::json* node = &j;
  size_t rank = type.dims.size();
  for (size_t level = 0; level < rank; ++level) {
    if (node == nullptr) {  // below an empty list: a literal dim, else 0
      shape.push_back(isLiteralDim(type.dims[level]) ? std::stoll(type.dims[level]) : 0);
      continue;
    }
    if (!node->is_array()) {
      if (level == 0)
        throw InputError(typeText(name, type) + ": expected a nested list of rank " + std::to_string(rank) +
                         " (or \"@file.npy\" / \"@file.csv\"), got " + node->dump());
      throw InputError(typeText(name, type) + ": the list is nested " + std::to_string(level) +
                       " deep, but the parameter has rank " + std::to_string(rank));
    }
    shape.push_back(static_cast<int64_t>(node->size()));
    node = node->empty() ? nullptr : &(*node)[0];
  }
  return shape;
}

bool putJsonElement(ElementWriter& w, int64_t i, const nlohmann::json& e) {
  if (e.is_number_unsigned()) {
    uint64_t u = e.get<uint64_t>();
    return u <= uint64_t(INT64_MAX) ? w.putInt(i, int64_t(u)) : w.putFloat(i, double(u));
  }
  if (e.is_number_integer()) return w.putInt(i, e.get<int64_t>());
  if (e.is_number_float()) return w.putFloat(i, e.get<double>());
  if (e.is_boolean()) return w.putBool(i, e.get<bool>());
  if (e.is_string()) {
    std::string s = e.get<std::string>();
    if (s == "nan") return w.putFloat(i, NAN);
    if (s == "inf" || s == "+inf") return w.putFloat(i, INFINITY);
    if (s == "-inf") return w.putFloat(i, -INFINITY);
  }
  return false;
}

struct JsonFill {
  const std::string& name;
  const TypeInfo& type;
  const std::vector<int64_t>& shape;
  ElementWriter& w;
  int64_t flat = 0;
  std::vector<int64_t> path;

  void fill(const nlohmann::json& node, size_t level) {
    if (level == shape.size()) {
      if (node.is_array())
        throw InputError(typeText(name, type) + ": " + pathText(name, path) +
                         " is a list, but the parameter has rank " + std::to_string(shape.size()));
      if (!putJsonElement(w, flat, node))
        throw InputError(typeText(name, type) + ": " + pathText(name, path) + " must be " + w.expected() +
                         ", got " + node.dump());
      ++flat;
      return;
    }
    if (!node.is_array())
      throw InputError(typeText(name, type) + ": ragged list: " + pathText(name, path) + " is " + node.dump() +
                       ", expected a list of " + std::to_string(shape[level]));
    if (int64_t(node.size()) != shape[level]) {
      std::vector<int64_t> first(path.size(), 0);
      throw InputError(typeText(name, type) + ": ragged list: " + pathText(name, path) + " has " +
                       std::to_string(node.size()) + " elements, but " + pathText(name, first) + " has " +
                       std::to_string(shape[level]));
    }
    for (size_t k = 0; k < node.size(); ++k) {
      path.push_back(int64_t(k));
      fill(node[k], level + 1);
      path.pop_back();
    }
  }
};

}  // namespace

// --- ElementWriter ------------------------------------------------------------

ElementWriter::ElementWriter(const std::string& name, const TypeInfo& type, std::vector<int64_t> shape,
                             bool numbersAsBool)
    : dtype_(type.dtype), numbersAsBool_(numbersAsBool) {
  checkAllocation(name, shape, dtype_);
  t_ = Tensor(dtype_, std::move(shape));
}

bool ElementWriter::putFloat(int64_t i, double v) {
  switch (dtype_) {
    case DType::F64: t_.data<double>()[i] = v; return true;
    case DType::F32: t_.data<float>()[i] = static_cast<float>(v); return true;
    case DType::I64:
      // 2^63 is exactly representable; anything at or beyond it does not fit.
      if (!(std::isfinite(v) && v == std::trunc(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0))
        return false;
      t_.data<int64_t>()[i] = static_cast<int64_t>(v);
      return true;
    case DType::Bool:
      if (!numbersAsBool_ || (v != 0 && v != 1)) return false;
      t_.data<uint8_t>()[i] = v != 0;
      return true;
  }
  return false;
}

bool ElementWriter::putInt(int64_t i, int64_t v) {
  switch (dtype_) {
    case DType::F64: t_.data<double>()[i] = static_cast<double>(v); return true;
    case DType::F32: t_.data<float>()[i] = static_cast<float>(v); return true;
    case DType::I64: t_.data<int64_t>()[i] = v; return true;
    case DType::Bool:
      if (!numbersAsBool_ || (v != 0 && v != 1)) return false;
      t_.data<uint8_t>()[i] = v != 0;
      return true;
  }
  return false;
}

namespace {

// True when the float type F holds v exactly. F(v) rounds to nearest; the
// round trip is compared below 2^63, where converting back is defined.
template <class F> bool holdsExactly(int64_t v) {
  F f = static_cast<F>(v);
  return f < F(9223372036854775808.0) && static_cast<int64_t>(f) == v;
}

}  // namespace

bool ElementWriter::putExactInt(int64_t i, int64_t v) {
  if (dtype_ == DType::F64 && !holdsExactly<double>(v)) return false;
  if (dtype_ == DType::F32 && !holdsExactly<float>(v)) return false;
  return putInt(i, v);
}

bool ElementWriter::putBool(int64_t i, bool v) {
  if (dtype_ != DType::Bool) return false;
  t_.data<uint8_t>()[i] = v;
  return true;
}

std::string ElementWriter::expected() const {
  switch (dtype_) {
    case DType::F64:
    case DType::F32: return "a number";
    case DType::I64: return "an integer";
    case DType::Bool: return numbersAsBool_ ? "true, false, 0 or 1" : "true or false";
  }
  return "a value";
}

// --- shapes and memory ------------------------------------------------------

void checkAllocation(const std::string& name, const std::vector<int64_t>& shape, DType dtype) {
  uint64_t limit = physicalMemory();
  uint64_t bytes = elementBytes(dtype);
  for (int64_t d : shape) {
    if (d < 0) throw InputError("argument '" + name + "': negative size " + std::to_string(d));
    if (d != 0 && bytes > limit / uint64_t(d)) {
      bytes = std::numeric_limits<uint64_t>::max();
      break;
    }
    bytes *= uint64_t(d);
  }
  for (int64_t d : shape)
    if (d == 0) return;  // empty: nothing to allocate
  if (bytes > limit)
    throw InputError("argument '" + name + "' of shape " + shapeText(shape) + " (" + dtypeName(dtype) +
                     ") would need more memory than this machine has");
}

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

bool isLiteralDim(const std::string& dim) {
  return !dim.empty() && dim.size() < 19 && dim.find_first_not_of("0123456789") == std::string::npos;
}

void SizeBinder::bind(const std::string& param, const TypeInfo& type, const std::vector<int64_t>& shape) {
  if (shape.size() != type.dims.size())
    throw InputError("argument '" + param + "' (" + type.str() + ") has rank " + std::to_string(shape.size()) +
                     ", expected " + std::to_string(type.dims.size()));
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    const std::string& dim = type.dims[axis];
    std::string where = "argument '" + param + "' axis " + std::to_string(axis) + " has size " +
                        std::to_string(shape[axis]);
    if (isLiteralDim(dim)) {
      if (shape[axis] != std::stoll(dim))
        throw InputError(where + ", but its type " + type.str() + " requires " + dim);
      continue;
    }
    auto it = sizes_.find(dim);
    if (it == sizes_.end()) {
      sizes_[dim] = shape[axis];
      origins_[dim] = {param, axis};
    } else if (it->second != shape[axis]) {
      const Origin& o = origins_[dim];
      throw InputError(where + ", but " + dim + " = " + std::to_string(it->second) + " from '" + o.param +
                       "' axis " + std::to_string(o.axis));
    }
  }
}

Tensor tensorFromJson(const std::string& name, const TypeInfo& type, const nlohmann::json& j) {
  std::vector<int64_t> shape = jsonShape(name, type, j);
  ElementWriter w(name, type, shape);
  JsonFill fill{name, type, shape, w, 0, {}};
  fill.fill(j, 0);
  return w.tensor();
}

}  // namespace chain::cli
