// libmvec hookup for the loop vectoriser (see VectorMath.h). Accuracy: glibc
// documents its vector math functions to within 4 ulp (the scalar ones are
// within 1-2 ulp), so a vectorised loop may differ from the interpreter or a
// scalar remainder iteration in the last bits; SPEC §4 promises IEEE 754 only
// for the basic operations, which stay exact.
#include "runtime/codegen/VectorMath.h"

#include <llvm/Support/DynamicLibrary.h>

#include <mutex>
#include <string>

namespace chain::codegen {

const char* vectorMathLibrary() {
  static const char* name = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string err;
    if (std::getenv("CHAIN_NO_VECTOR_MATH")) return;
    if (llvm::sys::DynamicLibrary::getPermanentLibrary("libmvec.so.1", &err).isValid()) name = "libmvec.so.1";
  });
  return name;
}

void addVectorMath(llvm::TargetLibraryInfoImpl& tli, const llvm::Triple& triple) {
  if (!vectorMathLibrary() || triple.getArch() != llvm::Triple::x86_64) return;
  tli.addVectorizableFunctionsFromVecLib(llvm::TargetLibraryInfoImpl::LIBMVEC_X86, triple);
  // glibc 2.35 added these; LLVM 19's preset does not list them
  auto four = llvm::ElementCount::getFixed(4);
  auto eight = llvm::ElementCount::getFixed(8);
  static const llvm::VecDesc extra[] = {
      {"tanh", "_ZGVdN4v_tanh", four, false, "_ZGV_LLVM_N4v"},
      {"log1p", "_ZGVdN4v_log1p", four, false, "_ZGV_LLVM_N4v"},
      {"expm1", "_ZGVdN4v_expm1", four, false, "_ZGV_LLVM_N4v"},
      {"atan2", "_ZGVdN4vv_atan2", four, false, "_ZGV_LLVM_N4vv"},
      {"tanhf", "_ZGVdN8v_tanhf", eight, false, "_ZGV_LLVM_N8v"},
      {"log1pf", "_ZGVdN8v_log1pf", eight, false, "_ZGV_LLVM_N8v"},
      {"expm1f", "_ZGVdN8v_expm1f", eight, false, "_ZGV_LLVM_N8v"},
      {"atan2f", "_ZGVdN8vv_atan2f", eight, false, "_ZGV_LLVM_N8vv"},
  };
  tli.addVectorizableFunctions(extra);
}

}  // namespace chain::codegen
