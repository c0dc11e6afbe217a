// Internal interface of the code generator: FnEmitter turns one call-free
// Chain IR function into the LLVM function "chain.entry.<F>" with the uniform
// signature i32 (ptr ctx, ptr args, ptr results) of RuntimeABI.h.
//
// The emitter is split by concern: Codegen.cpp (entry, parameters, op
// dispatch, module assembly), CodegenScalar.cpp (constants, arithmetic, math,
// comparisons, casts), CodegenControl.cpp (if / for / while and regions),
// CodegenEffects.cpp (print, the tape, runtime errors, the NaN check),
// CodegenArrays.cpp (array values: parameters, results, the arena, index,
// slice, update, fill, build, transpose, assert), CodegenArrayLoops.cpp
// (counted loops, map, reduce, matmul, hoisted bounds checks) and
// CodegenArrayEffects.cpp (print and tape of arrays). BufferPlan decides
// which updates are in place.
//
// Array values: an array SSA value is an ArrVal {data pointer, dims[rank]}.
// Where values cross control flow (region arguments, yields, phis) they are
// flattened: a scalar is one LLVM value, an array 1 + rank (data, dims...).
// Everything here is private to runtime/codegen.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/IR.h"
#include "runtime/codegen/BufferPlan.h"
#include "runtime/codegen/Codegen.h"

namespace llvm {
class TargetMachine;
}

namespace chain::codegen::detail {

// Field indices of ChainCallCtx in its LLVM struct type (see ctxType()).
enum CtxField : unsigned {
  kTapeBase = 0,
  kTapeTop = 1,
  kTapeCap = 2,
  kTapePeak = 3,
  kPrintStream = 4,
  kStatus = 5,
  kMessage = 6,
  kArena = 7,
};

// An array value: its buffer and its dimensions (i64), row-major.
struct ArrVal {
  llvm::Value* data = nullptr;
  std::vector<llvm::Value*> dims;
};

// One array selection (slice / update / add_at): per source axis its first
// index, its length and whether it is an axis of the result.
struct Selection {
  std::vector<llvm::Value*> start, count;
  std::vector<bool> keep;
};

// How an accumulating loop's carried value is shared by its chunks
// (CodegenParallelAcc.cpp).
enum class AccSlot { Scalar, Owner, Private };

// Whether `b` (at any depth) prints or uses the tape: such loops stay serial
// (output order, the call's one tape).
bool printsOrTapes(const ir::Block& b);
// Whether `v` is defined in `region` or in a region nested in it.
bool definedIn(const ir::Value* v, const ir::Block& region);

// A compiler bug: prints the message and aborts (also in release builds).
[[noreturn]] void internalError(const std::string& msg);

// Jit.cpp, shared with ObjectEmit.cpp: the target machine for `cpu` ("" or
// "native": the host; throws TargetError for an unknown CPU), and code
// generation + verification (+ the O-level pipeline) of `fns` for it,
// `extend` adding to the module before it is verified and optimised.
std::unique_ptr<llvm::TargetMachine> makeTargetMachine(const std::string& cpu = "");
std::unique_ptr<llvm::Module> compileModule(llvm::LLVMContext& ctx, llvm::TargetMachine& tm,
                                            const ir::Module& m,
                                            const std::vector<const ir::Function*>& fns,
                                            const CodegenOptions& opts, bool optimized,
                                            const std::function<void(llvm::Module&)>& extend = {});

class FnEmitter {
 public:
  FnEmitter(llvm::Module& m, const ir::Function& f, const CodegenOptions& opts);
  // Emits chain.entry.<f> into the module.
  void emit();

