// chain_bench_suite: the benchmark of issue 4. For every problem and size it
// first checks that Chain's objective and gradient agree with the C++
// references (relative error <= 1e-9), then times warm calls of the four
// functions (median of repeated batches) and prints one table; with --out it
// also writes BENCHMARKS.md (machine, flags, method, table, targets). The
// models in bench/models are written plainly; a model with a hand-tuned
// variant in bench/models/tuned is checked and timed in both forms, and the
// table gives plain ÷ tuned.
//
//   chain_bench_suite [--check-only] [--small] [--only gmm,lse] [--size "d=20 k=25"]
//                     [--out FILE] [--bounds-checks] [--no-torch] [--derived] [--threads N]
// (--size keeps the cases whose size contains the text.)
//
// --derived prints (and with --out writes) the table of derivatives beyond
// the gradient instead (jvp, hvp, jacobian, hessian; harness_derived.cpp).
//
// Chain runs on one thread and on N (default 2, issue 13) in the same run:
// the check also requires the N-thread value and gradient to be the same
// bits as the 1-thread ones, and the table gets N-thread columns.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "harness.h"
#include "report.h"

namespace bench {

std::vector<double> Gen::uniform(size_t count, double lo, double hi) {
  std::vector<double> v(count);
  for (double& x : v) x = uniform1(lo, hi);
  return v;
}

double Gen::uniform1(double lo, double hi) {
  // 53 random bits -> [0, 1): the same numbers on every standard library.
  double u = double(rng_() >> 11) * (1.0 / 9007199254740992.0);
  return lo + (hi - lo) * u;
}

chain::Value view(std::vector<double>& data, std::vector<int64_t> shape) {
  return chain::Value(chain::Tensor::view(chain::DType::F64, std::move(shape), data.data()));
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTolerance = 1e-9;

struct Flags {
  bool checkOnly = false, small = false, boundsChecks = false, torch = true, derived = false;
  int threads = 2;
  std::string only, size, out;
};

Flags parseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--check-only") f.checkOnly = true;
    else if (a == "--small") f.small = true;
    else if (a == "--bounds-checks") f.boundsChecks = true;
    else if (a == "--no-torch") f.torch = false;
    else if (a == "--derived") f.derived = true;
    else if (a == "--only") f.only = next();
    else if (a == "--size") f.size = next();
    else if (a == "--out") f.out = next();
    else if (a == "--threads") f.threads = std::max(1, std::atoi(next().c_str()));
    else throw std::runtime_error("unknown flag " + a);
  }
  return f;
}

std::vector<Case> allCases(const Flags& f) {
  std::vector<Case> all;
  auto add = [&](const char* name, std::vector<Case> (*make)(bool)) {
    if (!f.only.empty() && ("," + f.only + ",").find(std::string(",") + name + ",") == std::string::npos) return;
    for (Case& c : make(f.small)) {
      if (c.size.find(f.size) == std::string::npos) continue;
      std::string tuned = "tuned/" + c.model;
      if (std::filesystem::exists(std::string(CHAIN_BENCH_DIR) + "/models/" + tuned)) c.tunedModel = tuned;
      all.push_back(std::move(c));
    }
  };
  add("gmm", gmmCases);
  add("lstm", lstmCases);
  add("ode", odeCases);
  add("llsq", llsqCases);
  add("lse", lseCases);
  add("mlp", mlpCases);
  return all;
}

void flatten(const chain::Value& v, std::vector<double>& out) {
  if (v.kind() == chain::Value::Kind::Tuple) {
    for (const chain::Value& e : v.tuple()) flatten(e, out);
  } else if (v.kind() == chain::Value::Kind::Tensor) {
    const chain::Tensor& t = v.tensor();
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.at(i));
  } else {
    out.push_back(v.asDouble());
  }
}

double relError(double a, double b) {
  if (a == b) return 0;
  return std::fabs(a - b) / std::max(std::fabs(b), 1e-300);
}

// Normwise: max |a_i - b_i| / max |b_i|.
double relError(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return INFINITY;
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::fabs(a[i] - b[i]);
    diff = std::isnan(d) ? INFINITY : std::max(diff, d);
    scale = std::max(scale, std::fabs(b[i]));
  }
  return diff == 0 ? 0 : diff / std::max(scale, 1e-300);
}

