// Naming style of hostnames: TF-IDF cosine over character n-grams, nearest known incidents, and
// a linear classifier over the same terms.
// The kNN index is written here rather than taken from a library: no Debian-packaged C++
// library offers a small in-memory TF-IDF index, and what is needed (an inverted list per
// n-gram, one accumulator array per query) is short. The classifier is liblinear's (Debian
// liblinear-dev): one-vs-rest L2-regularised linear SVMs on sparse vectors.
#include <linear.h>

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

// The classifier's terms are hashed into this many buckets: liblinear keeps a dense weight per
// feature and class, so 2^16 buckets x the ~120 classes of an evaluation fold is ~60 MB, where
// the ~600 k distinct n-grams of the evaluation data would need ~580 MB. (A Python check on the
// same folds: hashing to 2^16 cost 0.003 of top-1.)
constexpr uint32_t kBuckets = 1u << 16;
// SVM cost C (liblinear's L2R_L2LOSS_SVC_DUAL), as scikit-learn's LinearSVC default; a Python
// check on the evaluation folds found 0.1 far worse and 10 a little better alone, and kinship
// eval found 0.3 and 10 no better in the model (docs/evaluation.md).
constexpr double kCost = 1.0;
// An actor with fewer indexed incidents gets no class: one incident is the kNN's job, and every
// class costs kBuckets weights.
constexpr size_t kMinClassDocs = 2;

// FNV-1a: the same bucket for a term in every run (absl::Hash is seeded per process).
uint32_t Bucket(std::string_view term) {
  uint32_t h = 2166136261u;
  for (unsigned char c : term) {
    h ^= c;
    h *= 16777619u;
  }
  return h & (kBuckets - 1);
}

void Silent(const char*) {}

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

