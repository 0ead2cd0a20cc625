// Knowledge base on small in-memory ATT&CK and galaxy documents.
#include "kinship/kb.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "kb/internal.h"
#include "kinship/store.h"
#include "testing/data.h"

namespace kinship::kb {
namespace {

constexpr char kBundle[] = R"({"type":"bundle","id":"bundle--1","objects":[
{"type":"x-mitre-collection","id":"x-mitre-collection--1","name":"Enterprise ATT&CK","x_mitre_version":"9.9"},
{"type":"intrusion-set","id":"intrusion-set--aaaa","name":"APT28","aliases":["APT28","Sofacy"],
 "external_references":[{"source_name":"mitre-attack","external_id":"G0007"}]},
{"type":"malware","id":"malware--bbbb","name":"CHOPSTICK","x_mitre_aliases":["CHOPSTICK","X-Agent"],
 "external_references":[{"source_name":"mitre-attack","external_id":"S0023"}]},
{"type":"attack-pattern","id":"attack-pattern--old","name":"Old","revoked":true,
 "external_references":[{"source_name":"mitre-attack","external_id":"T1066"}]},
{"type":"attack-pattern","id":"attack-pattern--new","name":"New",
 "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"defense-evasion"}],
 "external_references":[{"source_name":"mitre-attack","external_id":"T1027"}]},
{"type":"relationship","id":"relationship--1","relationship_type":"revoked-by",
 "source_ref":"attack-pattern--old","target_ref":"attack-pattern--new"},
{"type":"relationship","id":"relationship--2","relationship_type":"uses",
 "source_ref":"intrusion-set--aaaa","target_ref":"attack-pattern--old"},
{"type":"relationship","id":"relationship--3","relationship_type":"uses",
 "source_ref":"intrusion-set--aaaa","target_ref":"malware--bbbb"}]})";

constexpr char kGalaxy[] = R"({"type":"threat-actor","uuid":"g","version":3,"values":[
{"value":"Fancy Bear","uuid":"c1","meta":{"synonyms":["STRONTIUM","G0007","Grizzly Steppe"],
 "cfr-suspected-state-sponsor":"Russian Federation"},"related":[{"dest-uuid":"aaaa","type":"similar"}]},
{"value":"Cozy Bear","uuid":"c2","meta":{"synonyms":["Grizzly Steppe"]}}]})";

KnowledgeBase Build() {
  std::vector<internal::ParsedSource> s;
  for (const char* doc : {kBundle, kGalaxy}) {
    auto p = internal::ParseKbFile(doc, "mem.json");
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) s.push_back(std::move(*p));
  }
  return internal::BuildKnowledgeBase(std::move(s));
}

TEST(KbBuild, GalaxySynonymsJoinAttackGroup) {
  KnowledgeBase kb = Build();
  for (const char* q : {"APT 28", "apt-28", "Fancy-Bear", "strontium", "Sofacy"}) {
    auto m = kb.Resolve(q, EntityType::kActor);
    ASSERT_FALSE(m.empty()) << q;
    EXPECT_EQ(m.front().id, "G0007") << q;
    EXPECT_FALSE(m.front().ambiguous) << q;
  }
  EXPECT_EQ(kb.actor("G0007")->sponsor_country, "Russian Federation");
  EXPECT_EQ(kb.Resolve("Fancy Bear").front().matched, "synonym");
  EXPECT_EQ(kb.Resolve("APT 28").front().matched, "variant");
}

TEST(KbBuild, SharedSynonymIsAmbiguous) {
  auto m = Build().Resolve("Grizzly Steppe", EntityType::kActor);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_TRUE(m[0].ambiguous);
  EXPECT_TRUE(m[1].ambiguous);
}

TEST(KbBuild, RevokedIdFollowsReplacement) {
  KnowledgeBase kb = Build();
  auto m = kb.Resolve("T1066", EntityType::kTechnique);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].id, "T1027");
  EXPECT_EQ(kb.actor("G0007")->technique_ids, std::vector<std::string>{"T1027"});
  EXPECT_EQ(kb.Resolve("XAgent", EntityType::kSoftware).front().id, "S0023");
}

TEST(KbBuild, CompoundNameResolvesThroughItsParts) {
  KnowledgeBase kb = Build();
  // A STIX tool named "Long Name (SHORT)", a tag "Alias (Name)", a pair "A / B": one entity.
  for (const char* q : {"Sofacy (APT28)", "APT28 / Fancy Bear", "Fancy Bear (Russia)"}) {
    auto m = kb.Resolve(q, EntityType::kActor);
    ASSERT_EQ(m.size(), 1u) << q;
    EXPECT_EQ(m[0].id, "G0007") << q;
    EXPECT_EQ(m[0].matched, "part") << q;
    EXPECT_FALSE(m[0].ambiguous) << q;
    EXPECT_LT(m[0].score, 1.0) << q;
  }
  EXPECT_EQ(kb.Resolve("Unknown Tool (X-Agent)", EntityType::kSoftware).front().id, "S0023");
  // Parts naming different actors: ambiguous, so ingest links neither.
  auto two = kb.Resolve("APT28 / Cozy Bear", EntityType::kActor);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_TRUE(two[0].ambiguous);
  // A whole name that resolves is never split; parts that name nothing give nothing.
  EXPECT_EQ(kb.Resolve("Fancy Bear").front().matched, "synonym");
  EXPECT_TRUE(kb.Resolve("Nobody (Nowhere)").empty());
}

TEST(KbParse, RejectsTruncatedBundleWithLocation) {
  std::string doc = kBundle;
  doc.resize(doc.size() / 2);
  auto p = internal::ParseKbFile(doc, "cut.json");
  ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("cut.json:"), std::string_view::npos);
}

TEST(KbParse, RejectsObjectWithoutIdWithPath) {
  auto p = internal::ParseKbFile(R"({"type":"bundle","objects":[{"type":"malware"}]})", "x.json");
  ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("objects[0].id"), std::string_view::npos);
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(KbImport, TruncatedFileLeavesPreviousKbIntact) {
  std::string dir = testing::TempDir();
  Write(dir + "/a.json", kBundle);
  Write(dir + "/g.json", kGalaxy);
  std::string cut = kBundle;
  cut.resize(cut.size() - 20);
  Write(dir + "/cut.json", cut);
  auto store = Store::Open(dir + "/kb.db");
  ASSERT_TRUE(store.ok()) << store.status();
  auto sum = Import(**store, {dir + "/a.json", dir + "/g.json"});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->sources.size(), 2u);
  auto bad = Import(**store, {dir + "/cut.json"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto kb = KnowledgeBase::Load(**store);
  ASSERT_TRUE(kb.ok()) << kb.status();
  EXPECT_EQ(kb->sources().size(), 2u);
  EXPECT_EQ(kb->Resolve("STRONTIUM").front().id, "G0007");
  EXPECT_EQ(kb->technique("T1066")->revoked_by, "T1027");
}

}  // namespace
}  // namespace kinship::kb
