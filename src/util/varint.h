// LEB128 varints: 7 bits a byte, low bits first, high bit set on every byte but the last. Written
// by hand: a dozen lines, and Debian's Abseil 2022 exposes no varint API (protobuf's would be a
// large dependency for this). Used by the store's value_incidents segments and the similarity
// index's key texts.
#ifndef KINSHIP_UTIL_VARINT_H_
#define KINSHIP_UTIL_VARINT_H_

#include <cstddef>
#include <cstdint>

namespace kinship::util {

// The longest varint of a uint64_t.
inline constexpr size_t kMaxVarintBytes = 10;

// Writes `v` at `out` (room for kMaxVarintBytes); returns the bytes written.
inline size_t PutVarint(uint64_t v, char* out) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<char>(v);
  return n;
}

// Reads a varint from the `size` bytes at `p` into `*v`; returns the bytes read, or 0 when the
// bytes end first or the varint is longer than a uint64_t's.
inline size_t GetVarint(const char* p, size_t size, uint64_t* v) {
  uint64_t x = 0;
  for (size_t i = 0; i < size && i < kMaxVarintBytes; ++i) {
    const auto b = static_cast<unsigned char>(p[i]);
    x |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *v = x;
      return i + 1;
    }
  }
  return 0;
}

}  // namespace kinship::util

#endif  // KINSHIP_UTIL_VARINT_H_
