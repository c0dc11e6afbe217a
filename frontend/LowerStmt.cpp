// Lowering statements to IR: the SSA environment (name -> current values),
// let/var bindings, assignments, and the structured control flow: an `if`
// yields the final values of the outer vars either branch assigns; `for` and
// `while` carry the outer vars their body assigns as loop-carried values.
#include <cassert>

#include "frontend/LowerImpl.h"

namespace chain::frontend::lowering {

using ir::OpKind;

Binding* FnLowerer::lookup(const std::string& name) {
  for (size_t i = scopes_.size(); i-- > 0;) {
    auto it = scopes_[i]->find(name);
    if (it != scopes_[i]->end()) return &it->second;
  }
  return nullptr;
}

void FnLowerer::bind(const std::string& name, Binding b) {
  assert(!scopes_.empty());
  // Name the defining values after the variable, for readable IR.
  if (b.vals.size() == 1 && b.vals[0]->name.empty()) b.vals[0]->name = name;
  (*scopes_.back())[name] = std::move(b);
}

std::vector<Binding*> FnLowerer::carried(const std::vector<std::string>& names) {
  std::vector<Binding*> out;
  for (const std::string& n : names) {
    Binding* b = lookup(n);
    assert(b && !b->isFn && "checker let an assignment to an unknown name through");
    out.push_back(b);
  }
  return out;
}

std::vector<Value*> FnLowerer::currentValues(const std::vector<Binding*>& vars) {
  std::vector<Value*> out;
  for (Binding* b : vars) out.insert(out.end(), b->vals.begin(), b->vals.end());
  return out;
}

void FnLowerer::rebind(const std::vector<Binding*>& vars, const std::vector<Value*>& vals,
                       size_t from) {
  for (Binding* b : vars)
    for (Value*& v : b->vals) v = vals[from++];
  assert(from == vals.size());
}

void FnLowerer::run() {
  scopes_.push_back(std::make_unique<std::map<std::string, Binding>>());
  for (size_t i = 0; i < decl_.params.size(); ++i) {
    Binding b;
    b.vals = {f_.param(i)};
    bind(decl_.params[i].name, b);
  }
  bindSizes();
  scopes_.push_back(std::make_unique<std::map<std::string, Binding>>());
  const ast::Block& body = *decl_.body;
  stmts(body, true);
  const Expr* result = body.result.get();
  if (!result && !body.stmts.empty() && body.stmts.back()->kind == ast::StmtKind::Return)
    result = body.stmts.back()->value.get();
  std::vector<Value*> vals;
  if (result) vals = expr(*result);
  if (vals.size() != f_.resultTypes.size()) vals.clear();  // a final print: no result
  vals = castAll(vals, f_.resultTypes);
  if (result && decl_.hasResultType)
    checkShape(vals, result->sem, typeOf(decl_.resultType), "the result of '" + decl_.name + "'");
  b_.setLoc(result ? result->loc : decl_.loc);
  b_.ret(vals);
  scopes_.clear();
}

void FnLowerer::stmts(const ast::Block& b, bool skipFinalReturn) {
  for (size_t i = 0; i < b.stmts.size(); ++i) {
    const ast::Stmt& s = *b.stmts[i];
    if (skipFinalReturn && i + 1 == b.stmts.size() && s.kind == ast::StmtKind::Return) break;
    stmt(s);
  }
}

void FnLowerer::stmtBlock(const ast::Block& b) {
  scopes_.push_back(std::make_unique<std::map<std::string, Binding>>());
  stmts(b, false);
  if (b.result) expr(*b.result);  // a print
  scopes_.pop_back();
}

std::vector<Value*> FnLowerer::blockValue(const ast::Block& b) {
  scopes_.push_back(std::make_unique<std::map<std::string, Binding>>());
  stmts(b, false);
  std::vector<Value*> vals = expr(*b.result);
  scopes_.pop_back();
  return vals;
}

void FnLowerer::stmt(const ast::Stmt& s) {
  using ast::StmtKind;
  switch (s.kind) {
    case StmtKind::Let:
    case StmtKind::Var: letStmt(s); return;
    case StmtKind::Assign: assignStmt(s); return;
    case StmtKind::If: {
      Value* c = scalar(*s.cond);
      auto assigned = assignedNames({s.thenBlock.get(), s.elseBlock.get()});
      buildIf(
          c, {}, assigned,
          [&] {
            stmtBlock(*s.thenBlock);
            return std::vector<Value*>{};
          },
          [&] {
            if (s.elseBlock) stmtBlock(*s.elseBlock);
            return std::vector<Value*>{};
          },
          s.loc);
      return;
    }
    case StmtKind::For: forStmt(s); return;
    case StmtKind::While: whileStmt(s); return;
    case StmtKind::Return:  // only as the last statement; run() takes its value
      assert(false && "return in the middle of a function body");
      return;
    case StmtKind::ExprStmt: expr(*s.value); return;
  }
}

// let x = e | let x: T = e | let (a, b) = e | var x = e | var x: T = e
void FnLowerer::letStmt(const ast::Stmt& s) {
  const Expr& v = *s.value;
  if (v.sem.kind == SemType::Function) {
    Binding b;
    b.isFn = true;
    b.fn = fnValue(v);
    bind(s.names[0], b);
    return;
  }
  SemType t = s.hasType ? typeOf(s.type) : v.sem;
  std::vector<ir::Type> types;
  flatTypes(t, types);
  std::vector<Value*> vals = castAll(expr(v), types);
  if (s.hasType) checkShape(vals, v.sem, t, "'" + s.names[0] + "'");
  if (s.names.size() == 1) {
    Binding b;
    b.vals = vals;
    bind(s.names[0], b);
    return;
  }
  assert(t.kind == SemType::Tuple && t.elems.size() == s.names.size());
  size_t at = 0;
  for (size_t i = 0; i < s.names.size(); ++i) {
    size_t n = flatSize(t.elems[i]);
    Binding b;
    b.vals.assign(vals.begin() + at, vals.begin() + at + n);
    at += n;
    if (s.names[i] != "_") bind(s.names[i], b);
  }
}

// x = e | x += e | x -= e | x *= e | x /= e
void FnLowerer::assignStmt(const ast::Stmt& s) {
  if (s.target->kind == ast::ExprKind::Index) return elementAssign(s);
  Binding* b = lookup(s.target->text);
  assert(b && !b->isFn);
  std::vector<ir::Type> types;
  for (Value* v : b->vals) types.push_back(v->type);
  if (s.op == "=") {
    b->vals = castAll(expr(*s.value), types);
    return;
  }
  assert(b->vals.size() == 1);
  Value* cur = b->vals[0];
  Value* rhs = scalar(*s.value);
  ir::Type t = cur->type.isFloat() ? cur->type : rhs->type;
  OpKind k = s.op == "+=" ? OpKind::Add : s.op == "-=" ? OpKind::Sub
             : s.op == "*=" ? OpKind::Mul : OpKind::Div;
  if (cur->type.rank > 0 || rhs->type.rank > 0) {
    ir::Type et{cur->type.isFloat() ? cur->type.elem : rhs->type.elem, 0};
    Value* r = elementwise({{cur, s.target->sem.dims}, {rhs, s.value->sem.dims}},
                           "operator '" + s.op + "'", s.loc, [&](const std::vector<Value*>& x) {
                             return b_.binary(k, b_.cast(x[0], et), b_.cast(x[1], et));
                           });
    b_.setLoc(s.loc);
    b->vals[0] = castValue(r, cur->type);
    return;
  }
  b_.setLoc(s.loc);
  Value* r = b_.binary(k, b_.cast(cur, t), b_.cast(rhs, t));
  b->vals[0] = b_.cast(r, cur->type);
}

std::vector<Value*> FnLowerer::buildIf(Value* cond, const std::vector<ir::Type>& types,
                                       const std::vector<std::string>& assigned,
                                       const std::function<std::vector<Value*>()>& thenFn,
                                       const std::function<std::vector<Value*>()>& elseFn,
                                       ast::SrcLoc loc) {
  std::vector<Binding*> vars = carried(assigned);
  std::vector<Value*> incoming = currentValues(vars);
  std::vector<ir::Type> all = types;
  for (Value* v : incoming) all.push_back(v->type);
  b_.setLoc(loc);
  ir::Operation* op = b_.create(OpKind::If, {cond}, all, 2);
  ir::Block* outer = b_.block();
  for (int r = 0; r < 2; ++r) {
    rebind(vars, incoming, 0);
    b_.setBlock(op->region(r));
    std::vector<Value*> vals = castAll(r == 0 ? thenFn() : elseFn(), types);
    std::vector<Value*> now = currentValues(vars);
    vals.insert(vals.end(), now.begin(), now.end());
    b_.setLoc(loc);
    b_.yield(vals);
  }
  b_.setBlock(outer);
  std::vector<Value*> results;
  for (auto& r : op->results) results.push_back(r.get());
  rebind(vars, results, types.size());
  for (size_t i = 0; i < vars.size() && i < assigned.size(); ++i)
    if (vars[i]->vals.size() == 1) vars[i]->vals[0]->name = assigned[i];
  return std::vector<Value*>(results.begin(), results.begin() + types.size());
}

// for i in a..b { body }: (lo, hi, carried...) ^(i, carried...) yield carried'
void FnLowerer::forStmt(const ast::Stmt& s) {
  Value* lo = scalar(*s.lo);
  Value* hi = scalar(*s.hi);
  auto names = assignedNames({s.body.get()});
  std::vector<Binding*> vars = carried(names);
  std::vector<Value*> init = currentValues(vars);
  std::vector<Value*> operands = {lo, hi};
  operands.insert(operands.end(), init.begin(), init.end());
  std::vector<ir::Type> types;
  for (Value* v : init) types.push_back(v->type);
  b_.setLoc(s.loc);
  ir::Operation* op = b_.create(OpKind::For, operands, types, 1);
  ir::Block* body = op->region(0);
  Value* iv = body->addArg(ir::Type::i64(), s.names[0]);
  std::vector<Value*> args;
  for (size_t i = 0; i < vars.size(); ++i)
    for (size_t j = 0; j < vars[i]->vals.size(); ++j)
      args.push_back(body->addArg(vars[i]->vals[j]->type, names[i]));
  rebind(vars, args, 0);
  ir::Block* outer = b_.block();
  b_.setBlock(body);
  scopes_.push_back(std::make_unique<std::map<std::string, Binding>>());
  Binding ib;
  ib.vals = {iv};
  bind(s.names[0], ib);
  stmts(*s.body, false);
  if (s.body->result) expr(*s.body->result);
  scopes_.pop_back();
  b_.setLoc(s.loc);
  b_.yield(currentValues(vars));
  b_.setBlock(outer);
  std::vector<Value*> results;
  for (auto& r : op->results) results.push_back(r.get());
  rebind(vars, results, 0);
}

// while c { body }: (carried...) cond ^(carried...) yield c; body ^(carried...) yield carried'
void FnLowerer::whileStmt(const ast::Stmt& s) {
  auto names = assignedNames({s.body.get()});
  std::vector<Binding*> vars = carried(names);
  std::vector<Value*> init = currentValues(vars);
  std::vector<ir::Type> types;
  for (Value* v : init) types.push_back(v->type);
  b_.setLoc(s.loc);
  ir::Operation* op = b_.create(OpKind::While, init, types, 2);
  ir::Block* outer = b_.block();
  for (int r = 0; r < 2; ++r) {
    ir::Block* region = op->region(r);
    std::vector<Value*> args;
    for (size_t i = 0; i < vars.size(); ++i)
      for (size_t j = 0; j < vars[i]->vals.size(); ++j)
        args.push_back(region->addArg(types[args.size()], names[i]));
    rebind(vars, args, 0);
    b_.setBlock(region);
    if (r == 0) {
      Value* c = scalar(*s.cond);
      b_.setLoc(s.cond->loc);
      b_.yield({c});
    } else {
      stmtBlock(*s.body);
      b_.setLoc(s.loc);
      b_.yield(currentValues(vars));
    }
  }
  b_.setBlock(outer);
  std::vector<Value*> results;
  for (auto& r : op->results) results.push_back(r.get());
  rebind(vars, results, 0);
}

}  // namespace chain::frontend::lowering
