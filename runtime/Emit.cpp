// Module::emit: the text of any pipeline stage for one function
// (`chain emit --stage ...`): ast, ir, each registered pass, grad (reverse
// mode), jvp (forward mode), opt, llvm, asm.
#include "frontend/AST.h"
#include "ir/Printer.h"
#include "passes/Passes.h"
#include "runtime/ApiImpl.h"

namespace chain {

std::vector<std::string> Module::stageNames() {
  std::vector<std::string> names{"ast", "ir"};
  for (auto& p : passes::registry()) names.push_back(p.name);
  for (const char* s : {"grad", "jvp", "opt", "llvm", "asm"}) names.push_back(s);
  return names;
}

std::string Module::emit(const std::string& stage, const std::string& fn,
                         const std::vector<std::string>& wrt) const {
  const ast::FnDecl& d = impl_->decl(fn);
  const ir::Module& irm = *impl_->fe->module;
  if (stage == "ast") return ast::printAST(d);
  // As lowered: needs no other function (not even the gradients it calls).
  if (stage == "ir") return ir::printFunction(*irm.lookup(fn));

  std::string captured;
  auto captureStage = [&](const std::string& want) {
    return [&captured, want](const std::string& s, const ir::Function& f) {
      if (s == want) captured = ir::printFunction(f);
    };
  };
  if (passes::findPass(stage)) {
    pipeline::buildPrimal(irm, fn, captureStage(stage));
    return captured;
  }
  if (stage == "grad") {
    pipeline::buildGradient(irm, fn, resolveWrt(d, wrt), false, captureStage("grad"));
    return captured;
  }
  if (stage == "jvp") {  // forward mode, before simplification
    pipeline::buildDerived(irm, fn, {{ir::DiffKind::Jvp, resolveWrt(d, wrt)}}, captureStage("jvp"));
    return captured;
  }
  if (stage != "opt" && stage != "llvm" && stage != "asm")
    throw UsageError("unknown stage '" + stage + "'");

  // opt / llvm / asm: the primal, then its gradient when it has one.
  ir::Module holder;
  holder.fileName = impl_->fe->fileName;
  std::vector<const ir::Function*> fns;
  fns.push_back(holder.add(pipeline::buildPrimal(irm, fn)));
  try {
    fns.push_back(holder.add(pipeline::buildGradient(irm, fn, resolveWrt(d, wrt), false)));
  } catch (const CompileError&) {
    if (!wrt.empty()) throw;  // asked for explicitly: report why not
  }
  if (stage == "opt") {
    std::string out;
    for (const ir::Function* f : fns) out += (out.empty() ? "" : "\n") + ir::printFunction(*f);
    return out;
  }
  codegen::CodegenOptions opts = impl_->codegenOptions();
  if (stage == "llvm") return codegen::emitLLVM(holder, fns, opts, true);
  return codegen::emitAsm(holder, fns, opts);
}

}  // namespace chain
