// Lowering expressions to IR: literals, names, operators with their
// promotions (Builder::cast), short-circuit `and`/`or` and if-expressions as
// If ops, tuples (flattened), calls of user functions (Call) and of
// grad/value_and_grad function values (GradCall), and the built-ins (array
// operands and array built-ins go to LowerArrays.cpp / LowerArrayOps.cpp).
#include <cassert>

#include "frontend/LowerImpl.h"
#include "ir/DiffSpec.h"

namespace chain::frontend::lowering {

using ast::isDiffOperator;

using ast::ExprKind;
using ir::OpKind;

namespace {

OpKind binaryOp(const std::string& op) {
  if (op == "+") return OpKind::Add;
  if (op == "-") return OpKind::Sub;
  if (op == "*") return OpKind::Mul;
  if (op == "/") return OpKind::Div;
  if (op == "%") return OpKind::Rem;
  if (op == "**") return OpKind::Pow;
  if (op == "==") return OpKind::Eq;
  if (op == "!=") return OpKind::Ne;
  if (op == "<") return OpKind::Lt;
  if (op == "<=") return OpKind::Le;
  if (op == ">") return OpKind::Gt;
  assert(op == ">=" && "unknown binary operator");
  return OpKind::Ge;
}


bool isBuiltin(const std::string& n) {
  OpKind k;
  return mathOp(n, k) || n == "pow" || n == "min" || n == "max" || n == "atan2" || n == "f64" ||
         n == "f32" || n == "i64" || n == "print" || isDiffOperator(n) ||
         n == "sum" || n == "prod" || n == "mean" || n == "logsumexp" || n == "dot" ||
         n == "transpose" || n == "zeros" || n == "ones" || n == "fill" || n == "len" ||
         n == "size" || n == "uniform" || n == "normal" || n == "mix";
}

// -v for an integer literal without signed overflow.
int64_t negate(int64_t v) { return static_cast<int64_t>(0 - static_cast<uint64_t>(v)); }

}  // namespace

// The unary math built-ins that map to one scalar op (also used elementwise
// on arrays by LowerArrayOps.cpp).
bool mathOp(const std::string& n, OpKind& k) {
  static const std::map<std::string, OpKind> ops = {
      {"exp", OpKind::Exp},         {"log", OpKind::Log},          {"sqrt", OpKind::Sqrt},
      {"sin", OpKind::Sin},         {"cos", OpKind::Cos},          {"tan", OpKind::Tan},
      {"tanh", OpKind::Tanh},       {"abs", OpKind::Abs},          {"sigmoid", OpKind::Sigmoid},
      {"relu", OpKind::Relu},       {"softplus", OpKind::Softplus}, {"log1p", OpKind::Log1p},
      {"expm1", OpKind::Expm1},     {"floor", OpKind::Floor},      {"ceil", OpKind::Ceil},
      {"stop_gradient", OpKind::StopGradient}};
  auto it = ops.find(n);
  if (it == ops.end()) return false;
  k = it->second;
  return true;
}

std::vector<Value*> FnLowerer::castAll(std::vector<Value*> vals,
                                       const std::vector<ir::Type>& types) {
  assert(vals.size() == types.size());
  for (size_t i = 0; i < vals.size(); ++i) vals[i] = castValue(vals[i], types[i]);
  return vals;
}

Value* FnLowerer::scalar(const Expr& e) {
  std::vector<Value*> v = expr(e);
  assert(v.size() == 1 && "expected a scalar");
  return v[0];
}

Value* FnLowerer::scalarAs(const Expr& e, ir::Type t) {
  Value* v = scalar(e);
  b_.setLoc(e.loc);
  return castValue(v, t);
}

std::vector<Value*> FnLowerer::expr(const Expr& e) {
  assert(e.sem.ok() && "lowering an unchecked expression");
  b_.setLoc(e.loc);
  switch (e.kind) {
    case ExprKind::FloatLit: return {b_.constF(e.fval, e.sem.type)};
    case ExprKind::IntLit: return {b_.cast(b_.constI(e.ival), e.sem.type)};
    case ExprKind::BoolLit: return {b_.constB(e.ival != 0)};
    case ExprKind::Name: {
      Binding* b = lookup(e.text);
      if (!b || b->isFn) return {};  // a function used as a value: see fnValue
      return b->vals;
    }
    case ExprKind::Unary: return unary(e);
    case ExprKind::Binary: return binary(e);
    case ExprKind::Call: return call(e);
    case ExprKind::IfExpr: return ifExpr(e);
    case ExprKind::Tuple: {
      std::vector<Value*> out;
      for (const auto& a : e.args) {
        std::vector<Value*> v = expr(*a);
        out.insert(out.end(), v.begin(), v.end());
      }
      return out;
    }
    case ExprKind::Index: return {indexExpr(e)};
    case ExprKind::ArrayLit: return {arrayLit(e)};
    case ExprKind::Comprehension: return {comprehension(e)};
    case ExprKind::StringLit:
    case ExprKind::Range:
    case ExprKind::Colon:
    case ExprKind::Generator: break;
  }
  assert(false && "expression kind rejected by the checker");
  return {};
}

std::vector<Value*> FnLowerer::unary(const Expr& e) {
  const Expr& a = *e.args[0];
  if (e.op == "-" && a.kind == ExprKind::FloatLit) return {b_.constF(-a.fval, e.sem.type)};
  if (e.op == "-" && a.kind == ExprKind::IntLit)
    return {b_.cast(b_.constI(negate(a.ival)), e.sem.type)};
  OpKind k = e.op == "not" ? OpKind::Not : OpKind::Neg;
  if (e.sem.type.rank > 0) {
    ir::Type t{e.sem.type.elem, 0};
    return {elementwise({operand(a)}, "operator '" + e.op + "'", e.loc,
                        [&](const std::vector<Value*>& s) { return b_.unary(k, b_.cast(s[0], t)); })};
  }
  Value* v = scalarAs(a, e.sem.type);
  b_.setLoc(e.loc);
  return {b_.unary(e.op == "not" ? OpKind::Not : OpKind::Neg, v)};
}

std::vector<Value*> FnLowerer::binary(const Expr& e) {
  const Expr& a = *e.args[0];
  const Expr& b = *e.args[1];
  if (e.op == "@") return {matmul(e, a, b, "matmul")};
  if (e.sem.type.rank > 0) {
    // Elementwise on arrays (both operands evaluated, also for and/or).
    OpKind k = e.op == "and" ? OpKind::And : e.op == "or" ? OpKind::Or : binaryOp(e.op);
    ir::Type t{e.sem.type.elem, 0};
    if (ir::isComparison(k))
      t = ir::Type{a.sem.type.isFloat() ? a.sem.type.elem : b.sem.type.elem, 0};
    Operand x = operand(a);
    Operand y = operand(b);
    return {elementwise({x, y}, "operator '" + e.op + "'", e.loc, [&](const std::vector<Value*>& s) {
      return b_.binary(k, b_.cast(s[0], t), b_.cast(s[1], t));
    })};
  }
  if (e.op == "and" || e.op == "or") {
    // a and b = if a { b } else { false };  a or b = if a { true } else { b }
    Value* c = scalar(a);
    bool isAnd = e.op == "and";
    std::function<std::vector<Value*>()> rhs = [&] { return std::vector<Value*>{scalar(b)}; };
    std::function<std::vector<Value*>()> lit = [&] {
      b_.setLoc(e.loc);
      return std::vector<Value*>{b_.constB(!isAnd)};
    };
    return buildIf(c, {ir::Type::boolean()}, assignedNames(b), isAnd ? rhs : lit,
                   isAnd ? lit : rhs, e.loc);
  }
  OpKind k = binaryOp(e.op);
  // The operands' common type: the result type of an arithmetic op; for a
  // comparison the float type of either side (else both have one type).
  ir::Type t = e.sem.type;
  if (ir::isComparison(k)) t = a.sem.type.isFloat() ? a.sem.type : b.sem.type;
  Value* x = scalarAs(a, t);
  Value* y = scalarAs(b, t);
  b_.setLoc(e.loc);
  return {b_.binary(k, x, y)};
}

std::vector<Value*> FnLowerer::ifExpr(const Expr& e) {
  Value* c = scalar(*e.args[0]);
  std::vector<ir::Type> types;
  flatTypes(e.sem, types);
  auto assigned = assignedNames({e.thenBlock.get(), e.elseBlock.get()});
  return buildIf(
      c, types, assigned, [&] { return blockValue(*e.thenBlock); },
      [&] { return blockValue(*e.elseBlock); }, e.loc);
}

FnDesc FnLowerer::fnValue(const Expr& e) {
  if (e.kind == ExprKind::Name) {
    if (Binding* b = lookup(e.text); b && b->isFn) return b->fn;
    auto it = byName_.find(e.text);
    assert(it != byName_.end() && "function value of an unknown function");
    FnDesc d;
    d.fn = it->second;
    return d;
  }
  // A differentiation operator: the checker recorded every level (innermost first).
  assert(e.kind == ExprKind::Call && e.callee->kind == ExprKind::Name);
  FnDesc d = fnValue(*e.args[0]);
  bool ok = ir::decodeLevels(e.diffLevels, d.levels);
  assert(ok && "differentiation operator without checked levels");
  (void)ok;
  return d;
}

std::vector<Value*> FnLowerer::call(const Expr& e) {
  const Expr& callee = *e.callee;
  if (callee.kind == ExprKind::Name) {
    Binding* b = lookup(callee.text);
    if (!(b && b->isFn) && isBuiltin(callee.text)) return builtin(e, callee.text);
  }
  return callFn(e, fnValue(callee));
}

std::vector<Value*> FnLowerer::callFn(const Expr& e, const FnDesc& d) {
  const FnSig& sig = sigs_[d.fn];
  ir::Signature derived{sig.params, sig.results};
  std::string why;
  bool ok = d.levels.empty() || ir::derivedSignature(derived, d.levels, derived, why);
  assert(ok && "the checker accepted a derivative the IR cannot express");
  (void)ok;
  std::vector<Value*> args;
  for (size_t i = 0; i < e.args.size(); ++i) args.push_back(scalarAs(*e.args[i], derived.params[i]));
  b_.setLoc(e.loc);
  ir::Operation* op = b_.create(d.levels.empty() ? OpKind::Call : OpKind::GradCall, args, derived.results);
  op->s = sig.decl->name;
  if (!d.levels.empty()) op->ints = ir::encodeLevels(d.levels);
  std::vector<Value*> out;
  for (auto& r : op->results) out.push_back(r.get());
  return out;
}

std::vector<Value*> FnLowerer::builtin(const Expr& e, const std::string& name) {
  ir::Type t = e.sem.type;
  if (name == "print") {
    std::vector<Value*> vals;
    std::string label;
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (e.args[i]->kind == ExprKind::StringLit) {
        label = e.args[i]->text;
        continue;
      }
      std::vector<Value*> v = expr(*e.args[i]);
      vals.insert(vals.end(), v.begin(), v.end());
    }
    b_.setLoc(e.loc);
    b_.create(OpKind::Print, vals, {})->s = label;
    return {};
  }
  if (isDiffOperator(name)) return {};  // a function value
  bool reduce = name == "sum" || name == "prod" || name == "mean" || name == "logsumexp" ||
                ((name == "min" || name == "max") && e.args.size() == 1);
  if (reduce) return {reduction(e, name)};
  if (name == "dot" || name == "transpose" || name == "zeros" || name == "ones" ||
      name == "fill" || name == "len" || name == "size")
    return arrayBuiltin(e, name);
  if (name == "uniform" || name == "normal" || name == "mix") return {randomBuiltin(e, name)};
  if (t.rank > 0) return {elementwiseBuiltin(e, name)};
  OpKind k;
  if (mathOp(name, k)) {
    Value* x = scalarAs(*e.args[0], t);
    b_.setLoc(e.loc);
    return {b_.unary(k, x)};
  }
  if (name == "f64" || name == "f32" || name == "i64") return {scalarAs(*e.args[0], t)};
  k = name == "pow" ? OpKind::Pow : name == "min" ? OpKind::Min
      : name == "max" ? OpKind::Max : OpKind::Atan2;
  Value* x = scalarAs(*e.args[0], t);
  Value* y = scalarAs(*e.args[1], t);
  b_.setLoc(e.loc);
  return {b_.binary(k, x, y)};
}

}  // namespace chain::frontend::lowering
