// The LLVM back half: target set-up for the host CPU (its name and real
// features, so AVX2 / AVX-512 are used where present), the new-PassManager
// O0..O3 pipeline with the target's TargetIRAnalysis, the ORC LLJIT engine
// (one per JitEngine; chain_rt_* helpers as absolute symbols, libm from the
// process) with the persistent compile cache (ObjectCache.h) as the object
// cache of its compiler, and the text emitters for `chain emit --stage llvm|asm`.
// compileModule and makeTargetMachine are shared with `chain export`'s object
// emission (ObjectEmit.cpp), so an exported function is the JIT's code.
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/PassTimingInfo.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Pass.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Passes/StandardInstrumentations.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "ir/StageTimer.h"
#include "runtime/codegen/Codegen.h"
#include "runtime/codegen/CodegenImpl.h"
#include "runtime/codegen/ObjectCache.h"
#include "runtime/codegen/VectorMath.h"
#include "runtime/rt/Parallel.h"

namespace chain::codegen {
namespace {

// LLVM's own options, parsed once before any compilation: the defaults
// below, then CHAIN_LLVM_ARGS ("-time-passes ..." for profiling; naming one of
// the defaults there replaces it, e.g. -disable-lsr=false).
//
// Two of LLVM's O2 steps cost much compile time for our loops and bought no
// run time on the benchmark suite (same-run A/B of bench/): runtime
// unrolling of loops with unknown trip counts (every Chain loop: shapes are
// run-time values, and the vectoriser already interleaves) and loop strength
// reduction in codegen. Without them compile time fell by about a third
// (gmm 570 -> 339 ms, ode 362 -> 230, llsq 162 -> 115, lstm 788 -> 691).
// LLVM has no per-module switch for them: they are process-wide, so an
// embedding program that runs its own LLVM shares them.
void parseLLVMOptions() {
  const char* env = std::getenv("CHAIN_LLVM_ARGS");
  std::string user = env ? env : "";
  static std::vector<std::string> words{"chain"};
  for (const char* d : {"-disable-lsr", "-unroll-runtime=false"}) {
    std::string name = std::string(d).substr(1, std::string(d).find('=') - 1);
    if (user.find(name) == std::string::npos) words.push_back(d);
  }
  std::string w;
  for (const char* c = user.c_str();; ++c) {
    if (*c == ' ' || *c == 0) {
      if (!w.empty()) words.push_back(w);
      w.clear();
      if (*c == 0) break;
    } else {
      w += *c;
    }
  }
  std::vector<const char*> argv;
  for (auto& x : words) argv.push_back(x.c_str());
  llvm::cl::ParseCommandLineOptions(int(argv.size()), argv.data());
}

void initNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    parseLLVMOptions();
  });
}

// The host CPU, detected once per process: triple, CPU name and features.
// PIC + small code model, as LLJIT's JITLink layer expects.
const llvm::orc::JITTargetMachineBuilder& hostBuilder() {
  static std::once_flag once;
  static std::optional<llvm::orc::JITTargetMachineBuilder> jtmb;
  static std::string error;
  std::call_once(once, [] {
    initNativeTarget();
    auto j = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!j) {
      error = llvm::toString(j.takeError());
      return;
    }
    j->setRelocationModel(llvm::Reloc::PIC_);
    j->setCodeModel(llvm::CodeModel::Small);
    j->setCodeGenOptLevel(llvm::CodeGenOptLevel::Default);
    jtmb = std::move(*j);
  });
  if (!jtmb) throw std::runtime_error("cannot detect the host target: " + error);
  return *jtmb;
}

}  // namespace

// The host's (cpu "" or "native"), else CPU `cpu` of the host's triple with
// that CPU's default features; PIC and the small code model either way.
std::unique_ptr<llvm::TargetMachine> detail::makeTargetMachine(const std::string& cpu) {
  llvm::orc::JITTargetMachineBuilder jtmb = hostBuilder();
  if (!cpu.empty() && cpu != "native") {
    const llvm::Triple& triple = jtmb.getTargetTriple();
    std::string err;
    const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple.str(), err);
    if (!target) throw TargetError("no target for " + triple.str() + ": " + err);
    std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(triple.str(), "", ""));
    if (!sti || !sti->isCPUStringValid(cpu))
      throw TargetError("unknown CPU '" + cpu + "' for " + triple.str());
    jtmb.setCPU(cpu);
    jtmb.setFeatures("");
  }
  auto tm = jtmb.createTargetMachine();
  if (!tm) throw std::runtime_error("cannot create the target machine: " + llvm::toString(tm.takeError()));
  return std::move(*tm);
}

