// Array arguments from files: NumPy .npy (v1/v2/v3) and CSV. Both readers
// check everything the file claims before trusting it: an .npy header's
// shape must match the number of data bytes actually present (so a header
// promising 10^15 elements in a short file is an input error, not an
// allocation), and a CSV is scanned once for its shape before the tensor is
// allocated. Errors are chain::InputError naming the parameter and the file.
//
// CSV rules (SPEC §7), each decided from the file's own data:
//  - Lines end in "\n" ("\r\n" too); blank lines are skipped; blanks at the
//    ends of a line and around a field are padding; a UTF-8 byte order mark
//    is ignored. Quoting is not part of the format (a quoted number is text).
//  - The separator is the first ',', ';' or tab of the first line that is
//    surely data: the second non-blank line when there are two or more (the
//    first may be a header), else the only one; when that line has none, the
//    first line's; failing both, runs of spaces (as numpy.loadtxt) when the
//    lines have spaces between fields; else the file is a single column.
//    Another of ',', ';', tab in a data line is an error naming its line and
//    column, never a second way of splitting.
//  - The first line is a header, and skipped, when one of its fields is not
//    a number and either none is (x1,x2,label) or it has another field count
//    than the data (569,30,malignant,benign above 31 columns), or (beyond
//    SPEC §7, so that the shared iris.csv loads) it is scikit-learn's
//    `N,D,name...` whose counts match the file: N data lines of D features
//    and a class (150,4,setosa,versicolor,virginica). Any other
//    field that is not a number (NA, an empty field, a word) is an error
//    naming the file, line and column (the field's 1-based position).
//  - Numbers: integers (read exactly as i64), decimal floats, nan, inf, -inf
//    and infinity in any case; not hex floats. A float beyond the f64 range
//    (1e400) is an error, as in JSON; one below it rounds to 0 or a
//    subnormal, as in JSON.
// The CSV reader is written here rather than taken from a library because
// these rules (header and separator detection, errors by line and column,
// shape before allocation) are Chain's own; no CSV library is installed, and
// the number grammar is std::from_chars's.
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <tuple>

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

// A supported dtype: its kind ('f' float, 'i' signed or 'u' unsigned
// integer, 'b' bool) and item size.
struct NpyDtype {
  char kind;
  size_t size;
};

// The dtype of a descr; throws for the rest. One-byte types take any byte
// order mark ('|', '<', '>'); wider ones must be little-endian.
NpyDtype npyDtype(const std::string& descr, const std::string& name, const std::string& path) {
  static const std::pair<const char*, NpyDtype> kTypes[] = {
      {"f8", {'f', 8}}, {"f4", {'f', 4}}, {"i8", {'i', 8}}, {"i4", {'i', 4}},
      {"i2", {'i', 2}}, {"i1", {'i', 1}}, {"u1", {'u', 1}}, {"b1", {'b', 1}}};
  char order = descr.empty() ? '\0' : descr[0];
  std::string code = descr.size() > 1 ? descr.substr(1) : "";
  for (const auto& [c, t] : kTypes) {
    if (code != c) continue;
    if (t.size == 1 ? (order == '|' || order == '<' || order == '>') : order == '<') return t;
    if (order == '>')
      fail(name, path, "big-endian data ('" + descr + "') is not supported; save it little-endian ('<" + code + "')");
  }
  fail(name, path, "dtype '" + descr +
                       "' is not supported (supported: '<f8', '<f4', '<i8', '<i4', '<i2', '|i1', '|u1', '|b1')");
}

template <class T> T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

double npyFloat(NpyDtype t, const char* p) { return t.size == 8 ? load<double>(p) : load<float>(p); }

int64_t npyInt(NpyDtype t, const char* p) {
  if (t.kind == 'u') return load<uint8_t>(p);
  switch (t.size) {
    case 8: return load<int64_t>(p);
    case 4: return load<int32_t>(p);
    case 2: return load<int16_t>(p);
    default: return load<int8_t>(p);
  }
}

