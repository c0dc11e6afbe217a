// The compile pipeline: frontend, grad-call materialisation, the registered
// passes, reverse AD, and verification between steps. Derivatives of any
// order are built level by level (deriveLevel); how the gradient of a
// function that takes a gradient stays one sweep is the design note
// "Reverse over a gradient" above deriveLevel.
#include "runtime/Pipeline.h"

#include <functional>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include "chain/chain.h"
#include "frontend/Frontend.h"
#include "ir/DiffSpec.h"
#include "ir/StageTimer.h"
#include "ir/Verifier.h"
#include "passes/Passes.h"
#include "passes/Derivatives.h"
#include "passes/DerivedFunctions.h"
#include "passes/ForwardAD.h"
#include "passes/ReverseAD.h"

namespace chain::pipeline {

using ir::Function;
using ir::Operation;
using ir::OpKind;

namespace {

void verify(const Function& f, const char* after, const ir::Module* m) {
#ifdef CHAIN_VERIFY_EACH_PASS
  ir::verifyOrDie(f, after, m);
#else
  (void)f, (void)after, (void)m;
#endif
}

void walkOps(ir::Block& b, const std::function<void(Operation&)>& fn) {
  for (auto& op : b.ops) {
    for (auto& r : op->regions) walkOps(*r, fn);
    fn(*op);
  }
}

// The callees of `f` in walkOps order (duplicates kept: callers dedupe),
// the base functions of its grad_calls included.
std::vector<std::string> callees(const Function& f) {
  std::vector<std::string> out;
  walkOps(const_cast<ir::Block&>(f.body), [&](Operation& op) {
    if (op.kind == OpKind::Call || op.kind == OpKind::GradCall) out.push_back(op.s);
  });
  return out;
}

// The functions `root` calls, directly or not, `root` first, in the preorder
// of a depth-first walk over the calls in walkOps order (names without a
// function included). Iterative with a visited set: linear in the call graph
// and no recursion, however deep the call chain.
std::vector<std::string> reachable(const ir::Module& m, const std::string& root) {
  std::vector<std::string> out{root};
  std::unordered_set<std::string> seen{root};
  struct Frame {
    std::vector<std::string> calls;
    size_t next = 0;
  };
  std::vector<Frame> stack;
  auto enter = [&](const std::string& name) {
    const Function* f = m.lookup(name);
    stack.push_back({f ? callees(*f) : std::vector<std::string>{}, 0});
  };
  enter(root);
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.calls.size()) {
      stack.pop_back();
      continue;
    }
    std::string callee = top.calls[top.next++];  // a copy: enter() may move `top`
    if (!seen.insert(callee).second) continue;
    out.push_back(callee);
    enter(callee);
  }
  return out;
}

// A CompileError holding `diag`'s errors, rendered and as data.
CompileError compileError(const DiagEngine& diag) {
  std::vector<CompileError::Diagnostic> list;
  for (const Diagnostic& d : diag.sorted())
    list.push_back({diag.fileName(), d.loc.line, d.loc.col, d.message});
  return CompileError(diag.render(), std::move(list));
}

void dropPrints(ir::Block& b) {
  for (auto it = b.ops.begin(); it != b.ops.end();) {
    if ((*it)->kind == OpKind::Print) {
      it = b.ops.erase(it);
      continue;
    }
    for (auto& r : (*it)->regions) dropPrints(*r);
    ++it;
  }
}

// Turns grad_call `op` into a call of the derived function it stands for,
// built from `m` and added to `work` (once per derived name). A grad_call
// with i = 1 (an adjoint, passes/Derivatives.h gradCallAdjoint) gets a
// copy without print ops.
void materializeOp(ir::Module& work, const ir::Module& m, Operation& op) {
  std::vector<ir::DiffLevel> levels;
  if (!ir::decodeLevels(op.ints, levels)) throw std::logic_error("internal error: malformed grad_call");
  std::string name = ir::derivedName(op.s, levels) + (op.i == 1 ? ".adjoint" : "");
  if (!work.lookup(name)) {
    std::unique_ptr<Function> d = buildDerived(m, op.s, levels);
    if (op.i == 1) {
      dropPrints(d->body);
      d->name = name;
    }
    work.add(std::move(d));
  }
  op.kind = OpKind::Call;
  op.s = name;
  op.ints.clear();
  op.i = 0;
}

