// The interpreter backend of the public API (Options::backend =
// Backend::Interpreter, Function::interpret): it must agree with the JIT on
// every example model with its example arguments (primal and gradient), on
// scalar, array, tuple, i64, bool and f32 results, and raise the same error
// classes with the same messages (index out of bounds, integer division by
// zero, shape mismatch, memory exhaustion). Also: a runtime error leaves the
// module usable, and impossible tensor shapes are input errors.
#include <catch2/catch.hpp>

#include <chain/chain.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

using chain::Backend;
using chain::DType;
using chain::Tensor;
using chain::Value;

namespace {

// The repository's examples folder, absolute (CMake's CHAIN_SOURCE_DIR):
// __FILE__ may be relative (ccache's base_dir rewrites it), and ctest runs
// the tests from build/tests.
const std::string kExamples = std::string(CHAIN_SOURCE_DIR) + "/examples/";

chain::Options interpOptions() {
  chain::Options o;
  o.backend = Backend::Interpreter;
  return o;
}

// A numeric CSV file (a non-numeric first line is a header) as rows.
std::vector<std::vector<double>> readCsv(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::vector<std::vector<double>> rows;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream ss(line);
    std::string cell;
    bool numeric = true;
    while (std::getline(ss, cell, ',')) {
      char* end = nullptr;
      double v = std::strtod(cell.c_str(), &end);
      if (end == cell.c_str()) numeric = false;
      row.push_back(v);
    }
    if (first && !numeric) {
      first = false;
      continue;
    }
    first = false;
    rows.push_back(row);
  }
  return rows;
}

// One JSON argument as a Value of parameter type `t` (arrays: nested lists or "@file.csv").
Value toValue(const nlohmann::json& j, const chain::TypeInfo& t) {
  if (t.dims.empty()) {
    if (t.dtype == DType::I64) return Value(j.get<int64_t>());
    if (t.dtype == DType::Bool) return Value(j.get<bool>());
    return Value(j.get<double>());
  }
  std::vector<double> flat;
  std::vector<int64_t> shape;
  if (j.is_string()) {
    auto rows = readCsv(kExamples + j.get<std::string>().substr(1));
    shape = {int64_t(rows.size())};
    if (t.dims.size() == 2) shape.push_back(int64_t(rows.at(0).size()));
    for (auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  } else {
    const nlohmann::json* level = &j;
    for (size_t a = 0; a < t.dims.size(); ++a) {
      shape.push_back(int64_t(level->size()));
      if (!level->empty()) level = &(*level)[0];
    }
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& x) {
      if (x.is_array())
        for (auto& e : x) walk(e);
      else
        flat.push_back(x.get<double>());
    };
    walk(j);
  }
  return Value(Tensor::fromValues(t.dtype, shape, flat));
}

std::vector<Value> exampleArgs(const chain::Function& f, const std::string& jsonFile) {
  std::ifstream in(kExamples + jsonFile);
  REQUIRE(in);
  nlohmann::json j = nlohmann::json::parse(in);
  std::vector<Value> args;
  for (size_t i = 0; i < f.paramNames().size(); ++i) args.push_back(toValue(j.at(f.paramNames()[i]), f.paramTypes()[i]));
  return args;
}

// JIT and interpreter results agree: same structure, kinds, shapes, and
// values to rounding (reductions may be summed in another order).
void requireSame(const Value& jit, const Value& ref, const std::string& where) {
  INFO(where);
  REQUIRE(jit.kind() == ref.kind());
  if (jit.kind() == Value::Kind::Tuple) {
    REQUIRE(jit.tuple().size() == ref.tuple().size());
    for (size_t i = 0; i < jit.tuple().size(); ++i)
      requireSame(jit.tuple()[i], ref.tuple()[i], where + "." + std::to_string(i));
    return;
  }
  auto close = [](double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return a == b || std::fabs(a - b) <= 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)});
  };
  if (jit.kind() != Value::Kind::Tensor) {
    INFO(jit.str() << " vs " << ref.str());
    CHECK(close(jit.asDouble(), ref.asDouble()));
    return;
  }
  const Tensor &a = jit.tensor(), &b = ref.tensor();
  REQUIRE(a.dtype() == b.dtype());
  REQUIRE(a.shape() == b.shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < a.numel(); ++i) bad += close(a.at(i), b.at(i)) ? 0 : 1;
  CHECK(bad == 0);
}

