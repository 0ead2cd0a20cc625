// The knowledge base on the real ATT&CK 18.1 Enterprise bundle and MISP galaxy clusters
// ($KINSHIP_DATA, see their SOURCE.md files).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "kb/internal.h"
#include "kinship/extract.h"
#include "kinship/kb.h"
#include "kinship/store.h"
#include "testing/data.h"

namespace kinship::kb {
namespace {

struct Files {
  std::string attack, threat_actor, intrusion_set, malpedia;
};

Files DataFiles() {
  return {testing::DataPath("mitre-attack/enterprise-attack-18.1.json"),
          testing::DataPath("misp-galaxy/clusters/threat-actor.json"),
          testing::DataPath("misp-galaxy/clusters/mitre-intrusion-set.json"),
          testing::DataPath("misp-galaxy/clusters/malpedia.json")};
}

internal::ParsedSource ParseOrDie(const std::string& path) {
  std::string data = testing::ReadFileOrDie(path);
  auto src = internal::ParseKbFile(data, path);
  EXPECT_TRUE(src.ok()) << src.status();
  return src.ok() ? std::move(*src) : internal::ParsedSource{};
}

// Parsing the 29 MB bundle takes a moment: do it once for the suite.
const KnowledgeBase& FullKb() {
  static const KnowledgeBase* const kb = [] {
    Files f = DataFiles();
    std::vector<internal::ParsedSource> s;
    for (const std::string* p : {&f.attack, &f.threat_actor, &f.intrusion_set, &f.malpedia}) {
      s.push_back(ParseOrDie(*p));
    }
    return new KnowledgeBase(internal::BuildKnowledgeBase(std::move(s)));
  }();
  return *kb;
}

const internal::ParsedSource& AttackOnly() {
  static const auto* const src = new internal::ParsedSource(ParseOrDie(DataFiles().attack));
  return *src;
}

TEST(KbAttackData, CountsMatchCountsJson) {
  const internal::ParsedSource& a = AttackOnly();
  EXPECT_EQ(a.info.kind, "attack");
  EXPECT_EQ(a.info.name, "enterprise-attack");
  EXPECT_EQ(a.info.version, "18.1");
  EXPECT_EQ(a.actors.size(), 187u);
  EXPECT_EQ(a.campaigns.size(), 52u);
  EXPECT_EQ(a.software.size(), 696u + 91u);
  EXPECT_EQ(a.techniques.size(), 835u);
  auto count = [](const auto& v, auto pred) { return std::count_if(v.begin(), v.end(), pred); };
  EXPECT_EQ(count(a.actors, [](const Actor& x) { return x.revoked; }), 6);
  EXPECT_EQ(count(a.actors, [](const Actor& x) { return x.deprecated; }), 9);
  EXPECT_EQ(count(a.techniques, [](const Technique& t) { return t.revoked; }), 132);
  EXPECT_EQ(count(a.techniques, [](const Technique& t) { return t.deprecated; }), 12);
  EXPECT_EQ(
      count(a.techniques,
            [](const Technique& t) { return !t.revoked && !t.deprecated && t.parent_id.empty(); }),
      216);
  EXPECT_EQ(
      count(a.techniques,
            [](const Technique& t) { return !t.revoked && !t.deprecated && !t.parent_id.empty(); }),
      475);
  EXPECT_EQ(count(a.software, [](const Software& s) { return s.kind == "tool"; }), 91);
  // Every revoked-by relationship is kept (140); the rest are applied uses/attributed-to/
  // subtechnique-of between kept objects.
  EXPECT_GE(a.relationships, 140u + 477u + 25u);
  EXPECT_LE(a.relationships, 17912u);
}

TEST(KbAttackData, Apt28ProfileFromRelationships) {
  const KnowledgeBase& kb = FullKb();
  const Actor* a = kb.actor("G0007");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "APT28");
  EXPECT_EQ(a->stix_id, "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c");
  EXPECT_GT(a->technique_ids.size(), 50u);
  EXPECT_NE(std::find(a->software_ids.begin(), a->software_ids.end(), "S0023"),
            a->software_ids.end());  // CHOPSTICK
  EXPECT_EQ(a->sponsor_country, "Russian Federation");
  EXPECT_NE(std::find(a->victims.begin(), a->victims.end(), "Georgia"), a->victims.end());
  EXPECT_NE(std::find(a->aliases.begin(), a->aliases.end(), "Fancy Bear"), a->aliases.end());
  EXPECT_NE(std::find(a->aliases.begin(), a->aliases.end(), "Fighting Ursa"), a->aliases.end());
}

TEST(KbAttackData, CampaignAttributedToGroup) {
  const KnowledgeBase& kb = FullKb();
  const Campaign* c = kb.campaign("C0022");  // Operation Dream Job
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->name, "Operation Dream Job");
  EXPECT_EQ(c->actor_ids, std::vector<std::string>{"G0032"});
  const Actor* lazarus = kb.actor("G0032");
  ASSERT_NE(lazarus, nullptr);
  EXPECT_NE(std::find(lazarus->campaign_ids.begin(), lazarus->campaign_ids.end(), "C0022"),
            lazarus->campaign_ids.end());
}

