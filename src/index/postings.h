// SimilarityIndex::Impl: the feature dictionary, postings lists with document frequencies, and
// per-incident feature ids (library-internal; campaigns read it).
#ifndef KINSHIP_INDEX_POSTINGS_H_
#define KINSHIP_INDEX_POSTINGS_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL  // header-only: hashing every feature key is on indexing's hot path
#include <xxhash.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "kinship/fuzzy.h"
#include "kinship/similarity.h"

namespace kinship::score {

struct SimilarityIndex::Impl {
  // Writes and reads snapshots (src/index/snapshot.cc).
  struct SnapshotIo;

  Impl() = default;
  // The dictionary's hash and equality point into `key_hash`.
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  struct Doc {
    std::string id;
    std::string first_seen, last_seen;
    std::optional<int32_t> first_day, last_day;
    std::vector<std::string> actors;
    std::vector<uint32_t> features;  // sorted feature ids
    bool has_fuzzy = false;          // holds a TLSH or ssdeep digest
  };

  // A feature of a query resolved against the dictionary: `fid` >= FeatureCount() for a feature
  // the index has never seen (df 0). `local_key` is the key of a feature resolved from an
  // incident (empty for one read from an indexed incident: KeyText).
  struct QueryFeature {
    uint32_t fid;
    Family family;
    float strength;
    std::string local_key;
  };

  const kb::KnowledgeBase* kb = nullptr;
  ScoringOptions options;
  Calibration calibration = Calibration::Default();

  // Key texts, stored back to back in fixed blocks, each as a varint length and its bytes
  // (no per-key heap allocation), found by a 32-bit position (block * kBlock + offset). Views
  // stay valid as it grows. Holds at most kMaxBlocks blocks.
  class KeyArena {
   public:
    // Appends `key` as number size(). False (and nothing added) when the arena is full.
    bool Add(std::string_view key);
    // Whether keys of `key_bytes` bytes in all (with their length prefixes) surely fit.
    bool HasRoom(size_t key_bytes) const;
    size_t size() const { return starts_.size(); }
    std::string_view operator[](size_t i) const;
    size_t bytes() const;

   private:
    friend struct SnapshotIo;
    static constexpr size_t kBlock = 1 << 20;
    static constexpr size_t kMaxBlocks = (size_t{1} << 32) / kBlock;
    std::vector<std::unique_ptr<char[]>> blocks_;
    size_t used_ = kBlock;
    std::vector<uint32_t> starts_;
  };

  // An array grown in fixed chunks: no doubling slack, elements never move.
  template <typename T>
  class Chunked {
   public:
    void push_back(T v) {
      if ((size_ & (kChunk - 1)) == 0) chunks_.push_back(std::make_unique<T[]>(kChunk));
      chunks_.back()[size_ & (kChunk - 1)] = v;
      ++size_;
    }
    T& operator[](size_t i) { return chunks_[i >> kShift][i & (kChunk - 1)]; }
    const T& operator[](size_t i) const { return chunks_[i >> kShift][i & (kChunk - 1)]; }
    size_t size() const { return size_; }
    size_t bytes() const {
      return chunks_.size() * kChunk * sizeof(T) + chunks_.capacity() * sizeof(chunks_[0]);
    }

   private:
    friend struct SnapshotIo;
    static constexpr size_t kShift = 16;
    static constexpr size_t kChunk = size_t{1} << kShift;
    std::vector<std::unique_ptr<T[]>> chunks_;
    size_t size_ = 0;
  };

