// Isotonic regression for calibration (kinship/isotonic.h).
#include "kinship/isotonic.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace kinship {

// Pool-adjacent-violators (Barlow et al. 1972; Zadrozny & Elkan 2002 for calibration).
IsotonicCalibrator IsotonicCalibrator::Fit(const std::vector<double>& scores,
                                           const std::vector<int>& y) {
  IsotonicCalibrator c;
  const size_t n = std::min(scores.size(), y.size());
  std::vector<std::pair<double, int>> v;
  for (size_t i = 0; i < n; ++i) v.emplace_back(scores[i], y[i] != 0);
  std::sort(v.begin(), v.end());
  struct Block {
    double sum, count, x_lo, x_hi;
  };
  std::vector<Block> blocks;
  for (size_t i = 0; i < v.size();) {
    // Equal scores are one block from the start: the map cannot tell them apart, and sorting
    // them by label would otherwise make a step inside one score.
    const double s = v[i].first;
    Block block{0, 0, s, s};
    for (; i < v.size() && v[i].first == s; ++i) {
      block.sum += v[i].second;
      block.count += 1;
    }
    blocks.push_back(block);
    while (blocks.size() > 1) {
      Block& b = blocks.back();
      Block& a = blocks[blocks.size() - 2];
      if (a.sum / a.count < b.sum / b.count) break;
      a.sum += b.sum;
      a.count += b.count;
      a.x_hi = b.x_hi;
      blocks.pop_back();
    }
  }
  for (const Block& b : blocks) {
    c.xs_.push_back((b.x_lo + b.x_hi) / 2);
    c.ys_.push_back(b.sum / b.count);
  }
  return c;
}

IsotonicCalibrator IsotonicCalibrator::FromSteps(std::vector<double> xs, std::vector<double> ys) {
  IsotonicCalibrator c;
  if (xs.size() != ys.size()) return c;
  c.xs_ = std::move(xs);
  c.ys_ = std::move(ys);
  return c;
}

double IsotonicCalibrator::Apply(double score) const {
  if (xs_.empty()) return score;
  if (score <= xs_.front()) return ys_.front();
  if (score >= xs_.back()) return ys_.back();
  const size_t i = std::upper_bound(xs_.begin(), xs_.end(), score) - xs_.begin();
  const double t = (score - xs_[i - 1]) / (xs_[i] - xs_[i - 1]);
  return ys_[i - 1] + t * (ys_[i] - ys_[i - 1]);
}

}  // namespace kinship
