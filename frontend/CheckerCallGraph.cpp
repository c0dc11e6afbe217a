// The type checker's whole-program checks on the call graph that the function
// checkers record, all in time linear in the size of the program:
// * the order in which bodies are checked: callees whose result type must be
//   inferred first, so that checking them on demand never nests deeply;
// * recursion: an edge g -> f is recursive when f and g are in the same
//   strongly connected component (Tarjan's algorithm, iterative so that a
//   long call chain cannot overflow the stack);
// * (not here: differentiating a function that itself uses grad, nested
//   differentiation, which is not supported yet, is an error of the functions
//   that need it, raised when they are compiled by runtime/Pipeline.cpp, so
//   that the other functions of the file still compile and run);
// * the inlined size: every call is inlined before AD and codegen, so a
//   function that calls another twice, which calls another twice, ... grows
//   exponentially. The size is computed bottom-up over the components
//   (callees first) from an estimate of each body's own IR operations, and a
//   function above passes::kMaxInlinedOps is reported at its definition;
// * the call depth: a chain of calls deeper than passes::kMaxCallDepth is an
//   error (the inliner recurses once per level).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/CheckerImpl.h"
#include "passes/Inline.h"

namespace chain::frontend::detail {

namespace {

// comp[v] for every function; components are numbered in the order Tarjan's
// algorithm completes them: every component reachable from C has a smaller
// number than C (callees first).
struct Components {
  std::vector<int> comp;
  int count = 0;
};

Components stronglyConnected(const std::vector<FnInfo>& fns) {
  size_t n = fns.size();
  Components c;
  c.comp.assign(n, -1);
  std::vector<int> index(n, -1), low(n, 0), stack;
  std::vector<char> onStack(n, 0);
  std::vector<std::pair<int, size_t>> frames;  // (function, next edge)
  int counter = 0;
  auto visit = [&](int v) {
    index[size_t(v)] = low[size_t(v)] = counter++;
    stack.push_back(v);
    onStack[size_t(v)] = 1;
    frames.emplace_back(v, 0);
  };
  for (size_t s = 0; s < n; ++s) {
    if (index[s] >= 0) continue;
    visit(int(s));
    while (!frames.empty()) {
      int v = frames.back().first;
      size_t i = frames.back().second++;
      const auto& edges = fns[size_t(v)].edges;
      if (i < edges.size()) {
        size_t w = size_t(edges[i].callee);
        if (index[w] < 0) visit(int(w));
        else if (onStack[w]) low[size_t(v)] = std::min(low[size_t(v)], index[w]);
        continue;
      }
      if (low[size_t(v)] == index[size_t(v)]) {
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          onStack[size_t(w)] = 0;
          c.comp[size_t(w)] = c.count;
        } while (w != v);
        ++c.count;
      }
      frames.pop_back();
      if (!frames.empty()) {
        size_t u = size_t(frames.back().first);
        low[u] = std::min(low[u], low[size_t(v)]);
      }
    }
  }
  return c;
}

// The functions of each component, in index order.
std::vector<std::vector<int>> membersOf(const Components& c) {
  std::vector<std::vector<int>> members(size_t(c.count));
  for (size_t v = 0; v < c.comp.size(); ++v) members[size_t(c.comp[v])].push_back(int(v));
  return members;
}

// --- checking order ---------------------------------------------------------

// The functions that checking `e` may check on demand: references to
// functions without a declared result type, and the targets of grad(...).
void demandedBy(const Expr& e, const ModuleChecker& m, std::vector<int>& out);

void demandedByBlock(const ast::Block& b, const ModuleChecker& m, std::vector<int>& out) {
  for (const auto& s : b.stmts) {
    if (!s) continue;
    for (const Expr* e : {s->target.get(), s->value.get(), s->cond.get(), s->lo.get(), s->hi.get()})
      if (e) demandedBy(*e, m, out);
    for (const ast::Block* sb : {s->thenBlock.get(), s->elseBlock.get(), s->body.get()})
      if (sb) demandedByBlock(*sb, m, out);
  }
  if (b.result) demandedBy(*b.result, m, out);
}

void demandedBy(const Expr& e, const ModuleChecker& m, std::vector<int>& out) {
  if (e.kind == ast::ExprKind::Name) {
    int f = m.lookupFn(e.text);
    if (f >= 0 && !m.fns[size_t(f)].resultDeclared) out.push_back(f);
  }
  bool isGrad = e.kind == ast::ExprKind::Call && e.callee && e.callee->kind == ast::ExprKind::Name &&
                (e.callee->text == "grad" || e.callee->text == "value_and_grad");
  if (isGrad && !e.args.empty() && e.args[0] && e.args[0]->kind == ast::ExprKind::Name) {
    int f = m.lookupFn(e.args[0]->text);
    if (f >= 0) out.push_back(f);
  }
  for (const auto& a : e.args)
    if (a) demandedBy(*a, m, out);
  if (e.callee) demandedBy(*e.callee, m, out);
  for (const auto& na : e.named)
    if (na.value) demandedBy(*na.value, m, out);
  for (const auto& ix : e.indices)
    if (ix) demandedBy(*ix, m, out);
  for (const auto& r : e.ranges) {
    if (r.lo) demandedBy(*r.lo, m, out);
    if (r.hi) demandedBy(*r.hi, m, out);
  }
  if (e.thenBlock) demandedByBlock(*e.thenBlock, m, out);
  if (e.elseBlock) demandedByBlock(*e.elseBlock, m, out);
}

// --- inlined size ---------------------------------------------------------

constexpr uint64_t kSaturated = UINT64_MAX / 8;
// A gradient is the primal sweep plus the adjoint sweep: a few times the
// function's own size.
constexpr uint64_t kGradFactor = 3;

uint64_t satAdd(uint64_t a, uint64_t b) { return a + b >= kSaturated ? kSaturated : a + b; }
uint64_t satMul(uint64_t a, uint64_t k) { return a >= kSaturated / k ? kSaturated : a * k; }

uint64_t countBlock(const ast::Block& b);

// About one IR operation per expression node; names, tuples, ranges and
// colons make none. Calls count 1 here: the caller subtracts one per call of
// a user function (which the callee's inlined body replaces).
uint64_t countExpr(const Expr& e) {
  using ast::ExprKind;
  uint64_t n = 0;
  switch (e.kind) {
    case ExprKind::Name:
    case ExprKind::Tuple:
    case ExprKind::Range:
    case ExprKind::Colon:
    case ExprKind::StringLit: break;
    case ExprKind::FloatLit:
    case ExprKind::IntLit:
    case ExprKind::BoolLit:
    case ExprKind::Unary:
    case ExprKind::Binary:
    case ExprKind::Call:
    case ExprKind::Index:
    case ExprKind::ArrayLit:
    case ExprKind::Comprehension:
    case ExprKind::Generator:
    case ExprKind::IfExpr: n = 1; break;
  }
  for (const auto& a : e.args)
    if (a) n = satAdd(n, countExpr(*a));
  if (e.callee) n = satAdd(n, countExpr(*e.callee));
  for (const auto& na : e.named)
    if (na.value) n = satAdd(n, countExpr(*na.value));
  for (const auto& ix : e.indices)
    if (ix) n = satAdd(n, countExpr(*ix));
  for (const auto& r : e.ranges) {
    if (r.lo) n = satAdd(n, countExpr(*r.lo));
    if (r.hi) n = satAdd(n, countExpr(*r.hi));
  }
  if (e.thenBlock) n = satAdd(n, countBlock(*e.thenBlock));
  if (e.elseBlock) n = satAdd(n, countBlock(*e.elseBlock));
  return n;
}

uint64_t countStmt(const ast::Stmt& s) {
  using ast::StmtKind;
  uint64_t n = s.kind == StmtKind::If || s.kind == StmtKind::For || s.kind == StmtKind::While;
  for (const ast::Expr* e : {s.target.get(), s.value.get(), s.cond.get(), s.lo.get(), s.hi.get()})
    if (e) n = satAdd(n, countExpr(*e));
  for (const ast::Block* b : {s.thenBlock.get(), s.elseBlock.get(), s.body.get()})
    if (b) n = satAdd(n, countBlock(*b));
  return n;
}

uint64_t countBlock(const ast::Block& b) {
  uint64_t n = 0;
  for (const auto& s : b.stmts)
    if (s) n = satAdd(n, countStmt(*s));
  if (b.result) n = satAdd(n, countExpr(*b.result));
  return n;
}

}  // namespace

