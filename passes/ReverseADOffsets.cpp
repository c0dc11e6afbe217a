// Reverse AD of offset (stencil) reads in map/reduce regions: `a[i - 1]`,
// `a[i + 1]`, `a[i, j - 1]`, i.e. reads whose every index is the region's own
// index plus an i64 constant. Each element of a is read by at most one
// iteration per distinct offset c (iteration i = j - c reads a[j]), so the
// adjoint of a is itself elementwise: a map over dims(a) that, for each
// offset whose iteration j - c exists, recomputes and reverses the region's
// body there and adds that read's adjoint. That replaces the scalar loop nest
// of scatter-adds (`add_at`) with one map that code generation vectorises,
// and since it covers a whole it needs no shape guard. Iterations that do not
// exist (out of the region's range) contribute 0 behind an `if`, so nothing is
// recomputed out of range. See ReverseAD.cpp for the AD design and
// ReverseADArrays.cpp for the identity reads this generalises.
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

Value* conj(Builder& b, Value* x, Value* y) { return x ? b.binary(OpKind::And, x, y) : y; }

}  // namespace

bool Emitter::IdentityGroup::shifted() const {
  for (const std::vector<int64_t>& c : offsets)
    for (int64_t ck : c)
      if (ck != 0) return true;
  return false;
}

bool Emitter::readOffsets(const Operation& read, const Block& region, std::vector<int64_t>& out) {
  if (read.operands.size() != region.args.size() + 1) return false;
  out.assign(region.args.size(), 0);
  for (size_t k = 0; k < region.args.size(); ++k)
    if (!ir::argPlusConstant(read.operand(1 + k), region.arg(k), out[k])) return false;
  return true;
}

void Emitter::addOffsets(Builder& b, Map& adj, Env& env, const std::vector<Value*>& lo,
                         const std::vector<Value*>& hi, const IdentityGroup& g, const OffsetElementFn& element,
                         bool proved) {
  Value* a = env[g.array];
  auto found = adj.find(g.array);
  Value* base = found != adj.end() ? found->second : nullptr;
  Type elem{a->type.elem, 0};
  std::vector<Value*> dims = proved ? hi : dimsOf(b, a);
  Operation* m = b.create(OpKind::Map, dims, {a->type}, 1);
  std::vector<Value*> j;
  for (size_t k = 0; k < dims.size(); ++k) j.push_back(m->region(0)->addArg(Type::i64(), "j"));
  Builder rb(m->region(0));
  rb.setLoc(b.loc());
  Value* sum = nullptr;
  if (base) {
    std::vector<Value*> ops{base};
    ops.insert(ops.end(), j.begin(), j.end());
    sum = rb.create(OpKind::Index, ops, {elem})->result();
  }
  // distinct offsets in order of first appearance, each with its reads
  std::vector<std::vector<int64_t>> distinct;
  for (const std::vector<int64_t>& c : g.offsets)
    if (std::find(distinct.begin(), distinct.end(), c) == distinct.end()) distinct.push_back(c);
  for (const std::vector<int64_t>& c : distinct) {
    std::vector<const Value*> keys;
    for (size_t r = 0; r < g.reads.size(); ++r)
      if (g.offsets[r] == c) keys.push_back(g.reads[r]->result());
    // i = j - c, valid when lo <= i < hi on every axis (j >= 0, so i >= 0
    // needs no test when c <= 0 and lo is 0)
    std::vector<Value*> i;
    Value* valid = nullptr;
    for (size_t k = 0; k < j.size(); ++k) {
      i.push_back(c[k] == 0 ? j[k] : rb.binary(OpKind::Add, j[k], rb.constI(-c[k])));
      if (lo[k]) valid = conj(rb, valid, rb.binary(OpKind::Ge, i[k], lo[k]));
      else if (c[k] > 0) valid = conj(rb, valid, rb.binary(OpKind::Ge, i[k], rb.constI(0)));
      if (!proved || c[k] < 0) valid = conj(rb, valid, rb.binary(OpKind::Lt, i[k], hi[k]));
    }
    if (!valid) {  // every iteration j - c exists
      Value* part = element(rb, i, keys);
      sum = sum ? rb.binary(OpKind::Add, sum, part) : part;
      continue;
    }
    Operation* guard = rb.create(OpKind::If, {valid}, {elem}, 2);
    Builder tb(guard->region(0));
    tb.setLoc(b.loc());
    tb.yield({element(tb, i, keys)});
    Builder eb(guard->region(1));
    eb.setLoc(b.loc());
    eb.yield({eb.constF(0.0, elem)});
    Value* part = guard->result();
    sum = sum ? rb.binary(OpKind::Add, sum, part) : part;
  }
  rb.yield({sum});
  adj[g.array] = m->result();
}

}  // namespace chain::passes::ad
