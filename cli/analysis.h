// What `kinship attribute` and `kinship campaigns` share: the store's incidents indexed once for
// attribution (similarity engine, naming style, knowledge-base profiles), attributing an incident
// or a campaign with some incidents kept out of its evidence, and printing the result.
#ifndef KINSHIP_CLI_ANALYSIS_H_
#define KINSHIP_CLI_ANALYSIS_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cli/command.h"
#include "cli/views.h"
#include "kinship/attribution.h"
#include "kinship/kb.h"
#include "kinship/similarity.h"

namespace kinship::cli {

struct AttributionSettings {
  size_t top = 5;                // candidates listed
  size_t neighbours = 20;        // similar attributed incidents considered
  size_t style_neighbours = 10;  // as in `kinship eval`, which fitted the model with 10
};

// --top, --neighbours, --style-neighbours of the commands that attribute.
void AddAttributionOptions(CLI::App& cmd, AttributionSettings& settings);

// Every indexed incident's naming texts (score::NamingTexts::Pack) kept in memory by id, so that
// explanations name the values behind their naming items without reading the store: a top-10
// `similar` answered by the server read eleven incidents back for them (62 % of its time on the
// generated feed, under the one store connection's lock), and `kinship campaigns
// --no-attribution` read every member of every campaign with naming evidence. Costs about the
// stated domains', URLs' and file names' bytes (`bytes()`). Add is not thread-safe; Get is.
class NamingCache {
 public:
  void Add(const Incident& incident);
  // std::nullopt for an id never added.
  std::optional<score::NamingTexts> Get(const std::string& id) const;
  void Remove(const std::string& id);
  size_t bytes() const { return bytes_; }

 private:
  absl::flat_hash_map<std::string, std::string> packed_;
  size_t bytes_ = 0;  // ids and packed values, without the map's own slots
};

// Everything attribution reads, built in one pass over the store.
class Analysis {
 public:
  struct Parts {
    // False: the store, its KB and the similarity index only (similar, compare); Attribute()
    // must then not be called.
    bool attribution = true;
    // Keep every incident's naming texts in memory (NamingCache) for Naming().
    bool naming = false;
    // Load the similarity index from the snapshot `kinship index build` saved when it is current
    // for the store (docs/architecture.md, "Index snapshots"), and with it, for attribution, the
    // naming-style index and classifier from theirs; what is not current (and the names' cache,
    // when asked for) then comes from a lighter pass over the store (Store::Detail::kStyle).
    bool snapshot = true;
  };
  static absl::StatusOr<std::unique_ptr<Analysis>> Load(const GlobalOptions& g,
                                                        AttributionSettings settings, Parts parts);
  static absl::StatusOr<std::unique_ptr<Analysis>> Load(const GlobalOptions& g,
                                                        AttributionSettings settings) {
    return Load(g, settings, Parts{});
  }

  Store& store() { return *store_; }
  // The store's key (Store::SnapshotKey) its indexes stand for; "" when the store was written
  // while they were built, so that no key names what they hold.
  const std::string& key() const { return key_; }
  // Brings the indexes up to date with the store from its journal of writes (CatchUpIndex), in
  // place, instead of loading them again: the similarity index and the names' cache. The
  // naming-style index is not trained here (its classifier cannot be grown, and training it
  // again is most of a catch-up's time at 100,000 incidents): when an incident it indexes came
  // or went, style_pending() is true afterwards, until SetStyle gives one trained on the store
  // at key() (TrainStyle, which needs no Analysis and may run beside readers). Errors: as
  // CatchUpIndex's (kFailedPrecondition: it cannot, say why); after an error the Analysis must
  // be loaded again. Not thread-safe: nothing may read the Analysis meanwhile.
  absl::StatusOr<CaughtUp> CatchUp();
  // True while the naming-style index stands for an earlier state of the store than key() (after
  // a CatchUp): Attribute and AttributeCampaign must not be called until SetStyle.
  bool style_pending() const { return style_pending_; }
  // Installs `style`, the naming-style index of the store at key(), finalized; clears
  // style_pending(). Not thread-safe, as CatchUp.
  void SetStyle(attrib::StyleIndex style);
  const kb::KnowledgeBase* kb() const { return kb_->empty() ? nullptr : kb_.get(); }
  const score::SimilarityIndex& index() const { return *index_; }
  // The naming-style index, finalized (empty unless loaded with Parts::attribution).
  const attrib::StyleIndex& style() const { return style_; }
  // Null unless loaded with Parts::naming.
  const NamingCache* naming_cache() const { return naming_.get(); }
  // Naming texts by id: from the cache when kept (an id indexed after it, or never, is read with
  // `fallback`), else with `fallback` (StoreNaming, or a getter through NamingOf).
  NamingReader Naming(NamingReader fallback) const;

  // Attributes `query` (its stated attribution ignored) with the shipped model. Incidents whose
  // id is in `exclude` never count as evidence (a campaign is not evidence of itself).
  attrib::Result Attribute(const Incident& query,
                           const std::vector<std::string>& exclude = {}) const;
  // A campaign as one incident (MergedCampaign) attributed as Attribute() does, with the model
  // whose second stage was fitted on campaigns (attrib::Model::Campaigns()); its `members` never
  // count as evidence.
  attrib::Result AttributeCampaign(const Incident& merged,
                                   const std::vector<std::string>& members) const;

