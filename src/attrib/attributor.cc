// Combining neighbour and profile evidence into ranked actors with calibrated probabilities,
// a confidence level and abstention.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kinship/attribution.h"

namespace kinship::attrib {
namespace {

// A KB profile match counts this much against a noisy-or of neighbour probabilities: profiles
// are broad (groups share public tools and common techniques), incidents are specific.
constexpr double kProfileWeight = 0.5;
// An actor-document match counts this much against a noisy-or of neighbour probabilities: like
// a profile it is broad (many incidents merged), so any one shared value says less.
constexpr double kActorWeight = 0.5;
// The naming-style vote counts this much against a noisy-or of neighbour probabilities: a style
// is shared by chance far more often than an address.
constexpr double kStyleWeight = 0.25;
// The naming-style classifier's best actors that become candidates (its others only score the
// candidates other evidence found); 3 in the Python check of docs/evaluation.md.
constexpr size_t kClassifierCandidates = 3;
// The most any candidate is stated at (ICD 203: "almost certain" is 95-99 %).
constexpr double kMaxStated = 0.99;
// Naming-style matches listed per actor in the evidence.
constexpr size_t kStyleItemsShown = 3;
// Below this absolute support a family does not count as supporting an actor.
constexpr double kMinFamilySupport = 0.02;
// Profile matches considered per query.
constexpr size_t kProfileTopK = 50;
// Shared items listed per similar incident in the evidence.
constexpr size_t kSharedItemsShown = 5;

bool Dropped(FamilyMask drop, int f) { return (drop >> f) & 1u; }
bool Dropped(FamilyMask drop, Family f) { return Dropped(drop, static_cast<int>(f)); }
double DroppedWeight(const std::array<double, kFamilyCount>& w, FamilyMask drop) {
  double sum = 0;
  for (int f = 0; f < kFamilyCount; ++f) {
    if (Dropped(drop, f)) sum += w[f];
  }
  return sum;
}

// Lines of evidence for the confidence level: families that rest on one observation of the query
// count once. A shared value and its registered domain or network are one observation of the
// query's indicators; a KB profile match of techniques (software) rests on the same techniques
// (software) as the behaviour (software) shared with similar incidents. Naming style stays a
// line of its own: merged into infrastructure, almost every answer was "low" (docs/attribution.md).
constexpr int kLineCount = 5;
constexpr const char* kLineNames[kLineCount] = {"infrastructure", "naming", "techniques", "tools",
                                                "context"};
int LineOf(int family) {
  switch (static_cast<Family>(family)) {
    case Family::kIndicator:
    case Family::kInfrastructure:
      return 0;
    case Family::kNaming:
      return 1;
    case Family::kBehaviour:
    case Family::kProfileTechniques:
      return 2;
    case Family::kSoftware:
    case Family::kProfileSoftware:
      return 3;
    case Family::kContext:
      return 4;
  }
  return 4;
}

// True when a candidate has no evidence beyond the KB profile match: no similar incident, actor
// document or naming style.
bool ProfileOnly(const ActorFeatures& f) {
  return f.neighbour == 0 && f.best_neighbour == 0 && f.vote == 0 && f.hard == 0 && f.first == 0 &&
         f.actor == 0 && f.style == 0 && f.style_best == 0 && f.classifier == 0 &&
         f.classifier_first == 0;
}

}  // namespace

struct Attributor::Support {
  std::string actor_id;
  double neighbour = 0, best_neighbour = 0, profile = 0, total = 0;
  double vote = 0, hard = 0, first = 0;         // vote: probability mass of all its neighbours
  double actor = 0;                             // match against the actor's document
  double style = 0, style_best = 0;             // naming style: summed and best cosine
  double profile_posterior = 0;                 // ProfileMatch::posterior
  double classifier = 0, classifier_first = 0;  // the naming-style classifier's vote
  std::array<double, kFamilyCount> actor_family{};
  std::array<double, kFamilyCount> family{};
  std::vector<EvidenceItem> evidence;
  ActorFeatures features;
};

Attributor::Attributor(const ProfileMatcher* profiles, KbView kb, Model model,
                       AttributorOptions options)
    : profiles_(profiles), kb_(std::move(kb)), model_(model), options_(options) {}

std::vector<Attributor::Support> Attributor::Collect(const Incident& query,
                                                     const std::vector<Neighbour>& neighbours,
                                                     const std::vector<Neighbour>& actor_matches,
                                                     const std::vector<StyleMatch>& style,
                                                     const std::vector<StyleVote>& votes,
                                                     FamilyMask drop) const {
  std::map<std::string, Support> by_actor;
  // (a) similar incidents with known actors; the query itself is never its own evidence.
  std::vector<const Neighbour*> sorted;
  for (const Neighbour& n : neighbours) {
    if (n.incident_id == query.id || n.actor_id.empty() || n.probability <= 0) continue;
    sorted.push_back(&n);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const Neighbour* a, const Neighbour* b) {
    return a->probability > b->probability;
  });
  absl::flat_hash_map<std::string, size_t> used;
  double mass = 0;  // probability mass of all neighbours, for the vote share
  for (const Neighbour* n : sorted) {
    std::array<double, kFamilyCount> w{};
    double total = 0;
    for (const EvidenceItem& e : n->shared) {
      w[static_cast<int>(e.family)] += e.weight;
      total += e.weight;
    }
    double p = n->probability;
    if (drop != 0 && total > 0) p *= 1 - DroppedWeight(w, drop) / total;
    Support& s = by_actor[n->actor_id];
    s.actor_id = n->actor_id;
    mass += p;
    s.vote += p;
    if (n == sorted.front()) s.first = p;
    double hard = 0;
    for (Family f : {Family::kIndicator, Family::kInfrastructure, Family::kSoftware}) {
      if (!Dropped(drop, f)) hard += w[static_cast<int>(f)];
    }
    s.hard = std::max(s.hard, 1 - std::exp(-hard));
    if (used[n->actor_id]++ >= options_.neighbours_per_actor) continue;
    int dominant = 0;
    for (int f = 0; f < kFamilyCount; ++f) {
      const double share = total > 0 ? w[f] / total : (f == 0 ? 1.0 : 0.0);
      if (!Dropped(drop, f)) s.family[f] += p * share;
      if (w[f] > w[dominant]) dominant = f;
    }
    s.neighbour = 1 - (1 - s.neighbour) * (1 - p);
    s.best_neighbour = std::max(s.best_neighbour, p);
    s.evidence.push_back({static_cast<Family>(dominant), absl::StrCat("incident:", n->incident_id),
                          n->incident_id, p});
    size_t shown = 0;
    for (const EvidenceItem& e : n->shared) {
      if (Dropped(drop, e.family)) continue;
      if (shown++ >= kSharedItemsShown) break;
      s.evidence.push_back(e);
    }
  }
  // (c) actor documents: the query against all known incidents of each actor at once.
  for (const Neighbour& m : actor_matches) {
    if (m.actor_id.empty() || m.probability <= 0) continue;
    std::array<double, kFamilyCount> w{};
    double total = 0;
    for (const EvidenceItem& e : m.shared) {
      w[static_cast<int>(e.family)] += e.weight;
      total += e.weight;
    }
    double p = m.probability;
    if (drop != 0 && total > 0) p *= 1 - DroppedWeight(w, drop) / total;
    Support& s = by_actor[m.actor_id];
    s.actor_id = m.actor_id;
    if (p <= s.actor) continue;
    s.actor = p;
    for (int f = 0; f < kFamilyCount; ++f) {
      const double share = total > 0 ? w[f] / total : (f == 0 ? 1.0 : 0.0);
      if (!Dropped(drop, f)) s.actor_family[f] = kActorWeight * p * share;
    }
    size_t shown = 0;
    for (const EvidenceItem& e : m.shared) {
      if (Dropped(drop, e.family)) continue;
      if (shown++ >= kSharedItemsShown) break;
      s.evidence.push_back({e.family, e.feature, "known incidents of " + m.actor_id, e.weight});
    }
  }
  // (d) naming style: the nearest known incidents by how their hostnames are named.
  double style_mass = 0;
  absl::flat_hash_map<std::string, size_t> style_shown;
  if (!Dropped(drop, Family::kNaming)) {
    for (const StyleMatch& m : style) {
      if (m.incident_id == query.id || m.actor_id.empty() || m.cosine <= 0) continue;
      Support& s = by_actor[m.actor_id];
      s.actor_id = m.actor_id;
      s.style += m.cosine;
      s.style_best = std::max(s.style_best, m.cosine);
      style_mass += m.cosine;
      if (style_shown[m.actor_id]++ < kStyleItemsShown) {
        s.evidence.push_back(
            {Family::kNaming, absl::StrCat("style:", m.incident_id), m.incident_id, m.cosine});
      }
    }
  }
  // (b) knowledge-base profiles, from the query's own techniques and software.
  if (profiles_ != nullptr) {
    std::vector<std::string> techniques, software;
    for (const Technique& t : query.techniques) {
      if (!t.id.empty()) techniques.push_back(t.id);
    }
    for (const Software& sw : query.software) {
      if (!sw.id.empty()) {
        software.push_back(sw.id);
      } else if (kb_.software_id && !sw.name.empty()) {
        std::string id = kb_.software_id(sw.name);
        if (!id.empty()) software.push_back(std::move(id));
      }
    }
    if (!techniques.empty() || !software.empty()) {
      // A profile match makes an actor a candidate only when it raises the actor above the
      // uniform prior over all profiles. A query with many techniques matches dozens of groups
      // a little; as candidates they took most of the probability from the one group its
      // software and techniques single out (ATT&CK campaigns: 0.37 stated where 0.625 right).
      const double prior =
          1.0 / static_cast<double>(std::max<size_t>(profiles_->profiles().size(), 1));
      for (ProfileMatch& m : profiles_->Match(techniques, software, kProfileTopK)) {
        if (m.posterior <= prior && !by_actor.contains(m.actor_id)) continue;
        double ts = m.technique_score, ss = m.software_score;
        if (Dropped(drop, Family::kProfileTechniques)) ts = 0;
        if (Dropped(drop, Family::kProfileSoftware)) ss = 0;
        const double score = 1 - (1 - ts) * (1 - ss);  // = m.score when nothing is dropped
        if (score <= 0) continue;
        Support& s = by_actor[m.actor_id];
        s.actor_id = m.actor_id;
        s.profile = score;
        // The posterior is of the whole match; dropping a part leaves it unknown, so it goes.
        s.profile_posterior = drop == 0 ? m.posterior : 0.0;
        s.family[static_cast<int>(Family::kProfileTechniques)] += kProfileWeight * ts;
        s.family[static_cast<int>(Family::kProfileSoftware)] += kProfileWeight * ss;
        for (EvidenceItem& e : m.evidence) {
          if (!Dropped(drop, e.family)) s.evidence.push_back(std::move(e));
        }
      }
    }
  }
  // (d') the naming-style classifier: its first choices are candidates, and it scores every
  // candidate it ranked.
  if (!Dropped(drop, Family::kNaming)) {
    for (size_t i = 0; i < votes.size(); ++i) {
      const StyleVote& v = votes[i];
      if (v.actor_id.empty()) continue;
      auto it = by_actor.find(v.actor_id);
      if (it == by_actor.end()) {
        if (i >= kClassifierCandidates) continue;
        it = by_actor.emplace(v.actor_id, Support{}).first;
        it->second.actor_id = v.actor_id;
      }
      Support& s = it->second;
      s.classifier = v.score;
      s.classifier_first = i == 0 ? 1.0 : 0.0;
      if (i < kClassifierCandidates) {
        s.evidence.push_back(
            {Family::kNaming, absl::StrCat("style-classifier:rank ", i + 1), "", v.score});
      }
    }
  }
  std::vector<Support> out;
  double sum = 0;
  for (auto& [id, s] : by_actor) {
    for (int f = 0; f < kFamilyCount; ++f) s.family[f] += s.actor_family[f];
    // Like the kNN vote: the share of the style mass, never more than the mass itself.
    s.style /= std::max(style_mass, 1.0);
    s.family[static_cast<int>(Family::kNaming)] += kStyleWeight * s.style;
    s.total =
        s.neighbour + kProfileWeight * s.profile + kActorWeight * s.actor + kStyleWeight * s.style;
    sum += s.total;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const Support& a, const Support& b) {
    return a.total != b.total ? a.total > b.total : a.actor_id < b.actor_id;
  });
  for (size_t i = 0; i < out.size(); ++i) {
    Support& s = out[i];
    const double other = i == 0 ? (out.size() > 1 ? out[1].total : 0.0) : out[0].total;
    s.features.neighbour = s.neighbour;
    s.features.best_neighbour = s.best_neighbour;
    s.features.profile = s.profile;
    s.features.share = sum > 0 ? s.total / sum : 0;
    s.features.margin = std::max(0.0, s.total - other);
    // Share of the neighbours' mass, but never more than the mass itself: one weak neighbour
    // alone is not a unanimous vote.
    s.features.vote = s.vote / std::max(mass, 1.0);
    s.features.hard = s.hard;
    s.features.first = s.first;
    s.features.actor = s.actor;
    s.features.style = s.style;
    s.features.style_best = s.style_best;
    s.features.profile_posterior = s.profile_posterior;
    s.features.classifier = s.classifier;
    s.features.classifier_first = s.classifier_first;
  }
  return out;
}

