// kinship's attributions as a STIX 2.1 bundle (`kinship attribute --stix`), for a MISP or OpenCTI
// instance to import: each incident an `incident`, each candidate actor an `intrusion-set`, each
// answered candidate an `attributed-to` relationship whose `confidence` is its probability on
// STIX's 0-100 scale, and one `note` per incident with the ranking, the confidence level and the
// abstention, in separate sentences (ICD 203 keeps likelihood and confidence apart).
#ifndef KINSHIP_CLI_STIX_EXPORT_H_
#define KINSHIP_CLI_STIX_EXPORT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "kinship/attribution.h"
#include "kinship/kb.h"
#include "kinship/model.h"
#include "nlohmann/json.hpp"

namespace kinship::cli {

class StixExport {
 public:
  // `kb` (may be null) gives the actors' aliases and ATT&CK ids; `now` is every object's
  // created/modified time ("2026-12-01T15:04:05.000Z") and part of every identifier but the
  // producer's, so two exports never give one object two contents.
  StixExport(const kb::KnowledgeBase* kb, std::string now);

  // One incident's result (its candidates named, as the CLI shows them).
  void Add(const Incident& incident, const attrib::Result& result);

  nlohmann::json Bundle() const;

  // The current UTC time in STIX's form, to the millisecond.
  static std::string Now();

 private:
  std::string ActorRef(const attrib::Candidate& c);

  const kb::KnowledgeBase* kb_;
  std::string now_;
  std::string identity_;
  nlohmann::json objects_ = nlohmann::json::array();
  std::vector<std::string> actors_;  // actor ids given an intrusion-set already
  size_t results_ = 0;               // results added so far
};

}  // namespace kinship::cli

#endif  // KINSHIP_CLI_STIX_EXPORT_H_
