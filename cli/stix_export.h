// kinship's answers as a STIX 2.1 bundle (`kinship attribute --stix`, `kinship campaigns
// --stix`, `kinship similar --stix`, `kinship compare --stix`), for a MISP or OpenCTI instance
// to import: each incident an `incident`, each answered actor an `intrusion-set` and an
// `attributed-to` relationship whose `confidence` is its probability on STIX's 0-100 scale, each
// campaign a `campaign` its members are `related-to`, each similar (or compared) incident
// `related-to` the one asked about (`confidence`: the pair's probability of one actor), and one
// `note` per attribution with the ranking, the confidence level and the abstention, in separate
// sentences (ICD 203 keeps likelihood and confidence apart).
#ifndef KINSHIP_CLI_STIX_EXPORT_H_
#define KINSHIP_CLI_STIX_EXPORT_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "kinship/attribution.h"
#include "kinship/kb.h"
#include "kinship/model.h"
#include "kinship/similarity.h"
#include "nlohmann/json.hpp"

namespace kinship::cli {

// The media type of a STIX 2.1 bundle (as TAXII 2.1 names it): `kinship serve`'s answers with
// stix=true.
inline constexpr char kStixMediaType[] = "application/stix+json;version=2.1";

class StixExport {
 public:
  // `kb` (may be null) gives the actors' aliases and ATT&CK ids; `now` is every object's
  // created/modified time ("2026-12-01T15:04:05.000Z") and part of every identifier but the
  // producer's, so two exports never give one object two contents.
  StixExport(const kb::KnowledgeBase* kb, std::string now);

  // One incident's result (its candidates named, as the CLI shows them).
  void Add(const Incident& incident, const attrib::Result& result);

  // One campaign of `kinship campaigns`: a `campaign` (span, cohesion, what binds it), each
  // member an `incident` `related-to` it (`titles` by member, may be short), and with
  // `assessed` the campaign's own attribution as Add gives an incident's.
  void AddCampaign(const score::Campaign& campaign, const std::vector<std::string>& titles,
                   const attrib::Result* assessed);
  // One `similar` answer: `query` an `incident`, each of `matches` an `incident` (`title` gives
  // a stored incident's title by id, "" when unknown) `related-to` by it, the relationship's
  // `confidence` the pair's probability of one actor and its `description` the shared evidence.
  void AddSimilar(const Incident& query, const std::vector<score::Match>& matches,
                  const std::function<std::string(const std::string&)>& title);

  // One `compare` answer: `a` and the stored incident `b` (titled `b_title`, "" when unknown) as
  // `incident`s, `a` `related-to` `b` as a match of AddSimilar is to its query, whatever the
  // probability (a low `confidence` says the two are unlikely to be one actor's).
  void AddComparison(const Incident& a, const std::string& b, const std::string& b_title,
                     const score::Comparison& comparison);

  // Every one of `campaigns` by AddCampaign, in order: `assessed` has one result per campaign
  // (null without attribution), `title` gives a member's title by id ("" when unknown).
  void AddCampaigns(const std::vector<score::Campaign>& campaigns,
                    const std::vector<attrib::Result>* assessed,
                    const std::function<std::string(const std::string&)>& title);

  nlohmann::json Bundle() const;

  // The current UTC time in STIX's form, to the millisecond.
  static std::string Now();

  // --stix and --json are two outputs of one command: kInvalidArgument when both are asked.
  static absl::Status NotWithJson(bool json);

 private:
  // Adds an object of `type` that kinship makes now, with `fields`, identified by `key`;
  // returns its identifier.
  std::string Emit(std::string_view type, const std::string& key, nlohmann::json fields);
  // The intrusion set of the candidate's actor, added the first time.
  std::string ActorRef(const attrib::Candidate& c);
  // An `incident` for the store's incident `store_id`; returns its identifier.
  std::string NewIncident(const std::string& key, const std::string& store_id,
                          const std::string& title);
  // The `attributed-to` relationship from `source_ref` to the answered actor; "" when `r`
  // abstained (nothing is asserted then).
  std::string AttributedTo(const std::string& key, const std::string& source_ref,
                           const attrib::Result& r);
  // The `related-to` relationship `key` of a scored pair: `confidence` its probability x 100, the
  // description `lead`, the probability with its ICD 203 term and the shared evidence.
  void RelatedTo(const std::string& key, const std::string& source_ref,
                 const std::string& target_ref, const score::Comparison& c,
                 const std::string& lead);
  // The note on `refs`: `lines`, then the ranking and the confidence level.
  void Note(const std::string& key, const std::string& abstract, std::vector<std::string> lines,
            const attrib::Result& r, nlohmann::json refs);

  const kb::KnowledgeBase* kb_;
  std::string now_;
  std::string identity_;
  nlohmann::json objects_ = nlohmann::json::array();
  std::vector<std::string> actors_;  // actor ids given an intrusion-set already
  size_t results_ = 0;               // results added so far
};

}  // namespace kinship::cli

#endif  // KINSHIP_CLI_STIX_EXPORT_H_
