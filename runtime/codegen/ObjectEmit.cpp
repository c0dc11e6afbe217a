// Object files for `chain export`: the functions compiled exactly as the JIT
// compiles them (Jit.cpp's compileModule: the same code generation and O-level
// pipeline, for the host or a named CPU), plus one plain C function per
// exported function, emitted as a relocatable, position-independent object.
//
// A C function (ExportedFunction in Codegen.h) only lays out what the uniform
// entry takes: a ChainArray descriptor per array parameter (its data pointer
// and its dims from the size arguments, literals or i64 parameters), a slot per
// scalar, the argument and result pointer arrays, a ChainExportResult per
// result (the caller's buffer and its declared shape) and the sizes to check;
// chain_rt_call_exported (runtime/rt/ExportCall.cpp) does the rest. The entry
// is passed to it by address, so it is not inlined into the wrapper: it is
// the JIT's code. Every other symbol is made internal, so that a program
// that defines its own `entry` or `loss_impl` links.
#include <llvm/ADT/SmallString.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <set>

#include "runtime/codegen/CodegenImpl.h"

namespace chain::codegen {
namespace {

class WrapperEmitter {
 public:
  WrapperEmitter(llvm::Module& m, const ExportedFunction& e) : m_(m), e_(e), b_(m.getContext()) {}
  void emit();

 private:
  llvm::Type* cType(ir::Type t) {
    if (t.rank != 0) return b_.getPtrTy();
    switch (t.elem) {
      case ir::Scalar::F64: return b_.getDoubleTy();
      case ir::Scalar::F32: return b_.getFloatTy();
      case ir::Scalar::I64: return b_.getInt64Ty();
      case ir::Scalar::Bool: return b_.getInt8Ty();  // C's bool: any non-zero byte is true
    }
    detail::internalError("bad scalar kind");
  }
  static int64_t elemBytes(ir::Scalar s) {
    return s == ir::Scalar::F64 || s == ir::Scalar::I64 ? 8 : s == ir::Scalar::F32 ? 4 : 1;
  }
  llvm::Value* dim(const ExportDim& d) {
    switch (d.kind) {
      case ExportDim::Literal: return b_.getInt64(uint64_t(d.value));
      case ExportDim::Size: return fn_->getArg(unsigned(e_.params.size() + size_t(d.value)));
      case ExportDim::Param: return fn_->getArg(unsigned(d.value));
    }
    detail::internalError("bad export dimension");
  }
  llvm::Value* element(llvm::Type* arrayTy, llvm::Value* base, size_t i) {
    return b_.CreateConstInBoundsGEP2_64(arrayTy, base, 0, i);
  }
  // A ChainArray {data, shape[8]} filled with `data` and `dims`.
  llvm::Value* descriptor(llvm::Value* data, const std::vector<ExportDim>& dims);
  llvm::Value* argsArray();
  llvm::Value* resultsArray(llvm::Value*& specs);
  llvm::Value* sizesArray(llvm::Value*& names, int32_t& count);

