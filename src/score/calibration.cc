// Calibration of evidence to a "same actor" probability: a logistic model over the per-family
// evidence (Platt 1999), with non-negative family weights so that more evidence never lowers the
// probability. Family weights play the role of Fellegi-Sunter's per-field m-probabilities.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kinship/similarity.h"
#include "score/internal.h"

namespace kinship::score {

namespace internal {

std::optional<int32_t> DaysFromIso(std::string_view iso) {
  if (iso.size() < 10 || iso[4] != '-' || iso[7] != '-') return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (iso[i] < '0' || iso[i] > '9') return -1;
      v = v * 10 + (iso[i] - '0');
    }
    return v;
  };
  int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

double TimeEvidence(std::optional<int32_t> a_first, std::optional<int32_t> a_last,
                    std::optional<int32_t> b_first, std::optional<int32_t> b_last,
                    int window_days) {
  if (!a_first) a_first = a_last;
  if (!a_last) a_last = a_first;
  if (!b_first) b_first = b_last;
  if (!b_last) b_last = b_first;
  if (!a_first || !b_first || window_days <= 0) return 0;
  int32_t gap = std::max({0, *b_first - *a_last, *a_first - *b_last});
  if (gap >= window_days) return 0;
  return 1.0 - static_cast<double>(gap) / window_days;
}

}  // namespace internal

double Calibration::Raw(const FamilyVector& evidence) const {
  double raw = 0;
  for (int f = 0; f < kFamilyCount; ++f) raw += weight[f] * evidence[f];
  return raw;
}

namespace {
// The range of a fitted pair probability (FitSteps).
constexpr double kMinPairProbability = 0.01;
constexpr double kMaxPairProbability = 0.99;
}  // namespace

double Calibration::Calibrate(double raw) const {
  if (!steps.empty()) return steps.Apply(raw);
  double z = intercept + raw;
  return 1.0 / (1.0 + std::exp(-z));
}

// The steps printed by `kinship eval --only reports` ("pair calibration steps"): isotonic
// regression of "same actor" on the raw score of each development report and its 20 retrieved
// attributed neighbours (24,819 pairs of reports-dev against reports-dev + pivots-dev, every
// report queried from the folds that do not hold its duplicates); 2026-11-30 (one host in
// different roles meets itself: registered domains, URL addresses), docs/evaluation.md. Held out
// (steps fitted on the other folds' pairs) their ECE is 0.009; the hand-set logistic's was 0.061
// (eighth session).
Calibration Calibration::Default() {
  Calibration c;
  c.steps = IsotonicCalibrator::FromSteps(
      {0.606443, 0.930189, 1.032604, 1.130527, 1.132655, 1.147673,  1.180011,  1.197952, 1.198517,
       1.198866, 1.198892, 1.199027, 1.199165, 1.199459, 1.199773,  1.199836,  1.199922, 1.831240,
       2.478512, 3.582916, 4.904685, 5.158528, 5.195704, 12.229720, 19.764834, 20.199989},
      {0.010, 0.014, 0.055, 0.055, 0.062, 0.072, 0.076, 0.082, 0.087, 0.094, 0.116, 0.121, 0.131,
       0.145, 0.146, 0.184, 0.186, 0.190, 0.250, 0.442, 0.504, 0.636, 0.701, 0.767, 0.844, 0.990});
  return c;
}

absl::StatusOr<Calibration> FitSteps(const std::vector<double>& raw,
                                     const std::vector<int>& same_actor, const Calibration& base) {
  if (raw.size() != same_actor.size()) {
    return absl::InvalidArgumentError("pair calibration: as many labels as scores needed");
  }
  const auto positives =
      std::count_if(same_actor.begin(), same_actor.end(), [](int y) { return y != 0; });
  if (positives == 0 || static_cast<size_t>(positives) == same_actor.size()) {
    return absl::InvalidArgumentError("pair calibration needs same-actor and other-actor pairs");
  }
  const IsotonicCalibrator fitted = IsotonicCalibrator::Fit(raw, same_actor);
  std::vector<double> ys = fitted.ys();
  for (double& y : ys) y = std::clamp(y, kMinPairProbability, kMaxPairProbability);
  Calibration c = base;
  c.steps = IsotonicCalibrator::FromSteps(fitted.xs(), std::move(ys));
  return c;
}

namespace {

// Solves A x = b (n x n, row-major) by Gaussian elimination with partial pivoting; false when
// singular.
bool Solve(std::vector<double> a, std::vector<double> b, int n, std::vector<double>* x) {
  for (int c = 0; c < n; ++c) {
    int p = c;
    for (int r = c + 1; r < n; ++r) {
      if (std::abs(a[r * n + c]) > std::abs(a[p * n + c])) p = r;
    }
    if (std::abs(a[p * n + c]) < 1e-12) return false;
    if (p != c) {
      for (int k = 0; k < n; ++k) std::swap(a[p * n + k], a[c * n + k]);
      std::swap(b[p], b[c]);
    }
    for (int r = c + 1; r < n; ++r) {
      double f = a[r * n + c] / a[c * n + c];
      for (int k = c; k < n; ++k) a[r * n + k] -= f * a[c * n + k];
      b[r] -= f * b[c];
    }
  }
  x->assign(n, 0);
  for (int r = n - 1; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < n; ++k) s -= a[r * n + k] * (*x)[k];
    (*x)[r] = s / a[r * n + r];
  }
  return true;
}