TEST(KbAttackData, SubTechniqueHasParentAndTactics) {
  const Technique* t = FullKb().technique("T1566.001");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->name, "Spearphishing Attachment");
  EXPECT_EQ(t->parent_id, "T1566");
  EXPECT_EQ(t->tactics, std::vector<std::string>{"initial-access"});
}

struct Case {
  const char* query;
  EntityType type;
  const char* id;
};

TEST(KbAttackData, ResolvesAliasTable) {
  const KnowledgeBase& kb = FullKb();
  const Case cases[] = {
      {"APT28", EntityType::kActor, "G0007"},
      {"Fancy Bear", EntityType::kActor, "G0007"},
      {"Sofacy", EntityType::kActor, "G0007"},
      {"STRONTIUM", EntityType::kActor, "G0007"},
      {"APT 28", EntityType::kActor, "G0007"},
      {"apt-28", EntityType::kActor, "G0007"},
      {"Fancy-Bear", EntityType::kActor, "G0007"},
      {"Forest Blizzard", EntityType::kActor, "G0007"},
      {"Pawn Storm", EntityType::kActor, "G0007"},
      {"Sednit", EntityType::kActor, "G0007"},
      {"Fighting Ursa", EntityType::kActor, "G0007"},  // galaxy synonym only
      {"g0007", EntityType::kActor, "G0007"},
      {"Cozy Bear", EntityType::kActor, "G0016"},
      {"Midnight Blizzard", EntityType::kActor, "G0016"},
      {"Lazarus Group", EntityType::kActor, "G0032"},
      {"Sandworm Team", EntityType::kActor, "G0034"},
      {"Sandworm", EntityType::kActor, "G0034"},
      {"X-Agent", EntityType::kSoftware, "S0023"},
      {"XAgent", EntityType::kSoftware, "S0023"},
      {"CHOPSTICK", EntityType::kSoftware, "S0023"},
      {"SPLM", EntityType::kSoftware, "S0023"},
      {"Mimikatz", EntityType::kSoftware, "S0002"},
      {"Cobalt Strike", EntityType::kSoftware, "S0154"},
      {"CobaltStrike", EntityType::kSoftware, "S0154"},
      {"BEACON", EntityType::kSoftware, "S0154"},  // malpedia synonym
      {"Korplug", EntityType::kSoftware, "S0013"},
      {"T1566", EntityType::kTechnique, "T1566"},
      {"t1566.001", EntityType::kTechnique, "T1566.001"},
      {"Operation Dream Job", EntityType::kCampaign, "C0022"},
  };
  for (const Case& c : cases) {
    std::vector<Match> m = kb.Resolve(c.query, c.type);
    ASSERT_FALSE(m.empty()) << c.query;
    EXPECT_EQ(m.front().id, c.id) << c.query << " matched " << m.front().matched_text;
    EXPECT_FALSE(m.front().ambiguous) << c.query << " also " << (m.size() > 1 ? m[1].id : "");
  }
}

TEST(KbAttackData, SharedTechniqueNameIsAmbiguous) {
  // ATT&CK names two sub-techniques "Spearphishing Attachment" (T1566.001, T1598.002).
  std::vector<Match> m = FullKb().Resolve("Spearphishing Attachment", EntityType::kTechnique);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].id, "T1566.001");
  EXPECT_EQ(m[1].id, "T1598.002");
  EXPECT_TRUE(m[0].ambiguous);
  EXPECT_EQ(m[0].matched, "name");
}

TEST(KbAttackData, RevokedTechniqueResolvesToReplacement) {
  const KnowledgeBase& kb = FullKb();
  const Technique* old = kb.technique("T1066");  // Indicator Removal from Tools, revoked
  ASSERT_NE(old, nullptr);
  EXPECT_TRUE(old->revoked);
  ASSERT_FALSE(old->revoked_by.empty());
  EXPECT_EQ(old->revoked_by, "T1027.005");
  std::vector<Match> m = kb.Resolve("T1066", EntityType::kTechnique);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.front().id, "T1027.005");
  EXPECT_EQ(m.front().matched, "id");
  EXPECT_EQ(m.front().matched_text, "T1066");
}

TEST(KbAttackData, GrizzlySteppeIsAmbiguousBetweenApt28AndApt29) {
  std::vector<Match> m = FullKb().Resolve("Grizzly Steppe", EntityType::kActor);
  std::vector<std::string> ids;
  for (const Match& x : m) {
    ids.push_back(x.id);
    EXPECT_TRUE(x.ambiguous);
  }
  EXPECT_NE(std::find(ids.begin(), ids.end(), "G0007"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "G0016"), ids.end());
}

