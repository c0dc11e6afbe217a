// Derived functions built from the AD passes (see DerivedFunctions.h).
//
// jacobianByForward writes the tangent of a forward sweep seeded with the
// unit tangent e_j into the j-th "column" of the Jacobian (all result axes,
// the parameter's multi-index j); one direction per sweep, it reads:
//
//   y... = call f(x...)
//   J = for j in 0..numel(p), J0 = fill(0, dims(y_r) ++ dims(p)) {
//         e = update(fill(0, dims(p)), 1, unravel(j))
//         t = call f.jvp.p(x..., e)[tangent of y_r]
//         yield update(J, t, [:, ..., :, unravel(j)])
//       }
//
// A scalar parameter needs one sweep with tangent 1 and no loop. The
// pipeline uses it for hessian (over a gradient: forward over reverse), and
// for the gradient of a function that still contains tape ops (a gradient
// without a reverse rule inside it).
//
// Vector mode: the sweeps are batched, kLanes directions per sweep
// (forwardAD with lanes = kLanes, one primal for all of them; ForwardAD.cpp's
// design), so the loop runs ceil(numel(p) / kLanes) times:
//
//   J = for c in 0..ceil(n / B), J0 {
//         j_k = min(c B + k, n - 1)                      (k = 0..B-1)
//         e_k = update(fill(0, dims(p)), 1, unravel(j_k))
//         t_0..t_{B-1} = call f.jvp.p.B(x..., e_0, ..., e_{B-1})[tangents of y_r]
//         yield update(...update(J, t_0, [:, ..., unravel(j_0)])..., t_{B-1}, ...)
//       }
//
// The last batch's spare lanes repeat the direction e_{n-1}: they compute
// column n - 1 again, bit for bit the same, and write it again, so there is
// no guard and no partial batch. A gradient with tape ops (hessian) shares
// the whole forward and reverse sweep of f across the B directions, which a
// loop of single sweeps cannot (tape ops never leave a loop); a tape-free f
// shares what Hoist already moved out of the loop, and the rest of its
// primal (in loops) too. What stays per direction: map and reduce regions
// that are recomputed for their tangents.
//
// jacobianBySize builds the jacobian level: rows instead of columns when the
// result has fewer elements than the parameter, one reverse sweep (a vjp
// seeded with the unit cotangent e_i) per element i of the result:
//
//   J = if numel(y) < numel(p) {
//         for i in 0..numel(y), J0 { yield update(J, vjp(x..., e_i), [unravel(i), :, ..., :]) }
//       } else { the loop above }
#include "passes/DerivedFunctions.h"

#include <stdexcept>

#include "passes/Derivatives.h"
#include "passes/ForwardAD.h"
#include "passes/ReverseAD.h"

