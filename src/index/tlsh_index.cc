// TlshIndex: digests are partitioned by their header (length value L, Q1 ratio,
// Q2 ratio: 2^16 groups). The header part of the distance is the same for every
// digest of a group and grows steeply (a length difference of 2 already costs
// 24), so a query visits only the groups whose header cost fits the radius,
// cheapest first. Inside a group, a forest of static vantage-point trees
// (Yianilos 1993, as used by HAC-T, Oliver et al. 2021) kept in the logarithmic
// method of Bentley and Saxe (so Add stays cheap) indexes the rest of the
// distance (checksum and body). That rest is not a metric, so the trees are
// built and pruned on its metric lower bound from tlsh_distance.h (a code
// difference of 3 counted as 3, not 6) and every candidate is verified with the
// real distance: answers are exact.
#include <algorithm>
#include <queue>
#include <utility>
#include <vector>

#include "index/tlsh_distance.h"
#include "kinship/fuzzy.h"

namespace kinship {
namespace {

using internal::TlshDistancePair;

struct Item {
  TlshDigest digest;
  uint32_t payload;
  uint32_t seq;  // insertion order, the tie-breaker
};

// Small nodes are scanned linearly.
constexpr size_t kLeafSize = 12;
// Digests added since the last tree are scanned linearly until there are this
// many.
constexpr size_t kTailSize = 256;

struct Node {
  uint32_t begin,
      end;  // items [begin, end); the vantage point is items[begin] unless leaf
  int32_t inner_lo, inner_hi, outer_lo,
      outer_hi;                    // bound-distance ranges of the two halves
  uint32_t mid;                    // inner = [begin+1, mid), outer = [mid, end)
  int32_t inner = -1, outer = -1;  // child node ids
};

class VpTree {
 public:
  explicit VpTree(std::vector<Item> items) : items_(std::move(items)) {
    if (!items_.empty()) Build(0, static_cast<uint32_t>(items_.size()));
  }
  const std::vector<Item>& items() const { return items_; }
  std::vector<Item>& mutable_items() { return items_; }

  // Visit(item, full) -> current pruning radius. `hb` / `hf` are the header
  // parts of the bound and of the full distance between the query and this
  // tree's group.
  template <typename Visit>
  void Search(const TlshDigest& q, int hb, int hf, int& radius, Visit&& visit) const {
    if (!nodes_.empty()) SearchNode(0, q, hb, hf, radius, visit);
  }

