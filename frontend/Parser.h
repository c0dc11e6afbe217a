// The Chain parser's internal interface, shared by Parser.cpp (program,
// functions, types, blocks, statements, error recovery) and ParserExpr.cpp
// (expressions, by precedence climbing). The public entry point is
// frontend::parse in Frontend.h.
//
// Errors: `fail` reports a diagnostic and throws ParseError; the statement
// loop of the enclosing block catches it and skips to the next statement
// (newline, `;` or `}` at the same bracket depth); at top level the parser
// skips to the next `fn`. At most one error is reported per source position.
// Nesting is bounded (kMaxNesting) so no input can overflow the stack, and
// the total tree depth, counting left-associative chains such as
// `a + b + c + ...`, is bounded too (kMaxTreeDepth) so that later recursive
// passes over the tree (checker, lowering, the destructor) are safe.
#pragma once

#include <deque>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "frontend/Lexer.h"

namespace chain::frontend::detail {

// Thrown after a diagnostic has been reported. `tooDeep` errors (nesting
// limits) abandon the whole statement of the function body they occur in,
// so that a pathological input gives one diagnostic, not a cascade.
struct ParseError {
  bool tooDeep = false;
};

// How a block is used: it decides what happens to a trailing expression.
enum class BlockUse {
  Value,      // function body, `if` expression branch: keeps its result
  IfStmt,     // `if` statement branch: result kept until the enclosing block decides
  Loop,       // `for` / `while` body: a trailing expression becomes a statement
};

class Parser {
 public:
  static constexpr int kMaxNesting = 200;
  static constexpr int kMaxTreeDepth = 2000;

  Parser(const std::string& source, DiagEngine& diag);
  std::unique_ptr<ast::Program> parseProgram();

  // ---- tokens (Parser.cpp)
  const Token& peek(size_t k = 0);
  Token take();
  bool at(Tok k) { return peek().kind == k; }
  bool accept(Tok k);
  Token expect(Tok k, const char* message);
  void report(ir::SrcLoc loc, const std::string& message);  // at most one per position
  [[noreturn]] void fail(ir::SrcLoc loc, const std::string& message, bool tooDeep = false);
  [[noreturn]] void failUnexpected(const Token& t, const std::string& context = "");

  // Bounds recursion: one level of nesting (and of tree depth).
  class Nest {
   public:
    Nest(Parser& p, ir::SrcLoc loc);
    ~Nest() { --p_.nesting_; --p_.treeDepth_; }
   private:
    Parser& p_;
  };
  // Bounds a left-associative chain: each link deepens the tree by one.
  class Chain {
   public:
    explicit Chain(Parser& p) : p_(p) {}
    ~Chain() { p_.treeDepth_ -= links_; }
    void link(ir::SrcLoc loc);
   private:
    Parser& p_;
    int links_ = 0;
  };

  // ---- declarations and statements (Parser.cpp)
  std::unique_ptr<ast::FnDecl> parseFn();
  ast::TypeExpr parseType();
  std::unique_ptr<ast::Block> parseBlock(BlockUse use, const char* braceMessage);
  void parseBlockItem(ast::Block& block);
  ast::StmtPtr parseLet();
  ast::StmtPtr parseVar();
  ast::StmtPtr parseIfStmt();
  ast::StmtPtr parseFor();
  ast::StmtPtr parseWhile();
  void expectStatementEnd();
  void skipNewlinesBeforeElse();
  void recoverInBlock(int level);

  // ---- expressions (ParserExpr.cpp)
  ast::ExprPtr parseExpr();
  ast::ExprPtr parseOr();
  ast::ExprPtr parseAnd();
  ast::ExprPtr parseNot();
  ast::ExprPtr parseCmp();
  ast::ExprPtr parseAdd();
  ast::ExprPtr parseMul();
  ast::ExprPtr parseUnary();
  ast::ExprPtr parsePower();
  ast::ExprPtr parsePostfix();
  ast::ExprPtr parseCall(ast::ExprPtr callee);
  ast::ExprPtr parseIndex(ast::ExprPtr base);
  ast::ExprPtr parseIndexItem();
  ast::ExprPtr parsePrimary();
  ast::ExprPtr parseParen();
  ast::ExprPtr parseBracket();
  ast::ExprPtr parseIfExpr();
  void parseRangeClauses(std::vector<ast::RangeClause>& out);

 private:
  Lexer lex_;
  DiagEngine& diag_;
  std::deque<Token> buf_;
  std::set<std::pair<int, int>> errorAt_;
  int nesting_ = 0;
  int treeDepth_ = 0;
  int openBraces_ = 0;  // `{` taken minus `}` taken: where recovery may stop
};

// Block results: turns a trailing `if` statement whose branches all end in an
// expression into the block's result (an IfExpr); returns the branch results
// of other `if` statements to ordinary statements. Exposed for tests.
void finishIfStatements(ast::Block& block, BlockUse use);

}  // namespace chain::frontend::detail
