// libFuzzer target for normalize::Canonicalize / CanonicalType / Derive: the first byte picks the
// declared type, the rest is the raw value. Invariants: no crash; a canonical value is a fixed
// point (canonicalising it again returns it unchanged).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kinship/normalize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using kinship::IndicatorType;
  const auto declared = static_cast<IndicatorType>(data[0] % kinship::kIndicatorTypeCount);
  const std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);
  const IndicatorType type = kinship::normalize::CanonicalType(declared, raw);
  auto canon = kinship::normalize::Canonicalize(type, raw);
  if (!canon.ok()) return 0;
  auto again = kinship::normalize::Canonicalize(type, *canon);
  if (!again.ok() || *again != *canon) std::abort();
  kinship::Indicator ind;
  ind.type = type;
  ind.value = *canon;
  for (const kinship::Indicator& d : kinship::normalize::Derive(ind)) {
    if (d.value.empty()) std::abort();
  }
  return 0;
}
