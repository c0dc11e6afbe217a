// The benchmark harness's view of one problem at one size (a "case"): the
// Chain model and function to call, the arguments (views over buffers the
// case owns), the C++ reference primal and gradient, and how many timing
// samples it deserves. problems*.cpp build the cases; harness.cpp checks,
// times and reports them.
#pragma once

#include <chain/chain.h>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace bench {

struct Case {
  std::string problem;             // "gmm"
  std::string size;                // "d=2 k=5 n=1000"
  std::string model;               // file under bench/models (written plainly)
  std::string tunedModel;          // its hand-tuned variant under bench/models/tuned, or ""
  std::string fn;                  // Chain function
  std::vector<std::string> wrt;    // gradient parameters, in the order refGradient writes them
  std::vector<chain::Value> args;  // the Chain function's arguments
  std::function<double()> refPrimal;
  // Returns the objective; writes the gradient flattened (wrt order).
  std::function<double(std::vector<double>&)> refGradient;
  int maxSamples = 11;             // timing samples at most (fewer for big sizes)
  // For the optional PyTorch reference: the problem's integer parameters
  // ("d=2 k=5 n=1000 ...") and the float arguments dumped in order.
  std::string torchParams;
  std::vector<const std::vector<double>*> torchInputs;
  std::shared_ptr<void> keep;      // owns the buffers the views point into
};

// Seeded generator shared by the problems: uniform values in [lo, hi).
class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  std::vector<double> uniform(size_t count, double lo, double hi);
  double uniform1(double lo, double hi);

 private:
  std::mt19937_64 rng_;
};

// A tensor view of a double buffer (no copy).
chain::Value view(std::vector<double>& data, std::vector<int64_t> shape);

// Cases per problem; `small` picks tiny sizes for the correctness test.
std::vector<Case> gmmCases(bool small);
std::vector<Case> lstmCases(bool small);
std::vector<Case> odeCases(bool small);
std::vector<Case> llsqCases(bool small);
std::vector<Case> lseCases(bool small);
std::vector<Case> mlpCases(bool small);

}  // namespace bench
