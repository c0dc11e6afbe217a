// `chain fit`: minimise a scalar function over its --wrt parameters (which
// are required: fitting every float parameter would fit the data too),
// starting from --args, with SGD, Adam or L-BFGS. The parameters are
// flattened into one vector of doubles (scalars one entry, arrays numel
// entries) so the optimisers are plain vector code. Progress (step, loss,
// gradient norm, time) goes to stderr: refreshed in place on a terminal, else
// one line every tenth of the run. --out is written only after the fit
// succeeded, through a temporary file renamed over it.
//
// Step k is the k-th update of the parameters; step 0 is the start. Every
// fit ends with one of three stop reasons, printed last ("stopped: ...") and
// as "stop" in --json:
//   "converged"    the gradient norm (2-norm over every --wrt element) is at
//                  most kGradTol * max(1, |loss|), kGradTol = 1e-8;
//   "no progress"  L-BFGS: no step along the search direction lowers the
//                  loss (40 halvings of the line search), or the accepted
//                  step left it unchanged; SGD/Adam: a step changed no
//                  parameter (the update rounded away);
//   "step limit"   --steps updates were made;
//   "epoch limit"  with --batch: --epochs passes over the training examples
//                  (minibatch(): seeded shuffles, --validation keeps the
//                  parameters of the best epoch; cli/FitData.cpp).
// A fit that fails is exit 4 (RuntimeError), naming the step and, past step
// 0, suggesting a smaller --lr: a loss or gradient that is NaN or infinite,
// or (SGD/Adam) a loss that runs away, i.e. exceeds L0 + kRunaway *
// max(1, |L0|), L0 the loss at the start and kRunaway = 1e6. A healthy
// descent never gets there: it lowers the loss, and Adam's steps are at most
// about --lr each; a too-large step size grows the loss geometrically and is
// caught within a few steps of crossing it, before it overflows. L-BFGS
// accepts only steps that lower the loss, so it cannot run away; a trial
// step whose loss is not finite is just shortened.
//
// Under mpirun with --data (SPEC §7, "Beyond one machine"), every rank runs
// this same loop on the same parameters; the Objective evaluates its rank's
// share of the examples (of each minibatch) and sums the share-weighted
// losses and gradients over the ranks (cli/Mpi.h), so every rank takes the
// same step and the same stopping decision. Rank 0 alone prints and writes.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/Args.h"
#include "cli/Commands.h"
#include "cli/FitData.h"
#include "cli/Mpi.h"
#include "cli/Output.h"

namespace chain::cli {
namespace {

using Clock = std::chrono::steady_clock;
using Vec = std::vector<double>;

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

constexpr double kGradTol = 1e-8;  // converged: |grad| <= kGradTol * max(1, |loss|)
constexpr double kRunaway = 1e6;   // diverged: loss > L0 + kRunaway * max(1, |L0|)

std::string shortNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

double norm(const Vec& g) { return std::sqrt(dot(g, g)); }
double tolerance(double loss) { return kGradTol * std::max(1.0, std::fabs(loss)); }

// The loss and its gradient as functions of the flat parameter vector. With
// --data, of the examples given to useExamples(): under mpirun each rank
// evaluates its share of them (none: loss and gradient 0) and eval() returns
// the share-weighted sum over the ranks (Mpi.h), the same on every rank.
class Objective {
 public:
  Objective(Function vg, std::vector<Value> args, std::vector<size_t> slots, std::vector<std::string> names)
      : vg_(std::move(vg)), args_(std::move(args)), slots_(std::move(slots)), names_(std::move(names)) {}

