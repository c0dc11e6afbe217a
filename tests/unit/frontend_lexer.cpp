// Unit tests for the Chain lexer: token kinds, literals (including the
// `0..n` / float edge cases), positions, newline significance, comments,
// strings and bad input.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "frontend/Lexer.h"

using namespace chain;
using namespace chain::frontend;

namespace {

struct Lexed {
  std::string src;
  DiagEngine diag{"t.chain", nullptr};
  std::vector<Token> toks;
  explicit Lexed(std::string s) : src(std::move(s)) { toks = lexAll(src, diag); }
  std::vector<Tok> kinds() const {
    std::vector<Tok> k;
    for (const Token& t : toks) k.push_back(t.kind);
    return k;
  }
};

std::vector<Tok> kindsOf(const std::string& src) { return Lexed(src).kinds(); }

}  // namespace

TEST_CASE("lexer: every operator and punctuation token", "[lexer]") {
  Lexed l("+ - * / % @ ** == != < <= > >= = += -= *= /= ( ) [ ] { } , ; : .. ->");
  std::vector<Tok> want = {
      Tok::Plus,   Tok::Minus,   Tok::Star,     Tok::Slash,    Tok::Percent, Tok::At,
      Tok::StarStar, Tok::EqEq,  Tok::NotEq,    Tok::Lt,       Tok::Le,      Tok::Gt,
      Tok::Ge,     Tok::Assign,  Tok::PlusEq,   Tok::MinusEq,  Tok::StarEq,  Tok::SlashEq,
      Tok::LParen, Tok::RParen,  Tok::LBracket, Tok::RBracket, Tok::LBrace,  Tok::RBrace,
      Tok::Comma,  Tok::Semi,    Tok::Colon,    Tok::DotDot,   Tok::Arrow,   Tok::Eof};
  CHECK(l.kinds() == want);
  CHECK_FALSE(l.diag.hasErrors());
  // Without spaces, the longest operator wins.
  CHECK(kindsOf("a**-b") == std::vector<Tok>{Tok::Ident, Tok::StarStar, Tok::Minus, Tok::Ident, Tok::Eof});
  CHECK(kindsOf("a<=-b->c") == std::vector<Tok>{Tok::Ident, Tok::Le, Tok::Minus, Tok::Ident,
                                                Tok::Arrow, Tok::Ident, Tok::Eof});
}

TEST_CASE("lexer: keywords and identifiers", "[lexer]") {
  Lexed l("fn let var for in while if else return and or not true false f64 i64 bool _x9 lets");
  std::vector<Tok> want = {Tok::KwFn,  Tok::KwLet,   Tok::KwVar, Tok::KwFor,    Tok::KwIn,
                           Tok::KwWhile, Tok::KwIf,  Tok::KwElse, Tok::KwReturn, Tok::KwAnd,
                           Tok::KwOr,  Tok::KwNot,   Tok::KwTrue, Tok::KwFalse, Tok::Ident,
                           Tok::Ident, Tok::Ident,   Tok::Ident, Tok::Ident,    Tok::Eof};
  CHECK(l.kinds() == want);
  CHECK(l.toks[14].text == "f64");
  CHECK(l.toks[17].text == "_x9");
  CHECK(l.toks[18].text == "lets");
}

TEST_CASE("lexer: integer and float literals", "[lexer]") {
  Lexed l("42 1.0 0.5 1e-3 2.5E+2 7e2 0");
  REQUIRE(l.kinds() == std::vector<Tok>{Tok::Int, Tok::Float, Tok::Float, Tok::Float, Tok::Float,
                                        Tok::Float, Tok::Int, Tok::Eof});
  CHECK(l.toks[0].ival == 42);
  CHECK(l.toks[1].fval == 1.0);
  CHECK(l.toks[1].text == "1.0");
  CHECK(l.toks[2].fval == 0.5);
  CHECK(l.toks[3].fval == Approx(1e-3));
  CHECK(l.toks[3].text == "1e-3");
  CHECK(l.toks[4].fval == 250.0);
  CHECK(l.toks[5].fval == 700.0);
  CHECK(l.toks[6].ival == 0);
  CHECK_FALSE(l.diag.hasErrors());
}

