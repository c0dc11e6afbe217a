// Internal state behind the public handles (chain::Module, chain::Function):
// the frontend result, the JIT engine and the cache of compiled functions.
#pragma once

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
  std::string name;                   // the user-facing name ("f", or "f" for its gradient)
  codegen::EntryFn entry = nullptr;
  std::vector<std::string> paramNames;
  std::vector<TypeInfo> paramTypes;
  std::vector<ir::Type> paramIR;
  TypeInfo resultType;                // structure of the result (tuples nest)
  std::vector<ir::Type> flatResults;  // the IR function's results
};

struct CompiledModule {
  Options opts;
  std::unique_ptr<pipeline::FrontendResult> fe;
  std::unique_ptr<codegen::JitEngine> jit;
  std::mutex mu;  // guards the cache and the JIT while compiling
  std::map<std::string, std::shared_ptr<CompiledFunction>> cache;
  double compileMs = 0;

  const ast::FnDecl& decl(const std::string& name) const;  // throws UsageError
  codegen::CodegenOptions codegenOptions() const;
  std::shared_ptr<CompiledFunction> compile(const std::string& key,
                                            const std::function<std::unique_ptr<ir::Function>()>& build);
};

TypeInfo typeInfoOf(const ast::TypeExpr& t);
TypeInfo typeInfoOf(const ast::SemType& t);
TypeInfo typeInfoOf(const ir::Type& t);
TypeInfo resultTypeOf(const ast::FnDecl& fn);
// Parameter indices for `wrt` names (empty: every float parameter).
std::vector<int> resolveWrt(const ast::FnDecl& d, const std::vector<std::string>& wrt);

}  // namespace chain
