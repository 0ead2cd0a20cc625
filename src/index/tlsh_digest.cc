// TLSH digests: parsing, formatting and distance, written by hand rather than through Debian's
// libtlsh 3.4.4 because that library (a) only reads the legacy 70-hex form, not "T1...",
// (b) exports generic global names (to_hex, from_hex, ...) that collide easily, and (c) keeps
// every digest behind a heap-allocated pimpl, which costs an allocation per digest and a pointer
// chase per distance. libtlsh stays the oracle in tests (tlsh_libtlsh.h).
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "index/tlsh_distance.h"
#include "kinship/fuzzy.h"
#include "kinship/status.h"

namespace kinship {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

constexpr char kHex[] = "0123456789ABCDEF";

// The body term of the distance: all 32 codes of a 64-bit word at a time.
inline internal::TlshBodyCounts BodyCounts(const uint8_t* x, const uint8_t* y) {
  constexpr uint64_t kLow = 0x5555555555555555ULL;
  int one = 0, two = 0, three = 0;
  for (int w = 0; w < 4; ++w) {
    uint64_t u, v;
    std::memcpy(&u, x + 8 * w, 8);
    std::memcpy(&v, y + 8 * w, 8);
    uint64_t d = u ^ v;
    uint64_t lo = d & kLow;
    uint64_t hi = (d >> 1) & kLow;
    uint64_t same_bits = ~(u ^ (u >> 1)) & kLow;  // code of a is 0 or 3
    uint64_t both = lo & hi;
    one += std::popcount((lo & ~hi) | (both & ~same_bits));  // |a-b| == 1
    two += std::popcount(hi & ~lo);                          // |a-b| == 2
    three += std::popcount(both & same_bits);                // |a-b| == 3
  }
  return {one, two, three};
}

}  // namespace

namespace internal {

// Not under ThreadSanitizer: the clones' resolver runs while the loader relocates, before the
// TSan runtime is up, and its instrumented entry crashes the program there (a TSan build of
// kinship died at start). The plain build is then the only one.
#if defined(__x86_64__) && defined(__has_attribute) && !defined(__SANITIZE_THREAD__)
#if __has_attribute(target_clones)
#define KINSHIP_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#endif
#endif
#ifndef KINSHIP_POPCNT_CLONES
#define KINSHIP_POPCNT_CLONES
#endif

KINSHIP_POPCNT_CLONES TlshBodyCounts TlshBodyCountsFast(const uint8_t* x, const uint8_t* y) {
  return BodyCounts(x, y);
}

TlshBodyCounts TlshBodyCountsGeneric(const uint8_t* x, const uint8_t* y) {
  return BodyCounts(x, y);
}

}  // namespace internal

uint8_t TlshDigest::lvalue() const {
  // The hex form stores the length byte nibble-swapped.
  return static_cast<uint8_t>((bytes_[1] << 4) | (bytes_[1] >> 4));
}

std::string TlshDigest::ToLegacyString() const {
  std::string out(2 * kBytes, '0');
  for (size_t i = 0; i < kBytes; ++i) {
    out[2 * i] = kHex[bytes_[i] >> 4];
    out[2 * i + 1] = kHex[bytes_[i] & 0xF];
  }
  return out;
}

std::string TlshDigest::ToString() const { return absl::StrCat("T1", ToLegacyString()); }

absl::StatusOr<TlshDigest> ParseTlsh(std::string_view text) {
  constexpr size_t kHexLen = 2 * TlshDigest::kBytes;
  if (text.size() == kHexLen + 2) {
    if ((text[0] != 'T' && text[0] != 't') || text[1] != '1') {
      return absl::InvalidArgumentError("TLSH digest of 72 characters must start with \"T1\"");
    }
    text.remove_prefix(2);
  } else if (text.size() != kHexLen) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLSH digest must be 70 hex digits or \"T1\" + 70, got ", text.size(), " characters"));
  }
  TlshDigest d;
  for (size_t i = 0; i < TlshDigest::kBytes; ++i) {
    int hi = HexValue(text[2 * i]);
    int lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLSH digest has a non-hex character near position ", 2 * i));
    }
    d.bytes_[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return d;
}

int TlshDistance(const TlshDigest& a, const TlshDigest& b, bool include_length) {
  return internal::TlshDistancePair(a, b, include_length).full;
}

absl::StatusOr<int> TlshDistance(std::string_view a, std::string_view b, bool include_length) {
  KINSHIP_ASSIGN_OR_RETURN(TlshDigest da, ParseTlsh(a));
  KINSHIP_ASSIGN_OR_RETURN(TlshDigest db, ParseTlsh(b));
  return TlshDistance(da, db, include_length);
}

}  // namespace kinship
