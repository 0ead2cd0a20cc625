// SimilarityIndex::Impl: the feature dictionary, postings lists with document frequencies, and
// per-incident feature ids (library-internal; campaigns read it).
#ifndef KINSHIP_INDEX_POSTINGS_H_
#define KINSHIP_INDEX_POSTINGS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "kinship/fuzzy.h"
#include "kinship/similarity.h"

namespace kinship::score {

struct SimilarityIndex::Impl {
  struct Doc {
    std::string id;
    std::string first_seen, last_seen;
    std::optional<int32_t> first_day, last_day;
    std::vector<std::string> actors;
    std::vector<uint32_t> features;  // sorted feature ids
    bool has_fuzzy = false;          // holds a TLSH or ssdeep digest
  };

  // A feature of a query resolved against the dictionary: `fid` >= keys.size() for a feature the
  // index has never seen (df 0), whose key then lives in `local_key`.
  struct QueryFeature {
    uint32_t fid;
    Family family;
    float strength;
    std::string local_key;
  };

  const kb::KnowledgeBase* kb = nullptr;
  ScoringOptions options;
  Calibration calibration;

  // Feature keys, stored back to back in fixed blocks so that views stay valid as it grows and
  // each key costs its bytes plus a view (no per-key heap allocation).
  class KeyArena {
   public:
    std::string_view Add(std::string_view key);
    size_t size() const { return views_.size(); }
    std::string_view operator[](size_t i) const { return views_[i]; }
    size_t bytes() const;

   private:
    static constexpr size_t kBlock = 1 << 20;
    std::vector<std::unique_ptr<char[]>> blocks_;
    size_t used_ = kBlock;
    std::vector<std::string_view> views_;
  };
  KeyArena keys;
  absl::flat_hash_map<std::string_view, uint32_t> feature_ids;
  std::vector<Family> family;
  std::vector<float> strength;
  // Most features are held by one or two incidents: keep those inline.
  std::vector<absl::InlinedVector<uint32_t, 2>> postings;

  std::vector<Doc> docs;
  absl::flat_hash_map<std::string, uint32_t> doc_ids;
  // The TLSH / ssdeep indicator features of every indexed incident, for near-file retrieval
  // and the rarity of a fuzzy match.
  FuzzyEvidenceIndex fuzzy;

  // A TLSH or ssdeep digest among an incident's features (`text` views the feature key).
  struct FuzzyDigest {
    FuzzyKind kind = FuzzyKind::kTlsh;
    std::string_view text;
    TlshDigest tlsh;  // parsed, for kTlsh
  };
  // The fuzzy digests among resolved features (indicator features "tlsh:" / "ssdeep:").
  std::vector<FuzzyDigest> FuzzyDigests(const std::vector<QueryFeature>& features) const;
  std::vector<FuzzyDigest> FuzzyDigests(const Doc& doc) const;
  // The indexed files nearest to one digest (Near with options.fuzzy_max_neighbours), nearest
  // first: the value of each and how many distinct incidents hold a file at least that near.
  struct FuzzyHood {
    FuzzyKind kind = FuzzyKind::kTlsh;
    std::vector<std::pair<int, size_t>> steps;  // (distance or score, incidents so far)
    std::vector<std::string> incidents;         // incident of each step, for retrieval
    bool complete = false;                      // every file within the thresholds is listed
    // Incidents holding a file at least as near as `value`: exact when `exact` is set (the
    // list covers that value), else a lower bound.
    size_t Count(int value, bool* exact) const;
  };
  FuzzyHood Hood(const FuzzyDigest& d) const;
  // Fuzzy evidence of two incidents' digests before saturation: digests held by both are left
  // out (exact evidence); every other digest pairs with its nearest digest of the same kind on
  // the other side (ties: the smaller text), and each distinct pair adds closeness *
  // log(N / df). With `items`, one explanation item per pair (weight left 0 for the caller).
  // `a_hoods` (parallel to `a`, may be null) answer a's side of df when they can; with
  // `upper_bound` b's side is not looked up, which can only lower df: the result is then an
  // upper bound of the exact sum (for pruning in Similar).
  double FuzzySum(const std::vector<FuzzyDigest>& a, const std::vector<FuzzyDigest>& b,
                  std::vector<EvidenceItem>* items, const std::vector<FuzzyHood>* a_hoods = nullptr,
                  bool upper_bound = false) const;
  // Indexed incidents holding a digest of `d`'s kind at distance <= value (TLSH) or score >=
  // value (ssdeep) from it; at least 1.
  size_t FuzzyDf(const FuzzyDigest& d, int value) const;

  size_t N() const { return docs.size(); }
  size_t Df(uint32_t fid) const { return fid < postings.size() ? postings[fid].size() : 0; }
  // strength * log(N / df), df at least 1, never negative.
  double Idf(uint32_t fid, float feature_strength) const;

  std::vector<QueryFeature> Resolve(const Incident& incident) const;
  std::vector<QueryFeature> FromDoc(const Doc& doc) const;
  std::string_view Key(const QueryFeature& f) const {
    return f.fid < keys.size() ? keys[f.fid] : std::string_view(f.local_key);
  }

  // Evidence of two resolved feature lists (each sorted by fid) plus activity windows.
  Comparison CompareResolved(const std::vector<QueryFeature>& a, const std::vector<QueryFeature>& b,
                             std::optional<int32_t> a_first, std::optional<int32_t> a_last,
                             std::optional<int32_t> b_first, std::optional<int32_t> b_last,
                             bool explain) const;
  // Family sums -> saturated evidence (time family set separately) -> comparison numbers.
  void Finish(const FamilyVector& sums, double time_evidence, Comparison* out) const;

  std::vector<Match> SimilarResolved(const std::vector<QueryFeature>& query,
                                     std::optional<int32_t> first, std::optional<int32_t> last,
                                     int64_t self, size_t top_k, bool explain = true) const;
};

}  // namespace kinship::score

#endif  // KINSHIP_INDEX_POSTINGS_H_
