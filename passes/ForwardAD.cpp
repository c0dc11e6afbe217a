// Forward-mode AD over structured IR.
//
// Design
// ------
// The tangent function T of f has f's parameters, then one tangent per wrt
// parameter, and returns f's results, then their tangents. It is one sweep:
// every op of f is copied, and next to it the op's tangent is built from the
// tangents of its operands. No tape, nothing stored.
//
// * Which values have a tangent: the *varied* ones (Activity.h: float values
//   that depend on a wrt parameter). Every other value has tangent zero,
//   materialised (0, or fill(0, dims)) only where a varied and an unvaried
//   value meet (a loop's carried value, an if's result, a tape push).
// * Scalar ops use the rule table of reverse mode (Derivatives.cpp). Every
//   rule there is linear in the adjoint it is given, `dx_k = J_k dy`, and for
//   a scalar op J_k is a 1x1 partial derivative, so the same rule applied to a
//   tangent gives the forward contribution: dy = sum_k rule_k(dx_k). One rule
//   per op serves both modes. Cast (its rule converts back to the operand
//   type) and select (both branches at once) are written here.
// * Array ops without regions are linear in their float operands (index,
//   slice, update, add_at, transpose, fill, build): the tangent is the same op
//   on the operands' tangents, with the same indices and sizes. matmul is
//   bilinear: d(A B) = dA B + A dB.
// * if / for / while carry one extra value per varied result: the branches
//   and the bodies yield the tangents next to the primal values, so loops are
//   not reversed and `while` needs no trip count.
// * map: the primal map, and a tangent map over the same index space whose
//   body recomputes the element and yields its tangent (the primal copy is
//   dead there and removed by simplify when unused).
// * reduce: sum -> the sum of the tangents; logsumexp -> sum of
//   exp(e_i - y) de_i (softmax weights); max/min -> the tangent of the first
//   extremal element (SPEC §5), found with an i64 `reduce min` over the
//   indices of the elements equal to the result and recomputed there; prod ->
//   sum_i de_i prod_{j != i} e_j, exactly with a count of zero factors
//   (no zero: y de_i / e_i; one zero: the product of the others at that
//   element; more: 0).
// * Tape ops (f may be a gradient, for Hessian-vector products): a push of
//   values v... pushes v..., then the tangent of every float v (zero when
//   unvaried); a pop returns v..., then the tangents of its float results.
//   Pushes and pops are matched by the tape itself, so every push and every
//   pop must carry tangents the same way: every float pop result is varied
//   (Activity's tapeVaried). Regions of map/reduce are recomputed for the
//   tangent, so tape ops inside them are rejected (reverse AD never puts them
//   there).
// * print runs once: in the primal copy, never in recomputed regions.
//
// Vector mode (lanes = B > 1, for jacobian and hessian: DerivedFunctions.cpp)
// -----------
// B directions go through one sweep. The primal is copied once; every value
// has B tangents, one per lane, each built by the rules above from that
// lane's tangents (lanes are independent: each rule is linear in its seed).
// The lanes are unrolled in the IR, B tangent values next to one primal op,
// rather than a leading batch axis [B, s...] on every tangent: no op needs a
// batched form (scalar rules stay scalar, index/update/matmul keep their
// shapes), the IR stays verifiable by the existing rules, and LLVM's SLP
// vectoriser sees B isomorphic scalar chains side by side. What is shared
// across the lanes: every primal op of f outside map and reduce regions
// (for, while and if bodies, tape pushes and pops included), the tape's
// primal values, and the lane-independent parts of the reduce rules (the
// argmax index of max/min, the zero count and product of prod). What is
// not: a map's or reduce's region is recomputed once per lane for that
// lane's tangent map or sum (as it is recomputed for B = 1). Carried values
// (for/while/if) and tape entries carry the lanes lane-major: primal values,
// then lane 0's tangents, lane 1's, ...
#include "passes/ForwardAD.h"

#include <functional>
#include <map>
#include <stdexcept>

#include "passes/Activity.h"
#include "passes/Derivatives.h"

