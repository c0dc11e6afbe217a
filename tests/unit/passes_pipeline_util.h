// Test helper for the passes_* unit tests: compiles
// Chain source through the frontend, runs the registered passes up to a
// given one, and runs functions under the reference interpreter.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "frontend/Frontend.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Passes.h"

namespace pipetest {

using namespace chain;

struct Program {
  std::string src;
  std::unique_ptr<ir::Module> m;
};

inline Program compile(const std::string& src) {
  Program p{src, nullptr};
  DiagEngine diag("test.chain", &p.src);
  auto prog = frontend::parse(p.src, diag);
  REQUIRE(!diag.hasErrors());
  frontend::check(*prog, diag);
  INFO(diag.render());
  REQUIRE(!diag.hasErrors());
  p.m = frontend::lower(*prog);
  REQUIRE(ir::verifyModule(*p.m).empty());
  return p;
}

// A copy of function `name` after the registered passes up to and including
// `last` (the whole pipeline when empty), verified.
inline std::unique_ptr<ir::Function> after(Program& p, const std::string& name, const std::string& last = "") {
  auto f = ir::cloneFunction(*p.m->lookup(name));
  for (const passes::PassInfo& pass : passes::registry()) {
    pass.run(*p.m, *f);
    auto errs = ir::verifyFunction(*f, p.m.get());
    INFO("after " << pass.name << ": " << (errs.empty() ? "" : errs[0]) << "\n" << ir::printFunction(*f));
    REQUIRE(errs.empty());
    if (pass.name == last) break;
  }
  return f;
}

// The result (first value, as a double) or "error: <message>".
inline std::string run(const Program& p, const ir::Function& f, const std::vector<ir::RtValue>& args) {
  try {
    auto r = ir::interpret(*p.m, f, args);
    return ir::formatRtValue(r.at(0));
  } catch (const ir::InterpError& e) {
    return std::string("error: ") + e.what();
  }
}

inline ir::RtValue vec(std::vector<double> v) {
  return ir::RtValue::array(ir::Scalar::F64, {int64_t(v.size())}, v);
}
inline ir::RtValue mat(int64_t r, int64_t c, std::vector<double> v) {
  return ir::RtValue::array(ir::Scalar::F64, {r, c}, v);
}

// Ops of `b` (at any depth) for which pred(op) holds.
template <class Pred>
size_t countIf(const ir::Block& b, const Pred& pred) {
  size_t n = 0;
  for (auto& op : b.ops) {
    n += pred(*op) ? 1 : 0;
    for (auto& r : op->regions) n += countIf(*r, pred);
  }
  return n;
}

// Ops of kind `k` in `b`, at any depth.
inline size_t count(const ir::Block& b, ir::OpKind k) {
  return countIf(b, [&](const ir::Operation& op) { return op.kind == k; });
}

// The number of map/reduce/for/while regions around the first op of kind
// `k` (-1 when there is none).
inline int loopDepth(const ir::Block& b, ir::OpKind k, int depth = 0) {
  for (auto& op : b.ops) {
    if (op->kind == k) return depth;
    bool loop = op->kind == ir::OpKind::Map || op->kind == ir::OpKind::Reduce ||
                op->kind == ir::OpKind::For || op->kind == ir::OpKind::While;
    for (auto& r : op->regions) {
      int d = loopDepth(*r, k, depth + (loop ? 1 : 0));
      if (d >= 0) return d;
    }
  }
  return -1;
}

}  // namespace pipetest