struct Compiled {
  chain::Function primal, gradient;    // on one thread
  chain::Function primalN, gradientN;  // on Flags::threads
  double compileMs = 0;        // cold: the compile cache has nothing for the model
  double cachedCompileMs = 0;  // the same compilation again, loaded from the cache
};

// The compile cache (SPEC §7) in a fresh folder of this run, removed at exit:
// the first compilation of a model misses (and stores), the second hits.
struct TempCacheDir {
  std::string path = (std::filesystem::temp_directory_path() / "chain-bench-cache-XXXXXX").string();
  TempCacheDir() {
    if (!mkdtemp(path.data())) throw std::runtime_error("cannot create a temporary cache folder");
  }
  ~TempCacheDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Compiles each model once (source to callable primal and gradient).
class ModelCache {
 public:
  ModelCache(chain::Options opts, int threads) : jit_(withThreads(opts, 1)), jitN_(withThreads(opts, threads)) {
    // The first compilation of the process also initialises LLVM: not counted.
    chain::Module warm = jit_.compile_string("fn warm(x: f64[n]) -> f64 { sum(x * x) }\n");
    warm.gradient("warm", {"x"}).compile();
  }
  // `model`: c.model or c.tunedModel.
  const Compiled& get(const Case& c, const std::string& model) {
    std::string key = model + "/" + c.fn;
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    auto compile = [&] {
      auto t0 = Clock::now();
      chain::Module m = jit_.compile_file(std::string(CHAIN_BENCH_DIR) + "/models/" + model);
      Compiled out;
      out.primal = m.function(c.fn);
      out.gradient = m.gradient(c.fn, c.wrt);
      // Handles are lazy: compile inside the timed region, both at once.
      chain::Function::compileAll({out.primal, out.gradient});
      out.compileMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      return out;
    };
    Compiled out = compile();
    out.cachedCompileMs = compile().compileMs;
    // the same code (the thread count is not compiled in), from the cache
    chain::Module mN = jitN_.compile_file(std::string(CHAIN_BENCH_DIR) + "/models/" + model);
    out.primalN = mN.function(c.fn);
    out.gradientN = mN.gradient(c.fn, c.wrt);
    return cache_.emplace(key, out).first->second;
  }