 private:
  // --- Codegen.cpp: entry, values, dispatch --------------------------------
  llvm::Type* typeOf(ir::Type t);
  llvm::Type* memTypeOf(ir::Type t);  // bool is stored as i8
  llvm::Value* get(const ir::Value* v);
  void set(const ir::Value* v, llvm::Value* x);
  // Flattened values (see above) for control flow.
  std::vector<llvm::Type*> flatTypes(ir::Type t);
  std::vector<llvm::Value*> flat(const ir::Value* v);
  void bindFlat(const ir::Value* v, const std::vector<llvm::Value*>& xs, size_t& pos);
  size_t flatSize(ir::Type t) const { return t.rank == 0 ? 1 : 1 + static_cast<size_t>(t.rank); }
  llvm::Value* loadScalar(ir::Type t, llvm::Value* ptr);
  void storeScalar(ir::Type t, llvm::Value* x, llvm::Value* ptr);
  llvm::Value* loadParam(const ir::Value* p, unsigned index);
  void storeResult(ir::Type t, llvm::Value* x, unsigned index);
  void emitOp(const ir::Operation& op);
  // fn_'s entry block and its error exit (returning exitStatus_); the builder
  // is left at the entry. endBody drops an unused exit, releases the arena
  // before every return and annotates aliasing (see annotateAliasing).
  llvm::BasicBlock* beginBody();
  void endBody(llvm::BasicBlock* entry, const std::vector<llvm::Value*>& paramData);
  void releaseArenaOnReturn(llvm::BasicBlock* entry);
  void annotateAliasing(const std::vector<llvm::Value*>& paramData);

  // --- CodegenScalar.cpp (no switch over OpKind: emitOp picks the helper) --
  bool isFloatOp(const ir::Operation& op) const { return op.operand(0)->type.isFloat(); }
  llvm::Value* constFloat(const ir::Operation& op);
  llvm::Value* arith(const ir::Operation& op, llvm::Instruction::BinaryOps fop,
                     llvm::Instruction::BinaryOps iop);
  llvm::Value* emitIntDivRem(const ir::Operation& op, bool isRem);
  llvm::Value* floatIntrinsic(const ir::Operation& op, llvm::Intrinsic::ID id);
  llvm::Value* floatLibm(const ir::Operation& op, const char* name);
  llvm::Value* minMax(const ir::Operation& op, bool isMax);
  llvm::Value* negate(const ir::Operation& op);
  llvm::Value* absolute(const ir::Operation& op);
  llvm::Value* sigmoid(const ir::Operation& op);
  llvm::Value* relu(const ir::Operation& op);
  llvm::Value* softplus(const ir::Operation& op);
  llvm::Value* compare(const ir::Operation& op, llvm::CmpInst::Predicate fp,
                       llvm::CmpInst::Predicate sp, llvm::CmpInst::Predicate up);
  llvm::Value* emitCast(const ir::Operation& op);
  llvm::Value* intrinsic(llvm::Intrinsic::ID id, std::vector<llvm::Value*> args);
  llvm::Value* libm(const char* name, std::vector<llvm::Value*> args);
  llvm::Value* pureCall(const std::string& name, llvm::Type* result,
                        const std::vector<llvm::Value*>& args);
  llvm::Value* random(const ir::Operation& op);  // rand_uniform, rand_normal, rand_mix
  llvm::Value* floatOperand(const ir::Operation& op, size_t n);  // asserts a float type

  // --- CodegenControl.cpp --------------------------------------------------
  // Binds the region's arguments to `args`, emits its ops and returns the
  // values of its terminator (yield / return).
  std::vector<llvm::Value*> emitRegion(const ir::Block& r, const std::vector<llvm::Value*>& args);
  void emitIf(const ir::Operation& op);
  void emitFor(const ir::Operation& op);
  void emitWhile(const ir::Operation& op);
  std::vector<llvm::Value*> loopInits(const ir::Operation& op, size_t first);
  void bindResults(const ir::Operation& op, const std::vector<llvm::PHINode*>& phis);
  std::vector<ir::Type> carriedTypes(const ir::Operation& op, size_t first);

