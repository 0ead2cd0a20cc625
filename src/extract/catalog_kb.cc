// NameCatalog from the knowledge base (kept apart so the extractor links without the KB).
#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "kinship/extract.h"
#include "kinship/kb.h"

namespace kinship::extract {
namespace {

// Tools' names that are ordinary English words in lower case ("a first responder", "a sliver
// of"): those keep to their written case. The list is ATT&CK 18.1's tool names and aliases
// that are dictionary words, read by hand.
constexpr std::string_view kWordTools[] = {"covenant",  "donut", "empire", "meek",        "mythic",
                                           "responder", "ruler", "sliver", "quick assist"};

}  // namespace

NameCatalog NameCatalog::FromKnowledgeBase(const kb::KnowledgeBase& kb) {
  std::vector<Entry> entries;
  for (const kb::Technique& t : kb.techniques()) {
    if (t.revoked || t.deprecated) continue;
    entries.push_back({Kind::kTechnique, t.id, t.name, {t.name}});
  }
  for (const kb::Software& s : kb.software_list()) {
    Entry e{Kind::kSoftware, s.id, s.name, {s.name}};
    e.names.insert(e.names.end(), s.aliases.begin(), s.aliases.end());
    // Names match in their written case (proper nouns), but reports write tools the way they
    // are typed at a prompt: "ran mimikatz", "psexec", "adfind". A tool's names also match in
    // lower case.
    if (s.kind == "tool") {
      const size_t written = e.names.size();
      for (size_t i = 0; i < written; ++i) {
        std::string lower = absl::AsciiStrToLower(e.names[i]);
        if (lower != e.names[i] && std::find(std::begin(kWordTools), std::end(kWordTools), lower) ==
                                       std::end(kWordTools)) {
          e.names.push_back(std::move(lower));
        }
      }
    }
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
