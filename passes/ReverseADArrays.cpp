// Reverse AD of the parallel array ops, map and reduce (see the design note in
// ReverseAD.cpp). Their iterations are independent, so the reverse is a loop
// nest over the same index space that recomputes each element's body and
// reverses it, with no tape; adjoints of captured values are accumulated in
// the loop's carried values (scalars in registers, arrays by in-place
// scatter-adds).
#include <algorithm>

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

using Body = std::function<std::vector<Value*>(Builder&, const std::vector<Value*>& idx,
                                               const std::vector<Value*>& accs)>;

// for i0 in 0..n0 { for i1 in 0..n1 { ... } } carrying `inits` through every
// level; `body` maps (indices, accumulators) to the new accumulators. Each
// level is marked s = "accumulate" (ir/IR.h): its iterations are independent
// but for adding into the carried adjoints, so code generation may run it in
// chunks with private accumulators (runtime/codegen/CodegenParallelAcc.cpp).
std::vector<Value*> loopNest(Builder& b, const std::vector<Value*>& extents, size_t level,
                             std::vector<Value*> idx, const std::vector<Value*>& inits, const Body& body) {
  if (level == extents.size()) return body(b, idx, inits);
  std::vector<Value*> ops{b.constI(0), extents[level]};
  std::vector<Type> types;
  for (Value* v : inits) {
    ops.push_back(v);
    types.push_back(v->type);
  }
  Operation* loop = b.create(OpKind::For, ops, types, 1);
  loop->s = "accumulate";
  Block* region = loop->region(0);
  idx.push_back(region->addArg(Type::i64(), "i"));
  std::vector<Value*> accs;
  for (Value* v : inits) accs.push_back(region->addArg(v->type, "acc"));
  Builder rb(region);
  rb.setLoc(b.loc());
  rb.yield(loopNest(rb, extents, level + 1, idx, accs, body));
  std::vector<Value*> out;
  for (auto& r : loop->results) out.push_back(r.get());
  return out;
}

// sum over i0 in 0..n0, i1 in 0..n1, ... of `elem(indices)`, as nested
// `reduce sum` ops (reassociable, so code generation vectorises them).
Value* reduceNest(Builder& b, Type t, const std::vector<Value*>& extents, size_t level, std::vector<Value*> idx,
                  const std::function<Value*(Builder&, const std::vector<Value*>&)>& elem) {
  if (level == extents.size()) return elem(b, idx);
  Operation* r = b.create(OpKind::Reduce, {b.constI(0), extents[level]}, {t}, 1);
  r->s = "sum";
  idx.push_back(r->region(0)->addArg(Type::i64(), "i"));
  Builder rb(r->region(0));
  rb.setLoc(b.loc());
  Value* e = reduceNest(rb, t, extents, level + 1, idx, elem);
  rb.yield({e});
  return r->result();
}

Value* indexAt(Builder& b, Value* a, const std::vector<Value*>& idx) {
  std::vector<Value*> ops{a};
  ops.insert(ops.end(), idx.begin(), idx.end());
  return b.create(OpKind::Index, ops, {Type{a->type.elem, 0}})->result();
}

// True when `block` (at any depth) holds a for/while: recomputing it would
// use the tape, so its element is not rebuilt inside a map.
bool hasLoops(const Block& block) {
  for (auto& op : block.ops) {
    if (op->kind == OpKind::For || op->kind == OpKind::While) return true;
    for (auto& r : op->regions)
      if (hasLoops(*r)) return true;
  }
  return false;
}

// True when every use of `a` in `block` (at any depth) is one of `allowed`
// or a dim (no adjoint).
bool usesOnly(const Block& block, const Value* a, const std::set<const Operation*>& allowed) {
  for (auto& op : block.ops) {
    if (!allowed.count(op.get()) && op->kind != OpKind::Dim)
      for (const Value* v : op->operands)
        if (v == a) return false;
    for (auto& r : op->regions)
      if (!usesOnly(*r, a, allowed)) return false;
  }
  return true;
}

