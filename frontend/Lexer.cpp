// The Chain lexer: bytes -> tokens (see Lexer.h for the newline rules).
// Every loop advances through the input, so lexing is linear in its size;
// bracket bookkeeping is amortised O(1) per bracket.
#include "frontend/Lexer.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace chain::frontend {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }
bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

int bracketIndex(char open) { return open == '(' ? 0 : open == '[' ? 1 : 2; }

// Tokens after which a newline does not end the statement.
bool continuesLine(Tok k) {
  switch (k) {
    case Tok::Plus: case Tok::Minus: case Tok::Star: case Tok::Slash: case Tok::Percent:
    case Tok::At: case Tok::StarStar: case Tok::EqEq: case Tok::NotEq: case Tok::Lt:
    case Tok::Le: case Tok::Gt: case Tok::Ge: case Tok::Assign: case Tok::PlusEq:
    case Tok::MinusEq: case Tok::StarEq: case Tok::SlashEq: case Tok::Comma:
    case Tok::DotDot: case Tok::Arrow: case Tok::KwAnd: case Tok::KwOr: case Tok::KwNot:
    case Tok::LParen: case Tok::LBracket: case Tok::LBrace: case Tok::Newline: case Tok::Semi:
      return true;
    default:
      return false;
  }
}

struct Keyword {
  const char* text;
  Tok kind;
};
const Keyword kKeywords[] = {
    {"fn", Tok::KwFn},       {"let", Tok::KwLet},   {"var", Tok::KwVar},
    {"for", Tok::KwFor},     {"in", Tok::KwIn},     {"while", Tok::KwWhile},
    {"if", Tok::KwIf},       {"else", Tok::KwElse}, {"return", Tok::KwReturn},
    {"and", Tok::KwAnd},     {"or", Tok::KwOr},     {"not", Tok::KwNot},
    {"true", Tok::KwTrue},   {"false", Tok::KwFalse},
};

// Quotes a spelling for a diagnostic, cutting very long ones.
std::string quote(const std::string& s) {
  const size_t kMax = 40;
  if (s.size() <= kMax) return "'" + s + "'";
  return "'" + s.substr(0, kMax) + "...'";
}

}  // namespace

const char* tokSpelling(Tok k) {
  switch (k) {
    case Tok::Eof: return "end of file";
    case Tok::Newline: return "end of line";
    case Tok::Ident: return "identifier";
    case Tok::Int: return "integer literal";
    case Tok::Float: return "float literal";
    case Tok::String: return "string literal";
    case Tok::KwFn: return "fn";
    case Tok::KwLet: return "let";
    case Tok::KwVar: return "var";
    case Tok::KwFor: return "for";
    case Tok::KwIn: return "in";
    case Tok::KwWhile: return "while";
    case Tok::KwIf: return "if";
    case Tok::KwElse: return "else";
    case Tok::KwReturn: return "return";
    case Tok::KwAnd: return "and";
    case Tok::KwOr: return "or";
    case Tok::KwNot: return "not";
    case Tok::KwTrue: return "true";
    case Tok::KwFalse: return "false";
    case Tok::Plus: return "+";
    case Tok::Minus: return "-";
    case Tok::Star: return "*";
    case Tok::Slash: return "/";
    case Tok::Percent: return "%";
    case Tok::At: return "@";
    case Tok::StarStar: return "**";
    case Tok::EqEq: return "==";
    case Tok::NotEq: return "!=";
    case Tok::Lt: return "<";
    case Tok::Le: return "<=";
    case Tok::Gt: return ">";
    case Tok::Ge: return ">=";
    case Tok::Assign: return "=";
    case Tok::PlusEq: return "+=";
    case Tok::MinusEq: return "-=";
    case Tok::StarEq: return "*=";
    case Tok::SlashEq: return "/=";
    case Tok::LParen: return "(";
    case Tok::RParen: return ")";
    case Tok::LBracket: return "[";
    case Tok::RBracket: return "]";
    case Tok::LBrace: return "{";
    case Tok::RBrace: return "}";
    case Tok::Comma: return ",";
    case Tok::Semi: return ";";
    case Tok::Colon: return ":";
    case Tok::DotDot: return "..";
    case Tok::Arrow: return "->";
  }
  return "?";
}

std::string describeToken(const Token& t) {
  switch (t.kind) {
    case Tok::Eof: case Tok::Newline: case Tok::String:
      return tokSpelling(t.kind);
    case Tok::Ident: case Tok::Int: case Tok::Float:
      return quote(t.text);
    default:
      return quote(tokSpelling(t.kind));
  }
}

Lexer::Lexer(const std::string& source, DiagEngine& diag) : src_(source), diag_(diag) {}

ir::SrcLoc Lexer::locAt(size_t pos) const {
  ir::SrcLoc l;
  l.line = line_;
  l.col = int(pos - lineStart_ + 1);
  return l;
}

