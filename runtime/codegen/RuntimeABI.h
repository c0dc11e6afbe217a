// The binary interface between JIT-compiled code and the runtime lives in the
// LLVM-free library chain_rt now: runtime/rt/ChainRT.h. This header is kept
// so that code including it by its old name still builds.
#pragma once

#include "runtime/rt/ChainRT.h"
