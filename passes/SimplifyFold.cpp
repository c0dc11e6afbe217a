// The folding rules of the simplify pass: constant folding of every scalar op
// whose result the runtime computes the same way (the same libm functions, in
// the operand's precision), and exact identities (x*1, x/1, x-(+0.0),
// x+(-0.0), integer x+0 and x*0, neg(neg x), select(c, a, a), integer or
// bool comparisons of a value with itself, ...), and the random numbers of a
// constant key and index (ir/Philox.h, as the runtime computes them).
//
// Not folded, on purpose: integer division/remainder by zero or INT64_MIN/-1
// (they trap at run time), float ops that would turn finite operands into a
// NaN or infinity (--nan-check must still see the op), float comparisons and
// min/max involving NaN, relu(±0), sigmoid and softplus (their formula is the
// runtime's), f32 transcendental functions (float or double libm?), casts to
// bool, and float-to-int casts out of range.
#include "passes/SimplifyFold.h"

#include "ir/Philox.h"

#include <cmath>
#include <cstring>
#include <initializer_list>

namespace chain::passes::fold {

using ir::OpKind;
using ir::Scalar;
using ir::Type;
using ir::Value;

bool constantOf(const Value* v, double& f, int64_t& i) {
  if (!v || !v->def) return false;
  OpKind k = v->def->kind;
  if (k != OpKind::ConstF && k != OpKind::ConstI && k != OpKind::ConstB) return false;
  f = v->def->f;
  i = v->def->i;
  return true;
}

namespace {

struct Const {
  bool known = false;
  double f = 0.0;
  int64_t i = 0;
  Type t;
};

Const constOf(const Value* v) {
  Const c;
  c.t = v->type;
  c.known = constantOf(v, c.f, c.i);
  return c;
}

Result none() { return {}; }
Result existing(Value* v) {
  Result r;
  r.kind = Result::Existing;
  r.value = v;
  return r;
}
Result constF(double f, Type t) {
  Result r;
  r.kind = Result::Constant;
  r.constKind = OpKind::ConstF;
  r.f = t.elem == Scalar::F32 ? static_cast<double>(static_cast<float>(f)) : f;
  r.type = t;
  return r;
}
Result constI(int64_t i) {
  Result r;
  r.kind = Result::Constant;
  r.constKind = OpKind::ConstI;
  r.i = i;
  r.type = Type::i64();
  return r;
}
Result constB(bool b) {
  Result r;
  r.kind = Result::Constant;
  r.constKind = OpKind::ConstB;
  r.i = b ? 1 : 0;
  r.type = Type::boolean();
  return r;
}

// A float result, unless it is a NaN/infinity made from finite operands.
Result floatResult(double r, Type t, std::initializer_list<double> inputs) {
  if (!std::isfinite(r)) {
    bool anyNonFinite = false;
    for (double x : inputs) anyNonFinite |= !std::isfinite(x);
    if (!anyNonFinite) return none();
  }
  return constF(r, t);
}

bool isNegZero(double x) { return x == 0.0 && std::signbit(x); }
bool isPosZero(double x) { return x == 0.0 && !std::signbit(x); }

template <class T>
bool floatBinary(OpKind k, T a, T b, T& r) {
  if (k == OpKind::Add) r = a + b;
  else if (k == OpKind::Sub) r = a - b;
  else if (k == OpKind::Mul) r = a * b;
  else if (k == OpKind::Div) r = a / b;
  else if (k == OpKind::Rem) r = std::fmod(a, b);
  else if (k == OpKind::Pow) r = std::pow(a, b);
  else if (k == OpKind::Atan2) r = std::atan2(a, b);
  else if (k == OpKind::Min || k == OpKind::Max) {
    if (std::isnan(a) || std::isnan(b)) return false;
    r = k == OpKind::Min ? (b < a ? b : a) : (b > a ? b : a);  // tie -> first operand
  } else {
    return false;
  }
  return true;
}

bool intBinary(OpKind k, int64_t a, int64_t b, int64_t& r) {
  uint64_t ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
  if (k == OpKind::Add) r = static_cast<int64_t>(ua + ub);
  else if (k == OpKind::Sub) r = static_cast<int64_t>(ua - ub);
  else if (k == OpKind::Mul) r = static_cast<int64_t>(ua * ub);
  else if (k == OpKind::Div || k == OpKind::Rem) {
    if (b == 0 || (a == INT64_MIN && b == -1)) return false;  // traps at run time
    r = k == OpKind::Div ? a / b : a % b;
  } else if (k == OpKind::Min) r = b < a ? b : a;
  else if (k == OpKind::Max) r = b > a ? b : a;
  else return false;
  return true;
}

Result binaryIdentity(OpKind k, Value* x, Value* y, const Const& a, const Const& b) {
  Type t = x->type;
  if (t.isFloat()) {
    if (k == OpKind::Mul && b.known && b.f == 1.0) return existing(x);
    if (k == OpKind::Mul && a.known && a.f == 1.0) return existing(y);
    if (k == OpKind::Div && b.known && b.f == 1.0) return existing(x);
    if (k == OpKind::Add && b.known && isNegZero(b.f)) return existing(x);
    if (k == OpKind::Add && a.known && isNegZero(a.f)) return existing(y);
    if (k == OpKind::Sub && b.known && isPosZero(b.f)) return existing(x);
    return none();
  }
  if (t.elem != Scalar::I64) return none();
  if ((k == OpKind::Mul || k == OpKind::Div) && b.known && b.i == 1) return existing(x);
  if (k == OpKind::Mul && a.known && a.i == 1) return existing(y);
  if (k == OpKind::Mul && ((a.known && a.i == 0) || (b.known && b.i == 0))) return constI(0);
  if ((k == OpKind::Add || k == OpKind::Sub) && b.known && b.i == 0) return existing(x);
  if (k == OpKind::Add && a.known && a.i == 0) return existing(y);
  return none();
}

Result binary(OpKind k, Value* x, Value* y) {
  Const a = constOf(x), b = constOf(y);
  Type t = x->type;
  if (!a.known || !b.known) return binaryIdentity(k, x, y, a, b);
  if (t.elem == Scalar::F64) {
    double r;
    return floatBinary<double>(k, a.f, b.f, r) ? floatResult(r, t, {a.f, b.f}) : none();
  }
  if (t.elem == Scalar::F32) {
    float r;
    if (k == OpKind::Pow || k == OpKind::Atan2) return none();  // see exactF32
    return floatBinary<float>(k, static_cast<float>(a.f), static_cast<float>(b.f), r)
               ? floatResult(r, t, {a.f, b.f})
               : none();
  }
  int64_t r;
  if (t.elem == Scalar::I64 && intBinary(k, a.i, b.i, r)) return constI(r);
  return none();
}

template <class T>
bool floatUnary(OpKind k, T a, T& r) {
  if (k == OpKind::Neg) r = -a;
  else if (k == OpKind::Abs) r = std::fabs(a);
  else if (k == OpKind::Exp) r = std::exp(a);
  else if (k == OpKind::Log) r = std::log(a);
  else if (k == OpKind::Sqrt) r = std::sqrt(a);
  else if (k == OpKind::Sin) r = std::sin(a);
  else if (k == OpKind::Cos) r = std::cos(a);
  else if (k == OpKind::Tan) r = std::tan(a);
  else if (k == OpKind::Tanh) r = std::tanh(a);
  else if (k == OpKind::Log1p) r = std::log1p(a);
  else if (k == OpKind::Expm1) r = std::expm1(a);
  else if (k == OpKind::Floor) r = std::floor(a);
  else if (k == OpKind::Ceil) r = std::ceil(a);
  else if (k == OpKind::Relu && (a > 0 || a < 0)) r = a > 0 ? a : T(0);
  else return false;
  return true;
}

// f32 ops folded only when correctly rounded (the same in float as in
// double rounded to float); for exp, sin, pow... the runtime may compute in
// either precision, so their f32 results are left to it.
bool exactF32(OpKind k) {
  return k == OpKind::Neg || k == OpKind::Abs || k == OpKind::Sqrt || k == OpKind::Floor ||
         k == OpKind::Ceil || k == OpKind::Relu;
}

Result unary(OpKind k, Value* x) {
  if (k == OpKind::Neg && x->def && x->def->kind == OpKind::Neg) return existing(x->def->operand(0));
  Const a = constOf(x);
  if (!a.known) return none();
  Type t = x->type;
  if (t.elem == Scalar::F64) {
    double r;
    return floatUnary<double>(k, a.f, r) ? floatResult(r, t, {a.f}) : none();
  }
  if (t.elem == Scalar::F32) {
    float r;
    if (!exactF32(k)) return none();
    return floatUnary<float>(k, static_cast<float>(a.f), r) ? floatResult(r, t, {a.f}) : none();
  }
  if (t.elem != Scalar::I64) return none();
  if (k == OpKind::Neg) return constI(static_cast<int64_t>(0 - static_cast<uint64_t>(a.i)));
  if (k == OpKind::Abs && a.i != INT64_MIN) return constI(a.i < 0 ? -a.i : a.i);
  return none();
}

template <class T>
bool compareValues(OpKind k, T a, T b) {
  if (k == OpKind::Lt) return a < b;
  if (k == OpKind::Le) return a <= b;
  if (k == OpKind::Gt) return a > b;
  if (k == OpKind::Ge) return a >= b;
  if (k == OpKind::Eq) return a == b;
  return a != b;
}

Result compare(OpKind k, Value* x, Value* y) {
  // x <= x, x == x... on integers and bools (not floats: x may be NaN)
  if (x == y && !x->type.isFloat())
    return constB(k == OpKind::Le || k == OpKind::Ge || k == OpKind::Eq);
  Const a = constOf(x), b = constOf(y);
  if (!a.known || !b.known) return none();
  if (x->type.isFloat()) {
    if (std::isnan(a.f) || std::isnan(b.f)) return none();
    return constB(compareValues(k, a.f, b.f));
  }
  return constB(compareValues(k, a.i, b.i));
}

Result logic(OpKind k, const std::vector<Value*>& ops) {
  Value* x = ops[0];
  Const a = constOf(x);
  if (k == OpKind::Not) {
    if (x->def && x->def->kind == OpKind::Not) return existing(x->def->operand(0));
    return a.known ? constB(a.i == 0) : none();
  }
  Value* y = ops[1];
  Const b = constOf(y);
  bool isAnd = k == OpKind::And;
  if (a.known && b.known) return constB(isAnd ? (a.i && b.i) : (a.i || b.i));
  if (x == y) return existing(x);
  // and(x, true) = x, and(x, false) = false; or(x, false) = x, or(x, true) = true
  if (b.known) return (b.i != 0) == isAnd ? existing(x) : constB(!isAnd);
  if (a.known) return (a.i != 0) == isAnd ? existing(y) : constB(!isAnd);
  return none();
}

Result cast(Value* x, Type to) {
  if (x->type == to) return existing(x);
  Const a = constOf(x);
  if (!a.known) return none();
  Scalar from = x->type.elem;
  if (to.isFloat()) {
    if (from == Scalar::I64)
      return constF(to.elem == Scalar::F32 ? static_cast<double>(static_cast<float>(a.i))
                                           : static_cast<double>(a.i),
                    to);
    return constF(from == Scalar::Bool ? static_cast<double>(a.i) : a.f, to);
  }
  if (to.elem == Scalar::I64) {
    if (from == Scalar::Bool) return constI(a.i);
    if (std::isnan(a.f) || a.f >= 9223372036854775808.0 || a.f < -9223372036854775808.0)
      return none();
    return constI(static_cast<int64_t>(a.f));
  }
  return none();  // casts to bool: left to the runtime
}

// uniform / normal / mix of a constant key and index: the value ir/Philox.h
// gives, which is what the runtime computes (it calls the same functions).
Result random(OpKind k, const Value* key, const Value* index, Type t) {
  Const a = constOf(key), b = constOf(index);
  if (!a.known || !b.known) return none();
  if (k == OpKind::RandMix) return constI(philox::mixKey(a.i, b.i));
  bool f32 = t.elem == Scalar::F32;
  if (k == OpKind::RandUniform)
    return constF(f32 ? philox::uniform01f(a.i, b.i) : philox::uniform01(a.i, b.i), t);
  return constF(f32 ? philox::normal01f(a.i, b.i) : philox::normal01(a.i, b.i), t);
}

}  // namespace

Result foldOp(const ir::Operation& op, const std::vector<Value*>& operands) {
  if (op.kind == OpKind::Select && operands.size() == 3) {  // also on arrays
    Const c = constOf(operands[0]);
    if (c.known) return existing(c.i ? operands[1] : operands[2]);
    if (operands[1] == operands[2]) return existing(operands[1]);
    return none();
  }
  for (const Value* v : operands)
    if (v->type.rank != 0) return none();
  for (auto& r : op.results)
    if (r->type.rank != 0) return none();
  const std::vector<Value*>& o = operands;
  switch (op.kind) {
    case OpKind::ConstF: case OpKind::ConstI: case OpKind::ConstB: case OpKind::StopGradient:
    case OpKind::Call: case OpKind::GradCall: case OpKind::Print: case OpKind::If:
    case OpKind::For: case OpKind::While: case OpKind::Yield: case OpKind::Return:
    case OpKind::TapePush: case OpKind::TapePop: case OpKind::Sigmoid: case OpKind::Softplus:
    case OpKind::Dim: case OpKind::Index: case OpKind::Slice: case OpKind::Update:
    case OpKind::AddAt: case OpKind::Map: case OpKind::Reduce: case OpKind::MatMul:
    case OpKind::Transpose: case OpKind::Fill: case OpKind::Build: case OpKind::Assert:
      return none();
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::Rem:
    case OpKind::Pow: case OpKind::Min: case OpKind::Max: case OpKind::Atan2:
      return binary(op.kind, o[0], o[1]);
    case OpKind::Neg: case OpKind::Abs: case OpKind::Exp: case OpKind::Log: case OpKind::Sqrt:
    case OpKind::Sin: case OpKind::Cos: case OpKind::Tan: case OpKind::Tanh: case OpKind::Relu:
    case OpKind::Log1p: case OpKind::Expm1: case OpKind::Floor: case OpKind::Ceil:
      return unary(op.kind, o[0]);
    case OpKind::Lt: case OpKind::Le: case OpKind::Gt: case OpKind::Ge: case OpKind::Eq:
    case OpKind::Ne:
      return compare(op.kind, o[0], o[1]);
    case OpKind::And: case OpKind::Or: case OpKind::Not:
      return logic(op.kind, o);
    case OpKind::Select: {
      Const c = constOf(o[0]);
      if (c.known) return existing(c.i ? o[1] : o[2]);
      if (o[1] == o[2]) return existing(o[1]);
      return none();
    }
    case OpKind::Cast:
      return cast(o[0], op.results[0]->type);
    case OpKind::RandUniform: case OpKind::RandNormal: case OpKind::RandMix:
      return random(op.kind, o[0], o[1], op.results[0]->type);
  }
  return none();
}

}  // namespace chain::passes::fold
