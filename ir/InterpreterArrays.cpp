// The reference interpreter's array ops (see ir/IR.h "Arrays" and
// /work/briefs/arrays-ir.md): dim, index, slice, update, add_at, map,
// reduce, matmul, transpose, fill, build and assert. Every read is
// bounds-checked with a message naming the index, the axis and its size;
// results are fresh arrays (value semantics).
#include <cmath>
#include <limits>

#include "ir/InterpreterImpl.h"

namespace chain::ir::interp {

namespace {

// One axis of a slice/update/add_at selection.
struct Axis {
  int64_t start = 0, len = 0;
  bool kept = false;  // kind 1 or 2: the axis appears in the selection's shape
};

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

// Row-major strides of `shape`.
std::vector<int64_t> strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> st(shape.size(), 1);
  for (size_t k = shape.size(); k-- > 1;) st[k - 1] = st[k] * shape[k];
  return st;
}

// Calls fn(flat offset in the array) for every element of the selection, in
// row-major order of the selection.
template <class Fn>
void forSelection(const std::vector<Axis>& axes, const std::vector<int64_t>& shape, Fn fn) {
  std::vector<int64_t> st = strides(shape), pos(axes.size(), 0);
  for (const Axis& a : axes)
    if (a.len <= 0) return;
  for (;;) {
    int64_t flat = 0;
    for (size_t k = 0; k < axes.size(); ++k) flat += (axes[k].start + pos[k]) * st[k];
    fn(flat);
    size_t k = axes.size();
    while (k-- > 0) {
      if (++pos[k] < axes[k].len) break;
      pos[k] = 0;
    }
    if (k == static_cast<size_t>(-1)) return;
  }
}

std::vector<int64_t> selectionShape(const std::vector<Axis>& axes) {
  std::vector<int64_t> shape;
  for (const Axis& a : axes)
    if (a.kept) shape.push_back(a.len);
  return shape;
}

}  // namespace

// Dispatches one array op with a single result.
RtValue Interp::arrayOp(const Operation& op, const std::vector<RtValue>& x, Env& env) {
  Type t = op.results.empty() ? Type::f64() : op.result()->type;
  OpKind k = op.kind;
  if (k == OpKind::Dim) return RtValue::i64(x[0].shape.at(static_cast<size_t>(op.i)));
  if (k == OpKind::Index) return index(op, x);
  if (k == OpKind::Slice) return slice(op, x);
  if (k == OpKind::Update || k == OpKind::AddAt) return update(op, x);
  if (k == OpKind::Map) return map(op, x, env);
  if (k == OpKind::Reduce) return reduce(op, x, env);
  if (k == OpKind::MatMul) return matmul(op, x);
  if (k == OpKind::Build) return build(op, x);
  if (k == OpKind::Transpose) {
    int64_t n = x[0].shape[0], m = x[0].shape[1];
    RtValue r = RtValue::array(t.elem, {m, n});
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) r.set(size_t(j * n + i), x[0].at(size_t(i * m + j)));
    return r;
  }
  if (k == OpKind::Fill) {
    std::vector<int64_t> shape;
    for (size_t a = 1; a < x.size(); ++a) {
      if (x[a].i < 0) fail(op, "array size " + std::to_string(x[a].i) + " is negative");
      shape.push_back(x[a].i);
    }
    RtValue r = RtValue::array(t.elem, shape);
    for (size_t e = 0; e < r.size(); ++e) r.set(e, x[0]);
    return r;
  }
  fail(op, std::string("not an array op: ") + opName(op.kind));
}

// Checks one index against an axis size.
static void checkIndex(int64_t i, int64_t size, size_t axis, const std::string& loc) {
  if (i < 0 || i >= size)
    throw InterpError(loc + "index " + std::to_string(i) + " is out of bounds for axis " +
                      std::to_string(axis) + " of size " + std::to_string(size));
}

RtValue Interp::index(const Operation& op, const std::vector<RtValue>& x) {
  const RtValue& a = x[0];
  std::string loc = std::to_string(op.loc.line) + ":" + std::to_string(op.loc.col) + ": ";
  std::vector<int64_t> st = strides(a.shape);
  int64_t flat = 0;
  for (size_t k = 0; k < a.shape.size(); ++k) {
    checkIndex(x[k + 1].i, a.shape[k], k, loc);
    flat += x[k + 1].i * st[k];
  }
  return a.at(static_cast<size_t>(flat));
}

