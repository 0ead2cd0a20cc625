// Similarity between incidents with explanations: features per incident, an inverted index with
// document frequencies, evidence weights in the spirit of Fellegi-Sunter record linkage (rare
// shared values weigh more than common ones), saturation within a family of evidence, and a
// calibration that maps the evidence to a probability that two incidents are the same actor's.
//
// Example:
//   KINSHIP_ASSIGN_OR_RETURN(auto index, score::SimilarityIndex::Build(*store, &kb));
//   KINSHIP_ASSIGN_OR_RETURN(auto matches, index.Similar("5a1e...", /*top_k=*/10));
//   for (const score::Match& m : matches) Print(m.id, m.comparison.probability);
//   KINSHIP_ASSIGN_OR_RETURN(score::Comparison c, index.Compare("a-id", "b-id"));
//   for (const score::FamilyEvidence& f : c.explanation.families) ...  // strongest first
//
// Fuzzy hashes (family kFuzzy): the TLSH and ssdeep indicators of indexed incidents are also kept
// in a FuzzyEvidenceIndex (fuzzy.h). Two incidents holding DIFFERENT digests that are near (TLSH
// distance <= ScoringOptions::fuzzy_tlsh_max_distance, ssdeep score >=
// fuzzy_ssdeep_min_score) share fuzzy evidence, weighted by closeness (TlshCloseness,
// SsdeepCloseness) times rarity; each digest counts once, through its nearest digest in the other
// incident. Similar also finds candidates through those near files. A
// digest both incidents hold is exact indicator evidence only: it never takes part in a fuzzy
// pair, so one file is not counted twice.
//
// Incidents should be normalised (normalize::NormalizeIncident): derived indicators (registered
// domain, URL host, /24, /48, e-mail domain) are read from the incident, not computed here.
// Invalid indicators (Indicator::valid() false) and warninglisted ones (benign()) are never
// features and weigh nothing.
//
// Thread safety: const methods of SimilarityIndex may run concurrently; Add, SetCalibration and
// SetMaxCandidateDf need exclusive access.
#ifndef KINSHIP_SIMILARITY_H_
#define KINSHIP_SIMILARITY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kinship/isotonic.h"
#include "kinship/model.h"
#include "kinship/status.h"

