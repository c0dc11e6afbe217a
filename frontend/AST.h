// The abstract syntax tree produced by the parser and annotated by the type
// checker. Nodes are "fat" structs with a kind tag: each kind documents which
// fields it uses. Every node carries the source position of its first token
// (for binary operators: the operator token).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/DiffSpec.h"
#include "ir/IR.h"

namespace chain::ast {

// The differentiation operators of SPEC §5: grad, value_and_grad, jvp, vjp,
// jacobian, hessian, hvp (sets the level kind; frontend/CheckerDiff.cpp).
bool isDiffOperator(const std::string& name, ir::DiffKind* kind = nullptr);


using ir::SrcLoc;

// A type as written: `f64`, `i64[n, 3]`, `(f64, f64[n])`.
struct TypeExpr {
  bool isTuple = false;
  ir::Scalar elem = ir::Scalar::F64;   // when !isTuple
  std::vector<std::string> dims;       // array dims: size names or integer literals as text
  std::vector<TypeExpr> elems;         // when isTuple
  SrcLoc loc;
};

// The checked type of an expression: a scalar/array Type, a tuple, a function
// value (a named function or grad(...) of one), or nothing (print).
struct SemType {
  enum Kind { Invalid, Value, Tuple, Function, Void } kind = Invalid;
  ir::Type type;                  // Value
  // Value arrays: one symbolic size per axis, filled by the checker: a size
  // name bound by the function's parameters ("n"), an integer literal ("3"),
  // or "?" (unknown until run time).
  std::vector<std::string> dims;
  std::vector<SemType> elems;     // Tuple
  static SemType value(ir::Type t) { SemType s; s.kind = Value; s.type = t; return s; }
  static SemType invalid() { return SemType{}; }
  bool ok() const { return kind != Invalid; }
  std::string str() const;
};

enum class ExprKind {
  FloatLit,    // fval, text
  IntLit,      // ival
  BoolLit,     // ival (0/1)
  StringLit,   // text
  Name,        // text
  Unary,       // op ("-", "not"), args[0]
  Binary,      // op ("+","-","*","/","%","@","**","==","!=","<","<=",">",">=","and","or"), args[0..1]
  Call,        // callee (args[0] is NOT used): callee expr, args, named
  Index,       // args[0] = array, indices (each may be a Range or Colon)
  Range,       // args[0] = lo, args[1] = hi  (`a..b`)
  Colon,       // `:` as an index (whole axis)
  ArrayLit,    // args = elements
  Comprehension,  // body = args[0], ranges       `[e for i in a..b, j in c..d]`
  Generator,   // body = args[0], ranges         `e for i in a..b` (only as a call argument)
  IfExpr,      // args[0] = cond, thenBlock, elseBlock (blocks with a final expression)
  Tuple,       // args = elements                `(a, b)`
};

struct Block;
struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct NamedArg {
  std::string name;
  ExprPtr value;
  SrcLoc loc;
};

struct RangeClause {
  std::string var;
  ExprPtr lo, hi;
  SrcLoc loc;
};

struct Expr {
  ExprKind kind;
  SrcLoc loc;
  std::string op;     // Unary / Binary operator text
  std::string text;   // Name, StringLit, FloatLit spelling
  double fval = 0;
  int64_t ival = 0;
  std::vector<ExprPtr> args;
  ExprPtr callee;                     // Call
  std::vector<NamedArg> named;        // Call: `wrt=p`, `dtype=f32`
  std::vector<ExprPtr> indices;       // Index
  std::vector<RangeClause> ranges;    // Comprehension / Generator
  std::unique_ptr<Block> thenBlock, elseBlock;  // IfExpr
  SemType sem;                        // filled by the checker
  // A differentiation operator (grad, jvp, hessian, ...): every level from the
  // innermost out, encoded as ir::encodeLevels does; filled by the checker.
  std::vector<int64_t> diffLevels;

  Expr(ExprKind k, SrcLoc l) : kind(k), loc(l) {}
};

enum class StmtKind {
  Let,      // names (one, or several for `let (a, b) =`), type (optional), value
  Var,      // names[0], type (optional), value
  Assign,   // target (Name or Index expr), op ("=", "+=", "-=", "*=", "/="), value
  If,       // cond, thenBlock, elseBlock (optional; `else if` is an else block holding one If)
  For,      // names[0] = loop var, lo, hi, body
  While,    // cond, body
  Return,   // value
  ExprStmt, // value (only print calls are allowed; the checker says so)
};

struct Stmt {
  StmtKind kind;
  SrcLoc loc;
  std::vector<std::string> names;
  std::vector<SrcLoc> nameLocs;
  bool hasType = false;
  TypeExpr type;
  std::string op;
  ExprPtr target, value, cond, lo, hi;
  std::unique_ptr<Block> thenBlock, elseBlock, body;

  Stmt(StmtKind k, SrcLoc l) : kind(k), loc(l) {}
};
using StmtPtr = std::unique_ptr<Stmt>;

// `{ stmts; final-expression? }`
struct Block {
  SrcLoc loc;
  std::vector<StmtPtr> stmts;
  ExprPtr result;  // the final expression, if any
};

struct Param {
  std::string name;
  TypeExpr type;
  SrcLoc loc;
};

struct FnDecl {
  std::string name;
  SrcLoc loc;
  std::vector<Param> params;
  bool hasResultType = false;
  TypeExpr resultType;
  std::unique_ptr<Block> body;
};

struct Program {
  std::string fileName;
  std::vector<std::unique_ptr<FnDecl>> fns;
};

// Prints the AST as an indented S-expression tree: every function of `p`, or
// one function (`chain emit --stage ast --fn f`).
std::string printAST(const Program& p);
std::string printAST(const FnDecl& f);

}  // namespace chain::ast
