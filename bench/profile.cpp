// A driver for instruction-count profiles (valgrind --tool=callgrind) of one
// model: compiles MODEL once through the public API, then calls FN's primal
// or gradient N times on seeded random inputs. The per-call profile is the
// difference of two runs (N = 6 minus N = 1, divided by 5), which cancels
// compilation; bench/gaps.md quotes such numbers.
//
//   chain_profile MODEL FN prim|grad N WRT ARG...
//   WRT: comma-separated parameters to differentiate, or - for all
//   ARG: v:N (random f64 vector), m:RxC (random f64 matrix), i:K (i64), f:X (f64)
// e.g. chain_profile bench/models/ode.chain ode_last grad 6 x v:10000 i:10
#include <chain/chain.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: chain_profile MODEL FN prim|grad N WRT ARG...\n");
    return 2;
  }
  const char* path = argv[1];
  std::string fn = argv[2];
  bool grad = std::strcmp(argv[3], "grad") == 0;
  int n = std::atoi(argv[4]);
  std::vector<std::string> wrt;
  if (std::strcmp(argv[5], "-") != 0) {
    std::stringstream ss(argv[5]);
    for (std::string w; std::getline(ss, w, ',');) wrt.push_back(w);
  }
  chain::Options o;
  o.boundsChecks = false;
  chain::Jit jit(o);
  chain::Module m = jit.compile_file(path);
  chain::Function f = grad ? m.gradient(fn, wrt) : m.function(fn);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<chain::Value> args;
  for (int a = 6; a < argc; ++a) {
    std::string s = argv[a];
    char kind = s[0];
    std::string rest = s.substr(2);
    if (kind == 'v' || kind == 'm') {
      int64_t r = std::atoll(rest.c_str()), c = 1;
      auto x = rest.find('x');
      if (x != std::string::npos) c = std::atoll(rest.c_str() + x + 1);
      std::vector<double> v(r * c);
      for (auto& e : v) e = u(rng);
      std::vector<int64_t> shape = kind == 'v' ? std::vector<int64_t>{r} : std::vector<int64_t>{r, c};
      args.push_back(chain::Tensor::fromValues(chain::DType::F64, shape, v));
    } else if (kind == 'i') {
      args.push_back(chain::Value(int64_t(std::atoll(rest.c_str()))));
    } else {
      args.push_back(chain::Value(std::atof(rest.c_str())));
    }
  }
  double acc = 0;
  for (int i = 0; i < n; ++i) {
    chain::Value r = f(args);
    acc += grad ? 1.0 : r.asDouble();
  }
  std::printf("%.17g\n", acc);
}