namespace {

void verifyOrDie(const llvm::Module& m) {
  std::string err;
  llvm::raw_string_ostream os(err);
  if (!llvm::verifyModule(m, &os)) return;
  llvm::errs() << "chain: internal error: generated LLVM IR does not verify:\n"
               << os.str() << "\n";
  m.print(llvm::errs(), nullptr);
  llvm::errs().flush();
  std::abort();
}

llvm::OptimizationLevel optLevel(int level) {
  switch (level <= 0 ? 0 : level >= 3 ? 3 : level) {
    case 0: return llvm::OptimizationLevel::O0;
    case 1: return llvm::OptimizationLevel::O1;
    case 2: return llvm::OptimizationLevel::O2;
    default: return llvm::OptimizationLevel::O3;
  }
}

// Chain's function pipeline for -O2, in `opt -passes=` syntax. Chain's IR
// reaches LLVM without calls, allocas that matter or redundant arithmetic
// (Chain's own passes inline, simplify and hoist), as one function per entry
// with one loop nest per array op: most of LLVM's O2 pipeline (inliner,
// IPO, jump threading, value propagation, constraint elimination,
// loop-load elimination, ...) finds nothing to do here but costs compile
// time. What is kept: clean-up (SROA, early CSE, InstCombine, SimplifyCFG),
// LICM and loop rotation, IndVarSimplify, GVN, the loop and SLP vectorisers
// (with the vector math library's mappings), Reassociate and LoopUnroll
// (loops of a constant trip count, such as mlp's 64 and 10 columns: without
// these two mlp ran 4-6% more instructions per call), LoopIdiom, MemCpyOpt
// and DSE (copy loops become memcpy: without them lstm ran 3-4% more
// instructions per call), and LoopFullUnroll, which also
// peels a loop's first iteration when that makes a condition constant. That
// last one matters: without it `[if i == 0 { x[0] } else { x[i] * y[i - 1] } for i in
// 0..n]` (ode's right-hand side) keeps the branch, the vectoriser turns the
// loads behind it into masked loads (y[i - 1] cannot be loaded at i = 0), and
// ode's primal runs 4.5x the instructions of O2's peeled, branch-free loop
// (callgrind, n = 10000, s = 10: 4.40 M against 0.98 M per call). That is
// the ode slowdown an earlier trimmed pipeline showed.
constexpr const char* kChainPipeline =
    "function("
    "sroa,early-cse<memssa>,simplifycfg,instcombine<max-iterations=1;no-verify-fixpoint>,reassociate,"
    "loop-mssa(licm,loop-rotate,licm<allowspeculation>),"
    "simplifycfg,instcombine<max-iterations=1;no-verify-fixpoint>,"
    "loop(loop-idiom,indvars,loop-deletion,loop-unroll-full),"
    "gvn,memcpyopt,dse,loop-mssa(licm<allowspeculation>),simplifycfg,instcombine<max-iterations=1;no-verify-fixpoint>,"
    "loop(loop-rotate),inject-tli-mappings,loop-vectorize,infer-alignment,"
    "instcombine<max-iterations=1;no-verify-fixpoint>,"
    "simplifycfg<forward-switch-cond;switch-range-to-icmp;switch-to-lookup;no-keep-loops;"
    "hoist-common-insts;sink-common-insts>,"
    "slp-vectorizer,vector-combine,instcombine<max-iterations=1;no-verify-fixpoint>,"
    "loop-unroll<O2>,instcombine<max-iterations=1;no-verify-fixpoint>,"
    "loop-mssa(licm<allowspeculation>),instsimplify,simplifycfg)";

// The IR pipeline for `level`: -O2 is Chain's (kChainPipeline), -O0, -O1
// and -O3 LLVM's default ones; all with the target's cost model
// (TargetIRAnalysis) so the vectorisers see the real vector width, and the
// vector math library's functions (VectorMath.h) for loops of exp, tanh...
// For compile-time experiments, CHAIN_PASSES replaces it (at -O1..-O3) by a
// pipeline in `opt -passes=` syntax; with CHAIN_LLVM_ARGS=-time-passes each
// pass's time is printed.
void optimizeModule(llvm::Module& m, llvm::TargetMachine& tm, int level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = level >= 2;
  pto.SLPVectorization = level >= 2;
  pto.LoopUnrolling = level >= 2;
  llvm::PassInstrumentationCallbacks pic;
  std::optional<llvm::StandardInstrumentations> si;
  if (llvm::TimePassesIsEnabled) {
    si.emplace(m.getContext(), false);
    si->registerCallbacks(pic, &mam);
  }
  llvm::PassBuilder pb(&tm, pto, std::nullopt, si ? &pic : nullptr);
  fam.registerPass([&] { return tm.getTargetIRAnalysis(); });
  llvm::TargetLibraryInfoImpl tlii(tm.getTargetTriple());
  addVectorMath(tlii, tm.getTargetTriple());
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm;
  const char* text = std::getenv("CHAIN_PASSES");
  if (level > 0 && (text || level == 2)) {
    if (auto err = pb.parsePassPipeline(mpm, text ? text : kChainPipeline))
      throw std::runtime_error(std::string(text ? "bad CHAIN_PASSES: " : "internal error: bad pipeline: ") +
                               llvm::toString(std::move(err)));
  } else {
    mpm = level <= 0 ? pb.buildO0DefaultPipeline(llvm::OptimizationLevel::O0)
                     : pb.buildPerModuleDefaultPipeline(optLevel(level));
  }
  mpm.run(m, mam);
}

}  // namespace

