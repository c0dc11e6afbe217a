// The example arrays of `chain fit --data X,y` (SPEC §7): which parameters
// hold the examples (axis 0 of each), their seeded split into training and
// validation examples (--validation F), the seeded shuffle of every epoch
// and the gathered rows of a minibatch (--batch B); plus the per-step record
// that --history writes as CSV and --plot draws as SVG.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/chain.h"
#include "cli/Commands.h"

namespace chain::cli {

struct ExampleData {
  std::vector<size_t> slots;        // parameter indices of the --data arrays
  std::vector<std::string> names;
  int64_t n = 0;                    // examples: axis 0 of every array
  std::vector<Value> full;          // the arrays as given
  std::vector<int64_t> train, valid;  // example indices (valid empty without --validation)
};

// Checks --data, --batch, --validation against the function and the bound
// arguments: every name a non-wrt array parameter (exit 2), axis 0 equal
// across them (exit 3 naming both), 0 < batch <= training examples, the
// split leaving examples on both sides; under mpirun at least one training
// example per rank (exit 3) and --batch at least the number of ranks (exit
// 2). Empty `slots` without --data.
ExampleData resolveData(const CliOptions& o, const Function& fn, const std::vector<Value>& args,
                        const std::vector<std::string>& wrt);

// The arrays restricted to the examples `rows`, in that order (copies).
std::vector<Value> gatherRows(const ExampleData& d, const std::vector<int64_t>& rows);

// This rank's contiguous share of `rows` (a batch, or every training example)
// under mpirun: entries [floor(r n / R), floor((r + 1) n / R)) of the list,
// r = mpi::rank(), R = mpi::size(), n = rows.size(); all of them on one rank.
std::vector<int64_t> rankShare(const std::vector<int64_t>& rows);

// The --data arrays restricted to `share`: d.full itself when the share is
// every example in order (one rank), else gatherRows.
std::vector<Value> shareArrays(const ExampleData& d, const std::vector<int64_t>& share);

// The factor of a share of `share` of `count` examples in the sum over the
// ranks: share / count for --combine mean (the default), 1 for sum.
double shareWeight(const CliOptions& o, size_t share, size_t count);

// A value's elements as doubles appended to `out` (a scalar is one), and the
// value shaped like `like` made from data[offset...] (advancing offset).
void appendFlat(const Value& v, std::vector<double>& out);
Value rebuild(const Value& like, const std::vector<double>& data, size_t& offset);

// `chain grad --data`: {value, gradient 1, ..., gradient k} of the
// value-and-gradient function `vg` at `args`, summed over the ranks' shares
// of the examples with their shareWeight (on one rank: vg at args).
std::vector<Value> valueAndGradsOfShares(const Function& vg, std::vector<Value> args, const ExampleData& d,
                                         const CliOptions& o, size_t k);

// A permutation of 0..n-1 drawn from `seed` (splitmix64, Fisher-Yates): the
// same on every machine.
std::vector<int64_t> permutation(int64_t n, uint64_t seed);

// One row of --history: NaN for "not measured" (validation off that step).
struct HistoryRow {
  int64_t step = 0, epoch = 0;
  double loss = 0, gradNorm = 0, validLoss = 0, seconds = 0;
};
void writeHistoryCsv(const std::string& path, const std::vector<HistoryRow>& rows);
// The training loss per step and the validation loss per epoch, log scale
// when every value is positive, with labelled axes and a legend.
void writeLossPlotSvg(const std::string& path, const std::vector<HistoryRow>& rows, const std::string& title);

}  // namespace chain::cli
