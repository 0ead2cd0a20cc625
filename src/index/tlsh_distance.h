// Internal TLSH distance kernels shared by the digest code and the index.
#ifndef KINSHIP_INDEX_TLSH_DISTANCE_H_
#define KINSHIP_INDEX_TLSH_DISTANCE_H_

#include <bit>
#include <cstdint>
#include <cstring>

#include "kinship/fuzzy.h"

namespace kinship::internal {

// The standard distance and a metric lower bound of it, computed in one pass.
struct TlshDistances {
  int full;   // upstream totalDiff()
  int bound;  // a true metric with bound <= full (see TlshDistancePair)
};

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
  constexpr uint64_t kLow = 0x5555555555555555ULL;
  int one = 0, two = 0, three = 0;
  for (int w = 0; w < 4; ++w) {
    uint64_t u, v;
    std::memcpy(&u, x + 3 + 8 * w, 8);
    std::memcpy(&v, y + 3 + 8 * w, 8);
    uint64_t d = u ^ v;
    uint64_t lo = d & kLow;
    uint64_t hi = (d >> 1) & kLow;
    uint64_t same_bits = ~(u ^ (u >> 1)) & kLow;  // code of a is 0 or 3
    uint64_t both = lo & hi;
    one += std::popcount((lo & ~hi) | (both & ~same_bits));  // |a-b| == 1
    two += std::popcount(hi & ~lo);                          // |a-b| == 2
    three += std::popcount(both & same_bits);                // |a-b| == 3
  }
  full += one + 2 * two + 6 * three;
  bound += one + 2 * two + 3 * three;
  return {full, bound};
}

}  // namespace kinship::internal

#endif  // KINSHIP_INDEX_TLSH_DISTANCE_H_