// When the region of `map` yields `v[i0, .., i_{r-1}]` with v == `dy` (the
// reversed map's adjoint, whose dims are the extents): a copy of dy, e.g. the
// adjoint of `y[i] + ...` w.r.t. y. Returns dy then, else null.
Value* copiedArray(const Operation& map, Value* e, Value* dy) {
  const Block& region = *map.region(0);
  const Operation* d = e->def;
  if (!dy || !d || d->kind != OpKind::Index || d->operand(0) != dy || dy->type != map.result()->type) return nullptr;
  for (size_t k = 0; k < region.args.size(); ++k)
    if (d->operand(1 + k) != region.arg(k)) return nullptr;
  return dy;
}

Value* conj(Builder& b, Value* x, Value* y) { return x ? b.binary(OpKind::And, x, y) : y; }

// A map's element at idx, recomputed by forward() as elem[0], is read from
// the map's primal result `computed` instead when that is available: rules
// that use an op's own result (tanh, exp, sigmoid, sqrt) then read memory,
// and the recomputed op is dead unless the reverse needs its operands.
void reuseElement(Builder& rb, const Block& region, Env& inner, const std::vector<Value*>& idx, Value* computed,
                  std::vector<Value*>& elem) {
  const Value* y = region.terminator()->operand(0);
  if (!computed || computed->type.rank != int(idx.size()) || !y->def || y->def->parent != &region) return;
  elem[0] = indexAt(rb, computed, idx);
  inner.vals[y] = elem[0];
}

}  // namespace

// The identity reads of `groups` (skipped by the loop nest: their adjoint is
// a map); drops from `caps` the arrays with no other use.
std::set<const Operation*> Emitter::loopNestCaps(const std::vector<IdentityGroup>& groups,
                                                 std::vector<const Value*>& caps) const {
  std::set<const Operation*> skip;
  for (const IdentityGroup& g : groups) {
    skip.insert(g.reads.begin(), g.reads.end());
    if (g.only) caps.erase(std::remove(caps.begin(), caps.end(), g.array), caps.end());
  }
  return skip;
}

std::vector<const Value*> Emitter::resultsOf(const IdentityGroup& g) {
  std::vector<const Value*> out;
  for (const Operation* r : g.reads) out.push_back(r->result());
  return out;
}

std::vector<Emitter::IdentityGroup> Emitter::identityReads(const Block& region) const {
  std::vector<IdentityGroup> out;
  if (hasLoops(region)) return out;
  std::vector<const Value*> capsList = capturedValues(region);
  std::set<const Value*> caps(capsList.begin(), capsList.end());
  // reads at the top level or inside ifs (reverseIf lifts their adjoints)
  std::function<void(const Block&)> walk = [&](const Block& block) {
    for (auto& op : block.ops) {
      if (op->kind == OpKind::If)
        for (auto& r : op->regions) walk(*r);
      if (op->kind != OpKind::Index || !act_.active(op->result()) || !act_.active(op->operand(0))) continue;
      const Value* a = op->operand(0);
      if (!caps.count(a) || a->type.rank != int(region.args.size())) continue;
      std::vector<int64_t> offsets;  // identity or offset read (see ReverseADOffsets.cpp)
      if (!readOffsets(*op, region, offsets)) continue;
      auto g = std::find_if(out.begin(), out.end(), [&](const IdentityGroup& x) { return x.array == a; });
      if (g == out.end()) out.push_back({a, {op.get()}, false, {offsets}});
      else {
        g->reads.push_back(op.get());
        g->offsets.push_back(offsets);
      }
    }
  };
  walk(region);
  // reads at invariant indices (x[0] beside x[i]) are summed in registers
  // (invariantReads), so they do not stop the group from being a map
  std::vector<const Operation*> inv = invariantReads(region);
  for (IdentityGroup& g : out) {
    std::set<const Operation*> allowed(g.reads.begin(), g.reads.end());
    allowed.insert(inv.begin(), inv.end());
    g.only = usesOnly(region, g.array, allowed);
  }
  // An array the loop nest scatters into anyway keeps its identity reads
  // there too (in place, in the same pass): a map would add a pass and an
  // allocation.
  out.erase(std::remove_if(out.begin(), out.end(), [](const IdentityGroup& g) { return !g.only; }), out.end());
  return out;
}