struct Example {
  const char* model;
  const char* fn;  // "" = the last function
  const char* args;
  bool grad = true;  // false: the function cannot be differentiated (nested grad)
};

}  // namespace

TEST_CASE("interpreter: equals the JIT on every example model (value and gradient)", "[interp]") {
  const Example examples[] = {
      {"quickstart.chain", "loss", "quickstart.json"},
      {"quickstart.chain", "calibrate", "quickstart.json", false},
      {"linear_regression.chain", "loss", "linear_regression.json"},
      {"linear_regression.chain", "predict", "linear_regression.json"},
      {"linear_regression.chain", "loss", "linear_regression_csv.json"},
      {"gmm.chain", "gmm_objective", "gmm.json"},
      {"lstm.chain", "lstm_objective", "lstm.json"},
      {"softmax_iris.chain", "loss", "softmax_iris.json"},
      {"softmax_iris.chain", "scores", "softmax_iris.json"},
      {"mlp_digits.chain", "loss", "mlp_digits.json"},
  };
  for (const Example& ex : examples) {
    std::string where = std::string(ex.model) + " " + ex.fn;
    chain::Module jm = chain::Jit().compile_file(kExamples + ex.model);
    chain::Module im = chain::Jit(interpOptions()).compile_file(kExamples + ex.model);
    chain::Function jf = jm.function(ex.fn), itf = im.function(ex.fn);
    std::vector<Value> args = exampleArgs(jf, ex.args);
    Value expect = jf(args);
    requireSame(expect, itf(args), where + " (backend)");
    requireSame(expect, jf.interpret(args), where + " (Function::interpret)");
    if (ex.grad && jf.resultType().dims.empty() && !jf.resultType().isTuple) {
      Value g = jm.gradient(ex.fn, {}, true)(args);
      requireSame(g, im.gradient(ex.fn, {}, true)(args), where + " gradient");
    }
  }
}

TEST_CASE("interpreter: scalar, array, tuple, integer, bool and f32 results", "[interp]") {
  const char* src = R"(
fn scal(x: f64, n: i64) -> f64 { var s = 0.0; for i in 0..n { s += x * f64(i) }; s }
fn arr(x: f64[n]) -> f64[n, 2] { [x[i] * f64(j + 1) for i in 0..n, j in 0..2] }
fn tup(x: f64[n]) -> (f64, f64[n]) { (sum(x), x * 2.0) }
fn ints(a: i64, b: i64) -> i64 { a / b + a % b }
fn flag(x: f64) -> bool { x > 1.0 }
fn single(x: f32) -> f32 { x * 3.0 + f32(0.1) }
fn imat(n: i64) -> i64[n] { [i * i for i in 0..n] }
)";
  chain::Module jm = chain::Jit().compile_string(src, "t.chain");
  chain::Module im = chain::Jit(interpOptions()).compile_string(src, "t.chain");
  Value x = Value(Tensor::fromValues(DType::F64, {3}, {0.5, -1.5, 2.0}));
  struct Case {
    const char* fn;
    std::vector<Value> args;
  };
  std::vector<Case> cases = {{"scal", {1.5, int64_t(4)}}, {"arr", {x}},  {"tup", {x}},
                             {"ints", {int64_t(-7), int64_t(2)}}, {"flag", {2.0}}, {"single", {1.25f}},
                             {"imat", {int64_t(4)}}};
  for (const Case& c : cases) requireSame(jm.function(c.fn)(c.args), im.function(c.fn)(c.args), c.fn);
  CHECK(im.function("scal")({1.5, int64_t(4)}).asDouble() == 9.0);
  CHECK(im.function("ints")({int64_t(-7), int64_t(2)}).asInt() == -4);
  CHECK(im.function("flag")({2.0}).kind() == Value::Kind::Bool);
  CHECK(im.function("single")({1.25f}).kind() == Value::Kind::F32);
  Value t = im.function("tup")({x});
  REQUIRE(t.kind() == Value::Kind::Tuple);
  CHECK(t.tuple()[0].asDouble() == 1.0);
  CHECK(t.tuple()[1].tensor().at(1) == -3.0);
  Value a = im.function("arr")({x});
  CHECK(a.tensor().shape() == std::vector<int64_t>{3, 2});
  CHECK(a.tensor().at(3) == -3.0);
  CHECK(im.function("imat")({int64_t(4)}).tensor().dtype() == DType::I64);
  // Gradients through the interpreter: d/dx sum(x * x) = 2x.
  chain::Module g = chain::Jit(interpOptions()).compile_string("fn f(x: f64[n]) -> f64 { sum(x * x) }");
  Value gx = g.gradient("f")({x});
  CHECK(gx.tensor().at(0) == 1.0);
  CHECK(gx.tensor().at(1) == -3.0);
}

