// `chain fit`: minimise a scalar function over its --wrt parameters, starting
// from --args, with SGD, Adam or L-BFGS. The parameters are flattened into one
// vector of doubles (scalars one entry, arrays numel entries) so the
// optimisers are plain vector code. Progress (step, loss, gradient norm,
// time) goes to stderr: refreshed in place on a terminal, else one line every
// tenth of the run. --out is written only after the fit succeeded, through
// a temporary file renamed over it.
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
#include "cli/Output.h"

namespace chain::cli {
namespace {

using Clock = std::chrono::steady_clock;
using Vec = std::vector<double>;

void appendFlat(const Value& v, Vec& out) {
  if (v.kind() == Value::Kind::Tensor) {
    for (int64_t i = 0; i < v.tensor().numel(); ++i) out.push_back(v.tensor().at(i));
  } else {
    out.push_back(v.asDouble());
  }
}

// A value shaped like `like` holding data[offset...]; advances offset.
Value rebuild(const Value& like, const Vec& data, size_t& offset) {
  if (like.kind() == Value::Kind::F32) return Value(static_cast<float>(data[offset++]));
  if (like.kind() != Value::Kind::Tensor) return Value(data[offset++]);
  const Tensor& old = like.tensor();
  Tensor t(old.dtype(), old.shape());
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (t.dtype() == DType::F32) t.data<float>()[i] = static_cast<float>(data[offset++]);
    else t.data<double>()[i] = data[offset++];
  }
  return Value(t);
}

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// The loss and its gradient as functions of the flat parameter vector.
class Objective {
 public:
  Objective(Function vg, std::vector<Value> args, std::vector<size_t> slots)
      : vg_(std::move(vg)), args_(std::move(args)), slots_(std::move(slots)) {}

  Vec initial() const {
    Vec theta;
    for (size_t s : slots_) appendFlat(args_[s], theta);
    return theta;
  }
  // Sets the parameters to theta; returns the loss and fills grad.
  double eval(const Vec& theta, Vec& grad) {
    size_t offset = 0;
    for (size_t s : slots_) args_[s] = rebuild(args_[s], theta, offset);
    std::vector<Value> parts = splitValueAndGrads(vg_(args_), slots_.size());
    grad.clear();
    for (size_t i = 1; i < parts.size(); ++i) appendFlat(parts[i], grad);
    ++evals_;
    return parts[0].asDouble();
  }
  const Value& arg(size_t slot) const { return args_[slots_[slot]]; }
  int64_t evals() const { return evals_; }

 private:
  Function vg_;
  std::vector<Value> args_;
  std::vector<size_t> slots_;
  int64_t evals_ = 0;
};

class Progress {
 public:
  explicit Progress(int64_t steps) : steps_(steps), tty_(isatty(STDERR_FILENO)), start_(Clock::now()) {}

  void update(int64_t step, double loss, double gnorm, bool last) {
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    if (tty_) {
      if (!last && step > 1 && secs - lastDraw_ < 0.05) return;
      lastDraw_ = secs;
      std::fprintf(stderr, "\rstep %lld/%lld  loss %.6g  |grad| %.3g  %.2f s   ", (long long)step,
                   (long long)steps_, loss, gnorm, secs);
      if (last) std::fputc('\n', stderr);
    } else {
      int64_t every = steps_ >= 10 ? steps_ / 10 : 1;
      if (!last && step != 1 && step % every != 0) return;
      std::fprintf(stderr, "step %lld/%lld  loss %.6g  |grad| %.3g  %.2f s\n", (long long)step, (long long)steps_,
                   loss, gnorm, secs);
    }
    std::fflush(stderr);
  }

