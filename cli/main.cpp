// The `chain` command line (SPEC §7): parses the subcommand and its flags with
// CLI11, runs it (Commands.h) and turns every failure into a message on
// stderr and an exit status:
//   0 success, 1 the model cannot be read or does not compile, 2 bad command
//   line, 3 bad input data, 4 runtime error, 5 `check` found a gradient
//   outside its tolerance (a result, not an error).
// With --json on the command line, a failure (1 to 4) also prints
// {"error": {"exit": N, "message": M, "diagnostics": [...]}} on stdout:
// M is the error's text as on stderr without the "chain: ...:" label (for a
// compile error, the rendered diagnostics), and the diagnostics are a compile
// error's positions and messages ([] for the other errors).
// Nothing escapes main: any other exception is reported as an internal error
// with status 1 (it means a bug in chain, not in the user's input).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <new>
#include <set>
#include <string>

#include <CLI/CLI.hpp>

#include "chain/chain.h"
#include "cli/Commands.h"
#include "cli/Mpi.h"
#include "cli/Output.h"

namespace {

using chain::cli::CliOptions;

// `chain --version`: the project's version (CMake's project VERSION) and LLVM's.
constexpr const char* kVersion = "chain " CHAIN_VERSION " (LLVM " CHAIN_LLVM_VERSION ")";

// Whether --json is on the command line (for errors found before, or while,
// CLI11 parses it).
bool jsonRequested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--json") return true;
  return false;
}

// Ends the run with a failure: `label` and `message` on stderr and, under
// --json, the error object on stdout. Returns `status`.
int fail(bool json, int status, const std::string& label, std::string message,
         const std::vector<chain::CompileError::Diagnostic>& diagnostics = {}) {
  std::cout.flush();
  while (!message.empty() && message.back() == '\n') message.pop_back();
  std::cerr << label << message << "\n";
  if (json) std::cout << chain::cli::errorToJson(status, message, diagnostics).dump() << "\n" << std::flush;
  return status;
}

void addModel(CLI::App* cmd, CliOptions& o) {
  cmd->add_option("MODEL", o.model, "the model file (.chain)")->required();
  cmd->add_option("--fn", o.fn, "the function (default: the last one in the file)");
}

