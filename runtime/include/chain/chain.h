// The public C++ API of Chain: compile a model, call its functions and their
// gradients. This is the only header an embedding program includes; the
// `chain` command line is written on top of it and nothing else.
//
//   chain::Jit jit;                                      // options: opt level, checks
//   chain::Module m = jit.compile_file("model.chain");   // throws chain::CompileError
//   chain::Function f  = m.function("loss");
//   chain::Function df = m.gradient("loss", {"w"});      // returns the gradient(s)
//   chain::Value v = f({1.0, 2.0});                      // checked against the signature
//
// Modules and functions are cheap handles (shared ownership of the compiled
// code). Compilation is lazy: compile_* runs the frontend (so a syntax or
// type error throws there), function()/gradient() make a handle with the
// signature, and the first call of a handle (or Function::compile()) builds
// and JIT-compiles that one function. A function may be called from several
// threads at once, a fresh handle too (it is compiled once).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

namespace chain {

enum class DType { F64, F32, I64, Bool };
const char* dtypeName(DType t);

// An n-dimensional array: shape, dtype and a buffer, owned or viewed.
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, std::vector<int64_t> shape);  // zero-initialised, owning
  template <class T> static Tensor zeros(std::vector<int64_t> shape);
  // A view over caller memory (not copied, not freed).
  static Tensor view(DType dtype, std::vector<int64_t> shape, void* data);
  // Takes ownership of `data` (released with `deleter`).
  static Tensor adopt(DType dtype, std::vector<int64_t> shape, void* data, void (*deleter)(void*));
  // A tensor from a flat list of values (row-major), converted to `dtype`.
  static Tensor fromValues(DType dtype, std::vector<int64_t> shape, const std::vector<double>& values);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const;
  void* data() { return data_; }
  const void* data() const { return data_; }
  template <class T> T* data() { return static_cast<T*>(data_); }
  template <class T> const T* data() const { return static_cast<const T*>(data_); }
  double at(int64_t flatIndex) const;  // element as double, any dtype

 private:
  DType dtype_ = DType::F64;
  std::vector<int64_t> shape_;
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
};

// A value passed to or returned from a function: a scalar, a tensor or a tuple.
class Value {
 public:
  enum class Kind { F64, F32, I64, Bool, Tensor, Tuple };
  Value() : Value(0.0) {}
  Value(double v) : kind_(Kind::F64), f_(v) {}
  Value(float v) : kind_(Kind::F32), f_(v) {}
  Value(int64_t v) : kind_(Kind::I64), i_(v) {}
  Value(int v) : kind_(Kind::I64), i_(v) {}
  Value(bool v) : kind_(Kind::Bool), i_(v) {}
  Value(Tensor t);
  Value(std::vector<Value> elems);

  Kind kind() const { return kind_; }
  bool isScalar() const { return kind_ != Kind::Tensor && kind_ != Kind::Tuple; }
  double asDouble() const;   // any numeric scalar
  int64_t asInt() const;     // i64 or bool
  bool asBool() const;
  const Tensor& tensor() const;
  const std::vector<Value>& tuple() const;
  std::string str() const;   // readable: 1.5, [1, 2], (1.5, [1, 2])

 private:
  Kind kind_;
  double f_ = 0;
  int64_t i_ = 0;
  std::shared_ptr<Tensor> tensor_;
  std::shared_ptr<std::vector<Value>> tuple_;
};

// A parameter's or result's type: dtype, rank, dimension names ("n", "3").
struct TypeInfo {
  bool isTuple = false;
  DType dtype = DType::F64;
  std::vector<std::string> dims;  // empty for scalars
  std::vector<TypeInfo> elems;    // tuples
  std::string str() const;        // "f64", "f64[n, 3]", "(f64, f64)"
};

// What Function::call runs: the JIT-compiled native code, or the reference
// interpreter over the same IR (slow, obviously correct: an oracle; it never
// starts LLVM). Both take and return the same values and throw the same error
// classes. The interpreter always checks bounds and supports no nanCheck.
enum class Backend { Jit, Interpreter };

