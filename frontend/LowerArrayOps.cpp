// Lowering array operations to IR: reductions over arrays (a nest of
// `reduce` over every axis reading `index`) and over generators (a nest of
// `reduce`, a later range may use the earlier indices; `mean` divides by the
// count taken over the same ranges), matmul / dot with an assert on the inner
// sizes, transpose, zeros / ones / fill, len / size, the elementwise
// built-ins on arrays (a `map`, see FnLowerer::elementwise) and the random
// numbers (a `map` of rand_uniform / rand_normal at the flat index).
#include <cassert>

#include "frontend/LowerImpl.h"

namespace chain::frontend::lowering {

using ast::ExprKind;
using ir::OpKind;

Value* FnLowerer::reduceArray(Value* a, const std::string& kind, ir::Type t) {
  int r = a->type.rank;
  Value* zero = b_.constI(0);
  std::vector<Value*> dims;
  for (int k = 0; k < r; ++k) dims.push_back(dim(a, k));
  std::vector<Value*> idx;
  std::function<Value*(int)> level = [&](int k) -> Value* {
    ir::Operation* op = b_.create(OpKind::Reduce, {zero, dims[static_cast<size_t>(k)]}, {t}, 1);
    op->s = kind;
    ir::Block* body = op->region(0);
    idx.push_back(body->addArg(ir::Type::i64()));
    ir::Block* outer = b_.block();
    b_.setBlock(body);
    Value* inner;
    if (k + 1 < r) {
      inner = level(k + 1);
    } else {
      std::vector<Value*> operands = {a};
      operands.insert(operands.end(), idx.begin(), idx.end());
      inner = b_.cast(b_.create(OpKind::Index, operands, {ir::Type{a->type.elem, 0}})->result(), t);
    }
    b_.yield({inner});
    b_.setBlock(outer);
    idx.pop_back();
    return op->result();
  };
  return level(0);
}

Value* FnLowerer::reduceGen(const Expr& gen, size_t k, const std::string& kind, ir::Type t,
                            bool count) {
  const ast::RangeClause& rc = gen.ranges[k];
  Value* lo = scalar(*rc.lo);
  Value* hi = scalar(*rc.hi);
  b_.setLoc(rc.loc);
  ir::Operation* op = b_.create(OpKind::Reduce, {lo, hi}, {t}, 1);
  op->s = kind;
  ir::Block* body = op->region(0);
  ir::Block* outer = b_.block();
  b_.setBlock(body);
  scopes_.push_back(std::make_unique<std::map<std::string, Binding>>());
  Binding b;
  b.vals = {body->addArg(ir::Type::i64(), rc.var)};
  bind(rc.var, b);
  Value* inner;
  if (k + 1 < gen.ranges.size()) {
    inner = reduceGen(gen, k + 1, kind, t, count);
  } else if (count) {
    inner = b_.cast(b_.constI(1), t);
  } else {
    inner = scalarAs(*gen.args[0], t);
  }
  b_.setLoc(rc.loc);
  b_.yield({inner});
  scopes_.pop_back();
  b_.setBlock(outer);
  return op->result();
}

// sum prod max min logsumexp mean, over an array or a generator.
Value* FnLowerer::reduction(const Expr& e, const std::string& name) {
  ir::Type t = e.sem.type;
  const Expr& a = *e.args[0];
  std::string kind = name == "mean" ? "sum" : name;
  Value* s;
  Value* count = nullptr;
  if (a.kind == ExprKind::Generator) {
    s = reduceGen(a, 0, kind, t, false);
    if (name == "mean") count = reduceGen(a, 0, "sum", ir::Type::i64(), true);
  } else {
    Value* arr = scalar(a);
    b_.setLoc(e.loc);
    s = reduceArray(arr, kind, t);
    if (name == "mean") {
      count = dim(arr, 0);
      for (int k = 1; k < arr->type.rank; ++k) count = b_.binary(OpKind::Mul, count, dim(arr, k));
    }
  }
  b_.setLoc(e.loc);
  if (count) s = b_.binary(OpKind::Div, s, b_.cast(count, t));
  return s;
}

Value* FnLowerer::matmul(const Expr& e, const Expr& a, const Expr& b, const std::string& what) {
  Value* x = scalar(a);
  Value* y = scalar(b);
  b_.setLoc(e.loc);
  const std::string& da = a.sem.dims.empty() ? "?" : a.sem.dims.back();
  const std::string& db = b.sem.dims.empty() ? "?" : b.sem.dims.front();
  if (da != db || da == "?") {
    Value* n = dim(x, x->type.rank - 1);
    Value* m = dim(y, 0);
    emitAssert(b_.binary(OpKind::Eq, n, m), {n, m}, what + ": inner sizes differ: {} vs {}");
  }
  return b_.create(OpKind::MatMul, {x, y}, {e.sem.type})->result();
}

// dot transpose zeros ones fill len size
std::vector<Value*> FnLowerer::arrayBuiltin(const Expr& e, const std::string& name) {
  ir::Type t = e.sem.type;
  if (name == "dot") return {matmul(e, *e.args[0], *e.args[1], "dot")};
  if (name == "zeros" || name == "ones" || name == "fill") {
    ir::Type elem{t.elem, 0};
    size_t first = name == "fill" ? 1 : 0;
    Value* v;
    if (first) {
      v = scalarAs(*e.args[0], elem);
    } else {
      b_.setLoc(e.loc);
      double x = name == "ones" ? 1.0 : 0.0;
      v = t.isFloat() ? b_.constF(x, elem) : b_.constI(static_cast<int64_t>(x));
    }
    std::vector<Value*> operands = {v};
    for (size_t i = first; i < e.args.size(); ++i) operands.push_back(scalar(*e.args[i]));
    b_.setLoc(e.loc);
    return {b_.create(OpKind::Fill, operands, {t})->result()};
  }
  Value* x = scalar(*e.args[0]);
  b_.setLoc(e.loc);
  if (name == "transpose") return {b_.create(OpKind::Transpose, {x}, {t})->result()};
  if (name == "len") return {dim(x, 0)};
  assert(name == "size");
  return {dim(x, e.args[1]->ival)};
}

// exp(x), pow(a, b), f64(x), ... with an array argument: a map.
Value* FnLowerer::elementwiseBuiltin(const Expr& e, const std::string& name) {
  ir::Type t{e.sem.type.elem, 0};
  std::vector<Operand> ops;
  for (const auto& a : e.args) ops.push_back(operand(*a));
  OpKind k;
  if (mathOp(name, k)) {
    return elementwise(ops, "'" + name + "'", e.loc, [&](const std::vector<Value*>& s) {
      return b_.unary(k, b_.cast(s[0], t));
    });
  }
  if (name == "f64" || name == "f32" || name == "i64") {
    return elementwise(ops, "'" + name + "'", e.loc,
                       [&](const std::vector<Value*>& s) { return b_.cast(s[0], t); });
  }
  k = name == "pow" ? OpKind::Pow : name == "min" ? OpKind::Min
      : name == "max" ? OpKind::Max : OpKind::Atan2;
  return elementwise(ops, "'" + name + "'", e.loc, [&](const std::vector<Value*>& s) {
    return b_.binary(k, b_.cast(s[0], t), b_.cast(s[1], t));
  });
}

// uniform(key, n0, ..) / normal(key, n0, ..): a map over the sizes whose
// element (i0, ..) is rand_uniform / rand_normal of the key and the flat
// C-order index (..(i0 n1 + i1) n2 + ..); mix(key, i) is one rand_mix. A
// negative size is a runtime error, which the map reports when it runs; an
// assert says it too, since fusion may replace the map by its body (sum of
// uniform(k, n) is a reduce over 0..n).
Value* FnLowerer::randomBuiltin(const Expr& e, const std::string& name) {
  Value* key = scalar(*e.args[0]);
  if (name == "mix") {
    Value* i = scalar(*e.args[1]);
    b_.setLoc(e.loc);
    return b_.create(OpKind::RandMix, {key, i}, {ir::Type::i64()})->result();
  }
  std::vector<Value*> sizes;
  for (size_t k = 1; k < e.args.size(); ++k) sizes.push_back(scalar(*e.args[k]));
  b_.setLoc(e.loc);
  for (Value* n : sizes) {
    bool constant = n->def && n->def->kind == OpKind::ConstI;
    if (!constant || n->def->i < 0)
      emitAssert(b_.binary(OpKind::Ge, n, b_.constI(0)), {n}, "array size {} is negative");
  }
  ir::Type t = e.sem.type;
  ir::Operation* map = b_.create(OpKind::Map, sizes, {t}, 1);
  ir::Block* body = map->region(0);
  ir::Block* outer = b_.block();
  b_.setBlock(body);
  Value* flat = nullptr;
  for (Value* n : sizes) {
    Value* i = body->addArg(ir::Type::i64());
    flat = flat ? b_.binary(OpKind::Add, b_.binary(OpKind::Mul, flat, n), i) : i;
  }
  OpKind kind = name == "uniform" ? OpKind::RandUniform : OpKind::RandNormal;
  b_.yield({b_.create(kind, {key, flat}, {ir::Type{t.elem, 0}})->result()});
  b_.setBlock(outer);
  return map->result();
}

}  // namespace chain::frontend::lowering