TEST_CASE("lexer: ranges are not floats", "[lexer]") {
  Lexed a("0..n");
  REQUIRE(a.kinds() == std::vector<Tok>{Tok::Int, Tok::DotDot, Tok::Ident, Tok::Eof});
  CHECK(a.toks[0].ival == 0);
  Lexed b("1.0..2.0");
  REQUIRE(b.kinds() == std::vector<Tok>{Tok::Float, Tok::DotDot, Tok::Float, Tok::Eof});
  CHECK(b.toks[2].fval == 2.0);
  Lexed c("x[2..n-1]");
  CHECK(c.kinds() == std::vector<Tok>{Tok::Ident, Tok::LBracket, Tok::Int, Tok::DotDot, Tok::Ident,
                                      Tok::Minus, Tok::Int, Tok::RBracket, Tok::Eof});
  CHECK_FALSE(a.diag.hasErrors());
  CHECK_FALSE(b.diag.hasErrors());
  CHECK_FALSE(c.diag.hasErrors());
}

TEST_CASE("lexer: bad numbers are diagnosed", "[lexer]") {
  Lexed big("9223372036854775807 9223372036854775808");
  REQUIRE(big.kinds() == std::vector<Tok>{Tok::Int, Tok::Int, Tok::Eof});
  CHECK(big.toks[0].ival == INT64_MAX);
  REQUIRE(big.diag.count() == 1);
  CHECK(big.diag.diagnostics()[0].message == "integer literal out of range");
  CHECK(big.diag.diagnostics()[0].loc.col == 21);

  Lexed dot("x = 1.");
  REQUIRE(dot.diag.count() == 1);
  CHECK(dot.diag.diagnostics()[0].message == "expected a digit after '.' in float literal");
  CHECK(dot.diag.diagnostics()[0].loc.col == 6);

  Lexed suffix("3abc + 1");
  CHECK(suffix.kinds() == std::vector<Tok>{Tok::Int, Tok::Plus, Tok::Int, Tok::Eof});
  REQUIRE(suffix.diag.count() == 1);
  CHECK(suffix.diag.diagnostics()[0].message == "invalid suffix 'abc' on number");
  CHECK(suffix.diag.diagnostics()[0].loc.col == 2);

  Lexed huge("1e999");
  CHECK(huge.diag.count() == 1);
}

TEST_CASE("lexer: strings", "[lexer]") {
  Lexed l(R"(print("a \"q\" \\ b\n", x))");
  REQUIRE(l.toks.size() >= 3);
  REQUIRE(l.toks[2].kind == Tok::String);
  CHECK(l.toks[2].text == "a \"q\" \\ b\n");
  CHECK_FALSE(l.diag.hasErrors());

  Lexed u("let s = \"abc\nlet t = 1");
  REQUIRE(u.diag.count() == 1);
  CHECK(u.diag.diagnostics()[0].message == "unterminated string literal");
  CHECK(u.diag.diagnostics()[0].loc.line == 1);
  CHECK(u.diag.diagnostics()[0].loc.col == 9);
  // Lexing continues on the next line.
  CHECK(u.kinds() == std::vector<Tok>{Tok::KwLet, Tok::Ident, Tok::Assign, Tok::String,
                                      Tok::Newline, Tok::KwLet, Tok::Ident, Tok::Assign, Tok::Int,
                                      Tok::Eof});
  Lexed e("\"a\\qb\"");
  REQUIRE(e.diag.count() == 1);
  CHECK(e.diag.diagnostics()[0].message == "unknown escape sequence '\\q'");
}

TEST_CASE("lexer: positions are 1-based lines and byte columns", "[lexer]") {
  Lexed l("fn f(x: f64) {\n\tlet  y = x\n}");
  const Token& let = l.toks[8];
  REQUIRE(let.kind == Tok::KwLet);
  CHECK(let.loc.line == 2);
  CHECK(let.loc.col == 2);  // a tab is one byte
  CHECK(l.toks[9].loc.col == 7);
  CHECK(l.toks[0].loc.line == 1);
  CHECK(l.toks[0].loc.col == 1);
  CHECK(l.toks[4].loc.col == 7);  // ':'
  const Token& nl = l.toks[12];
  REQUIRE(nl.kind == Tok::Newline);
  CHECK(nl.loc.line == 2);
  CHECK(nl.loc.col == 12);
}

