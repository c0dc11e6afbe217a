// Internal to the reverse-AD pass (ReverseAD.cpp, ReverseADArrays.cpp): the
// emitter that writes the forward and reverse sweeps. See ReverseAD.cpp for
// the design.
#pragma once

#include <cassert>
#include <functional>
#include <map>
#include <set>
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
  // The `tape.push` that the latest forward sweep of a loop op emitted (its
  // carried state; absent when nothing is pushed), pruned by its reverse loop.
  std::map<const ir::Operation*, ir::Operation*> pushes;
  ir::Value* operator[](const ir::Value* v) const {
    auto it = vals.find(v);
    assert(it != vals.end() && "primal value not available");
    return it->second;
  }
};

// Element updates in loops: a carried array that the body changes only by a
// chain of update/add_at ops at its top level (arg -> update -> ... -> yield)
// is not saved whole per iteration. The forward sweep logs each update's
// selection and the values it overwrites; the reverse loop carries the array
// itself, starting from its final value, and undoes one iteration's updates
// (in reverse order) to get the array at that iteration's start. Memory:
// proportional to the number of updates, never to a copy per iteration.
struct UndoPlan {
  std::vector<bool> logged;                   // per carried value (for: k = result k)
  std::set<const ir::Operation*> logOps;      // the update/add_at ops logged
};
UndoPlan planUndo(const ir::Operation& loop);  // a for or while

// Removes the dead ops of a reverse loop's `body`, then the popped values
// nothing live reads from both `pop` (in `body`) and its matching `push`
// (erasing both when no value is left). ReverseADPrune.cpp.
void pruneReverseBody(ir::Block& body, ir::Operation* pop, ir::Operation* push);

class Emitter {
 public:
  explicit Emitter(const Activity& act) : act_(act) {}

