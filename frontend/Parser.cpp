// The Chain parser, part 1: token helpers, error reporting and recovery,
// functions, types, blocks and statements (recursive descent). Expressions
// are in ParserExpr.cpp. Implements frontend::parse.
#include "frontend/Parser.h"

#include "frontend/Frontend.h"

namespace chain::frontend {

namespace detail {

using namespace ast;

namespace {

bool isAssignOp(Tok k) {
  return k == Tok::Assign || k == Tok::PlusEq || k == Tok::MinusEq || k == Tok::StarEq ||
         k == Tok::SlashEq;
}

bool isPrintCall(const Expr& e) {
  return e.kind == ExprKind::Call && e.callee && e.callee->kind == ExprKind::Name &&
         e.callee->text == "print";
}

bool validTarget(const Expr& e) {
  return e.kind == ExprKind::Name ||
         (e.kind == ExprKind::Index && e.args[0]->kind == ExprKind::Name);
}

StmtPtr exprStmt(ExprPtr e) {
  auto s = std::make_unique<Stmt>(StmtKind::ExprStmt, e->loc);
  s->value = std::move(e);
  return s;
}

// An `else if` is stored as an else block holding exactly one If statement.
Stmt* elseIf(const Stmt& s) {
  const Block* b = s.elseBlock.get();
  if (!b || b->result || b->stmts.size() != 1 || b->stmts[0]->kind != StmtKind::If) return nullptr;
  return b->stmts[0].get();
}

// Do all branches of this if/else-if/else chain end in an expression?
bool allBranchesHaveResults(const Stmt& s) {
  if (!s.thenBlock->result || !s.elseBlock) return false;
  if (s.elseBlock->result) return true;
  const Stmt* nested = elseIf(s);
  return nested && allBranchesHaveResults(*nested);
}

ExprPtr toIfExpr(StmtPtr s) {
  auto e = std::make_unique<Expr>(ExprKind::IfExpr, s->loc);
  e->args.push_back(std::move(s->cond));
  e->thenBlock = std::move(s->thenBlock);
  e->elseBlock = std::move(s->elseBlock);
  if (!e->elseBlock->result) {
    StmtPtr nested = std::move(e->elseBlock->stmts[0]);
    e->elseBlock->stmts.clear();
    e->elseBlock->result = toIfExpr(std::move(nested));
  }
  return e;
}

// Turns the branch results of an `if` statement back into statements.
void demoteBranches(Stmt& s) {
  for (Block* b : {s.thenBlock.get(), s.elseBlock.get()}) {
    if (!b) continue;
    if (b->result) b->stmts.push_back(exprStmt(std::move(b->result)));
  }
  if (Stmt* nested = elseIf(s)) demoteBranches(*nested);
}

}  // namespace

void finishIfStatements(Block& block, BlockUse use) {
  if (use != BlockUse::Loop && !block.result && !block.stmts.empty() &&
      block.stmts.back()->kind == StmtKind::If && allBranchesHaveResults(*block.stmts.back())) {
    block.result = toIfExpr(std::move(block.stmts.back()));
    block.stmts.pop_back();
  }
  for (StmtPtr& s : block.stmts)
    if (s->kind == StmtKind::If) demoteBranches(*s);
  if (use == BlockUse::Loop && block.result)
    block.stmts.push_back(exprStmt(std::move(block.result)));
}

// ---------------------------------------------------------------------------
// Tokens and errors

Parser::Parser(const std::string& source, DiagEngine& diag) : lex_(source, diag), diag_(diag) {}

const Token& Parser::peek(size_t k) {
  while (buf_.size() <= k) buf_.push_back(lex_.next());
  return buf_[k];
}

Token Parser::take() {
  peek();
  if (buf_.front().kind == Tok::LBrace) ++openBraces_;
  if (buf_.front().kind == Tok::RBrace && openBraces_ > 0) --openBraces_;
  Token t = std::move(buf_.front());
  buf_.pop_front();
  return t;
}

bool Parser::accept(Tok k) {
  if (!at(k)) return false;
  take();
  return true;
}

Token Parser::expect(Tok k, const char* message) {
  if (!at(k)) fail(peek().loc, message);
  return take();
}

void Parser::report(ir::SrcLoc loc, const std::string& message) {
  for (const Diagnostic& d : diag_.diagnostics())
    if (d.loc.line == loc.line && d.loc.col == loc.col) return;
  diag_.error(loc, message);
}

void Parser::fail(ir::SrcLoc loc, const std::string& message, bool tooDeep) {
  report(loc, message);
  ParseError e;
  e.tooDeep = tooDeep;
  throw e;
}

void Parser::failUnexpected(const Token& t, const std::string& context) {
  std::string what = describeToken(t);
  bool quoted = !what.empty() && what[0] == '\'';
  fail(t.loc, (quoted ? "unexpected token " : "unexpected ") + what + context);
}

Parser::Nest::Nest(Parser& p, ir::SrcLoc loc) : p_(p) {
  ++p.nesting_;
  ++p.treeDepth_;
  if (p.nesting_ > kMaxNesting || p.treeDepth_ > kMaxTreeDepth) {
    --p.nesting_;
    --p.treeDepth_;
    p.fail(loc, "expression nested too deeply", true);
  }
}

void Parser::Chain::link(ir::SrcLoc loc) {
  ++links_;
  ++p_.treeDepth_;
  if (p_.treeDepth_ > kMaxTreeDepth)
    p_.fail(loc, "expression too long or nested too deeply (split it with 'let' bindings)",
            true);
}

// Skips the rest of a broken statement of the block whose `{` left
// openBraces_ at `level`: up to the next newline or `;` at that level
// (consumed; a following `else` is skipped too, it belongs to the broken
// `if`), or the `}` closing the block (kept). Braces opened by the broken
// statement are skipped as a whole.
void Parser::recoverInBlock(int level) {
  for (;;) {
    Tok k = peek().kind;
    if (k == Tok::Eof || k == Tok::KwFn) return;
    if (openBraces_ <= level) {
      if (k == Tok::RBrace) return;
      if (k == Tok::Newline || k == Tok::Semi) {
        take();
        if (at(Tok::KwElse)) continue;
        return;
      }
    }
    take();
  }
}

// ---------------------------------------------------------------------------
// Program and functions

// program := { newline } { fn_decl { newline } }
std::unique_ptr<Program> Parser::parseProgram() {
  auto prog = std::make_unique<Program>();
  prog->fileName = diag_.fileName();
  auto skipToFn = [&] {
    while (!at(Tok::Eof) && !at(Tok::KwFn)) take();
  };
  for (;;) {
    while (at(Tok::Newline) || at(Tok::Semi)) take();
    if (at(Tok::Eof)) break;
    if (!at(Tok::KwFn)) {
      std::string what = describeToken(peek());
      bool quoted = what[0] == '\'';
      report(peek().loc, (quoted ? "unexpected token " : "unexpected ") + what +
                             " at top level (expected 'fn')");
      take();
      skipToFn();
      continue;
    }
    try {
      prog->fns.push_back(parseFn());
    } catch (const ParseError&) {
      skipToFn();
    }
  }
  return prog;
}

// fn_decl := 'fn' IDENT '(' [ param { ',' param } [','] ] ')' [ '->' type ] block
// param   := IDENT ':' type
std::unique_ptr<FnDecl> Parser::parseFn() {
  auto fn = std::make_unique<FnDecl>();
  fn->loc = take().loc;
  fn->name = expect(Tok::Ident, "expected function name after 'fn'").text;
  expect(Tok::LParen, "expected '(' after function name");
  while (!accept(Tok::RParen)) {
    Param p;
    Token name = expect(Tok::Ident, "expected parameter name");
    p.name = name.text;
    p.loc = name.loc;
    expect(Tok::Colon, "expected ':' after parameter name");
    p.type = parseType();
    fn->params.push_back(std::move(p));
    if (accept(Tok::Comma)) continue;
    expect(Tok::RParen, "expected ')' after parameters");
    break;
  }
  if (accept(Tok::Arrow)) {
    fn->hasResultType = true;
    fn->resultType = parseType();
  }
  fn->body = parseBlock(BlockUse::Value, "expected '{' to start the function body");
  return fn;
}

// type   := scalar [ '[' dim { ',' dim } ']' ] | '(' type { ',' type } ')'
// scalar := 'f64' | 'f32' | 'i64' | 'bool'        (identifiers)
// dim    := IDENT | INT
TypeExpr Parser::parseType() {
  Nest guard(*this, peek().loc);
  TypeExpr t;
  t.loc = peek().loc;
  if (accept(Tok::LParen)) {
    do {
      if (at(Tok::RParen) && !t.elems.empty()) break;  // trailing comma
      t.elems.push_back(parseType());
    } while (accept(Tok::Comma));
    expect(Tok::RParen, "expected ')' after tuple type");
    if (t.elems.size() == 1) return std::move(t.elems[0]);  // `(f64)` is just f64
    t.isTuple = true;
    return t;
  }
  if (!at(Tok::Ident)) fail(peek().loc, "expected type");
  Token name = take();
  if (name.text == "f64") t.elem = ir::Scalar::F64;
  else if (name.text == "f32") t.elem = ir::Scalar::F32;
  else if (name.text == "i64") t.elem = ir::Scalar::I64;
  else if (name.text == "bool") t.elem = ir::Scalar::Bool;
  else fail(name.loc, "unknown type " + describeToken(name) + " (expected f64, f32, i64 or bool)");
  if (!accept(Tok::LBracket)) return t;
  do {
    if (!at(Tok::Ident) && !at(Tok::Int))
      fail(peek().loc, "expected dimension (a size name or an integer)");
    t.dims.push_back(take().text);
  } while (accept(Tok::Comma));
  expect(Tok::RBracket, "expected ']' after dimensions");
  return t;
}

// ---------------------------------------------------------------------------
// Blocks and statements

// block := '{' { stmt (newline | ';') } [ expr ] '}'
std::unique_ptr<Block> Parser::parseBlock(BlockUse use, const char* braceMessage) {
  Nest guard(*this, peek().loc);
  Token lb = expect(Tok::LBrace, braceMessage);
  const int level = openBraces_;
  auto block = std::make_unique<Block>();
  block->loc = lb.loc;
  for (;;) {
    while (at(Tok::Newline) || at(Tok::Semi)) take();
    if (accept(Tok::RBrace)) break;
    // A missing `}`: report it and keep what was parsed.
    if (at(Tok::Eof)) {
      report(peek().loc, "expected '}' to close the block opened at line " +
                             std::to_string(lb.loc.line));
      break;
    }
    if (at(Tok::KwFn)) {
      report(peek().loc, "expected '}' before 'fn' (the block opened at line " +
                             std::to_string(lb.loc.line) + " is not closed)");
      break;
    }
    try {
      parseBlockItem(*block);
    } catch (const ParseError& e) {
      if (e.tooDeep && nesting_ > 1) throw;  // let the function body's loop recover
      recoverInBlock(level);
      continue;
    }
    if (block->result) {  // parseBlockItem saw the closing brace ahead
      accept(Tok::Newline);
      expect(Tok::RBrace, "expected '}'");
      break;
    }
  }
  finishIfStatements(*block, use);
  return block;
}

// stmt := 'let' ... | 'var' ... | 'if' ... | 'for' ... | 'while' ... | 'return' expr
//       | expr ( '=' | '+=' | '-=' | '*=' | '/=' ) expr
//       | expr
// A final `expr` followed only by `}` (newlines allowed) is the block's result
// (unless it is a `print` call, which is always a statement).
void Parser::parseBlockItem(Block& block) {
  StmtPtr s;
  switch (peek().kind) {
    case Tok::KwLet: s = parseLet(); break;
    case Tok::KwVar: s = parseVar(); break;
    case Tok::KwIf: s = parseIfStmt(); break;
    case Tok::KwFor: s = parseFor(); break;
    case Tok::KwWhile: s = parseWhile(); break;
    case Tok::KwReturn: {
      s = std::make_unique<Stmt>(StmtKind::Return, take().loc);
      s->value = parseExpr();
      break;
    }
    case Tok::KwElse: fail(peek().loc, "'else' without a matching 'if'");
    default: break;
  }
  if (s) {
    expectStatementEnd();
    block.stmts.push_back(std::move(s));
    return;
  }
  const ir::SrcLoc start = peek().loc;
  ExprPtr e = parseExpr();
  if (isAssignOp(peek().kind)) {
    Token op = take();
    auto a = std::make_unique<Stmt>(StmtKind::Assign, start);
    a->op = tokSpelling(op.kind);
    a->value = parseExpr();
    expectStatementEnd();
    if (!validTarget(*e)) {
      report(start, "cannot assign to this expression (the target must be a variable or an "
                     "indexed variable)");
      return;
    }
    a->target = std::move(e);
    block.stmts.push_back(std::move(a));
    return;
  }
  bool last = at(Tok::RBrace) || (at(Tok::Newline) && peek(1).kind == Tok::RBrace);
  if (last && !isPrintCall(*e)) {
    block.result = std::move(e);
    return;
  }
  expectStatementEnd();
  block.stmts.push_back(exprStmt(std::move(e)));
  block.stmts.back()->loc = start;
}

void Parser::expectStatementEnd() {
  Tok k = peek().kind;
  if (k == Tok::Newline || k == Tok::Semi || k == Tok::RBrace || k == Tok::Eof) return;
  failUnexpected(peek(), " after statement (expected end of line or ';')");
}

void Parser::skipNewlinesBeforeElse() {
  if (at(Tok::Newline) && peek(1).kind == Tok::KwElse) take();
}

// stmt := 'let' IDENT [ ':' type ] '=' expr
//       | 'let' '(' IDENT { ',' IDENT } ')' '=' expr
StmtPtr Parser::parseLet() {
  auto s = std::make_unique<Stmt>(StmtKind::Let, take().loc);
  if (accept(Tok::LParen)) {
    do {
      if (at(Tok::RParen) && !s->names.empty()) break;  // trailing comma
      Token n = expect(Tok::Ident, "expected a name in 'let (...)'");
      s->names.push_back(n.text);
      s->nameLocs.push_back(n.loc);
    } while (accept(Tok::Comma));
    expect(Tok::RParen, "expected ')' after the names of 'let (...)'");
  } else {
    Token n = expect(Tok::Ident, "expected a name after 'let'");
    s->names.push_back(n.text);
    s->nameLocs.push_back(n.loc);
    if (accept(Tok::Colon)) {
      s->hasType = true;
      s->type = parseType();
    }
  }
  expect(Tok::Assign, "expected '=' in 'let'");
  s->value = parseExpr();
  return s;
}

// stmt := 'var' IDENT [ ':' type ] '=' expr
StmtPtr Parser::parseVar() {
  auto s = std::make_unique<Stmt>(StmtKind::Var, take().loc);
  Token n = expect(Tok::Ident, "expected a name after 'var'");
  s->names.push_back(n.text);
  s->nameLocs.push_back(n.loc);
  if (accept(Tok::Colon)) {
    s->hasType = true;
    s->type = parseType();
  }
  expect(Tok::Assign, "expected '=' in 'var'");
  s->value = parseExpr();
  return s;
}

// if_stmt := 'if' expr block [ 'else' ( if_stmt | block ) ]   (newlines before 'else' allowed)
StmtPtr Parser::parseIfStmt() {
  auto s = std::make_unique<Stmt>(StmtKind::If, take().loc);
  s->cond = parseExpr();
  s->thenBlock = parseBlock(BlockUse::IfStmt, "expected '{' after the condition of 'if'");
  skipNewlinesBeforeElse();
  if (!accept(Tok::KwElse)) return s;
  if (at(Tok::KwIf)) {
    Chain chain(*this);
    chain.link(peek().loc);
    StmtPtr nested = parseIfStmt();
    s->elseBlock = std::make_unique<Block>();
    s->elseBlock->loc = nested->loc;
    s->elseBlock->stmts.push_back(std::move(nested));
  } else {
    s->elseBlock = parseBlock(BlockUse::IfStmt, "expected '{' or 'if' after 'else'");
  }
  return s;
}

// stmt := 'for' IDENT 'in' expr '..' expr block
StmtPtr Parser::parseFor() {
  auto s = std::make_unique<Stmt>(StmtKind::For, take().loc);
  Token n = expect(Tok::Ident, "expected loop variable after 'for'");
  s->names.push_back(n.text);
  s->nameLocs.push_back(n.loc);
  expect(Tok::KwIn, "expected 'in' after the loop variable");
  s->lo = parseExpr();
  expect(Tok::DotDot, "expected '..' in the range of 'for'");
  s->hi = parseExpr();
  s->body = parseBlock(BlockUse::Loop, "expected '{' after the range of 'for'");
  return s;
}

// stmt := 'while' expr block
StmtPtr Parser::parseWhile() {
  auto s = std::make_unique<Stmt>(StmtKind::While, take().loc);
  s->cond = parseExpr();
  s->body = parseBlock(BlockUse::Loop, "expected '{' after the condition of 'while'");
  return s;
}

}  // namespace detail

std::unique_ptr<ast::Program> parse(const std::string& source, DiagEngine& diag) {
  detail::Parser parser(source, diag);
  return parser.parseProgram();
}

}  // namespace chain::frontend
