// The Chain IR: typed SSA with structured control flow.
//
// Semantics
// ---------
// * A Module holds Functions. A Function has a body Block whose arguments are
//   the parameters and whose last op is `return` with the results (a function
//   may return several values: source-level tuples are flattened).
// * A Block is a list of Operations executed in order; it owns its arguments.
//   A Region is a Block owned by an op (`if`, `for`, `while`); every region
//   ends with `yield`. Values defined in a block are visible in the rest of
//   that block and in all regions nested below it (lexical dominance); values
//   defined inside a region are not visible after the op that owns it: only
//   the op's results are.
// * Every value has a Type: a scalar kind (f64, f32, i64, bool) and a rank
//   (0 = scalar; arrays are rank >= 1 values with dynamic dimensions and value
//   semantics, added by the arrays work).
// * Ops are pure unless flagged Effect (print, tape ops). Pure ops may be
//   folded, CSE'd and removed when dead; effect ops keep their order.
//   MayTrap ops (integer division, indexing) are pure but are only removed
//   when dead, never hoisted out of an `if`. Integer division is stricter:
//   an i64 `div`/`rem` whose divisor is not a constant other than 0 and -1
//   is never removed, even when its result is unused, because a division by
//   zero is a runtime error (SPEC §4) whether or not the quotient is used;
//   it may still be CSE'd with an identical division, and folded when both
//   operands are constants and it does not trap.
// * Control flow:
//     %r... = if %c { then: ... yield a... } { else: ... yield b... }
//     %r... = for %lo, %hi, %init... { ^(%i: i64, %c...): ... yield %c'... }
//        runs the body for i = lo .. hi-1 (no iterations when hi <= lo);
//        results are the final carried values. With attribute s =
//        "accumulate" (reverse AD's loops over a map's or reduce's indices)
//        the iterations are independent except that they add into the
//        carried float values (adjoints: acc' = acc + delta(i), delta not
//        reading acc), so they may run in chunks whose partial sums are
//        added in chunk order; a carried bool or i64 keeps the loop serial.
//     %r... = while %init... { cond ^(%c...): ... yield %b } { body ^(%c...): ... yield %c'... }
// * Calls: `call @f(args)`, non-recursive, inlined before AD and codegen.
//   `grad_call @f(args)` stands for the derivative of f that the levels in
//   attribute `ints` name (ir/DiffSpec.h). The pipeline replaces it with a
//   call of a generated function, before AD or, for a gradient or hvp inside
//   a function being reversed, after it (reverse AD gives it an adjoint
//   grad_call, whose attribute i = 1 drops f's prints; runtime/Pipeline.cpp).
// * The tape: `tape.push %v...` pushes values on a per-call LIFO stack;
//   `%v... = tape.pop` pops the values of the matching push (same types).
//   Reverse AD uses it to save loop-carried state; pushes and pops are always
//   balanced within one call of a function.
//
// Arrays
// ------
// * An array value has an element type and a rank >= 1; its sizes are dynamic
//   (`dim %a` reads one). Arrays are values: no op mutates its operands, and
//   code generation is free to reuse a buffer in place when the old value is
//   dead. Scalar ops (add, exp, ...) are scalar only: the frontend lowers
//   elementwise array arithmetic and broadcasting to `map` + `index`, so
//   fusion is substitution of a map body at an index.
// * `map (n0..)` builds an array from a region ^(i0..) yielding one element;
//   `reduce (lo, hi)` with attr s = sum|prod|max|min|logsumexp folds the
//   region ^(i) over i = lo..hi-1 in any order (empty: 0, 1, -inf, +inf,
//   -inf); a generator with several ranges is a nest of reduces.
// * `index %a, %i...` reads one element (exactly rank indices, bounds-checked);
//   `slice`, `update` (functional set) and `add_at` (functional +=, used by
//   AD for scatter-adds) select with a kind per axis in attr ints (0 index,
//   1 range lo..hi, 2 whole axis). `matmul`, `transpose`, `fill`, `build`
//   (array literals) and `assert` (runtime error with a message) complete it.
// See ir/Ops.def for each op's operands.
//
// Memory: Operations own their result Values and regions; Blocks own their
// argument Values and their Operations. There are no use lists: passes build a
// new function by cloning through a value map (see Builder::clone).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace chain::ir {

enum class OpKind : uint8_t {
#define CHAIN_OP(Name, Text, Arity, Flags) Name,
#include "ir/Ops.def"
#undef CHAIN_OP
};

enum OpFlag : unsigned {
  Pure = 1u << 0,
  Commutative = 1u << 1,
  Effect = 1u << 2,
  Terminator = 1u << 3,
  MayTrap = 1u << 4,
};

struct OpInfo {
  const char* name;
  int arity;  // -1: variadic
  unsigned flags;
};
const OpInfo& opInfo(OpKind k);
inline const char* opName(OpKind k) { return opInfo(k).name; }
inline bool hasFlag(OpKind k, OpFlag f) { return (opInfo(k).flags & f) != 0; }

enum class Scalar : uint8_t { F64, F32, I64, Bool };

struct Type {
  Scalar elem = Scalar::F64;
  int rank = 0;  // 0: scalar