void addArgs(CLI::App* cmd, CliOptions& o) {
  // One value per occurrence; repeated occurrences are merged by readArgs().
  cmd->add_option("--args", o.args,
                  "arguments: a JSON object {\"param\": value, ...}, inline or @file.json; "
                  "may be repeated, later keys replace earlier ones")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void addWrt(CLI::App* cmd, CliOptions& o,
            const char* help = "parameters to differentiate, comma separated (default: every float parameter)") {
  cmd->add_option("--wrt", o.wrt, help)->delimiter(',');
}

void addJson(CLI::App* cmd, CliOptions& o) {
  cmd->add_flag("--json", o.json, "print exactly one JSON object on stdout");
}

// -O0..-O3, --no-bounds-checks, --nan-check, --threads: the flags of commands that run code.
void addCodeFlags(CLI::App* cmd, CliOptions& o) {
  cmd->add_option("-O", o.optLevel, "optimisation level 0..3 (default 2): -O0 .. -O3")->check(CLI::Range(0, 3));
  cmd->add_flag("--no-bounds-checks", o.noBoundsChecks, "do not check array indices");
  cmd->add_flag("--nan-check", o.nanCheck, "stop at the first NaN or infinity produced and name its source position");
  cmd->add_option("--threads", o.threads, "threads for comprehensions, reductions and their gradients "
                  "(default: $CHAIN_THREADS, else every core); results are the same for every count")
      ->check(CLI::Range(1, 4096));
}

// `chain export MODEL --fn NAME ... --grad NAME[:P1,P2] ... -o DIR [--target-cpu CPU]`
void addExport(CLI::App& app, CliOptions& o) {
  auto* ex = app.add_subcommand("export", "write C functions (object + header) linked with chain_rt alone, no LLVM");
  ex->add_option("MODEL", o.model, "the model file (.chain)")->required();
  auto repeated = [&](const char* name, std::vector<std::string>& into, const char* help) {
    ex->add_option(name, into, help)->expected(1)->allow_extra_args(false)->multi_option_policy(
        CLI::MultiOptionPolicy::TakeAll);
  };
  repeated("--fn", o.fns, "a function to export, as itself; may be repeated (default: the last one in the file)");
  repeated("--grad", o.grads,
           "NAME[:P1,P2]: export NAME_grad, NAME's value and gradient (default: every float parameter); "
           "may be repeated");
  ex->add_option("-o", o.outDir, "the output folder: MODEL.h and MODEL.o go there (created if missing)")->required();
  ex->add_option("--target-cpu", o.targetCpu, "LLVM's CPU name, e.g. x86-64-v3 (default: the host's)");
  addCodeFlags(ex, o);
  addJson(ex, o);
}

void setUp(CLI::App& app, CliOptions& o) {
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  auto* run = app.add_subcommand("run", "call a function and print its result");
  auto* grad = app.add_subcommand("grad", "print a function's value and gradient");
  auto* check = app.add_subcommand("check", "compare the gradient with central finite differences (exit 5 if off)");
  auto* emit = app.add_subcommand("emit", "print a compilation stage: ast, ir, grad, jvp, opt, llvm, asm, or a pass name");
  auto* bench = app.add_subcommand("bench", "time compilation, the function and its gradient");
  auto* fit = app.add_subcommand("fit", "minimise a function over some of its parameters");
  auto* jacobian = app.add_subcommand("jacobian", "print a function's value and Jacobian with respect to one parameter");
  auto* hessian = app.add_subcommand("hessian", "print a function's value, gradient and Hessian with respect to one parameter");
  for (auto* c : {run, grad, check, emit, bench, fit, jacobian, hessian}) addModel(c, o);
  addExport(app, o);
  for (auto* c : {run, grad, check, bench, fit, jacobian, hessian}) {
    addArgs(c, o);
    addJson(c, o);
    addCodeFlags(c, o);
    c->add_flag("--no-cache", o.noCache, "compile everything now: neither read nor write the compile cache");
  }
  for (auto* c : {grad, check, emit, bench}) addWrt(c, o);
  for (auto* c : {jacobian, hessian}) addWrt(c, o, "the one parameter to differentiate (default: the first float parameter)");
  // Required, but checked by cmdFit, whose error lists the float parameters.
  addWrt(fit, o, "parameters to fit, comma separated (required)");
  addCodeFlags(emit, o);
  for (auto* c : {run, grad, check, fit, jacobian, hessian})
    c->add_flag("--interp", o.interp,
                "evaluate with the reference interpreter instead of the JIT (slow; an oracle; no --nan-check)");
  emit->add_option("--stage", o.stage, "ast|ir|grad|jvp|opt|llvm|asm, or any pass name")->required();
  check->add_option("--sizes", o.sizes, "array sizes for random inputs, e.g. n=10,d=3");
  check->add_option("--seed", o.seed, "seed of the random inputs (default 1)");
  check->add_option("--tol", o.tolerance, "tolerance (default 1e-6)")->check(CLI::PositiveNumber);
  check->add_option("--order", o.order, "1: the gradient (default); 2: the Hessian, against differences of the gradient");
  fit->add_option("--optimizer", o.optimizer, "adam (default), sgd or lbfgs")
      ->check(CLI::IsMember({"adam", "sgd", "lbfgs"}));
  fit->add_option("--steps", o.steps, "number of steps (default 1000)")->check(CLI::Range(int64_t(0), int64_t(1000000000)));
  // Checked here rather than by CLI::PositiveNumber, whose message prints
  // DBL_MAX's 309 digits; a UsageError leaves parse() as exit 2.
  fit->add_option_function<double>(
      "--lr",
      [&o](const double& lr) {
        std::string got = " (got " + CLI::detail::to_string(lr) + ")";
        if (!(lr > 0)) throw chain::UsageError("--lr must be > 0" + got);
        if (std::isinf(lr)) throw chain::UsageError("--lr must be finite" + got);
        o.lr = lr;
      },
      "learning rate (default 0.01; lbfgs: first step scale, default 1)");
  fit->add_option("--out", o.out, "write the fitted parameters to this JSON file");
  for (auto* c : {grad, fit}) {  // data-parallel under mpirun (cli/Mpi.h)
    c->add_option("--data", o.data, "the example arrays, comma separated: axis 0 of each indexes the examples")
        ->delimiter(',');
    c->add_option("--combine", o.combine,
                  "mean (default) or sum: how MPI ranks combine their shares' losses and gradients (needs --data)");
  }
  fit->add_option("--batch", o.batch, "minibatch size (sgd, adam): batches of a seeded shuffle each epoch")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 62));
  fit->add_option("--epochs", o.epochs, "passes over the training examples with --batch (default 10)")
      ->check(CLI::Range(int64_t(1), int64_t(1000000000)));
  fit->add_option("--validation", o.validation, "hold out this fraction of the examples (seeded); keep the best");
  fit->add_option("--seed", o.seed, "seed of the shuffles and of the validation split (default 1)");
  fit->add_option("--history", o.history, "write one CSV row per step: step, epoch, loss, gradient norm, ...");
  fit->add_option("--plot", o.plot, "draw the training (and validation) loss to this SVG file");
}

