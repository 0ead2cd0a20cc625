// Fuzzy-hash similarity: TLSH (Oliver et al. 2013) and ssdeep (Kornblum 2006) digests, their
// distances/scores, and indexes that find near neighbours without comparing against everything.
//
// Example:
//   KINSHIP_ASSIGN_OR_RETURN(TlshDigest q, ParseTlsh("T1C9A4C0..."));
//   TlshIndex index;
//   index.Add(q, /*payload=*/7);
//   for (const TlshNeighbour& n : index.Radius(q, 30)) Use(n.payload, n.distance);
#ifndef KINSHIP_FUZZY_H_
#define KINSHIP_FUZZY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kinship/model.h"

namespace kinship {

// ---------------------------------------------------------------------------------------------
// TLSH
// ---------------------------------------------------------------------------------------------

// A TLSH digest (128 buckets, 1-byte checksum): 35 bytes, no heap, trivially copyable.
class TlshDigest {
 public:
  static constexpr size_t kBytes = 35;
  // The all-zero digest (a valid value; it is what "00...0" parses to).
  TlshDigest() = default;

  // "T1" followed by 70 upper-case hex digits (the current upstream form).
  std::string ToString() const;
  // The 70 hex digits alone (the form older tools, and Debian's libtlsh 3.4.4, use).
  std::string ToLegacyString() const;

  // Decoded header fields.
  uint8_t checksum() const { return bytes_[0]; }
  uint8_t lvalue() const;
  int q1() const { return bytes_[2] >> 4; }
  int q2() const { return bytes_[2] & 0xF; }
  // The hex-decoded bytes in display order.
  const std::array<uint8_t, kBytes>& bytes() const { return bytes_; }

  friend bool operator==(const TlshDigest&, const TlshDigest&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TlshDigest& d) {
    return H::combine_contiguous(std::move(h), d.bytes_.data(), d.bytes_.size());
  }

 private:
  friend absl::StatusOr<TlshDigest> ParseTlsh(std::string_view text);
  std::array<uint8_t, kBytes> bytes_{};
};

// Parses "T1" + 70 hex digits or the legacy 70 hex digits (either case of hex; "T1" may be
// "t1"). Nothing else is accepted: no whitespace, no "TNULL".
// Errors: kInvalidArgument with the reason.
absl::StatusOr<TlshDigest> ParseTlsh(std::string_view text);

// The standard TLSH distance (0 = near identical; <= 30 very few false positives, ~100 finds
// most related files), identical to upstream TLSH's totalDiff(). With include_length = false
// the file-length term is left out. Cost: a few nanoseconds, no allocation.
int TlshDistance(const TlshDigest& a, const TlshDigest& b, bool include_length = true);

// As above on text digests. Errors: kInvalidArgument if either does not parse.
absl::StatusOr<int> TlshDistance(std::string_view a, std::string_view b,
                                 bool include_length = true);

struct TlshNeighbour {
  uint32_t payload;
  int distance;
  friend bool operator==(const TlshNeighbour&, const TlshNeighbour&) = default;
};

// Nearest-neighbour index over TLSH digests (the standard distance, length term included).
// Answers are EXACT: equal to comparing the query with every digest added.
// Thread safety: const methods may run concurrently; Add and Compact need exclusive access.
// Memory: about 48 bytes per digest, plus a 3 MiB table once the first digest is added.
class TlshIndex {
 public:
  TlshIndex();
  ~TlshIndex();
  TlshIndex(TlshIndex&&) noexcept;
  TlshIndex& operator=(TlshIndex&&) noexcept;

  // Adds a digest carrying an opaque payload (payloads need not be unique). Amortised
  // O(log^2 n) distance computations.
  void Add(const TlshDigest& digest, uint32_t payload);
  // Rebuilds everything into one tree (O(n log n)); makes later queries faster. Optional.
  void Compact();
  size_t size() const;