bool putNpyElement(ElementWriter& w, int64_t i, NpyDtype t, const char* p) {
  if (t.kind == 'f') return w.putFloat(i, npyFloat(t, p));
  if (t.kind == 'b') return w.putBool(i, *p != 0);
  return w.putExactInt(i, npyInt(t, p));
}

// Why element `i` at `p` did not convert to the parameter's dtype (bool and
// non-bool data were refused before reading any element).
std::string npyElementError(DType to, NpyDtype t, const std::string& descr, int64_t i, const char* p) {
  std::string what = "element " + std::to_string(i) + " (dtype '" + descr + "') is ";
  if (t.kind == 'f') {
    char buf[32];
    char* end = std::to_chars(buf, buf + sizeof buf, npyFloat(t, p)).ptr;  // shortest round trip
    return what + std::string(buf, end) + ", which is not an integer within the i64 range";
  }
  return what + std::to_string(npyInt(t, p)) + ", which " + dtypeName(to) +
         " cannot hold exactly (it holds every integer up to 2^" + (to == DType::F32 ? "24" : "53") +
         " in magnitude)";
}

// --- .csv -----------------------------------------------------------------------

// A field's text as a number. Integers are read exactly as i64 (so 2^53 + 1
// reaches an i64 parameter unchanged); everything else through from_chars,
// which takes plain decimal notation and nan/inf/infinity (any case) but not
// hex floats, and does not depend on the locale.
enum class Field { Int, Float, Empty, Text, OutOfRange };

Field parseField(std::string_view f, int64_t& i, double& d) {
  if (f.empty()) return Field::Empty;
  if (f[0] == '+' && f.size() > 1 && f[1] != '-') f.remove_prefix(1);
  const char* end = f.data() + f.size();
  auto ri = std::from_chars(f.data(), end, i);
  if (ri.ec == std::errc() && ri.ptr == end && !(i == 0 && f[0] == '-')) return Field::Int;  // "-0": a float
  auto rd = std::from_chars(f.data(), end, d);
  if (rd.ptr != end) return Field::Text;
  if (rd.ec == std::errc()) return Field::Float;
  // Out of range: an overflow (1e400) is an error, as in JSON; an underflow
  // (1e-400) rounds to zero or a subnormal, as in JSON. strtod tells them apart.
  d = std::strtod(std::string(f).c_str(), nullptr);
  return std::isinf(d) ? Field::OutOfRange : Field::Float;
}

bool isNumber(Field f) { return f == Field::Int || f == Field::Float || f == Field::OutOfRange; }

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trimBlanks(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
  return s;
}

const std::string_view kSeparators = ",;\t";

// A line that is not blank, without its leading and trailing blanks.
struct CsvLine {
  std::string_view text;
  int64_t number;  // 1-based line number in the file
};

std::vector<CsvLine> nonBlankLines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark
  std::vector<CsvLine> lines;
  int64_t number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trimBlanks(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++number;
    if (!line.empty()) lines.push_back({line, number});
  }
  return lines;
}

// The separator, and the line it is taken from: the first of ',', ';', tab
// in the first line that is surely data (the second one when there are two
// or more: the first may be a header; else the only one), else in the first
// line (a ragged "1,2" then "3" is then a field count error); failing that,
// runs of spaces when one of the two has spaces between fields; else none
// (a single column).
std::pair<char, int64_t> chooseSeparator(const std::vector<CsvLine>& lines) {
  const CsvLine* order[] = {&lines[std::min<size_t>(1, lines.size() - 1)], &lines[0]};
  for (const CsvLine* l : order) {
    size_t k = l->text.find_first_of(kSeparators);
    if (k != std::string_view::npos) return {l->text[k], l->number};
  }
  for (const CsvLine* l : order)
    if (l->text.find(' ') != std::string_view::npos) return {' ', l->number};
  return {'\0', order[0]->number};
}