struct Options {
  int optLevel = 2;          // 0..3: LLVM's pipeline
  bool boundsChecks = true;  // index checks (arrays)
  bool nanCheck = false;     // stop at the first NaN/Inf produced
  Backend backend = Backend::Jit;
  // Compiled code is kept on disk and reused by later runs (SPEC §7), keyed
  // by everything that decides it; a damaged or foreign entry is ignored and
  // replaced, and an unwritable folder is a warning on stderr, never an error.
  bool cache = true;
  std::string cacheDir;       // empty: $CHAIN_CACHE_DIR, else $XDG_CACHE_HOME/chain, else ~/.cache/chain
  int64_t cacheMaxBytes = 0;  // size bound (least recently used entries go first);
                              // 0: $CHAIN_CACHE_MAX_BYTES, else 256 MiB
  // Threads for comprehensions, reductions and their gradients (SPEC §6):
  // 0 = $CHAIN_THREADS when set, else every core. Results are the same bits
  // for every count; compiled code does not depend on it (nor the cache).
  int threads = 0;
  // Work per chunk of a parallel loop (0: the measured default). Tests set 1
  // to cut even small loops into many chunks; it changes the compiled code.
  int64_t parallelGrain = 0;
};

// The model did not compile: what() holds every diagnostic, rendered
// (`file:line:col: error: message`, the source line and a caret);
// diagnostics() holds the same errors as data, sorted by position. It is
// empty for an error that has no source position (an unreadable file).
class CompileError : public std::runtime_error {
 public:
  struct Diagnostic {
    std::string file;
    int line = 0;  // 1-based
    int col = 0;   // 1-based, in bytes
    std::string message;
  };
  explicit CompileError(const std::string& rendered, std::vector<Diagnostic> diagnostics = {})
      : std::runtime_error(rendered),
        diagnostics_(std::make_shared<const std::vector<Diagnostic>>(std::move(diagnostics))) {}
  const std::vector<Diagnostic>& diagnostics() const { return *diagnostics_; }

 private:
  // Shared, so that copying the exception cannot throw.
  std::shared_ptr<const std::vector<Diagnostic>> diagnostics_;
};
// Arguments do not fit the signature (count, types, shapes).
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// An error raised by compiled code (integer division by zero, index out of
// bounds, negative size, NaN check), naming the source position. The module
// stays usable. what() is "file:line:col: message"; diagnostic() is the same
// error rendered like a compile error: "file:line:col: runtime error:
// message", the source line and a caret under the position (empty for an
// error without a position, such as "out of memory").
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  RuntimeError(const std::string& what, const std::string& diagnostic)
      : std::runtime_error(what), diagnostic_(std::make_shared<const std::string>(diagnostic)) {}
  const std::string& diagnostic() const {
    static const std::string none;
    return diagnostic_ ? *diagnostic_ : none;
  }

 private:
  std::shared_ptr<const std::string> diagnostic_;  // shared: copying an exception never throws
};
// Misuse of the API (unknown function, invalid wrt, unknown stage).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Finite-difference check of a gradient (used by `chain check`): one entry
// per element of every wrt parameter.
struct GradCheckEntry {
  std::string param;             // the wrt parameter
  DType dtype = DType::F64;      // its element type (F64 or F32)
  std::vector<int64_t> index;    // the element's multi-index; empty for a scalar
  double analytic = 0;           // the compiled gradient
  double numeric = 0;            // the finite-difference estimate
  double step = 0;               // the step h of the estimate kept
  double absError = 0;           // |analytic - numeric| (inf when either is NaN)
  double relError = 0;           // absError / max(1, |analytic|): what is held to the tolerance
  double spread = 0;             // how well the finite differences agree across steps, scaled like
                                 // relError: an error below ~2 * spread is within their own noise
  double tolerance = 0;          // the bound for this parameter's type
};
struct GradCheckResult {
  bool ok = false;               // every entry within its tolerance
  int64_t entries = 0, failures = 0;       // entries compared, entries outside the tolerance
  double maxAbsError = 0, maxRelError = 0; // over every entry (relError as in GradCheckEntry)
  std::optional<GradCheckEntry> worst;     // largest relError / tolerance; none without entries
  std::vector<std::pair<DType, double>> tolerances;  // the tolerance used per dtype, in wrt order
};

