// Marshalling between the public API's Values and the JIT entry's ABI:
// argument checks (dtype, rank, size names shared between parameters),
// ChainArray descriptors, and owning Tensors for array results.
#include <cmath>
#include <map>

#include "runtime/ApiImpl.h"

namespace chain {

namespace {

Scalar64 packScalar(const Value& v, const ir::Type& t, const std::string& param) {
  Scalar64 s{};
  auto bad = [&](const char* want) {
    return InputError("argument '" + param + "' must be " + want + ", got " + v.str());
  };
  if (!v.isScalar()) throw bad(ir::Type{t.elem, 0}.str().c_str());
  switch (t.elem) {
    case ir::Scalar::F64:
    case ir::Scalar::F32: {
      if (v.kind() == Value::Kind::Bool) throw bad("a number");
      double d = v.asDouble();
      if (t.elem == ir::Scalar::F64) s.f64 = d;
      else s.f32 = float(d);
      return s;
    }
    case ir::Scalar::I64:
      if (v.kind() == Value::Kind::I64) s.i64 = v.asInt();
      else if ((v.kind() == Value::Kind::F64 || v.kind() == Value::Kind::F32) &&
               v.asDouble() == std::trunc(v.asDouble()) && std::abs(v.asDouble()) < 9.2e18)
        s.i64 = int64_t(v.asDouble());
      else throw bad("an integer");
      return s;
    case ir::Scalar::Bool:
      if (v.kind() != Value::Kind::Bool) throw bad("true or false");
      s.b = v.asBool() ? 1 : 0;
      return s;
  }
  return s;
}

// The tensor as the parameter's dtype (converted when it differs).
Tensor asDType(const Tensor& t, DType want, const std::string& param) {
  if (t.dtype() == want) return t;
  std::vector<double> vals(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    vals[size_t(i)] = t.at(i);
    if (want == DType::I64 && vals[size_t(i)] != std::trunc(vals[size_t(i)]))
      throw InputError("argument '" + param + "' must hold integers (i64), got " + std::to_string(vals[size_t(i)]));
  }
  if ((want == DType::Bool) != (t.dtype() == DType::Bool))
    throw InputError(std::string("argument '") + param + "' must be a " + dtypeName(want) + " array, got " +
                     dtypeName(t.dtype()));
  return Tensor::fromValues(want, t.shape(), vals);
}

struct SizeBinding {
  int64_t size;
  std::string param;
  int axis;
};

void checkShape(const Tensor& t, const TypeInfo& ti, const std::string& param,
                std::map<std::string, SizeBinding>& sizes) {
  if (t.rank() != int(ti.dims.size()))
    throw InputError("argument '" + param + "' must have rank " + std::to_string(ti.dims.size()) + " (" +
                     ti.str() + "), got rank " + std::to_string(t.rank()));
  if (t.rank() > 8) throw InputError("argument '" + param + "': rank above 8 is not supported");
  // A view or adopted buffer may claim any shape: no negative size, and no
  // element count beyond what memory can address (overflow).
  int64_t elems = 1;
  for (int a = 0; a < t.rank(); ++a) {
    int64_t n = t.shape()[size_t(a)];
    if (n < 0)
      throw InputError("argument '" + param + "' axis " + std::to_string(a) + " has negative size " +
                       std::to_string(n));
    if (n != 0 && elems > (int64_t(1) << 60) / n)
      throw InputError("argument '" + param + "' has more elements than memory can hold");
    elems *= n;
  }
  for (int a = 0; a < t.rank(); ++a) {
    const std::string& d = ti.dims[size_t(a)];
    int64_t n = t.shape()[size_t(a)];
    bool literal = !d.empty() && std::isdigit(static_cast<unsigned char>(d[0]));
    if (literal) {
      if (std::to_string(n) != d)
        throw InputError("argument '" + param + "' axis " + std::to_string(a) + " has size " + std::to_string(n) +
                         ", but the type requires " + d);
      continue;
    }
    auto it = sizes.find(d);
    if (it == sizes.end()) {
      sizes[d] = {n, param, a};
    } else if (it->second.size != n) {
      throw InputError("argument '" + param + "' axis " + std::to_string(a) + " has size " + std::to_string(n) +
                       ", but " + d + " = " + std::to_string(it->second.size) + " from '" + it->second.param +
                       "' axis " + std::to_string(it->second.axis));
    }
  }
}

}  // namespace

void packArguments(const CompiledFunction& f, const std::vector<Value>& args, CallFrame& frame) {
  size_t n = args.size();
  frame.scalars.assign(n, Scalar64{});
  frame.arrays.assign(n, ChainArray{});
  frame.argPtrs.assign(n, nullptr);
  frame.converted.reserve(n);
  std::map<std::string, SizeBinding> sizes;
  for (size_t i = 0; i < n; ++i) {
    const ir::Type& t = f.paramIR[i];
    const std::string& name = f.paramNames[i];
    if (t.rank == 0) {
      frame.scalars[i] = packScalar(args[i], t, name);
      frame.argPtrs[i] = &frame.scalars[i];
      continue;
    }
    if (args[i].kind() != Value::Kind::Tensor)
      throw InputError("argument '" + name + "' must be an array (" + f.paramTypes[i].str() + "), got " +
                       args[i].str());
    frame.converted.push_back(asDType(args[i].tensor(), dtypeOf(t.elem), name));
    const Tensor& tensor = frame.converted.back();
    checkShape(tensor, f.paramTypes[i], name, sizes);
    frame.arrays[i].data = const_cast<void*>(tensor.data());
    for (int a = 0; a < tensor.rank(); ++a) frame.arrays[i].shape[a] = tensor.shape()[size_t(a)];
    frame.argPtrs[i] = &frame.arrays[i];
  }
  size_t m = f.flatResults.size();
  frame.resultScalars.assign(m, Scalar64{});
  frame.resultArrays.assign(m, ChainArray{});
  frame.resultPtrs.assign(m, nullptr);
  for (size_t j = 0; j < m; ++j)
    frame.resultPtrs[j] = f.flatResults[j].rank == 0 ? static_cast<void*>(&frame.resultScalars[j])
                                                     : static_cast<void*>(&frame.resultArrays[j]);
}

namespace {
Value rebuild(const TypeInfo& t, const std::vector<Value>& flat, size_t& pos) {
  if (!t.isTuple) return flat.at(pos++);
  std::vector<Value> elems;
  for (auto& e : t.elems) elems.push_back(rebuild(e, flat, pos));
  return Value(std::move(elems));
}
}  // namespace

Value unpackResults(const CompiledFunction& f, CallFrame& frame) {
  std::vector<Value> flat;
  for (size_t j = 0; j < f.flatResults.size(); ++j) {
    const ir::Type& t = f.flatResults[j];
    if (t.rank == 0) {
      const Scalar64& s = frame.resultScalars[j];
      switch (t.elem) {
        case ir::Scalar::F64: flat.emplace_back(s.f64); break;
        case ir::Scalar::F32: flat.emplace_back(s.f32); break;
        case ir::Scalar::I64: flat.emplace_back(s.i64); break;
        case ir::Scalar::Bool: flat.emplace_back(s.b != 0); break;
      }
      continue;
    }
    ChainArray& a = frame.resultArrays[j];
    std::vector<int64_t> shape(a.shape, a.shape + t.rank);
    flat.emplace_back(Tensor::adopt(dtypeOf(t.elem), shape, a.data, chain_rt_free));
    a.data = nullptr;
  }
  return structureResults(f, std::move(flat));
}

Value structureResults(const CompiledFunction& f, std::vector<Value> flat) {
  size_t pos = 0;
  if (flat.size() == 1 && !f.resultType.isTuple) return flat[0];
  return rebuild(f.resultType, flat, pos);
}

}  // namespace chain
