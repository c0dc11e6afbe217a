// Array arguments from files: NumPy .npy (v1/v2/v3) and CSV. Both readers
// check everything the file claims before trusting it: an .npy header's
// shape must match the number of data bytes actually present (so a header
// promising 10^15 elements in a short file is an input error, not an
// allocation), and a CSV is scanned once for its shape before the tensor is
// allocated. Errors are chain::InputError naming the parameter and the file.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/ArrayInput.h"
#include "cli/ElementWriter.h"

namespace chain::cli {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& path, const std::string& msg) {
  throw InputError("argument '" + name + "': " + path + ": " + msg);
}

std::string readWhole(const std::string& name, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError("argument '" + name + "': '" + path + "' is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("argument '" + name + "': cannot read file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw InputError("argument '" + name + "': cannot read file '" + path + "'");
  return buf.str();
}

// --- .npy -----------------------------------------------------------------------

struct NpyHeader {
  std::string descr;
  bool fortran = false;
  bool sawDescr = false, sawShape = false;
  std::vector<int64_t> shape;
};

// The header is a Python dict literal:
//   header := '{' (key ':' value ','?)* '}'
//   key    := quoted string
//   value  := quoted string | 'True' | 'False' | '(' (int ','?)* ')'
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name, const std::string& path)
      : s_(text), name_(name), path_(path) {}

  NpyHeader parse() {
    NpyHeader h;
    expect('{');
    while (skip(), peek() != '}') {
      std::string key = quoted();
      expect(':');
      skip();
      if (key == "descr") h.descr = quoted(), h.sawDescr = true;
      else if (key == "fortran_order") h.fortran = boolean();
      else if (key == "shape") h.shape = tuple(), h.sawShape = true;
      else bad("unknown header key '" + key + "'");
      skip();
      if (peek() == ',') ++pos_;
    }
    if (!h.sawDescr || !h.sawShape) bad("the header lacks 'descr' or 'shape'");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& why) { fail(name_, path_, "malformed .npy header: " + why); }
  void skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t')) ++pos_;
  }
  char peek() { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void expect(char c) {
    skip();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string quoted() {
    skip();
    char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    size_t end = s_.find(q, pos_ + 1);
    if (end == std::string::npos) bad("unterminated string");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.compare(pos_, 4, "True") == 0) return pos_ += 4, true;
    if (s_.compare(pos_, 5, "False") == 0) return pos_ += 5, false;
    bad("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (skip(), peek() != ')') {
      if (peek() < '0' || peek() > '9') bad("expected a dimension");
      int64_t d = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (d > (INT64_MAX - 9) / 10) bad("dimension too large");
        d = d * 10 + (s_[pos_++] - '0');
      }
      if (peek() == 'L') ++pos_;  // Python 2 long
      dims.push_back(d);
      skip();
      if (peek() == ',') ++pos_;
      else if (peek() != ')') bad("expected ',' or ')'");
    }
    ++pos_;
    return dims;
  }

  const std::string& s_;
  const std::string& name_;
  const std::string& path_;
  size_t pos_ = 0;
};

// The element kind of a supported descr; throws for the rest.
char npyKind(const std::string& descr, const std::string& name, const std::string& path, size_t& itemSize) {
  if (!descr.empty() && descr[0] == '>' && descr.size() > 2 && descr.substr(1) != "b1" && descr.substr(1) != "u1")
    fail(name, path, "big-endian data ('" + descr + "') is not supported; save it little-endian ('<" +
                         descr.substr(1) + "')");
  if (descr == "<f8") return itemSize = 8, 'd';
  if (descr == "<f4") return itemSize = 4, 'f';
  if (descr == "<i8") return itemSize = 8, 'i';
  if (descr == "|b1" || descr == "<b1" || descr == ">b1") return itemSize = 1, 'b';
  fail(name, path, "dtype '" + descr + "' is not supported (supported: '<f8', '<f4', '<i8', '|b1')");
}

bool putNpyElement(ElementWriter& w, int64_t i, char kind, const char* p) {
  switch (kind) {
    case 'd': { double v; std::memcpy(&v, p, 8); return w.putFloat(i, v); }
    case 'f': { float v; std::memcpy(&v, p, 4); return w.putFloat(i, v); }
    case 'i': { int64_t v; std::memcpy(&v, p, 8); return w.putInt(i, v); }
    default: return w.putBool(i, *p != 0);
  }
}

// --- .csv -----------------------------------------------------------------------

enum class Field { Int, Float, Empty, Text };

std::string trim(const std::string& s, size_t b, size_t e) {
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

Field parseField(const std::string& f, int64_t& i, double& d) {
  if (f.empty()) return Field::Empty;
  size_t digits = f.find_first_not_of("0123456789", (f[0] == '-' || f[0] == '+') ? 1 : 0);
  errno = 0;
  char* end = nullptr;
  if (digits == std::string::npos && f.size() > ((f[0] == '-' || f[0] == '+') ? 1u : 0u)) {
    long long v = std::strtoll(f.c_str(), &end, 10);
    if (errno == 0) return i = v, Field::Int;
  }
  errno = 0;
  d = std::strtod(f.c_str(), &end);
  return end == f.c_str() + f.size() ? Field::Float : Field::Text;
}

// One line of the file, split at commas.
std::vector<std::string> splitLine(const std::string& text, size_t b, size_t e) {
  std::vector<std::string> fields;
  size_t start = b;
  for (size_t k = b; k <= e; ++k)
    if (k == e || text[k] == ',') fields.push_back(trim(text, start, k)), start = k + 1;
  return fields;
}

struct CsvLine {
  size_t begin, end;
  int64_t number;  // 1-based line number in the file
};

// The data lines: blank lines and a non-numeric first line are dropped.
std::vector<CsvLine> dataLines(const std::string& text) {
  std::vector<CsvLine> lines;
  size_t pos = 0;
  int64_t number = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl;
    ++number;
    if (!trim(text, pos, end).empty()) {
      bool header = false;
      if (first) {
        int64_t i;
        double d;
        for (const auto& f : splitLine(text, pos, end)) header = header || parseField(f, i, d) == Field::Text;
        first = false;
      }
      if (!header) lines.push_back({pos, end, number});
    }
    pos = end + 1;
  }
  return lines;
}

}  // namespace

