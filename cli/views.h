// The JSON forms of what the commands answer (`--json`), built in one place so that the CLI and
// the HTTP server (`kinship serve`) give the same objects.
#ifndef KINSHIP_CLI_VIEWS_H_
#define KINSHIP_CLI_VIEWS_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "cli/stix_export.h"
#include "kinship/attribution.h"
#include "kinship/kb.h"
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
// For an address or a network: the stored incidents that state a network holding it (MISP's
// CIDR correlation), one entry per stated network, narrowest first. Empty for other values.
struct NetworkHolders {
  std::string cidr;
  Store::ValueHolders holders;
};
absl::StatusOr<std::vector<NetworkHolders>> EnclosingNetworkHolders(Store& store,
                                                                    const PivotValue& v);
// For a network: Store::ValuesInside, at most `limit` values looked up (kMaxValuesInside unless
// `kinship pivot --inside-limit` says otherwise). Empty for other values.
inline constexpr size_t kMaxValuesInside = 10000;
// The values inside a network `kinship pivot` prints (--json lists every one).
inline constexpr size_t kValuesInsideListed = 50;
absl::StatusOr<Store::ValuesInsideNetwork> ValuesInsideNetwork(Store& store, const PivotValue& v,
                                                               size_t limit = kMaxValuesInside);
// `kinship pivot --json`: the value, its warninglists, the incidents holding it, for an address
// or a network the stated networks holding it ("networks"), and for a network what is stored
// inside it ("inside", "inside_truncated"). `over_correlation_limit`: the holders above which
// similarity gives the value no weight (score::OverCorrelationLimit; SIZE_MAX: the rule is off).
nlohmann::json PivotJson(const PivotValue& v, const Store::ValueHolders& h,
                         const std::vector<NetworkHolders>& networks,
                         const Store::ValuesInsideNetwork& inside, size_t over_correlation_limit);

// The knowledge base's name of the ATT&CK software or technique id in an evidence feature
// ("soft:S0117" -> "XTunnel", "tech:T1566.002" -> "Phishing: Spearphishing Link", "techp:T1566",
// and the bare ids of profile matches, "S0193", "T1110"); empty for any other feature, an id
// the KB does not hold, or no KB. NameKbItems fills the evidence items' `name` with it.
std::string KbNameOf(const kb::KnowledgeBase* kb, std::string_view feature);
void NameKbItems(const kb::KnowledgeBase* kb, score::Explanation& e);
void NameKbItems(const kb::KnowledgeBase* kb, std::vector<score::Match>& matches);
void NameKbItems(const kb::KnowledgeBase* kb, attrib::Result& r);

// The stated values behind each naming item ("ng:host", "tld:com") of an explanation of a vs b,
// on each side (score::NamingSources): feature -> (a's values, b's values). Empty when either
// incident cannot be read from the store (the explanation then shows the n-grams alone).
struct NamingSides {
  std::vector<std::string> a, b;    // at most kNamingSourcesListed values each, in incident order
  size_t a_total = 0, b_total = 0;  // how many of each incident's values hold it
};
inline constexpr size_t kNamingSourcesListed = 10;
// The naming family of an explanation, or null when it has none.
const score::FamilyEvidence* NamingFamily(const score::Explanation& e);
// Both sides of one naming item (score::NamingTexts::Sources, counted in full, listed in part).
NamingSides NamingSidesOf(const score::NamingTexts& a, const score::NamingTexts& b,
                          const std::string& feature);