  Vec initial() const {
    Vec theta;
    for (size_t s : slots_) appendFlat(args_[s], theta);
    return theta;
  }
  // Sets the parameters to theta.
  void set(const Vec& theta) {
    size_t offset = 0;
    for (size_t s : slots_) args_[s] = rebuild(args_[s], theta, offset);
  }
  // Sets the parameters to theta; returns the loss and fills grad.
  double eval(const Vec& theta, Vec& grad) {
    set(theta);
    ++evals_;
    double loss = 0;
    grad.assign(theta.size(), 0.0);
    if (share_ > 0) {
      std::vector<Value> parts = splitValueAndGrads(vg_(args_), slots_.size());
      grad.clear();
      for (size_t i = 1; i < parts.size(); ++i) appendFlat(parts[i], grad);
      loss = parts[0].asDouble();
    }
    if (!combined_) return loss;
    Vec buf(1 + grad.size());
    buf[0] = weight_ * loss;
    for (size_t i = 0; i < grad.size(); ++i) buf[i + 1] = weight_ * grad[i];
    mpi::sum(buf);
    std::copy(buf.begin() + 1, buf.end(), grad.begin());
    return buf[0];
  }
  // From now on the loss is over the examples `rows` of d (a minibatch, the
  // validation or the training examples): this rank's share of them.
  void useExamples(const ExampleData& d, const std::vector<int64_t>& rows, const CliOptions& o) {
    std::vector<int64_t> mine = rankShare(rows);
    std::vector<Value> arrays = shareArrays(d, mine);
    for (size_t i = 0; i < d.slots.size(); ++i) args_[d.slots[i]] = std::move(arrays[i]);
    share_ = mine.size();
    weight_ = shareWeight(o, mine.size(), rows.size());
    combined_ = true;
  }
  const Value& arg(size_t slot) const { return args_[slots_[slot]]; }
  int64_t evals() const { return evals_; }
  // The --wrt parameter that flat entry `flat` belongs to.
  const std::string& nameOf(size_t flat) const {
    for (size_t i = 0; i < slots_.size(); ++i) {
      const Value& v = arg(i);
      size_t n = v.kind() == Value::Kind::Tensor ? size_t(v.tensor().numel()) : 1;
      if (flat < n) return names_[i];
      flat -= n;
    }
    return names_.back();
  }

 private:
  Function vg_;
  std::vector<Value> args_;
  std::vector<size_t> slots_;
  std::vector<std::string> names_;
  int64_t evals_ = 0;
  size_t share_ = 1;      // this rank's examples (1 without --data: all of them)
  double weight_ = 1;     // its shareWeight
  bool combined_ = false; // summed over the ranks (--data)
};

// Throws the exit-4 error of a loss or gradient that is not finite at
// `step`, or (with runaway checks) a loss that ran away from the start's.
class Guard {
 public:
  Guard(const Objective& obj, double lr, bool runaway) : obj_(obj), lr_(lr), runaway_(runaway) {}

  void check(int64_t step, double loss, const Vec& g) {
    if (step == 0) start_ = loss;
    std::string what;  // what is not finite, and its value
    double bad = loss;
    if (!std::isfinite(loss)) what = "loss";
    for (size_t i = 0; i < g.size() && what.empty(); ++i)
      if (!std::isfinite(g[i])) what = "gradient of '" + obj_.nameOf(i) + "'", bad = g[i];
    if (!what.empty() && step == 0)
      throw RuntimeError("fit: " + what + " is " + formatNumber(bad) +
                         " at the starting values (step 0), before any step");
    if (!what.empty()) fail(what + " became " + formatNumber(bad) + " at step " + std::to_string(step));
    if (runaway_ && loss > start_ + kRunaway * std::max(1.0, std::fabs(start_)))
      fail("loss ran away at step " + std::to_string(step) + ": " + shortNumber(loss) + ", from " +
           formatNumber(start_) + " at the start");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw RuntimeError("fit: " + what + " (lr " + formatNumber(lr_) + "); try a smaller --lr");
  }
  const Objective& obj_;
  double lr_;
  bool runaway_;
  double start_ = 0;
};

// The progress lines on stderr. On a terminal the one line is ended when the
// fit ends, failed or not, so an error message starts on a line of its own.
class Progress {
 public:
  explicit Progress(int64_t steps) : steps_(steps), tty_(isatty(STDERR_FILENO)), start_(Clock::now()) {}
  ~Progress() {
    if (tty_ && drawn_ >= 0) std::fputc('\n', stderr);
  }

