// Naming style of hostnames: TF-IDF cosine over character n-grams, nearest known incidents, and
// a linear classifier over the same terms.
// The kNN index is written here rather than taken from a library: no Debian-packaged C++
// library offers a small in-memory TF-IDF index, and what is needed (an inverted list per
// n-gram, one accumulator array per query) is short. The classifier is liblinear's (Debian
// liblinear-dev): one-vs-rest L2-regularised linear SVMs on sparse vectors. The snapshot (Save,
// Load: the end of this file) writes the finalized index and the SVMs' weights in kinship's own
// checked binary layout (util/binary_io.h) rather than liblinear's save_model text, which prints
// every one of the 2^16 x classes weights as decimal text and whose loader checks nothing.
#include <linear.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "kinship/attribution.h"
#include "kinship/limits.h"
#include "util/binary_io.h"
#include "util/stable_hash.h"

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

namespace {

// The first stated actor (actor_id, else actor_name); null without one.
const std::string* FirstActor(const Incident& incident) {
  for (const Attribution& a : incident.attributions) {
    const std::string& actor = a.actor_id.empty() ? a.actor_name : a.actor_id;
    if (!actor.empty()) return &actor;
  }
  return nullptr;
}

}  // namespace

void StyleIndex::Add(const Incident& incident) {
  if (const std::string* actor = FirstActor(incident)) Add(incident, *actor);
}

bool StyleIndex::Indexes(const Incident& incident) {
  return FirstActor(incident) != nullptr && !StyleTerms(incident).empty();
}

