// The type checker, arrays: symbolic sizes, indexing and slicing, array
// literals, comprehensions, broadcasting of elementwise operators, element
// assignments (`x[i] = e`) and the size names of calls. Every array type
// carries one symbolic size per axis (ast::SemType::dims): a size name bound
// by the parameters, an integer literal or "?". Sizes that are different
// literals are compile errors; anything else that must agree is checked at
// run time by asserts that the lowering emits.
#include <cassert>

#include "frontend/CheckerImpl.h"

namespace chain::frontend::detail {

using ast::ExprKind;

SemType substDims(SemType t, const std::map<std::string, std::string>& sizes) {
  for (std::string& d : t.dims) {
    if (isLitDim(d)) continue;
    auto it = sizes.find(d);
    d = it == sizes.end() ? kUnknownDim : it->second;
  }
  for (SemType& e : t.elems) e = substDims(e, sizes);
  return t;
}

std::string FnChecker::dimOf(const Expr& e) {
  if (e.kind == ExprKind::IntLit && e.ival >= 0) return std::to_string(e.ival);
  if (e.kind == ExprKind::Name) {
    Binding* b = lookup(e.text);
    if (b && b->isSize) return e.text;
  }
  return kUnknownDim;
}

std::string FnChecker::rangeDim(const Expr& lo, const Expr& hi) {
  if (lo.kind == ExprKind::IntLit && lo.ival == 0) return dimOf(hi);
  if (lo.kind == ExprKind::IntLit && hi.kind == ExprKind::IntLit && lo.ival >= 0)
    return std::to_string(hi.ival > lo.ival ? hi.ival - lo.ival : 0);
  return kUnknownDim;
}

bool FnChecker::bindCallSizes(Expr& e, const DerivedSig& f, std::map<std::string, std::string>& sizes,
                              const std::string& shown) {
  bool ok = true;
  // i64 parameters that the callee uses as sizes take the argument's size.
  for (size_t i = 0; i < e.args.size() && i < f.params.size(); ++i)
    if (isIntScalar(f.params[i])) sizes[f.names[i]] = dimOf(*e.args[i]);
  for (size_t i = 0; i < e.args.size() && i < f.params.size(); ++i) {
    const SemType& pt = f.params[i];
    const SemType& at = e.args[i]->sem;
    if (!isArray(pt) || at.dims.size() != pt.dims.size()) continue;
    for (size_t k = 0; k < pt.dims.size(); ++k) {
      const std::string& want = pt.dims[k];
      const std::string& have = at.dims[k];
      std::string bound = want;
      if (!isLitDim(want)) {
        auto it = sizes.find(want);
        if (it == sizes.end()) {
          sizes[want] = have;
          continue;
        }
        bound = it->second;
      }
      if (isLitDim(bound) && isLitDim(have) && bound != have) {
        std::string req = isLitDim(want) ? "the type requires " + want : want + " = " + bound;
        m_.diag.error(e.args[i]->loc, "argument " + std::to_string(i + 1) + " of " + shown + " ('" +
                                          f.names[i] + "') has size " + have +
                                          " in axis " + std::to_string(k) + " but " + req);
        ok = false;
      }
    }
  }
  return ok;
}

SemType FnChecker::broadcast(const SemType& a, const SemType& b, ir::Scalar elem,
                             const std::string& what, SrcLoc loc) {
  int ra = a.type.rank, rb = b.type.rank;
  int r = std::max(ra, rb);
  std::vector<std::string> dims(static_cast<size_t>(r), kUnknownDim);
  auto dimAt = [](const SemType& t, int axis) -> std::string {
    size_t u = static_cast<size_t>(axis);
    return u < t.dims.size() ? t.dims[u] : kUnknownDim;
  };
  for (int k = 0; k < r; ++k) {
    int ka = k - (r - ra), kb = k - (r - rb);
    if (ka < 0 || kb < 0) {
      dims[k] = ka < 0 ? dimAt(b, kb) : dimAt(a, ka);
      continue;
    }
    std::string da = dimAt(a, ka), db = dimAt(b, kb);
    if (da == "1") {
      dims[k] = db;
    } else if (db == "1" || da == db) {
      dims[k] = da;
    } else if (isLitDim(da) && isLitDim(db)) {
      m_.diag.error(loc, what + ": cannot broadcast sizes " + da + " and " + db + " in axis " +
                             std::to_string(k));
      return SemType::invalid();
    } else {
      // A literal (not 1) wins: the other side must equal it or be 1.
      dims[k] = isLitDim(da) ? da : isLitDim(db) ? db : kUnknownDim;
    }
  }
  return arrayOf(elem, dims);
}

// base[i, j], A[i] (row), A[:, j], x[a..b]: indices are i64; axes not
// mentioned are whole.
SemType FnChecker::selection(Expr& e, const SemType& base) {
  bool ok = true;
  std::vector<std::string> kept;
  std::string shown = e.args[0]->kind == ExprKind::Name ? "'" + e.args[0]->text + "'"
                                                         : std::string("this array");
  auto intIndex = [&](Expr& ix) {
    SemType t = expr(ix);
    if (!t.ok() || !requireValue(ix)) return false;
    if (!isIntScalar(t)) {
      m_.diag.error(ix.loc, "an index must be i64, found " + typeStr(t));
      return false;
    }
    return true;
  };
  for (size_t k = 0; k < e.indices.size(); ++k) {
    Expr& ix = *e.indices[k];
    std::string dim = k < base.dims.size() ? base.dims[k] : std::string(kUnknownDim);
    if (ix.kind == ExprKind::Colon) {
      ix.sem = SemType::value(ir::Type::i64());
      kept.push_back(dim);
    } else if (ix.kind == ExprKind::Range) {
      bool lo = intIndex(*ix.args[0]);
      bool hi = intIndex(*ix.args[1]);
      ok = ok && lo && hi;
      ix.sem = SemType::value(ir::Type::i64());
      kept.push_back(rangeDim(*ix.args[0], *ix.args[1]));
    } else {
      ok = intIndex(ix) && ok;
    }
  }
  if (!ok || !base.ok()) return SemType::invalid();
  if (!isArray(base)) {
    m_.diag.error(e.loc, "cannot index " + shown + ": it is " + typeStr(base) + ", not an array");
    return SemType::invalid();
  }
  size_t rank = static_cast<size_t>(base.type.rank);
  if (e.indices.size() > rank) {
    m_.diag.error(e.loc, "too many indices for " + shown + ": it has rank " +
                             std::to_string(rank) + ", found " +
                             std::to_string(e.indices.size()) + " indices");
    return SemType::invalid();
  }
  for (size_t k = e.indices.size(); k < rank; ++k)
    kept.push_back(k < base.dims.size() ? base.dims[k] : std::string(kUnknownDim));
  if (kept.empty()) return scalarOf(base.type.elem);
  return arrayOf(base.type.elem, kept);
}

SemType FnChecker::index(Expr& e) {
  Expr& base = *e.args[0];
  SemType bt = expr(base);
  if (bt.ok() && !requireValue(base)) bt = SemType::invalid();
  if (!bt.ok()) {
    for (auto& ix : e.indices) {
      if (ix->kind == ExprKind::Range) {
        expr(*ix->args[0]);
        expr(*ix->args[1]);
      } else if (ix->kind != ExprKind::Colon) {
        expr(*ix);
      }
    }
    return SemType::invalid();
  }
  return selection(e, bt);
}

// [e0, e1, ...]: scalars (rank 1) or equal-shaped arrays (one more axis);
// elements promoted to one type; float literals take the others' type.
SemType FnChecker::arrayLit(Expr& e, const SemType* hint) {
  if (e.args.empty()) {
    if (hint && isArray(*hint))
      return arrayOf(hint->type.elem, std::vector<std::string>(hint->dims.size(), "0"));
    m_.diag.error(e.loc, "an empty array literal needs a type: let x: f64[n] = []");
    return SemType::invalid();
  }
  SemType elemHint;
  bool hasHint = false;
  if (hint && hint->kind == SemType::Value && hint->type.rank >= 1) {
    elemHint = hint->type.rank == 1 ? scalarOf(hint->type.elem)
                                    : arrayOf(hint->type.elem,
                                              std::vector<std::string>(
                                                  static_cast<size_t>(hint->type.rank - 1),
                                                  kUnknownDim));
    hasHint = true;
  }
  // Non-literal elements first: their float type is the literals' type.
  bool ok = true;
  for (auto& a : e.args)
    if (!isConstLike(*a)) ok = expr(*a, hasHint ? &elemHint : nullptr).ok() && requireValue(*a) && ok;
  const SemType* litHint = hasHint ? &elemHint : nullptr;
  for (auto& a : e.args)
    if (!isConstLike(*a) && a->sem.kind == SemType::Value && a->sem.type.isFloat()) litHint = &a->sem;
  SemType storage;
  for (auto& a : e.args)
    if (isConstLike(*a)) ok = expr(*a, literalHint(litHint, storage)).ok() && ok;
  if (!ok) return SemType::invalid();
  SemType t = e.args[0]->sem;
  for (size_t i = 0; i < e.args.size(); ++i) {
    const SemType& at = e.args[i]->sem;
    if (at.kind != SemType::Value) {
      m_.diag.error(e.args[i]->loc, "array elements must be numbers, bools or arrays, found " +
                                        typeStr(at));
      return SemType::invalid();
    }
    if (at.type.rank != t.type.rank) {
      m_.diag.error(e.args[i]->loc, "ragged array literal: element " + std::to_string(i + 1) +
                                        " is " + typeStr(at) + ", element 1 is " + typeStr(t));
      return SemType::invalid();
    }
    for (size_t k = 0; k < at.dims.size() && k < t.dims.size(); ++k)
      if (isLitDim(at.dims[k]) && isLitDim(t.dims[k]) && at.dims[k] != t.dims[k]) {
        m_.diag.error(e.args[i]->loc, "ragged array literal: element " + std::to_string(i + 1) +
                                          " has size " + at.dims[k] + " in axis " +
                                          std::to_string(k) + ", element 1 has " + t.dims[k]);
        return SemType::invalid();
      }
    if (at.type.elem == t.type.elem) {
      t = joinTypes(t, at);
      continue;
    }
    bool boolMix = at.type.elem == ir::Scalar::Bool || t.type.elem == ir::Scalar::Bool;
    if (boolMix || (at.type.isFloat() && t.type.isFloat())) {
      m_.diag.error(e.args[i]->loc, "array elements have different types: " + typeStr(t) +
                                        " and " + typeStr(at));
      return SemType::invalid();
    }
    if (t.type.elem == ir::Scalar::I64) t = withElem(t, at.type.elem);
  }
  std::vector<std::string> dims = {std::to_string(e.args.size())};
  for (int k = 0; k < t.type.rank; ++k)
    dims.push_back(static_cast<size_t>(k) < t.dims.size() ? t.dims[k] : kUnknownDim);
  return arrayOf(t.type.elem, dims);
}

bool FnChecker::rangeClauses(std::vector<ast::RangeClause>& ranges, bool locked) {
  bool ok = true;
  std::vector<Binding*> declared;
  for (ast::RangeClause& rc : ranges) {
    for (Expr* bound : {rc.lo.get(), rc.hi.get()}) {
      SemType t = expr(*bound);
      if (!t.ok() || !requireValue(*bound)) {
        ok = false;
      } else if (!isIntScalar(t)) {
        m_.diag.error(bound->loc, "range bounds must be i64, found " + typeStr(t));
        ok = false;
      }
    }
    Binding iv;
    iv.type = SemType::value(ir::Type::i64());
    iv.locked = locked;
    declare(rc.var, rc.loc, iv);
    auto it = scopes_.back().find(rc.var);
    if (it != scopes_.back().end()) declared.push_back(&it->second);
  }
  for (Binding* b : declared) b->locked = false;
  return ok;
}

// [e for i in a..b, j in c..d]: a map over the ranges (the first is the outer
// axis); the ranges may not use the comprehension's own indices. An array
// element of statically named sizes adds inner axes: [A[i] * 2.0 for i in 0..n].
SemType FnChecker::comprehension(Expr& e, const SemType* hint) {
  size_t saved = noAssignBelow_;
  noAssignBelow_ = scopes_.size();
  push();
  bool ok = rangeClauses(e.ranges, true);
  SemType storage;
  const SemType* h = literalHint(hint, storage);
  Expr& body = *e.args[0];
  SemType t = expr(body, h);
  ok = ok && t.ok() && requireValue(body);
  std::vector<std::string> dims;
  for (ast::RangeClause& rc : e.ranges) dims.push_back(rangeDim(*rc.lo, *rc.hi));
  pop();
  noAssignBelow_ = saved;
  if (!ok) return SemType::invalid();
  // An array element adds its axes inside: its sizes must be known outside
  // the comprehension (size names of the parameters or literals).
  bool known = t.kind == SemType::Value;
  for (const std::string& d : t.dims) known = known && d != kUnknownDim;
  if (!known) {
    m_.diag.error(body.loc, "comprehension elements must be scalars, or arrays whose sizes are "
                            "size names or literals; found " + typeStr(t));
    return SemType::invalid();
  }
  dims.insert(dims.end(), t.dims.begin(), t.dims.end());
  return arrayOf(t.type.elem, dims);
}

// x[i, j] = e | x[i] += e | S[i] = row | x[a..b] = v (v may be a scalar: every
// selected element is set).
void FnChecker::elementAssign(ast::Stmt& s) {
  Expr& target = *s.target;
  Expr& base = *target.args[0];
  auto skip = [&] {
    for (auto& ix : target.indices)
      if (ix->kind != ExprKind::Colon && ix->kind != ExprKind::Range) expr(*ix);
    expr(*s.value);
  };
  if (base.kind != ExprKind::Name) {
    skip();
    m_.diag.error(target.loc, "only an element or a slice of a var array can be assigned: x[i] = e");
    return;
  }
  Binding* b = assignable(base.text, base.loc, "an element of ");
  if (!b) return skip();
  base.sem = b->type;
  SemType sel = selection(target, b->type);
  target.sem = sel;
  SemType storage;
  SemType vt = expr(*s.value, literalHint(&sel, storage));
  if (!sel.ok() || !vt.ok() || !requireValue(*s.value)) return;
  std::string shown = "'" + base.text + "[...]'";
  if (vt.kind != SemType::Value || vt.type.rank > sel.type.rank) {
    m_.diag.error(s.value->loc, "cannot assign " + typeStr(vt) + " to " + shown + " of type " +
                                    typeStr(sel));
    return;
  }
  SemType result = vt;
  if (s.op != "=") {
    if (!isNumericElem(sel) || !isNumericElem(vt)) {
      m_.diag.error(s.loc, "operator '" + s.op + "' expects numbers, found " + typeStr(sel) +
                               " and " + typeStr(vt));
      return;
    }
    SemType p = promote(sel, vt, s.op, s.loc);
    if (!p.ok()) return;
    result = isArray(sel) ? broadcast(sel, vt, p.type.elem, "operator '" + s.op + "'", s.loc) : p;
    if (!result.ok()) return;
  }
  bool rankOk = result.type.rank == sel.type.rank || result.type.rank == 0;
  bool elemOk = result.type.elem == sel.type.elem ||
                (result.type.elem == ir::Scalar::I64 && sel.type.isFloat());
  if (!rankOk || !elemOk) {
    m_.diag.error(s.value->loc, "cannot assign " + typeStr(result) + " to " + shown + " of type " +
                                    typeStr(sel));
    return;
  }
  for (size_t k = 0; k < result.dims.size() && k < sel.dims.size(); ++k)
    if (isLitDim(result.dims[k]) && isLitDim(sel.dims[k]) && result.dims[k] != sel.dims[k]) {
      m_.diag.error(s.value->loc, "cannot assign " + typeStr(result) + " to " + shown +
                                      ": size " + result.dims[k] + " in axis " +
                                      std::to_string(k) + ", the selection has " + sel.dims[k]);
      return;
    }
}

}  // namespace chain::frontend::detail
