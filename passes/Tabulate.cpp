// The tabulate pass: loop-invariant code motion for subexpressions that
// depend on inner loop indices. It runs after hoist (see Registry.cpp).
// Hoist moves an op out of a loop only when the op uses nothing the loop
// defines; in
//     sum(logsumexp(... sum(exp(icf[c, i]) * (x[p, i] - means[c, i]) for i in 0..d)
//                   for c in 0..k) for p in 0..n)
// exp(icf[c, i]) uses the indices c and i of loops inside the loop over p,
// so it stays, and runs n·k·d times for k·d distinct values. This pass
// computes such a value once per index tuple, as a table before the loop:
//     %E = map (k, d) { ^(c, i): exp(icf[c, i]) }
// and the original op becomes `index %E, c, i`.
//
// For every loop L (for, map, reduce), outermost first: the loops nested in
// L through loop regions only (never an `if` or `while`, so that they run
// whenever L's iteration does) whose range does not depend on L give table
// axes: their indices (offset by the range's start). A loop over 0..i, i
// such an axis over 0..n, is a triangular axis over 0..n: the table leaves
// its entries j >= i at 0, never evaluating them (the loop does not either).
// A candidate is a float scalar op that is costly to recompute (a
// transcendental function; a reduce, an inner sum of d terms read n times;
// or an array read whose index multiplies or divides two loop indices, like
// the packed triangle icf[c, d + j*(2d - j - 1)/2 + i - j - 1]) and whose
// value depends on table axes and on nothing else that L defines (its
// operands, recursively, are pure ops, values defined before L, or axis
// indices). The candidate and the ops it needs are cloned into the table's
// map body, and the loop reads the table contiguously.
//
// Cost rule: a table is built only when the candidate reads an array element
// through indices that use every axis of the table (`icf[c, i]` for a table
// over c and i; a triangular axis counts with its bound), so the table is
// about the size of an array the program already holds (the unpacked
// triangle: twice the packed one), never a product of unrelated ranges
// (exp(a[i] + b[j]) is left alone).
//
// Safety: the table evaluates the candidate for every index tuple of its
// axes, which the loops evaluate too, but only when L and every loop on the
// way to the candidate that gives no axis run at least once (their ranges do
// not depend on L, so this is tested before L); unless known, the table's
// first extent is 0 when the test fails (an empty table, never read).
// Runtime errors and --nan-check report the same positions
// (the cloned ops keep their source locations).
#include "passes/Tabulate.h"

#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "passes/Hoist.h"
#include "passes/IntFacts.h"
#include "passes/Simplify.h"

namespace chain::passes {

namespace {

using ir::Block;
using ir::Builder;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

using ValueMap = std::map<const Value*, Value*>;

bool isLoop(const Operation& op) {
  return op.kind == OpKind::For || op.kind == OpKind::Reduce || op.kind == OpKind::Map;
}

// The index of a loop nested in L whose range does not depend on L.
struct Axis {
  Value* index;   // the region argument
  Value* lo;      // the range's start (null: 0, a map)
  Value* hi;      // its end (a map: the size); a triangular axis: the bound's hi
  const Operation* loop;
  int below = -1;  // a triangular axis j in 0..i: the axis of i
};

struct Candidate {
  Operation* op;
  uint64_t mask;                           // the axes it depends on
  std::vector<const Operation*> loops;     // loops between L and op, outermost first
};

// Values an op's regions read that are defined outside the op.
void freeValues(const Operation& op, std::vector<Value*>& out) {
  std::unordered_set<const Value*> defined;
  std::vector<Value*> used;
  std::vector<const Block*> work;
  for (auto& r : op.regions) work.push_back(r.get());
  while (!work.empty()) {
    const Block* b = work.back();
    work.pop_back();
    for (auto& a : b->args) defined.insert(a.get());
    for (auto& o : b->ops) {
      for (auto& res : o->results) defined.insert(res.get());
      used.insert(used.end(), o->operands.begin(), o->operands.end());
      for (auto& r : o->regions) work.push_back(r.get());
    }
  }
  for (Value* v : used)
    if (!defined.count(v)) out.push_back(v);
}

// Pure, and only pure ops in its regions.
bool sliceable(const Operation& op) {
  if (op.kind == OpKind::Yield) return true;
  if (!hasFlag(op.kind, ir::Pure)) return false;
  for (auto& r : op.regions)
    for (auto& o : r->ops)
      if (!sliceable(*o)) return false;
  return true;
}

void collectDefined(const Block& b, std::unordered_set<const Value*>& out) {
  for (auto& a : b.args) out.insert(a.get());
  for (auto& o : b.ops) {
    for (auto& res : o->results) out.insert(res.get());
    for (auto& r : o->regions) collectDefined(*r, out);
  }
}

// One loop L: finds the candidates, then builds their tables.
class LoopTables {
 public:
  explicit LoopTables(Operation& loop) : loop_(loop) {
    for (auto& r : loop.regions) collectDefined(*r, inside_);
  }