using NamingSourceMap = absl::flat_hash_map<std::string, NamingSides>;
// "svchost.exe.exe ~ dllhost.dat", at most two values a side ("a.com, b.com +1 ~ c.com").
std::string NamingSidesText(const NamingSides& n);
// An incident's naming texts by id; std::nullopt when it cannot be read. StoreNaming reads the
// store (Store::Detail::kNaming, the stated domains, URLs and file names); the server and the
// campaigns command read a copy kept in memory (cli/analysis.h, NamingCache).
using NamingReader = std::function<std::optional<score::NamingTexts>(const std::string& id)>;
// Reads an incident from the store with the detail asked for. Campaigns call it from several
// threads at once: it must be safe to (the server serialises its reads on one connection; the
// CLI reads through a StoreReaders, cli/analysis.h).
using IncidentGetter = std::function<absl::StatusOr<Incident>(const std::string&, Store::Detail)>;
// Naming texts read with `get` (Store::Detail::kNaming); StoreNaming reads them from `store`.
NamingReader NamingOf(IncidentGetter get);
// An incident's title and first-stored time by id, read with `get` (Store::Detail::kNaming, the
// lightest read: the incident's row and its stated names); "" for both when it cannot be read.
// What a STIX export names a similar incident by.
StoredNameReader StoredNamesOf(IncidentGetter get);
NamingReader StoreNaming(Store& store);
NamingSourceMap NamingSourcesOf(const NamingReader& naming, const std::string& a,
                                const std::string& b, const score::Explanation& e);
// The same for each match of `kinship similar ID` (the query read once), one map per match.
std::vector<NamingSourceMap> NamingSourcesOf(const NamingReader& naming, const std::string& id,
                                             const std::vector<score::Match>& matches);

// The stated values behind each naming item of a campaign's binding evidence (features held by
// at least two members), member by member.
struct MemberNames {
  std::string id;
  std::vector<std::string> values;  // at most kNamingSourcesListed, in the member's order
  size_t total = 0;                 // how many of the member's values hold the item
};
struct CampaignNames {
  std::vector<MemberNames> members;  // the members whose values hold the item, campaign order
  std::vector<std::string> values;   // distinct over those members, at most kNamingSourcesListed
  size_t total = 0;                  // distinct values over those members, in all
};
using CampaignNamingMap = absl::flat_hash_map<std::string, CampaignNames>;
// From each member's naming texts (campaign order). Empty without a naming family.
CampaignNamingMap CampaignNamingOf(
    const score::Explanation& binding,
    const std::vector<std::pair<std::string, score::NamingTexts>>& members);
// "a.com, b.net, c.org +4 more, in 3 members": the values behind the shown items of a naming
// family, at most three listed.
std::string CampaignNamesText(const std::vector<std::string>& values, size_t total, size_t members);

// `similar --min-probability P`: drops the matches whose calibrated probability is under P
// (the ranking's tail: the calibration rises with the raw score) and returns how many.
inline size_t DropLessProbable(std::vector<score::Match>& matches, double min_probability) {
  return std::erase_if(matches, [min_probability](const score::Match& m) {
    return m.comparison.probability < min_probability;
  });
}

// Shared evidence grouped by family, strongest first, each item with its weight and df, and each
// family with "items_total" (its item count: every item is listed here); with
// `names`, naming items also carry "sources": {a: [values], b: [values]} (at most
// kNamingSourcesListed each) and "sources_total": {a: n, b: m}.
nlohmann::json ExplanationJson(const score::Explanation& e, const NamingSourceMap* names = nullptr,
                               const std::string& a = "", const std::string& b = "");
// A campaign's binding evidence, at most `max_items` items per family (0: all); naming items
// carry "sources": {member: [values]} and "sources_total": {member: n} for the members whose
// values hold them.
nlohmann::json ExplanationJson(const score::Explanation& e, const CampaignNamingMap& names,
                               size_t max_items = 0);
// `kinship similar --json`; `names`, if given, one map per match.
nlohmann::json SimilarJson(const score::SimilarityIndex& index, const std::string& id,
                           const std::vector<score::Match>& matches,
                           const std::vector<NamingSourceMap>* names = nullptr);
// `kinship compare --json`.
nlohmann::json CompareJson(const std::string& a, const std::string& b, const score::Comparison& c,
                           const NamingSourceMap* names = nullptr);

}  // namespace kinship::cli

#endif  // KINSHIP_CLI_VIEWS_H_
