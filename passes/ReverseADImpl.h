// Internal to the reverse-AD pass (ReverseAD.cpp, ReverseADArrays.cpp): the
// emitter that writes the forward and reverse sweeps. See ReverseAD.cpp for
// the design.
#pragma once

#include <cassert>
#include <functional>
#include <map>
#include <vector>

#include "ir/IR.h"
#include "passes/Activity.h"

namespace chain::passes::ad {

using Map = std::map<const ir::Value*, ir::Value*>;

// The primal values of the original IR, as available at the point where code
// is being emitted, plus the trip counts recorded by augmented while loops.
struct Env {
  Map vals;
  std::map<const ir::Operation*, ir::Value*> counts;
  ir::Value* operator[](const ir::Value* v) const {
    auto it = vals.find(v);
    assert(it != vals.end() && "primal value not available");
    return it->second;
  }
};

class Emitter {
 public:
  explicit Emitter(const Activity& act) : act_(act) {}

  // Copies the ops of `src` (not its terminator) into `b`; returns the mapped
  // terminator operands. With `augment`, active loops record their state.
  std::vector<ir::Value*> forward(ir::Builder& b, const ir::Block& src, Env& env, bool augment,
                                  bool prints);
  // Emits the reverse sweep of `src` with primal values `env` and adjoints `adj`.
  void reverse(ir::Builder& b, const ir::Block& src, Env& env, Map& adj);
  // adj[v] += c (elementwise for arrays); ignored when v is not active.
  void addAdj(ir::Builder& b, Map& adj, Env& env, const ir::Value* v, ir::Value* c);
  // adj[a][sel] += c (scatter-add), creating a zero adjoint for a if needed.
  void addAdjAt(ir::Builder& b, Map& adj, Env& env, const ir::Value* a, ir::Value* c,
                const std::vector<ir::Value*>& sel, const std::vector<int64_t>& kinds);

 private:
  void cloneOp(ir::Builder& b, const ir::Operation& op, Env& env, bool prints);
  void forwardFor(ir::Builder& b, const ir::Operation& op, Env& env, bool prints);
  void forwardWhile(ir::Builder& b, const ir::Operation& op, Env& env, bool prints);
  void reverseOp(ir::Builder& b, const ir::Operation& op, Env& env, Map& adj);
  void reverseIf(ir::Builder& b, const ir::Operation& op, Env& env, Map& adj);
  void reverseLoop(ir::Builder& b, const ir::Operation& op, Env& env, Map& adj);
  void reverseMap(ir::Builder& b, const ir::Operation& op, Env& env, Map& adj);   // ReverseADArrays.cpp
  void reverseReduce(ir::Builder& b, const ir::Operation& op, Env& env, Map& adj);  // ReverseADArrays.cpp
  std::vector<const ir::Value*> activeCaptures(const ir::Operation& op) const;
  // Recomputes the region of a map/reduce at index `idx`, seeds its yielded
  // value with `seed(rb, element)`, and reverses it; captured adjoints are
  // accumulated through `accs` (in/out, one per `caps`).
  void reverseRegionAt(ir::Builder& rb, const ir::Block& region, const Env& env,
                       const std::vector<ir::Value*>& idx, const std::vector<const ir::Value*>& caps,
                       std::vector<ir::Value*>& accs,
                       const std::function<ir::Value*(ir::Builder&, ir::Value*)>& seed);

  const Activity& act_;
};

}  // namespace chain::passes::ad
