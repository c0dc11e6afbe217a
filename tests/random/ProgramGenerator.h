// A generator of random, well-typed Chain source programs for differential
// testing (tests/unit/*_random_programs.cpp, scripts/random-programs.sh).
//
// Each program has a few helper functions (each may call the earlier ones, so
// there is no recursion) and an entry function `f` returning an f64. Programs
// use f64 parameters, i64 loop bounds, let/var, nested for loops with small
// trip counts, while loops bounded by a counter, if/else statements and
// expressions, tuples, comparisons, and/or/not, casts, stop_gradient, calls
// of derivatives of helpers (nested AD: `grad(helper, wrt=a0)` and, with
// `higherOrder`, `grad(grad(helper, ...), ...)`, `hessian`, `hvp` and the
// tangent of `jvp`, up to a bounded total order) and the
// scalar built-ins with their inputs kept inside their domains (log and sqrt
// of `abs(x) + 0.5`, pow of a positive base, division by `1.0 + abs(...)`,
// tan of a value in (-1, 1)). With `arrays` on, the entry function also takes
// `f64[n]` parameters and uses indexing (`i % n`), comprehensions, reductions,
// element updates in loops, broadcasting, `@` and the random numbers
// (uniform / normal of an i64 key, sometimes through mix).
//
// Everything is driven by one seed (splitmix64), so a failing program is
// reproduced from its seed alone. Values are kept moderate (bounded updates,
// squashing built-ins) so that most programs produce finite results; the
// checks skip the rest. An occasional i64 division by a value that may be
// zero exercises runtime errors on purpose.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace chain::testgen {

// splitmix64: a tiny, portable generator (identical streams on every platform).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int range(int lo, int hi) { return lo + int(next() % uint64_t(hi - lo + 1)); }  // [lo, hi]
  double unit() { return double(next() >> 11) * 0x1.0p-53; }                       // [0, 1)
  bool chance(double p) { return unit() < p; }

 private:
  uint64_t s_;
};

struct GenOptions {
  bool arrays = false;  // array parameters and array expressions
  int maxHelpers = 2;
  int maxStmts = 4;     // statements per block (top level)
  int maxDepth = 3;     // expression depth
  bool grad = true;     // grad(helper, wrt=...) calls (need the pipeline's grad materialisation)
  bool higherOrder = true;  // with grad: also jvp, hvp, hessian and grad of grad calls
  int maxOrder = 2;     // the highest derivative order a function's calls reach
};

// A parameter of the entry function: kind 'f' (f64), 'i' (i64 >= 0, small),
// 'a' (f64[n]; every array parameter shares the size name n).
struct ParamSpec {
  std::string name;
  char kind;
};

struct Program {
  std::string source;
  std::string entry = "f";
  std::vector<ParamSpec> params;
  // stop_gradient makes finite differences disagree with the gradient on
  // purpose: such programs are checked JIT against interpreter only.
  bool hasStopGradient = false;
  // The entry function calls a derivative (directly or not): the interpreter
  // runs it after the pipeline has materialised those calls.
  bool usesGrad = false;
  int order = 0;  // the highest derivative order its calls reach (0: none)
};

class ProgramGenerator {
 public:
  ProgramGenerator(uint64_t seed, GenOptions o) : rng_(seed), opt_(o) {}

  Program generate() {
    Program p;
    useStopGradient_ = rng_.chance(0.25);
    useGrad_ = opt_.grad && rng_.chance(0.3);
    p.hasStopGradient = useStopGradient_;
    int nh = rng_.range(0, opt_.maxHelpers);
    for (int k = 0; k < nh; ++k) helper(k);
    p.params = entryParams();
    p.source = out_.str();
    out_.str("");
    usesGrad_ = false;
    order_ = 0;
    function("f", p.params, false);
    p.usesGrad = usesGrad_;
    p.order = order_;
    p.source += out_.str();
    return p;
  }

 private:
  struct Var {
    std::string name;
    char kind;  // 'f' f64, 'i' i64, 'b' bool, 'a' f64[n] array
    bool mut;
  };
  struct Helper {
    std::string name;
    int nf;      // f64 parameters
    bool iarg;   // one trailing i64 parameter
    bool tuple;  // returns (f64, f64)
    bool usesGrad = false;  // calls grad, directly or through another helper
    int order = 0;          // the highest derivative order reached by its calls
  };

