// The command line's array readers (cli/ArrayInput.h): nested JSON lists,
// NumPy .npy and CSV files into tensors of a parameter's type, the binding of
// size names, the memory check, and the text/JSON printing of tensors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <cstring>
#include <fstream>
#include <string>
#include <unistd.h>

#include "cli/ArrayInput.h"
#include "cli/Output.h"

using namespace chain;
using namespace chain::cli;
using nlohmann::json;

namespace {

TypeInfo arrayType(DType dt, std::vector<std::string> dims) {
  TypeInfo t;
  t.dtype = dt;
  t.dims = std::move(dims);
  return t;
}

std::string tempPath(const std::string& suffix) {
  static int counter = 0;
  return "/tmp/chain_cli_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + suffix;
}

std::string writeFile(const std::string& suffix, const std::string& bytes) {
  std::string path = tempPath(suffix);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// A .npy v1 (or v2) file with the given header dict and raw data bytes.
std::string npyBytes(const std::string& dict, const std::string& data, int version = 1) {
  std::string header = dict;
  size_t pre = version == 1 ? 10 : 12;
  while ((pre + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(version);
  out += char(0);
  uint32_t len = uint32_t(header.size());
  for (size_t k = 0; k < (version == 1 ? 2u : 4u); ++k) out += char((len >> (8 * k)) & 0xff);
  return out + header + data;
}

template <class T> std::string raw(std::initializer_list<T> xs) {
  std::string s;
  for (T x : xs) s.append(reinterpret_cast<const char*>(&x), sizeof x);
  return s;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("nested JSON lists become tensors of the parameter's dtype", "[cli][json]") {
  Tensor t = tensorFromJson("A", arrayType(DType::F64, {"n", "d"}), json::parse("[[1, 2.5], [3, -4]]"));
  REQUIRE(t.shape() == std::vector<int64_t>{2, 2});
  CHECK(t.data<double>()[1] == 2.5);
  CHECK(t.data<double>()[3] == -4.0);

  Tensor i = tensorFromJson("y", arrayType(DType::I64, {"n"}), json::parse("[0, 2.0, 9007199254740993]"));
  CHECK(i.data<int64_t>()[1] == 2);
  CHECK(i.data<int64_t>()[2] == 9007199254740993LL);  // exact, not through double

  Tensor b = tensorFromJson("m", arrayType(DType::Bool, {"n"}), json::parse("[true, false]"));
  CHECK(b.data<uint8_t>()[0] == 1);
  CHECK(b.data<uint8_t>()[1] == 0);

  Tensor f = tensorFromJson("x", arrayType(DType::F32, {"3"}), json::parse("[0.1, \"inf\", 2]"));
  CHECK(f.data<float>()[0] == 0.1f);
  CHECK(std::isinf(f.data<float>()[1]));

  Tensor e = tensorFromJson("x", arrayType(DType::F64, {"n", "4"}), json::parse("[]"));
  CHECK(e.shape() == std::vector<int64_t>{0, 4});
}

TEST_CASE("malformed JSON arrays are input errors naming the parameter", "[cli][json]") {
  auto f64n = arrayType(DType::F64, {"n"});
  auto f64nd = arrayType(DType::F64, {"n", "d"});
  CHECK(errorOf([&] { tensorFromJson("A", f64nd, json::parse("[[1, 2], [3]]")); }) ==
        "argument 'A' (f64[n, d]): ragged list: A[1] has 1 elements, but A[0] has 2");
  CHECK(errorOf([&] { tensorFromJson("A", f64nd, json::parse("[[1, 2], 3]")); }) ==
        "argument 'A' (f64[n, d]): ragged list: A[1] is 3, expected a list of 2");
  CHECK(errorOf([&] { tensorFromJson("x", f64n, json::parse("[1, [2]]")); }) ==
        "argument 'x' (f64[n]): x[1] is a list, but the parameter has rank 1");
  CHECK(errorOf([&] { tensorFromJson("A", f64nd, json::parse("[1, 2]")); }) ==
        "argument 'A' (f64[n, d]): the list is nested 1 deep, but the parameter has rank 2");
  CHECK(errorOf([&] { tensorFromJson("x", f64n, json::parse("1.5")); })
            .find("expected a nested list of rank 1") != std::string::npos);
  CHECK(errorOf([&] { tensorFromJson("x", f64n, json::parse("[1, true]")); }) ==
        "argument 'x' (f64[n]): x[1] must be a number, got true");
  CHECK(errorOf([&] { tensorFromJson("y", arrayType(DType::I64, {"n"}), json::parse("[1, 1.5]")); }) ==
        "argument 'y' (i64[n]): y[1] must be an integer, got 1.5");
  CHECK(errorOf([&] { tensorFromJson("m", arrayType(DType::Bool, {"n"}), json::parse("[1]")); }) ==
        "argument 'm' (bool[n]): m[0] must be true or false, got 1");
}

TEST_CASE(".npy files: supported dtypes and conversions", "[cli][npy]") {
  auto f64 = arrayType(DType::F64, {"n", "d"});
  std::string p = writeFile(".npy", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                                             raw<double>({1, 2, 3, 4, 5, 6.5})));
  Tensor t = readNpy("A", f64, p);
  REQUIRE(t.shape() == std::vector<int64_t>{2, 3});
  CHECK(t.data<double>()[5] == 6.5);

  // f4 data into an f64 parameter (converted exactly), v2 header.
  p = writeFile(".npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                                 raw<float>({0.5f, 0.1f, -2}), 2));
  Tensor v = readNpy("x", arrayType(DType::F64, {"n"}), p);
  CHECK(v.data<double>()[1] == double(0.1f));

  p = writeFile(".npy", npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", raw<int64_t>({7, -3})));
  CHECK(readNpy("y", arrayType(DType::I64, {"n"}), p).data<int64_t>()[1] == -3);
  // f8 into i64: only integral values.
  p = writeFile(".npy", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", raw<double>({1, 2.5})));
  CHECK(errorOf([&] { readNpy("y", arrayType(DType::I64, {"n"}), p); })
            .find("element 1 (dtype '<f8') is 2.5, which is not an integer within the i64 range") != std::string::npos);

  p = writeFile(".npy", npyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", std::string("\1\0", 2)));
  Tensor b = readNpy("m", arrayType(DType::Bool, {"n"}), p);
  CHECK(b.data<uint8_t>()[0] == 1);
  CHECK(b.data<uint8_t>()[1] == 0);

  // A 0-d array for a scalar parameter.
  p = writeFile(".npy", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", raw<double>({3.25})));
  CHECK(readNpy("s", arrayType(DType::F64, {}), p).data<double>()[0] == 3.25);
}

TEST_CASE(".npy files: integer dtypes convert exactly or not at all", "[cli][npy]") {
  auto read = [](const std::string& descr, const std::string& data, int64_t n, DType to) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + std::to_string(n) + ",), }";
    return readNpy("x", arrayType(to, {"n"}), writeFile(".npy", npyBytes(dict, data)));
  };
  Tensor i4 = read("<i4", raw<int32_t>({-2147483647 - 1, 7}), 2, DType::I64);
  CHECK(i4.data<int64_t>()[0] == INT32_MIN);
  CHECK(i4.data<int64_t>()[1] == 7);
  Tensor i2 = read("<i2", raw<int16_t>({-32768, 300}), 2, DType::F32);
  CHECK(i2.data<float>()[0] == -32768.0f);
  CHECK(i2.data<float>()[1] == 300.0f);
  Tensor i1 = read("|i1", raw<int8_t>({-128, 127}), 2, DType::F64);
  CHECK(i1.data<double>()[0] == -128.0);
  Tensor u1 = read("|u1", raw<uint8_t>({255, 0}), 2, DType::I64);
  CHECK(u1.data<int64_t>()[0] == 255);  // unsigned, not -1
  CHECK(read("<i1", raw<int8_t>({-1}), 1, DType::I64).data<int64_t>()[0] == -1);  // any byte order mark
  // Into a float parameter only when the float holds the value exactly.
  Tensor big = read("<i8", raw<int64_t>({9007199254740992LL, int64_t(1) << 60, INT64_MIN}), 3, DType::F64);
  CHECK(big.data<double>()[1] == 1152921504606846976.0);
  CHECK(big.data<double>()[2] == -9223372036854775808.0);
  CHECK(errorOf([&] { read("<i8", raw<int64_t>({1, 9007199254740993LL}), 2, DType::F64); })
            .find("element 1 (dtype '<i8') is 9007199254740993, which f64 cannot hold exactly (it holds every "
                  "integer up to 2^53 in magnitude)") != std::string::npos);
  CHECK(errorOf([&] { read("<i8", raw<int64_t>({INT64_MAX}), 1, DType::F64); }).find("cannot hold exactly") !=
        std::string::npos);
  CHECK(read("<i4", raw<int32_t>({16777216}), 1, DType::F32).data<float>()[0] == 16777216.0f);
  CHECK(errorOf([&] { read("<i4", raw<int32_t>({16777217}), 1, DType::F32); })
            .find("element 0 (dtype '<i4') is 16777217, which f32 cannot hold exactly (it holds every integer up "
                  "to 2^24 in magnitude)") != std::string::npos);
  // f8 into f32 rounds; f4/f8 into i64 only integral values in range.
  CHECK(read("<f8", raw<double>({0.1}), 1, DType::F32).data<float>()[0] == 0.1f);
  CHECK(read("<f4", raw<float>({-3}), 1, DType::I64).data<int64_t>()[0] == -3);
  CHECK(errorOf([&] { read("<f8", raw<double>({9223372036854775808.0}), 1, DType::I64); })
            .find("is 9223372036854775808, which is not an integer within the i64 range") != std::string::npos);
  CHECK(errorOf([&] { read("<f8", raw<double>({NAN}), 1, DType::I64); }).find("is nan, which is not an integer") !=
        std::string::npos);
  // bool data only for bool parameters, and the other way round.
  CHECK(errorOf([&] { read("|b1", std::string("\1", 1), 1, DType::F64); })
            .find("dtype '|b1' data does not convert to the parameter f64[n] (bool data needs a bool parameter)") !=
        std::string::npos);
  CHECK(errorOf([&] { read("|u1", std::string("\1", 1), 1, DType::Bool); })
            .find("dtype '|u1' data does not convert to the parameter bool[n] (a bool parameter needs '|b1' data)") !=
        std::string::npos);
}

TEST_CASE(".npy files: every malformed file is an input error", "[cli][npy]") {
  auto f64 = arrayType(DType::F64, {"n"});
  auto err = [&](const std::string& bytes) { return errorOf([&] { readNpy("x", f64, writeFile(".npy", bytes)); }); };
  auto has = [](const std::string& msg, const std::string& part) {
    if (msg.find(part) == std::string::npos) WARN(msg);
    return msg.find(part) != std::string::npos;
  };
  CHECK(has(err("hello, not numpy"), "not a NumPy .npy file (bad magic)"));
  CHECK(has(err(npyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", raw<double>({1, 2}))),
            "Fortran-order arrays are not supported"));
  CHECK(has(err(npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", raw<double>({1, 2}))),
            "big-endian data ('>f8') is not supported"));
  CHECK(has(err(npyBytes("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", raw<uint16_t>({1, 2}))),
            "dtype '<u2' is not supported (supported: '<f8', '<f4', '<i8', '<i4', '<i2', '|i1', '|u1', '|b1')"));
  CHECK(has(err(npyBytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", raw<int32_t>({1, 2}))),
            "big-endian data ('>i4') is not supported; save it little-endian ('<i4')"));
  CHECK(has(err(npyBytes("{'descr': '|f8', 'fortran_order': False, 'shape': (2,), }", raw<double>({1, 2}))),
            "dtype '|f8' is not supported"));
  CHECK(has(err(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", raw<double>({1, 2}))),
            "truncated data: shape (3,) needs 24 bytes, the file has 16"));
  CHECK(has(err(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000,), }", raw<double>({1}))),
            "truncated data"));
  std::string huge2 = writeFile(".npy", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': "
                                                 "(4611686018427387904, 4611686018427387904), }", ""));
  CHECK(has(errorOf([&] { readNpy("A", arrayType(DType::F64, {"n", "d"}), huge2); }),
            "needs more than 2^64 bytes, the file has 0"));
  CHECK(has(err(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", raw<double>({1, 2}))),
            "8 unexpected bytes after the data"));
  CHECK(has(err(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", raw<double>({1, 2}))),
            "the array has rank 2 (shape (1, 2)), but the parameter f64[n] has rank 1"));
  CHECK(has(err(npyBytes("{'descr': '<f8', 'shape': (1,, }", raw<double>({1}))), "malformed .npy header"));
  CHECK(has(err(std::string("\x93NUMPY\1\0\xff\xff", 10)), "truncated .npy header"));
  CHECK(has(errorOf([&] { readNpy("x", f64, "/nonexistent/file.npy"); }), "cannot read file '/nonexistent/file.npy'"));
}

TEST_CASE("CSV files: header, rows, columns and errors", "[cli][csv]") {
  auto f64nd = arrayType(DType::F64, {"n", "d"});
  std::string p = writeFile(".csv", "3,2,a,b\n1.5,2\n3,4\n\n-1,0\n");
  Tensor t = readCsv("A", f64nd, p);
  REQUIRE(t.shape() == std::vector<int64_t>{3, 2});
  CHECK(t.data<double>()[0] == 1.5);
  CHECK(t.data<double>()[4] == -1.0);

  // Rank 1 from a single row or a single column (CRLF line ends).
  Tensor row = readCsv("x", arrayType(DType::F64, {"n"}), writeFile(".csv", "1, 2, 3\r\n"));
  CHECK(row.shape() == std::vector<int64_t>{3});
  Tensor col = readCsv("y", arrayType(DType::I64, {"n"}), writeFile(".csv", "label\n1\n2.0\n0\n"));
  REQUIRE(col.shape() == std::vector<int64_t>{3});
  CHECK(col.data<int64_t>()[1] == 2);

  auto err = [&](const TypeInfo& t, const std::string& text) { return errorOf([&] { readCsv("A", t, writeFile(".csv", text)); }); };
  CHECK(err(f64nd, "1,2\n3\n").find("line 2 has 1 fields, expected 2 (like line 1)") != std::string::npos);
  CHECK(err(f64nd, "1,2\n3,\n").find("line 2, column 2: empty field, expected a number") != std::string::npos);
  CHECK(err(f64nd, "1,2\n3,x\n").find("line 2, column 2: 'x' is not a number") != std::string::npos);
  CHECK(err(arrayType(DType::F64, {"n"}), "1,2\n3,4\n").find("needs a single row or a single column") !=
        std::string::npos);
  CHECK(err(arrayType(DType::I64, {"n"}), "1\n2.5\n").find("line 2, column 1: '2.5', but the parameter needs an integer") !=
        std::string::npos);
  CHECK(err(arrayType(DType::F64, {"a", "b", "c"}), "1\n").find("rank 1 or 2") != std::string::npos);
}

namespace {

// The values of a CSV file read for f64[n, d], row by row.
std::vector<std::vector<double>> csvRows(const std::string& text) {
  Tensor t = readCsv("A", arrayType(DType::F64, {"n", "d"}), writeFile(".csv", text));
  std::vector<std::vector<double>> rows(size_t(t.shape()[0]));
  for (int64_t i = 0; i < t.shape()[0]; ++i)
    for (int64_t j = 0; j < t.shape()[1]; ++j) rows[size_t(i)].push_back(t.data<double>()[i * t.shape()[1] + j]);
  return rows;
}

using Rows = std::vector<std::vector<double>>;

// The message of readCsv for f64[n, d] after "argument 'A': PATH: ".
std::string csvError(const std::string& text) {
  std::string msg = errorOf([&] { readCsv("A", arrayType(DType::F64, {"n", "d"}), writeFile(".csv", text)); });
  size_t k = msg.find(".csv: ");
  return k == std::string::npos ? msg : msg.substr(k + 6);
}

}  // namespace

TEST_CASE("CSV header: only a first line with a word and no number or another width", "[cli][csv]") {
  CHECK(csvRows("x1,x2\n1,2\n3,4\n") == Rows{{1, 2}, {3, 4}});
  CHECK(csvRows("569,30,malignant,benign\n1,2,3\n4,5,6\n") == Rows{{1, 2, 3}, {4, 5, 6}});
  CHECK(csvRows(",x1,x2\n0,1.5,2\n") == Rows{{0, 1.5, 2}});  // pandas' index column
  // The first line is data when it has a number and the data's width: a word
  // in it is an error, never a dropped row (the issue: `1,NA` was skipped).
  CHECK(csvError("1,NA\n3,4\n5,6\n") ==
        "line 1, column 2: 'NA' is not a number (a first line is a header only when it has no number, another "
        "field count than the data, or the counts N,D of its N lines of D features)");
  CHECK(csvError("150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n").rfind("line 1, column 3: 'setosa' is not a number", 0) == 0);
  CHECK(csvError("1,2\n3,NA\n") == "line 2, column 2: 'NA' is not a number");
  CHECK(csvError("1,2\n,4\n") == "line 2, column 1: empty field, expected a number");
  CHECK(csvError("1,2,\n") == "line 1, column 3: empty field, expected a number");
  CHECK(csvError("569,30\n1,2,3\n") == "line 2 has 3 fields, expected 2 (like line 1)");  // no word: data
  // Only the first line can be a header.
  CHECK(csvError("1,2\nx,y\n") == "line 2, column 1: 'x' is not a number");
  // A header alone: no rows, its width.
  Tensor empty = readCsv("A", arrayType(DType::F64, {"n", "d"}), writeFile(".csv", "a,b,c\n"));
  CHECK(empty.shape() == std::vector<int64_t>{0, 3});
}

TEST_CASE("CSV separators: one per file, detected from the data", "[cli][csv]") {
  CHECK(csvRows("1;2;3\n") == Rows{{1, 2, 3}});
  Tensor row = readCsv("x", arrayType(DType::F64, {"n"}), writeFile(".csv", "1;2;3\n"));
  CHECK(row.shape() == std::vector<int64_t>{3});
  CHECK(csvError("x;y\n1,5;2\n") == "line 2, column 2: ';' mixed with ',' in one line; a file uses one separator");
  CHECK(csvRows("1\t2\n3\t4\n") == Rows{{1, 2}, {3, 4}});
  CHECK(csvRows("  1  2   3\n4 5 6  \n") == Rows{{1, 2, 3}, {4, 5, 6}});  // runs of spaces
  CHECK(csvRows("1 , 2\n 3 ,\t4 \r\n") == Rows{{1, 2}, {3, 4}});  // blanks around fields are padding
  CHECK(csvError("1,2\t3\n") == "line 1, column 2: a tab mixed with ',' in one line; a file uses one separator");
  CHECK(csvRows("\xEF\xBB\xBF" "a,b\n1,2\n") == Rows{{1, 2}});            // a UTF-8 byte order mark
  CHECK(csvRows("sepal length,width\n1,2\n") == Rows{{1, 2}});
  CHECK(csvRows("label\n1\n2\n") == Rows{{1}, {2}});
  CHECK(csvError("1,2;3\n") == "line 1, column 2: ';' mixed with ',' in one line; a file uses one separator");
  CHECK(csvError("1;2\n3,4\n") == "line 1, column 1: ';', but the separator is ',' (from line 2); a file uses one separator");
  CHECK(csvError("1\t2\n3,4\n") == "line 1, column 1: a tab, but the separator is ',' (from line 2); a file uses one separator");
  CHECK(csvError("a b\n1 2\n3,4\n") == "line 3, column 1: ',', but the separator is spaces (from line 2); a file uses one separator");
  CHECK(csvError("1\n2\n3,4\n") == "line 3, column 1: ',', but line 2 is a single column; a file uses one separator");
  CHECK(csvError("1 2,3\n4,5\n").rfind("line 1, column 1: '1 2' is not a number", 0) == 0);
  CHECK(csvError("1\t\t2\n") == "line 1, column 2: empty field, expected a number");  // tabs do not run together
}

TEST_CASE("CSV numbers: nan, inf, exact integers; out of range is an error", "[cli][csv]") {
  Rows r = csvRows("nan,inf,-inf,+3,-Infinity,1e-400,.5,-0\n");
  REQUIRE(r.size() == 1);
  CHECK(std::isnan(r[0][0]));
  CHECK(r[0][1] == INFINITY);
  CHECK(r[0][2] == -INFINITY);
  CHECK(r[0][3] == 3.0);
  CHECK(r[0][4] == -INFINITY);
  CHECK(r[0][5] == 0.0);  // an underflow rounds, as in JSON
  CHECK(r[0][6] == 0.5);
  CHECK(std::signbit(r[0][7]));  // -0 keeps its sign in a float parameter
  CHECK(csvError("1,1e400\n") == "line 1, column 2: '1e400' is out of the f64 range");
  CHECK(csvError("-1e400\n") == "line 1, column 1: '-1e400' is out of the f64 range");
  CHECK(csvError("1,2\n0x10,3\n") == "line 2, column 1: '0x10' is not a number");
  CHECK(csvError("1,2\n1_0,3\n") == "line 2, column 1: '1_0' is not a number");
  Tensor big = readCsv("y", arrayType(DType::I64, {"n"}), writeFile(".csv", "9007199254740993\n-9223372036854775808\n"));
  CHECK(big.data<int64_t>()[0] == 9007199254740993LL);
  CHECK(big.data<int64_t>()[1] == INT64_MIN);
}

TEST_CASE("size names bind to shapes and must agree", "[cli][sizes]") {
  SizeBinder b;
  b.bind("A", arrayType(DType::F64, {"n", "d"}), {3, 2});
  b.bind("x", arrayType(DType::F64, {"d"}), {2});
  CHECK(b.sizes().at("n") == 3);
  CHECK(errorOf([&] { b.bind("y", arrayType(DType::F64, {"n"}), {4}); }) ==
        "argument 'y' axis 0 has size 4, but n = 3 from 'A' axis 0");
  CHECK(errorOf([&] { b.bind("w", arrayType(DType::F64, {"3", "d"}), {2, 2}); }) ==
        "argument 'w' axis 0 has size 2, but its type f64[3, d] requires 3");
}

TEST_CASE("allocations larger than the machine are refused", "[cli][memory]") {
  CHECK(errorOf([] { checkAllocation("x", {1000000000, 1000000000}, DType::F64); }).find("more memory than this machine has") !=
        std::string::npos);
  CHECK(errorOf([] { checkAllocation("x", {INT64_MAX, INT64_MAX, 2}, DType::F64); }) != "(no error)");
  CHECK(errorOf([] { checkAllocation("x", {0, INT64_MAX}, DType::F64); }) == "(no error)");
  CHECK(errorOf([] { checkAllocation("x", {100, 100}, DType::F64); }) == "(no error)");
}

TEST_CASE("tensors print as nested lists, JSON exactly", "[cli][output]") {
  Tensor m(DType::F64, {2, 2});
  double vals[] = {1, 0.1, -2.5, 1e-5};
  std::memcpy(m.data(), vals, sizeof vals);
  CHECK(toText(Value(m)) == "[[1.0, 0.1],\n [-2.5, 1e-05]]");
  CHECK(toText(Value(m), 4) == "[[1.0, 0.1],\n     [-2.5, 1e-05]]");
  CHECK(toJson(Value(m)).dump() == "[[1.0,0.1],[-2.5,1e-05]]");

  Tensor big(DType::I64, {2000});
  for (int64_t i = 0; i < 2000; ++i) big.data<int64_t>()[i] = i;
  CHECK(toText(Value(big)) == "[0, 1, 2, ..., 1997, 1998, 1999]");
  CHECK(toJson(Value(big)).size() == 2000);

  Tensor nan(DType::F32, {3});
  nan.data<float>()[0] = NAN, nan.data<float>()[1] = -INFINITY, nan.data<float>()[2] = 0.1f;
  CHECK(toJson(Value(nan)).dump() == "[\"nan\",\"-inf\",0.1]");
  Tensor b(DType::Bool, {2});
  b.data<uint8_t>()[1] = 1;
  CHECK(toJson(Value(b)).dump() == "[false,true]");
  CHECK(toText(Value(std::vector<Value>{Value(1.5), Value(m)})) == "(1.5, [[1.0, 0.1],\n       [-2.5, 1e-05]])");
}