  void scan() {
    std::vector<const Operation*> loops;
    scanBlock(*loop_.region(0), loops);
  }
  bool empty() const { return cands_.empty(); }

  // Builds every table into `pre` (ops to run before L) and turns each
  // candidate into a read of its table; the candidates' old regions go to
  // `graveyard`.
  void rewrite(Block& pre, std::vector<std::unique_ptr<Block>>& graveyard) {
    Builder b(&pre);
    b.setLoc(loop_.loc);
    for (Candidate& c : cands_) {
      Value* table = guardedTable(b, c);
      readTable(c, table, graveyard);
    }
  }

 private:
  static constexpr int64_t kVariant = -1;

  int64_t dep(const Value* v) {
    if (!inside_.count(v)) return 0;
    auto it = memo_.find(v);
    if (it != memo_.end()) return it->second;
    int64_t m = kVariant;
    if (!v->def) {
      auto a = axisOf_.find(v);
      if (a != axisOf_.end()) m = int64_t(uint64_t(1) << a->second);
    } else if (sliceable(*v->def)) {
      std::vector<Value*> used(v->def->operands.begin(), v->def->operands.end());
      freeValues(*v->def, used);
      m = 0;
      for (const Value* u : used) {
        int64_t d = dep(u);
        if (d == kVariant) {
          m = kVariant;
          break;
        }
        m |= d;
      }
    }
    memo_[v] = m;
    return m;
  }

  // Registers the loop's indices as axes when its range does not depend on L.
  bool addAxes(const Operation& op) {
    if (addTriangularAxis(op)) return true;
    for (Value* v : op.operands)
      if (dep(v) != 0) return false;
    if (op.kind == OpKind::Map) {
      if (axes_.size() + op.operands.size() > 63) return false;
      for (size_t k = 0; k < op.operands.size(); ++k) addAxis({op.region(0)->arg(k), nullptr, op.operand(k), &op});
    } else {
      if (axes_.size() >= 63) return false;
      int64_t lo;
      bool zero = constInt(op.operand(0), lo) && lo == 0;
      addAxis({op.region(0)->arg(0), zero ? nullptr : op.operand(0), op.operand(1), &op});
    }
    return true;
  }
  // A reduce or for over 0..i, i an axis over 0..n: an axis over 0..n whose
  // entries j >= i the table leaves 0 (the loop never evaluates them).
  bool addTriangularAxis(const Operation& op) {
    int64_t lo;
    if (op.kind == OpKind::Map || !constInt(op.operand(0), lo) || lo != 0 || axes_.size() >= 63) return false;
    auto a = axisOf_.find(op.operand(1));
    if (a == axisOf_.end() || axes_[size_t(a->second)].lo || axes_[size_t(a->second)].below >= 0) return false;
    Axis t{op.region(0)->arg(0), nullptr, axes_[size_t(a->second)].hi, &op, a->second};
    addAxis(t);
    return true;
  }
  void addAxis(Axis a) {
    axisOf_[a.index] = int(axes_.size());
    axes_.push_back(a);
  }

  // An index op among the candidate's ops whose indices use every axis of
  // `mask` (the cost rule in the file comment).
  bool readsWholeTable(const Operation& op, uint64_t mask, std::unordered_set<const Operation*>& seen) {
    if (!seen.insert(&op).second) return false;
    if (op.kind == OpKind::Index) {
      uint64_t used = 0;
      for (size_t k = 1; k < op.operands.size(); ++k) {
        int64_t d = dep(op.operand(k));
        if (d > 0) used |= uint64_t(d);
      }
      if (withBounds(used) == mask) return true;
    }
    std::vector<Value*> vals(op.operands.begin(), op.operands.end());
    for (auto& r : op.regions)
      for (auto& o : r->ops)
        if (readsWholeTable(*o, mask, seen)) return true;
    for (Value* v : vals)
      if (inside_.count(v) && v->def && readsWholeTable(*v->def, mask, seen)) return true;
    return false;
  }

  // i64 arithmetic inside L with a product or quotient of two values that
  // vary (a triangular offset j*(2d - j - 1)/2): more than an address
  // computation per element.
  bool costlyIndex(const Value* v, int depth = 0) {
    if (depth > 8 || !inside_.count(v) || !v->def || dep(v) <= 0) return false;
    const Operation& d = *v->def;
    if ((d.kind == OpKind::Mul || d.kind == OpKind::Div) && dep(d.operand(0)) > 0 && dep(d.operand(1)) > 0)
      return true;
    for (const Value* o : d.operands)
      if (o->type == Type::i64() && costlyIndex(o, depth + 1)) return true;
    return false;
  }