// A working copy of the functions reachable from `root` in which every
// grad_call is a call of a generated gradient function (added to the copy).
// `keepReversible`: grad_calls with a reverse rule (passes/Derivatives.h
// gradCallReversible) stay opaque, for reverse AD to see (design above
// deriveLevel).
std::unique_ptr<ir::Module> materialize(const ir::Module& m, const std::string& root, bool keepReversible) {
  auto work = std::make_unique<ir::Module>();
  work->fileName = m.fileName;
  for (auto& n : reachable(m, root))
    if (const Function* f = m.lookup(n)) work->add(ir::cloneFunction(*f));
  size_t original = work->functions.size();
  for (size_t i = 0; i < original; ++i) {
    walkOps(work->functions[i]->body, [&](Operation& op) {
      if (op.kind != OpKind::GradCall || (keepReversible && passes::gradCallReversible(op.ints))) return;
      materializeOp(*work, m, op);
    });
  }
  return work;
}

bool hasGradCalls(const Function& f) {
  bool any = false;
  walkOps(const_cast<ir::Block&>(f.body), [&](Operation& op) { any |= op.kind == OpKind::GradCall; });
  return any;
}

// The registered passes over a derived function; `work` holds the functions
// its calls name (jacobianByForward's sweeps).
void optimise(ir::Module& work, Function& g, const std::string& what) {
  for (const passes::PassInfo& p : passes::registry()) {
    // The timer keeps the name's pointer: names live as long as the thread.
    static thread_local std::set<std::string> names;
    ir::StageScope timing(names.insert(what + "." + p.name).first->c_str());
    p.run(work, g);
    verify(g, p.name.c_str(), &work);
  }
}

[[noreturn]] void cannotDerive(const std::string& file, const Function& src, const std::string& why) {
  std::string where = file;
  if (src.loc.line > 0) where += ":" + std::to_string(src.loc.line) + ":" + std::to_string(src.loc.col);
  throw CompileError(where + ": error: cannot differentiate '" + src.name + "': " + why + "\n");
}

// Reverse over a gradient
// -----------------------
// The gradient of a function h whose body takes a gradient (a grad_call, in
// h or in a function it calls) would contain tape ops once everything is
// inlined, and reverse AD cannot reverse the tape. Instead:
//  * h's primal keeps its reversible grad_calls (grad, value_and_grad, hvp;
//    passes::gradCallReversible) opaque: materialize(keepReversible) leaves
//    them, inlining copies them like any op, and simplify and hoist treat
//    them as effects (never removed, never moved);
//  * reverse AD copies each into its forward sweep and reverses it by its
//    rule (passes/DerivativesGradCall.cpp): an adjoint grad_call of the same
//    base function, a forward sweep over its gradient (Hessian symmetry);
//  * the gradient's grad_calls (the copies and the adjoints) are then
//    materialised (buildDerived, recursively) and inlined: call-free code.
//    Cost: a small constant times grad(f) per grad_call, whatever numel(p).
// In a level list, a gradient level that follows a reversible level
// (grad(grad(f)), grad(hvp(f)) through the API or an inner grad_call's
// adjoint) starts from a wrapper: a function of one opaque grad_call of the
// levels before it (wrapperOf), reversed the same way. The adjoint's levels
// have one reversible level fewer before their last gradient, so the
// recursion ends. grad_calls without a rule (jacobian, hessian, jvp or vjp
// of a gradient) are materialised before AD; when their tape ops end up in
// h, h's gradient is assembled from forward sweeps (jacobianByForward:
// numel(p) of them, the old path).

// True when a map or reduce region of `b` (at any depth) holds tape ops: a
// gradient taken inside a comprehension or generator.
bool tapeInMapOrReduce(const ir::Block& b) {
  for (auto& op : b.ops) {
    bool elementwise = op->kind == OpKind::Map || op->kind == OpKind::Reduce;
    for (auto& r : op->regions)
      if (elementwise ? ir::containsTapeOps(*r) : tapeInMapOrReduce(*r)) return true;
  }
  return false;
}

// Forward mode recomputes map and reduce regions for their tangents and
// cannot carry tape ops there: a user error of the function `name` derives.
void checkForwardable(const ir::Module& m, const std::string& name, const Function& h) {
  if (!tapeInMapOrReduce(h.body)) return;
  const Function* src = m.lookup(name.substr(0, name.find('.')));
  cannotDerive(m.fileName, src ? *src : h,
               "forward mode over a gradient taken inside a comprehension or generator is not supported "
               "(take that gradient in a for loop)");
}

// True for the levels whose first step is reverse AD of their input.
bool usesGradient(ir::DiffKind k) {
  using ir::DiffKind;
  return k == DiffKind::Grad || k == DiffKind::ValueAndGrad || k == DiffKind::Vjp || k == DiffKind::Hessian ||
         k == DiffKind::ValueHessian || k == DiffKind::Hvp;
}

