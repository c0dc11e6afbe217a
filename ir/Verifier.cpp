// The IR verifier. One walk over the function keeps the set of values visible
// at each point (block arguments, earlier results in the block and in the
// enclosing blocks) to check dominance, and checks each op's structure,
// arity, operand/result types and region signatures as it goes.
#include "ir/Verifier.h"

#include "ir/DiffSpec.h"
#include "ir/StageTimer.h"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <unordered_set>
#include <sstream>

#include "ir/Printer.h"

namespace chain::ir {

namespace {

std::string typeList(const std::vector<Type>& ts) {
  std::string s = "(";
  for (size_t i = 0; i < ts.size(); ++i) s += (i ? ", " : "") + ts[i].str();
  return s + ")";
}

std::vector<Type> typesOf(const std::vector<Value*>& vs) {
  std::vector<Type> out;
  for (const Value* v : vs) out.push_back(v ? v->type : Type{});
  return out;
}

std::vector<Type> typesOf(const std::vector<std::unique_ptr<Value>>& vs) {
  std::vector<Type> out;
  for (auto& v : vs) out.push_back(v->type);
  return out;
}

// NEED(cond, where, msg): checks `cond`; reports `msg` when it fails. A macro
// so that the message (often built from several strings) is only made for a
// failing check: the verifier runs after every pass and must stay cheap.
#define NEED(cond, where, msg) ((cond) ? true : (error((where), (msg)), false))

// Where an op is ("@f: op 3 (add)"), spelled out only for an error message.
struct OpWhere {
  const std::string& path;
  size_t index;
  OpKind kind;
  std::string str() const {
    return path + ": op " + std::to_string(index) + " (" + opName(kind) + ")";
  }
};
std::string operator+(const OpWhere& w, const std::string& s) { return w.str() + s; }
std::string operator+(const OpWhere& w, const char* s) { return w.str() + s; }

class Verifier {
 public:
  Verifier(const Function& f, const Module* m) : f_(f), m_(m) {}

  std::vector<std::string> run() {
    visible_.reserve(256);
    block(f_.body, "@" + f_.name, nullptr);
    return std::move(errs_);
  }

 private:
  void error(const std::string& where, const std::string& msg) { errs_.push_back(where + ": " + msg); }
  void error(const OpWhere& where, const std::string& msg) { error(where.str(), msg); }

  void block(const Block& b, const std::string& path, const Operation* owner);
  void structure(const Operation& op, const Block& b, const OpWhere& where);
  void operands(const Operation& op, const OpWhere& where);
  void types(const Operation& op, const OpWhere& where);
  void regionSignature(const Operation& op, size_t r, const std::vector<Type>& args,
                       const std::vector<Type>& yields, const OpWhere& where);
  void call(const Operation& op, const OpWhere& where);
  void regionOp(const Operation& op, const OpWhere& where);
  void arrayOp(const Operation& op, const OpWhere& where);
  void selectionOp(const Operation& op, const OpWhere& where);
  void matmul(const Operation& op, const OpWhere& where);
  void mapOrReduce(const Operation& op, const OpWhere& where);
  bool allI64(const Operation& op, size_t from, const OpWhere& where);


  bool sameBinary(const Operation& op, const OpWhere& where) {
    if (op.operands.size() != 2 || !op.operands[0] || !op.operands[1]) return false;
    return NEED(op.operands[0]->type == op.operands[1]->type, where,
                "operand types differ (" + op.operands[0]->type.str() + " vs " +
                    op.operands[1]->type.str() + ")");
  }
  bool oneResult(const Operation& op, const OpWhere& where) {
    return NEED(op.results.size() == 1, where,
                "expects 1 result, has " + std::to_string(op.results.size()));
  }
  void resultIs(const Operation& op, Type t, const OpWhere& where) {
    if (oneResult(op, where))
      NEED(op.results[0]->type == t, where,
           "result type " + op.results[0]->type.str() + ", expected " + t.str());
  }
  // Scalar ops (arithmetic, math, comparisons, logic, cast) take scalars only.
  bool scalarsOnly(const Operation& op, const OpWhere& where) {
    for (const Value* v : op.operands)
      if (!NEED(v->type.isScalar(), where, "operand of type " + v->type.str() + " is not a scalar"))
        return false;
    return true;
  }
  void noResults(const Operation& op, const OpWhere& where) {
    NEED(op.results.empty(), where, "expects no results, has " + std::to_string(op.results.size()));
  }