std::vector<std::pair<std::string, ActorFeatures>> Attributor::Features(
    const Incident& query, const std::vector<Neighbour>& neighbours,
    const std::vector<Neighbour>& actor_matches, const std::vector<StyleMatch>& style,
    const std::vector<StyleVote>& votes) const {
  std::vector<std::pair<std::string, ActorFeatures>> out;
  for (const Support& s : Collect(query, neighbours, actor_matches, style, votes, 0)) {
    out.emplace_back(s.actor_id, s.features);
  }
  return out;
}

Result Attributor::Attribute(const Incident& query, const std::vector<Neighbour>& neighbours,
                             const std::vector<Neighbour>& actor_matches,
                             const std::vector<StyleMatch>& style,
                             const std::vector<StyleVote>& votes) const {
  Result r;
  r.incident = query.id;
  r.answer_threshold = model_.abstain_below;
  std::vector<Support> support = Collect(query, neighbours, actor_matches, style, votes, 0);
  if (support.empty()) {
    r.abstained = true;
    r.abstain_reason = "no similar attributed incident and no profile match";
    return r;
  }
  std::vector<ActorFeatures> features;
  for (const Support& s : support) features.push_back(s.features);
  const std::vector<double> probabilities = model_.Probabilities(features);
  std::vector<Candidate> cands;
  for (size_t i = 0; i < support.size(); ++i) {
    Support& s = support[i];
    Candidate c;
    c.actor_id = s.actor_id;
    c.name = s.actor_id;
    if (kb_.actor_name) {
      std::string name = kb_.actor_name(s.actor_id);
      if (!name.empty()) c.name = std::move(name);
    }
    c.probability = probabilities[i];  // candidates exclude each other: sum <= 1
    c.features = s.features;
    c.evidence = std::move(s.evidence);
    cands.push_back(std::move(c));
  }
  // The second stage and the techniques-only map are fitted on top candidates: map the top one,
  // keep the others' ratios and the sum at most 1 (so the top stays the top).
  const auto top_it = std::max_element(
      cands.begin(), cands.end(),
      [](const Candidate& a, const Candidate& b) { return a.probability < b.probability; });
  auto remap_top = [&cands, top_it](auto&& map) {
    const double before = top_it->probability;
    const double after = map(before);
    double others = 0;
    for (Candidate& c : cands) {
      if (&c == &*top_it) continue;
      c.probability = before > 0 ? std::min(after, c.probability * after / before) : 0;
      others += c.probability;
    }
    top_it->probability = after;
    if (others > 1 - after && others > 0) {
      for (Candidate& c : cands) {
        if (&c != &*top_it) c.probability *= (1 - after) / others;
      }
    }
  };
  if (!model_.second_stage.empty()) {
    remap_top([this](double p) { return model_.second_stage.Apply(p); });
  }
  // The top candidate's probability rests on its profile match on techniques alone, whatever
  // evidence the others have (cands and support share their order).
  const Support& top_support = support[static_cast<size_t>(top_it - cands.begin())];
  r.techniques_only = ProfileOnly(top_support.features) &&
                      top_support.family[static_cast<int>(Family::kProfileSoftware)] == 0;
  if (r.techniques_only) {
    remap_top([this](double p) {
      return ApplyPlatt(p, model_.techniques_only_slope, model_.techniques_only_intercept);
    });
  }
  // ICD 203's scale ends at "almost certain", 95-99 %: no attribution is stated as certain. The
  // second stages' last steps (every development query above them right) would say 1.00.
  if (top_it->probability > kMaxStated) {
    remap_top([](double p) { return std::min(p, kMaxStated); });
  }
  std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    return a.probability > b.probability;
  });
  if (cands.size() > options_.max_candidates) cands.resize(options_.max_candidates);
  for (Candidate& c : cands) c.likelihood = std::string(LikelihoodTerm(c.probability));

  // Confidence: independent lines of evidence behind the top actor, and robustness of the
  // ranking without its strongest line.
  const std::string top = cands.front().actor_id;
  const Support* ts = nullptr;
  for (const Support& s : support) {
    if (s.actor_id == top) ts = &s;
  }
  std::array<double, kLineCount> line{};
  std::array<bool, kLineCount> line_supports{};
  for (int f = 0; f < kFamilyCount; ++f) {
    const double v = ts->family[f];
    line[LineOf(f)] += v;
    if (v >= kMinFamilySupport && v >= options_.min_family_weight * ts->total) {
      r.supporting_families.emplace_back(FamilyName(static_cast<Family>(f)));
      line_supports[LineOf(f)] = true;
    }
  }
  int strongest = 0;
  for (int l = 0; l < kLineCount; ++l) {
    if (line[l] > line[strongest]) strongest = l;
    if (line_supports[l]) r.supporting_lines.emplace_back(kLineNames[l]);
  }
  FamilyMask drop = 0;
  for (int f = 0; f < kFamilyCount; ++f) {
    if (LineOf(f) == strongest) drop |= FamilyMask{1} << f;
  }
  std::vector<Support> without = Collect(query, neighbours, actor_matches, style, votes, drop);
  r.survives_strongest_removed = !without.empty() && without.front().actor_id == top &&
                                 without.front().total > 0 &&
                                 (without.size() < 2 || without[0].total > without[1].total);
  const size_t n = r.supporting_lines.size();
  if (n >= 3 && r.survives_strongest_removed) {
    r.confidence = Confidence::kHigh;
  } else if (n >= 2 && r.survives_strongest_removed) {
    r.confidence = Confidence::kModerate;
  } else {
    r.confidence = Confidence::kLow;
  }
  r.candidates = std::move(cands);
  if (r.candidates.front().probability < model_.abstain_below) {
    r.abstained = true;
    r.abstain_reason = AbstentionReason(r.candidates.front().probability, model_.abstain_below);
    r.confidence = Confidence::kLow;
  }
  return r;
}

double ShownThreshold(double threshold) {
  // The epsilon keeps a threshold stored as 0.836 from reading 0.837.
  return std::ceil(threshold * 1000 - 1e-9) / 1000;
}

std::string AbstentionReason(double top, double threshold) {
  // In tenths of a percent: the probability rounded down (the epsilon keeps one stored as 0.835
  // from reading 83.4), the threshold up.
  const double shown_top = std::floor(top * 1000 + 1e-9) / 10;
  const double shown_threshold = ShownThreshold(threshold) * 100;
  return absl::StrFormat("no known actor fits: best candidate %.1f %%, under the %.1f %% threshold",
                         shown_top, shown_threshold);
}

}  // namespace kinship::attrib
