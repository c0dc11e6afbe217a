// The derivative rule table: one case per op, with its math. Conventions at
// non-differentiable points follow SPEC §5: relu'(0) = 0, abs'(0) = 0,
// min/max send the whole adjoint to the first operand on a tie, floor, ceil,
// comparisons and integer code have zero derivative, stop_gradient blocks,
// and the random numbers (functions of an i64 key and index) are constants.
#include "passes/Derivatives.h"

#include <cassert>

namespace chain::passes {

using ir::Builder;
using ir::OpKind;
using ir::Value;

namespace {

struct R {
  Builder& b;
  ir::Type t;  // float type of the result
  Value* c(double v) { return b.constF(v, t); }
  Value* add(Value* a, Value* x) { return b.binary(OpKind::Add, a, x); }
  Value* sub(Value* a, Value* x) { return b.binary(OpKind::Sub, a, x); }
  Value* mul(Value* a, Value* x) { return b.binary(OpKind::Mul, a, x); }
  Value* div(Value* a, Value* x) { return b.binary(OpKind::Div, a, x); }
  Value* neg(Value* a) { return b.unary(OpKind::Neg, a); }
  Value* un(OpKind k, Value* a) { return b.unary(k, a); }
  Value* cmp(OpKind k, Value* a, Value* x) { return b.binary(k, a, x); }
  Value* sel(Value* cond, Value* a, Value* x) { return b.select(cond, a, x); }
};

// Rules for binary float ops: returns {da, db}.
std::vector<Value*> binaryRule(R& r, OpKind k, Value* a, Value* x, Value* y, Value* dy) {
  switch (k) {
    // d(a+b) = da + db
    case OpKind::Add: return {dy, dy};
    // d(a-b) = da - db
    case OpKind::Sub: return {dy, r.neg(dy)};
    // d(a*b) = b da + a db
    case OpKind::Mul: return {r.mul(dy, x), r.mul(dy, a)};
    // d(a/b) = da/b - (a/b)/b db
    case OpKind::Div: {
      Value* da = r.div(dy, x);
      return {da, r.neg(r.mul(da, y))};
    }
    // fmod(a, b) = a - b trunc(a/b): d/da = 1, d/db = -trunc(a/b) = -(a - y)/b
    case OpKind::Rem: return {dy, r.neg(r.mul(dy, r.div(r.sub(a, y), x)))};
    // d(a^b) = b a^(b-1) da + a^b log(a) db; (b = 0 -> 0 for da, a = 0 -> 0 for db)
    case OpKind::Pow: {
      Value* zero = r.c(0.0);
      Value* bIsZero = r.cmp(OpKind::Eq, x, zero);
      Value* da = r.sel(bIsZero, zero, r.mul(dy, r.mul(x, r.b.binary(OpKind::Pow, a, r.sub(x, r.c(1.0))))));
      Value* safeA = r.sel(r.cmp(OpKind::Eq, a, zero), r.c(1.0), a);
      Value* db = r.mul(dy, r.mul(y, r.un(OpKind::Log, safeA)));
      return {da, db};
    }
    // min(a, b) = b < a ? b : a: the adjoint goes to the operand chosen (a on a tie)
    case OpKind::Min: {
      Value* pickB = r.cmp(OpKind::Lt, x, a);
      Value* zero = r.c(0.0);
      return {r.sel(pickB, zero, dy), r.sel(pickB, dy, zero)};
    }
    // max(a, b) = b > a ? b : a: the adjoint goes to the operand chosen (a on a tie)
    case OpKind::Max: {
      Value* pickB = r.cmp(OpKind::Gt, x, a);
      Value* zero = r.c(0.0);
      return {r.sel(pickB, zero, dy), r.sel(pickB, dy, zero)};
    }
    // atan2(a, b): d/da = b/(a^2+b^2), d/db = -a/(a^2+b^2)
    case OpKind::Atan2: {
      Value* s = r.div(dy, r.add(r.mul(a, a), r.mul(x, x)));
      return {r.mul(s, x), r.neg(r.mul(s, a))};
    }
    default: break;
  }
  assert(false && "not a binary float op");
  return {};
}

// Rules for unary float ops: returns dx.
Value* unaryRule(R& r, OpKind k, Value* x, Value* y, Value* dy) {
  Value* zero = r.c(0.0);
  switch (k) {
    // d/dx -x = -1
    case OpKind::Neg: return r.neg(dy);
    // d/dx |x| = sign(x), abs'(0) = 0
    case OpKind::Abs:
      return r.sel(r.cmp(OpKind::Gt, x, zero), dy, r.sel(r.cmp(OpKind::Lt, x, zero), r.neg(dy), zero));
    // d/dx exp(x) = exp(x)
    case OpKind::Exp: return r.mul(dy, y);
    // d/dx log(x) = 1/x
    case OpKind::Log: return r.div(dy, x);
    // d/dx sqrt(x) = 1/(2 sqrt(x))
    case OpKind::Sqrt: return r.div(r.mul(dy, r.c(0.5)), y);
    // d/dx sin(x) = cos(x)
    case OpKind::Sin: return r.mul(dy, r.un(OpKind::Cos, x));
    // d/dx cos(x) = -sin(x)
    case OpKind::Cos: return r.neg(r.mul(dy, r.un(OpKind::Sin, x)));
    // d/dx tan(x) = 1 + tan(x)^2
    case OpKind::Tan: return r.mul(dy, r.add(r.c(1.0), r.mul(y, y)));
    // d/dx tanh(x) = 1 - tanh(x)^2
    case OpKind::Tanh: return r.mul(dy, r.sub(r.c(1.0), r.mul(y, y)));
    // d/dx sigmoid(x) = sigmoid(x) (1 - sigmoid(x))
    case OpKind::Sigmoid: return r.mul(dy, r.mul(y, r.sub(r.c(1.0), y)));
    // d/dx relu(x) = [x > 0], relu'(0) = 0
    case OpKind::Relu: return r.sel(r.cmp(OpKind::Gt, x, zero), dy, zero);
    // d/dx softplus(x) = sigmoid(x)
    case OpKind::Softplus: return r.mul(dy, r.un(OpKind::Sigmoid, x));
    // d/dx log1p(x) = 1/(1+x)
    case OpKind::Log1p: return r.div(dy, r.add(r.c(1.0), x));
    // d/dx expm1(x) = exp(x) = expm1(x) + 1
    case OpKind::Expm1: return r.mul(dy, r.add(y, r.c(1.0)));
    // floor and ceil are piecewise constant: zero derivative
    case OpKind::Floor:
    case OpKind::Ceil: return nullptr;
    default: break;
  }
  assert(false && "not a unary float op");
  return nullptr;
}

}  // namespace

bool hasScalarRule(OpKind k) {
  switch (k) {
    case OpKind::If:
    case OpKind::For:
    case OpKind::While:
    case OpKind::Yield:
    case OpKind::Return:
    case OpKind::Call:
    case OpKind::GradCall:
    case OpKind::Print:
    case OpKind::TapePush:
    case OpKind::TapePop:
    case OpKind::Dim: case OpKind::Index: case OpKind::Slice: case OpKind::Update:
    case OpKind::AddAt: case OpKind::Map: case OpKind::Reduce: case OpKind::MatMul:
    case OpKind::Transpose: case OpKind::Fill: case OpKind::Build: case OpKind::Assert:
      return false;
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
      return true;
  }
  return false;
}

std::vector<Value*> scalarAdjoint(Builder& b, const ir::Operation& op, const std::vector<Value*>& x,
                                  Value* y, Value* dy) {
  R r{b, y ? y->type : ir::Type::f64()};
  std::vector<Value*> none(x.size(), nullptr);
  switch (op.kind) {
    // constants, comparisons and boolean logic have no float inputs to differentiate
    case OpKind::ConstF: case OpKind::ConstI: case OpKind::ConstB:
    case OpKind::Lt: case OpKind::Le: case OpKind::Gt: case OpKind::Ge:
    case OpKind::Eq: case OpKind::Ne: case OpKind::And: case OpKind::Or: case OpKind::Not:
      return none;
    // stop_gradient(x) = x with zero derivative
    case OpKind::StopGradient: return none;
    // uniform, normal and mix are functions of i64 operands (key, index)
    // only: there is no float input, so the derivative is zero
    case OpKind::RandUniform: case OpKind::RandNormal: case OpKind::RandMix: return none;
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div:
    case OpKind::Rem: case OpKind::Pow: case OpKind::Min: case OpKind::Max:
    case OpKind::Atan2:
      if (!y->type.isFloat()) return none;  // integer arithmetic: zero derivative
      return binaryRule(r, op.kind, x[0], x[1], y, dy);
    case OpKind::Neg: case OpKind::Abs: case OpKind::Exp: case OpKind::Log:
    case OpKind::Sqrt: case OpKind::Sin: case OpKind::Cos: case OpKind::Tan:
    case OpKind::Tanh: case OpKind::Sigmoid: case OpKind::Relu: case OpKind::Softplus:
    case OpKind::Log1p: case OpKind::Expm1: case OpKind::Floor: case OpKind::Ceil:
      if (!y->type.isFloat()) return none;
      return {unaryRule(r, op.kind, x[0], y, dy)};
    // select(c, a, b): the adjoint goes to the operand selected
    case OpKind::Select: {
      if (!y->type.isFloat()) return none;
      Value* zero = zerosLike(b, dy);
      return {nullptr, b.select(x[0], dy, zero), b.select(x[0], zero, dy)};
    }
    // float -> float casts pass the adjoint back in the operand's type;
    // casts from or to integers and bools have zero derivative
    case OpKind::Cast:
      if (y->type.isFloat() && x[0]->type.isFloat()) return {b.cast(dy, x[0]->type)};
      return none;
    case OpKind::If: case OpKind::For: case OpKind::While: case OpKind::Yield:
    case OpKind::Return: case OpKind::Call: case OpKind::GradCall: case OpKind::Print:
    case OpKind::TapePush: case OpKind::TapePop:
    case OpKind::Dim: case OpKind::Index: case OpKind::Slice: case OpKind::Update:
    case OpKind::AddAt: case OpKind::Map: case OpKind::Reduce: case OpKind::MatMul:
    case OpKind::Transpose: case OpKind::Fill: case OpKind::Build: case OpKind::Assert:
      break;
  }
  assert(false && "structural op has no scalar rule; ReverseAD reverses it");
  return none;
}

}  // namespace chain::passes
