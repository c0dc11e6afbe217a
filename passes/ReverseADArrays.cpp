// Reverse AD of the parallel array ops, map and reduce (see the design note in
// ReverseAD.cpp). Their iterations are independent, so the reverse is a loop
// nest over the same index space that recomputes each element's body and
// reverses it, with no tape; adjoints of captured values are accumulated in
// the loop's carried values (scalars in registers, arrays by in-place
// scatter-adds).
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
// level; `body` maps (indices, accumulators) to the new accumulators.
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

Value* indexAt(Builder& b, Value* a, const std::vector<Value*>& idx) {
  std::vector<Value*> ops{a};
  ops.insert(ops.end(), idx.begin(), idx.end());
  return b.create(OpKind::Index, ops, {Type{a->type.elem, 0}})->result();
}

}  // namespace

void Emitter::reverseRegionAt(Builder& rb, const Block& region, const Env& env,
                              const std::vector<Value*>& idx, const std::vector<const Value*>& caps,
                              const std::vector<const Operation*>& reads, std::vector<Value*>& accs,
                              const std::function<Value*(Builder&, Value*)>& seed) {
  Env inner = env;
  for (size_t k = 0; k < idx.size(); ++k) inner.vals[region.arg(k)] = idx[k];
  std::vector<Value*> elem = forward(rb, region, inner, true, false);
  Map a2;
  for (size_t j = 0; j < caps.size(); ++j) a2[caps[j]] = accs[j];
  for (size_t j = 0; j < reads.size(); ++j) {
    a2[reads[j]->result()] = accs[caps.size() + j];  // a register sum, see invariantReads
    registerReads_.insert(reads[j]);
  }
  addAdj(rb, a2, inner, region.terminator()->operand(0), seed(rb, elem[0]));
  reverse(rb, region, inner, a2);
  for (size_t j = 0; j < caps.size(); ++j) accs[j] = a2[caps[j]];
  for (size_t j = 0; j < reads.size(); ++j) {
    accs[caps.size() + j] = a2[reads[j]->result()];
    registerReads_.erase(reads[j]);
  }
}

// Reads `a[s...]` at the top level of a map/reduce region whose array and
// indices are all defined outside it: the same element at every index, so
// its adjoint is summed in a register across the loop nest and added to da
// once afterwards (flushReads), instead of a scatter-add per element.
std::vector<const Operation*> Emitter::invariantReads(const Block& region) const {
  std::vector<const Value*> capsList = capturedValues(region);
  std::set<const Value*> caps(capsList.begin(), capsList.end());
  std::vector<const Operation*> out;
  for (auto& op : region.ops) {
    if (op->kind != OpKind::Index || !act_.active(op->result()) || !act_.active(op->operand(0))) continue;
    bool invariant = true;
    for (const Value* v : op->operands) invariant &= caps.count(v) != 0;
    if (invariant) out.push_back(op.get());
  }
  return out;
}

// adj[a][s...] += total for each invariant read, when the loop nest ran
// (`ran`): with no iteration the indices were never checked.
void Emitter::flushReads(Builder& b, Map& adj, Env& env, const std::vector<const Operation*>& reads,
                         const std::vector<Value*>& totals, Value* ran) {
  for (size_t j = 0; j < reads.size(); ++j) {
    const Value* a = reads[j]->operand(0);
    auto it = adj.find(a);
    Value* base = it != adj.end() ? it->second : zerosLike(b, env[a]);
    Operation* guard = b.create(OpKind::If, {ran}, {base->type}, 2);
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
  std::vector<const Operation*> reads = invariantReads(*op.region(0));
  std::vector<Value*> extents, inits;
  for (Value* n : op.operands) extents.push_back(env[n]);
  for (const Value* c : caps) inits.push_back(accInit(b, adj, env, c));
  for (const Operation* r : reads) inits.push_back(b.constF(0.0, r->result()->type));
  std::vector<Value*> totals = loopNest(b, extents, 0, {}, inits,
      [&](Builder& rb, const std::vector<Value*>& idx, const std::vector<Value*>& in) {
        std::vector<Value*> accs = in;
        reverseRegionAt(rb, *op.region(0), env, idx, caps, reads, accs,
                        [&](Builder& sb, Value*) { return indexAt(sb, dy, idx); });
        return accs;
      });
  for (size_t j = 0; j < caps.size(); ++j) adj[caps[j]] = totals[j];
  if (reads.empty()) return;
  Value* ran = nullptr;
  for (Value* n : extents) {
    Value* some = b.binary(OpKind::Gt, n, b.constI(0));
    ran = ran ? b.binary(OpKind::And, ran, some) : some;
  }
  flushReads(b, adj, env, reads, std::vector<Value*>(totals.begin() + long(caps.size()), totals.end()), ran);
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

  std::vector<const Operation*> reads = invariantReads(*op.region(0));
  std::vector<Value*> inits;
  for (const Value* c : caps) inits.push_back(accInit(b, adj, env, c));
  for (const Operation* r : reads) inits.push_back(b.constF(0.0, r->result()->type));
  const size_t nAccs = inits.size();
  const bool extremal = kind == "max" || kind == "min";
  if (extremal) inits.push_back(b.constB(false));  // "first extremal element seen"
  std::vector<Value*> totals = loopNest(b, {n}, 0, {}, inits,
      [&](Builder& rb, const std::vector<Value*>& k, const std::vector<Value*>& in) {
        std::vector<Value*> accs(in.begin(), in.begin() + long(nAccs));
        Value* seen = extremal ? in.back() : nullptr;
        Value* i = rb.binary(OpKind::Add, lo, k[0]);
        reverseRegionAt(rb, *op.region(0), env, {i}, caps, reads, accs, [&](Builder& sb, Value* e) -> Value* {
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
        });
        if (extremal) accs.push_back(seen);
        return accs;
      });
  for (size_t j = 0; j < caps.size(); ++j) adj[caps[j]] = totals[j];
  if (!reads.empty())
    flushReads(b, adj, env, reads, std::vector<Value*>(totals.begin() + long(caps.size()), totals.begin() + long(nAccs)),
               b.binary(OpKind::Gt, n, b.constI(0)));
}

}  // namespace chain::passes::ad
