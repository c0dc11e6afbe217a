// Unit tests of the random number generator (ir/Philox.h): Philox-4x32 against
// Random123's published known-answer vectors (its tests/kat_vectors, 10 and
// 7 rounds), the counter layout pinned by values from an independent Python
// implementation of the same layout, the ranges, the moments of 10^6
// uniform and normal draws, rough independence (neighbours, streams of
// mix(k, 0) and mix(k, 1), uniform vs normal of one key), and the accuracy
// of the header's own log and cos against long double.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "ir/Philox.h"

namespace ph = chain::philox;

namespace {

constexpr int64_t kDraws = 1000000;

struct Moments {
  double mean = 0, var = 0, m4 = 0;  // central moments
};

Moments moments(const std::function<double(int64_t)>& draw) {
  std::vector<double> x(kDraws);
  Moments m;
  for (int64_t k = 0; k < kDraws; ++k) m.mean += (x[size_t(k)] = draw(k));
  m.mean /= kDraws;
  for (double v : x) {
    double d = (v - m.mean) * (v - m.mean);
    m.var += d;
    m.m4 += d * d;
  }
  m.var /= kDraws;
  m.m4 /= kDraws;
  return m;
}

// Pearson correlation of a(k) and b(k) over kDraws indices.
double correlation(const std::function<double(int64_t)>& a, const std::function<double(int64_t)>& b) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (int64_t k = 0; k < kDraws; ++k) {
    double x = a(k), y = b(k);
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
  }
  double n = kDraws;
  return (sab / n - sa / n * sb / n) /
         std::sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
}

}  // namespace

