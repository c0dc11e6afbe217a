// Module::exportC, behind `chain export` (SPEC §8 "The C interface of `chain
// export`"): plans the C signature of each exported function and gradient
// (parameters in order; each size name once as int64_t, in order of first
// appearance; one output pointer per flat result), checks that the caller
// can size every output from the arguments before the call, compiles the
// functions with the JIT's pipeline into one object (codegen::emitObject)
// and writes DIR/<model>.h and DIR/<model>.o.
//
// Decisions the SPEC leaves open, documented in the README:
// - a result whose shape is not known from the parameters (no declared
//   result type: `fn f(x: f64[n]) { ... }`) is a compile error at the
//   function: the caller could not size the buffer;
// - an i64 parameter that has the name of a size (`fn f(x: f64[n], n: i64)`)
//   is that size: it is not repeated among the int64_t size arguments;
// - a C function named like a C or C++ keyword, starting with `chain_` (the
//   runtime's names) or twice (`--fn f_grad --grad f`) is a usage error;
//   parameter names in the header that clash get a `_` appended.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "frontend/Diagnostics.h"
#include "runtime/ApiImpl.h"

namespace chain {

namespace {

namespace fs = std::filesystem;

// C11/C23 and C++ keywords: not usable as a function name in the header.
const std::set<std::string>& cKeywords() {
  static const std::set<std::string> k = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case",
      "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval",
      "constexpr", "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype",
      "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern",
      "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new",
      "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected", "public",
      "register", "reinterpret_cast", "requires", "restrict", "return", "short", "signed", "sizeof",
      "static", "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
      "throw", "true", "try", "typedef", "typeid", "typename", "typeof", "typeof_unqual", "union",
      "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq", "_Alignas",
      "_Alignof", "_Atomic", "_BitInt", "_Bool", "_Complex", "_Decimal128", "_Decimal32", "_Decimal64",
      "_Generic", "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local", "main"};
  return k;
}

const char* cElemType(DType t) {
  switch (t) {
    case DType::F64: return "double";
    case DType::F32: return "float";
    case DType::I64: return "int64_t";
    case DType::Bool: return "bool";
  }
  return "double";
}

bool isLiteral(const std::string& d) { return !d.empty() && std::isdigit(static_cast<unsigned char>(d[0])); }

// A CompileError at function d's position.
CompileError notExportable(const CompiledModule& m, const ast::FnDecl& d, const std::string& why) {
  DiagEngine diag(m.fe->fileName, &m.fe->source);
  std::string msg = "cannot export '" + d.name + "': " + why;
  diag.error(d.loc, msg);
  return CompileError(diag.render(), {{m.fe->fileName, d.loc.line, d.loc.col, msg}});
}

// One exported C function: what the object needs (codegen::ExportedFunction)
// and its declaration in the header.
struct Planned {
  codegen::ExportedFunction fn;
  std::string declaration;  // comment + prototype
};

class Planner {
 public:
  Planner(const CompiledModule& m, const ast::FnDecl& d, const CompiledFunction& cf)
      : m_(m), d_(d), cf_(cf) {}
  // `outputs`: the names of the flat results; `what`: the comment's first line.
  Planned plan(const std::string& cName, const std::vector<std::string>& outputs, const std::string& what,
               const ir::Function& irFn);

 private:
  codegen::ExportDim dimOf(const std::string& d, bool inResult);
  std::string unique(std::string name) {
    if (cKeywords().count(name)) name += "_";
    while (!used_.insert(name).second) name += "_";
    return name;
  }