Value* Emitter::identityElement(Builder& rb, const Block& region, const Env& env, const std::vector<Value*>& idx,
                                const std::vector<const Value*>& keys, const std::set<const Operation*>& skip,
                                const std::function<Value*(Builder&, Value*)>& seed, Value* computed) {
  Env inner = env;
  for (size_t k = 0; k < idx.size(); ++k) inner.vals[region.arg(k)] = idx[k];
  std::vector<Value*> elem = forward(rb, region, inner, false, false);
  reuseElement(rb, region, inner, idx, computed, elem);
  Map a2;
  std::vector<const Operation*> added;
  for (const Operation* r : skip)
    if (registerReads_.insert(r).second) added.push_back(r);
  for (const Value* k : keys) lifted_.insert(k);
  addAdj(rb, a2, inner, region.terminator()->operand(0), seed(rb, elem[0]));
  reverse(rb, region, inner, a2);
  for (const Value* k : keys) lifted_.erase(k);
  for (const Operation* r : added) registerReads_.erase(r);
  Value* sum = nullptr;
  for (const Value* k : keys) {
    auto it = a2.find(k);
    if (it != a2.end()) sum = sum ? rb.binary(OpKind::Add, sum, it->second) : it->second;
  }
  return sum ? sum : rb.constF(0.0, keys[0]->type);
}

void Emitter::addIdentity(Builder& b, Map& adj, Env& env, const std::vector<Value*>& extents, Value* lo,
                          const IdentityGroup& g, const ElementFn& element, Value* dy, bool proved) {
  Value* a = env[g.array];
  auto found = adj.find(g.array);
  Value* base = found != adj.end() ? found->second : nullptr;
  Value* same = lo ? b.binary(OpKind::Eq, lo, b.constI(0)) : nullptr;
  std::vector<Value*> dims = dimsOf(b, a);
  for (size_t k = 0; k < extents.size(); ++k) same = conj(b, same, b.binary(OpKind::Eq, dims[k], extents[k]));
  auto makeMap = [&](Builder& mb, bool addBase) {
    Operation* m = mb.create(OpKind::Map, extents, {a->type}, 1);
    std::vector<Value*> idx;
    for (size_t k = 0; k < extents.size(); ++k) idx.push_back(m->region(0)->addArg(Type::i64(), "i"));
    Builder rb(m->region(0));
    rb.setLoc(mb.loc());
    Value* e = element(rb, idx);
    if (addBase) e = rb.binary(OpKind::Add, indexAt(rb, base, idx), e);
    rb.yield({e});
    Value* whole = copiedArray(*m, e, dy);
    return whole ? whole : m->result();  // the map is then dead
  };
  if (proved) {
    adj[g.array] = makeMap(b, base != nullptr);
    return;
  }
  Operation* guard = b.create(OpKind::If, {same}, {a->type}, 2);
  Builder tb(guard->region(0));
  tb.setLoc(b.loc());
  tb.yield({makeMap(tb, base != nullptr)});
  // other shapes: scatter-add the map's elements that are inside da (the
  // others are zero: their read never ran).
  Builder eb(guard->region(1));
  eb.setLoc(b.loc());
  Value* start = base ? base : zerosLike(eb, a);
  Value* c = makeMap(eb, false);
  std::vector<Value*> sum = loopNest(eb, extents, 0, {}, {start},
      [&](Builder& lb, const std::vector<Value*>& idx, const std::vector<Value*>& acc) {
        std::vector<Value*> at = idx;
        if (lo) at[0] = lb.binary(OpKind::Add, lo, idx[0]);
        Value* inside = nullptr;
        for (size_t k = 0; k < at.size(); ++k) {
          inside = conj(lb, inside, lb.binary(OpKind::Ge, at[k], lb.constI(0)));
          inside = conj(lb, inside, lb.binary(OpKind::Lt, at[k], dims[k]));
        }
        Operation* put = lb.create(OpKind::If, {inside}, {a->type}, 2);
        Builder pb(put->region(0));
        pb.setLoc(b.loc());
        std::vector<Value*> ops{acc[0], indexAt(pb, c, idx)};
        ops.insert(ops.end(), at.begin(), at.end());
        Operation* u = pb.create(OpKind::AddAt, ops, {a->type});
        u->ints.assign(at.size(), 0);
        pb.yield({u->result()});
        Builder sb(put->region(1));
        sb.setLoc(b.loc());
        sb.yield({acc[0]});
        return std::vector<Value*>{put->result()};
      });
  eb.yield({sum[0]});
  adj[g.array] = guard->result();
}