namespace kinship {
class Store;
namespace kb {
class KnowledgeBase;
}

namespace score {

// Families of evidence. Weights saturate within a family; each family has its own weight in the
// calibration ("a shared C2 says more than a shared technique").
enum class Family : uint8_t {
  kIndicator,       // the same stated indicator value (ip, domain, url, hash, mutex, ...)
  kInfrastructure,  // derived: registered domain, URL host / hostname, /24 or /48, e-mail domain
  kSoftware,        // the same malware/tool (KB S-id when known, else normalised name)
  kTechnique,       // the same ATT&CK (sub-)technique; parent technique with weaker credit
  kNaming,          // naming style: character n-grams of domains, URLs, file names; TLD
  kVictim,          // victim sector, victim country
  kTime,            // overlapping or close activity windows (corroborates, never alone)
  kFuzzy,           // TLSH / ssdeep closeness of different digests (near files)
};
inline constexpr int kFamilyCount = 8;
// "indicator", "infrastructure", "software", "technique", "naming", "victim", "time", "fuzzy".
std::string_view FamilyName(Family f);

using FamilyVector = std::array<double, kFamilyCount>;

// One feature of an incident, as `namespace:value` (e.g. "ipv4:176.31.112.10",
// "regdom:actblues.com", "net:176.31.112.0/24", "soft:S0023", "tech:T1566.001",
// "techp:T1566", "ng:blue", "tld:com", "sector:government"). TLSH and ssdeep digests are
// indicator features ("tlsh:T1...", "ssdeep:96:..."); their fuzzy evidence is computed per pair
// (Explanation items "tlsh:<digest> ~ <other digest> (distance 14)").
struct Feature {
  Family family = Family::kIndicator;
  std::string key;
  // Multiplier of the feature's weight (1; 0.5 for a parent technique; lower for n-grams).
  double strength = 1.0;
};

struct ScoringOptions {
  // Saturation cap per family (in nats of evidence): a family's evidence is
  // cap * (1 - exp(-sum / cap)), so fifty indicators of one toolkit are not fifty witnesses.
  FamilyVector saturation = {12, 10, 8, 4, 4, 2, 1, 6};
  // Character n-gram length and most naming features kept per incident (a consistent bottom-k
  // sample by hash, so two incidents with the same names keep the same n-grams). N-grams of
  // stated domains without their TLD (the TLD is its own feature), of URL paths and of file
  // names, the last two without a file extension (".exe" says what a file is, not who named it).
  int ngram = 4;
  size_t max_naming_features = 64;
  // Activity windows within this many days count as time evidence (linearly less with the gap).
  int time_window_days = 90;
  // Postings longer than this only add weight to candidates found through rarer features; they
  // do not bring new candidates. Lower it to trade exhaustiveness for latency on large corpora.
  // 0 means limits::kMaxPostingWalk.
  size_t max_candidate_df = 0;
  // Over-correlating values weigh nothing. MISP stops correlating a value held by more than
  // MISP.correlation_limit events (100 by default): such a value links everything to everything
  // and says nothing of who. Here an exact value (indicator family) or a derived one
  // (infrastructure: registered domain, URL host, /24, /48) held by more than
  // max(over_correlation_min, over_correlation_share * N) of the N indexed incidents has weight
  // 0 in every score and explanation, and is neither walked nor looked up. 0 and 0 turn it off.
  size_t over_correlation_min = 100;
  double over_correlation_share = 0.001;
  // Fuzzy evidence: a pair of different TLSH digests counts up to this distance (weight
  // 2^(-distance / 30): 1 at 0, 0.1 at 100); a pair of ssdeep digests from this score on
  // (weight score / 100). Either is multiplied by the rarity log(N / df), df = the indexed
  // incidents holding a digest at least as near to either side of the pair.
  int fuzzy_tlsh_max_distance = 100;
  int fuzzy_ssdeep_min_score = 1;
  // Nearest files per query digest that Similar takes as new candidates (0 = no limit).
  size_t fuzzy_max_neighbours = 50;
};

// Incidents above which an indicator or infrastructure feature over-correlates in a corpus of
// `incidents` (ScoringOptions::over_correlation_min / _share); SIZE_MAX when the rule is off.
size_t OverCorrelationLimit(const ScoringOptions& options, size_t incidents);

// The features of one incident (deduplicated; order unspecified). `kb` (may be null) resolves
// software and technique names to ATT&CK ids. Pure; cost linear in the incident's size.
std::vector<Feature> ExtractFeatures(const Incident& incident, const kb::KnowledgeBase* kb,
                                     const ScoringOptions& options = {});

// The incident's stated values behind a naming feature of an explanation, so that "ng:host"
// reads as "dllhost.dat" on one side and "host-update.net" on the other: the domains, URLs and
// file names whose naming text holds the n-gram ("tld:com": the .com domains), at most `limit`,
// in the incident's order. Empty for any other feature.
std::vector<std::string> NamingSources(const Incident& incident, std::string_view feature,
                                       size_t limit = 3);

// One incident's naming texts prepared once, for NamingSources over the many naming items of an
// explanation (an incident may hold thousands of values): each distinct stated value with its
// naming text and TLD.
class NamingTexts {
 public:
  explicit NamingTexts(const Incident& incident);
  // As NamingSources; `total`, if given, receives how many values hold the feature in all.
  std::vector<std::string> Sources(std::string_view feature, size_t limit,
                                   size_t* total = nullptr) const;

  // The values packed into one string (each with its indicator type and length; the naming text
  // and TLD are derived again on Unpack), a few bytes over the values themselves: what a server
  // keeps of every incident so that explanations need no store read. Unpack(Pack()) answers
  // Sources as the original does; std::nullopt when the bytes end inside a value.
  std::string Pack() const;
  static std::optional<NamingTexts> Unpack(std::string_view packed);