  // Every digest at distance <= radius (radius >= 0), sorted by distance then insertion order.
  std::vector<TlshNeighbour> Radius(const TlshDigest& query, int radius) const;
  // The k nearest digests at distance <= max_distance, sorted by distance then insertion order
  // (ties at the k-th place are broken by insertion order).
  std::vector<TlshNeighbour> TopK(const TlshDigest& query, size_t k,
                                  int max_distance = 1 << 20) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// ssdeep
// ---------------------------------------------------------------------------------------------

// Largest block size accepted (ssdeep's own largest is 3 * 2^30).
inline constexpr uint64_t kMaxSsdeepBlockSize = uint64_t{3} << 32;

// Checks that `digest` is "BLOCKSIZE:PART1:PART2": decimal block size 1..kMaxSsdeepBlockSize
// without sign, zero-padding or spaces; parts of 0..64 base64 characters. A trailing
// ',"filename"' is NOT accepted. Errors: kInvalidArgument with the reason.
absl::Status ValidateSsdeep(std::string_view digest);

// The ssdeep score 0..100 (100 = identical), exactly libfuzzy's fuzzy_compare.
// Errors: kInvalidArgument if either digest fails ValidateSsdeep. Cost: ~1-2 microseconds.
absl::StatusOr<int> SsdeepCompare(std::string_view a, std::string_view b);

struct SsdeepMatch {
  uint32_t payload;
  int score;
  friend bool operator==(const SsdeepMatch&, const SsdeepMatch&) = default;
};

// Index of ssdeep digests by block size and the 7-grams of both signature parts (Wallace 2015).
// Query returns EXACTLY the digests a brute-force SsdeepCompare would score >= min_score.
// Thread safety: const methods may run concurrently; Add and Compact need exclusive access.
// Memory: 8 bytes per distinct 7-gram of a digest plus its text: ~0.75 KB per digest at 1 M
// (bench/micro/fuzzy_bench.cc) after Compact; postings added since the last internal merge (at
// most 1/8 of them) cost ~3x more until then.
class SsdeepIndex {
 public:
  SsdeepIndex();
  ~SsdeepIndex();
  SsdeepIndex(SsdeepIndex&&) noexcept;
  SsdeepIndex& operator=(SsdeepIndex&&) noexcept;

  // Errors: kInvalidArgument if the digest is invalid (nothing is added). Amortised
  // O(7-grams x log n).
  absl::Status Add(std::string_view digest, uint32_t payload);
  // Merges recently added postings into the sorted array (least memory). Optional.
  void Compact();
  size_t size() const;

