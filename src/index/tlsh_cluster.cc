// HAC-T clustering of TLSH digests (Oliver, Ali and Hagen 2021, "HAC-T and fast search for
// similarity in security"; reference code trendmicro/tlsh tlshCluster/pylib/hac_lib.py, default
// non-"stringy" mode with step 3), on the exact TlshIndex instead of the paper's approximate
// VP-tree search, plus external clustering quality (purity, adjusted Rand index).
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "index/tlsh_distance.h"
#include "kinship/fuzzy.h"

namespace kinship {
namespace {

using internal::TlshDistancePair;

class HacT {
 public:
  HacT(const std::vector<TlshDigest>& digests, int radius)
      : d_(digests),
        radius_(radius),
        owner_(digests.size()),
        members_(digests.size()),
        centre_(digests.size()) {
    for (size_t i = 0; i < d_.size(); ++i) {
      owner_[i] = static_cast<uint32_t>(i);
      members_[i] = {static_cast<uint32_t>(i)};
      centre_[i] = static_cast<uint32_t>(i);
      index_.Add(d_[i], static_cast<uint32_t>(i));
    }
    index_.Compact();
  }

  // Step 2: every item, in input order, tries to join its nearest neighbour's cluster.
  // Returns the clusters changed.
  std::vector<uint32_t> FirstPass() {
    std::vector<uint32_t> changed;
    for (uint32_t a = 0; a < d_.size(); ++a) {
      if (TryMergeNearest(a)) changed.push_back(owner_[a]);
    }
    return Unique(changed);
  }

  // Step 3: clusters changed last pass look again (one merge per cluster per pass).
  std::vector<uint32_t> Pass(const std::vector<uint32_t>& clusters) {
    std::vector<uint32_t> changed;
    for (uint32_t c : clusters) {
      if (members_[c].size() < 2) continue;  // merged away (owner moved) or singleton
      std::vector<uint32_t> snapshot = members_[c];
      for (uint32_t a : snapshot) {
        if (TryMergeNearest(a)) {
          changed.push_back(owner_[a]);
          break;
        }
      }
    }
    return Unique(changed);
  }

  TlshClustering Result(int passes) const {
    TlshClustering out;
    out.passes = passes;
    out.cluster.resize(d_.size());
    std::vector<uint32_t> id(d_.size(), UINT32_MAX);
    for (size_t i = 0; i < d_.size(); ++i) {
      uint32_t c = owner_[i];
      if (id[c] == UINT32_MAX) {
        id[c] = static_cast<uint32_t>(out.clusters++);
        if (members_[c].size() == 1) ++out.singletons;
      }
      out.cluster[i] = id[c];
    }
    return out;
  }

 private:
  static std::vector<uint32_t> Unique(std::vector<uint32_t> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }

  int Dist(uint32_t a, uint32_t b) const { return TlshDistancePair(d_[a], d_[b], true).full; }

  // The nearest item outside a's cluster (ties: earliest input); merges if within the radius
  // and the merged cluster stays within the radius.
  bool TryMergeNearest(uint32_t a) {
    for (const TlshNeighbour& n : index_.Radius(d_[a], radius_)) {
      if (owner_[n.payload] == owner_[a]) continue;
      return TryMerge(owner_[a], owner_[n.payload]);
    }
    return false;
  }

  // Largest distance from `c` to the members of x and y, giving up above `limit`.
  int Eccentricity(uint32_t c, uint32_t x, uint32_t y, int limit) const {
    int worst = 0;
    for (uint32_t cl : {x, y}) {
      for (uint32_t m : members_[cl]) {
        worst = std::max(worst, Dist(c, m));
        if (worst > limit) return worst;
      }
    }
    return worst;
  }

