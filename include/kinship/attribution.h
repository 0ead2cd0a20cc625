// Attribution: which known actor is likely behind an incident, how likely (a calibrated
// probability and its ICD 203 likelihood term), and how sure we are of the evidence (a separate
// confidence level), or an explicit "no known actor fits" abstention. See docs/attribution.md.
//
// Two evidence sources are combined per actor: (a) similar incidents whose stated attribution is
// known (neighbours, each with a "same actor" probability and its shared evidence), and (b) the
// match of the incident's techniques and software against each actor's knowledge-base profile,
// weighted by rarity; optionally (c) the match against actor documents (BuildActorIndex). A
// conditional logit over the candidates turns their features into probabilities (Model). The
// query's own stated attribution is never evidence of itself: callers pass its features only,
// and NeighbourIndex never returns the query's own id.
//
// Example:
//   attrib::NeighbourIndex known;
//   for (const Incident& inc : attributed) known.Add(inc, inc.attributions[0].actor_id);
//   known.Finalize();
//   attrib::ProfileMatcher profiles = attrib::ProfileMatcher::FromKb(kb);
//   attrib::Attributor attributor(&profiles, attrib::KbViewOf(kb), attrib::Model::Default());
//   attrib::Result r = attributor.Attribute(query, known.Neighbours(query, 20));
//   // r.candidates[0].probability, r.candidates[0].likelihood, r.confidence, r.abstained
//
// All types are plain values or immutable after construction/Finalize; const methods are
// thread-safe. Pointers passed to constructors are not owned and must outlive the object.
#ifndef KINSHIP_ATTRIBUTION_H_
#define KINSHIP_ATTRIBUTION_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "kinship/isotonic.h"
#include "kinship/model.h"
#include "kinship/status.h"

namespace kinship {
namespace kb {
class KnowledgeBase;
}
namespace score {
class SimilarityIndex;
}
namespace attrib {

// ---- ICD 203 likelihood terms and confidence levels ----

// The ICD 203 term for a probability: almost no chance [0, 5 %), very unlikely [5, 20 %),
// unlikely [20, 45 %), roughly even chance [45, 55 %], likely (55, 80 %], very likely (80, 95 %],
// almost certain above 95 %. Values outside [0, 1] are clamped. Never empty.
std::string_view LikelihoodTerm(double probability);

// Confidence in the evidence itself (not in the conclusion): independent of the likelihood term.
enum class Confidence : uint8_t { kLow, kModerate, kHigh };
std::string_view ConfidenceName(Confidence c);  // "low", "moderate", "high"

// ---- evidence ----

// Evidence families (the unit of independence for the confidence level). The first six mirror
// score::Family of similarity.h (neighbour evidence); the last two are knowledge-base profile
// matches. kIndicator: the same stated indicator; kInfrastructure: derived registered domain,
// host, /24 or /48; kBehaviour: techniques; kSoftware: malware/tools; kNaming: naming-style
// n-grams; kContext: victim, activity time, fuzzy-hash closeness.
enum class Family : uint8_t {
  kIndicator,
  kInfrastructure,
  kBehaviour,
  kSoftware,
  kNaming,
  kContext,
  kProfileTechniques,
  kProfileSoftware,
};
inline constexpr int kFamilyCount = 8;
// "indicator", "infrastructure", "behaviour", "software", "naming", "context",
// "profile-techniques", "profile-software".
std::string_view FamilyName(Family f);
// A set of families, bit f for Family f.
using FamilyMask = uint32_t;

// One piece of evidence: what is shared or matched, and its weight (>= 0, larger is stronger).
struct EvidenceItem {
  Family family = Family::kIndicator;
  std::string feature;  // "domain:evil.com", "T1566.001", "S0023", or an incident id
  std::string via;      // for neighbour evidence: the similar incident's id; else empty
  double weight = 0.0;
  std::string name =
      {};  // the KB's name of an ATT&CK id in `feature`, when looked up (the CLI does)
};

// A similar incident whose stated actor is known (the "known side").
struct Neighbour {
  std::string incident_id;
  std::string actor_id;              // KB id ("G0007") or a stable label for actors outside the KB
  double probability = 0.0;          // calibrated probability that both are the same actor's work
  std::vector<EvidenceItem> shared;  // the shared evidence, strongest first
  double raw = 0.0;  // the similarity engine's raw score (score::Comparison::raw), if from it
  // Its per-family saturated evidence before the family weights (score::Comparison::evidence,
  // in score::Family order), for fitting the weights on retrieved pairs.
  std::array<double, 8> pair_evidence{};
};

// ---- (b) knowledge-base profiles ----

struct ActorProfile {
  std::string actor_id;
  std::string name;
  std::vector<std::string> techniques;  // ATT&CK ids; sub-techniques keep their own id
  std::vector<std::string> software;    // ATT&CK S-ids
};

struct ProfileMatch {
  std::string actor_id;
  double score = 0.0;  // in [0, 1): 1 - exp(-log-likelihood ratio / 12), monotone in the evidence
  double technique_score = 0.0, software_score = 0.0;  // the two parts, each in [0, 1]
  // Naive-Bayes posterior of this actor among ALL profiles (uniform prior): exp(llr) over the
  // sum of exp(llr) of every profile, 0 for those matching nothing. Unlike `score`, it says
  // whether the match stands out from the other actors'.
  double posterior = 0.0;
  std::vector<EvidenceItem> evidence;  // matched ids, strongest first
};

// Matches techniques and software against actors' profiles, rarity-weighted: query likelihood
// with Jelinek-Mercer smoothing (Zhai & Lafferty 2001), so a technique every group uses says
// little, a tool three groups use says much, and a group that "uses everything" gains less per
// shared feature. A sub-technique in the query also matches its parent at half credit. Software
// outweighs techniques (the pyramid of pain: tools cost more to change than behaviour).
class ProfileMatcher {
 public:
  ProfileMatcher() = default;
  explicit ProfileMatcher(std::vector<ActorProfile> profiles);
  // Profiles of every live (non-revoked, non-deprecated) actor with at least one technique or
  // software in the KB.
  static ProfileMatcher FromKb(const kb::KnowledgeBase& kb);