TEST_CASE("interpreter: NaN and infinities in inputs are values, computed per IEEE", "[interp]") {
  const char* src = "fn f(x: f64[n]) -> f64 { sum(x) }\nfn g(x: f64) -> f64 { max(x, 0.0) * 2.0 }";
  chain::Module jm = chain::Jit().compile_string(src);
  chain::Module im = chain::Jit(interpOptions()).compile_string(src);
  double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  Value withInf = Value(Tensor::fromValues(DType::F64, {2}, {1.0, inf}));
  Value withNan = Value(Tensor::fromValues(DType::F64, {2}, {nan, 1.0}));
  CHECK(jm.function("f")({withInf}).asDouble() == inf);
  CHECK(im.function("f")({withInf}).asDouble() == inf);
  CHECK(std::isnan(jm.function("f")({withNan}).asDouble()));
  CHECK(std::isnan(im.function("f")({withNan}).asDouble()));
  CHECK(jm.function("g")({-inf}).asDouble() == 0.0);
  CHECK(im.function("g")({-inf}).asDouble() == 0.0);
}

// Runs fn on both backends, requires an exception of class E from each, and
// returns the two messages.
template <class E>
std::pair<std::string, std::string> bothThrow(const chain::Module& jm, const chain::Module& im, const char* fn,
                                              const std::vector<Value>& args) {
  std::string a, b;
  try {
    jm.function(fn)(args);
  } catch (const E& e) {
    a = e.what();
  }
  try {
    im.function(fn)(args);
  } catch (const E& e) {
    b = e.what();
  }
  INFO(fn << ": JIT '" << a << "', interpreter '" << b << "'");
  CHECK(!a.empty());
  CHECK(!b.empty());
  return {a, b};
}