Tensor readNpy(const std::string& name, const TypeInfo& type, const std::string& path) {
  std::string bytes = readWhole(name, path);
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    fail(name, path, "not a NumPy .npy file (bad magic)");
  int major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3) fail(name, path, "unsupported .npy format version " + std::to_string(major));
  size_t lenBytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + lenBytes) fail(name, path, "truncated .npy header");
  uint64_t headerLen = 0;
  for (size_t k = 0; k < lenBytes; ++k) headerLen |= uint64_t(static_cast<unsigned char>(bytes[8 + k])) << (8 * k);
  size_t dataStart = 8 + lenBytes + headerLen;
  if (headerLen > bytes.size() || dataStart > bytes.size()) fail(name, path, "truncated .npy header");
  NpyHeader h = HeaderParser(bytes.substr(8 + lenBytes, headerLen), name, path).parse();
  if (h.fortran) fail(name, path, "Fortran-order arrays are not supported; save it in C order");
  size_t itemSize = 0;
  char kind = npyKind(h.descr, name, path, itemSize);
  if (h.shape.size() != type.dims.size())
    fail(name, path, "the array has rank " + std::to_string(h.shape.size()) + " (shape " + shapeText(h.shape) +
                         "), but the parameter " + type.str() + " has rank " + std::to_string(type.dims.size()));
  // The data must be exactly numel * itemSize bytes; compare without overflow.
  uint64_t have = bytes.size() - dataStart, need = itemSize;
  bool zero = false, overflow = false;
  for (int64_t d : h.shape) zero = zero || d == 0;
  for (int64_t d : h.shape) overflow = overflow || __builtin_mul_overflow(need, uint64_t(d), &need);
  if (zero) need = 0;
  if (overflow || need > have)
    fail(name, path, "truncated data: shape " + shapeText(h.shape) + " needs " +
                         (overflow ? std::string("more than 2^64") : std::to_string(need)) + " bytes, the file has " +
                         std::to_string(have));
  if (need < have) fail(name, path, std::to_string(have - need) + " unexpected bytes after the data");
  ElementWriter w(name, type, h.shape);
  int64_t numel = int64_t(need / itemSize);
  const char* p = bytes.data() + dataStart;
  for (int64_t i = 0; i < numel; ++i, p += itemSize)
    if (!putNpyElement(w, i, kind, p))
      fail(name, path, "element " + std::to_string(i) + " (dtype '" + h.descr + "') does not convert to " +
                           dtypeName(type.dtype) + ": the parameter needs " + w.expected());
  return w.tensor();
}

Tensor readCsv(const std::string& name, const TypeInfo& type, const std::string& path) {
  std::string text = readWhole(name, path);
  std::vector<CsvLine> lines = dataLines(text);
  // Pass 1: the shape (every row the same number of fields).
  int64_t cols = lines.empty() ? 0 : int64_t(splitLine(text, lines[0].begin, lines[0].end).size());
  for (const auto& l : lines) {
    int64_t n = int64_t(splitLine(text, l.begin, l.end).size());
    if (n != cols)
      fail(name, path, "line " + std::to_string(l.number) + " has " + std::to_string(n) + " fields, expected " +
                           std::to_string(cols) + " (like line " + std::to_string(lines[0].number) + ")");
  }
  int64_t rows = int64_t(lines.size());
  std::vector<int64_t> shape;
  size_t rank = type.dims.size();
  if (rank == 2) shape = {rows, cols};
  else if (rank == 1 && (rows <= 1 || cols == 1)) shape = {rows == 1 ? cols : rows};
  else if (rank == 0 && rows == 1 && cols == 1) shape = {};
  else if (rank > 2)
    fail(name, path, "a CSV file holds rank 1 or 2 data; the parameter " + type.str() + " has rank " +
                         std::to_string(rank));
  else
    fail(name, path, "the file has " + std::to_string(rows) + " rows of " + std::to_string(cols) +
                         " fields; the parameter " + type.str() +
                         (rank == 1 ? " needs a single row or a single column" : " needs a single number"));
  // Pass 2: the values.
  ElementWriter w(name, type, shape, /*numbersAsBool=*/true);
  int64_t flat = 0;
  for (const auto& l : lines) {
    std::vector<std::string> fields = splitLine(text, l.begin, l.end);
    for (size_t k = 0; k < fields.size(); ++k, ++flat) {
      int64_t iv = 0;
      double dv = 0;
      Field f = parseField(fields[k], iv, dv);
      std::string where = "line " + std::to_string(l.number) + ", field " + std::to_string(k + 1);
      if (f == Field::Empty) fail(name, path, where + " is missing");
      if (f == Field::Text) fail(name, path, where + " is not a number: '" + fields[k] + "'");
      if (!(f == Field::Int ? w.putInt(flat, iv) : w.putFloat(flat, dv)))
        fail(name, path, where + " is " + fields[k] + ", but the parameter needs " + w.expected());
    }
  }
  return w.tensor();
}

}  // namespace chain::cli