 private:
  NamingTexts() = default;
  struct Entry {
    IndicatorType type = IndicatorType::kOther;
    std::string value, padded, tld;  // padded: "^" + naming text + "$", or empty
  };
  static Entry MakeEntry(IndicatorType type, std::string value);
  std::vector<Entry> entries_;  // in incident order
};

// Maps evidence to a probability of "same actor":
//   raw = sum_f weight[f] * evidence[f];
//   probability = steps(raw), the isotonic map fitted on labelled pairs (FitSteps), or, without
//   steps, 1 / (1 + exp(-(intercept + raw))).
// Non-negative family weights make the probability monotone in every family's evidence. The
// weights are set by hand (they rank); the steps make the probability mean what it says.
struct Calibration {
  FamilyVector weight = {1.0, 0.7, 0.6, 0.25, 0.3, 0.15, 0.5, 0.8};
  double intercept = -4.0;
  IsotonicCalibrator steps;

  // The hand-set weights with the steps `kinship eval` fitted on the development data
  // (docs/evaluation.md, "Pair calibration"); what every index starts with.
  static Calibration Default();

  double Raw(const FamilyVector& evidence) const;
  // Probability for a raw score; monotone non-decreasing in raw.
  double Calibrate(double raw) const;
  double Probability(const FamilyVector& evidence) const { return Calibrate(Raw(evidence)); }
};

// A labelled pair for fitting: the per-family evidence of Compare and whether the two incidents
// are the same actor's work.
struct LabelledPair {
  FamilyVector evidence{};
  bool same_actor = false;
};

// Fits family weights (kept >= 0) and the intercept by L2-regularised logistic regression on
// labelled pairs (Platt-style calibration). Deterministic. Errors: kInvalidArgument when `pairs`
// lacks a positive or a negative example.
absl::StatusOr<Calibration> Fit(const std::vector<LabelledPair>& pairs, double l2 = 1e-3);

// `base` (its weights and intercept kept) with steps fitted by isotonic regression of
// `same_actor` (0/1) on the pairs' `raw` scores (base.Raw of their evidence), each step's
// probability kept within [0.01, 0.99]: a few hundred pairs of one kind never make a pair
// certain, or impossible. Errors: kInvalidArgument when the sizes differ or the pairs lack a
// same-actor or an other-actor example.
absl::StatusOr<Calibration> FitSteps(const std::vector<double>& raw,
                                     const std::vector<int>& same_actor, const Calibration& base);

class SimilarityIndex;

// Labelled pairs for Fit() from an index's own attributed incidents: every `stride`-th indexed
// incident with a stated actor against its `top_k` most similar incidents that have one, labelled
// same_actor when their first stated actors are equal. These are the pairs retrieval produces, so
// the fit learns the family weights where the calibration is used. Cost: one Similar() per
// sampled incident. Deterministic.
std::vector<LabelledPair> LabelledPairsFromIndex(const SimilarityIndex& index, size_t top_k,
                                                 size_t stride = 1);

// One shared feature in an explanation.
struct EvidenceItem {
  // "ipv4:176.31.112.10"; for fuzzy evidence the pair and its closeness, this side's digest
  // first: "tlsh:T1A3... ~ T1A7... (distance 14)", "ssdeep:96:Ss5X... ~ 96:Ss5a... (score 88)".
  std::string feature;
  double weight = 0;  // its share of the family's (saturated, calibrated) contribution
  double idf = 0;     // strength * log(N / df) (fuzzy: closeness * log(N / df)) before saturation
  size_t df = 0;      // indexed incidents holding it (fuzzy: holding a file at least as near)
  // The knowledge base's name of an ATT&CK id in `feature` ("soft:S0117" -> "XTunnel"), when the
  // caller has looked it up (the CLI does); empty otherwise.
  std::string name = {};
};

struct FamilyEvidence {
  Family family = Family::kIndicator;
  double evidence = 0;              // saturated evidence before the family weight
  double weight = 0;                // contribution to raw (calibration weight * evidence)
  std::vector<EvidenceItem> items;  // strongest first (ties: by feature)
};

// Why two incidents are alike: families with a non-zero contribution, strongest first.
struct Explanation {
  std::vector<FamilyEvidence> families;
  // Shared values that weigh nothing because they over-correlate (ScoringOptions::
  // over_correlation_min): how many, the limit they are over, and up to three of them, the
  // least held first.
  size_t over_correlating = 0;
  size_t over_correlation_limit = 0;
  std::vector<std::string> over_correlating_examples = {};
  // One line per family: "indicator 7.21: ipv4:176.31.112.10 (6.90), ...", an item with a name
  // (a KB item named by NameKbItems) as "soft:S0117 XTunnel (0.87)"; then, when some
  // shared values over-correlate, "not counted: 12 over-correlating values (each held by more
  // than 100 incidents): ipv4:..., ...".
  std::string ToString(size_t max_items_per_family = 5) const;
  // "12 over-correlating values (each held by more than 100 incidents): ipv4:..., domain:...
  // +9 more"; empty when none.
  std::string OverCorrelatingText() const;
};

struct Comparison {
  double probability = 0;   // calibrated "same actor" probability in [0, 1]
  double raw = 0;           // sum of family contributions (0 when nothing is shared)
  FamilyVector evidence{};  // per-family saturated evidence (input to Fit)
  Explanation explanation;
};

struct Match {
  std::string id;
  Comparison comparison;
};

struct IndexStats {
  size_t incidents = 0;
  size_t features = 0;      // distinct features
  size_t postings = 0;      // (feature, incident) entries
  size_t memory_bytes = 0;  // estimate of the index's heap use
};

// In-memory inverted index over incidents' features, with document frequencies kept current as
// incidents are added. Stores, per incident, only its id, activity window, stated attributions
// and feature ids (not the full incident), and its TLSH / ssdeep digests in a FuzzyEvidenceIndex.
// Features are identified by a 64-bit hash of their key; the key's text is kept only once two
// incidents hold it (what explanations name). Two different keys are taken for one feature only
// if their hashes collide: probability about n^2 / 2^65 over n distinct features (~3e-6 at 10 M).
class SimilarityIndex {
 public:
  // `kb` (may be null) must outlive the index.
  explicit SimilarityIndex(const kb::KnowledgeBase* kb = nullptr, ScoringOptions options = {});
  ~SimilarityIndex();
  SimilarityIndex(SimilarityIndex&&) noexcept;
  SimilarityIndex& operator=(SimilarityIndex&&) noexcept;

