// The JSON forms of the commands' answers, shared by the CLI and `kinship serve`.
#include "cli/views.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "kinship/attribution.h"
#include "kinship/normalize.h"
#include "kinship/status.h"

namespace kinship::cli {
namespace {

// Adds "location" and "snippet" to `j` when the source gave them.
void AddPlace(nlohmann::json& j, const std::string& location, const std::string& snippet) {
  if (!location.empty()) j["location"] = location;
  if (!snippet.empty()) j["snippet"] = snippet;
}

nlohmann::json IndicatorJson(const Indicator& ind) {
  nlohmann::json j = {{"type", IndicatorTypeName(ind.type)},
                      {"value", ind.value},
                      {"raw", ind.raw},
                      {"to_ids", ind.to_ids}};
  if (ind.derivation != Derivation::kNone) j["derived"] = DerivationName(ind.derivation);
  if (!ind.category.empty()) j["category"] = ind.category;
  if (!ind.comment.empty()) j["comment"] = ind.comment;
  AddPlace(j, ind.location, ind.snippet);
  if (!ind.error.empty()) j["error"] = ind.error;
  if (!ind.warninglists.empty()) j["warninglists"] = ind.warninglists;
  return j;
}

}  // namespace

nlohmann::json IncidentJson(const Incident& inc) {
  nlohmann::json j = {{"id", inc.id},
                      {"title", inc.title},
                      {"description", inc.description},
                      {"source", inc.source},
                      {"first_seen", inc.first_seen},
                      {"last_seen", inc.last_seen},
                      {"tlp", TlpName(inc.tlp)},
                      {"tags", inc.tags},
                      {"victim",
                       {{"organisation", inc.victim.organisation},
                        {"sector", inc.victim.sector},
                        {"country", inc.victim.country}}},
                      {"provenance",
                       {{"file", inc.provenance.file},
                        {"format", inc.provenance.format},
                        {"sha256", inc.provenance.sha256},
                        {"first_stored", inc.provenance.first_stored},
                        {"source_modified", inc.provenance.source_modified}}}};
  nlohmann::json inds = nlohmann::json::array();
  for (const Indicator& ind : inc.indicators) inds.push_back(IndicatorJson(ind));
  j["indicators"] = inds;
  nlohmann::json techs = nlohmann::json::array();
  for (const Technique& t : inc.techniques) {
    nlohmann::json x = {{"id", t.id}, {"name", t.name}};
    AddPlace(x, t.location, t.snippet);
    techs.push_back(std::move(x));
  }
  j["techniques"] = techs;
  nlohmann::json sw = nlohmann::json::array();
  for (const Software& s : inc.software) {
    nlohmann::json x = {{"name", s.name}, {"id", s.id}, {"kind", s.kind}};
    AddPlace(x, s.location, s.snippet);
    sw.push_back(std::move(x));
  }
  j["software"] = sw;
  nlohmann::json at = nlohmann::json::array();
  for (const Attribution& a : inc.attributions) {
    nlohmann::json x = {{"actor", a.actor_name}, {"actor_id", a.actor_id}, {"source", a.source}};
    if (a.confidence >= 0) x["confidence"] = a.confidence;
    AddPlace(x, a.location, a.snippet);
    at.push_back(std::move(x));
  }
  j["attributions"] = at;
  nlohmann::json mentions = nlohmann::json::array();
  for (const ActorMention& m : inc.actor_mentions) {
    nlohmann::json x = {{"name", m.name}, {"id", m.id}, {"occurrences", m.occurrences}};
    AddPlace(x, m.location, m.snippet);
    mentions.push_back(std::move(x));
  }
  j["actor_mentions"] = mentions;
  return j;
}

absl::StatusOr<PivotValue> ParsePivotValue(const std::string& value, const std::string& type_name) {
  const std::string raw = normalize::Refang(value);
  std::optional<IndicatorType> type;
  if (!type_name.empty()) {
    type = IndicatorTypeFromName(type_name);
    if (!type) return absl::InvalidArgumentError(absl::StrCat("unknown --type '", type_name, "'"));
  } else {
    type = normalize::DetectType(raw);
    if (!type) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot tell the type of '", value, "'; give --type"));
    }
  }
  type = normalize::CanonicalType(*type, raw);
  auto canonical = normalize::Canonicalize(*type, raw);
  if (!canonical.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("'", value, "' is not a valid ",
                                                   AV(IndicatorTypeName(*type)), ": ",
                                                   canonical.status().message()));
  }
  return PivotValue{*type, *std::move(canonical)};
}