  // Ranked matches (score > 0 only), best first, at most `top_k`. Ids absent from every profile
  // are ignored. Leave-one-out evaluation is the caller's job (build the matcher without the
  // held-out relationships). Cost: O(profiles x query size x log profile size).
  std::vector<ProfileMatch> Match(const std::vector<std::string>& techniques,
                                  const std::vector<std::string>& software, size_t top_k) const;

  // Baseline for the evaluation: cosine of TF-IDF vectors (query vs. profile), best first.
  std::vector<ProfileMatch> TfidfCosine(const std::vector<std::string>& techniques,
                                        const std::vector<std::string>& software,
                                        size_t top_k) const;

  const std::vector<ActorProfile>& profiles() const { return profiles_; }
  const ActorProfile* profile(std::string_view actor_id) const;

 private:
  double Idf(const std::string& feature) const;
  std::vector<ActorProfile> profiles_;
  std::vector<std::vector<std::string>> features_;  // per profile: "t:T1566", "s:S0023", sorted
  std::vector<std::pair<std::string, int>> df_;     // sorted by feature
  // Feature occurrences over all profiles (techniques, software) and the mean software-profile
  // size over the profiles that list software: fixed by the profiles, so counted once here.
  double total_t_ = 0, total_s_ = 0, mean_s_ = 1;
};

// ---- (a) neighbours: an in-memory index of incidents with known actors ----

// Features of one incident: valid, non-benign indicators (stated and derived), techniques
// (sub-technique plus its parent at half weight), software (KB id, else lower-case name), and
// naming-style character 4-grams of registered-domain labels. Exposed for tests and the
// evaluation's baselines.
struct Feature {
  std::string key;  // "domain:evil.com", "net:1.2.3.0/24", "tech:T1566", "soft:S0023", "ng:evil"
  Family family;
  double credit = 1.0;  // 0.5 for a parent technique
  bool stated = false;  // an indicator the source stated (not derived, not behaviour, not naming)
};
std::vector<Feature> IncidentFeatures(const Incident& incident);

// Retrieval over known incidents from inverted postings (never all pairs), rarest feature first.
// Pair evidence follows Fellegi-Sunter record linkage: a shared value weighs log(N / df) and
// saturates within its family, families have their own weights, and the sum maps to a
// "same actor" probability through a logistic curve.
class NeighbourIndex {
 public:
  NeighbourIndex();
  ~NeighbourIndex();
  NeighbourIndex(NeighbourIndex&&) noexcept;
  NeighbourIndex& operator=(NeighbourIndex&&) noexcept;

