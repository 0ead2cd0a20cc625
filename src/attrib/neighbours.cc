// An in-memory inverted index over incidents with known actors: retrieval of similar incidents
// (rarest feature first, never all pairs) and the two baselines of the evaluation.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "kinship/attribution.h"
#include "kinship/limits.h"

namespace kinship::attrib {
namespace {

// Family weights of the pair score (Fellegi-Sunter "m/u" spirit: shared infrastructure or files
// say more about "same actor" than shared behaviour). Tuned on the dev split with `kinship eval`.
constexpr std::array<double, kFamilyCount> kFamilyWeight = {1.0, 0.7, 0.25, 0.6, 0.3, 0, 0, 0};
// Saturation scale per family: sum of idf s in a family contributes 1 - exp(-s / kSaturation),
// so fifty indicators from one toolkit are not fifty independent witnesses.
constexpr double kSaturation = 8.0;
// Logistic map from the pair score to a "same actor" probability.
constexpr double kPairBias = -2.5;
constexpr double kPairSlope = 5.0;
// Character n-gram length for naming style.
constexpr size_t kNgram = 4;

// Lower-case name of a software mention: its KB id when resolved.
std::string SoftwareKey(const Software& s) {
  if (!s.id.empty()) return s.id;
  std::string n;
  for (char c : s.name) {
    if (std::isalnum(static_cast<unsigned char>(c))) n.push_back(std::tolower(c));
  }
  return n;
}

// Label of a registered domain without its public suffix ("actblues.com" -> "actblues").
std::string Label(const std::string& regdom) {
  const size_t dot = regdom.find('.');
  return dot == std::string::npos ? regdom : regdom.substr(0, dot);
}

}  // namespace

std::vector<Feature> IncidentFeatures(const Incident& incident) {
  std::vector<Feature> out;
  absl::flat_hash_set<std::string> seen;
  auto add = [&](std::string key, Family f, double credit, bool stated) {
    if (seen.insert(key).second) out.push_back({std::move(key), f, credit, stated});
  };
  for (const Indicator& ind : incident.indicators) {
    if (!ind.valid() || ind.benign() || ind.type == IndicatorType::kOther) continue;
    const std::string type(IndicatorTypeName(ind.type));
    switch (ind.derivation) {
      case Derivation::kNone:
        add(absl::StrCat(type, ":", ind.value), Family::kIndicator, 1.0, true);
        break;
      case Derivation::kRegisteredDomain:
      case Derivation::kEmailDomain: {
        add(absl::StrCat("regdom:", ind.value), Family::kInfrastructure, 1.0, false);
        const std::string label = Label(ind.value);
        if (label.size() >= kNgram + 2) {
          for (size_t i = 0; i + kNgram <= label.size(); ++i) {
            add(absl::StrCat("ng:", label.substr(i, kNgram)), Family::kNaming, 1.0, false);
          }
        }
        break;
      }
      case Derivation::kNetwork:
        add(absl::StrCat("net:", ind.value), Family::kInfrastructure, 1.0, false);
        break;
      case Derivation::kUrlHost:
        add(absl::StrCat("host:", ind.value), Family::kInfrastructure, 1.0, false);
        break;
    }
  }
  for (const Technique& t : incident.techniques) {
    if (t.id.empty()) continue;
    add(absl::StrCat("tech:", t.id), Family::kBehaviour, 1.0, false);
  }
  for (const Technique& t : incident.techniques) {
    const size_t dot = t.id.find('.');
    if (dot != std::string::npos) {
      add(absl::StrCat("tech:", t.id.substr(0, dot)), Family::kBehaviour, 0.5, false);
    }
  }
  for (const Software& s : incident.software) {
    const std::string k = SoftwareKey(s);
    if (!k.empty()) add(absl::StrCat("soft:", k), Family::kSoftware, 1.0, false);
  }
  return out;
}

struct NeighbourIndex::Impl {
  struct Doc {
    std::string id;
    std::string actor;
    std::vector<uint32_t> features;  // ids into keys
    double stated_norm = 0;          // TF-IDF norm over stated indicators (baseline)
  };
  absl::flat_hash_map<std::string, uint32_t> ids;
  std::vector<std::string> keys;
  std::vector<Family> families;
  std::vector<bool> stated;
  std::vector<std::vector<uint32_t>> postings;  // feature -> docs
  std::vector<Doc> docs;
  absl::flat_hash_set<std::string> doc_ids;
  bool finalized = false;

  double Idf(uint32_t f) const {
    return std::log(static_cast<double>(docs.size() + 1) / (postings[f].size() + 0.5));
  }

  // Query features that exist in the index, rarest first.
  std::vector<std::pair<uint32_t, Feature>> Lookup(const Incident& q) const {
    std::vector<std::pair<uint32_t, Feature>> out;
    for (Feature& f : IncidentFeatures(q)) {
      auto it = ids.find(f.key);
      if (it != ids.end()) out.emplace_back(it->second, std::move(f));
    }
    std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
      return postings[a.first].size() < postings[b.first].size();
    });
    return out;
  }
};