struct StyleIndex::Classifier {
  std::vector<double> idf;                   // by bucket, over every indexed incident
  std::vector<std::string> actors;           // by class label
  absl::flat_hash_set<std::string> trained;  // incidents it was trained on
  model* svm = nullptr;
  Classifier() = default;
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;
  ~Classifier() {
    if (svm != nullptr) free_and_destroy_model(&svm);
  }
  // (bucket, count) pairs, sorted by bucket, as liblinear's sparse vector: log-scaled TF-IDF,
  // unit length, then the bias feature and the terminator.
  void Vector(std::vector<std::pair<uint32_t, int>> counts, std::vector<feature_node>& out) const {
    std::sort(counts.begin(), counts.end());
    const size_t first = out.size();
    double norm = 0;
    for (size_t i = 0; i < counts.size();) {
      const uint32_t b = counts[i].first;
      int n = 0;  // terms that hash to one bucket count together
      for (; i < counts.size() && counts[i].first == b; ++i) n += counts[i].second;
      const double w = (1 + std::log(n)) * idf[b];
      norm += w * w;
      out.push_back({static_cast<int>(b) + 1, w});
    }
    norm = std::sqrt(norm);
    for (size_t i = first; i < out.size(); ++i) out[i].value = norm > 0 ? out[i].value / norm : 0;
    out.push_back({static_cast<int>(kBuckets) + 1, 1.0});  // bias
    out.push_back({-1, 0.0});
  }
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

void StyleIndex::Finalize(bool classifier, size_t max_classes) {
  n_ = docs_.size();
  if (classifier) TrainClassifier(max_classes);
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

void StyleIndex::TrainClassifier(size_t max_classes) {
  classifier_.reset();
  absl::flat_hash_map<std::string_view, size_t> per_actor;
  for (const Doc& d : docs_) ++per_actor[d.actor_id];
  // The classes: actors with enough incidents, the most incidents first (ties by id), at most
  // max_classes of them; the others are left to the kNN.
  std::vector<std::pair<size_t, std::string_view>> eligible;
  for (const auto& [actor, n] : per_actor) {
    if (n >= kMinClassDocs) eligible.emplace_back(n, actor);
  }
  std::sort(eligible.begin(), eligible.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (eligible.size() > max_classes) eligible.resize(max_classes);
  if (eligible.size() < 2) return;
  auto c = std::make_unique<Classifier>();
  absl::flat_hash_map<std::string_view, int> label;
  for (const auto& [n, actor] : eligible) {
    label[actor] = static_cast<int>(c->actors.size());
    c->actors.emplace_back(actor);
  }
  // Term id -> bucket, and the buckets' document frequencies over every indexed incident.
  std::vector<uint32_t> bucket(df_.size());
  for (const auto& [t, term] : terms_) bucket[term.id] = Bucket(t);
  std::vector<std::vector<std::pair<uint32_t, int>>> counts(docs_.size());
  std::vector<int> df(kBuckets, 0);
  for (size_t d = 0; d < docs_.size(); ++d) {
    for (const auto& [id, n] : docs_[d].terms) counts[d].emplace_back(bucket[id], n);
    std::sort(counts[d].begin(), counts[d].end());
    for (size_t i = 0; i < counts[d].size(); ++i) {
      if (i == 0 || counts[d][i].first != counts[d][i - 1].first) ++df[counts[d][i].first];
    }
  }
  c->idf.resize(kBuckets);
  for (uint32_t b = 0; b < kBuckets; ++b) c->idf[b] = Idf(df[b]);
  std::vector<feature_node> nodes;
  std::vector<size_t> start;
  std::vector<double> y;
  for (size_t d = 0; d < docs_.size(); ++d) {
    auto it = label.find(docs_[d].actor_id);
    if (it == label.end()) continue;
    start.push_back(nodes.size());
    c->Vector(std::move(counts[d]), nodes);
    y.push_back(it->second);
    c->trained.insert(docs_[d].incident_id);
  }
  std::vector<feature_node*> x;
  for (size_t s : start) x.push_back(nodes.data() + s);
  problem prob{};
  prob.l = static_cast<int>(x.size());
  prob.n = static_cast<int>(kBuckets) + 1;
  prob.y = y.data();
  prob.x = x.data();
  prob.bias = 1;
  parameter param{};
  param.solver_type = L2R_L2LOSS_SVC_DUAL;
  param.eps = 0.1;  // liblinear's default stopping tolerance for this solver
  param.C = kCost;
  param.p = 0.1;
  if (check_parameter(&prob, &param) != nullptr) return;
  set_print_string_function(&Silent);
  c->svm = train(&prob, &param);
  if (c->svm != nullptr) classifier_ = std::move(c);
}

std::vector<StyleVote> StyleIndex::Classify(const Incident& query, size_t k,
                                            const std::vector<std::string>& exclude) const {
  std::vector<StyleVote> out;
  if (!classifier_ || k == 0 || classifier_->trained.contains(query.id)) return out;
  for (const std::string& id : exclude) {
    if (classifier_->trained.contains(id)) return out;
  }
  std::vector<std::pair<uint32_t, int>> counts;
  for (const auto& [t, n] : StyleTerms(query)) counts.emplace_back(Bucket(t), n);
  if (counts.empty()) return out;
  std::vector<feature_node> x;
  classifier_->Vector(std::move(counts), x);
  const model* m = classifier_->svm;
  std::vector<double> dec(static_cast<size_t>(m->nr_class), 0.0);
  predict_values(m, x.data(), dec.data());
  // With two classes liblinear keeps one decision value, for the first label.
  if (m->nr_class == 2) dec[1] = -dec[0];
  std::vector<std::pair<double, const std::string*>> ranked;
  for (int i = 0; i < m->nr_class; ++i) {
    ranked.emplace_back(dec[i], &classifier_->actors[static_cast<size_t>(m->label[i])]);
  }
  const size_t n = std::min(k, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : *a.second < *b.second;
                    });
  for (size_t i = 0; i < n; ++i) {
    out.push_back({*ranked[i].second, std::clamp((ranked[i].first + 1.5) / 3, 0.0, 1.0)});
  }
  return out;
}

size_t StyleIndex::size() const { return docs_.size(); }

}  // namespace kinship::attrib
