// The simplify pass, array part: folds of dim/index/slice/transpose/reduce
// and map FUSION.
//
// * dim of fill/map/build/transpose/update/add_at/slice/matmul is rewritten
//   in terms of the operands' sizes (dim(map(n..), k) = n_k, ...).
// * index(map(n..){body}, i..) is replaced by the map body with its
//   arguments replaced by the indices (fusion) when that does not move work
//   into a deeper loop: every loop between the map and the read iterates
//   over one of the indices, and the body is cheap (at most 8 ops, no nested
//   region) or the map has a single use. A trivial body (loads and at most
//   one add/mul/compare/select...) is fused at any depth. So exp(x[:, 0..d])
//   read inside a loop over points stays one materialised array, and so
//   does a costly comprehension read by logsumexp: code generation would
//   evaluate it once (running max), but reverse AD of the fused logsumexp
//   recomputes the body for the softmax weights, so the gradient would run
//   it twice (measured: gmm gradient slower). index(fill(v)) = v,
//   index(transpose(a), i, j) = index(a, j, i), index(slice(a, sel), ..) =
//   index(a, combined indices), index(build(e..), k, ..) = e_k[..].
// * Bounds: a fold that removes a bounds-checked read keeps the check as an
//   `assert` with the same message, unless the index is known to be in range
//   (an argument of an enclosing map/reduce/for that iterates over exactly
//   the same extent value, or a constant below a constant extent).
// * Sizes: a fill or map whose size is not known to be >= 0 gets an assert
//   "array size {} is negative" before it, so folds, fusion and dead-code
//   removal keep the runtime error of a negative size (issue 10 item 6).
// * slice(a, :, ..) = a, transpose(transpose(a)) = a, and a reduce over an
//   empty constant range is its identity (sum/prod; i64 max/min).
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>

#include "passes/IntFacts.h"
#include "passes/SimplifyImpl.h"

namespace chain::passes {

bool transcendental(ir::OpKind k) {
  using ir::OpKind;
  for (OpKind x : {OpKind::Exp, OpKind::Log, OpKind::Tanh, OpKind::Sin, OpKind::Cos, OpKind::Tan, OpKind::Pow,
                   OpKind::Sigmoid, OpKind::Softplus, OpKind::Log1p, OpKind::Expm1, OpKind::Atan2,
                   OpKind::RandUniform, OpKind::RandNormal, OpKind::RandMix})
    if (k == x) return true;
  return false;
}

}  // namespace chain::passes

