// Per-stage compile-time accounting (see StageTimer.h): a thread-local list
// of (stage, milliseconds) and the stage currently being charged.
#include "ir/StageTimer.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

namespace chain::ir {

namespace {

// The calling thread's CPU time: under load (the bench machine often has more
// runnable processes than cores) wall time mostly measures the scheduler.
struct Clock {
  using time_point = std::chrono::nanoseconds;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }
};

struct ThreadTimes {
  std::vector<std::pair<const char*, double>> totals;  // first-use order
  const char* current = nullptr;
  Clock::time_point since;
};

thread_local ThreadTimes tls;

void charge(const char* stage, Clock::time_point now) {
  if (!stage) return;
  double ms = std::chrono::duration<double, std::milli>(now - tls.since).count();
  for (auto& t : tls.totals)
    if (std::strcmp(t.first, stage) == 0) {
      t.second += ms;
      return;
    }
  tls.totals.emplace_back(stage, ms);
}

}  // namespace

bool stageTimingEnabled() {
  static const bool on = [] {
    const char* v = std::getenv("CHAIN_TIME_PASSES");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

StageScope::StageScope(const char* stage) {
  if (!stageTimingEnabled()) return;
  active_ = true;
  stage_ = stage;
  Clock::time_point now = Clock::now();
  charge(tls.current, now);
  parent_ = tls.current;
  tls.current = stage;
  tls.since = now;
}

StageScope::~StageScope() {
  if (!active_) return;
  Clock::time_point now = Clock::now();
  charge(stage_, now);
  tls.current = parent_;
  tls.since = now;
}

std::string takeStageReport() {
  std::string s;
  double total = 0;
  char buf[96];
  for (auto& t : tls.totals) {
    std::snprintf(buf, sizeof buf, "%s=%.2f ", t.first, t.second);
    s += buf;
    total += t.second;
  }
  tls.totals.clear();
  if (s.empty()) return s;
  std::snprintf(buf, sizeof buf, "total=%.2f", total);
  return s + buf;
}

void printStageReport(const std::string& what) {
  if (!stageTimingEnabled()) return;
  std::string r = takeStageReport();
  if (r.empty()) return;
  std::fprintf(stderr, "chain: time %s: %s\n", what.c_str(), r.c_str());
}

}  // namespace chain::ir
