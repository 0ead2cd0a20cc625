// MISP tags and galaxy clusters -> marking, stated attribution, techniques, software and victim.
// A cluster reaches an event either as a Galaxy block (Galaxy[].GalaxyCluster[]) or as a tag
// `misp-galaxy:<galaxy type>="<cluster value>"`; both go through ApplyGalaxyCluster, and the
// results are de-duplicated, so an event carrying both counts each cluster once.
#ifndef KINSHIP_INGEST_MISP_MISP_GALAXY_H_
#define KINSHIP_INGEST_MISP_MISP_GALAXY_H_

#include <string>
#include <string_view>
#include <utility>

#include "kinship/model.h"

namespace kinship::ingest::internal {

// Splits an ATT&CK-style cluster value "Spearphishing Link - T1566.002" into its name and id
// ("Spearphishing Link", "T1566.002"). `letter` is the id's prefix (T, S, G). The id is empty when
// the value has no such suffix; the name is then the whole value.
std::pair<std::string, std::string> SplitAttackId(std::string_view value, char letter);

// Applies one cluster of galaxy `galaxy_type` to `incident`. `external_id` is the cluster's ATT&CK
// id when its meta gives one (may be empty). Unknown galaxy types are ignored. `location` (the
// cluster's or tag's JSON path) becomes the location of the technique, software or attribution.
void ApplyGalaxyCluster(std::string_view galaxy_type, std::string_view value,
                        std::string_view external_id, Incident& incident,
                        std::string_view location = "");

// Applies one tag name. `event_level` tags also set the TLP marking (strictest wins) and are
// recorded in incident.tags; attribute tags contribute galaxy clusters only.
void ApplyTag(std::string_view tag, bool event_level, Incident& incident,
              std::string_view location = "");

// An event tag `estimative-language:likelihood-probability="likely"` states how probable the
// event's assessment is (ICD 203 terms). Gives each attribution without a confidence the middle of
// that term's range ("likely", 55-80 %, -> 67). Analytic-confidence tags are not a probability
// (ICD 203 keeps the two apart) and are not used. Call after all tags are applied.
void ApplyStatedLikelihood(Incident& incident);

}  // namespace kinship::ingest::internal

#endif  // KINSHIP_INGEST_MISP_MISP_GALAXY_H_
