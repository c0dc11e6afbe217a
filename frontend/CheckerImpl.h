// Internal declarations of the type checker (frontend::check). The module
// checker collects every function's signature first; a FnChecker then checks
// one function body with a stack of lexical scopes, annotating Expr::sem.
// Functions without a declared result type are checked on demand (when a
// caller first needs their result type). Recursion is found afterwards on the
// call graph that the function checkers record (in linear time, on its
// strongly connected components), and so is the size that inlining would give
// each function. Array types carry symbolic
// sizes (SemType::dims): size names bound by the parameters' types (and i64
// parameters), integer literals, or "?"; different literals are compile
// errors, anything else that must agree is asserted at run time by the
// lowering. `var` arrays have unknown sizes (they may be reassigned whole).
#pragma once

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "ir/DiffSpec.h"

namespace chain::frontend::detail {

using ast::Expr;
using ast::SemType;
using ast::SrcLoc;

// "f64", "(f64, i64)", "function", ...: types as shown in diagnostics.
std::string typeStr(const SemType& t);
std::string locStr(SrcLoc l);  // "3:9"
bool sameType(const SemType& a, const SemType& b);
bool isFloatScalar(const SemType& t);
bool isIntScalar(const SemType& t);
bool isBoolScalar(const SemType& t);
bool isNumericScalar(const SemType& t);
// True for literals and negated literals: they take the type of their context.
bool isLiteralLike(const Expr& e);
// True for expressions built only from literals with arithmetic: checked
// after the other operand so their float literals can take its type.
bool isConstLike(const Expr& e);
// The common type of two if-branches: equal types, or i64 with a float
// (promoted); elementwise for tuples. Invalid when there is none.
SemType joinTypes(const SemType& a, const SemType& b);
// The names of the built-in functions (array built-ins included).
const std::set<std::string>& builtinNames();
bool isBuiltinName(const std::string& name);
using ast::isDiffOperator;


// --- array types (symbolic sizes: see ast::SemType::dims) ---
extern const char* const kUnknownDim;  // "?"
bool isLitDim(const std::string& d);   // "3"
bool isArray(const SemType& t);        // a Value of rank >= 1
bool isNumericElem(const SemType& t);  // a Value (scalar or array) of f64/f32/i64
SemType scalarOf(ir::Scalar elem);
SemType arrayOf(ir::Scalar elem, std::vector<std::string> dims);
// The same type with element type `elem` (dims kept).
SemType withElem(const SemType& t, ir::Scalar elem);
// A scalar float hint for literals, from a (scalar or array) float type.
const SemType* literalHint(const SemType* t, SemType& storage);
// Replaces every dim with "?" (recursively for tuples).
SemType forgetDims(SemType t);
// Renames the size names of a callee's type to the caller's sizes ("?" when
// unknown); literals stay.
SemType substDims(SemType t, const std::map<std::string, std::string>& sizes);

// A function value: a user function, differentiated by zero or more levels
// (innermost first: hessian(grad(f)) is [grad, hessian]).
struct FnRef {
  struct Level {
    ir::DiffKind kind = ir::DiffKind::Grad;
    std::vector<int> wrt;   // parameters of the level's input function, in wrt order
    bool wrtTuple = false;  // `wrt=(p, q)`: the derivative is a tuple
  };
  int fn = -1;  // index into ModuleChecker::fns
  std::vector<Level> levels;
};

// How a function value is named in diagnostics: f, or hvp(f) when derived.
std::string fnValueName(const std::string& base, const FnRef& ref);

// The signature of a (possibly derived) function value.
struct DerivedSig {
  std::vector<std::string> names;  // parameter names: the derived ones are d<p>, dy, v
  std::vector<SemType> params;
  SemType result;
};

struct FnInfo {
  ast::FnDecl* decl = nullptr;
  std::vector<SemType> params;
  SemType result;  // declared, or inferred once the body is checked
  bool resultDeclared = false;
  enum State { Unchecked, InProgress, Done } state = Unchecked;
  struct Edge {
    int callee;
    SrcLoc loc;
  };
  std::vector<Edge> edges;  // every reference to another function (calls, grad(f), let g = f)
  struct CallSite {
    int callee;
    bool viaGrad;  // a call of grad(f) / value_and_grad(f)
  };
  std::vector<CallSite> calls;  // every call of a user function (for the inlining size)
};

// Reports every `while` of a checked function whose condition reads only
// variables that its body never assigns: it can never end once entered
// (CheckerWhile.cpp).
void checkWhileLoops(const ast::FnDecl& fn, DiagEngine& diag);

// A name in a lexical scope.
struct Binding {
  SemType type;
  bool isVar = false;
  bool isFn = false;  // a function value (let g = grad(f))
  bool isSize = false;  // a size name bound by the parameters' types
  bool locked = false;  // a comprehension index while its ranges are checked
  FnRef fn;
  SrcLoc declLoc;
};

class ModuleChecker {
 public:
  ModuleChecker(ast::Program& p, DiagEngine& d) : program(p), diag(d) {}
  bool run();

