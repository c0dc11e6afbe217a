// Module::jvp, vjp, jacobian, hessian, hvp and (through Module::derived) the
// grad / value_and_grad levels of Module::gradient: derived functions
// compiled on request (runtime/Pipeline.h buildDerived), each with its
// signature in the public types: the extra parameters a level adds (tangents
// d<p>, cotangents dy, the vector v of hvp) and the result's structure.
#include <algorithm>

#include "ir/DiffSpec.h"
#include "runtime/ApiImpl.h"

namespace chain {

namespace {

using ir::DiffKind;

// The one parameter of jacobian/hessian/hvp: `wrt`, or the first float parameter.
int singleWrt(const ast::FnDecl& d, const std::string& wrt) {
  std::vector<int> idx = resolveWrt(d, wrt.empty() ? std::vector<std::string>{} : std::vector<std::string>{wrt});
  return idx[0];
}

TypeInfo tupleOf(std::vector<TypeInfo> elems) {
  TypeInfo t;
  t.isTuple = true;
  t.elems = std::move(elems);
  return t;
}

// The array type of a Jacobian: `of`'s element type, dims of `of` then of `p`.
// (an entry's arrays cross the C ABI with at most 8 axes, SPEC §8's
// descriptor; the language checker holds declared types to the same bound)
TypeInfo jacobianType(const TypeInfo& of, const TypeInfo& p, const std::string& what) {
  TypeInfo j = of;
  j.dims.insert(j.dims.end(), p.dims.begin(), p.dims.end());
  if (j.dims.size() > 8)
    throw CompileError("error: the " + what + " would have " + std::to_string(j.dims.size()) +
                       " axes; a function's result has at most 8\n");
  return j;
}

}  // namespace

std::vector<TypeInfo> flatten(const TypeInfo& t) {
  if (!t.isTuple) return {t};
  std::vector<TypeInfo> out;
  for (const TypeInfo& e : t.elems)
    for (const TypeInfo& x : flatten(e)) out.push_back(x);
  return out;
}

Function Module::derived(const std::string& name, int kind, const std::vector<int>& wrt) const {
  const ast::FnDecl& d = impl_->decl(name);
  std::vector<ir::DiffLevel> levels{{DiffKind(kind), wrt}};
  const ir::Module* irm = impl_->fe->module.get();
  pipeline::checkDerivable(*irm, name, levels);  // what the signature shows, now
  auto cf = impl_->handle(ir::derivedName(name, levels), [&](CompiledFunction& cf) {
    setParams(cf, d);
    cf.build = [irm, name, levels] { return pipeline::buildDerived(*irm, name, levels); };
    TypeInfo result = resultTypeOf(d);
    std::vector<TypeInfo> ps;
    for (int w : wrt) ps.push_back(cf.paramTypes[size_t(w)]);
    TypeInfo wrtType = ps.size() == 1 ? ps[0] : tupleOf(ps);
    std::string of = "of '" + name + "' with respect to '" + d.params[size_t(wrt[0])].name + "'";
    std::string jacName = "Jacobian " + of, hesName = "Hessian " + of;
    switch (DiffKind(kind)) {
      case DiffKind::Jvp:
        for (size_t k = 0; k < wrt.size(); ++k) {
          cf.paramNames.push_back("d" + d.params[size_t(wrt[k])].name);
          cf.paramTypes.push_back(ps[k]);
        }
        cf.resultType = tupleOf({result, result});
        break;
      case DiffKind::Vjp: {
        std::vector<TypeInfo> ys = flatten(result);
        for (size_t k = 0; k < ys.size(); ++k) {
          cf.paramNames.push_back(ys.size() == 1 ? "dy" : "dy" + std::to_string(k));
          cf.paramTypes.push_back(ys[k]);
        }
        cf.resultType = wrtType;
        break;
      }
      case DiffKind::Jacobian: cf.resultType = jacobianType(result, ps[0], jacName); break;
      case DiffKind::ValueJacobian: cf.resultType = tupleOf({result, jacobianType(result, ps[0], jacName)}); break;
      case DiffKind::Hessian: cf.resultType = jacobianType(ps[0], ps[0], hesName); break;
      case DiffKind::ValueHessian: cf.resultType = tupleOf({result, ps[0], jacobianType(ps[0], ps[0], hesName)}); break;
      case DiffKind::Hvp:
        cf.paramNames.push_back("v");
        cf.paramTypes.push_back(ps[0]);
        cf.resultType = ps[0];
        break;
      case DiffKind::Grad: cf.resultType = wrtType; break;
      case DiffKind::ValueAndGrad: cf.resultType = tupleOf({result, wrtType}); break;
    }
  });
  return Function(impl_, cf);
}

Function Module::jvp(const std::string& name, const std::vector<std::string>& wrt) const {
  return derived(name, int(DiffKind::Jvp), resolveWrt(impl_->decl(name), wrt));
}

Function Module::vjp(const std::string& name, const std::vector<std::string>& wrt) const {
  return derived(name, int(DiffKind::Vjp), resolveWrt(impl_->decl(name), wrt));
}

Function Module::jacobian(const std::string& name, const std::string& wrt, bool withValue) const {
  DiffKind k = withValue ? DiffKind::ValueJacobian : DiffKind::Jacobian;
  return derived(name, int(k), {singleWrt(impl_->decl(name), wrt)});
}

Function Module::hessian(const std::string& name, const std::string& wrt, bool withValue) const {
  DiffKind k = withValue ? DiffKind::ValueHessian : DiffKind::Hessian;
  return derived(name, int(k), {singleWrt(impl_->decl(name), wrt)});
}

Function Module::hvp(const std::string& name, const std::string& wrt) const {
  return derived(name, int(DiffKind::Hvp), {singleWrt(impl_->decl(name), wrt)});
}

}  // namespace chain