  // Every incident of the store (Store::ForEachIncidentReadAhead: reading overlaps with
  // indexing). `also`, when set, sees every incident right after it is indexed, so that another
  // index can be built in the same pass; it sees what Store::Detail::kAnalysis reads (no
  // description, raw forms, locations or snippets). Errors: those of the store and of Add.
  static absl::StatusOr<SimilarityIndex> Build(
      Store& store, const kb::KnowledgeBase* kb = nullptr, ScoringOptions options = {},
      const std::function<void(const Incident&)>& also = {});
  // Adds the store's incidents from the `skip`-th on (insertion order; Store::ForEachIncident),
  // as Build reads them: an index built from the store's first `skip` incidents grows into the
  // one Build makes now. Returns how many were added. Errors: as Build's.
  absl::StatusOr<size_t> AddStored(Store& store, size_t skip,
                                   const std::function<void(const Incident&)>& also = {});
  // Errors: as Add (the first failing incident).
  static absl::StatusOr<SimilarityIndex> Build(const std::vector<Incident>& incidents,
                                               const kb::KnowledgeBase* kb = nullptr,
                                               ScoringOptions options = {});

  // Indexes an incident and updates document frequencies. Errors: kInvalidArgument for an empty
  // id; kAlreadyExists when the id is already indexed (nothing changes); kResourceExhausted past
  // 2^31 incidents or 4 GiB of distinct feature keys (nothing changes).
  absl::Status Add(const Incident& incident);
  // Takes incidents out: the index then answers as one built without them (document
  // frequencies, the incident count, near files; features no other incident holds are dropped),
  // the others kept in their order, so that a snapshot stays current when incidents leave the
  // store (`kinship remove`, an ingest that replaces stored incidents). Feature numbers change;
  // sums may then add up in another order (last-bit differences). Duplicate ids count once.
  // Returns how many were removed. Errors: kNotFound for an id not indexed; kResourceExhausted
  // as Add's (nothing changes either way).
  absl::StatusOr<size_t> Remove(const std::vector<std::string>& ids);

