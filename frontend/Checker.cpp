// The type checker, module level and statements: collects the function
// signatures, checks every body (FnChecker) in lexical scopes, then runs the
// call-graph checks of CheckerCallGraph.cpp (recursion, nested
// differentiation, inlined size). Expressions are in CheckerExpr.cpp,
// built-ins and grad(...) in CheckerBuiltins.cpp.
#include <cassert>
#include <set>

#include "frontend/CheckerImpl.h"
#include "frontend/DidYouMean.h"
#include "frontend/Frontend.h"

namespace chain::frontend {
namespace detail {
// Arrays have at most 8 axes: the C ABI's array descriptor (SPEC §8, ChainRT.h)
// holds 8 sizes, so an entry could not take or return more.
constexpr int kMaxRank = 8;

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

std::string typeStr(const SemType& t) {
  switch (t.kind) {
    case SemType::Invalid: return "<error>";
    case SemType::Value: {
      if (t.type.rank == 0) return t.type.str();
      std::string s = scalarOf(t.type.elem).type.str() + "[";
      for (int k = 0; k < t.type.rank; ++k) {
        size_t u = static_cast<size_t>(k);
        s += (k ? ", " : "") + (u < t.dims.size() ? t.dims[u] : std::string(kUnknownDim));
      }
      return s + "]";
    }
    case SemType::Function: return "function";
    case SemType::Void: return "nothing";
    case SemType::Tuple: {
      std::string s = "(";
      for (size_t i = 0; i < t.elems.size(); ++i) s += (i ? ", " : "") + typeStr(t.elems[i]);
      return s + ")";
    }
  }
  return "<error>";
}

std::string locStr(SrcLoc l) { return std::to_string(l.line) + ":" + std::to_string(l.col); }

bool sameType(const SemType& a, const SemType& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == SemType::Value) return a.type == b.type;
  if (a.kind != SemType::Tuple) return true;
  if (a.elems.size() != b.elems.size()) return false;
  for (size_t i = 0; i < a.elems.size(); ++i)
    if (!sameType(a.elems[i], b.elems[i])) return false;
  return true;
}

bool isFloatScalar(const SemType& t) { return t.kind == SemType::Value && t.type.isFloatScalar(); }
bool isIntScalar(const SemType& t) { return t.kind == SemType::Value && t.type == ir::Type::i64(); }
bool isBoolScalar(const SemType& t) {
  return t.kind == SemType::Value && t.type == ir::Type::boolean();
}
bool isNumericScalar(const SemType& t) { return isFloatScalar(t) || isIntScalar(t); }

const char* const kUnknownDim = "?";

bool isLitDim(const std::string& d) {
  if (d.empty()) return false;
  for (char c : d)
    if (c < '0' || c > '9') return false;
  return true;
}

bool isArray(const SemType& t) { return t.kind == SemType::Value && t.type.rank >= 1; }

bool isNumericElem(const SemType& t) {
  return t.kind == SemType::Value && t.type.elem != ir::Scalar::Bool;
}

SemType scalarOf(ir::Scalar elem) { return SemType::value({elem, 0}); }

SemType arrayOf(ir::Scalar elem, std::vector<std::string> dims) {
  SemType t = SemType::value({elem, static_cast<int>(dims.size())});
  t.dims = std::move(dims);
  return t;
}

SemType withElem(const SemType& t, ir::Scalar elem) {
  SemType r = t;
  r.type.elem = elem;
  return r;
}

const SemType* literalHint(const SemType* t, SemType& storage) {
  if (!t || t->kind != SemType::Value || !t->type.isFloat()) return nullptr;
  storage = scalarOf(t->type.elem);
  return &storage;
}

SemType forgetDims(SemType t) {
  for (std::string& d : t.dims) d = kUnknownDim;
  for (SemType& e : t.elems) e = forgetDims(e);
  return t;
}

bool isLiteralLike(const Expr& e) {
  if (e.kind == ast::ExprKind::FloatLit || e.kind == ast::ExprKind::IntLit) return true;
  return e.kind == ast::ExprKind::Unary && e.op == "-" && !e.args.empty() && e.args[0] &&
         isLiteralLike(*e.args[0]);
}

const std::set<std::string>& builtinNames() {
  static const std::set<std::string> names = {
      "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "abs", "sigmoid", "relu", "softplus",
      "log1p", "expm1", "floor", "ceil", "pow", "min", "max", "atan2", "f64", "f32", "i64",
      "stop_gradient", "print", "grad", "value_and_grad", "jvp", "vjp", "jacobian", "hessian", "hvp",
      "sum", "prod", "mean", "logsumexp", "dot", "transpose", "zeros", "ones", "fill", "len", "size",
      "uniform", "normal", "mix"};
  return names;
}

bool isBuiltinName(const std::string& n) { return builtinNames().count(n) != 0; }

// ---------------------------------------------------------------------------
// ModuleChecker
// ---------------------------------------------------------------------------

SemType ModuleChecker::resolveType(const ast::TypeExpr& t, bool allowTuple) {
  if (t.isTuple) {
    if (!allowTuple) {
      diag.error(t.loc, "a parameter cannot be a tuple");
      return SemType::invalid();
    }
    SemType s;
    s.kind = SemType::Tuple;
    for (const ast::TypeExpr& e : t.elems) {
      SemType es = resolveType(e, true);
      if (!es.ok()) return SemType::invalid();
      s.elems.push_back(es);
    }
    return s;
  }
  if (t.dims.size() > size_t(kMaxRank)) {
    diag.error(t.loc, "an array type has at most " + std::to_string(kMaxRank) + " axes; this one has " +
                          std::to_string(t.dims.size()));
    return SemType::invalid();
  }
  if (!t.dims.empty()) return arrayOf(t.elem, t.dims);
  return SemType::value({t.elem, 0});
}

std::vector<std::string> ModuleChecker::sizeNames(int fn) const {
  std::vector<std::string> out;
  for (const ast::Param& p : fns[fn].decl->params) {
    if (p.type.isTuple) continue;
    for (const std::string& d : p.type.dims) {
      bool seen = isLitDim(d);
      for (const std::string& o : out) seen = seen || o == d;
      if (!seen) out.push_back(d);
    }
  }
  return out;
}

int ModuleChecker::lookupFn(const std::string& name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? -1 : it->second;
}

void ModuleChecker::checkResultDims(const ast::TypeExpr& t, const std::vector<std::string>& sizes,
                                    const std::string& fn) {
  for (const ast::TypeExpr& e : t.elems) checkResultDims(e, sizes, fn);
  for (const std::string& d : t.dims) {
    bool known = isLitDim(d);
    for (const std::string& n : sizes) known = known || n == d;
    if (!known)
      diag.error(t.loc, "unknown size name '" + d + "' in the result type of '" + fn +
                            "' (size names are bound by the parameters' types)");
  }
}

void ModuleChecker::collectSignatures() {
  for (auto& fp : program.fns) {
    ast::FnDecl& fd = *fp;
    int index = static_cast<int>(fns.size());
    fns.emplace_back();
    FnInfo& info = fns.back();
    info.decl = &fd;
    if (isBuiltinName(fd.name)) {
      diag.error(fd.loc, "'" + fd.name + "' is a built-in function and cannot be redefined");
    } else if (auto it = byName_.find(fd.name); it != byName_.end()) {
      diag.error(fd.loc, "function '" + fd.name + "' is already defined at " +
                             locStr(fns[it->second].decl->loc));
    } else {
      byName_[fd.name] = index;
    }
    std::set<std::string> seen;
    for (const ast::Param& p : fd.params) {
      if (!seen.insert(p.name).second) diag.error(p.loc, "duplicate parameter '" + p.name + "'");
      info.params.push_back(resolveType(p.type, false));
    }
    if (fd.hasResultType) {
      info.resultDeclared = true;
      info.result = resolveType(fd.resultType, true);
      std::vector<std::string> sizes = sizeNames(index);
      for (const ast::Param& p : fd.params)
        if (!p.type.isTuple && p.type.dims.empty() && p.type.elem == ir::Scalar::I64)
          sizes.push_back(p.name);
      checkResultDims(fd.resultType, sizes, fd.name);
    }
  }
}

void ModuleChecker::ensureChecked(int fn) {
  if (fns[fn].state != FnInfo::Unchecked) return;
  fns[fn].state = FnInfo::InProgress;
  size_t before = diag.count();
  FnChecker(*this, fn).checkBody();
  if (diag.count() == before) checkWhileLoops(*fns[fn].decl, diag);  // CheckerWhile.cpp
  fns[fn].state = FnInfo::Done;
}

bool ModuleChecker::run() {
  size_t before = diag.count();
  collectSignatures();
  for (int i : checkingOrder()) ensureChecked(i);
  if (checkCallGraph() && !diag.hasErrors()) checkInlinedSizes();
  return diag.count() == before && !diag.hasErrors();
}

// ---------------------------------------------------------------------------
// FnChecker: scopes and statements
// ---------------------------------------------------------------------------

Binding* FnChecker::lookup(const std::string& name) {
  for (size_t i = scopes_.size(); i-- > 0;) {
    auto it = scopes_[i].find(name);
    if (it != scopes_[i].end()) return &it->second;
  }
  return nullptr;
}

std::string FnChecker::suggestion(const std::string& name, NameUse use) const {
  std::vector<std::string> names;
  for (size_t i = scopes_.size(); i-- > 0;)  // innermost first
    for (const auto& [n, b] : scopes_[i])
      if (use == NameUse::Value || (use == NameUse::Assign ? !b.isFn : b.isFn)) names.push_back(n);
  if (use != NameUse::Assign)
    for (const FnInfo& f : m_.fns) names.push_back(f.decl->name);
  if (use == NameUse::Call) names.insert(names.end(), builtinNames().begin(), builtinNames().end());
  return didYouMean(name, names);
}

size_t FnChecker::scopeOf(const std::string& name) const {
  for (size_t i = scopes_.size(); i-- > 0;)
    if (scopes_[i].count(name)) return i;
  return 0;
}

Binding* FnChecker::assignable(const std::string& name, SrcLoc loc, const char* what) {
  Binding* b = lookup(name);
  if (!b) {
    m_.diag.error(loc, "unknown name '" + name + "'" + suggestion(name, NameUse::Assign));
    return nullptr;
  }
  if (!b->isVar) {
    m_.diag.error(loc, std::string("cannot assign to ") + what + "'" + name +
                           "': it is not a var (declared at " + locStr(b->declLoc) + ")");
    return nullptr;
  }
  if (whileCondDepth_ > 0) {
    m_.diag.error(loc, "a while condition cannot assign to variables");
    return nullptr;
  }
  if (scopeOf(name) < noAssignBelow_) {
    m_.diag.error(loc, "cannot assign to '" + name + "' inside a comprehension or generator");
    return nullptr;
  }
  return b;
}

bool FnChecker::checkTypeDims(const SemType& t, SrcLoc loc) {
  bool ok = true;
  for (const SemType& e : t.elems) ok = checkTypeDims(e, loc) && ok;
  for (const std::string& d : t.dims) {
    if (isLitDim(d)) continue;
    Binding* b = lookup(d);
    if (!b || !b->isSize) {
      m_.diag.error(loc, "unknown size name '" + d + "' (size names are bound by the parameters' types)");
      ok = false;
    }
  }
  return ok;
}

namespace {

// Two types whose array sizes are different integer literals somewhere.
bool literalConflict(const SemType& a, const SemType& b) {
  if (a.kind == SemType::Tuple && b.kind == SemType::Tuple && a.elems.size() == b.elems.size()) {
    for (size_t i = 0; i < a.elems.size(); ++i)
      if (literalConflict(a.elems[i], b.elems[i])) return true;
    return false;
  }
  if (a.dims.size() != b.dims.size()) return false;
  for (size_t k = 0; k < a.dims.size(); ++k)
    if (isLitDim(a.dims[k]) && isLitDim(b.dims[k]) && a.dims[k] != b.dims[k]) return true;
  return false;
}

}  // namespace

void FnChecker::declare(const std::string& name, SrcLoc loc, Binding b) {
  assert(!scopes_.empty());
  auto& scope = scopes_.back();
  if (auto it = scope.find(name); it != scope.end()) {
    m_.diag.error(loc, "'" + name + "' is already declared in this block (at " +
                           locStr(it->second.declLoc) + ")");
    return;
  }
  b.declLoc = loc;
  scope[name] = std::move(b);
}

bool FnChecker::convertible(const SemType& from, const SemType& to) const {
  if (from.kind == SemType::Tuple && to.kind == SemType::Tuple) {
    if (from.elems.size() != to.elems.size()) return false;
    for (size_t i = 0; i < from.elems.size(); ++i)
      if (!convertible(from.elems[i], to.elems[i])) return false;
    return true;
  }
  if (sameType(from, to)) return true;
  return isIntScalar(from) && isFloatScalar(to);
}

void FnChecker::checkBody() {
  FnInfo& info = m_.fns[self_];
  ast::FnDecl& fd = *info.decl;
  push();  // parameters
  for (size_t i = 0; i < fd.params.size(); ++i) {
    Binding b;
    b.type = info.params[i];
    if (!scopes_.back().count(fd.params[i].name)) declare(fd.params[i].name, fd.params[i].loc, b);
  }
  // Size names are i64 values in the body. An i64 parameter can serve as a
  // size (`fn f(n: i64, x: f64[n])`, `fn g(n: i64) -> f64[n]`).
  for (size_t i = 0; i < fd.params.size(); ++i) {
    auto it = scopes_.back().find(fd.params[i].name);
    if (it != scopes_.back().end() && isIntScalar(info.params[i])) it->second.isSize = true;
  }
  for (const std::string& n : m_.sizeNames(self_)) {
    SrcLoc at = fd.loc;
    for (const ast::Param& p : fd.params) {
      bool uses = false;
      for (const std::string& d : p.type.dims) uses = uses || d == n;
      if (uses) {
        at = p.type.loc;
        break;
      }
    }
    if (auto it = scopes_.back().find(n); it != scopes_.back().end()) {
      if (!it->second.isSize)
        m_.diag.error(at, "size name '" + n + "' is also the name of a parameter that is not i64");
      continue;
    }
    Binding b;
    b.type = SemType::value(ir::Type::i64());
    b.isSize = true;
    declare(n, at, b);
  }
  if (!fd.body) return;
  push();
  stmts(*fd.body, true);
  // The result: the final expression, or `return e` as the last statement.
  Expr* result = fd.body->result.get();
  if (!result && !fd.body->stmts.empty() && fd.body->stmts.back()->kind == ast::StmtKind::Return)
    result = fd.body->stmts.back()->value.get();
  const SemType* hint = info.resultDeclared && info.result.ok() ? &info.result : nullptr;
  SemType rt = SemType{};
  rt.kind = SemType::Void;
  if (result) {
    // A `return e` value was checked with its statement; a final expression now.
    rt = result == fd.body->result.get() ? expr(*result, hint) : result->sem;
    if (rt.ok() && rt.kind != SemType::Void) requireValue(*result);
  }
  if (info.resultDeclared) {
    if (!result) {
      m_.diag.error(fd.loc, "function '" + fd.name + "' must end with a result of type " +
                                typeStr(info.result));
    } else if (rt.ok() && info.result.ok() && !convertible(rt, info.result)) {
      m_.diag.error(result->loc, "function '" + fd.name + "' must return " +
                                     typeStr(info.result) + ", found " + typeStr(rt));
    }
  } else {
    info.result = rt.kind == SemType::Function ? SemType::invalid() : rt;
  }
  pop();
  pop();
}

SemType FnChecker::block(ast::Block& b, const SemType* hint) {
  push();
  stmts(b, false);
  SemType r;
  r.kind = SemType::Void;
  if (b.result) r = expr(*b.result, hint);
  pop();
  return r;
}

void FnChecker::stmts(ast::Block& b, bool isFnBody) {
  for (size_t i = 0; i < b.stmts.size(); ++i)
    stmt(*b.stmts[i], isFnBody && !b.result && i + 1 == b.stmts.size());
}

void FnChecker::stmtBlock(ast::Block& b) {
  push();
  stmts(b, false);
  if (b.result) exprStmt(*b.result);
  pop();
}

void FnChecker::exprStmt(Expr& v) {
  expr(v);
  bool isPrint = v.kind == ast::ExprKind::Call && v.callee &&
                 v.callee->kind == ast::ExprKind::Name && v.callee->text == "print";
  // if c { print(a) } else { print(b) } as the last item of a block.
  bool isPrintIf = v.kind == ast::ExprKind::IfExpr && v.sem.kind == SemType::Void;
  if (!isPrint && !isPrintIf)
    m_.diag.error(v.loc, "expression result is unused; only print(...) may stand alone");
}

void FnChecker::condition(Expr& e) {
  SemType t = expr(e);
  if (t.ok() && !isBoolScalar(t))
    m_.diag.error(e.loc, "condition must be bool, found " + typeStr(t));
}

void FnChecker::stmt(ast::Stmt& s, bool isLastOfBody) {
  using ast::StmtKind;
  // A statement the parser could not complete was reported by the parser.
  bool complete = true;
  switch (s.kind) {
    case StmtKind::Let:
    case StmtKind::Var: complete = s.value && !s.names.empty(); break;
    case StmtKind::Assign: complete = s.target && s.value; break;
    case StmtKind::If: complete = s.cond && s.thenBlock; break;
    case StmtKind::For: complete = s.lo && s.hi && s.body; break;
    case StmtKind::While: complete = s.cond && s.body; break;
    case StmtKind::Return: complete = true; break;
    case StmtKind::ExprStmt: complete = s.value != nullptr; break;
  }
  if (!complete) return;
  switch (s.kind) {
    case StmtKind::Let: letStmt(s, false); return;
    case StmtKind::Var: letStmt(s, true); return;
    case StmtKind::Assign: assignStmt(s); return;
    case StmtKind::If:
      condition(*s.cond);
      if (s.thenBlock) stmtBlock(*s.thenBlock);
      if (s.elseBlock) stmtBlock(*s.elseBlock);
      return;
    case StmtKind::For: {
      for (Expr* bound : {s.lo.get(), s.hi.get()}) {
        SemType t = expr(*bound);
        if (t.ok() && !isIntScalar(t))
          m_.diag.error(bound->loc, "range bounds must be i64, found " + typeStr(t));
      }
      push();
      Binding iv;
      iv.type = SemType::value(ir::Type::i64());
      SrcLoc at = s.nameLocs.empty() ? s.loc : s.nameLocs[0];
      declare(s.names.empty() ? std::string("_") : s.names[0], at, iv);
      if (s.body) {
        stmts(*s.body, false);
        if (s.body->result) exprStmt(*s.body->result);
      }
      pop();
      return;
    }
    case StmtKind::While:
      ++whileCondDepth_;
      condition(*s.cond);
      --whileCondDepth_;
      if (s.body) stmtBlock(*s.body);
      return;
    case StmtKind::Return: {
      const SemType& r = m_.fns[self_].result;
      const SemType* hint = m_.fns[self_].resultDeclared && r.ok() ? &r : nullptr;
      if (s.value) expr(*s.value, hint);
      if (!isLastOfBody) m_.diag.error(s.loc, "return must be the last statement of the function");
      return;
    }
    case StmtKind::ExprStmt: exprStmt(*s.value); return;
  }
}

// let x = e | let x: T = e | let (a, b) = e | var x = e | var x: T = e
void FnChecker::letStmt(ast::Stmt& s, bool isVar) {
  SemType declared;
  if (s.hasType) {
    declared = m_.resolveType(s.type, true);
    if (declared.ok() && !checkTypeDims(declared, s.type.loc)) declared = SemType::invalid();
  }
  const SemType* hint = s.hasType && declared.ok() ? &declared : nullptr;
  Expr& v = *s.value;
  SemType t = expr(v, hint);
  auto loc = [&](size_t i) { return i < s.nameLocs.size() ? s.nameLocs[i] : s.loc; };

  if (t.kind == SemType::Function && s.names.size() == 1 && !isVar && !s.hasType) {
    Binding b;
    b.isFn = true;
    b.type = t;
    const FnRef* ref = refOf(v);
    assert(ref && "function-typed expression without a function reference");
    b.fn = *ref;
    declare(s.names[0], loc(0), b);
    return;
  }
  bool valid = t.ok() && requireValue(v);
  if (valid && s.hasType && declared.ok() &&
      (!convertible(t, declared) || literalConflict(t, declared))) {
    m_.diag.error(v.loc, "'" + s.names[0] + "' is declared " + typeStr(declared) +
                             " but the value is " + typeStr(t));
  }
  if (s.hasType && declared.ok()) t = declared;
  if (!valid) t = SemType::invalid();
  // A var array may be reassigned with another shape: its sizes are unknown.
  if (isVar) t = forgetDims(t);
  if (s.names.size() > 1) {
    if (t.ok() && (t.kind != SemType::Tuple || t.elems.size() != s.names.size())) {
      m_.diag.error(v.loc, "cannot unpack " + typeStr(t) + " into " +
                               std::to_string(s.names.size()) + " names");
      t = SemType::invalid();
    }
    for (size_t i = 0; i < s.names.size(); ++i) {
      Binding b;
      b.isVar = isVar;
      b.type = t.ok() ? t.elems[i] : SemType::invalid();
      if (s.names[i] != "_") declare(s.names[i], loc(i), b);
    }
    return;
  }
  Binding b;
  b.isVar = isVar;
  b.type = t;
  declare(s.names[0], loc(0), b);
}

// x = e | x += e | x -= e | x *= e | x /= e
void FnChecker::assignStmt(ast::Stmt& s) {
  Expr& target = *s.target;
  if (target.kind == ast::ExprKind::Index) return elementAssign(s);
  if (target.kind != ast::ExprKind::Name) {
    expr(*s.value);
    m_.diag.error(target.loc, "cannot assign to this expression");
    return;
  }
  Binding* b = lookup(target.text);
  SemType vt;
  if (s.op == "=") {
    const SemType* hint = b && b->type.ok() ? &b->type : nullptr;
    vt = expr(*s.value, hint);
    if (vt.ok()) requireValue(*s.value);
  }
  b = assignable(target.text, target.loc, "");
  if (!b) {
    if (s.op != "=") expr(*s.value);
    return;
  }
  target.sem = b->type;
  if (s.op != "=") {
    // x op= e is x = x op e: the operator's promotion rules apply.
    std::string op = s.op.substr(0, 1);
    SemType storage;
    SemType rhs = expr(*s.value, literalHint(&b->type, storage));
    if (!rhs.ok() || !b->type.ok() || !requireValue(*s.value)) return;
    if (!isNumericElem(b->type) || !isNumericElem(rhs)) {
      m_.diag.error(s.loc, "operator '" + s.op + "' expects numbers, found " + typeStr(b->type) +
                               " and " + typeStr(rhs));
      return;
    }
    vt = promote(b->type, rhs, s.op, s.loc);
    if (vt.ok() && (isArray(b->type) || isArray(rhs)))
      vt = broadcast(b->type, rhs, vt.type.elem, "operator '" + s.op + "'", s.loc);
  }
  if (vt.ok() && b->type.ok() && !convertible(vt, b->type))
    m_.diag.error(s.value->loc, "cannot assign " + typeStr(vt) + " to '" + target.text +
                                    "' of type " + typeStr(b->type));
}

}  // namespace detail

bool check(ast::Program& program, DiagEngine& diag) {
  detail::ModuleChecker m(program, diag);
  return m.run();
}

}  // namespace chain::frontend