  llvm::Module& m_;
  const ExportedFunction& e_;
  llvm::IRBuilder<> b_;
  llvm::Function* fn_ = nullptr;
  llvm::StructType* arrayTy_ = nullptr;
};

llvm::Value* WrapperEmitter::descriptor(llvm::Value* data, const std::vector<ExportDim>& dims) {
  llvm::Value* d = b_.CreateAlloca(arrayTy_);
  b_.CreateStore(data, b_.CreateStructGEP(arrayTy_, d, 0));
  llvm::Value* shape = b_.CreateStructGEP(arrayTy_, d, 1);
  for (size_t a = 0; a < dims.size(); ++a)
    b_.CreateStore(dim(dims[a]), element(arrayTy_->getElementType(1), shape, a));
  return d;
}

llvm::Value* WrapperEmitter::argsArray() {
  auto* ty = llvm::ArrayType::get(b_.getPtrTy(), std::max<size_t>(1, e_.params.size()));
  llvm::Value* args = b_.CreateAlloca(ty, nullptr, "args");
  for (size_t i = 0; i < e_.params.size(); ++i) {
    ir::Type t = e_.params[i];
    llvm::Value* x = fn_->getArg(unsigned(i));
    llvm::Value* slot;
    if (t.rank != 0) {
      slot = descriptor(x, e_.paramDims[i]);
    } else {
      if (t.elem == ir::Scalar::Bool) x = b_.CreateZExt(b_.CreateICmpNE(x, b_.getInt8(0)), b_.getInt8Ty());
      slot = b_.CreateAlloca(x->getType());
      b_.CreateStore(x, slot);
    }
    b_.CreateStore(slot, element(ty, args, i));
  }
  return args;
}

// results[j]: the caller's pointer for a scalar, a descriptor for an array;
// `specs` the ChainExportResult array.
llvm::Value* WrapperEmitter::resultsArray(llvm::Value*& specs) {
  size_t n = std::max<size_t>(1, e_.results.size());
  auto* ty = llvm::ArrayType::get(b_.getPtrTy(), n);
  llvm::Type* i64 = b_.getInt64Ty();
  auto* specTy = llvm::StructType::get(b_.getPtrTy(), i64, i64, llvm::ArrayType::get(i64, 8));
  auto* specsTy = llvm::ArrayType::get(specTy, n);
  llvm::Value* results = b_.CreateAlloca(ty, nullptr, "results");
  specs = b_.CreateAlloca(specsTy, nullptr, "specs");
  size_t first = e_.params.size() + e_.sizeNames.size();
  for (size_t j = 0; j < e_.results.size(); ++j) {
    ir::Type t = e_.results[j];
    llvm::Value* out = fn_->getArg(unsigned(first + j));
    llvm::Value* spec = element(specsTy, specs, j);
    bool array = t.rank != 0;
    b_.CreateStore(array ? out : llvm::ConstantPointerNull::get(b_.getPtrTy()), b_.CreateStructGEP(specTy, spec, 0));
    b_.CreateStore(b_.getInt64(uint64_t(array ? elemBytes(t.elem) : 0)), b_.CreateStructGEP(specTy, spec, 1));
    b_.CreateStore(b_.getInt64(uint64_t(t.rank)), b_.CreateStructGEP(specTy, spec, 2));
    llvm::Value* shape = b_.CreateStructGEP(specTy, spec, 3);
    for (size_t a = 0; a < e_.resultDims[j].size(); ++a)
      b_.CreateStore(dim(e_.resultDims[j][a]), element(specTy->getElementType(3), shape, a));
    llvm::Value* slot = array ? descriptor(llvm::ConstantPointerNull::get(b_.getPtrTy()), {}) : out;
    b_.CreateStore(slot, element(ty, results, j));
  }
  return results;
}

// The sizes chain_rt_call_exported checks: every size argument, then every
// i64 parameter that some dimension uses; `names` their names.
llvm::Value* WrapperEmitter::sizesArray(llvm::Value*& names, int32_t& count) {
  std::vector<llvm::Value*> vals;
  std::vector<llvm::Constant*> labels;
  for (size_t k = 0; k < e_.sizeNames.size(); ++k) {
    vals.push_back(fn_->getArg(unsigned(e_.params.size() + k)));
    labels.push_back(b_.CreateGlobalStringPtr(e_.sizeNames[k], "chain.size.name", 0, &m_));
  }
  std::set<int64_t> seen;
  for (const auto* list : {&e_.paramDims, &e_.resultDims})
    for (const auto& dims : *list)
      for (const ExportDim& d : dims)
        if (d.kind == ExportDim::Param && seen.insert(d.value).second) {
          vals.push_back(fn_->getArg(unsigned(d.value)));
          labels.push_back(b_.CreateGlobalStringPtr(e_.paramNames[size_t(d.value)], "chain.size.name", 0, &m_));
        }
  count = int32_t(vals.size());
  auto* ty = llvm::ArrayType::get(b_.getInt64Ty(), std::max<size_t>(1, vals.size()));
  llvm::Value* sizes = b_.CreateAlloca(ty, nullptr, "sizes");
  for (size_t k = 0; k < vals.size(); ++k) b_.CreateStore(vals[k], element(ty, sizes, k));
  auto* namesTy = llvm::ArrayType::get(b_.getPtrTy(), std::max<size_t>(1, labels.size()));
  if (labels.empty()) labels.push_back(llvm::ConstantPointerNull::get(b_.getPtrTy()));
  names = new llvm::GlobalVariable(m_, namesTy, true, llvm::GlobalValue::PrivateLinkage,
                                   llvm::ConstantArray::get(namesTy, labels), "chain.size.names");
  return sizes;
}

void WrapperEmitter::emit() {
  std::vector<llvm::Type*> argTys;
  for (ir::Type t : e_.params) argTys.push_back(cType(t));
  argTys.insert(argTys.end(), e_.sizeNames.size(), b_.getInt64Ty());
  argTys.insert(argTys.end(), e_.results.size(), b_.getPtrTy());
  auto* fty = llvm::FunctionType::get(b_.getInt32Ty(), argTys, false);
  if (m_.getNamedValue(e_.cName)) detail::internalError("exported name '" + e_.cName + "' is taken");
  fn_ = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, e_.cName, m_);
  fn_->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::Function* entry = m_.getFunction("chain.entry." + e_.entry);
  if (!entry) detail::internalError("no entry for exported function '" + e_.cName + "'");
  arrayTy_ = llvm::StructType::get(b_.getPtrTy(), llvm::ArrayType::get(b_.getInt64Ty(), 8));
  b_.SetInsertPoint(llvm::BasicBlock::Create(m_.getContext(), "entry", fn_));
  llvm::Value* args = argsArray();
  llvm::Value* specs = nullptr;
  llvm::Value* results = resultsArray(specs);
  llvm::Value* names = nullptr;
  int32_t nsizes = 0;
  llvm::Value* sizes = sizesArray(names, nsizes);
  llvm::Type* ptr = b_.getPtrTy();
  llvm::Type* i32 = b_.getInt32Ty();
  llvm::FunctionCallee call = m_.getOrInsertFunction(
      "chain_rt_call_exported", llvm::FunctionType::get(i32, {ptr, ptr, ptr, ptr, ptr, i32, ptr, ptr, i32}, false));
  llvm::Value* status = b_.CreateCall(
      call, {b_.CreateGlobalStringPtr(e_.cName, "chain.fn.name", 0, &m_), entry, args, results, specs,
             b_.getInt32(int32_t(e_.results.size())), sizes, names, b_.getInt32(nsizes)});
  b_.CreateRet(status);
}

// Everything defined in the module but the C functions becomes internal.
void internalize(llvm::Module& m, const std::vector<ExportedFunction>& exported) {
  std::set<std::string> keep;
  for (const ExportedFunction& e : exported) keep.insert(e.cName);
  for (llvm::GlobalValue& g : m.global_values())
    if (!g.isDeclaration() && !keep.count(g.getName().str()) && !g.getName().starts_with("llvm."))
      g.setLinkage(llvm::GlobalValue::InternalLinkage);
}

}  // namespace

std::string emitObject(const ir::Module& m, const std::vector<const ir::Function*>& fns,
                       const std::vector<ExportedFunction>& exported, const CodegenOptions& opts,
                       const std::string& cpu) {
  auto tm = detail::makeTargetMachine(cpu);
  llvm::LLVMContext ctx;
  auto mod = detail::compileModule(ctx, *tm, m, fns, opts, true, [&](llvm::Module& mm) {
    for (const ExportedFunction& e : exported) WrapperEmitter(mm, e).emit();
    internalize(mm, exported);
  });
  llvm::SmallString<0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    throw TargetError("the target cannot emit object files");
  pm.run(*mod);
  return std::string(buf.str());
}

}  // namespace chain::codegen
