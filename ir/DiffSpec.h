// Derivative specifications: what a `grad_call` op (and the API's derived
// functions) stands for. A spec is a base function and a list of levels
// applied innermost first: `grad(hvp(f, wrt=x), wrt=y)` is f with levels
// [hvp {x}, grad {y}]. A level's wrt indices name parameters of the function
// it is applied to (the previous level's result).
//
// Signatures (params, results) of one level applied to (P, R):
//   grad           P              -> [P[w] for w in wrt]
//   value_and_grad P              -> [R0, P[w]...]
//   jvp            P ++ [P[w]...] -> R ++ [tangent of each float r in R]
//   vjp            P ++ R         -> [P[w]...]
//   jacobian       P              -> [J]           J: R0's elem, rank R0 + P[p]
//   value_jacobian P              -> [R0, J]
//   hessian        P              -> [H]           H: P[p]'s elem, rank 2 P[p]
//   value_hessian  P              -> [R0, P[p], H] (value, gradient, Hessian)
//   hvp            P ++ [P[p]]    -> [P[p]]
//
// In the IR a grad_call carries its levels in attribute `ints`, each level
// as [kind, number of wrt indices, wrt indices...] (encode/decode below).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace chain::ir {

#define CHAIN_DIFF_KINDS(X) \
  X(Grad, "grad")           \
  X(ValueAndGrad, "vgrad")  \
  X(Jvp, "jvp")             \
  X(Vjp, "vjp")             \
  X(Jacobian, "jac")        \
  X(ValueJacobian, "vjac")  \
  X(Hessian, "hess")        \
  X(ValueHessian, "vhess")  \
  X(Hvp, "hvp")

enum class DiffKind : int64_t {
#define CHAIN_DIFF_ENUM(Name, Text) Name,
  CHAIN_DIFF_KINDS(CHAIN_DIFF_ENUM)
#undef CHAIN_DIFF_ENUM
};

inline const char* diffKindName(DiffKind k) {
  switch (k) {
#define CHAIN_DIFF_NAME(Name, Text) \
  case DiffKind::Name: return Text;
    CHAIN_DIFF_KINDS(CHAIN_DIFF_NAME)
#undef CHAIN_DIFF_NAME
  }
  return "?";
}

struct DiffLevel {
  DiffKind kind = DiffKind::Grad;
  std::vector<int> wrt;
  bool operator==(const DiffLevel& o) const { return kind == o.kind && wrt == o.wrt; }
};

inline std::vector<int64_t> encodeLevels(const std::vector<DiffLevel>& levels) {
  std::vector<int64_t> out;
  for (const DiffLevel& l : levels) {
    out.push_back(int64_t(l.kind));
    out.push_back(int64_t(l.wrt.size()));
    out.insert(out.end(), l.wrt.begin(), l.wrt.end());
  }
  return out;
}

// False when `ints` is not a well-formed encoding.
inline bool decodeLevels(const std::vector<int64_t>& ints, std::vector<DiffLevel>& levels) {
  levels.clear();
  for (size_t k = 0; k < ints.size();) {
    if (k + 2 > ints.size() || ints[k] < 0 || ints[k] > int64_t(DiffKind::Hvp) || ints[k + 1] < 0 ||
        k + 2 + size_t(ints[k + 1]) > ints.size())
      return false;
    DiffLevel l;
    l.kind = DiffKind(ints[k]);
    for (int64_t j = 0; j < ints[k + 1]; ++j) l.wrt.push_back(int(ints[k + 2 + j]));
    k += 2 + size_t(ints[k + 1]);
    levels.push_back(l);
  }
  return !levels.empty();
}

// "f.grad.0", "f.vgrad.0.1", "f.hvp.0.grad.1": the symbol of a derived function.
inline std::string derivedName(const std::string& fn, const std::vector<DiffLevel>& levels) {
  std::string s = fn;
  for (const DiffLevel& l : levels) {
    s += std::string(".") + diffKindName(l.kind);
    for (int w : l.wrt) s += "." + std::to_string(w);
  }
  return s;
}

struct Signature {
  std::vector<Type> params, results;
};

// The signature of `levels` applied to `base`; false (and `why`) when a level
// does not apply: wrt out of range or not a float, a result that is not what
// the level needs (a scalar float for grad/hessian/hvp, one float result for
// jacobian, float results for jvp/vjp).
bool derivedSignature(Signature base, const std::vector<DiffLevel>& levels, Signature& out, std::string& why);

}  // namespace chain::ir
