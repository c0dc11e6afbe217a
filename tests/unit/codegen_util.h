// Helpers for the code generation tests: build a function with ir::Builder,
// compile it with a JitEngine and call its uniform entry point with scalar
// arguments, collecting the status, message and results.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "runtime/codegen/Codegen.h"
#include "runtime/rt/ChainRT.h"

namespace cgtest {

using namespace chain;

// One argument or result slot (the ABI's scalar encodings).
union Slot {
  double d;
  float f;
  int64_t i;
  uint8_t b;
};
inline Slot D(double v) { Slot s{}; s.d = v; return s; }
inline Slot F(float v) { Slot s{}; s.f = v; return s; }
inline Slot I(int64_t v) { Slot s{}; s.i = v; return s; }
inline Slot B(bool v) { Slot s{}; s.b = v ? 1 : 0; return s; }

// A module with one function under construction.
struct FnBuilder {
  ir::Module mod;
  ir::Function* fn;
  ir::Builder b;

  FnBuilder(const std::string& name, const std::vector<ir::Type>& params) {
    mod.fileName = "test.chain";
    auto f = std::make_unique<ir::Function>();
    f->name = name;
    for (size_t i = 0; i < params.size(); ++i) {
      f->body.addArg(params[i], "p" + std::to_string(i));
      f->paramNames.push_back("p" + std::to_string(i));
    }
    fn = mod.add(std::move(f));
    b.setBlock(&fn->body);
  }
  ir::Value* p(size_t i) const { return fn->param(i); }
  void ret(std::vector<ir::Value*> vals) {
    for (ir::Value* v : vals) fn->resultTypes.push_back(v->type);
    b.ret(std::move(vals));
  }
};

struct CallResult {
  int32_t status = 0;
  std::string message;
  std::vector<Slot> results;
  int64_t tapeTop = 0;
  int64_t tapePeak = 0;
};

inline CallResult call(codegen::EntryFn entry, std::vector<Slot> args, size_t nres,
                       FILE* out = nullptr) {
  CallResult r;
  r.results.assign(nres, Slot{});
  std::vector<void*> ap, rp;
  for (Slot& s : args) ap.push_back(&s);
  for (Slot& s : r.results) rp.push_back(&s);
  ChainCallCtx ctx;
  rt::initCtx(ctx, out ? out : stdout);
  r.status = entry(&ctx, ap.data(), rp.data());
  r.message = ctx.message;
  r.tapeTop = ctx.tapeTop;
  r.tapePeak = ctx.tapePeak;
  rt::releaseCtx(ctx);
  return r;
}

// A JIT holding one compiled function.
struct Compiled {
  std::unique_ptr<codegen::JitEngine> jit;
  codegen::EntryFn entry = nullptr;
  size_t nres = 0;
  CallResult operator()(std::vector<Slot> args, FILE* out = nullptr) const {
    return call(entry, std::move(args), nres, out);
  }
};

inline Compiled compile(FnBuilder& fb, codegen::CodegenOptions opts = {}) {
  Compiled c;
  if (opts.fileName.empty()) opts.fileName = fb.mod.fileName;
  c.jit = codegen::JitEngine::create();
  c.jit->add(fb.mod, {fb.fn}, opts);
  c.entry = c.jit->lookup(fb.fn->name);
  c.nres = fb.fn->resultTypes.size();
  return c;
}

}  // namespace cgtest