  // --- CodegenEffects.cpp --------------------------------------------------
  llvm::StructType* ctxType();
  llvm::Value* ctxFieldPtr(CtxField f);
  llvm::Constant* globalString(const std::string& s);
  std::string where(const ir::Operation& op) const;  // "file:line:col: "
  llvm::FunctionCallee runtimeFn(const char* name);
  // When `cond` holds: chain_rt_error(ctx, status, msg()) and return status;
  // msg() is evaluated in the (cold) error block.
  void raiseIf(llvm::Value* cond, int32_t status, const std::function<llvm::Value*()>& msg);
  void raiseIf(llvm::Value* cond, int32_t status, llvm::Value* msg);
  // When `cond` holds: return `status` (the message is already set).
  void exitIf(llvm::Value* cond, int32_t status);
  void nanCheck(const ir::Operation& op, llvm::Value* x);
  void emitPrint(const ir::Operation& op);
  void emitTapePush(const ir::Operation& op);
  void emitTapePop(const ir::Operation& op);
  llvm::AllocaInst* entryAlloca(llvm::Type* t, const char* name);
  // When `cond` holds: chain_rt_error_fmt(ctx, status, fmt, vals) and return.
  void raiseFmtIf(llvm::Value* cond, int32_t status, const std::string& fmt,
                  const std::vector<llvm::Value*>& vals);

  // --- CodegenArrays.cpp ---------------------------------------------------
  const ArrVal& arr(const ir::Value* v);
  void setArr(const ir::Value* v, ArrVal a);
  llvm::Type* elemTy(ir::Type t) { return memTypeOf({t.elem, 0}); }
  int64_t elemBytes(ir::Type t) const;
  llvm::Value* numel(const std::vector<llvm::Value*>& dims);
  llvm::Value* byteSize(ir::Type t, const std::vector<llvm::Value*>& dims);
  // byteSize for a new buffer: -1 (rejected by chain_rt_alloc) on overflow.
  llvm::Value* checkedByteSize(ir::Type t, const std::vector<llvm::Value*>& dims);
  // Operand `v` of `op` as an array size; raises "array size N is negative".
  llvm::Value* checkedSize(const ir::Operation& op, const ir::Value* v);
  llvm::Value* allocBytes(llvm::Value* bytes);  // arena; returns on failure
  // Loop iterations: the arena head before the loop, and the release at the
  // back edge of everything allocated since except the buffers in `keep`.
  llvm::Value* arenaMark();
  void releaseIteration(llvm::Value* mark, const std::vector<llvm::Value*>& keep);
  std::vector<llvm::Value*> dataPointers(const std::vector<ir::Type>& types,
                                         const std::vector<llvm::Value*>& flatVals);
  ArrVal newArray(ir::Type t, std::vector<llvm::Value*> dims);
  ArrVal copyArray(ir::Type t, const ArrVal& a);
  llvm::Value* elemPtr(ir::Type t, llvm::Value* data, llvm::Value* offset);
  llvm::Value* rowMajor(const std::vector<llvm::Value*>& dims, const std::vector<llvm::Value*>& idx);
  void checkIndex(const ir::Operation& op, llvm::Value* idx, llvm::Value* dim, size_t axis);
  ArrVal loadArrayParam(ir::Type t, llvm::Value* desc);
  void storeArrayResults(const ir::Operation& ret, const std::vector<llvm::Value*>& flatRes);
  void emitArrayOp(const ir::Operation& op);
  void emitIndex(const ir::Operation& op);
  Selection selection(const ir::Operation& op, const ArrVal& a, size_t firstOperand);
  void forSelection(const ArrVal& a, const Selection& s,
                    const std::function<void(llvm::Value*, llvm::Value*)>& fn);
  void emitSlice(const ir::Operation& op);
  void emitUpdate(const ir::Operation& op, bool add);
  void emitFill(const ir::Operation& op);
  void emitBuild(const ir::Operation& op);
  void emitTranspose(const ir::Operation& op);
  void emitAssert(const ir::Operation& op);
  llvm::Value* addElems(ir::Type t, llvm::Value* a, llvm::Value* b);
  llvm::Value* zeroOf(ir::Type t);

