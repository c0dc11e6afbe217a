// Vector versions of the math functions, from glibc's libmvec: when the
// library is present, LLVM's loop vectoriser may turn a loop of exp / log /
// tanh / ... calls into calls of their 4-lane (f64) or 8-lane (f32) AVX2
// versions (_ZGVdN4v_exp, ...). Without it every element calls scalar libm.
#pragma once

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/TargetParser/Triple.h>

namespace chain::codegen {

// The file name of the vector math library when it loaded in this process
// (once, on the first call), else null: code that calls its functions must
// then not be generated.
const char* vectorMathLibrary();

// Adds the scalar -> vector mappings of libmvec to `tli` when the library
// loaded and `triple` is x86-64 (LLVM's own list for exp, log, pow, sin, cos,
// tan, plus tanh, log1p, expm1 and atan2, which glibc >= 2.35 provides).
void addVectorMath(llvm::TargetLibraryInfoImpl& tli, const llvm::Triple& triple);

}  // namespace chain::codegen