  // The SemType of a written type; reports array types and (unless allowed)
  // tuples. Returns invalid after an error.
  SemType resolveType(const ast::TypeExpr& t, bool allowTuple);
  // The size names used by a function's parameter types, in order of first use.
  std::vector<std::string> sizeNames(int fn) const;
  // Checks function `fn` now if it has not been checked yet.
  void ensureChecked(int fn);
  int lookupFn(const std::string& name) const;
  // The type that a call of `ref` returns (invalid if not yet known).
  SemType callResult(const FnRef& ref) const { return derivedSig(ref).result; }
  // The parameters and result of `ref` (CheckerDiff.cpp).
  DerivedSig derivedSig(const FnRef& ref) const;

  ast::Program& program;
  DiagEngine& diag;
  std::vector<FnInfo> fns;

 private:
  std::map<std::string, int> byName_;
  void collectSignatures();
  void checkResultDims(const ast::TypeExpr& t, const std::vector<std::string>& sizes,
                       const std::string& fn);
  // Recursion, on the call graph's strongly connected components
  // (CheckerCallGraph.cpp); returns false on recursion.
  bool checkCallGraph();
  // An order in which to check the bodies: a callee whose result type is not
  // declared comes before its callers, so on-demand checking stays shallow
  // (a long chain of such calls would otherwise overflow the stack).
  std::vector<int> checkingOrder() const;
  // Reports functions whose fully inlined body would exceed
  // passes::kMaxInlinedOps operations (an estimate from the AST).
  void checkInlinedSizes();
};

class FnChecker {
 public:
  FnChecker(ModuleChecker& m, int self) : m_(m), self_(self) {}
  void checkBody();

 private:
  // --- scopes and statements (Checker.cpp) ---
  void push() { scopes_.emplace_back(); }
  void pop() { scopes_.pop_back(); }
  Binding* lookup(const std::string& name);
  size_t scopeOf(const std::string& name) const;  // index of the scope declaring it
  // What an unknown name is used as, which decides the names it may be a
  // misspelling of: a value (bindings, user functions), a call (function
  // bindings, user functions, built-ins), grad's function (function
  // bindings, user functions) or an assignment target (value bindings).
  enum class NameUse { Value, Call, GradTarget, Assign };
  // "; did you mean 'x'?" for a close known name (DidYouMean.h), else "".
  std::string suggestion(const std::string& name, NameUse use) const;
  void declare(const std::string& name, SrcLoc loc, Binding b);
  // Checks a block in a new scope; returns the type of its final expression
  // (Void when it has none).
  SemType block(ast::Block& b, const SemType* hint);
  // A block in statement position: its final expression, if any, is checked
  // like an expression statement (only print may stand alone).
  void stmtBlock(ast::Block& b);
  void exprStmt(Expr& e);
  void stmts(ast::Block& b, bool isFnBody);
  void stmt(ast::Stmt& s, bool isLastOfBody);
  void letStmt(ast::Stmt& s, bool isVar);
  void assignStmt(ast::Stmt& s);
  void condition(Expr& e);
  // x[i, j] = e, S[i] = row, x[a..b] = v, x[i] += e (CheckerArrays.cpp).
  void elementAssign(ast::Stmt& s);
  // The binding that an assignment to `name` changes, after the checks that
  // apply to every assignment (var, while condition, comprehension body).
  Binding* assignable(const std::string& name, SrcLoc loc, const char* what);
  // Reports size names in an annotated type that are not bound.
  bool checkTypeDims(const SemType& t, SrcLoc loc);
  // Checks that a value of type `from` may be used where `to` is expected
  // (equal, or i64 promoted to a float; elementwise for tuples).
  bool convertible(const SemType& from, const SemType& to) const;

  // --- expressions (CheckerExpr.cpp) ---
 public:
  SemType expr(Expr& e, const SemType* hint = nullptr);

