// Prints the AST as indented S-expressions (`chain emit --stage ast`) and
// renders checked types (SemType::str). Format, pinned by golden tests:
//
//   (fn NAME (params (x f64) (A f64[n, 3])) (result f64)
//     (let x (type f64) (binary + (name a) (float 1.0)))
//     (if (binary > (name x) (float 0.0))
//       (then
//         (assign += (name s) (name x)))
//       (else
//         (expr (call (name print) (string "neg")))))
//     (for i (int 0) (name n)
//       (assign = (index (name v) (name i)) (float 0.0)))
//     (result (call (name exp) (name x))))
//
// Statements (and function headers) take one line each, nested two spaces
// per level; expressions are printed inline. Blocks inside an expression
// (`if` expressions) are printed inline too: `(if-expr C (then ... (result
// A)) (else (result B)))`. Floats are printed with their source spelling.
#include <cstdio>

#include "frontend/AST.h"

namespace chain::ast {

namespace {

std::string typeStr(const TypeExpr& t) {
  if (t.isTuple) {
    std::string s = "(";
    for (size_t i = 0; i < t.elems.size(); ++i) s += (i ? ", " : "") + typeStr(t.elems[i]);
    return s + ")";
  }
  ir::Type scalar;
  scalar.elem = t.elem;
  std::string s = scalar.str();
  if (t.dims.empty()) return s;
  s += "[";
  for (size_t i = 0; i < t.dims.size(); ++i) s += (i ? ", " : "") + t.dims[i];
  return s + "]";
}

std::string quoted(const std::string& text) {
  std::string s = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') s += '\\', s += c;
    else if (c == '\n') s += "\\n";
    else if (c == '\t') s += "\\t";
    else s += c;
  }
  return s + "\"";
}

class Printer {
 public:
  std::string out;

  void fn(const FnDecl& f) {
    out += "(fn " + f.name + " (params";
    for (const Param& p : f.params) out += " (" + p.name + " " + typeStr(p.type) + ")";
    out += ")";
    if (f.hasResultType) out += " (result " + typeStr(f.resultType) + ")";
    if (f.body) blockBody(*f.body, 1, false);
    out += ")\n";
  }

 private:
  // A line break at `indent`, or a space when printing inline.
  void nl(int indent, bool inl) {
    if (inl) {
      out += ' ';
      return;
    }
    out += '\n';
    out.append(size_t(2 * indent), ' ');
  }

  void blockBody(const Block& b, int indent, bool inl) {
    for (const StmtPtr& s : b.stmts) {
      nl(indent, inl);
      stmt(*s, indent, inl);
    }
    if (b.result) {
      nl(indent, inl);
      out += "(result ";
      expr(b.result.get());
      out += ")";
    }
  }

  void branch(const char* name, const Block* b, int indent, bool inl) {
    nl(indent, inl);
    out += "(";
    out += name;
    if (b) blockBody(*b, indent + 1, inl);
    out += ")";
  }

  void stmt(const Stmt& s, int indent, bool inl) {
    switch (s.kind) {
      case StmtKind::Let:
      case StmtKind::Var:
        out += s.kind == StmtKind::Let ? "(let " : "(var ";
        if (s.names.size() == 1) {
          out += s.names[0];
        } else {
          out += "(";
          for (size_t i = 0; i < s.names.size(); ++i) out += (i ? " " : "") + s.names[i];
          out += ")";
        }
        if (s.hasType) out += " (type " + typeStr(s.type) + ")";
        out += " ";
        expr(s.value.get());
        out += ")";
        return;
      case StmtKind::Assign:
        out += "(assign " + s.op + " ";
        expr(s.target.get());
        out += " ";
        expr(s.value.get());
        out += ")";
        return;
      case StmtKind::If:
        out += "(if ";
        expr(s.cond.get());
        branch("then", s.thenBlock.get(), indent + 1, inl);
        if (s.elseBlock) branch("else", s.elseBlock.get(), indent + 1, inl);
        out += ")";
        return;
      case StmtKind::For:
        out += "(for " + (s.names.empty() ? std::string("?") : s.names[0]) + " ";
        expr(s.lo.get());
        out += " ";
        expr(s.hi.get());
        if (s.body) blockBody(*s.body, indent + 1, inl);
        out += ")";
        return;
      case StmtKind::While:
        out += "(while ";
        expr(s.cond.get());
        if (s.body) blockBody(*s.body, indent + 1, inl);
        out += ")";
        return;
      case StmtKind::Return:
      case StmtKind::ExprStmt:
        out += s.kind == StmtKind::Return ? "(return " : "(expr ";
        expr(s.value.get());
        out += ")";
        return;
    }
  }

