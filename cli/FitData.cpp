// `chain fit --data`: the example arrays, their split and minibatches, and
// the --history / --plot records (see FitData.h). The SVG is written by hand:
// a line chart is a few dozen elements, and no plotting library for C++ is a
// Debian package this project already depends on.
#include "cli/FitData.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "cli/Args.h"
#include "cli/ArrayInput.h"
#include "cli/Mpi.h"
#include "cli/Output.h"

namespace chain::cli {
namespace {

size_t paramIndex(const Function& fn, const std::string& name) {
  const auto& names = fn.paramNames();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw UsageError("--data: function '" + fn.name() + "' has no parameter '" + name + "' (its parameters: " +
                     joinNames(names) + ")");
  return size_t(it - names.begin());
}

// The split: the first round(F n) examples of a seeded permutation are held
// out; both sides keep the data's order.
void split(ExampleData& d, const CliOptions& o) {
  std::vector<int64_t> all(size_t(d.n));
  for (int64_t i = 0; i < d.n; ++i) all[size_t(i)] = i;
  if (o.validation < 0) {
    d.train = all;
    return;
  }
  if (!(o.validation > 0 && o.validation < 1))
    throw UsageError("--validation: the fraction held out must be between 0 and 1, not " + formatNumber(o.validation));
  int64_t nv = int64_t(std::llround(o.validation * double(d.n)));
  if (nv < 1 || nv >= d.n)
    throw InputError("--validation " + formatNumber(o.validation) + " of " + std::to_string(d.n) +
                     " examples leaves " + (nv < 1 ? "no validation example" : "no training example"));
  std::vector<int64_t> perm = permutation(d.n, o.seed ^ 0x76616C6964ull);  // "valid"
  d.valid.assign(perm.begin(), perm.begin() + nv);
  d.train.assign(perm.begin() + nv, perm.end());
  std::sort(d.valid.begin(), d.valid.end());
  std::sort(d.train.begin(), d.train.end());
}

}  // namespace

ExampleData resolveData(const CliOptions& o, const Function& fn, const std::vector<Value>& args,
                        const std::vector<std::string>& wrt) {
  ExampleData d;
  if (o.data.empty()) {
    if (o.batch > 0) throw UsageError("--batch needs --data: name the arrays whose axis 0 indexes the examples");
    if (o.validation >= 0) throw UsageError("--validation needs --data and --batch");
    if (!o.combine.empty()) throw UsageError("--combine needs --data");
    return d;
  }
  if (o.validation >= 0 && o.batch <= 0)
    throw UsageError("--validation needs --batch: the validation loss is measured after every epoch");
  if (!o.combine.empty() && o.combine != "mean" && o.combine != "sum")
    throw UsageError("--combine: mean or sum, not '" + o.combine + "'");
  std::string first;
  for (const std::string& name : o.data) {
    size_t k = paramIndex(fn, name);
    if (std::find(wrt.begin(), wrt.end(), name) != wrt.end())
      throw UsageError("--data: '" + name + "' is also in --wrt: the examples are data, not parameters");
    if (std::find(d.names.begin(), d.names.end(), name) != d.names.end())
      throw UsageError("--data: '" + name + "' is named twice");
    if (fn.paramTypes()[k].isTuple || fn.paramTypes()[k].dims.empty())
      throw UsageError("--data: parameter '" + name + "' is a scalar (" + fn.paramTypes()[k].str() +
                       "); --data names arrays whose axis 0 indexes the examples");
    int64_t n = args[k].tensor().shape()[0];
    if (d.names.empty()) {
      d.n = n;
      first = name;
    } else if (n != d.n) {
      throw InputError("--data: '" + name + "' has " + std::to_string(n) + " examples (axis 0), but '" + first +
                       "' has " + std::to_string(d.n));
    }
    d.slots.push_back(k);
    d.names.push_back(name);
    d.full.push_back(args[k]);
  }
  if (d.n < 1) throw InputError("--data: '" + first + "' has no examples (axis 0 is empty)");
  split(d, o);
  if (o.batch > int64_t(d.train.size()))
    throw InputError("--batch " + std::to_string(o.batch) + " is larger than the " + std::to_string(d.train.size()) +
                     " training examples");
  int64_t ranks = mpi::size();
  if (int64_t(d.train.size()) < ranks)
    throw InputError("--data: " + std::to_string(d.train.size()) + " training examples cannot be shared by " +
                     std::to_string(ranks) + " MPI ranks: each rank needs at least one");
  if (o.batch > 0 && o.batch < ranks)
    throw UsageError("--batch " + std::to_string(o.batch) + " is smaller than the " + std::to_string(ranks) +
                     " MPI ranks: each rank needs a share of every batch");
  return d;
}

std::vector<int64_t> rankShare(const std::vector<int64_t>& rows) {
  // r * n stays far below 2^63: n is bounded by memory, r by the ranks.
  int64_t n = int64_t(rows.size()), r = mpi::rank(), ranks = mpi::size();
  return std::vector<int64_t>(rows.begin() + r * n / ranks, rows.begin() + (r + 1) * n / ranks);
}

std::vector<Value> shareArrays(const ExampleData& d, const std::vector<int64_t>& share) {
  bool all = int64_t(share.size()) == d.n;
  for (size_t i = 0; all && i < share.size(); ++i) all = share[i] == int64_t(i);
  return all ? d.full : gatherRows(d, share);
}

double shareWeight(const CliOptions& o, size_t share, size_t count) {
  return o.combine == "sum" ? 1.0 : double(share) / double(count);
}

void appendFlat(const Value& v, std::vector<double>& out) {
  if (v.kind() != Value::Kind::Tensor) {
    out.push_back(v.asDouble());
    return;
  }
  const Tensor& t = v.tensor();
  int64_t n = t.numel();
  if (t.dtype() == DType::F64) {
    out.insert(out.end(), t.data<double>(), t.data<double>() + n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) out.push_back(t.at(i));
}

Value rebuild(const Value& like, const std::vector<double>& data, size_t& offset) {
  if (like.kind() == Value::Kind::F32) return Value(static_cast<float>(data[offset++]));
  if (like.kind() != Value::Kind::Tensor) return Value(data[offset++]);
  const Tensor& old = like.tensor();
  Tensor t(old.dtype(), old.shape());
  int64_t n = t.numel();
  if (t.dtype() == DType::F64) {
    std::copy(data.begin() + offset, data.begin() + offset + n, t.data<double>());
    offset += size_t(n);
    return Value(t);
  }
  for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = static_cast<float>(data[offset++]);
  return Value(t);
}

std::vector<Value> valueAndGradsOfShares(const Function& vg, std::vector<Value> args, const ExampleData& d,
                                         const CliOptions& o, size_t k) {
  std::vector<int64_t> share = rankShare(d.train);
  std::vector<Value> arrays = shareArrays(d, share);
  for (size_t i = 0; i < d.slots.size(); ++i) args[d.slots[i]] = std::move(arrays[i]);
  std::vector<Value> parts = splitValueAndGrads(vg(args), k);
  if (mpi::size() == 1) return parts;
  std::vector<double> buf;
  for (const Value& p : parts) appendFlat(p, buf);
  double w = shareWeight(o, share.size(), d.train.size());
  for (double& x : buf) x *= w;
  mpi::sum(buf);
  size_t offset = 0;
  for (Value& p : parts) p = rebuild(p, buf, offset);
  return parts;
}

std::vector<Value> gatherRows(const ExampleData& d, const std::vector<int64_t>& rows) {
  std::vector<Value> out;
  for (const Value& v : d.full) {
    const Tensor& t = v.tensor();
    std::vector<int64_t> shape = t.shape();
    size_t rowBytes = elementBytes(t.dtype()) * size_t(d.n ? t.numel() / d.n : 0);
    shape[0] = int64_t(rows.size());
    Tensor g(t.dtype(), shape);
    const char* src = static_cast<const char*>(t.data());
    char* dst = static_cast<char*>(g.data());
    for (size_t r = 0; r < rows.size(); ++r) std::memcpy(dst + r * rowBytes, src + size_t(rows[r]) * rowBytes, rowBytes);
    out.push_back(Value(g));
  }
  return out;
}

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(size_t(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) p[size_t(i)] = i;
  Rng rng{seed};
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[size_t(i)], p[size_t(rng.next() % uint64_t(i + 1))]);
  return p;
}

void writeHistoryCsv(const std::string& path, const std::vector<HistoryRow>& rows) {
  std::ofstream out(path);
  if (!out) throw UsageError("--history: cannot write '" + path + "'");
  auto num = [](double v) { return std::isnan(v) ? std::string() : formatNumber(v); };
  out << "step,epoch,loss,grad_norm,validation_loss,seconds\n";
  for (const HistoryRow& r : rows)
    out << r.step << "," << r.epoch << "," << num(r.loss) << "," << num(r.gradNorm) << "," << num(r.validLoss) << ","
        << num(r.seconds) << "\n";
  if (!out) throw UsageError("--history: cannot write '" + path + "'");
}

namespace {

// A y value's position between lo and hi (log10 when `log`).
struct Axis {
  double lo, hi;
  bool log;
  double t(double v) const {
    double a = log ? std::log10(v) : v, b = log ? std::log10(lo) : lo, c = log ? std::log10(hi) : hi;
    return c > b ? (a - b) / (c - b) : 0.5;
  }
};

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

std::string escapeXml(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return out;
}

}  // namespace

void writeLossPlotSvg(const std::string& path, const std::vector<HistoryRow>& rows, const std::string& title) {
  const double W = 720, H = 440, L = 80, R = 20, T = 40, B = 60;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  int64_t maxStep = 1;
  bool positive = true;
  for (const HistoryRow& r : rows)
    for (double v : {r.loss, r.validLoss})
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v), positive &= v > 0;
  for (const HistoryRow& r : rows) maxStep = std::max(maxStep, r.step);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  Axis y{lo, hi, positive};
  if (positive) y.lo = std::pow(10, std::floor(std::log10(lo))), y.hi = std::pow(10, std::ceil(std::log10(hi)));
  if (y.hi <= y.lo) y.hi = y.lo * (positive ? 10 : 1) + (positive ? 0 : 1);
  auto px = [&](double step) { return L + (W - L - R) * step / double(maxStep); };
  auto py = [&](double v) { return H - B - (H - T - B) * y.t(v); };
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << W / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">" << escapeXml(title) << "</text>\n";
  // Grid and y ticks: decades on a log scale, five steps otherwise.
  std::vector<double> ticks;
  if (positive)
    for (double v = y.lo; v <= y.hi * 1.0001; v *= 10) ticks.push_back(v);
  else
    for (int k = 0; k <= 5; ++k) ticks.push_back(y.lo + (y.hi - y.lo) * k / 5);
  for (double v : ticks)
    s << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << py(v) << "\" y2=\"" << py(v)
      << "\" stroke=\"#ddd\"/>\n<text x=\"" << L - 6 << "\" y=\"" << py(v) + 4 << "\" text-anchor=\"end\">" << fmt(v)
      << "</text>\n";
  for (int k = 0; k <= 5; ++k) {
    double st = double(maxStep) * k / 5;
    s << "<text x=\"" << px(st) << "\" y=\"" << H - B + 18 << "\" text-anchor=\"middle\">" << fmt(std::round(st))
      << "</text>\n";
  }
  s << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
    << "\" fill=\"none\" stroke=\"black\"/>\n"
    << "<text x=\"" << L + (W - L - R) / 2 << "\" y=\"" << H - 18 << "\" text-anchor=\"middle\">step</text>\n"
    << "<text transform=\"translate(20," << T + (H - T - B) / 2 << ") rotate(-90)\" text-anchor=\"middle\">loss"
    << (positive ? " (log scale)" : "") << "</text>\n";
  auto polyline = [&](bool valid, const char* color) {
    std::ostringstream pts;
    int count = 0;
    for (const HistoryRow& r : rows) {
      double v = valid ? r.validLoss : r.loss;
      if (!std::isfinite(v)) continue;
      pts << px(double(r.step)) << "," << py(v) << " ";
      ++count;
    }
    if (count == 0) return false;
    s << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"" << (valid ? 2.5 : 1.5)
      << "\" points=\"" << pts.str() << "\"/>\n";
    return true;
  };
  polyline(false, "#1f77b4");
  bool hasValid = polyline(true, "#ff7f0e");
  s << "<line x1=\"" << W - R - 170 << "\" x2=\"" << W - R - 145 << "\" y1=\"" << T + 18 << "\" y2=\"" << T + 18
    << "\" stroke=\"#1f77b4\" stroke-width=\"2\"/><text x=\"" << W - R - 140 << "\" y=\"" << T + 22
    << "\">training loss</text>\n";
  if (hasValid)
    s << "<line x1=\"" << W - R - 170 << "\" x2=\"" << W - R - 145 << "\" y1=\"" << T + 38 << "\" y2=\"" << T + 38
      << "\" stroke=\"#ff7f0e\" stroke-width=\"2.5\"/><text x=\"" << W - R - 140 << "\" y=\"" << T + 42
      << "\">validation loss</text>\n";
  s << "</svg>\n";
  std::ofstream out(path);
  out << s.str();
  if (!out) throw UsageError("--plot: cannot write '" + path + "'");
}

}  // namespace chain::cli
