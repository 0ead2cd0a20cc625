// libFuzzer target for ParseTlsh: any input either fails with kInvalidArgument or round-trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kinship/fuzzy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto d = kinship::ParseTlsh(text);
  if (!d.ok()) {
    if (d.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  auto again = kinship::ParseTlsh(d->ToString());
  if (!again.ok() || !(*again == *d) || kinship::TlshDistance(*d, *again) != 0) std::abort();
  return 0;
}
