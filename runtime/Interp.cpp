// The interpreter backend of the public API (Options::backend ==
// Backend::Interpreter, Function::interpret): runs a function's call-free IR
// with the reference interpreter (ir/Interpreter.h) instead of native code.
// Arguments go through the same checks as a JIT call (packArguments), then
// become interpreter values; results come back as the same Value kinds a JIT
// call returns. Errors are mapped to the JIT's classes and message format:
// an interpreter error "LINE:COL: msg" becomes RuntimeError("file:LINE:COL:
// msg") with its rendered diagnostic (runtimeError), exhausted memory
// RuntimeError("out of memory: ..."). print() output
// is collected and written to the print stream, also when the call fails
// (the JIT prints as it runs, so the same lines appear in the same order).
#include <cstring>
#include <new>
#include <stdexcept>

#include "ir/Interpreter.h"
#include "runtime/ApiImpl.h"

namespace chain {

namespace {

int64_t elementCount(const ir::Type& t, const ChainArray& a) {
  int64_t n = 1;
  for (int k = 0; k < t.rank; ++k) n *= a.shape[k];
  return n;
}

// One checked argument (from the frame packArguments filled) as an RtValue.
ir::RtValue toRt(const ir::Type& t, const CallFrame& frame, size_t i) {
  if (t.rank == 0) {
    const Scalar64& s = frame.scalars[i];
    switch (t.elem) {
      case ir::Scalar::F64: return ir::RtValue::f64(s.f64);
      case ir::Scalar::F32: return ir::RtValue::f32(s.f32);
      case ir::Scalar::I64: return ir::RtValue::i64(s.i64);
      case ir::Scalar::Bool: return ir::RtValue::boolean(s.b != 0);
    }
  }
  const ChainArray& a = frame.arrays[i];
  std::vector<int64_t> shape(a.shape, a.shape + t.rank);
  ir::RtValue r = ir::RtValue::array(t.elem, shape);
  int64_t n = elementCount(t, a);
  for (int64_t k = 0; k < n; ++k) {
    switch (t.elem) {
      case ir::Scalar::F64: (*r.fdata)[size_t(k)] = static_cast<const double*>(a.data)[k]; break;
      case ir::Scalar::F32: (*r.fdata)[size_t(k)] = static_cast<const float*>(a.data)[k]; break;
      case ir::Scalar::I64: (*r.idata)[size_t(k)] = static_cast<const int64_t*>(a.data)[k]; break;
      case ir::Scalar::Bool: (*r.idata)[size_t(k)] = static_cast<const uint8_t*>(a.data)[k] != 0; break;
    }
  }
  return r;
}

// One interpreter result as the Value a JIT call returns for type `t`.
Value fromRt(const ir::Type& t, const ir::RtValue& v) {
  if (t.rank == 0) {
    switch (t.elem) {
      case ir::Scalar::F64: return Value(v.f);
      case ir::Scalar::F32: return Value(static_cast<float>(v.f));
      case ir::Scalar::I64: return Value(v.i);
      case ir::Scalar::Bool: return Value(v.i != 0);
    }
  }
  Tensor out(dtypeOf(t.elem), v.shape);
  int64_t n = out.numel();
  for (int64_t k = 0; k < n; ++k) {
    switch (t.elem) {
      case ir::Scalar::F64: out.data<double>()[k] = (*v.fdata)[size_t(k)]; break;
      case ir::Scalar::F32: out.data<float>()[k] = static_cast<float>((*v.fdata)[size_t(k)]); break;
      case ir::Scalar::I64: out.data<int64_t>()[k] = (*v.idata)[size_t(k)]; break;
      case ir::Scalar::Bool: out.data<uint8_t>()[k] = (*v.idata)[size_t(k)] != 0; break;
    }
  }
  return Value(std::move(out));
}

void flushPrints(const std::string& text, FILE* stream) {
  if (!text.empty()) std::fwrite(text.data(), 1, text.size(), stream ? stream : stdout);
}

}  // namespace

Value interpretCall(const CompiledModule& m, const CompiledFunction& f, const std::vector<Value>& args,
                    FILE* printStream) {
  if (!f.irFn) throw UsageError("function '" + f.name + "' has no IR to interpret");
  if (args.size() != f.paramIR.size())
    throw InputError("function '" + f.name + "' takes " + std::to_string(f.paramIR.size()) +
                     " argument(s), got " + std::to_string(args.size()));
  CallFrame frame;
  packArguments(f, args, frame);
  std::string prints;
  try {
    std::vector<ir::RtValue> rtArgs;
    for (size_t i = 0; i < f.paramIR.size(); ++i) rtArgs.push_back(toRt(f.paramIR[i], frame, i));
    std::vector<ir::RtValue> results = ir::interpret(*f.irModule, *f.irFn, rtArgs, &prints);
    flushPrints(prints, printStream);
    prints.clear();
    std::vector<Value> flat;
    for (size_t j = 0; j < f.flatResults.size(); ++j) flat.push_back(fromRt(f.flatResults[j], results.at(j)));
    return structureResults(f, std::move(flat));
  } catch (const ir::InterpError& e) {
    flushPrints(prints, printStream);
    throw runtimeError(m, f.irModule->fileName + ":" + e.what());
  } catch (const std::bad_alloc&) {
    flushPrints(prints, printStream);
    throw RuntimeError("out of memory: the interpreter cannot allocate its values");
  } catch (const std::length_error&) {
    flushPrints(prints, printStream);
    throw RuntimeError("out of memory: the interpreter cannot allocate its values");
  }
}

}  // namespace chain