  // HAC-T's estimateRadius: the radius of the union around the best of a few candidate
  // centres (both current centres and up to 8 evenly spread members), so merging stays
  // O(members) instead of the O(members^2) of an exact medoid.
  bool TryMerge(uint32_t x, uint32_t y) {
    std::vector<uint32_t> cands = {centre_[x], centre_[y]};
    for (uint32_t cl : {x, y}) {
      const auto& m = members_[cl];
      size_t step = std::max<size_t>(1, m.size() / 4);
      for (size_t i = 0; i < m.size() && i / step < 4; i += step) cands.push_back(m[i]);
    }
    int best = radius_ + 1;
    uint32_t best_c = cands[0];
    for (uint32_t c : cands) {
      int e = Eccentricity(c, x, y, best - 1);
      if (e < best) {
        best = e;
        best_c = c;
      }
    }
    if (best > radius_) return false;
    // The cluster with the smaller first member survives (as hac_lib's Merge).
    if (members_[y].front() < members_[x].front()) std::swap(x, y);
    for (uint32_t m : members_[y]) owner_[m] = x;
    std::vector<uint32_t>& mx = members_[x];
    mx.insert(mx.end(), members_[y].begin(), members_[y].end());
    std::sort(mx.begin(), mx.end());
    members_[y].clear();
    members_[y].shrink_to_fit();
    centre_[x] = best_c;
    return true;
  }

  const std::vector<TlshDigest>& d_;
  int radius_;
  TlshIndex index_;
  std::vector<uint32_t> owner_;                 // item -> cluster (an item id)
  std::vector<std::vector<uint32_t>> members_;  // cluster -> items, sorted
  std::vector<uint32_t> centre_;
};

double Choose2(double n) { return n * (n - 1) / 2; }

}  // namespace

absl::StatusOr<TlshClustering> ClusterTlsh(const std::vector<TlshDigest>& digests,
                                           const TlshClusterOptions& options) {
  if (options.radius < 0) return absl::InvalidArgumentError("cluster radius must be >= 0");
  HacT hac(digests, options.radius);
  std::vector<uint32_t> changed = hac.FirstPass();
  int passes = 0;
  while (!changed.empty() && passes < options.max_passes) {
    changed = hac.Pass(changed);
    ++passes;
  }
  return hac.Result(passes);
}

absl::StatusOr<ClusterQuality> EvaluateClustering(const std::vector<std::string>& labels,
                                                  const std::vector<uint32_t>& cluster) {
  if (labels.size() != cluster.size() || labels.empty()) {
    return absl::InvalidArgumentError("labels and clusters must be non-empty and of equal size");
  }
  std::map<std::string, uint32_t> label_id;
  for (const std::string& l : labels) label_id.emplace(l, 0);
  uint32_t next = 0;
  for (auto& [l, id] : label_id) id = next++;
  std::map<uint32_t, std::map<uint32_t, size_t>> table;  // cluster -> label -> count
  std::map<uint32_t, size_t> label_count;
  for (size_t i = 0; i < labels.size(); ++i) {
    uint32_t l = label_id[labels[i]];
    ++table[cluster[i]][l];
    ++label_count[l];
  }
  ClusterQuality q;
  q.clusters = table.size();
  double n = static_cast<double>(labels.size());
  double majority = 0, majority_clustered = 0, clustered = 0;
  double sum_ij = 0, sum_a = 0, sum_b = 0;
  for (const auto& [c, row] : table) {
    size_t size = 0, best = 0;
    for (const auto& [l, k] : row) {
      size += k;
      best = std::max(best, k);
      sum_ij += Choose2(static_cast<double>(k));
    }
    sum_a += Choose2(static_cast<double>(size));
    majority += static_cast<double>(best);
    if (size >= 2) {
      majority_clustered += static_cast<double>(best);
      clustered += static_cast<double>(size);
    } else {
      ++q.singletons;
    }
  }
  for (const auto& [l, k] : label_count) sum_b += Choose2(static_cast<double>(k));
  q.purity = majority / n;
  q.purity_clustered = clustered > 0 ? majority_clustered / clustered : 1.0;
  q.coverage = clustered / n;
  double expected = n >= 2 ? sum_a * sum_b / Choose2(n) : 0;
  double max_index = (sum_a + sum_b) / 2;
  q.ari = max_index - expected == 0 ? 1.0 : (sum_ij - expected) / (max_index - expected);
  return q;
}

}  // namespace kinship