int dispatch(const CLI::App& app, const CliOptions& o) {
  if (app.got_subcommand("run")) return chain::cli::cmdRun(o);
  if (app.got_subcommand("grad")) return chain::cli::cmdGrad(o);
  if (app.got_subcommand("check")) return chain::cli::cmdCheck(o);
  if (app.got_subcommand("emit")) return chain::cli::cmdEmit(o);
  if (app.got_subcommand("bench")) return chain::cli::cmdBench(o);
  if (app.got_subcommand("jacobian")) return chain::cli::cmdJacobian(o);
  if (app.got_subcommand("hessian")) return chain::cli::cmdHessian(o);
  if (app.got_subcommand("export")) return chain::cli::cmdExport(o);
  return chain::cli::cmdFit(o);
}

}  // namespace

int main(int argc, char** argv) {
  chain::cli::mpi::Session mpiSession(argc, argv);  // under mpirun only (cli/Mpi.h)
  CLI::App app{"chain: compile, run and differentiate Chain models", "chain"};
  CliOptions o;
  bool json = jsonRequested(argc, argv);
  try {
    setUp(app, o);
    // CLI11 would call an unknown command an extra positional: name it.
    static const std::set<std::string> commands = {"run", "grad", "check", "emit", "bench", "fit", "jacobian",
                                                   "hessian", "export"};
    if (argc > 1 && argv[1][0] != '-' && !commands.count(argv[1]))
      return fail(json, 2, "chain: error: ",
                  "unknown command '" + std::string(argv[1]) +
                      "' (commands: run, grad, check, emit, bench, fit, jacobian, hessian, export)");
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      int status = app.exit(e);  // prints help, the version or the error
      if (status == 0) return 0;
      if (json) std::cout << chain::cli::errorToJson(2, e.what(), {}).dump() << "\n";
      return 2;
    }
    json = o.json;
    int status = chain::cli::mpi::runCommand([&] { return dispatch(app, o); });
    std::cout.flush();
    return status;
  } catch (const chain::CompileError& e) {
    return fail(json, 1, "", e.what(), e.diagnostics());
  } catch (const chain::UsageError& e) {
    return fail(json, 2, "chain: error: ", e.what());
  } catch (const chain::InputError& e) {
    return fail(json, 3, "chain: input error: ", e.what());
  } catch (const chain::RuntimeError& e) {
    // With a position: rendered like a compile error (source line, caret).
    if (e.diagnostic().empty()) return fail(json, 4, "chain: runtime error: ", e.what());
    std::cout.flush();
    std::cerr << e.diagnostic();
    if (json) std::cout << chain::cli::errorToJson(4, e.what(), {}).dump() << "\n" << std::flush;
    return 4;
  } catch (const std::bad_alloc&) {
    return fail(json, 1, "chain: error: ", "out of memory");
  } catch (const std::exception& e) {
    // Not the user's fault: a bug in chain. Status 1 like a failed compile.
    return fail(json, 1, "chain: ", std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(json, 1, "chain: ", "internal error: unknown exception");
  }
}
