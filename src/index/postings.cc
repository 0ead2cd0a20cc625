// The similarity index: a feature dictionary with postings lists (inverted index), document
// frequencies kept current on Add, retrieval rarest feature first, and pair scoring with
// Fellegi-Sunter-style weights log(N / df) (Fellegi and Sunter 1969; the u-probability of a
// value is its document frequency), saturated per family.
#include "index/postings.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "kinship/limits.h"
#include "score/internal.h"
#include "util/varint.h"

namespace kinship::score {

using Impl = SimilarityIndex::Impl;

namespace {

constexpr std::string_view kTlshPrefix = "tlsh:";
constexpr std::string_view kSsdeepPrefix = "ssdeep:";

// The fuzzy digest an indicator feature key names, if any.
std::optional<Impl::FuzzyDigest> ParseFuzzyKey(Family family, std::string_view key) {
  if (family != Family::kIndicator) return std::nullopt;
  Impl::FuzzyDigest d;
  if (key.starts_with(kTlshPrefix)) {
    d.kind = FuzzyKind::kTlsh;
    d.text = key.substr(kTlshPrefix.size());
    absl::StatusOr<TlshDigest> t = ParseTlsh(d.text);
    if (!t.ok()) return std::nullopt;
    d.tlsh = *t;
    return d;
  }
  if (key.starts_with(kSsdeepPrefix)) {
    d.kind = FuzzyKind::kSsdeep;
    d.text = key.substr(kSsdeepPrefix.size());
    if (!ValidateSsdeep(d.text).ok()) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

}  // namespace

std::vector<Impl::FuzzyDigest> Impl::FuzzyDigests(const std::vector<QueryFeature>& features) const {
  std::vector<FuzzyDigest> out;
  for (const QueryFeature& f : features) {
    if (f.family != Family::kIndicator) continue;
    if (auto d = ParseFuzzyKey(f.family, Key(f))) out.push_back(*d);
  }
  return out;
}

std::vector<Impl::FuzzyDigest> Impl::FuzzyDigests(const Doc& doc) const {
  std::vector<FuzzyDigest> out;
  if (!doc.has_fuzzy) return out;
  for (uint32_t fid : doc.features) {
    if (auto d = ParseFuzzyKey(FamilyOf(fid), KeyText(fid))) out.push_back(*d);
  }
  return out;
}

size_t Impl::FuzzyDf(const FuzzyDigest& d, int value) const {
  FuzzyThresholds t;
  t.max_per_query = 0;
  if (d.kind == FuzzyKind::kTlsh) {
    t.tlsh_max_distance = value;
  } else {
    t.ssdeep_min_score = std::clamp(value, 1, 100);
  }
  absl::StatusOr<std::vector<FuzzyEvidence>> near = fuzzy.Near(d.kind, d.text, t);
  if (!near.ok()) return 1;
  absl::flat_hash_set<std::string_view> incidents;
  for (const FuzzyEvidence& e : *near) incidents.insert(e.incident_id);
  return std::max<size_t>(1, incidents.size());
}

size_t Impl::FuzzyHood::Count(int value, bool* exact) const {
  // steps are nearest first: TLSH distance ascending, ssdeep score descending.
  auto nearer_or_equal = [&](int v) { return kind == FuzzyKind::kTlsh ? v <= value : v >= value; };
  size_t n = 0, i = 0;
  while (i < steps.size() && nearer_or_equal(steps[i].first)) n = steps[i++].second;
  // Exact when the list is complete or goes on beyond `value` (a file at the boundary value
  // could otherwise have been cut off).
  *exact = complete || i < steps.size();
  return std::max<size_t>(1, n);
}

Impl::FuzzyHood Impl::Hood(const FuzzyDigest& d) const {
  FuzzyHood h;
  h.kind = d.kind;
  FuzzyThresholds t;
  t.tlsh_max_distance = options.fuzzy_tlsh_max_distance;
  t.ssdeep_min_score = std::clamp(options.fuzzy_ssdeep_min_score, 1, 100);
  t.max_per_query = options.fuzzy_max_neighbours;
  absl::StatusOr<std::vector<FuzzyEvidence>> near = fuzzy.Near(d.kind, d.text, t);
  if (!near.ok()) {
    h.complete = true;
    return h;
  }
  h.complete = t.max_per_query == 0 || near->size() < t.max_per_query;
  absl::flat_hash_set<std::string> seen;
  for (FuzzyEvidence& e : *near) {
    seen.insert(e.incident_id);
    h.steps.emplace_back(e.value, seen.size());
    h.incidents.push_back(std::move(e.incident_id));
  }
  return h;
}

double Impl::FuzzySum(const std::vector<FuzzyDigest>& a, const std::vector<FuzzyDigest>& b,
                      std::vector<EvidenceItem>* items, const std::vector<FuzzyHood>* a_hoods,
                      bool upper_bound) const {
  if (a.empty() || b.empty()) return 0;
  // A digest both sides hold is exact evidence (family kIndicator), not fuzzy.
  absl::flat_hash_set<std::string_view> in_a, in_b;
  for (const FuzzyDigest& d : a) in_a.insert(d.text);
  for (const FuzzyDigest& d : b) in_b.insert(d.text);
  // Closeness value of a pair: TLSH distance or ssdeep score; nullopt when not near enough.
  auto value = [&](const FuzzyDigest& x, const FuzzyDigest& y) -> std::optional<int> {
    if (x.kind != y.kind || in_b.contains(x.text) || in_a.contains(y.text)) return std::nullopt;
    if (x.kind == FuzzyKind::kTlsh) {
      int dist = TlshDistance(x.tlsh, y.tlsh);
      if (dist > options.fuzzy_tlsh_max_distance) return std::nullopt;
      return dist;
    }
    absl::StatusOr<int> score = SsdeepCompare(x.text, y.text);
    if (!score.ok() || *score < std::max(1, options.fuzzy_ssdeep_min_score)) return std::nullopt;
    return *score;
  };
  auto closeness = [](FuzzyKind kind, int v) {
    return kind == FuzzyKind::kTlsh ? TlshCloseness(v) : SsdeepCloseness(v);
  };
  // Nearest partner of every digest on either side (ties: the smaller partner text, so the pairs
  // do not depend on the order of the features).
  struct Best {
    int other = -1;
    int value = 0;
    double closeness = 0;
  };
  std::vector<Best> best_a(a.size()), best_b(b.size());
  auto better = [](const Best& cur, double c, std::string_view text, std::string_view cur_text) {
    return cur.other < 0 || c > cur.closeness || (c == cur.closeness && text < cur_text);
  };
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < b.size(); ++j) {
      std::optional<int> v = value(a[i], b[j]);
      if (!v) continue;
      double c = closeness(a[i].kind, *v);
      if (better(best_a[i], c, b[j].text, best_a[i].other < 0 ? "" : b[best_a[i].other].text)) {
        best_a[i] = {static_cast<int>(j), *v, c};
      }
      if (better(best_b[j], c, a[i].text, best_b[j].other < 0 ? "" : a[best_b[j].other].text)) {
        best_b[j] = {static_cast<int>(i), *v, c};
      }
    }
  }
  std::set<std::pair<int, int>> pairs;
  for (size_t i = 0; i < a.size(); ++i) {
    if (best_a[i].other >= 0) pairs.emplace(static_cast<int>(i), best_a[i].other);
  }
  for (size_t j = 0; j < b.size(); ++j) {
    if (best_b[j].other >= 0) pairs.emplace(best_b[j].other, static_cast<int>(j));
  }
  double sum = 0;
  const double n = std::max<double>(1.0, static_cast<double>(N()));
  for (const auto& [i, j] : pairs) {
    const int v = *value(a[i], b[j]);
    const double c = closeness(a[i].kind, v);
    bool exact = false;
    size_t df_a = a_hoods != nullptr ? (*a_hoods)[i].Count(v, &exact) : 0;
    if (!exact && !upper_bound) df_a = FuzzyDf(a[i], v);
    const size_t df = std::max(df_a, upper_bound ? size_t{1} : FuzzyDf(b[j], v));
    const double w = std::max(0.0, c * std::log(n / static_cast<double>(df)));
    if (w <= 0) continue;
    sum += w;
    if (items != nullptr) {
      EvidenceItem item;
      const bool tlsh = a[i].kind == FuzzyKind::kTlsh;
      item.feature = absl::StrCat(AV(tlsh ? kTlshPrefix : kSsdeepPrefix), AV(a[i].text), " ~ ",
                                  AV(b[j].text), tlsh ? " (distance " : " (score ", v, ")");
      item.idf = w;
      item.df = df;
      items->push_back(std::move(item));
    }
  }
  return sum;
}

bool Impl::KeyArena::Add(std::string_view key) {
  char len[util::kMaxVarintBytes];
  const size_t n = util::PutVarint(key.size(), len);
  const size_t need = n + key.size();
  size_t offset;
  if (need > kBlock) {
    // A key longer than a block gets a block of its own.
    if (blocks_.size() >= kMaxBlocks) return false;
    blocks_.push_back(std::make_unique<char[]>(need));
    offset = 0;
    used_ = kBlock;
  } else {
    if (used_ + need > kBlock) {
      if (blocks_.size() >= kMaxBlocks) return false;
      blocks_.push_back(std::make_unique<char[]>(kBlock));
      used_ = 0;
    }
    offset = used_;
    used_ += need;
  }
  char* dst = blocks_.back().get() + offset;
  std::copy(len, len + n, dst);
  std::copy(key.begin(), key.end(), dst + n);
  starts_.push_back(static_cast<uint32_t>((blocks_.size() - 1) * kBlock + offset));
  return true;
}

bool Impl::KeyArena::HasRoom(size_t key_bytes) const {
  // Each block but the last holds more than half a block (or one key longer than a block).
  return blocks_.size() + 2 * (key_bytes / kBlock + 1) + 1 <= kMaxBlocks;
}

std::string_view Impl::KeyArena::operator[](size_t i) const {
  const uint32_t start = starts_[i];
  const char* p = blocks_[start / kBlock].get() + start % kBlock;
  uint64_t len = 0;
  p += util::GetVarint(p, util::kMaxVarintBytes, &len);  // written by Add: well formed
  return {p, static_cast<size_t>(len)};
}

size_t Impl::KeyArena::bytes() const {
  return blocks_.size() * kBlock + blocks_.capacity() * sizeof(blocks_[0]) +
         starts_.capacity() * sizeof(uint32_t);
}

void Impl::Postings::AddFeature(uint32_t doc, uint32_t text) {
  if (text == kNoText) {
    head_.push_back(doc);
  } else {
    lists_.push_back({{doc}, text});
    head_.push_back(kList | static_cast<uint32_t>(lists_.size() - 1));
  }
}

size_t Impl::Postings::bytes() const {
  size_t b = head_.bytes() + lists_.capacity() * sizeof(lists_[0]);
  for (const List& l : lists_) b += l.docs.capacity() * sizeof(uint32_t);
  return b;
}

bool Impl::AddFuzzy(uint32_t doc, uint32_t fid) {
  std::optional<FuzzyDigest> d = ParseFuzzyKey(FamilyOf(fid), KeyText(fid));
  if (!d || !fuzzy.Add(docs[doc].id, d->kind, d->text).ok()) return false;
  fuzzy_added.emplace_back(doc, fid);
  return true;
}

void Impl::NoteHolder(uint32_t fid, uint32_t doc) {
  auto set = [](std::vector<uint64_t>& bits, uint32_t d) {
    if ((d >> 6) >= bits.size()) bits.resize((d >> 6) + 1, 0);
    bits[d >> 6] |= uint64_t{1} << (d & 63);
  };
  if (auto it = bitmap_of.find(fid); it != bitmap_of.end()) {
    set(bitmaps[it->second], doc);
    return;
  }
  if (Df(fid) < BitmapMinDf(docs.size() + 1)) return;
  std::vector<uint64_t> bits((doc >> 6) + 1, 0);
  for (uint32_t d : postings[fid]) set(bits, d);
  bitmap_of.emplace(fid, static_cast<uint32_t>(bitmaps.size()));
  bitmaps.push_back(std::move(bits));
}

size_t OverCorrelationLimit(const ScoringOptions& options, size_t incidents) {
  if (options.over_correlation_min == 0 && options.over_correlation_share <= 0) return SIZE_MAX;
  const double share = options.over_correlation_share * static_cast<double>(incidents);
  return std::max(options.over_correlation_min, static_cast<size_t>(std::max(0.0, share)));
}

size_t Impl::OverCorrelationLimit() const { return score::OverCorrelationLimit(options, N()); }

bool Impl::OverCorrelates(uint32_t fid, size_t limit) const {
  if (fid >= FeatureCount() || Df(fid) <= limit) return false;
  const Family f = FamilyOf(fid);
  return f == Family::kIndicator || f == Family::kInfrastructure;
}

double Impl::Idf(uint32_t fid, float feature_strength) const {
  if (OverCorrelates(fid, OverCorrelationLimit())) return 0;
  double df = std::max<double>(1.0, static_cast<double>(Df(fid)));
  double n = std::max<double>(1.0, static_cast<double>(N()));
  return std::max(0.0, feature_strength * std::log(n / df));
}

std::vector<Impl::QueryFeature> Impl::Resolve(const Incident& incident) const {
  std::vector<Feature> features = ExtractFeatures(incident, kb, options);
  std::vector<QueryFeature> out;
  out.reserve(features.size());
  uint32_t next_local = static_cast<uint32_t>(FeatureCount());
  for (Feature& f : features) {
    if (std::optional<uint32_t> fid = FindFeature(f.key)) {
      out.push_back({*fid, f.family, static_cast<float>(f.strength), std::move(f.key)});
    } else {
      out.push_back({next_local++, f.family, static_cast<float>(f.strength), std::move(f.key)});
    }
  }
  // Unknown features: order by key so two incidents' unknown features can be merged by key.
  std::sort(out.begin(), out.end(), [&](const QueryFeature& x, const QueryFeature& y) {
    bool xk = x.fid < FeatureCount(), yk = y.fid < FeatureCount();
    if (xk != yk) return xk;
    if (xk) return x.fid < y.fid;
    return x.local_key < y.local_key;
  });
  return out;
}

std::vector<Impl::QueryFeature> Impl::FromDoc(const Doc& doc) const {
  std::vector<QueryFeature> out;
  out.reserve(doc.features.size());
  for (uint32_t fid : doc.features) out.push_back({fid, FamilyOf(fid), StrengthOf(fid), {}});
  return out;
}

FamilyVector Impl::Evidence(const FamilyVector& sums, double time_evidence) const {
  FamilyVector evidence{};
  bool any = false;
  for (int f = 0; f < kFamilyCount; ++f) {
    evidence[f] = internal::Saturate(sums[f], options.saturation[f]);
    any = any || evidence[f] > 0;
  }
  // Overlapping activity corroborates other evidence; on its own it is not kinship (and keeps
  // every scored pair reachable through the postings).
  const int t = static_cast<int>(Family::kTime);
  evidence[t] = any ? internal::Saturate(time_evidence, options.saturation[t]) : 0;
  return evidence;
}

double Impl::Raw(const FamilyVector& sums, double time_evidence) const {
  // Calibration::Raw, here where it inlines (the same sum in the same order).
  const FamilyVector evidence = Evidence(sums, time_evidence);
  double raw = 0;
  for (int f = 0; f < kFamilyCount; ++f) raw += calibration.weight[f] * evidence[f];
  return raw;
}

void Impl::Finish(const FamilyVector& sums, double time_evidence, Comparison* out) const {
  out->evidence = Evidence(sums, time_evidence);
  out->raw = calibration.Raw(out->evidence);
  out->probability = calibration.Calibrate(out->raw);
}

Comparison Impl::CompareResolved(const std::vector<QueryFeature>& a,
                                 const std::vector<QueryFeature>& b, std::optional<int32_t> a_first,
                                 std::optional<int32_t> a_last, std::optional<int32_t> b_first,
                                 std::optional<int32_t> b_last, bool explain,
                                 bool b_may_have_fuzzy) const {
  Comparison out;
  FamilyVector sums{};
  std::vector<std::pair<const QueryFeature*, double>> shared;
  std::vector<std::pair<size_t, const QueryFeature*>> over;  // (df, feature) of weightless ones
  const size_t over_limit = OverCorrelationLimit();
  const size_t known = FeatureCount();
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const QueryFeature& x = a[i];
    const QueryFeature& y = b[j];
    bool xk = x.fid < known, yk = y.fid < known;
    int cmp;
    if (xk && yk) {
      cmp = x.fid < y.fid ? -1 : (x.fid > y.fid ? 1 : 0);
    } else if (xk != yk) {
      cmp = xk ? -1 : 1;
    } else {
      cmp = x.local_key.compare(y.local_key);
    }
    if (cmp < 0) {
      ++i;
    } else if (cmp > 0) {
      ++j;
    } else {
      float s = std::min(x.strength, y.strength);
      double w = Idf(xk ? x.fid : static_cast<uint32_t>(-1), s);
      if (w > 0) {
        sums[static_cast<int>(x.family)] += w;
        if (explain) shared.emplace_back(&x, w);
      } else if (explain && xk && OverCorrelates(x.fid, over_limit)) {
        over.emplace_back(Df(x.fid), &x);
      }
      ++i;
      ++j;
    }
  }
  const int fz = static_cast<int>(Family::kFuzzy);
  std::vector<EvidenceItem> fuzzy_items;
  if (b_may_have_fuzzy) {
    sums[fz] += FuzzySum(FuzzyDigests(a), FuzzyDigests(b), explain ? &fuzzy_items : nullptr);
  }
  double time = internal::TimeEvidence(a_first, a_last, b_first, b_last, options.time_window_days);
  Finish(sums, time, &out);
  if (!explain) return out;
  std::vector<FamilyEvidence> families(kFamilyCount);
  for (int f = 0; f < kFamilyCount; ++f) {
    families[f].family = static_cast<Family>(f);
    families[f].evidence = out.evidence[f];
    families[f].weight = calibration.weight[f] * out.evidence[f];
  }
  for (const auto& [qf, w] : shared) {
    int f = static_cast<int>(qf->family);
    EvidenceItem item;
    item.feature = std::string(Key(*qf));
    item.idf = w;
    item.df = Df(qf->fid);
    // Each item's share of its family's contribution, so items add up to the family weight.
    item.weight = sums[f] > 0 ? families[f].weight * w / sums[f] : 0;
    families[f].items.push_back(std::move(item));
  }
  for (EvidenceItem& item : fuzzy_items) {
    item.weight = sums[fz] > 0 ? families[fz].weight * item.idf / sums[fz] : 0;
    families[fz].items.push_back(std::move(item));
  }
  if (out.evidence[static_cast<int>(Family::kTime)] > 0) {
    EvidenceItem item;
    item.feature = "time:overlapping-activity";
    item.weight = families[static_cast<int>(Family::kTime)].weight;
    families[static_cast<int>(Family::kTime)].items.push_back(item);
  }
  out.explanation.over_correlating = over.size();
  out.explanation.over_correlation_limit = over.empty() ? 0 : over_limit;
  const size_t shown = std::min<size_t>(3, over.size());
  std::partial_sort(over.begin(), over.begin() + shown, over.end(), [&](auto& x, auto& y) {
    if (x.first != y.first) return x.first < y.first;
    return Key(*x.second) < Key(*y.second);
  });
  for (size_t k = 0; k < shown; ++k) {
    out.explanation.over_correlating_examples.emplace_back(Key(*over[k].second));
  }
  for (FamilyEvidence& f : families) {
    if (f.weight <= 0) continue;
    std::sort(f.items.begin(), f.items.end(), [](const EvidenceItem& x, const EvidenceItem& y) {
      if (x.weight != y.weight) return x.weight > y.weight;
      return x.feature < y.feature;
    });
    out.explanation.families.push_back(std::move(f));
  }
  std::stable_sort(
      out.explanation.families.begin(), out.explanation.families.end(),
      [](const FamilyEvidence& x, const FamilyEvidence& y) { return x.weight > y.weight; });
  return out;
}

