// Taking incidents out of the similarity index (SimilarityIndex::Remove). The index is built to
// grow: postings hold incident numbers, the dictionary feature numbers, and a feature held by
// one incident keeps no list at all. Leaving holes for removed incidents would make every
// reader skip them and every count (N, df) correct for them, so Remove copies what stays into a
// new index instead, renumbering incidents and features in their old order: one pass over the
// postings, a few seconds at 100,000 incidents, against a minute to index the store again.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "index/postings.h"
#include "kinship/similarity.h"

namespace kinship::score {

using Impl = SimilarityIndex::Impl;

absl::StatusOr<size_t> SimilarityIndex::Remove(const std::vector<std::string>& ids) {
  const Impl& im = *impl_;
  constexpr uint32_t kGone = ~uint32_t{0};
  std::vector<bool> removed(im.docs.size(), false);
  size_t n_removed = 0;
  for (const std::string& id : ids) {
    auto it = im.doc_ids.find(id);
    if (it == im.doc_ids.end()) {
      return absl::NotFoundError(absl::StrCat("incident '", id, "' is not indexed"));
    }
    if (!removed[it->second]) {
      removed[it->second] = true;
      ++n_removed;
    }
  }
  if (n_removed == 0) return 0;

  auto out = std::make_unique<Impl>();
  out->kb = im.kb;
  out->options = im.options;
  out->calibration = im.calibration;
  out->kinds = im.kinds;

  // Incidents that stay, renumbered in their order.
  std::vector<uint32_t> new_doc(im.docs.size(), kGone);
  out->docs.reserve(im.docs.size() - n_removed);
  out->doc_ids.reserve(im.docs.size() - n_removed);
  for (size_t d = 0; d < im.docs.size(); ++d) {
    if (removed[d]) continue;
    new_doc[d] = static_cast<uint32_t>(out->docs.size());
    out->doc_ids.emplace(im.docs[d].id, new_doc[d]);
    out->docs.push_back(im.docs[d]);
  }

  // Features some staying incident holds, renumbered in their order, with their postings mapped
  // (ascending stays ascending). A kept key text stays kept even when one holder is left: an
  // explanation names a feature only when both sides hold it, so the text costs memory, not
  // answers.
  std::vector<uint32_t> new_fid(im.FeatureCount(), kGone);
  std::vector<uint32_t> holders;
  for (uint32_t f = 0; f < im.FeatureCount(); ++f) {
    holders.clear();
    for (uint32_t d : im.postings[f]) {
      if (new_doc[d] != kGone) holders.push_back(new_doc[d]);
    }
    if (holders.empty()) continue;
    const uint32_t nf = static_cast<uint32_t>(out->FeatureCount());
    new_fid[f] = nf;
    out->key_hash.push_back(im.key_hash[f]);
    out->kind_of_feature.push_back(im.kind_of_feature[f]);
    uint32_t text = Impl::Postings::kNoText;
    if (const uint32_t t = im.postings.Text(f); t != Impl::Postings::kNoText) {
      // The old index held these texts and more in its arena, so they fit; checked all the same.
      if (!out->texts.Add(im.texts[t])) {
        return absl::ResourceExhaustedError("the similarity index's feature keys are full (4 GiB)");
      }
      text = static_cast<uint32_t>(out->texts.size() - 1);
    }
    out->postings.AddFeature(holders[0], text);
    for (size_t i = 1; i < holders.size(); ++i) {
      out->postings.Add(nf, holders[i], [text] { return text; });
    }
  }
  out->feature_ids.reserve(out->FeatureCount());
  for (uint32_t f = 0; f < out->FeatureCount(); ++f) out->feature_ids.insert(f);
  for (Impl::Doc& d : out->docs) {
    // Every feature of a staying incident stays; the map is increasing, so they stay sorted.
    for (uint32_t& f : d.features) f = new_fid[f];
  }

  // The bitmaps of common features that still exist, from their new postings.
  for (const auto& [fid, i] : im.bitmap_of) {
    if (new_fid[fid] == kGone) continue;
    std::vector<uint64_t> bits;
    for (uint32_t d : out->postings[new_fid[fid]]) {
      if ((d >> 6) >= bits.size()) bits.resize((d >> 6) + 1, 0);
      bits[d >> 6] |= uint64_t{1} << (d & 63);
    }
    out->bitmap_of.emplace(new_fid[fid], static_cast<uint32_t>(out->bitmaps.size()));
    out->bitmaps.push_back(std::move(bits));
  }

  // Near files: the digests the old index took, replayed in their order (ties are broken by it)
  // for the incidents that stay.
  for (const auto& [doc, fid] : im.fuzzy_added) {
    if (new_doc[doc] == kGone) continue;
    if (!out->AddFuzzy(new_doc[doc], new_fid[fid])) {
      return absl::InternalError("a digest the index took could not be taken again");
    }
  }
  impl_ = std::move(out);
  return n_removed;
}

}  // namespace kinship::score