namespace chain::passes {

using ir::Block;
using ir::Builder;
using ir::Function;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

[[noreturn]] void internalError(const std::string& what) {
  throw std::logic_error("internal error: forward AD: " + what);
}


// A new op like `o` (same kind and attributes) on `operands`.
Operation* likeOp(Builder& b, const Operation& o, std::vector<Value*> operands, std::vector<Type> types) {
  Operation* c = b.create(o.kind, std::move(operands), types);
  c->f = o.f;
  c->i = o.i;
  c->s = o.s;
  c->ints = o.ints;
  return c;
}

class Forward {
 public:
  Forward(const Function& f, const std::vector<int>& wrt, int lanes)
      : act_(f, wrt, 0, /*tapeVaried=*/true), lanes_(size_t(lanes)), hi_(lanes) {}

  std::unique_ptr<Function> run(const Function& f, const std::vector<int>& wrt, const std::string& name);

 private:
  Activity act_;
  std::map<const Value*, Value*> env_;  // primal: f's value -> its copy
  // Per lane: f's value -> its tangent in that lane (absent: zero).
  std::vector<std::map<const Value*, Value*>> lanes_;
  int lane_ = 0;                        // the lane the tangent rules build
  int lo_ = 0, hi_ = 1;                 // the lanes built here: all, or one in a recomputed region
  bool recomputing_ = false;            // inside a region copied for its tangent

  // Runs fn once per lane in [lo_, hi_), with lane_ set.
  template <class Fn>
  void eachLane(Fn&& fn) {
    int saved = lane_;
    for (lane_ = lo_; lane_ < hi_; ++lane_) fn();
    lane_ = saved;
  }
  size_t numLanes() const { return size_t(hi_ - lo_); }
  std::map<const Value*, Value*>& tan() { return lanes_[size_t(lane_)]; }

  bool slot(const Value* v) const { return v->type.isFloat() && act_.varied(v); }
  Value* mapped(const Value* v) const {
    auto it = env_.find(v);
    if (it == env_.end()) internalError("a value is used before its definition");
    return it->second;
  }
  Value* tangentOrNull(const Value* v) const {
    const auto& t = lanes_[size_t(lane_)];
    auto it = t.find(v);
    return it == t.end() ? nullptr : it->second;
  }
  Value* tangent(Builder& b, const Value* v) {
    Value* t = tangentOrNull(v);
    return t ? t : zerosLike(b, mapped(v));
  }
  std::vector<Value*> mappedAll(const std::vector<Value*>& vs) const {
    std::vector<Value*> out;
    for (Value* v : vs) out.push_back(mapped(v));
    return out;
  }

