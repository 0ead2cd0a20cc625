// The invariants every ingest-parser fuzz target checks (shared by misp_fuzzer and stix_fuzzer):
// never crash; fail only with kInvalidArgument or kResourceExhausted (a named limit); every
// incident has an id and every indicator a raw value and its location; with skip_bad_records a
// parse that succeeds strictly succeeds the same way.
#ifndef KINSHIP_FUZZ_INGEST_FUZZ_H_
#define KINSHIP_FUZZ_INGEST_FUZZ_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kinship/ingest.h"

namespace kinship::fuzz {

inline void CheckParse(const absl::StatusOr<ingest::ParseOutput>& out) {
  if (out.ok()) {
    for (const Incident& inc : out->incidents) {
      if (inc.id.empty()) std::abort();
      for (const Indicator& i : inc.indicators) {
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

using JsonParser = absl::StatusOr<ingest::ParseOutput> (*)(std::string_view, std::string_view,
                                                           const ingest::Options&);

// Runs `parse` strictly and with skip_bad_records on the input and checks the invariants.
inline int FuzzJsonParser(JsonParser parse, const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  ingest::Options strict;
  auto a = parse(json, "fuzz.json", strict);
  CheckParse(a);
  ingest::Options lenient;
  lenient.skip_bad_records = true;
  auto b = parse(json, "fuzz.json", lenient);
  CheckParse(b);
  // Skipping bad records can only help: what parses strictly parses leniently, identically.
  if (a.ok()) {
    if (!b.ok() || b->incidents.size() != a->incidents.size()) std::abort();
    for (size_t i = 0; i < a->incidents.size(); ++i) {
      if (a->incidents[i].indicators.size() != b->incidents[i].indicators.size()) std::abort();
    }
  }
  return 0;
}

}  // namespace kinship::fuzz

#endif  // KINSHIP_FUZZ_INGEST_FUZZ_H_
