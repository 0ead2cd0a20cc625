// Evaluation metrics for attribution: accuracy, precision at coverage, macro-F1, abstention on
// unknown actors, Brier score and expected calibration error.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kinship/attribution.h"

namespace kinship::attrib::metrics {
namespace {

// Correct at rank 1 (ignoring abstention), and the top probability.
std::pair<bool, double> Top(const Answer& a) {
  if (a.ranked.empty()) return {false, 0.0};
  return {a.ranked[0].first == a.truth, a.ranked[0].second};
}

// Brier score and expected calibration error (10 equal-width bins) of (probability, correct).
std::pair<double, double> BrierAndEce(const std::vector<std::pair<double, int>>& py) {
  if (py.empty()) return {0, 0};
  constexpr int kBins = 10;
  double bin_p[kBins] = {}, bin_y[kBins] = {}, bin_n[kBins] = {};
  double brier = 0;
  for (const auto& [p, y] : py) {
    brier += (p - y) * (p - y);
    const int b = std::min(kBins - 1, static_cast<int>(p * kBins));
    bin_p[b] += p;
    bin_y[b] += y;
    bin_n[b] += 1;
  }
  const double n = static_cast<double>(py.size());
  double ece = 0;
  for (int b = 0; b < kBins; ++b) {
    if (bin_n[b] > 0) ece += bin_n[b] / n * std::fabs(bin_p[b] / bin_n[b] - bin_y[b] / bin_n[b]);
  }
  return {brier / n, ece};
}

}  // namespace

Reliability Measure(const std::vector<std::pair<double, int>>& probability_outcome) {
  Reliability r;
  r.n = probability_outcome.size();
  if (r.n == 0) return r;
  for (const auto& [p, y] : probability_outcome) {
    r.mean_probability += p;
    r.positive_rate += y;
  }
  r.mean_probability /= static_cast<double>(r.n);
  r.positive_rate /= static_cast<double>(r.n);
  std::tie(r.brier, r.ece) = BrierAndEce(probability_outcome);
  return r;
}

Summary Summarize(const std::vector<Answer>& answers) {
  Summary s;
  std::vector<std::pair<double, int>> all;
  for (const Answer& a : answers) {
    const auto [correct, p] = Top(a);
    all.emplace_back(p, correct ? 1 : 0);
    s.top1_all += correct && !a.abstained;
  }
  s.all_queries = answers.size();
  if (!answers.empty()) s.top1_all /= static_cast<double>(answers.size());
  std::tie(s.brier_all, s.ece_all) = BrierAndEce(all);
  std::vector<const Answer*> known;
  size_t unknown_abstained = 0;
  for (const Answer& a : answers) {
    if (a.truth_known) {
      known.push_back(&a);
    } else {
      ++s.unknown_queries;
      if (a.abstained || a.ranked.empty()) ++unknown_abstained;
    }
  }
  s.queries = known.size();
  if (s.unknown_queries > 0) s.abstain_unknown = double(unknown_abstained) / s.unknown_queries;
  if (known.empty()) return s;

  // Per query: correct at rank 1 (not abstained), rank of truth, top probability.
  std::vector<std::pair<double, int>> by_prob;      // (p_top, correct top-1 ignoring abstention)
  std::map<std::string, std::array<double, 3>> f1;  // actor -> tp, fp, fn
  size_t answered = 0, answered_correct = 0;
  for (const Answer* a : known) {
    const bool answer = !a->abstained && !a->ranked.empty();
    size_t rank = 0;
    for (size_t i = 0; i < a->ranked.size(); ++i) {
      if (a->ranked[i].first == a->truth) {
        rank = i + 1;
        break;
      }
    }
    const bool correct1 = rank == 1;
    if (answer) {
      ++answered;
      answered_correct += correct1;
      s.top1 += correct1;
      s.top3 += rank >= 1 && rank <= 3;
      if (rank > 0) s.mrr += 1.0 / rank;
      f1[a->ranked[0].first][correct1 ? 0 : 1] += 1;
      if (!correct1) f1[a->truth][2] += 1;
    } else {
      f1[a->truth][2] += 1;
    }
    by_prob.emplace_back(Top(*a).second, correct1 ? 1 : 0);
  }
  std::tie(s.brier, s.ece) = BrierAndEce(by_prob);
  const double n = static_cast<double>(known.size());
  s.top1 /= n;
  s.top3 /= n;
  s.mrr /= n;
  s.answered = answered / n;
  s.precision_answered = answered > 0 ? double(answered_correct) / answered : 0;
  std::stable_sort(by_prob.begin(), by_prob.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  const double coverage[3] = {0.10, 0.30, 0.50};
  for (int c = 0; c < 3; ++c) {
    const size_t k = std::max<size_t>(1, static_cast<size_t>(std::ceil(coverage[c] * n)));
    double correct = 0;
    for (size_t i = 0; i < k && i < by_prob.size(); ++i) correct += by_prob[i].second;
    s.precision_at[c] = correct / k;
  }
  // Macro-F1 over the actors that appear as truth.
  double sum_f1 = 0;
  size_t actors = 0;
  for (const auto& [actor, c] : f1) {
    const double tp = c[0], fp = c[1], fn = c[2];
    if (tp + fn == 0) continue;  // predicted but never the truth: counted in others' fp only
    ++actors;
    if (tp > 0) sum_f1 += 2 * tp / (2 * tp + fp + fn);
  }
  s.macro_f1 = actors > 0 ? sum_f1 / actors : 0;
  return s;
}

}  // namespace kinship::attrib::metrics