// W(params of the derived function) = grad_call name [levels](params...).
std::unique_ptr<Function> wrapperOf(const ir::Module& m, const std::string& name,
                                    const std::vector<ir::DiffLevel>& levels) {
  const Function* src = m.lookup(name);
  ir::Signature sig{{}, src->resultTypes}, out;
  for (size_t i = 0; i < src->numParams(); ++i) sig.params.push_back(src->param(i)->type);
  std::string why;
  if (!ir::derivedSignature(sig, levels, out, why)) throw std::logic_error("internal error: wrapper: " + why);
  auto w = std::make_unique<Function>();
  w->name = ir::derivedName(name, levels) + ".w";
  w->loc = src->loc;
  w->forDifferentiation = true;
  std::vector<ir::Value*> args;
  for (size_t i = 0; i < out.params.size(); ++i) {
    w->paramNames.push_back(i < src->numParams() ? src->paramNames[i] : "t" + std::to_string(i));
    args.push_back(w->body.addArg(out.params[i], w->paramNames.back()));
  }
  ir::Builder b(&w->body);
  b.setLoc(src->loc);
  Operation* c = b.create(OpKind::GradCall, args, out.results);
  c->s = name;
  c->ints = ir::encodeLevels(levels);
  std::vector<ir::Value*> rs;
  for (auto& r : c->results) rs.push_back(r.get());
  b.ret(rs);
  w->resultTypes = out.results;
  return w;
}

// One level applied to the optimised function f (see ir/DiffSpec.h), which
// is call-free but may hold opaque grad_calls when the level uses reverse AD
// (design above). Reverse mode needs a function without tape ops: the
// gradient of a function that still contains one is assembled from forward
// sweeps (forward over reverse), one per element of each wrt parameter.
std::unique_ptr<Function> deriveLevel(const ir::Module& m, const Function& f, const ir::DiffLevel& l,
                                      const std::string& name, const StageHook& hook) {
  using ir::DiffKind;
  ir::Module work;  // the functions the derived function calls, inlined by optimise
  work.fileName = m.fileName;
  auto materializeAll = [&](Function& h) {
    walkOps(h.body, [&](Operation& op) {
      if (op.kind == OpKind::GradCall) materializeOp(work, m, op);
    });
  };
  std::unique_ptr<Function> flat;  // f with its grad_calls materialised and inlined
  const Function* src = &f;
  if (hasGradCalls(f) && (!usesGradient(l.kind) || ir::containsTapeOps(f.body))) {
    flat = ir::cloneFunction(f);
    materializeAll(*flat);
    optimise(work, *flat, "materialized");
    src = flat.get();
  }
  std::unique_ptr<Function> g;
  auto gradientOf = [&](const Function& h, bool withValue, const std::string& gname) {
    std::unique_ptr<Function> r;
    if (ir::containsTapeOps(h.body)) {
      checkForwardable(m, name, h);
      r = passes::jacobianByForward(work, h, l.wrt, 0, withValue, gname);
    } else {
      ir::StageScope timing("reverse-ad");
      r = passes::reverseAD(h, l.wrt, withValue, gname);
      verify(*r, "reverse-ad", nullptr);
      if (hook) hook("grad", *r);
      materializeAll(*r);
    }
    optimise(work, *r, "grad");
    return r;
  };
  switch (l.kind) {
    case DiffKind::Grad:
    case DiffKind::ValueAndGrad:
      return gradientOf(*src, l.kind == DiffKind::ValueAndGrad, name);
    case DiffKind::Jvp: {
      ir::StageScope timing("forward-ad");
      checkForwardable(m, name, *src);
      g = passes::forwardAD(*src, l.wrt, name);
      verify(*g, "forward-ad", nullptr);
      if (hook) hook("jvp", *g);
      break;
    }
    case DiffKind::Vjp: {
      auto w = passes::vjpObjective(*src, name + ".obj");
      return gradientOf(*w, false, name);
    }
    case DiffKind::Jacobian:
    case DiffKind::ValueJacobian:
      checkForwardable(m, name, *src);
      g = passes::jacobianBySize(work, *src, l.wrt[0], l.kind == DiffKind::ValueJacobian, name);
      break;
    case DiffKind::Hessian:
    case DiffKind::ValueHessian: {
      bool withValue = l.kind == DiffKind::ValueHessian;
      auto grad = gradientOf(*src, withValue, name + ".g");
      checkForwardable(m, name, *grad);
      g = passes::jacobianByForward(work, *grad, l.wrt, withValue ? 1 : 0, withValue, name);
      break;
    }
    case DiffKind::Hvp: {
      auto grad = gradientOf(*src, false, name + ".g");
      checkForwardable(m, name, *grad);
      auto t = passes::forwardAD(*grad, l.wrt, name + ".t");
      verify(*t, "forward-ad", nullptr);
      g = passes::selectResults(*t, {1}, name);
      break;
    }
  }
  optimise(work, *g, "derived");
  return g;
}

