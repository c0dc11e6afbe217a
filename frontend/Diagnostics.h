// User-facing diagnostics: `file:line:col: error: message`, then the source
// line and a caret under the column. Errors are collected (several per run)
// and rendered together; compiler bugs are asserts, never diagnostics.
#pragma once

#include <string>
#include <vector>

#include "ir/IR.h"

namespace chain {

struct Diagnostic {
  ir::SrcLoc loc;
  std::string message;
};

class DiagEngine {
 public:
  DiagEngine(std::string fileName, const std::string* source)
      : fileName_(std::move(fileName)), source_(source) {}

  void error(ir::SrcLoc loc, std::string message);
  bool hasErrors() const { return !diags_.empty(); }
  size_t count() const { return diags_.size(); }
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  // The diagnostics sorted by position (the order render() prints them in).
  std::vector<Diagnostic> sorted() const;
  // All diagnostics, each with its source line and caret, sorted by position:
  // `file:line:col: KIND: message` (KIND "error", or "runtime error" for the
  // runtime's errors, which reuse this renderer).
  std::string render(const std::string& kind = "error") const;
  const std::string& fileName() const { return fileName_; }

  static constexpr size_t kMaxErrors = 50;  // later errors are dropped

 private:
  std::string fileName_;
  const std::string* source_;
  std::vector<Diagnostic> diags_;
};

}  // namespace chain
