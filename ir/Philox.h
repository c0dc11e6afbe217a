// The random numbers of the language (SPEC §4: uniform, normal, mix), from
// the counter-based generator Philox-4x32-10 (Salmon, Moraes, Dror, Shaw,
// "Parallel random numbers: as easy as 1, 2, 3", SC11; the Random123
// library's constants and round structure, checked against its published
// known-answer vectors in tests/unit/ir_philox.cpp). Header only, no
// dependencies: the reference interpreter calls these functions directly and
// JIT-compiled code calls them through the runtime ABI (chain_rt_uniform_f64
// and friends in runtime/codegen/RuntimeABI.h), so the two backends give the
// same bits by construction.
//
// Each value is a pure function of an i64 key and an i64 index: no state, so
// the values do not depend on the order of evaluation, the thread count or
// the machine.
//
//   key K            -> Philox key words (K & 0xffffffff, K >> 32)
//   element index k  -> counter (k & 0xffffffff, k >> 32, 0, tag)
//
// one Philox block (4 words w0..w3) per element; the tag (word 3 of the
// counter) separates the streams so that normal(K) is not built from the
// bits of uniform(K) and mix(K, i) from neither:
//
//   uniform f64  x = w0 | w1 << 32;  (x >> 11) * 2^-53            in [0, 1)
//   uniform f32  (x >> 40) * 2^-24: the f64 value rounded down to a multiple
//                of 2^-24, exact in f32 and still below 1 (rounding to
//                nearest would give 1.0f for the top 2^29 values)
//   normal  f64  Box-Muller on the block: u1 = ((w0 | w1 << 32) >> 11) + 1
//                times 2^-53 in (0, 1] (so log never sees 0), u2 = ((w2 |
//                w3 << 32) >> 11) * 2^-53 in [0, 1),
//                z = sqrt(-2 log u1) cos(2 pi u2); |z| <= 8.58
//   normal  f32  the f64 value rounded to nearest
//   mix(K, i)    the block of counter (i & 0xffffffff, i >> 32, 0, kTagMix)
//                under K, as the i64 w0 | w1 << 32: a new key for another
//                independent stream (one per training step, per layer, ...)
//
// Every step is integer arithmetic or a basic IEEE 754 double operation
// (+ - * / sqrt, exact scalings), with floating-point contraction off, so the
// values are the same bits on every machine and compiler. That is why
// normal01 computes its log and cos here (logOfUnit, cosTwoPi: short
// Taylor series for the two arguments it needs, within a few ulp of the C
// library's) instead of calling the C library: libm results are not
// specified to the last bit and differ between libraries and even between
// glibc's FMA and non-FMA variants, chosen at run time by the CPU.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace chain::philox {

using Counter = std::array<uint32_t, 4>;
using Key = std::array<uint32_t, 2>;

// Random123's Philox-4x32 constants: the round multipliers and the Weyl
// sequence that bumps the key between rounds.
constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

// Stream tags (counter word 3).
constexpr uint32_t kTagUniform = 0x756e6966u;  // "unif"
constexpr uint32_t kTagNormal = 0x6e6f726du;   // "norm"
constexpr uint32_t kTagMix = 0x6d69786bu;      // "mixk"

// Philox-4x32 with R rounds (R = 10 is the generator used; R = 7 is only
// there to test the round structure against more known answers).
template <int R>
Counter philox4x32(Counter c, Key k) {
  for (int r = 0; r < R; ++r) {
    if (r > 0) {
      k[0] += kW0;
      k[1] += kW1;
    }
    uint64_t p0 = uint64_t(kM0) * c[0], p1 = uint64_t(kM1) * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k[0], uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k[1],
         uint32_t(p0)};
  }
  return c;
}

inline Counter philox4x32_10(Counter c, Key k) { return philox4x32<10>(c, k); }

// The block of (key, index) in the stream `tag`, as two 64-bit words
// (w0 | w1 << 32, w2 | w3 << 32).
inline std::array<uint64_t, 2> block(int64_t key, int64_t index, uint32_t tag) {
  uint64_t K = uint64_t(key), i = uint64_t(index);
  Counter w = philox4x32_10({uint32_t(i), uint32_t(i >> 32), 0u, tag}, {uint32_t(K), uint32_t(K >> 32)});
  return {w[0] | uint64_t(w[1]) << 32, w[2] | uint64_t(w[3]) << 32};
}

constexpr double kTwoPow53Inv = 1.0 / 9007199254740992.0;  // 2^-53
constexpr float kTwoPow24Inv = 1.0f / 16777216.0f;          // 2^-24

