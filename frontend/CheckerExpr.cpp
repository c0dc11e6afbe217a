// The type checker, expressions: names, literals (float literals take the
// float type of their context), unary and binary operators with numeric
// promotion, if-expressions, tuples, and calls of user functions and of
// function values (`let g = grad(f)`). An expression with an invalid operand
// is itself invalid, silently: each mistake is reported once.
#include <cassert>

#include "frontend/CheckerImpl.h"

namespace chain::frontend::detail {

using ast::ExprKind;

bool isConstLike(const Expr& e) {
  switch (e.kind) {
    case ExprKind::FloatLit:
    case ExprKind::IntLit: return true;
    case ExprKind::Unary: return e.op == "-" && e.args.size() == 1 && isConstLike(*e.args[0]);
    case ExprKind::Binary:
      return e.op != "and" && e.op != "or" && e.op != "@" && e.args.size() == 2 &&
             isConstLike(*e.args[0]) && isConstLike(*e.args[1]);
    default: return false;
  }
}

SemType joinTypes(const SemType& a, const SemType& b) {
  if (a.kind == SemType::Tuple && b.kind == SemType::Tuple) {
    if (a.elems.size() != b.elems.size()) return SemType::invalid();
    SemType t;
    t.kind = SemType::Tuple;
    for (size_t i = 0; i < a.elems.size(); ++i) {
      SemType e = joinTypes(a.elems[i], b.elems[i]);
      if (!e.ok()) return SemType::invalid();
      t.elems.push_back(e);
    }
    return t;
  }
  if (a.kind != SemType::Value || b.kind != SemType::Value) return SemType::invalid();
  if (a.type == b.type) {
    SemType j = a;
    for (size_t k = 0; k < j.dims.size() && k < b.dims.size(); ++k)
      if (j.dims[k] != b.dims[k]) j.dims[k] = kUnknownDim;
    return j;
  }
  if (isIntScalar(a) && isFloatScalar(b)) return b;
  if (isFloatScalar(a) && isIntScalar(b)) return a;
  return SemType::invalid();
}

const FnRef* FnChecker::refOf(const Expr& e) const {
  auto it = fnRefs_.find(&e);
  return it == fnRefs_.end() ? nullptr : &it->second;
}

void FnChecker::addEdge(int callee, SrcLoc loc) {
  m_.fns[self_].edges.push_back({callee, loc});
}

SemType FnChecker::expr(Expr& e, const SemType* hint) {
  e.sem = exprImpl(e, hint);
  return e.sem;
}

bool FnChecker::requireValue(Expr& e) {
  switch (e.sem.kind) {
    case SemType::Value:
    case SemType::Tuple: return true;
    case SemType::Invalid: return false;
    case SemType::Function:
      m_.diag.error(e.loc, "a function cannot be used as a value here; call it, or bind it with let");
      return false;
    case SemType::Void: {
      std::string what = "this expression";
      if (e.kind == ExprKind::Call && e.callee && e.callee->kind == ExprKind::Name)
        what = e.callee->text + "(...)";
      m_.diag.error(e.loc, what + " returns no value");
      return false;
    }
  }
  return false;
}

SemType FnChecker::exprImpl(Expr& e, const SemType* hint) {
  switch (e.kind) {
    case ExprKind::FloatLit: {
      SemType storage;
      const SemType* h = literalHint(hint, storage);
      return h ? *h : SemType::value(ir::Type::f64());
    }
    case ExprKind::IntLit: return SemType::value(ir::Type::i64());
    case ExprKind::BoolLit: return SemType::value(ir::Type::boolean());
    case ExprKind::StringLit:
      m_.diag.error(e.loc, "a string can only be the label of print(\"label\", ...)");
      return SemType::invalid();
    case ExprKind::Name: return name(e);
    case ExprKind::Unary: return unary(e, hint);
    case ExprKind::Binary: return binary(e, hint);
    case ExprKind::Call: return call(e, hint);
    case ExprKind::IfExpr: return ifExpr(e, hint);
    case ExprKind::Tuple: return tuple(e, hint);
    case ExprKind::Index: return index(e);
    case ExprKind::ArrayLit: return arrayLit(e, hint);
    case ExprKind::Comprehension: return comprehension(e, hint);
    case ExprKind::Range:
      m_.diag.error(e.loc, "a range a..b can only be an index, or follow 'in'");
      return SemType::invalid();
    case ExprKind::Colon:
      m_.diag.error(e.loc, "':' can only be an index");
      return SemType::invalid();
    case ExprKind::Generator:
      m_.diag.error(e.loc, "a generator can only be the argument of sum, prod, max, min, mean or logsumexp");
      return SemType::invalid();
  }
  return SemType::invalid();
}

SemType FnChecker::name(Expr& e) {
  if (Binding* b = lookup(e.text)) {
    if (b->locked) {
      m_.diag.error(e.loc, "the ranges of a comprehension cannot use its own index '" + e.text +
                               "' (ragged arrays are not supported)");
      return SemType::invalid();
    }
    if (b->isFn) fnRefs_[&e] = b->fn;
    return b->type;
  }
  int fn = m_.lookupFn(e.text);
  if (fn >= 0) {
    addEdge(fn, e.loc);
    FnRef ref;
    ref.fn = fn;
    fnRefs_[&e] = ref;
    SemType t;
    t.kind = SemType::Function;
    return t;
  }
  if (isBuiltinName(e.text)) {
    m_.diag.error(e.loc, "the built-in '" + e.text + "' can only be called");
    return SemType::invalid();
  }
  m_.diag.error(e.loc, "unknown name '" + e.text + "'" + suggestion(e.text, NameUse::Value));
  return SemType::invalid();
}

SemType FnChecker::unary(Expr& e, const SemType* hint) {
  assert(e.args.size() == 1);
  Expr& a = *e.args[0];
  if (e.op == "not") {
    SemType t = expr(a);
    if (!t.ok() || !requireValue(a)) return SemType::invalid();
    if (t.kind != SemType::Value || t.type.elem != ir::Scalar::Bool) {
      m_.diag.error(e.loc, "operator 'not' expects bool, found " + typeStr(t));
      return SemType::invalid();
    }
    return t;
  }
  SemType t = expr(a, hint);
  if (!t.ok() || !requireValue(a)) return SemType::invalid();
  if (!isNumericElem(t)) {
    m_.diag.error(e.loc, "operator '" + e.op + "' expects a number, found " + typeStr(t));
    return SemType::invalid();
  }
  return t;
}

void FnChecker::operands(Expr& a, Expr& b, const SemType* hint) {
  bool ca = isConstLike(a), cb = isConstLike(b);
  SemType storage;
  if (ca && !cb) {
    SemType tb = expr(b);
    const SemType* h = literalHint(&tb, storage);
    expr(a, h ? h : hint);
  } else if (!ca && cb) {
    SemType ta = expr(a);
    const SemType* h = literalHint(&ta, storage);
    expr(b, h ? h : hint);
  } else {
    expr(a, hint);
    expr(b, hint);
  }
}

SemType FnChecker::promote(const SemType& a, const SemType& b, const std::string& what,
                           SrcLoc loc) {
  ir::Scalar ea = a.type.elem, eb = b.type.elem;
  if (ea == eb) return scalarOf(ea);
  if (ea == ir::Scalar::I64) return scalarOf(eb);
  if (eb == ir::Scalar::I64) return scalarOf(ea);
  m_.diag.error(loc, "cannot mix f32 and f64; use f64(x) or f32(x)");
  return SemType::invalid();
}

SemType FnChecker::binary(Expr& e, const SemType* hint) {
  assert(e.args.size() == 2);
  Expr& a = *e.args[0];
  Expr& b = *e.args[1];
  const std::string& op = e.op;
  if (op == "and" || op == "or") {
    SemType ta = expr(a), tb = expr(b);
    bool ok = ta.ok() && tb.ok() && requireValue(a) && requireValue(b);
    if (!ok) return SemType::invalid();
    bool boolA = ta.kind == SemType::Value && ta.type.elem == ir::Scalar::Bool;
    bool boolB = tb.kind == SemType::Value && tb.type.elem == ir::Scalar::Bool;
    if (!boolA || !boolB) {
      m_.diag.error(e.loc, "operator '" + op + "' expects bool operands, found " + typeStr(ta) +
                               " and " + typeStr(tb));
      return SemType::invalid();
    }
    if (isArray(ta) || isArray(tb))
      return broadcast(ta, tb, ir::Scalar::Bool, "operator '" + op + "'", e.loc);
    return ta;
  }
  if (op == "@") {
    SemType ta = expr(a), tb = expr(b);
    if (!ta.ok() || !tb.ok() || !requireValue(a) || !requireValue(b)) return SemType::invalid();
    return matmul(ta, tb, "matmul", e.loc);
  }
  bool cmp = op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=";
  operands(a, b, cmp ? nullptr : hint);
  const SemType& ta = a.sem;
  const SemType& tb = b.sem;
  bool ok = ta.ok() && tb.ok();
  ok = ok && requireValue(a);
  ok = ok && requireValue(b);
  if (!ok) return SemType::invalid();
  bool arr = isArray(ta) || isArray(tb);
  std::string what = "operator '" + op + "'";
  if ((op == "==" || op == "!=") && ta.kind == SemType::Value && tb.kind == SemType::Value &&
      ta.type.elem == ir::Scalar::Bool && tb.type.elem == ir::Scalar::Bool)
    return arr ? broadcast(ta, tb, ir::Scalar::Bool, what, e.loc) : ta;
  if (!isNumericElem(ta) || !isNumericElem(tb)) {
    std::string found = typeStr(ta) + " and " + typeStr(tb);
    m_.diag.error(e.loc, "operator '" + op + "' expects numbers, found " + found);
    return SemType::invalid();
  }
  SemType t = promote(ta, tb, op, e.loc);
  if (!t.ok()) return t;
  if (cmp) t = SemType::value(ir::Type::boolean());
  // Design choice: `**` is a float operation; on two i64 operands both are
  // converted to f64 and the result is f64 (an integer power would overflow
  // silently and has no derivative anyway).
  if (op == "**" && isIntScalar(t)) t = SemType::value(ir::Type::f64());
  return arr ? broadcast(ta, tb, t.type.elem, what, e.loc) : t;
}

SemType FnChecker::ifExpr(Expr& e, const SemType* hint) {
  condition(*e.args[0]);
  if (!e.thenBlock || !e.elseBlock) {
    if (e.thenBlock) block(*e.thenBlock, hint);
    m_.diag.error(e.loc, "an if-expression needs an else branch");
    return SemType::invalid();
  }
  ast::Block& tb = *e.thenBlock;
  ast::Block& eb = *e.elseBlock;
  // A constant branch is checked second so its float literals take the type
  // of the other branch.
  bool thenConst = tb.result && isConstLike(*tb.result);
  bool elseConst = eb.result && isConstLike(*eb.result);
  SemType tt, et;
  if (thenConst && !elseConst) {
    et = block(eb, hint);
    tt = block(tb, isFloatScalar(et) ? &et : hint);
  } else if (!thenConst && elseConst) {
    tt = block(tb, hint);
    et = block(eb, isFloatScalar(tt) ? &tt : hint);
  } else {
    tt = block(tb, hint);
    et = block(eb, hint);
  }
  // An `if` in statement position whose branches both end in print(...):
  // it has no value (allowed only where a statement may stand).
  if (tb.result && eb.result && tt.kind == SemType::Void && et.kind == SemType::Void) return tt;
  bool ok = true;
  for (auto [blk, t] : {std::pair<ast::Block*, SemType*>{&tb, &tt}, {&eb, &et}}) {
    if (!blk->result) {
      m_.diag.error(blk->loc, "each branch of an if-expression must end with a value");
      ok = false;
    } else if (!t->ok() || !requireValue(*blk->result)) {
      ok = false;
    }
  }
  if (!ok) return SemType::invalid();
  SemType j = joinTypes(tt, et);
  if (!j.ok())
    m_.diag.error(e.loc, "if-expression branches have different types: " + typeStr(tt) + " and " +
                             typeStr(et));
  return j;
}

SemType FnChecker::tuple(Expr& e, const SemType* hint) {
  SemType t;
  t.kind = SemType::Tuple;
  bool ok = true;
  for (size_t i = 0; i < e.args.size(); ++i) {
    const SemType* h = nullptr;
    if (hint && hint->kind == SemType::Tuple && hint->elems.size() == e.args.size())
      h = &hint->elems[i];
    SemType et = expr(*e.args[i], h);
    ok = et.ok() && requireValue(*e.args[i]) && ok;
    t.elems.push_back(et);
  }
  return ok ? t : SemType::invalid();
}

SemType FnChecker::call(Expr& e, const SemType* hint) {
  Expr& callee = *e.callee;
  auto checkArgs = [&] {
    for (auto& a : e.args) expr(*a);
    for (auto& n : e.named) expr(*n.value);
  };
  SemType fnType;
  fnType.kind = SemType::Function;
  if (callee.kind == ExprKind::Name) {
    const std::string& n = callee.text;
    Binding* b = lookup(n);
    if (b && b->isFn) {
      callee.sem = fnType;
      return callFnValue(e, b->fn, n);
    }
    if (isBuiltinName(n)) {
      callee.sem = fnType;
      return builtin(e, n, hint);
    }
    int fn = m_.lookupFn(n);
    if (fn >= 0) {
      callee.sem = fnType;
      addEdge(fn, callee.loc);
      FnRef ref;
      ref.fn = fn;
      return callFnValue(e, ref, n);
    }
    checkArgs();
    if (b && !b->type.ok()) return SemType::invalid();  // already reported
    if (b)
      m_.diag.error(callee.loc, "'" + n + "' is not a function (it is " + typeStr(b->type) + ")");
    else
      m_.diag.error(callee.loc, "unknown function '" + n + "'" + suggestion(n, NameUse::Call));
    return SemType::invalid();
  }
  SemType ct = expr(callee);
  const FnRef* ref = ct.kind == SemType::Function ? refOf(callee) : nullptr;
  if (ref) return callFnValue(e, *ref, m_.fns[ref->fn].decl->name);
  checkArgs();
  if (ct.ok()) m_.diag.error(callee.loc, "this expression is not a function");
  return SemType::invalid();
}

SemType FnChecker::callFnValue(Expr& e, const FnRef& ref, const std::string& shownName) {
  FnInfo& f = m_.fns[size_t(ref.fn)];
  m_.fns[self_].calls.push_back({ref.fn, !ref.levels.empty()});
  std::string shown = "'" + shownName + "'";
  if (ref.levels.size() == 1 && ref.levels[0].kind == ir::DiffKind::Grad)
    shown = "the gradient of '" + f.decl->name + "'";
  else if (ref.levels.size() == 1 && ref.levels[0].kind == ir::DiffKind::ValueAndGrad)
    shown = "value_and_grad of '" + f.decl->name + "'";
  else if (!ref.levels.empty())
    shown = "'" + fnValueName(f.decl->name, ref) + "'";
  bool ok = true;
  for (auto& n : e.named) {
    m_.diag.error(n.loc, shown + " takes no named arguments");
    ok = false;
  }
  if (!f.resultDeclared) m_.ensureChecked(ref.fn);
  DerivedSig sig = m_.derivedSig(ref);
  if (e.args.size() != sig.params.size()) {
    for (auto& a : e.args) expr(*a);
    m_.diag.error(e.loc, shown + " expects " + std::to_string(sig.params.size()) +
                             " argument" + (sig.params.size() == 1 ? "" : "s") + ", found " +
                             std::to_string(e.args.size()));
    return SemType::invalid();
  }
  for (size_t i = 0; i < e.args.size(); ++i) {
    const SemType& pt = sig.params[i];
    Expr& a = *e.args[i];
    SemType at = expr(a, pt.ok() ? &pt : nullptr);
    if (!at.ok() || !requireValue(a)) {
      ok = false;
      continue;
    }
    if (pt.ok() && !convertible(at, pt)) {
      m_.diag.error(a.loc, "argument " + std::to_string(i + 1) + " of " + shown + " ('" +
                               sig.names[i] + "') must be " + typeStr(pt) +
                               ", found " + typeStr(at));
      ok = false;
    }
  }
  if (!ok) return SemType::invalid();
  for (const SemType& pt : sig.params)
    if (!pt.ok()) return SemType::invalid();
  std::map<std::string, std::string> sizes;
  if (!bindCallSizes(e, sig, sizes, shown)) return SemType::invalid();
  return substDims(sig.result, sizes);
}

}  // namespace chain::frontend::detail