  // --- CodegenArrayLoops.cpp -----------------------------------------------
  using LoopBody = std::function<std::vector<llvm::Value*>(llvm::Value*, const std::vector<llvm::Value*>&)>;
  // for i = lo .. hi-1 with carried values; returns their final values.
  // Loop metadata of a counted loop nested in another loop (see countedLoop).
  llvm::MDNode* nestedLoopMetadata();
  std::vector<llvm::Value*> countedLoop(llvm::Value* lo, llvm::Value* hi,
                                        const std::vector<llvm::Value*>& init, const LoopBody& body);
  void simpleLoop(llvm::Value* lo, llvm::Value* hi, const std::function<void(llvm::Value*)>& body);
  void hoistChecks(const ir::Block& region, const std::vector<llvm::Value*>& lo,
                   const std::vector<llvm::Value*>& hi, llvm::Value* nonEmpty);
  void emitMap(const ir::Operation& op);
  void mapRows(const ir::Operation& op, const ArrVal& out, llvm::Value* lo, llvm::Value* hi);
  void emitReduce(const ir::Operation& op);
  std::vector<llvm::Value*> reduceRange(const ir::Operation& op, llvm::Value* lo, llvm::Value* hi);
  llvm::Value* finishLogSumExp(ir::Type t, llvm::Value* m, llvm::Value* s);
  llvm::Value* reduceStep(const std::string& kind, ir::Type t, llvm::Value* acc, llvm::Value* x);
  llvm::Value* reduceIdentity(const std::string& kind, ir::Type t);
  bool cheapLoadBody(const ir::Block& region) const;
  llvm::MDNode* declareFreshScope();
  void markFreshOutput(llvm::BasicBlock* before, llvm::Value* out, llvm::MDNode* scope);
  std::pair<llvm::Value*, llvm::Value*> onlineLogSumExp(const ir::Block& region, ir::Type t,
                                                        llvm::Value* lo, llvm::Value* hi,
                                                        llvm::Value* mark);
  llvm::Value* regionScalar(const ir::Block& r, const std::vector<llvm::Value*>& args, ir::Type to);
  llvm::Value* convertScalar(llvm::Value* x, ir::Type from, ir::Type to);
  // --- CodegenParallel.cpp ---------------------------------------------------
  // Whether map / reduce `op` runs its loop in chunks on all cores.
  bool runsParallel(const ir::Operation& op) const;
  int64_t grain() const;  // work units per chunk, at least
  void parallelMap(const ir::Operation& op, const ArrVal& out);
  std::vector<llvm::Value*> parallelReduce(const ir::Operation& op, llvm::Value* lo, llvm::Value* hi);
  // Estimated cost (an i64, saturating) of one run of `region`.
  llvm::Value* workOf(const ir::Block& region, const ir::Block& top);
  // The chunk size (iterations) for `n` iterations costing `work` each: at
  // least kGrain of work per chunk, at most `maxChunks` chunks (0: no bound).
  llvm::Value* chunkSize(llvm::Value* n, llvm::Value* work, int64_t maxChunks);
  // c cut down to ceil(n / chunks(c)): as many chunks, of equal sizes (+-1).
  llvm::Value* balancedChunk(llvm::Value* n, llvm::Value* c);
  using ChunkBody = std::function<void(llvm::Value* lo, llvm::Value* hi, const std::vector<llvm::Value*>& extra)>;
  // Outlines `body` (the chunk lo..hi-1 of a loop, which sees the IR values
  // `caps` and the caller's values `extra`) into a chunk function and runs
  // it over 0..n-1 through chain_rt_parallel_for; returns on an error.
  void parallelFor(const std::vector<const ir::Value*>& caps, const std::vector<llvm::Value*>& extra,
                   llvm::Value* n, llvm::Value* chunk, const ChunkBody& body);
  // caps and parentVals (their flattened values in the caller, then extra)
  // become the env struct envTy; nCaps: how many of its fields are caps.
  llvm::Function* outlineChunk(const std::vector<const ir::Value*>& caps,
                               const std::vector<llvm::Value*>& parentVals, llvm::StructType* envTy,
                               size_t nCaps, const ChunkBody& body);
  // When status != 0: return it (the message is already set).
  void exitOnStatus(llvm::Value* status);
  std::set<const llvm::Value*> paramData_;  // the entry's parameter buffers
  // --- CodegenParallelAcc.cpp: reverse AD's accumulating loops -------------
  // Emits a For marked "accumulate" in parallel; false: emit it serially.
  bool parallelAccumulate(const ir::Operation& op);
  bool ownedByRow(const ir::Block& body, const ir::Value* acc, const ir::Value* iv);
  void emitAccumulate(const ir::Operation& op, const std::vector<AccSlot>& slots);
  void accumulateChunk(const ir::Operation& op, const std::vector<AccSlot>& slots, llvm::Value* clo,
                       llvm::Value* chi, const std::vector<llvm::Value*>& ex, size_t firstInit);
  void mergePrivate(ir::Type t, const ArrVal& dst, llvm::Value* priv, llvm::Value* others);
  std::vector<const ir::Value*> capturesOfRegion(const ir::Block& region) const;
  bool inChunk_ = false;          // emitting a chunk function: nested loops stay serial
  int loopDepth_ = 0;             // loops (counted, for, while) around the insert point
  int chunkFns_ = 0;              // chunk functions emitted so far (their names)
  llvm::AllocaInst* partials_ = nullptr;  // a parallel reduce's per-chunk results

