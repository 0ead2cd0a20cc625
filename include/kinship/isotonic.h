// Isotonic regression as a calibration map, shared by the similarity engine's "same actor"
// probability (score::Calibration) and attribution's second stage (attrib::Model).
#ifndef KINSHIP_ISOTONIC_H_
#define KINSHIP_ISOTONIC_H_

#include <vector>

namespace kinship {

// Isotonic regression (pool-adjacent-violators, Barlow et al. 1972) of labels on scores: a
// monotone step map usable as a second-stage calibration. Apply() interpolates between steps.
class IsotonicCalibrator {
 public:
  static IsotonicCalibrator Fit(const std::vector<double>& scores, const std::vector<int>& y);
  // From fitted steps (x ascending, y non-decreasing), e.g. constants printed by `kinship eval`.
  static IsotonicCalibrator FromSteps(std::vector<double> xs, std::vector<double> ys);
  double Apply(double score) const;  // identity when empty
  bool empty() const { return xs_.empty(); }
  const std::vector<double>& xs() const { return xs_; }
  const std::vector<double>& ys() const { return ys_; }

 private:
  std::vector<double> xs_, ys_;
};

}  // namespace kinship

#endif  // KINSHIP_ISOTONIC_H_
