// Internal to the simplify pass: the Simplifier, which rebuilds a function
// body op by op through a value map. Simplify.cpp holds the scalar and
// control-flow part (folding, CSE, if/for/while), SimplifyArrays.cpp the
// array folds and map fusion (index(map) -> the map body at the index),
// SimplifyFacts.cpp what holds beyond one op (asserted size equalities,
// loop-carried shapes, folds that need the enclosing loop).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "ir/IR.h"
#include "passes/SimplifyFold.h"

namespace chain::passes::simp {

// What makes two pure ops equal: kind, attributes, operands, result types.
using CseKey = std::tuple<ir::OpKind, uint64_t, int64_t, std::string, std::vector<int64_t>,
                          std::vector<const ir::Value*>, std::vector<int>>;
using Uses = std::unordered_map<const ir::Value*, int>;

CseKey makeKey(const ir::Operation& op, const std::vector<ir::Value*>& operands);
// Use counts of every value of a block (at any depth).
void countAllUses(const ir::Block& b, Uses& u);

// True when `v` is defined inside one of `op`'s regions (at any depth).
inline bool definedIn(const ir::Value* v, const ir::Operation* op) {
  const ir::Block* b = v->def ? v->def->parent : v->owner;
  while (b) {
    if (b->parentOp == op) return true;
    b = b->parentOp ? b->parentOp->parent : nullptr;
  }
  return false;
}

class Simplifier {
 public:
  // `uses`: use counts of the source function (for the fusion heuristics).
  // `forAD`: the function is reverse AD's input (ir::Function::forDifferentiation).
  Simplifier(const Uses& uses, bool forAD) : uses_(uses), forAD_(forAD) {}
  // Emits every op of `src` (terminator included) at the end of `b`'s block.
  void emitBlock(ir::Builder& b, const ir::Block& src) {
    for (auto& op : src.ops) emitOp(b, *op);
  }
  // Number of array folds/fusions done (another round may find more).
  int arrayChanges() const { return arrayChanges_; }

 private:
  ir::Value* m(ir::Value* v) const {
    auto it = map_.find(v);
    return canon(it == map_.end() ? v : it->second);
  }
  // Asserted i64 equalities (SimplifyFacts.cpp): after `assert a == b`, the
  // rest of the block (and the regions in it) reads one representative of
  // {a, b} (a constant if there is one), so shape checks and broadcast
  // selects over equal sizes fold. Scoped like the CSE table.
  ir::Value* canon(ir::Value* v) const;
  void learnAssert(ir::Value* cond);
  // Peephole folds that need context (SimplifyFacts.cpp): max(n, c <= 0)
  // with n >= 0 is n, and select(eq(N, 1), 0, i) is i when i is the index
  // of an enclosing loop over 0..N (when N is 1, i is 0). Null when none applies.
  ir::Value* foldContext(const ir::Operation& op, const std::vector<ir::Value*>& o) const;
  // The carried values of a source `for` whose shape the body never changes
  // (it yields the argument through update/add_at and such loops): per
  // result, true when invariant. SimplifyFacts.cpp.
  static std::vector<bool> shapeInvariantSlots(const ir::Operation& loop);
  // The induction step of the carried-shape rule: with the body emitted
  // assuming every `assumed` slot r has the dims of its init (inits[2 + r]),
  // true when each such yield has them. Otherwise clears the slots whose
  // yield does not (and their `shapes` entry) and returns false: the body
  // must be emitted again under the weaker assumption.
  bool carriedShapesHold(const ir::Block& body, const std::vector<ir::Value*>& inits, std::vector<bool>& assumed,
                         std::map<size_t, ir::Value*>& shapes) const;
  // The dims of new value `v` as values, when its producers say (map, fill,
  // update/add_at chains, sameShape_); empty when unknown.
  std::vector<ir::Value*> dimsOf(ir::Value* v) const;
  std::vector<ir::Value*> mapAll(const std::vector<ir::Value*>& vs) const {
    std::vector<ir::Value*> out;
    for (ir::Value* v : vs) out.push_back(m(v));
    return out;
  }

