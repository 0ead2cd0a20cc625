// Attribution on the shared real data: ATT&CK group profiles against ATT&CK campaigns, and the
// neighbour index over actor-labelled vendor reports.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kinship/attribution.h"
#include "testing/data.h"

namespace kinship::attrib {
namespace {

using nlohmann::json;

std::string ExternalId(const json& o) {
  if (!o.contains("external_references")) return "";
  for (const json& r : o["external_references"]) {
    if (r.value("source_name", "") == "mitre-attack") return r.value("external_id", "");
  }
  return "";
}

struct AttackData {
  std::vector<ActorProfile> groups;
  struct Campaign {
    std::vector<std::string> actors, techniques, software;
  };
  std::map<std::string, Campaign> campaigns;
};

// Groups' own `uses` relationships only: a campaign's relationships never enter a profile.
AttackData LoadAttack() {
  json bundle = json::parse(kinship::testing::ReadFileOrDie(kinship::testing::DataPath(
                                "mitre-attack/enterprise-attack-18.1.json")),
                            nullptr, false);
  AttackData a;
  if (bundle.is_discarded()) return a;
  std::map<std::string, std::pair<std::string, std::string>> by_stix;
  for (const json& o : bundle["objects"]) {
    if (o.value("revoked", false) || o.value("x_mitre_deprecated", false)) continue;
    const std::string ext = ExternalId(o);
    if (!ext.empty()) by_stix[o.value("id", "")] = {o.value("type", ""), ext};
  }
  std::map<std::string, ActorProfile> groups;
  for (const json& o : bundle["objects"]) {
    if (o.value("type", "") != "relationship" || o.value("revoked", false)) continue;
    auto s = by_stix.find(o.value("source_ref", ""));
    auto t = by_stix.find(o.value("target_ref", ""));
    if (s == by_stix.end() || t == by_stix.end()) continue;
    const std::string rel = o.value("relationship_type", "");
    const bool tech = t->second.first == "attack-pattern";
    const bool soft = t->second.first == "malware" || t->second.first == "tool";
    if (s->second.first == "intrusion-set" && rel == "uses" && (tech || soft)) {
      ActorProfile& g = groups[s->second.second];
      g.actor_id = s->second.second;
      (tech ? g.techniques : g.software).push_back(t->second.second);
    } else if (s->second.first == "campaign") {
      auto& c = a.campaigns[s->second.second];
      if (rel == "uses" && (tech || soft))
        (tech ? c.techniques : c.software).push_back(t->second.second);
      if (rel == "attributed-to") c.actors.push_back(t->second.second);
    }
  }
  for (auto& [id, g] : groups) a.groups.push_back(std::move(g));
  return a;
}

TEST(ProfileMatcherData, RanksAttackCampaignsBetterThanTfidfCosine) {
  AttackData a = LoadAttack();
  ASSERT_GT(a.groups.size(), 100u);
  ProfileMatcher m(a.groups);
  int n = 0, ours = 0, baseline = 0;
  for (const auto& [id, c] : a.campaigns) {
    if (c.actors.empty() || m.profile(c.actors[0]) == nullptr) continue;
    if (c.techniques.empty() && c.software.empty()) continue;
    ++n;
    auto r = m.Match(c.techniques, c.software, 1);
    auto b = m.TfidfCosine(c.techniques, c.software, 1);
    ours += !r.empty() && r[0].actor_id == c.actors[0];
    baseline += !b.empty() && b[0].actor_id == c.actors[0];
  }
  ASSERT_GE(n, 20);
  // Measured 15/24 vs. 10/24 (docs/evaluation.md); allow no regression below the baseline.
  EXPECT_GT(ours, baseline) << ours << " vs " << baseline << " of " << n;
  EXPECT_GE(static_cast<double>(ours) / n, 0.5) << ours << " of " << n;
}

// One vendor report of reports-dev.jsonl: its typed indicators (already refanged and
// lower-cased in the data), duplicate group and label ("source|actor" as the source gives it).
struct Report {
  Incident incident;
  std::string group, label;
};

std::vector<Report> LoadReports() {
  std::ifstream in(kinship::testing::DataPath("reports/reports-dev.jsonl"));
  EXPECT_TRUE(in.good());
  std::vector<Report> out;
  std::string line;
  while (std::getline(in, line)) {
    json r = json::parse(line, nullptr, false);
    EXPECT_FALSE(r.is_discarded());
    if (r.is_discarded()) continue;
    Report rep;
    rep.incident.id = r.value("id", "");
    for (const json& i : r["indicators"]) {
      auto type = IndicatorTypeFromName(i.value("type", ""));
      if (!type) continue;
      Indicator ind;
      ind.type = *type;
      ind.value = i.value("value", "");
      rep.incident.indicators.push_back(ind);
    }
    rep.group = r.value("dup_group", rep.incident.id);
    rep.label = r.value("source", "") + "|" + r.value("actor", "");
    out.push_back(std::move(rep));
  }
  return out;
}

TEST(NeighbourIndexData, ReportNeverRetrievesItselfAndFindsItsDuplicateGroup) {
  std::vector<Incident> incidents;
  std::vector<std::string> groups;
  for (Report& r : LoadReports()) {
    incidents.push_back(std::move(r.incident));
    groups.push_back(std::move(r.group));
  }
  ASSERT_GT(incidents.size(), 1000u);
  NeighbourIndex idx;
  std::map<std::string, std::string> group_of;
  for (size_t i = 0; i < incidents.size(); ++i) {
    idx.Add(incidents[i], groups[i]);  // the "actor" here is the duplicate group
    group_of[incidents[i].id] = groups[i];
  }
  idx.Finalize();
  int with_dup = 0, found = 0;
  for (size_t i = 0; i < incidents.size(); ++i) {
    auto n = idx.Neighbours(incidents[i], 5);
    for (const Neighbour& x : n) ASSERT_NE(x.incident_id, incidents[i].id);
    bool has_dup = false;
    for (size_t j = 0; j < incidents.size() && !has_dup; ++j) {
      has_dup = j != i && groups[j] == groups[i];
    }
    if (!has_dup) continue;
    ++with_dup;
    found += !n.empty() && n[0].actor_id == groups[i];
  }
  // Duplicate groups also join records that only cite the same publication (sharing few or no
  // indicators), so not all can come back first: measured 145 of 245; guard against regression.
  ASSERT_GT(with_dup, 0);
  EXPECT_GE(static_cast<double>(found) / with_dup, 0.55) << found << " of " << with_dup;
}

TEST(StyleIndexData, NamingStyleNamesTheActorFarMoreOftenThanTheCommonestActor) {
  // Reports split in two by duplicate group (a group never straddles).
  std::vector<std::pair<Incident, std::string>> known, queries;
  for (Report& r : LoadReports()) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a: the same split on every platform
    for (unsigned char c : r.group) h = (h ^ c) * 1099511628211ull;
    (h % 2 == 0 ? known : queries).emplace_back(std::move(r.incident), r.label);
  }
  StyleIndex idx;
  std::map<std::string, int> per_actor;
  for (const auto& [inc, label] : known) {
    idx.Add(inc, label);
    ++per_actor[label];
  }
  idx.Finalize();
  int commonest = 0;
  std::string commonest_label;
  for (const auto& [label, n] : per_actor) {
    if (n > commonest) commonest = n, commonest_label = label;
  }
  int n = 0, right = 0, majority = 0;
  for (const auto& [inc, label] : queries) {
    if (per_actor.count(label) == 0 || StyleTerms(inc).empty()) continue;
    ++n;
    majority += label == commonest_label;
    const auto m = idx.Nearest(inc, 1);
    right += !m.empty() && m[0].actor_id == label;
  }
  ASSERT_GT(n, 200);
  // Measured: 106 of 447 named by the nearest incident's actor (raw labels, half
  // the reports known), 45 for "always the commonest actor"; guard against regression.
  EXPECT_GE(right, 2 * majority) << right << " vs " << majority << " of " << n;
  EXPECT_GE(static_cast<double>(right) / n, 0.20) << right << " of " << n;
}

}  // namespace
}  // namespace kinship::attrib