bool Lexer::skipBlankAndComments() {
  while (pos_ < src_.size()) {
    char c = src_[pos_];
    if (isBlank(c)) {
      ++pos_;
    } else if (c == '#') {
      const void* nl = std::memchr(src_.data() + pos_, '\n', src_.size() - pos_);
      pos_ = nl ? size_t(static_cast<const char*>(nl) - src_.data()) : src_.size();
    } else {
      return c == '\n';
    }
  }
  return false;
}

// At a '\n': consumes the whole run of blank lines and decides whether it
// ends a statement (then `out` is the Newline token at the first '\n').
bool Lexer::lexNewlines(Token& out) {
  out.kind = Tok::Newline;
  out.loc = locAt(pos_);
  while (pos_ < src_.size() && src_[pos_] == '\n') {
    ++pos_;
    ++line_;
    lineStart_ = pos_;
    skipBlankAndComments();
  }
  bool inBrace = brackets_.empty() || brackets_.back() == '{';
  if (!inBrace && statementKeywordAhead()) {
    // `f(x` followed by a line starting with `let`: the bracket was never
    // closed. Give up on it so the next statement parses normally.
    popToBrace();
    inBrace = true;
  }
  return inBrace && !continuesLine(prev_);
}

// Does the next line start with a keyword that can only begin a statement?
bool Lexer::statementKeywordAhead() const {
  size_t end = pos_;
  while (end < src_.size() && end - pos_ < 8 && isIdentChar(src_[end])) ++end;
  if (end < src_.size() && isIdentChar(src_[end])) return false;
  std::string word = src_.substr(pos_, end - pos_);
  return word == "let" || word == "var" || word == "fn" || word == "return" || word == "while";
}

void Lexer::openBracket(char c) {
  brackets_.push_back(c);
  ++openCount_[bracketIndex(c)];
}

void Lexer::closeBracket(char open) {
  if (openCount_[bracketIndex(open)] == 0) return;  // unmatched: the parser reports it
  for (;;) {
    char top = brackets_.back();
    brackets_.pop_back();
    --openCount_[bracketIndex(top)];
    if (top == open) return;
  }
}

void Lexer::popToBrace() {
  while (!brackets_.empty() && brackets_.back() != '{') {
    --openCount_[bracketIndex(brackets_.back())];
    brackets_.pop_back();
  }
}

// INT := digit+ ; FLOAT := digit+ '.' digit+ [exp] | digit+ exp ;
// exp := ('e'|'E') ['+'|'-'] digit+.   `0..n` is INT '..' IDENT.
void Lexer::lexNumber(Token& t) {
  size_t start = pos_;
  while (isDigit(at(pos_))) ++pos_;
  bool isFloat = false;
  if (at(pos_) == '.' && at(pos_ + 1) != '.') {
    isFloat = true;
    if (!isDigit(at(pos_ + 1)))
      diag_.error(locAt(pos_), "expected a digit after '.' in float literal");
    ++pos_;
    while (isDigit(at(pos_))) ++pos_;
  }
  if (at(pos_) == 'e' || at(pos_) == 'E') {
    size_t q = pos_ + 1;
    if (at(q) == '+' || at(q) == '-') ++q;
    if (isDigit(at(q))) {
      isFloat = true;
      pos_ = q;
      while (isDigit(at(pos_))) ++pos_;
    }
  }
  t.text = src_.substr(start, pos_ - start);
  if (isIdentChar(at(pos_))) {
    size_t s = pos_;
    while (isIdentChar(at(pos_))) ++pos_;
    diag_.error(locAt(s), "invalid suffix " + quote(src_.substr(s, pos_ - s)) + " on number");
  }
  if (isFloat) {
    t.kind = Tok::Float;
    if (t.text.size() > 400) {
      diag_.error(t.loc, "float literal is too long");
    } else {
      t.fval = std::strtod(t.text.c_str(), nullptr);
      if (std::isinf(t.fval)) diag_.error(t.loc, "float literal out of range");
    }
    return;
  }
  t.kind = Tok::Int;
  int64_t v = 0;
  for (char c : t.text) {
    int d = c - '0';
    if (v > (INT64_MAX - d) / 10) {
      diag_.error(t.loc, "integer literal out of range");
      v = 0;
      break;
    }
    v = v * 10 + d;
  }
  t.ival = v;
}

// STRING := '"' { char | '\"' | '\\' | '\n' | '\t' } '"'   (on one line)
void Lexer::lexString(Token& t) {
  t.kind = Tok::String;
  ++pos_;  // opening quote
  for (;;) {
    if (pos_ >= src_.size() || src_[pos_] == '\n') {
      diag_.error(t.loc, "unterminated string literal");
      return;
    }
    char c = src_[pos_];
    if (c == '"') {
      ++pos_;
      return;
    }
    if (c != '\\') {
      t.text += c;
      ++pos_;
      continue;
    }
    char e = at(pos_ + 1);
    if (e == '\n' || pos_ + 1 >= src_.size()) {
      ++pos_;  // a lone backslash at the end of the line: unterminated
      continue;
    }
    switch (e) {
      case '"': t.text += '"'; break;
      case '\\': t.text += '\\'; break;
      case 'n': t.text += '\n'; break;
      case 't': t.text += '\t'; break;
      default:
        if (e > 32 && e < 127)
          diag_.error(locAt(pos_), std::string("unknown escape sequence '\\") + e + "'");
        else
          diag_.error(locAt(pos_), "unknown escape sequence");
        t.text += e;
    }
    pos_ += 2;
  }
}

