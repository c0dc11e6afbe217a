// The pass registry: the function-level IR passes in pipeline order. Each
// entry runs its pass and, in builds with CHAIN_VERIFY_EACH_PASS, verifies
// the function afterwards (an invalid result is an internal compiler error).
#include "ir/Verifier.h"
#include "passes/Hoist.h"
#include "passes/Inline.h"
#include "passes/Passes.h"
#include "passes/Simplify.h"
#include "passes/StoreReduce.h"
#include "passes/Tabulate.h"

namespace chain::passes {

namespace {

template <PassFn Pass>
void checked(ir::Module& m, ir::Function& f, const char* name) {
  Pass(m, f);
#ifdef CHAIN_VERIFY_EACH_PASS
  ir::verifyOrDie(f, name, &m);
#else
  (void)name;
#endif
}

void runInline(ir::Module& m, ir::Function& f) { checked<inlineCalls>(m, f, "inline"); }
void runSimplify(ir::Module& m, ir::Function& f) { checked<simplify>(m, f, "simplify"); }
void runHoist(ir::Module& m, ir::Function& f) { checked<hoistInvariants>(m, f, "hoist"); }
void runTabulate(ir::Module& m, ir::Function& f) { checked<tabulateInvariants>(m, f, "tabulate"); }
void runStore(ir::Module& m, ir::Function& f) { checked<storeReduceBodies>(m, f, "store"); }

}  // namespace

const std::vector<PassInfo>& registry() {
  static const std::vector<PassInfo> passes = {
      {"inline", "replace every call by a copy of the callee's body", runInline},
      {"simplify", "fold constants and exact identities, CSE, remove dead code", runSimplify},
      // After the simplify fixpoint, not inside it: fusion decides on the
      // loop structure as written (a map hoisted first would look shallower
      // than its reads), and the gradient, built from the hoisted primal,
      // runs simplify and hoist again.
      {"hoist", "move loop-invariant pure ops out of loops, maps and reduces", runHoist},
      // After hoist: what is left in a loop and costly depends on the loop's
      // own nest, and becomes a table indexed by the inner loops' indices.
      {"tabulate", "compute costly values of inner loop indices once, as small arrays before the loop",
       runTabulate},
      {"store", "before reverse AD: keep the elements of a logsumexp that cost a loop each in an array",
       runStore},
  };
  return passes;
}

const PassInfo* findPass(const std::string& name) {
  for (const PassInfo& p : registry())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace chain::passes