  // The state after `step` updates; `last` draws it whatever the schedule.
  void update(int64_t step, double loss, double gnorm, bool last = false) {
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    record(step, loss, gnorm);
    if (step == drawn_) return;
    if (tty_) {
      if (!last && step > 1 && secs - lastDraw_ < 0.05) return;
      lastDraw_ = secs;
      std::fprintf(stderr, "\rstep %lld/%lld  loss %.6g  |grad| %.3g  %.2f s   ", (long long)step,
                   (long long)steps_, loss, gnorm, secs);
    } else {
      int64_t every = steps_ >= 10 ? steps_ / 10 : 1;
      if (!last && step != 1 && step % every != 0) return;
      std::fprintf(stderr, "step %lld/%lld  loss %.6g  |grad| %.3g  %.2f s\n", (long long)step, (long long)steps_,
                   loss, gnorm, secs);
    }
    drawn_ = step;
    std::fflush(stderr);
  }
  // Adds a --history row (once per step; epoch = step without --batch).
  void record(int64_t step, double loss, double gnorm) {
    if (!rows_.empty() && rows_.back().step == step) return;
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    rows_.push_back({step, epoch_ < 0 ? step : epoch_, loss, gnorm, NAN, secs});
  }
  void setEpoch(int64_t e) { epoch_ = e; }
  void setValidation(double v) {
    if (!rows_.empty()) rows_.back().validLoss = v;
  }
  const std::vector<HistoryRow>& rows() const { return rows_; }
  // The final state, drawn if it was not; ends the terminal line.
  void finish(int64_t step, double loss, double gnorm) {
    if (step > 0) update(step, loss, gnorm, true);
    if (tty_ && drawn_ >= 0) std::fputc('\n', stderr);
    tty_ = false;  // nothing more to end
  }

