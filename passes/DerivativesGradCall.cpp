// The reverse-mode rule of a `grad_call` whose derivative has a symmetric
// adjoint (a gradient, value_and_grad or hvp of a scalar function): reverse
// over a gradient in one forward sweep instead of numel(p) of them.
//
// Let F be the function the call's inner levels make (F = f for
// `grad(f)`), x its arguments and A the indices of its active float
// arguments. The adjoint is itself a derivative of F, emitted as another
// grad_call that the pipeline materialises after reverse AD:
//
//   r = grad(F, wrt=P)(x)       x̄_a = sum_p (d2F / dx_a dx_p) r̄_p    (a in A)
//                               = the tangent of grad(F, wrt=A) along
//                                 (r̄ on each p of P, 0 elsewhere), by the
//                                 symmetry of the Hessian:
//                               grad_call F [.. grad A, jvp P](x, r̄...)
//   (v, r) = value_and_grad     x̄_a += v̄ dF/dx_a: the gradient is the
//                               primal result of the same call; with no r̄,
//                               grad_call F [.. grad A](x) alone
//   r = hvp(F, wrt=p)(x, v)     r_i = sum_j H_ij v_j, so
//                               x̄_a = sum_ij r̄_i v_j d3F/dx_a dx_i dx_j: the
//                               second tangent of grad(F, wrt=A') along v,
//                               then r̄ (third derivatives are symmetric), and
//                               v̄ = H_pp r̄ (H symmetric), the tangent of
//                               grad_p F along r̄. With A' = A + {p}, one
//                               grad_call F [.. grad A', jvp p, jvp p](x, v, r̄)
//                               returns (G, G', Ġ, Ġ') (each |A'| values;
//                               ' along v, ˙ along r̄): x̄_a = Ġ'_a, v̄ = Ġ_p.
//
// Each of these is forward over reverse: a small constant times grad(F).
// The adjoint grad_call carries i = 1: its function runs none of F's prints
// (the primal copy of the call in the forward sweep ran them).
// Other kinds (jvp, vjp, jacobian, hessian) have no such rule: the pipeline
// materialises them before AD (see runtime/Pipeline.cpp).
#include <algorithm>
#include <cassert>

#include "ir/DiffSpec.h"
#include "passes/Derivatives.h"

namespace chain::passes {

using ir::Builder;
using ir::DiffKind;
using ir::DiffLevel;
using ir::Operation;
using ir::OpKind;
using ir::Type;
using ir::Value;

bool gradCallReversible(const std::vector<int64_t>& ints) {
  std::vector<DiffLevel> levels;
  if (!ir::decodeLevels(ints, levels)) return false;
  DiffKind k = levels.back().kind;
  return k == DiffKind::Grad || k == DiffKind::ValueAndGrad || (k == DiffKind::Hvp && levels.back().wrt.size() == 1);
}

namespace {

// grad_call `fn` with `levels`, on `args`, returning `copies` times the types of x[a] for a in A.
std::vector<Value*> derivativeCall(Builder& b, const std::string& fn, const std::vector<DiffLevel>& levels,
                                   const std::vector<Value*>& args, const std::vector<Value*>& x,
                                   const std::vector<int>& A, int copies) {
  std::vector<Type> types;
  for (int c = 0; c < copies; ++c)
    for (int a : A) types.push_back(x[size_t(a)]->type);
  Operation* call = b.create(OpKind::GradCall, args, types);
  call->s = fn;
  call->ints = ir::encodeLevels(levels);
  call->i = 1;  // an adjoint: runs no print (SPEC §4: prints run in primal code only)
  std::vector<Value*> out;
  for (auto& r : call->results) out.push_back(r.get());
  return out;
}

}  // namespace

std::vector<Value*> gradCallAdjoint(Builder& b, const Operation& op, const std::vector<Value*>& x,
                                    const std::vector<Value*>& dys, const std::vector<bool>& active) {
  std::vector<DiffLevel> levels;
  bool ok = ir::decodeLevels(op.ints, levels);
  assert(ok && gradCallReversible(op.ints) && "grad_call without a reverse rule reached reverse AD");
  (void)ok;
  const DiffLevel last = levels.back();
  levels.pop_back();  // the inner levels: F
  std::vector<Value*> dx(x.size(), nullptr);
  const bool hvp = last.kind == DiffKind::Hvp;
  const size_t nParams = hvp ? x.size() - 1 : x.size();  // F's parameters
  std::vector<int> A;
  for (size_t k = 0; k < nParams; ++k)
    if (active[k] && x[k]->type.isFloat()) A.push_back(int(k));

  if (hvp) {
    const int p = last.wrt[0];
    std::vector<int> Ap = A;
    if (std::find(Ap.begin(), Ap.end(), p) == Ap.end()) Ap.insert(std::upper_bound(Ap.begin(), Ap.end(), p), p);
    std::vector<DiffLevel> adj = levels;
    adj.push_back({DiffKind::Grad, Ap});
    adj.push_back({DiffKind::Jvp, {p}});
    adj.push_back({DiffKind::Jvp, {p}});
    std::vector<Value*> args = x;
    args.push_back(dys[0]);
    std::vector<Value*> r = derivativeCall(b, op.s, adj, args, x, Ap, 4);
    const size_t n = Ap.size();
    for (size_t k = 0; k < n; ++k) {
      if (active[size_t(Ap[k])]) dx[size_t(Ap[k])] = r[3 * n + k];
      if (Ap[k] == p && active.back()) dx.back() = r[2 * n + k];
    }
    return dx;
  }
  if (A.empty()) return dx;
  const size_t first = last.kind == DiffKind::ValueAndGrad ? 1 : 0;  // dys[first..]: the gradients'
  Value* vbar = first ? dys[0] : nullptr;
  std::vector<Value*> seeds = x;
  bool anySeed = false;
  for (size_t k = 0; k < last.wrt.size(); ++k) {
    Value* d = dys[first + k];
    anySeed |= d != nullptr;
    seeds.push_back(d ? d : zerosLike(b, x[size_t(last.wrt[k])]));
  }
  std::vector<DiffLevel> adj = levels;
  adj.push_back({DiffKind::Grad, A});
  if (anySeed) adj.push_back({DiffKind::Jvp, last.wrt});
  std::vector<Value*> r = derivativeCall(b, op.s, adj, anySeed ? seeds : x, x, A, anySeed ? 2 : 1);
  for (size_t k = 0; k < A.size(); ++k) {
    Value* c = anySeed ? r[A.size() + k] : nullptr;
    if (vbar) {
      Value* s = scaleLike(b, vbar, r[k]);
      c = c ? addLike(b, c, s) : s;
    }
    dx[size_t(A[k])] = c;
  }
  return dx;
}

}  // namespace chain::passes