 private:
  int64_t steps_;
  bool tty_;
  Clock::time_point start_;
  double lastDraw_ = -1;
};

void requireFinite(double loss, const Vec& g, int64_t step) {
  bool ok = std::isfinite(loss);
  for (double x : g) ok = ok && std::isfinite(x);
  if (!ok)
    throw RuntimeError("fit: the loss or its gradient is not finite at step " + std::to_string(step) +
                       " (loss " + formatNumber(loss) + "); try a smaller --lr");
}

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

struct FitResult {
  Vec theta;
  int64_t steps = 0;
  double firstLoss = NAN;
};

// SGD and Adam: one gradient evaluation per step.
FitResult firstOrder(Objective& obj, const CliOptions& o, Progress& progress) {
  bool adam = o.optimizer == "adam";
  double lr = o.lr > 0 ? o.lr : 0.01;
  FitResult r{obj.initial()};
  Vec g, m(r.theta.size()), v(r.theta.size());
  for (int64_t step = 1; step <= o.steps; ++step) {
    double loss = obj.eval(r.theta, g);
    requireFinite(loss, g, step);
    if (step == 1) r.firstLoss = loss;
    double gnorm = std::sqrt(dot(g, g));
    r.steps = step;
    progress.update(step, loss, gnorm, step == o.steps || gnorm == 0);
    if (gnorm == 0) break;  // a stationary point: nothing more to do
    for (size_t i = 0; i < g.size(); ++i) {
      if (!adam) {
        r.theta[i] -= lr * g[i];
        continue;
      }
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      double mh = m[i] / (1 - std::pow(0.9, step)), vh = v[i] / (1 - std::pow(0.999, step));
      r.theta[i] -= lr * mh / (std::sqrt(vh) + 1e-8);
    }
  }
  return r;
}

// L-BFGS (history 10) with a backtracking Armijo line search; --lr scales the
// first trial step (default 1). Stops early when no step decreases the loss.
FitResult lbfgs(Objective& obj, const CliOptions& o, Progress& progress) {
  double scale = o.lr > 0 ? o.lr : 1.0;
  FitResult r{obj.initial()};
  Vec g, gNew;
  double loss = obj.eval(r.theta, g);
  requireFinite(loss, g, 0);
  r.firstLoss = loss;
  std::deque<std::pair<Vec, Vec>> hist;
  for (int64_t step = 1; step <= o.steps; ++step) {
    double gnorm = std::sqrt(dot(g, g));
    r.steps = step;
    if (gnorm == 0) break;
    Vec d = lbfgsDirection(g, hist);
    double slope = dot(g, d);
    if (!(slope < 0)) {  // not a descent direction: restart from the gradient
      hist.clear();
      d = g;
      for (double& x : d) x = -x;
      slope = -gnorm * gnorm;
    }
    double t = hist.empty() ? scale * std::min(1.0, 1.0 / gnorm) : scale;
    Vec trial(r.theta.size());
    double newLoss = NAN;
    bool accepted = false;
    for (int tries = 0; tries < 40 && !accepted; ++tries, t *= 0.5) {
      for (size_t i = 0; i < trial.size(); ++i) trial[i] = r.theta[i] + t * d[i];
      newLoss = obj.eval(trial, gNew);
      accepted = std::isfinite(newLoss) && newLoss <= loss + 1e-4 * t * slope;
    }
    if (!accepted) {  // converged as far as the line search can tell
      progress.update(step, loss, gnorm, true);
      break;
    }
    requireFinite(newLoss, gNew, step);
    bool stalled = !(newLoss < loss);  // converged to rounding: stop
    Vec s(trial.size()), y(trial.size());
    for (size_t i = 0; i < s.size(); ++i) s[i] = trial[i] - r.theta[i], y[i] = gNew[i] - g[i];
    if (dot(s, y) > 1e-12 * dot(y, y)) hist.emplace_back(std::move(s), std::move(y));
    if (hist.size() > 10) hist.pop_front();
    r.theta = trial;
    g = gNew;
    loss = newLoss;
    progress.update(step, loss, std::sqrt(dot(g, g)), step == o.steps || stalled);
    if (stalled) break;
  }
  return r;
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

// Fails before any work when --out cannot be written: it names a folder, or
// its folder does not exist.
void checkOutPath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p(path);
  if (std::filesystem::is_directory(p, ec)) throw UsageError("--out: '" + path + "' is a directory");
  std::filesystem::path dir = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
  if (!std::filesystem::is_directory(dir, ec))
    throw UsageError("--out: the folder '" + dir.string() + "' does not exist");
}

}  // namespace

int cmdFit(const CliOptions& o) {
  if (o.steps < 0) throw UsageError("--steps must be at least 0");
  if (!o.out.empty()) checkOutPath(o.out);
  Loaded l = loadModel(o);
  std::vector<std::string> wrt = resolveWrt(o, l.fn);
  std::vector<Value> args = bindArgs(readArgs(o.args), l.fn);
  std::vector<size_t> slots;
  const auto& names = l.fn.paramNames();
  for (const auto& w : wrt) slots.push_back(std::find(names.begin(), names.end(), w) - names.begin());
  Objective obj(l.module.gradient(l.fnName, wrt, /*withValue=*/true), args, slots);
  Function::setPrintStream(stderr);  // keep stdout for the result
  Progress progress(o.steps);
  FitResult r = o.optimizer == "lbfgs" ? lbfgs(obj, o, progress) : firstOrder(obj, o, progress);
  Vec g;
  double loss = obj.eval(r.theta, g);  // the loss at the returned parameters
  if (std::isnan(r.firstLoss)) r.firstLoss = loss;  // --steps 0
  if (!std::isfinite(loss)) throw RuntimeError("fit: the final loss is not finite (" + formatNumber(loss) + ")");
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  for (size_t i = 0; i < wrt.size(); ++i) params[wrt[i]] = toJson(obj.arg(i));
  if (!o.out.empty()) writeParams(o.out, params);
  if (o.json) {
    std::cout << nlohmann::ordered_json{{"loss", numberToJson(loss)}, {"steps", r.steps}, {"params", params}}.dump()
              << "\n";
    return 0;
  }
  std::cout << o.optimizer << ": " << r.steps << " steps, " << obj.evals() << " evaluations, loss "
            << formatNumber(r.firstLoss) << " -> " << formatNumber(loss) << "\n";
  for (size_t i = 0; i < wrt.size(); ++i) std::cout << wrt[i] << ": " << toText(obj.arg(i), wrt[i].size() + 2) << "\n";
  return 0;
}

}  // namespace chain::cli