TEST_CASE("lexer: comments", "[lexer]") {
  Lexed l("# header\nx # trailing ( [ \" \xc3\xa9\ny");
  CHECK(l.kinds() == std::vector<Tok>{Tok::Ident, Tok::Newline, Tok::Ident, Tok::Eof});
  CHECK_FALSE(l.diag.hasErrors());
  CHECK(l.toks[2].loc.line == 3);
}

TEST_CASE("lexer: newline significance", "[lexer]") {
  // Runs of blank lines and comment lines make one Newline.
  CHECK(kindsOf("a\n\n  \n# c\n\nb") == std::vector<Tok>{Tok::Ident, Tok::Newline, Tok::Ident, Tok::Eof});
  // Leading newlines are dropped.
  CHECK(kindsOf("\n\na") == std::vector<Tok>{Tok::Ident, Tok::Eof});
  // Inside ( ) and [ ] newlines do not count.
  CHECK(kindsOf("f(\n a,\n b\n)\nc") ==
        std::vector<Tok>{Tok::Ident, Tok::LParen, Tok::Ident, Tok::Comma, Tok::Ident, Tok::RParen,
                         Tok::Newline, Tok::Ident, Tok::Eof});
  CHECK(kindsOf("[a\n b]") ==
        std::vector<Tok>{Tok::LBracket, Tok::Ident, Tok::Ident, Tok::RBracket, Tok::Eof});
  // ...but inside { } nested in parentheses they do.
  CHECK(kindsOf("(if c {\n a\n b\n})") ==
        std::vector<Tok>{Tok::LParen, Tok::KwIf, Tok::Ident, Tok::LBrace, Tok::Ident, Tok::Newline,
                         Tok::Ident, Tok::Newline, Tok::RBrace, Tok::RParen, Tok::Eof});
  // After a binary operator, ',', '=', '..', '->', and/or/not, an opening bracket.
  for (const char* op : {"+", "-", "*", "/", "%", "@", "**", "==", "!=", "<", "<=", ">", ">=",
                         "=", "+=", "-=", "*=", "/=", ",", "..", "->", "and", "or", "not"}) {
    INFO(op);
    std::vector<Tok> k = kindsOf(std::string("a ") + op + "\n b");
    REQUIRE(k.size() == 4);
    CHECK(k[2] == Tok::Ident);
  }
  CHECK(kindsOf("{\n a\n}") == std::vector<Tok>{Tok::LBrace, Tok::Ident, Tok::Newline, Tok::RBrace, Tok::Eof});
  // Not after an identifier, a literal or a closing bracket.
  CHECK(kindsOf("a\nb") == std::vector<Tok>{Tok::Ident, Tok::Newline, Tok::Ident, Tok::Eof});
  CHECK(kindsOf("f(x)\n1") == std::vector<Tok>{Tok::Ident, Tok::LParen, Tok::Ident, Tok::RParen,
                                               Tok::Newline, Tok::Int, Tok::Eof});
}

TEST_CASE("lexer: an unclosed bracket is abandoned before a statement keyword", "[lexer]") {
  CHECK(kindsOf("{ let a = f(x\n let b = 1 }") ==
        std::vector<Tok>{Tok::LBrace, Tok::KwLet, Tok::Ident, Tok::Assign, Tok::Ident, Tok::LParen,
                         Tok::Ident, Tok::Newline, Tok::KwLet, Tok::Ident, Tok::Assign, Tok::Int,
                         Tok::RBrace, Tok::Eof});
  // A comprehension's `for` on the next line is not a statement keyword.
  CHECK(kindsOf("[x\n for i in 0..n]").size() == 10);
  // An unmatched closing bracket does not confuse the stack.
  CHECK(kindsOf("{ ) \n a }") ==
        std::vector<Tok>{Tok::LBrace, Tok::RParen, Tok::Newline, Tok::Ident, Tok::RBrace, Tok::Eof});
}

