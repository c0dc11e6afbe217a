// `--args` parsing for the command line. A JSON object (inline or from
// "@file.json") maps each parameter name to a value; several `--args` are
// merged key by key, a later one winning, and each key remembers the folder
// its relative "@path" values are taken from. The value is converted
// according to the parameter's TypeInfo: f64/f32 accept any JSON number (and
// the strings "nan", "inf", "-inf"), i64 accepts integers and integral floats,
// bool accepts true/false. Array parameters take nested lists, "@x.npy" or
// "@x.csv" (ArrayInput.h); any parameter may be given as "@file". The arrays'
// shapes bind the size names, which must agree between parameters. Every
// problem is a chain::InputError naming the parameter (exit status 3).
// randomArgs() draws the inputs of `chain check` from a fixed generator.
#include "cli/Args.h"

#include "cli/ArrayInput.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace chain::cli {
namespace {

std::string describeJson(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "a list";
    case nlohmann::json::value_t::object: return "an object";
    default: return "an unsupported JSON value";
  }
}

[[noreturn]] void badValue(const std::string& name, const TypeInfo& type, const std::string& want,
                           const nlohmann::json& got) {
  throw InputError("argument '" + name + "' (" + type.str() + "): expected " + want + ", got " +
                   describeJson(got) + " " + got.dump());
}

// Drops nlohmann's "[json.exception.parse_error.101] " prefix.
std::string jsonMessage(const std::exception& e) {
  std::string msg = e.what();
  size_t close = msg.find("] ");
  return msg.rfind("[json.exception", 0) == 0 && close != std::string::npos ? msg.substr(close + 2) : msg;
}

// A float parameter: any JSON number, or "nan" / "inf" / "-inf".
double toFloat(const std::string& name, const TypeInfo& type, const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    if (s == "nan") return NAN;
    if (s == "inf" || s == "+inf") return INFINITY;
    if (s == "-inf") return -INFINITY;
  }
  badValue(name, type, "a number", j);
}

// An i64 parameter: a JSON integer, or a float with an integral value.
int64_t toInt(const std::string& name, const TypeInfo& type, const nlohmann::json& j) {
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) badValue(name, type, "an integer that fits in i64", j);
    return static_cast<int64_t>(u);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_float()) {
    double d = j.get<double>();
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (std::isfinite(d) && d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
      return static_cast<int64_t>(d);
    badValue(name, type, "an integer (a float is accepted only when integral)", j);
  }
  badValue(name, type, "an integer", j);
}

bool endsWith(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  std::string tail = s.substr(s.size() - suffix.size());
  std::transform(tail.begin(), tail.end(), tail.begin(), [](unsigned char c) { return std::tolower(c); });
  return tail == suffix;
}

// "@path.npy" / "@path.csv": relative paths from the folder of the args file.
Tensor readFileArg(const std::string& name, const TypeInfo& type, const std::string& spec,
                   const std::string& baseDir) {
  std::string path = spec.substr(1);
  if (path.empty()) throw InputError("argument '" + name + "': \"@\" needs a file name");
  if (path[0] != '/' && baseDir != ".") path = baseDir + "/" + path;
  if (endsWith(path, ".npy")) return readNpy(name, type, path);
  if (endsWith(path, ".csv")) return readCsv(name, type, path);
  throw InputError("argument '" + name + "': '" + spec.substr(1) +
                   "' is neither a .npy nor a .csv file (the extension decides the format)");
}

bool isFileSpec(const nlohmann::json& j) {
  return j.is_string() && !j.get_ref<const std::string&>().empty() && j.get_ref<const std::string&>()[0] == '@';
}

// A scalar read from a file: the single element of a rank-0 tensor.
Value scalarFromTensor(const Tensor& t) {
  switch (t.dtype()) {
    case DType::F64: return Value(t.data<double>()[0]);
    case DType::F32: return Value(t.data<float>()[0]);
    case DType::I64: return Value(t.data<int64_t>()[0]);
    case DType::Bool: return Value(t.data<uint8_t>()[0] != 0);
  }
  return Value(0.0);
}