 private:
  int64_t steps_;
  bool tty_;
  Clock::time_point start_;
  int64_t epoch_ = -1;
  std::vector<HistoryRow> rows_;
  double lastDraw_ = -1;
  int64_t drawn_ = -1;
};

// L-BFGS search direction -H*g from the (s, y) history (two-loop recursion).
Vec lbfgsDirection(const Vec& g, const std::deque<std::pair<Vec, Vec>>& hist) {
  Vec q = g;
  std::vector<double> alpha(hist.size());
  for (size_t k = hist.size(); k-- > 0;) {
    const auto& [s, y] = hist[k];
    alpha[k] = dot(s, q) / dot(y, s);
    for (size_t i = 0; i < q.size(); ++i) q[i] -= alpha[k] * y[i];
  }
  if (!hist.empty()) {
    const auto& [s, y] = hist.back();
    double gamma = dot(s, y) / dot(y, y);
    for (double& x : q) x *= gamma;
  }
  for (size_t k = 0; k < hist.size(); ++k) {
    const auto& [s, y] = hist[k];
    double beta = dot(y, q) / dot(y, s);
    for (size_t i = 0; i < q.size(); ++i) q[i] += s[i] * (alpha[k] - beta);
  }
  for (double& x : q) x = -x;
  return q;
}

// The fixed strings of SPEC §7's "stop" (see the opening comment).
enum class Stop { Converged, NoProgress, StepLimit, EpochLimit };
const char* stopName(Stop s) {
  switch (s) {
    case Stop::Converged: return "converged";
    case Stop::NoProgress: return "no progress";
    case Stop::StepLimit: return "step limit";
    case Stop::EpochLimit: return "epoch limit";
  }
  return "";
}

// Where an optimiser is: theta after `steps` updates, its loss and gradient.
struct FitState {
  Vec theta, grad;
  double loss = NAN, firstLoss = NAN;
  int64_t steps = 0;
  Stop stop = Stop::StepLimit;
  std::string why;  // the stop's detail, for the text output
};

// Evaluates the start (step 0) into a fresh state.
FitState start(Objective& obj, Guard& guard, Progress& progress) {
  FitState st;
  st.theta = obj.initial();
  st.loss = st.firstLoss = obj.eval(st.theta, st.grad);
  guard.check(0, st.loss, st.grad);
  progress.record(0, st.loss, norm(st.grad));
  return st;
}

// Whether the fit stops before update `step`: converged, or out of steps.
bool stopsBefore(FitState& st, int64_t step, int64_t maxSteps) {
  double gnorm = norm(st.grad), tol = tolerance(st.loss);
  if (gnorm <= tol) {
    st.stop = Stop::Converged;
    st.why = "gradient norm " + shortNumber(gnorm) + " <= " + shortNumber(tol);
    return true;
  }
  if (step <= maxSteps) return false;
  st.stop = Stop::StepLimit;
  st.why = "--steps " + std::to_string(maxSteps) + "; gradient norm " + shortNumber(gnorm) + " > " +
           shortNumber(tol);
  return true;
}

// One SGD or Adam update of theta along g (update number `step`, from 1);
// false when it changed no parameter.
bool firstOrderUpdate(Vec& theta, const Vec& g, Vec& m, Vec& v, int64_t step, double lr, bool adam) {
  bool moved = false;
  // Adam's bias corrections, once per step rather than per parameter.
  double mScale = 1 - std::pow(0.9, double(step)), vScale = 1 - std::pow(0.999, double(step));
  for (size_t i = 0; i < g.size(); ++i) {
    double old = theta[i];
    if (!adam) {
      theta[i] -= lr * g[i];
    } else {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      double mh = m[i] / mScale, vh = v[i] / vScale;
      theta[i] -= lr * mh / (std::sqrt(vh) + 1e-8);
    }
    moved |= theta[i] != old;
  }
  return moved;
}

double firstOrderRate(const CliOptions& o) { return o.lr > 0 ? o.lr : 0.01; }

// SGD and Adam: one gradient evaluation per step.
FitState firstOrder(Objective& obj, const CliOptions& o, Progress& progress) {
  bool adam = o.optimizer == "adam";
  double lr = firstOrderRate(o);
  Guard guard(obj, lr, /*runaway=*/true);
  FitState st = start(obj, guard, progress);
  Vec m(st.theta.size()), v(st.theta.size());
  for (int64_t step = 1; !stopsBefore(st, step, o.steps); ++step) {
    if (!firstOrderUpdate(st.theta, st.grad, m, v, step, lr, adam)) {
      st.stop = Stop::NoProgress;
      st.why = "the step changed no parameter; gradient norm " + shortNumber(norm(st.grad));
      break;
    }
    st.loss = obj.eval(st.theta, st.grad);
    guard.check(step, st.loss, st.grad);
    st.steps = step;
    progress.update(step, st.loss, norm(st.grad));
  }
  return st;
}

// The loss (and gradient) of theta on the examples `rows`.
double lossOn(Objective& obj, const ExampleData& d, const std::vector<int64_t>& rows, const CliOptions& o,
              const Vec& theta, Vec& grad) {
  obj.useExamples(d, rows, o);
  return obj.eval(theta, grad);
}

// Minibatch SGD/Adam (--batch): each epoch shuffles the training examples
// (seeded by --seed and the epoch) and takes one step per batch of --batch of
// them (the last batch of an epoch may be smaller); with --validation the
// held-out loss is measured after every epoch and the parameters with the
// best one are returned. The loss of a step is its batch's, before the
// update; the final loss is over every training example.
FitState minibatch(Objective& obj, const CliOptions& o, const ExampleData& d, Progress& progress) {
  bool adam = o.optimizer == "adam";
  double lr = firstOrderRate(o);
  int64_t epochs = o.epochs > 0 ? o.epochs : 10, ntrain = int64_t(d.train.size());
  Guard guard(obj, lr, /*runaway=*/true);
  FitState st;
  st.theta = obj.initial();
  Vec m(st.theta.size()), v(st.theta.size()), best = st.theta;
  double bestValid = INFINITY;
  int64_t bestEpoch = 0, step = 0;
  st.stop = Stop::EpochLimit;
  st.why = "--epochs " + std::to_string(epochs);
  for (int64_t epoch = 1; epoch <= epochs && st.stop == Stop::EpochLimit; ++epoch) {
    progress.setEpoch(epoch);
    std::vector<int64_t> order = permutation(ntrain, o.seed * 0x9E3779B97F4A7C15ull + uint64_t(epoch));
    for (int64_t b = 0; b < ntrain; b += o.batch) {
      if (o.steps >= 0 && step >= o.steps) {
        st.stop = Stop::StepLimit;
        st.why = "--steps " + std::to_string(o.steps);
        break;
      }
      std::vector<int64_t> rows;
      for (int64_t k = b; k < std::min(ntrain, b + o.batch); ++k) rows.push_back(d.train[size_t(order[size_t(k)])]);
      double loss = lossOn(obj, d, rows, o, st.theta, st.grad);
      guard.check(step, loss, st.grad);
      if (step == 0) st.firstLoss = loss;
      if (!firstOrderUpdate(st.theta, st.grad, m, v, step + 1, lr, adam)) {
        st.stop = Stop::NoProgress;
        st.why = "the step changed no parameter; gradient norm " + shortNumber(norm(st.grad));
        break;
      }
      st.steps = ++step;
      progress.update(step, loss, norm(st.grad));
    }
    if (d.valid.empty()) continue;
    Vec unused;
    double vl = lossOn(obj, d, d.valid, o, st.theta, unused);
    progress.setValidation(vl);
    if (vl < bestValid) bestValid = vl, best = st.theta, bestEpoch = epoch;
  }
  if (!d.valid.empty() && bestEpoch > 0) {
    st.theta = best;
    st.why += "; the parameters of epoch " + std::to_string(bestEpoch) + ", validation loss " + shortNumber(bestValid);
  }
  st.loss = lossOn(obj, d, d.train, o, st.theta, st.grad);
  if (std::isnan(st.firstLoss)) st.firstLoss = st.loss;
  return st;
}

// One backtracking Armijo line search from st along d: the accepted point's
// theta, loss and gradient, or false when 40 halvings found no decrease.
bool lineSearch(Objective& obj, const FitState& st, const Vec& d, double t, double slope, FitState& next) {
  next.theta.resize(st.theta.size());
  for (int tries = 0; tries < 40; ++tries, t *= 0.5) {
    for (size_t i = 0; i < d.size(); ++i) next.theta[i] = st.theta[i] + t * d[i];
    next.loss = obj.eval(next.theta, next.grad);
    if (std::isfinite(next.loss) && next.loss <= st.loss + 1e-4 * t * slope) return true;
  }
  return false;
}

// L-BFGS (history 10) with a backtracking Armijo line search; --lr scales the
// first trial step (default 1).
FitState lbfgs(Objective& obj, const CliOptions& o, Progress& progress) {
  double scale = o.lr > 0 ? o.lr : 1.0;
  Guard guard(obj, scale, /*runaway=*/false);
  FitState st = start(obj, guard, progress);
  std::deque<std::pair<Vec, Vec>> hist;
  for (int64_t step = 1; !stopsBefore(st, step, o.steps); ++step) {
    double gnorm = norm(st.grad);
    Vec d = lbfgsDirection(st.grad, hist);
    double slope = dot(st.grad, d);
    if (!(slope < 0)) {  // not a descent direction: restart from the gradient
      hist.clear();
      d = st.grad;
      for (double& x : d) x = -x;
      slope = -gnorm * gnorm;
    }
    FitState next;
    if (!lineSearch(obj, st, d, hist.empty() ? scale * std::min(1.0, 1.0 / gnorm) : scale, slope, next)) {
      st.stop = Stop::NoProgress;
      st.why = "no step along the search direction lowers the loss; gradient norm " + shortNumber(gnorm);
      break;
    }
    guard.check(step, next.loss, next.grad);
    bool stalled = !(next.loss < st.loss);  // converged to rounding
    Vec s(d.size()), y(d.size());
    for (size_t i = 0; i < s.size(); ++i) s[i] = next.theta[i] - st.theta[i], y[i] = next.grad[i] - st.grad[i];
    if (dot(s, y) > 1e-12 * dot(y, y)) hist.emplace_back(std::move(s), std::move(y));
    if (hist.size() > 10) hist.pop_front();
    st.theta = std::move(next.theta);
    st.grad = std::move(next.grad);
    st.loss = next.loss;
    st.steps = step;
    progress.update(step, st.loss, norm(st.grad));
    if (stalled) {
      st.stop = Stop::NoProgress;
      st.why = "the accepted step left the loss unchanged; gradient norm " + shortNumber(norm(st.grad));
      break;
    }
  }
  return st;
}

// Writes `path` atomically: a temporary file in the same folder, renamed over
// `path` only once it is complete, so a failure (disk full, killed process)
// never leaves a truncated file or destroys the previous one.
void writeParams(const std::string& path, const nlohmann::ordered_json& params) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) out << params.dump(2) << "\n";
    if (!out || !out.flush()) {
      out.close();
      std::remove(tmp.c_str());
      throw InputError("cannot write --out file '" + path + "'");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError("cannot write --out file '" + path + "'");
  }
}

