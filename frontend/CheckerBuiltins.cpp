// The type checker, built-in functions (SPEC §4, scalar forms; the random
// numbers uniform / normal / mix); the differentiation operators are in
// CheckerDiff.cpp. Reductions and the array built-ins are in
// CheckerArrayOps.cpp; the elementwise built-ins here also take arrays.
#include <set>

#include "frontend/CheckerImpl.h"
#include "frontend/DidYouMean.h"

namespace chain::frontend::detail {

using ast::ExprKind;

namespace {

bool isMathBuiltin(const std::string& n) {
  static const std::set<std::string> names = {
      "exp",  "log",     "sqrt", "sin",      "cos",   "tan",   "tanh", "abs",
      "sigmoid", "relu", "softplus", "log1p", "expm1", "floor", "ceil"};
  return names.count(n) != 0;
}

bool isArrayBuiltin(const std::string& n) {
  static const std::set<std::string> names = {"sum", "prod", "mean", "logsumexp", "dot",
                                              "transpose", "zeros", "ones", "fill", "len",
                                              "size"};
  return names.count(n) != 0;
}

std::string plural(size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

bool FnChecker::argCount(Expr& e, const std::string& name, size_t n, const char* expects) {
  if (e.args.size() == n) return true;
  for (auto& a : e.args) expr(*a);
  m_.diag.error(e.loc, "'" + name + "' expects " + expects + ", found " +
                           plural(e.args.size(), "argument"));
  return false;
}

SemType FnChecker::builtin(Expr& e, const std::string& name, const SemType* hint) {
  ir::DiffKind kind;
  if (isDiffOperator(name, &kind)) return diffExpr(e, name, kind);
  bool oneArgMinMax = (name == "min" || name == "max") && e.args.size() == 1;
  if (name == "sum" || name == "prod" || name == "mean" || name == "logsumexp" || oneArgMinMax)
    return reduction(e, name, hint);
  if (isArrayBuiltin(name)) return arrayBuiltin(e, name, hint);
  if (name == "uniform" || name == "normal") return randomBuiltin(e, name);
  if (!e.named.empty()) {
    for (auto& n : e.named) expr(*n.value);
    m_.diag.error(e.named[0].loc, "'" + name + "' takes no named arguments");
    return SemType::invalid();
  }
  if (name == "print") return printBuiltin(e);
  if (name == "mix") return mixBuiltin(e);
  if (isMathBuiltin(name)) return mathBuiltin(e, name, hint);
  if (name == "pow" || name == "min" || name == "max" || name == "atan2")
    return binaryBuiltin(e, name, hint);
  if (name == "f64" || name == "f32" || name == "i64") {
    if (!argCount(e, name, 1, "one number or bool")) return SemType::invalid();
    SemType t = expr(*e.args[0]);
    if (!t.ok() || !requireValue(*e.args[0])) return SemType::invalid();
    if (t.kind != SemType::Value) {
      m_.diag.error(e.args[0]->loc, "'" + name + "' expects a number or bool, found " + typeStr(t));
      return SemType::invalid();
    }
    ir::Scalar to = name == "f64" ? ir::Scalar::F64 : name == "f32" ? ir::Scalar::F32
                                                                     : ir::Scalar::I64;
    return withElem(t, to);
  }
  if (name == "stop_gradient") {
    if (!argCount(e, name, 1, "one float")) return SemType::invalid();
    SemType t = expr(*e.args[0], hint);
    if (!t.ok() || !requireValue(*e.args[0])) return SemType::invalid();
    if (t.kind != SemType::Value || !t.type.isFloat()) {
      m_.diag.error(e.args[0]->loc, "'stop_gradient' expects a float, found " + typeStr(t));
      return SemType::invalid();
    }
    return t;
  }
  m_.diag.error(e.loc, "unknown function '" + name + "'");  // a name missing above
  return SemType::invalid();
}

// exp(x), ..., abs(x): a float; an i64 argument is converted to f64 (abs
// keeps i64).
SemType FnChecker::mathBuiltin(Expr& e, const std::string& name, const SemType* hint) {
  if (!argCount(e, name, 1, "one number")) return SemType::invalid();
  Expr& a = *e.args[0];
  SemType t = expr(a, hint);
  if (!t.ok() || !requireValue(a)) return SemType::invalid();
  if (!isNumericElem(t)) {
    m_.diag.error(a.loc, "'" + name + "' expects a number, found " + typeStr(t));
    return SemType::invalid();
  }
  if (t.type.elem == ir::Scalar::I64 && name != "abs") return withElem(t, ir::Scalar::F64);
  return t;
}

// pow(a, b), min(a, b), max(a, b), atan2(y, x): operands promoted like an
// arithmetic operator's; pow and atan2 of two i64 are f64.
SemType FnChecker::binaryBuiltin(Expr& e, const std::string& name, const SemType* hint) {
  if (!argCount(e, name, 2, "two numbers")) return SemType::invalid();
  Expr& a = *e.args[0];
  Expr& b = *e.args[1];
  operands(a, b, hint);
  bool ok = a.sem.ok() && b.sem.ok();
  ok = ok && requireValue(a);
  ok = ok && requireValue(b);
  if (!ok) return SemType::invalid();
  if (!isNumericElem(a.sem) || !isNumericElem(b.sem)) {
    m_.diag.error(e.loc, "'" + name + "' expects two numbers, found " + typeStr(a.sem) + " and " +
                             typeStr(b.sem));
    return SemType::invalid();
  }
  SemType t = promote(a.sem, b.sem, name, e.loc);
  if (t.ok() && isIntScalar(t) && (name == "pow" || name == "atan2"))
    t = SemType::value(ir::Type::f64());
  if (t.ok() && (isArray(a.sem) || isArray(b.sem)))
    return broadcast(a.sem, b.sem, t.type.elem, "'" + name + "'", e.loc);
  return t;
}

// print(x, ...) / print("label", x, ...): values may be scalars or tuples.
SemType FnChecker::printBuiltin(Expr& e) {
  SemType v;
  v.kind = SemType::Void;
  if (e.args.empty()) {
    m_.diag.error(e.loc, "'print' expects a value, or a label and values");
    return SemType::invalid();
  }
  for (size_t i = 0; i < e.args.size(); ++i) {
    Expr& a = *e.args[i];
    if (i == 0 && a.kind == ExprKind::StringLit) {
      a.sem = v;
      continue;
    }
    if (a.kind == ExprKind::StringLit) {
      m_.diag.error(a.loc, "a string can only be the first argument of print");
      continue;
    }
    if (expr(a).ok()) requireValue(a);
  }
  return v;
}

// An i64 scalar argument of uniform / normal / mix (`what`: key, index).
bool FnChecker::keyArg(Expr& a, const std::string& name, const char* what) {
  SemType t = expr(a);
  if (!t.ok() || !requireValue(a)) return false;
  if (!isIntScalar(t)) {
    m_.diag.error(a.loc, "'" + name + "' expects an i64 " + what + ", found " + typeStr(t));
    return false;
  }
  return true;
}

// uniform(key, n, ...) | normal(key, n, ...), optionally dtype=f32: an array
// of the given sizes drawn from the generator of ir/Philox.h.
SemType FnChecker::randomBuiltin(Expr& e, const std::string& name) {
  bool given = false;
  ir::Scalar dtype = ir::Scalar::F64;
  bool ok = dtypeArg(e, name, false, dtype, given);
  if (e.args.size() < 2) {
    for (auto& a : e.args) expr(*a);
    m_.diag.error(e.loc, "'" + name + "' expects a key and at least one size");
    return SemType::invalid();
  }
  ok = keyArg(*e.args[0], name, "key") && ok;
  std::vector<std::string> dims;
  ok = sizeArgs(e, name, 1, dims) && ok;
  if (!ok) return SemType::invalid();
  return arrayOf(dtype, dims);
}

// mix(key, i): an i64 key for an independent stream.
SemType FnChecker::mixBuiltin(Expr& e) {
  if (!argCount(e, "mix", 2, "a key and an index")) return SemType::invalid();
  bool ok = keyArg(*e.args[0], "mix", "key");
  ok = keyArg(*e.args[1], "mix", "index") && ok;
  return ok ? SemType::value(ir::Type::i64()) : SemType::invalid();
}

}  // namespace chain::frontend::detail