TEST_CASE("interpreter: the same error classes and messages as the JIT", "[interp]") {
  const char* src = R"(
fn at(x: f64[n], i: i64) -> f64 { x[i] }
fn idiv(a: i64, b: i64) -> i64 { a / b }
fn pair(x: f64[n], y: f64[n]) -> f64 { sum(x * y) }
fn big(n: i64) -> f64[n] { fill(1.0, n) }
fn comp(n: i64) -> f64[n] { [f64(i) for i in 0..n] }
)";
  chain::Module jm = chain::Jit().compile_string(src, "err.chain");
  chain::Module im = chain::Jit(interpOptions()).compile_string(src, "err.chain");
  Value x = Value(Tensor::fromValues(DType::F64, {3}, {1, 2, 3}));
  Value y = Value(Tensor::fromValues(DType::F64, {2}, {1, 2}));
  auto oob = bothThrow<chain::RuntimeError>(jm, im, "at", {x, int64_t(5)});
  CHECK(oob.first == oob.second);
  CHECK(oob.second.find("err.chain:2:") == 0);
  CHECK(oob.second.find("index 5 is out of bounds for axis 0 of size 3") != std::string::npos);
  auto div = bothThrow<chain::RuntimeError>(jm, im, "idiv", {int64_t(7), int64_t(0)});
  CHECK(div.first == div.second);
  CHECK(div.second.find("division by zero") != std::string::npos);
  auto shape = bothThrow<chain::InputError>(jm, im, "pair", {x, y});
  CHECK(shape.first == shape.second);
  auto count = bothThrow<chain::InputError>(jm, im, "pair", {x});
  CHECK(count.first == count.second);
  auto type = bothThrow<chain::InputError>(jm, im, "at", {x, 1.5});
  CHECK(type.first == type.second);
  // Results that need more memory than any machine has: RuntimeError "out of memory".
  for (const char* fn : {"big", "comp"}) {
    auto mem = bothThrow<chain::RuntimeError>(jm, im, fn, {int64_t(1000000000000000)});
    CHECK(mem.first.find("out of memory") != std::string::npos);
    CHECK(mem.second.find("out of memory") != std::string::npos);
  }
  // The interpreter has no NaN check: asking for both is a usage error.
  chain::Options o = interpOptions();
  o.nanCheck = true;
  CHECK_THROWS_AS(chain::Jit(o), chain::UsageError);
}

TEST_CASE("a runtime error leaves the Jit and its modules usable", "[interp][api]") {
  for (Backend backend : {Backend::Jit, Backend::Interpreter}) {
    chain::Options o;
    o.backend = backend;
    chain::Jit jit(o);
    chain::Module m = jit.compile_string(
        "fn at(x: f64[n], i: i64) -> f64 { x[i] * 2.0 }\nfn total(x: f64[n]) -> f64 { sum(x) }", "m.chain");
    chain::Function at = m.function("at");
    Value x = Value(Tensor::fromValues(DType::F64, {3}, {1, 2, 3}));
    CHECK_THROWS_AS(at({x, int64_t(3)}), chain::RuntimeError);
    CHECK_THROWS_AS(m.gradient("at", {"x"})({x, int64_t(-1)}), chain::RuntimeError);
    CHECK(at({x, int64_t(2)}).asDouble() == 6.0);
    CHECK(m.function("total")({x}).asDouble() == 6.0);
    CHECK(m.gradient("at", {"x"})({x, int64_t(1)}).tensor().at(1) == 2.0);
    chain::Module m2 = jit.compile_string("fn h(a: f64) -> f64 { a + 1.0 }");
    CHECK(m2.function("h")({1.0}).asDouble() == 2.0);
  }
}

TEST_CASE("tensors with impossible shapes are input errors, not crashes", "[interp][api]") {
  CHECK_THROWS_AS(Tensor(DType::F64, {-1}), chain::InputError);
  CHECK_THROWS_AS(Tensor(DType::F64, {int64_t(1) << 40, int64_t(1) << 40}), chain::InputError);
  CHECK_THROWS_AS(Tensor::zeros<double>({int64_t(1) << 62}), chain::InputError);
  CHECK(Tensor(DType::F64, {0, 5}).numel() == 0);
  chain::Module m = chain::Jit().compile_string("fn f(x: f64[n]) -> f64 { sum(x) }");
  double one = 1.0;
  // A view claiming a shape its memory cannot have.
  Value liar = Value(Tensor::view(DType::F64, {int64_t(1) << 62}, &one));
  CHECK_THROWS_AS(m.function("f")({liar}), chain::InputError);
  CHECK_THROWS_AS(m.function("f").interpret({liar}), chain::InputError);
  Value negative = Value(Tensor::view(DType::F64, {-4}, &one));
  CHECK_THROWS_AS(m.function("f")({negative}), chain::InputError);
}
