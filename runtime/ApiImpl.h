// Internal state behind the public handles (chain::Module, chain::Function):
// the frontend result, the JIT engine and the cache of functions. A function
// is made in two steps: its handle (signature, and how to build its IR) when
// Module::function/gradient is asked for it, its code when it is first called
// or Function::compile() runs (CompiledModule::ensureCompiled), so a command
// compiles only what it runs.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chain/chain.h"
#include "runtime/Pipeline.h"
#include "runtime/codegen/Codegen.h"

namespace chain {

struct CompiledFunction {
  // The signature, set when the handle is made and never changed.
  std::string name;                   // the user-facing name ("f", or "f" for its gradient)
  std::vector<std::string> paramNames;
  std::vector<TypeInfo> paramTypes;
  TypeInfo resultType;                // structure of the result (tuples nest)
  Backend backend = Backend::Jit;     // what call() runs
  std::string key;                    // its key in CompiledModule::cache (and the disk cache's)
  // Builds the call-free IR; run by ensureCompiled until it succeeds.
  std::function<std::unique_ptr<ir::Function>()> build;

  std::mutex compileMu;  // held while ensureCompiled builds and compiles it
  // Set by ensureCompiled under compileMu, then published by
  // `compiled` (release); readers check `compiled` (acquire) first.
  std::atomic<bool> compiled{false};
  codegen::EntryFn entry = nullptr;
  std::vector<ir::Type> paramIR;
  std::vector<ir::Type> flatResults;  // the IR function's results
  // The call-free IR the entry was compiled from, kept for the interpreter;
  // none for code loaded from the disk cache until withIR builds it.
  std::shared_ptr<ir::Module> irModule;
  const ir::Function* irFn = nullptr;
};

struct CompiledModule {
  Options opts;
  std::unique_ptr<pipeline::FrontendResult> fe;
  std::unique_ptr<codegen::JitEngine> jit;
  std::mutex mu;  // guards the cache, the compile-time account and creating jit
  std::map<std::string, std::shared_ptr<CompiledFunction>> cache;
  // Wall time during which at least one compilation ran (functions compiled
  // concurrently count once): compileMs so far, plus the running stretch
  // since busySince while activeCompiles > 0.
  double compileMs = 0;
  int activeCompiles = 0;
  std::chrono::steady_clock::time_point busySince;

  const ast::FnDecl& decl(const std::string& name) const;  // throws UsageError
  codegen::CodegenOptions codegenOptions() const;
  // The cached handle for `key`, made by `make` (signature and build) the
  // first time; compiles nothing.
  std::shared_ptr<CompiledFunction> handle(const std::string& key,
                                           const std::function<void(CompiledFunction&)>& make);
  // Builds and JIT-compiles f once (thread-safe: different functions compile
  // concurrently), or loads its code from the disk cache without building
  // its IR; a failure (CompileError) leaves it uncompiled, so the next call
  // reports it again.
  void ensureCompiled(CompiledFunction& f);
  // Counts the wall time between a compilation's start and its end.
  void compileStarted();
  void compileEnded();
  // f, compiled, with its IR built (for the interpreter).
  const CompiledFunction& withIR(CompiledFunction& f);
};

// The argument and result storage of one call, in the entry's ABI.
union Scalar64 {
  double f64;
  float f32;
  int64_t i64;
  uint8_t b;
};
struct CallFrame {
  std::vector<Scalar64> scalars;      // one per parameter (used for scalars)
  std::vector<ChainArray> arrays;     // one per parameter (used for arrays)
  std::vector<Tensor> converted;      // tensors converted to the parameter's dtype
  std::vector<void*> argPtrs;
  std::vector<Scalar64> resultScalars;
  std::vector<ChainArray> resultArrays;
  std::vector<void*> resultPtrs;
};
// Checks `args` against the signature (types, ranks, shared size names) and
// fills the frame; throws InputError naming the parameter (and axis, sizes).
void packArguments(const CompiledFunction& f, const std::vector<Value>& args, CallFrame& frame);
// Wraps the results of a successful call (array results become owning Tensors).
Value unpackResults(const CompiledFunction& f, CallFrame& frame);
// Nests the flat results (one per IR result) as f.resultType says.
Value structureResults(const CompiledFunction& f, std::vector<Value> flat);

// Runs f's IR with the reference interpreter (runtime/Interp.cpp): arguments
// checked by packArguments, print() output to `printStream`, interpreter
// errors and exhausted memory thrown as RuntimeError.
Value interpretCall(const CompiledModule& m, const CompiledFunction& f, const std::vector<Value>& args,
                    FILE* printStream);
// The RuntimeError of a failed call of a function of `m` whose runtime
// message is `msg`: "file:line:col: text" also gets its diagnostic(), text
// rendered at that position of m's source by the frontend's renderer.
RuntimeError runtimeError(const CompiledModule& m, const std::string& msg);

DType dtypeOf(ir::Scalar s);
TypeInfo typeInfoOf(const ast::TypeExpr& t);
TypeInfo typeInfoOf(const ast::SemType& t);
TypeInfo typeInfoOf(const ir::Type& t);
TypeInfo resultTypeOf(const ast::FnDecl& fn);
// The name and parameters of d, as the handle of d or of a derivative of d shows them.
void setParams(CompiledFunction& cf, const ast::FnDecl& d);
// The elements of a (nested) tuple type in order, as the IR's flat results;
// {t} for a type that is not a tuple.
std::vector<TypeInfo> flatten(const TypeInfo& t);
// Parameter indices for `wrt` names (empty: every float parameter).
std::vector<int> resolveWrt(const ast::FnDecl& d, const std::vector<std::string>& wrt);

}  // namespace chain