namespace {

// Per-thread scratch of SimilarResolved: a slot per indexed incident, stamped with the query's
// generation (nothing is cleared between queries), and the candidates' family sums in flat
// arrays.
struct Candidates {
  std::vector<uint32_t> stamp, slot;
  uint32_t generation = 0;
  std::vector<uint32_t> docs;
  std::vector<FamilyVector> sums;
  std::vector<double> time;  // time evidence of each candidate against the query

  void Begin(size_t n) {
    if (stamp.size() < n) {
      stamp.resize(n, 0);
      slot.resize(n, 0);
    }
    if (++generation == 0) {
      std::fill(stamp.begin(), stamp.end(), 0);
      generation = 1;
    }
    docs.clear();
    sums.clear();
    time.clear();
  }
  size_t size() const { return docs.size(); }
  // Slot of `doc`, or -1 when it is not a candidate.
  int64_t Find(uint32_t doc) const {
    return stamp[doc] == generation ? static_cast<int64_t>(slot[doc]) : -1;
  }
  uint32_t Insert(uint32_t doc, double time_evidence) {
    stamp[doc] = generation;
    slot[doc] = static_cast<uint32_t>(docs.size());
    docs.push_back(doc);
    sums.emplace_back();
    time.push_back(time_evidence);
    return slot[doc];
  }
  // Keeps the candidates `keep` says yes to, in order.
  template <typename Keep>
  void Filter(Keep keep) {
    size_t out = 0;
    for (size_t c = 0; c < docs.size(); ++c) {
      if (!keep(c)) {
        stamp[docs[c]] = 0;
        continue;
      }
      docs[out] = docs[c];
      sums[out] = sums[c];
      time[out] = time[c];
      slot[docs[out]] = static_cast<uint32_t>(out);
      ++out;
    }
    docs.resize(out);
    sums.resize(out);
    time.resize(out);
  }
};

Candidates& ThreadCandidates() {
  thread_local Candidates c;
  return c;
}

}  // namespace

