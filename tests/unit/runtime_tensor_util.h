// Tensors for the runtime tests: seeded random arrays.
#pragma once

#include <chain/chain.h>

#include <random>
#include <vector>

namespace chain_test {

// An f64 tensor of `shape` with elements uniform in [lo, hi) from rng.
inline chain::Tensor randomTensor(std::vector<int64_t> shape, std::mt19937& rng, double lo = -1, double hi = 1) {
  chain::Tensor t(chain::DType::F64, shape);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = u(rng);
  return t;
}

}  // namespace chain_test
