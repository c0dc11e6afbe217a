// The type checker, built-in functions (SPEC §4, scalar forms) and the
// differentiation operators grad(f, wrt=...) / value_and_grad(f, wrt=...),
// whose value is a function. Reductions and the array built-ins are in
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
  if (name == "grad" || name == "value_and_grad") return gradExpr(e, name);
  bool oneArgMinMax = (name == "min" || name == "max") && e.args.size() == 1;
  if (name == "sum" || name == "prod" || name == "mean" || name == "logsumexp" || oneArgMinMax)
    return reduction(e, name, hint);
  if (isArrayBuiltin(name)) return arrayBuiltin(e, name, hint);
  if (!e.named.empty()) {
    for (auto& n : e.named) expr(*n.value);
    m_.diag.error(e.named[0].loc, "'" + name + "' takes no named arguments");
    return SemType::invalid();
  }
  if (name == "print") return printBuiltin(e);
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

// grad(f) | grad(f, wrt=p) | grad(f, wrt=(p, q)) | value_and_grad(f, ...)
SemType FnChecker::gradExpr(Expr& e, const std::string& name) {
  if (e.args.size() != 1) {
    m_.diag.error(e.loc, "'" + name + "' expects a function and an optional wrt=..., found " +
                             plural(e.args.size(), "argument"));
    return SemType::invalid();
  }
  FnRef ref;
  ref.diff = name == "grad" ? FnRef::Grad : FnRef::ValueAndGrad;
  if (!gradTarget(*e.args[0], name, ref)) return SemType::invalid();
  FnInfo& f = m_.fns[ref.fn];
  m_.ensureChecked(ref.fn);
  bool ok = true;
  if (f.result.ok() && !isFloatScalar(f.result)) {
    m_.diag.error(e.args[0]->loc, "cannot differentiate '" + f.decl->name + "': its result is " +
                                      typeStr(f.result) + ", not a scalar float");
    ok = false;
  }
  std::vector<std::pair<std::string, SrcLoc>> wrt;
  ok = wrtNames(e, name, ref, wrt) && ok;
  if (wrt.empty() && !ref.wrtTuple && ok) {
    if (f.decl->params.empty()) {
      m_.diag.error(e.args[0]->loc,
                    "cannot differentiate '" + f.decl->name + "': it has no parameters");
      return SemType::invalid();
    }
    wrt.push_back({f.decl->params[0].name, e.args[0]->loc});
  }
  ok = wrtParams(f, wrt, ref) && ok;
  if (!ok || !f.result.ok()) return SemType::invalid();
  for (int p : ref.wrt)
    if (!f.params[p].ok()) return SemType::invalid();
  fnRefs_[&e] = ref;
  SemType t;
  t.kind = SemType::Function;
  return t;
}

// The function argument of grad(...): a function name, or a let-bound plain
// function value. Sets ref.fn and records the call-graph edge.
bool FnChecker::gradTarget(Expr& fe, const std::string& name, FnRef& ref) {
  bool nested = fe.kind == ExprKind::Call && fe.callee && fe.callee->kind == ExprKind::Name &&
                (fe.callee->text == "grad" || fe.callee->text == "value_and_grad");
  Binding* b = fe.kind == ExprKind::Name ? lookup(fe.text) : nullptr;
  if (b && b->isFn && b->fn.diff != FnRef::None) nested = true;
  if (nested) {
    m_.diag.error(fe.loc, "nested differentiation is not supported yet");
    return false;
  }
  if (fe.kind != ExprKind::Name) {
    m_.diag.error(fe.loc, "the first argument of '" + name + "' must name a function");
    return false;
  }
  if (b && b->isFn) {
    ref.fn = b->fn.fn;
  } else if ((ref.fn = m_.lookupFn(fe.text)) < 0) {
    if (!b || b->type.ok())
      m_.diag.error(fe.loc, b ? "'" + fe.text + "' is not a function"
                              : "unknown function '" + fe.text + "'" +
                                    suggestion(fe.text, NameUse::GradTarget));
    return false;
  }
  fe.sem.kind = SemType::Function;
  addEdge(ref.fn, fe.loc);
  return true;
}

// The names given by wrt=p / wrt=(p, q), each with the position to blame.
bool FnChecker::wrtNames(Expr& e, const std::string& name, FnRef& ref,
                         std::vector<std::pair<std::string, SrcLoc>>& wrt) {
  bool ok = true;
  for (auto& n : e.named) {
    if (n.name != "wrt") {
      m_.diag.error(n.loc, "'" + name + "' has no argument named '" + n.name + "'");
      ok = false;
      continue;
    }
    if (!wrt.empty() || ref.wrtTuple) {
      m_.diag.error(n.loc, "wrt= is given twice");
      ok = false;
      continue;
    }
    Expr& v = *n.value;
    if (v.kind == ExprKind::Name) {
      wrt.push_back({v.text, v.loc});
    } else if (v.kind == ExprKind::Tuple && !v.args.empty()) {
      ref.wrtTuple = true;
      for (auto& p : v.args) {
        if (p->kind == ExprKind::Name) {
          wrt.push_back({p->text, p->loc});
        } else {
          m_.diag.error(p->loc, "wrt= expects parameter names");
          ok = false;
        }
      }
    } else {
      m_.diag.error(v.loc, "wrt= expects a parameter name or a tuple of names: wrt=(p, q)");
      ok = false;
    }
  }
  return ok;
}

// Resolves the wrt names to parameter indices of f; each must be a float.
bool FnChecker::wrtParams(const FnInfo& f, const std::vector<std::pair<std::string, SrcLoc>>& wrt,
                          FnRef& ref) {
  const std::string& fname = f.decl->name;
  bool ok = true;
  for (auto& [pname, ploc] : wrt) {
    int index = -1;
    for (size_t i = 0; i < f.decl->params.size(); ++i)
      if (f.decl->params[i].name == pname) index = static_cast<int>(i);
    if (index < 0) {
      std::vector<std::string> params;
      for (const ast::Param& p : f.decl->params) params.push_back(p.name);
      m_.diag.error(ploc, "'" + fname + "' has no parameter '" + pname + "'" + didYouMean(pname, params));
      ok = false;
      continue;
    }
    for (int prev : ref.wrt)
      if (prev == index) {
        m_.diag.error(ploc, "parameter '" + pname + "' appears twice in wrt");
        ok = false;
      }
    const SemType& pt = f.params[index];
    if (pt.ok() && !(pt.kind == SemType::Value && pt.type.isFloat())) {
      m_.diag.error(ploc, "cannot differentiate '" + fname + "' with respect to '" + pname +
                              "': it is " + typeStr(pt) + ", not a float");
      ok = false;
    }
    ref.wrt.push_back(index);
  }
  return ok;
}

}  // namespace chain::frontend::detail
