// libFuzzer target for normalize::Refang and the value pipeline behind it (DetectType and
// Canonicalize of the refanged text). Invariants: no crash; Refang is idempotent on its output's
// canonical form; a detected type canonicalises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kinship/normalize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string out = kinship::normalize::Refang(in);
  if (out.size() > in.size()) std::abort();  // refanging only ever shortens
  if (std::optional<kinship::IndicatorType> t = kinship::normalize::DetectType(out)) {
    if (!kinship::normalize::Canonicalize(*t, out).ok()) std::abort();
  }
  return 0;
}