// Codegen + verify (+ optimise) for `tm`; `extend` may add to the module
// before it is verified and optimised (ObjectEmit.cpp's C functions).
std::unique_ptr<llvm::Module> detail::compileModule(llvm::LLVMContext& ctx, llvm::TargetMachine& tm,
                                                    const ir::Module& m,
                                                    const std::vector<const ir::Function*>& fns,
                                                    const CodegenOptions& opts, bool optimized,
                                                    const std::function<void(llvm::Module&)>& extend) {
  std::unique_ptr<llvm::Module> mod;
  {
    ir::StageScope timing("llvm.build");
    mod = detail::buildModule(ctx, tm.createDataLayout(), m, fns, opts);
    mod->setTargetTriple(tm.getTargetTriple().str());
    if (extend) extend(*mod);
  }
  {
    ir::StageScope timing("llvm.verify");
    verifyOrDie(*mod);
  }
  if (optimized) {
    ir::StageScope timing("llvm.opt");
    optimizeModule(*mod, tm, opts.optLevel);
  }
  return mod;
}

namespace {

std::vector<CachedSignature> signaturesOf(const std::vector<const ir::Function*>& fns) {
  std::vector<CachedSignature> sigs;
  for (const ir::Function* f : fns) {
    CachedSignature s;
    s.name = f->name;
    for (auto& a : f->body.args) s.params.push_back(a->type);
    s.results = f->resultTypes;
    sigs.push_back(std::move(s));
  }
  return sigs;
}

// A batch's target machine, its time (with the host detection and LLVM's
// set-up on a process's first compile) charged to jit.create.
std::unique_ptr<llvm::TargetMachine> timedTargetMachine() {
  ir::StageScope timing("jit.create");
  return detail::makeTargetMachine();
}

// Batches compile concurrently: each add() builds, optimises and compiles its
// module to an object on the calling thread, with its own LLVMContext and
// TargetMachine (neither is shared between threads), and only linking the
// object into the JIT is serialised. LLVM's -time-passes timers are not
// thread-safe, so with them whole batches run one at a time.
class LLJitEngine final : public JitEngine {
 public:
  LLJitEngine() {
    ir::StageScope timing("jit.create");
    llvm::orc::LLJITBuilder builder;
    builder.setJITTargetMachineBuilder(hostBuilder());
    auto jit = builder.create();
    if (!jit) throw std::runtime_error("cannot create the JIT: " + llvm::toString(jit.takeError()));
    jit_ = std::move(*jit);
    defineRuntimeSymbols();
  }

