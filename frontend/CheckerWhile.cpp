// The while rule of the checker (issue 10 item 7): a `while` whose condition
// reads only variables that its body never assigns can never end once
// entered. The language is pure (no call changes anything) and has no
// `break`, and `return` may only end a function, so such a condition gives
// the same value on every test: the loop either never runs or never stops.
// That is a compile error at the `while`:
//   this while loop can never end once entered: its condition reads only y,
//   which the loop body never changes
// A condition that is the literal `false` is left alone (it never enters).
//
// The rule works on the checked AST, one function at a time, with its own
// scopes: a name declared inside the condition (a generator's index, a `let`
// in an if-expression) or inside the body (a `let`/`var` shadowing an outer
// one, a `for` index) is not the variable the condition reads, so assigning
// a shadowing `var i` does not count as changing the outer `i`.
#include <set>
#include <string>
#include <vector>

#include "frontend/CheckerImpl.h"

namespace chain::frontend::detail {

namespace {

using ast::Block;
using ast::ExprKind;
using ast::Stmt;
using ast::StmtKind;

// Walks statements and expressions, keeping the names declared since the
// walk began: `reads` collects (in order of first use) the names read that
// were declared before it, `assigned` the names assigned that were.
class Walker {
 public:
  explicit Walker(DiagEngine* diag) : diag_(diag) {}

  std::vector<std::string> reads;
  std::set<std::string> assigned;

  void expr(const Expr& e) {
    switch (e.kind) {
      case ExprKind::Name:
        if (!local(e.text) && e.sem.kind != SemType::Function) note(e.text);
        return;
      case ExprKind::Call:  // callee: a function; named arguments: wrt=, dtype=
        if (e.callee && e.callee->kind != ExprKind::Name) expr(*e.callee);
        exprs(e.args);
        return;
      case ExprKind::Comprehension:
      case ExprKind::Generator:
        scopes_.emplace_back();
        for (const ast::RangeClause& r : e.ranges) {
          if (r.lo) expr(*r.lo);
          if (r.hi) expr(*r.hi);
          scopes_.back().insert(r.var);
        }
        exprs(e.args);
        scopes_.pop_back();
        return;
      case ExprKind::IfExpr:
        exprs(e.args);
        if (e.thenBlock) block(*e.thenBlock);
        if (e.elseBlock) block(*e.elseBlock);
        return;
      case ExprKind::FloatLit: case ExprKind::IntLit: case ExprKind::BoolLit: case ExprKind::StringLit:
      case ExprKind::Unary: case ExprKind::Binary: case ExprKind::Index: case ExprKind::Range:
      case ExprKind::Colon: case ExprKind::ArrayLit: case ExprKind::Tuple:
        exprs(e.args);
        exprs(e.indices);
        return;
    }
  }

  void block(const Block& b) {
    scopes_.emplace_back();
    for (const auto& s : b.stmts) stmt(*s);
    if (b.result) expr(*b.result);
    scopes_.pop_back();
  }

 private:
  void exprs(const std::vector<ast::ExprPtr>& es) {
    for (const auto& e : es)
      if (e) expr(*e);
  }

  void stmt(const Stmt& s) {
    for (const ast::ExprPtr* e : {&s.value, &s.cond, &s.lo, &s.hi})
      if (*e) expr(**e);
    switch (s.kind) {
      case StmtKind::Let:
      case StmtKind::Var:
        for (const std::string& n : s.names) scopes_.back().insert(n);
        return;
      case StmtKind::Assign: assign(*s.target); return;
      case StmtKind::If:
        if (s.thenBlock) block(*s.thenBlock);
        if (s.elseBlock) block(*s.elseBlock);
        return;
      case StmtKind::For:
        scopes_.emplace_back();
        if (!s.names.empty()) scopes_.back().insert(s.names[0]);
        if (s.body) block(*s.body);
        scopes_.pop_back();
        return;
      case StmtKind::While:
        if (s.body) block(*s.body);
        if (diag_ && s.cond && s.body) checkWhile(s, *diag_);
        return;
      case StmtKind::Return:
      case StmtKind::ExprStmt: return;
    }
  }

  // x = e, x[i, j] = e, x[a..b] += e: the root name is assigned; the indices are read.
  void assign(const Expr& target) {
    const Expr* root = &target;
    while (root->kind == ExprKind::Index && !root->args.empty() && root->args[0]) {
      exprs(root->indices);
      root = root->args[0].get();
    }
    if (root->kind == ExprKind::Name && !local(root->text)) assigned.insert(root->text);
  }

  static void checkWhile(const Stmt& s, DiagEngine& diag) {
    if (s.cond->kind == ExprKind::BoolLit && s.cond->ival == 0) return;
    Walker cond(nullptr), body(nullptr);
    cond.expr(*s.cond);
    body.block(*s.body);
    std::string names;
    for (size_t k = 0; k < cond.reads.size(); ++k) {
      if (body.assigned.count(cond.reads[k])) return;
      names += (k == 0 ? "" : k + 1 == cond.reads.size() ? " and " : ", ") + cond.reads[k];
    }
    std::string why = names.empty() ? "its condition reads no variable"
                                    : "its condition reads only " + names + ", which the loop body never changes";
    diag.error(s.loc, "this while loop can never end once entered: " + why);
  }

  bool local(const std::string& n) const {
    for (const auto& sc : scopes_)
      if (sc.count(n)) return true;
    return false;
  }

  void note(const std::string& n) {
    for (const std::string& r : reads)
      if (r == n) return;
    reads.push_back(n);
  }

  DiagEngine* diag_;  // null: collect only, do not check nested loops
  std::vector<std::set<std::string>> scopes_;
};

}  // namespace

void checkWhileLoops(const ast::FnDecl& fn, DiagEngine& diag) {
  if (fn.body) Walker(&diag).block(*fn.body);
}

}  // namespace chain::frontend::detail