namespace chain::passes {

using ir::Builder;
using ir::Function;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

// Directions per forward sweep of a Jacobian by columns (vector mode).
constexpr int kLanes = 4;

std::vector<Value*> callOf(Builder& b, const Function& callee, std::vector<Value*> args) {
  Operation* c = b.create(OpKind::Call, std::move(args), callee.resultTypes);
  c->s = callee.name;
  std::vector<Value*> out;
  for (auto& r : c->results) out.push_back(r.get());
  return out;
}

// The multi-index of flat C-order index j in an array of sizes `dims`.
std::vector<Value*> unravel(Builder& b, Value* j, const std::vector<Value*>& dims) {
  std::vector<Value*> idx(dims.size());
  for (size_t k = dims.size(); k-- > 0;) {
    if (k == 0) {
      idx[k] = j;
      break;
    }
    idx[k] = b.binary(OpKind::Rem, j, dims[k]);
    j = b.binary(OpKind::Div, j, dims[k]);
  }
  return idx;
}

// update(a, v, sel) with `wholeAxes` whole axes and one index per entry of
// idx: the whole axes first (a column), or last when `rows` (a row).
Value* updateAt(Builder& b, Value* a, Value* v, int wholeAxes, const std::vector<Value*>& idx, bool rows = false) {
  std::vector<Value*> operands{a, v};
  operands.insert(operands.end(), idx.begin(), idx.end());
  Operation* u = b.create(OpKind::Update, operands, {a->type});
  u->ints.assign(idx.size(), 0);
  u->ints.insert(rows ? u->ints.end() : u->ints.begin(), size_t(wholeAxes), 2);
  return u->result();
}

Value* numelOf(Builder& b, const std::vector<Value*>& dims) {
  Value* n = dims[0];
  for (size_t k = 1; k < dims.size(); ++k) n = b.binary(OpKind::Mul, n, dims[k]);
  return n;
}

Value* fillOf(Builder& b, Value* v, const std::vector<Value*>& dims) {
  std::vector<Value*> operands{v};
  operands.insert(operands.end(), dims.begin(), dims.end());
  return b.create(OpKind::Fill, operands, {Type{v->type.elem, int(dims.size())}})->result();
}

// The vector-mode column loop (see the top): J0 filled with `lanes` columns
// per sweep of D, lane l's tangent at result k + l * stride; sdims: x's
// sizes, elem: x's element type.
Value* batchedColumns(Builder& b, const Function& D, size_t k, size_t stride, int lanes,
                      const std::vector<Value*>& args, const std::vector<Value*>& sdims, Type elem, Value* j0,
                      int yRank) {
  Value* n = numelOf(b, sdims);
  Value* width = b.constI(lanes);
  Value* last = b.binary(OpKind::Sub, n, b.constI(1));
  Value* batches = b.binary(OpKind::Div, b.binary(OpKind::Add, n, b.binary(OpKind::Sub, width, b.constI(1))), width);
  Operation* loop = b.create(OpKind::For, {b.constI(0), batches, j0}, {j0->type}, 1);
  Value* c = loop->region(0)->addArg(Type::i64(), "c");
  Value* acc = loop->region(0)->addArg(j0->type, "J");
  Builder rb(loop->region(0));
  rb.setLoc(b.loc());
  std::vector<Value*> a = args;
  std::vector<std::vector<Value*>> idx;
  for (int l = 0; l < lanes; ++l) {
    Value* j = rb.binary(OpKind::Add, rb.binary(OpKind::Mul, c, width), rb.constI(l));
    j = rb.select(rb.binary(OpKind::Lt, j, last), j, last);  // spare lanes repeat e_{n-1}
    idx.push_back(unravel(rb, j, sdims));
    a.push_back(updateAt(rb, fillOf(rb, rb.constF(0.0, elem), sdims), rb.constF(1.0, elem), 0, idx.back()));
  }
  std::vector<Value*> ts = callOf(rb, D, a);
  for (int l = 0; l < lanes; ++l) acc = updateAt(rb, acc, ts[k + size_t(l) * stride], yRank, idx[size_t(l)]);
  rb.yield({acc});
  return loop->result();
}

// The Jacobian of y with respect to parameter x (arg; J's axes: y's, then
// x's) from sweeps of D(args..., seed), result k of each: one sweep per
// element j of `x` seeded with the unit tangent e_j, written as column j (D
// a tangent function), or with `rows` one per element i of y seeded with
// the unit cotangent e_i, written as row i (D a vjp function). With
// lanes > 1 (columns only), D takes `lanes` seeds and returns lane l's
// tangent at result k + l * stride (vector mode, above).
Value* jacobianBySweeps(Builder& b, const Function& D, size_t k, const std::vector<Value*>& args, Value* x,
                        Value* y, bool rows, int lanes = 1, size_t stride = 0) {
  Value* seeded = rows ? y : x;
  Value* one = b.constF(1.0, Type{seeded->type.elem, 0});
  auto sweep = [&](Builder& rb, Value* seed) {
    std::vector<Value*> a = args;
    a.push_back(seed);
    return callOf(rb, D, a)[k];
  };
  if (seeded->type.rank == 0) return sweep(b, one);
  std::vector<Value*> sdims = dimsOf(b, seeded);
  std::vector<Value*> jdims = y->type.rank ? dimsOf(b, y) : std::vector<Value*>{};
  if (x->type.rank)
    for (Value* d : dimsOf(b, x)) jdims.push_back(d);
  Value* j0 = fillOf(b, b.constF(0.0, Type{y->type.elem, 0}), jdims);
  if (lanes > 1) return batchedColumns(b, D, k, stride, lanes, args, sdims, one->type, j0, y->type.rank);
  Operation* loop = b.create(OpKind::For, {b.constI(0), numelOf(b, sdims), j0}, {j0->type}, 1);
  Value* j = loop->region(0)->addArg(Type::i64(), "j");
  Value* acc = loop->region(0)->addArg(j0->type, "J");
  Builder rb(loop->region(0));
  rb.setLoc(b.loc());
  std::vector<Value*> idx = unravel(rb, j, sdims);
  Value* e = updateAt(rb, fillOf(rb, rb.constF(0.0, one->type), sdims), one, 0, idx);
  rb.yield({updateAt(rb, acc, sweep(rb, e), (rows ? x : y)->type.rank, idx, rows)});
  return loop->result();
}

std::unique_ptr<Function> signatureOf(const Function& f, const std::string& name) {
  auto g = std::make_unique<Function>();
  g->name = name;
  g->loc = f.loc;
  g->paramNames = f.paramNames;
  for (size_t i = 0; i < f.numParams(); ++i) g->body.addArg(f.param(i)->type, f.param(i)->name);
  return g;
}

// A function `name` with f's parameters whose body starts with
// ys = call f(args...) (f added to `work`); finish() returns `out`.
struct Caller {
  std::unique_ptr<Function> g;
  std::vector<Value*> args, ys;
  std::unique_ptr<Function> finish(Builder& b, const std::vector<Value*>& out) {
    for (Value* v : out) g->resultTypes.push_back(v->type);
    b.ret(out);
    return std::move(g);
  }
};

Caller callerOf(ir::Module& work, const Function& f, const std::string& name) {
  if (!work.lookup(f.name)) work.add(ir::cloneFunction(f));
  Caller c{signatureOf(f, name), {}, {}};
  Builder b(&c.g->body);
  b.setLoc(f.loc);
  for (auto& a : c.g->body.args) c.args.push_back(a.get());
  c.ys = callOf(b, f, c.args);
  return c;
}

// forwardAD(f, {p}, lanes) under the name f.jvp.p (.Llanes when lanes > 1),
// added to `work` once.
const Function& tangentOf(ir::Module& work, const Function& f, int p, int lanes = 1) {
  std::string tname = f.name + ".jvp." + std::to_string(p) + (lanes > 1 ? ".L" + std::to_string(lanes) : "");
  const Function* T = work.lookup(tname);
  return T ? *T : *work.add(forwardAD(f, {p}, tname, lanes));
}

// The number of float results of f (the tangents of one lane).
size_t floatResults(const Function& f) {
  size_t n = 0;
  for (const Type& t : f.resultTypes) n += t.isFloat();
  return n;
}

// The lanes of the column sweeps over parameter p: one for a scalar p.
int lanesFor(const Function& f, int p) { return f.param(p)->type.rank == 0 ? 1 : kLanes; }

// sum over every element of a * b (same shapes; scalars: a * b).
Value* innerProduct(Builder& b, Value* x, Value* y, std::vector<Value*> idx = {}) {
  if (int(idx.size()) == x->type.rank) {
    if (idx.empty()) return b.binary(OpKind::Mul, x, y);
    auto at = [&](Value* a) {
      std::vector<Value*> ops{a};
      ops.insert(ops.end(), idx.begin(), idx.end());
      return b.create(OpKind::Index, ops, {Type{a->type.elem, 0}})->result();
    };
    return b.binary(OpKind::Mul, at(x), at(y));
  }
  Operation* d = b.create(OpKind::Dim, {x}, {Type::i64()});
  d->i = int64_t(idx.size());
  Operation* r = b.create(OpKind::Reduce, {b.constI(0), d->result()}, {Type{x->type.elem, 0}}, 1);
  r->s = "sum";
  idx.push_back(r->region(0)->addArg(Type::i64(), "i"));
  Builder rb(r->region(0));
  rb.setLoc(b.loc());
  rb.yield({innerProduct(rb, x, y, idx)});
  return r->result();
}

}  // namespace

