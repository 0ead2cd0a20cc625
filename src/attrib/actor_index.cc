// Actor documents: every known incident of an actor merged into one document, indexed by the
// similarity engine so that rarity is counted over actors (attribution.h, BuildActorIndex).
#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "kinship/attribution.h"
#include "kinship/similarity.h"

namespace kinship::attrib {

absl::StatusOr<score::SimilarityIndex> BuildActorIndex(const std::vector<Incident>& incidents,
                                                       const kb::KnowledgeBase* kb,
                                                       const std::vector<std::string>& exclude) {
  const absl::flat_hash_set<std::string> skip(exclude.begin(), exclude.end());
  std::map<std::string, Incident> docs;  // ordered: a deterministic index
  for (const Incident& inc : incidents) {
    if (inc.attributions.empty() || skip.contains(inc.id)) continue;
    const Attribution& a = inc.attributions.front();
    const std::string actor = a.actor_id.empty() ? a.actor_name : a.actor_id;
    if (actor.empty()) continue;
    Incident& d = docs[actor];
    if (d.id.empty()) {
      d.id = absl::StrCat("actor:", actor);
      d.attributions.push_back({a.actor_name, a.actor_id, -1, "known incidents"});
    }
    d.indicators.insert(d.indicators.end(), inc.indicators.begin(), inc.indicators.end());
    d.techniques.insert(d.techniques.end(), inc.techniques.begin(), inc.techniques.end());
    d.software.insert(d.software.end(), inc.software.begin(), inc.software.end());
  }
  score::ScoringOptions options;
  // Every n-gram of every name: a bottom-k sample of a large document would rarely meet the
  // query's own sample.
  options.max_naming_features = std::numeric_limits<size_t>::max();
  score::SimilarityIndex index(kb, options);
  for (auto& [actor, d] : docs) {
    KINSHIP_RETURN_IF_ERROR(index.Add(d));
  }
  return index;
}

}  // namespace kinship::attrib