  // Adds an incident whose actor is known. Must precede Finalize(). Duplicate ids are ignored.
  void Add(const Incident& incident, const std::string& actor_id);
  // Computes document frequencies; Neighbours() is valid only afterwards.
  void Finalize();
  size_t size() const;

  // Up to `k` most similar known incidents, best first, never `query.id` itself. Cost: the
  // postings of the query's features, capped at limits::kMaxPostingWalk entries.
  std::vector<Neighbour> Neighbours(const Incident& query, size_t k) const;

  // Baselines (DESIGN.md "Evaluation"): per actor, the vote of known incidents sharing at least
  // one exact stated indicator (score = number of shared indicators, summed per actor), and the
  // TF-IDF cosine over stated indicators (best incident per actor). Best first; empty = no answer.
  std::vector<std::pair<std::string, double>> ExactOverlapVote(const Incident& query) const;
  std::vector<std::pair<std::string, double>> TfidfCosineVote(const Incident& query) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Neighbours from the similarity engine (similarity.h): the most similar indexed incidents to
// `query` (never itself) that carry a stated attribution, at most `k`, each with its calibrated
// "same actor" probability and explanation mapped onto attribution's families. The actor is the
// first stated actor (KB id when resolved). Only attributed incidents are candidates
// (SimilarityIndex::SimilarAttributed), so the k are the k best attributed ones.
std::vector<Neighbour> SimilarNeighbours(const score::SimilarityIndex& index, const Incident& query,
                                         size_t k);

// ---- (c) actor documents: every known incident of an actor merged into one document ----

// A similarity index over one merged document per known actor (id "actor:<actor>", stated
// attribution = the actor): the indicators, techniques and software of every incident whose first
// stated actor it is (actor_id when resolved, else actor_name), with every naming n-gram kept (no
// bottom-k sample). Query it with SimilarNeighbours(index, query, k): rarity is then counted over
// actors, so a naming style, /24 or tool that only one actor's incidents show weighs much even
// when no single incident of it is close to the query. Incidents whose id is in `exclude` (those
// being attributed) and incidents without a stated actor are left out: a query is never part of
// the documents it is compared with. Errors: those of SimilarityIndex::Add.
absl::StatusOr<score::SimilarityIndex> BuildActorIndex(const std::vector<Incident>& incidents,
                                                       const kb::KnowledgeBase* kb,
                                                       const std::vector<std::string>& exclude);

// ---- (d) naming style: hostnames named alike ----

// The naming-style terms of an incident's stated hostnames (domains and URL hosts; not IP
// addresses, not derived registered domains): character 3- to 5-grams of each name without its
// TLD, ends marked ("^upd", "ate$"), and the TLD ("tld:ru"), with counts, sorted by term (so
// that every sum over them runs in the same order in every run). Exposed for tests.
std::vector<std::pair<std::string, int>> StyleTerms(const Incident& incident);

// One known incident whose hostnames are named like the query's.
struct StyleMatch {
  std::string incident_id;
  std::string actor_id;
  double cosine = 0.0;  // TF-IDF cosine of StyleTerms, in [0, 1]
};

// The naming-style classifier's score for one actor: its linear SVM decision value d mapped to
// [0, 1] as clamp((d + 1.5) / 3, 0, 1) (d = 0 is the class boundary, 0.5 here).
struct StyleVote {
  std::string actor_id;
  double score = 0.0;
};
// Classes (actors) the naming-style classifier keeps at most: 256 MB of weights.
inline constexpr size_t kStyleMaxClasses = 512;
// Actors asked of the classifier per query (StyleIndex::Classify) by `kinship eval` and the
// analysis commands alike: the model was fitted with this many scored.
inline constexpr size_t kClassifierVotes = 10;

// Nearest known incidents by naming style: TF-IDF cosine (log term frequency, idf over the
// indexed incidents) of StyleTerms. Actors keep naming habits (word lists, the brands they
// imitate, digit and hyphen patterns, favourite TLDs) after their addresses change, so this finds
// the same actor's incidents when no value or registered domain is shared. Weaker than shared
// infrastructure and easily shared by chance: the attribution model weighs it (`style`,
// `style_best`) from the evaluation data. Only incidents with an actor and at least one hostname
// are indexed.
class StyleIndex {
 public:
  StyleIndex();
  ~StyleIndex();
  StyleIndex(StyleIndex&&) noexcept;
  StyleIndex& operator=(StyleIndex&&) noexcept;

