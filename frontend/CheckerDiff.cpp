// The differentiation operators (SPEC §5): grad, value_and_grad, jvp, vjp,
// jacobian, hessian and hvp, each applied to a function value (a function
// name, a let-bound function value, or another differentiation operator:
// they nest to any depth) with an optional wrt=p / wrt=(p, q) naming
// parameters of that function value. Their value is a function; its
// signature (DerivedSig) follows ir/DiffSpec.h, with symbolic sizes:
//   grad            params            -> p, or a tuple for wrt=(p, q)
//   value_and_grad  params            -> (result, gradient)
//   jvp             params, d<p>...   -> (result, tangent of the result)
//   vjp             params, dy        -> cotangent of p (a tuple for several)
//   jacobian        params            -> array: result's dims then p's
//   hessian         params            -> array: p's dims twice
//   hvp             params, v         -> p's type
#include <set>

#include "frontend/CheckerImpl.h"
#include "frontend/DidYouMean.h"

namespace chain::frontend::detail {

using ast::ExprKind;
using ir::DiffKind;

namespace {

struct Operator {
  const char* name;
  DiffKind kind;
};
const Operator kOperators[] = {{"grad", DiffKind::Grad},       {"value_and_grad", DiffKind::ValueAndGrad},
                               {"jvp", DiffKind::Jvp},         {"vjp", DiffKind::Vjp},
                               {"jacobian", DiffKind::Jacobian}, {"hessian", DiffKind::Hessian},
                               {"hvp", DiffKind::Hvp}};

const char* operatorName(DiffKind k) {
  for (const Operator& o : kOperators)
    if (o.kind == k) return o.name;
  return ir::diffKindName(k);
}

SemType tupleOf(std::vector<SemType> elems) {
  SemType t;
  t.kind = SemType::Tuple;
  t.elems = std::move(elems);
  return t;
}

// An array of element `elem` with dims a ++ b (a scalar when both are empty).
SemType concatDims(ir::Scalar elem, const SemType& a, const SemType& b) {
  std::vector<std::string> dims = a.dims;
  dims.insert(dims.end(), b.dims.begin(), b.dims.end());
  return dims.empty() ? scalarOf(elem) : arrayOf(elem, dims);
}

bool isFloatValue(const SemType& t) { return t.kind == SemType::Value && t.type.isFloat(); }

void applyLevel(DerivedSig& s, const FnRef::Level& l) {
  std::vector<SemType> ws;
  for (int w : l.wrt) ws.push_back(s.params[size_t(w)]);
  SemType wt = l.wrtTuple ? tupleOf(ws) : ws[0];
  switch (l.kind) {
    case DiffKind::Grad: s.result = wt; return;
    case DiffKind::ValueAndGrad: s.result = tupleOf({s.result, wt}); return;
    case DiffKind::Jvp:
      for (int w : l.wrt) {
        s.names.push_back("d" + s.names[size_t(w)]);
        s.params.push_back(s.params[size_t(w)]);
      }
      s.result = tupleOf({s.result, s.result});
      return;
    case DiffKind::Vjp:
      s.names.push_back("dy");
      s.params.push_back(s.result);
      s.result = wt;
      return;
    case DiffKind::Jacobian:
    case DiffKind::ValueJacobian: s.result = concatDims(s.result.type.elem, s.result, ws[0]); return;
    case DiffKind::Hessian:
    case DiffKind::ValueHessian: s.result = concatDims(ws[0].type.elem, ws[0], ws[0]); return;
    case DiffKind::Hvp:
      s.names.push_back("v");
      s.params.push_back(ws[0]);
      s.result = ws[0];
      return;
  }
}

}  // namespace

std::string fnValueName(const std::string& base, const FnRef& ref) {
  std::string s = base;
  for (const FnRef::Level& l : ref.levels) s = std::string(operatorName(l.kind)) + "(" + s + ")";
  return s;
}

DerivedSig ModuleChecker::derivedSig(const FnRef& ref) const {
  const FnInfo& f = fns[size_t(ref.fn)];
  DerivedSig s;
  for (auto& p : f.decl->params) s.names.push_back(p.name);
  s.params = f.params;
  s.result = f.result;
  for (const FnRef::Level& l : ref.levels) {
    if (!s.result.ok()) return s;
    applyLevel(s, l);
  }
  return s;
}

// NAME(f) | NAME(f, wrt=p) | NAME(f, wrt=(p, q)), NAME one of the operators;
// f a function name, a function value or another NAME(...).
SemType FnChecker::diffExpr(Expr& e, const std::string& name, DiffKind kind) {
  if (e.args.size() != 1) {
    for (auto& a : e.args) expr(*a);
    m_.diag.error(e.loc, "'" + name + "' expects a function and an optional wrt=..., found " +
                             std::to_string(e.args.size()) + " argument" + (e.args.size() == 1 ? "" : "s"));
    return SemType::invalid();
  }
  FnRef ref;
  if (!diffTarget(*e.args[0], name, ref)) return SemType::invalid();
  m_.ensureChecked(ref.fn);
  DerivedSig f = m_.derivedSig(ref);
  std::string fname = fnValueName(m_.fns[size_t(ref.fn)].decl->name, ref);
  FnRef::Level level;
  level.kind = kind;
  std::vector<std::pair<std::string, SrcLoc>> wrt;
  bool ok = wrtNames(e, name, level, wrt);
  if (wrt.empty() && !level.wrtTuple && ok) {
    if (f.names.empty()) {
      m_.diag.error(e.args[0]->loc, "cannot differentiate '" + fname + "': it has no parameters");
      return SemType::invalid();
    }
    wrt.push_back({f.names[0], e.args[0]->loc});
  }
  ok = wrtParams(f, fname, wrt, level) && ok;
  if (!f.result.ok()) return SemType::invalid();
  ok = ok && checkDiffResult(f, fname, name, level, e.args[0]->loc);
  if (!ok) return SemType::invalid();
  for (int p : level.wrt)
    if (!f.params[size_t(p)].ok()) return SemType::invalid();
  ref.levels.push_back(level);
  fnRefs_[&e] = ref;
  std::vector<ir::DiffLevel> levels;
  for (const FnRef::Level& l : ref.levels) levels.push_back({l.kind, l.wrt});
  e.diffLevels = ir::encodeLevels(levels);
  SemType t;
  t.kind = SemType::Function;
  return t;
}

// The result that each operator needs (SPEC §5).
bool FnChecker::checkDiffResult(const DerivedSig& f, const std::string& fname, const std::string& name,
                                const FnRef::Level& level, SrcLoc loc) {
  auto fail = [&](const std::string& why) {
    m_.diag.error(loc, "cannot differentiate '" + fname + "': " + why);
    return false;
  };
  bool single = level.wrt.size() == 1 && !level.wrtTuple;
  switch (level.kind) {
    case DiffKind::Grad:
    case DiffKind::ValueAndGrad:
    case DiffKind::Hessian:
    case DiffKind::ValueHessian:
    case DiffKind::Hvp:
      if (!isFloatScalar(f.result)) return fail("its result is " + typeStr(f.result) + ", not a scalar float");
      break;
    case DiffKind::Jacobian:
    case DiffKind::ValueJacobian:
      if (!isFloatValue(f.result))
        return fail("its result is " + typeStr(f.result) + ", not a float scalar or array");
      break;
    case DiffKind::Jvp:
    case DiffKind::Vjp: {
      bool floats = isFloatValue(f.result);
      if (f.result.kind == SemType::Tuple && level.kind == DiffKind::Jvp) {
        floats = !f.result.elems.empty();
        for (const SemType& t : f.result.elems) floats = floats && isFloatValue(t);
      }
      if (!floats)
        return fail("its result is " + typeStr(f.result) + ", not a float scalar or array" +
                    (level.kind == DiffKind::Jvp ? " (or a tuple of them)" : ""));
      break;
    }
  }
  bool oneParam = level.kind == DiffKind::Jacobian || level.kind == DiffKind::Hessian || level.kind == DiffKind::Hvp;
  if (oneParam && !single) {
    m_.diag.error(loc, "'" + name + "' takes one parameter: wrt=p");
    return false;
  }
  return true;
}

// The function argument of an operator: a function name, a function value
// (let-bound, possibly derived), or an operator applied to one. Sets ref and
// records the call-graph edge.
bool FnChecker::diffTarget(Expr& fe, const std::string& name, FnRef& ref) {
  if (fe.kind == ExprKind::Call && fe.callee && fe.callee->kind == ExprKind::Name &&
      isDiffOperator(fe.callee->text) && !(lookup(fe.callee->text) && lookup(fe.callee->text)->isFn)) {
    if (!expr(fe).ok()) return false;
    const FnRef* inner = refOf(fe);
    if (!inner) return false;
    ref = *inner;
    return true;
  }
  if (fe.kind != ExprKind::Name) {
    if (fe.kind != ExprKind::Call) expr(fe);
    m_.diag.error(fe.loc, "the first argument of '" + name + "' must name a function");
    return false;
  }
  Binding* b = lookup(fe.text);
  if (b && b->isFn) {
    ref = b->fn;
  } else if ((ref.fn = m_.lookupFn(fe.text)) < 0) {
    if (!b && isBuiltinName(fe.text)) {
      m_.diag.error(fe.loc, "'" + name + "' differentiates functions defined in the file, and '" + fe.text +
                                "' is a built-in: wrap it, e.g. fn g(x: f64) -> f64 { " + fe.text + "(x) }");
      return false;
    }
    if (!b || b->type.ok())
      m_.diag.error(fe.loc, b ? "'" + fe.text + "' is not a function"
                              : "unknown function '" + fe.text + "'" + suggestion(fe.text, NameUse::GradTarget));
    return false;
  }
  fe.sem.kind = SemType::Function;
  fnRefs_[&fe] = ref;
  addEdge(ref.fn, fe.loc);
  return true;
}

// The names given by wrt=p / wrt=(p, q), each with the position to blame.
bool FnChecker::wrtNames(Expr& e, const std::string& name, FnRef::Level& level,
                         std::vector<std::pair<std::string, SrcLoc>>& wrt) {
  bool ok = true;
  for (auto& n : e.named) {
    if (n.name != "wrt") {
      m_.diag.error(n.loc, "'" + name + "' has no argument named '" + n.name + "'");
      ok = false;
      continue;
    }
    if (!wrt.empty() || level.wrtTuple) {
      m_.diag.error(n.loc, "wrt= is given twice");
      ok = false;
      continue;
    }
    Expr& v = *n.value;
    if (v.kind == ExprKind::Name) {
      wrt.push_back({v.text, v.loc});
    } else if (v.kind == ExprKind::Tuple && !v.args.empty()) {
      level.wrtTuple = true;
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
bool FnChecker::wrtParams(const DerivedSig& f, const std::string& fname,
                          const std::vector<std::pair<std::string, SrcLoc>>& wrt, FnRef::Level& level) {
  bool ok = true;
  for (auto& [pname, ploc] : wrt) {
    int index = -1;
    for (size_t i = 0; i < f.names.size(); ++i)
      if (f.names[i] == pname) index = static_cast<int>(i);
    if (index < 0) {
      m_.diag.error(ploc, "'" + fname + "' has no parameter '" + pname + "'" + didYouMean(pname, f.names));
      ok = false;
      continue;
    }
    for (int prev : level.wrt)
      if (prev == index) {
        m_.diag.error(ploc, "parameter '" + pname + "' appears twice in wrt");
        ok = false;
      }
    const SemType& pt = f.params[size_t(index)];
    if (pt.ok() && !isFloatValue(pt)) {
      m_.diag.error(ploc, "cannot differentiate '" + fname + "' with respect to '" + pname + "': it is " +
                              typeStr(pt) + ", not a float");
      ok = false;
    }
    level.wrt.push_back(index);
  }
  return ok;
}

}  // namespace chain::frontend::detail

namespace chain::ast {

bool isDiffOperator(const std::string& name, ir::DiffKind* kind) {
  for (const frontend::detail::Operator& o : frontend::detail::kOperators)
    if (name == o.name) {
      if (kind) *kind = o.kind;
      return true;
    }
  return false;
}

}  // namespace chain::ast