// Reads the selection of slice/update/add_at: operands from `first` on.
static std::vector<Axis> selection(const Operation& op, const std::vector<RtValue>& x, size_t first,
                                   const std::vector<int64_t>& shape) {
  std::string loc = std::to_string(op.loc.line) + ":" + std::to_string(op.loc.col) + ": ";
  std::vector<Axis> axes(shape.size());
  size_t o = first;
  for (size_t k = 0; k < shape.size(); ++k) {
    int64_t kind = k < op.ints.size() ? op.ints[k] : 2;
    if (kind == 0) {
      checkIndex(x.at(o).i, shape[k], k, loc);
      axes[k] = {x[o++].i, 1, false};
    } else if (kind == 1) {
      int64_t lo = x.at(o).i, hi = x.at(o + 1).i;
      o += 2;
      if (lo < 0 || lo > hi || hi > shape[k])
        throw InterpError(loc + "range " + std::to_string(lo) + ".." + std::to_string(hi) +
                          " is out of bounds for axis " + std::to_string(k) + " of size " +
                          std::to_string(shape[k]));
      axes[k] = {lo, hi - lo, true};
    } else {
      axes[k] = {0, shape[k], true};
    }
  }
  return axes;
}

RtValue Interp::slice(const Operation& op, const std::vector<RtValue>& x) {
  const RtValue& a = x[0];
  std::vector<Axis> axes = selection(op, x, 1, a.shape);
  RtValue r = RtValue::array(a.type.elem, selectionShape(axes));
  size_t k = 0;
  forSelection(axes, a.shape, [&](int64_t flat) { r.set(k++, a.at(size_t(flat))); });
  return r;
}

// update: a with the selection := v; add_at: a with v added to it.
RtValue Interp::update(const Operation& op, const std::vector<RtValue>& x) {
  const RtValue& v = x[1];
  RtValue r = x[0].deepCopy();
  std::vector<Axis> axes = selection(op, x, 2, r.shape);
  std::vector<int64_t> shape = selectionShape(axes);
  if (v.isArray() && v.shape != shape)
    fail(op, std::string(opName(op.kind)) + ": value of shape " + shapeText(v.shape) +
                 " does not fit a selection of shape " + shapeText(shape));
  bool add = op.kind == OpKind::AddAt;
  Type et{r.type.elem, 0};
  size_t k = 0;
  forSelection(axes, r.shape, [&](int64_t flat) {
    RtValue e = v.isArray() ? v.at(k++) : v;
    if (add) {
      RtValue old = r.at(size_t(flat));
      e = et.isFloat() ? mk(et, old.f + e.f)
                       : RtValue::i64(int64_t(uint64_t(old.i) + uint64_t(e.i)));
    }
    r.set(size_t(flat), e);
  });
  return r;
}

RtValue Interp::map(const Operation& op, const std::vector<RtValue>& x, Env& env) {
  std::vector<int64_t> shape;
  for (const RtValue& n : x) {
    if (n.i < 0) fail(op, "array size " + std::to_string(n.i) + " is negative");
    shape.push_back(n.i);
  }
  RtValue r = RtValue::array(op.result()->type.elem, shape);
  if (r.size() == 0) return r;
  const Block& body = *op.region(0);
  std::vector<int64_t> pos(shape.size(), 0);
  for (size_t flat = 0; flat < r.size(); ++flat) {
    for (size_t k = 0; k < pos.size(); ++k) env[body.arg(k)] = RtValue::i64(pos[k]);
    r.set(flat, run(body, env).at(0));
    for (size_t k = pos.size(); k-- > 0;) {
      if (++pos[k] < shape[k]) break;
      pos[k] = 0;
    }
  }
  return r;
}

