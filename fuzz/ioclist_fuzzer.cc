// libFuzzer target for the IOC-list parser (text and CSV). Invariants: never crashes; fails only
// with kInvalidArgument or kResourceExhausted; a successful parse yields exactly one incident
// whose indicators all have a raw value and a "line:col" location.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kinship/ingest.h"

namespace {

void Check(const absl::StatusOr<kinship::ingest::ParseOutput>& out) {
  if (!out.ok()) {
    const absl::StatusCode code = out.status().code();
    if (code != absl::StatusCode::kInvalidArgument &&
        code != absl::StatusCode::kResourceExhausted) {
      std::abort();
    }
    return;
  }
  if (out->incidents.size() != 1) std::abort();
  for (const kinship::Indicator& i : out->incidents[0].indicators) {
    if (i.raw.empty() || i.location.find(':') == std::string::npos) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool csv : {false, true}) {
    for (bool skip : {false, true}) {
      kinship::ingest::Options opts;
      opts.skip_bad_records = skip;
      Check(kinship::ingest::ParseIocList(text, "fuzz.txt", opts, csv));
    }
  }
  return 0;
}