// The primal pipeline of `name`: materialised (reversible grad_calls kept
// opaque when `keepReversible`), then the registered passes.
std::unique_ptr<Function> primalOf(const ir::Module& m, const std::string& name, const StageHook& hook,
                                   bool forGradient, bool keepReversible) {
  const Function* src = m.lookup(name);
  if (!src) throw UsageError("no function named '" + name + "'");
  if (hook) hook("ir", *src);
  std::unique_ptr<ir::Module> work;
  std::unique_ptr<Function> f;
  {
    ir::StageScope timing("materialize");
    work = materialize(m, name, keepReversible);
    f = ir::cloneFunction(*work->lookup(name));
    f->forDifferentiation = forGradient;
  }
  for (const passes::PassInfo& p : passes::registry()) {
    ir::StageScope timing(p.name.c_str());
    p.run(*work, *f);
    verify(*f, p.name.c_str(), work.get());
    if (hook) hook(p.name, *f);
  }
  return f;
}

}  // namespace

std::unique_ptr<FrontendResult> runFrontend(std::string source, std::string fileName) {
  auto r = std::make_unique<FrontendResult>();
  r->fileName = std::move(fileName);
  r->source = std::move(source);
  DiagEngine diag(r->fileName, &r->source);
  {
    ir::StageScope timing("parse");
    r->ast = frontend::parse(r->source, diag);
  }
  if (!diag.hasErrors()) {
    ir::StageScope timing("check");
    frontend::check(*r->ast, diag);
  }
  if (diag.hasErrors()) throw compileError(diag);
  {
    ir::StageScope timing("lower");
    r->module = frontend::lower(*r->ast);
  }
  r->module->fileName = r->fileName;
  r->module->source = std::make_shared<const std::string>(r->source);
  for (auto& f : r->module->functions) verify(*f, "lower", r->module.get());
  ir::printStageReport("frontend " + r->fileName);
  return r;
}

std::unique_ptr<Function> buildPrimal(const ir::Module& m, const std::string& name,
                                      const StageHook& hook, bool forGradient) {
  return primalOf(m, name, hook, forGradient, false);
}

void checkDerivable(const ir::Module& m, const std::string& name, const std::vector<ir::DiffLevel>& levels) {
  const Function* src = m.lookup(name);
  if (!src) throw UsageError("no function named '" + name + "'");
  ir::Signature sig{{}, src->resultTypes}, out;
  for (size_t i = 0; i < src->numParams(); ++i) sig.params.push_back(src->param(i)->type);
  std::string why;
  if (ir::derivedSignature(sig, levels, out, why)) return;
  // Name the parameter when the first level's wrt is what is wrong.
  for (int w : levels[0].wrt)
    if (w >= 0 && w < int(src->numParams()) && !src->param(w)->type.isFloat())
      why = "'" + src->paramNames[w] + "' is " + src->param(w)->type.str() + ", not a float";
  cannotDerive(m.fileName, *src, why);
}

std::unique_ptr<Function> buildDerived(const ir::Module& m, const std::string& name,
                                       const std::vector<ir::DiffLevel>& levels, const StageHook& hook) {
  checkDerivable(m, name, levels);
  // Start after the last reversible level that a gradient level follows:
  // from a wrapper of one opaque grad_call (design above deriveLevel).
  size_t start = 0;
  for (size_t k = 1; k < levels.size(); ++k) {
    std::vector<ir::DiffLevel> inner(levels.begin(), levels.begin() + long(k));
    if (usesGradient(levels[k].kind) && passes::gradCallReversible(ir::encodeLevels(inner))) start = k;
  }
  std::unique_ptr<Function> f;
  if (start > 0) {
    f = wrapperOf(m, name, std::vector<ir::DiffLevel>(levels.begin(), levels.begin() + long(start)));
  } else {
    bool reverseFirst = usesGradient(levels[0].kind);
    f = primalOf(m, name, hook, reverseFirst, reverseFirst);
  }
  for (size_t k = start; k < levels.size(); ++k) {
    std::vector<ir::DiffLevel> upTo(levels.begin(), levels.begin() + long(k) + 1);
    f = deriveLevel(m, *f, levels[k], ir::derivedName(name, upTo), hook);
  }
  if (hook) hook("opt", *f);
  return f;
}

std::unique_ptr<Function> buildGradient(const ir::Module& m, const std::string& name,
                                        const std::vector<int>& wrt, bool withValue,
                                        const StageHook& hook) {
  return buildDerived(m, name, {{withValue ? ir::DiffKind::ValueAndGrad : ir::DiffKind::Grad, wrt}}, hook);
}

}  // namespace chain::pipeline
