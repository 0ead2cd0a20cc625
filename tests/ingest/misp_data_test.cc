// Every MISP sample in $KINSHIP_DATA/samples/misp parses, with counts read off the files
// independently (python over the JSON: attributes by type, composites counted twice, tags).
#include <cctype>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kinship/ingest.h"
#include "testing/data.h"

namespace kinship::ingest {
namespace {

struct Expected {
  std::string file;
  std::string id;
  std::string title;
  std::string source;
  std::string first_seen;
  size_t indicators;
  std::map<std::string, size_t> by_type;
  size_t to_ids;
  Tlp tlp;
  size_t tags;
  std::vector<std::string> actors;  // MISP galaxy threat-actor attributions
  size_t warnings;                  // over-long context values dropped
  std::string location_prefix;      // JSON path of the first attribute
};

void PrintTo(const Expected& e, std::ostream* os) { *os << e.file; }

const Expected kSamples[] = {
    {"eset-sednit-2018-11-20_Zebrocy.json",
     "5be1e65d-8198-497b-bdf5-5ec20a016219",
     "Zebrocy blogpost November 2018",
     "ESET",
     "2018-11-06",
     47,
     {{"email", 11},
      {"filename", 15},
      {"md5", 5},
      {"other", 4},
      {"sha1", 5},
      {"sha256", 5},
      {"url", 2}},
     0,
     Tlp::kUnset,
     1,
     {"Sofacy"},
     0,
     "response[0].Event.Attribute["},
    {"eset-sshdoor-abafar.json",
     "5bad1b96-53bc-4148-87eb-50d50a016219",
     "SSHDoor : Abafar",
     "ESET",
     "2018-09-27",
     10,
     {{"filename", 1}, {"other", 1}, {"sha1", 8}},
     0,
     Tlp::kUnset,
     1,
     {},
     0,
     "Event.Attribute["},
    {"eset-turla-crutch.json",
     "47b9e2de-7283-4fd3-bf41-dcf9f19d8c62",
     "Turla Crutch: Keeping the \xE2\x80\x9C"
     "back door\xE2\x80\x9D open",
     "ESET",
     "2020-11-30",
     20,
     {{"domain", 4}, {"filename", 7}, {"other", 4}, {"sha1", 4}, {"url", 1}},
     0,
     Tlp::kUnset,
     1,
     {"Turla Group"},
     0,
     "response[0].Event.Attribute["},
    {"misp-core-tests-event.json",
     "54884656-2da8-4625-bf07-43ef950d210b",
     "OSINT - F-Secure W32/Regin, Stage #1",
     "CIRCL",
     "2014-12-10",
     38,
     {{"filename", 6}, {"md5", 27}, {"other", 2}, {"registry-key", 3}},
     30,
     Tlp::kUnset,
     1,
     {},
     0,
     "Event.Attribute["},
    // 370 attributes, 92 of them filename|hash composites (two indicators each); the last one is
    // a 12,799-byte snort rule, over kMaxIndicatorBytes, dropped with a warning (462 - 1).
    {"pymisp-long_event-four-element-sword.json",
     "57153590-f73c-49fa-be4b-4737950d210f",
     "OSINT - ASERT Threat Intelligence Report 2016-03 The Four-Element Sword Engagement",
     "CIRCL",
     "2016-04-18",
     461,
     {{"cve", 4},
      {"domain", 24},
      {"email", 2},
      {"email-subject", 2},
      {"filename", 113},
      {"imphash", 1},
      {"ipv4", 9},
      {"md5", 77},
      {"other", 66},
      {"pdb", 3},
      {"sha1", 58},
      {"sha256", 87},
      {"ssdeep", 1},
      {"url", 14}},
     346,
     Tlp::kClear,
     2,
     {},
     1,
     "Event.Attribute["},
    {"pymisp-misp_event.json",
     "5758ebf5-c898-48e6-9fe9-5665c0a83866",
     "A Random Event",
     "ORGNAME",
     "2016-06-09",
     2,
     {{"other", 1}, {"url", 1}},
     0,
     Tlp::kUnset,
     2,
     {},
     0,
     "Attribute["},
};

class MispSample : public ::testing::TestWithParam<Expected> {};

TEST_P(MispSample, ParsesWithExpectedCounts) {
  const Expected& e = GetParam();
  const std::string path = kinship::testing::DataPath("samples/misp/" + e.file);
  ASSERT_FALSE(path.empty());
  const std::string json = kinship::testing::ReadFileOrDie(path);
  auto out = ParseMisp(json, e.file, Options{});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  const Incident& inc = out->incidents[0];
  EXPECT_EQ(inc.id, e.id);
  EXPECT_EQ(inc.title, e.title);
  EXPECT_EQ(inc.source, e.source);
  EXPECT_EQ(inc.first_seen, e.first_seen);
  EXPECT_EQ(inc.indicators.size(), e.indicators);
  std::map<std::string, size_t> by_type;
  size_t to_ids = 0;
  for (const Indicator& i : inc.indicators) {
    ++by_type[std::string(IndicatorTypeName(i.type))];
    to_ids += i.to_ids;
    EXPECT_FALSE(i.raw.empty()) << i.location;
    EXPECT_THAT(i.location, ::testing::StartsWith(e.location_prefix));
  }
  EXPECT_EQ(by_type, e.by_type);
  EXPECT_EQ(to_ids, e.to_ids);
  EXPECT_EQ(inc.tlp, e.tlp);
  EXPECT_EQ(inc.tags.size(), e.tags);
  std::vector<std::string> actors;
  for (const Attribution& a : inc.attributions) {
    EXPECT_EQ(a.source, "MISP galaxy threat-actor");
    actors.push_back(a.actor_name);
  }
  EXPECT_EQ(actors, e.actors);
  EXPECT_TRUE(inc.techniques.empty());
  EXPECT_EQ(out->diagnostics.size(), e.warnings);
  for (const Diagnostic& d : out->diagnostics) {
    EXPECT_EQ(d.severity, Diagnostic::Severity::kWarning);
  }
}

INSTANTIATE_TEST_SUITE_P(Samples, MispSample, ::testing::ValuesIn(kSamples),
                         [](const ::testing::TestParamInfo<Expected>& p) {
                           std::string name;
                           for (char c : p.param.file) {
                             if (c == '.') break;
                             name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           }
                           return name;
                         });

TEST(MispSamples, LongEventDropsTheOverlongSnortRuleWithItsLocation) {
  const std::string json = kinship::testing::ReadFileOrDie(
      kinship::testing::DataPath("samples/misp/pymisp-long_event-four-element-sword.json"));
  auto out = ParseMisp(json, "long.json", Options{});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->diagnostics.size(), 1u);
  EXPECT_EQ(out->diagnostics[0].location, "Event.Attribute[369]");
  EXPECT_EQ(out->diagnostics[0].file, "long.json");
}

TEST(MispSamples, EveryManifestedMispSampleParses) {
  // Guards against a sample being added to the folder without expectations above.
  const std::string dir = kinship::testing::DataPath("samples/misp");
  ASSERT_FALSE(dir.empty());
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    auto out = ParseMisp(kinship::testing::ReadFileOrDie(entry.path().string()),
                         entry.path().filename().string(), Options{});
    EXPECT_TRUE(out.ok()) << out.status();
  }
  EXPECT_EQ(files, std::size(kSamples));
}

}  // namespace
}  // namespace kinship::ingest
