// Signatures of derived functions (see DiffSpec.h for the table).
#include "ir/DiffSpec.h"

namespace chain::ir {

namespace {

bool allFloat(const std::vector<Type>& ts) {
  for (const Type& t : ts)
    if (!t.isFloat()) return false;
  return !ts.empty();
}

bool oneLevel(Signature s, const DiffLevel& l, Signature& out, std::string& why) {
  for (int w : l.wrt) {
    if (w < 0 || w >= int(s.params.size())) {
      why = "parameter index " + std::to_string(w) + " is out of range";
      return false;
    }
    if (!s.params[w].isFloat()) {
      why = "parameter " + std::to_string(w) + " is " + s.params[w].str() + ", not a float";
      return false;
    }
  }
  std::vector<Type> wrtTypes;
  for (int w : l.wrt) wrtTypes.push_back(s.params[w]);
  bool scalarResult = s.results.size() == 1 && s.results[0].isFloatScalar();
  bool single = l.wrt.size() == 1;
  out.params = s.params;
  out.results.clear();
  switch (l.kind) {
    case DiffKind::Grad:
    case DiffKind::ValueAndGrad:
      if (!scalarResult) return why = "its result is not a scalar float", false;
      if (l.kind == DiffKind::ValueAndGrad) out.results.push_back(s.results[0]);
      out.results.insert(out.results.end(), wrtTypes.begin(), wrtTypes.end());
      return true;
    case DiffKind::Jvp:
      if (!allFloat(s.results)) return why = "its results are not all floats", false;
      out.params.insert(out.params.end(), wrtTypes.begin(), wrtTypes.end());
      out.results = s.results;
      out.results.insert(out.results.end(), s.results.begin(), s.results.end());
      return true;
    case DiffKind::Vjp: {
      if (!allFloat(s.results)) return why = "its results are not all floats", false;
      for (const Type& t : s.results)
        if (t.elem != s.results[0].elem) return why = "its results mix f32 and f64", false;
      out.params.insert(out.params.end(), s.results.begin(), s.results.end());
      out.results = wrtTypes;
      return true;
    }
    case DiffKind::Jacobian:
    case DiffKind::ValueJacobian: {
      if (!single) return why = "a Jacobian is taken with respect to one parameter", false;
      if (s.results.size() != 1 || !s.results[0].isFloat()) return why = "its result is not one float value", false;
      Type j{s.results[0].elem, s.results[0].rank + wrtTypes[0].rank};
      if (l.kind == DiffKind::ValueJacobian) out.results.push_back(s.results[0]);
      out.results.push_back(j);
      return true;
    }
    case DiffKind::Hessian:
    case DiffKind::ValueHessian:
    case DiffKind::Hvp: {
      if (!single) return why = "a Hessian is taken with respect to one parameter", false;
      if (!scalarResult) return why = "its result is not a scalar float", false;
      Type p = wrtTypes[0];
      if (l.kind == DiffKind::Hvp) {
        out.params.push_back(p);
        out.results = {p};
        return true;
      }
      if (l.kind == DiffKind::ValueHessian) out.results = {s.results[0], p};
      out.results.push_back(Type{p.elem, 2 * p.rank});
      return true;
    }
  }
  why = "unknown derivative kind";
  return false;
}

}  // namespace

bool derivedSignature(Signature base, const std::vector<DiffLevel>& levels, Signature& out, std::string& why) {
  for (const DiffLevel& l : levels) {
    Signature next;
    if (!oneLevel(base, l, next, why)) return false;
    base = next;
  }
  out = base;
  return true;
}

}  // namespace chain::ir
