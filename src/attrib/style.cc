// Naming style of hostnames: TF-IDF cosine over character n-grams, nearest known incidents.
// Written here rather than taken from a library: no Debian-packaged C++ library offers a small
// in-memory TF-IDF index, and what is needed (an inverted list per n-gram, one accumulator
// array per query) is short.
#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "kinship/attribution.h"
#include "kinship/limits.h"

namespace kinship::attrib {
namespace {

// n-gram lengths: 3 to 5 characters capture word pieces ("upda", "cdn-", "soft") and the
// digit and hyphen habits of generated names; shorter ones match everything, longer ones only
// the same name.
constexpr size_t kMinGram = 3;
constexpr size_t kMaxGram = 5;

bool IsHostname(const Indicator& ind) {
  if (!ind.valid() || ind.benign() || ind.type != IndicatorType::kDomain) return false;
  return ind.derivation == Derivation::kNone || ind.derivation == Derivation::kUrlHost;
}

}  // namespace

std::vector<std::pair<std::string, int>> StyleTerms(const Incident& incident) {
  absl::flat_hash_map<std::string, int> terms;
  absl::flat_hash_set<std::string_view> hosts;
  for (const Indicator& ind : incident.indicators) {
    if (!IsHostname(ind) || !hosts.insert(ind.value).second) continue;
    const std::string_view host = ind.value;
    const size_t dot = host.rfind('.');
    if (dot == std::string_view::npos || dot == 0) continue;
    ++terms[std::string("tld:").append(host.substr(dot + 1))];
    // The name without its TLD, its ends marked, so "^mail" (a prefix) differs from "mail".
    std::string name = "^";
    name.append(host.substr(0, dot)).push_back('$');
    for (size_t n = kMinGram; n <= kMaxGram; ++n) {
      for (size_t i = 0; i + n <= name.size(); ++i) ++terms[name.substr(i, n)];
    }
  }
  std::vector<std::pair<std::string, int>> sorted(terms.begin(), terms.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

struct StyleIndex::Doc {
  std::string incident_id, actor_id;
  std::vector<std::pair<uint32_t, int>> terms;  // (term id, count), until Finalize()
};

StyleIndex::StyleIndex() = default;
StyleIndex::~StyleIndex() = default;
StyleIndex::StyleIndex(StyleIndex&&) noexcept = default;
StyleIndex& StyleIndex::operator=(StyleIndex&&) noexcept = default;

void StyleIndex::Add(const Incident& incident, const std::string& actor_id) {
  if (actor_id.empty() || !ids_.insert(incident.id).second) return;
  const auto terms = StyleTerms(incident);
  if (terms.empty()) return;
  Doc doc{incident.id, actor_id, {}};
  doc.terms.reserve(terms.size());
  for (const auto& [t, n] : terms) {
    auto [it, added] = terms_.try_emplace(t, Term{static_cast<uint32_t>(df_.size()), 0.0});
    if (added) df_.push_back(0);
    ++df_[it->second.id];
    doc.terms.emplace_back(it->second.id, n);
  }
  docs_.push_back(std::move(doc));
}

void StyleIndex::Add(const Incident& incident) {
  for (const Attribution& a : incident.attributions) {
    const std::string& actor = a.actor_id.empty() ? a.actor_name : a.actor_id;
    if (!actor.empty()) return Add(incident, actor);
  }
}

void StyleIndex::Finalize() {
  n_ = docs_.size();
  std::vector<double> idf(df_.size());
  for (size_t i = 0; i < df_.size(); ++i) idf[i] = Idf(df_[i]);
  for (auto& [t, term] : terms_) term.idf = idf[term.id];
  postings_.assign(df_.size(), {});
  for (size_t i = 0; i < df_.size(); ++i) postings_[i].reserve(df_[i]);
  for (uint32_t d = 0; d < docs_.size(); ++d) {
    double norm = 0;
    for (const auto& [id, n] : docs_[d].terms) {
      const double w = (1 + std::log(n)) * idf[id];
      norm += w * w;
    }
    norm = std::sqrt(norm);
    for (const auto& [id, n] : docs_[d].terms) {
      const double w = (1 + std::log(n)) * idf[id];
      if (norm > 0 && w > 0) postings_[id].push_back({d, static_cast<float>(w / norm)});
    }
    docs_[d].terms = {};
  }
}

double StyleIndex::Idf(size_t df) const {
  return 1 + std::log(static_cast<double>(n_ + 1) / static_cast<double>(df + 1));
}

std::vector<StyleMatch> StyleIndex::Nearest(const Incident& query, size_t k) const {
  std::vector<StyleMatch> out;
  if (k == 0 || docs_.empty()) return out;
  // The query's weights, rarest term first, so a capped walk drops only the commonest terms.
  struct Q {
    uint32_t id;
    double w;
  };
  std::vector<Q> q;
  double norm = 0;
  for (const auto& [t, n] : StyleTerms(query)) {
    auto it = terms_.find(t);
    // A term no known incident has still counts in the query's norm (idf as if df were 0).
    const double w = (1 + std::log(n)) * (it == terms_.end() ? Idf(0) : it->second.idf);
    norm += w * w;
    if (it != terms_.end() && w > 0) q.push_back({it->second.id, w});
  }
  if (q.empty() || norm <= 0) return out;
  norm = std::sqrt(norm);
  std::sort(q.begin(), q.end(), [this](const Q& a, const Q& b) {
    return postings_[a.id].size() != postings_[b.id].size()
               ? postings_[a.id].size() < postings_[b.id].size()
               : a.id < b.id;
  });
  absl::flat_hash_map<uint32_t, double> acc;
  size_t walked = 0;
  for (const Q& term : q) {
    const auto& list = postings_[term.id];
    if (walked + list.size() > limits::kMaxPostingWalk && !acc.empty()) break;
    walked += list.size();
    for (const Posting& p : list) acc[p.doc] += term.w / norm * p.weight;
  }
  std::vector<std::pair<double, uint32_t>> ranked;
  ranked.reserve(acc.size());
  for (const auto& [doc, s] : acc) {
    if (docs_[doc].incident_id != query.id) ranked.emplace_back(s, doc);
  }
  const size_t n = std::min(k, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  for (size_t i = 0; i < n; ++i) {
    const Doc& d = docs_[ranked[i].second];
    out.push_back({d.incident_id, d.actor_id, std::min(1.0, ranked[i].first)});
  }
  return out;
}

size_t StyleIndex::size() const { return docs_.size(); }

}  // namespace kinship::attrib