  size_t size() const;
  bool Contains(std::string_view id) const;
  // Ids in insertion order.
  std::vector<std::string> Ids() const;
  // Stated attributions of an indexed incident (actor_id when resolved, else actor_name), empty
  // when none or when the id is unknown.
  std::vector<std::string> StatedActors(std::string_view id) const;
  // Activity window of an indexed incident as given ("" when unknown).
  std::pair<std::string, std::string> ActivityWindow(std::string_view id) const;

  // The top_k indexed incidents most similar to `query` (itself excluded when indexed), by
  // probability descending then id; only incidents sharing evidence (raw > 0). Candidates come
  // from the postings walked rarest feature first (limits::kMaxCandidatesPerQuery,
  // limits::kMaxPostingWalk) and from the files nearest to each of the query's TLSH / ssdeep
  // digests (ScoringOptions::fuzzy_max_neighbours); within those limits the answer equals
  // Compare against every indexed incident. Errors: kNotFound for an unknown id.
  absl::StatusOr<std::vector<Match>> Similar(std::string_view id, size_t top_k) const;
  std::vector<Match> Similar(const Incident& query, size_t top_k) const;
  // The same among the incidents whose source states an actor (StatedActors not empty): what
  // attribution's neighbours are. Equals Similar's answer with the others left out, and costs
  // less: the others are never candidates, nor explained.
  std::vector<Match> SimilarAttributed(const Incident& query, size_t top_k) const;

  // Score and explanation of a pair. Document frequencies are those of the indexed corpus (a
  // query incident not indexed is not counted). Errors: kNotFound for an unknown id. An indexed
  // incident compared with itself: features no other incident holds have no kept key text and
  // are named "" in the explanation.
  absl::StatusOr<Comparison> Compare(std::string_view a, std::string_view b) const;
  Comparison Compare(const Incident& a, const Incident& b) const;
  // An incident that need not be indexed (a file read, not stored) against indexed incident `b`,
  // as Similar(a, ...) explains its match with b. Errors: kNotFound for an unknown `b`.
  absl::StatusOr<Comparison> Compare(const Incident& a, std::string_view b) const;

  // Weight of a shared feature before saturation and family weight: strength * log(N / df),
  // df at least 1, never negative; 0 for an unknown feature.
  double FeatureIdf(std::string_view key) const;
  size_t DocumentFrequency(std::string_view key) const;

  void SetCalibration(const Calibration& calibration);
  // ScoringOptions::max_candidate_df, read at query time only (0 = limits::kMaxPostingWalk).
  void SetMaxCandidateDf(size_t df);
  // ScoringOptions::over_correlation_min / _share, read at query time only.
  void SetOverCorrelation(size_t min_incidents, double share);
  // Incidents above which an indicator or infrastructure feature weighs nothing (SIZE_MAX when
  // the rule is off).
  size_t OverCorrelationLimit() const;
  const Calibration& calibration() const;
  const ScoringOptions& options() const;

  IndexStats Stats() const;

