// The Chain lexer (SPEC §1): turns source bytes into tokens with 1-based
// line/column positions (columns count bytes). It is a streaming lexer: the
// parser pulls one token at a time, so memory stays constant whatever the
// input size. It decides which newlines end a statement: a newline counts only
// when the innermost open bracket is `{` (or none) and the previous token is
// not one that continues an expression (binary operator, `,`, `=`, `..`, ...);
// a run of significant newlines becomes one Newline token. Bad bytes,
// unterminated strings and out-of-range literals are diagnostics, after which
// lexing continues.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frontend/Diagnostics.h"
#include "ir/IR.h"

namespace chain::frontend {

enum class Tok : uint8_t {
  Eof, Newline, Ident, Int, Float, String,
  // keywords
  KwFn, KwLet, KwVar, KwFor, KwIn, KwWhile, KwIf, KwElse, KwReturn,
  KwAnd, KwOr, KwNot, KwTrue, KwFalse,
  // operators and punctuation
  Plus, Minus, Star, Slash, Percent, At, StarStar,
  EqEq, NotEq, Lt, Le, Gt, Ge,
  Assign, PlusEq, MinusEq, StarEq, SlashEq,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace,
  Comma, Semi, Colon, DotDot, Arrow,
};

struct Token {
  Tok kind = Tok::Eof;
  ir::SrcLoc loc;
  std::string text;  // Ident: name; String: unescaped contents; Int/Float: spelling
  int64_t ival = 0;  // Int
  double fval = 0;   // Float
};

// The fixed spelling of a keyword/operator token ("fn", "+=", ...), or a
// description for the others ("identifier", "end of line", ...).
const char* tokSpelling(Tok k);

// How a token is named in a diagnostic: `'xyz'` (quoted, cut when long),
// `end of line`, `end of file`, `string literal`.
std::string describeToken(const Token& t);

class Lexer {
 public:
  // `source` must outlive the lexer.
  Lexer(const std::string& source, DiagEngine& diag);

  // The next token; returns Eof forever once the input (or the error budget,
  // DiagEngine::kMaxErrors) is exhausted.
  Token next();

 private:
  char at(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }
  ir::SrcLoc locAt(size_t pos) const;
  bool skipBlankAndComments();  // returns true when it stopped at '\n'
  bool lexNewlines(Token& out);
  void lexNumber(Token& t);
  void lexString(Token& t);
  void lexIdent(Token& t);
  bool lexOperator(Token& t);
  void skipBadRun();
  bool badStart(size_t i) const;
  void openBracket(char c);
  void closeBracket(char open);
  bool statementKeywordAhead() const;
  void popToBrace();

  const std::string& src_;
  DiagEngine& diag_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t lineStart_ = 0;
  std::vector<char> brackets_;  // open '(' '[' '{'
  size_t openCount_[3] = {0, 0, 0};  // per kind, to close in O(1) amortised
  Tok prev_ = Tok::Newline;  // last token returned
};

// Lexes a whole string (for tests and tools). The last token is Eof.
std::vector<Token> lexAll(const std::string& source, DiagEngine& diag);

}  // namespace chain::frontend