// What Module::exportC writes (`chain export`, SPEC §8): plain C functions in
// a relocatable object, callable from C or C++ and linked with the chain_rt
// library alone (CMake: chain::rt; no LLVM), and a C header declaring them.
struct ExportOptions {
  // Primal functions, each exported under its own name.
  std::vector<std::string> functions;
  // Gradients, each exported as <function>_grad: the value, then one
  // gradient per wrt parameter (empty wrt: every float parameter, as
  // Module::gradient and `chain grad`).
  struct Gradient {
    std::string function;
    std::vector<std::string> wrt;
  };
  std::vector<Gradient> gradients;
  std::string dir;        // where <model>.h and <model>.o go; created when missing
  std::string modelName;  // <model>; empty: the model file's name without folder and extension
  std::string targetCpu;  // LLVM's CPU name (e.g. "x86-64-v3"); empty or "native": the host
};
struct ExportResult {
  std::string headerPath, objectPath;
  std::vector<std::string> functions;  // the C functions written, in order
};

struct CompiledFunction;  // internal
struct CompiledModule;    // internal

class Function {
 public:
  Function() = default;  // an empty handle: only assignable
  Value operator()(const std::vector<Value>& args) const { return call(args); }
  Value call(const std::vector<Value>& args) const;
  // The same call evaluated by the reference interpreter, whatever the
  // backend: same argument checks, result types and exceptions (InputError,
  // RuntimeError naming the source position, RuntimeError "out of memory").
  Value interpret(const std::vector<Value>& args) const;
  const std::string& name() const;
  const std::vector<std::string>& paramNames() const;
  const std::vector<TypeInfo>& paramTypes() const;
  const TypeInfo& resultType() const;
  // Builds and compiles the function now if no call has yet (calls do it
  // themselves). Throws CompileError when the body cannot be compiled (e.g.
  // a gradient through nested grad); it is then still uncompiled, and every
  // call throws the same error.
  void compile() const;
  // compile() for each of `fns`, on up to one thread per core at once (a
  // command that runs a primal and its gradient compiles both in parallel);
  // rethrows the first failure, after every compilation has ended.
  static void compileAll(const std::vector<Function>& fns);
  bool isCompiled() const;  // whether compile() or a call has succeeded
  // Where print() output goes for calls on this thread (default stdout).
  static void setPrintStream(FILE* f);
  // Peak bytes of AD tape used by the last call on this thread (0 for
  // primal functions): memory that grows with loop trip counts.
  static int64_t lastTapeBytes();

 private:
  friend class Module;
  Function(std::shared_ptr<CompiledModule> m, std::shared_ptr<CompiledFunction> f)
      : module_(std::move(m)), fn_(std::move(f)) {}
  std::shared_ptr<CompiledModule> module_;
  std::shared_ptr<CompiledFunction> fn_;
};

