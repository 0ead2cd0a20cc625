// Calibration: the logistic model over per-actor features (fitted by IRLS) and isotonic regression.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kinship/attribution.h"

namespace kinship::attrib {

std::array<double, kModelInputs> ModelInputs(const ActorFeatures& f) {
  return {1.0, f.neighbour, f.best_neighbour, f.profile, f.share, f.margin};
}

// Weights and isotonic steps printed by `kinship eval --only reports` (neighbours from the
// similarity engine; logistic fitted on the out-of-fold features of all 5 grouped folds of
// reports-dev + pivots-dev, 2026-11-28; see docs/evaluation.md).
Model Model::Default() {
  Model m;
  m.weights = {-4.370, 6.919, -4.871, 0.227, 4.104, 1.342};
  m.second_stage = IsotonicCalibrator::FromSteps(
      {0.015, 0.039, 0.050, 0.053, 0.054, 0.055, 0.057, 0.060, 0.065, 0.068, 0.078,
       0.139, 0.202, 0.232, 0.358, 0.489, 0.561, 0.652, 0.749, 0.887, 0.973, 0.986},
      {0.000, 0.036, 0.093, 0.100, 0.101, 0.130, 0.130, 0.159, 0.246, 0.250, 0.343,
       0.373, 0.375, 0.409, 0.471, 0.474, 0.528, 0.586, 0.622, 0.914, 0.917, 1.000});
  m.abstain_below = 0.5;
  return m;
}

double Model::Probability(const ActorFeatures& f) const {
  const auto x = ModelInputs(f);
  double z = 0;
  for (int i = 0; i < kModelInputs; ++i) z += weights[i] * x[i];
  return 1 / (1 + std::exp(-z));
}

// Newton-Raphson / iteratively reweighted least squares for L2-penalised logistic regression.
// Hand-written: six parameters, no Debian C++ package offers a small dependency-free fitter.
Model FitModel(const std::vector<ActorFeatures>& x, const std::vector<int>& y, Model start) {
  const size_t n = std::min(x.size(), y.size());
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) pos += y[i] != 0;
  if (pos == 0 || pos == n) return start;
  constexpr int k = kModelInputs;
  constexpr double kL2 = 1e-2;
  std::array<double, k> w = start.weights;
  for (int iter = 0; iter < 50; ++iter) {
    double h[k][k] = {};
    double g[k] = {};
    for (size_t i = 0; i < n; ++i) {
      const auto xi = ModelInputs(x[i]);
      double z = 0;
      for (int a = 0; a < k; ++a) z += w[a] * xi[a];
      const double p = 1 / (1 + std::exp(-z));
      const double r = p * (1 - p);
      for (int a = 0; a < k; ++a) {
        g[a] += (p - (y[i] != 0 ? 1.0 : 0.0)) * xi[a];
        for (int b = 0; b < k; ++b) h[a][b] += r * xi[a] * xi[b];
      }
    }
    for (int a = 1; a < k; ++a) {  // no penalty on the bias
      g[a] += kL2 * w[a];
      h[a][a] += kL2;
    }
    h[0][0] += 1e-9;
    // Solve h * step = g by Gaussian elimination with partial pivoting.
    double step[k];
    for (int a = 0; a < k; ++a) step[a] = g[a];
    for (int c = 0; c < k; ++c) {
      int piv = c;
      for (int r = c + 1; r < k; ++r) {
        if (std::fabs(h[r][c]) > std::fabs(h[piv][c])) piv = r;
      }
      if (std::fabs(h[piv][c]) < 1e-12) return start;
      std::swap(h[c], h[piv]);
      std::swap(step[c], step[piv]);
      for (int r = c + 1; r < k; ++r) {
        const double f = h[r][c] / h[c][c];
        for (int b = c; b < k; ++b) h[r][b] -= f * h[c][b];
        step[r] -= f * step[c];
      }
    }
    for (int c = k - 1; c >= 0; --c) {
      for (int b = c + 1; b < k; ++b) step[c] -= h[c][b] * step[b];
      step[c] /= h[c][c];
    }
    double change = 0;
    for (int a = 0; a < k; ++a) {
      w[a] -= step[a];
      change = std::max(change, std::fabs(step[a]));
    }
    if (change < 1e-8) break;
  }
  Model out = start;
  out.weights = w;
  return out;
}

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
  for (const auto& [s, label] : v) {
    blocks.push_back({static_cast<double>(label), 1, s, s});
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

}  // namespace kinship::attrib
