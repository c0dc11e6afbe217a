// The IR printer (see Printer.h for the format). A first walk names every
// value in order of definition; a second walk prints the ops with their
// attributes, result types and nested regions.
#include "ir/Printer.h"

#include "ir/DiffSpec.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

namespace chain::ir {

namespace {

bool isIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return true;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

class Printer {
 public:
  explicit Printer(const PrintOptions& opts) : opts_(opts) {}

  // Names the params/args/results of `blocks` (all of one function).
  void nameFunction(const Function& f) {
    std::map<std::string, int> count;
    countNames(f.body, count);
    for (auto& a : f.body.args) nameArg(a.get(), count);
    nameOps(f.body, count);
  }
  void nameLoose(const Operation& op) {
    std::map<std::string, int> count;
    for (auto& r : op.regions) countNames(*r, count);
    nameResults(op);
    for (auto& r : op.regions) {
      for (auto& a : r->args) nameArg(a.get(), count);
      nameOps(*r, count);
    }
  }

  void printFunctionText(const Function& f) {
    out_ << "fn @" << f.name << "(";
    for (size_t i = 0; i < f.body.args.size(); ++i) {
      const Value* a = f.body.args[i].get();
      out_ << (i ? ", " : "") << ref(a) << ": " << a->type.str();
    }
    out_ << ") -> (";
    for (size_t i = 0; i < f.resultTypes.size(); ++i)
      out_ << (i ? ", " : "") << f.resultTypes[i].str();
    out_ << ") {\n";
    for (auto& op : f.body.ops) printOpText(*op, 1);
    out_ << "}\n";
  }

  void printOpText(const Operation& op, int depth);
  std::string str() const { return out_.str(); }

 private:
  void countNames(const Block& b, std::map<std::string, int>& count) {
    for (auto& a : b.args)
      if (!a->name.empty()) ++count[a->name];
    for (auto& op : b.ops)
      for (auto& r : op->regions) countNames(*r, count);
  }
  void nameArg(const Value* v, const std::map<std::string, int>& count) {
    auto it = count.find(v->name);
    if (isIdentifier(v->name) && it != count.end() && it->second == 1)
      names_[v] = "%" + v->name;
    else
      names_[v] = "%" + std::to_string(next_++);
  }
  void nameResults(const Operation& op) {
    if (op.results.empty()) return;
    std::string base = "%" + std::to_string(next_++);
    if (op.results.size() == 1) {
      names_[op.results[0].get()] = base;
      return;
    }
    opBase_[&op] = base;
    for (size_t i = 0; i < op.results.size(); ++i)
      names_[op.results[i].get()] = base + "#" + std::to_string(i);
  }
  void nameOps(const Block& b, const std::map<std::string, int>& count) {
    for (auto& op : b.ops) {
      nameResults(*op);
      for (auto& r : op->regions) {
        for (auto& a : r->args) nameArg(a.get(), count);
        nameOps(*r, count);
      }
    }
  }

  std::string ref(const Value* v) const {
    auto it = names_.find(v);
    return it == names_.end() ? std::string("%<undefined>") : it->second;
  }
  std::string types(const std::vector<std::unique_ptr<Value>>& vs) const {
    if (vs.size() == 1) return vs[0]->type.str();
    std::string s = "(";
    for (size_t i = 0; i < vs.size(); ++i) s += (i ? ", " : "") + vs[i]->type.str();
    return s + ")";
  }
  void indent(int depth) {
    for (int i = 0; i < depth; ++i) out_ << "  ";
  }
  void operandList(const Operation& op, size_t from = 0) {
    for (size_t i = from; i < op.operands.size(); ++i)
      out_ << (i > from ? ", " : "") << ref(op.operands[i]);
  }
  void printAttrsAndOperands(const Operation& op);
  void printSelectionOp(const Operation& op);
  void printRegion(const Block& b, int depth) {
    if (!b.args.empty()) {
      indent(depth);
      out_ << "^(";
      for (size_t i = 0; i < b.args.size(); ++i)
        out_ << (i ? ", " : "") << ref(b.args[i].get()) << ": " << b.args[i]->type.str();
      out_ << "):\n";
    }
    for (auto& op : b.ops) printOpText(*op, depth + 1);
  }

