// Internal TLSH distance kernels shared by the digest code and the index.
#ifndef KINSHIP_INDEX_TLSH_DISTANCE_H_
#define KINSHIP_INDEX_TLSH_DISTANCE_H_

#include <cstdint>

#include "kinship/fuzzy.h"

namespace kinship::internal {

// The standard distance and a metric lower bound of it, computed in one pass.
struct TlshDistances {
  int full;   // upstream totalDiff()
  int bound;  // a true metric with bound <= full (see TlshDistancePair)
};

// How many of the 128 2-bit body codes of two digests differ by 1, 2 and 3.
struct TlshBodyCounts {
  int one, two, three;
};

// `x` and `y` point at the 32 body bytes. Both compute the same counts:
// - TlshBodyCountsFast is built twice (GCC/Clang `target_clones`), once with the POPCNT
//   instruction and once without, and the loader picks the first clone this CPU runs. Debian
//   builds for baseline x86-64, where std::popcount is a call into libgcc's software routine
//   (12 calls a distance); the popcnt clone makes each one instruction.
// - TlshBodyCountsGeneric is the plain build only, kept as the benchmark's baseline and the
//   tests' reference.
TlshBodyCounts TlshBodyCountsFast(const uint8_t* x, const uint8_t* y);
TlshBodyCounts TlshBodyCountsGeneric(const uint8_t* x, const uint8_t* y);

inline int TlshModDiff(int x, int y, int range) {
  int d = x > y ? x - y : y - x;
  return d < range - d ? d : range - d;
}

// TLSH distance after Oliver et al. 2013 (upstream totalDiff()). The body term compares 128
// 2-bit quartile codes: |a-b|, except that a difference of 3 costs 6. Instead of upstream's
// 64 KiB byte-pair table we evaluate all 32 codes of a 64-bit word with popcounts.
//
// `bound` replaces each non-metric term by its largest metric minorant: the circular length and
// Q-ratio differences themselves, and |a-b| per code (6 -> 3). A sum of metrics is a metric,
// so a vantage-point tree built on `bound` prunes exactly (the triangle inequality holds), and
// bound <= full means no pair within a radius of `full` is lost.
inline TlshDistances TlshDistancePair(const TlshDigest& a, const TlshDigest& b,
                                      bool include_length) {
  const uint8_t* x = a.bytes().data();
  const uint8_t* y = b.bytes().data();
  int full = 0, bound = 0;
  if (include_length) {
    int ld = TlshModDiff(a.lvalue(), b.lvalue(), 256);
    full += ld <= 1 ? ld : ld * 12;
    bound += ld;
  }
  int q1 = TlshModDiff(x[2] >> 4, y[2] >> 4, 16);
  int q2 = TlshModDiff(x[2] & 0xF, y[2] & 0xF, 16);
  full += (q1 <= 1 ? q1 : (q1 - 1) * 12) + (q2 <= 1 ? q2 : (q2 - 1) * 12);
  bound += q1 + q2;
  if (x[0] != y[0]) {
    ++full;
    ++bound;
  }
  const TlshBodyCounts c = TlshBodyCountsFast(x + 3, y + 3);
  full += c.one + 2 * c.two + 6 * c.three;
  bound += c.one + 2 * c.two + 3 * c.three;
  return {full, bound};
}

}  // namespace kinship::internal

#endif  // KINSHIP_INDEX_TLSH_DISTANCE_H_
