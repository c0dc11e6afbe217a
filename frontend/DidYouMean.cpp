// Did-you-mean suggestions. The distance is LLVM's StringRef::edit_distance
// (insertions, deletions and replacements; the one clang's typo correction
// uses), with the limit passed in, so that a comparison stops as soon as it
// must exceed it (at once when the lengths differ by more).
#include "frontend/DidYouMean.h"

#include <llvm/ADT/StringRef.h>

namespace chain::frontend {

std::string didYouMean(const std::string& name, const std::vector<std::string>& candidates) {
  constexpr size_t kMinLength = 3;
  if (name.size() < kMinLength) return "";
  unsigned maxDistance = unsigned(name.size() / 3);
  const std::string* best = nullptr;
  unsigned bestDistance = maxDistance + 1;
  for (const std::string& c : candidates) {
    if (c == name) continue;
    unsigned d = llvm::StringRef(name).edit_distance(c, /*AllowReplacements=*/true, maxDistance);
    if (d < bestDistance) best = &c, bestDistance = d;
  }
  return best ? "; did you mean '" + *best + "'?" : "";
}

}  // namespace chain::frontend
