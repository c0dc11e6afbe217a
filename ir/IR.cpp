// The IR data structures and the Builder: op table, value/region creation,
// and cloning through a value map (the basis of every pass).
#include "ir/IR.h"

#include <cassert>
#include <limits>

namespace chain::ir {

const OpInfo& opInfo(OpKind k) {
  static const OpInfo table[] = {
#define CHAIN_OP(Name, Text, Arity, Flags) {Text, Arity, Flags},
#include "ir/Ops.def"
#undef CHAIN_OP
  };
  return table[static_cast<size_t>(k)];
}

bool isComparison(OpKind k) {
  return k == OpKind::Lt || k == OpKind::Le || k == OpKind::Gt || k == OpKind::Ge ||
         k == OpKind::Eq || k == OpKind::Ne;
}

std::string Type::str() const {
  std::string s;
  switch (elem) {
    case Scalar::F64: s = "f64"; break;
    case Scalar::F32: s = "f32"; break;
    case Scalar::I64: s = "i64"; break;
    case Scalar::Bool: s = "bool"; break;
  }
  if (rank > 0) {
    s += "[";
    for (int i = 0; i < rank; ++i) s += i ? ",?" : "?";
    s += "]";
  }
  return s;
}

Value* Block::addArg(Type t, std::string name) {
  auto v = std::make_unique<Value>();
  v->type = t;
  v->owner = this;
  v->index = static_cast<int>(args.size());
  v->name = std::move(name);
  args.push_back(std::move(v));
  return args.back().get();
}

Value* Operation::addResult(Type t) {
  auto v = std::make_unique<Value>();
  v->type = t;
  v->def = this;
  v->index = static_cast<int>(results.size());
  results.push_back(std::move(v));
  return results.back().get();
}

Block* Operation::addRegion() {
  regions.push_back(std::make_unique<Block>());
  regions.back()->parentOp = this;
  return regions.back().get();
}

// The index is written only by add() (never by lookup, which other threads
// may call at the same time); it is trusted while every function came
// through add(), else lookup falls back to a linear search.
Function* Module::lookup(const std::string& name) const {
  if (indexed_ == functions.size()) {
    auto it = byName_.find(name);
    if (it == byName_.end()) return nullptr;
    if (it->second->name == name) return it->second;
  }
  for (auto& f : functions)
    if (f->name == name) return f.get();
  return nullptr;
}

Function* Module::add(std::unique_ptr<Function> f) {
  if (indexed_ != functions.size()) {
    byName_.clear();
    for (auto it = functions.rbegin(); it != functions.rend(); ++it) byName_[(*it)->name] = it->get();
  }
  functions.push_back(std::move(f));
  byName_.emplace(functions.back()->name, functions.back().get());  // the first of a name wins
  indexed_ = functions.size();
  return functions.back().get();
}

Operation* Builder::create(OpKind k, std::vector<Value*> operands,
                           const std::vector<Type>& resultTypes, int numRegions) {
  assert(block_ && "builder has no insertion block");
  auto op = std::make_unique<Operation>(k);
  op->operands = std::move(operands);
  for (const Type& t : resultTypes) op->addResult(t);
  for (int r = 0; r < numRegions; ++r) op->addRegion();
  op->loc = loc_;
  op->parent = block_;
  block_->ops.push_back(std::move(op));
  return block_->ops.back().get();
}

Value* Builder::constF(double v, Type t) {
  Operation* op = create(OpKind::ConstF, {}, {t});
  op->f = v;
  return op->result();
}

Value* Builder::constI(int64_t v) {
  Operation* op = create(OpKind::ConstI, {}, {Type::i64()});
  op->i = v;
  return op->result();
}

Value* Builder::constB(bool v) {
  Operation* op = create(OpKind::ConstB, {}, {Type::boolean()});
  op->i = v ? 1 : 0;
  return op->result();
}

Value* Builder::binary(OpKind k, Value* a, Value* b) {
  assert(a->type == b->type && "binary op on mismatched types");
  Type rt = isComparison(k) ? Type{Scalar::Bool, a->type.rank} : a->type;
  return create(k, {a, b}, {rt})->result();
}

Value* Builder::unary(OpKind k, Value* a) { return create(k, {a}, {a->type})->result(); }

Value* Builder::select(Value* c, Value* a, Value* b) {
  assert(a->type == b->type);
  return create(OpKind::Select, {c, a, b}, {a->type})->result();
}

Value* Builder::cast(Value* v, Type to) {
  if (v->type == to) return v;
  return create(OpKind::Cast, {v}, {to})->result();
}

void Builder::yield(std::vector<Value*> vals) { create(OpKind::Yield, std::move(vals), {}); }
void Builder::ret(std::vector<Value*> vals) { create(OpKind::Return, std::move(vals), {}); }

namespace {
Value* mapped(Value* v, std::map<const Value*, Value*>& map) {
  auto it = map.find(v);
  return it == map.end() ? v : it->second;
}
}  // namespace

Operation* Builder::clone(const Operation& op, std::map<const Value*, Value*>& map) {
  std::vector<Value*> operands;
  operands.reserve(op.operands.size());
  for (Value* v : op.operands) operands.push_back(mapped(v, map));
  std::vector<Type> types;
  for (auto& r : op.results) types.push_back(r->type);
  SrcLoc saved = loc_;
  loc_ = op.loc;
  Operation* n = create(op.kind, std::move(operands), types, 0);
  loc_ = saved;
  n->f = op.f;
  n->i = op.i;
  n->s = op.s;
  n->ints = op.ints;
  for (size_t r = 0; r < op.results.size(); ++r) {
    n->results[r]->name = op.results[r]->name;
    map[op.results[r].get()] = n->results[r].get();
  }
  for (auto& region : op.regions) {
    Block* nb = n->addRegion();
    for (auto& a : region->args) map[a.get()] = nb->addArg(a->type, a->name);
    Builder inner(nb);
    for (auto& o : region->ops) inner.clone(*o, map);
  }
  return n;
}

std::vector<Value*> Builder::cloneBody(const Block& src, std::map<const Value*, Value*>& map) {
  std::vector<Value*> out;
  for (auto& o : src.ops) {
    if (hasFlag(o->kind, Terminator)) {
      for (Value* v : o->operands) out.push_back(mapped(v, map));
      break;
    }
    clone(*o, map);
  }
  return out;
}

bool argPlusConstant(const Value* v, const Value* arg, int64_t& c) {
  if (v == arg) {
    c = 0;
    return true;
  }
  const Operation* d = v->def;
  if (!d || d->operands.size() != 2 || (d->kind != OpKind::Add && d->kind != OpKind::Sub)) return false;
  for (size_t side = 0; side < 2; ++side) {
    const Value* k = d->operand(1 - side);
    if (d->operand(side) != arg || !k->def || k->def->kind != OpKind::ConstI) continue;
    if (d->kind == OpKind::Sub && side == 1) continue;  // c - arg is not arg + constant
    if (d->kind == OpKind::Sub && k->def->i == std::numeric_limits<int64_t>::min()) return false;
    c = d->kind == OpKind::Sub ? -k->def->i : k->def->i;
    return true;
  }
  return false;
}

std::unique_ptr<Function> cloneFunction(const Function& f, const std::string& newName) {
  auto g = std::make_unique<Function>();
  g->name = newName.empty() ? f.name : newName;
  g->paramNames = f.paramNames;
  g->resultTypes = f.resultTypes;
  g->loc = f.loc;
  std::map<const Value*, Value*> map;
  for (auto& a : f.body.args) map[a.get()] = g->body.addArg(a->type, a->name);
  Builder b(&g->body);
  for (auto& o : f.body.ops) b.clone(*o, map);
  return g;
}

bool containsTapeOps(const Block& b) {
  for (auto& op : b.ops) {
    if (op->kind == OpKind::TapePush || op->kind == OpKind::TapePop) return true;
    for (auto& r : op->regions)
      if (containsTapeOps(*r)) return true;
  }
  return false;
}

}  // namespace chain::ir
