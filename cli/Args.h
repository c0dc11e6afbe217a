// Turning `--args` into the argument list of a chain::Function (SPEC §7): a
// JSON object, inline or from `@file.json`, mapping parameter names to values,
// checked against Function::paramTypes(). Also the random arguments of
// `chain check` and the `--sizes n=10,d=3` syntax.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/chain.h"

namespace chain::cli {

// The `--args` objects merged into one, and for each key the folder that a
// relative "@path" value of it is taken from (the folder of the args file
// that gave the key, or the current folder for inline JSON).
struct ArgsSource {
  nlohmann::json object = nlohmann::json::object();
  std::map<std::string, std::string> baseDirs;  // key -> folder; "." when absent
  bool given = false;                           // false when no --args was passed
};

// Reads every `--args` in order: "@path" is a JSON file, anything else inline
// JSON; each must be an object. A later object's keys replace an earlier
// one's (a file of fitted parameters laid over the data). No specs -> no
// arguments. Throws chain::InputError (empty spec, unreadable file,
// malformed JSON, not an object) naming the file or the --args.
ArgsSource readArgs(const std::vector<std::string>& specs);

// The arguments in parameter order. Every parameter must be present and no
// other name; values must fit the parameter types, and arrays sharing a size
// name must agree on it. Throws chain::InputError.
std::vector<Value> bindArgs(const ArgsSource& src, const Function& fn);

// One value per parameter drawn from a fixed generator (splitmix64; documented
// in the README): floats uniform in [-1, 1), scalar i64 uniform in {1, ..., 5}
// (or the --sizes value of the same name), bools fair coin flips. Arrays take
// their shapes from `sizes` (literal dimensions as written; a missing size
// name is a chain::UsageError naming it), with elements drawn as above except
// i64 elements, uniform in {0, ..., m-1} where m is the smallest dimension of
// any array parameter, so that they are valid indices (class labels).
std::vector<Value> randomArgs(const Function& fn, const std::map<std::string, int64_t>& sizes,
                              uint64_t seed);

// splitmix64: a small, fully specified generator, so `--seed` gives the same
// random inputs (check) and shuffles (fit --batch) on every platform and
// standard library.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

// Parses "n=10,d=3". Throws chain::UsageError on malformed text.
std::map<std::string, int64_t> parseSizes(const std::string& text);

}  // namespace chain::cli