void StyleIndex::Finalize(bool classifier, size_t max_classes) {
  n_ = docs_.size();
  finalized_ = true;
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
  {
    // liblinear's dual coordinate descent shuffles with the C library's rand(), whose state is
    // the process's: a classifier trained second in a process (a server's, after a write)
    // differed from the one a first training makes (the CLI's) by a few thousandths of a
    // probability. Seeded as a process starts (1) before every training, and one training at a
    // time since the state is shared, the same incidents always give the same classifier.
    static std::mutex rand_state;
    std::lock_guard lock(rand_state);
    std::srand(1);
    c->svm = train(&prob, &param);
  }
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

size_t StyleIndex::CountIndexed(const std::vector<std::string>& ids) const {
  if (ids.empty()) return 0;
  const absl::flat_hash_set<std::string> wanted(ids.begin(), ids.end());
  size_t n = 0;
  for (const Doc& d : docs_) n += wanted.contains(d.incident_id) ? 1 : 0;
  return n;
}

// ---- the naming-style snapshot ----
//
// Layout (util/binary_io.h: host byte order, checked by a marker; a string or an array is a u64
// count and its bytes):
//   magic "KINSSTY\0", u32 format, u32 byte-order marker, string kinship version,
//   u64 terms fingerprint, string key,
//   incidents: u64 count N, (string id, string actor) each,
//   terms: u64 count T, (string term, f64 idf, (u32 incident, f32 weight)[] postings) each,
//   u8 classifier; with one: f64 idf[2^16], string[] actors, string[] trained incidents,
//     i32 classes, i32 features, f64 bias, u32[] labels,
//     weights: u64 rows, (u32 row, f64[columns]) each, the rows that are not all zero,
//   magic "KSTYEND\0".

namespace {

constexpr char kStyleMagic[8] = {'K', 'I', 'N', 'S', 'S', 'T', 'Y', '\0'};
constexpr char kStyleEnd[8] = {'K', 'S', 'T', 'Y', 'E', 'N', 'D', '\0'};
constexpr uint32_t kStyleFormat = 1;
constexpr uint32_t kStyleByteOrder = 0x01020304;
constexpr char kStyleKind[] = "naming-style snapshot";

// What StyleTerms makes of fixed names, the buckets they hash to, and the classifier's
// constants: a snapshot written by a build that makes or weighs terms otherwise is stale even
// under the same key.
uint64_t TermsFingerprint() {
  Incident inc;
  for (const char* host :
       {"update-check7.example-cdn.com", "mail.gov-portal.org.ua", "xn--80ak6aa92e.com"}) {
    Indicator i;
    i.type = IndicatorType::kDomain;
    i.value = host;
    inc.indicators.push_back(std::move(i));
  }
  std::string text = absl::StrCat(kMinGram, "|", kMaxGram, "|", kBuckets, "|", kCost, "|",
                                  kMinClassDocs, "|", kStyleMaxClasses, "\n");
  for (const auto& [t, n] : StyleTerms(inc))
    absl::StrAppend(&text, t, "|", n, "|", Bucket(t), "\n");
  return util::StableHash(text);
}

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

struct StyleIndex::SnapshotIo {
  using Writer = util::BinaryWriter;
  using Reader = util::BinaryReader;

  static void Write(Writer& w, const StyleIndex& x, std::string_view key) {
    w.Bytes(kStyleMagic, sizeof kStyleMagic);
    w.Put<uint32_t>(kStyleFormat);
    w.Put<uint32_t>(kStyleByteOrder);
    w.Str(KINSHIP_VERSION);
    w.Put<uint64_t>(TermsFingerprint());
    w.Str(key);
    w.Put<uint64_t>(x.docs_.size());
    for (const Doc& d : x.docs_) {
      w.Str(d.incident_id);
      w.Str(d.actor_id);
    }
    std::vector<std::pair<const std::string*, const Term*>> terms(x.postings_.size());
    for (const auto& [t, term] : x.terms_) terms[term.id] = {&t, &term};
    w.Put<uint64_t>(terms.size());
    for (size_t i = 0; i < terms.size(); ++i) {
      w.Str(*terms[i].first);
      w.Put<double>(terms[i].second->idf);
      w.Put<uint64_t>(x.postings_[i].size());
      for (const Posting& p : x.postings_[i]) {
        w.Put<uint32_t>(p.doc);
        w.Put<float>(p.weight);
      }
    }
    const Classifier* c = x.classifier_.get();
    w.Put<uint8_t>(c != nullptr);
    if (c != nullptr) WriteClassifier(w, x, *c);
    w.Bytes(kStyleEnd, sizeof kStyleEnd);
  }

  static void WriteClassifier(Writer& w, const StyleIndex& x, const Classifier& c) {
    w.Array(c.idf);
    w.Put<uint64_t>(c.actors.size());
    for (const std::string& a : c.actors) w.Str(a);
    // The trained incidents in the order of the incidents (a set's order differs per process).
    std::vector<const std::string*> trained;
    for (const Doc& d : x.docs_) {
      if (c.trained.contains(d.incident_id)) trained.push_back(&d.incident_id);
    }
    w.Put<uint64_t>(trained.size());
    for (const std::string* id : trained) w.Str(*id);
    const model* m = c.svm;
    w.Put<int32_t>(m->nr_class);
    w.Put<int32_t>(m->nr_feature);
    w.Put<double>(m->bias);
    w.Array(std::vector<int32_t>(m->label, m->label + m->nr_class));
    const size_t cols = Columns(m->nr_class), rows = Rows(m->nr_feature, m->bias);
    std::vector<uint32_t> nonzero;
    for (size_t r = 0; r < rows; ++r) {
      const double* row = m->w + r * cols;
      if (std::any_of(row, row + cols, [](double v) { return v != 0; })) nonzero.push_back(r);
    }
    w.Put<uint64_t>(nonzero.size());
    for (uint32_t r : nonzero) {
      w.Put<uint32_t>(r);
      w.Bytes(m->w + size_t{r} * cols, cols * sizeof(double));
    }
  }

  // liblinear's weight matrix: one row per feature (and the bias), one column per class (one
  // column only for two classes).
  static size_t Columns(int nr_class) { return nr_class == 2 ? 1 : static_cast<size_t>(nr_class); }
  static size_t Rows(int nr_feature, double bias) {
    return static_cast<size_t>(nr_feature) + (bias >= 0 ? 1 : 0);
  }

  // The key a snapshot was saved under; kFailedPrecondition when this build cannot read it.
  static absl::StatusOr<std::string> ReadHeader(Reader& r) {
    char magic[8];
    KINSHIP_RETURN_IF_ERROR(r.Bytes(magic, sizeof magic, "magic"));
    if (std::memcmp(magic, kStyleMagic, sizeof magic) != 0) {
      return r.Fail("not a kinship naming-style snapshot");
    }
    KINSHIP_ASSIGN_OR_RETURN(const uint32_t format, r.Get<uint32_t>("format"));
    KINSHIP_ASSIGN_OR_RETURN(const uint32_t order, r.Get<uint32_t>("byte order"));
    KINSHIP_ASSIGN_OR_RETURN(const std::string version, r.Str("kinship version"));
    if (format != kStyleFormat || order != kStyleByteOrder || version != KINSHIP_VERSION) {
      return absl::FailedPreconditionError(
          absl::StrCat("written by kinship ", version, " (naming-style snapshot format ", format,
                       "); this build reads format ", kStyleFormat, " of ", KINSHIP_VERSION));
    }
    KINSHIP_ASSIGN_OR_RETURN(const uint64_t fingerprint, r.Get<uint64_t>("terms fingerprint"));
    if (fingerprint != TermsFingerprint()) {
      return absl::FailedPreconditionError("written by a build that makes naming terms otherwise");
    }
    return r.Str("key");
  }

  static absl::StatusOr<StyleIndex> Read(Reader& r, std::string_view key) {
    KINSHIP_ASSIGN_OR_RETURN(const std::string saved_key, ReadHeader(r));
    if (saved_key != key) {
      return absl::FailedPreconditionError(
          absl::StrCat("written for '", saved_key, "', the store is now '", AV(key), "'"));
    }
    StyleIndex x;
    KINSHIP_ASSIGN_OR_RETURN(const size_t n_docs, r.Count(16, "incident count"));
    if (n_docs >= (uint64_t{1} << 32)) return r.Fail("incident count out of range");
    x.docs_.reserve(n_docs);
    for (size_t i = 0; i < n_docs; ++i) {
      Doc d;
      KINSHIP_ASSIGN_OR_RETURN(d.incident_id, r.Str("incident id"));
      KINSHIP_ASSIGN_OR_RETURN(d.actor_id, r.Str("incident actor"));
      if (d.incident_id.empty() || d.actor_id.empty() || !x.ids_.insert(d.incident_id).second) {
        return r.Fail("incident id or actor empty, or an incident given twice");
      }
      x.docs_.push_back(std::move(d));
    }
    x.n_ = n_docs;
    KINSHIP_ASSIGN_OR_RETURN(const size_t n_terms, r.Count(24, "term count"));
    if (n_terms >= (uint64_t{1} << 32)) return r.Fail("term count out of range");
    x.postings_.resize(n_terms);
    x.terms_.reserve(n_terms);
    for (size_t i = 0; i < n_terms; ++i) {
      KINSHIP_ASSIGN_OR_RETURN(std::string t, r.Str("term"));
      KINSHIP_ASSIGN_OR_RETURN(const double idf, r.Get<double>("term idf"));
      if (!Finite(idf) || idf < 0) return r.Fail("term idf out of range");
      if (!x.terms_.try_emplace(std::move(t), Term{static_cast<uint32_t>(i), idf}).second) {
        return r.Fail("a term given twice");
      }
      KINSHIP_ASSIGN_OR_RETURN(const size_t n_postings, r.Count(8, "postings"));
      std::vector<Posting>& list = x.postings_[i];
      list.reserve(n_postings);
      for (size_t j = 0; j < n_postings; ++j) {
        KINSHIP_ASSIGN_OR_RETURN(const uint32_t doc, r.Get<uint32_t>("posting"));
        KINSHIP_ASSIGN_OR_RETURN(const float weight, r.Get<float>("posting"));
        if (doc >= n_docs || (j > 0 && doc <= list.back().doc)) {
          return r.Fail("postings out of order or naming an incident out of range");
        }
        if (!(weight > 0 && weight <= 1.0001f)) return r.Fail("posting weight out of range");
        list.push_back({doc, weight});
      }
    }
    x.df_.assign(n_terms, 0);
    for (size_t i = 0; i < n_terms; ++i) x.df_[i] = static_cast<int>(x.postings_[i].size());
    KINSHIP_ASSIGN_OR_RETURN(const uint8_t has_classifier, r.Get<uint8_t>("classifier flag"));
    if (has_classifier > 1) return r.Fail("classifier flag");
    if (has_classifier == 1) {
      KINSHIP_ASSIGN_OR_RETURN(x.classifier_, ReadClassifier(r, x));
    }
    char end[8];
    KINSHIP_RETURN_IF_ERROR(r.Bytes(end, sizeof end, "end marker"));
    if (std::memcmp(end, kStyleEnd, sizeof end) != 0 || !r.at_end()) {
      return r.Fail("no end marker where the snapshot should end");
    }
    x.finalized_ = true;
    return x;
  }

  static absl::StatusOr<std::unique_ptr<Classifier>> ReadClassifier(Reader& r,
                                                                    const StyleIndex& x) {
    auto c = std::make_unique<Classifier>();
    KINSHIP_ASSIGN_OR_RETURN(c->idf, r.Array<double>("classifier idf"));
    if (c->idf.size() != kBuckets) return r.Fail("classifier idf of another number of buckets");
    for (double v : c->idf) {
      if (!Finite(v) || v < 0) return r.Fail("classifier idf out of range");
    }
    KINSHIP_ASSIGN_OR_RETURN(const size_t n_actors, r.Count(8, "classifier actors"));
    if (n_actors < 2 || n_actors > kStyleMaxClasses) {
      return r.Fail("classifier actor count out of range");
    }
    for (size_t i = 0; i < n_actors; ++i) {
      KINSHIP_ASSIGN_OR_RETURN(std::string a, r.Str("classifier actor"));
      c->actors.push_back(std::move(a));
    }
    KINSHIP_ASSIGN_OR_RETURN(const size_t n_trained, r.Count(8, "trained incidents"));
    for (size_t i = 0; i < n_trained; ++i) {
      KINSHIP_ASSIGN_OR_RETURN(std::string id, r.Str("trained incident"));
      if (!x.ids_.contains(id) || !c->trained.insert(std::move(id)).second) {
        return r.Fail("a trained incident that is not indexed, or given twice");
      }
    }
    KINSHIP_ASSIGN_OR_RETURN(const int32_t nr_class, r.Get<int32_t>("classes"));
    KINSHIP_ASSIGN_OR_RETURN(const int32_t nr_feature, r.Get<int32_t>("features"));
    KINSHIP_ASSIGN_OR_RETURN(const double bias, r.Get<double>("bias"));
    KINSHIP_ASSIGN_OR_RETURN(const std::vector<int32_t> labels, r.Array<int32_t>("labels"));
    // As train() leaves it: 2^16 bucket features (Classify's indices 1..2^16) and the bias
    // (index 2^16 + 1, its weight the last row).
    if (nr_class < 2 || static_cast<size_t>(nr_class) > n_actors ||
        labels.size() != static_cast<size_t>(nr_class) || nr_feature != int32_t{kBuckets} ||
        bias != 1.0) {
      return r.Fail("classifier shape out of range");
    }
    std::vector<bool> seen(n_actors, false);
    for (int32_t l : labels) {
      if (l < 0 || static_cast<size_t>(l) >= n_actors || seen[static_cast<size_t>(l)]) {
        return r.Fail("classifier label out of range or given twice");
      }
      seen[static_cast<size_t>(l)] = true;
    }
    const size_t cols = Columns(nr_class), rows = Rows(nr_feature, bias);
    std::vector<double> w(rows * cols, 0.0);
    KINSHIP_ASSIGN_OR_RETURN(const size_t n_rows, r.Count(4 + cols * 8, "weights"));
    for (size_t i = 0, last = 0; i < n_rows; ++i) {
      KINSHIP_ASSIGN_OR_RETURN(const uint32_t row, r.Get<uint32_t>("weight row"));
      if (row >= rows || (i > 0 && row <= last)) return r.Fail("weight rows out of order or range");
      last = row;
      KINSHIP_RETURN_IF_ERROR(
          r.Bytes(w.data() + size_t{row} * cols, cols * sizeof(double), "weights"));
      for (size_t j = 0; j < cols; ++j) {
        if (!Finite(w[size_t{row} * cols + j])) return r.Fail("weight not finite");
      }
    }
    // liblinear frees a model with free(): allocate it as train() does.
    auto* m = static_cast<model*>(std::calloc(1, sizeof(model)));
    if (m == nullptr)
      return absl::ResourceExhaustedError("no memory for the naming-style classifier");
    c->svm = m;  // freed by ~Classifier from here on
    m->param.solver_type = L2R_L2LOSS_SVC_DUAL;
    m->param.eps = 0.1;
    m->param.C = kCost;
    m->nr_class = nr_class;
    m->nr_feature = nr_feature;
    m->bias = bias;
    m->w = static_cast<double*>(std::malloc(w.size() * sizeof(double)));
    m->label = static_cast<int*>(std::malloc(labels.size() * sizeof(int)));
    if (m->w == nullptr || m->label == nullptr) {
      return absl::ResourceExhaustedError("no memory for the naming-style classifier");
    }
    std::memcpy(m->w, w.data(), w.size() * sizeof(double));
    for (size_t i = 0; i < labels.size(); ++i) m->label[i] = labels[i];
    return c;
  }
};

absl::Status StyleIndex::Save(const std::string& path, std::string_view key) const {
  if (!finalized_) {
    return absl::FailedPreconditionError("a naming-style index is saved only once finalized");
  }
  return util::WriteFileAtomically(
      path, kStyleKind, [&](util::BinaryWriter& w) { SnapshotIo::Write(w, *this, key); });
}

absl::StatusOr<StyleIndex> StyleIndex::Load(const std::string& path, std::string_view key) {
  return util::ReadFile<StyleIndex>(path, kStyleKind, [&](util::BinaryReader& r) {
    absl::StatusOr<StyleIndex> x = SnapshotIo::Read(r, key);
    if (!x.ok() && x.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::StatusOr<StyleIndex>(absl::FailedPreconditionError(
          absl::StrCat(path, ": ", x.status().message(), ": index again")));
    }
    return x;
  });
}

absl::StatusOr<std::string> StyleIndex::SnapshotKey(const std::string& path) {
  return util::ReadFile<std::string>(path, kStyleKind, [&](util::BinaryReader& r) {
    absl::StatusOr<std::string> key = SnapshotIo::ReadHeader(r);
    if (!key.ok() && key.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::StatusOr<std::string>(
          absl::FailedPreconditionError(absl::StrCat(path, ": ", key.status().message())));
    }
    return key;
  });
}

absl::StatusOr<StyleIndex> StyleIndex::LoadBytes(std::string_view bytes, std::string_view name,
                                                 std::string_view key) {
  util::BinaryReader r(std::string(name), kStyleKind, bytes);
  return SnapshotIo::Read(r, key);
}

}  // namespace kinship::attrib
