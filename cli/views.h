// The JSON forms of what the commands answer (`--json`), built in one place so that the CLI and
// the HTTP server (`kinship serve`) give the same objects.
#ifndef KINSHIP_CLI_VIEWS_H_
#define KINSHIP_CLI_VIEWS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kinship/model.h"
#include "kinship/similarity.h"
#include "kinship/store.h"

namespace kinship::cli {

// `kinship show --json`: the incident with its canonical indicators, techniques, software,
// stated attributions and actor mentions.
nlohmann::json IncidentJson(const Incident& inc);

// A value as `kinship pivot` reads it: refanged, typed (`type` names it, or "" to detect), and
// canonicalised. Errors: kInvalidArgument naming the value.
struct PivotValue {
  IndicatorType type;
  std::string canonical;
};
absl::StatusOr<PivotValue> ParsePivotValue(const std::string& value, const std::string& type);
// `kinship pivot --json`: the value, its warninglists and the incidents holding it.
nlohmann::json PivotJson(const PivotValue& v, const Store::ValueHolders& h);

// Shared evidence grouped by family, strongest first, each item with its weight and df.
nlohmann::json ExplanationJson(const score::Explanation& e);
// `kinship similar --json`.
nlohmann::json SimilarJson(const score::SimilarityIndex& index, const std::string& id,
                           const std::vector<score::Match>& matches);
// `kinship compare --json`.
nlohmann::json CompareJson(const std::string& a, const std::string& b, const score::Comparison& c);

}  // namespace kinship::cli

#endif  // KINSHIP_CLI_VIEWS_H_
