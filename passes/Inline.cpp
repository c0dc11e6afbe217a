// The inline pass. The function body is rebuilt op by op through a value
// map; a `call` is replaced by the callee's body (itself inlined on the fly)
// with the parameters mapped to the call operands, and the call's results
// mapped to the values the callee returns. Before anything is cloned, the
// size of the result is computed bottom-up (memoised per callee), and a size
// above kMaxInlinedOps is a compile error.
#include "passes/Inline.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "chain/chain.h"

namespace chain::passes {

namespace {

using ir::Block;
using ir::Builder;
using ir::Operation;
using ir::OpKind;
using ir::Value;
using ValueMap = std::map<const Value*, Value*>;

// The module's functions by name (Module::lookup is a linear search, and a
// long call chain looks up every function).
class FunctionIndex {
 public:
  explicit FunctionIndex(const ir::Module& m) {
    for (auto& f : m.functions) byName_.emplace(f->name, f.get());
  }
  const ir::Function* lookup(const std::string& name) const {
    auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : it->second;
  }

 private:
  std::unordered_map<std::string, const ir::Function*> byName_;
};

Value* mapped(Value* v, const ValueMap& map) {
  auto it = map.find(v);
  return it == map.end() ? v : it->second;
}

class Inliner {
 public:
  Inliner(const FunctionIndex& m, const std::string& root) : m_(m), stack_{root} {}

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

  const FunctionIndex& m_;
  std::vector<std::string> stack_;
};

constexpr uint64_t kSaturated = UINT64_MAX / 4;

uint64_t satAdd(uint64_t a, uint64_t b) { return a + b >= kSaturated ? kSaturated : a + b; }

// Inlined sizes of blocks and functions, memoised per function name.
class SizeCounter {
 public:
  explicit SizeCounter(const FunctionIndex& m) : m_(m) {}

  uint64_t block(const Block& b) {
    uint64_t n = 0;
    for (auto& op : b.ops) {
      if (op->kind == OpKind::Call) {
        n = satAdd(n, function(op->s));
        continue;
      }
      n = satAdd(n, 1);
      for (auto& r : op->regions) n = satAdd(n, block(*r));
    }
    return n;
  }

  // The callee's inlined body without its `return`.
  uint64_t function(const std::string& name) {
    auto it = memo_.find(name);
    if (it != memo_.end()) return it->second;
    const ir::Function* callee = m_.lookup(name);
    assert(callee && "call of an unknown function");
    memo_[name] = kSaturated;  // (a cycle, which the frontend rejects, saturates)
    uint64_t n = callee ? block(callee->body) : 0;
    return memo_[name] = n > 0 ? n - 1 : 0;
  }

 private:
  const FunctionIndex& m_;
  std::unordered_map<std::string, uint64_t> memo_;
};

bool hasCall(const Block& b) {
  for (auto& op : b.ops) {
    if (op->kind == OpKind::Call) return true;
    for (auto& r : op->regions)
      if (hasCall(*r)) return true;
  }
  return false;
}

}  // namespace

uint64_t inlinedOpCount(const ir::Module& m, const ir::Function& f) {
  FunctionIndex index(m);
  return SizeCounter(index).block(f.body);
}

void inlineCalls(ir::Module& m, ir::Function& f) {
  FunctionIndex index(m);
  if (hasCall(f.body)) {
    uint64_t n = SizeCounter(index).block(f.body);
    if (n > kMaxInlinedOps)
      throw CompileError(m.fileName + ":" + std::to_string(f.loc.line) + ":" +
                         std::to_string(f.loc.col) + ": error: inlining every call in '" + f.name +
                         "' would produce " + std::to_string(n) + " operations (limit " +
                         std::to_string(kMaxInlinedOps) +
                         "): each call is a copy of the callee; compute shared values once with "
                         "`let`, or use a loop\n");
  }
  Inliner inl(index, f.name);
  Block fresh;
  Builder b(&fresh);
  ValueMap map;  // the parameters stay the same Values
  inl.emitBlock(b, f.body, map);
  f.body.ops = std::move(fresh.ops);
  for (auto& op : f.body.ops) op->parent = &f.body;
}

}  // namespace chain::passes