std::vector<Match> Impl::SimilarResolved(const std::vector<QueryFeature>& query,
                                         std::optional<int32_t> first, std::optional<int32_t> last,
                                         int64_t self, size_t top_k, bool explain, double min_raw,
                                         bool attributed_only) const {
  if (top_k == 0) return {};
  // Rarest first: the most informative postings are also the shortest to walk.
  struct Term {
    uint32_t fid;
    int family;
    double weight;
    size_t df;
  };
  std::vector<Term> order;
  order.reserve(query.size());
  for (const QueryFeature& f : query) {
    const size_t df = Df(f.fid);
    if (df == 0) continue;
    const double w = Idf(f.fid, f.strength);
    if (w <= 0) continue;
    order.push_back({f.fid, static_cast<int>(f.family), w, df});
  }
  std::sort(order.begin(), order.end(), [](const Term& x, const Term& y) {
    if (x.df != y.df) return x.df < y.df;
    return x.fid < y.fid;
  });
  // Fuzzy evidence needs a digest on both sides: none when nothing indexed holds one.
  const std::vector<FuzzyDigest> query_fuzzy =
      fuzzy.size() > 0 ? FuzzyDigests(query) : std::vector<FuzzyDigest>();
  // Early termination (max-score; Turtle and Flood 1995): an incident first met at term i holds
  // at most terms i.. of the query, so its raw score is at most that of rest[i] (and full time
  // evidence). Once that is below the k-th best score some candidates already have, no new
  // candidate can enter the top k: the remaining terms only add to candidates found so far,
  // and candidates that cannot reach the k-th score even with every remaining term are dropped.
  // Needs scores monotone in each family sum (non-negative calibration weights) and no fuzzy
  // evidence, which can raise any candidate's score apart from the terms.
  bool prune = query_fuzzy.empty() || fuzzy.size() == 0;
  for (double w : calibration.weight) prune = prune && w >= 0;
  std::vector<FamilyVector> rest(order.size() + 1);
  for (size_t i = order.size(); i-- > 0;) {
    rest[i] = rest[i + 1];
    rest[i][order[i].family] += order[i].weight;
  }
  auto raw_of = [&](const FamilyVector& sums, double time) { return Raw(sums, time); };
  // Rounding: sums are added in other orders than the bounds'; prune only clearly below.
  auto below = [](double bound, double threshold) {
    return bound < threshold - 1e-9 * (1.0 + std::abs(threshold));
  };

  Candidates& acc = ThreadCandidates();
  acc.Begin(N());
  // The k-th best score the candidates have reached so far (a lower bound of the final k-th).
  std::vector<double> scratch;
  auto kth = [&]() {
    if (acc.size() < top_k) return -std::numeric_limits<double>::infinity();
    scratch.resize(acc.size());
    for (size_t c = 0; c < acc.size(); ++c) scratch[c] = raw_of(acc.sums[c], acc.time[c]);
    std::nth_element(scratch.begin(), scratch.begin() + (top_k - 1), scratch.end(),
                     std::greater<double>());
    return scratch[top_k - 1];
  };
  const size_t walk_limit = options.max_candidate_df == 0
                                ? limits::kMaxPostingWalk
                                : std::min(options.max_candidate_df, limits::kMaxPostingWalk);
  // A new candidate must reach the k-th best score so far and `min_raw`.
  const bool has_min = min_raw > -std::numeric_limits<double>::infinity();
  double threshold = min_raw;
  size_t walked_since = 0;  // postings walked since the threshold was computed
  size_t i = 0;
  for (; i < order.size(); ++i) {
    const Term& t = order[i];
    // Postings longer than the walk limit (the rest, by df) bring no new candidates.
    if (t.df > walk_limit) break;
    if (prune && (acc.size() >= top_k || has_min)) {
      const double bound = raw_of(rest[i], 1.0);
      if (acc.size() >= top_k && walked_since >= acc.size()) {  // amortised: O(postings walked)
        threshold = std::max(kth(), min_raw);
        walked_since = 0;
      }
      if (below(bound, threshold)) break;
    }
    const std::span<const uint32_t> plist = postings[t.fid];
    walked_since += plist.size();
    for (uint32_t doc : plist) {
      if (static_cast<int64_t>(doc) == self) continue;
      // Strength of a shared feature is the weaker of the two holders'; strengths are fixed per
      // key, so the query's is the document's.
      int64_t c = acc.Find(doc);
      if (c < 0) {
        if (acc.size() >= limits::kMaxCandidatesPerQuery) continue;
        if (attributed_only && !Attributed(docs[doc])) continue;
        c = acc.Insert(doc, internal::TimeEvidence(first, last, docs[doc].first_day,
                                                   docs[doc].last_day, options.time_window_days));
      }
      acc.sums[c][t.family] += t.weight;
    }
  }
  if (prune && i < order.size() && (acc.size() >= top_k || has_min)) {
    threshold = acc.size() >= top_k ? std::max(kth(), min_raw) : min_raw;
    acc.Filter([&](size_t c) {
      FamilyVector most = acc.sums[c];
      for (int f = 0; f < kFamilyCount; ++f) most[f] += rest[i][f];
      return !below(raw_of(most, acc.time[c]), threshold);
    });
  }
  // The remaining terms (too common to walk, or past the early termination) still count for the
  // candidates, each term by the cheapest of: a bit test per candidate in the term's bitmap (the
  // commonest features have one), a walk of its postings looking each holder up among the
  // candidates (short postings), or, for the rest, one merge of each candidate's sorted features
  // with those terms' sorted ids (a binary search per candidate and term missed the cache at
  // every step). The sums are still added term by term, in the order above.
  std::vector<uint32_t> lookup;  // positions in `order` of the terms merged per candidate
  std::vector<const std::vector<uint64_t>*> bitmap_at(order.size() - i, nullptr);
  for (size_t j = i; j < order.size(); ++j) {
    const size_t p = postings[order[j].fid].size();
    if (p < acc.size()) continue;  // walked
    if (const std::vector<uint64_t>* bits = Bitmap(order[j].fid)) {
      bitmap_at[j - i] = bits;
    } else if (p >= acc.size() * 8) {
      lookup.push_back(static_cast<uint32_t>(j));
    }
  }
  thread_local std::vector<uint8_t> held;  // held[c * lookup.size() + k]: candidate c has term k
  if (!lookup.empty()) {
    std::vector<std::pair<uint32_t, uint32_t>> by_fid;  // (fid, k)
    by_fid.reserve(lookup.size());
    for (uint32_t k = 0; k < lookup.size(); ++k) by_fid.emplace_back(order[lookup[k]].fid, k);
    std::sort(by_fid.begin(), by_fid.end());
    held.assign(acc.size() * lookup.size(), 0);
    for (size_t c = 0; c < acc.size(); ++c) {
      const std::vector<uint32_t>& fs = docs[acc.docs[c]].features;
      uint8_t* row = held.data() + c * lookup.size();
      size_t a = 0;
      for (const auto& [fid, k] : by_fid) {
        while (a < fs.size() && fs[a] < fid) ++a;
        if (a == fs.size()) break;
        if (fs[a] == fid) row[k] = 1;
      }
    }
  }
  for (size_t k = 0, first_rest = i; i < order.size(); ++i) {
    const Term& t = order[i];
    if (const std::vector<uint64_t>* bits = bitmap_at[i - first_rest]) {
      for (size_t c = 0; c < acc.size(); ++c) {
        if (Holds(*bits, acc.docs[c])) acc.sums[c][t.family] += t.weight;
      }
      continue;
    }
    if (k < lookup.size() && lookup[k] == i) {
      for (size_t c = 0; c < acc.size(); ++c) {
        if (held[c * lookup.size() + k]) acc.sums[c][t.family] += t.weight;
      }
      ++k;
      continue;
    }
    for (uint32_t doc : postings[t.fid]) {
      int64_t c = acc.Find(doc);
      if (c >= 0) acc.sums[c][t.family] += t.weight;
    }
  }
  // Near files of the query's TLSH / ssdeep digests bring their incidents as candidates.
  std::vector<FuzzyHood> hoods;
  if (!query_fuzzy.empty() && fuzzy.size() > 0) {
    for (const FuzzyDigest& d : query_fuzzy) {
      hoods.push_back(Hood(d));
      for (const std::string& incident : hoods.back().incidents) {
        auto id = doc_ids.find(incident);
        if (id == doc_ids.end() || static_cast<int64_t>(id->second) == self) continue;
        const uint32_t doc = id->second;
        if (attributed_only && !Attributed(docs[doc])) continue;
        if (acc.Find(doc) < 0 && acc.size() < limits::kMaxCandidatesPerQuery) {
          acc.Insert(doc, internal::TimeEvidence(first, last, docs[doc].first_day,
                                                 docs[doc].last_day, options.time_window_days));
        }
      }
    }
  }
  // Fuzzy evidence needs df of both files of a pair, an index query each. Rank by an upper bound
  // (b's side of df left out), then compute the exact value best bound first until no bound can
  // reach the k-th exact score (the threshold algorithm; Fagin et al. 2001): the answer is the
  // one of exact scores throughout.
  const int fz = static_cast<int>(Family::kFuzzy);
  struct Cand {
    double raw;
    uint32_t doc;
    bool bound;  // raw is an upper bound (fuzzy evidence not yet exact)
  };
  std::vector<Cand> cands;
  cands.reserve(acc.size());
  for (size_t c = 0; c < acc.size(); ++c) {
    const uint32_t doc = acc.docs[c];
    FamilyVector& sums = acc.sums[c];
    bool bound = false;
    if (!query_fuzzy.empty() && docs[doc].has_fuzzy) {
      sums[fz] = FuzzySum(query_fuzzy, FuzzyDigests(docs[doc]), nullptr, &hoods, true);
      bound = sums[fz] > 0;
    }
    const double raw = raw_of(sums, acc.time[c]);
    // A bound (fuzzy evidence not yet exact) may still fall below min_raw: checked when exact.
    if (raw > 0 && !below(raw, min_raw)) cands.push_back({raw, doc, bound});
  }
  auto by_raw = [&](const Cand& x, const Cand& y) {
    if (x.raw != y.raw) return x.raw > y.raw;
    return docs[x.doc].id < docs[y.doc].id;
  };
  std::vector<std::pair<double, uint32_t>> ranked;
  const bool any_bound =
      std::any_of(cands.begin(), cands.end(), [](const Cand& c) { return c.bound; });
  if (!any_bound) {
    // Every score is exact already (no fuzzy evidence to refine).
    ranked.reserve(cands.size());
    for (const Cand& c : cands) ranked.emplace_back(c.raw, c.doc);
    cands.clear();
  }
  std::sort(cands.begin(), cands.end(), by_raw);
  // The top_k best exact scores so far, smallest on top: a bound below it cannot enter.
  std::priority_queue<double, std::vector<double>, std::greater<double>> best;
  auto keep = [&](double raw, uint32_t doc) {
    ranked.emplace_back(raw, doc);
    best.push(raw);
    if (best.size() > top_k) best.pop();
  };
  for (const Cand& c : cands) {
    if (best.size() >= top_k && c.raw < best.top()) break;
    if (!c.bound) {
      keep(c.raw, c.doc);
      continue;
    }
    const uint32_t slot = static_cast<uint32_t>(acc.Find(c.doc));
    FamilyVector& sums = acc.sums[slot];
    sums[fz] = FuzzySum(query_fuzzy, FuzzyDigests(docs[c.doc]), nullptr, &hoods, false);
    const double exact = raw_of(sums, acc.time[slot]);
    if (exact > 0 && !below(exact, min_raw)) keep(exact, c.doc);
  }
  auto better = [&](const std::pair<double, uint32_t>& x, const std::pair<double, uint32_t>& y) {
    if (x.first != y.first) return x.first > y.first;
    return docs[x.second].id < docs[y.second].id;
  };
  size_t k = std::min(top_k, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + k, ranked.end(), better);
  std::vector<Match> out;
  out.reserve(k);
  for (size_t r = 0; r < k; ++r) {
    const uint32_t doc = ranked[r].second;
    const Doc& d = docs[doc];
    Match m;
    m.id = d.id;
    if (explain) {
      m.comparison = CompareResolved(query, FromDoc(d), first, last, d.first_day, d.last_day, true,
                                     d.has_fuzzy);
    } else {
      const uint32_t slot = static_cast<uint32_t>(acc.Find(doc));
      Finish(acc.sums[slot], acc.time[slot], &m.comparison);
    }
    out.push_back(std::move(m));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

SimilarityIndex::SimilarityIndex(const kb::KnowledgeBase* kb, ScoringOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->kb = kb;
  impl_->options = std::move(options);
}
SimilarityIndex::~SimilarityIndex() = default;
SimilarityIndex::SimilarityIndex(SimilarityIndex&&) noexcept = default;
SimilarityIndex& SimilarityIndex::operator=(SimilarityIndex&&) noexcept = default;

absl::StatusOr<SimilarityIndex> SimilarityIndex::Build(const std::vector<Incident>& incidents,
                                                       const kb::KnowledgeBase* kb,
                                                       ScoringOptions options) {
  SimilarityIndex index(kb, std::move(options));
  for (const Incident& inc : incidents) KINSHIP_RETURN_IF_ERROR(index.Add(inc));
  return index;
}

absl::Status SimilarityIndex::Add(const Incident& incident) {
  if (incident.id.empty()) return absl::InvalidArgumentError("incident without an id");
  if (impl_->doc_ids.contains(incident.id)) {
    return absl::AlreadyExistsError(absl::StrCat("incident ", incident.id, " already indexed"));
  }
  Impl& im = *impl_;
  if (im.docs.size() >= Impl::Postings::kList) {
    return absl::ResourceExhaustedError("the similarity index holds at most 2^31 incidents");
  }
  const uint32_t doc = static_cast<uint32_t>(im.docs.size());
  Impl::Doc d;
  d.id = incident.id;
  d.first_seen = incident.first_seen;
  d.last_seen = incident.last_seen;
  d.first_day = internal::DaysFromIso(incident.first_seen);
  d.last_day = internal::DaysFromIso(incident.last_seen);
  for (const Attribution& a : incident.attributions) {
    std::string actor = a.actor_id.empty() ? a.actor_name : a.actor_id;
    if (!actor.empty() && std::find(d.actors.begin(), d.actors.end(), actor) == d.actors.end()) {
      d.actors.push_back(std::move(actor));
    }
  }
  std::vector<Feature> features = ExtractFeatures(incident, im.kb, im.options);
  size_t key_bytes = 0;
  for (const Feature& f : features) key_bytes += f.key.size() + 10;
  if (!im.texts.HasRoom(key_bytes)) {
    return absl::ResourceExhaustedError("the similarity index's feature keys are full (4 GiB)");
  }
  // Keeps a key's text (room checked above) and returns its number.
  auto keep_text = [&](std::string_view key) {
    im.texts.Add(key);
    return static_cast<uint32_t>(im.texts.size() - 1);
  };
  // The (family, strength) pairs: room checked before anything changes.
  auto find_kind = [&](const Feature& f) -> std::optional<size_t> {
    const std::pair<Family, float> k(f.family, static_cast<float>(f.strength));
    for (size_t i = 0; i < im.kinds.size(); ++i) {
      if (im.kinds[i] == k) return i;
    }
    return std::nullopt;
  };
  {
    std::vector<std::pair<Family, float>> fresh;
    for (const Feature& f : features) {
      const std::pair<Family, float> k(f.family, static_cast<float>(f.strength));
      if (!find_kind(f) && std::find(fresh.begin(), fresh.end(), k) == fresh.end()) {
        fresh.push_back(k);
      }
    }
    if (im.kinds.size() + fresh.size() > Impl::kMaxKinds) {
      return absl::ResourceExhaustedError(
          "the similarity index holds at most 256 (family, strength) pairs");
    }
  }
  auto kind_of = [&](const Feature& f) {
    if (std::optional<size_t> k = find_kind(f)) return *k;
    im.kinds.emplace_back(f.family, static_cast<float>(f.strength));
    return im.kinds.size() - 1;
  };
  for (Feature& f : features) {
    uint32_t fid;
    std::optional<Impl::FuzzyDigest> fd = ParseFuzzyKey(f.family, f.key);
    const uint64_t hash = Impl::HashKey(f.key);
    if (auto found = im.feature_ids.find(Impl::HashedKey{hash}); found != im.feature_ids.end()) {
      fid = *found;
      // Now held by two incidents: explanations may name it.
      im.postings.Add(fid, doc, [&] { return keep_text(f.key); });
      im.NoteHolder(fid, doc);
    } else {
      fid = static_cast<uint32_t>(im.FeatureCount());
      im.key_hash.push_back(hash);
      im.feature_ids.insert(fid);
      im.kind_of_feature.push_back(static_cast<uint8_t>(kind_of(f)));
      im.postings.AddFeature(doc, fd ? keep_text(f.key) : Impl::Postings::kNoText);
    }
    d.features.push_back(fid);
    if (fd && im.fuzzy.Add(incident.id, fd->kind, fd->text).ok()) {
      im.fuzzy_added.emplace_back(doc, fid);
      d.has_fuzzy = true;
    }
  }
  std::sort(d.features.begin(), d.features.end());
  d.features.shrink_to_fit();
  im.doc_ids.emplace(d.id, doc);
  im.docs.push_back(std::move(d));
  return absl::OkStatus();
}

size_t SimilarityIndex::size() const { return impl_->docs.size(); }

bool SimilarityIndex::Contains(std::string_view id) const {
  return impl_->doc_ids.contains(std::string(id));
}

std::vector<std::string> SimilarityIndex::Ids() const {
  std::vector<std::string> out;
  out.reserve(impl_->docs.size());
  for (const Impl::Doc& d : impl_->docs) out.push_back(d.id);
  return out;
}

std::vector<std::string> SimilarityIndex::StatedActors(std::string_view id) const {
  auto it = impl_->doc_ids.find(std::string(id));
  if (it == impl_->doc_ids.end()) return {};
  return impl_->docs[it->second].actors;
}

std::pair<std::string, std::string> SimilarityIndex::ActivityWindow(std::string_view id) const {
  auto it = impl_->doc_ids.find(std::string(id));
  if (it == impl_->doc_ids.end()) return {};
  const Impl::Doc& d = impl_->docs[it->second];
  return {d.first_seen, d.last_seen};
}

absl::StatusOr<std::vector<Match>> SimilarityIndex::Similar(std::string_view id,
                                                            size_t top_k) const {
  auto it = impl_->doc_ids.find(std::string(id));
  if (it == impl_->doc_ids.end()) {
    return absl::NotFoundError(absl::StrCat("incident ", AV(id), " is not indexed"));
  }
  const Impl::Doc& d = impl_->docs[it->second];
  return impl_->SimilarResolved(impl_->FromDoc(d), d.first_day, d.last_day, it->second, top_k);
}

namespace {

// Similar and SimilarAttributed of an incident: the query resolved, itself left out when indexed.
std::vector<Match> SimilarToIncident(const SimilarityIndex::Impl& impl, const Incident& query,
                                     size_t top_k, bool attributed_only) {
  auto it = impl.doc_ids.find(query.id);
  const int64_t self = it == impl.doc_ids.end() ? -1 : static_cast<int64_t>(it->second);
  return impl.SimilarResolved(impl.Resolve(query), internal::DaysFromIso(query.first_seen),
                              internal::DaysFromIso(query.last_seen), self, top_k,
                              /*explain=*/true, -std::numeric_limits<double>::infinity(),
                              attributed_only);
}

}  // namespace

std::vector<Match> SimilarityIndex::Similar(const Incident& query, size_t top_k) const {
  return SimilarToIncident(*impl_, query, top_k, /*attributed_only=*/false);
}

std::vector<Match> SimilarityIndex::SimilarAttributed(const Incident& query, size_t top_k) const {
  return SimilarToIncident(*impl_, query, top_k, /*attributed_only=*/true);
}

absl::StatusOr<Comparison> SimilarityIndex::Compare(std::string_view a, std::string_view b) const {
  auto ia = impl_->doc_ids.find(std::string(a));
  if (ia == impl_->doc_ids.end()) {
    return absl::NotFoundError(absl::StrCat("incident ", AV(a), " is not indexed"));
  }
  auto ib = impl_->doc_ids.find(std::string(b));
  if (ib == impl_->doc_ids.end()) {
    return absl::NotFoundError(absl::StrCat("incident ", AV(b), " is not indexed"));
  }
  const Impl::Doc& da = impl_->docs[ia->second];
  const Impl::Doc& db = impl_->docs[ib->second];
  return impl_->CompareResolved(impl_->FromDoc(da), impl_->FromDoc(db), da.first_day, da.last_day,
                                db.first_day, db.last_day, true, db.has_fuzzy);
}

absl::StatusOr<Comparison> SimilarityIndex::Compare(const Incident& a, std::string_view b) const {
  auto ib = impl_->doc_ids.find(std::string(b));
  if (ib == impl_->doc_ids.end()) {
    return absl::NotFoundError(absl::StrCat("incident ", AV(b), " is not indexed"));
  }
  const Impl::Doc& db = impl_->docs[ib->second];
  return impl_->CompareResolved(
      impl_->Resolve(a), impl_->FromDoc(db), internal::DaysFromIso(a.first_seen),
      internal::DaysFromIso(a.last_seen), db.first_day, db.last_day, true, db.has_fuzzy);
}

Comparison SimilarityIndex::Compare(const Incident& a, const Incident& b) const {
  return impl_->CompareResolved(
      impl_->Resolve(a), impl_->Resolve(b), internal::DaysFromIso(a.first_seen),
      internal::DaysFromIso(a.last_seen), internal::DaysFromIso(b.first_seen),
      internal::DaysFromIso(b.last_seen), true);
}

double SimilarityIndex::FeatureIdf(std::string_view key) const {
  std::optional<uint32_t> fid = impl_->FindFeature(key);
  if (!fid) return 0;
  return impl_->Idf(*fid, impl_->StrengthOf(*fid));
}

size_t SimilarityIndex::DocumentFrequency(std::string_view key) const {
  std::optional<uint32_t> fid = impl_->FindFeature(key);
  return fid ? impl_->Df(*fid) : 0;
}

void SimilarityIndex::SetCalibration(const Calibration& calibration) {
  impl_->calibration = calibration;
}
void SimilarityIndex::SetMaxCandidateDf(size_t df) { impl_->options.max_candidate_df = df; }
void SimilarityIndex::SetOverCorrelation(size_t min_incidents, double share) {
  impl_->options.over_correlation_min = min_incidents;
  impl_->options.over_correlation_share = share;
}
size_t SimilarityIndex::OverCorrelationLimit() const { return impl_->OverCorrelationLimit(); }
const Calibration& SimilarityIndex::calibration() const { return impl_->calibration; }
const ScoringOptions& SimilarityIndex::options() const { return impl_->options; }

std::vector<std::pair<std::string_view, size_t>> Impl::MemoryParts() const {
  std::vector<std::pair<std::string_view, size_t>> parts;
  parts.emplace_back("feature key texts (shared features)", texts.bytes());
  parts.emplace_back("feature key hashes", key_hash.bytes());
  parts.emplace_back("feature dictionary", feature_ids.capacity() * (sizeof(uint32_t) + 1));
  parts.emplace_back("feature family+strength", kind_of_feature.bytes());
  parts.emplace_back("postings", postings.bytes());
  size_t bitmap_bytes = bitmap_of.capacity() * (2 * sizeof(uint32_t) + 1);
  for (const auto& b : bitmaps) bitmap_bytes += b.capacity() * sizeof(uint64_t) + sizeof(b);
  parts.emplace_back("bitmaps of common features", bitmap_bytes);
  size_t doc_bytes = 0, doc_features = 0;
  for (const Doc& d : docs) {
    doc_bytes += sizeof(Doc) + (d.id.capacity() > 15 ? d.id.capacity() + 1 : 0);
    doc_bytes += d.actors.capacity() * sizeof(std::string);
    doc_features += d.features.capacity() * sizeof(uint32_t);
  }
  doc_bytes += (docs.capacity() - docs.size()) * sizeof(Doc);
  doc_bytes += doc_ids.capacity() * (sizeof(std::string) + sizeof(uint32_t) + 1);
  parts.emplace_back("incidents", doc_bytes);
  parts.emplace_back("incident feature ids", doc_features);
  parts.emplace_back("fuzzy digests' order", fuzzy_added.capacity() * sizeof(fuzzy_added[0]));
  return parts;
}

IndexStats SimilarityIndex::Stats() const {
  const Impl& im = *impl_;
  IndexStats s;
  s.incidents = im.docs.size();
  s.features = im.FeatureCount();
  for (uint32_t fid = 0; fid < s.features; ++fid) s.postings += im.Df(fid);
  for (const auto& [name, bytes] : im.MemoryParts()) s.memory_bytes += bytes;
  return s;
}

}  // namespace kinship::score
