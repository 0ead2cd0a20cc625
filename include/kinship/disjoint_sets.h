// Disjoint sets (union-find with path halving) over 0..n-1, for connected components: single
// linkage of campaigns and the exact-correlation baseline of `kinship eval`. Written by hand:
// a dozen lines, and Debian 12's Boost graph library would be a large dependency for them.
#ifndef KINSHIP_DISJOINT_SETS_H_
#define KINSHIP_DISJOINT_SETS_H_

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

namespace kinship::util {

class DisjointSets {
 public:
  explicit DisjointSets(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }

  // The representative of x's set: its smallest element.
  size_t Find(size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }

  void Union(size_t a, size_t b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<size_t> parent_;
};

}  // namespace kinship::util

#endif  // KINSHIP_DISJOINT_SETS_H_
