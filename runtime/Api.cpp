// The public API: Jit compiles source into a Module (the frontend: parse,
// check, lower); Module hands out Functions (primal or gradient), cached by
// name, whose signature comes from the AST at once and whose code is built
// and JIT-compiled on the first call (or Function::compile()), once, however
// many threads call a fresh handle; Function::call checks arguments against
// the signature, calls the uniform JIT entry point (or, with
// Backend::Interpreter, the reference interpreter: runtime/Interp.cpp) and
// rebuilds structured results; a failed call's message becomes a
// RuntimeError that also holds it rendered with the source line and a caret
// (runtimeError).
#include <charconv>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "frontend/Diagnostics.h"
#include "ir/DiffSpec.h"
#include "runtime/ApiImpl.h"

namespace chain {

namespace {

thread_local FILE* tlsPrintStream = nullptr;
thread_local int64_t tlsTapePeak = 0;

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

bool isFloatScalar(const TypeInfo& t) {
  return !t.isTuple && t.dims.empty() && (t.dtype == DType::F64 || t.dtype == DType::F32);
}

// What the signature alone tells about differentiating d with respect to idx,
// checked when the gradient's handle is made (the body's own limits, such as
// nested grad, are found when it is compiled).
void checkDifferentiable(const ast::FnDecl& d, const std::vector<int>& idx, const std::string& file) {
  std::string prefix = file + ": error: cannot differentiate '" + d.name + "'";
  if (!isFloatScalar(resultTypeOf(d))) throw CompileError(prefix + ": its result is not a scalar float\n");
  for (int i : idx) {
    TypeInfo t = typeInfoOf(d.params[i].type);
    if (t.isTuple || (t.dtype != DType::F64 && t.dtype != DType::F32))
      throw CompileError(prefix + " with respect to '" + d.params[i].name + "': it is " + t.str() +
                         ", not a float\n");
  }
}

// Reads "N:" at msg[p...] (a line or column number); moves p past the colon.
bool readNumber(const std::string& msg, size_t& p, int& n) {
  const char* end = msg.data() + msg.size();
  auto [next, ec] = std::from_chars(msg.data() + p, end, n);
  if (ec != std::errc() || next == end || *next != ':') return false;
  p = size_t(next - msg.data()) + 1;
  return true;
}

}  // namespace

RuntimeError runtimeError(const CompiledModule& m, const std::string& msg) {
  const std::string& file = m.fe->fileName;
  size_t p = file.size() + 1;
  ir::SrcLoc loc;
  if (msg.compare(0, p, file + ":") != 0 || !readNumber(msg, p, loc.line) || !readNumber(msg, p, loc.col))
    return RuntimeError(msg);
  DiagEngine diag(file, &m.fe->source);
  diag.error(loc, msg.substr(msg.compare(p, 1, " ") == 0 ? p + 1 : p));
  return RuntimeError(msg, diag.render("runtime error"));
}

DType dtypeOf(ir::Scalar s) {
  switch (s) {
    case ir::Scalar::F64: return DType::F64;
    case ir::Scalar::F32: return DType::F32;
    case ir::Scalar::I64: return DType::I64;
    case ir::Scalar::Bool: return DType::Bool;
  }
  return DType::F64;
}

TypeInfo typeInfoOf(const ast::TypeExpr& t) {
  TypeInfo ti;
  ti.isTuple = t.isTuple;
  ti.dtype = dtypeOf(t.elem);
  ti.dims = t.dims;
  for (auto& e : t.elems) ti.elems.push_back(typeInfoOf(e));
  return ti;
}

TypeInfo typeInfoOf(const ir::Type& t) {
  TypeInfo ti;
  ti.dtype = dtypeOf(t.elem);
  for (int i = 0; i < t.rank; ++i) ti.dims.push_back("?");
  return ti;
}

TypeInfo typeInfoOf(const ast::SemType& t) {
  if (t.kind == ast::SemType::Tuple) {
    TypeInfo ti;
    ti.isTuple = true;
    for (auto& e : t.elems) ti.elems.push_back(typeInfoOf(e));
    return ti;
  }
  return typeInfoOf(t.type);
}

TypeInfo resultTypeOf(const ast::FnDecl& fn) {
  if (fn.hasResultType) return typeInfoOf(fn.resultType);
  if (fn.body && fn.body->result) return typeInfoOf(fn.body->result->sem);
  if (fn.body && !fn.body->stmts.empty() && fn.body->stmts.back()->kind == ast::StmtKind::Return)
    return typeInfoOf(fn.body->stmts.back()->value->sem);
  return TypeInfo{};
}

const ast::FnDecl& CompiledModule::decl(const std::string& name) const {
  for (auto& f : fe->ast->fns)
    if (f->name == name) return *f;
  throw UsageError("no function named '" + name + "' in " + fe->fileName);
}

codegen::CodegenOptions CompiledModule::codegenOptions() const {
  codegen::CodegenOptions o;
  o.optLevel = opts.optLevel;
  o.boundsChecks = opts.boundsChecks;
  o.nanCheck = opts.nanCheck;
  o.parallelGrain = opts.parallelGrain;
  o.fileName = fe->fileName;
  o.cache.enabled = opts.cache;
  o.cache.dir = opts.cacheDir;
  o.cache.maxBytes = opts.cacheMaxBytes;
  return o;
}

std::shared_ptr<CompiledFunction> CompiledModule::handle(const std::string& key,
                                                        const std::function<void(CompiledFunction&)>& make) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto cf = std::make_shared<CompiledFunction>();
  cf->backend = opts.backend;
  cf->key = key;
  make(*cf);
  cache[key] = cf;
  return cf;
}

