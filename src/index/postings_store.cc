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
  KINSHIP_RETURN_IF_ERROR(index.AddStored(store, /*skip=*/0, also).status());
  return index;
}

absl::StatusOr<size_t> SimilarityIndex::AddStored(
    Store& store, size_t skip, const std::function<void(const Incident&)>& also) {
  absl::Status add_status;
  size_t added = 0;
  // What analysis reads only (Store::Detail::kAnalysis): no descriptions, raw forms,
  // locations or snippets.
  absl::Status st = store.ForEachIncidentReadAhead(
      [&](const Incident& inc) {
        add_status = Add(inc);
        if (add_status.ok()) {
          ++added;
          if (also) also(inc);
        }
        return add_status.ok();
      },
      /*ahead=*/64, Store::Detail::kAnalysis, skip);
  KINSHIP_RETURN_IF_ERROR(st);
  KINSHIP_RETURN_IF_ERROR(add_status);
  return added;
}

}  // namespace kinship::score