  // Adds an incident whose actor is known. Must precede Finalize(). Duplicate ids are ignored.
  void Add(const Incident& incident, const std::string& actor_id);
  // Adds an incident under its first stated actor (actor_id, else actor_name), as the similarity
  // engine names neighbours' actors; an incident without a stated actor is not added.
  void Add(const Incident& incident);
  // Whether Add(incident) indexes it: a stated actor and at least one hostname (StyleTerms not
  // empty). Incidents it does not index change nothing here, so a snapshot stays current when
  // only such incidents are added to the store.
  static bool Indexes(const Incident& incident);
  // How many of `ids` (distinct) it indexes: one pass over its incidents.
  size_t CountIndexed(const std::vector<std::string>& ids) const;
  // Computes idf and the normalised postings; Nearest() is valid only afterwards. With
  // `classifier`, also trains the naming-style classifier: one-vs-rest linear SVMs (liblinear,
  // L2-regularised squared hinge loss) over the same terms hashed into 2^16 buckets, TF-IDF
  // weighted, one class per actor with at least two indexed incidents, at most `max_classes`
  // of them (the actors with the most incidents; each class holds 2^16 weights, 512 KB). Where
  // the kNN finds the one known incident named most alike, the classifier learns which n-grams
  // tell an actor's names from everyone else's (docs/attribution.md).
  void Finalize(bool classifier = true, size_t max_classes = kStyleMaxClasses);
  size_t size() const;

  // The `k` actors the classifier scores highest for `query`, best first. Empty without a
  // trained classifier, for a query without hostnames, and when `query` or any of `exclude` is
  // one of the incidents it was trained on (a classifier has seen its own training incidents'
  // labels; unlike Nearest it cannot leave one out).
  std::vector<StyleVote> Classify(const Incident& query, size_t k,
                                  const std::vector<std::string>& exclude = {}) const;

  // Up to `k` known incidents with the highest cosine (> 0), best first (ties by insertion
  // order), never `query.id`. Postings are walked rarest term first, at most
  // limits::kMaxPostingWalk entries after the first.
  std::vector<StyleMatch> Nearest(const Incident& query, size_t k) const;

  // The naming-style snapshot: the index after Finalize(), classifier included, saved under `key`
  // (the store's Store::SnapshotKey()) so that attribution need not read every name and train
  // again (docs/architecture.md, "Index snapshots"). Written whole or not at all. Errors:
  // kFailedPrecondition before Finalize(); kUnavailable when the file cannot be written.
  absl::Status Save(const std::string& path, std::string_view key) const;
  // Reads a snapshot Save() wrote, finalized: Nearest and Classify answer exactly as the saved
  // index did. Errors: kNotFound (no file); kFailedPrecondition when it is not current: written
  // by another build or format, by a build that makes other terms, or under another key;
  // kDataLoss, naming the file and the byte, when it is damaged or truncated.
  static absl::StatusOr<StyleIndex> Load(const std::string& path, std::string_view key);
  // The key a snapshot was saved under, reading its header only. Errors: kNotFound,
  // kFailedPrecondition (written by a build that cannot read it), kDataLoss.
  static absl::StatusOr<std::string> SnapshotKey(const std::string& path);
  // The same from bytes in memory (`name` stands for the file in errors): for tests and fuzzing.
  static absl::StatusOr<StyleIndex> LoadBytes(std::string_view bytes, std::string_view name,
                                              std::string_view key);

