// The inline pass. The function body is rebuilt op by op through a value
// map; a `call` is replaced by the callee's body (itself inlined on the fly)
// with the parameters mapped to the call operands, and the call's results
// mapped to the values the callee returns.
#include "passes/Inline.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <string>
#include <vector>

namespace chain::passes {

namespace {

using ir::Block;
using ir::Builder;
using ir::Operation;
using ir::OpKind;
using ir::Value;
using ValueMap = std::map<const Value*, Value*>;

Value* mapped(Value* v, const ValueMap& map) {
  auto it = map.find(v);
  return it == map.end() ? v : it->second;
}

class Inliner {
 public:
  Inliner(const ir::Module& m, const std::string& root) : m_(m), stack_{root} {}

  // Emits the ops of `src` (including its terminator) at the end of `b`'s block.
  void emitBlock(Builder& b, const Block& src, ValueMap& map) {
    for (auto& op : src.ops) emitOp(b, *op, map);
  }

  // Emits the ops of a callee body except its `return`; returns the mapped
  // returned values.
  std::vector<Value*> emitCallee(Builder& b, const ir::Function& callee,
                                 const std::vector<Value*>& args) {
    assert(std::find(stack_.begin(), stack_.end(), callee.name) == stack_.end() &&
           "recursive call cycle reached the inliner");
    assert(args.size() == callee.numParams() && "call arity does not match the callee");
    stack_.push_back(callee.name);
    ValueMap map;
    for (size_t i = 0; i < args.size(); ++i) map[callee.param(i)] = args[i];
    std::vector<Value*> out;
    for (auto& op : callee.body.ops) {
      if (op->kind == OpKind::Return) {
        for (Value* v : op->operands) out.push_back(mapped(v, map));
        break;
      }
      emitOp(b, *op, map);
    }
    stack_.pop_back();
    return out;
  }

 private:
  void emitOp(Builder& b, const Operation& op, ValueMap& map) {
    if (op.kind == OpKind::Call) {
      const ir::Function* callee = m_.lookup(op.s);
      assert(callee && "call of an unknown function");
      std::vector<Value*> args;
      for (Value* v : op.operands) args.push_back(mapped(v, map));
      std::vector<Value*> rets = emitCallee(b, *callee, args);
      assert(rets.size() == op.results.size() && "callee returns a different number of values");
      for (size_t r = 0; r < op.results.size(); ++r) map[op.result(r)] = rets[r];
      return;
    }
    if (op.regions.empty()) {
      b.clone(op, map);
      return;
    }
    // Region op: clone the shell, then emit each region (which may hold calls).
    std::vector<Value*> operands;
    for (Value* v : op.operands) operands.push_back(mapped(v, map));
    std::vector<ir::Type> types;
    for (auto& r : op.results) types.push_back(r->type);
    ir::SrcLoc saved = b.loc();
    b.setLoc(op.loc);
    Operation* n = b.create(op.kind, operands, types, 0);
    b.setLoc(saved);
    n->f = op.f;
    n->i = op.i;
    n->s = op.s;
    n->ints = op.ints;
    for (auto& region : op.regions) {
      Block* nb = n->addRegion();
      for (auto& a : region->args) map[a.get()] = nb->addArg(a->type, a->name);
      Builder inner(nb);
      emitBlock(inner, *region, map);
    }
    for (size_t r = 0; r < op.results.size(); ++r) {
      n->results[r]->name = op.results[r]->name;
      map[op.result(r)] = n->result(r);
    }
  }

  const ir::Module& m_;
  std::vector<std::string> stack_;
};

}  // namespace

void inlineCalls(ir::Module& m, ir::Function& f) {
  Inliner inl(m, f.name);
  Block fresh;
  Builder b(&fresh);
  ValueMap map;  // the parameters stay the same Values
  inl.emitBlock(b, f.body, map);
  f.body.ops = std::move(fresh.ops);
  for (auto& op : f.body.ops) op->parent = &f.body;
}

}  // namespace chain::passes