// Folds the region over lo..hi-1: sum, prod, max/min (first extremal
// element), logsumexp (max + log(sum(exp(x - max))); all -inf -> -inf).
RtValue Interp::reduce(const Operation& op, const std::vector<RtValue>& x, Env& env) {
  Type t = op.result()->type;
  const Block& body = *op.region(0);
  std::vector<RtValue> xs;
  for (int64_t i = x[0].i; i < x[1].i; ++i) {
    env[body.arg(0)] = RtValue::i64(i);
    xs.push_back(run(body, env).at(0));
  }
  bool fl = t.isFloat();
  const std::string& s = op.s;
  double inf = std::numeric_limits<double>::infinity();
  if (s == "sum" || s == "prod") {
    bool sum = s == "sum";
    RtValue acc = fl ? mk(t, sum ? 0.0 : 1.0) : RtValue::i64(sum ? 0 : 1);
    for (const RtValue& v : xs)
      acc = fl ? mk(t, sum ? acc.f + v.f : acc.f * v.f)
               : RtValue::i64(int64_t(sum ? uint64_t(acc.i) + uint64_t(v.i) : uint64_t(acc.i) * uint64_t(v.i)));
    return acc;
  }
  if (s == "max" || s == "min") {
    bool mx = s == "max";
    if (xs.empty())
      return fl ? mk(t, mx ? -inf : inf)
                : RtValue::i64(mx ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max());
    RtValue best = xs[0];
    for (const RtValue& v : xs)
      if (mx ? v.num() > best.num() || (!fl && v.i > best.i) : v.num() < best.num() || (!fl && v.i < best.i))
        best = v;
    return best;
  }
  if (s == "logsumexp") {
    double m = -inf;
    for (const RtValue& v : xs) m = v.f > m ? v.f : m;
    if (std::isinf(m)) return mk(t, m);
    double acc = 0;
    for (const RtValue& v : xs) acc += std::exp(v.f - m);
    return mk(t, m + std::log(acc));
  }
  fail(op, "unknown reduction '" + s + "'");
}

RtValue Interp::matmul(const Operation& op, const std::vector<RtValue>& x) {
  const RtValue &a = x[0], &b = x[1];
  Type t = op.result()->type;
  // View both as matrices: a [n, k] (a vector is one row), b [k, m] (a vector is one column).
  int64_t n = a.type.rank == 2 ? a.shape[0] : 1, ka = a.shape.back();
  int64_t kb = b.shape[0], m = b.type.rank == 2 ? b.shape[1] : 1;
  if (ka != kb)
    fail(op, "matmul: inner sizes differ (" + std::to_string(ka) + " vs " + std::to_string(kb) + ")");
  std::vector<double> out(size_t(n * m), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < ka; ++p) acc += a.at(size_t(i * ka + p)).f * b.at(size_t(p * m + j)).f;
      out[size_t(i * m + j)] = acc;
    }
  if (t.rank == 0) return mk(t, out[0]);
  std::vector<int64_t> shape;
  if (a.type.rank == 2) shape.push_back(n);
  if (b.type.rank == 2) shape.push_back(m);
  return RtValue::array(t.elem, shape, out);
}

RtValue Interp::build(const Operation& op, const std::vector<RtValue>& x) {
  Type t = op.result()->type;
  std::vector<int64_t> shape = x[0].shape;
  for (size_t k = 1; k < x.size(); ++k)
    if (x[k].shape != shape)
      fail(op, "array literal: element " + std::to_string(k) + " has shape " + shapeText(x[k].shape) +
                   ", element 0 has shape " + shapeText(shape));
  shape.insert(shape.begin(), static_cast<int64_t>(x.size()));
  RtValue r = RtValue::array(t.elem, shape);
  size_t flat = 0;
  for (const RtValue& e : x)
    for (size_t k = 0; k < e.size(); ++k) r.set(flat++, e.isArray() ? e.at(k) : e);
  return r;
}

// A runtime error whose message is attr s with each "{}" replaced by the next value.
void Interp::assertOp(const Operation& op, const std::vector<RtValue>& x) {
  if (x.empty() || x[0].i) return;
  std::string msg;
  size_t next = 1;
  for (size_t p = 0; p < op.s.size(); ++p) {
    if (op.s.compare(p, 2, "{}") == 0 && next < x.size()) {
      msg += std::to_string(x[next++].i);
      ++p;
    } else {
      msg += op.s[p];
    }
  }
  fail(op, msg);
}

}  // namespace chain::ir::interp
