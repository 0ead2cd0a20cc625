// FuzzyEvidenceIndex: incidents' TLSH and ssdeep digests behind the exact TlshIndex and
// SsdeepIndex, answering "which stored files are near this digest" with closeness weights and
// an explanation for the similarity scorer.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "kinship/fuzzy.h"

namespace kinship {

std::string FuzzyEvidence::Explain() const {
  std::string out = kind == FuzzyKind::kTlsh ? "TLSH distance " : "ssdeep score ";
  out += std::to_string(value);
  out += " to a file in incident ";
  out += incident_id;
  return out;
}

double TlshCloseness(int distance) {
  return std::exp2(-static_cast<double>(std::max(distance, 0)) / 30.0);
}

double SsdeepCloseness(int score) { return std::clamp(score, 0, 100) / 100.0; }

absl::StatusOr<FuzzyKind> DetectFuzzyKind(std::string_view digest) {
  if (ValidateSsdeep(digest).ok()) return FuzzyKind::kSsdeep;
  if (ParseTlsh(digest).ok()) return FuzzyKind::kTlsh;
  return absl::InvalidArgumentError("'" + std::string(digest.substr(0, 80)) +
                                    "' is neither a TLSH nor an ssdeep digest");
}

struct FuzzyEvidenceIndex::Impl {
  struct Entry {
    std::string incident_id;
    std::string digest;
  };
  std::vector<Entry> entries;
  TlshIndex tlsh;
  SsdeepIndex ssdeep;
};

FuzzyEvidenceIndex::FuzzyEvidenceIndex() : impl_(std::make_unique<Impl>()) {}
FuzzyEvidenceIndex::~FuzzyEvidenceIndex() = default;
FuzzyEvidenceIndex::FuzzyEvidenceIndex(FuzzyEvidenceIndex&&) noexcept = default;
FuzzyEvidenceIndex& FuzzyEvidenceIndex::operator=(FuzzyEvidenceIndex&&) noexcept = default;

size_t FuzzyEvidenceIndex::size() const { return impl_->entries.size(); }

absl::Status FuzzyEvidenceIndex::Add(std::string_view incident_id, FuzzyKind kind,
                                     std::string_view digest) {
  uint32_t id = static_cast<uint32_t>(impl_->entries.size());
  if (kind == FuzzyKind::kTlsh) {
    absl::StatusOr<TlshDigest> d = ParseTlsh(digest);
    if (!d.ok()) return d.status();
    impl_->tlsh.Add(*d, id);
  } else {
    absl::Status s = impl_->ssdeep.Add(digest, id);
    if (!s.ok()) return s;
  }
  impl_->entries.push_back({std::string(incident_id), std::string(digest)});
  return absl::OkStatus();
}

size_t FuzzyEvidenceIndex::AddIncident(const Incident& incident) {
  size_t added = 0;
  for (const Indicator& ind : incident.indicators) {
    if (!ind.error.empty()) continue;
    FuzzyKind kind;
    if (ind.type == IndicatorType::kTlsh) {
      kind = FuzzyKind::kTlsh;
    } else if (ind.type == IndicatorType::kSsdeep) {
      kind = FuzzyKind::kSsdeep;
    } else {
      continue;
    }
    if (Add(incident.id, kind, ind.value).ok()) ++added;
  }
  return added;
}

absl::StatusOr<std::vector<FuzzyEvidence>> FuzzyEvidenceIndex::Near(
    FuzzyKind kind, std::string_view digest, const FuzzyThresholds& t) const {
  std::vector<FuzzyEvidence> out;
  auto push = [&](uint32_t payload, int value, double weight) {
    const Impl::Entry& e = impl_->entries[payload];
    out.push_back({kind, std::string(digest), e.digest, e.incident_id, value, weight});
  };
  if (kind == FuzzyKind::kTlsh) {
    absl::StatusOr<TlshDigest> q = ParseTlsh(digest);
    if (!q.ok()) return q.status();
    if (t.tlsh_max_distance < 0) return out;
    std::vector<TlshNeighbour> found =
        t.max_per_query > 0 ? impl_->tlsh.TopK(*q, t.max_per_query, t.tlsh_max_distance)
                            : impl_->tlsh.Radius(*q, t.tlsh_max_distance);
    for (const TlshNeighbour& n : found) push(n.payload, n.distance, TlshCloseness(n.distance));
  } else {
    absl::StatusOr<std::vector<SsdeepMatch>> found =
        impl_->ssdeep.Query(digest, std::clamp(t.ssdeep_min_score, 1, 100));
    if (!found.ok()) return found.status();
    if (t.max_per_query > 0 && found->size() > t.max_per_query) found->resize(t.max_per_query);
    for (const SsdeepMatch& m : *found) push(m.payload, m.score, SsdeepCloseness(m.score));
  }
  return out;
}

std::vector<FuzzyEvidence> FuzzyEvidenceIndex::NearIncident(const Incident& incident,
                                                            const FuzzyThresholds& t) const {
  // Files of the incident itself are not evidence; ask for extra hits to make room for them.
  FuzzyThresholds wide = t;
  wide.max_per_query = 0;
  std::map<std::pair<std::string, FuzzyKind>, FuzzyEvidence> best;
  for (const Indicator& ind : incident.indicators) {
    if (!ind.error.empty()) continue;
    FuzzyKind kind;
    if (ind.type == IndicatorType::kTlsh) {
      kind = FuzzyKind::kTlsh;
    } else if (ind.type == IndicatorType::kSsdeep) {
      kind = FuzzyKind::kSsdeep;
    } else {
      continue;
    }
    absl::StatusOr<std::vector<FuzzyEvidence>> near = Near(kind, ind.value, wide);
    if (!near.ok()) continue;
    for (FuzzyEvidence& e : *near) {
      if (e.incident_id == incident.id) continue;
      auto key = std::make_pair(e.incident_id, kind);
      auto it = best.find(key);
      if (it == best.end() || e.weight > it->second.weight) best[key] = std::move(e);
    }
  }
  std::vector<FuzzyEvidence> out;
  out.reserve(best.size());
  for (auto& [key, e] : best) out.push_back(std::move(e));
  std::stable_sort(out.begin(), out.end(), [](const FuzzyEvidence& a, const FuzzyEvidence& b) {
    return std::tie(b.weight, a.incident_id) < std::tie(a.weight, b.incident_id);
  });
  if (t.max_per_query > 0 && out.size() > t.max_per_query) out.resize(t.max_per_query);
  return out;
}

}  // namespace kinship