std::unique_ptr<Function> jacobianByForward(ir::Module& work, const Function& f, const std::vector<int>& wrt,
                                            int result, bool keepResults, const std::string& name) {
  Caller c = callerOf(work, f, name);
  Builder b(&c.g->body);
  b.setLoc(f.loc);
  size_t tangentIndex = f.resultTypes.size();
  for (int k = 0; k < result; ++k) tangentIndex += f.resultTypes[k].isFloat();
  std::vector<Value*> out;
  if (keepResults) out = c.ys;
  for (int p : wrt) {
    int lanes = lanesFor(f, p);
    out.push_back(jacobianBySweeps(b, tangentOf(work, f, p, lanes), tangentIndex, c.args, c.args[p], c.ys[result],
                                   false, lanes, floatResults(f)));
  }
  return c.finish(b, out);
}

std::unique_ptr<Function> jacobianBySize(ir::Module& work, const Function& f, int p, bool keepResults,
                                         const std::string& name) {
  if (ir::containsTapeOps(f.body) || f.param(p)->type.rank == 0)
    return jacobianByForward(work, f, {p}, 0, keepResults, name);
  std::string vname = f.name + ".vjp." + std::to_string(p);
  const Function* V = work.lookup(vname);
  if (!V) V = work.add(reverseAD(*vjpObjective(f, vname + ".obj"), {p}, false, vname));
  Caller c = callerOf(work, f, name);
  Builder b(&c.g->body);
  b.setLoc(f.loc);
  const std::vector<Value*>& args = c.args;
  const std::vector<Value*>& ys = c.ys;
  Value* x = args[size_t(p)];
  Value* y = ys[0];
  Value* J;
  if (y->type.rank == 0) {
    J = jacobianBySweeps(b, *V, 0, args, x, y, true);
  } else {
    // numel(y) < numel(x): one reverse sweep per element of y, else one
    // forward sweep per element of x.
    Value* fewerRows = b.binary(OpKind::Lt, numelOf(b, dimsOf(b, y)), numelOf(b, dimsOf(b, x)));
    Type jt{y->type.elem, y->type.rank + x->type.rank};
    Operation* choice = b.create(OpKind::If, {fewerRows}, {jt}, 2);
    Builder rows(choice->region(0)), columns(choice->region(1));
    rows.setLoc(f.loc);
    columns.setLoc(f.loc);
    rows.yield({jacobianBySweeps(rows, *V, 0, args, x, y, true)});
    columns.yield({jacobianBySweeps(columns, tangentOf(work, f, p, kLanes), f.resultTypes.size(), args, x, y, false,
                                    kLanes, floatResults(f))});
    J = choice->result();
  }
  std::vector<Value*> out;
  if (keepResults) out = ys;
  out.push_back(J);
  return c.finish(b, out);
}

