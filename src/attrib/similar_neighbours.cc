// Adapter from the similarity engine (score::SimilarityIndex) to attribution's neighbours.
#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "kinship/attribution.h"
#include "kinship/similarity.h"

namespace kinship::attrib {
namespace {

Family FromScore(score::Family f) {
  switch (f) {
    case score::Family::kIndicator:
      return Family::kIndicator;
    case score::Family::kInfrastructure:
      return Family::kInfrastructure;
    case score::Family::kSoftware:
      return Family::kSoftware;
    case score::Family::kTechnique:
      return Family::kBehaviour;
    case score::Family::kNaming:
      return Family::kNaming;
    case score::Family::kVictim:
    case score::Family::kTime:
    case score::Family::kFuzzy:
      return Family::kContext;
  }
  return Family::kContext;
}

}  // namespace

std::vector<Neighbour> SimilarNeighbours(const score::SimilarityIndex& index, const Incident& query,
                                         size_t k) {
  std::vector<Neighbour> out;
  // The query itself is left out when indexed; a copy of it under its id is not: one more.
  for (const score::Match& m : index.SimilarAttributed(query, k + 1)) {
    if (out.size() >= k) break;
    if (m.id == query.id) continue;
    const std::vector<std::string> actors = index.StatedActors(m.id);
    if (actors.empty() || actors.front().empty()) continue;
    Neighbour n;
    n.incident_id = m.id;
    n.actor_id = actors.front();
    n.probability = m.comparison.probability;
    n.raw = m.comparison.raw;
    static_assert(std::is_same_v<decltype(n.pair_evidence), score::FamilyVector>);
    n.pair_evidence = m.comparison.evidence;
    for (const score::FamilyEvidence& fam : m.comparison.explanation.families) {
      for (const score::EvidenceItem& item : fam.items) {
        n.shared.push_back({FromScore(fam.family), item.feature, m.id, item.weight});
      }
    }
    std::stable_sort(
        n.shared.begin(), n.shared.end(),
        [](const EvidenceItem& a, const EvidenceItem& b) { return a.weight > b.weight; });
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace kinship::attrib
