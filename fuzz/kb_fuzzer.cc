// libFuzzer target for the knowledge-base file parser (ATT&CK bundles, MISP galaxy clusters) and
// the merge that follows it. Invariants: never crashes; a parse fails only with kInvalidArgument
// or kResourceExhausted; a parsed source always merges, and every name it resolves to exists.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "kb/internal.h"
#include "kinship/kb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto parsed = kinship::kb::internal::ParseKbFile(json, "fuzz.json");
  if (!parsed.ok()) {
    const absl::StatusCode code = parsed.status().code();
    if (code != absl::StatusCode::kInvalidArgument &&
        code != absl::StatusCode::kResourceExhausted) {
      std::abort();
    }
    return 0;
  }
  std::vector<kinship::kb::internal::ParsedSource> sources;
  sources.push_back(std::move(*parsed));
  kinship::kb::KnowledgeBase kb = kinship::kb::internal::BuildKnowledgeBase(std::move(sources));
  for (const kinship::kb::Actor& a : kb.actors()) {
    for (const kinship::kb::Match& m : kb.Resolve(a.name, kinship::kb::EntityType::kActor)) {
      if (kb.actor(m.id) == nullptr) std::abort();
    }
  }
  return 0;
}
