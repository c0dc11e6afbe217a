// A driver for instruction-count profiles (valgrind --tool=callgrind) of one
// model: compiles MODEL once through the public API, then calls FN's primal
// or gradient N times on seeded random inputs. The per-call profile is the
// difference of two runs (N = 6 minus N = 1, divided by 5), which cancels
// compilation; bench/gaps.md quotes such numbers.
//
//   chain_profile MODEL FN prim|grad|jvp|hvp|jacobian|hessian N WRT ARG...
//   WRT: comma-separated parameters to differentiate, or - for all (jvp,
//   hvp, jacobian and hessian: one parameter; jvp and hvp get a random
//   direction shaped like it as their last argument)
//   ARG: v:N (random f64 vector), m:RxC (random f64 matrix), i:K (i64), f:X (f64)
// e.g. chain_profile bench/models/ode.chain ode_last grad 6 x v:10000 i:10
//
// Faster: `valgrind --tool=callgrind --instr-atstart=no chain_profile ...`
// instruments only the N calls (after one warm call, not counted): the
// total divided by N is the per-call count, and compilation runs
// uninstrumented (minutes faster for derived functions).
#include <chain/chain.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif
int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: chain_profile MODEL FN prim|grad|jvp|hvp|jacobian|hessian N WRT ARG...\n");
    return 2;
  }
  const char* path = argv[1];
  std::string fn = argv[2];
  std::string mode = argv[3];
  bool grad = mode != "prim";
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
  std::string p = wrt.empty() ? "" : wrt[0];
  chain::Function f = mode == "prim"       ? m.function(fn)
                      : mode == "jvp"      ? m.jvp(fn, wrt)
                      : mode == "hvp"      ? m.hvp(fn, p)
                      : mode == "jacobian" ? m.jacobian(fn, p)
                      : mode == "hessian"  ? m.hessian(fn, p)
                                           : m.gradient(fn, wrt);
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
  if (mode == "jvp" || mode == "hvp") {
    // The direction: a random value shaped like the parameter.
    const auto& names = m.function(fn).paramNames();
    size_t at = 0;
    while (at < names.size() && names[at] != p) ++at;
    chain::Value d = args.at(at);
    if (d.kind() == chain::Value::Kind::Tensor) {
      chain::Tensor t(chain::DType::F64, d.tensor().shape());
      for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = u(rng);
      d = chain::Value(t);
    } else {
      d = chain::Value(u(rng));
    }
    args.push_back(d);
  }
  double acc = 0;
  f(args);  // warm: with --instr-atstart=no, not counted
  CALLGRIND_START_INSTRUMENTATION;
  for (int i = 0; i < n; ++i) {
    chain::Value r = f(args);
    acc += grad ? 1.0 : r.asDouble();
  }
  CALLGRIND_STOP_INSTRUMENTATION;
  std::printf("%.17g\n", acc);
}