  void emitOp(ir::Builder& b, const ir::Operation& op);
  // Emits a region-less pure op with the given (new) operands: folded, found
  // by CSE or created. Returns its result values.
  std::vector<ir::Value*> emitPure(ir::Builder& b, const ir::Operation& op,
                                   const std::vector<ir::Value*>& operands);
  ir::Value* constant(ir::Builder& b, const fold::Result& r, ir::SrcLoc loc);
  ir::Operation* lookup(const CseKey& key) const;
  ir::Operation* shell(ir::Builder& b, const ir::Operation& op, std::vector<ir::Value*> operands);
  // `sameShape`: argument index -> a value of the same shape (sameShape_).
  ir::Block* emitRegion(ir::Operation* n, const ir::Block& src,
                        const std::map<size_t, ir::Value*>& subst = {},
                        const std::map<size_t, ir::Value*>& sameShape = {});
  std::vector<ir::Value*> emitInline(ir::Builder& b, const ir::Block& src);
  ir::Value* foldSelectSum(ir::Builder& b, const ir::Operation& op, const std::vector<ir::Value*>& operands);
  void emitIf(ir::Builder& b, const ir::Operation& op);
  void emitFor(ir::Builder& b, const ir::Operation& op);
  void emitWhile(ir::Builder& b, const ir::Operation& op);

  // SimplifyArrays.cpp
  void emitMapReduce(ir::Builder& b, const ir::Operation& op);
  // A fold of dim/index/slice/transpose; null when nothing applies.
  ir::Value* foldArray(ir::Builder& b, const ir::Operation& op, const std::vector<ir::Value*>& o);
  ir::Value* foldDim(ir::Builder& b, const ir::Operation& op, ir::Value* a, int64_t axis);
  ir::Value* foldIndex(ir::Builder& b, const ir::Operation& op, const std::vector<ir::Value*>& o);
  ir::Value* fuseMap(ir::Builder& b, const ir::Operation& op, ir::Operation* mapOp,
                     const std::vector<ir::Value*>& idx);
  ir::Value* indexOfSlice(ir::Builder& b, const ir::Operation& op, ir::Operation* slice,
                          const std::vector<ir::Value*>& idx);
  bool mayFuse(ir::Builder& b, ir::Operation* mapOp, const std::vector<ir::Value*>& idx) const;
  bool sameDepth(ir::Builder& b, ir::Operation* mapOp, const std::vector<ir::Value*>& idx) const;
  bool knownInRange(ir::Builder& b, ir::Value* idx, ir::Value* extent) const;
  void boundsAssert(ir::Builder& b, const ir::Operation& op, ir::Value* idx, ir::Value* extent,
                    size_t axis);
  void rangeAssert(ir::Builder& b, const ir::Operation& slice, size_t ax, ir::Value* lo, ir::Value* hi);
  // assert(ok) with `msg` and `values` at `loc`, unless ok is a constant true
  // or the same assert was emitted in this scope or an enclosing one.
  void emitAssert(ir::Builder& b, ir::SrcLoc loc, ir::Value* ok, std::vector<ir::Value*> values,
                  const std::string& msg);
  void sizeAsserts(ir::Builder& b, const ir::Operation& op, const std::vector<ir::Value*>& sizes);
  // Helpers that create (and fold) one new op at the builder.
  ir::Value* make(ir::Builder& b, ir::OpKind k, std::vector<ir::Value*> operands, ir::Type t,
                  ir::SrcLoc loc, int64_t attrI = 0);

  // Drops origin_ entries of the ops nested in `op` (before it is destroyed).
  void forget(const ir::Operation& op);

  const Uses& uses_;
  const ir::Operation* directIndex_ = nullptr;  // the source index op being emitted
  std::map<const ir::Value*, ir::Value*> map_;
  std::vector<std::map<CseKey, ir::Operation*>> scopes_{1};
  std::vector<std::map<ir::Value*, ir::Value*>> eqScopes_{1};  // union-find links per scope
  // Loop arguments/results with the shape of another value (their init):
  // dim folds to the dim of that value.
  std::map<const ir::Value*, ir::Value*> sameShape_;
  std::map<const ir::Operation*, const ir::Operation*> origin_;  // new map op -> source map op
  int arrayChanges_ = 0;
  bool forAD_ = false;
};

}  // namespace chain::passes::simp