  void list(const char* head, const std::vector<ExprPtr>& items) {
    out += "(";
    out += head;
    for (const ExprPtr& e : items) {
      out += " ";
      expr(e.get());
    }
    out += ")";
  }

  void ranges(const std::vector<RangeClause>& rs) {
    for (const RangeClause& r : rs) {
      out += " (in " + r.var + " ";
      expr(r.lo.get());
      out += " ";
      expr(r.hi.get());
      out += ")";
    }
  }

  void expr(const Expr* e) {
    if (!e) {
      out += "<null>";
      return;
    }
    switch (e->kind) {
      case ExprKind::FloatLit:
        if (!e->text.empty()) {
          out += "(float " + e->text + ")";
        } else {
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.17g", e->fval);
          out += std::string("(float ") + buf + ")";
        }
        return;
      case ExprKind::IntLit: out += "(int " + std::to_string(e->ival) + ")"; return;
      case ExprKind::BoolLit: out += e->ival ? "(bool true)" : "(bool false)"; return;
      case ExprKind::StringLit: out += "(string " + quoted(e->text) + ")"; return;
      case ExprKind::Name: out += "(name " + e->text + ")"; return;
      case ExprKind::Unary: list(("unary " + e->op).c_str(), e->args); return;
      case ExprKind::Binary: list(("binary " + e->op).c_str(), e->args); return;
      case ExprKind::Call:
        out += "(call ";
        expr(e->callee.get());
        for (const ExprPtr& a : e->args) {
          out += " ";
          expr(a.get());
        }
        for (const NamedArg& n : e->named) {
          out += " (named " + n.name + " ";
          expr(n.value.get());
          out += ")";
        }
        out += ")";
        return;
      case ExprKind::Index:
        out += "(index ";
        expr(e->args.empty() ? nullptr : e->args[0].get());
        for (const ExprPtr& i : e->indices) {
          out += " ";
          expr(i.get());
        }
        out += ")";
        return;
      case ExprKind::Range: list("range", e->args); return;
      case ExprKind::Colon: out += "(colon)"; return;
      case ExprKind::ArrayLit: list("array", e->args); return;
      case ExprKind::Tuple: list("tuple", e->args); return;
      case ExprKind::Comprehension:
      case ExprKind::Generator:
        out += e->kind == ExprKind::Comprehension ? "(comprehension " : "(generator ";
        expr(e->args.empty() ? nullptr : e->args[0].get());
        ranges(e->ranges);
        out += ")";
        return;
      case ExprKind::IfExpr:
        out += "(if-expr ";
        expr(e->args.empty() ? nullptr : e->args[0].get());
        branch("then", e->thenBlock.get(), 0, true);
        branch("else", e->elseBlock.get(), 0, true);
        out += ")";
        return;
    }
  }
};

}  // namespace

std::string printAST(const Program& p) {
  std::string out;
  for (const auto& f : p.fns) out += printAST(*f);
  return out;
}

std::string printAST(const FnDecl& f) {
  Printer printer;
  printer.fn(f);
  return printer.out;
}

std::string SemType::str() const {
  switch (kind) {
    case Invalid: return "<invalid>";
    case Value: return type.str();
    case Function: return "function";
    case Void: return "void";
    case Tuple: {
      std::string s = "(";
      for (size_t i = 0; i < elems.size(); ++i) s += (i ? ", " : "") + elems[i].str();
      return s + ")";
    }
  }
  return "<invalid>";
}

}  // namespace chain::ast
