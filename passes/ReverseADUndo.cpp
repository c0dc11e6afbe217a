// The undo log for element updates in reversed loops (see UndoPlan in
// ReverseADImpl.h): which carried arrays qualify, and the reverse loop's
// restoring of one iteration's overwritten values.
#include "passes/Derivatives.h"
#include "passes/ReverseADImpl.h"

namespace chain::passes::ad {

using ir::Block;
using ir::Builder;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

bool isUpdate(const Operation& op) { return op.kind == OpKind::Update || op.kind == OpKind::AddAt; }

// The carried argument at the root of a chain of logged updates ending at `op`.
const Value* chainRoot(const Operation& op) {
  const Value* a = op.operand(0);
  while (a->def && isUpdate(*a->def)) a = a->def->operand(0);
  return a;
}

Type selectionType(const Operation& op) {
  int rank = 0;
  for (int64_t k : op.ints) rank += k != 0;
  return Type{op.operand(0)->type.elem, rank};
}

}  // namespace

UndoPlan planUndo(const Operation& loop) {
  UndoPlan plan;
  plan.logged.assign(loop.results.size(), false);
  const bool isFor = loop.kind == OpKind::For;
  const Block& body = *loop.region(isFor ? 0 : 1);
  const Operation* yield = body.terminator();
  for (size_t k = 0; k < loop.results.size(); ++k) {
    const Value* cur = body.arg(isFor ? k + 1 : k);
    if (cur->type.rank == 0) continue;
    std::vector<const Operation*> chain;
    bool linear = true;
    for (;;) {
      const Operation* next = nullptr;
      int users = 0;
      for (auto& op : body.ops)
        if (isUpdate(*op) && op->operand(0) == cur) {
          next = op.get();
          ++users;
        }
      if (users == 0) break;
      if (users > 1) {
        linear = false;
        break;
      }
      chain.push_back(next);
      cur = next->result();
    }
    if (!linear || yield->operand(k) != cur) continue;
    plan.logged[k] = true;
    plan.logOps.insert(chain.begin(), chain.end());
  }
  return plan;
}

void Emitter::undoIteration(Builder& b, const Block& body, const UndoPlan& plan,
                            std::map<const Value*, Value*>& arrays) {
  for (auto it = body.ops.rbegin(); it != body.ops.rend(); ++it) {
    const Operation& op = **it;
    if (!plan.logOps.count(&op)) continue;
    std::vector<Type> types(op.operands.size() - 2, Type::i64());
    types.push_back(selectionType(op));
    b.setLoc(op.loc);
    Operation* pop = b.create(OpKind::TapePop, {}, types);
    const Value* root = chainRoot(op);
    std::vector<Value*> ops{arrays.at(root), pop->results.back().get()};
    for (size_t k = 0; k + 1 < pop->results.size(); ++k) ops.push_back(pop->result(k));
    Operation* restore = b.create(OpKind::Update, ops, {root->type});
    restore->ints = op.ints;
    arrays[root] = restore->result();
  }
}

}  // namespace chain::passes::ad