  const Function& f_;
  const Module* m_;
  std::vector<std::string> errs_;
  std::unordered_set<const Value*> visible_;
};

void Verifier::block(const Block& b, const std::string& path, const Operation* owner) {
  std::vector<const Value*> added;
  for (size_t i = 0; i < b.args.size(); ++i) {
    const Value* a = b.args[i].get();
    NEED(a->owner == &b && a->def == nullptr && a->index == static_cast<int>(i), path,
         "argument " + std::to_string(i) + " has inconsistent owner/def/index");
    visible_.insert(a);
    added.push_back(a);
  }
  NEED(b.parentOp == owner, path, "block's parentOp does not point to its owning op");
  OpKind term = owner ? OpKind::Yield : OpKind::Return;
  if (b.ops.empty()) error(path, std::string("block is empty (missing '") + opName(term) + "')");
  for (size_t j = 0; j < b.ops.size(); ++j) {
    const Operation& op = *b.ops[j];
    OpWhere where{path, j, op.kind};
    bool last = j + 1 == b.ops.size();
    if (hasFlag(op.kind, Terminator) && !last)
      error(where, "terminator in the middle of a block");
    if (last && op.kind != term)
      error(where, std::string("block must end with '") + opName(term) + "'");
    structure(op, b, where);
    operands(op, where);
    types(op, where);
    for (size_t r = 0; r < op.regions.size(); ++r)
      block(*op.regions[r], where + " region " + std::to_string(r), &op);
    for (auto& res : op.results) {
      visible_.insert(res.get());
      added.push_back(res.get());
    }
  }
  for (const Value* v : added) visible_.erase(v);
}

void Verifier::structure(const Operation& op, const Block& b, const OpWhere& where) {
  NEED(op.parent == &b, where, "op's parent does not point to its block");
  for (size_t r = 0; r < op.results.size(); ++r)
    NEED(op.results[r]->def == &op && op.results[r]->index == static_cast<int>(r), where,
         "result " + std::to_string(r) + " has inconsistent def/index");
  int arity = opInfo(op.kind).arity;
  if (arity >= 0)
    NEED(static_cast<int>(op.operands.size()) == arity, where,
         "expects " + std::to_string(arity) + " operands, has " + std::to_string(op.operands.size()));
  size_t regions = op.kind == OpKind::If || op.kind == OpKind::While ? 2
                   : op.kind == OpKind::For || op.kind == OpKind::Map || op.kind == OpKind::Reduce ? 1
                                                                                                    : 0;
  NEED(op.regions.size() == regions, where,
       "expects " + std::to_string(regions) + " regions, has " + std::to_string(op.regions.size()));
}

void Verifier::operands(const Operation& op, const OpWhere& where) {
  for (size_t k = 0; k < op.operands.size(); ++k) {
    const Value* v = op.operands[k];
    if (!NEED(v != nullptr, where, "operand " + std::to_string(k) + " is null")) continue;
    NEED(visible_.count(v) != 0, where,
         "operand " + std::to_string(k) + (v->name.empty() ? "" : " ('" + v->name + "')") +
             " does not dominate its use");
  }
  if (op.kind == OpKind::Return)
    NEED(typesOf(op.operands) == f_.resultTypes, where,
         "returns " + typeList(typesOf(op.operands)) + " but the function's results are " +
             typeList(f_.resultTypes));
}

// Checks region `r` of `op`: its argument types and what its yield yields.
void Verifier::regionSignature(const Operation& op, size_t r, const std::vector<Type>& args,
                               const std::vector<Type>& yields, const OpWhere& where) {
  if (r >= op.regions.size()) return;
  const Block& b = *op.regions[r];
  auto rw = [&] { return where + (" region " + std::to_string(r)); };
  NEED(typesOf(b.args) == args, rw(),
       "arguments " + typeList(typesOf(b.args)) + ", expected " + typeList(args));
  const Operation* t = b.terminator();
  if (t && t->kind == OpKind::Yield)
    NEED(typesOf(t->operands) == yields, rw(),
         "yields " + typeList(typesOf(t->operands)) + ", expected " + typeList(yields));
}

void Verifier::call(const Operation& op, const OpWhere& where) {
  if (!m_) return;
  const Function* callee = m_->lookup(op.s);
  if (!NEED(callee != nullptr, where, "unknown callee @" + op.s)) return;
  Signature sig{typesOf(callee->body.args), callee->resultTypes};
  if (op.kind == OpKind::GradCall) {
    std::vector<DiffLevel> levels;
    std::string why;
    if (!NEED(decodeLevels(op.ints, levels), where, "malformed derivative levels")) return;
    if (!NEED(derivedSignature(sig, levels, sig, why), where, "cannot derive @" + op.s + ": " + why)) return;
  }
  NEED(typesOf(op.operands) == sig.params, where,
       "operands " + typeList(typesOf(op.operands)) + " do not match @" + op.s + " parameters " +
           typeList(sig.params));
  NEED(typesOf(op.results) == sig.results, where,
       "results " + typeList(typesOf(op.results)) + ", expected " + typeList(sig.results));
}

// if: bool condition, two argument-less regions yielding the results; for:
// i64 bounds, region ^(i64, carried...) yielding the carried types; while:
// cond ^(carried...) yielding one bool, body ^(carried...) yielding them.
void Verifier::regionOp(const Operation& op, const OpWhere& where) {
  std::vector<Type> all = typesOf(op.operands);
  std::vector<Type> results = typesOf(op.results);
  if (op.kind == OpKind::If) {
    NEED(all.size() == 1 && all[0] == Type::boolean(), where, "condition must be bool");
    regionSignature(op, 0, {}, results, where);
    regionSignature(op, 1, {}, results, where);
    return;
  }
  size_t first = op.kind == OpKind::For ? 2 : 0;
  if (!NEED(all.size() >= first, where, "for needs lo and hi")) return;
  if (op.kind == OpKind::For)
    NEED(all[0] == Type::i64() && all[1] == Type::i64(), where, "bounds must be i64");
  std::vector<Type> inits(all.begin() + static_cast<long>(first), all.end());
  NEED(results == inits, where,
       "results " + typeList(results) + " differ from inits " + typeList(inits));
  if (op.kind == OpKind::While) {
    regionSignature(op, 0, inits, {Type::boolean()}, where);
    regionSignature(op, 1, inits, inits, where);
    return;
  }
  std::vector<Type> args = inits;
  args.insert(args.begin(), Type::i64());
  regionSignature(op, 0, args, inits, where);
}

// Operands from `from` on must be i64 scalars.
bool Verifier::allI64(const Operation& op, size_t from, const OpWhere& where) {
  for (size_t k = from; k < op.operands.size(); ++k)
    if (!NEED(op.operands[k]->type == Type::i64(), where,
              "operand " + std::to_string(k) + " must be i64, is " + op.operands[k]->type.str()))
      return false;
  return true;
}

// slice (a, sel...), update/add_at (a, v, sel...): attr ints has one kind per
// axis (0 index, 1 range, 2 whole axis) and the operands follow the kinds.
void Verifier::selectionOp(const Operation& op, const OpWhere& where) {
  size_t first = op.kind == OpKind::Slice ? 1 : 2;
  if (!NEED(op.operands.size() >= first, where, "expects at least " + std::to_string(first) + " operands"))
    return;
  Type a = op.operands[0]->type;
  if (!NEED(a.rank >= 1, where, "operand 0 must be an array")) return;
  if (!NEED(op.ints.size() == static_cast<size_t>(a.rank), where,
            "has " + std::to_string(op.ints.size()) + " selection kinds for an array of rank " +
                std::to_string(a.rank)))
    return;
  size_t count = first;
  int kept = 0;
  for (int64_t kind : op.ints) {
    if (!NEED(kind >= 0 && kind <= 2, where, "selection kind " + std::to_string(kind) + " is not 0, 1 or 2"))
      return;
    count += kind == 0 ? 1 : kind == 1 ? 2 : 0;
    kept += kind != 0;
  }
  if (!NEED(op.operands.size() == count, where,
            "expects " + std::to_string(count) + " operands for its selection, has " +
                std::to_string(op.operands.size())))
    return;
  allI64(op, first, where);
  Type sel{a.elem, kept};
  if (op.kind == OpKind::Slice) {
    NEED(kept >= 1, where, "a slice selects at least one axis (use index for one element)");
    resultIs(op, sel, where);
    return;
  }
  NEED(op.operands[1]->type == sel, where,
       "value of type " + op.operands[1]->type.str() + ", the selection is " + sel.str());
  resultIs(op, a, where);
}

void Verifier::matmul(const Operation& op, const OpWhere& where) {
  Type a = op.operands[0]->type, b = op.operands[1]->type;
  if (!NEED(a.rank >= 1 && a.rank <= 2 && b.rank >= 1 && b.rank <= 2, where,
            "operands must be rank 1 or 2 arrays (" + a.str() + ", " + b.str() + ")"))
    return;
  if (!NEED(a.elem == b.elem && a.isFloat(), where, "operands must have one float element type"))
    return;
  int rank = (a.rank == 2) + (b.rank == 2);
  resultIs(op, Type{a.elem, rank}, where);
}

// dim, index, slice/update/add_at, matmul, transpose, fill, build, assert.
void Verifier::arrayOp(const Operation& op, const OpWhere& where) {
  auto opd = [&](size_t k) { return op.operands[k]->type; };
  OpKind k = op.kind;
  if (k == OpKind::Slice || k == OpKind::Update || k == OpKind::AddAt) return selectionOp(op, where);
  if (k == OpKind::MatMul) return matmul(op, where);
  if (k == OpKind::Dim) {
    NEED(opd(0).rank >= 1, where, "operand must be an array");
    NEED(op.i >= 0 && op.i < opd(0).rank, where,
         "axis " + std::to_string(op.i) + " out of range for rank " + std::to_string(opd(0).rank));
    resultIs(op, Type::i64(), where);
  } else if (k == OpKind::Index) {
    if (!NEED(!op.operands.empty() && opd(0).rank >= 1, where, "operand 0 must be an array")) return;
    NEED(op.operands.size() == static_cast<size_t>(opd(0).rank) + 1, where,
         "expects " + std::to_string(opd(0).rank) + " indices, has " +
             std::to_string(op.operands.size() - 1));
    allI64(op, 1, where);
    resultIs(op, Type{opd(0).elem, 0}, where);
  } else if (k == OpKind::Transpose) {
    NEED(opd(0).rank == 2, where, "operand must be a rank 2 array");
    resultIs(op, opd(0), where);
  } else if (k == OpKind::Fill) {
    if (!NEED(op.operands.size() >= 2, where, "expects a value and at least one size")) return;
    NEED(opd(0).isScalar(), where, "fill value must be a scalar");
    allI64(op, 1, where);
    resultIs(op, Type{opd(0).elem, static_cast<int>(op.operands.size()) - 1}, where);
  } else if (k == OpKind::Build) {
    if (!NEED(!op.operands.empty(), where, "expects at least one element")) return;
    for (size_t e = 1; e < op.operands.size(); ++e)
      NEED(opd(e) == opd(0), where,
           "element " + std::to_string(e) + " has type " + opd(e).str() + ", element 0 has " + opd(0).str());
    resultIs(op, Type{opd(0).elem, opd(0).rank + 1}, where);
  } else if (k == OpKind::Assert) {
    if (NEED(!op.operands.empty(), where, "expects a condition"))
      NEED(opd(0) == Type::boolean(), where, "condition must be a bool scalar");
    allI64(op, 1, where);
    noResults(op, where);
  }
}

// map (n0..): i64 extents, region ^(i64 x rank) yields one scalar, result
// rank = #extents. reduce (lo, hi): region ^(i64) yields one scalar, attr s
// names the reduction, result = the yielded type.
void Verifier::mapOrReduce(const Operation& op, const OpWhere& where) {
  bool isMap = op.kind == OpKind::Map;
  if (isMap) NEED(!op.operands.empty(), where, "map needs at least one extent");
  allI64(op, 0, where);
  if (op.regions.size() != 1 || !oneResult(op, where)) return;
  const Block& b = *op.regions[0];
  size_t nargs = isMap ? op.operands.size() : 1;
  NEED(typesOf(b.args) == std::vector<Type>(nargs, Type::i64()), where + " region 0",
       "arguments " + typeList(typesOf(b.args)) + ", expected " + std::to_string(nargs) + " i64");
  const Operation* t = b.terminator();
  if (!t || t->kind != OpKind::Yield) return;
  if (!NEED(t->operands.size() == 1 && t->operands[0] && t->operands[0]->type.isScalar(),
            where + " region 0", "must yield one scalar"))
    return;
  Type y = t->operands[0]->type;
  if (isMap) {
    resultIs(op, Type{y.elem, static_cast<int>(op.operands.size())}, where);
    return;
  }
  const std::string& s = op.s;
  if (!NEED(s == "sum" || s == "prod" || s == "max" || s == "min" || s == "logsumexp", where,
            "unknown reduction '" + s + "'"))
    return;
  NEED(y.elem != Scalar::Bool, where, "cannot reduce bool values");
  if (s == "logsumexp") NEED(y.isFloat(), where, "logsumexp needs float values");
  resultIs(op, y, where);
}

void Verifier::types(const Operation& op, const OpWhere& where) {
  auto opd = [&](size_t k) { return op.operands[k]->type; };
  for (const Value* v : op.operands)
    if (!v) return;
  int arity = opInfo(op.kind).arity;
  if (arity >= 0 && static_cast<int>(op.operands.size()) != arity) return;
  switch (op.kind) {
    case OpKind::ConstF:
      if (oneResult(op, where)) NEED(op.results[0]->type.isFloat(), where, "result must be a float");
      return;
    case OpKind::ConstI: resultIs(op, Type::i64(), where); return;
    case OpKind::ConstB:
      resultIs(op, Type::boolean(), where);
      NEED(op.i == 0 || op.i == 1, where, "bool constant must be 0 or 1");
      return;
    case OpKind::Pow: case OpKind::Atan2:
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::Rem:
    case OpKind::Min: case OpKind::Max:
      if (scalarsOnly(op, where) && sameBinary(op, where)) {
        if (op.kind == OpKind::Pow || op.kind == OpKind::Atan2)
          NEED(opd(0).isFloat(), where, "operands must be floats");
        else
          NEED(opd(0).elem != Scalar::Bool, where, "operands must be numeric");
        resultIs(op, opd(0), where);
      }
      return;
    case OpKind::Exp: case OpKind::Log: case OpKind::Sqrt: case OpKind::Sin: case OpKind::Cos:
    case OpKind::Tan: case OpKind::Tanh: case OpKind::Sigmoid: case OpKind::Relu:
    case OpKind::Softplus: case OpKind::Log1p: case OpKind::Expm1: case OpKind::Floor:
    case OpKind::Ceil:
      scalarsOnly(op, where);
      NEED(opd(0).isFloat(), where, "operand must be a float");
      resultIs(op, opd(0), where);
      return;
    case OpKind::Neg: case OpKind::Abs:
      scalarsOnly(op, where);
      NEED(opd(0).elem != Scalar::Bool, where, "operand must be numeric");
      resultIs(op, opd(0), where);
      return;
    case OpKind::Lt: case OpKind::Le: case OpKind::Gt: case OpKind::Ge:
    case OpKind::Eq: case OpKind::Ne:
      if (scalarsOnly(op, where) && sameBinary(op, where)) {
        if (op.kind != OpKind::Eq && op.kind != OpKind::Ne)
          NEED(opd(0).elem != Scalar::Bool, where, "operands must be numeric");
        resultIs(op, Type{Scalar::Bool, opd(0).rank}, where);
      }
      return;
    case OpKind::And: case OpKind::Or:
      if (scalarsOnly(op, where) && sameBinary(op, where)) {
        NEED(opd(0).elem == Scalar::Bool, where, "operands must be bool");
        resultIs(op, opd(0), where);
      }
      return;
    case OpKind::Not:
      scalarsOnly(op, where);
      NEED(opd(0).elem == Scalar::Bool, where, "operand must be bool");
      resultIs(op, opd(0), where);
      return;
    case OpKind::Select:
      NEED(opd(0) == Type::boolean(), where, "condition must be a bool scalar");
      NEED(opd(1) == opd(2), where, "select arms differ (" + opd(1).str() + " vs " + opd(2).str() + ")");
      resultIs(op, opd(1), where);
      return;
    case OpKind::Cast:
      scalarsOnly(op, where);
      if (oneResult(op, where))
        NEED(op.results[0]->type.rank == opd(0).rank, where, "cast changes the rank");
      return;
    case OpKind::StopGradient: resultIs(op, opd(0), where); return;
    case OpKind::RandUniform: case OpKind::RandNormal: case OpKind::RandMix:
      NEED(opd(0) == Type::i64() && opd(1) == Type::i64(), where,
           "operands must be i64 scalars (key, index)");
      if (op.kind == OpKind::RandMix) resultIs(op, Type::i64(), where);
      else if (oneResult(op, where))
        NEED(op.results[0]->type.isFloatScalar(), where, "result must be a float scalar");
      return;
    case OpKind::Call: case OpKind::GradCall: call(op, where); return;
    case OpKind::Print: case OpKind::TapePush: case OpKind::Yield: case OpKind::Return:
      noResults(op, where);
      return;
    case OpKind::TapePop: return;
    case OpKind::Dim: case OpKind::Index: case OpKind::Slice: case OpKind::Update:
    case OpKind::AddAt: case OpKind::MatMul: case OpKind::Transpose: case OpKind::Fill:
    case OpKind::Build: case OpKind::Assert:
      arrayOp(op, where);
      return;
    case OpKind::Map: case OpKind::Reduce:
      mapOrReduce(op, where);
      return;
    case OpKind::If: case OpKind::For: case OpKind::While:
      regionOp(op, where);
      return;
  }
}

}  // namespace

std::vector<std::string> verifyFunction(const Function& f, const Module* m) {
  return Verifier(f, m).run();
}

std::vector<std::string> verifyModule(const Module& m) {
  std::vector<std::string> out;
  std::set<std::string> names;
  for (auto& f : m.functions) {
    if (!names.insert(f->name).second) out.push_back("@" + f->name + ": duplicate function name");
    for (auto& e : verifyFunction(*f, &m)) out.push_back(e);
  }
  return out;
}

void verifyOrDie(const Function& f, const char* afterPass, const Module* m) {
  StageScope timing("ir.verify");
  std::vector<std::string> errs = verifyFunction(f, m);
  if (errs.empty()) return;
  std::fprintf(stderr, "internal compiler error: invalid IR after pass '%s' in @%s:\n",
               afterPass ? afterPass : "?", f.name.c_str());
  for (auto& e : errs) std::fprintf(stderr, "  %s\n", e.c_str());
  std::fprintf(stderr, "%s", printFunction(f).c_str());
  std::fflush(stderr);
  std::abort();
}

#undef NEED

}  // namespace chain::ir