  Rng rng_;
  GenOptions opt_;
  std::ostringstream out_;
  std::vector<Var> vars_;
  std::vector<Helper> helpers_;
  int fresh_ = 0;
  bool hasArrays_ = false;
  bool useStopGradient_ = false;
  bool useGrad_ = false;   // calls of grad(helper, wrt=...) allowed in this program
  bool usesGrad_ = false;  // the function being generated calls grad (maybe indirectly)
  int order_ = 0;          // and the highest derivative order so reached

  // --- names, literals, scopes ------------------------------------------------
  std::string freshName(const char* prefix) { return prefix + std::to_string(fresh_++); }
  std::string flit() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", double(rng_.range(-8, 8)) / 4.0);
    std::string s = buf;
    return s[0] == '-' ? "(" + s + ")" : s;
  }
  std::string ilit(int lo, int hi) { return std::to_string(rng_.range(lo, hi)); }
  std::vector<const Var*> varsOf(char kind, bool mutOnly = false) const {
    std::vector<const Var*> r;
    for (auto& v : vars_)
      if (v.kind == kind && (!mutOnly || v.mut)) r.push_back(&v);
    return r;
  }
  const Var* pick(char kind, bool mutOnly = false) {
    auto vs = varsOf(kind, mutOnly);
    return vs.empty() ? nullptr : vs[size_t(rng_.range(0, int(vs.size()) - 1))];
  }
  static std::string pad(int indent) { return std::string(size_t(indent) * 4, ' '); }

  // --- functions ------------------------------------------------------------
  std::vector<ParamSpec> entryParams() {
    std::vector<ParamSpec> ps;
    int nf = rng_.range(1, 3), ni = rng_.range(0, 2), na = opt_.arrays ? rng_.range(1, 2) : 0;
    for (int k = 0; k < nf; ++k) ps.push_back({"x" + std::to_string(k), 'f'});
    for (int k = 0; k < na; ++k) ps.push_back({"u" + std::to_string(k), 'a'});
    for (int k = 0; k < ni; ++k) ps.push_back({"n" + std::to_string(k), 'i'});
    return ps;
  }

  void helper(int k) {
    Helper h{"h" + std::to_string(k), rng_.range(1, 3), rng_.chance(0.3), rng_.chance(0.35)};
    std::vector<ParamSpec> ps;
    for (int j = 0; j < h.nf; ++j) ps.push_back({"a" + std::to_string(j), 'f'});
    if (h.iarg) ps.push_back({"m", 'i'});
    usesGrad_ = false;
    order_ = 0;
    function(h.name, ps, h.tuple);
    h.usesGrad = usesGrad_;
    h.order = order_;
    helpers_.push_back(h);  // callable from later functions only
  }

  // fn name(params) -> f64 | (f64, f64) { statements; result }
  void function(const std::string& name, const std::vector<ParamSpec>& ps, bool tuple) {
    vars_.clear();
    hasArrays_ = false;
    out_ << "fn " << name << "(";
    for (size_t j = 0; j < ps.size(); ++j) {
      const char* t = ps[j].kind == 'f' ? "f64" : ps[j].kind == 'i' ? "i64" : "f64[n]";
      out_ << (j ? ", " : "") << ps[j].name << ": " << t;
      vars_.push_back({ps[j].name, ps[j].kind, false});
      hasArrays_ |= ps[j].kind == 'a';
    }
    if (hasArrays_) vars_.push_back({"n", 'i', false});
    out_ << ") -> " << (tuple ? "(f64, f64)" : "f64") << " {\n";
    if (hasArrays_ && rng_.chance(0.7)) {  // a mutable array for element updates
      std::string w = freshName("w");
      out_ << pad(1) << "var " << w << " = " << aexpr(1) << "\n";
      vars_.push_back({w, 'a', true});
    }
    int n = rng_.range(1, opt_.maxStmts);
    for (int s = 0; s < n; ++s) stmt(1, 0);
    std::string res = resultExpr();
    if (tuple) res = "(" + res + ", " + fexpr(2) + ")";
    out_ << pad(1) << res << "\n}\n\n";
  }

  // The result: an expression plus every mutable f64 variable, so that the
  // updates made in loops and branches matter.
  std::string resultExpr() {
    std::string r = fexpr(opt_.maxDepth);
    for (auto& v : vars_)
      if (v.kind == 'f' && v.mut) r += " + " + v.name;
    for (auto& v : vars_)
      if (v.kind == 'a' && v.mut) r += " + sum(" + v.name + ")";
    return r;
  }

  // --- statements -------------------------------------------------------------
  // block := '{' stmt* '}'   (variables declared inside go out of scope)
  void block(int indent, int nest, int count) {
    size_t mark = vars_.size();
    for (int s = 0; s < count; ++s) stmt(indent, nest);
    vars_.resize(mark);
  }

  void stmt(int indent, int nest) {
    int c = rng_.range(0, 15);
    if (nest >= 2 && c >= 9 && c <= 12) c = 8;  // no deeper nesting of control flow
    if (c <= 2) return nest > 0 && c > 0 ? update(indent) : declare(indent);  // few dead locals
    if (c <= 6) return update(indent);
    if (c <= 8) return c == 7 ? tupleLet(indent) : arrayUpdate(indent);
    if (c <= 10) return forLoop(indent, nest);
    if (c == 11) return whileLoop(indent, nest);
    return ifStmt(indent, nest);
  }

  // let x = e | var v = e | let k = i | let b = c | var a = array
  void declare(int indent) {
    int c = rng_.range(0, 9);
    if (c <= 3 || (c == 9 && !hasArrays_)) {
      std::string n = freshName("v");
      out_ << pad(indent) << "var " << n << " = " << fexpr(opt_.maxDepth) << "\n";
      vars_.push_back({n, 'f', true});
    } else if (c <= 6) {
      std::string n = freshName("t");
      out_ << pad(indent) << "let " << n << " = " << fexpr(opt_.maxDepth) << "\n";
      vars_.push_back({n, 'f', false});
    } else if (c == 7) {
      std::string n = freshName("k");
      out_ << pad(indent) << "let " << n << " = " << iexpr(2) << "\n";
      vars_.push_back({n, 'i', false});
    } else if (c == 8) {
      std::string n = freshName("c");
      out_ << pad(indent) << "let " << n << " = " << bexpr(2) << "\n";
      vars_.push_back({n, 'b', false});
    } else {
      std::string n = freshName("w");
      out_ << pad(indent) << "var " << n << " = " << aexpr(2) << "\n";
      vars_.push_back({n, 'a', true});
    }
  }

  // v = e | v += e | v -= e | v *= bounded | v /= (1.0 + abs(e))
  void update(int indent) {
    const Var* v = pick('f', true);
    if (!v) return declare(indent);
    std::string name = v->name;  // (fexpr may grow vars_)
    std::string e = fexpr(opt_.maxDepth - 1);
    switch (rng_.range(0, 4)) {
      case 0: out_ << pad(indent) << name << " = " << e << "\n"; break;
      case 1: out_ << pad(indent) << name << " += " << e << "\n"; break;
      case 2: out_ << pad(indent) << name << " -= " << e << "\n"; break;
      case 3: out_ << pad(indent) << name << " *= tanh(" << e << ")\n"; break;
      default: out_ << pad(indent) << name << " /= 1.0 + abs(" << e << ")\n"; break;
    }
  }

  // let (p, q) = helper(...) | let (p, q) = jvp(helper, wrt=aK)(..., t)
  // (falls back to a declaration)
  void tupleLet(int indent) {
    if (useGrad_ && opt_.higherOrder && rng_.chance(0.3))
      if (const Helper* h = derivable(1)) {
        std::string a = freshName("p"), b = freshName("q");
        std::string call = callArgs(*h);
        call.insert(call.size() - 1, ", " + fexpr(1));  // the tangent of wrt
        out_ << pad(indent) << "let (" << a << ", " << b << ") = jvp(" << h->name << ", wrt=" << param(*h) << ")"
             << call.substr(h->name.size()) << "\n";
        noteOrder(*h, 1);
        vars_.push_back({a, 'f', false});
        vars_.push_back({b, 'f', false});
        return;
      }
    std::vector<const Helper*> ts;
    for (auto& h : helpers_)
      if (h.tuple) ts.push_back(&h);
    if (ts.empty()) return declare(indent);
    const Helper& h = *ts[size_t(rng_.range(0, int(ts.size()) - 1))];
    std::string a = freshName("p"), b = freshName("q");
    out_ << pad(indent) << "let (" << a << ", " << b << ") = " << callArgs(h) << "\n";
    vars_.push_back({a, 'f', false});
    vars_.push_back({b, 'f', false});
  }

  // w[i % n] = e | w[i % n] += e | w = w * bounded   (falls back to an update)
  void arrayUpdate(int indent) {
    const Var* w = pick('a', true);
    if (!w) return update(indent);
    std::string name = w->name;
    switch (rng_.range(0, 2)) {
      case 0: out_ << pad(indent) << name << "[" << index() << "] = " << fexpr(2) << "\n"; break;
      case 1: out_ << pad(indent) << name << "[" << index() << "] += " << fexpr(2) << "\n"; break;
      default: out_ << pad(indent) << name << " = " << name << " * tanh(" << aexpr(1) << ")\n"; break;
    }
  }

  // for i in lo..hi { block }
  void forLoop(int indent, int nest) {
    std::string i = freshName("i"), hi;
    int c = rng_.range(0, 4);
    const Var* bound = pick('i');
    if (c <= 1 || !bound) hi = ilit(0, 4);
    else if (c == 2 && hasArrays_) hi = "n";
    else hi = "min(" + bound->name + ", 4)";
    std::string lo = rng_.chance(0.25) ? ilit(0, 2) : "0";
    out_ << pad(indent) << "for " << i << " in " << lo << ".." << hi << " {\n";
    size_t mark = vars_.size();
    vars_.push_back({i, 'i', false});
    block(indent + 1, nest + 1, rng_.range(1, 3));
    vars_.resize(mark);
    out_ << pad(indent) << "}\n";
  }

  // var c = 0; while c < K and cond { block; c += 1 }
  void whileLoop(int indent, int nest) {
    std::string c = freshName("c");
    out_ << pad(indent) << "var " << c << " = 0\n";
    out_ << pad(indent) << "while " << c << " < " << ilit(0, 4);
    if (rng_.chance(0.6)) out_ << " and " << bexpr(2);
    out_ << " {\n";
    block(indent + 1, nest + 1, rng_.range(1, 3));
    out_ << pad(indent + 1) << c << " += 1\n" << pad(indent) << "}\n";
  }

  // if c { block } [else if c { block }] [else { block }]
  void ifStmt(int indent, int nest) {
    out_ << pad(indent) << "if " << bexpr(2) << " {\n";
    block(indent + 1, nest + 1, rng_.range(1, 2));
    int c = rng_.range(0, 2);
    if (c == 1) {
      out_ << pad(indent) << "} else if " << bexpr(2) << " {\n";
      block(indent + 1, nest + 1, 1);
    }
    if (c >= 1) {
      out_ << pad(indent) << "} else {\n";
      block(indent + 1, nest + 1, rng_.range(1, 2));
    }
    out_ << pad(indent) << "}\n";
  }

  // --- expressions ----------------------------------------------------------
  std::string callArgs(const Helper& h) {
    usesGrad_ |= h.usesGrad;
    order_ = std::max(order_, h.order);
    std::string s = h.name + "(";
    for (int j = 0; j < h.nf; ++j) s += (j ? ", " : "") + fexpr(1);
    if (h.iarg) s += ", " + iexpr(1);
    return s + ")";
  }

  std::string fleaf() {
    int c = rng_.range(0, 19);
    if (c <= 14) {
      if (const Var* v = pick('f')) return v->name;
    }
    if (c >= 15 && c <= 16 && hasArrays_) return arrayScalar(0);
    if (c == 17 && hasArrays_) return pick('a')->name + "[" + index() + "]";
    if (c == 18) return "f64(" + iexpr(0) + ")";
    return flit();
  }

  // An f64 expression of depth at most `d`.
  std::string fexpr(int d) {
    if (d <= 0 || rng_.chance(0.2)) return fleaf();
    std::string a = fexpr(d - 1);
    if (!helpers_.empty() && rng_.chance(0.06)) return helperCall(a);
    switch (rng_.range(0, 27)) {
      case 0: case 1: return "(" + a + " + " + fexpr(d - 1) + ")";
      case 2: return "(" + a + " - " + fexpr(d - 1) + ")";
      case 3: case 4: return "(" + a + " * " + fexpr(d - 1) + ")";
      case 5: return "(" + a + " / (1.0 + abs(" + fexpr(d - 1) + ")))";
      case 6: return "(-" + a + ")";
      case 7: return "sin(" + a + ")";
      case 8: return "cos(" + a + ")";
      case 9: return "tanh(" + a + ")";
      case 10: return "exp(tanh(" + a + "))";
      case 11: return "log(abs(" + a + ") + 0.5)";
      case 12: return "sqrt(abs(" + a + ") + 0.5)";
      case 13: return "pow(abs(" + a + ") + 0.5, " + (rng_.chance(0.5) ? flit() : "tanh(" + fexpr(d - 1) + ")") + ")";
      case 14: return "(abs(" + a + ") + 0.5) ** " + (rng_.chance(0.5) ? std::string("2.0") : ilit(1, 3));
      case 15: return "atan2(" + a + ", 1.0 + abs(" + fexpr(d - 1) + "))";
      case 16: return "tan(tanh(" + a + "))";
      case 17: return (rng_.chance(0.5) ? "sigmoid(" : "softplus(") + a + ")";
      case 18: return (rng_.chance(0.5) ? "relu(" : "abs(") + a + ")";
      case 19: return (rng_.chance(0.5) ? "log1p(abs(" + a + "))" : "expm1(tanh(" + a + "))");
      case 20: return (rng_.chance(0.5) ? "min(" : "max(") + a + ", " + fexpr(d - 1) + ")";
      case 21: return (rng_.chance(0.5) ? "floor(" : "ceil(") + a + ")";
      case 22: return "(" + a + " % (1.0 + abs(" + fexpr(d - 1) + ")))";
      case 23: return useStopGradient_ ? "stop_gradient(" + a + ")" : "cos(" + a + ")";
      case 24: return "(if " + bexpr(d - 1) + " { " + a + " } else { " + fexpr(d - 1) + " })";
      case 25: return helperCall(a);
      case 26: return "(f64(" + iexpr(d - 1) + ") * " + a + ")";
      default: return hasArrays_ ? arrayScalar(d - 1) : "(" + a + " * " + flit() + ")";
    }
  }

  // A call of a scalar helper, or of a derivative of it (nested AD), else sin(a).
  std::string helperCall(const std::string& a) {
    std::vector<const Helper*> hs;
    for (auto& h : helpers_)
      if (!h.tuple) hs.push_back(&h);
    if (hs.empty()) return "sin(" + a + ")";
    const Helper& h = *hs[size_t(rng_.range(0, int(hs.size()) - 1))];
    if (useGrad_ && h.order < opt_.maxOrder && rng_.chance(0.5)) return derivativeCall(h);
    return callArgs(h);
  }

  // grad(h, wrt=aK)(args); with higherOrder also grad(grad(h, wrt=aK),
  // wrt=aJ)(args), hessian(h, wrt=aK)(args) and hvp(h, wrt=aK)(args, v),
  // the second-order ones while h's own order leaves room. All are f64 (the
  // helpers' float parameters are scalars).
  std::string derivativeCall(const Helper& h) {
    int c = opt_.higherOrder && h.order + 2 <= opt_.maxOrder ? rng_.range(0, 4) : 0;
    std::string w = param(h), call = callArgs(h).substr(h.name.size());
    noteOrder(h, c == 0 ? 1 : 2);
    switch (c) {
      case 0: case 1: return "grad(" + h.name + ", wrt=" + w + ")" + call;
      case 2: return "grad(grad(" + h.name + ", wrt=" + w + "), wrt=" + param(h) + ")" + call;
      case 3: return "hessian(" + h.name + ", wrt=" + w + ")" + call;
      default: return "hvp(" + h.name + ", wrt=" + w + ")" + call.insert(call.size() - 1, ", " + fexpr(1));
    }
  }

  // A random float parameter of helper h, and the bookkeeping of a
  // derivative of order k of h.
  std::string param(const Helper& h) { return "a" + std::to_string(rng_.range(0, h.nf - 1)); }
  void noteOrder(const Helper& h, int k) {
    usesGrad_ = true;
    order_ = std::max(order_, h.order + k);
  }
  // A scalar helper whose order leaves room for k more, or null.
  const Helper* derivable(int k) {
    std::vector<const Helper*> hs;
    for (auto& h : helpers_)
      if (!h.tuple && h.order + k <= opt_.maxOrder) hs.push_back(&h);
    return hs.empty() ? nullptr : hs[size_t(rng_.range(0, int(hs.size()) - 1))];
  }

  // An i64 expression of small magnitude. Rarely, a division whose divisor
  // may be zero (a runtime error both sides must report identically).
  std::string iexpr(int d) {
    const Var* v = pick('i');
    if (d <= 0 || rng_.chance(0.3)) return v && rng_.chance(0.7) ? v->name : ilit(0, 5);
    std::string a = iexpr(d - 1);
    switch (rng_.range(0, 9)) {
      case 0: case 1: return "(" + a + " + " + iexpr(d - 1) + ")";
      case 2: return "(" + a + " - " + iexpr(d - 1) + ")";
      case 3: return "(" + a + " * " + iexpr(d - 1) + ")";
      case 4: return "(" + a + " % " + ilit(1, 4) + ")";
      case 5: return "(" + a + " / " + ilit(1, 3) + ")";
      case 6: return "i64(2.0 * tanh(" + fexpr(d - 1) + "))";
      case 7: return rng_.chance(0.15) ? "(" + a + " / (" + iexpr(d - 1) + " - 2))" : a;
      case 8: return (rng_.chance(0.5) ? "min(" : "max(") + a + ", " + iexpr(d - 1) + ")";
      default: return "(if " + bexpr(d - 1) + " { " + a + " } else { " + ilit(0, 3) + " })";
    }
  }

  std::string bexpr(int d) {
    static const char* cmps[] = {" < ", " <= ", " > ", " >= ", " == ", " != "};
    int c = d <= 0 ? rng_.range(0, 3) : rng_.range(0, 7);
    switch (c) {
      case 0: case 1: return "(" + fexpr(d) + cmps[rng_.range(0, 3)] + fexpr(d) + ")";
      case 2: return "(" + iexpr(d) + cmps[rng_.range(0, 5)] + iexpr(d) + ")";
      case 3: {
        if (const Var* v = pick('b')) return v->name;
        if (rng_.chance(0.8)) return "(" + fexpr(d) + " < " + fexpr(d) + ")";
        return rng_.chance(0.5) ? "true" : "false";
      }
      case 4: case 5: return "(" + bexpr(d - 1) + " and " + bexpr(d - 1) + ")";
      case 6: return "(" + bexpr(d - 1) + " or " + bexpr(d - 1) + ")";
      default: return "(not " + bexpr(d - 1) + ")";
    }
  }

  // --- arrays (all of size n) -----------------------------------------------
  // An in-range index: a loop index or an i64 expression, reduced modulo n.
  std::string index() {
    const Var* v = pick('i');
    if (v && rng_.chance(0.5)) return v->name + " % n";
    return "abs(" + iexpr(1) + ") % n";
  }

  // An array of shape [n].
  std::string aexpr(int d) {
    const Var* w = pick('a');
    if (!w) return "zeros(n)";
    std::string wn = w->name;  // (vars_ may grow below)
    if (d <= 0 || rng_.chance(0.25)) return wn;
    std::string j = freshName("j");
    switch (rng_.range(0, 7)) {
      case 0: return "(" + aexpr(d - 1) + " + " + aexpr(d - 1) + ")";
      case 1: return "(" + aexpr(d - 1) + " * " + fexpr(1) + ")";
      case 2: return "sin(" + aexpr(d - 1) + ")";
      case 3: return "tanh(" + aexpr(d - 1) + ")";
      case 4: return "(" + flit() + " - " + aexpr(d - 1) + ")";
      case 5: return "exp(tanh(" + aexpr(d - 1) + "))";
      case 6: {
        // [e(j) for j in 0..n]
        vars_.push_back({j, 'i', false});
        std::string e = wn + "[" + j + "] * " + fexpr(1);
        vars_.pop_back();
        return "[" + e + " for " + j + " in 0..n]";
      }
      default: return rng_.chance(0.5) ? "fill(" + fexpr(1) + ", n)" : draw();
    }
  }

  // Random numbers of shape [n]: uniform, or normal scaled by 0.5, of an
  // i64 key, half the time derived with mix.
  std::string draw() {
    std::string key = iexpr(1);
    if (rng_.chance(0.5)) key = "mix(" + key + ", " + ilit(0, 3) + ")";
    return rng_.chance(0.5) ? "uniform(" + key + ", n)" : "(0.5 * normal(" + key + ", n))";
  }

  // A scalar computed from arrays: indexing, reductions, dot products.
  std::string arrayScalar(int d) {
    std::string a = aexpr(d);
    switch (rng_.range(0, 8)) {
      case 0: return a + "[" + index() + "]";
      case 1: case 2: return "sum(" + a + ")";
      case 3: return "max(" + a + ")";
      case 4: return "logsumexp(" + a + ")";
      case 5: return "mean(" + a + ")";
      case 6: return "(" + a + " @ " + aexpr(d) + ")";
      case 7: return "min(" + a + ")";
      default: {
        std::string j = freshName("j");
        vars_.push_back({j, 'i', false});
        std::string e = a + "[" + j + "] * " + fexpr(1);
        vars_.pop_back();
        return "sum(" + e + " for " + j + " in 0..n)";
      }
    }
  }
};

}  // namespace chain::testgen