  // Snapshots (docs/architecture.md, "Index snapshots"): the index written to a file and read
  // back instead of indexing the store again. `key` names what was indexed (for the CLI: the
  // store's identity and write generation); Load refuses a snapshot written under another key,
  // by another build of kinship, or with other build-time options (kFailedPrecondition: stale,
  // index again). Save writes a temporary file beside `path` and renames it over `path`, so a
  // reader sees the old snapshot or the new one, never half of one. The loaded index answers as
  // the saved one; it takes `options`' query-time settings (max_candidate_df, over_correlation_*)
  // and the default calibration.
  absl::Status Save(const std::string& path, std::string_view key) const;
  // Errors: kNotFound (no file); kFailedPrecondition (stale, as above); kDataLoss (damaged or
  // truncated: names the file and the byte offset).
  static absl::StatusOr<SimilarityIndex> Load(const std::string& path, std::string_view key,
                                              const kb::KnowledgeBase* kb = nullptr,
                                              ScoringOptions options = {});
  // The same from bytes in memory (`name` stands for the file in errors).
  static absl::StatusOr<SimilarityIndex> LoadBytes(std::string_view bytes, std::string_view name,
                                                   std::string_view key,
                                                   const kb::KnowledgeBase* kb = nullptr,
                                                   ScoringOptions options = {});
  // What a snapshot file says of itself, read from its first bytes: the key it was written
  // under and whether this build of kinship reads it. Errors: as Load's for the header.
  struct SnapshotHeader {
    std::string key;
    std::string written_by;  // the kinship version and snapshot format that wrote it
    bool readable = false;   // written by this build's format (else stale whatever the key)
  };
  static absl::StatusOr<SnapshotHeader> ReadSnapshotHeader(const std::string& path);

  struct Impl;
  const Impl& impl() const { return *impl_; }  // for library stages (campaigns)

 private:
  // Load and LoadBytes: `reader` is snapshot.cc's reader, past nothing yet.
  static absl::StatusOr<SimilarityIndex> LoadFrom(void* reader, std::string_view key,
                                                  const kb::KnowledgeBase* kb,
                                                  ScoringOptions options, std::string_view name);
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Campaigns
// ---------------------------------------------------------------------------------------------

// How linked incidents are grouped. kAverage (the default): clusters merge while the average
// link over all their member pairs (unlinked pairs count 0) stays >= the threshold, so a bridge
// incident cannot chain unrelated groups. kSingle: every connected component of the link graph
// (what an exact-correlation graph does); it chains, and is kept for comparison
// (docs/evaluation.md "Campaign linking").
enum class Linkage { kAverage, kSingle };

struct CampaignOptions {
  // Two incidents link when their "same actor" probability is >= this.
  double threshold = 0.5;
  // Neighbours retrieved per incident to build the sparse link graph.
  size_t neighbours = 30;
  // Smallest campaign reported.
  size_t min_members = 2;
  Linkage linkage = Linkage::kAverage;
  // Hears how many incidents have had their neighbours searched, of how many: about every tenth
  // of the way and at the end. Called from worker threads (calls for different counts may
  // overlap); may be empty.
  std::function<void(size_t done, size_t total)> progress = {};
};

// An incident linked to a campaign member although average linkage left it out of every
// campaign (its own links do not reach the threshold on average over the members).
struct LinkedIncident {
  std::string id;
  std::string via;         // the member it links to most strongly
  double probability = 0;  // that link's "same actor" probability
};

struct Campaign {
  std::vector<std::string> members;   // insertion order
  std::string first_seen, last_seen;  // span over members' activity windows ("" when unknown)
  double cohesion = 0;                // average linkage probability over all member pairs
  // Features held by at least two members, grouped by family, strongest first.
  Explanation binding;
  // Stated attribution majority: actor (id or name), votes, members with any stated actor.
  std::string actor;
  size_t actor_votes = 0;
  size_t attributed_members = 0;
  // Average linkage only: incidents in no campaign that link to a member, strongest first. They
  // are shown beside the campaign, not counted in it (members, span, binding, attribution), so
  // a bridge incident cannot pull in what it links to. An incident may stand beside several.
  std::vector<LinkedIncident> linked;
};

// Campaigns over every indexed incident, largest first (ties: first member id). Deterministic.
// Errors: kInvalidArgument for a threshold outside (0, 1].
absl::StatusOr<std::vector<Campaign>> FindCampaigns(const SimilarityIndex& index,
                                                    const CampaignOptions& options = {});

}  // namespace score
}  // namespace kinship

#endif  // KINSHIP_SIMILARITY_H_