  const CompiledModule& m_;
  const ast::FnDecl& d_;
  const CompiledFunction& cf_;
  codegen::ExportedFunction e_;
  std::map<std::string, int64_t> i64Params_;  // scalar i64 parameter -> index
  std::set<std::string> used_;                // names in the prototype
};

codegen::ExportDim Planner::dimOf(const std::string& d, bool inResult) {
  using codegen::ExportDim;
  if (isLiteral(d)) return {ExportDim::Literal, std::stoll(d)};
  if (auto it = i64Params_.find(d); it != i64Params_.end()) return {ExportDim::Param, it->second};
  auto it = std::find(e_.sizeNames.begin(), e_.sizeNames.end(), d);
  if (it != e_.sizeNames.end()) return {ExportDim::Size, int64_t(it - e_.sizeNames.begin())};
  if (inResult || d == "?")
    throw notExportable(m_, d_, "the shape of its result is not known from its parameters before the call, so "
                                "the caller could not size the output buffer (declare the result type, e.g. "
                                "'-> f64[n]', with sizes that the parameters bind)");
  e_.sizeNames.push_back(d);
  return {ExportDim::Size, int64_t(e_.sizeNames.size() - 1)};
}

Planned Planner::plan(const std::string& cName, const std::vector<std::string>& outputs, const std::string& what,
                      const ir::Function& irFn) {
  e_.cName = cName;
  e_.entry = irFn.name;
  e_.paramNames = cf_.paramNames;
  for (auto& a : irFn.body.args) e_.params.push_back(a->type);
  e_.results = irFn.resultTypes;
  std::vector<TypeInfo> results = flatten(cf_.resultType);
  if (e_.params.size() != cf_.paramTypes.size() || results.size() != e_.results.size() ||
      outputs.size() != results.size())
    throw std::logic_error("internal error: export signature of '" + cName + "' does not match its IR");
  for (size_t i = 0; i < cf_.paramTypes.size(); ++i) {
    const TypeInfo& t = cf_.paramTypes[i];
    if (!t.isTuple && t.dims.empty() && t.dtype == DType::I64) i64Params_[cf_.paramNames[i]] = int64_t(i);
  }
  std::vector<TypeInfo> all = cf_.paramTypes;
  all.insert(all.end(), results.begin(), results.end());
  for (const TypeInfo& t : all)  // a ChainArray holds 8 dims
    if (t.dims.size() > 8) throw notExportable(m_, d_, "arrays of rank above 8 are not supported");
  std::vector<std::string> args;
  for (size_t i = 0; i < cf_.paramTypes.size(); ++i) {
    const TypeInfo& t = cf_.paramTypes[i];
    std::vector<codegen::ExportDim> dims;
    for (const std::string& d : t.dims) dims.push_back(dimOf(d, false));
    e_.paramDims.push_back(dims);
    std::string name = unique(cf_.paramNames[i]);
    args.push_back(t.dims.empty() ? std::string(cElemType(t.dtype)) + " " + name
                                  : std::string("const ") + cElemType(t.dtype) + " *" + name);
  }
  std::string outText;
  for (const std::string& s : e_.sizeNames) args.push_back("int64_t " + unique(s));
  for (size_t j = 0; j < results.size(); ++j) {
    std::vector<codegen::ExportDim> dims;
    for (const std::string& d : results[j].dims) dims.push_back(dimOf(d, true));
    e_.resultDims.push_back(dims);
    std::string name = unique(outputs[j]);
    args.push_back(std::string(cElemType(results[j].dtype)) + " *" + name);
    outText += (j ? "; " : "") + name + ": " + results[j].str();
  }
  // "int f(a, b," wrapped at 80 columns, continuation lines under the "(".
  std::string proto = "int " + cName + "(", line = proto;
  size_t indent = proto.size();
  proto.clear();
  for (size_t k = 0; k < args.size(); ++k) {
    std::string piece = args[k] + (k + 1 < args.size() ? "," : ");");
    if (line.size() > indent && line.size() + 1 + piece.size() > 80) {
      proto += line + "\n";
      line = std::string(indent, ' ') + piece;
    } else {
      line += (line.size() > indent ? " " : "") + piece;
    }
  }
  if (args.empty()) line += "void);";
  proto += line + "\n";
  return {e_, "/* " + what + "\n * outputs: " + outText + " */\n" + proto};
}

// The C function names: not a keyword, not chain_*, not twice.
void checkNames(const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const std::string& n : names) {
    if (cKeywords().count(n))
      throw UsageError("cannot export '" + n + "': it is a C or C++ keyword; rename the function");
    if (n.compare(0, 6, "chain_") == 0)
      throw UsageError("cannot export '" + n + "': names starting with 'chain_' belong to the chain_rt runtime");
    if (!seen.insert(n).second) throw UsageError("two exported C functions would be named '" + n + "'");
  }
}

std::string signatureText(const ast::FnDecl& d, const CompiledFunction& cf) {
  std::string s = "fn " + d.name + "(";
  for (size_t i = 0; i < cf.paramNames.size(); ++i)
    s += (i ? ", " : "") + cf.paramNames[i] + ": " + cf.paramTypes[i].str();
  return s + ") -> " + resultTypeOf(d).str();
}

std::string includeGuard(const std::string& model) {
  std::string g = "CHAIN_EXPORT_";
  for (char c : model) g += std::isalnum(static_cast<unsigned char>(c)) ? char(std::toupper(c)) : '_';
  return g + "_H";
}

