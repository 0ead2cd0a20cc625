// NameCatalog from the knowledge base (kept apart so the extractor links without the KB).
#include "kinship/extract.h"
#include "kinship/kb.h"

namespace kinship::extract {

NameCatalog NameCatalog::FromKnowledgeBase(const kb::KnowledgeBase& kb) {
  std::vector<Entry> entries;
  for (const kb::Technique& t : kb.techniques()) {
    if (t.revoked || t.deprecated) continue;
    entries.push_back({Kind::kTechnique, t.id, t.name, {t.name}});
  }
  for (const kb::Software& s : kb.software_list()) {
    Entry e{Kind::kSoftware, s.id, s.name, {s.name}};
    e.names.insert(e.names.end(), s.aliases.begin(), s.aliases.end());
    entries.push_back(std::move(e));
  }
  for (const kb::Actor& a : kb.actors()) {
    if (a.revoked || a.deprecated) continue;
    Entry e{Kind::kActor, a.id, a.name, {a.name}};
    e.names.insert(e.names.end(), a.aliases.begin(), a.aliases.end());
    entries.push_back(std::move(e));
  }
  return NameCatalog(std::move(entries));
}

}  // namespace kinship::extract