namespace {

void setIR(CompiledFunction& cf, const std::string& fileName) {
  auto holder = std::make_shared<ir::Module>();
  holder->fileName = fileName;
  cf.irFn = holder->add(cf.build());
  cf.irModule = holder;
}

}  // namespace

void CompiledModule::compileStarted() {
  std::lock_guard<std::mutex> lock(mu);
  if (activeCompiles++ == 0) busySince = std::chrono::steady_clock::now();
}

void CompiledModule::compileEnded() {
  std::lock_guard<std::mutex> lock(mu);
  if (--activeCompiles == 0) compileMs += msSince(busySince);
}

void CompiledModule::ensureCompiled(CompiledFunction& cf) {
  if (cf.compiled.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> fnLock(cf.compileMu);
  if (cf.compiled.load(std::memory_order_relaxed)) return;  // another thread did it
  compileStarted();
  struct Ended {
    CompiledModule& m;
    ~Ended() { m.compileEnded(); }
  } ended{*this};
  std::string diskKey;
  std::optional<std::vector<codegen::CachedSignature>> cached;
  if (cf.backend == Backend::Jit) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!jit) jit = codegen::JitEngine::create();
    }
    diskKey = codegen::cacheKey(codegenOptions(), fe->source, cf.key);
    cached = jit->addCached(diskKey, codegenOptions());
  }
  if (cached) {
    cf.entry = jit->lookup(cached->at(0).name);
    cf.paramIR = cached->at(0).params;
    cf.flatResults = cached->at(0).results;
  } else {
    setIR(cf, fe->fileName);
    const ir::Function* fp = cf.irFn;
    if (cf.backend == Backend::Jit) {
      jit->add(*cf.irModule, {fp}, codegenOptions(), diskKey);
      cf.entry = jit->lookup(fp->name);
    }
    cf.flatResults = fp->resultTypes;
    for (auto& a : fp->body.args) cf.paramIR.push_back(a->type);
  }
  cf.compiled.store(true, std::memory_order_release);
}

const CompiledFunction& CompiledModule::withIR(CompiledFunction& cf) {
  ensureCompiled(cf);
  std::lock_guard<std::mutex> lock(cf.compileMu);
  if (!cf.irFn) setIR(cf, fe->fileName);
  return cf;
}

// --- Jit ----------------------------------------------------------------------

Jit::Jit(Options opts) : opts_(opts) {
  if (opts_.optLevel < 0 || opts_.optLevel > 3) throw UsageError("optimisation level must be 0..3");
  if (opts_.cacheMaxBytes < 0) throw UsageError("the cache size bound must not be negative");
  if (opts_.threads < 0) throw UsageError("the thread count must not be negative (0: every core)");
  if (opts_.parallelGrain < 0) throw UsageError("the parallel grain must not be negative (0: the default)");
  if (opts_.backend == Backend::Interpreter && opts_.nanCheck)
    throw UsageError("the interpreter does not support the NaN check (use the JIT for it)");
}

Module Jit::compile_file(const std::string& path) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CompileError(path + ": error: cannot read the file\n");
  std::stringstream ss;
  ss << in.rdbuf();
  return compile_string(ss.str(), path);
}

Module Jit::compile_string(const std::string& source, const std::string& fileName) const {
  auto t0 = std::chrono::steady_clock::now();
  Module m;
  m.impl_ = std::make_shared<CompiledModule>();
  m.impl_->opts = opts_;
  m.impl_->fe = pipeline::runFrontend(source, fileName);
  m.impl_->compileMs = msSince(t0);
  return m;
}

// --- Module -------------------------------------------------------------------