// An array parameter: nested lists, "@x.npy" or "@x.csv".
Value convertArray(const std::string& name, const TypeInfo& type, const nlohmann::json& j,
                   const std::string& baseDir) {
  if (isFileSpec(j)) return Value(readFileArg(name, type, j.get<std::string>(), baseDir));
  return Value(tensorFromJson(name, type, j));
}

Value convertValue(const std::string& name, const TypeInfo& type, const nlohmann::json& j,
                   const std::string& baseDir) {
  if (type.isTuple) throw InputError("argument '" + name + "' has tuple type " + type.str() + ", which cannot be passed");
  if (!type.dims.empty()) return convertArray(name, type, j, baseDir);
  if (isFileSpec(j)) return scalarFromTensor(readFileArg(name, type, j.get<std::string>(), baseDir));
  switch (type.dtype) {
    case DType::F64: return Value(toFloat(name, type, j));
    case DType::F32: return Value(static_cast<float>(toFloat(name, type, j)));
    case DType::I64: return Value(toInt(name, type, j));
    case DType::Bool:
      if (!j.is_boolean()) badValue(name, type, "true or false", j);
      return Value(j.get<bool>());
  }
  throw InputError("argument '" + name + "': unsupported type " + type.str());
}

std::string parentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// nlohmann's parser and destructor recurse once per nesting level: refuse
// absurdly deep input before parsing it, so no input can exhaust the stack.
void checkNesting(const std::string& text, const std::string& origin) {
  constexpr int kMaxDepth = 256;
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\') ++i;
      else if (c == '"') inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth)
        throw InputError("invalid JSON in " + origin + ": nested more than " + std::to_string(kMaxDepth) +
                         " levels deep");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

// One `--args`: "@path" -> the JSON file (its folder is the base of its
// relative "@path" values), anything else -> inline JSON.
struct ArgsObject {
  nlohmann::json object;
  std::string baseDir = ".";
};

ArgsObject readArgsObject(const std::string& spec) {
  if (spec.empty()) throw InputError("--args is empty: expected a JSON object or @file.json");
  ArgsObject one;
  std::string text = spec, origin = "--args";
  if (spec[0] == '@') {
    std::string path = spec.substr(1);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw InputError("arguments file '" + path + "' is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot read arguments file '" + path + "'");
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
    origin = path;
    one.baseDir = parentDir(path);
  }
  checkNesting(text, origin);
  try {
    one.object = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("invalid JSON in " + origin + ": " + jsonMessage(e));
  }
  if (!one.object.is_object())
    throw InputError(origin + " must be a JSON object mapping parameter names to values, got " +
                     describeJson(one.object));
  return one;
}

}  // namespace

ArgsSource readArgs(const std::vector<std::string>& specs) {
  ArgsSource src;
  for (const std::string& spec : specs) {
    ArgsObject one = readArgsObject(spec);
    for (auto it = one.object.begin(); it != one.object.end(); ++it) {
      src.object[it.key()] = std::move(it.value());
      src.baseDirs[it.key()] = one.baseDir;
    }
    src.given = true;
  }
  return src;
}

std::vector<Value> bindArgs(const ArgsSource& src, const Function& fn) {
  const auto& names = fn.paramNames();
  const auto& types = fn.paramTypes();
  std::set<std::string> known(names.begin(), names.end());
  for (auto it = src.object.begin(); it != src.object.end(); ++it)
    if (!known.count(it.key()))
      throw InputError("unknown argument '" + it.key() + "': function '" + fn.name() + "' has no such parameter");
  std::vector<Value> args;
  SizeBinder sizes;
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = src.object.find(names[i]);
    if (it == src.object.end())
      throw InputError("missing argument '" + names[i] + "' (" + types[i].str() + ") for function '" +
                       fn.name() + "'" + (src.given ? "" : "; pass it with --args"));
    auto dir = src.baseDirs.find(names[i]);
    args.push_back(convertValue(names[i], types[i], *it, dir == src.baseDirs.end() ? "." : dir->second));
    if (!types[i].dims.empty()) sizes.bind(names[i], types[i], args.back().tensor().shape());
  }
  return args;
}

