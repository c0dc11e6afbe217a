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

// Whether `f` or a function it calls, directly or not, uses grad: each
// reachable function is looked at once.
bool containsGradCall(const ir::Module& m, const Function& f) {
  std::unordered_set<const Function*> seen{&f};
  std::vector<const Function*> work{&f};
  while (!work.empty()) {
    const Function* g = work.back();
    work.pop_back();
    bool found = false;
    walkOps(const_cast<ir::Block&>(g->body), [&](Operation& op) {
      if (op.kind == OpKind::GradCall) found = true;
      if (op.kind != OpKind::Call) return;
      const Function* callee = m.lookup(op.s);
      if (callee && seen.insert(callee).second) work.push_back(callee);
    });
    if (found) return true;
  }
  return false;
}

// A working copy of the functions reachable from `root` in which every
// grad_call is a call of a generated gradient function (added to the copy).
std::unique_ptr<ir::Module> materialize(const ir::Module& m, const std::string& root) {
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
  if (diag.hasErrors()) throw CompileError(diag.render());
  {
    ir::StageScope timing("lower");
    r->module = frontend::lower(*r->ast);
  }
  r->module->fileName = r->fileName;
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
  if (containsGradCall(m, *src))
    throw CompileError(m.fileName + ": error: cannot differentiate '" + name +
                       "': it uses grad (nested differentiation is not supported yet)\n");
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
