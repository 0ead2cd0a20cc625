// The knowledge-base side of attribution: actor profiles and name resolution from the KB.
#include <string>
#include <vector>

#include "kinship/attribution.h"
#include "kinship/kb.h"

namespace kinship::attrib {

ProfileMatcher ProfileMatcher::FromKb(const kb::KnowledgeBase& kb) {
  std::vector<ActorProfile> profiles;
  for (const kb::Actor& a : kb.actors()) {
    if (a.revoked || a.deprecated) continue;
    if (a.technique_ids.empty() && a.software_ids.empty()) continue;
    profiles.push_back({a.id, a.name, a.technique_ids, a.software_ids});
  }
  return ProfileMatcher(std::move(profiles));
}

KbView KbViewOf(const kb::KnowledgeBase& kb) {
  KbView v;
  v.actor_name = [&kb](std::string_view id) -> std::string {
    const kb::Actor* a = kb.actor(id);
    return a == nullptr ? std::string() : a->name;
  };
  v.software_id = [&kb](std::string_view name) -> std::string {
    auto m = kb.Resolve(name, kb::EntityType::kSoftware);
    return m.empty() || m.front().ambiguous ? std::string() : m.front().id;
  };
  return v;
}

}  // namespace kinship::attrib