 private:
  static chain::Options withThreads(chain::Options o, int threads) {
    o.threads = threads;
    return o;
  }
  chain::Jit jit_, jitN_;
  std::map<std::string, Compiled> cache_;
};

// Agreement of Chain with the references; raises the row's check fields to
// this model's errors.
// (tape: where to store the gradient call's peak tape, read right after it:
// the checks that follow call other functions on this thread)
void checkCase(const Case& c, const Compiled& k, Row& row, int64_t* tape = nullptr) {
  double chainValue = k.primal(c.args).asDouble();
  double refValue = c.refPrimal();
  std::vector<double> refGrad, chainGrad;
  double refValue2 = c.refGradient(refGrad);
  flatten(k.gradient(c.args), chainGrad);
  if (tape) *tape = chain::Function::lastTapeBytes();
  row.valueError = std::max({row.valueError, relError(chainValue, refValue), relError(refValue2, refValue)});
  row.gradError = std::max(row.gradError, relError(chainGrad, refGrad));
  row.ok = row.valueError <= kTolerance && row.gradError <= kTolerance;
  // N threads: the same bits (SPEC §6)
  std::vector<double> gradN;
  flatten(k.gradientN(c.args), gradN);
  double valueN = k.primalN(c.args).asDouble();
  bool same = gradN.size() == chainGrad.size() &&
              std::memcmp(gradN.data(), chainGrad.data(), gradN.size() * sizeof(double)) == 0 &&
              std::memcmp(&valueN, &chainValue, sizeof(double)) == 0;
  if (!same) {
    if (getenv("CHAIN_BENCH_DEBUG")) {
      fprintf(stderr, "value %.17g vs %.17g, sizes %zu %zu\n", chainValue, valueN, chainGrad.size(), gradN.size());
      for (size_t i = 0; i < gradN.size() && i < chainGrad.size(); ++i)
        if (gradN[i] != chainGrad[i]) fprintf(stderr, "  [%zu] %.17g vs %.17g\n", i, chainGrad[i], gradN[i]);
    }
    row.ok = false;
    row.error = "the value or gradient on several threads is not the same bits as on one";
  }
}

double secondsFor(const std::function<void()>& f, int64_t calls) {
  auto t0 = Clock::now();
  for (int64_t i = 0; i < calls; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

// Median per-call time (µs) of warm calls: batches of >= 2 ms, at most
// maxSamples of them or about 1.5 s in all (at least 3).
double timeUs(const std::function<void()>& f, int maxSamples) {
  f();  // warm
  int64_t batch = 1;
  double s = secondsFor(f, batch);
  while (s < 2e-3 && batch < (int64_t(1) << 24)) {
    batch *= 2;
    s = secondsFor(f, batch);
  }
  std::vector<double> perCall{s / double(batch)};
  double total = s;
  while (int(perCall.size()) < maxSamples && (total < 1.5 || perCall.size() < 3)) {
    double t = secondsFor(f, batch);
    total += t;
    perCall.push_back(t / double(batch));
  }
  std::sort(perCall.begin(), perCall.end());
  return perCall[perCall.size() / 2] * 1e6;
}

namespace {

void timeCase(const Case& c, const Compiled& k, const Compiled* tuned, Row& row) {
  std::vector<double> g;
  volatile double sink = 0;
  row.refPrimalUs = timeUs([&] { sink = c.refPrimal(); }, c.maxSamples);
  row.refGradUs = timeUs([&] { sink = c.refGradient(g); }, c.maxSamples);
  row.chainPrimalUs = timeUs([&] { k.primal(c.args); }, c.maxSamples);
  row.chainGradUs = timeUs([&] { k.gradient(c.args); }, c.maxSamples);
  if (tuned) {
    row.tunedPrimalUs = timeUs([&] { tuned->primal(c.args); }, c.maxSamples);
    row.tunedGradUs = timeUs([&] { tuned->gradient(c.args); }, c.maxSamples);
  }
  row.chainPrimalNUs = timeUs([&] { k.primalN(c.args); }, c.maxSamples);
  row.chainGradNUs = timeUs([&] { k.gradientN(c.args); }, c.maxSamples);
  (void)sink;
}

// Phase 1: compile and check every case (no timing).
Row checkOne(const Case& c, ModelCache& cache) {
  Row row;
  row.problem = c.problem;
  row.size = c.size;
  try {
    const Compiled& k = cache.get(c, c.model);
    row.compileMs = k.compileMs;
    row.cachedCompileMs = k.cachedCompileMs;
    checkCase(c, k, row, &row.tapeBytes);
    if (!c.tunedModel.empty()) checkCase(c, cache.get(c, c.tunedModel), row);
  } catch (const std::exception& e) {
    row.ok = false;
    row.error = e.what();
  }
  return row;
}

// Phase 2: time the cases that agree.
void timeOne(const Case& c, ModelCache& cache, bool torch, Row& row) {
  if (!row.ok) return;
  try {
    timeCase(c, cache.get(c, c.model), c.tunedModel.empty() ? nullptr : &cache.get(c, c.tunedModel), row);
    if (torch) row.torchGradUs = torchGradUs(c);
  } catch (const std::exception& e) {
    row.ok = false;
    row.error = e.what();
  }
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  try {
    Flags f = parseFlags(argc, argv);
    chain::Options opts;
    opts.optLevel = 2;
    opts.boundsChecks = f.boundsChecks;
    TempCacheDir cacheDir;
    opts.cacheDir = cacheDir.path;
    ModelCache cache(opts, f.threads);
    std::vector<Case> cases = allCases(f);
    if (f.derived) return runDerived(cases, opts, f.torch && torchAvailable(), f.out);
    bool torch = f.torch && !f.checkOnly && torchAvailable();
    std::vector<Row> rows;
    std::cout << "checking Chain against the C++ references (relative error <= 1e-9; " << f.threads
              << " threads: the same bits as 1)\n";
    for (const Case& c : cases) {
      rows.push_back(checkOne(c, cache));
      printCheckRow(std::cout, rows.back());
    }
    if (!f.checkOnly) {
      std::cout << "\ntiming warm calls (median of batches)\n";
      printHeader(std::cout, f.threads);
      for (size_t i = 0; i < cases.size(); ++i) {
        timeOne(cases[i], cache, torch, rows[i]);
        printRow(std::cout, rows[i]);
      }
    }
    bool allOk = true;
    for (const Row& r : rows) allOk &= r.ok;
    if (!f.out.empty()) writeMarkdown(f.out, rows, opts, torch, f.threads);
    std::cout << (allOk ? "all cases agree with the C++ references\n" : "SOME CASES FAILED (see above)\n");
    return allOk ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chain_bench_suite: %s\n", e.what());
    return 2;
  }
}