absl::StatusOr<std::vector<NetworkHolders>> EnclosingNetworkHolders(Store& store,
                                                                    const PivotValue& v) {
  std::vector<NetworkHolders> out;
  for (std::string& cidr : normalize::EnclosingNetworks(v.type, v.canonical)) {
    KINSHIP_ASSIGN_OR_RETURN(
        Store::ValueHolders h,
        store.IncidentsWithValue(IndicatorType::kCidr, cidr, /*stated_only=*/true));
    if (!h.incident_ids.empty()) out.push_back({std::move(cidr), std::move(h)});
  }
  return out;
}

absl::StatusOr<Store::ValuesInsideNetwork> ValuesInsideNetwork(Store& store, const PivotValue& v,
                                                               size_t limit) {
  if (v.type != IndicatorType::kCidr) return Store::ValuesInsideNetwork{};
  return store.ValuesInside(v.canonical, limit);
}

namespace {
nlohmann::json HoldersJson(const Store::ValueHolders& h) {
  nlohmann::json incidents = nlohmann::json::array();
  for (size_t i = 0; i < h.incident_ids.size(); ++i) {
    incidents.push_back(
        {{"id", h.incident_ids[i]}, {"title", h.titles[i]}, {"first_seen", h.first_seen[i]}});
  }
  return incidents;
}
}  // namespace

nlohmann::json PivotJson(const PivotValue& v, const Store::ValueHolders& h,
                         const std::vector<NetworkHolders>& networks,
                         const Store::ValuesInsideNetwork& inside, size_t over_correlation_limit) {
  nlohmann::json nets = nlohmann::json::array();
  for (const NetworkHolders& n : networks) {
    nets.push_back({{"cidr", n.cidr}, {"incidents", HoldersJson(n.holders)}});
  }
  nlohmann::json in = nlohmann::json::array();
  for (const Store::ValueInside& x : inside.values) {
    in.push_back({{"type", IndicatorTypeName(x.type)},
                  {"value", x.value},
                  {"incidents", HoldersJson(x.holders)}});
  }
  nlohmann::json out = {{"type", IndicatorTypeName(v.type)},
                        {"value", v.canonical},
                        {"warninglists", h.warninglists},
                        {"incidents", HoldersJson(h)},
                        {"networks", nets},
                        {"inside", in},
                        {"inside_truncated", inside.truncated},
                        {"over_correlating", h.incident_ids.size() > over_correlation_limit}};
  if (over_correlation_limit != SIZE_MAX) out["over_correlation_limit"] = over_correlation_limit;
  return out;
}

std::string KbNameOf(const kb::KnowledgeBase* kb, std::string_view feature) {
  if (kb == nullptr) return "";
  for (std::string_view prefix : {"soft:", "techp:", "tech:"}) {
    if (feature.starts_with(prefix)) {
      feature.remove_prefix(prefix.size());
      break;
    }
  }
  if (feature.size() < 2 || !absl::ascii_isdigit(static_cast<unsigned char>(feature[1]))) return "";
  if (feature[0] == 'S') {
    const kb::Software* sw = kb->software(feature);
    return sw == nullptr ? "" : sw->name;
  }
  if (feature[0] != 'T') return "";
  const kb::Technique* t = kb->technique(feature);
  if (t == nullptr) return "";
  // ATT&CK names a sub-technique after its parent: "Phishing: Spearphishing Link".
  if (const kb::Technique* parent = t->parent_id.empty() ? nullptr : kb->technique(t->parent_id)) {
    return absl::StrCat(parent->name, ": ", t->name);
  }
  return t->name;
}

void NameKbItems(const kb::KnowledgeBase* kb, score::Explanation& e) {
  if (kb == nullptr) return;
  for (score::FamilyEvidence& f : e.families) {
    if (f.family != score::Family::kSoftware && f.family != score::Family::kTechnique) continue;
    for (score::EvidenceItem& it : f.items) it.name = KbNameOf(kb, it.feature);
  }
}

void NameKbItems(const kb::KnowledgeBase* kb, std::vector<score::Match>& matches) {
  for (score::Match& m : matches) NameKbItems(kb, m.comparison.explanation);
}

void NameKbItems(const kb::KnowledgeBase* kb, attrib::Result& r) {
  if (kb == nullptr) return;
  for (attrib::Candidate& c : r.candidates) {
    for (attrib::EvidenceItem& e : c.evidence) e.name = KbNameOf(kb, e.feature);
  }
}

NamingSides NamingSidesOf(const score::NamingTexts& a, const score::NamingTexts& b,
                          const std::string& feature) {
  NamingSides n;
  n.a = a.Sources(feature, kNamingSourcesListed, &n.a_total);
  n.b = b.Sources(feature, kNamingSourcesListed, &n.b_total);
  return n;
}

