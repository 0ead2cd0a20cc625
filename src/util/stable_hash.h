// FNV-1a, 64 bit: a hash that is the same in every process, run and build (absl::Hash is seeded
// per process and may change between builds), for what must not move: the similarity engine's
// bottom-k n-gram sample and the snapshots' fingerprints. A few lines; no packaged library
// offers a fixed non-cryptographic hash more simply (xxHash's would do, but these values are
// already written in snapshots and must stay as they are).
#ifndef KINSHIP_UTIL_STABLE_HASH_H_
#define KINSHIP_UTIL_STABLE_HASH_H_

#include <cstdint>
#include <string_view>

namespace kinship::util {

inline uint64_t StableHash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace kinship::util

#endif  // KINSHIP_UTIL_STABLE_HASH_H_