// Fails before any work when --out (--history, --plot) cannot be written: it names a folder, or
// its folder does not exist.
void checkOutPath(const std::string& path, const std::string& flag) {
  std::error_code ec;
  std::filesystem::path p(path);
  if (std::filesystem::is_directory(p, ec)) throw UsageError(flag + ": '" + path + "' is a directory");
  std::filesystem::path dir = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
  if (!std::filesystem::is_directory(dir, ec))
    throw UsageError(flag + ": the folder '" + dir.string() + "' does not exist");
}

// The --wrt list of fit: required, and the error lists the candidates.
std::vector<std::string> fitWrt(const CliOptions& o, const Function& fn) {
  if (!o.wrt.empty()) return resolveWrt(o, fn);
  std::string floats;
  for (const auto& p : resolveWrt(o, fn)) floats += (floats.empty() ? "" : ", ") + p;
  throw UsageError("--wrt is required for fit: name the parameters to fit (the float parameters of '" +
                   fn.name() + "': " + floats + ")");
}

std::string plural(int64_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

void printText(const CliOptions& o, const FitState& st, const Objective& obj, const std::vector<std::string>& wrt) {
  std::cout << o.optimizer << ": " << plural(st.steps, "step") << ", " << plural(obj.evals(), "evaluation")
            << ", loss " << formatNumber(st.firstLoss) << " -> " << formatNumber(st.loss) << "\n";
  for (size_t i = 0; i < wrt.size(); ++i) std::cout << wrt[i] << ": " << toText(obj.arg(i), wrt[i].size() + 2) << "\n";
  std::cout << "stopped: " << stopName(st.stop) << " (" << st.why << ") after " << plural(st.steps, "step") << "\n";
}

}  // namespace

