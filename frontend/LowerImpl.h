// Internal declarations of the lowering from the checked AST to IR
// (frontend::lower). Tuples are flattened: every expression lowers to a
// vector of values. Mutable `var`s become SSA: the environment maps a name to
// its current values, and `if`/`for`/`while` (and short-circuit `and`/`or`,
// if-expressions) carry the outer vars that their regions assign, found by a
// syntactic scan of the region before it is lowered.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontend/AST.h"
#include "ir/IR.h"

namespace chain::frontend::lowering {

using ast::Expr;
using ast::SemType;
using ir::Value;

// A function value: a user function, optionally differentiated.
struct FnDesc {
  int fn = -1;
  int diff = 0;  // 0 plain, 1 grad, 2 value_and_grad
  std::vector<int64_t> wrt;
};

struct Binding {
  std::vector<Value*> vals;  // flattened current values
  bool isFn = false;
  FnDesc fn;
};

struct FnSig {
  const ast::FnDecl* decl = nullptr;
  std::vector<ir::Type> params;
  std::vector<ir::Type> results;  // flattened
};

// Flattened IR types of a (checked) type.
void flatTypes(const SemType& t, std::vector<ir::Type>& out);
size_t flatSize(const SemType& t);
// The SemType of a written (scalar or tuple) type.
SemType typeOf(const ast::TypeExpr& t);
// Outer names assigned anywhere in the given blocks / expression (excluding
// names declared inside them), in order of first assignment.
std::vector<std::string> assignedNames(const std::vector<const ast::Block*>& blocks);
std::vector<std::string> assignedNames(const Expr& e);

class FnLowerer {
 public:
  FnLowerer(const std::vector<FnSig>& sigs, const std::map<std::string, int>& byName,
            ir::Function& f, const ast::FnDecl& decl)
      : sigs_(sigs), byName_(byName), f_(f), decl_(decl), b_(&f.body) {}
  void run();

 private:
  // --- environment and statements (LowerStmt.cpp) ---
  Binding* lookup(const std::string& name);
  void bind(const std::string& name, Binding b);
  std::vector<Binding*> carried(const std::vector<std::string>& names);
  std::vector<Value*> currentValues(const std::vector<Binding*>& vars);
  void rebind(const std::vector<Binding*>& vars, const std::vector<Value*>& vals, size_t from);
  void stmts(const ast::Block& b, bool skipFinalReturn);
  void stmt(const ast::Stmt& s);
  void stmtBlock(const ast::Block& b);
  std::vector<Value*> blockValue(const ast::Block& b);
  void letStmt(const ast::Stmt& s);
  void assignStmt(const ast::Stmt& s);
  void forStmt(const ast::Stmt& s);
  void whileStmt(const ast::Stmt& s);
  // An If op whose results are `types` (from the branch functions) followed
  // by the carried vars, which are rebound to the If results afterwards.
  std::vector<Value*> buildIf(Value* cond, const std::vector<ir::Type>& types,
                              const std::vector<std::string>& assigned,
                              const std::function<std::vector<Value*>()>& thenFn,
                              const std::function<std::vector<Value*>()>& elseFn, ast::SrcLoc loc);

  // --- expressions (LowerExpr.cpp) ---
  std::vector<Value*> expr(const Expr& e);
  Value* scalar(const Expr& e);
  Value* scalarAs(const Expr& e, ir::Type t);
  std::vector<Value*> unary(const Expr& e);
  std::vector<Value*> binary(const Expr& e);
  std::vector<Value*> ifExpr(const Expr& e);
  std::vector<Value*> call(const Expr& e);
  std::vector<Value*> callFn(const Expr& e, const FnDesc& d);
  std::vector<Value*> builtin(const Expr& e, const std::string& name);
  FnDesc fnValue(const Expr& e);
  std::vector<Value*> castAll(std::vector<Value*> vals, const std::vector<ir::Type>& types);

  const std::vector<FnSig>& sigs_;
  const std::map<std::string, int>& byName_;
  ir::Function& f_;
  const ast::FnDecl& decl_;
  ir::Builder b_;
  std::vector<std::unique_ptr<std::map<std::string, Binding>>> scopes_;
};

}  // namespace chain::frontend::lowering