NeighbourIndex::NeighbourIndex() : impl_(std::make_unique<Impl>()) {}
NeighbourIndex::~NeighbourIndex() = default;
NeighbourIndex::NeighbourIndex(NeighbourIndex&&) noexcept = default;
NeighbourIndex& NeighbourIndex::operator=(NeighbourIndex&&) noexcept = default;

void NeighbourIndex::Add(const Incident& incident, const std::string& actor_id) {
  Impl& m = *impl_;
  if (!m.doc_ids.insert(incident.id).second) return;
  Impl::Doc d{incident.id, actor_id, {}, 0};
  const uint32_t doc = static_cast<uint32_t>(m.docs.size());
  for (Feature& f : IncidentFeatures(incident)) {
    auto [it, inserted] = m.ids.emplace(f.key, static_cast<uint32_t>(m.keys.size()));
    if (inserted) {
      m.keys.push_back(f.key);
      m.families.push_back(f.family);
      m.stated.push_back(f.stated);
      m.postings.emplace_back();
    }
    m.postings[it->second].push_back(doc);
    d.features.push_back(it->second);
  }
  m.docs.push_back(std::move(d));
  m.finalized = false;
}

void NeighbourIndex::Finalize() {
  Impl& m = *impl_;
  for (Impl::Doc& d : m.docs) {
    double n = 0;
    for (uint32_t f : d.features) {
      if (m.stated[f]) n += std::pow(m.Idf(f), 2);
    }
    d.stated_norm = std::sqrt(n);
  }
  m.finalized = true;
}

size_t NeighbourIndex::size() const { return impl_->docs.size(); }

std::vector<Neighbour> NeighbourIndex::Neighbours(const Incident& query, size_t k) const {
  const Impl& m = *impl_;
  std::vector<Neighbour> out;
  if (!m.finalized || k == 0) return out;
  struct Acc {
    std::array<double, kFamilyCount> sum{};
    std::vector<EvidenceItem> shared;
  };
  absl::flat_hash_map<uint32_t, Acc> acc;
  size_t walked = 0;
  for (const auto& [fid, f] : m.Lookup(query)) {
    const std::vector<uint32_t>& posting = m.postings[fid];
    if (walked + posting.size() > limits::kMaxPostingWalk) break;
    walked += posting.size();
    const double w = m.Idf(fid) * f.credit;
    if (w <= 0) continue;
    for (uint32_t doc : posting) {
      if (m.docs[doc].id == query.id) continue;
      Acc& a = acc[doc];
      a.sum[static_cast<int>(f.family)] += w;
      a.shared.push_back({f.family, f.key, m.docs[doc].id, w});
    }
  }
  std::vector<std::pair<double, uint32_t>> scored;
  for (auto& [doc, a] : acc) {
    double s = 0;
    for (int fam = 0; fam < kFamilyCount; ++fam) {
      s += kFamilyWeight[fam] * (1 - std::exp(-a.sum[fam] / kSaturation));
    }
    scored.emplace_back(s, doc);
  }
  std::sort(scored.begin(), scored.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : m.docs[a.second].id < m.docs[b.second].id;
  });
  if (scored.size() > k) scored.resize(k);
  for (const auto& [s, doc] : scored) {
    Neighbour n;
    n.incident_id = m.docs[doc].id;
    n.actor_id = m.docs[doc].actor;
    n.probability = 1 / (1 + std::exp(-(kPairBias + kPairSlope * s)));
    n.shared = std::move(acc[doc].shared);
    std::stable_sort(
        n.shared.begin(), n.shared.end(),
        [](const EvidenceItem& a, const EvidenceItem& b) { return a.weight > b.weight; });
    out.push_back(std::move(n));
  }
  return out;
}

namespace {
std::vector<std::pair<std::string, double>> SortVotes(
    const absl::flat_hash_map<std::string, double>& votes) {
  std::vector<std::pair<std::string, double>> out(votes.begin(), votes.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}
}  // namespace

std::vector<std::pair<std::string, double>> NeighbourIndex::ExactOverlapVote(
    const Incident& query) const {
  const Impl& m = *impl_;
  absl::flat_hash_map<std::string, double> votes;
  for (const auto& [fid, f] : m.Lookup(query)) {
    if (!f.stated) continue;
    for (uint32_t doc : m.postings[fid]) {
      if (m.docs[doc].id != query.id) votes[m.docs[doc].actor] += 1;
    }
  }
  return SortVotes(votes);
}

std::vector<std::pair<std::string, double>> NeighbourIndex::TfidfCosineVote(
    const Incident& query) const {
  const Impl& m = *impl_;
  absl::flat_hash_map<uint32_t, double> dot;
  double qn = 0;
  for (const auto& [fid, f] : m.Lookup(query)) {
    if (!f.stated) continue;
    const double w = m.Idf(fid);
    qn += w * w;
    for (uint32_t doc : m.postings[fid]) {
      if (m.docs[doc].id != query.id) dot[doc] += w * w;
    }
  }
  absl::flat_hash_map<std::string, double> best;
  for (const auto& [doc, d] : dot) {
    const double norm = std::sqrt(qn) * m.docs[doc].stated_norm;
    if (norm <= 0) continue;
    double& b = best[m.docs[doc].actor];
    b = std::max(b, d / norm);
  }
  return SortVotes(best);
}

}  // namespace kinship::attrib