void Emitter::reverseRegionAt(Builder& rb, const Block& region, const Env& env,
                              const std::vector<Value*>& idx, const std::vector<const Value*>& caps,
                              const std::vector<const Operation*>& reads, std::vector<Value*>& accs,
                              const std::function<Value*(Builder&, Value*)>& seed, Value* computed) {
  Env inner = env;
  for (size_t k = 0; k < idx.size(); ++k) inner.vals[region.arg(k)] = idx[k];
  std::vector<Value*> elem = forward(rb, region, inner, true, false);
  reuseElement(rb, region, inner, idx, computed, elem);
  Map a2;
  for (size_t j = 0; j < caps.size(); ++j) a2[caps[j]] = accs[j];
  std::vector<const Value*> lifted;
  for (size_t j = 0; j < reads.size(); ++j) {
    a2[reads[j]->result()] = accs[caps.size() + j];  // a register sum, see invariantReads
    registerReads_.insert(reads[j]);
    if (lifted_.insert(reads[j]->result()).second) lifted.push_back(reads[j]->result());
  }
  addAdj(rb, a2, inner, region.terminator()->operand(0), seed(rb, elem[0]));
  reverse(rb, region, inner, a2);
  for (size_t j = 0; j < caps.size(); ++j) accs[j] = a2[caps[j]];
  for (size_t j = 0; j < reads.size(); ++j) {
    accs[caps.size() + j] = a2[reads[j]->result()];
    registerReads_.erase(reads[j]);
  }
  for (const Value* v : lifted) lifted_.erase(v);
}

// Reads `a[s...]` of a map/reduce region, at its top level or inside its
// `if`s, whose array and indices are all defined outside it: the same element
// at every index, so its adjoint is summed in a register across the loop
// nest and added to da once afterwards (flushReads), instead of a scatter-add
// per element. Inside an `if` the register is threaded through the reversed
// `if` (reverseRegionAt lifts it), unchanged by the branch not taken.
std::vector<const Operation*> Emitter::invariantReads(const Block& region) const {
  std::vector<const Value*> capsList = capturedValues(region);
  std::set<const Value*> caps(capsList.begin(), capsList.end());
  std::vector<const Operation*> out;
  std::function<void(const Block&)> walk = [&](const Block& block) {
    for (auto& op : block.ops) {
      if (op->kind == OpKind::If)
        for (auto& r : op->regions) walk(*r);
      if (op->kind != OpKind::Index || !act_.active(op->result()) || !act_.active(op->operand(0))) continue;
      bool invariant = true;
      for (const Value* v : op->operands) invariant &= caps.count(v) != 0;
      if (invariant) out.push_back(op.get());
    }
  };
  walk(region);
  return out;
}

// adj[a][s...] += total for each invariant read, when the loop nest ran
// (`ran`) and s is inside a: with no iteration, or with the read in a branch
// never taken, the indices were never checked (the total is 0 then).
void Emitter::flushReads(Builder& b, Map& adj, Env& env, const std::vector<const Operation*>& reads,
                         const std::vector<Value*>& totals, Value* ran) {
  for (size_t j = 0; j < reads.size(); ++j) {
    const Value* a = reads[j]->operand(0);
    auto it = adj.find(a);
    Value* base = it != adj.end() ? it->second : zerosLike(b, env[a]);
    Value* ok = ran;
    std::vector<Value*> dims = dimsOf(b, env[a]);
    for (size_t k = 1; k < reads[j]->operands.size(); ++k) {
      Value* s = env[reads[j]->operand(k)];
      ok = conj(b, ok, b.binary(OpKind::Ge, s, b.constI(0)));
      ok = conj(b, ok, b.binary(OpKind::Lt, s, dims[k - 1]));
    }
    Operation* guard = b.create(OpKind::If, {ok}, {base->type}, 2);
    Builder tb(guard->region(0));
    tb.setLoc(b.loc());
    std::vector<Value*> ops{base, totals[j]};
    for (size_t k = 1; k < reads[j]->operands.size(); ++k) ops.push_back(env[reads[j]->operand(k)]);
    Operation* u = tb.create(OpKind::AddAt, ops, {base->type});
    u->ints.assign(ops.size() - 2, 0);
    tb.yield({u->result()});
    Builder eb(guard->region(1));
    eb.setLoc(b.loc());
    eb.yield({base});
    adj[a] = guard->result();
  }
}