int cmdFit(const CliOptions& given) {
  CliOptions o = given;
  if (o.batch <= 0 && o.steps < 0) o.steps = 1000;  // full batch: the default step limit
  if (o.batch > 0 && o.optimizer == "lbfgs")
    throw UsageError("--batch needs --optimizer sgd or adam (L-BFGS needs the full-batch loss)");
  for (auto [path, flag] : {std::pair{&o.out, "--out"}, {&o.history, "--history"}, {&o.plot, "--plot"}})
    if (!path->empty()) checkOutPath(*path, flag);
  Loaded l = loadModel(o);
  std::vector<std::string> wrt = fitWrt(o, l.fn);
  std::vector<Value> args = bindArgs(readArgs(o.args), l.fn);
  ExampleData data = resolveData(o, l.fn, args, wrt);
  std::vector<size_t> slots;
  const auto& names = l.fn.paramNames();
  for (const auto& w : wrt) slots.push_back(std::find(names.begin(), names.end(), w) - names.begin());
  Objective obj(l.module.gradient(l.fnName, wrt, /*withValue=*/true), args, slots, wrt);
  if (!data.slots.empty() && o.batch <= 0) obj.useExamples(data, data.train, o);  // full batch: every example
  Function::setPrintStream(stderr);  // keep stdout for the result
  int64_t perEpoch = o.batch > 0 ? (int64_t(data.train.size()) + o.batch - 1) / o.batch : 0;
  Progress progress(o.batch > 0 ? (o.steps >= 0 ? o.steps : perEpoch * (o.epochs > 0 ? o.epochs : 10)) : o.steps);
  FitState st = o.batch > 0 ? minibatch(obj, o, data, progress)
                : o.optimizer == "lbfgs" ? lbfgs(obj, o, progress)
                                         : firstOrder(obj, o, progress);
  progress.finish(st.steps, st.loss, norm(st.grad));
  bool writes = mpi::isRoot();  // rank 0 alone writes files
  if (writes && !o.history.empty()) writeHistoryCsv(o.history, progress.rows());
  if (writes && !o.plot.empty()) writeLossPlotSvg(o.plot, progress.rows(), "chain fit " + l.fnName + " (" + o.optimizer + ")");
  obj.set(st.theta);  // the last evaluation may have been a rejected trial
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  for (size_t i = 0; i < wrt.size(); ++i) params[wrt[i]] = toJson(obj.arg(i));
  if (writes && !o.out.empty()) writeParams(o.out, params);
  if (o.json) {
    std::cout << nlohmann::ordered_json{{"loss", numberToJson(st.loss)},
                                        {"steps", st.steps},
                                        {"stop", stopName(st.stop)},
                                        {"params", params}}
                     .dump()
              << "\n";
    return 0;
  }
  printText(o, st, obj, wrt);
  return 0;
}

}  // namespace chain::cli
