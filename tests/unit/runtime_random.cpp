// uniform / normal / mix through the whole pipeline (SPEC §4): the JIT at -O0
// and -O2 and the interpreter give the same bits as ir/Philox.h for f64 and
// f32 arrays of rank 1 to 3, for keys drawn per loop step with mix and for
// draws fused into a reduction; an element depends only on the key and its
// flat C-order index; a negative size is a runtime error in both backends,
// also when the draw is fused away; and the gradient of a model with
// normal() noise treats the noise as a constant.
#include <catch2/catch.hpp>

#include <chain/chain.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ir/Philox.h"

using chain::DType;
using chain::Tensor;
using chain::Value;
namespace ph = chain::philox;

namespace {

const char* kSource = R"(
fn u1(key: i64, n: i64) -> f64[n] { uniform(key, n) }
fn u3(key: i64, n: i64) -> f64[n, 3, 2] { uniform(key, n, 3, 2) }
fn n2(key: i64, n: i64) -> f64[n, 4] { normal(key, n, 4) }
fn uf(key: i64, n: i64) -> f32[n] { uniform(key, n, dtype=f32) }
fn nf(key: i64, n: i64) -> f32[2, n] { normal(key, 2, n, dtype=f32) }
fn keys(key: i64, n: i64) -> i64[n] { [mix(key, i) for i in 0..n] }
fn steps(key: i64, n: i64) -> f64[n] {
    var acc = zeros(n)
    for t in 0..3 { acc = acc * 0.5 + normal(mix(key, t), n) }
    acc
}
fn fused(key: i64, n: i64) -> f64 { sum(uniform(key, n) * normal(mix(key, 1), n)) }
)";

const int64_t kKeys[] = {0, -1, 42, std::numeric_limits<int64_t>::min(),
                         std::numeric_limits<int64_t>::max()};

chain::Module compile(chain::Backend backend, int opt) {
  chain::Options o;
  o.backend = backend;
  o.optLevel = opt;
  return chain::Jit(o).compile_string(kSource, "random.chain");
}

// Bitwise equality of two tensors (dtype, shape and every byte).
bool sameBits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  size_t bytes = size_t(a.numel()) * (a.dtype() == DType::F32 ? 4 : 8);
  return std::memcmp(a.data(), b.data(), bytes) == 0;
}

// The expected element k of each function, from the header.
double expected(const std::string& fn, int64_t key, int64_t k) {
  if (fn == "u1" || fn == "u3") return ph::uniform01(key, k);
  if (fn == "n2") return ph::normal01(key, k);
  if (fn == "uf") return ph::uniform01f(key, k);
  if (fn == "nf") return ph::normal01f(key, k);
  if (fn == "keys") return double(ph::mixKey(key, k));
  double acc = 0;  // steps
  for (int t = 0; t < 3; ++t) acc = acc * 0.5 + ph::normal01(ph::mixKey(key, t), k);
  return acc;
}

}  // namespace

TEST_CASE("random numbers: JIT (-O0, -O2) and interpreter give the header's bits", "[rng]") {
  chain::Module interp = compile(chain::Backend::Interpreter, 2);
  chain::Module o0 = compile(chain::Backend::Jit, 0);
  chain::Module o2 = compile(chain::Backend::Jit, 2);
  for (const char* fn : {"u1", "u3", "n2", "uf", "nf", "keys", "steps"}) {
    for (int64_t key : kKeys) {
      for (int64_t n : {0, 1, 7, 64}) {
        INFO(fn << "(" << key << ", " << n << ")");
        Value want = interp.function(fn)({key, n});
        const Tensor& w = want.tensor();
        CHECK(sameBits(o0.function(fn)({key, n}).tensor(), w));
        CHECK(sameBits(o2.function(fn)({key, n}).tensor(), w));
        int64_t bad = 0;
        for (int64_t k = 0; k < w.numel(); ++k) bad += w.at(k) == expected(fn, key, k) ? 0 : 1;
        CHECK(bad == 0);
      }
    }
  }
  // The i64 keys are exact (Tensor::at goes through double).
  const int64_t* k = o2.function("keys")({int64_t(42), int64_t(2)}).tensor().data<int64_t>();
  CHECK(k[0] == ph::mixKey(42, 0));
  CHECK(k[1] == ph::mixKey(42, 1));
}

TEST_CASE("random numbers: an element depends only on the key and its flat index", "[rng]") {
  chain::Module m = compile(chain::Backend::Jit, 2);
  Tensor flat = m.function("u1")({int64_t(9), int64_t(24)}).tensor();
  Tensor cube = m.function("u3")({int64_t(9), int64_t(4)}).tensor();  // [4, 3, 2]
  REQUIRE(cube.numel() == 24);
  CHECK(std::memcmp(flat.data(), cube.data(), 24 * sizeof(double)) == 0);
  Tensor shorter = m.function("u1")({int64_t(9), int64_t(5)}).tensor();
  CHECK(std::memcmp(flat.data(), shorter.data(), 5 * sizeof(double)) == 0);
}

TEST_CASE("random numbers: a draw fused into a reduction", "[rng]") {
  chain::Module interp = compile(chain::Backend::Interpreter, 2);
  chain::Module jit = compile(chain::Backend::Jit, 2);
  for (int64_t key : kKeys) {
    double want = 0;
    for (int64_t k = 0; k < 1000; ++k) want += ph::uniform01(key, k) * ph::normal01(ph::mixKey(key, 1), k);
    // Reductions may be summed in any order (SPEC §4): equal to rounding.
    double tol = 1e-12 * 1000;
    CHECK(std::fabs(jit.function("fused")({key, int64_t(1000)}).asDouble() - want) < tol);
    CHECK(std::fabs(interp.function("fused")({key, int64_t(1000)}).asDouble() - want) < tol);
  }
}

TEST_CASE("random numbers: a negative size is a runtime error in both backends", "[rng]") {
  for (chain::Backend backend : {chain::Backend::Jit, chain::Backend::Interpreter}) {
    chain::Module m = compile(backend, 2);
    for (const char* fn : {"u1", "n2", "nf", "fused"}) {
      INFO(fn);
      try {
        m.function(fn)({int64_t(1), int64_t(-3)});
        FAIL("no error");
      } catch (const chain::RuntimeError& e) {
        CHECK(std::string(e.what()).find("array size -3 is negative") != std::string::npos);
      }
    }
  }
}

TEST_CASE("random numbers: the gradient through normal() noise treats it as a constant", "[rng]") {
  // loss = sum((w z - 1)^2) with z = normal(key, n): d/dw = sum(2 (w z - 1) z).
  const char* src = "fn noisy(w: f64, key: i64, n: i64) -> f64 { sum((w * normal(key, n) - 1.0) ** 2) }";
  const double w = 0.75;
  const int64_t key = 5, n = 50;
  double want = 0;
  for (int64_t k = 0; k < n; ++k) {
    double z = ph::normal01(key, k);
    want += 2 * (w * z - 1) * z;
  }
  for (chain::Backend backend : {chain::Backend::Jit, chain::Backend::Interpreter}) {
    chain::Options o;
    o.backend = backend;
    chain::Module m = chain::Jit(o).compile_string(src, "noisy.chain");
    Value g = m.gradient("noisy")({w, key, n});
    CHECK(std::fabs(g.asDouble() - want) < 1e-12 * std::fabs(want));
  }
}