  void add(const ir::Module& m, const std::vector<const ir::Function*>& fns,
           const CodegenOptions& opts, const std::string& cacheKey) override {
    std::unique_lock<std::mutex> serial(timedMu_, std::defer_lock);
    if (llvm::TimePassesIsEnabled) serial.lock();
    std::unique_ptr<llvm::TargetMachine> tm = timedTargetMachine();
    llvm::LLVMContext ctx;
    auto mod = detail::compileModule(ctx, *tm, m, fns, opts, true);
    // The compiler hands the object to `cache` (notifyObjectCompiled), which
    // recognises the module by its name.
    DiskObjectCache cache;
    cache.configure(opts.cache);
    cache.expect(cacheKey, cacheKey.empty() ? std::vector<CachedSignature>{} : signaturesOf(fns));
    if (!cacheKey.empty()) mod->setModuleIdentifier(cacheKey);
    std::unique_ptr<llvm::MemoryBuffer> object;
    {
      ir::StageScope timing("llvm.codegen");
      auto compiled = llvm::orc::SimpleCompiler(*tm, &cache)(*mod);
      if (!compiled) throw std::runtime_error("cannot compile: " + llvm::toString(compiled.takeError()));
      object = std::move(*compiled);
    }
    std::vector<std::string> names;
    for (const ir::Function* f : fns) names.push_back(f->name);
    {
      ir::StageScope timing("jit.link");
      std::lock_guard<std::mutex> lock(mu_);
      if (auto err = jit_->addObjectFile(std::move(object)))
        throw std::runtime_error("cannot add code to the JIT: " + llvm::toString(std::move(err)));
      // Link now, under the lock: later lookups from any thread only read the table.
      if (auto err = materialize(names)) throw std::runtime_error(llvm::toString(std::move(err)));
    }
    reportTimes(names);
    if (llvm::TimePassesIsEnabled) llvm::reportAndResetTimings(&llvm::errs());
  }

  // A cached object is linked under its own resource tracker, so that one
  // that does not link is removed again and the batch compiled instead.
  std::optional<std::vector<CachedSignature>> addCached(const std::string& cacheKey,
                                                        const CodegenOptions& opts) override {
    if (cacheKey.empty()) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> names;
    std::optional<CacheEntry> entry;
    {
      ir::StageScope timing("cache.load+link");
      cache_.configure(opts.cache);
      entry = cache_.load(cacheKey);
      if (!entry) return std::nullopt;
      for (const CachedSignature& s : entry->signatures) names.push_back(s.name);
      llvm::orc::ResourceTrackerSP rt = jit_->getMainJITDylib().createResourceTracker();
      llvm::Error err = jit_->addObjectFile(rt, std::move(entry->object));
      if (!err) err = materialize(names);
      cache_.noteLinked(!err);
      if (err) {
        llvm::consumeError(std::move(err));
        llvm::consumeError(rt->remove());
        return std::nullopt;
      }
    }
    reportTimes(names);
    return std::move(entry->signatures);
  }

  // One CHAIN_TIME_PASSES line per batch, covering the IR pipeline that
  // built it too (the stages charged on this thread since the last line).
  static void reportTimes(const std::vector<std::string>& fns) {
    if (!ir::stageTimingEnabled()) return;
    std::string names;
    for (const std::string& f : fns) names += (names.empty() ? "" : ",") + f;
    ir::printStageReport(names);
  }

  EntryFn lookup(const std::string& name) override {
    auto sym = jit_->lookup("chain.entry." + name);
    if (!sym) {
      llvm::consumeError(sym.takeError());
      return nullptr;
    }
    return sym->toPtr<EntryFn>();
  }

 private:
  // Looks every entry point up, which links (and, for IR, compiles) them.
  llvm::Error materialize(const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      auto sym = jit_->lookup("chain.entry." + name);
      if (!sym)
        return llvm::createStringError("cannot compile '" + name + "': " + llvm::toString(sym.takeError()));
    }
    return llvm::Error::success();
  }