  // --- CodegenMatMul.cpp ----------------------------------------------------
  void emitMatMul(const ir::Operation& op);
  struct MatMulArgs {  // C (n x m) += A (n x k) @ B (k x m), row-major data
    llvm::Value *A, *B, *C, *k, *m;
    ir::Type ta, tr, et;
  };
  void matMulPlain(const MatMulArgs& mm, llvm::Value* i0, llvm::Value* i1, llvm::Value* j0, llvm::Value* j1);
  void matMulTiles(const MatMulArgs& mm, llvm::Value* r0, llvm::Value* r1, llvm::Value* cols, unsigned lanes);
  // C = A @ B for the n rows of A (floats), on all cores unless in a chunk.
  void matMulRows(const MatMulArgs& mm, llvm::Value* n, unsigned lanes);
  llvm::Value* fmaStep(ir::Type t, llvm::Value* acc, llvm::Value* a, llvm::Value* b, bool reassoc);
  // --nan-check over every element of a float array result of `op`.
  void nanCheckArray(const ir::Operation& op, ir::Type t, const ArrVal& a);

  // --- CodegenArrayEffects.cpp ---------------------------------------------
  void printArray(llvm::Constant* label, const ir::Value* v);
  void tapePushDynamic(const ir::Operation& op);
  void tapePopDynamic(const ir::Operation& op);
  // True when no tape push can run after a pop (every push precedes every
  // pop and no loop holds both): popped arrays are then views of the tape
  // (nothing overwrites or moves it) instead of copies. Computed once.
  bool popsAreViews();
  int popsAreViews_ = -1;

  llvm::Module& mod_;
  llvm::MDNode* scopeDomain_ = nullptr;  // alias scopes of fresh map outputs
  llvm::LLVMContext& llctx_;
  llvm::IRBuilder<> b_;
  const ir::Function& f_;
  const CodegenOptions& opts_;
  llvm::Function* fn_ = nullptr;
  llvm::Value* ctxArg_ = nullptr;
  llvm::Value* argsArg_ = nullptr;
  llvm::Value* resultsArg_ = nullptr;
  llvm::BasicBlock* exitBB_ = nullptr;      // returns exitStatus_
  llvm::PHINode* exitStatus_ = nullptr;
  std::unordered_map<const ir::Value*, llvm::Value*> vals_;
  std::map<const ir::Value*, ArrVal> arrs_;  // node-based: references stay valid
  std::unique_ptr<BufferPlan> plan_;
  bool usesArena_ = false;
  size_t allocCount_ = 0;  // arena allocation sites emitted so far
  // Index ops (op, axis) whose bounds check was hoisted before a map/reduce loop.
  std::set<std::pair<const ir::Operation*, size_t>> prechecked_;
  std::map<std::string, llvm::Constant*> strings_;
};

// Builds an LLVM module holding chain.entry.<F> for each F in `fns`
// (unoptimised, not yet verified) for the target data layout `dl`.
std::unique_ptr<llvm::Module> buildModule(llvm::LLVMContext& ctx, const llvm::DataLayout& dl,
                                          const ir::Module& m,
                                          const std::vector<const ir::Function*>& fns,
                                          const CodegenOptions& opts);

}  // namespace chain::codegen::detail
