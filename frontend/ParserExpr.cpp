// The Chain parser, part 2: expressions, one function per precedence level
// (SPEC §4, lowest first: or, and, not, comparisons, + -, * / % @, unary -,
// ** (right associative), postfix call/index). A range `a..b` is not an
// expression: it appears only where the grammar asks for one (for, index,
// range clauses), with full expressions on both sides.
#include "frontend/Parser.h"

namespace chain::frontend::detail {

using namespace ast;

namespace {

bool isComparison(Tok k) {
  return k == Tok::EqEq || k == Tok::NotEq || k == Tok::Lt || k == Tok::Le || k == Tok::Gt ||
         k == Tok::Ge;
}

ExprPtr binary(const Token& op, ExprPtr lhs, ExprPtr rhs) {
  auto e = std::make_unique<Expr>(ExprKind::Binary, op.loc);
  e->op = tokSpelling(op.kind);
  e->args.push_back(std::move(lhs));
  e->args.push_back(std::move(rhs));
  return e;
}

ExprPtr unary(const Token& op, ExprPtr operand) {
  auto e = std::make_unique<Expr>(ExprKind::Unary, op.loc);
  e->op = tokSpelling(op.kind);
  e->args.push_back(std::move(operand));
  return e;
}

}  // namespace

// expr := or_expr
ExprPtr Parser::parseExpr() {
  Nest guard(*this, peek().loc);
  return parseOr();
}

// or_expr := and_expr { 'or' and_expr }
ExprPtr Parser::parseOr() {
  ExprPtr lhs = parseAnd();
  Chain chain(*this);
  while (at(Tok::KwOr)) {
    Token op = take();
    chain.link(op.loc);
    lhs = binary(op, std::move(lhs), parseAnd());
  }
  return lhs;
}

// and_expr := not_expr { 'and' not_expr }
ExprPtr Parser::parseAnd() {
  ExprPtr lhs = parseNot();
  Chain chain(*this);
  while (at(Tok::KwAnd)) {
    Token op = take();
    chain.link(op.loc);
    lhs = binary(op, std::move(lhs), parseNot());
  }
  return lhs;
}

// not_expr := 'not' not_expr | cmp_expr
ExprPtr Parser::parseNot() {
  if (!at(Tok::KwNot)) return parseCmp();
  Token op = take();
  Nest guard(*this, op.loc);
  return unary(op, parseNot());
}

// cmp_expr := add_expr [ ('=='|'!='|'<'|'<='|'>'|'>=') add_expr ]
ExprPtr Parser::parseCmp() {
  ExprPtr lhs = parseAdd();
  if (!isComparison(peek().kind)) return lhs;
  Token op = take();
  lhs = binary(op, std::move(lhs), parseAdd());
  if (isComparison(peek().kind)) fail(peek().loc, "comparisons cannot be chained");
  return lhs;
}

// add_expr := mul_expr { ('+'|'-') mul_expr }
ExprPtr Parser::parseAdd() {
  ExprPtr lhs = parseMul();
  Chain chain(*this);
  while (at(Tok::Plus) || at(Tok::Minus)) {
    Token op = take();
    chain.link(op.loc);
    lhs = binary(op, std::move(lhs), parseMul());
  }
  return lhs;
}

// mul_expr := unary { ('*'|'/'|'%'|'@') unary }
ExprPtr Parser::parseMul() {
  ExprPtr lhs = parseUnary();
  Chain chain(*this);
  while (at(Tok::Star) || at(Tok::Slash) || at(Tok::Percent) || at(Tok::At)) {
    Token op = take();
    chain.link(op.loc);
    lhs = binary(op, std::move(lhs), parseUnary());
  }
  return lhs;
}

// unary := '-' unary | power
ExprPtr Parser::parseUnary() {
  if (!at(Tok::Minus)) return parsePower();
  Token op = take();
  Nest guard(*this, op.loc);
  return unary(op, parseUnary());
}

// power := postfix [ '**' unary ]      (right associative: the exponent is a unary)
ExprPtr Parser::parsePower() {
  ExprPtr base = parsePostfix();
  if (!at(Tok::StarStar)) return base;
  Token op = take();
  Nest guard(*this, op.loc);
  return binary(op, std::move(base), parseUnary());
}

// postfix := primary { '(' args ')' | '[' index { ',' index } ']' }
ExprPtr Parser::parsePostfix() {
  ExprPtr e = parsePrimary();
  Chain chain(*this);
  for (;;) {
    if (at(Tok::LParen)) {
      chain.link(peek().loc);
      e = parseCall(std::move(e));
    } else if (at(Tok::LBracket)) {
      chain.link(peek().loc);
      e = parseIndex(std::move(e));
    } else {
      return e;
    }
  }
}

// args := [ arg { ',' arg } [','] ] | expr 'for' range_clause { ',' range_clause }
// arg  := IDENT '=' expr | expr
ExprPtr Parser::parseCall(ExprPtr callee) {
  take();  // '('
  auto call = std::make_unique<Expr>(ExprKind::Call, callee->loc);
  call->callee = std::move(callee);
  if (accept(Tok::RParen)) return call;
  for (;;) {
    if (at(Tok::Ident) && peek(1).kind == Tok::Assign) {
      NamedArg arg;
      Token name = take();
      take();  // '='
      arg.name = name.text;
      arg.loc = name.loc;
      arg.value = parseExpr();
      call->named.push_back(std::move(arg));
    } else {
      if (!call->named.empty()) fail(peek().loc, "positional argument after a named argument");
      ExprPtr e = parseExpr();
      if (at(Tok::KwFor)) {
        Token f = take();
        if (!call->args.empty()) fail(f.loc, "a generator must be the only argument of a call");
        auto gen = std::make_unique<Expr>(ExprKind::Generator, e->loc);
        gen->args.push_back(std::move(e));
        parseRangeClauses(gen->ranges);
        call->args.push_back(std::move(gen));
        accept(Tok::Comma);
        expect(Tok::RParen, "expected ')' after generator");
        return call;
      }
      call->args.push_back(std::move(e));
    }
    if (accept(Tok::Comma)) {
      if (accept(Tok::RParen)) return call;
      continue;
    }
    expect(Tok::RParen, "expected ')' after arguments");
    return call;
  }
}

// postfix index: '[' index { ',' index } [','] ']'
ExprPtr Parser::parseIndex(ExprPtr base) {
  take();  // '['
  auto e = std::make_unique<Expr>(ExprKind::Index, base->loc);
  e->args.push_back(std::move(base));
  do {
    if (at(Tok::RBracket) && !e->indices.empty()) break;  // trailing comma
    e->indices.push_back(parseIndexItem());
  } while (accept(Tok::Comma));
  expect(Tok::RBracket, "expected ']' after index");
  return e;
}

// index := ':' | expr [ '..' expr ]
ExprPtr Parser::parseIndexItem() {
  if (at(Tok::Colon)) return std::make_unique<Expr>(ExprKind::Colon, take().loc);
  if (at(Tok::RBracket)) fail(peek().loc, "expected index");
  ExprPtr lo = parseExpr();
  if (!accept(Tok::DotDot)) return lo;
  auto r = std::make_unique<Expr>(ExprKind::Range, lo->loc);
  r->args.push_back(std::move(lo));
  r->args.push_back(parseExpr());
  return r;
}

// primary := INT | FLOAT | 'true' | 'false' | STRING | IDENT
//          | '(' ... ')' | '[' ... ']' | 'if' expr block 'else' ( block | if-expression )
ExprPtr Parser::parsePrimary() {
  const Token& t = peek();
  switch (t.kind) {
    case Tok::Int: {
      auto e = std::make_unique<Expr>(ExprKind::IntLit, t.loc);
      e->ival = t.ival;
      e->text = t.text;
      take();
      return e;
    }
    case Tok::Float: {
      auto e = std::make_unique<Expr>(ExprKind::FloatLit, t.loc);
      e->fval = t.fval;
      e->text = t.text;
      take();
      return e;
    }
    case Tok::KwTrue: case Tok::KwFalse: {
      auto e = std::make_unique<Expr>(ExprKind::BoolLit, t.loc);
      e->ival = t.kind == Tok::KwTrue ? 1 : 0;
      take();
      return e;
    }
    case Tok::String: case Tok::Ident: {
      auto e = std::make_unique<Expr>(
          t.kind == Tok::String ? ExprKind::StringLit : ExprKind::Name, t.loc);
      e->text = take().text;
      return e;
    }
    case Tok::LParen: return parseParen();
    case Tok::LBracket: return parseBracket();
    case Tok::KwIf: return parseIfExpr();
    case Tok::Newline: case Tok::Eof:
      fail(t.loc, "expected expression");
    default:
      failUnexpected(t, ", expected expression");
  }
}

// primary := '(' expr ')' | '(' expr ',' expr { ',' expr } [','] ')'     (Tuple)
ExprPtr Parser::parseParen() {
  Token lp = take();
  ExprPtr first = parseExpr();
  if (accept(Tok::RParen)) return first;
  if (!at(Tok::Comma)) fail(peek().loc, "expected ')'");
  auto tuple = std::make_unique<Expr>(ExprKind::Tuple, lp.loc);
  tuple->args.push_back(std::move(first));
  while (accept(Tok::Comma)) {
    if (at(Tok::RParen)) break;
    tuple->args.push_back(parseExpr());
  }
  expect(Tok::RParen, "expected ')' after tuple elements");
  if (tuple->args.size() < 2) fail(lp.loc, "a tuple needs at least two elements");
  return tuple;
}

// primary := '[' ']' | '[' expr { ',' expr } [','] ']'                   (ArrayLit)
//          | '[' expr 'for' range_clause { ',' range_clause } ']'       (Comprehension)
ExprPtr Parser::parseBracket() {
  Token lb = take();
  auto arr = std::make_unique<Expr>(ExprKind::ArrayLit, lb.loc);
  if (accept(Tok::RBracket)) return arr;
  ExprPtr first = parseExpr();
  if (accept(Tok::KwFor)) {
    auto comp = std::make_unique<Expr>(ExprKind::Comprehension, lb.loc);
    comp->args.push_back(std::move(first));
    parseRangeClauses(comp->ranges);
    expect(Tok::RBracket, "expected ']' after comprehension");
    return comp;
  }
  arr->args.push_back(std::move(first));
  while (accept(Tok::Comma)) {
    if (at(Tok::RBracket)) break;
    arr->args.push_back(parseExpr());
  }
  expect(Tok::RBracket, "expected ']' after array elements");
  return arr;
}

// primary := 'if' expr block 'else' ( block | if-expression )           (IfExpr)
// An `else if` becomes an else block whose result is the nested IfExpr.
ExprPtr Parser::parseIfExpr() {
  auto e = std::make_unique<Expr>(ExprKind::IfExpr, take().loc);
  e->args.push_back(parseExpr());
  e->thenBlock = parseBlock(BlockUse::Value, "expected '{' after the condition of 'if'");
  if (!e->thenBlock->result)
    fail(e->thenBlock->loc, "a branch of an 'if' expression must end with an expression");
  skipNewlinesBeforeElse();
  if (!at(Tok::KwElse)) fail(peek().loc, "an 'if' expression needs an 'else' branch");
  take();
  if (at(Tok::KwIf)) {
    Chain chain(*this);
    chain.link(peek().loc);
    ExprPtr nested = parseIfExpr();
    e->elseBlock = std::make_unique<Block>();
    e->elseBlock->loc = nested->loc;
    e->elseBlock->result = std::move(nested);
    return e;
  }
  e->elseBlock = parseBlock(BlockUse::Value, "expected '{' or 'if' after 'else'");
  if (!e->elseBlock->result)
    fail(e->elseBlock->loc, "a branch of an 'if' expression must end with an expression");
  return e;
}

// range_clause := IDENT 'in' expr '..' expr      (`, IDENT in` continues the list)
void Parser::parseRangeClauses(std::vector<RangeClause>& out) {
  for (;;) {
    RangeClause rc;
    Token var = expect(Tok::Ident, "expected loop variable after 'for'");
    rc.var = var.text;
    rc.loc = var.loc;
    expect(Tok::KwIn, "expected 'in' after the loop variable");
    rc.lo = parseExpr();
    expect(Tok::DotDot, "expected '..' in range");
    rc.hi = parseExpr();
    out.push_back(std::move(rc));
    if (!(at(Tok::Comma) && peek(1).kind == Tok::Ident && peek(2).kind == Tok::KwIn)) return;
    take();  // ','
  }
}

}  // namespace chain::frontend::detail