std::string headerText(const std::string& model, const std::string& source, const std::vector<Planned>& fns) {
  std::string h = "/* " + model + ".h: C interface of " + source +
                  ", written by `chain export`.\n"
                  " * Link " + model + ".o with the chain_rt library (libchain_rt.a; CMake: chain::rt) and -lm.\n"
                  " * Arrays are pointers to their elements in C order; every buffer belongs to the\n"
                  " * caller, outputs included (sized as their types say). Each function returns 0,\n"
                  " * 3 for a negative size or a null output, 4 for a runtime error (bounds, negative\n"
                  " * size inside the model, NaN check); chain_last_error() says why. */\n";
  std::string guard = includeGuard(model);
  h += "#ifndef " + guard + "\n#define " + guard + "\n\n#include <stdbool.h>\n#include <stdint.h>\n\n";
  h += "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (const Planned& p : fns) h += p.declaration + "\n";
  h += "/* The message of the last failed call on this thread (\"\" when none failed). */\n";
  h += "const char *chain_last_error(void);\n\n";
  h += "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " + guard + " */\n";
  return h;
}

// Writes `bytes` to `path` through a temporary file renamed over it, so
// that a failed export leaves no truncated file.
void writeFile(const fs::path& path, const std::string& bytes) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw UsageError("-o: cannot write '" + path.string() + "'");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw UsageError("-o: cannot write '" + path.string() + "': " + ec.message());
}

void prepareDir(const std::string& dir) {
  if (dir.empty()) throw UsageError("-o: no output folder given");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir))
    throw UsageError("-o: cannot create the folder '" + dir + "'" + (ec ? ": " + ec.message() : ""));
}

}  // namespace

ExportResult Module::exportC(const ExportOptions& o) const {
  std::vector<std::pair<Function, std::string>> handles;  // with the C name
  std::vector<std::vector<std::string>> outputs;
  std::vector<std::string> what;
  for (const std::string& f : o.functions) {
    Function h = function(f);
    handles.push_back({h, f});
    size_t n = flatten(h.resultType()).size();
    std::vector<std::string> outs;
    for (size_t j = 0; j < n; ++j) outs.push_back(n == 1 ? "result" : "result_" + std::to_string(j));
    outputs.push_back(outs);
    what.push_back(signatureText(impl_->decl(f), *h.fn_));
  }
  for (const ExportOptions::Gradient& g : o.gradients) {
    Function h = gradient(g.function, g.wrt, true);
    std::vector<int> idx = resolveWrt(impl_->decl(g.function), g.wrt);
    std::vector<std::string> outs{"value"}, names;
    for (int i : idx) {
      outs.push_back("grad_" + h.paramNames()[size_t(i)]);
      names.push_back(h.paramNames()[size_t(i)]);
    }
    handles.push_back({h, g.function + "_grad"});
    outputs.push_back(outs);
    std::string wrt;
    for (const std::string& n : names) wrt += (wrt.empty() ? "" : ", ") + n;
    what.push_back("value and gradient of " + signatureText(impl_->decl(g.function), *h.fn_) +
                   "\n * with respect to " + wrt);
  }
  std::vector<std::string> cNames;
  for (auto& h : handles) cNames.push_back(h.second);
  checkNames(cNames);

  ir::Module holder;
  holder.fileName = impl_->fe->fileName;
  std::vector<const ir::Function*> fns;
  std::vector<Planned> planned;
  std::vector<codegen::ExportedFunction> exported;
  for (size_t k = 0; k < handles.size(); ++k) {
    const CompiledFunction& cf = *handles[k].first.fn_;
    const ir::Function* irFn = holder.add(cf.build());
    fns.push_back(irFn);
    Planner planner(*impl_, impl_->decl(handles[k].first.name()), cf);
    planned.push_back(planner.plan(handles[k].second, outputs[k], what[k], *irFn));
    exported.push_back(planned.back().fn);
  }
  codegen::CodegenOptions opts = impl_->codegenOptions();
  std::string object;
  try {
    object = codegen::emitObject(holder, fns, exported, opts, o.targetCpu);
  } catch (const codegen::TargetError& e) {
    throw UsageError(std::string("--target-cpu: ") + e.what());
  }
  std::string model = o.modelName.empty() ? fs::path(impl_->fe->fileName).stem().string() : o.modelName;
  ExportResult r;
  r.headerPath = (fs::path(o.dir) / (model + ".h")).string();
  r.objectPath = (fs::path(o.dir) / (model + ".o")).string();
  r.functions = cNames;
  prepareDir(o.dir);
  writeFile(r.objectPath, object);
  writeFile(r.headerPath, headerText(model, fs::path(impl_->fe->fileName).filename().string(), planned));
  return r;
}

}  // namespace chain