inline double uniform01(int64_t key, int64_t index) {
  return double(block(key, index, kTagUniform)[0] >> 11) * kTwoPow53Inv;
}

inline float uniform01f(int64_t key, int64_t index) {
  return float(block(key, index, kTagUniform)[0] >> 40) * kTwoPow24Inv;
}

namespace detail {

#if defined(__clang__)
#define CHAIN_PHILOX_NO_CONTRACT _Pragma("clang fp contract(off)")
#else
#define CHAIN_PHILOX_NO_CONTRACT
#endif

// The series' coefficients, computed at compile time (IEEE division, round
// to nearest, as at run time): 1/n for odd n, 1/(n (n-1)) and 1/((n+1) n)
// for even n. Multiplying by them keeps divisions out of the series'
// dependent chains. (callgrind: uniform01 171 instructions, normal01 323.)
struct Series {
  double invOdd[24] = {};
  double cosStep[19] = {};
  double sinStep[19] = {};
};

constexpr Series makeSeries() {
  Series t;
  for (int n = 1; n < 24; n += 2) t.invOdd[n] = 1.0 / n;
  for (int n = 2; n <= 18; n += 2) {
    t.cosStep[n] = 1.0 / (n * (n - 1));
    t.sinStep[n] = 1.0 / ((n + 1) * n);
  }
  return t;
}

inline constexpr Series kSeries = makeSeries();

// log(x) for x in [2^-53, 1]: x = 2^k f with f in [sqrt(1/2), sqrt(2))
// (exact, from the bits: x is a normal number), log f = 2 atanh(s) with
// s = (f - 1) / (f + 1), |s| <= 0.172, summed to s^23 (the next term is
// below 2^-60 s).
inline double logOfUnit(double x) {
  CHAIN_PHILOX_NO_CONTRACT
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int k = int(bits >> 52) - 1022;
  bits = (bits & ((uint64_t(1) << 52) - 1)) | (uint64_t(1022) << 52);
  double f;
  std::memcpy(&f, &bits, sizeof f);  // x = 2^k f, f in [0.5, 1)
  if (f < 0.70710678118654752) {
    f *= 2.0;
    k -= 1;
  }
  double s = (f - 1.0) / (f + 1.0);
  double s2 = s * s;
  double sum = kSeries.invOdd[23];
  for (int n = 21; n >= 1; n -= 2) sum = sum * s2 + kSeries.invOdd[n];
  const double ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10;
  return double(k) * ln2Hi + (2.0 * s * sum + double(k) * ln2Lo);
}

// cos(2 pi u) for u in [0, 1) a multiple of 2^-53: 4u = q + r exactly
// (quadrant q, r in [0, 1)), reflected to t in [0, 1/2] so that the Taylor
// series of cos and sin run on x = t pi/2 <= pi/4, to x^18 and x^19.
inline double cosTwoPi(double u) {
  CHAIN_PHILOX_NO_CONTRACT
  double v = 4.0 * u;
  int q = int(v);  // floor: v >= 0
  double r = v - q;
  bool swap = r > 0.5;  // cos(r pi/2) = sin((1 - r) pi/2)
  double t = swap ? 1.0 - r : r;
  double x = t * 1.57079632679489661923;
  double x2 = x * x;
  double c = 1.0, s = 1.0;
  for (int n = 18; n >= 2; n -= 2) {
    c = 1.0 - c * x2 * kSeries.cosStep[n];
    s = 1.0 - s * x2 * kSeries.sinStep[n];
  }
  s *= x;
  double cr = swap ? s : c, sr = swap ? c : s;  // cos(r pi/2), sin(r pi/2)
  return q == 0 ? cr : q == 1 ? -sr : q == 2 ? -cr : sr;
}

#undef CHAIN_PHILOX_NO_CONTRACT

}  // namespace detail

inline double normal01(int64_t key, int64_t index) {
  std::array<uint64_t, 2> b = block(key, index, kTagNormal);
  double u1 = double((b[0] >> 11) + 1) * kTwoPow53Inv;
  double u2 = double(b[1] >> 11) * kTwoPow53Inv;
  return std::sqrt(-2.0 * detail::logOfUnit(u1)) * detail::cosTwoPi(u2);
}

inline float normal01f(int64_t key, int64_t index) { return float(normal01(key, index)); }

inline int64_t mixKey(int64_t key, int64_t i) {
  return int64_t(block(key, i, kTagMix)[0]);
}

}  // namespace chain::philox