 private:
  SemType exprImpl(Expr& e, const SemType* hint);
  SemType name(Expr& e);
  SemType unary(Expr& e, const SemType* hint);
  SemType binary(Expr& e, const SemType* hint);
  // Checks the two operands; literals take the float type of the other side.
  void operands(Expr& a, Expr& b, const SemType* hint);
  // Numeric promotion of two scalar operand types for operator `what`.
  SemType promote(const SemType& a, const SemType& b, const std::string& what, SrcLoc loc);
  SemType ifExpr(Expr& e, const SemType* hint);
  SemType tuple(Expr& e, const SemType* hint);
  SemType call(Expr& e, const SemType* hint);
  SemType callFnValue(Expr& e, const FnRef& ref, const std::string& shownName);
  // A value (not a function, not nothing): reports otherwise.
  bool requireValue(Expr& e);
  void addEdge(int callee, SrcLoc loc);
  const FnRef* refOf(const Expr& e) const;

  // --- arrays (CheckerArrays.cpp, CheckerArrayOps.cpp) ---
  // The symbolic size of an i64 expression: a size name, a literal or "?".
  std::string dimOf(const Expr& e);
  std::string rangeDim(const Expr& lo, const Expr& hi);
  // The type of base[indices]: a scalar element or a slice. Checks the indices.
  SemType selection(Expr& e, const SemType& base);
  SemType index(Expr& e);
  SemType arrayLit(Expr& e, const SemType* hint);
  // Declares the range variables (i64) in the current scope; `locked`: the
  // earlier variables may not be used by later bounds (comprehensions).
  bool rangeClauses(std::vector<ast::RangeClause>& ranges, bool locked);
  SemType comprehension(Expr& e, const SemType* hint);
  SemType reduction(Expr& e, const std::string& name, const SemType* hint);
  SemType arrayBuiltin(Expr& e, const std::string& name, const SemType* hint);
  SemType fillBuiltin(Expr& e, const std::string& name, const SemType* hint);
  bool dtypeArg(Expr& e, const std::string& name, bool allowI64, ir::Scalar& dtype, bool& given);
  bool sizeArgs(Expr& e, const std::string& name, size_t first, std::vector<std::string>& dims);
  // The broadcast of two operand types to element type `elem`; reports
  // rank-independent literal size conflicts ("operator '+': ...").
  SemType broadcast(const SemType& a, const SemType& b, ir::Scalar elem, const std::string& what,
                    SrcLoc loc);
  SemType matmul(const SemType& a, const SemType& b, const std::string& what, SrcLoc loc);
  // Maps the callee's size names to the arguments' sizes; reports literal
  // conflicts. Returns false after an error.
  bool bindCallSizes(Expr& e, const DerivedSig& f, std::map<std::string, std::string>& sizes,
                     const std::string& shown);

  // --- built-ins (CheckerBuiltins.cpp) ---
  SemType builtin(Expr& e, const std::string& name, const SemType* hint);
  SemType mathBuiltin(Expr& e, const std::string& name, const SemType* hint);
  SemType binaryBuiltin(Expr& e, const std::string& name, const SemType* hint);
  SemType printBuiltin(Expr& e);
  SemType randomBuiltin(Expr& e, const std::string& name);
  SemType mixBuiltin(Expr& e);
  bool keyArg(Expr& a, const std::string& name, const char* what);
  // --- differentiation operators (CheckerDiff.cpp) ---
  SemType diffExpr(Expr& e, const std::string& name, ir::DiffKind kind);
  bool diffTarget(Expr& fe, const std::string& name, FnRef& ref);
  bool wrtNames(Expr& e, const std::string& name, FnRef::Level& level,
                std::vector<std::pair<std::string, SrcLoc>>& wrt);
  bool wrtParams(const DerivedSig& f, const std::string& fname,
                 const std::vector<std::pair<std::string, SrcLoc>>& wrt, FnRef::Level& level);
  bool checkDiffResult(const DerivedSig& f, const std::string& fname, const std::string& name,
                       const FnRef::Level& level, SrcLoc loc);
  bool argCount(Expr& e, const std::string& name, size_t n, const char* expects);

  ModuleChecker& m_;
  int self_;
  std::deque<std::map<std::string, Binding>> scopes_;  // deque: Binding* stay valid
  int whileCondDepth_ = 0;
  size_t noAssignBelow_ = 0;  // scopes below this index may not be assigned (comprehensions)
  std::map<const Expr*, FnRef> fnRefs_;  // expressions whose value is a function
};

}  // namespace chain::frontend::detail