// y = map(n...) { body(i...) }: for every index, seed the body with dy[i...].
void Emitter::reverseMap(Builder& b, const Operation& op, Env& env, Map& adj) {
  auto found = adj.find(op.result());
  if (found == adj.end()) return;
  Value* dy = found->second;
  std::vector<const Value*> caps = activeCaptures(op);
  if (caps.empty()) return;
  const Block& region = *op.region(0);
  auto primal = env.vals.find(op.result());  // the primal map, read for its elements
  Value* computed = primal != env.vals.end() ? primal->second : nullptr;
  std::vector<IdentityGroup> groups = identityReads(region);
  std::set<const Operation*> skip = loopNestCaps(groups, caps);
  std::vector<const Operation*> reads = invariantReads(region);
  std::vector<Value*> extents, inits;
  for (Value* n : op.operands) extents.push_back(env[n]);
  for (const IdentityGroup& g : groups) {
    if (g.shifted()) {
      addOffsets(b, adj, env, std::vector<Value*>(extents.size(), nullptr), extents, g,
          [&](Builder& rb, const std::vector<Value*>& idx, const std::vector<const Value*>& keys) {
            return identityElement(rb, region, env, idx, keys, skip,
                                   [&](Builder& sb, Value*) { return indexAt(sb, dy, idx); }, computed);
          }, shapeProved(op, g.array, op.operands));
      continue;
    }
    addIdentity(b, adj, env, extents, nullptr, g, [&](Builder& rb, const std::vector<Value*>& idx) {
      return identityElement(rb, region, env, idx, resultsOf(g), skip,
                             [&](Builder& sb, Value*) { return indexAt(sb, dy, idx); }, computed);
    }, dy, shapeProved(op, g.array, op.operands));
  }
  if (caps.empty() && reads.empty()) return;
  std::vector<Value*> totals;
  // arrays used only by register-summed reads need no accumulator
  std::set<const Operation*> readSet(reads.begin(), reads.end());
  std::vector<const Value*> scattered;
  for (const Value* c : caps)
    if (c->type.rank == 0 || !usesOnly(region, c, readSet)) scattered.push_back(c);
  bool registersOnly = true;
  for (const Value* c : scattered) registersOnly &= c->type.rank == 0;
  if (registersOnly) {
    // only register sums: each is a `reduce sum` (vectorisable) over the nest
    std::set<const Operation*> all = skip;
    all.insert(reads.begin(), reads.end());
    auto sumOf = [&](const Value* key) {
      return reduceNest(b, key->type, extents, 0, {}, [&](Builder& rb, const std::vector<Value*>& idx) {
        return identityElement(rb, region, env, idx, {key}, all,
                               [&](Builder& sb, Value*) { return indexAt(sb, dy, idx); }, computed);
      });
    };
    for (const Value* c : scattered) addAdj(b, adj, env, c, sumOf(c));
    for (const Operation* r : reads) totals.push_back(sumOf(r->result()));
    caps.clear();
  } else {
    for (const Value* c : caps) inits.push_back(accInit(b, adj, env, c));
    for (const Operation* r : reads) inits.push_back(b.constF(0.0, r->result()->type));
    for (const Operation* r : skip) registerReads_.insert(r);
    totals = loopNest(b, extents, 0, {}, inits,
        [&](Builder& rb, const std::vector<Value*>& idx, const std::vector<Value*>& in) {
          std::vector<Value*> accs = in;
          reverseRegionAt(rb, region, env, idx, caps, reads, accs,
                          [&](Builder& sb, Value*) { return indexAt(sb, dy, idx); }, computed);
          return accs;
        });
    for (const Operation* r : skip) registerReads_.erase(r);
  }
  for (size_t j = 0; j < caps.size(); ++j) adj[caps[j]] = totals[j];
  if (reads.empty()) return;
  Value* ran = nullptr;
  for (Value* n : extents) {
    Value* some = b.binary(OpKind::Gt, n, b.constI(0));
    ran = ran ? b.binary(OpKind::And, ran, some) : some;
  }
  flushReads(b, adj, env, reads, std::vector<Value*>(totals.begin() + long(caps.size()), totals.end()), ran);
}