 private:
  int32_t Build(uint32_t begin, uint32_t end) {
    int32_t id = static_cast<int32_t>(nodes_.size());
    nodes_.push_back(Node{begin, end, 0, 0, 0, 0, end});
    if (end - begin <= kLeafSize) return id;
    // Vantage choice: among a few deterministic candidates, the one whose
    // distances to a sample spread most (Yianilos 1993): a wide spread makes
    // the median split prune well.
    uint32_t count = end - begin, best = begin;
    double best_spread = -1;
    for (uint32_t c = 0; c < 5; ++c) {
      uint32_t cand = begin + static_cast<uint32_t>((uint64_t{c} * 2654435761u + 7) % count);
      double sum = 0, sum2 = 0;
      int m = 0;
      for (uint32_t s = 0; s < 24; ++s) {
        uint32_t other = begin + static_cast<uint32_t>((uint64_t{s} * 40503u + 13 + c) % count);
        double d = TlshDistancePair(items_[cand].digest, items_[other].digest, true).bound;
        sum += d;
        sum2 += d * d;
        ++m;
      }
      double spread = sum2 / m - (sum / m) * (sum / m);
      if (spread > best_spread) {
        best_spread = spread;
        best = cand;
      }
    }
    std::swap(items_[begin], items_[best]);
    const TlshDigest vp = items_[begin].digest;
    std::vector<std::pair<int, Item>> tmp;
    tmp.reserve(end - begin - 1);
    for (uint32_t i = begin + 1; i < end; ++i) {
      tmp.emplace_back(TlshDistancePair(vp, items_[i].digest, true).bound, items_[i]);
    }
    size_t half = tmp.size() / 2;
    std::nth_element(tmp.begin(), tmp.begin() + half, tmp.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    int in_lo = 1 << 30, in_hi = -1, out_lo = 1 << 30, out_hi = -1;
    for (size_t i = 0; i < tmp.size(); ++i) {
      items_[begin + 1 + i] = tmp[i].second;
      int d = tmp[i].first;
      if (i < half) {
        in_lo = std::min(in_lo, d);
        in_hi = std::max(in_hi, d);
      } else {
        out_lo = std::min(out_lo, d);
        out_hi = std::max(out_hi, d);
      }
    }
    uint32_t mid = begin + 1 + static_cast<uint32_t>(half);
    int32_t inner = mid > begin + 1 ? Build(begin + 1, mid) : -1;
    int32_t outer = end > mid ? Build(mid, end) : -1;
    Node& n = nodes_[id];
    n.inner_lo = in_lo;
    n.inner_hi = in_hi;
    n.outer_lo = out_lo;
    n.outer_hi = out_hi;
    n.mid = mid;
    n.inner = inner;
    n.outer = outer;
    return id;
  }

  template <typename Visit>
  void SearchNode(int32_t id, const TlshDigest& q, int hb, int hf, int& radius,
                  Visit& visit) const {
    const Node& n = nodes_[id];
    if (n.inner < 0 && n.outer < 0 && n.mid == n.end) {
      for (uint32_t i = n.begin; i < n.end; ++i) {
        auto d = TlshDistancePair(q, items_[i].digest, true);
        if (d.full <= radius) radius = visit(items_[i], d.full);
      }
      return;
    }
    auto d = TlshDistancePair(q, items_[n.begin].digest, true);
    if (d.full <= radius) radius = visit(items_[n.begin], d.full);
    int dq = d.bound - hb;  // the tree's metric: checksum + body bound
    bool inner_first = dq < n.outer_lo;
    for (int pass = 0; pass < 2; ++pass) {
      bool inner = (pass == 0) == inner_first;
      int32_t child = inner ? n.inner : n.outer;
      if (child < 0) continue;
      int lo = inner ? n.inner_lo : n.outer_lo;
      int hi = inner ? n.inner_hi : n.outer_hi;
      int r = radius - hf;  // the rest of the full distance must fit in this
      if (dq - r > hi || dq + r < lo) continue;
      SearchNode(child, q, hb, hf, radius, visit);
    }
  }

  std::vector<Item> items_;
  std::vector<Node> nodes_;
};

// Header offsets (length, Q1, Q2 differences) ordered by their cost in the full
// distance.
struct HeaderOffset {
  int hf, hb;  // full and bound header cost
  int dl, dq1, dq2;
};

int LengthCost(int d) { return d <= 1 ? d : d * 12; }
int QCost(int d) { return d <= 1 ? d : (d - 1) * 12; }

const std::vector<HeaderOffset>& HeaderOffsets() {
  static const std::vector<HeaderOffset>* offsets = [] {
    auto* v = new std::vector<HeaderOffset>();
    v->reserve(256 * 16 * 16);
    for (int dl = -128; dl < 128; ++dl) {
      for (int dq1 = -8; dq1 < 8; ++dq1) {
        for (int dq2 = -8; dq2 < 8; ++dq2) {
          int l = dl < 0 ? -dl : dl, a = dq1 < 0 ? -dq1 : dq1, b = dq2 < 0 ? -dq2 : dq2;
          v->push_back({LengthCost(l) + QCost(a) + QCost(b), l + a + b, dl, dq1, dq2});
        }
      }
    }
    std::stable_sort(v->begin(), v->end(),
                     [](const HeaderOffset& x, const HeaderOffset& y) { return x.hf < y.hf; });
    return v;
  }();
  return *offsets;
}

uint32_t GroupKey(int lvalue, int q1, int q2) {
  return (static_cast<uint32_t>(lvalue & 255) << 8) | (static_cast<uint32_t>(q1 & 15) << 4) |
         static_cast<uint32_t>(q2 & 15);
}

struct Group {
  std::vector<VpTree> trees;  // sizes strictly decreasing
  std::vector<Item> tail;     // added since the last tree, scanned linearly

  size_t size() const {
    size_t n = tail.size();
    for (const VpTree& t : trees) n += t.items().size();
    return n;
  }

