// `chain run`, `grad` (with --data, data-parallel under mpirun: FitData.h),
// `check` and `emit`, plus the helpers every subcommand shares (compiling the model, choosing --fn and --wrt). Text output is meant
// for people; --json output is exactly one JSON object on stdout (SPEC §7),
// with the model's print() output moved to stderr.
#include "cli/Commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/Args.h"
#include "cli/FitData.h"
#include "cli/Output.h"

namespace chain::cli {

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

namespace {

bool isFloatParam(const TypeInfo& t) {
  return !t.isTuple && (t.dtype == DType::F64 || t.dtype == DType::F32);
}

void printJson(const nlohmann::ordered_json& j) { std::cout << j.dump() << "\n"; }

// An input of `check` as text: arrays of more than kShowElements elements
// only by dtype and shape ("f64 array of shape (150, 5)"), so the report stays
// short; the seed or the --args reproduce them.
std::string inputText(const Value& v, size_t column) {
  constexpr int64_t kShowElements = 12;
  if (v.kind() != Value::Kind::Tensor || v.tensor().numel() <= kShowElements) return toText(v, column);
  std::string shape;
  for (int64_t d : v.tensor().shape()) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  if (v.tensor().rank() == 1) shape += ",";
  return std::string(dtypeName(v.tensor().dtype())) + " array of shape (" + shape + ")";
}

// The arguments of `check`: --args when given, else random ones.
std::vector<Value> checkArgs(const CliOptions& o, const Function& fn) {
  auto sizes = parseSizes(o.sizes);
  ArgsSource src = readArgs(o.args);
  if (src.given) return bindArgs(src, fn);
  return randomArgs(fn, sizes, o.seed);
}

}  // namespace

namespace {

// $CHAIN_THREADS: a positive integer (0 when unset); anything else is a bad
// command line, as `--threads 0` is.
int threadsFromEnv() {
  const char* env = std::getenv("CHAIN_THREADS");
  if (!env) return 0;
  char* end = nullptr;
  long v = std::strtol(env, &end, 10);
  if (end == env || *end != '\0' || v < 1 || v > 4096)
    throw UsageError(std::string("CHAIN_THREADS must be a whole number of threads in 1..4096 (got '") + env + "')");
  return static_cast<int>(v);
}

}  // namespace

Loaded loadModel(const CliOptions& o) {
  std::error_code ec;
  if (std::filesystem::is_directory(o.model, ec)) throw CompileError(o.model + ": error: is a directory, not a model file");
  std::ifstream in(o.model, std::ios::binary);
  if (!in) throw CompileError(o.model + ": error: cannot read the model file");
  std::ostringstream text;
  text << in.rdbuf();
  Options opts;
  opts.optLevel = o.optLevel;
  opts.boundsChecks = !o.noBoundsChecks;
  opts.nanCheck = o.nanCheck;
  opts.cache = !o.noCache;
  opts.threads = o.threads > 0 ? o.threads : threadsFromEnv();
  if (o.interp) {
    if (o.nanCheck) throw UsageError("--interp cannot be combined with --nan-check (the interpreter has no NaN check)");
    opts.backend = Backend::Interpreter;
  }
  Module m = Jit(opts).compile_string(text.str(), o.model);
  std::vector<std::string> names = m.functionNames();
  if (names.empty()) throw CompileError(o.model + ": error: the model defines no function");
  std::string fnName = o.fn.empty() ? names.back() : o.fn;
  if (std::find(names.begin(), names.end(), fnName) == names.end())
    throw UsageError("--fn: no function '" + fnName + "' in " + o.model + " (it defines " + joinNames(names) + ")");
  Function fn = m.function(fnName);
  return {m, fnName, fn};
}

std::vector<std::string> resolveWrt(const CliOptions& o, const Function& fn) {
  const auto& names = fn.paramNames();
  const auto& types = fn.paramTypes();
  std::vector<std::string> wrt;
  if (o.wrt.empty()) {
    for (size_t i = 0; i < names.size(); ++i)
      if (isFloatParam(types[i])) wrt.push_back(names[i]);
    if (wrt.empty())
      throw UsageError("function '" + fn.name() + "' has no float parameter to differentiate with respect to");
    return wrt;
  }
  for (const auto& w : o.wrt) {
    auto it = std::find(names.begin(), names.end(), w);
    if (it == names.end())
      throw UsageError("--wrt: function '" + fn.name() + "' has no parameter '" + w + "' (its parameters: " +
                       joinNames(names) + ")" +
                       (o.fn.empty() ? "; without --fn the last function in the file is used: pass --fn NAME" : ""));
    const TypeInfo& t = types[it - names.begin()];
    if (!isFloatParam(t))
      throw UsageError("--wrt: parameter '" + w + "' of function '" + fn.name() + "' has type " + t.str() +
                       ", which is not differentiable");
    if (std::find(wrt.begin(), wrt.end(), w) != wrt.end())
      throw UsageError("--wrt: parameter '" + w + "' is named twice");
    wrt.push_back(w);
  }
  return wrt;
}

std::vector<Value> splitValueAndGrads(const Value& result, size_t k) {
  // (value, gradient) with one wrt parameter; (value, (g1, ..., gk)) with several.
  if (result.kind() == Value::Kind::Tuple && result.tuple().size() == 2) {
    const Value& g = result.tuple()[1];
    if (k == 1) return {result.tuple()[0], g};
    if (g.kind() == Value::Kind::Tuple && g.tuple().size() == k) {
      std::vector<Value> parts{result.tuple()[0]};
      parts.insert(parts.end(), g.tuple().begin(), g.tuple().end());
      return parts;
    }
  }
  throw std::runtime_error("the gradient function returned " + result.str() + ", expected (value, " +
                           std::to_string(k) + " gradient" + (k == 1 ? ")" : "s)"));
}

void routePrintOutput(const CliOptions& o) { Function::setPrintStream(o.json ? stderr : stdout); }

int cmdRun(const CliOptions& o) {
  Loaded l = loadModel(o);
  std::vector<Value> args = bindArgs(readArgs(o.args), l.fn);
  routePrintOutput(o);
  Value result = l.fn(args);
  if (o.json) printJson({{"value", toJson(result)}});
  else std::cout << toText(result) << "\n";
  return 0;
}

int cmdGrad(const CliOptions& o) {
  Loaded l = loadModel(o);
  std::vector<std::string> wrt = resolveWrt(o, l.fn);
  if (o.wrt.empty() && !o.data.empty()) {  // the default: every float parameter that is not data
    wrt.erase(std::remove_if(wrt.begin(), wrt.end(),
                             [&](const std::string& p) {
                               return std::find(o.data.begin(), o.data.end(), p) != o.data.end();
                             }),
              wrt.end());
    if (wrt.empty())
      throw UsageError("function '" + l.fn.name() + "' has no float parameter to differentiate besides --data");
  }
  std::vector<Value> args = bindArgs(readArgs(o.args), l.fn);
  ExampleData data = resolveData(o, l.fn, args, wrt);  // --data: each MPI rank's share, summed
  Function g = l.module.gradient(l.fnName, wrt, /*withValue=*/true);
  routePrintOutput(o);
  std::vector<Value> parts = data.slots.empty() ? splitValueAndGrads(g(args), wrt.size())
                                                : valueAndGradsOfShares(g, args, data, o, wrt.size());
  if (o.json) {
    nlohmann::ordered_json grads = nlohmann::ordered_json::object();
    for (size_t i = 0; i < wrt.size(); ++i) grads[wrt[i]] = toJson(parts[i + 1], Zeros::Unsigned);
    printJson({{"value", toJson(parts[0])}, {"grad", grads}});
    return 0;
  }
  std::cout << "value: " << toText(parts[0], 7) << "\n";
  for (size_t i = 0; i < wrt.size(); ++i) {
    std::string label = "grad " + wrt[i] + ": ";
    std::cout << label << toText(parts[i + 1], label.size(), Zeros::Unsigned) << "\n";
  }
  return 0;
}

namespace {

// An error or step in two significant digits ("3.3e-05"): enough to compare
// with the tolerance.
std::string briefNumber(double v) {
  if (!std::isfinite(v)) return formatNumber(v);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", v);
  return buf;
}

// "grad W[1, 0]" / "grad drag": the gradient entry an error is about.
// What is checked: "gradient" entries "grad x[1]", or (--order 2) "Hessian"
// entries "hessian x[1, 0]" (row, then column).
struct CheckedThing {
  const char* noun;   // "gradient" / "Hessian"
  const char* label;  // "grad" / "hessian"
};
const CheckedThing kGradient{"gradient", "grad"}, kHessian{"Hessian", "hessian"};

std::string entryName(const GradCheckEntry& e, const CheckedThing& what) {
  std::string s = std::string(what.label) + " " + e.param;
  if (e.index.empty()) return s;
  s += "[";
  for (size_t a = 0; a < e.index.size(); ++a) s += (a ? ", " : "") + std::to_string(e.index[a]);
  return s + "]";
}

// "1e-06 for f64, 0.01 for f32"
std::string toleranceText(const GradCheckResult& r) {
  std::string s;
  for (const auto& [dtype, tol] : r.tolerances)
    s += (s.empty() ? "" : ", ") + formatNumber(tol) + " for " + dtypeName(dtype);
  return s;
}

nlohmann::ordered_json checkJson(const GradCheckResult& r) {
  nlohmann::ordered_json worst = nullptr;
  if (r.worst) {
    const GradCheckEntry& e = *r.worst;
    worst = {{"param", e.param},
             {"index", e.index},
             {"analytic", numberToJson(e.analytic, e.dtype == DType::F32)},
             {"numeric", numberToJson(e.numeric)}};
  }
  return {{"ok", r.ok},
          {"max_abs_error", numberToJson(r.maxAbsError)},
          {"max_rel_error", numberToJson(r.maxRelError)},
          {"worst", worst}};
}

// "  at x = 1.0, y = 2.0" when that fits on a line, else one input per line.
std::string checkInputsText(const Function& fn, const std::vector<Value>& args) {
  std::string line = "  at ";
  const auto& names = fn.paramNames();
  for (size_t i = 0; i < names.size(); ++i) line += (i ? ", " : "") + names[i] + " = " + inputText(args[i], 0);
  if (line.find('\n') == std::string::npos && line.size() <= 100) return line;
  line = "  at";
  for (size_t i = 0; i < names.size(); ++i) {
    std::string label = "\n    " + names[i] + " = ";
    line += label + inputText(args[i], label.size() - 1);
  }
  return line;
}

// Why the worst entry failed and what to do about it.
std::string failureAdvice(const GradCheckEntry& w, const CheckedThing& what) {
  if (!std::isfinite(w.analytic))
    return std::string("  The ") + what.noun + " is not finite here: --nan-check names the operation that produced the first NaN or\n"
           "  infinity.\n";
  if (!std::isfinite(w.numeric))
    return "  The function is not finite within a step of these inputs (near the edge of its domain, such as\n"
           "  sqrt or log at 0?), so finite differences cannot check it there: try other inputs.\n";
  std::string advice;
  if (w.relError <= 2 * w.spread) {
    advice = "  That is within twice the spread of the finite differences themselves: the function is noisy or\n"
             "  has a kink or jump within the steps (rounding over a long loop, a trip count or a branch that\n"
             "  changes), so this does not show that the gradient is wrong. Try other inputs (--args or --seed)";
    advice += w.relError < 1e-2 ? ",\n  or, as the error is small, a --tol above " + briefNumber(w.relError) + ".\n" : ".\n";
  } else {
    advice = "  The finite differences agree across steps, so unless the function has a kink at exactly these\n"
             "  inputs (other --args or --seed rule that out), the " + std::string(what.noun) + " is wrong here. stop_gradient, floor,\n"
             "  ceil and i64() have zero derivative by definition: if " + w.param + " reaches the result through\n"
             "  one of them, that path is missing from the " + what.noun + "; if not, it is a bug in chain.\n";
  }
  if (w.dtype == DType::F32)
    advice += "  f32 differences carry single-precision rounding: if the error is small, --tol can loosen the\n"
              "  tolerance.\n";
  return advice;
}

// What was compared, the errors against the tolerance, the worst entry and a
// verdict the user can act on.
std::string checkReportText(const GradCheckResult& r, const CheckedThing& what) {
  std::ostringstream out;
  out << "  compared " << r.entries << " " << what.noun << " entr" << (r.entries == 1 ? "y" : "ies")
      << " with central finite differences" << (&what == &kHessian ? " of the gradient" : "")
      << " (several steps each, the best-agreeing kept)\n";
  if (!r.worst) {
    out << "ok: nothing to compare, every parameter checked is empty\n";
    return out.str();
  }
  const GradCheckEntry& w = *r.worst;
  out << "  error = |analytic - numeric| / max(1, |analytic|), tolerance " << toleranceText(r) << "\n"
      << "  max error " << briefNumber(r.maxRelError) << " (max |analytic - numeric| " << briefNumber(r.maxAbsError)
      << ")\n  worst: " << entryName(w, what) << " = " << formatNumber(w.analytic, w.dtype == DType::F32) << " (analytic) vs "
      << formatNumber(w.numeric) << " (finite differences), error " << briefNumber(w.relError) << "\n";
  if (w.step == 0) out << "         (no step gave a finite estimate)\n";
  else if (!std::isfinite(w.spread))
    out << "         (step " << briefNumber(w.step) << "; no other step gave a finite estimate)\n";
  else
    out << "         (step " << briefNumber(w.step) << "; the finite differences agree across steps to "
        << briefNumber(w.spread) << ")\n";
  if (r.ok) {
    out << "ok: every entry agrees with finite differences within the tolerance\n";
    return out.str();
  }
  out << "FAILED: " << r.failures << " of " << r.entries << (r.entries == 1 ? " entry" : " entries")
      << (r.failures == 1 ? " differs" : " differ")
      << " from finite differences by more than the tolerance (worst: " << entryName(w, what) << ", error "
      << briefNumber(w.relError) << " > " << formatNumber(w.tolerance) << ").\n"
      << failureAdvice(w, what);
  return out.str();
}

}  // namespace

int cmdCheck(const CliOptions& o) {
  if (!(o.tolerance > 0) || !std::isfinite(o.tolerance))
    throw UsageError("--tol: the tolerance must be a positive number, not " + formatNumber(o.tolerance));
  Loaded l = loadModel(o);
  if (o.order != 1 && o.order != 2) throw UsageError("--order: 1 (the gradient) or 2 (the Hessian), not " + std::to_string(o.order));
  if (o.order == 2 && o.wrt.size() > 1)
    throw UsageError("--order 2 checks the Hessian with respect to one --wrt parameter, got " + std::to_string(o.wrt.size()));
  std::vector<std::string> wrt = resolveWrt(o, l.fn);
  if (o.order == 2) wrt.resize(1);  // default: the first float parameter
  std::vector<Value> args = checkArgs(o, l.fn);
  routePrintOutput(o);
  const CheckedThing& what = o.order == 2 ? kHessian : kGradient;
  GradCheckResult r = o.order == 2 ? checkHessian(l.module, l.fnName, wrt[0], args, o.tolerance)
                                   : checkGradient(l.module, l.fnName, wrt, args, o.tolerance);
  if (o.json) printJson(checkJson(r));
  else
    std::cout << what.noun << " check of " << l.fnName << " with respect to " << joinNames(wrt) << "\n"
              << checkInputsText(l.fn, args) << "\n"
              << checkReportText(r, what);
  return r.ok ? 0 : 5;
}

int cmdEmit(const CliOptions& o) {
  static const std::vector<std::string> fixed = {"ast", "ir", "grad", "jvp", "opt", "llvm", "asm"};
  std::vector<std::string> stages = fixed;
  for (const auto& s : Module::stageNames())
    if (std::find(stages.begin(), stages.end(), s) == stages.end()) stages.push_back(s);
  if (std::find(stages.begin(), stages.end(), o.stage) == stages.end())
    throw UsageError("--stage: unknown stage '" + o.stage + "' (stages: " + joinNames(stages) + ")");
  Loaded l = loadModel(o);
  std::vector<std::string> wrt;
  if (!o.wrt.empty()) wrt = resolveWrt(o, l.fn);
  std::string text = l.module.emit(o.stage, l.fnName, wrt);
  std::cout << text;
  if (!text.empty() && text.back() != '\n') std::cout << "\n";
  return 0;
}

}  // namespace chain::cli