// W = [seed(e(lo + k)) for k in 0..n]: the seeds of a reduce's elements,
// computed once when several reverse passes (identity-read maps, the loop
// nest) need them, instead of once per pass (each seed of logsumexp is an
// exp).
Value* Emitter::sharedSeeds(Builder& b, const Block& region, const Env& env, Value* lo, Value* n, Type t,
                            const std::function<Value*(Builder&, Value*)>& seed) {
  Operation* m = b.create(OpKind::Map, {n}, {Type{t.elem, 1}}, 1);
  Value* k = m->region(0)->addArg(Type::i64(), "k");
  Builder rb(m->region(0));
  rb.setLoc(b.loc());
  Env inner = env;
  inner.vals[region.arg(0)] = rb.binary(OpKind::Add, lo, k);
  Value* e = forward(rb, region, inner, false, false)[0];
  rb.yield({seed(rb, e)});
  return m->result();
}

// The seed of a reduce's element e by the reduction's rule (see SeedFn).
Emitter::SeedFn Emitter::seedRule(Builder& b, const Operation& op, Env& env, Value* dy) {
  Value* lo = env[op.operand(0)];
  Value* hi = env[op.operand(1)];
  Value* y = env[op.result()];
  const std::string kind = op.s;
  Type t = y->type;
  // prod: count the zero elements and multiply the others first, so that the
  // seed dy * prod_{j != i} e_j is exact when elements are zero.
  Value* zeros = nullptr;
  Value* nonzeroProd = nullptr;
  if (kind == "prod") {
    for (const char* what : {"zeros", "prod"}) {
      Operation* r = b.create(OpKind::Reduce, {lo, hi}, {t}, 1);
      r->s = what == std::string("zeros") ? "sum" : "prod";
      Builder rb(r->region(0));
      rb.setLoc(op.loc);
      Env inner = env;
      inner.vals[op.region(0)->arg(0)] = r->region(0)->addArg(Type::i64(), "i");
      Value* e = forward(rb, *op.region(0), inner, false, false)[0];
      Value* isZero = rb.binary(OpKind::Eq, e, rb.constF(0.0, t));
      rb.yield({what == std::string("zeros") ? rb.select(isZero, rb.constF(1.0, t), rb.constF(0.0, t))
                                             : rb.select(isZero, rb.constF(1.0, t), e)});
      (what == std::string("zeros") ? zeros : nonzeroProd) = r->result();
    }
  }

  // The seed of element e at one index; `seen` (max/min only): "the first
  // extremal element was seen", carried in order.
  const bool extremal = kind == "max" || kind == "min";
  return [=](Builder& sb, Value* e, Value*& seen) -> Value* {
    Value* zero = sb.constF(0.0, t);
    if (kind == "sum") return dy;
    // d/de_i logsumexp(e) = exp(e_i - y)
    if (kind == "logsumexp") return sb.binary(OpKind::Mul, dy, sb.unary(OpKind::Exp, sb.binary(OpKind::Sub, e, y)));
    if (extremal) {
      // the whole adjoint goes to the first element equal to the result
      Value* hit = sb.binary(OpKind::And, sb.binary(OpKind::Eq, e, y), sb.unary(OpKind::Not, seen));
      seen = sb.binary(OpKind::Or, seen, hit);
      return sb.select(hit, dy, zero);
    }
    // prod: dy * prod_{j != i} e_j
    Value* one = sb.constF(1.0, t);
    Value* noZeros = sb.binary(OpKind::Eq, zeros, zero);
    Value* isZero = sb.binary(OpKind::Eq, e, zero);
    Value* onlyThis = sb.binary(OpKind::And, sb.binary(OpKind::Eq, zeros, one), isZero);
    Value* generic = sb.binary(OpKind::Div, sb.binary(OpKind::Mul, dy, y), sb.select(isZero, one, e));
    return sb.select(noZeros, generic, sb.select(onlyThis, sb.binary(OpKind::Mul, dy, nonzeroProd), zero));
  };
}

