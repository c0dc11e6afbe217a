// Internal to the reference interpreter: the evaluator class shared by
// Interpreter.cpp (scalars, control flow, calls, tape, print) and
// InterpreterArrays.cpp (the array ops).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/Interpreter.h"

namespace chain::ir::interp {

class Interp {
 public:
  Interp(const Module& m, std::string* out) : m_(m), out_(out) {}
  std::vector<RtValue> call(const Function& f, const std::vector<RtValue>& args);

 private:
  using Env = std::map<const Value*, RtValue>;
  std::vector<RtValue> run(const Block& b, Env& env);
  void exec(const Operation& op, Env& env);
  RtValue scalar(const Operation& op, const std::vector<RtValue>& x);
  void loop(const Operation& op, Env& env);
  void print(const Operation& op, const std::vector<RtValue>& x);

  // Array ops (InterpreterArrays.cpp); `x` are the operand values.
  RtValue arrayOp(const Operation& op, const std::vector<RtValue>& x, Env& env);
  RtValue index(const Operation& op, const std::vector<RtValue>& x);
  RtValue slice(const Operation& op, const std::vector<RtValue>& x);
  RtValue update(const Operation& op, const std::vector<RtValue>& x);
  RtValue map(const Operation& op, const std::vector<RtValue>& x, Env& env);
  RtValue reduce(const Operation& op, const std::vector<RtValue>& x, Env& env);
  RtValue matmul(const Operation& op, const std::vector<RtValue>& x);
  RtValue build(const Operation& op, const std::vector<RtValue>& x);
  void assertOp(const Operation& op, const std::vector<RtValue>& x);

  RtValue mk(Type t, double v) const { return RtValue::scalarOf(t, v); }
  [[noreturn]] void fail(const Operation& op, const std::string& msg) const {
    throw InterpError(std::to_string(op.loc.line) + ":" + std::to_string(op.loc.col) + ": " + msg);
  }

  const Module& m_;
  std::string* out_;
  std::vector<std::vector<RtValue>> tape_;
};

}  // namespace chain::ir::interp
