// Helpers of the derivative tests (runtime_reverse_over_grad.cpp,
// runtime_jacobian_modes.cpp): a Value's numbers in order, and the fastest
// of repeated calls (cost tests compare ratios of such times).
#pragma once

#include <chain/chain.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace chain_test {

// A scalar as one number, a tensor's elements in C order.
inline std::vector<double> flat(const chain::Value& v) {
  if (v.kind() != chain::Value::Kind::Tensor) return {v.asDouble()};
  std::vector<double> out;
  for (int64_t i = 0; i < v.tensor().numel(); ++i) out.push_back(v.tensor().at(i));
  return out;
}

// Microseconds of the fastest of `reps` calls.
inline double bestUs(const chain::Function& fn, const std::vector<chain::Value>& args, int reps) {
  double best = 1e300;
  for (int k = 0; k < reps; ++k) {
    auto t0 = std::chrono::steady_clock::now();
    chain::Value v = fn(args);
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return best;
}

}  // namespace chain_test