 private:
  struct SnapshotIo;
  struct Doc;
  struct Term {
    uint32_t id;
    double idf;
  };
  struct Posting {
    uint32_t doc;
    float weight;  // normalised TF-IDF weight of the term in the document
  };
  double Idf(size_t df) const;
  void TrainClassifier(size_t max_classes);
  std::vector<Doc> docs_;
  absl::flat_hash_set<std::string> ids_;
  absl::flat_hash_map<std::string, Term> terms_;
  std::vector<int> df_;  // by term id
  std::vector<std::vector<Posting>> postings_;
  size_t n_ = 0;
  bool finalized_ = false;
  struct Classifier;
  std::unique_ptr<Classifier> classifier_;
};

// ---- the model: combining evidence into calibrated probabilities ----

// Per-actor features fed to the calibrated model (all in [0, 1]).
struct ActorFeatures {
  double neighbour = 0.0;       // noisy-or of the actor's best neighbours' probabilities
  double best_neighbour = 0.0;  // the single best neighbour's probability
  double profile = 0.0;         // ProfileMatch::score
  double share = 0.0;           // this actor's share of the combined support over all actors
  double margin = 0.0;          // support gap to the next actor (0 unless ranked first)
  double vote = 0.0;  // kNN vote: its probability mass over ALL neighbours / max(1, all their mass)
  double hard = 0.0;  // 1 - exp(-x), x = the most indicator + infrastructure + software evidence
                      // (calibrated contribution, nats) one of its neighbours shares with the query
  double first = 0.0;  // the nearest neighbour's probability when it is this actor's, else 0
  double actor = 0.0;  // "same actor" probability of the query against the actor's document (c)
  // Naming style (d), over the query's nearest known incidents by StyleIndex: this actor's
  // share of their summed cosine (divided by the larger of 1 and that sum, like `vote`), and
  // its best single cosine.
  double style = 0.0;
  double style_best = 0.0;
  double profile_posterior = 0.0;  // ProfileMatch::posterior
  // The naming-style classifier (StyleIndex::Classify): its score for this actor (StyleVote),
  // and 1 when this actor is its first choice.
  double classifier = 0.0;
  double classifier_first = 0.0;
};
inline constexpr int kModelInputs = 15;  // bias + the fourteen features above
std::array<double, kModelInputs> ModelInputs(const ActorFeatures& f);

// The isotonic map of the second stage (kinship/isotonic.h; also the similarity engine's).
using IsotonicCalibrator = ::kinship::IsotonicCalibrator;

// Multi-feature logistic calibration (Platt 1999 generalised to several inputs), fitted on the
// development split with grouped cross-validation (`kinship eval`); Default() holds the weights
// that fit produced. `second_stage`: an isotonic map fitted on the top candidates' logistic
// probabilities against correctness (identity when empty), so that stated probabilities match
// observed frequencies. `abstain_below`: the top candidate's final probability under which
// kinship abstains ("no known actor fits").
// `exclusive`: the weights are those of a conditional logit over one query's candidates with a
// "none of them" alternative (FitRankingModel): P(i) = exp(w.x_i) / (1 + sum_j exp(w.x_j));
// otherwise each candidate gets its own logistic probability (FitModel), scaled to sum <= 1.
struct Model {
  std::array<double, kModelInputs> weights{};
  IsotonicCalibrator second_stage;
  double abstain_below = 0.5;
  bool exclusive = false;
  // A top candidate whose only evidence is a KB profile match on techniques (no similar
  // incident, no naming style, none of its software) is a case the vendor reports the weights
  // were fitted on hardly hold, and techniques are shared by many groups: then
  // (Result::techniques_only) its probability p becomes 1 / (1 + exp(-(a logit p + b)))
  // after the second stage, a = techniques_only_slope, b = techniques_only_intercept (Platt
  // 1999), fitted on ATT&CK's campaigns by `kinship eval --only campaigns`. {1, 0}: identity.
  double techniques_only_slope = 1.0;
  double techniques_only_intercept = 0.0;
  static Model Default();
  // Default()'s weights with a second stage fitted on campaigns (`kinship campaigns`): a
  // campaign pools its members' evidence, and the reports' second stage under-states how often
  // its top actor is right (docs/evaluation.md, section 3).
  static Model Campaigns();
  double Probability(const ActorFeatures& f) const;  // the independent logistic probability
  // Probabilities of one query's candidates before the second stage (sum <= 1).
  std::vector<double> Probabilities(const std::vector<ActorFeatures>& candidates) const;
};

// Platt's map: the (slope, intercept) of the logistic regression of `correct` on logit(p),
// p clamped to [1e-6, 1 - 1e-6], by Newton's method with a small L2 penalty; deterministic.
// {1, 0} (the identity) without both a correct and a wrong example.
std::pair<double, double> FitPlatt(const std::vector<double>& p, const std::vector<int>& correct);
// Applies it: 1 / (1 + exp(-(slope logit(p) + intercept))).
double ApplyPlatt(double p, double slope, double intercept);

// Fits the logistic weights to (features, is-correct-actor) examples by Newton's method (IRLS)
// with a small L2 penalty; deterministic. Returns `start` unchanged when examples hold one class.
Model FitModel(const std::vector<ActorFeatures>& x, const std::vector<int>& y, Model start);

// One query's candidates for FitRankingModel: their features and the index of the true actor
// among them, -1 when it is none of them (its actor is unknown, or was not retrieved).
struct RankingExample {
  std::vector<ActorFeatures> candidates;
  int truth = -1;
};

// Fits the conditional logit with a "none of them" alternative (McFadden 1974) by Newton's
// method with a small L2 penalty; deterministic. The candidates of a query compete for one
// probability mass, so the fit learns what ranks the true actor first and how often none fits.
// Returns `start` with exclusive = true. Returns `start` unchanged without both a query whose
// truth is a candidate and a query whose truth is not.
Model FitRankingModel(const std::vector<RankingExample>& examples, Model start);

// The abstention threshold for a target: the smallest top-candidate probability t such that at
// least `target` of `unknown_top` (the top probabilities of queries whose actor is unknown, 0 for
// no candidate) lie below t. 0 when `unknown_top` is empty or target <= 0.
double AbstentionThreshold(std::vector<double> unknown_top, double target);

// Why a result abstained whose top candidate's probability `top` is under `threshold`, both in
// percent to a tenth: `top` rounded down and `threshold` up, so the sentence does not show the
// probability above the threshold ("83.5 %, under the 83.6 % threshold", where plain rounding
// read "84 %" against "83 %").
std::string AbstentionReason(double top, double threshold);

// The abstention threshold as it is shown: rounded up to a thousandth (a tenth of a percent), the
// resolution probabilities are shown at, so that none under it reads above it.
double ShownThreshold(double threshold);

// ---- the result ----

struct Candidate {
  std::string actor_id;
  std::string name;  // KB preferred name, else the id
  double probability = 0.0;
  std::string likelihood;  // LikelihoodTerm(probability)
  ActorFeatures features;
  std::vector<EvidenceItem> evidence;  // strongest first
};

struct Result {
  std::string incident;
  bool abstained = false;      // no known actor is supported well: "no known actor fits"
  std::string abstain_reason;  // why, when abstained
  // The top probability it takes to answer (Model::abstain_below): abstained when the top
  // candidate's probability is under it, or there is no candidate.
  double answer_threshold = 0.0;
  Confidence confidence = Confidence::kLow;
  std::vector<std::string> supporting_families;  // families that support the top candidate
  // Independent lines of evidence among them (infrastructure, naming, techniques, tools,
  // context): families resting on one observation count once. The confidence level counts these.
  std::vector<std::string> supporting_lines;
  bool survives_strongest_removed = false;  // the top stays first without its strongest line
  // The top candidate's only evidence is a KB profile match on techniques
  // (Model::techniques_only_*).
  bool techniques_only = false;
  std::vector<Candidate> candidates;  // best first (still listed when abstained)
};

// What attribution needs from the knowledge base: an actor's preferred name and the S-id of a
// software name. Either may be empty (names fall back to ids; unresolved software is skipped).
struct KbView {
  std::function<std::string(std::string_view actor_id)> actor_name;
  std::function<std::string(std::string_view software_name)> software_id;
};
// A view of `kb` (which must outlive it): unambiguous Resolve() matches only.
KbView KbViewOf(const kb::KnowledgeBase& kb);

struct AttributorOptions {
  size_t max_candidates = 5;
  size_t neighbours_per_actor = 3;  // noisy-or over at most this many per actor
  double min_family_weight = 0.05;  // a family "supports" an actor above this share of support
};

class Attributor {
 public:
  // `profiles` may be null (no KB: neighbours only).
  Attributor(const ProfileMatcher* profiles, KbView kb, Model model,
             AttributorOptions options = {});

