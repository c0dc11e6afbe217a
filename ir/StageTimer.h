// Per-stage compile-time accounting for CHAIN_TIME_PASSES=1: a StageScope
// charges the CPU time of the calling thread spent inside it to a named stage of the current
// thread (a nested scope pauses its parent, so every millisecond is counted
// once, in the innermost stage); takeStageReport() returns the totals since
// the last report as one line and resets them. When the variable is unset,
// scopes cost one branch.
#pragma once

#include <string>

namespace chain::ir {

// Whether CHAIN_TIME_PASSES is set to a non-empty value other than "0".
bool stageTimingEnabled();

class StageScope {
 public:
  explicit StageScope(const char* stage);
  ~StageScope();
  StageScope(const StageScope&) = delete;
  StageScope& operator=(const StageScope&) = delete;

 private:
  const char* stage_ = nullptr;
  const char* parent_ = nullptr;
  bool active_ = false;
};

// "stage=1.23 stage2=4.56 ... total=5.79" (ms, in first-use order) since the
// last call, then cleared. Empty when timing is disabled or nothing ran.
std::string takeStageReport();

// Prints "chain: time <what>: <report>" to stderr when timing is enabled
// and something was recorded.
void printStageReport(const std::string& what);

}  // namespace chain::ir