  void defineRuntimeSymbols() {
    llvm::orc::JITDylib& jd = jit_->getMainJITDylib();
    llvm::orc::SymbolMap syms;
    auto def = [&](const char* name, auto* fn) {
      syms[jit_->mangleAndIntern(name)] = llvm::orc::ExecutorSymbolDef(
          llvm::orc::ExecutorAddr::fromPtr(fn),
          llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
    };
    def("chain_rt_tape_reserve", &chain_rt_tape_reserve);
    def("chain_rt_print", &chain_rt_print);
    def("chain_rt_error", &chain_rt_error);
    def("chain_rt_alloc", &chain_rt_alloc);
    def("chain_rt_free", &chain_rt_free);
    def("chain_rt_arena_release", &chain_rt_arena_release);
    def("chain_rt_arena_release_keep", &chain_rt_arena_release_keep);
    def("chain_rt_alloc_result", &chain_rt_alloc_result);
    def("chain_rt_export", &chain_rt_export);
    def("chain_rt_error_fmt", &chain_rt_error_fmt);
    def("chain_rt_print_array", &chain_rt_print_array);
    def("chain_rt_uniform_f64", &chain_rt_uniform_f64);
    def("chain_rt_uniform_f32", &chain_rt_uniform_f32);
    def("chain_rt_normal_f64", &chain_rt_normal_f64);
    def("chain_rt_normal_f32", &chain_rt_normal_f32);
    def("chain_rt_mix", &chain_rt_mix);
    def("chain_rt_parallel_for", &chain_rt_parallel_for);
    if (auto err = jd.define(llvm::orc::absoluteSymbols(std::move(syms))))
      throw std::runtime_error("cannot define runtime symbols: " + llvm::toString(std::move(err)));
    auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
        jit_->getDataLayout().getGlobalPrefix());
    if (!gen) throw std::runtime_error("cannot search the process: " + llvm::toString(gen.takeError()));
    jd.addGenerator(std::move(*gen));
    if (const char* lib = vectorMathLibrary()) {
      auto vec = llvm::orc::DynamicLibrarySearchGenerator::Load(lib, jit_->getDataLayout().getGlobalPrefix());
      if (!vec) throw std::runtime_error(std::string("cannot search ") + lib + ": " + llvm::toString(vec.takeError()));
      jd.addGenerator(std::move(*vec));
    }
  }

  std::mutex mu_;       // guards jit_'s linking and cache_
  std::mutex timedMu_;  // one batch at a time under -time-passes
  DiskObjectCache cache_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

}  // namespace

std::unique_ptr<JitEngine> JitEngine::create() { return std::make_unique<LLJitEngine>(); }

std::string cacheKey(const CodegenOptions& opts, const std::string& source, const std::string& fnKey) {
  if (!opts.cache.enabled) return "";
  const llvm::orc::JITTargetMachineBuilder& host = hostBuilder();
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string("=") + v : std::string("unset");
  };
  const char* vecLib = vectorMathLibrary();
  return hashCacheKey({host.getTargetTriple().str(), host.getCPU(), host.getFeatures().getString(),
                       env("CHAIN_LLVM_ARGS"), env("CHAIN_PASSES"), vecLib ? vecLib : "",
                       "O" + std::to_string(opts.optLevel), opts.boundsChecks ? "bounds" : "",
                       opts.nanCheck ? "nan" : "", "grain" + std::to_string(opts.parallelGrain), opts.fileName, fnKey, source});
}

std::string emitLLVM(const ir::Module& m, const std::vector<const ir::Function*>& fns,
                     const CodegenOptions& opts, bool optimized) {
  auto tm = detail::makeTargetMachine();
  llvm::LLVMContext ctx;
  auto mod = detail::compileModule(ctx, *tm, m, fns, opts, optimized);
  std::string s;
  llvm::raw_string_ostream os(s);
  mod->print(os, nullptr);
  return os.str();
}

bool hostHasFeature(const std::string& feature) {
  const llvm::SubtargetFeatures& f = hostBuilder().getFeatures();
  for (const std::string& s : f.getFeatures())
    if (s == "+" + feature) return true;
  return false;
}

std::string emitAsm(const ir::Module& m, const std::vector<const ir::Function*>& fns,
                    const CodegenOptions& opts) {
  auto tm = detail::makeTargetMachine();
  llvm::LLVMContext ctx;
  auto mod = detail::compileModule(ctx, *tm, m, fns, opts, true);
  llvm::SmallString<4096> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
    throw std::runtime_error("the target cannot emit assembly");
  pm.run(*mod);
  return std::string(buf.str());
}

}  // namespace chain::codegen
