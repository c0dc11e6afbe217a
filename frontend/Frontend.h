// The frontend's three entry points: source -> AST -> checked AST -> IR.
#pragma once

#include <memory>
#include <string>

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "ir/IR.h"

namespace chain::frontend {

// Parses a whole file. Always returns a Program (possibly partial); syntax
// errors are reported to `diag`, with recovery at statement/function level.
std::unique_ptr<ast::Program> parse(const std::string& source, DiagEngine& diag);

// Resolves names and checks types (SPEC §2-§5), filling Expr::sem. Returns
// false and reports to `diag` when the program is ill-formed; reports as many
// independent errors as it can.
bool check(ast::Program& program, DiagEngine& diag);

// Lowers a checked program to IR: one ir::Function per `fn`, parameters in
// order, tuples flattened into several results. Never fails on a checked
// program (anything unexpected is an internal assert).
std::unique_ptr<ir::Module> lower(const ast::Program& program);

}  // namespace chain::frontend