namespace {

// The shape of array parameter i from --sizes; a missing size name is a
// usage error naming every size the function needs.
std::vector<int64_t> randomShape(const Function& fn, size_t i, const std::map<std::string, int64_t>& sizes) {
  std::vector<int64_t> shape;
  const TypeInfo& t = fn.paramTypes()[i];
  for (const auto& dim : t.dims) {
    if (isLiteralDim(dim)) {
      shape.push_back(std::stoll(dim));
      continue;
    }
    auto it = sizes.find(dim);
    if (it != sizes.end()) {
      shape.push_back(it->second);
      continue;
    }
    std::set<std::string> all;
    for (const auto& pt : fn.paramTypes())
      for (const auto& d : pt.dims)
        if (!isLiteralDim(d)) all.insert(d);
    std::string list;
    for (const auto& d : all) list += (list.empty() ? "" : ",") + d + "=" + (sizes.count(d) ? std::to_string(sizes.at(d)) : "?");
    throw UsageError("--sizes: no value for size '" + dim + "' of parameter '" + fn.paramNames()[i] + "' (" +
                     t.str() + "); random inputs need every size: --sizes " + list);
  }
  return shape;
}

}  // namespace

std::vector<Value> randomArgs(const Function& fn, const std::map<std::string, int64_t>& sizes,
                              uint64_t seed) {
  Rng rng{seed};
  const auto& names = fn.paramNames();
  const auto& types = fn.paramTypes();
  // Shapes first (usage errors before any drawing), and the smallest array
  // dimension: i64 array elements are drawn in [0, that), valid indices.
  std::vector<std::vector<int64_t>> shapes(names.size());
  int64_t smallest = -1;
  for (size_t i = 0; i < names.size(); ++i) {
    if (types[i].isTuple)
      throw InputError("argument '" + names[i] + "' has tuple type " + types[i].str() + ", which cannot be passed");
    if (types[i].dims.empty()) continue;
    shapes[i] = randomShape(fn, i, sizes);
    checkAllocation(names[i], shapes[i], types[i].dtype);
    for (int64_t d : shapes[i]) smallest = smallest < 0 ? d : std::min(smallest, d);
  }
  std::vector<Value> args;
  for (size_t i = 0; i < names.size(); ++i) {
    const TypeInfo& t = types[i];
    if (t.dims.empty()) {
      auto named = sizes.find(names[i]);  // an i64 parameter named like a size takes its value
      switch (t.dtype) {
        case DType::F64: args.emplace_back(2 * rng.uniform() - 1); break;
        case DType::F32: args.emplace_back(static_cast<float>(2 * rng.uniform() - 1)); break;
        case DType::I64:
          args.emplace_back(named != sizes.end() ? named->second : static_cast<int64_t>(1 + rng.next() % 5));
          break;
        case DType::Bool: args.emplace_back((rng.next() & 1) != 0); break;
      }
      continue;
    }
    Tensor x(t.dtype, shapes[i]);
    for (int64_t k = 0; k < x.numel(); ++k) {
      switch (t.dtype) {
        case DType::F64: x.data<double>()[k] = 2 * rng.uniform() - 1; break;
        case DType::F32: x.data<float>()[k] = static_cast<float>(2 * rng.uniform() - 1); break;
        case DType::I64: x.data<int64_t>()[k] = smallest > 0 ? int64_t(rng.next() % uint64_t(smallest)) : 0; break;
        case DType::Bool: x.data<uint8_t>()[k] = (rng.next() & 1) != 0; break;
      }
    }
    args.emplace_back(x);
  }
  return args;
}

std::map<std::string, int64_t> parseSizes(const std::string& text) {
  std::map<std::string, int64_t> sizes;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t eq = item.find('=');
    std::string name = item.substr(0, eq);
    bool okName = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
    for (char c : name) okName = okName && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    std::string num = eq == std::string::npos ? "" : item.substr(eq + 1);
    bool okNum = !num.empty() && num.size() < 12 && num.find_first_not_of("0123456789") == std::string::npos;
    if (!okName || !okNum)
      throw UsageError("--sizes: expected NAME=COUNT[,NAME=COUNT...] (e.g. n=10,d=3), got '" + item + "'");
    sizes[name] = std::stoll(num);
  }
  return sizes;
}

}  // namespace chain::cli
