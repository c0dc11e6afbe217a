// Reverse-mode AD over structured IR.
//
// Design
// ------
// The adjoint function G of f has f's parameters and is built in two sweeps:
//
//   forward sweep   a copy of f's body. Every *active* loop at this level (a
//                   loop with a result that is varied and useful, see
//                   Activity.h) is augmented: at the start of each iteration it
//                   pushes its carried state on the tape (`tape.push`); a
//                   `while` also counts its trips. Ops nested inside a loop
//                   body are copied plainly: they are recomputed later.
//   reverse sweep   the ops of the body in reverse order; each op adds its
//                   operands' adjoint contributions from the rule tables
//                   (Derivatives.cpp, DerivativesArray.cpp); adjoints are
//                   created lazily, so inactive values and constants never get
//                   zero adjoints.
//
// Structured ops are reversed by *recomputation from saved state*:
//   for      a reverse `for k in 0..N` (N = max(hi - lo, 0)) that pops the
//            carried state of iteration i = hi-1-k, recomputes the body from
//            it (a forward sweep of the body, so loops nested inside record
//            their own state now), and runs the body's reverse sweep. The
//            adjoints of the carried values are the reverse loop's carried
//            values; adjoints of values captured from outside the body are
//            accumulated in extra carried values and added to the outer
//            adjoints after the loop. Memory: trip count x carried state (the
//            tape is LIFO, so nested loops reuse it per outer iteration).
//   while    the same, with N = the trip count recorded by the forward sweep.
//   if       an `if` on the same (saved or recomputed) condition whose
//            branches recompute the branch taken and run its reverse sweep,
//            yielding the adjoints of the captured values.
//   map      (ReverseADArrays.cpp) a loop nest over the map's index space
//            that recomputes the element's body at each index, seeds it with
//            dy[i...] and reverses it. Iterations are independent, so nothing
//            is stored: captured scalars' adjoints are register sums, an
//            indexed read x[f(i)] becomes a scatter-add `add_at` into dx
//            (updated in place by code generation). Identity reads
//            x[i0, .., i_{r-1}] (the region's own indices; at the top level or
//            inside ifs) of an array with no other use give an elementwise
//            adjoint: dx += map(i...) { recomputed adjoint of the reads }, no
//            fill or scatter (guarded: other shapes scatter that map). When
//            only register sums are left they are `reduce sum`s, not a for.
//   reduce   likewise, seeding every element with dy (sum), dy*y/e_i with an
//            exact zero count (prod), dy*exp(e_i - y) (logsumexp) or dy on
//            the first extremal element only (max/min).
// Indexed reads and slices scatter-add into the array's adjoint; matmul
// uses matrix-product rules. Calls are inlined before AD (the language has no
// recursion), so there are no per-callee adjoints; a `grad_call` of a
// gradient or hvp is kept opaque by the pipeline and has its own rule (an
// adjoint grad_call, DerivativesGradCall.cpp), materialised after AD. print() runs in the
// forward sweep only, never in recomputation. The output is ordinary IR (tape
// ops included), simplified afterwards by the simplify pass.
#include "passes/ReverseAD.h"

#include "passes/Derivatives.h"
#include "passes/ReverseADImpl.h"