std::vector<std::string> Module::functionNames() const {
  std::vector<std::string> names;
  for (auto& f : impl_->fe->ast->fns) names.push_back(f->name);
  return names;
}

Function Module::function(const std::string& name) const {
  const ast::FnDecl& d = impl_->decl(name);
  const ir::Module* irm = impl_->fe->module.get();
  auto cf = impl_->handle(name, [&](CompiledFunction& f) {
    setParams(f, d);
    f.resultType = resultTypeOf(d);
    f.build = [irm, name] { return pipeline::buildPrimal(*irm, name); };
  });
  return Function(impl_, cf);
}

void setParams(CompiledFunction& cf, const ast::FnDecl& d) {
  cf.name = d.name;
  for (auto& p : d.params) {
    cf.paramNames.push_back(p.name);
    cf.paramTypes.push_back(typeInfoOf(p.type));
  }
}

std::vector<int> resolveWrt(const ast::FnDecl& d, const std::vector<std::string>& wrt) {
  std::vector<int> idx;
  if (wrt.empty()) {
    for (size_t i = 0; i < d.params.size(); ++i) {
      ir::Scalar e = d.params[i].type.elem;
      if (!d.params[i].type.isTuple && (e == ir::Scalar::F64 || e == ir::Scalar::F32))
        idx.push_back(int(i));
    }
    if (idx.empty())
      throw CompileError("error: cannot differentiate '" + d.name + "': it has no float parameter\n");
    return idx;
  }
  for (const std::string& w : wrt) {
    int found = -1;
    for (size_t i = 0; i < d.params.size(); ++i)
      if (d.params[i].name == w) found = int(i);
    if (found < 0) throw UsageError("function '" + d.name + "' has no parameter named '" + w + "'");
    idx.push_back(found);
  }
  return idx;
}

Function Module::gradient(const std::string& name, const std::vector<std::string>& wrt,
                          bool withValue) const {
  const ast::FnDecl& d = impl_->decl(name);
  std::vector<int> idx = resolveWrt(d, wrt);
  checkDifferentiable(d, idx, impl_->fe->fileName);
  return derived(name, int(withValue ? ir::DiffKind::ValueAndGrad : ir::DiffKind::Grad), idx);
}

double Module::compileMs() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->compileMs;
}

// --- Function -----------------------------------------------------------------

const std::string& Function::name() const { return fn_->name; }
const std::vector<std::string>& Function::paramNames() const { return fn_->paramNames; }
const std::vector<TypeInfo>& Function::paramTypes() const { return fn_->paramTypes; }
const TypeInfo& Function::resultType() const { return fn_->resultType; }
void Function::setPrintStream(FILE* f) { tlsPrintStream = f; }
int64_t Function::lastTapeBytes() { return tlsTapePeak; }
void Function::compile() const { module_->ensureCompiled(*fn_); }
void Function::compileAll(const std::vector<Function>& fns) {
  std::vector<const Function*> todo;
  for (const Function& f : fns)
    if (!f.isCompiled()) todo.push_back(&f);
  size_t threads = std::min<size_t>(todo.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::exception_ptr> errors(todo.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < todo.size();) {
      try {
        todo[i]->compile();
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

bool Function::isCompiled() const { return fn_->compiled.load(std::memory_order_acquire); }

Value Function::call(const std::vector<Value>& args) const {
  compile();
  const CompiledFunction& f = *fn_;
  if (args.size() != f.paramIR.size())
    throw InputError("function '" + f.name + "' takes " + std::to_string(f.paramIR.size()) +
                     " argument(s), got " + std::to_string(args.size()));
  if (f.backend == Backend::Interpreter) {
    tlsTapePeak = 0;  // the interpreter's tape is not measured
    return interpretCall(*module_, f, args, tlsPrintStream ? tlsPrintStream : stdout);
  }
  CallFrame frame;
  packArguments(f, args, frame);
  ChainCallCtx ctx;
  rt::initCtx(ctx, tlsPrintStream ? tlsPrintStream : stdout);
  ctx.threads = module_->opts.threads;
  int32_t status = f.entry(&ctx, frame.argPtrs.data(), frame.resultPtrs.data());
  std::string message = ctx.message;
  tlsTapePeak = ctx.tapePeak;
  rt::releaseCtx(ctx);
  if (status != CHAIN_OK) throw runtimeError(*module_, message.empty() ? "runtime error" : message);
  return unpackResults(f, frame);
}

Value Function::interpret(const std::vector<Value>& args) const {
  const CompiledFunction& f = module_->withIR(*fn_);
  tlsTapePeak = 0;
  return interpretCall(*module_, f, args, tlsPrintStream ? tlsPrintStream : stdout);
}

}  // namespace chain
