// kinship's answers as a STIX 2.1 bundle (`kinship attribute --stix`, `kinship campaigns
// --stix`, `kinship similar --stix`, `kinship compare --stix`), for a MISP or OpenCTI instance
// to import: each incident an `incident`, each answered actor an `intrusion-set` and an
// `attributed-to` relationship whose `confidence` is its probability on STIX's 0-100 scale, each
// campaign a `campaign` its members are `related-to`, each similar (or compared) incident
// `related-to` the one asked about (`confidence`: the pair's probability of one actor), and one
// `note` per attribution with the ranking, the confidence level and the abstention, in separate
// sentences (ICD 203 keeps likelihood and confidence apart).
//
// Objects about stored incidents are versioned, as STIX 2.1 versions an object (section 3.6): a
// stored incident's `incident`, its attribution `note`, its `attributed-to` an actor and its
// `related-to` another stored incident keep one identifier and one `created` (the time the store
// first held the incident, Provenance::first_stored) from export to export, and each export is a
// new version (`modified` the export's time), so that a consumer importing two exports updates
// these objects instead of holding them twice. An actor's `intrusion-set` is one object in every
// export. Incidents that are not stored (`--file`, a posted incident) and campaigns, which have no
// lasting identity, are new objects in each export.
#ifndef KINSHIP_CLI_STIX_EXPORT_H_
#define KINSHIP_CLI_STIX_EXPORT_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "kinship/attribution.h"
#include "kinship/kb.h"
#include "kinship/model.h"
#include "kinship/similarity.h"
#include "nlohmann/json.hpp"

namespace kinship::cli {

// How an export names a stored incident it holds by id: its title and Provenance::first_stored
// ("" for both when the incident cannot be read; it is then exported as an unstored one).
struct StoredName {
  std::string title;
  std::string first_stored;
};
using StoredNameReader = std::function<StoredName(const std::string& id)>;

// The media type of a STIX 2.1 bundle (as TAXII 2.1 names it): `kinship serve`'s answers with
// stix=true.
inline constexpr char kStixMediaType[] = "application/stix+json;version=2.1";

class StixExport {
 public:
  // `kb` (may be null) gives the actors' aliases and ATT&CK ids; `now` is every object's
  // `modified` time ("2026-12-01T15:04:05.000Z"), the `created` of the objects made anew in each
  // export, and part of their identifiers, so that two exports never give one version of an
  // object two contents.
  StixExport(const kb::KnowledgeBase* kb, std::string now);

  // One incident's result (its candidates named, as the CLI shows them).
  void Add(const Incident& incident, const attrib::Result& result);

  // One campaign of `kinship campaigns`: a `campaign` (span, cohesion, what binds it), each
  // member an `incident` `related-to` it (`names` by member, may be short), and with
  // `assessed` the campaign's own attribution as Add gives an incident's.
  void AddCampaign(const score::Campaign& campaign, const std::vector<StoredName>& names,
                   const attrib::Result* assessed);
  // One `similar` answer: `query` an `incident`, each of `matches` an `incident` (named by
  // `name`) `related-to` by it, the relationship's `confidence` the pair's probability of one
  // actor and its `description` the shared evidence.
  void AddSimilar(const Incident& query, const std::vector<score::Match>& matches,
                  const StoredNameReader& name);

  // One `compare` answer: `a` and the stored incident `b` (named `b_name`) as `incident`s, `a`
  // `related-to` `b` as a match of AddSimilar is to its query (one object when both are stored),
  // whatever the probability (a low `confidence` says the two are unlikely to be one actor's).
  void AddComparison(const Incident& a, const std::string& b, const StoredName& b_name,
                     const score::Comparison& comparison);

  // Every one of `campaigns` by AddCampaign, in order: `assessed` has one result per campaign
  // (null without attribution), `name` names a member by id.
  void AddCampaigns(const std::vector<score::Campaign>& campaigns,
                    const std::vector<attrib::Result>* assessed, const StoredNameReader& name);

  nlohmann::json Bundle() const;

  // The current UTC time in STIX's form, to the millisecond.
  static std::string Now();

  // --stix and --json are two outputs of one command: kInvalidArgument when both are asked.
  static absl::Status NotWithJson(bool json);

 private:
  // What the objects about one incident (or campaign) are keyed by, and their `created`: for a
  // stored incident its id and first-stored time, the same in every export; else the export's
  // time and the result's place in it, new in each.
  struct Subject {
    std::string key;
    std::string created;
  };
  // The subject of incident `id`, stored first at `first_stored` ("": not stored; `fresh` then
  // tells it from the export's other results).
  Subject SubjectOf(const std::string& id, const std::string& first_stored,
                    const std::string& fresh) const;
  // Adds an object of `type` with `fields`, identified by `key`, created at `created` and
  // modified now; returns its identifier. An object already in the bundle is not added twice
  // (its key gives it the same contents).
  std::string Emit(std::string_view type, const std::string& key, const std::string& created,
                   nlohmann::json fields);
  // The intrusion set of the candidate's actor.
  std::string ActorRef(const attrib::Candidate& c);
  // An `incident` for the store's incident `store_id`; returns its identifier.
  std::string NewIncident(const Subject& s, const std::string& store_id, const std::string& title);
  // The `attributed-to` relationship from `source_ref` (about `s`) to the answered actor; ""
  // when `r` abstained (nothing is asserted then).
  std::string AttributedTo(const Subject& s, const std::string& source_ref,
                           const attrib::Result& r);
  // The `related-to` relationship of a scored pair, from `source` to `target`: `confidence` its
  // probability x 100, the description `lead`, the probability with its ICD 203 term and the
  // shared evidence.
  void RelatedTo(const Subject& source, const std::string& source_ref, const Subject& target,
                 const std::string& target_ref, const score::Comparison& c,
                 const std::string& lead);
  // The note about `s` on `refs`: `lines`, then the ranking and the confidence level.
  void Note(const Subject& s, const std::string& abstract, std::vector<std::string> lines,
            const attrib::Result& r, nlohmann::json refs);

  const kb::KnowledgeBase* kb_;
  std::string now_;
  std::string identity_;
  nlohmann::json objects_ = nlohmann::json::array();
  absl::flat_hash_set<std::string> ids_;  // the identifiers in objects_
  size_t results_ = 0;                    // results added so far
};

}  // namespace kinship::cli

#endif  // KINSHIP_CLI_STIX_EXPORT_H_
