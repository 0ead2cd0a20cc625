// Helpers shared by the scorer, the postings index and campaigns (library-internal).
#ifndef KINSHIP_SCORE_INTERNAL_H_
#define KINSHIP_SCORE_INTERNAL_H_

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kinship/similarity.h"

namespace kinship::score::internal {

// Credit of a parent technique relative to the technique itself.
inline constexpr double kParentStrength = 0.5;

// ATT&CK id of a software (software true) or technique name through the KB; "" when unknown or
// when `kb` is null.
std::string ResolveKbName(const kb::KnowledgeBase* kb, std::string_view name, bool software);

// Family saturation: cap * (1 - exp(-sum / cap)); identity-like for small sums, bounded by cap.
// Inline: ranking a query's candidates saturates every family of each, most of them empty.
inline double Saturate(double sum, double cap) {
  if (sum <= 0) return 0;
  if (cap <= 0) return sum;
  return cap * (1.0 - std::exp(-sum / cap));
}

// Days since 1970-01-01 of an ISO 8601 date or date-time ("2016-04-12", "2016-04-12T10:00Z");
// nullopt when it does not start with a valid YYYY-MM-DD.
std::optional<int32_t> DaysFromIso(std::string_view iso);

// Time evidence of two activity windows (days; nullopt ends unknown): 1 when they overlap,
// falling linearly to 0 at a gap of `window_days`.
double TimeEvidence(std::optional<int32_t> a_first, std::optional<int32_t> a_last,
                    std::optional<int32_t> b_first, std::optional<int32_t> b_last, int window_days);

}  // namespace kinship::score::internal

#endif  // KINSHIP_SCORE_INTERNAL_H_
