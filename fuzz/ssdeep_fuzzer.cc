// libFuzzer target for ssdeep validation and comparison: a valid digest compares with itself
// at exactly 100 and never makes libfuzzy fail.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kinship/fuzzy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::Status s = kinship::ValidateSsdeep(text);
  if (!s.ok()) {
    if (s.code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  auto score = kinship::SsdeepCompare(text, text);
  if (!score.ok() || *score != 100) std::abort();
  return 0;
}