  // Features are identified by a 64-bit hash of their key (HashKey): the dictionary is a set of
  // feature ids hashed and compared by `key_hash`, 4 bytes a slot. Two different keys share a
  // feature only if their hashes collide, with probability about n^2 / 2^65 over n features
  // (~3e-6 at 10 M). Key texts are kept only where an explanation can name them: for features
  // held by two incidents or more (shared evidence) and for TLSH / ssdeep digests (fuzzy
  // evidence); most features are held by one incident and cost no text. The hash is saved in
  // index snapshots and a loaded index goes on hashing new keys with it, so it must be the same
  // in every process: XXH3 (absl::Hash is seeded per process; with it, an incident added to a
  // loaded index shared no feature with the loaded ones).
  static uint64_t HashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }
  struct HashedKey {
    uint64_t hash;
  };
  struct FeatureHash {
    using is_transparent = void;
    const Chunked<uint64_t>* key_hash;
    size_t operator()(uint32_t fid) const { return (*key_hash)[fid]; }
    size_t operator()(HashedKey k) const { return k.hash; }
  };
  struct FeatureEq {
    using is_transparent = void;
    const Chunked<uint64_t>* key_hash;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, HashedKey b) const { return (*key_hash)[a] == b.hash; }
    bool operator()(HashedKey a, uint32_t b) const { return a.hash == (*key_hash)[b]; }
  };
  Chunked<uint64_t> key_hash;
  absl::flat_hash_set<uint32_t, FeatureHash, FeatureEq> feature_ids{0, FeatureHash{&key_hash},
                                                                    FeatureEq{&key_hash}};
  // Feature id of a key, if indexed.
  std::optional<uint32_t> FindFeature(std::string_view key) const {
    auto it = feature_ids.find(HashedKey{HashKey(key)});
    if (it == feature_ids.end()) return std::nullopt;
    return *it;
  }
  size_t FeatureCount() const { return key_hash.size(); }
  // Family and strength of every feature, as one byte: its number in `kinds` (distinct pairs).
  Chunked<uint8_t> kind_of_feature;
  std::vector<std::pair<Family, float>> kinds;
  static constexpr size_t kMaxKinds = 256;
  Family FamilyOf(uint32_t fid) const { return kinds[kind_of_feature[fid]].first; }
  float StrengthOf(uint32_t fid) const { return kinds[kind_of_feature[fid]].second; }

  // Postings of every feature, in 4 bytes a feature for the many held by one incident without
  // a kept key: that incident's number; any other keeps kList | its list's index, and the list
  // holds the incidents and the key's number in `texts`.
  class Postings {
   public:
    static constexpr uint32_t kNoText = ~uint32_t{0};
    // A new feature (number size()) held by `doc`, with its key text's number (or kNoText).
    void AddFeature(uint32_t doc, uint32_t text);
    // Adds `doc` to a feature's postings; `text` is called for the key text's number when the
    // feature has none yet.
    template <typename Text>
    void Add(uint32_t fid, uint32_t doc, Text text) {
      uint32_t& h = head_[fid];
      if ((h & kList) == 0) {
        lists_.push_back({{h, doc}, text()});
        h = kList | static_cast<uint32_t>(lists_.size() - 1);
      } else {
        lists_[h & ~kList].docs.push_back(doc);
      }
    }
    size_t size() const { return head_.size(); }
    std::span<const uint32_t> operator[](uint32_t fid) const {
      const uint32_t& h = head_[fid];
      if ((h & kList) == 0) return {&h, 1};
      return lists_[h & ~kList].docs;
    }
    // Number of the feature's key text in `texts`, or kNoText.
    uint32_t Text(uint32_t fid) const {
      const uint32_t h = head_[fid];
      return (h & kList) == 0 ? kNoText : lists_[h & ~kList].text;
    }
    size_t bytes() const;
    // Incident numbers must stay below this.
    static constexpr uint32_t kList = uint32_t{1} << 31;

   private:
    friend struct SnapshotIo;
    struct List {
      std::vector<uint32_t> docs;
      uint32_t text = kNoText;
    };
    Chunked<uint32_t> head_;
    std::vector<List> lists_;
  };
  Postings postings;
  // Bitmaps (bit `doc` set: the incident holds the feature) of the commonest features, those held
  // by at least BitmapMinDf incidents when they got one; kept current by Add. After the walk, a
  // query's common terms are tested against its few hundred candidates here, a bit each, instead
  // of walking tens of thousands of postings or merging each candidate's features. At most half
  // the size of the postings they shadow when made (N / 8 bytes against 4 * df, df >= N / 16).
  absl::flat_hash_map<uint32_t, uint32_t> bitmap_of;  // feature id -> index in `bitmaps`
  std::vector<std::vector<uint64_t>> bitmaps;
  static size_t BitmapMinDf(size_t n) { return std::max<size_t>(1024, n / 16); }
  const std::vector<uint64_t>* Bitmap(uint32_t fid) const {
    auto it = bitmap_of.find(fid);
    return it == bitmap_of.end() ? nullptr : &bitmaps[it->second];
  }
  static bool Holds(const std::vector<uint64_t>& bits, uint32_t doc) {
    return (doc >> 6) < bits.size() && ((bits[doc >> 6] >> (doc & 63)) & 1) != 0;
  }
  // After `doc` was added to the postings of `fid`: sets its bit, or makes the feature's bitmap
  // when it has just become common enough.
  void NoteHolder(uint32_t fid, uint32_t doc);
  KeyArena texts;
  // The key of a feature held by two incidents or more, or of a TLSH / ssdeep digest; "" for
  // another feature (held by one incident: no explanation names it).
  std::string_view KeyText(uint32_t fid) const {
    const uint32_t t = postings.Text(fid);
    return t == Postings::kNoText ? std::string_view() : texts[t];
  }

  std::vector<Doc> docs;
  absl::flat_hash_map<std::string, uint32_t> doc_ids;
  // The TLSH / ssdeep indicator features of every indexed incident, for near-file retrieval
  // and the rarity of a fuzzy match.
  FuzzyEvidenceIndex fuzzy;
  // (incident, feature) of every digest `fuzzy` took, in the order it took them (its ties are
  // broken by that order): what a snapshot replays.
  std::vector<std::pair<uint32_t, uint32_t>> fuzzy_added;
  // Adds feature `fid`'s digest (an indicator feature "tlsh:" / "ssdeep:") as held by `doc` to
  // `fuzzy` and `fuzzy_added`. False when it is no digest `fuzzy` takes.
  bool AddFuzzy(uint32_t doc, uint32_t fid);

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
  // See SimilarityIndex::OverCorrelationLimit.
  size_t OverCorrelationLimit() const;
  // Whether an indexed feature is an indicator or infrastructure value held by more than
  // `limit` incidents (weight 0); false for a feature the index has never seen.
  bool OverCorrelates(uint32_t fid, size_t limit) const;

  std::vector<QueryFeature> Resolve(const Incident& incident) const;
  std::vector<QueryFeature> FromDoc(const Doc& doc) const;
  std::string_view Key(const QueryFeature& f) const {
    return f.local_key.empty() ? KeyText(f.fid) : std::string_view(f.local_key);
  }

  // Evidence of two resolved feature lists (each sorted by fid) plus activity windows.
  // `b_may_have_fuzzy` false (b is an indexed incident without digests) skips the search for
  // digests among the features, which looks every key up.
  Comparison CompareResolved(const std::vector<QueryFeature>& a, const std::vector<QueryFeature>& b,
                             std::optional<int32_t> a_first, std::optional<int32_t> a_last,
                             std::optional<int32_t> b_first, std::optional<int32_t> b_last,
                             bool explain, bool b_may_have_fuzzy = true) const;
  // Family sums -> saturated evidence (time family set separately) -> comparison numbers.
  FamilyVector Evidence(const FamilyVector& sums, double time_evidence) const;
  // The raw score alone (no calibration): what ranking and pruning compare.
  double Raw(const FamilyVector& sums, double time_evidence) const;
  void Finish(const FamilyVector& sums, double time_evidence, Comparison* out) const;

  // Estimated heap use by part (IndexStats::memory_bytes is their sum).
  std::vector<std::pair<std::string_view, size_t>> MemoryParts() const;

  // The top_k most similar, best first. With `min_raw`, only those whose raw score reaches it
  // (FindCampaigns: the raw score of its probability threshold): candidates that cannot reach it
  // are neither walked into nor kept, which is most of them in a store of common values.
  // `attributed_only`: only incidents with a stated actor are candidates (Attributed).
  std::vector<Match> SimilarResolved(const std::vector<QueryFeature>& query,
                                     std::optional<int32_t> first, std::optional<int32_t> last,
                                     int64_t self, size_t top_k, bool explain = true,
                                     double min_raw = -std::numeric_limits<double>::infinity(),
                                     bool attributed_only = false) const;
  // True when the incident's source states an actor (a first actor that is not empty).
  static bool Attributed(const Doc& d) { return !d.actors.empty() && !d.actors.front().empty(); }
};

}  // namespace kinship::score

#endif  // KINSHIP_INDEX_POSTINGS_H_
