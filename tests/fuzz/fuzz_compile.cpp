// libFuzzer target: the whole compile pipeline through the public API. Every
// function of a program that compiles is JIT-compiled (primal), and every
// function with a float parameter also differentiated (reverse AD, simplify,
// LLVM codegen). Functions whose parameters are all scalars are then called
// with fixed arguments, but only for programs without loops or array
// constructors (`for`, `while`, `..`, zeros/ones/fill), whose run time is
// bounded by their length: the fuzzer must not report slow *programs*, only
// a slow or crashing *compiler*. Errors the API reports (CompileError,
// RuntimeError, ...) are fine; crashes, sanitizer reports and asserts are not.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "chain/chain.h"

namespace {

bool mayRun(const std::string& src) {
  for (const char* w : {"for", "while", "..", "zeros", "ones", "fill"})
    if (src.find(w) != std::string::npos) return false;
  return true;
}

std::vector<chain::Value> scalarArgs(const chain::Function& f, bool& ok) {
  std::vector<chain::Value> args;
  ok = true;
  for (const chain::TypeInfo& t : f.paramTypes()) {
    if (t.isTuple || !t.dims.empty()) ok = false;
    else if (t.dtype == chain::DType::F64) args.push_back(chain::Value(0.75));
    else if (t.dtype == chain::DType::F32) args.push_back(chain::Value(0.75f));
    else if (t.dtype == chain::DType::I64) args.push_back(chain::Value(int64_t(3)));
    else args.push_back(chain::Value(true));
  }
  return args;
}

void exercise(const chain::Module& m, bool run) {
  for (const std::string& name : m.functionNames()) {
    try {
      chain::Function f = m.function(name);
      bool scalar = false;
      std::vector<chain::Value> args = scalarArgs(f, scalar);
      if (run && scalar) f(args);
      chain::Function g = m.gradient(name, {}, true);
      if (run && scalar) g(args);
    } catch (const std::exception&) {
      // not differentiable, runtime error, ...: reported, not a crash
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  chain::Function::setPrintStream(std::fopen("/dev/null", "w"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string src(reinterpret_cast<const char*>(data), size);
  chain::Module m;
  try {
    chain::Options o;
    o.cache = false;  // every input is new: the disk cache would only fill up
    m = chain::Jit(o).compile_string(src, "fuzz.chain");
  } catch (const chain::CompileError&) {
    return 0;
  }
  exercise(m, mayRun(src));
  return 0;
}
