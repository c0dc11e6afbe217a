// Buffer planning for array code generation: which `update` / `add_at` may
// write into their array operand's buffer in place, which loop inits must be
// copied before a `for` / `while` starts, and which loop-body yields must be
// copied before the back edge.
//
// Model. Every array value refers to a buffer. Values that may share one are
// put in one class (union-find): select / stop_gradient results with their
// array operands, `if` results with the values their branches yield, and an
// in-place update result with its operand. Function parameters and `while`
// condition arguments are read-only classes. Loop-carried arrays keep an
// invariant: on entry to every iteration each body argument owns its buffer
// alone (so do the loop's results) -- the plan copies an init that is still
// needed after the loop (or read inside it, or read-only), and a yielded value
// whose class reaches outside the loop body or repeats in another slot.
// An update is in place when its class is writable, its value operand is not
// in the class, and no member of the class is live after it (used later in
// program order, yielded, or -- when defined outside an enclosing loop, map or
// reduce -- used anywhere inside that repeating region).
#pragma once

#include <cstddef>
#include <set>
#include <utility>

#include "ir/IR.h"

namespace chain::codegen::detail {

class BufferPlan {
 public:
  explicit BufferPlan(const ir::Function& f);
  // Update / AddAt: write into operand 0's buffer.
  bool inPlace(const ir::Operation& op) const { return inPlace_.count(&op) != 0; }
  // For / While: operand k (an array init) must be copied before the loop.
  bool copyInit(const ir::Operation& loop, size_t k) const {
    return copyInit_.count({&loop, k}) != 0;
  }
  // The yield ending a loop body: operand k must be copied before the back edge.
  bool copyYield(const ir::Operation& yield, size_t k) const {
    return copyYield_.count({&yield, k}) != 0;
  }

 private:
  friend class BufferPlanner;
  std::set<const ir::Operation*> inPlace_;
  std::set<std::pair<const ir::Operation*, size_t>> copyInit_;
  std::set<std::pair<const ir::Operation*, size_t>> copyYield_;
};

}  // namespace chain::codegen::detail
