// Building the similarity index from the store (kept apart so that users of the index alone do not
// link the store).
#include <utility>

#include "index/postings.h"
#include "kinship/store.h"

namespace kinship::score {

absl::StatusOr<SimilarityIndex> SimilarityIndex::Build(
    Store& store, const kb::KnowledgeBase* kb, ScoringOptions options,
    const std::function<void(const Incident&)>& also) {
  SimilarityIndex index(kb, std::move(options));
  absl::Status add_status;
  // What analysis reads only (Store::Detail::kAnalysis): no descriptions, raw forms,
  // locations or snippets.
  absl::Status st = store.ForEachIncidentReadAhead(
      [&](const Incident& inc) {
        add_status = index.Add(inc);
        if (add_status.ok() && also) also(inc);
        return add_status.ok();
      },
      /*ahead=*/64, Store::Detail::kAnalysis);
  KINSHIP_RETURN_IF_ERROR(st);
  KINSHIP_RETURN_IF_ERROR(add_status);
  return index;
}

}  // namespace kinship::score
