// ICD 203 likelihood terms, confidence names and evidence family names.
#include <algorithm>

#include "kinship/attribution.h"

namespace kinship::attrib {

// ICD 203 (Analytic Standards, 2015), section D.6.e(2)(a): seven terms with fixed ranges. The
// band edges are assigned to the more central term so that 0.5 is "roughly even chance".
std::string_view LikelihoodTerm(double probability) {
  const double p = std::clamp(probability, 0.0, 1.0);
  if (p < 0.05) return "almost no chance";
  if (p < 0.20) return "very unlikely";
  if (p < 0.45) return "unlikely";
  if (p <= 0.55) return "roughly even chance";
  if (p <= 0.80) return "likely";
  if (p <= 0.95) return "very likely";
  return "almost certain";
}

std::string_view ConfidenceName(Confidence c) {
  switch (c) {
    case Confidence::kLow:
      return "low";
    case Confidence::kModerate:
      return "moderate";
    case Confidence::kHigh:
      return "high";
  }
  return "low";
}

std::string_view FamilyName(Family f) {
  switch (f) {
    case Family::kIndicator:
      return "indicator";
    case Family::kInfrastructure:
      return "infrastructure";
    case Family::kBehaviour:
      return "behaviour";
    case Family::kSoftware:
      return "software";
    case Family::kNaming:
      return "naming";
    case Family::kContext:
      return "context";
    case Family::kProfileTechniques:
      return "profile-techniques";
    case Family::kProfileSoftware:
      return "profile-software";
  }
  return "indicator";
}

}  // namespace kinship::attrib