  void Add(Item item) {
    tail.push_back(item);
    if (tail.size() < kTailSize) return;
    std::vector<Item> items = std::move(tail);
    tail.clear();
    while (!trees.empty() && trees.back().items().size() <= items.size()) {
      std::vector<Item>& other = trees.back().mutable_items();
      items.insert(items.end(), other.begin(), other.end());
      trees.pop_back();
    }
    trees.emplace_back(std::move(items));
  }

  void Compact() {
    std::vector<Item> items = std::move(tail);
    tail.clear();
    if (items.size() <= kLeafSize && trees.empty()) {
      tail = std::move(items);
      return;
    }
    for (VpTree& t : trees) items.insert(items.end(), t.items().begin(), t.items().end());
    trees.clear();
    if (!items.empty()) trees.emplace_back(std::move(items));
  }
};

}  // namespace

struct TlshIndex::Impl {
  std::vector<Group> groups;       // 2^16 once the first digest is added (3 MiB)
  std::vector<uint32_t> nonempty;  // group keys in use
  size_t count = 0;
  uint32_t next_seq = 0;

  template <typename Visit>
  void Search(const TlshDigest& q, int radius, Visit&& visit) const {
    if (groups.empty()) return;
    const int l = q.lvalue(), q1 = q.q1(), q2 = q.q2();
    for (const HeaderOffset& o : HeaderOffsets()) {
      if (o.hf > radius) break;
      const Group& g = groups[GroupKey(l + o.dl, q1 + o.dq1, q2 + o.dq2)];
      for (const Item& it : g.tail) {
        int d = TlshDistancePair(q, it.digest, true).full;
        if (d <= radius) radius = visit(it, d);
      }
      for (const VpTree& t : g.trees) t.Search(q, o.hb, o.hf, radius, visit);
    }
  }
};

TlshIndex::TlshIndex() : impl_(std::make_unique<Impl>()) {}
TlshIndex::~TlshIndex() = default;
TlshIndex::TlshIndex(TlshIndex&&) noexcept = default;
TlshIndex& TlshIndex::operator=(TlshIndex&&) noexcept = default;

size_t TlshIndex::size() const { return impl_->count; }

void TlshIndex::Add(const TlshDigest& digest, uint32_t payload) {
  if (impl_->groups.empty()) impl_->groups.resize(1 << 16);
  uint32_t key = GroupKey(digest.lvalue(), digest.q1(), digest.q2());
  Group& g = impl_->groups[key];
  if (g.tail.empty() && g.trees.empty()) impl_->nonempty.push_back(key);
  g.Add(Item{digest, payload, impl_->next_seq++});
  ++impl_->count;
}

void TlshIndex::Compact() {
  for (uint32_t key : impl_->nonempty) impl_->groups[key].Compact();
}

std::vector<TlshNeighbour> TlshIndex::Radius(const TlshDigest& query, int radius) const {
  std::vector<std::pair<std::pair<int, uint32_t>, uint32_t>> found;
  if (radius < 0) return {};
  impl_->Search(query, radius, [&](const Item& it, int d) {
    found.push_back({{d, it.seq}, it.payload});
    return radius;
  });
  std::sort(found.begin(), found.end());
  std::vector<TlshNeighbour> out;
  out.reserve(found.size());
  for (const auto& f : found) out.push_back({f.second, f.first.first});
  return out;
}

std::vector<TlshNeighbour> TlshIndex::TopK(const TlshDigest& query, size_t k,
                                           int max_distance) const {
  if (k == 0 || max_distance < 0) return {};
  using Entry = std::pair<std::pair<int, uint32_t>,
                          uint32_t>;  // ((distance, seq), payload)
  std::priority_queue<Entry> heap;    // worst on top
  impl_->Search(query, max_distance, [&](const Item& it, int d) {
    Entry e{{d, it.seq}, it.payload};
    if (heap.size() < k) {
      heap.push(e);
    } else if (e < heap.top()) {
      heap.pop();
      heap.push(e);
    }
    // Keep visiting equal distances: a later tree may hold an earlier insertion
    // at the k-th distance, so the pruning radius is the k-th distance itself,
    // not one less.
    return heap.size() < k ? max_distance : heap.top().first.first;
  });
  std::vector<TlshNeighbour> out(heap.size());
  for (size_t i = heap.size(); i-- > 0;) {
    out[i] = {heap.top().second, heap.top().first.first};
    heap.pop();
  }
  return out;
}

}  // namespace kinship
