// libFuzzer target for the STIX parser. Invariants: never crashes; fails only with
// kInvalidArgument or kResourceExhausted (a named limit); with skip_bad_records a parse that
// succeeds strictly succeeds the same way, and every indicator keeps a non-empty raw value and
// its location.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kinship/ingest.h"

namespace {

void Check(const absl::StatusOr<kinship::ingest::ParseOutput>& out) {
  if (out.ok()) {
    for (const kinship::Incident& inc : out->incidents) {
      if (inc.id.empty()) std::abort();
      for (const kinship::Indicator& i : inc.indicators) {
        if (i.raw.empty() || i.location.empty()) std::abort();
      }
    }
    return;
  }
  const absl::StatusCode code = out.status().code();
  if (code != absl::StatusCode::kInvalidArgument && code != absl::StatusCode::kResourceExhausted) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  kinship::ingest::Options strict;
  auto a = kinship::ingest::ParseStix(json, "fuzz.json", strict);
  Check(a);
  kinship::ingest::Options lenient;
  lenient.skip_bad_records = true;
  auto b = kinship::ingest::ParseStix(json, "fuzz.json", lenient);
  Check(b);
  // Skipping bad records can only help: what parses strictly parses leniently, identically.
  if (a.ok()) {
    if (!b.ok() || b->incidents.size() != a->incidents.size()) std::abort();
    for (size_t i = 0; i < a->incidents.size(); ++i) {
      if (a->incidents[i].indicators.size() != b->incidents[i].indicators.size()) std::abort();
    }
  }
  return 0;
}