  // Matches with score >= min_score (1..100), sorted by score descending then insertion order.
  // Errors: kInvalidArgument for an invalid digest or min_score outside 1..100.
  absl::StatusOr<std::vector<SsdeepMatch>> Query(std::string_view digest, int min_score) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// TLSH clustering (HAC-T, Oliver et al. 2021)
// ---------------------------------------------------------------------------------------------

struct TlshClusterOptions {
  // CDist: two clusters merge only through a pair at distance <= radius, and only if the merged
  // cluster's radius (largest distance from its best centre) stays <= radius.
  int radius = 30;
  // Step 3 of HAC-T: re-examine clusters changed by a merge until nothing merges (at most this
  // many passes).
  int max_passes = 16;
};

struct TlshClustering {
  // cluster[i] is the cluster of digest i: ids 0.. in order of each cluster's first member, so
  // the output is deterministic for a given input order. Singletons get their own id.
  std::vector<uint32_t> cluster;
  size_t clusters = 0;    // number of distinct ids
  size_t singletons = 0;  // clusters with one member
  int passes = 0;         // step-3 passes run
};

// Clusters digests HAC-T style: every digest looks up its nearest digest in another cluster
// (exact, through TlshIndex); the two clusters merge if that distance is <= radius and the merged
// radius stays <= radius (no "stringy" single-linkage chains). Cost: one radius query per digest
// per pass plus O(members) distance computations per merge. Errors: kInvalidArgument if
// options.radius < 0.
absl::StatusOr<TlshClustering> ClusterTlsh(const std::vector<TlshDigest>& digests,
                                           const TlshClusterOptions& options = {});

// External quality of a clustering against reference labels (same length as cluster).
struct ClusterQuality {
  double purity = 0;            // share of items whose label is their cluster's majority label
  double purity_clustered = 0;  // the same over items in clusters of >= 2 members
  double coverage = 0;          // share of items in clusters of >= 2 members
  double ari = 0;               // adjusted Rand index (Hubert and Arabie 1985)
  size_t clusters = 0;
  size_t singletons = 0;
};
// Errors: kInvalidArgument if the sizes differ or are 0.
absl::StatusOr<ClusterQuality> EvaluateClustering(const std::vector<std::string>& labels,
                                                  const std::vector<uint32_t>& cluster);

// ---------------------------------------------------------------------------------------------
// Fuzzy evidence between incidents (for the similarity scorer and `kinship similar-file`)
// ---------------------------------------------------------------------------------------------

enum class FuzzyKind : uint8_t { kTlsh, kSsdeep };

// How near counts as evidence.
struct FuzzyThresholds {
  int tlsh_max_distance = 100;  // TLSH distance <= this (30: very few false positives)
  int ssdeep_min_score = 1;     // ssdeep score >= this (1..100)
  size_t max_per_query = 50;    // nearest first; 0 = no limit
};

struct FuzzyEvidence {
  FuzzyKind kind = FuzzyKind::kTlsh;
  std::string query_digest;  // the digest asked about, as given
  std::string digest;        // the stored digest that is near it, as added
  std::string incident_id;   // the incident the stored digest belongs to
  // TLSH: the distance (0 = identical, lower is closer). ssdeep: the score (100 = identical).
  int value = 0;
  // Closeness in (0, 1]: ssdeep score / 100; TLSH 2^(-distance / 30) (1 at 0, 0.5 at 30,
  // 0.1 at 100), so a distance-30 match counts like an ssdeep 50.
  double weight = 0;
  // "TLSH distance 14 to a file in incident X" / "ssdeep score 88 to a file in incident X".
  std::string Explain() const;
};

// Closeness weights, exposed so a scorer can show how a weight was derived.
double TlshCloseness(int distance);
double SsdeepCloseness(int score);

// Stored TLSH/ssdeep digests of files, each tagged with its incident, answering "which stored
// files are near this digest". Exact (the indexes above). Thread safety: const methods may run
// concurrently; Add needs exclusive access.
//
// Example (scorer):
//   FuzzyEvidenceIndex fuzzy;
//   for (const Incident& inc : incidents) fuzzy.AddIncident(inc);
//   for (const FuzzyEvidence& e : fuzzy.NearIncident(query_incident)) Score(e.incident_id,
//       e.weight, e.Explain());
class FuzzyEvidenceIndex {
 public:
  FuzzyEvidenceIndex();
  ~FuzzyEvidenceIndex();
  FuzzyEvidenceIndex(FuzzyEvidenceIndex&&) noexcept;
  FuzzyEvidenceIndex& operator=(FuzzyEvidenceIndex&&) noexcept;

  // Errors: kInvalidArgument if the digest does not parse as `kind` (nothing is added).
  absl::Status Add(std::string_view incident_id, FuzzyKind kind, std::string_view digest);
  // Adds the incident's kTlsh and kSsdeep indicators (those without an error); returns how many
  // were added. Unparseable values are skipped (they carry no evidence).
  size_t AddIncident(const Incident& incident);
  size_t size() const;

  // Stored digests near `digest`, nearest first (TLSH distance ascending / ssdeep score
  // descending, then insertion order). Errors: kInvalidArgument for a bad digest.
  absl::StatusOr<std::vector<FuzzyEvidence>> Near(FuzzyKind kind, std::string_view digest,
                                                  const FuzzyThresholds& t = {}) const;
  // For every TLSH/ssdeep indicator of `incident`, the near files of OTHER incidents; for each
  // (other incident, kind) only the closest pair is kept. Sorted by weight descending, then
  // incident id.
  std::vector<FuzzyEvidence> NearIncident(const Incident& incident,
                                          const FuzzyThresholds& t = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Guesses the kind of a digest string: ssdeep if it validates as ssdeep, TLSH if it parses as
// TLSH. Errors: kInvalidArgument if neither.
absl::StatusOr<FuzzyKind> DetectFuzzyKind(std::string_view digest);

}  // namespace kinship

#endif  // KINSHIP_FUZZY_H_