// The separator of one line on its own: the first of ',', ';', tab, else
// ' ' when it has spaces, else none.
char separatorOf(std::string_view line) {
  std::vector<CsvLine> one{{line, 0}};
  return chooseSeparator(one).first;
}

// The fields of a line: split at `sep` with the blanks around each field
// dropped, or at runs of spaces when `sep` is ' '.
std::vector<std::string_view> splitFields(std::string_view line, char sep) {
  std::vector<std::string_view> fields;
  if (sep == '\0') return {line};
  while (true) {
    size_t k = line.find(sep);
    fields.push_back(trimBlanks(line.substr(0, k)));
    if (k == std::string_view::npos) return fields;
    line.remove_prefix(k + 1);
    if (sep == ' ')
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  }
}

// "','", "tabs", "spaces": a separator for messages.
std::string separatorName(char sep) {
  if (sep == '\t') return "tabs";
  if (sep == ' ') return "spaces";
  return std::string("'") + sep + "'";
}

size_t countNumbers(const std::vector<std::string_view>& fields) {
  size_t n = 0;
  int64_t i;
  double d;
  for (std::string_view f : fields) n += isNumber(parseField(f, i, d));
  return n;
}

// The layout of a CSV file, found before anything is allocated.
struct CsvLayout {
  std::vector<CsvLine> rows;  // the data lines
  char sep = '\0';
  int64_t sepLine = 0;  // the line the separator was taken from
  int64_t cols = 0;
  bool firstIsData = true;  // the first line was not taken as a header
};

class CsvReader {
 public:
  CsvReader(const std::string& name, const std::string& path) : name_(name), path_(path) {}

  // The separator as chooseSeparator() says. The first line is a header
  // when one of its fields is not a number and either none is or it has
  // another field count than the data (SPEC §7); for this its fields are
  // split at its own separator, so that a numeric first line with another
  // separator than the data is data (and then an error), not a header.
  CsvLayout layout(std::string_view text) {
    CsvLayout l;
    l.rows = nonBlankLines(text);
    if (l.rows.empty()) return l;
    std::tie(l.sep, l.sepLine) = chooseSeparator(l.rows);
    std::vector<std::string_view> first = splitFields(l.rows[0].text, separatorOf(l.rows[0].text));
    const CsvLine& data = l.rows[std::min<size_t>(1, l.rows.size() - 1)];
    size_t dataCols = splitFields(data.text, l.sep).size(), numbers = countNumbers(first);
    if (numbers < first.size() && (numbers == 0 || first.size() != dataCols || countsHeader(first, l, dataCols))) {
      l.rows.erase(l.rows.begin());
      l.firstIsData = false;
    }
    l.cols = int64_t(l.rows.empty() ? first.size() : splitFields(l.rows[0].text, l.sep).size());
    for (const CsvLine& row : l.rows) checkRow(l, row);
    return l;
  }

  // The scikit-learn layout `N,D,name...` (150,4,setosa,versicolor,virginica
  // above iris's 4 features and a class): the first two fields are the
  // number of data lines and of features (the data's field count minus the
  // class column), the others names. Counts that match the file make it a
  // header even at the data's width; a data line with words (1,NA) does not
  // match them.
  static bool countsHeader(const std::vector<std::string_view>& first, const CsvLayout& l, size_t dataCols) {
    if (first.size() < 3 || dataCols < 2) return false;
    int64_t n = 0, d = 0, scratch = 0;
    double unused = 0;
    if (parseField(first[0], n, unused) != Field::Int || parseField(first[1], d, unused) != Field::Int) return false;
    for (size_t k = 2; k < first.size(); ++k)
      if (isNumber(parseField(first[k], scratch, unused))) return false;
    return n == int64_t(l.rows.size()) - 1 && d == int64_t(dataCols) - 1;
  }

