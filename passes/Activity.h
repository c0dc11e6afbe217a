// Activity analysis for reverse AD: which values carry derivative
// information. A value is *varied* when it depends (through float data flow)
// on a parameter we differentiate with respect to, and *useful* when the
// function's result depends on it. Only values that are both (active) get
// adjoints; loops are recorded on the tape only when a result is active.
#pragma once

#include <set>
#include <vector>

#include "ir/IR.h"

namespace chain::passes {

class Activity {
 public:
  // `wrt`: indices of the parameters differentiated; `result`: index of the
  // returned value that is differentiated. `tapeVaried`: every float value
  // popped from the tape is varied (forward mode over a gradient pushes a
  // tangent with every float it pushes, see ForwardAD.cpp).
  Activity(const ir::Function& f, const std::vector<int>& wrt, int result = 0, bool tapeVaried = false);

  bool varied(const ir::Value* v) const { return varied_.count(v) != 0; }
  bool useful(const ir::Value* v) const { return useful_.count(v) != 0; }
  bool active(const ir::Value* v) const {
    return v->type.isFloat() && varied(v) && useful(v);
  }
  // True when any result of `op` is active.
  bool activeOp(const ir::Operation& op) const;

 private:
  bool propagateVaried(const ir::Block& b);
  bool propagateUseful(const ir::Block& b);
  std::set<const ir::Value*> varied_, useful_;
  bool tapeVaried_ = false;
};

// Values used inside `region` (at any depth) but defined outside it.
std::vector<const ir::Value*> capturedValues(const ir::Block& region);

}  // namespace chain::passes