TEST(KbAttackData, ReportsNameToolsInLowerCaseAndMalwareInItsOwn) {
  const extract::NameCatalog catalog = extract::NameCatalog::FromKnowledgeBase(FullKb());
  extract::Extractor ex(&catalog);
  extract::Document doc;
  doc.text =
      "The operators ran mimikatz and psexec, then adfind. A first responder saw a sliver of "
      "traffic. The implant was chopstick, later CHOPSTICK.\n";
  const extract::Result r = ex.Extract(doc);
  std::vector<std::string> ids;
  for (const auto& s : r.software) ids.push_back(s.id);
  std::sort(ids.begin(), ids.end());
  // Mimikatz S0002, PsExec S0029, AdFind S0552 (tools, written in lower case); CHOPSTICK S0023
  // only as written; Responder and Sliver, tools named by English words, keep to their case.
  EXPECT_EQ(ids, (std::vector<std::string>{"S0002", "S0023", "S0029", "S0552"}));
}

// Unit 42's playbooks name the intrusion set after the malware when they name no actor: the KB
// knows "HermeticWiper" only as software (S0697), so it is the incident's tool, not its actor.
// Actors (by any name) and names the KB does not know stay stated actors.
TEST(KbAttackData, SoftwareStatedAsTheActorIsMovedToSoftware) {
  const KnowledgeBase& kb = FullKb();
  Incident inc;
  inc.attributions = {{"HermeticWiper", "", -1, "STIX"},
                      {"Sofacy", "", -1, "STIX"},
                      {"Winnti", "", -1, "STIX"},
                      {"Disco Team Threat Actor Group", "", -1, "STIX"}};
  inc.attributions[0].location = "objects[1]";
  EXPECT_TRUE(MoveSoftwareOutOfAttributions(kb, inc));
  std::vector<std::string> actors;
  for (const Attribution& a : inc.attributions) actors.push_back(a.actor_name);
  EXPECT_EQ(actors,
            (std::vector<std::string>{"Sofacy", "Winnti", "Disco Team Threat Actor Group"}));
  ASSERT_EQ(inc.software.size(), 1u);
  EXPECT_EQ(inc.software[0].id, "S0697");
  EXPECT_EQ(inc.software[0].kind, "malware");
  EXPECT_EQ(inc.software[0].location, "objects[1]");
  EXPECT_NE(inc.software[0].snippet.find("stated as the actor"), std::string::npos);
  EXPECT_FALSE(MoveSoftwareOutOfAttributions(kb, inc));  // nothing left to move

  // A tool the incident lists already is not listed twice.
  Incident listed;
  listed.attributions = {{"HermeticWiper", "", -1, "STIX"}};
  listed.software = {{"HermeticWiper", "S0697", "malware"}};
  EXPECT_TRUE(MoveSoftwareOutOfAttributions(kb, listed));
  EXPECT_TRUE(listed.attributions.empty());
  EXPECT_EQ(listed.software.size(), 1u);
}

TEST(KbAttackData, GalaxyOnlyActorKeepsClusterUuid) {
  const KnowledgeBase& kb = FullKb();
  EXPECT_GT(kb.actors().size(), 187u);  // galaxy-only actors join the ATT&CK groups
  std::vector<Match> m = kb.Resolve("APT-C-20", EntityType::kActor);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.front().id, "G0007");
}

TEST(KbAttackData, ImportAndLoadThroughStoreInSeconds) {
  Files f = DataFiles();
  std::string db = testing::TempDir() + "/kb.db";
  auto store = Store::Open(db);
  ASSERT_TRUE(store.ok()) << store.status();
  auto t0 = std::chrono::steady_clock::now();
  auto sum = Import(**store, {f.attack, f.threat_actor, f.intrusion_set, f.malpedia});
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sum.ok()) << sum.status();
  auto kb = KnowledgeBase::Load(**store);
  auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(kb.ok()) << kb.status();
  std::printf("import %.2f s, load %.3f s\n", std::chrono::duration<double>(t1 - t0).count(),
              std::chrono::duration<double>(t2 - t1).count());
  EXPECT_LT(std::chrono::duration<double>(t1 - t0).count(), 30.0);
  EXPECT_EQ(sum->sources.size(), 4u);
  EXPECT_EQ(kb->actors().size(), FullKb().actors().size());
  EXPECT_EQ(kb->software_list().size(), FullKb().software_list().size());
  EXPECT_EQ(kb->techniques().size(), 835u);
  ASSERT_FALSE(kb->Resolve("Fancy Bear").empty());
  EXPECT_EQ(kb->Resolve("Fancy Bear").front().id, "G0007");
}

}  // namespace
}  // namespace kinship::kb