  bool costly(const Operation& op) {
    if (op.results.size() != 1 || !op.result()->type.isFloatScalar()) return false;
    if (op.kind == OpKind::Index) {
      for (size_t k = 1; k < op.operands.size(); ++k)
        if (costlyIndex(op.operand(k))) return true;
      return false;
    }
    return op.kind == OpKind::Reduce || transcendental(op.kind);
  }

  // The axes a candidate depending on `m` needs (a triangular axis needs its
  // bound's, to leave j >= i out), or 0 when a triangular loop on the way
  // is not one of them (its trip count cannot be tested before L).
  uint64_t withBounds(uint64_t m) const {
    for (size_t k = axes_.size(); k-- > 0;)
      if ((m >> k & 1) && axes_[k].below >= 0) m |= uint64_t(1) << axes_[k].below;
    return m;
  }
  uint64_t tableMask(uint64_t m, const std::vector<const Operation*>& loops) const {
    m = withBounds(m);
    for (size_t k = 0; k < axes_.size(); ++k)
      if (axes_[k].below >= 0 && !(m >> k & 1))
        for (const Operation* l : loops)
          if (l == axes_[k].loop) return 0;
    return m;
  }

  void scanBlock(Block& b, std::vector<const Operation*>& loops) {
    for (auto& up : b.ops) {
      Operation& op = *up;
      if (costly(op)) {
        int64_t m = dep(op.result());
        std::unordered_set<const Operation*> seen;
        uint64_t mask = m > 0 ? tableMask(uint64_t(m), loops) : 0;
        if (mask && readsWholeTable(op, mask, seen)) {
          cands_.push_back({&op, mask, loops});
          continue;
        }
      }
      if (!isLoop(op) || !addAxes(op)) continue;
      loops.push_back(&op);
      scanBlock(*op.region(0), loops);
      loops.pop_back();
    }
  }

  // `v` at `b`: values of L's region are cloned there (with what they use).
  Value* rebuild(Builder& b, Value* v, ValueMap& vm) {
    auto it = vm.find(v);
    if (it != vm.end()) return it->second;
    if (!inside_.count(v)) return v;
    Operation& def = *v->def;  // axis indices are in vm; nothing else is an argument
    std::vector<Value*> used(def.operands.begin(), def.operands.end());
    freeValues(def, used);
    for (Value* u : used) rebuild(b, u, vm);
    b.clone(def, vm);
    return vm.at(v);
  }

  // The axes of `mask`, outermost first.
  std::vector<const Axis*> axesOf(uint64_t mask) const {
    std::vector<const Axis*> out;
    for (size_t k = 0; k < axes_.size(); ++k)
      if (mask & (uint64_t(1) << k)) out.push_back(&axes_[k]);
    return out;
  }

  // The table; `cond`, when not null, guards it: its first extent is 0
  // unless cond holds (an empty table computes nothing, and a map keeps the
  // other extents known to the reads' address arithmetic, which an `if`
  // around the map would hide).
  Value* buildTable(Builder& b, const Candidate& c, Value* cond) {
    std::vector<const Axis*> axes = axesOf(c.mask);
    std::vector<Value*> extents;
    for (const Axis* a : axes) {
      Value* hi = rebuild(b, a->hi, outer_);
      Value* n = a->lo ? b.binary(OpKind::Sub, hi, rebuild(b, a->lo, outer_)) : hi;
      extents.push_back(nonNegative(n) ? n : b.binary(OpKind::Max, n, b.constI(0)));
    }
    if (cond) extents[0] = b.select(cond, extents[0], b.constI(0));
    Type t{c.op->result()->type.elem, int(axes.size())};
    Operation* map = b.create(OpKind::Map, extents, {t}, 1);
    Block* body = map->region(0);
    Builder ib(body);
    ValueMap vm = outer_;
    for (const Axis* a : axes) {
      Value* j = body->addArg(Type::i64());
      vm[a->index] = a->lo ? ib.binary(OpKind::Add, j, vm.count(a->lo) ? vm[a->lo] : a->lo) : j;
    }
    // Entries outside the triangles (j >= i) are 0, never evaluated.
    Value* inside = nullptr;
    for (const Axis* a : axes)
      if (a->below >= 0) {
        Value* lt = ib.binary(OpKind::Lt, vm.at(a->index), vm.at(axes_[size_t(a->below)].index));
        inside = inside ? ib.binary(OpKind::And, inside, lt) : lt;
      }
    if (!inside) {
      ib.yield({rebuild(ib, c.op->result(), vm)});
      return map->result();
    }
    Type et = c.op->result()->type;
    Operation* g = ib.create(OpKind::If, {inside}, {et}, 2);
    Builder tb(g->region(0));
    tb.setLoc(b.loc());
    tb.yield({rebuild(tb, c.op->result(), vm)});
    Builder eb(g->region(1));
    eb.yield({eb.constF(0.0, et)});
    ib.yield({g->result()});
    return map->result();
  }

