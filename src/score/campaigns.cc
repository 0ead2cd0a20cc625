// Campaigns: incidents linked when their "same actor" probability passes a threshold, clustered
// by average linkage on the sparse link graph (unlinked pairs count 0). Unlike single linkage,
// a bridge incident B between unrelated A and C cannot chain them: merging {A,B} with C needs
// the average over A-C and B-C to pass the threshold (DESIGN.md "Campaigns"); C is then listed
// beside the campaign as linked to B, not in it. Single linkage (connected components) is kept
// for comparison (docs/evaluation.md, "3. Campaign linking").
#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <queue>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "index/postings.h"
#include "kinship/disjoint_sets.h"
#include "kinship/parallel.h"
#include "kinship/similarity.h"
#include "score/internal.h"

namespace kinship::score {

namespace {

using Impl = SimilarityIndex::Impl;

struct Cluster {
  std::vector<uint32_t> members;
  absl::flat_hash_map<uint32_t, double> links;  // other cluster -> sum of link probabilities
  double internal = 0;                          // sum of link probabilities inside
  int version = 0;
  bool alive = true;
};

Explanation Binding(const Impl& im, const std::vector<uint32_t>& members) {
  absl::flat_hash_map<uint32_t, int> count;
  for (uint32_t m : members) {
    for (uint32_t fid : im.docs[m].features) ++count[fid];
  }
  // In feature-id order: the family sums below are then added in the same order in every
  // process (a hash map's order is not, and the last bits of the weights followed it).
  std::vector<std::pair<uint32_t, int>> held(count.begin(), count.end());
  std::sort(held.begin(), held.end());
  std::vector<FamilyEvidence> fams(kFamilyCount);
  FamilyVector sums{};
  for (const auto& [fid, c] : held) {
    if (c < 2) continue;
    double w = im.Idf(fid, im.StrengthOf(fid));
    if (w <= 0) continue;
    int f = static_cast<int>(im.FamilyOf(fid));
    sums[f] += w;
    EvidenceItem item;
    item.feature = std::string(im.KeyText(fid));  // held by two members: kept
    item.idf = w;
    item.df = im.Df(fid);
    item.weight = w;
    fams[f].items.push_back(std::move(item));
  }
  Explanation out;
  for (int f = 0; f < kFamilyCount; ++f) {
    FamilyEvidence& fe = fams[f];
    if (fe.items.empty()) continue;
    fe.family = static_cast<Family>(f);
    fe.evidence = internal::Saturate(sums[f], im.options.saturation[f]);
    fe.weight = im.calibration.weight[f] * fe.evidence;
    if (fe.weight <= 0) continue;
    for (EvidenceItem& item : fe.items) item.weight = fe.weight * item.idf / sums[f];
    std::sort(fe.items.begin(), fe.items.end(), [](const EvidenceItem& x, const EvidenceItem& y) {
      if (x.weight != y.weight) return x.weight > y.weight;
      return x.feature < y.feature;
    });
    out.families.push_back(std::move(fe));
  }
  std::stable_sort(
      out.families.begin(), out.families.end(),
      [](const FamilyEvidence& x, const FamilyEvidence& y) { return x.weight > y.weight; });
  return out;
}

// Merges clusters (each starting as one incident with its links) by average linkage: the pair
// whose average link over all member pairs is highest merges next, while it is >= threshold.
void AverageLinkage(std::vector<Cluster>& clusters, double threshold) {
  const uint32_t n = static_cast<uint32_t>(clusters.size());
  using Entry = std::tuple<double, uint32_t, uint32_t, int, int>;  // avg, a, b, va, vb
  auto worse = [](const Entry& x, const Entry& y) {
    if (std::get<0>(x) != std::get<0>(y)) return std::get<0>(x) < std::get<0>(y);
    return std::tie(std::get<1>(x), std::get<2>(x)) > std::tie(std::get<1>(y), std::get<2>(y));
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(worse)> heap(worse);
  auto average = [&](uint32_t a, uint32_t b, double sum) {
    return sum / (static_cast<double>(clusters[a].members.size()) * clusters[b].members.size());
  };
  for (uint32_t i = 0; i < n; ++i) {
    for (const auto& [j, p] : clusters[i].links) {
      if (i < j && p >= threshold) heap.emplace(p, i, j, 0, 0);
    }
  }
  while (!heap.empty()) {
    auto [avg, a, b, va, vb] = heap.top();
    heap.pop();
    if (!clusters[a].alive || !clusters[b].alive || clusters[a].version != va ||
        clusters[b].version != vb) {
      continue;
    }
    if (avg < threshold) break;
    // Merge the smaller into the larger (ties: into the lower id) to keep link maps small.
    if (clusters[b].members.size() > clusters[a].members.size() ||
        (clusters[b].members.size() == clusters[a].members.size() && b < a)) {
      std::swap(a, b);
    }
    Cluster& ca = clusters[a];
    Cluster& cb = clusters[b];
    ca.internal += cb.internal + ca.links[b];
    ca.links.erase(b);
    cb.links.erase(a);
    for (const auto& [c, s] : cb.links) {
      ca.links[c] += s;
      auto& cl = clusters[c].links;
      cl[a] += s;
      cl.erase(b);
    }
    ca.members.insert(ca.members.end(), cb.members.begin(), cb.members.end());
    cb.members.clear();
    cb.links.clear();
    cb.alive = false;
    ++ca.version;
    ++cb.version;
    for (const auto& [c, s] : ca.links) {
      double avg2 = average(a, c, s);
      if (avg2 >= threshold) {
        heap.emplace(avg2, std::min(a, c), std::max(a, c), a < c ? ca.version : clusters[c].version,
                     a < c ? clusters[c].version : ca.version);
      }
    }
  }
}

// The raw score under which a pair's probability stays below `threshold` (the calibration is
// monotone): Similar need not find such pairs at all. Bisection; conservative (a raw score just
// under the boundary is still searched), and -infinity when even 0 reaches the threshold.
double MinRawFor(const Calibration& c, double threshold) {
  double lo = 0, hi = 1;
  if (c.Calibrate(lo) >= threshold) return -std::numeric_limits<double>::infinity();
  while (c.Calibrate(hi) < threshold && hi < 1e6) hi *= 2;
  if (c.Calibrate(hi) < threshold) return hi;  // no raw score this side of 1e6 links
  for (int k = 0; k < 64; ++k) {
    const double mid = (lo + hi) / 2;
    (c.Calibrate(mid) >= threshold ? hi : lo) = mid;
  }
  return lo;  // Calibrate(lo) < threshold <= Calibrate(hi), and every raw below lo is below too
}

// Connected components of the link graph.
void SingleLinkage(std::vector<Cluster>& clusters) {
  const uint32_t n = static_cast<uint32_t>(clusters.size());
  util::DisjointSets sets(n);
  for (uint32_t i = 0; i < n; ++i) {
    for (const auto& [j, p] : clusters[i].links) sets.Union(i, j);
  }
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t r = static_cast<uint32_t>(sets.Find(i));
    for (const auto& [j, p] : clusters[i].links) {
      if (i < j) clusters[r].internal += p;
    }
    if (r == i) continue;
    clusters[r].members.push_back(i);
    clusters[i].members.clear();
    clusters[i].alive = false;
  }
}

}  // namespace

absl::StatusOr<std::vector<Campaign>> FindCampaigns(const SimilarityIndex& index,
                                                    const CampaignOptions& options) {
  if (!(options.threshold > 0 && options.threshold <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("campaign threshold must be in (0, 1]; got ", options.threshold));
  }
  const Impl& im = index.impl();
  const uint32_t n = static_cast<uint32_t>(im.docs.size());
  std::vector<Cluster> clusters(n);
  for (uint32_t i = 0; i < n; ++i) clusters[i].members.push_back(i);

  // The sparse link graph: each incident's nearest neighbours above the threshold, searched on
  // worker threads (Similar is read-only), merged in incident order.
  const double min_raw = MinRawFor(im.calibration, options.threshold);
  std::vector<std::vector<std::pair<uint32_t, double>>> near_of(n);
  std::atomic<size_t> searched{0};
  const size_t step = std::max<size_t>(1, n / 10);
  util::ParallelFor(n, [&](size_t i) {
    const Impl::Doc& d = im.docs[i];
    for (const Match& m :
         im.SimilarResolved(im.FromDoc(d), d.first_day, d.last_day, static_cast<int64_t>(i),
                            options.neighbours, /*explain=*/false, min_raw)) {
      if (m.comparison.probability < options.threshold) break;
      near_of[i].emplace_back(im.doc_ids.at(m.id), m.comparison.probability);
    }
    const size_t done = searched.fetch_add(1, std::memory_order_relaxed) + 1;
    if (options.progress && (done % step == 0 || done == n)) options.progress(done, n);
  });
  for (uint32_t i = 0; i < n; ++i) {
    for (const auto& [j, probability] : near_of[i]) {
      // Symmetric: keep the larger of the two directions' values (equal up to rounding).
      double& a = clusters[i].links[j];
      double& b = clusters[j].links[i];
      double p = std::max({a, b, probability});
      a = p;
      b = p;
    }
  }
  // Average linkage: the links as found, for the incidents it leaves beside a campaign (the
  // clusters' maps become sums between clusters as they merge). Single linkage leaves none: every
  // linked incident is in its component.
  std::vector<absl::flat_hash_map<uint32_t, double>> graph;
  if (options.linkage == Linkage::kSingle) {
    SingleLinkage(clusters);
  } else {
    graph.resize(n);
    for (uint32_t i = 0; i < n; ++i) graph[i] = clusters[i].links;
    AverageLinkage(clusters, options.threshold);
  }

  // Which reported campaign (index into `out`) each incident is a member of.
  const size_t min_members = std::max<size_t>(options.min_members, 2);
  std::vector<int> campaign_of(n, -1);
  std::vector<Campaign> out;
  for (uint32_t i = 0; i < n; ++i) {
    Cluster& c = clusters[i];
    if (!c.alive || c.members.size() < min_members) continue;
    for (uint32_t m : c.members) campaign_of[m] = static_cast<int>(out.size());
    std::sort(c.members.begin(), c.members.end());
    Campaign camp;
    std::map<std::string, size_t> votes;
    for (uint32_t m : c.members) {
      const Impl::Doc& d = im.docs[m];
      camp.members.push_back(d.id);
      if (!d.first_seen.empty() && (camp.first_seen.empty() || d.first_seen < camp.first_seen)) {
        camp.first_seen = d.first_seen;
      }
      const std::string& last = d.last_seen.empty() ? d.first_seen : d.last_seen;
      if (!last.empty() && last > camp.last_seen) camp.last_seen = last;
      if (!d.actors.empty()) ++camp.attributed_members;
      for (const std::string& a : d.actors) ++votes[a];
    }
    for (const auto& [actor, v] : votes) {
      if (v > camp.actor_votes) {
        camp.actor = actor;
        camp.actor_votes = v;
      }
    }
    double pairs = c.members.size() * (c.members.size() - 1) / 2.0;
    camp.cohesion = c.internal / pairs;
    camp.binding = Binding(im, c.members);
    out.push_back(std::move(camp));
  }
  // Incidents in no campaign, beside each campaign they link to (their strongest link into it).
  for (uint32_t i = 0; i < graph.size(); ++i) {
    if (campaign_of[i] >= 0 || graph[i].empty()) continue;
    std::map<int, std::pair<double, uint32_t>> best;  // campaign -> (probability, member)
    for (const auto& [j, p] : graph[i]) {
      const int k = campaign_of[j];
      if (k < 0) continue;
      auto [it, added] = best.try_emplace(k, p, j);
      if (!added && (p > it->second.first || (p == it->second.first && j < it->second.second))) {
        it->second = {p, j};
      }
    }
    for (const auto& [k, link] : best) {
      out[k].linked.push_back({im.docs[i].id, im.docs[link.second].id, link.first});
    }
  }
  for (Campaign& c : out) {
    std::sort(c.linked.begin(), c.linked.end(),
              [](const LinkedIncident& x, const LinkedIncident& y) {
                if (x.probability != y.probability) return x.probability > y.probability;
                return x.id < y.id;
              });
  }
  std::sort(out.begin(), out.end(), [](const Campaign& x, const Campaign& y) {
    if (x.members.size() != y.members.size()) return x.members.size() > y.members.size();
    return x.members.front() < y.members.front();
  });
  return out;
}

}  // namespace kinship::score
