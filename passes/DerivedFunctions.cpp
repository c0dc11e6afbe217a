// Derived functions built from the AD passes (see DerivedFunctions.h).
//
// jacobianByForward runs one forward sweep per element of the parameter,
// seeded with the unit tangent e_j, and writes the tangent into the j-th
// "column" of the Jacobian (all result axes, the parameter's multi-index j):
//
//   y... = call f(x...)
//   J = for j in 0..numel(p), J0 = fill(0, dims(y_r) ++ dims(p)) {
//         e = update(fill(0, dims(p)), 1, unravel(j))
//         t = call f.jvp.p(x..., e)[tangent of y_r]
//         yield update(J, t, [:, ..., :, unravel(j)])
//       }
//
// A scalar parameter needs one sweep with tangent 1 and no loop. The cost is
// numel(p) forward sweeps; the pipeline uses it for jacobian, for hessian
// (over a gradient: forward over reverse), and for the gradient of a function
// that itself contains a gradient (reverse over reverse is not implemented,
// forward over reverse gives the same numbers).
#include "passes/DerivedFunctions.h"

#include <stdexcept>

#include "passes/Derivatives.h"
#include "passes/ForwardAD.h"

namespace chain::passes {

using ir::Builder;
using ir::Function;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

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

// update(a, v, sel) with `wholeAxes` leading whole axes, then one index per entry of idx.
Value* updateAt(Builder& b, Value* a, Value* v, int wholeAxes, const std::vector<Value*>& idx) {
  std::vector<Value*> operands{a, v};
  operands.insert(operands.end(), idx.begin(), idx.end());
  Operation* u = b.create(OpKind::Update, operands, {a->type});
  u->ints.assign(wholeAxes, 2);
  u->ints.insert(u->ints.end(), idx.size(), 0);
  return u->result();
}

Value* fillOf(Builder& b, Value* v, const std::vector<Value*>& dims) {
  std::vector<Value*> operands{v};
  operands.insert(operands.end(), dims.begin(), dims.end());
  return b.create(OpKind::Fill, operands, {Type{v->type.elem, int(dims.size())}})->result();
}

// The Jacobian of y_r with respect to parameter x (arg), from tangent function T.
Value* jacobianOf(Builder& b, const Function& T, const std::vector<Value*>& args, Value* x, Value* yr,
                  size_t tangentIndex) {
  Value* one = b.constF(1.0, Type{x->type.elem, 0});
  auto sweep = [&](Builder& rb, Value* seed) {
    std::vector<Value*> a = args;
    a.push_back(seed);
    return callOf(rb, T, a)[tangentIndex];
  };
  if (x->type.rank == 0) return sweep(b, one);
  std::vector<Value*> pdims = dimsOf(b, x);
  std::vector<Value*> jdims = yr->type.rank ? dimsOf(b, yr) : std::vector<Value*>{};
  Value* n = pdims[0];
  for (size_t k = 1; k < pdims.size(); ++k) n = b.binary(OpKind::Mul, n, pdims[k]);
  jdims.insert(jdims.end(), pdims.begin(), pdims.end());
  Value* j0 = fillOf(b, b.constF(0.0, Type{yr->type.elem, 0}), jdims);
  Operation* loop = b.create(OpKind::For, {b.constI(0), n, j0}, {j0->type}, 1);
  Value* j = loop->region(0)->addArg(Type::i64(), "j");
  Value* acc = loop->region(0)->addArg(j0->type, "J");
  Builder rb(loop->region(0));
  rb.setLoc(b.loc());
  std::vector<Value*> idx = unravel(rb, j, pdims);
  Value* e = updateAt(rb, fillOf(rb, rb.constF(0.0, one->type), pdims), one, 0, idx);
  rb.yield({updateAt(rb, acc, sweep(rb, e), yr->type.rank, idx)});
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
  if (!work.lookup(f.name)) work.add(ir::cloneFunction(f));
  auto g = signatureOf(f, name);
  Builder b(&g->body);
  b.setLoc(f.loc);
  std::vector<Value*> args;
  for (auto& a : g->body.args) args.push_back(a.get());
  std::vector<Value*> ys = callOf(b, f, args);
  size_t tangentIndex = f.resultTypes.size();
  for (int k = 0; k < result; ++k) tangentIndex += f.resultTypes[k].isFloat();
  std::vector<Value*> out;
  if (keepResults) out = ys;
  for (int p : wrt) {
    std::string tname = f.name + ".jvp." + std::to_string(p);
    const Function* T = work.lookup(tname);
    if (!T) T = work.add(forwardAD(f, {p}, tname));
    out.push_back(jacobianOf(b, *T, args, args[p], ys[result], tangentIndex));
  }
  for (Value* v : out) g->resultTypes.push_back(v->type);
  b.ret(out);
  return g;
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