TEST_CASE("philox4x32: Random123's known-answer vectors", "[philox]") {
  struct Kat {
    ph::Counter ctr;
    ph::Key key;
    ph::Counter r10, r7;
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0},
       {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
       {0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
       {0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
       {0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a}},
  };
  for (const Kat& k : kats) {
    CHECK(ph::philox4x32_10(k.ctr, k.key) == k.r10);
    CHECK(ph::philox4x32<7>(k.ctr, k.key) == k.r7);
  }
}

TEST_CASE("philox: the counter layout gives the pinned values", "[philox]") {
  // From an independent Python implementation of the layout of ir/Philox.h
  // (integer arithmetic: exact); normal's from Python's math.log / math.cos
  // agree to within 3 ulp, and its bits here are pinned.
  const double u[] = {0.6389119341824866, 0.7797363215176012, 0.9809248663982245,
                      0.736312088822271,  0.9588564714819421, 0.2182938846936665};
  for (int k = 0; k < 6; ++k) CHECK(ph::uniform01(42, k) == u[k]);
  const float uf[] = {0.6389119029045105f, 0.7797362804412842f, 0.9809248447418213f,
                      0.7363120317459106f};
  for (int k = 0; k < 4; ++k) CHECK(ph::uniform01f(42, k) == uf[k]);
  const double python[] = {-0.6345872249233062, -2.4251579781031274, 0.20897211469018967,
                           0.1602948653350547};
  const double pinned[] = {-0.63458722492330566, -2.4251579781031274, 0.20897211469018978,
                           0.1602948653350546};
  for (int k = 0; k < 4; ++k) {
    CHECK(ph::normal01(42, k) == pinned[k]);
    CHECK(std::fabs(ph::normal01(42, k) - python[k]) <= 1e-15 * std::fabs(python[k]));
  }
  CHECK(ph::mixKey(42, 0) == -4554240686959907201);
  CHECK(ph::mixKey(42, 1) == 5429916007487830423);
  CHECK(ph::mixKey(-1, -1) == 8701114362588804069);
  CHECK(ph::mixKey(0, 7) == -2334628027347416874);
  CHECK(ph::uniform01(ph::mixKey(42, 7), 0) == 0.7980457988330171);
  CHECK(ph::normal01f(ph::mixKey(42, 7), 0) == -1.2824792861938477f);
}

TEST_CASE("philox: ranges, and f32 uniform is f64 uniform rounded down", "[philox]") {
  for (int64_t k = 0; k < 100000; ++k) {
    double u = ph::uniform01(3, k);
    float f = ph::uniform01f(3, k);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    REQUIRE(f >= 0.0f);
    REQUIRE(f < 1.0f);
    REQUIRE(double(f) == std::floor(u * 16777216.0) / 16777216.0);
    double z = ph::normal01(3, k);
    REQUIRE(std::fabs(z) <= 8.58);
    REQUIRE(ph::normal01f(3, k) == float(z));
  }
  // Negative keys and indices are just other bits.
  CHECK(ph::uniform01(-5, -1) != ph::uniform01(-5, 0));
  CHECK(ph::uniform01(-5, -1) >= 0.0);
}

TEST_CASE("philox: moments of 10^6 uniform and normal draws", "[philox]") {
  // Standard errors for n = 10^6: uniform mean 2.9e-4, variance 7.5e-5;
  // normal mean 1e-3, variance 1.4e-3, fourth moment (3) 9.8e-3. Checked
  // within 5 of them.
  Moments u = moments([](int64_t k) { return ph::uniform01(20240601, k); });
  CHECK(std::fabs(u.mean - 0.5) < 5 * 2.9e-4);
  CHECK(std::fabs(u.var - 1.0 / 12) < 5 * 7.5e-5);
  Moments f = moments([](int64_t k) { return double(ph::uniform01f(20240601, k)); });
  CHECK(std::fabs(f.mean - 0.5) < 5 * 2.9e-4);
  Moments z = moments([](int64_t k) { return ph::normal01(20240601, k); });
  CHECK(std::fabs(z.mean) < 5 * 1e-3);
  CHECK(std::fabs(z.var - 1.0) < 5 * 1.4e-3);
  CHECK(std::fabs(z.m4 - 3.0) < 5 * 9.8e-3);
  // 100 equal bins of the uniforms: chi-square with 99 degrees of freedom
  // (mean 99, standard deviation 14).
  std::vector<double> bins(100, 0.0);
  for (int64_t k = 0; k < kDraws; ++k) bins[size_t(ph::uniform01(7, k) * 100)] += 1;
  double chi2 = 0, expect = kDraws / 100.0;
  for (double b : bins) chi2 += (b - expect) * (b - expect) / expect;
  CHECK(chi2 < 99 + 5 * 14);
}

TEST_CASE("philox: neighbours, mix streams and uniform vs normal are uncorrelated", "[philox]") {
  // The standard error of a correlation of 10^6 independent pairs is 1e-3.
  const int64_t key = 99;
  CHECK(std::fabs(correlation([&](int64_t k) { return ph::uniform01(key, k); },
                              [&](int64_t k) { return ph::uniform01(key, k + 1); })) < 5e-3);
  const int64_t k0 = ph::mixKey(key, 0), k1 = ph::mixKey(key, 1);
  CHECK(k0 != k1);
  CHECK(std::fabs(correlation([&](int64_t k) { return ph::uniform01(k0, k); },
                              [&](int64_t k) { return ph::uniform01(k1, k); })) < 5e-3);
  CHECK(std::fabs(correlation([&](int64_t k) { return ph::normal01(k0, k); },
                              [&](int64_t k) { return ph::normal01(k1, k); })) < 5e-3);
  CHECK(std::fabs(correlation([&](int64_t k) { return ph::uniform01(key, k); },
                              [&](int64_t k) { return std::fabs(ph::normal01(key, k)); })) < 5e-3);
  // Keys of consecutive steps: mix(k, i) and mix(k, i + 1) as numbers.
  CHECK(std::fabs(correlation([&](int64_t i) { return double(ph::mixKey(key, i)); },
                              [&](int64_t i) { return double(ph::mixKey(key, i + 1)); })) < 5e-3);
}

TEST_CASE("philox: the header's log and cos are within a few ulp", "[philox]") {
  const long double pi = 3.141592653589793238462643383279502884L;
  double worstLog = 0, worstCos = 0;
  for (int64_t k = 0; k < 200000; ++k) {
    double u = double(ph::block(5, k, 0)[0] >> 11) * ph::kTwoPow53Inv;
    if (u > 0) {
      long double ref = std::log(static_cast<long double>(u));
      double ulp = std::fabs(std::nextafter(double(ref), 0.0) - double(ref));
      worstLog = std::max(worstLog, double(std::fabs(ph::detail::logOfUnit(u) - ref)) / ulp);
    }
    long double c = std::cos(2 * pi * static_cast<long double>(u));
    worstCos = std::max(worstCos, double(std::fabs(ph::detail::cosTwoPi(u) - c)) / 0x1p-53);
  }
  CHECK(worstLog < 4);  // measured 2.5
  CHECK(worstCos < 3);  // in units of 2^-53, measured 1.5
  CHECK(ph::detail::logOfUnit(1.0) == 0.0);
  CHECK(ph::detail::logOfUnit(0.5) == -0.6931471805599453);
  CHECK(std::fabs(ph::detail::logOfUnit(0x1p-53) - (-36.7368005696771)) < 1e-13);
  CHECK(ph::detail::cosTwoPi(0.0) == 1.0);
  CHECK(ph::detail::cosTwoPi(0.5) == -1.0);
  CHECK(ph::detail::cosTwoPi(0.25) == 0.0);
  CHECK(ph::detail::cosTwoPi(0.75) == 0.0);
  CHECK(std::fabs(ph::detail::cosTwoPi(0.125) - 0.7071067811865476) < 2e-16);
}