// L2-regularised logistic regression by Newton-Raphson (IRLS) over the families in `active`
// plus an intercept (not regularised).
std::vector<double> Irls(const std::vector<LabelledPair>& pairs, const std::vector<int>& active,
                         double l2) {
  const int n = static_cast<int>(active.size()) + 1;  // last = intercept
  std::vector<double> beta(n, 0.0);
  for (int iter = 0; iter < 50; ++iter) {
    std::vector<double> grad(n, 0.0), hess(n * n, 0.0), x(n, 1.0);
    for (const LabelledPair& p : pairs) {
      for (size_t i = 0; i < active.size(); ++i) x[i] = p.evidence[active[i]];
      x[n - 1] = 1.0;
      double z = 0;
      for (int i = 0; i < n; ++i) z += beta[i] * x[i];
      double mu = 1.0 / (1.0 + std::exp(-z));
      double w = std::max(mu * (1 - mu), 1e-9);
      double r = (p.same_actor ? 1.0 : 0.0) - mu;
      for (int i = 0; i < n; ++i) {
        grad[i] += r * x[i];
        for (int k = 0; k < n; ++k) hess[i * n + k] += w * x[i] * x[k];
      }
    }
    for (int i = 0; i + 1 < n; ++i) {
      grad[i] -= l2 * pairs.size() * beta[i];
      hess[i * n + i] += l2 * pairs.size();
    }
    hess[(n - 1) * n + (n - 1)] += 1e-9;
    std::vector<double> step;
    if (!Solve(hess, grad, n, &step)) break;
    double change = 0;
    for (int i = 0; i < n; ++i) {
      // Damped steps keep separable data from running off to infinity in one iteration.
      double s = std::clamp(step[i], -5.0, 5.0);
      beta[i] += s;
      change = std::max(change, std::abs(s));
    }
    if (change < 1e-8) break;
  }
  return beta;
}

}  // namespace

absl::StatusOr<Calibration> Fit(const std::vector<LabelledPair>& pairs, double l2) {
  size_t pos = 0;
  for (const LabelledPair& p : pairs) pos += p.same_actor ? 1 : 0;
  if (pos == 0 || pos == pairs.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calibration needs positive and negative pairs; got ", pos, " positive of ", pairs.size()));
  }
  if (l2 < 0) return absl::InvalidArgumentError("calibration l2 must be >= 0");
  // Active-set fit: a family whose weight comes out negative is dropped (weight 0) and the rest
  // refitted, so the result stays monotone.
  std::vector<int> active;
  for (int f = 0; f < kFamilyCount; ++f) {
    bool any = false;
    for (const LabelledPair& p : pairs) any = any || p.evidence[f] != 0;
    if (any) active.push_back(f);
  }
  std::vector<double> beta;
  while (true) {
    beta = Irls(pairs, active, std::max(l2, 1e-6));
    int worst = -1;
    for (size_t i = 0; i < active.size(); ++i) {
      if (beta[i] < 0 && (worst < 0 || beta[i] < beta[worst])) worst = static_cast<int>(i);
    }
    if (worst < 0) break;
    active.erase(active.begin() + worst);
  }
  Calibration c;
  c.weight.fill(0);
  for (size_t i = 0; i < active.size(); ++i) c.weight[active[i]] = beta[i];
  c.intercept = beta.back();
  return c;
}

std::vector<LabelledPair> LabelledPairsFromIndex(const SimilarityIndex& index, size_t top_k,
                                                 size_t stride) {
  std::vector<LabelledPair> pairs;
  if (stride == 0) stride = 1;
  size_t attributed = 0;
  for (const std::string& id : index.Ids()) {
    const std::vector<std::string> actors = index.StatedActors(id);
    if (actors.empty() || actors.front().empty()) continue;
    if (attributed++ % stride != 0) continue;
    auto matches = index.Similar(id, top_k * 4);
    if (!matches.ok()) continue;
    size_t used = 0;
    for (const Match& m : *matches) {
      if (used >= top_k) break;
      const std::vector<std::string> other = index.StatedActors(m.id);
      if (other.empty() || other.front().empty()) continue;
      ++used;
      pairs.push_back({m.comparison.evidence, other.front() == actors.front()});
    }
  }
  return pairs;
}

std::string Explanation::ToString(size_t max_items_per_family) const {
  std::string out;
  for (const FamilyEvidence& f : families) {
    absl::StrAppend(&out, AV(FamilyName(f.family)), " ", absl::StrFormat("%.2f", f.weight), ":");
    for (size_t i = 0; i < f.items.size() && i < max_items_per_family; ++i) {
      absl::StrAppend(&out, i == 0 ? " " : ", ", f.items[i].feature,
                      f.items[i].name.empty() ? "" : " ", f.items[i].name,
                      absl::StrFormat(" (%.2f)", f.items[i].weight));
    }
    if (f.items.size() > max_items_per_family) {
      absl::StrAppend(&out, ", +", f.items.size() - max_items_per_family, " more");
    }
    out.push_back('\n');
  }
  if (over_correlating > 0) absl::StrAppend(&out, "not counted: ", OverCorrelatingText(), "\n");
  return out;
}

std::string Explanation::OverCorrelatingText() const {
  if (over_correlating == 0) return "";
  std::string out =
      absl::StrCat(over_correlating, " over-correlating value", over_correlating == 1 ? "" : "s",
                   " (each held by more than ", over_correlation_limit,
                   over_correlation_limit == 1 ? " incident): " : " incidents): ",
                   absl::StrJoin(over_correlating_examples, ", "));
  if (over_correlating > over_correlating_examples.size()) {
    absl::StrAppend(&out, " +", over_correlating - over_correlating_examples.size(), " more");
  }
  return out;
}

}  // namespace kinship::score