  const PrintOptions& opts_;
  std::ostringstream out_;
  std::map<const Value*, std::string> names_;
  std::map<const Operation*, std::string> opBase_;
  int next_ = 0;
};

// Prints the op name, attributes and operands (everything between `=` and
// the result types).
void Printer::printAttrsAndOperands(const Operation& op) {
  out_ << opName(op.kind);
  switch (op.kind) {
    case OpKind::ConstF:
      out_ << " " << formatFloat(op.f, op.results.empty() ? Type::f64() : op.results[0]->type);
      return;
    case OpKind::ConstI: out_ << " " << op.i; return;
    case OpKind::ConstB: out_ << (op.i ? " true" : " false"); return;
    case OpKind::Call:
    case OpKind::GradCall: {
      out_ << " @" << op.s << "(";
      operandList(op);
      out_ << ")";
      if (op.kind == OpKind::GradCall) {
        // the levels, innermost first: " grad wrt=[0]", " hvp wrt=[1] grad wrt=[0]"
        std::vector<DiffLevel> levels;
        if (!decodeLevels(op.ints, levels)) out_ << " <malformed levels>";
        for (const DiffLevel& l : levels) {
          out_ << " " << diffKindName(l.kind) << " wrt=[";
          for (size_t i = 0; i < l.wrt.size(); ++i) out_ << (i ? "," : "") << l.wrt[i];
          out_ << "]";
        }
      }
      return;
    }
    case OpKind::Print:
      out_ << " " << quote(op.s);
      if (!op.operands.empty()) out_ << ", ";
      operandList(op);
      return;
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::Rem:
    case OpKind::Pow: case OpKind::Min: case OpKind::Max: case OpKind::Atan2: case OpKind::Neg:
    case OpKind::Abs: case OpKind::Exp: case OpKind::Log: case OpKind::Sqrt: case OpKind::Sin:
    case OpKind::Cos: case OpKind::Tan: case OpKind::Tanh: case OpKind::Sigmoid:
    case OpKind::Relu: case OpKind::Softplus: case OpKind::Log1p: case OpKind::Expm1:
    case OpKind::Floor: case OpKind::Ceil: case OpKind::Lt: case OpKind::Le: case OpKind::Gt:
    case OpKind::Ge: case OpKind::Eq: case OpKind::Ne: case OpKind::And: case OpKind::Or:
    case OpKind::Not: case OpKind::Select: case OpKind::Cast: case OpKind::StopGradient:
    case OpKind::RandUniform: case OpKind::RandNormal: case OpKind::RandMix:
    case OpKind::For:  // reverse AD's independent-iteration loops (ir/IR.h)
      if (op.s == "accumulate") out_ << " accumulate";
      break;
    case OpKind::If: case OpKind::While: case OpKind::Yield:
    case OpKind::Return: case OpKind::TapePush: case OpKind::TapePop:
    case OpKind::Index: case OpKind::MatMul: case OpKind::Transpose: case OpKind::Build:
      break;
    case OpKind::Dim:
      out_ << " ";
      operandList(op);
      out_ << ", " << op.i;
      return;
    case OpKind::Slice: case OpKind::Update: case OpKind::AddAt:
      printSelectionOp(op);
      return;
    case OpKind::Map: case OpKind::Reduce:
      if (op.kind == OpKind::Reduce) out_ << " " << op.s;
      out_ << " (";
      operandList(op);
      out_ << ")";
      return;
    case OpKind::Fill:
      if (op.operands.empty()) return;
      out_ << " " << ref(op.operands[0]) << " (";
      operandList(op, 1);
      out_ << ")";
      return;
    case OpKind::Assert:
      if (op.operands.empty()) return;
      out_ << " " << ref(op.operands[0]) << " " << quote(op.s);
      for (size_t i = 1; i < op.operands.size(); ++i) out_ << ", " << ref(op.operands[i]);
      return;
  }
  if (!op.operands.empty()) out_ << " ";
  operandList(op);
}

// ` %a [sel] `, then ` = %v` (update) or ` += %v` (add_at). The selection
// shows one entry per axis: an index operand, `%lo..%hi` or `:`.
void Printer::printSelectionOp(const Operation& op) {
  size_t first = op.kind == OpKind::Slice ? 1 : 2;
  if (op.operands.size() < first) {
    if (!op.operands.empty()) out_ << " ";
    operandList(op);
    return;
  }
  out_ << " " << ref(op.operands[0]) << " [";
  size_t o = first;
  auto next = [&]() { return o < op.operands.size() ? ref(op.operands[o++]) : std::string("%<missing>"); };
  for (size_t k = 0; k < op.ints.size(); ++k) {
    out_ << (k ? ", " : "");
    if (op.ints[k] == 0) {
      out_ << next();
    } else if (op.ints[k] == 1) {
      std::string lo = next();
      out_ << lo << ".." << next();
    } else {
      out_ << ":";
    }
  }
  for (; o < op.operands.size(); ++o) out_ << (o > first || !op.ints.empty() ? ", " : "") << ref(op.operands[o]);
  out_ << "]";
  if (op.kind != OpKind::Slice) out_ << (op.kind == OpKind::Update ? " = " : " += ") << ref(op.operands[1]);
}

void Printer::printOpText(const Operation& op, int depth) {
  indent(depth);
  if (!op.results.empty()) {
    auto it = opBase_.find(&op);
    if (it != opBase_.end())
      out_ << it->second << ":" << op.results.size() << " = ";
    else
      out_ << ref(op.results[0].get()) << " = ";
  }
  printAttrsAndOperands(op);
  if (!op.results.empty()) {
    out_ << " : ";
    if (op.kind == OpKind::Cast && op.operands.size() == 1)
      out_ << op.operands[0]->type.str() << " -> ";
    out_ << types(op.results);
  }
  if (!op.regions.empty()) {
    for (size_t r = 0; r < op.regions.size(); ++r) {
      out_ << (r == 0 ? " {\n" : " ");
      if (r > 0) out_ << (op.kind == OpKind::If ? "else {\n" : "do {\n");
      printRegion(*op.regions[r], depth);
      indent(depth);
      out_ << "}";
    }
  }
  if (opts_.showLoc) out_ << "  loc(" << op.loc.line << ":" << op.loc.col << ")";
  out_ << "\n";
}

}  // namespace

std::string formatFloat(double v, Type t) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  bool f32 = t.elem == Scalar::F32;
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (f32 ? std::strtof(buf, nullptr) == static_cast<float>(v) : std::strtod(buf, nullptr) == v)
      break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string printFunction(const Function& f, const PrintOptions& opts) {
  Printer p(opts);
  p.nameFunction(f);
  p.printFunctionText(f);
  return p.str();
}

std::string printModule(const Module& m, const PrintOptions& opts) {
  std::string out;
  for (size_t i = 0; i < m.functions.size(); ++i) {
    if (i) out += "\n";
    out += printFunction(*m.functions[i], opts);
  }
  return out;
}

std::string printOp(const Operation& op, const PrintOptions& opts) {
  Printer p(opts);
  p.nameLoose(op);
  p.printOpText(op, 0);
  return p.str();
}

}  // namespace chain::ir
