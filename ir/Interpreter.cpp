// The reference interpreter: evaluates IR op by op over a value map, with the
// same semantics code generation gives (C integer division, min/max ties to
// the first operand, stable softplus, saturating float->int casts, random
// numbers from ir/Philox.h).
#include "ir/Interpreter.h"

#include "ir/InterpreterImpl.h"
#include "ir/Philox.h"
#include "ir/Printer.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <new>
#include <unistd.h>

namespace chain::ir {

RtValue RtValue::scalarOf(Type t, double v) {
  RtValue r = make(Type{t.elem, 0}, 0, 0);
  if (t.elem == Scalar::F32) r.f = double(float(v));
  else if (t.isFloat()) r.f = v;
  else if (t.elem == Scalar::Bool) r.i = v != 0;
  else r.i = int64_t(v);
  return r;
}

RtValue RtValue::array(Scalar elem, std::vector<int64_t> shape) {
  RtValue r;
  r.type = Type{elem, static_cast<int>(shape.size())};
  // More elements (8 bytes each) than the machine's physical memory holds:
  // as if the allocation failed, without asking the allocator (which may
  // abort instead of failing, e.g. under AddressSanitizer).
  static const size_t kMaxElems = [] {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    size_t bytes = pages > 0 && page > 0 ? size_t(pages) * size_t(page) : size_t(1) << 60;
    return bytes / 8;
  }();
  size_t n = 1;
  for (int64_t s : shape) {
    size_t d = static_cast<size_t>(s > 0 ? s : 0);
    if (d != 0 && n > kMaxElems / d) throw std::bad_alloc();
    n *= d;
  }
  r.shape = std::move(shape);
  if (r.type.isFloat()) r.fdata = std::make_shared<std::vector<double>>(n, 0.0);
  else r.idata = std::make_shared<std::vector<int64_t>>(n, 0);
  return r;
}

RtValue RtValue::array(Scalar elem, std::vector<int64_t> shape, const std::vector<double>& values) {
  RtValue r = array(elem, std::move(shape));
  for (size_t k = 0; k < r.size() && k < values.size(); ++k) r.set(k, scalarOf(Type{elem, 0}, values[k]));
  return r;
}

RtValue RtValue::arrayI(std::vector<int64_t> shape, std::vector<int64_t> values) {
  RtValue r = array(Scalar::I64, std::move(shape));
  for (size_t k = 0; k < r.size() && k < values.size(); ++k) (*r.idata)[k] = values[k];
  return r;
}

size_t RtValue::size() const {
  if (!isArray()) return 1;
  return fdata ? fdata->size() : idata ? idata->size() : 0;
}

RtValue RtValue::at(size_t flat) const {
  Type t{type.elem, 0};
  if (type.isFloat()) return make(t, (*fdata)[flat], 0);
  return make(t, 0, (*idata)[flat]);
}

void RtValue::set(size_t flat, const RtValue& s) {
  if (type.isFloat()) (*fdata)[flat] = type.elem == Scalar::F32 ? double(float(s.f)) : s.f;
  else (*idata)[flat] = type.elem == Scalar::Bool ? (s.i != 0) : s.i;
}

std::vector<double> RtValue::values() const {
  if (!isArray()) return {num()};
  std::vector<double> out;
  for (size_t k = 0; k < size(); ++k) out.push_back(at(k).num());
  return out;
}

RtValue RtValue::deepCopy() const {
  RtValue r = *this;
  if (fdata) r.fdata = std::make_shared<std::vector<double>>(*fdata);
  if (idata) r.idata = std::make_shared<std::vector<int64_t>>(*idata);
  return r;
}

namespace {

std::string scalarText(const RtValue& v) {
  if (v.type.isFloat()) return formatFloat(v.f, v.type);
  if (v.type.elem == Scalar::Bool) return v.i ? "true" : "false";
  return std::to_string(v.i);
}

void nested(const RtValue& v, size_t axis, size_t& flat, std::string& out) {
  out += "[";
  for (int64_t k = 0; k < v.shape[axis]; ++k) {
    if (k) out += ", ";
    if (axis + 1 < v.shape.size()) nested(v, axis + 1, flat, out);
    else out += scalarText(v.at(flat++));
  }
  out += "]";
}

}  // namespace

std::string formatRtValue(const RtValue& v) {
  if (!v.isArray()) return scalarText(v);
  std::string out;
  size_t flat = 0;
  nested(v, 0, flat, out);
  return out;
}

namespace interp {

std::vector<RtValue> Interp::call(const Function& f, const std::vector<RtValue>& args) {
  Env env;
  for (size_t i = 0; i < args.size(); ++i) env[f.param(i)] = args[i];
  return run(f.body, env);
}

std::vector<RtValue> Interp::run(const Block& b, Env& env) {
  for (auto& op : b.ops) {
    if (hasFlag(op->kind, Terminator)) {
      std::vector<RtValue> out;
      for (Value* v : op->operands) out.push_back(env.at(v));
      return out;
    }
    exec(*op, env);
  }
  return {};
}

static int64_t castToInt(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return int64_t(v);
}

RtValue Interp::scalar(const Operation& op, const std::vector<RtValue>& x) {
  Type t = op.results.empty() ? Type::f64() : op.result()->type;
  bool fl = !x.empty() && x[0].type.isFloat();
  double a = x.size() > 0 ? x[0].num() : 0, b = x.size() > 1 ? x[1].num() : 0;
  int64_t ia = x.size() > 0 ? x[0].i : 0, ib = x.size() > 1 ? x[1].i : 0;
  switch (op.kind) {
    case OpKind::ConstF: return mk(t, op.f);
    case OpKind::ConstI: return RtValue::i64(op.i);
    case OpKind::ConstB: return RtValue::boolean(op.i != 0);
    case OpKind::Add: return fl ? mk(t, a + b) : RtValue::i64(int64_t(uint64_t(ia) + uint64_t(ib)));
    case OpKind::Sub: return fl ? mk(t, a - b) : RtValue::i64(int64_t(uint64_t(ia) - uint64_t(ib)));
    case OpKind::Mul: return fl ? mk(t, a * b) : RtValue::i64(int64_t(uint64_t(ia) * uint64_t(ib)));
    case OpKind::Div:
    case OpKind::Rem:
      if (fl) return mk(t, op.kind == OpKind::Div ? a / b : std::fmod(a, b));
      if (ib == 0) fail(op, "integer division by zero");
      if (ia == std::numeric_limits<int64_t>::min() && ib == -1) fail(op, "integer overflow in division");
      return RtValue::i64(op.kind == OpKind::Div ? ia / ib : ia % ib);
    case OpKind::Pow: return mk(t, std::pow(a, b));
    case OpKind::Min: return fl ? mk(t, b < a ? b : a) : RtValue::i64(ib < ia ? ib : ia);
    case OpKind::Max: return fl ? mk(t, b > a ? b : a) : RtValue::i64(ib > ia ? ib : ia);
    case OpKind::Atan2: return mk(t, std::atan2(a, b));
    case OpKind::Neg: return fl ? mk(t, -a) : RtValue::i64(int64_t(0 - uint64_t(ia)));
    case OpKind::Abs: return fl ? mk(t, std::fabs(a)) : RtValue::i64(ia < 0 ? int64_t(0 - uint64_t(ia)) : ia);
    case OpKind::Exp: return mk(t, std::exp(a));
    case OpKind::Log: return mk(t, std::log(a));
    case OpKind::Sqrt: return mk(t, std::sqrt(a));
    case OpKind::Sin: return mk(t, std::sin(a));
    case OpKind::Cos: return mk(t, std::cos(a));
    case OpKind::Tan: return mk(t, std::tan(a));
    case OpKind::Tanh: return mk(t, std::tanh(a));
    case OpKind::Sigmoid: return mk(t, 1.0 / (1.0 + std::exp(-a)));
    case OpKind::Relu: return mk(t, a > 0 ? a : 0.0);
    case OpKind::Softplus: return mk(t, std::max(a, 0.0) + std::log1p(std::exp(-std::fabs(a))));
    case OpKind::Log1p: return mk(t, std::log1p(a));
    case OpKind::Expm1: return mk(t, std::expm1(a));
    case OpKind::Floor: return mk(t, std::floor(a));
    case OpKind::Ceil: return mk(t, std::ceil(a));
    case OpKind::Lt: return RtValue::boolean(fl ? a < b : ia < ib);
    case OpKind::Le: return RtValue::boolean(fl ? a <= b : ia <= ib);
    case OpKind::Gt: return RtValue::boolean(fl ? a > b : ia > ib);
    case OpKind::Ge: return RtValue::boolean(fl ? a >= b : ia >= ib);
    case OpKind::Eq: return RtValue::boolean(fl ? a == b : ia == ib);
    case OpKind::Ne: return RtValue::boolean(fl ? a != b : ia != ib);
    case OpKind::And: return RtValue::boolean(ia && ib);
    case OpKind::Or: return RtValue::boolean(ia || ib);
    case OpKind::Not: return RtValue::boolean(!ia);
    case OpKind::Select: return x[0].i ? x[1] : x[2];
    case OpKind::Cast:
      if (t.isFloat()) return mk(t, x[0].num());
      if (t.elem == Scalar::Bool) return RtValue::boolean(x[0].num() != 0);
      return RtValue::i64(fl ? castToInt(a) : ia);
    case OpKind::StopGradient: return x[0];
    // ir/Philox.h, as compiled code calls it (f32: the header's own rounding)
    case OpKind::RandUniform:
      return t.elem == Scalar::F32 ? RtValue::f32(philox::uniform01f(ia, ib)) : mk(t, philox::uniform01(ia, ib));
    case OpKind::RandNormal:
      return t.elem == Scalar::F32 ? RtValue::f32(philox::normal01f(ia, ib)) : mk(t, philox::normal01(ia, ib));
    case OpKind::RandMix: return RtValue::i64(philox::mixKey(ia, ib));
    case OpKind::Call: case OpKind::GradCall: case OpKind::Print: case OpKind::If:
    case OpKind::For: case OpKind::While: case OpKind::Yield: case OpKind::Return:
    case OpKind::TapePush: case OpKind::TapePop:
    case OpKind::Dim: case OpKind::Index: case OpKind::Slice: case OpKind::Update:
    case OpKind::AddAt: case OpKind::Map: case OpKind::Reduce: case OpKind::MatMul:
    case OpKind::Transpose: case OpKind::Fill: case OpKind::Build: case OpKind::Assert:
      break;
  }
  fail(op, "not a scalar op");
}

void Interp::loop(const Operation& op, Env& env) {
  bool isFor = op.kind == OpKind::For;
  size_t base = isFor ? 2 : 0;
  std::vector<RtValue> state;
  for (size_t k = base; k < op.operands.size(); ++k) state.push_back(env.at(op.operand(k)));
  auto bind = [&](const Block& b, size_t first) {
    for (size_t k = 0; k < state.size(); ++k) env[b.arg(first + k)] = state[k];
  };
  if (isFor) {
    int64_t lo = env.at(op.operand(0)).i, hi = env.at(op.operand(1)).i;
    for (int64_t i = lo; i < hi; ++i) {
      env[op.region(0)->arg(0)] = RtValue::i64(i);
      bind(*op.region(0), 1);
      state = run(*op.region(0), env);
    }
  } else {
    for (;;) {
      bind(*op.region(0), 0);
      if (!run(*op.region(0), env).at(0).i) break;
      bind(*op.region(1), 0);
      state = run(*op.region(1), env);
    }
  }
  for (size_t k = 0; k < state.size(); ++k) env[op.result(k)] = state[k];
}

void Interp::exec(const Operation& op, Env& env) {
  std::vector<RtValue> x;
  for (Value* v : op.operands) x.push_back(env.at(v));
  switch (op.kind) {
    case OpKind::If: {
      std::vector<RtValue> r = run(*op.region(x[0].i ? 0 : 1), env);
      for (size_t k = 0; k < r.size(); ++k) env[op.result(k)] = r[k];
      return;
    }
    case OpKind::For:
    case OpKind::While: loop(op, env); return;
    case OpKind::Call: {
      const Function* callee = m_.lookup(op.s);
      if (!callee) fail(op, "unknown function " + op.s);
      std::vector<RtValue> r = Interp(m_, out_).call(*callee, x);
      for (size_t k = 0; k < r.size(); ++k) env[op.result(k)] = r[k];
      return;
    }
    case OpKind::GradCall: fail(op, "grad_call must be materialised before interpretation");
    case OpKind::Print: print(op, x); return;
    case OpKind::TapePush: {
      std::vector<RtValue> saved;
      for (const RtValue& v : x) saved.push_back(v.deepCopy());
      tape_.push_back(std::move(saved));
      return;
    }
    case OpKind::TapePop: {
      if (tape_.empty()) fail(op, "tape underflow");
      std::vector<RtValue> r = tape_.back();
      tape_.pop_back();
      for (size_t k = 0; k < op.results.size(); ++k) env[op.result(k)] = r.at(k);
      return;
    }
    case OpKind::Assert: assertOp(op, x); return;
    case OpKind::Dim: case OpKind::Index: case OpKind::Slice: case OpKind::Update:
    case OpKind::AddAt: case OpKind::Map: case OpKind::Reduce: case OpKind::MatMul:
    case OpKind::Transpose: case OpKind::Fill: case OpKind::Build:
      env[op.result()] = arrayOp(op, x, env);
      return;
    case OpKind::Yield: case OpKind::Return: return;
    default: break;  // scalar ops: `scalar` switches over every op
  }
  env[op.result()] = scalar(op, x);
}

// One line per operand: `label value`, or `value` without a label.
void Interp::print(const Operation& op, const std::vector<RtValue>& x) {
  if (!out_) return;
  for (const RtValue& v : x) *out_ += (op.s.empty() ? "" : op.s + " ") + formatRtValue(v) + "\n";
  if (x.empty() && !op.s.empty()) *out_ += op.s + "\n";
}

}  // namespace interp

std::vector<RtValue> interpret(const Module& m, const Function& f, const std::vector<RtValue>& args,
                               std::string* out) {
  return interp::Interp(m, out).call(f, args);
}

}  // namespace chain::ir
