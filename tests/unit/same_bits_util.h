// Shared by the parallel and TSan tests: a chain::Value flattened to its
// doubles, and whether two such lists are the same bits (NaNs included), not
// merely equal values (results must not depend on the thread count).
#pragma once

#include <cstring>
#include <vector>

#include "chain/chain.h"
#include "tests/random/Differential.h"

namespace samebits {

inline std::vector<double> flat(const chain::Value& v) {
  std::vector<double> out;
  chain::testgen::detail::flatten(v, out);
  return out;
}

inline bool sameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace samebits