  static Type f64() { return {Scalar::F64, 0}; }
  static Type f32() { return {Scalar::F32, 0}; }
  static Type i64() { return {Scalar::I64, 0}; }
  static Type boolean() { return {Scalar::Bool, 0}; }
  bool isScalar() const { return rank == 0; }
  bool isFloat() const { return elem == Scalar::F64 || elem == Scalar::F32; }
  bool isFloatScalar() const { return rank == 0 && isFloat(); }
  bool operator==(const Type& o) const { return elem == o.elem && rank == o.rank; }
  bool operator!=(const Type& o) const { return !(*this == o); }
  std::string str() const;  // "f64", "i64", "f32[2]" (rank shown as [?,?])
};

// A position in the source file (1-based; 0 = unknown).
struct SrcLoc {
  int line = 0;
  int col = 0;
};

struct Operation;
struct Block;

struct Value {
  Type type;
  Operation* def = nullptr;  // defining op, or null for a block argument
  Block* owner = nullptr;    // block whose argument this is (when def == null)
  int index = 0;             // result index / argument index
  std::string name;          // optional source name (for printing only)
};

struct Block {
  std::vector<std::unique_ptr<Value>> args;
  std::vector<std::unique_ptr<Operation>> ops;
  Operation* parentOp = nullptr;  // null for a function body

  Value* addArg(Type t, std::string name = "");
  Value* arg(size_t i) const { return args[i].get(); }
  Operation* terminator() const { return ops.empty() ? nullptr : ops.back().get(); }
};

struct Operation {
  OpKind kind;
  std::vector<Value*> operands;
  std::vector<std::unique_ptr<Value>> results;
  std::vector<std::unique_ptr<Block>> regions;
  // Attributes (meaning depends on the op, see Ops.def).
  double f = 0.0;
  int64_t i = 0;
  std::string s;
  std::vector<int64_t> ints;
  SrcLoc loc;
  Block* parent = nullptr;

  explicit Operation(OpKind k) : kind(k) {}
  Value* result(size_t n = 0) const { return results[n].get(); }
  Value* operand(size_t n) const { return operands[n]; }
  Block* region(size_t n) const { return regions[n].get(); }
  Value* addResult(Type t);
  Block* addRegion();
};

struct Function {
  std::string name;
  std::vector<std::string> paramNames;
  std::vector<Type> resultTypes;
  Block body;
  SrcLoc loc;
  // Prepared as the input of reverse AD (runtime/Pipeline.cpp): simplify then
  // keeps maps that call transcendental functions materialised instead of
  // fusing them into their one reader, so the reverse sweep reads their
  // values (tanh's adjoint uses tanh(x)) rather than recomputing them in
  // every pass that reverses the reader. Not copied by cloneFunction.
  bool forDifferentiation = false;

  Value* param(size_t i) const { return body.arg(i); }
  size_t numParams() const { return body.args.size(); }
};

struct Module {
  std::string fileName;
  // The source text, so that a diagnostic raised after the frontend (a
  // nested gradient) can show the offending line; may be null.
  std::shared_ptr<const std::string> source;
  std::vector<std::unique_ptr<Function>> functions;

  // By name (hashed when every function came through add()).
  Function* lookup(const std::string& name) const;
  Function* add(std::unique_ptr<Function> f);

 private:
  std::unordered_map<std::string, Function*> byName_;
  size_t indexed_ = 0;
};

// Builds ops at the end of a block.
class Builder {
 public:
  explicit Builder(Block* b = nullptr) : block_(b) {}
  void setBlock(Block* b) { block_ = b; }
  Block* block() const { return block_; }
  void setLoc(SrcLoc l) { loc_ = l; }
  SrcLoc loc() const { return loc_; }

  // Generic creation: operands, result types, number of (empty) regions.
  Operation* create(OpKind k, std::vector<Value*> operands, const std::vector<Type>& resultTypes,
                    int numRegions = 0);

  Value* constF(double v, Type t = Type::f64());
  Value* constI(int64_t v);
  Value* constB(bool v);
  // Same-typed binary/unary ops (result type = operand type; comparisons -> bool).
  Value* binary(OpKind k, Value* a, Value* b);
  Value* unary(OpKind k, Value* a);
  Value* select(Value* c, Value* a, Value* b);
  Value* cast(Value* v, Type to);  // returns v when the type already matches
  void yield(std::vector<Value*> vals);
  void ret(std::vector<Value*> vals);

  // Clones `op` (with its regions) into the current block, mapping operands
  // through `map` (values not in the map are used as they are) and recording
  // old result/argument -> new value in `map`.
  Operation* clone(const Operation& op, std::map<const Value*, Value*>& map);
  // Clones every op of `src` except its terminator; returns the mapped
  // operands of the terminator (what the block yields/returns).
  std::vector<Value*> cloneBody(const Block& src, std::map<const Value*, Value*>& map);

 private:
  Block* block_;
  SrcLoc loc_;
};

bool isComparison(OpKind k);
// Whether `b` (at any region depth) holds a tape.push or tape.pop: a
// gradient's code, which forward mode differentiates again and reverse mode
// cannot (yet).
bool containsTapeOps(const Block& b);
// Deep-copies a function (new name optional).
std::unique_ptr<Function> cloneFunction(const Function& f, const std::string& newName = "");

// True when `v` is `arg` plus an i64 constant c (v = arg, add arg c, add c arg
// or sub arg c with c != INT64_MIN, so that -c exists); sets c. Reverse AD's
// stencil reads and code generation's hoisted bounds checks use it.
bool argPlusConstant(const Value* v, const Value* arg, int64_t& c);

}  // namespace chain::ir