  // Copies the ops of `src` (not its terminator) into `b`; returns the mapped
  // terminator operands. With `augment`, active loops record their state.
  // `log`: update/add_at ops of `src` whose overwritten values are pushed
  // on the tape before they run (see UndoPlan).
  std::vector<ir::Value*> forward(ir::Builder& b, const ir::Block& src, Env& env, bool augment,
                                  bool prints, const std::set<const ir::Operation*>* log = nullptr);
  // Emits the reverse sweep of `src` with primal values `env` and adjoints `adj`.
  void reverse(ir::Builder& b, const ir::Block& src, Env& env, Map& adj);
  // adj[v] += c (elementwise for arrays); ignored when v is not active.
  void addAdj(ir::Builder& b, Map& adj, Env& env, const ir::Value* v, ir::Value* c);
  // Accumulator threading: a loop (or if) that adds contributions to the
  // adjoint of a captured value starts from its current adjoint (zero when it
  // has none) and its result replaces it, so no zero array is filled and no
  // array addition is made per reversed region.
  ir::Value* accInit(ir::Builder& b, Map& adj, Env& env, const ir::Value* c);
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
  // Reverse loop body: pops the logged updates of one iteration of `body`
  // and undoes them on the carried arrays `arrays` (one per logged slot).
  void undoIteration(ir::Builder& b, const ir::Block& body, const UndoPlan& plan,
                     std::map<const ir::Value*, ir::Value*>& arrays);
  // Recomputes the region of a map/reduce at index `idx`, seeds its yielded
  // value with `seed(rb, element)`, and reverses it; captured adjoints are
  // accumulated through `accs` (in/out, one per `caps`).
  // `reads` (invariantReads) are accumulated through accs[caps.size() + j].
  // `computed`: the map's primal result, whose element at idx replaces the
  // recomputed yielded value (reverse rules that use an op's result, e.g.
  // tanh's, read it; the recomputation is then dead); null for a reduce.
  void reverseRegionAt(ir::Builder& rb, const ir::Block& region, const Env& env,
                       const std::vector<ir::Value*>& idx, const std::vector<const ir::Value*>& caps,
                       const std::vector<const ir::Operation*>& reads, std::vector<ir::Value*>& accs,
                       const std::function<ir::Value*(ir::Builder&, ir::Value*)>& seed,
                       ir::Value* computed = nullptr);
  std::vector<const ir::Operation*> invariantReads(const ir::Block& region) const;
  // Identity reads (ReverseADArrays.cpp): `a[i0, .., i_{r-1}]` at the top
  // level of a map/reduce region, with the region's own indices in order.
  // Their adjoint is itself elementwise, so it is built as a map (added to
  // da by one elementwise map) instead of a fill + scatter loop. `only`: a
  // has no other use in the region whose adjoint needs the loop nest.
  // Offset reads (ReverseADOffsets.cpp) extend them: every index k is
  // i_k + c_k with c_k an i64 constant (stencils `a[i - 1]`, `a[i, j + 1]`);
  // `offsets[r]` holds read r's c (all zero for an identity read).
  struct IdentityGroup {
    const ir::Value* array;
    std::vector<const ir::Operation*> reads;
    bool only;
    std::vector<std::vector<int64_t>> offsets;
    bool shifted() const;  // some read has a nonzero offset
  };
  std::vector<IdentityGroup> identityReads(const ir::Block& region) const;
  static std::vector<const ir::Value*> resultsOf(const IdentityGroup& g);
  std::set<const ir::Operation*> loopNestCaps(const std::vector<IdentityGroup>& groups,
                                              std::vector<const ir::Value*>& caps) const;
  // adj[g.array] += map(extents) { element(idx) } where `element` recomputes
  // and reverses the region at idx (the reads of `skip` not scattered) and
  // returns the summed adjoint of g's reads; `lo`: the reduce's lower
  // bound (nullptr for a map); `dy`: the map's adjoint (a copy of it is
  // used as is), nullptr for a reduce. Guarded: when a's dims differ from the
  // extents (or lo != 0) the map is scatter-added into the selection.
  using ElementFn = std::function<ir::Value*(ir::Builder&, const std::vector<ir::Value*>& idx)>;
  // `proved`: shapeProved, the map alone (no guard).
  void addIdentity(ir::Builder& b, Map& adj, Env& env, const std::vector<ir::Value*>& extents, ir::Value* lo,
                   const IdentityGroup& g, const ElementFn& element, ir::Value* dy, bool proved);
  // True when the primal's asserts and shapes prove that array `a`, read
  // at the own indices of `loop` (a map or reduce), has the dims `extents`
  // (primal values). ReverseADShapes.cpp.
  static bool shapeProved(const ir::Operation& loop, const ir::Value* a, const std::vector<ir::Value*>& extents);
  // The offsets c of `read` (an index op) when its indices are the args of
  // `region` in order, each plus an optional i64 constant; else false.
  static bool readOffsets(const ir::Operation& read, const ir::Block& region, std::vector<int64_t>& out);
  // A shifted group: adj[g.array] = base + map(dims(a)) { j -> sum over its
  // distinct offsets c of (lo_k <= j_k - c_k < hi_k for all k) ?
  // element(j - c, reads at c) : 0 }. `lo`: per axis, nullptr for 0. The
  // map covers all of a, so no shape guard is needed. `proved`: dims(a) ==
  // hi (shapeProved, lo 0), the map is over hi then (fuses with its users).
  using OffsetElementFn = std::function<ir::Value*(ir::Builder&, const std::vector<ir::Value*>& idx,
                                                   const std::vector<const ir::Value*>& keys)>;
  void addOffsets(ir::Builder& b, Map& adj, Env& env, const std::vector<ir::Value*>& lo,
                  const std::vector<ir::Value*>& hi, const IdentityGroup& g, const OffsetElementFn& element,
                  bool proved);
  ir::Value* identityElement(ir::Builder& rb, const ir::Block& region, const Env& env,
                             const std::vector<ir::Value*>& idx, const std::vector<const ir::Value*>& keys,
                             const std::set<const ir::Operation*>& skip,
                             const std::function<ir::Value*(ir::Builder&, ir::Value*)>& seed,
                             ir::Value* computed = nullptr);  // as reverseRegionAt's
  // The seed of a reduce's element e (a function of e): dy for sum, the
  // softmax weight for logsumexp, the exact product of the others for prod,
  // dy on the first extremal element for max/min (`seen`: the first was
  // seen, carried in order).
  using SeedFn = std::function<ir::Value*(ir::Builder&, ir::Value* e, ir::Value*& seen)>;
  SeedFn seedRule(ir::Builder& b, const ir::Operation& op, Env& env, ir::Value* dy);
  ir::Value* sharedSeeds(ir::Builder& b, const ir::Block& region, const Env& env, ir::Value* lo, ir::Value* n,
                         ir::Type t, const std::function<ir::Value*(ir::Builder&, ir::Value*)>& seed);
  void flushReads(ir::Builder& b, Map& adj, Env& env, const std::vector<const ir::Operation*>& reads,
                  const std::vector<ir::Value*>& totals, ir::Value* ran);

  const Activity& act_;
  // Index ops whose adjoint is being summed in a register (reverseRegionAt):
  // their own reverse (a scatter-add) is skipped.
  std::set<const ir::Operation*> registerReads_;
  // Results of identity reads inside ifs whose adjoints reverseIf yields out
  // of the if (identityElement), as if they were captured values.
  std::set<const ir::Value*> lifted_;
};

}  // namespace chain::passes::ad
