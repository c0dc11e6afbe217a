// Lowering arrays to IR, the core: size names (dims of the parameters, with
// asserts where a size name is reused or a literal is declared), elementwise
// operations with NumPy broadcasting as a `map` whose body indexes the
// operands, indexing and slicing, array literals (`build`), comprehensions
// (`map` over the ranges) and element assignments (`update`). The symbolic
// sizes of the checker (SemType::dims) decide where indexing can be direct
// and where a size must be checked at run time.
#include <algorithm>
#include <cassert>

#include "frontend/LowerImpl.h"

namespace chain::frontend::lowering {

using ast::ExprKind;
using ir::OpKind;

namespace {

bool isLit(const std::string& d) {
  if (d.empty()) return false;
  for (char c : d)
    if (c < '0' || c > '9') return false;
  return true;
}

const std::string& symAt(const Operand& o, int axis) {
  static const std::string unknown = "?";
  size_t u = static_cast<size_t>(axis);
  return u < o.dims.size() ? o.dims[u] : unknown;
}

Value* dimOp(ir::Builder& b, Value* a, int64_t axis) {
  ir::Operation* op = b.create(OpKind::Dim, {a}, {ir::Type::i64()});
  op->i = axis;
  return op->result();
}

// How an operand axis is indexed in an elementwise map: 0 directly, 1 at 0
// (statically 1), 2 select(isOne, 0, i) (may be 1 at run time).
struct AxisMode {
  int kind = 0;
  Value* isOne = nullptr;
};

// Output axis k of a broadcast of `ops` (rank r): returns its extent and sets
// the operands' modes. Sizes equal by name are used directly; otherwise the
// extent is folded with select(ext == 1, d, ext) after an assert that the two
// sizes agree or one is 1.
Value* planAxis(ir::Builder& b, const std::vector<Operand>& ops, int r, int k,
                std::vector<std::vector<AxisMode>>& modes, Value* one, const std::string& what) {
  std::vector<std::pair<size_t, int>> live;  // (operand, its axis) not statically 1
  for (size_t i = 0; i < ops.size(); ++i) {
    int ax = k - (r - ops[i].v->type.rank);
    if (ax < 0) continue;
    if (symAt(ops[i], ax) == "1")
      modes[i][static_cast<size_t>(ax)].kind = 1;
    else
      live.push_back({i, ax});
  }
  if (live.empty()) return one;
  const std::string& s0 = symAt(ops[live[0].first], live[0].second);
  bool same = s0 != "?";
  for (auto [i, ax] : live) same = same && symAt(ops[i], ax) == s0;
  Value* ext = dimOp(b, ops[live[0].first].v, live[0].second);
  if (same || live.size() == 1) return ext;
  for (size_t j = 1; j < live.size(); ++j) {
    Value* d = dimOp(b, ops[live[j].first].v, live[j].second);
    Value* extOne = b.binary(OpKind::Eq, ext, one);
    Value* ok = b.binary(OpKind::Or, b.binary(OpKind::Eq, ext, d),
                         b.binary(OpKind::Or, extOne, b.binary(OpKind::Eq, d, one)));
    b.create(OpKind::Assert, {ok, ext, d}, {})->s =
        what + ": cannot broadcast sizes {} and {} in axis " + std::to_string(k);
    ext = b.select(extOne, d, ext);
  }
  for (auto [i, ax] : live) {
    if (isLit(symAt(ops[i], ax))) continue;  // a literal other than 1: must equal ext
    AxisMode& m = modes[i][static_cast<size_t>(ax)];
    m.kind = 2;
    m.isOne = b.binary(OpKind::Eq, dimOp(b, ops[i].v, ax), one);
  }
  return ext;
}

}  // namespace

Value* FnLowerer::dim(Value* a, int64_t axis) { return dimOp(b_, a, axis); }

void FnLowerer::emitAssert(Value* cond, std::vector<Value*> vals, const std::string& message) {
  vals.insert(vals.begin(), cond);
  b_.create(OpKind::Assert, vals, {})->s = message;
}

Value* FnLowerer::castValue(Value* v, ir::Type t) {
  if (v->type == t) return v;
  if (v->type.rank == 0) return b_.cast(v, t);
  assert(v->type.rank == t.rank && "casting an array to another rank");
  ir::Type elem{t.elem, 0};
  return elementwise({{v, {}}}, "cast", b_.loc(),
                     [&](const std::vector<Value*>& s) { return b_.cast(s[0], elem); });
}

Operand FnLowerer::operand(const Expr& e) {
  Operand o;
  o.v = scalar(e);
  o.dims = e.sem.dims;
  return o;
}

Value* FnLowerer::elementwise(const std::vector<Operand>& ops, const std::string& what,
                              ast::SrcLoc loc,
                              const std::function<Value*(const std::vector<Value*>&)>& fn) {
  b_.setLoc(loc);
  int r = 0;
  for (const Operand& o : ops) r = std::max(r, o.v->type.rank);
  assert(r > 0 && "elementwise on scalars");
  std::vector<std::vector<AxisMode>> modes(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) modes[i].resize(static_cast<size_t>(ops[i].v->type.rank));
  Value* zero = b_.constI(0);
  Value* one = b_.constI(1);
  std::vector<Value*> extents;
  for (int k = 0; k < r; ++k) extents.push_back(planAxis(b_, ops, r, k, modes, one, what));
  ir::Operation* map = b_.create(OpKind::Map, extents, {ir::Type{ir::Scalar::F64, r}}, 1);
  ir::Block* body = map->region(0);
  std::vector<Value*> idx;
  for (int k = 0; k < r; ++k) idx.push_back(body->addArg(ir::Type::i64()));
  ir::Block* outer = b_.block();
  b_.setBlock(body);
  std::vector<Value*> elems;
  for (size_t i = 0; i < ops.size(); ++i) {
    Value* v = ops[i].v;
    int rank = v->type.rank;
    if (rank == 0) {
      elems.push_back(v);
      continue;
    }
    std::vector<Value*> operands = {v};
    for (int ax = 0; ax < rank; ++ax) {
      Value* at = idx[static_cast<size_t>(ax + r - rank)];
      const AxisMode& m = modes[i][static_cast<size_t>(ax)];
      operands.push_back(m.kind == 0 ? at : m.kind == 1 ? zero : b_.select(m.isOne, zero, at));
    }
    elems.push_back(b_.create(OpKind::Index, operands, {ir::Type{v->type.elem, 0}})->result());
  }
  Value* res = fn(elems);
  b_.yield({res});
  b_.setBlock(outer);
  map->result()->type = ir::Type{res->type.elem, r};
  return map->result();
}

Selection FnLowerer::selection(const Expr& e, Value* base) {
  Selection sel;
  int rank = base->type.rank;
  for (int k = 0; k < rank; ++k) {
    size_t u = static_cast<size_t>(k);
    const Expr* ix = u < e.indices.size() ? e.indices[u].get() : nullptr;
    if (ix && ix->kind == ExprKind::Range) {
      Value* lo = scalar(*ix->args[0]);
      Value* hi = scalar(*ix->args[1]);
      b_.setLoc(ix->loc);
      sel.kinds.push_back(1);
      sel.operands.push_back(lo);
      sel.operands.push_back(hi);
      sel.extents.push_back(b_.binary(OpKind::Sub, hi, lo));
    } else if (ix && ix->kind != ExprKind::Colon) {
      sel.kinds.push_back(0);
      sel.operands.push_back(scalar(*ix));
    } else {
      sel.kinds.push_back(2);
      b_.setLoc(e.loc);
      sel.extents.push_back(dim(base, k));
    }
  }
  return sel;
}

// A[i, j] -> index; A[i], A[:, j], x[a..b] -> slice.
Value* FnLowerer::indexExpr(const Expr& e) {
  Value* base = scalar(*e.args[0]);
  Selection sel = selection(e, base);
  b_.setLoc(e.loc);
  std::vector<Value*> operands = {base};
  operands.insert(operands.end(), sel.operands.begin(), sel.operands.end());
  if (sel.scalar())
    return b_.create(OpKind::Index, operands, {ir::Type{base->type.elem, 0}})->result();
  ir::Operation* op = b_.create(OpKind::Slice, operands, {e.sem.type});
  op->ints = sel.kinds;
  return op->result();
}

// [e0, e1, ...] -> build (elements converted to one type); [] -> an empty fill.
Value* FnLowerer::arrayLit(const Expr& e) {
  ir::Type t = e.sem.type;
  ir::Type elemT{t.elem, t.rank - 1};
  if (e.args.empty()) {
    b_.setLoc(e.loc);
    Value* v = t.isFloat() ? b_.constF(0.0, {t.elem, 0}) : b_.cast(b_.constI(0), {t.elem, 0});
    std::vector<Value*> operands = {v};
    for (int k = 0; k < t.rank; ++k) operands.push_back(b_.constI(0));
    return b_.create(OpKind::Fill, operands, {t})->result();
  }
  std::vector<Value*> vals;
  for (const auto& a : e.args) {
    Value* v = scalar(*a);
    b_.setLoc(a->loc);
    vals.push_back(castValue(v, elemT));
  }
  b_.setLoc(e.loc);
  return b_.create(OpKind::Build, vals, {t})->result();
}

// [e for i in a..b, j in c..d] -> map (max(b - a, 0), max(d - c, 0)) ^(u, v) with
// i = a + u, j = c + v. An array element e of sizes (p, q) -> a map over
// (.., p, q) whose body indexes e at the inner indices (fusion removes e).
Value* FnLowerer::comprehension(const Expr& e) {
  std::vector<Value*> los, extents;
  for (const ast::RangeClause& rc : e.ranges) {
    Value* lo = scalar(*rc.lo);
    Value* hi = scalar(*rc.hi);
    b_.setLoc(rc.loc);
    Value* n = b_.binary(OpKind::Sub, hi, lo);
    extents.push_back(b_.binary(OpKind::Max, n, b_.constI(0)));
    los.push_back(lo);
  }
  // An array element: its sizes (size names or literals) are the inner extents.
  size_t outerRank = e.ranges.size();
  b_.setLoc(e.loc);
  for (size_t k = outerRank; k < e.sem.dims.size(); ++k) extents.push_back(sizeValue(e.sem.dims[k]));
  ir::Operation* map = b_.create(OpKind::Map, extents, {e.sem.type}, 1);
  ir::Block* body = map->region(0);
  ir::Block* outer = b_.block();
  b_.setBlock(body);
  scopes_.push_back(std::make_unique<std::map<std::string, Binding>>());
  for (size_t k = 0; k < e.ranges.size(); ++k) {
    const ast::RangeClause& rc = e.ranges[k];
    Value* arg = body->addArg(ir::Type::i64(), rc.var);
    bool zeroLo = rc.lo->kind == ExprKind::IntLit && rc.lo->ival == 0;
    b_.setLoc(rc.loc);
    Binding b;
    b.vals = {zeroLo ? arg : b_.binary(OpKind::Add, los[k], arg)};
    bind(rc.var, b);
  }
  std::vector<Value*> inner;
  for (size_t k = outerRank; k < e.sem.dims.size(); ++k) inner.push_back(body->addArg(ir::Type::i64()));
  const Expr& elem = *e.args[0];
  Value* v = scalarAs(elem, ir::Type{e.sem.type.elem, elem.sem.type.rank});
  b_.setLoc(e.loc);
  if (!inner.empty()) {
    std::vector<Value*> operands = {v};
    operands.insert(operands.end(), inner.begin(), inner.end());
    v = b_.create(OpKind::Index, operands, {ir::Type{e.sem.type.elem, 0}})->result();
  }
  b_.yield({v});
  scopes_.pop_back();
  b_.setBlock(outer);
  return map->result();
}

// x[i, j] = e | x[i] op= e | S[i] = row | x[a..b] = v: update of the var's
// current value; an array value must have the selection's shape (asserted
// where not known), a scalar value fills an array selection.
void FnLowerer::elementAssign(const ast::Stmt& s) {
  const Expr& target = *s.target;
  const std::string& name = target.args[0]->text;
  Binding* b = lookup(name);
  assert(b && !b->isFn && b->vals.size() == 1);
  Value* cur = b->vals[0];
  Selection sel = selection(target, cur);
  ir::Type selT = target.sem.type;
  Operand rhs = operand(*s.value);
  Value* v = rhs.v;
  b_.setLoc(s.loc);
  if (s.op != "=") {
    std::vector<Value*> operands = {cur};
    operands.insert(operands.end(), sel.operands.begin(), sel.operands.end());
    Value* old;
    if (sel.scalar()) {
      old = b_.create(OpKind::Index, operands, {selT})->result();
    } else {
      ir::Operation* op = b_.create(OpKind::Slice, operands, {selT});
      op->ints = sel.kinds;
      old = op->result();
    }
    OpKind k = s.op == "+=" ? OpKind::Add : s.op == "-=" ? OpKind::Sub
               : s.op == "*=" ? OpKind::Mul : OpKind::Div;
    ir::Type t{selT.elem, 0};
    if (!selT.isFloat() && rhs.v->type.isFloat()) t = ir::Type{rhs.v->type.elem, 0};
    auto apply = [&](const std::vector<Value*>& x) {
      return b_.binary(k, b_.cast(x[0], t), b_.cast(x[1], t));
    };
    if (sel.scalar())
      v = apply({old, v});
    else
      v = elementwise({{old, target.sem.dims}, rhs}, "operator '" + s.op + "'", s.loc, apply);
    b_.setLoc(s.loc);
  }
  v = castValue(v, ir::Type{selT.elem, v->type.rank});
  if (!sel.scalar()) {
    if (v->type.rank == 0) {
      std::vector<Value*> operands = {v};
      operands.insert(operands.end(), sel.extents.begin(), sel.extents.end());
      v = b_.create(OpKind::Fill, operands, {selT})->result();
    } else {
      std::vector<std::string> have = s.op == "=" ? s.value->sem.dims : std::vector<std::string>{};
      for (size_t k = 0; k < sel.extents.size(); ++k) {
        const std::string& want = k < target.sem.dims.size() ? target.sem.dims[k] : "?";
        if (k < have.size() && have[k] == want && want != "?") continue;
        Value* d = dim(v, static_cast<int64_t>(k));
        emitAssert(b_.binary(OpKind::Eq, d, sel.extents[k]), {d, sel.extents[k]},
                   "shape mismatch: the value assigned to '" + name + "[...]' has size {} in axis " +
                       std::to_string(k) + " but the selection has {}");
      }
    }
  }
  std::vector<Value*> operands = {cur, v};
  operands.insert(operands.end(), sel.operands.begin(), sel.operands.end());
  ir::Operation* op = b_.create(OpKind::Update, operands, {cur->type});
  op->ints = sel.kinds;
  b->vals[0] = op->result();
}

Value* FnLowerer::sizeValue(const std::string& d) {
  if (isLit(d)) return b_.constI(std::stoll(d));
  auto it = sizes_.find(d);
  assert(it != sizes_.end() && "size name not bound by the parameters");
  return it->second;
}

void FnLowerer::bindSizes() {
  for (size_t p = 0; p < decl_.params.size(); ++p)
    if (f_.param(p)->type == ir::Type::i64()) sizes_[decl_.params[p].name] = f_.param(p);
  for (size_t p = 0; p < decl_.params.size(); ++p) {
    const ast::Param& param = decl_.params[p];
    Value* a = f_.param(p);
    b_.setLoc(param.loc);
    for (size_t k = 0; k < param.type.dims.size(); ++k) {
      const std::string& d = param.type.dims[k];
      std::string prefix = "shape mismatch: '" + param.name + "' axis " + std::to_string(k) +
                           " has size {} but ";
      Value* n = dim(a, static_cast<int64_t>(k));
      if (isLit(d)) {
        emitAssert(b_.binary(OpKind::Eq, n, sizeValue(d)), {n}, prefix + "the type requires " + d);
      } else if (auto it = sizes_.find(d); it != sizes_.end()) {
        emitAssert(b_.binary(OpKind::Eq, n, it->second), {n, it->second}, prefix + d + " = {}");
      } else {
        sizes_[d] = n;
        n->name = d;
        Binding b;
        b.vals = {n};
        bind(d, b);
      }
    }
  }
}

void FnLowerer::checkShape(const std::vector<Value*>& vals, const SemType& have,
                           const SemType& want, const std::string& what) {
  std::vector<std::vector<std::string>> hd, wd;
  flatDims(have, hd);
  flatDims(want, wd);
  if (hd.size() != vals.size() || wd.size() != vals.size()) return;
  for (size_t i = 0; i < vals.size(); ++i) {
    for (size_t k = 0; k < wd[i].size(); ++k) {
      const std::string& w = wd[i][k];
      if (k < hd[i].size() && hd[i][k] == w) continue;
      Value* n = dim(vals[i], static_cast<int64_t>(k));
      std::string msg = "shape mismatch: " + what + " axis " + std::to_string(k) + " has size {} but ";
      if (isLit(w))
        emitAssert(b_.binary(OpKind::Eq, n, sizeValue(w)), {n}, msg + "the type requires " + w);
      else
        emitAssert(b_.binary(OpKind::Eq, n, sizeValue(w)), {n, sizeValue(w)}, msg + w + " = {}");
    }
  }
}

}  // namespace chain::frontend::lowering
