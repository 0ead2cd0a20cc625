// libFuzzer target for the STIX pattern parser. Invariants: never crashes; fails only with
// kInvalidArgument (message "char N: ..." with N inside the pattern) or kResourceExhausted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "ingest/stix/pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = kinship::ingest::stix::ParsePattern(text);
  if (p.ok()) {
    for (const auto* c : p->Comparisons()) {
      if (c->path.object_type.empty() || c->position >= size) std::abort();
    }
    return 0;
  }
  const absl::StatusCode code = p.status().code();
  if (code == absl::StatusCode::kResourceExhausted) return 0;
  if (code != absl::StatusCode::kInvalidArgument) std::abort();
  absl::string_view msg = p.status().message();
  if (!absl::StartsWith(msg, "char ")) std::abort();
  msg.remove_prefix(5);
  size_t pos;
  if (!absl::SimpleAtoi(msg.substr(0, msg.find(':')), &pos) || pos > size) std::abort();
  return 0;
}