  void block(Builder& b, const Block& src);
  void op(Builder& b, const Operation& o);
  void scalarOp(Builder& b, const Operation& o);
  void arrayOp(Builder& b, const Operation& o);
  void ifOp(Builder& b, const Operation& o);
  void loopOp(Builder& b, const Operation& o);
  void mapOp(Builder& b, const Operation& o);
  void reduceOp(Builder& b, const Operation& o);
  void tapeOp(Builder& b, const Operation& o);
  // A reduce of `kind` over o's range whose body is o's body recomputed, then
  // `yield(rb, i)` (i: the new index) for the element.
  // The body builds the tangents of lane `lane` only, or none when lane < 0.
  Value* reduceOver(Builder& b, const Operation& o, const std::string& kind, Type t, int lane,
                    const std::function<Value*(Builder&, Value*)>& yield);
  // o's body recomputed at index `i` (in b's block); returns the element's
  // tangent in each lane built here.
  std::vector<Value*> bodyTangentsAt(Builder& b, const Operation& o, Value* i);
};

void Forward::block(Builder& b, const Block& src) {
  for (size_t k = 0; k + 1 < src.ops.size(); ++k) op(b, *src.ops[k]);
}

void Forward::op(Builder& b, const Operation& o) {
  b.setLoc(o.loc);
  switch (o.kind) {
    case OpKind::ConstF: case OpKind::ConstI: case OpKind::ConstB:
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div:
    case OpKind::Rem: case OpKind::Pow: case OpKind::Min: case OpKind::Max:
    case OpKind::Atan2: case OpKind::Neg: case OpKind::Abs: case OpKind::Exp:
    case OpKind::Log: case OpKind::Sqrt: case OpKind::Sin: case OpKind::Cos:
    case OpKind::Tan: case OpKind::Tanh: case OpKind::Sigmoid: case OpKind::Relu:
    case OpKind::Softplus: case OpKind::Log1p: case OpKind::Expm1: case OpKind::Floor:
    case OpKind::Ceil: case OpKind::Lt: case OpKind::Le: case OpKind::Gt:
    case OpKind::Ge: case OpKind::Eq: case OpKind::Ne: case OpKind::And:
    case OpKind::Or: case OpKind::Not: case OpKind::Select: case OpKind::Cast:
    case OpKind::StopGradient: case OpKind::RandUniform: case OpKind::RandNormal:
    case OpKind::RandMix:
      return scalarOp(b, o);
    case OpKind::Dim: case OpKind::Index: case OpKind::Slice: case OpKind::Update:
    case OpKind::AddAt: case OpKind::MatMul: case OpKind::Transpose: case OpKind::Fill:
    case OpKind::Build: case OpKind::Assert:
      return arrayOp(b, o);
    case OpKind::Print:
      if (!recomputing_) b.clone(o, env_);
      return;
    case OpKind::If: return ifOp(b, o);
    case OpKind::For: case OpKind::While: return loopOp(b, o);
    case OpKind::Map: return mapOp(b, o);
    case OpKind::Reduce: return reduceOp(b, o);
    case OpKind::TapePush: case OpKind::TapePop: return tapeOp(b, o);
    case OpKind::Call: case OpKind::GradCall: internalError("calls must be inlined first");
    case OpKind::Yield: case OpKind::Return: internalError("terminator in the middle of a block");
  }
}

// d op(x...) = sum_k rule_k(dx_k): the reverse rule of a scalar op applied to
// each operand's tangent (rules are linear in the seed; see the design).
void Forward::scalarOp(Builder& b, const Operation& o) {
  Operation* c = b.clone(o, env_);
  if (o.results.size() != 1 || !slot(o.result())) return;
  Value* y = c->result();
  std::vector<Value*> x = mappedAll(o.operands);
  eachLane([&] {
    Value* t = nullptr;
    if (o.kind == OpKind::Cast) {
      // d cast(x) = cast(dx) between float types
      if (Value* dx = tangentOrNull(o.operand(0))) t = b.cast(dx, y->type);
    } else if (o.kind == OpKind::Select) {
      // d select(c, a, b) = select(c, da, db)
      Value* da = tangentOrNull(o.operand(1));
      Value* db = tangentOrNull(o.operand(2));
      if (da || db) t = b.select(x[0], da ? da : zerosLike(b, y), db ? db : zerosLike(b, y));
    } else {
      for (size_t k = 0; k < o.operands.size(); ++k) {
        Value* dx = tangentOrNull(o.operand(k));
        if (!dx) continue;
        Value* contribution = scalarAdjoint(b, o, x, y, dx)[k];
        if (contribution) t = t ? b.binary(OpKind::Add, t, contribution) : contribution;
      }
    }
    if (t) tan()[o.result()] = t;
  });
}

// Array ops are linear in their float operands (matmul: bilinear).
void Forward::arrayOp(Builder& b, const Operation& o) {
  Operation* c = b.clone(o, env_);
  if (o.results.size() != 1 || !slot(o.result())) return;
  Type rt = o.result()->type;
  eachLane([&] {
    Value* t = nullptr;
    switch (o.kind) {
      // d(A @ B) = dA @ B + A @ dB
      case OpKind::MatMul: {
        Value* dA = tangentOrNull(o.operand(0));
        Value* dB = tangentOrNull(o.operand(1));
        if (dA) t = likeOp(b, o, {dA, c->operand(1)}, {rt})->result();
        if (dB) {
          Value* t2 = likeOp(b, o, {c->operand(0), dB}, {rt})->result();
          t = t ? addLike(b, t, t2) : t2;
        }
        break;
      }
      // d index(a, i) = index(da, i); likewise slice, transpose, fill(v, n) ->
      // fill(dv, n), build(e...) -> build(de...), update(a, v, sel) ->
      // update(da, dv, sel), add_at(a, v, sel) -> add_at(da, dv, sel)
      case OpKind::Index: case OpKind::Slice: case OpKind::Update: case OpKind::AddAt:
      case OpKind::Transpose: case OpKind::Fill: case OpKind::Build: {
        bool any = false;
        std::vector<Value*> operands;
        for (Value* v : o.operands) {
          if (!v->type.isFloat()) {
            operands.push_back(mapped(v));
            continue;
          }
          any |= tangentOrNull(v) != nullptr;
          operands.push_back(tangent(b, v));
        }
        if (any) t = likeOp(b, o, operands, {rt})->result();
        break;
      }
      // dim and assert have no float result
      case OpKind::Dim: case OpKind::Assert: break;
      default: internalError(std::string("no array tangent rule for ") + ir::opName(o.kind));
    }
    if (t) tan()[o.result()] = t;
  });
}

// The branches yield (results..., then per lane the tangents of the varied ones).
void Forward::ifOp(Builder& b, const Operation& o) {
  std::vector<Type> types;
  std::vector<size_t> slots;
  for (size_t k = 0; k < o.results.size(); ++k) {
    types.push_back(o.result(k)->type);
    if (slot(o.result(k))) slots.push_back(k);
  }
  eachLane([&] {
    for (size_t k : slots) types.push_back(o.result(k)->type);
  });
  Operation* c = b.create(OpKind::If, {mapped(o.operand(0))}, types, 2);
  for (int r = 0; r < 2; ++r) {
    Builder rb(c->region(r));
    const Block& src = *o.region(r);
    block(rb, src);
    rb.setLoc(o.loc);
    const Operation* y = src.terminator();
    std::vector<Value*> vals = mappedAll(y->operands);
    eachLane([&] {
      for (size_t k : slots) vals.push_back(tangent(rb, y->operand(k)));
    });
    rb.yield(vals);
  }
  for (size_t k = 0; k < o.results.size(); ++k) env_[o.result(k)] = c->result(k);
  size_t next = o.results.size();
  eachLane([&] {
    for (size_t k : slots) tan()[o.result(k)] = c->result(next++);
  });
}

// for (lo, hi, init...) ^(i, c...) and while (init...) ^(c...) carry (c...,
// then per lane dc...).
void Forward::loopOp(Builder& b, const Operation& o) {
  bool isFor = o.kind == OpKind::For;
  size_t base = isFor ? 2 : 0;  // first init operand; also the region arg offset - 1 for for
  size_t n = o.results.size();
  std::vector<size_t> slots;
  for (size_t k = 0; k < n; ++k)
    if (slot(o.region(isFor ? 0 : 1)->arg(k + (isFor ? 1 : 0)))) slots.push_back(k);
  std::vector<Value*> operands = mappedAll(o.operands);
  std::vector<Type> types;
  for (size_t k = 0; k < n; ++k) types.push_back(o.result(k)->type);
  eachLane([&] {
    for (size_t k : slots) {
      operands.push_back(tangent(b, o.operand(base + k)));
      types.push_back(o.result(k)->type);
    }
  });
  Operation* c = b.create(o.kind, operands, types, int(o.regions.size()));
  for (size_t r = 0; r < o.regions.size(); ++r) {
    const Block& src = *o.region(r);
    Block* dst = c->region(r);
    size_t first = isFor ? 1 : 0;  // carried args start here
    if (isFor) env_[src.arg(0)] = dst->addArg(Type::i64(), src.arg(0)->name);
    for (size_t k = 0; k < n; ++k) env_[src.arg(first + k)] = dst->addArg(types[k], src.arg(first + k)->name);
    eachLane([&] {
      for (size_t k : slots) tan()[src.arg(first + k)] = dst->addArg(types[k], "d" + src.arg(first + k)->name);
    });
    Builder rb(dst);
    block(rb, src);
    rb.setLoc(o.loc);
    const Operation* y = src.terminator();
    std::vector<Value*> vals = mappedAll(y->operands);
    bool isCond = !isFor && r == 0;
    if (!isCond)
      eachLane([&] {
        for (size_t k : slots) vals.push_back(tangent(rb, y->operand(k)));
      });
    rb.yield(vals);
  }
  for (size_t k = 0; k < n; ++k) env_[o.result(k)] = c->result(k);
  size_t next = n;
  eachLane([&] {
    for (size_t k : slots) tan()[o.result(k)] = c->result(next++);
  });
}

// One tangent map per lane, each recomputing the body for that lane only.
void Forward::mapOp(Builder& b, const Operation& o) {
  b.clone(o, env_);
  if (!slot(o.result())) return;
  if (ir::containsTapeOps(*o.region(0))) internalError("tape ops inside a map");
  const Block& src = *o.region(0);
  int lo = lo_, hi = hi_, savedLane = lane_;
  bool saved = recomputing_;
  recomputing_ = true;
  for (int lane = lo; lane < hi; ++lane) {
    Operation* m = b.create(OpKind::Map, mappedAll(o.operands), {o.result()->type}, 1);
    for (auto& a : src.args) env_[a.get()] = m->region(0)->addArg(Type::i64(), a->name);
    Builder rb(m->region(0));
    lo_ = lane, hi_ = lane + 1;
    block(rb, src);
    rb.setLoc(o.loc);
    lane_ = lane;
    rb.yield({tangent(rb, src.terminator()->operand(0))});
    lanes_[size_t(lane)][o.result()] = m->result();
  }
  lo_ = lo, hi_ = hi, lane_ = savedLane;
  recomputing_ = saved;
}

Value* Forward::reduceOver(Builder& b, const Operation& o, const std::string& kind, Type t, int lane,
                           const std::function<Value*(Builder&, Value*)>& yield) {
  Operation* r = b.create(OpKind::Reduce, mappedAll(o.operands), {t}, 1);
  r->s = kind;
  const Block& src = *o.region(0);
  Value* i = r->region(0)->addArg(Type::i64(), src.arg(0)->name);
  env_[src.arg(0)] = i;
  Builder rb(r->region(0));
  bool saved = recomputing_;
  int lo = lo_, hi = hi_, savedLane = lane_;
  recomputing_ = true;
  if (lane < 0)
    hi_ = lo_;  // the primal element only
  else
    lo_ = lane, hi_ = lane + 1, lane_ = lane;
  block(rb, src);
  rb.setLoc(o.loc);
  rb.yield({yield(rb, i)});
  recomputing_ = saved;
  lo_ = lo, hi_ = hi, lane_ = savedLane;
  return r->result();
}

std::vector<Value*> Forward::bodyTangentsAt(Builder& b, const Operation& o, Value* i) {
  const Block& src = *o.region(0);
  env_[src.arg(0)] = i;
  bool saved = recomputing_;
  recomputing_ = true;
  block(b, src);
  recomputing_ = saved;
  std::vector<Value*> out;
  eachLane([&] { out.push_back(tangent(b, src.terminator()->operand(0))); });
  return out;
}

void Forward::reduceOp(Builder& b, const Operation& o) {
  Operation* c = b.clone(o, env_);
  if (!slot(o.result())) return;
  if (ir::containsTapeOps(*o.region(0))) internalError("tape ops inside a reduce");
  Value* y = c->result();
  Type t = y->type;
  const Value* e = o.region(0)->terminator()->operand(0);
  auto el = [&](Builder&) { return mapped(e); };
  Value* zero = b.constF(0.0, t);
  std::vector<Value*> d;  // per lane
  if (o.s == "sum") {
    // d sum(e_i) = sum(de_i)
    eachLane([&] {
      d.push_back(reduceOver(b, o, "sum", t, lane_, [&](Builder& rb, Value*) { return tangent(rb, e); }));
    });
  } else if (o.s == "logsumexp") {
    // d logsumexp(e_i) = sum(exp(e_i - y) de_i)
    eachLane([&] {
      d.push_back(reduceOver(b, o, "sum", t, lane_, [&](Builder& rb, Value*) {
        Value* w = rb.unary(OpKind::Exp, rb.binary(OpKind::Sub, el(rb), y));
        return rb.binary(OpKind::Mul, w, tangent(rb, e));
      }));
    });
  } else if (o.s == "max" || o.s == "min") {
    // d max(e_i) = de_k, k the first index with e_k = y (none: 0); k is
    // shared by the lanes, and so is the `if` that recomputes element k
    Value* hi = mapped(o.operand(1));
    Value* k = reduceOver(b, o, "min", Type::i64(), -1, [&](Builder& rb, Value* i) {
      return rb.select(rb.binary(OpKind::Eq, el(rb), y), i, hi);
    });
    Operation* found = b.create(OpKind::If, {b.binary(OpKind::Lt, k, hi)}, std::vector<Type>(numLanes(), t), 2);
    Builder tb(found->region(0));
    tb.setLoc(o.loc);
    tb.yield(bodyTangentsAt(tb, o, k));
    Builder eb(found->region(1));
    eb.yield(std::vector<Value*>(numLanes(), eb.constF(0.0, t)));
    for (auto& r : found->results) d.push_back(r.get());
  } else if (o.s == "prod") {
    // d prod(e_i) = sum_i de_i prod_{j != i} e_j, with z zero factors and P
    // the product of the nonzero ones: z = 0: sum(de_i P / e_i); z = 1: the
    // de_i of the zero factor times P; z > 1: 0 (P and z shared by the lanes)
    Value* one = b.constF(1.0, t);
    Value* p = reduceOver(b, o, "prod", t, -1, [&](Builder& rb, Value*) {
      return rb.select(rb.binary(OpKind::Eq, el(rb), zero), one, el(rb));
    });
    Value* z = reduceOver(b, o, "sum", t, -1, [&](Builder& rb, Value*) {
      return rb.select(rb.binary(OpKind::Eq, el(rb), zero), one, zero);
    });
    Value* z0 = b.binary(OpKind::Eq, z, zero);
    Value* z1 = b.binary(OpKind::Eq, z, one);
    eachLane([&] {
      d.push_back(reduceOver(b, o, "sum", t, lane_, [&](Builder& rb, Value*) {
        Value* de = tangent(rb, e);
        Value* atZero = rb.select(z1, rb.binary(OpKind::Mul, de, p), zero);
        Value* other = rb.select(z0, rb.binary(OpKind::Mul, de, rb.binary(OpKind::Div, p, el(rb))), zero);
        return rb.select(rb.binary(OpKind::Eq, el(rb), zero), atZero, other);
      }));
    });
  } else {
    internalError("unknown reduction '" + o.s + "'");
  }
  size_t next = 0;
  eachLane([&] { tan()[o.result()] = d[next++]; });
}

// push v... -> push v..., then per lane dv (float v); pop -> v..., then per
// lane dv (float results).
void Forward::tapeOp(Builder& b, const Operation& o) {
  if (recomputing_) internalError("tape op in a recomputed region");
  if (o.kind == OpKind::TapePush) {
    std::vector<Value*> operands = mappedAll(o.operands);
    eachLane([&] {
      for (Value* v : o.operands)
        if (v->type.isFloat()) operands.push_back(tangent(b, v));
    });
    likeOp(b, o, operands, {});
    return;
  }
  std::vector<Type> types;
  for (auto& r : o.results) types.push_back(r->type);
  eachLane([&] {
    for (auto& r : o.results)
      if (r->type.isFloat()) types.push_back(r->type);
  });
  Operation* c = likeOp(b, o, {}, types);
  for (size_t k = 0; k < o.results.size(); ++k) env_[o.result(k)] = c->result(k);
  size_t j = o.results.size();
  eachLane([&] {
    for (size_t k = 0; k < o.results.size(); ++k)
      if (o.result(k)->type.isFloat()) tan()[o.result(k)] = c->result(j++);
  });
}

std::unique_ptr<Function> Forward::run(const Function& f, const std::vector<int>& wrt,
                                       const std::string& name) {
  auto g = std::make_unique<Function>();
  g->name = name;
  g->loc = f.loc;
  g->paramNames = f.paramNames;
  for (size_t i = 0; i < f.numParams(); ++i) env_[f.param(i)] = g->body.addArg(f.param(i)->type, f.param(i)->name);
  for (int w : wrt)
    if (w < 0 || w >= int(f.numParams()) || !f.param(w)->type.isFloat())
      internalError("wrt names a parameter that is not a float");
  eachLane([&] {
    std::string suffix = lanes_.size() > 1 ? "." + std::to_string(lane_) : "";
    for (int w : wrt) {
      g->paramNames.push_back("d" + f.paramNames[w] + suffix);
      tan()[f.param(w)] = g->body.addArg(f.param(w)->type, g->paramNames.back());
    }
  });
  Builder b(&g->body);
  block(b, f.body);
  const Operation* ret = f.body.terminator();
  if (!ret || ret->kind != OpKind::Return) internalError("function without return");
  b.setLoc(ret->loc);
  std::vector<Value*> results = mappedAll(ret->operands);
  g->resultTypes = f.resultTypes;
  eachLane([&] {
    for (Value* v : ret->operands) {
      if (!v->type.isFloat()) continue;
      results.push_back(tangent(b, v));
      g->resultTypes.push_back(v->type);
    }
  });
  b.ret(results);
  return g;
}

}  // namespace

std::unique_ptr<Function> forwardAD(const Function& f, const std::vector<int>& wrt, const std::string& name,
                                    int lanes) {
  if (lanes < 1) internalError("a vector mode of fewer than one lane");
  return Forward(f, wrt, lanes).run(f, wrt, name);
}

}  // namespace chain::passes