std::string NamingSidesText(const NamingSides& n) {
  auto side = [](const std::vector<std::string>& values, size_t total) {
    if (values.empty()) return std::string("?");
    std::string out = values[0];
    if (values.size() > 1) absl::StrAppend(&out, ", ", values[1]);
    if (total > 2) absl::StrAppend(&out, " +", total - 2, " more");
    return out;
  };
  return absl::StrCat(side(n.a, n.a_total), " ~ ", side(n.b, n.b_total));
}

const score::FamilyEvidence* NamingFamily(const score::Explanation& e) {
  const auto it = std::find_if(e.families.begin(), e.families.end(),
                               [](const auto& f) { return f.family == score::Family::kNaming; });
  return it == e.families.end() ? nullptr : &*it;
}

NamingReader NamingOf(IncidentGetter get) {
  return [get = std::move(get)](const std::string& id) -> std::optional<score::NamingTexts> {
    absl::StatusOr<Incident> inc = get(id, Store::Detail::kNaming);
    if (!inc.ok()) return std::nullopt;
    return score::NamingTexts(*inc);
  };
}

StoredNameReader StoredNamesOf(IncidentGetter get) {
  return [get = std::move(get)](const std::string& id) {
    absl::StatusOr<Incident> inc = get(id, Store::Detail::kNaming);
    return inc.ok() ? StoredName{inc->title, inc->provenance.first_stored} : StoredName();
  };
}

NamingReader StoreNaming(Store& store) {
  return NamingOf([&store](const std::string& id, Store::Detail detail) {
    return store.GetIncident(id, detail);
  });
}

namespace {

NamingSourceMap SourcesOf(const score::NamingTexts& a, const score::NamingTexts& b,
                          const score::FamilyEvidence& naming) {
  NamingSourceMap out;
  for (const score::EvidenceItem& it : naming.items)
    out[it.feature] = NamingSidesOf(a, b, it.feature);
  return out;
}

}  // namespace

NamingSourceMap NamingSourcesOf(const NamingReader& naming, const std::string& a,
                                const std::string& b, const score::Explanation& e) {
  const score::FamilyEvidence* family = NamingFamily(e);
  if (family == nullptr) return {};
  const std::optional<score::NamingTexts> ta = naming(a);
  const std::optional<score::NamingTexts> tb = naming(b);
  if (!ta || !tb) return {};
  return SourcesOf(*ta, *tb, *family);
}

std::vector<NamingSourceMap> NamingSourcesOf(const NamingReader& naming, const std::string& id,
                                             const std::vector<score::Match>& matches) {
  std::vector<NamingSourceMap> out(matches.size());
  std::optional<score::NamingTexts> query;  // read once, on the first match with naming items
  bool read = false;
  for (size_t i = 0; i < matches.size(); ++i) {
    const score::FamilyEvidence* family = NamingFamily(matches[i].comparison.explanation);
    if (family == nullptr) continue;
    if (!read) {
      query = naming(id);
      read = true;
    }
    if (!query) break;
    if (const auto other = naming(matches[i].id)) out[i] = SourcesOf(*query, *other, *family);
  }
  return out;
}

namespace {

// Families and their items as JSON, at most `max_items` items per family (0: all; the strongest,
// as items are ordered) and "items_total", how many the family has; `decorate` adds to a naming
// item what is known of it.
template <typename Decorate>
nlohmann::json FamiliesJson(const score::Explanation& e, size_t max_items, Decorate decorate) {
  nlohmann::json fams = nlohmann::json::array();
  for (const score::FamilyEvidence& f : e.families) {
    nlohmann::json items = nlohmann::json::array();
    const size_t listed = max_items == 0 ? f.items.size() : std::min(max_items, f.items.size());
    for (size_t i = 0; i < listed; ++i) {
      const score::EvidenceItem& it = f.items[i];
      nlohmann::json item = {{"feature", it.feature}, {"weight", it.weight}, {"df", it.df}};
      if (!it.name.empty()) item["name"] = it.name;
      if (f.family == score::Family::kNaming) decorate(it.feature, item);
      items.push_back(std::move(item));
    }
    fams.push_back({{"family", std::string(score::FamilyName(f.family))},
                    {"weight", f.weight},
                    {"items", items},
                    {"items_total", f.items.size()}});
  }
  return fams;
}

}  // namespace

nlohmann::json ExplanationJson(const score::Explanation& e, const NamingSourceMap* names,
                               const std::string& a, const std::string& b) {
  return FamiliesJson(e, /*max_items=*/0, [&](const std::string& feature, nlohmann::json& item) {
    if (names == nullptr) return;
    if (auto n = names->find(feature); n != names->end()) {
      item["sources"] = {{a, n->second.a}, {b, n->second.b}};
      item["sources_total"] = {{a, n->second.a_total}, {b, n->second.b_total}};
    }
  });
}

