// The subcommands of `chain` (SPEC §7), one function each. main.cpp parses the
// command line into CliOptions and maps the exceptions these functions throw
// to exit statuses: chain::CompileError -> 1, chain::UsageError -> 2,
// chain::InputError -> 3, chain::RuntimeError -> 4. A function returns the
// exit status itself when it decides it (check: 5 when a gradient is off).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/chain.h"

namespace chain::cli {

struct CliOptions {
  std::string model;               // MODEL.chain
  std::string fn;                  // --fn (empty: the last function)
  std::vector<std::string> wrt;    // --wrt (empty: every float parameter)
  std::vector<std::string> args;   // --args, in order: inline JSON or @file.json each
  bool json = false;               // --json
  int optLevel = 2;                // -O0..-O3
  bool noBoundsChecks = false;     // --no-bounds-checks
  bool nanCheck = false;           // --nan-check
  bool interp = false;             // --interp: the reference interpreter instead of the JIT
  bool noCache = false;            // --no-cache: neither read nor write the compile cache
  int threads = 0;                 // --threads N (0: not given: $CHAIN_THREADS, else every core)
  std::string stage;               // emit --stage
  std::string sizes;               // check --sizes n=10,d=3
  uint64_t seed = 1;               // check --seed
  double tolerance = 1e-6;         // check --tol
  int order = 1;                   // check --order: 1 gradient, 2 Hessian
  std::string optimizer = "adam";  // fit --optimizer
  int64_t steps = -1;              // fit --steps (< 0: not given; 1000 for full-batch fits)
  std::vector<std::string> data;   // fit --data X,y: the example arrays
  int64_t batch = 0;               // fit --batch B (0: full batch)
  int64_t epochs = 0;              // fit --epochs E (0: not given; 10 with --batch)
  double validation = -1;          // fit --validation F (< 0: none)
  std::string combine;             // fit --combine mean|sum (with --data)
  std::string history;             // fit --history FILE.csv
  std::string plot;                // fit --plot FILE.svg
  double lr = -1;                  // fit --lr (< 0: the optimizer's default)
  std::string out;                 // fit --out
  std::vector<std::string> fns;    // export --fn, repeated
  std::vector<std::string> grads;  // export --grad NAME[:P1,P2], repeated
  std::string outDir;              // export -o DIR
  std::string targetCpu;           // export --target-cpu (empty: the host)
};

int cmdRun(const CliOptions& o);
int cmdGrad(const CliOptions& o);
int cmdCheck(const CliOptions& o);
int cmdEmit(const CliOptions& o);
int cmdBench(const CliOptions& o);  // Bench.cpp
int cmdFit(const CliOptions& o);    // Fit.cpp
int cmdJacobian(const CliOptions& o);  // Derivatives.cpp
int cmdHessian(const CliOptions& o);   // Derivatives.cpp
int cmdExport(const CliOptions& o);    // Export.cpp

// Shared by the commands: the compiled model and the chosen function.
struct Loaded {
  Module module;
  std::string fnName;
  Function fn;
};
// Compiles o.model with o's flags and resolves --fn (default: the last
// function). Throws CompileError (unreadable / ill-formed model) or
// UsageError (unknown --fn).
Loaded loadModel(const CliOptions& o);
// The --wrt list checked against fn (default: every float parameter).
// Throws UsageError naming an unknown or non-float parameter.
std::vector<std::string> resolveWrt(const CliOptions& o, const Function& fn);
// Splits the result of Module::gradient(..., withValue=true) for k wrt
// parameters into {value, gradient 1, ..., gradient k}.
std::vector<Value> splitValueAndGrads(const Value& result, size_t k);
// "a, b, c" for error messages; "(none)" when empty.
std::string joinNames(const std::vector<std::string>& names);
// Where print() output goes: stderr under --json so stdout holds one object.
void routePrintOutput(const CliOptions& o);

}  // namespace chain::cli