class Module {
 public:
  std::vector<std::string> functionNames() const;   // in source order
  // The handle of function `name` (UsageError if none); compiles nothing.
  Function function(const std::string& name) const;
  // The gradient of scalar function `name` with respect to `wrt` (parameter
  // names; empty: every float parameter). Result: the gradient itself for one
  // parameter, else a tuple of gradients; with withValue, the tuple
  // (value, gradient) as the language's value_and_grad returns it. Compiles
  // nothing (not the primal either); what the signature rules out (a
  // non-float wrt, a non-scalar result) throws CompileError here.
  Function gradient(const std::string& name, const std::vector<std::string>& wrt = {},
                    bool withValue = false) const;
  // Forward mode: f's parameters, then a tangent d<p> per wrt parameter
  // (empty: every float parameter); returns (value, tangent), the tangent
  // being the directional derivative of f's result along the tangents.
  Function jvp(const std::string& name, const std::vector<std::string>& wrt = {}) const;
  // Reverse mode for any float result: f's parameters, then a cotangent dy of
  // f's result (one per element of a tuple result); returns the cotangent of
  // each wrt parameter (a tuple for several). gradient(f) = vjp(f)(x, 1.0).
  Function vjp(const std::string& name, const std::vector<std::string>& wrt = {}) const;
  // The Jacobian of f's result with respect to one parameter (empty: the
  // first float parameter): shape = result's shape then the parameter's;
  // with withValue, (value, Jacobian).
  Function jacobian(const std::string& name, const std::string& wrt = "", bool withValue = false) const;
  // The Hessian of scalar f with respect to one parameter: shape = the
  // parameter's shape twice; with withValue, (value, gradient, Hessian).
  Function hessian(const std::string& name, const std::string& wrt = "", bool withValue = false) const;
  // Hessian-vector product: f's parameters, then v (the wrt parameter's
  // type); returns H v without forming H (forward over reverse).
  Function hvp(const std::string& name, const std::string& wrt = "") const;
  // Text of a pipeline stage for one function: "ast", "ir", "grad", "opt",
  // "llvm", "asm", or the name of any registered pass (see stageNames()).
  std::string emit(const std::string& stage, const std::string& fn,
                   const std::vector<std::string>& wrt = {}) const;
  static std::vector<std::string> stageNames();
  // Writes the C header and the object (see ExportOptions) with the module's
  // options (opt level, bounds and NaN checks; never the compile cache).
  // Throws UsageError for an unknown function, parameter or CPU, a C name
  // that clashes (a C keyword, chain_*, two functions of one name) or a
  // folder or file that cannot be written, and CompileError for a function
  // whose result's shape is not known from its parameters before the call
  // (the caller could not size the buffer: declare the result type).
  ExportResult exportC(const ExportOptions& options) const;
  // Time spent compiling so far: the frontend, plus every function compiled
  // by a call or Function::compile() (a handle that never ran adds nothing).
  double compileMs() const;

 private:
  friend class Jit;
  Function derived(const std::string& name, int kind, const std::vector<int>& wrt) const;
  friend GradCheckResult checkHessian(const Module&, const std::string&, const std::string&,
                                      const std::vector<Value>&, double);
  friend GradCheckResult checkGradient(const Module&, const std::string&, const std::vector<std::string>&,
                                       const std::vector<Value>&, double);
  std::shared_ptr<CompiledModule> impl_;
};

class Jit {
 public:
  explicit Jit(Options opts = {});
  Module compile_file(const std::string& path) const;
  Module compile_string(const std::string& source, const std::string& fileName = "<input>") const;
  const Options& options() const { return opts_; }

 private:
  Options opts_;
};

// Compares the gradient of `fn` with respect to `wrt` (empty: every float
// parameter) at `args` with central finite differences, taken at several
// steps suited to each entry's scale (the best-agreeing estimate is kept; see
// runtime/GradCheck.cpp); ok when every entry's |analytic - numeric| is within
// tolerance * max(1, |analytic|), the tolerance being at least 1e-2 for f32.
GradCheckResult checkGradient(const Module& m, const std::string& fn, const std::vector<std::string>& wrt,
                              const std::vector<Value>& args, double tolerance = 1e-6);
// The Hessian of scalar `fn` with respect to one parameter (empty: the first
// float parameter) against central finite differences of its gradient, with
// the same steps and tolerances as checkGradient; entries are indexed by the
// row's then the column's multi-index.
GradCheckResult checkHessian(const Module& m, const std::string& fn, const std::string& wrt,
                             const std::vector<Value>& args, double tolerance = 1e-6);

template <class T> Tensor Tensor::zeros(std::vector<int64_t> shape) {
  if constexpr (std::is_same_v<T, double>) return Tensor(DType::F64, std::move(shape));
  else if constexpr (std::is_same_v<T, float>) return Tensor(DType::F32, std::move(shape));
  else if constexpr (std::is_same_v<T, int64_t>) return Tensor(DType::I64, std::move(shape));
  else return Tensor(DType::Bool, std::move(shape));
}

}  // namespace chain