std::unique_ptr<Function> vjpObjective(const Function& f, const std::string& name) {
  auto g = ir::cloneFunction(f, name);
  std::vector<Value*> ys = g->body.terminator()->operands;
  g->body.ops.pop_back();
  Builder b(&g->body);
  b.setLoc(f.loc);
  Value* total = nullptr;
  for (size_t k = 0; k < ys.size(); ++k) {
    std::string dname = ys.size() == 1 ? "dy" : "dy" + std::to_string(k);
    Value* dy = g->body.addArg(ys[k]->type, dname);
    g->paramNames.push_back(dname);
    Value* term = innerProduct(b, ys[k], dy);
    total = total ? b.binary(OpKind::Add, total, term) : term;
  }
  if (!total) throw std::logic_error("internal error: vjp of a function without results");
  g->resultTypes = {total->type};
  b.ret({total});
  return g;
}

std::unique_ptr<Function> selectResults(const Function& f, const std::vector<int>& keep, const std::string& name) {
  auto g = ir::cloneFunction(f, name);
  Operation* ret = g->body.terminator();
  std::vector<Value*> kept;
  std::vector<Type> types;
  for (int k : keep) {
    kept.push_back(ret->operands[k]);
    types.push_back(f.resultTypes[k]);
  }
  ret->operands = kept;
  g->resultTypes = types;
  return g;
}

}  // namespace chain::passes