// y = reduce kind (lo, hi) { e(i) }: seed each element by the reduction's rule.
void Emitter::reverseReduce(Builder& b, const Operation& op, Env& env, Map& adj) {
  auto found = adj.find(op.result());
  if (found == adj.end()) return;
  Value* dy = found->second;
  std::vector<const Value*> caps = activeCaptures(op);
  if (caps.empty()) return;
  Value* lo = env[op.operand(0)];
  Value* hi = env[op.operand(1)];
  Value* y = env[op.result()];
  Value* n = b.select(b.binary(OpKind::Gt, hi, lo), b.binary(OpKind::Sub, hi, lo), b.constI(0));
  const std::string& kind = op.s;
  Type t = y->type;

  const bool extremal = kind == "max" || kind == "min";
  SeedFn seedOf = seedRule(b, op, env, dy);
  const Block& region = *op.region(0);
  std::vector<IdentityGroup> groups = extremal ? std::vector<IdentityGroup>{} : identityReads(region);
  const Operation* lo0 = op.operand(0)->def;
  bool zeroLo = lo0 && lo0->kind == OpKind::ConstI && lo0->i == 0;
  std::set<const Operation*> skip = loopNestCaps(groups, caps);
  std::vector<const Operation*> reads = invariantReads(region);
  // The seed of element lo + k: from the shared seeds when several passes
  // below need it (logsumexp's softmax weights, prod's quotients), else
  // recomputed where it is used.
  size_t passes = groups.size() + (caps.empty() && reads.empty() ? 0 : 1);
  Value* shared = passes >= 2 && (kind == "logsumexp" || kind == "prod") && !hasLoops(region)
                      ? sharedSeeds(b, region, env, lo, n, t, [&](Builder& sb, Value* e) {
                          Value* none = nullptr;
                          return seedOf(sb, e, none);
                        })
                      : nullptr;
  auto seedAt = [&](Builder& sb, Value* e, Value* k) {
    if (shared) return indexAt(sb, shared, {k});
    Value* none = nullptr;
    return seedOf(sb, e, none);
  };
  for (const IdentityGroup& g : groups) {
    if (g.shifted()) {
      addOffsets(b, adj, env, {lo}, {hi}, g,
          [&](Builder& rb, const std::vector<Value*>& i, const std::vector<const Value*>& keys) {
            return identityElement(rb, region, env, i, keys, skip, [&](Builder& sb, Value* e) {
              return seedAt(sb, e, sb.binary(OpKind::Sub, i[0], lo));
            });
          }, zeroLo && shapeProved(op, g.array, {op.operand(1)}));
      continue;
    }
    addIdentity(b, adj, env, {n}, lo, g, [&](Builder& rb, const std::vector<Value*>& k) {
      Value* i = rb.binary(OpKind::Add, lo, k[0]);
      return identityElement(rb, region, env, {i}, resultsOf(g), skip,
                             [&](Builder& sb, Value* e) { return seedAt(sb, e, k[0]); });
    }, nullptr, zeroLo && shapeProved(op, g.array, {op.operand(1)}));
  }
  if (caps.empty() && reads.empty()) return;
  std::vector<Value*> inits;
  for (const Value* c : caps) inits.push_back(accInit(b, adj, env, c));
  for (const Operation* r : reads) inits.push_back(b.constF(0.0, r->result()->type));
  const size_t nAccs = inits.size();
  if (extremal) inits.push_back(b.constB(false));  // "first extremal element seen"
  for (const Operation* r : skip) registerReads_.insert(r);
  std::vector<Value*> totals = loopNest(b, {n}, 0, {}, inits,
      [&](Builder& rb, const std::vector<Value*>& k, const std::vector<Value*>& in) {
        std::vector<Value*> accs(in.begin(), in.begin() + long(nAccs));
        Value* seen = extremal ? in.back() : nullptr;
        Value* i = rb.binary(OpKind::Add, lo, k[0]);
        reverseRegionAt(rb, region, env, {i}, caps, reads, accs, [&](Builder& sb, Value* e) {
          return extremal ? seedOf(sb, e, seen) : seedAt(sb, e, k[0]);
        });
        if (extremal) accs.push_back(seen);
        return accs;
      });
  for (const Operation* r : skip) registerReads_.erase(r);
  for (size_t j = 0; j < caps.size(); ++j) adj[caps[j]] = totals[j];
  if (!reads.empty())
    flushReads(b, adj, env, reads, std::vector<Value*>(totals.begin() + long(caps.size()), totals.begin() + long(nAccs)),
               b.binary(OpKind::Gt, n, b.constI(0)));
}

}  // namespace chain::passes::ad