// Depth-first post-order over the on-demand edges, iterative.
std::vector<int> ModuleChecker::checkingOrder() const {
  size_t n = fns.size();
  std::vector<std::vector<int>> demands(n);
  for (size_t v = 0; v < n; ++v)
    if (fns[v].decl->body) demandedByBlock(*fns[v].decl->body, *this, demands[v]);
  std::vector<int> order;
  std::vector<char> seen(n, 0);
  std::vector<std::pair<int, size_t>> frames;  // (function, next demand)
  for (size_t s = 0; s < n; ++s) {
    if (seen[s]) continue;
    seen[s] = 1;
    frames.emplace_back(int(s), 0);
    while (!frames.empty()) {
      int v = frames.back().first;
      size_t i = frames.back().second++;
      if (i < demands[size_t(v)].size()) {
        int w = demands[size_t(v)][i];
        if (!seen[size_t(w)]) {
          seen[size_t(w)] = 1;
          frames.emplace_back(w, 0);
        }
        continue;
      }
      order.push_back(v);
      frames.pop_back();
    }
  }
  return order;
}

bool ModuleChecker::checkCallGraph() {
  Components c = stronglyConnected(fns);
  bool recursive = false;
  for (size_t g = 0; g < fns.size(); ++g)
    for (const FnInfo::Edge& e : fns[g].edges) {
      size_t f = size_t(e.callee);
      if (f != g && c.comp[f] != c.comp[g]) continue;
      diag.error(e.loc, "recursive call to '" + fns[f].decl->name + "' is not supported");
      recursive = true;
    }
  return !recursive;
}

