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

// The parsed `--args` object and the folder that relative "@path" values in
// it are taken from (the args file's folder, or the current folder).
struct ArgsSource {
  nlohmann::json object = nlohmann::json::object();
  std::string baseDir = ".";
  bool given = false;  // false when no --args was passed
};

// Reads `--args`: empty -> no arguments, "@path" -> a JSON file, anything
// else -> inline JSON. Throws chain::InputError (unreadable file, malformed
// JSON, not an object).
ArgsSource readArgs(const std::string& spec);

// The arguments in parameter order. Every parameter must be present and no
// other name; values must fit the parameter types. Throws chain::InputError.
std::vector<Value> bindArgs(const ArgsSource& src, const Function& fn);

// One value per parameter drawn from a fixed distribution (documented in the
// README): floats uniform in [-1, 1), i64 uniform in {1, ..., 5}, bools fair
// coin flips. `sizes` gives the array dimensions (arrays: not yet supported).
std::vector<Value> randomArgs(const Function& fn, const std::map<std::string, int64_t>& sizes,
                              uint64_t seed);

// Parses "n=10,d=3". Throws chain::UsageError on malformed text.
std::map<std::string, int64_t> parseSizes(const std::string& text);

}  // namespace chain::cli