 private:
  Analysis() = default;
  AttributionSettings settings_;
  std::string key_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<kb::KnowledgeBase> kb_;
  std::unique_ptr<score::SimilarityIndex> index_;
  std::unique_ptr<NamingCache> naming_;
  attrib::StyleIndex style_;
  bool style_pending_ = false;
  attrib::ProfileMatcher profiles_;
  std::unique_ptr<attrib::Attributor> attributor_, campaign_attributor_;
};

// The naming-style index of the store's attributed incidents (read as Analysis::Load reads them),
// finalized (its classifier trained), and the store's key it stands for. kFailedPrecondition
// when the store was written while they were read; the store's errors.
struct TrainedStyle {
  attrib::StyleIndex style;
  std::string key;
};
absl::StatusOr<TrainedStyle> TrainStyle(const GlobalOptions& g, Store& store);

// `incident` (its stated attribution ignored) attributed by `attributor` with the `neighbours`
// most similar incidents of `index` and the `style_neighbours` nearest by naming style as
// evidence; incidents whose id is in `exclude` never count (a campaign is not evidence of
// itself). Analysis::Attribute with the store's indexes; `kinship eval` with its own.
attrib::Result AttributeWithout(const attrib::Attributor& attributor,
                                const score::SimilarityIndex& index,
                                const attrib::StyleIndex& style, const Incident& incident,
                                const std::vector<std::string>& exclude, size_t neighbours,
                                size_t style_neighbours);

// `kinship campaigns --linkage` and `GET /v1/campaigns?linkage=`: "average" or "single".
std::optional<score::Linkage> ParseLinkage(std::string_view name);
const char* LinkageName(score::Linkage linkage);

// A campaign as one incident: every member's indicators, techniques and software, its span, and
// the victim of the first member that names one. `get` reads a member.
absl::StatusOr<Incident> MergedCampaign(
    const score::Campaign& c, size_t number,
    const std::function<absl::StatusOr<Incident>(const std::string&)>& get);

// Incidents read by id on up to util::WorkerCount() connections to one store at once: `first`
// (borrowed, and not to be used by anyone else meanwhile) and, when two threads read at once,
// more opened on demand (read-only work; each sees the store's latest commit, as `first` does).
class StoreReaders {
 public:
  StoreReaders(const GlobalOptions& g, Store& first) : g_(g), free_{&first} {}
  absl::StatusOr<Incident> Get(const std::string& id, Store::Detail detail);
  IncidentGetter Getter() {
    return [this](const std::string& id, Store::Detail d) { return Get(id, d); };
  }

 private:
  const GlobalOptions& g_;
  std::mutex mu_;
  std::vector<Store*> free_;                   // connections not reading now
  std::vector<std::unique_ptr<Store>> owned_;  // those opened here
};

// The values behind each naming item of an attribution's evidence ("ng:host" via a similar
// incident): the query's and that incident's (score::NamingSources), keyed by (via, feature).
// Incidents the store cannot read are left out (their items show the n-gram alone).
using EvidenceSources = std::map<std::pair<std::string, std::string>, NamingSides>;
EvidenceSources EvidenceSourcesOf(const NamingReader& naming, const Incident& query,
                                  const attrib::Result& r);

// Campaigns over the indexed store (score::FindCampaigns with `options`), each, when
// `attribute`, attributed as one incident holding its members' indicators, techniques and
// software, its own members never evidence of it. `get` reads a member from the store
// (Store::Detail::kAnalysis when attributing, else kNaming: only for the values behind the
// binding's naming items, and not at all when the analysis keeps a NamingCache); `progress`
// hears of each batch attributed.
struct AssessedCampaigns {
  std::vector<score::Campaign> campaigns;
  std::vector<attrib::Result> assessed;  // one per campaign; empty without attribution
  // One per campaign: the members' values behind its binding naming items (empty map when it
  // has none), and the values behind its assessment's naming evidence (with attribution).
  std::vector<CampaignNamingMap> binding_names;
  std::vector<EvidenceSources> assessed_sources;
};
absl::StatusOr<AssessedCampaigns> FindAssessedCampaigns(
    const Analysis& analysis, const score::CampaignOptions& options, bool attribute,
    const IncidentGetter& get, const std::function<void(const std::string&)>& progress = {});
// The `kinship campaigns --json` object of campaign `index` + 1 of `found`: "attribution" when
// `found` has it; its binding evidence with at most `max_items` items per family (0: all), the
// strongest, and naming items with the values behind them when known.
nlohmann::json CampaignJson(const AssessedCampaigns& found, size_t index, size_t max_items);
// Binding evidence items listed per family in a campaign's JSON by default (`kinship campaigns
// --items`, the server's `items`): on the 100,000-incident feed of bench/gen the largest bindings
// hold about a thousand items, every one listed made the output 871 MB.
inline constexpr size_t kCampaignItemsListed = 20;

// The `kinship attribute --json` object of one result (without "incident"); with `sources`,
// naming items carry "sources": {query id: [values], via id: [values]}.
nlohmann::json AttributionJson(const attrib::Result& r, const EvidenceSources* sources = nullptr);
// The human form: candidates with their evidence grouped by origin (a similar incident, the
// actor's known incidents, its ATT&CK profile, naming style; at most `evidence_shown` items
// each, strongest first), then the confidence in its own sentence (ICD 203), each line prefixed
// by `indent`.
void PrintAttribution(const attrib::Result& r, const std::string& indent, size_t evidence_shown,
                      const EvidenceSources* sources = nullptr);

}  // namespace kinship::cli

#endif  // KINSHIP_CLI_ANALYSIS_H_