void Lexer::lexIdent(Token& t) {
  size_t start = pos_;
  while (isIdentChar(at(pos_))) ++pos_;
  t.text = src_.substr(start, pos_ - start);
  t.kind = Tok::Ident;
  if (t.text.size() > 6) return;
  for (const Keyword& k : kKeywords)
    if (t.text == k.text) {
      t.kind = k.kind;
      return;
    }
}

bool Lexer::lexOperator(Token& t) {
  char c = src_[pos_];
  char n = at(pos_ + 1);
  auto one = [&](Tok k) { t.kind = k; pos_ += 1; return true; };
  auto two = [&](Tok k) { t.kind = k; pos_ += 2; return true; };
  switch (c) {
    case '+': return n == '=' ? two(Tok::PlusEq) : one(Tok::Plus);
    case '-': return n == '=' ? two(Tok::MinusEq) : n == '>' ? two(Tok::Arrow) : one(Tok::Minus);
    case '*': return n == '*' ? two(Tok::StarStar) : n == '=' ? two(Tok::StarEq) : one(Tok::Star);
    case '/': return n == '=' ? two(Tok::SlashEq) : one(Tok::Slash);
    case '%': return one(Tok::Percent);
    case '^':  // a slip for **: reported, then read as ** so that parsing goes on
      diag_.error(t.loc, "'^' is not an operator; use ** for powers");
      return one(Tok::StarStar);
    case '@': return one(Tok::At);
    case '=': return n == '=' ? two(Tok::EqEq) : one(Tok::Assign);
    case '!': return n == '=' ? two(Tok::NotEq) : false;
    case '<': return n == '=' ? two(Tok::Le) : one(Tok::Lt);
    case '>': return n == '=' ? two(Tok::Ge) : one(Tok::Gt);
    case '(': openBracket('('); return one(Tok::LParen);
    case '[': openBracket('['); return one(Tok::LBracket);
    case '{': openBracket('{'); return one(Tok::LBrace);
    case ')': closeBracket('('); return one(Tok::RParen);
    case ']': closeBracket('['); return one(Tok::RBracket);
    case '}': closeBracket('{'); return one(Tok::RBrace);
    case ',': return one(Tok::Comma);
    case ';': return one(Tok::Semi);
    case ':': return one(Tok::Colon);
    case '.': return n == '.' ? two(Tok::DotDot) : false;
    default: return false;
  }
}

// Can no token start at byte i?
bool Lexer::badStart(size_t i) const {
  char c = src_[i];
  if (isBlank(c) || c == '\n' || isIdentChar(c) || c == '"' || c == '#') return false;
  if (c == '!') return at(i + 1) != '=';
  if (c == '.') return at(i + 1) != '.';
  return std::strchr("+-*/%^@=<>()[]{},;:", c) == nullptr || c == '\0';
}

// One diagnostic for a run of bytes that start no token.
void Lexer::skipBadRun() {
  size_t start = pos_;
  while (pos_ < src_.size() && badStart(pos_)) ++pos_;
  unsigned char b = static_cast<unsigned char>(src_[start]);
  std::string msg;
  if (b >= 0x80) {
    msg = "unexpected non-ASCII character (allowed only in strings and comments)";
  } else if (b > 32 && b < 127) {
    msg = std::string("unexpected character '") + char(b) + "'";
  } else {
    char buf[48];
    std::snprintf(buf, sizeof buf, "unexpected byte 0x%02X", unsigned(b));
    msg = buf;
  }
  diag_.error(locAt(start), msg);
}

Token Lexer::next() {
  for (;;) {
    if (diag_.count() >= DiagEngine::kMaxErrors) pos_ = src_.size();
    Token t;
    if (skipBlankAndComments()) {
      if (lexNewlines(t)) {
        prev_ = Tok::Newline;
        return t;
      }
      continue;
    }
    t.loc = locAt(pos_);
    if (pos_ >= src_.size()) {
      t.kind = Tok::Eof;
      prev_ = Tok::Eof;
      return t;
    }
    char c = src_[pos_];
    if (isDigit(c)) {
      lexNumber(t);
    } else if (isIdentStart(c)) {
      lexIdent(t);
    } else if (c == '"') {
      lexString(t);
    } else if (!lexOperator(t)) {
      skipBadRun();
      continue;
    }
    prev_ = t.kind;
    return t;
  }
}

std::vector<Token> lexAll(const std::string& source, DiagEngine& diag) {
  Lexer lex(source, diag);
  std::vector<Token> out;
  do {
    out.push_back(lex.next());
  } while (out.back().kind != Tok::Eof);
  return out;
}

}  // namespace chain::frontend
