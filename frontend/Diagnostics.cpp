// Collecting and rendering diagnostics with a source excerpt and caret.
#include "frontend/Diagnostics.h"

#include <algorithm>

namespace chain {

void DiagEngine::error(ir::SrcLoc loc, std::string message) {
  if (diags_.size() >= kMaxErrors) return;
  for (const Diagnostic& d : diags_)  // the same error at the same place once
    if (d.loc.line == loc.line && d.loc.col == loc.col && d.message == message) return;
  diags_.push_back({loc, std::move(message)});
}

namespace {
// Returns line `n` (1-based) of `src`, or "" when out of range. Long lines are
// cut around the column so a 10 MB line does not flood the terminal.
std::string sourceLine(const std::string& src, int n, int& col) {
  size_t start = 0;
  for (int line = 1; line < n; ++line) {
    size_t nl = src.find('\n', start);
    if (nl == std::string::npos) return "";
    start = nl + 1;
  }
  size_t end = src.find('\n', start);
  if (end == std::string::npos) end = src.size();
  std::string text = src.substr(start, end - start);
  const size_t kWidth = 160;
  if (text.size() > kWidth) {
    size_t c = col > 0 ? size_t(col - 1) : 0;
    size_t from = c > kWidth / 2 ? c - kWidth / 2 : 0;
    text = text.substr(from, kWidth);
    col = int(c - from) + 1;
  }
  for (char& ch : text) {  // one column per byte, so the caret stays aligned
    unsigned char u = static_cast<unsigned char>(ch);
    if (u < 32 || u == 127) ch = ' ';
    else if (u >= 128) ch = '?';
  }
  return text;
}
}  // namespace

std::vector<Diagnostic> DiagEngine::sorted() const {
  std::vector<Diagnostic> out = diags_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.loc.line != b.loc.line ? a.loc.line < b.loc.line : a.loc.col < b.loc.col;
  });
  return out;
}


std::string DiagEngine::render(const std::string& kind) const {
  std::string out;
  for (const Diagnostic& d : sorted()) {
    out += fileName_ + ":" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) +
           ": " + kind + ": " + d.message + "\n";
    if (source_ && d.loc.line > 0) {
      int col = d.loc.col;
      std::string line = sourceLine(*source_, d.loc.line, col);
      out += "  " + line + "\n";
      out += "  " + std::string(col > 1 ? size_t(col - 1) : 0, ' ') + "^\n";
    }
  }
  return out;
}

}  // namespace chain