namespace chain::passes {

using ir::Block;
using ir::Builder;
using ir::Function;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace ad {

void Emitter::addAdj(Builder& b, Map& adj, Env& env, const Value* v, Value* c) {
  if (!c || !act_.active(v)) return;
  auto it = adj.find(v);
  if (it == adj.end()) adj[v] = c;
  else it->second = addLike(b, it->second, c);
  (void)env;
}

Value* Emitter::accInit(Builder& b, Map& adj, Env& env, const Value* c) {
  auto it = adj.find(c);
  return it != adj.end() ? it->second : zerosLike(b, env[c]);
}

void Emitter::addAdjAt(Builder& b, Map& adj, Env& env, const Value* a, Value* c,
                       const std::vector<Value*>& sel, const std::vector<int64_t>& kinds) {
  if (!c || !act_.active(a)) return;
  auto it = adj.find(a);
  Value* base = it != adj.end() ? it->second : zerosLike(b, env[a]);
  std::vector<Value*> ops{base, c};
  ops.insert(ops.end(), sel.begin(), sel.end());
  Operation* u = b.create(OpKind::AddAt, ops, {base->type});
  u->ints = kinds;
  adj[a] = u->result();
}

std::vector<Value*> Emitter::forward(Builder& b, const Block& src, Env& env, bool augment, bool prints,
                                     const std::set<const Operation*>* log) {
  std::vector<Value*> out;
  for (auto& opPtr : src.ops) {
    const Operation& op = *opPtr;
    if (ir::hasFlag(op.kind, ir::Terminator)) {
      for (Value* v : op.operands) out.push_back(env[v]);
      break;
    }
    // Recomputation (no prints) skips asserts: the forward sweep checked them.
    if ((op.kind == OpKind::Print || op.kind == OpKind::Assert) && !prints) continue;
    if (log && log->count(&op)) {  // save the selection and what it overwrites
      std::vector<Value*> sel;
      for (size_t k = 2; k < op.operands.size(); ++k) sel.push_back(env[op.operand(k)]);
      std::vector<Value*> saved = sel;
      b.setLoc(op.loc);
      saved.push_back(selection(b, env[op.operand(0)], sel, op.ints));
      b.create(OpKind::TapePush, saved, {});
    }
    if (augment && act_.activeOp(op) && op.kind == OpKind::For) forwardFor(b, op, env, prints);
    else if (augment && act_.activeOp(op) && op.kind == OpKind::While) forwardWhile(b, op, env, prints);
    else cloneOp(b, op, env, prints);
  }
  return out;
}

// A plain copy of `op`; its regions are copied plainly too.
void Emitter::cloneOp(Builder& b, const Operation& op, Env& env, bool prints) {
  std::vector<Value*> operands;
  for (Value* v : op.operands) operands.push_back(env[v]);
  std::vector<Type> types;
  for (auto& r : op.results) types.push_back(r->type);
  b.setLoc(op.loc);
  Operation* n = b.create(op.kind, operands, types, 0);
  n->f = op.f;
  n->i = op.i;
  n->s = op.s;
  n->ints = op.ints;
  for (size_t k = 0; k < op.results.size(); ++k) env.vals[op.result(k)] = n->result(k);
  for (auto& region : op.regions) {
    Block* nb = n->addRegion();
    for (auto& a : region->args) env.vals[a.get()] = nb->addArg(a->type, a->name);
    Builder rb(nb);
    rb.setLoc(op.loc);
    rb.yield(forward(rb, *region, env, false, prints));
  }
}

// for: push the carried state at the start of every iteration.
void Emitter::forwardFor(Builder& b, const Operation& op, Env& env, bool prints) {
  std::vector<Value*> operands;
  for (Value* v : op.operands) operands.push_back(env[v]);
  std::vector<Type> types;
  for (auto& r : op.results) types.push_back(r->type);
  b.setLoc(op.loc);
  Operation* n = b.create(OpKind::For, operands, types, 1);
  const Block& body = *op.region(0);
  Block* nb = n->region(0);
  UndoPlan plan = planUndo(op);
  std::vector<Value*> state;
  for (size_t a = 0; a < body.args.size(); ++a) {
    Value* na = nb->addArg(body.arg(a)->type, body.arg(a)->name);
    env.vals[body.arg(a)] = na;
    if (a > 0 && !plan.logged[a - 1]) state.push_back(na);
  }
  Builder rb(nb);
  rb.setLoc(op.loc);
  env.pushes.erase(&op);
  if (!state.empty()) env.pushes[&op] = rb.create(OpKind::TapePush, state, {});
  rb.yield(forward(rb, body, env, false, prints, &plan.logOps));
  for (size_t k = 0; k < op.results.size(); ++k) env.vals[op.result(k)] = n->result(k);
}

// while: push the carried state in the body and count the trips.
void Emitter::forwardWhile(Builder& b, const Operation& op, Env& env, bool prints) {
  std::vector<Value*> operands;
  for (Value* v : op.operands) operands.push_back(env[v]);
  b.setLoc(op.loc);
  operands.push_back(b.constI(0));
  std::vector<Type> types;
  for (auto& r : op.results) types.push_back(r->type);
  types.push_back(Type::i64());
  Operation* n = b.create(OpKind::While, operands, types, 2);
  UndoPlan plan = planUndo(op);
  env.pushes.erase(&op);
  for (int r = 0; r < 2; ++r) {
    const Block& src = *op.region(r);
    Block* nb = n->region(r);
    std::vector<Value*> state;
    for (size_t a = 0; a < src.args.size(); ++a) {
      Value* na = nb->addArg(src.arg(a)->type, src.arg(a)->name);
      env.vals[src.arg(a)] = na;
      if (!plan.logged[a]) state.push_back(na);
    }
    Value* count = nb->addArg(Type::i64(), "trips");
    Builder rb(nb);
    rb.setLoc(op.loc);
    if (r == 1 && !state.empty()) env.pushes[&op] = rb.create(OpKind::TapePush, state, {});
    std::vector<Value*> ys = forward(rb, src, env, false, prints, r == 1 ? &plan.logOps : nullptr);
    if (r == 1) ys.push_back(rb.binary(OpKind::Add, count, rb.constI(1)));
    rb.yield(ys);
  }
  for (size_t k = 0; k < op.results.size(); ++k) env.vals[op.result(k)] = n->result(k);
  env.counts[&op] = n->results.back().get();
}

std::vector<const Value*> Emitter::activeCaptures(const Operation& op) const {
  std::vector<const Value*> out;
  std::set<const Value*> seen;
  for (auto& region : op.regions)
    for (const Value* v : capturedValues(*region))
      if (act_.active(v) && seen.insert(v).second) out.push_back(v);
  return out;
}

void Emitter::reverse(Builder& b, const Block& src, Env& env, Map& adj) {
  for (auto it = src.ops.rbegin(); it != src.ops.rend(); ++it) {
    const Operation& op = **it;
    if (ir::hasFlag(op.kind, ir::Terminator) || op.kind == OpKind::Print) continue;
    if (registerReads_.count(&op)) continue;
    b.setLoc(op.loc);
    reverseOp(b, op, env, adj);
  }
}

namespace {
// Forwards the array rules' contributions to the emitter's adjoint map.
class Sink : public AdjointSink {
 public:
  Sink(Emitter& e, Builder& b, Map& adj, Env& env, const Operation& op)
      : e_(e), b_(b), adj_(adj), env_(env), op_(op) {}
  void add(size_t k, Value* c) override { e_.addAdj(b_, adj_, env_, op_.operand(k), c); }
  void addAt(size_t k, Value* c, const std::vector<Value*>& sel, const std::vector<int64_t>& kinds) override {
    e_.addAdjAt(b_, adj_, env_, op_.operand(k), c, sel, kinds);
  }

 private:
  Emitter& e_;
  Builder& b_;
  Map& adj_;
  Env& env_;
  const Operation& op_;
};
}  // namespace

void Emitter::reverseOp(Builder& b, const Operation& op, Env& env, Map& adj) {
  switch (op.kind) {
    case OpKind::If: reverseIf(b, op, env, adj); return;
    case OpKind::For: case OpKind::While: reverseLoop(b, op, env, adj); return;
    case OpKind::Map: reverseMap(b, op, env, adj); return;
    case OpKind::Reduce: reverseReduce(b, op, env, adj); return;
    default: break;
  }
  if (op.results.empty()) return;  // assert: no derivative
  std::vector<Value*> x;
  for (Value* v : op.operands) x.push_back(env[v]);
  if (op.kind == OpKind::GradCall) {
    // A grad_call kept opaque by the pipeline (a gradient or hvp inside the
    // function being reversed): its adjoint is another derivative of the
    // same function (DerivativesGradCall.cpp), a forward sweep over its gradient.
    std::vector<Value*> dys;
    std::vector<bool> active;
    bool any = false;
    for (auto& r : op.results) {
      auto it = adj.find(r.get());
      dys.push_back(it == adj.end() ? nullptr : it->second);
      any |= dys.back() != nullptr;
    }
    for (Value* v : op.operands) active.push_back(act_.active(v));
    if (!any) return;
    std::vector<Value*> dx = gradCallAdjoint(b, op, x, dys, active);
    for (size_t k = 0; k < dx.size(); ++k) addAdj(b, adj, env, op.operand(k), dx[k]);
    return;
  }
  auto found = adj.find(op.result(0));
  if (found == adj.end()) return;
  if (hasArrayRule(op.kind)) {
    Sink sink(*this, b, adj, env, op);
    arrayAdjoint(b, op, x, env[op.result(0)], found->second, sink);
    return;
  }
  // Calls are inlined and tape ops only appear in AD output (nested AD is
  // not supported yet): reaching one here is a compiler bug.
  assert(hasScalarRule(op.kind) && "op without a derivative rule reached reverse AD");
  std::vector<Value*> dx = scalarAdjoint(b, op, x, env[op.result(0)], found->second);
  for (size_t k = 0; k < dx.size(); ++k) addAdj(b, adj, env, op.operand(k), dx[k]);
}

namespace {
// True when `v` is a result of an op nested (at any depth) in `op`'s regions.
bool definedIn(const Operation& op, const Value* v) {
  for (auto& region : op.regions)
    for (auto& inner : region->ops) {
      if (inner.get() == v->def) return true;
      if (definedIn(*inner, v)) return true;
    }
  return false;
}
}  // namespace

void Emitter::reverseIf(Builder& b, const Operation& op, Env& env, Map& adj) {
  std::vector<Value*> dys;
  bool any = false;
  for (auto& r : op.results) {
    auto it = adj.find(r.get());
    dys.push_back(it == adj.end() ? nullptr : it->second);
    any |= dys.back() != nullptr;
  }
  if (!any) return;
  std::vector<const Value*> caps = activeCaptures(op);
  for (const Value* v : lifted_)
    if (definedIn(op, v)) caps.push_back(v);
  if (caps.empty()) return;
  std::vector<Type> types;
  for (const Value* c : caps) types.push_back(c->type);
  Operation* n = b.create(OpKind::If, {env[op.operand(0)]}, types, 2);
  for (int r = 0; r < 2; ++r) {
    const Block& src = *op.region(r);
    Builder rb(n->region(r));
    rb.setLoc(op.loc);
    Env inner = env;
    forward(rb, src, inner, true, false);
    Map a2;
    for (const Value* c : caps)
      if (adj.count(c)) a2[c] = adj[c];  // thread the current adjoint through
    const Operation* y = src.terminator();
    for (size_t k = 0; k < dys.size(); ++k) addAdj(rb, a2, inner, y->operand(k), dys[k]);
    reverse(rb, src, inner, a2);
    std::vector<Value*> out;
    for (const Value* c : caps)
      out.push_back(a2.count(c) ? a2[c] : lifted_.count(c) ? rb.constF(0.0, c->type) : zerosLike(rb, inner[c]));
    rb.yield(out);
  }
  for (size_t k = 0; k < caps.size(); ++k) adj[caps[k]] = n->result(k);
}

// Reverses an active for/while (see the design note at the top).
void Emitter::reverseLoop(Builder& b, const Operation& op, Env& env, Map& adj) {
  if (!act_.activeOp(op)) return;  // not recorded by the forward sweep either
  const bool isFor = op.kind == OpKind::For;
  const Block& body = *op.region(isFor ? 0 : 1);
  const size_t argBase = isFor ? 1 : 0, initBase = isFor ? 2 : 0;
  std::vector<size_t> slots;  // carried values that get adjoints
  for (size_t k = 0; k < op.results.size(); ++k)
    if (op.result(k)->type.isFloat() && act_.varied(body.arg(argBase + k))) slots.push_back(k);
  std::vector<const Value*> caps = activeCaptures(op);
  UndoPlan plan = planUndo(op);
  std::vector<size_t> logged;  // carried arrays restored by undoing updates
  for (size_t k = 0; k < op.results.size(); ++k)
    if (plan.logged[k]) logged.push_back(k);

  Value* trips;
  if (isFor) {
    Value* lo = env[op.operand(0)];
    Value* hi = env[op.operand(1)];
    trips = b.select(b.binary(OpKind::Gt, hi, lo), b.binary(OpKind::Sub, hi, lo), b.constI(0));
  } else {
    trips = env.counts.at(&op);
  }
  std::vector<Value*> inits{b.constI(0), trips};
  std::vector<Type> types;
  for (size_t k : slots) {
    auto it = adj.find(op.result(k));
    inits.push_back(it != adj.end() ? it->second : zerosLike(b, env[op.result(k)]));
    types.push_back(op.result(k)->type);
  }
  for (const Value* c : caps) {
    inits.push_back(accInit(b, adj, env, c));
    types.push_back(c->type);
  }
  for (size_t k : logged) {  // the array as it is after the iteration being reversed
    inits.push_back(env[op.result(k)]);
    types.push_back(op.result(k)->type);
  }
  Operation* rev = b.create(OpKind::For, inits, types, 1);
  Block* rb = rev->region(0);
  Value* k = rb->addArg(Type::i64(), "k");
  Builder r(rb);
  r.setLoc(op.loc);
  Map a2;
  std::vector<Value*> dcs;
  for (size_t s : slots) dcs.push_back(rb->addArg(op.result(s)->type, "d"));
  for (const Value* c : caps) a2[c] = rb->addArg(c->type, "acc");
  std::map<const Value*, Value*> arrays;  // logged carried arg -> its value at iteration start
  for (size_t k : logged) arrays[body.arg(argBase + k)] = rb->addArg(op.result(k)->type, "undo");

  Env inner = env;
  undoIteration(r, body, plan, arrays);
  std::vector<Type> stateTypes;
  std::vector<const Value*> stateArgs;
  for (size_t a = argBase; a < body.args.size(); ++a) {
    if (plan.logged[a - argBase]) continue;
    stateTypes.push_back(body.arg(a)->type);
    stateArgs.push_back(body.arg(a));
  }
  Operation* pop = nullptr;
  if (!stateTypes.empty()) {
    pop = r.create(OpKind::TapePop, {}, stateTypes);
    for (size_t s2 = 0; s2 < stateArgs.size(); ++s2) inner.vals[stateArgs[s2]] = pop->result(s2);
  }
  for (auto& [arg, value] : arrays) inner.vals[arg] = value;
  if (isFor) {
    Value* hiMinus1 = r.binary(OpKind::Sub, env[op.operand(1)], r.constI(1));
    inner.vals[body.arg(0)] = r.binary(OpKind::Sub, hiMinus1, k);
  }
  forward(r, body, inner, true, false);
  const Operation* y = body.terminator();
  for (size_t s = 0; s < slots.size(); ++s) addAdj(r, a2, inner, y->operand(slots[s]), dcs[s]);
  reverse(r, body, inner, a2);
  std::vector<Value*> out;
  for (size_t s : slots) {
    const Value* arg = body.arg(argBase + s);
    out.push_back(a2.count(arg) ? a2[arg] : zerosLike(r, inner[arg]));
  }
  for (const Value* c : caps) out.push_back(a2[c]);
  for (size_t k : logged) out.push_back(arrays[body.arg(argBase + k)]);
  r.yield(out);
  auto pushed = env.pushes.find(&op);
  pruneReverseBody(*rb, pop, pushed != env.pushes.end() ? pushed->second : nullptr);

  // The captured totals include the adjoints they started from (threaded),
  // so they replace them; the inits' contributions are added on top.
  for (size_t c = 0; c < caps.size(); ++c) adj[caps[c]] = rev->result(slots.size() + c);
  for (size_t s = 0; s < slots.size(); ++s)
    addAdj(b, adj, env, op.operand(initBase + slots[s]), rev->result(s));
}

}  // namespace ad

std::unique_ptr<Function> reverseAD(const Function& f, const std::vector<int>& wrt, bool withValue,
                                    const std::string& name) {
  Activity act(f, wrt, 0);
  auto g = std::make_unique<Function>();
  g->name = name;
  g->paramNames = f.paramNames;
  g->loc = f.loc;
  ad::Env env;
  for (auto& a : f.body.args) env.vals[a.get()] = g->body.addArg(a->type, a->name);
  Builder b(&g->body);
  b.setLoc(f.loc);
  ad::Emitter em(act);
  std::vector<Value*> results = em.forward(b, f.body, env, true, true);
  assert(!results.empty() && results[0]->type.isFloatScalar() && "gradient of a non-scalar result");
  ad::Map adj;
  const Operation* ret = f.body.terminator();
  b.setLoc(f.loc);
  em.addAdj(b, adj, env, ret->operand(0), b.constF(1.0, results[0]->type));
  em.reverse(b, f.body, env, adj);

  std::vector<Value*> out;
  if (withValue) {
    out.push_back(results[0]);
    g->resultTypes.push_back(results[0]->type);
  }
  for (int w : wrt) {
    const Value* p = f.param(w);
    auto it = adj.find(p);
    out.push_back(it != adj.end() ? it->second : zerosLike(b, env[p]));
    g->resultTypes.push_back(p->type);
  }
  b.ret(out);
  return g;
}

}  // namespace chain::passes
