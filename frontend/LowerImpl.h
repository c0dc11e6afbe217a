// Internal declarations of the lowering from the checked AST to IR
// (frontend::lower). Tuples are flattened: every expression lowers to a
// vector of values. Mutable `var`s become SSA: the environment maps a name to
// its current values, and `if`/`for`/`while` (and short-circuit `and`/`or`,
// if-expressions) carry the outer vars that their regions assign, found by a
// syntactic scan of the region before it is lowered (`x[i] = e` assigns x).
// Arrays lower to the array ops of ir/Ops.def: elementwise arithmetic and
// broadcasting become `map` + `index`, reductions nests of `reduce`; size
// names are the `dim`s of the parameters that first use them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontend/AST.h"
#include "ir/DiffSpec.h"
#include "ir/IR.h"

namespace chain::frontend::lowering {

using ast::Expr;
using ast::SemType;
using ir::Value;

// A function value: a user function, optionally differentiated.
struct FnDesc {
  int fn = -1;
  std::vector<ir::DiffLevel> levels;  // empty: the plain function (ir/DiffSpec.h)
};

struct Binding {
  std::vector<Value*> vals;  // flattened current values
  bool isFn = false;
  FnDesc fn;
};

// An operand of an elementwise operation: its value (scalar or array) and the
// checker's symbolic sizes (ast::SemType::dims; empty or "?" when unknown).
struct Operand {
  Value* v = nullptr;
  std::vector<std::string> dims;
};

// base[...] as a selection: one kind per axis (0 index, 1 range, 2 whole),
// the i64 operands in axis order, and the extent of every kept axis.
struct Selection {
  std::vector<int64_t> kinds;
  std::vector<Value*> operands;
  std::vector<Value*> extents;
  bool scalar() const {
    for (int64_t k : kinds)
      if (k != 0) return false;
    return true;
  }
};

struct FnSig {
  const ast::FnDecl* decl = nullptr;
  std::vector<ir::Type> params;
  std::vector<ir::Type> results;  // flattened
};

// Flattened IR types of a (checked) type.
void flatTypes(const SemType& t, std::vector<ir::Type>& out);
size_t flatSize(const SemType& t);
// The symbolic sizes of every flattened value of a type (empty for scalars).
void flatDims(const SemType& t, std::vector<std::vector<std::string>>& out);
// The SemType of a written (scalar, array or tuple) type.
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

  // --- arrays (LowerArrays.cpp) ---
  Value* dim(Value* a, int64_t axis);
  void emitAssert(Value* cond, std::vector<Value*> vals, const std::string& message);
  // A scalar cast, or a map casting every element.
  Value* castValue(Value* v, ir::Type t);
  Operand operand(const Expr& e);
  // A map over the broadcast shape of `ops` whose element is fn(elements):
  // operands of rank 0 are used as they are, arrays are indexed (index 0 on a
  // broadcast axis, select(dim == 1, 0, i) where that is only known at run time).
  Value* elementwise(const std::vector<Operand>& ops, const std::string& what, ast::SrcLoc loc,
                     const std::function<Value*(const std::vector<Value*>&)>& fn);
  Selection selection(const Expr& e, Value* base);
  Value* indexExpr(const Expr& e);
  Value* arrayLit(const Expr& e);
  Value* comprehension(const Expr& e);
  void elementAssign(const ast::Stmt& s);
  // The value of a symbolic size: a literal or a size name of the parameters.
  Value* sizeValue(const std::string& d);
  // Binds the size names to the parameters' dims; asserts reused names and literals.
  void bindSizes();
  // Asserts that the arrays `vals` (of checked type `have`) have the sizes
  // that `want` declares, where that is not known statically.
  void checkShape(const std::vector<Value*>& vals, const SemType& have, const SemType& want,
                  const std::string& what);

  // --- array operations (LowerArrayOps.cpp) ---
  Value* reduction(const Expr& e, const std::string& name);
  Value* reduceArray(Value* a, const std::string& kind, ir::Type t);
  Value* reduceGen(const Expr& gen, size_t k, const std::string& kind, ir::Type t, bool count);
  Value* matmul(const Expr& e, const Expr& a, const Expr& b, const std::string& what);
  std::vector<Value*> arrayBuiltin(const Expr& e, const std::string& name);
  // Elementwise built-ins (exp, pow, casts, ...) on arrays.
  Value* elementwiseBuiltin(const Expr& e, const std::string& name);
  // uniform(key, n, ...), normal(key, n, ...), mix(key, i).
  Value* randomBuiltin(const Expr& e, const std::string& name);

  const std::vector<FnSig>& sigs_;
  const std::map<std::string, int>& byName_;
  ir::Function& f_;
  const ast::FnDecl& decl_;
  ir::Builder b_;
  std::vector<std::unique_ptr<std::map<std::string, Binding>>> scopes_;
  std::map<std::string, Value*> sizes_;  // size name -> its value (dim of the parameter)
};

// The unary math built-ins (exp, log, ..., stop_gradient) that map to one
// scalar op; false for any other name. Defined in LowerExpr.cpp.
bool mathOp(const std::string& name, ir::OpKind& k);

}  // namespace chain::frontend::lowering
