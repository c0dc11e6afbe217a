// Lowering a checked program to IR, module level: one ir::Function per `fn`
// (parameters in order, tuple results flattened), plus the type helpers and
// the syntactic scan that finds which outer vars a region assigns. Statements
// are in LowerStmt.cpp, expressions in LowerExpr.cpp.
#include <cassert>
#include <set>

#include "frontend/Frontend.h"
#include "frontend/LowerImpl.h"

namespace chain::frontend {
namespace lowering {

void flatTypes(const SemType& t, std::vector<ir::Type>& out) {
  if (t.kind == SemType::Value) out.push_back(t.type);
  if (t.kind == SemType::Tuple)
    for (const SemType& e : t.elems) flatTypes(e, out);
}

size_t flatSize(const SemType& t) {
  std::vector<ir::Type> v;
  flatTypes(t, v);
  return v.size();
}

void flatDims(const SemType& t, std::vector<std::vector<std::string>>& out) {
  if (t.kind == SemType::Value) out.push_back(t.dims);
  if (t.kind == SemType::Tuple)
    for (const SemType& e : t.elems) flatDims(e, out);
}

SemType typeOf(const ast::TypeExpr& t) {
  if (!t.isTuple) {
    SemType s = SemType::value({t.elem, static_cast<int>(t.dims.size())});
    s.dims = t.dims;
    return s;
  }
  SemType s;
  s.kind = SemType::Tuple;
  for (const ast::TypeExpr& e : t.elems) s.elems.push_back(typeOf(e));
  return s;
}

namespace {

// Walks statements and expressions, tracking the names declared inside the
// scanned region, and records assignments to names declared outside it.
struct AssignScan {
  std::vector<std::string> out;
  std::vector<std::set<std::string>> declared;

  bool isLocal(const std::string& n) const {
    for (const auto& s : declared)
      if (s.count(n)) return true;
    return false;
  }
  void block(const ast::Block* b) {
    if (!b) return;
    declared.emplace_back();
    for (const auto& s : b->stmts) stmt(*s);
    if (b->result) expr(b->result.get());
    declared.pop_back();
  }
  void stmt(const ast::Stmt& s) {
    using ast::StmtKind;
    expr(s.value.get());
    expr(s.cond.get());
    expr(s.lo.get());
    expr(s.hi.get());
    switch (s.kind) {
      case StmtKind::Let:
      case StmtKind::Var:
        for (const std::string& n : s.names) declared.back().insert(n);
        break;
      case StmtKind::Assign: {
        // x = e, or x[i] = e (an element assignment changes x).
        const Expr* t = s.target.get();
        if (t && t->kind == ast::ExprKind::Index) {
          for (const auto& ix : t->indices) expr(ix.get());
          t = t->args.empty() ? nullptr : t->args[0].get();
        }
        if (t && t->kind == ast::ExprKind::Name && !isLocal(t->text)) {
          bool seen = false;
          for (const std::string& n : out) seen = seen || n == t->text;
          if (!seen) out.push_back(t->text);
        }
        break;
      }
      case StmtKind::If:
        block(s.thenBlock.get());
        block(s.elseBlock.get());
        break;
      case StmtKind::For:
        declared.emplace_back(std::set<std::string>(s.names.begin(), s.names.end()));
        block(s.body.get());
        declared.pop_back();
        break;
      case StmtKind::While: block(s.body.get()); break;
      case StmtKind::Return:
      case StmtKind::ExprStmt: break;
    }
  }
  void expr(const Expr* e) {
    if (!e) return;
    for (const auto& a : e->args) expr(a.get());
    expr(e->callee.get());
    for (const auto& n : e->named) expr(n.value.get());
    for (const auto& i : e->indices) expr(i.get());
    block(e->thenBlock.get());
    block(e->elseBlock.get());
  }
};

}  // namespace

std::vector<std::string> assignedNames(const std::vector<const ast::Block*>& blocks) {
  AssignScan scan;
  scan.declared.emplace_back();
  for (const ast::Block* b : blocks) scan.block(b);
  return scan.out;
}

std::vector<std::string> assignedNames(const Expr& e) {
  AssignScan scan;
  scan.declared.emplace_back();
  scan.expr(&e);
  return scan.out;
}

namespace {

// The result type of a checked function: declared, or that of its final
// expression / `return` value; Void when it has none.
SemType resultType(const ast::FnDecl& fd) {
  if (fd.hasResultType) return typeOf(fd.resultType);
  const Expr* r = fd.body ? fd.body->result.get() : nullptr;
  if (!r && fd.body && !fd.body->stmts.empty() &&
      fd.body->stmts.back()->kind == ast::StmtKind::Return)
    r = fd.body->stmts.back()->value.get();
  if (r) return r->sem;
  SemType v;
  v.kind = SemType::Void;
  return v;
}

}  // namespace
}  // namespace lowering

std::unique_ptr<ir::Module> lower(const ast::Program& program) {
  using namespace lowering;
  auto module = std::make_unique<ir::Module>();
  module->fileName = program.fileName;
  std::vector<FnSig> sigs;
  std::map<std::string, int> byName;
  for (const auto& fd : program.fns) {
    FnSig sig;
    sig.decl = fd.get();
    for (const ast::Param& p : fd->params) sig.params.push_back(typeOf(p.type).type);
    flatTypes(resultType(*fd), sig.results);
    byName.emplace(fd->name, static_cast<int>(sigs.size()));
    sigs.push_back(std::move(sig));
  }
  for (size_t i = 0; i < sigs.size(); ++i) {
    const ast::FnDecl& fd = *sigs[i].decl;
    auto f = std::make_unique<ir::Function>();
    f->name = fd.name;
    f->loc = fd.loc;
    f->resultTypes = sigs[i].results;
    for (size_t p = 0; p < fd.params.size(); ++p) {
      f->paramNames.push_back(fd.params[p].name);
      f->body.addArg(sigs[i].params[p], fd.params[p].name);
    }
    FnLowerer(sigs, byName, *f, fd).run();
    module->add(std::move(f));
  }
  return module;
}

}  // namespace chain::frontend