void ModuleChecker::checkInlinedSizes() {
  Components c = stronglyConnected(fns);  // all trivial: there is no recursion
  std::vector<std::vector<int>> members = membersOf(c);
  std::vector<uint64_t> size(fns.size(), 0);
  std::vector<int64_t> depth(fns.size(), 0);
  for (const std::vector<int>& comp : members) {  // callees first
    for (int v : comp) {
      const FnInfo& f = fns[size_t(v)];
      uint64_t own = f.decl->body ? countBlock(*f.decl->body) : 0;
      uint64_t n = own > f.calls.size() ? own - f.calls.size() : 0;
      bool calleeTooBig = false, calleeTooDeep = false;
      for (const FnInfo::CallSite& cs : f.calls) {
        uint64_t callee = size[size_t(cs.callee)];
        calleeTooBig |= callee > passes::kMaxInlinedOps;
        n = satAdd(n, cs.viaGrad ? satMul(callee, kGradFactor) : callee);
        calleeTooDeep |= depth[size_t(cs.callee)] > passes::kMaxCallDepth;
        depth[size_t(v)] = std::max(depth[size_t(v)], depth[size_t(cs.callee)] + 1);
      }
      size[size_t(v)] = n;
      // The inliner recurses once per call level (its stack is the limit).
      if (depth[size_t(v)] > passes::kMaxCallDepth && !calleeTooDeep)
        diag.error(f.decl->loc, "calls in '" + f.decl->name + "' nest more than " +
                                    std::to_string(passes::kMaxCallDepth) +
                                    " functions deep: merge some of the functions");
      // Report where the growth happens: not again in every caller.
      if (n <= passes::kMaxInlinedOps || f.calls.empty() || calleeTooBig) continue;
      std::string shown = n >= kSaturated ? "more than " + std::to_string(kSaturated) : std::to_string(n);
      diag.error(f.decl->loc, "inlining every call in '" + f.decl->name + "' would produce about " +
                                  shown + " operations (limit " +
                                  std::to_string(passes::kMaxInlinedOps) +
                                  "): each call is a copy of the callee; compute shared values "
                                  "once with `let`, or use a loop");
    }
  }
}

}  // namespace chain::frontend::detail