namespace chain::passes::simp {

using ir::Block;
using ir::Builder;
using ir::Operation;
using ir::OpKind;
using ir::Scalar;
using ir::Type;
using ir::Value;

namespace {

// A map body is cheap to recompute per read: few ops and no nested region.
bool oneOf(OpKind k, std::initializer_list<OpKind> ks) {
  for (OpKind x : ks)
    if (k == x) return true;
  return false;
}

bool hasTranscendental(const Block& body) {
  for (auto& op : body.ops) {
    if (transcendental(op->kind)) return true;
    for (auto& r : op->regions)
      if (hasTranscendental(*r)) return true;
  }
  return false;
}

// At most 8 ops, no region and no transcendental function: recomputing it at
// every read costs about what reading it back from memory does.
bool cheapBody(const Block& body) {
  if (body.ops.size() > 9) return false;  // 8 ops + yield
  for (auto& op : body.ops)
    if (!op->regions.empty() || transcendental(op->kind)) return false;
  return true;
}

// Ops that cost about as much as the load of a materialised element.
bool freeOp(OpKind k) {
  return oneOf(k, {OpKind::ConstF, OpKind::ConstI, OpKind::ConstB, OpKind::Dim, OpKind::Index,
                   OpKind::Cast, OpKind::StopGradient, OpKind::Yield});
}

// One cheap arithmetic op (no division, no transcendental function).
bool cheapArith(OpKind k) {
  return oneOf(k, {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Neg, OpKind::Abs, OpKind::Min,
                   OpKind::Max, OpKind::Select, OpKind::Lt, OpKind::Le, OpKind::Gt, OpKind::Ge,
                   OpKind::Eq, OpKind::Ne, OpKind::And, OpKind::Or, OpKind::Not});
}

// A map body so cheap that recomputing it per read, even in a deeper loop,
// costs no more than reading the materialised element: loads, constants,
// casts and at most one cheap arithmetic op.
bool trivialBody(const Block& body) {
  int arith = 0;
  for (auto& op : body.ops) {
    if (!op->regions.empty()) return false;
    if (freeOp(op->kind)) continue;
    if (!cheapArith(op->kind) || ++arith > 1) return false;
  }
  return true;
}

bool contains(const std::vector<Value*>& vs, const Value* v) {
  for (const Value* x : vs)
    if (x == v) return true;
  return false;
}

// True when the loops around `from` (up to the map's block) that iterate
// over the read's indices nest them in the map's own order: outer loops
// over earlier axes. A read M[c, i] inside `for i { for c { .. } }` is
// transposed: fusing there would run the body in another order than the
// one it was written in, and a costly body's own reads (a row L[c] reused
// for every i) would lose their locality.
bool keepsOrder(const Block* from, const Block* mapBlock, const std::vector<Value*>& idx) {
  size_t inner = idx.size();  // the axis of the loop met just inside, walking out
  for (const Block* blk = from; blk && blk != mapBlock; blk = blk->parentOp ? blk->parentOp->parent : nullptr) {
    for (size_t a = blk->args.size(); a-- > 0;) {
      size_t axis = 0;
      while (axis < idx.size() && idx[axis] != blk->arg(a)) ++axis;
      if (axis == idx.size()) continue;
      if (axis > inner) return false;
      inner = axis;
    }
  }
  return true;
}

}  // namespace

void Simplifier::forget(const Operation& op) {
  origin_.erase(&op);
  for (auto& res : op.results) sameShape_.erase(res.get());
  for (auto& r : op.regions) {
    for (auto& a : r->args) sameShape_.erase(a.get());
    for (auto& o : r->ops) forget(*o);
  }
}

Value* Simplifier::make(Builder& b, OpKind k, std::vector<Value*> operands, Type t, ir::SrcLoc loc,
                        int64_t attrI) {
  Operation tmp(k);
  tmp.i = attrI;
  tmp.loc = loc;
  tmp.addResult(t);
  return emitPure(b, tmp, operands)[0];
}

// map and reduce: operands mapped, region simplified under a new CSE scope
// (never CSE'd themselves); a reduce over an empty constant range folds.
void Simplifier::emitMapReduce(Builder& b, const Operation& op) {
  std::vector<Value*> operands = mapAll(op.operands);
  if (op.kind == OpKind::Map) sizeAsserts(b, op, operands);
  if (Value* v = foldSelectSum(b, op, operands)) {
    map_[op.result()] = v;
    ++arrayChanges_;
    return;
  }
  int64_t lo, hi;
  if (op.kind == OpKind::Reduce && constInt(operands[0], lo) && constInt(operands[1], hi) && hi <= lo) {
    Type t = op.result()->type;
    bool sum = op.s == "sum", prod = op.s == "prod";
    fold::Result r;
    r.kind = fold::Result::Constant;
    r.type = t;
    if (t.isFloat() && (sum || prod)) {
      r.constKind = OpKind::ConstF;
      r.f = sum ? 0.0 : 1.0;
    } else if (t.elem == Scalar::I64 && op.s != "logsumexp") {
      r.constKind = OpKind::ConstI;
      r.i = sum ? 0 : prod ? 1 : op.s == "max" ? std::numeric_limits<int64_t>::min()
                                              : std::numeric_limits<int64_t>::max();
    } else {
      r.kind = fold::Result::None;  // -inf/+inf: left to run time (--nan-check)
    }
    if (r.kind == fold::Result::Constant) {
      map_[op.result()] = constant(b, r, op.loc);
      ++arrayChanges_;
      return;
    }
  }
  Operation* n = shell(b, op, operands);
  emitRegion(n, *op.region(0));
  if (op.kind == OpKind::Map) origin_[n] = &op;
  map_[op.result()] = n->result();
}

// sum(if i == c { e(i) } else { 0.0 } for i in lo..hi), c not depending on i
// (reverse AD makes these for a read x[c] beside x[i]) is
// if lo <= c < hi { e(c) + 0.0 } else { 0.0 }: one element instead of a pass
// (+ 0.0: a sum of -0.0 and +0.0 terms is +0.0). Only for regions whose
// other elements could not trap (no assert, division or effect: reads at
// i != c are dead, as everywhere else).
Value* Simplifier::foldSelectSum(Builder& b, const Operation& op, const std::vector<Value*>& operands) {
  if (op.kind != OpKind::Reduce || op.s != "sum" || !op.result()->type.isFloat()) return nullptr;
  const Block& region = *op.region(0);
  const Value* i = region.arg(0);
  const Operation* sel = region.terminator()->operand(0)->def;
  if (!sel || sel->kind != OpKind::If || sel->parent != &region) return nullptr;
  const Operation* eq = sel->operand(0)->def;
  if (!eq || eq->kind != OpKind::Eq) return nullptr;
  const Value* c = eq->operand(0) == i ? eq->operand(1) : eq->operand(1) == i ? eq->operand(0) : nullptr;
  if (!c || c == i || (c->def && definedIn(c, &op))) return nullptr;
  const Value* zero = sel->region(1)->terminator()->operand(0);
  double f;
  int64_t n;
  if (!zero->def || zero->def->kind != OpKind::ConstF || !fold::constantOf(zero, f, n) || f != 0.0 ||
      std::signbit(f))
    return nullptr;
  std::function<bool(const Block&)> safe = [&](const Block& blk) {
    for (auto& o : blk.ops) {
      if (o->kind == OpKind::Assert || o->kind == OpKind::Div || o->kind == OpKind::Rem ||
          hasFlag(o->kind, ir::Effect))
        return false;
      for (auto& r : o->regions)
        if (!safe(*r)) return false;
    }
    return true;
  };
  if (!safe(region)) return nullptr;
  Type bt = Type::boolean(), t = op.result()->type;
  Value* cv = m(const_cast<Value*>(c));
  Value* inside = make(b, OpKind::And, {make(b, OpKind::Ge, {cv, operands[0]}, bt, op.loc),
                                        make(b, OpKind::Lt, {cv, operands[1]}, bt, op.loc)}, bt, op.loc);
  Operation* guard = b.create(OpKind::If, {inside}, {t}, 2);
  map_[region.arg(0)] = cv;
  scopes_.emplace_back();
  eqScopes_.emplace_back();
  Builder tb(guard->region(0));
  tb.setLoc(op.loc);
  Value* e = emitInline(tb, region)[0];
  Value* zf = make(tb, OpKind::ConstF, {}, t, op.loc);
  tb.yield({make(tb, OpKind::Add, {e, zf}, t, op.loc)});
  eqScopes_.pop_back();
  scopes_.pop_back();
  Builder eb(guard->region(1));
  eb.setLoc(op.loc);
  eb.yield({make(eb, OpKind::ConstF, {}, t, op.loc)});
  return guard->result();
}

Value* Simplifier::foldArray(Builder& b, const Operation& op, const std::vector<Value*>& o) {
  if (op.kind == OpKind::Dim) return foldDim(b, op, o[0], op.i);
  if (op.kind == OpKind::Index) return foldIndex(b, op, o);
  if (op.kind == OpKind::Slice) {
    for (int64_t k : op.ints)
      if (k != 2) return nullptr;
    return o[0]->type == op.result()->type ? o[0] : nullptr;
  }
  if (op.kind == OpKind::Transpose && o[0]->def && o[0]->def->kind == OpKind::Transpose)
    return o[0]->def->operand(0);
  return nullptr;
}

// dim(a, axis) from the sizes of what `a` is made of.
Value* Simplifier::foldDim(Builder& b, const Operation& op, Value* a, int64_t axis) {
  Type i64 = Type::i64();
  auto dim = [&](Value* v, int64_t k) { return make(b, OpKind::Dim, {v}, i64, op.loc, k); };
  auto same = sameShape_.find(a);
  if (same != sameShape_.end()) return dim(same->second, axis);
  Operation* d = a->def;
  if (!d) return nullptr;
  OpKind k = d->kind;
  if (k == OpKind::Fill) return d->operand(static_cast<size_t>(axis) + 1);
  if (k == OpKind::Map) return d->operand(static_cast<size_t>(axis));
  if (k == OpKind::Transpose) return dim(d->operand(0), 1 - axis);
  if (k == OpKind::Update || k == OpKind::AddAt) return dim(d->operand(0), axis);
  if (k == OpKind::MatMul) {
    Value *x = d->operand(0), *y = d->operand(1);
    return x->type.rank == 2 && axis == 0 ? dim(x, 0) : dim(y, 1);
  }
  if (k == OpKind::Build) {
    if (axis > 0) return dim(d->operand(0), axis - 1);
    fold::Result r;
    r.kind = fold::Result::Constant;
    r.constKind = OpKind::ConstI;
    r.i = static_cast<int64_t>(d->operands.size());
    r.type = i64;
    return constant(b, r, op.loc);
  }
  if (k != OpKind::Slice) return nullptr;
  size_t o = 1;  // the kept axis number `axis`: a whole axis or a range
  int64_t kept = 0;
  for (size_t ax = 0; ax < d->ints.size(); ++ax) {
    int64_t kind = d->ints[ax];
    if (kind != 0 && kept++ == axis) {
      if (kind == 2) return dim(d->operand(0), static_cast<int64_t>(ax));
      rangeAssert(b, *d, ax, d->operand(o), d->operand(o + 1));
      return make(b, OpKind::Sub, {d->operand(o + 1), d->operand(o)}, i64, op.loc);
    }
    o += kind == 0 ? 1 : kind == 1 ? 2 : 0;
  }
  return nullptr;
}

// True when `idx` is known to lie in 0..extent-1.
bool Simplifier::knownInRange(Builder& b, Value* idx, Value* extent) const {
  (void)b;
  int64_t c, n;
  if (constInt(idx, c) && constInt(extent, n)) return c >= 0 && c < n;
  if (idx->def || !idx->owner || !idx->owner->parentOp) return false;
  const Operation* p = idx->owner->parentOp;
  if (p->kind == OpKind::Map)
    return static_cast<size_t>(idx->index) < p->operands.size() && p->operand(static_cast<size_t>(idx->index)) == extent;
  if ((p->kind == OpKind::Reduce || p->kind == OpKind::For) && idx->index == 0) {
    int64_t lo;
    return constInt(p->operand(0), lo) && lo >= 0 && p->operand(1) == extent;
  }
  return false;
}

// assert(0 <= idx < extent) with the message of a failed index read.
void Simplifier::boundsAssert(Builder& b, const Operation& op, Value* idx, Value* extent, size_t axis) {
  Type bt = Type::boolean();
  Value* zero = make(b, OpKind::ConstI, {}, Type::i64(), op.loc);
  Value* ge = make(b, OpKind::Ge, {idx, zero}, bt, op.loc);
  Value* lt = make(b, OpKind::Lt, {idx, extent}, bt, op.loc);
  Value* ok = make(b, OpKind::And, {ge, lt}, bt, op.loc);
  emitAssert(b, op.loc, ok, {idx, extent},
             "index {} is out of bounds for axis " + std::to_string(axis) + " of size {}");
}

// The check a fill or map makes on its sizes (a negative size is a runtime
// error, SPEC §7), as an assert before it for every size not known to be
// >= 0, so that neither dim(fill(v, n)) = n, nor fusing the array into its
// reads, nor removing it as dead code loses the error. Repeated sizes are
// checked once (emitAssert).
void Simplifier::sizeAsserts(Builder& b, const Operation& op, const std::vector<Value*>& sizes) {
  for (Value* n : sizes) {
    if (nonNegative(n)) continue;
    Value* zero = make(b, OpKind::ConstI, {}, Type::i64(), op.loc);
    emitAssert(b, op.loc, make(b, OpKind::Ge, {n, zero}, Type::boolean(), op.loc), {n},
               "array size {} is negative");
  }
}

void Simplifier::emitAssert(Builder& b, ir::SrcLoc loc, Value* ok, std::vector<Value*> values,
                            const std::string& msg) {
  double f;
  int64_t c;
  if (fold::constantOf(ok, f, c) && c) return;
  values.insert(values.begin(), ok);
  Operation tmp(OpKind::Assert);
  tmp.s = msg;
  CseKey key = makeKey(tmp, values);
  if (lookup(key)) return;  // the same check was done already
  ir::SrcLoc saved = b.loc();
  b.setLoc(loc);
  Operation* a = b.create(OpKind::Assert, std::move(values), {});
  b.setLoc(saved);
  a->s = msg;
  scopes_.back()[key] = a;
  learnAssert(ok);
}

// Fusion may recompute the body once per read. It never moves work into a
// deeper loop than the map's own: the read must be nested in the map's
// block only through ifs and through maps/reduces/fors whose iteration
// arguments are all indices of the read (each element is then computed at
// most once per run of the map's block and read), unless the body is
// trivial (loads and at most one cheap arithmetic op). Within that, a cheap
// body (a few ops, no region) is fused at every read, any other body only
// at its single use.
bool Simplifier::mayFuse(Builder& b, Operation* mapOp, const std::vector<Value*>& idx) const {
  const Block& body = *mapOp->region(0);
  if (trivialBody(body)) return true;
  if (!sameDepth(b, mapOp, idx)) return false;
  if (cheapBody(body)) return true;
  if (!keepsOrder(b.block(), mapOp->parent, idx)) return false;
  // before reverse AD, a map calling exp/tanh/... stays one array (see
  // ir::Function::forDifferentiation)
  if (forAD_ && hasTranscendental(body)) return false;
  auto it = origin_.find(mapOp);
  if (it == origin_.end()) return false;
  auto u = uses_.find(it->second->result());
  return u != uses_.end() && u->second == 1;
}

// True when every loop between `b`'s block and the map's block iterates
// over one of the read's indices (ifs are transparent; whiles, and logsumexp
// reduces, whose fused body reverse AD evaluates twice, never are).
bool Simplifier::sameDepth(Builder& b, Operation* mapOp, const std::vector<Value*>& idx) const {
  for (const Block* blk = b.block(); blk != mapOp->parent; blk = blk->parentOp->parent) {
    const Operation* p = blk->parentOp;
    if (!p) return false;
    if (p->kind == OpKind::If) continue;
    // the adjoint of logsumexp re-reads its body (softmax weights): a fused
    // costly body would be computed twice by the gradient
    if (p->kind == OpKind::While || (p->kind == OpKind::Reduce && p->s == "logsumexp")) return false;
    size_t nargs = p->kind == OpKind::Map ? blk->args.size() : p->kind == OpKind::Reduce || p->kind == OpKind::For ? 1 : 0;
    if (nargs == 0) return false;
    for (size_t a = 0; a < nargs; ++a)
      if (!contains(idx, blk->arg(a))) return false;
  }
  return true;
}

// Emits the body of `mapOp` at the read `op` with its arguments := idx.
Value* Simplifier::fuseMap(Builder& b, const Operation& op, Operation* mapOp, const std::vector<Value*>& idx) {
  const Block& body = *mapOp->region(0);
  for (size_t k = 0; k < idx.size(); ++k)
    if (!knownInRange(b, idx[k], mapOp->operand(k))) boundsAssert(b, op, idx[k], mapOp->operand(k), k);
  std::map<const Value*, Value*> local;
  for (size_t k = 0; k < idx.size(); ++k) local[body.arg(k)] = idx[k];
  auto mapped = [&](Value* v) {
    auto f = local.find(v);
    return f == local.end() ? v : f->second;
  };
  for (auto& bop : body.ops) {
    if (bop->kind == OpKind::Yield) return mapped(bop->operand(0));
    if (!bop->regions.empty() || !hasFlag(bop->kind, ir::Pure) || hasFlag(bop->kind, ir::Effect)) {
      b.clone(*bop, local);
      continue;
    }
    std::vector<Value*> operands;
    for (Value* v : bop->operands) operands.push_back(mapped(v));
    std::vector<Value*> rs = emitPure(b, *bop, operands);
    for (size_t r = 0; r < rs.size(); ++r) local[bop->result(r)] = rs[r];
  }
  return nullptr;  // a region always ends with its yield
}

Value* Simplifier::foldIndex(Builder& b, const Operation& op, const std::vector<Value*>& o) {
  Operation* d = o[0]->def;
  if (!d) return nullptr;
  std::vector<Value*> idx(o.begin() + 1, o.end());
  Type et = op.result()->type;
  if (d->kind == OpKind::Map) {
    bool direct = &op == directIndex_;
    if (!cheapBody(*d->region(0)) && !direct) return nullptr;
    return mayFuse(b, d, idx) ? fuseMap(b, op, d, idx) : nullptr;
  }
  if (d->kind == OpKind::Fill) {
    for (size_t k = 0; k < idx.size(); ++k)
      if (!knownInRange(b, idx[k], d->operand(k + 1))) boundsAssert(b, op, idx[k], d->operand(k + 1), k);
    return d->operand(0);
  }
  if (d->kind == OpKind::Transpose && idx.size() == 2)
    return make(b, OpKind::Index, {d->operand(0), idx[1], idx[0]}, et, op.loc);
  int64_t k;
  if (d->kind == OpKind::Build && constInt(idx[0], k) && k >= 0 && k < static_cast<int64_t>(d->operands.size())) {
    Value* e = d->operand(static_cast<size_t>(k));
    if (idx.size() == 1) return e;
    std::vector<Value*> rest = {e};
    rest.insert(rest.end(), idx.begin() + 1, idx.end());
    return make(b, OpKind::Index, rest, et, op.loc);
  }
  if (d->kind == OpKind::Slice) return indexOfSlice(b, op, d, idx);
  return nullptr;
}

// The check a slice does on its range lo..hi of axis `ax` (kept when a fold
// makes the slice dead).
void Simplifier::rangeAssert(Builder& b, const Operation& slice, size_t ax, Value* lo, Value* hi) {
  Type i64 = Type::i64(), bt = Type::boolean();
  ir::SrcLoc loc = slice.loc;
  Value* size = make(b, OpKind::Dim, {slice.operand(0)}, i64, loc, static_cast<int64_t>(ax));
  Value* zero = make(b, OpKind::ConstI, {}, i64, loc);
  Value* ok = make(b, OpKind::And,
                   {make(b, OpKind::And, {make(b, OpKind::Ge, {lo, zero}, bt, loc),
                                          make(b, OpKind::Le, {lo, hi}, bt, loc)}, bt, loc),
                    make(b, OpKind::Le, {hi, size}, bt, loc)}, bt, loc);
  emitAssert(b, loc, ok, {lo, hi, size},
             "range {}..{} is out of bounds for axis " + std::to_string(ax) + " of size {}");
}

// index(slice(a, sel), idx..) = index(a, combined): a kind-0 axis keeps its
// index, a whole axis takes the next idx, a range lo..hi takes idx + lo
// after checking the range (as the slice did) and idx against hi - lo.
Value* Simplifier::indexOfSlice(Builder& b, const Operation& op, Operation* d, const std::vector<Value*>& idx) {
  Value* arr = d->operand(0);
  Type i64 = Type::i64();
  std::vector<Value*> combined = {arr};
  size_t o = 1, j = 0;
  for (size_t ax = 0; ax < d->ints.size(); ++ax) {
    int64_t kind = d->ints[ax];
    if (kind == 0) {
      combined.push_back(d->operand(o++));
      continue;
    }
    if (j >= idx.size()) return nullptr;
    Value* i = idx[j++];
    if (kind == 2) {
      combined.push_back(i);
      continue;
    }
    Value *lo = d->operand(o), *hi = d->operand(o + 1);
    o += 2;
    rangeAssert(b, *d, ax, lo, hi);
    Value* ext = make(b, OpKind::Sub, {hi, lo}, i64, op.loc);
    if (!knownInRange(b, i, ext)) boundsAssert(b, op, i, ext, j - 1);
    combined.push_back(make(b, OpKind::Add, {i, lo}, i64, op.loc));
  }
  return make(b, OpKind::Index, combined, op.result()->type, op.loc);
}

}  // namespace chain::passes::simp