  // Every field of every row, in C order.
  void fill(const CsvLayout& l, ElementWriter& w) {
    int64_t flat = 0;
    for (const CsvLine& row : l.rows) {
      std::vector<std::string_view> fields = splitFields(row.text, l.sep);
      for (size_t k = 0; k < fields.size(); ++k, ++flat) {
        int64_t iv = 0;
        double dv = 0;
        Field f = parseField(fields[k], iv, dv);
        std::string where = at(row, k) + ": ";
        std::string quoted = "'" + std::string(fields[k]) + "'";
        if (f == Field::Empty) fail(name_, path_, where + "empty field, expected a number");
        if (f == Field::Text) fail(name_, path_, where + quoted + " is not a number" + hint(l, row));
        if (f == Field::OutOfRange) fail(name_, path_, where + quoted + " is out of the f64 range");
        if (!(f == Field::Int ? w.putInt(flat, iv) : w.putFloat(flat, dv)))
          fail(name_, path_, where + quoted + ", but the parameter needs " + w.expected());
      }
    }
  }

 private:
  static std::string at(const CsvLine& row, size_t field) {
    return "line " + std::to_string(row.number) + ", column " + std::to_string(field + 1);
  }

  // Why a first line with a word in it was not skipped as a header.
  static std::string hint(const CsvLayout& l, const CsvLine& row) {
    if (!l.firstIsData || row.number != l.rows[0].number || l.rows.size() < 2) return "";
    return " (a first line is a header only when it has no number, another field count than the data, or the counts N,D of its N lines of D features)";
  }

  // One separator per file, and every row as wide as the data's first.
  void checkRow(const CsvLayout& l, const CsvLine& row) {
    std::vector<std::string_view> fields = splitFields(row.text, l.sep);
    for (size_t k = 0; k < fields.size(); ++k) {
      size_t other = fields[k].find_first_of(kSeparators);
      if (other == std::string_view::npos) continue;
      char c = fields[k][other];
      std::string what = at(row, k) + ": " + (c == '\t' ? std::string("a tab") : separatorName(c));
      if (row.number == l.sepLine)
        fail(name_, path_, what + " mixed with " + separatorName(l.sep) + " in one line; a file uses one separator");
      fail(name_, path_, what + ", but " +
                             (l.sep == '\0' ? "line " + std::to_string(l.sepLine) + " is a single column"
                                             : "the separator is " + separatorName(l.sep) + " (from line " +
                                                   std::to_string(l.sepLine) + ")") +
                             "; a file uses one separator");
    }
    if (int64_t(fields.size()) != l.cols)
      fail(name_, path_, "line " + std::to_string(row.number) + " has " + std::to_string(fields.size()) +
                             " fields, expected " + std::to_string(l.cols) + " (like line " +
                             std::to_string(l.rows[0].number) + ")");
  }

  const std::string& name_;
  const std::string& path_;
};

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
  NpyDtype dt = npyDtype(h.descr, name, path);
  size_t itemSize = dt.size;
  if ((dt.kind == 'b') != (type.dtype == DType::Bool))
    fail(name, path, "dtype '" + h.descr + "' data does not convert to the parameter " + type.str() +
                         (dt.kind == 'b' ? " (bool data needs a bool parameter)" : " (a bool parameter needs '|b1' data)"));
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
    if (!putNpyElement(w, i, dt, p)) fail(name, path, npyElementError(type.dtype, dt, h.descr, i, p));
  return w.tensor();
}

Tensor readCsv(const std::string& name, const TypeInfo& type, const std::string& path) {
  std::string text = readWhole(name, path);
  CsvReader reader(name, path);
  CsvLayout l = reader.layout(text);
  int64_t rows = int64_t(l.rows.size()), cols = l.cols;
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
  ElementWriter w(name, type, shape, /*numbersAsBool=*/true);
  reader.fill(l, w);
  return w.tensor();
}

}  // namespace chain::cli
