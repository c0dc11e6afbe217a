// Spelling suggestions for unknown names ("did you mean ...?", SPEC §7): the
// candidate closest to a misspelt name by edit distance, when it is close
// enough to be a likely typo.
#pragma once

#include <string>
#include <vector>

namespace chain::frontend {

// "; did you mean 'sigmoid'?" for the candidate closest to `name`, if it is
// at most a third of name's length away (names of three characters or more:
// any other name is one edit from a one-letter name), else "". The first of
// equally close candidates wins.
std::string didYouMean(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace chain::frontend