  // Attributes `query` from its neighbours (which must not include the query itself: such a
  // neighbour is dropped) and its techniques/software. Stated attributions of `query` are
  // ignored. Never fails: no evidence at all gives an abstention with no candidates.
  // `actor_matches`: the query against actor documents (BuildActorIndex + SimilarNeighbours),
  // may be empty.
  // `style`: the query's nearest known incidents by naming style (StyleIndex), may be empty.
  // `votes`: the naming-style classifier's best actors (StyleIndex::Classify), may be empty;
  // the first kClassifierCandidates become candidates, the others only score candidates.
  Result Attribute(const Incident& query, const std::vector<Neighbour>& neighbours,
                   const std::vector<Neighbour>& actor_matches = {},
                   const std::vector<StyleMatch>& style = {},
                   const std::vector<StyleVote>& votes = {}) const;

  // The per-actor features before calibration (for fitting the model), best first by support.
  std::vector<std::pair<std::string, ActorFeatures>> Features(
      const Incident& query, const std::vector<Neighbour>& neighbours,
      const std::vector<Neighbour>& actor_matches = {}, const std::vector<StyleMatch>& style = {},
      const std::vector<StyleVote>& votes = {}) const;

 private:
  struct Support;
  std::vector<Support> Collect(const Incident& query, const std::vector<Neighbour>& neighbours,
                               const std::vector<Neighbour>& actor_matches,
                               const std::vector<StyleMatch>& style,
                               const std::vector<StyleVote>& votes, FamilyMask drop) const;
  const ProfileMatcher* profiles_;
  KbView kb_;
  Model model_;
  AttributorOptions options_;
};

// ---- evaluation metrics (used by `kinship eval`) ----
namespace metrics {

// One query's answer: the true actor, the ranked candidates (best first, with probabilities),
// whether the system abstained, and whether the true actor has any incident on the known side.
struct Answer {
  std::string truth;
  std::vector<std::pair<std::string, double>> ranked;
  bool abstained = false;
  bool truth_known = true;
  std::string group;  // the evaluation fold group (dup_group), for bookkeeping
};

struct Summary {
  size_t queries = 0;
  double top1 = 0, top3 = 0, mrr = 0;  // over all queries; an abstention counts as wrong
  double precision_at[3] = {0, 0, 0};  // at 10 %, 30 %, 50 % coverage, ranked by probability
  double macro_f1 = 0;                 // over true actors; abstentions count as misses
  double answered = 0;                 // share not abstained
  double precision_answered = 0;       // top-1 precision over answered queries
  double abstain_unknown = 0;          // abstention rate on queries whose actor is unknown
  size_t unknown_queries = 0;
  double brier = 0;  // mean (p_top - correct)^2 over answered-or-not top candidates
  double ece = 0;    // expected calibration error, 10 equal-width bins on p_top
  // The same over every query, unknown actors' included (their answers are wrong unless a
  // profile names the actor): the population the probabilities are calibrated on, since the
  // abstention threshold and the isotonic stage are fitted on all the training folds' queries.
  size_t all_queries = 0;
  double top1_all = 0, brier_all = 0, ece_all = 0;
};

Summary Summarize(const std::vector<Answer>& answers);

// Reliability of probabilities against outcomes: Brier score and expected calibration error
// (10 equal-width bins), e.g. of the similarity engine's pair probabilities.
struct Reliability {
  size_t n = 0;
  double positive_rate = 0, mean_probability = 0, brier = 0, ece = 0;
};
Reliability Measure(const std::vector<std::pair<double, int>>& probability_outcome);

}  // namespace metrics
}  // namespace attrib
}  // namespace kinship

#endif  // KINSHIP_ATTRIBUTION_H_