nlohmann::json ExplanationJson(const score::Explanation& e, const CampaignNamingMap& names,
                               size_t max_items) {
  return FamiliesJson(e, max_items, [&](const std::string& feature, nlohmann::json& item) {
    auto n = names.find(feature);
    if (n == names.end()) return;
    nlohmann::json sources = nlohmann::json::object(), totals = nlohmann::json::object();
    for (const MemberNames& m : n->second.members) {
      sources[m.id] = m.values;
      totals[m.id] = m.total;
    }
    item["sources"] = std::move(sources);
    item["sources_total"] = std::move(totals);
  });
}

CampaignNamingMap CampaignNamingOf(
    const score::Explanation& binding,
    const std::vector<std::pair<std::string, score::NamingTexts>>& members) {
  CampaignNamingMap out;
  const score::FamilyEvidence* naming = NamingFamily(binding);
  if (naming == nullptr) return out;
  for (const score::EvidenceItem& it : naming->items) {
    CampaignNames names;
    std::vector<std::vector<std::string>> all;  // every value of each member holding the item
    for (const auto& [id, texts] : members) {
      size_t total = 0;
      std::vector<std::string> v =
          texts.Sources(it.feature, std::numeric_limits<size_t>::max(), &total);
      if (v.empty()) continue;
      names.members.push_back({id, {}, total});
      all.push_back(std::move(v));
    }
    if (all.empty()) continue;
    // Listed in turn from each member (its first, then its second, ...), so the few values shown
    // come from several members; counted distinct over all.
    absl::flat_hash_set<std::string> distinct;
    for (size_t r = 0, left = all.size(); left > 0; ++r) {
      left = 0;
      for (const std::vector<std::string>& v : all) {
        if (r >= v.size()) continue;
        ++left;
        if (distinct.insert(v[r]).second && names.values.size() < kNamingSourcesListed) {
          names.values.push_back(v[r]);
        }
      }
    }
    names.total = distinct.size();
    for (size_t m = 0; m < all.size(); ++m) {
      if (all[m].size() > kNamingSourcesListed) all[m].resize(kNamingSourcesListed);
      names.members[m].values = std::move(all[m]);
    }
    out.emplace(it.feature, std::move(names));
  }
  return out;
}

std::string CampaignNamesText(const std::vector<std::string>& values, size_t total,
                              size_t members) {
  constexpr size_t kListed = 3;
  std::string out;
  for (size_t i = 0; i < values.size() && i < kListed; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ", ", values[i]);
  }
  if (total > kListed && values.size() >= kListed)
    absl::StrAppend(&out, " +", total - kListed, " more");
  absl::StrAppend(&out, ", in ", members, " member", members == 1 ? "" : "s");
  return out;
}

namespace {

// The pair's shared values that weigh nothing for over-correlating, when there are some.
void AddOverCorrelating(const score::Explanation& e, nlohmann::json& out) {
  if (e.over_correlating == 0) return;
  out["over_correlating"] = {{"count", e.over_correlating},
                             {"limit", e.over_correlation_limit},
                             {"examples", e.over_correlating_examples}};
}

}  // namespace

nlohmann::json SimilarJson(const score::SimilarityIndex& index, const std::string& id,
                           const std::vector<score::Match>& matches,
                           const std::vector<NamingSourceMap>* names) {
  nlohmann::json arr = nlohmann::json::array();
  for (size_t i = 0; i < matches.size(); ++i) {
    const score::Match& m = matches[i];
    const NamingSourceMap* n = names != nullptr && i < names->size() ? &(*names)[i] : nullptr;
    nlohmann::json match = {
        {"id", m.id},
        {"probability", m.comparison.probability},
        {"likelihood", attrib::LikelihoodTerm(m.comparison.probability)},
        {"raw", m.comparison.raw},
        {"stated_actors", index.StatedActors(m.id)},
        {"explanation", ExplanationJson(m.comparison.explanation, n, id, m.id)}};
    AddOverCorrelating(m.comparison.explanation, match);
    arr.push_back(std::move(match));
  }
  return {{"incident", id}, {"similar", arr}};
}

nlohmann::json CompareJson(const std::string& a, const std::string& b, const score::Comparison& c,
                           const NamingSourceMap* names) {
  nlohmann::json out = {{"a", a},
                        {"b", b},
                        {"probability", c.probability},
                        {"likelihood", attrib::LikelihoodTerm(c.probability)},
                        {"raw", c.raw},
                        {"explanation", ExplanationJson(c.explanation, names, a, b)}};
  AddOverCorrelating(c.explanation, out);
  return out;
}

}  // namespace kinship::cli
