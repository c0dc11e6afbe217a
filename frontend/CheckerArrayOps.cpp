// The type checker, array operations: reductions over an array or a
// generator (sum prod max min mean logsumexp), matmul (`@`, dot), transpose,
// zeros / ones / fill with dtype=, len and size.
#include "frontend/CheckerImpl.h"

namespace chain::frontend::detail {

using ast::ExprKind;

namespace {

std::string plural(size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

// sum(x) | sum(e for i in a..b, j in c..d): a later range may use the earlier
// indices. sum/prod/max/min keep the element type; mean and logsumexp are
// floats (an i64 element is converted to f64).
SemType FnChecker::reduction(Expr& e, const std::string& name, const SemType* hint) {
  for (auto& n : e.named) {
    m_.diag.error(n.loc, "'" + name + "' takes no named arguments");
    return SemType::invalid();
  }
  if (e.args.size() != 1) {
    for (auto& a : e.args) expr(*a);
    m_.diag.error(e.loc, "'" + name + "' expects an array or a generator, found " +
                             plural(e.args.size(), "argument"));
    return SemType::invalid();
  }
  Expr& a = *e.args[0];
  SemType storage;
  SemType t;
  if (a.kind == ExprKind::Generator) {
    size_t saved = noAssignBelow_;
    noAssignBelow_ = scopes_.size();
    push();
    bool ok = rangeClauses(a.ranges, false);
    Expr& body = *a.args[0];
    t = expr(body, literalHint(hint, storage));
    ok = ok && t.ok() && requireValue(body);
    pop();
    noAssignBelow_ = saved;
    if (!ok) return SemType::invalid();
    if (t.kind != SemType::Value || t.type.rank != 0) {
      m_.diag.error(body.loc, "the elements of a generator must be scalars, found " + typeStr(t));
      return SemType::invalid();
    }
    a.sem = t;
  } else {
    t = expr(a);
    if (!t.ok() || !requireValue(a)) return SemType::invalid();
    if (!isArray(t)) {
      m_.diag.error(a.loc, "'" + name + "' expects an array or a generator, found " + typeStr(t));
      return SemType::invalid();
    }
  }
  if (!isNumericElem(t)) {
    m_.diag.error(a.loc, "'" + name + "' expects numbers, found " + typeStr(t));
    return SemType::invalid();
  }
  ir::Scalar elem = t.type.elem;
  if ((name == "mean" || name == "logsumexp") && elem == ir::Scalar::I64) elem = ir::Scalar::F64;
  return scalarOf(elem);
}

SemType FnChecker::matmul(const SemType& a, const SemType& b, const std::string& what,
                          SrcLoc loc) {
  bool ranks = isArray(a) && isArray(b) && a.type.rank <= 2 && b.type.rank <= 2;
  if (what == "dot") ranks = ranks && a.type.rank == 1 && b.type.rank == 1;
  if (!ranks) {
    m_.diag.error(loc, what + " expects arrays of rank " + (what == "dot" ? "1" : "1 or 2") +
                           ", found " + typeStr(a) + " and " + typeStr(b));
    return SemType::invalid();
  }
  if (a.type.elem != b.type.elem || !a.type.isFloat()) {
    m_.diag.error(loc, what + " expects float arrays of one type, found " + typeStr(a) + " and " +
                           typeStr(b));
    return SemType::invalid();
  }
  std::string da = a.dims.empty() ? kUnknownDim : a.dims.back();
  std::string db = b.dims.empty() ? kUnknownDim : b.dims.front();
  if (isLitDim(da) && isLitDim(db) && da != db) {
    m_.diag.error(loc, what + ": inner sizes differ: " + da + " vs " + db);
    return SemType::invalid();
  }
  std::vector<std::string> dims;
  if (a.type.rank == 2) dims.push_back(a.dims.size() == 2 ? a.dims[0] : kUnknownDim);
  if (b.type.rank == 2) dims.push_back(b.dims.size() == 2 ? b.dims[1] : kUnknownDim);
  if (dims.empty()) return scalarOf(a.type.elem);
  return arrayOf(a.type.elem, dims);
}

// The dtype=... of an array built-in: f64, f32 or (when allowed) i64.
// Returns false after an error; `given` tells whether dtype= was there.
bool FnChecker::dtypeArg(Expr& e, const std::string& name, bool allowI64, ir::Scalar& dtype,
                         bool& given) {
  bool ok = true;
  for (auto& n : e.named) {
    const Expr& v = *n.value;
    bool known = v.kind == ExprKind::Name &&
                 (v.text == "f64" || v.text == "f32" || (allowI64 && v.text == "i64"));
    if (n.name != "dtype") {
      m_.diag.error(n.loc, "'" + name + "' has no argument named '" + n.name + "'");
      ok = false;
    } else if (known) {
      given = true;
      dtype = v.text == "f64" ? ir::Scalar::F64 : v.text == "f32" ? ir::Scalar::F32 : ir::Scalar::I64;
    } else {
      m_.diag.error(v.loc, allowI64 ? "dtype must be f64, f32 or i64" : "dtype must be f64 or f32");
      ok = false;
    }
  }
  return ok;
}

// The sizes e.args[first..] of an array built-in: i64 scalars. Appends
// their symbolic sizes to `dims`; returns false after an error.
bool FnChecker::sizeArgs(Expr& e, const std::string& name, size_t first,
                         std::vector<std::string>& dims) {
  bool ok = true;
  for (size_t i = first; i < e.args.size(); ++i) {
    Expr& a = *e.args[i];
    SemType t = expr(a);
    if (!t.ok() || !requireValue(a)) {
      ok = false;
    } else if (!isIntScalar(t)) {
      m_.diag.error(a.loc, "'" + name + "' expects sizes of type i64, found " + typeStr(t));
      ok = false;
    }
    dims.push_back(dimOf(a));
  }
  return ok;
}

// zeros(n, ...) | ones(n, ...) | fill(v, n, ...), each with dtype=f64|f32|i64.
SemType FnChecker::fillBuiltin(Expr& e, const std::string& name, const SemType* hint) {
  bool hasDtype = false;
  ir::Scalar dtype = ir::Scalar::F64;
  bool ok = dtypeArg(e, name, true, dtype, hasDtype);
  size_t first = name == "fill" ? 1 : 0;
  if (e.args.size() <= first) {
    for (auto& a : e.args) expr(*a);
    m_.diag.error(e.loc, "'" + name + "' expects " + (first ? "a value and " : "") +
                             "at least one size");
    return SemType::invalid();
  }
  ir::Scalar elem = dtype;
  if (first) {
    Expr& v = *e.args[0];
    SemType storage, dh = scalarOf(dtype);
    SemType vt = expr(v, hasDtype ? literalHint(&dh, storage) : literalHint(hint, storage));
    if (!vt.ok() || !requireValue(v)) {
      ok = false;
    } else if (vt.kind != SemType::Value || vt.type.rank != 0) {
      m_.diag.error(v.loc, "'fill' expects a scalar value, found " + typeStr(vt));
      ok = false;
    } else if (!hasDtype) {
      elem = vt.type.elem;
    } else if (!convertible(vt, dh)) {
      m_.diag.error(v.loc, "cannot fill an array of " + typeStr(dh) + " with " + typeStr(vt));
      ok = false;
    }
  }
  std::vector<std::string> dims;
  ok = sizeArgs(e, name, first, dims) && ok;
  if (!ok) return SemType::invalid();
  return arrayOf(elem, dims);
}

// dot(x, y) | transpose(A) | len(x) | size(x, axis) | zeros / ones / fill
SemType FnChecker::arrayBuiltin(Expr& e, const std::string& name, const SemType* hint) {
  if (name == "zeros" || name == "ones" || name == "fill") return fillBuiltin(e, name, hint);
  if (!e.named.empty()) {
    for (auto& n : e.named) expr(*n.value);
    m_.diag.error(e.named[0].loc, "'" + name + "' takes no named arguments");
    return SemType::invalid();
  }
  size_t want = name == "dot" || name == "size" ? 2 : 1;
  const char* expects = name == "dot" ? "two arrays" : name == "size" ? "an array and an axis"
                                                                        : "one array";
  if (!argCount(e, name, want, expects)) return SemType::invalid();
  Expr& a = *e.args[0];
  SemType t = expr(a);
  if (!t.ok() || !requireValue(a)) {
    if (want == 2) expr(*e.args[1]);
    return SemType::invalid();
  }
  if (name == "dot") {
    Expr& b = *e.args[1];
    SemType tb = expr(b);
    if (!tb.ok() || !requireValue(b)) return SemType::invalid();
    return matmul(t, tb, "dot", e.loc);
  }
  if (!isArray(t) || (name == "transpose" && t.type.rank != 2)) {
    m_.diag.error(a.loc, "'" + name + "' expects " +
                             (name == "transpose" ? "an array of rank 2" : "an array") +
                             ", found " + typeStr(t));
    if (want == 2) expr(*e.args[1]);
    return SemType::invalid();
  }
  if (name == "transpose") return arrayOf(t.type.elem, {t.dims[1], t.dims[0]});
  if (name == "size") {
    Expr& ax = *e.args[1];
    expr(ax);
    if (ax.kind != ExprKind::IntLit) {
      m_.diag.error(ax.loc, "the axis of 'size' must be an integer literal");
      return SemType::invalid();
    }
    if (ax.ival < 0 || ax.ival >= t.type.rank) {
      m_.diag.error(ax.loc, "axis " + std::to_string(ax.ival) + " is out of range for " +
                                typeStr(t));
      return SemType::invalid();
    }
  }
  return SemType::value(ir::Type::i64());
}

}  // namespace chain::frontend::detail
