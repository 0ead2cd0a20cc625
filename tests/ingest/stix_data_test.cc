// Every shared STIX sample parses without error, with counts computed independently of kinship
// (a Python reading of each file: reports/groupings and their object_refs plus one hop along
// indicates/uses/attributed-to; equality comparisons on known object paths; distinct
// attack-pattern, malware/tool and intrusion-set/threat-actor names; an intrusion set named after
// a CVE counts as that CVE, with one warning, not as an actor; a report listed by a report that
// states an actor, and stating none itself, states that one).
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "kinship/ingest.h"
#include "testing/data.h"

namespace kinship::ingest {
namespace {

using ::kinship::testing::DataPath;
using ::kinship::testing::ReadFileOrDie;

struct Expected {
  std::string id;
  size_t indicators, techniques, software, attributions;
};

struct Sample {
  std::string file;
  std::vector<Expected> incidents;
  size_t warnings = 0;
};

const std::vector<Sample>& Samples() {
  static const auto* samples = new std::vector<Sample>{
      {"stix20/mitre-cti/intrusion-set--APT28.json",
       {{"bundle--1d482ecb-47aa-41c9-bef7-6bb3e4ec39e1", 0, 0, 0, 1}}},
      {"stix20/unit42-iocs/cve-2023-23397.json",
       {{"report--aba19b6f-543f-4a83-b7e1-056999d04384", 1, 0, 0, 0},
        {"report--13ff5148-84db-4cbf-826f-3f0c2a721b69", 10, 4, 0, 0}},
       1},
      {"stix20/unit42-iocs/pymicropsia-trojan.json",
       {{"report--146dfc10-b7ad-48c3-8c53-1a732aec75d1", 35, 11, 0, 0}}},
      {"stix20/unit42-playbooks/cloaked-ursa.json",
       {{"report--bb37cc00-8e88-4223-beb3-9bc53a6192c9", 0, 0, 0, 1},
        {"report--8d6e56a9-a66d-4cc2-b3a6-d668122d7118", 32, 16, 0, 1},
        {"report--f4074b75-578a-4a98-b0bf-c4fd8284869d", 28, 13, 0, 1}}},
      {"stix20/unit42-playbooks/hermeticwiper.json",
       {{"report--e5388435-2f21-4cb1-bf43-3e2b990461e1", 0, 0, 0, 1},
        {"report--43f3044c-b64b-44f4-8549-fb038be70938", 14, 6, 1, 1}}},
      {"stix21/oasis/apt1.json", {{"report--e33ffe07-2f4c-48d8-b0af-ee2619d765cf", 12, 7, 16, 6}}},
      {"stix21/oasis/defining-campaigns-threat-actors-intrusion-sets.json",
       {{"bundle--97b40f76-c1b8-4407-b050-ff177f3d67ed", 0, 2, 0, 2}}},
      {"stix21/oasis/identifying-a-threat-actor-profile.json",
       {{"bundle--601cee35-6b16-4e68-a3e7-9ec7d755b4c3", 0, 0, 0, 1}}},
      {"stix21/oasis/indicator-for-c2-ip-address.json",
       {{"bundle--44af6c39-c09b-49c5-9de2-394224b04982", 1, 0, 0, 0}}},
      {"stix21/oasis/indicator-for-malicious-url.json",
       {{"bundle--56be2a3b-1534-4bef-8fe9-602926274089", 1, 0, 1, 0}}},
      {"stix21/oasis/indicator-to-campaign-relationship.json",
       {{"bundle--44af6c39-c09b-49c5-9de2-394224b04982", 1, 0, 0, 0}}},
      {"stix21/oasis/indicators-for-C2-with-COA.json",
       {{"bundle--63fe3b22-0201-47cf-85d0-97c02164528d", 2, 0, 1, 0}}},
      {"stix21/oasis/infrastructure.json",
       {{"bundle--5330e3e3-8f58-4d21-9f4b-793a054c0d33", 2, 0, 2, 0}}},
      {"stix21/oasis/interop-objectmarking-test.json",
       {{"campaign--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", 0, 0, 0, 0}}},
      {"stix21/oasis/malicious-email-indicator-with-attachment.json",
       {{"bundle--8b8ed1c1-f01d-4393-ac65-97017ed15876", 0, 1, 0, 0}}},
      {"stix21/oasis/malware-indicator-for-file-hash.json",
       {{"bundle--2a25c3c8-5d88-4ae9-862a-cc3396442317", 1, 0, 1, 0}}},
      {"stix21/oasis/sighting-of-an-indicator.json",
       {{"bundle--2ac7882f-76a3-4a9b-97b3-811b3af1c7c0", 1, 0, 0, 0}}},
      {"stix21/oasis/sighting-of-observed-data.json",
       {{"bundle--1affa123-0a4f-4fc5-81c6-fc1b058f9e44", 4, 0, 1, 0}}},
      {"stix21/oasis/threat-actor-leveraging-attack-patterns-and-malware.json",
       {{"bundle--0ecd8123-90d5-46e0-9cd4-65d4999b3a2e", 0, 1, 1, 1}}},
      {"stix21/oasis/using-granular-markings.json",
       {{"bundle--f0af3c36-a642-4cb0-8526-b4ca899cc1db", 0, 0, 0, 1}}},
      {"stix21/oasis/using-marking-definitions.json",
       {{"bundle--dbe491fe-6faf-4125-b019-d8938bc0294d", 1, 0, 0, 0}}},
  };
  return *samples;
}

absl::StatusOr<ParseOutput> ParseSample(const std::string& rel) {
  const std::string path = DataPath("samples/" + rel);
  return ParseStix(ReadFileOrDie(path), rel, Options{});
}

TEST(StixData, EverySampleParsesWithIndependentlyCountedContents) {
  for (const Sample& s : Samples()) {
    SCOPED_TRACE(s.file);
    auto out = ParseSample(s.file);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->diagnostics.size(), s.warnings)
        << (out->diagnostics.empty() ? "" : out->diagnostics.front().message);
    ASSERT_EQ(out->incidents.size(), s.incidents.size());
    for (size_t i = 0; i < s.incidents.size(); ++i) {
      const Incident& inc = out->incidents[i];
      const Expected& e = s.incidents[i];
      EXPECT_EQ(inc.id, e.id);
      EXPECT_EQ(inc.indicators.size(), e.indicators) << inc.id;
      EXPECT_EQ(inc.techniques.size(), e.techniques) << inc.id;
      EXPECT_EQ(inc.software.size(), e.software) << inc.id;
      EXPECT_EQ(inc.attributions.size(), e.attributions) << inc.id;
      for (const Indicator& ind : inc.indicators) {
        EXPECT_FALSE(ind.raw.empty());
        EXPECT_FALSE(ind.location.empty());
      }
    }
  }
}

TEST(StixData, ListsEverySampleInTheManifest) {
  const std::string manifest = ReadFileOrDie(DataPath("samples/manifest.json"));
  size_t listed = 0;
  for (size_t at = manifest.find("\"file\": \"stix"); at != std::string::npos;
       at = manifest.find("\"file\": \"stix", at + 1)) {
    ++listed;
  }
  EXPECT_EQ(listed, Samples().size());
}

TEST(StixData, Apt1ReportKeepsSourceDatesAndAttackIds) {
  auto out = ParseSample("stix21/oasis/apt1.json");
  ASSERT_TRUE(out.ok()) << out.status();
  const Incident& inc = out->incidents.at(0);
  EXPECT_EQ(inc.title, "APT1: Exposing One of China's Cyber Espionage Units");
  EXPECT_EQ(inc.first_seen, "2013-02-19T00:00:00.000000Z");
  EXPECT_EQ(inc.tlp, Tlp::kUnset);
}

TEST(StixData, MarkingDefinitionsBecomeTlp) {
  auto amber = ParseSample("stix21/oasis/using-marking-definitions.json");
  ASSERT_TRUE(amber.ok()) << amber.status();
  EXPECT_EQ(amber->incidents.at(0).tlp, Tlp::kAmber);
  auto red = ParseSample("stix21/oasis/interop-objectmarking-test.json");
  ASSERT_TRUE(red.ok()) << red.status();
  EXPECT_EQ(red->incidents.at(0).tlp, Tlp::kRed);
}

TEST(StixData, Unit42IndicatorsKeepTheirPatternValues) {
  auto out = ParseSample("stix20/unit42-iocs/pymicropsia-trojan.json");
  ASSERT_TRUE(out.ok()) << out.status();
  size_t sha256 = 0;
  for (const Indicator& ind : out->incidents.at(0).indicators) {
    if (ind.type == IndicatorType::kSha256) {
      ++sha256;
      EXPECT_EQ(ind.raw.size(), 64u) << ind.raw;
    }
  }
  EXPECT_GT(sha256, 0u);
  // Unit 42 names its attack patterns "T1113: Screen Capture": the name is kept without the id.
  const std::vector<Technique>& techniques = out->incidents.at(0).techniques;
  ASSERT_FALSE(techniques.empty());
  EXPECT_EQ(techniques[0].id, "T1113");
  EXPECT_EQ(techniques[0].name, "Screen Capture");
}

// Unit 42's playbooks say whom each campaign targets: a `targets` relationship to an identity
// with its sectors and, in the Cyber Threat Alliance's x_cta_country, its countries (read with
// Python: cloaked-ursa's campaigns target government in BR and PT, and education and
// government-national in the US; hermeticwiper's, government in LT, LV and UA). The first of
// each is the victim. An identity nothing targets (a sighting's, the producer's) is no victim.
TEST(StixData, Unit42PlaybooksStateWhomTheirCampaignsTarget) {
  auto ursa = ParseSample("stix20/unit42-playbooks/cloaked-ursa.json");
  ASSERT_TRUE(ursa.ok()) << ursa.status();
  ASSERT_EQ(ursa->incidents.size(), 3u);
  EXPECT_EQ(ursa->incidents[0].victim.sector, "");  // the playbook lists the campaigns' reports
  EXPECT_EQ(ursa->incidents[1].victim.sector, "government");
  EXPECT_EQ(ursa->incidents[1].victim.country, "BR");
  EXPECT_EQ(ursa->incidents[2].victim.sector, "education");
  EXPECT_EQ(ursa->incidents[2].victim.country, "US");
  auto wiper = ParseSample("stix20/unit42-playbooks/hermeticwiper.json");
  ASSERT_TRUE(wiper.ok()) << wiper.status();
  ASSERT_EQ(wiper->incidents.size(), 2u);
  EXPECT_EQ(wiper->incidents[1].victim.sector, "government");
  EXPECT_EQ(wiper->incidents[1].victim.country, "LT");
  auto sighting = ParseSample("stix21/oasis/sighting-of-an-indicator.json");
  ASSERT_TRUE(sighting.ok()) << sighting.status();
  EXPECT_EQ(sighting->incidents.at(0).victim.sector, "");
}

TEST(StixData, AttackEnterpriseBundleParses) {
  const std::string path = DataPath("mitre-attack/enterprise-attack-18.1.json");
  auto out = ParseStix(ReadFileOrDie(path), "enterprise-attack-18.1.json", Options{});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  const Incident& inc = out->incidents[0];
  // Counts from a Python reading of the bundle (distinct (external_id, name) and names), its
  // 140 revoked objects left out (132 techniques, 2 software, 6 groups): each is warned of.
  EXPECT_EQ(inc.id, "bundle--6f0a7d2e-3c41-4b9a-9d1e-a77ac0e18f01");
  EXPECT_EQ(inc.techniques.size(), 703u);
  EXPECT_EQ(inc.software.size(), 785u);
  EXPECT_EQ(inc.attributions.size(), 181u);
  EXPECT_EQ(inc.indicators.size(), 0u);
  size_t revoked = 0;
  for (const Diagnostic& d : out->diagnostics) {
    revoked += absl::StrContains(d.message, "is revoked by its producer: left out");
  }
  EXPECT_EQ(revoked, 140u);
}

}  // namespace
}  // namespace kinship::ingest