  // "`loop` runs its region at least once", at b (before L).
  Value* runsTest(Builder& b, const Operation& loop) {
    if (loop.kind != OpKind::Map)
      return b.binary(OpKind::Lt, rebuild(b, loop.operand(0), outer_), rebuild(b, loop.operand(1), outer_));
    Value* all = nullptr;
    for (Value* n : loop.operands) {
      Value* pos = b.binary(OpKind::Gt, rebuild(b, n, outer_), b.constI(0));
      all = all ? b.binary(OpKind::And, all, pos) : pos;
    }
    return all;
  }

  // The table, guarded by the test that L and the loops on the way to the
  // candidate that give it no axis run (an empty axis is an empty table).
  Value* guardedTable(Builder& b, const Candidate& c) {
    Value* cond = nullptr;
    auto need = [&](const Operation& loop) {
      if (knownNonEmpty(loop)) return;
      Value* t = runsTest(b, loop);
      cond = cond ? b.binary(OpKind::And, cond, t) : t;
    };
    need(loop_);
    for (const Operation* l : c.loops) {
      bool all = true;
      for (size_t k = 0; k < axes_.size(); ++k)
        if (axes_[k].loop == l) all = all && (c.mask >> k & 1);
      if (!all) need(*l);
    }
    return buildTable(b, c, cond);
  }

  // The candidate becomes `index table, (axis index - start)...`.
  void readTable(Candidate& c, Value* table, std::vector<std::unique_ptr<Block>>& graveyard) {
    Operation& op = *c.op;
    Block& parent = *op.parent;
    Block tmp;
    Builder b(&tmp);
    b.setLoc(op.loc);
    std::vector<Value*> operands{table};
    for (const Axis* a : axesOf(c.mask)) operands.push_back(a->lo ? b.binary(OpKind::Sub, a->index, a->lo) : a->index);
    for (auto& r : op.regions) graveyard.push_back(std::move(r));
    op.regions.clear();
    op.kind = OpKind::Index;
    op.operands = operands;
    op.f = 0;
    op.i = 0;
    op.s.clear();
    op.ints.clear();
    size_t pos = 0;
    while (parent.ops[pos].get() != &op) ++pos;
    for (auto& o : tmp.ops) o->parent = &parent;
    parent.ops.insert(parent.ops.begin() + long(pos), std::make_move_iterator(tmp.ops.begin()),
                      std::make_move_iterator(tmp.ops.end()));
  }

  Operation& loop_;
  std::unordered_set<const Value*> inside_;
  std::unordered_map<const Value*, int64_t> memo_;
  std::unordered_map<const Value*, int> axisOf_;
  std::vector<Axis> axes_;
  std::vector<Candidate> cands_;
  ValueMap outer_;  // values of L's region rebuilt before L
};

// Tables for the loop outer.ops[pos], inserted before it; returns how many
// ops were inserted.
size_t tabulateLoop(Block& outer, size_t pos, std::vector<std::unique_ptr<Block>>& graveyard) {
  Operation& loop = *outer.ops[pos];
  if (!isLoop(loop)) return 0;
  LoopTables t(loop);
  t.scan();
  if (t.empty()) return 0;
  Block pre;
  t.rewrite(pre, graveyard);
  size_t n = pre.ops.size();
  for (auto& op : pre.ops) op->parent = &outer;
  outer.ops.insert(outer.ops.begin() + long(pos), std::make_move_iterator(pre.ops.begin()),
                   std::make_move_iterator(pre.ops.end()));
  return n;
}

// Returns whether a table was built.
bool tabulateBlock(Block& b, std::vector<std::unique_ptr<Block>>& graveyard) {
  bool changed = false;
  for (size_t j = 0; j < b.ops.size(); ++j) {
    size_t n = tabulateLoop(b, j, graveyard);
    changed = changed || n > 0;
    j += n;
    for (auto& r : b.ops[j]->regions) changed = tabulateBlock(*r, graveyard) || changed;
  }
  return changed;
}

}  // namespace

void tabulateInvariants(ir::Module& m, ir::Function& f) {
  (void)m;
  std::vector<std::unique_ptr<Block>> graveyard;
  if (tabulateBlock(f.body, graveyard)) eliminateDeadCode(f);
}

}  // namespace chain::passes
