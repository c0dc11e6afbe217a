// The compile pipeline: frontend, grad-call materialisation, the registered
// passes, reverse AD, and verification between steps.
#include "runtime/Pipeline.h"

#include <functional>
#include <unordered_set>

#include "chain/chain.h"
#include "frontend/Frontend.h"
#include "ir/StageTimer.h"
#include "ir/Verifier.h"
#include "passes/Passes.h"
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

// The callees of `f` in walkOps order (duplicates kept: callers dedupe).
std::vector<std::string> callees(const Function& f) {
  std::vector<std::string> out;
  walkOps(const_cast<ir::Block&>(f.body), [&](Operation& op) {
    if (op.kind == OpKind::Call) out.push_back(op.s);
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

// The first grad call (by source position) in `name` or, failing that, in the
// first function in reachable() order that has one; holder is null when
// there is none. Each reachable function is looked at once.
struct GradUse {
  const Function* holder = nullptr;
  ir::SrcLoc loc;
};

GradUse findGradUse(const ir::Module& m, const std::string& name) {
  for (const std::string& n : reachable(m, name)) {
    const Function* g = m.lookup(n);
    if (!g) continue;
    GradUse use;
    walkOps(const_cast<ir::Block&>(g->body), [&](Operation& op) {
      if (op.kind != OpKind::GradCall) return;
      bool earlier = op.loc.line != use.loc.line ? op.loc.line < use.loc.line : op.loc.col < use.loc.col;
      if (!use.holder || earlier) use = {g, op.loc};
    });
    if (use.holder) return use;
  }
  return {};
}

// Why `name`, which uses grad through `use`, cannot be differentiated.
std::string nestedGradMessage(const std::string& name, const GradUse& use) {
  std::string why = use.holder->name == name ? "it uses grad"
                                             : "it calls '" + use.holder->name + "', which uses grad";
  return "cannot differentiate '" + name + "': " + why + " (nested differentiation is not supported yet)";
}

// Nested differentiation is an error of the functions that need it, raised
// when they are compiled (the rest of the file still compiles): every grad
// call reachable from `root` whose target uses grad is reported at its
// position, naming the target.
void rejectNestedGradients(const ir::Module& m, const std::string& root) {
  DiagEngine diag(m.fileName, m.source.get());
  std::unordered_map<std::string, GradUse> byTarget;
  for (const std::string& n : reachable(m, root)) {
    const Function* f = m.lookup(n);
    if (!f) continue;
    walkOps(const_cast<ir::Block&>(f->body), [&](Operation& op) {
      if (op.kind != OpKind::GradCall) return;
      auto it = byTarget.find(op.s);
      if (it == byTarget.end()) it = byTarget.emplace(op.s, findGradUse(m, op.s)).first;
      if (it->second.holder) diag.error(op.loc, nestedGradMessage(op.s, it->second));
    });
  }
  if (diag.hasErrors()) throw compileError(diag);
}

// A working copy of the functions reachable from `root` in which every
// grad_call is a call of a generated gradient function (added to the copy).
std::unique_ptr<ir::Module> materialize(const ir::Module& m, const std::string& root) {
  rejectNestedGradients(m, root);
  auto work = std::make_unique<ir::Module>();
  work->fileName = m.fileName;
  for (auto& n : reachable(m, root))
    if (const Function* f = m.lookup(n)) work->add(ir::cloneFunction(*f));
  size_t original = work->functions.size();
  for (size_t i = 0; i < original; ++i) {
    walkOps(work->functions[i]->body, [&](Operation& op) {
      if (op.kind != OpKind::GradCall) return;
      std::vector<int> wrt(op.ints.begin(), op.ints.end());
      std::string name = gradientName(op.s, wrt, op.i != 0);
      if (!work->lookup(name)) work->add(buildGradient(m, op.s, wrt, op.i != 0));
      op.kind = OpKind::Call;
      op.s = name;
      op.ints.clear();
      op.i = 0;
    });
  }
  return work;
}

}  // namespace

std::string gradientName(const std::string& fn, const std::vector<int>& wrt, bool withValue) {
  std::string s = fn + (withValue ? ".vgrad" : ".grad");
  for (int w : wrt) s += "." + std::to_string(w);
  return s;
}

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
  const Function* src = m.lookup(name);
  if (!src) throw UsageError("no function named '" + name + "'");
  if (hook) hook("ir", *src);
  std::unique_ptr<ir::Module> work;
  std::unique_ptr<Function> f;
  {
    ir::StageScope timing("materialize");
    work = materialize(m, name);
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

std::unique_ptr<Function> buildGradient(const ir::Module& m, const std::string& name,
                                        const std::vector<int>& wrt, bool withValue,
                                        const StageHook& hook) {
  const Function* src = m.lookup(name);
  if (!src) throw UsageError("no function named '" + name + "'");
  if (GradUse use = findGradUse(m, name); use.holder) {  // at the grad call that makes it nested
    DiagEngine diag(m.fileName, m.source.get());
    diag.error(use.loc, nestedGradMessage(name, use));
    throw compileError(diag);
  }
  if (src->resultTypes.size() != 1 || !src->resultTypes[0].isFloatScalar())
    throw CompileError(m.fileName + ": error: cannot differentiate '" + name +
                       "': its result is not a scalar float\n");
  for (int w : wrt) {
    if (w < 0 || w >= int(src->numParams())) throw UsageError("bad parameter index");
    if (!src->param(w)->type.isFloat())
      throw CompileError(m.fileName + ": error: cannot differentiate '" + name +
                         "' with respect to '" + src->paramNames[w] + "': it is " +
                         src->param(w)->type.str() + ", not a float\n");
  }
  auto primal = buildPrimal(m, name, hook, true);
  std::unique_ptr<Function> g;
  {
    ir::StageScope timing("reverse-ad");
    g = passes::reverseAD(*primal, wrt, withValue, gradientName(name, wrt, withValue));
  }
  verify(*g, "reverse-ad", nullptr);
  if (hook) hook("grad", *g);
  ir::Module empty;
  for (const passes::PassInfo& p : passes::registry()) {
    if (p.name == "inline") continue;  // nothing left to inline
    ir::StageScope timing(p.name == "simplify" ? "grad.simplify" : p.name.c_str());
    p.run(empty, *g);
    verify(*g, p.name.c_str(), nullptr);
  }
  if (hook) hook("opt", *g);
  return g;
}

}  // namespace chain::pipeline
