// Matching an incident's techniques and software against actors' knowledge-base profiles.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "kinship/attribution.h"

namespace kinship::attrib {
namespace {

// Jelinek-Mercer smoothing weight of the query-likelihood model (Zhai & Lafferty 2001): the
// share of a profile's probability mass on its own features versus the background.
constexpr double kLambda = 0.8;
// Software is costlier for an actor to change than behaviour (pyramid of pain): its evidence
// counts this many times a technique's.
constexpr double kSoftwareWeight = 4.0;
// Scale turning a log-likelihood ratio into a [0, 1) score: 1 - exp(-llr / kScale).
constexpr double kScale = 12.0;

std::string ParentOf(const std::string& technique) {
  const size_t dot = technique.find('.');
  return dot == std::string::npos ? std::string() : technique.substr(0, dot);
}

struct QueryFeature {
  std::string key;
  double credit;
  bool software;
};

std::vector<QueryFeature> QueryFeatures(const std::vector<std::string>& techniques,
                                        const std::vector<std::string>& software) {
  std::vector<QueryFeature> out;
  absl::flat_hash_set<std::string> seen;
  auto add = [&](std::string key, double credit, bool soft) {
    if (seen.insert(key).second) out.push_back({std::move(key), credit, soft});
  };
  for (const std::string& t : techniques) {
    if (t.empty()) continue;
    add("t:" + t, 1.0, false);
  }
  for (const std::string& t : techniques) {
    const std::string parent = ParentOf(t);
    if (!parent.empty()) add("t:" + parent, 0.5, false);
  }
  for (const std::string& s : software) {
    if (!s.empty()) add("s:" + s, 1.0, true);
  }
  return out;
}

}  // namespace

ProfileMatcher::ProfileMatcher(std::vector<ActorProfile> profiles)
    : profiles_(std::move(profiles)) {
  absl::flat_hash_map<std::string, int> df;
  features_.reserve(profiles_.size());
  for (const ActorProfile& p : profiles_) {
    std::vector<std::string> f;
    for (const std::string& t : p.techniques) f.push_back("t:" + t);
    for (const std::string& s : p.software) f.push_back("s:" + s);
    std::sort(f.begin(), f.end());
    f.erase(std::unique(f.begin(), f.end()), f.end());
    for (const std::string& k : f) ++df[k];
    features_.push_back(std::move(f));
  }
  df_.assign(df.begin(), df.end());
  std::sort(df_.begin(), df_.end());
  for (const auto& [k, d] : df_) (k[0] == 't' ? total_t_ : total_s_) += d;
  // The size at which a software match is weighted kSoftwareWeight times (Match).
  double with_software = 0;
  for (const std::vector<std::string>& f : features_) {
    with_software +=
        std::any_of(f.begin(), f.end(), [](const std::string& k) { return k[0] == 's'; });
  }
  if (with_software > 0) mean_s_ = total_s_ / with_software;
}

const ActorProfile* ProfileMatcher::profile(std::string_view actor_id) const {
  for (const ActorProfile& p : profiles_) {
    if (p.actor_id == actor_id) return &p;
  }
  return nullptr;
}

double ProfileMatcher::Idf(const std::string& feature) const {
  auto it = std::lower_bound(df_.begin(), df_.end(), std::make_pair(feature, 0));
  if (it == df_.end() || it->first != feature) return 0.0;
  return std::log(static_cast<double>(profiles_.size()) / it->second);
}

// Query likelihood with Jelinek-Mercer smoothing: log P(q | actor) / P(q | background) =
// sum over query features f of log(1 + lambda/(1-lambda) * [f in A] / (|A| * P(f))), where P(f)
// is f's share of all profile features. Rare features weigh much (1 / P(f)); large profiles weigh
// each feature less (1 / |A|), so a group that "uses everything" does not win by default.
std::vector<ProfileMatch> ProfileMatcher::Match(const std::vector<std::string>& techniques,
                                                const std::vector<std::string>& software,
                                                size_t top_k) const {
  std::vector<ProfileMatch> out;
  std::vector<double> llr;  // per match: its log-likelihood ratio
  if (profiles_.empty()) return out;
  const std::vector<QueryFeature> q = QueryFeatures(techniques, software);
  for (size_t i = 0; i < profiles_.size(); ++i) {
    const std::vector<std::string>& f = features_[i];
    double size_t_ = 0, size_s = 0;
    for (const std::string& k : f) (k[0] == 't' ? size_t_ : size_s) += 1;
    double llr_t = 0, llr_s = 0;
    ProfileMatch m;
    m.actor_id = profiles_[i].actor_id;
    for (const QueryFeature& qf : q) {
      if (!std::binary_search(f.begin(), f.end(), qf.key)) continue;
      auto it = std::lower_bound(df_.begin(), df_.end(), std::make_pair(qf.key, 0));
      const double background = it->second / (qf.software ? total_s_ : total_t_);
      const double size = qf.software ? size_s : size_t_;
      const double w = qf.credit * std::log1p(kLambda / (1 - kLambda) / (size * background));
      if (qf.software) {
        // Only the match itself is weighted kSoftwareWeight times: its strength at the mean
        // profile size is. What the profile's own size adds or takes away (1 / |A|) stays a
        // plain likelihood ratio. Weighting the whole term raised the size ratio between two
        // groups that both use the tool to the fourth power: PoisonIvy alone, used by 14
        // groups in ATT&CK, read Moafee (its only tool) 59 %, "likely".
        const double at_mean =
            qf.credit * std::log1p(kLambda / (1 - kLambda) / (mean_s_ * background));
        llr_s += w + (kSoftwareWeight - 1) * at_mean;
      } else {
        llr_t += w;
      }
      m.evidence.push_back({qf.software ? Family::kProfileSoftware : Family::kProfileTechniques,
                            qf.key.substr(2), "", w});
    }
    if (m.evidence.empty()) continue;
    m.technique_score = 1 - std::exp(-llr_t / kScale);
    m.software_score = 1 - std::exp(-llr_s / kScale);
    m.score = 1 - std::exp(-(llr_t + llr_s) / kScale);
    std::sort(m.evidence.begin(), m.evidence.end(),
              [](const EvidenceItem& a, const EvidenceItem& b) { return a.weight > b.weight; });
    out.push_back(std::move(m));
    llr.push_back(llr_t + llr_s);
  }
  // Posterior over all profiles: those matching nothing have llr 0 (exp = 1) and still count.
  double top = 0;
  for (double l : llr) top = std::max(top, l);
  double sum = static_cast<double>(profiles_.size() - out.size()) * std::exp(-top);
  for (double l : llr) sum += std::exp(l - top);
  for (size_t i = 0; i < out.size(); ++i) out[i].posterior = std::exp(llr[i] - top) / sum;
  std::sort(out.begin(), out.end(), [](const ProfileMatch& a, const ProfileMatch& b) {
    return a.score != b.score ? a.score > b.score : a.actor_id < b.actor_id;
  });
  if (out.size() > top_k) out.resize(top_k);
  return out;
}

std::vector<ProfileMatch> ProfileMatcher::TfidfCosine(const std::vector<std::string>& techniques,
                                                      const std::vector<std::string>& software,
                                                      size_t top_k) const {
  std::vector<ProfileMatch> out;
  std::vector<QueryFeature> q;
  for (const std::string& t : techniques) q.push_back({"t:" + t, 1.0, false});
  for (const std::string& s : software) q.push_back({"s:" + s, 1.0, true});
  double qn = 0;
  for (const QueryFeature& qf : q) qn += std::pow(Idf(qf.key), 2);
  if (qn == 0) return out;
  for (size_t i = 0; i < profiles_.size(); ++i) {
    const std::vector<std::string>& f = features_[i];
    double dot = 0, pn = 0;
    for (const std::string& k : f) pn += std::pow(Idf(k), 2);
    for (const QueryFeature& qf : q) {
      if (std::binary_search(f.begin(), f.end(), qf.key)) dot += std::pow(Idf(qf.key), 2);
    }
    if (dot <= 0 || pn <= 0) continue;
    ProfileMatch m;
    m.actor_id = profiles_[i].actor_id;
    m.score = dot / std::sqrt(qn * pn);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const ProfileMatch& a, const ProfileMatch& b) {
    return a.score != b.score ? a.score > b.score : a.actor_id < b.actor_id;
  });
  if (out.size() > top_k) out.resize(top_k);
  return out;
}

}  // namespace kinship::attrib