TEST_CASE("lexer: '^' is reported and read as **", "[lexer]") {
  Lexed l("x ^ 2 ^^ y");
  CHECK(l.kinds() == std::vector<Tok>{Tok::Ident, Tok::StarStar, Tok::Int, Tok::StarStar, Tok::StarStar,
                                      Tok::Ident, Tok::Eof});
  REQUIRE(l.diag.count() == 3);
  CHECK(l.diag.diagnostics()[0].message == "'^' is not an operator; use ** for powers");
  CHECK(l.diag.diagnostics()[0].loc.col == 3);
  CHECK(l.diag.diagnostics()[2].loc.col == 8);
  // `^` continues the line like `**` (the newline after it does not end the statement).
  CHECK(kindsOf("x ^\n 2") == std::vector<Tok>{Tok::Ident, Tok::StarStar, Tok::Int, Tok::Eof});
}

TEST_CASE("lexer: bad bytes give one diagnostic per run", "[lexer]") {
  Lexed l("a $$ b ? c");
  CHECK(l.kinds() == std::vector<Tok>{Tok::Ident, Tok::Ident, Tok::Ident, Tok::Eof});
  REQUIRE(l.diag.count() == 2);
  CHECK(l.diag.diagnostics()[0].message == "unexpected character '$'");
  CHECK(l.diag.diagnostics()[0].loc.col == 3);
  CHECK(l.diag.diagnostics()[1].message == "unexpected character '?'");
  CHECK(l.diag.diagnostics()[1].loc.col == 8);

  Lexed u("x = \xc3\xa9t\xc3\xa9");  // "été" outside a string
  REQUIRE(u.diag.count() == 2);
  CHECK(u.diag.diagnostics()[0].loc.col == 5);
  CHECK(u.diag.diagnostics()[0].message ==
        "unexpected non-ASCII character (allowed only in strings and comments)");

  Lexed z(std::string("a\0b", 3));
  REQUIRE(z.diag.count() == 1);
  CHECK(z.diag.diagnostics()[0].message == "unexpected byte 0x00");
  CHECK(z.kinds() == std::vector<Tok>{Tok::Ident, Tok::Ident, Tok::Eof});

  Lexed dot("a . b ! c");
  CHECK(dot.diag.count() == 2);
}

TEST_CASE("lexer: the error budget stops lexing", "[lexer]") {
  std::string src;
  for (int i = 0; i < 10000; ++i) src += "$ ";
  Lexed l(src);
  CHECK(l.diag.count() == DiagEngine::kMaxErrors);
  CHECK(l.toks.back().kind == Tok::Eof);
}

TEST_CASE("lexer: Eof repeats and random bytes never crash", "[lexer]") {
  std::string src = "fn";
  DiagEngine diag("t.chain", &src);
  Lexer lex(src, diag);
  CHECK(lex.next().kind == Tok::KwFn);
  CHECK(lex.next().kind == Tok::Eof);
  CHECK(lex.next().kind == Tok::Eof);

  uint32_t seed = 12345;
  std::string junk;
  for (int i = 0; i < 200000; ++i) {
    seed = seed * 1664525u + 1013904223u;
    junk += char(seed >> 24);
  }
  Lexed r(junk);
  CHECK(r.toks.back().kind == Tok::Eof);
  CHECK(r.diag.count() <= DiagEngine::kMaxErrors);
}

TEST_CASE("lexer: describeToken", "[lexer]") {
  Lexed l("xyz 1.5 \"s\" ==");
  CHECK(describeToken(l.toks[0]) == "'xyz'");
  CHECK(describeToken(l.toks[1]) == "'1.5'");
  CHECK(describeToken(l.toks[2]) == "string literal");
  CHECK(describeToken(l.toks[3]) == "'=='");
  CHECK(describeToken(l.toks[4]) == "end of file");
  Token longIdent;
  longIdent.kind = Tok::Ident;
  longIdent.text = std::string(1000, 'a');
  CHECK(describeToken(longIdent).size() < 60);
}
