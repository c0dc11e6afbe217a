// Printing chain::Value for the command line: readable text for a terminal and
// JSON for scripts (SPEC §7: scalars are numbers, arrays nested lists, tuples
// lists, NaN and infinities the strings "nan", "inf", "-inf").
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/chain.h"

namespace chain::cli {

// How float zeros print: values keep IEEE's sign (`run` prints -0.0);
// gradients print every zero as 0.0 (see Output.cpp).
enum class Zeros { Signed, Unsigned };

// The shortest decimal text that reads back as the same number ("0.1", "2.0",
// "nan", "inf", "-inf"); f32 values use the shortest text that reads back as
// the same float.
std::string formatNumber(double v, bool isF32 = false);

// JSON form of a value: numbers, nested lists, tuples as lists.
nlohmann::ordered_json toJson(const Value& v, Zeros zeros = Zeros::Signed);
// A double as JSON: a number, or "nan" / "inf" / "-inf".
nlohmann::ordered_json numberToJson(double v, bool isF32 = false);

// Readable text: 1.5, true, [1.0, 2.0], (1.5, [1.0]). Arrays of rank >= 2
// print one row per line, continuation lines indented to column `indent` + 1
// (pass the column where the text starts); arrays of more than 1000 elements
// show the first and last 3 entries of each longer axis around "...".
std::string toText(const Value& v, size_t indent = 0, Zeros zeros = Zeros::Signed);

// The `--json` form of a failure (SPEC §7): {"error": {"exit": N,
// "message": M, "diagnostics": [{"file": F, "line": L, "col": C,
// "message": M}, ...]}}.
nlohmann::ordered_json errorToJson(int exit, const std::string& message,
                                   const std::vector<CompileError::Diagnostic>& diagnostics);

}  // namespace chain::cli
