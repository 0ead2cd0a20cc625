#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "kinship/ingest.h"

namespace kinship::ingest {
namespace {

absl::StatusOr<ParseOutput> Parse(const std::string& json, bool skip = false) {
  Options o;
  o.skip_bad_records = skip;
  return ParseStix(json, "t.json", o);
}

const char kBundle[] = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"identity","id":"identity--1","name":"ACME CERT"},
 {"type":"report","id":"report--1","name":"Op X","published":"2020-01-02T00:00:00Z",
  "created_by_ref":"identity--1",
  "object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
  "object_refs":["indicator--1","attack-pattern--1","observed-data--1"]},
 {"type":"indicator","id":"indicator--1","pattern_type":"stix",
  "pattern":"[file:hashes.'SHA-256' = 'aa' OR url:value IN ('http://a/', 'http://b/')] AND [ipv4-addr:value != '1.1.1.1']"},
 {"type":"attack-pattern","id":"attack-pattern--1","name":"Phishing",
  "external_references":[{"source_name":"mitre-attack","external_id":"T1566"}]},
 {"type":"observed-data","id":"observed-data--1","objects":{"0":{"type":"domain-name","value":"evil.example"},
   "1":{"type":"network-traffic","extensions":{"http-request-ext":{"request_header":{"User-Agent":"UA/1"}}}}}},
 {"type":"malware","id":"malware--1","name":"X-Agent"},
 {"type":"intrusion-set","id":"intrusion-set--1","name":"Sofacy"},
 {"type":"relationship","id":"relationship--1","relationship_type":"indicates",
  "source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","relationship_type":"attributed-to","confidence":80,
  "source_ref":"indicator--1","target_ref":"intrusion-set--1"}
]})";

// The incident's actor is its intrusion set (what ATT&CK and the KB call a group), whatever the
// bundle's order: threat actors come after it, and those the intrusion set is attributed to
// (its sponsor, its operators) last, saying so. The first stated actor is what attribution's
// known side reads.
TEST(StixParser, IntrusionSetIsTheActorAndWhoIsBehindItComesLast) {
  const char kActors[] = R"({"type":"bundle","id":"bundle--2","objects":[
 {"type":"report","id":"report--2","name":"Op Y","published":"2021-05-01T00:00:00Z",
  "object_refs":["threat-actor--sponsor","threat-actor--other","intrusion-set--g","relationship--r"]},
 {"type":"threat-actor","id":"threat-actor--sponsor","name":"Ministry of Examples",
  "roles":["sponsor","director"]},
 {"type":"threat-actor","id":"threat-actor--other","name":"Lone Wolf"},
 {"type":"intrusion-set","id":"intrusion-set--g","name":"Example Panda"},
 {"type":"relationship","id":"relationship--r","relationship_type":"attributed-to",
  "source_ref":"intrusion-set--g","target_ref":"threat-actor--sponsor"}
]})";
  auto out = Parse(kActors);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  const std::vector<Attribution>& a = out->incidents[0].attributions;
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].actor_name, "Example Panda");
  EXPECT_EQ(a[0].snippet, "");
  EXPECT_EQ(a[1].actor_name, "Lone Wolf");
  EXPECT_EQ(a[2].actor_name, "Ministry of Examples");
  EXPECT_EQ(a[2].location, "objects[1]");
  EXPECT_EQ(a[2].snippet,
            "behind intrusion set Example Panda (attributed-to); roles: sponsor, director");
}

// Unit 42's playbooks name the intrusion set after the vulnerability when they name no actor
// (the shared sample cve-2023-23397.json): a CVE, kept as one and said, not an actor.
TEST(StixParser, IntrusionSetNamedAfterACveIsTheCveNotAnActor) {
  const char kCve[] = R"({"type":"bundle","id":"bundle--3","objects":[
 {"type":"report","id":"report--3","name":"CVE-2023-23397","published":"2023-04-04T00:00:00Z",
  "object_refs":["intrusion-set--c","intrusion-set--g"]},
 {"type":"intrusion-set","id":"intrusion-set--c","name":"cve-2023-23397"},
 {"type":"intrusion-set","id":"intrusion-set--g","name":"Fighting Ursa"}
]})";
  auto out = Parse(kCve);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  const Incident& inc = out->incidents[0];
  ASSERT_EQ(inc.attributions.size(), 1u);
  EXPECT_EQ(inc.attributions[0].actor_name, "Fighting Ursa");
  ASSERT_EQ(inc.indicators.size(), 1u);
  EXPECT_EQ(inc.indicators[0].type, IndicatorType::kCve);
  EXPECT_EQ(inc.indicators[0].location, "objects[1].name");
  ASSERT_EQ(out->diagnostics.size(), 1u);
  EXPECT_EQ(out->diagnostics[0].location, "objects[1]");
  EXPECT_TRUE(absl::StrContains(out->diagnostics[0].message, "names a vulnerability"));
}

// Unit 42's playbooks: the intrusion set's report lists its campaigns' reports, which carry the
// indicators but no actor. A listed report that states no actor of its own states the listing
// report's, saying so, down a chain of reports; one that states its own keeps it.
TEST(StixParser, ReportsListedByAReportStateItsActor) {
  const char kPlaybook[] = R"({"type":"bundle","id":"bundle--4","objects":[
 {"type":"report","id":"report--top","name":"Example Ursa","object_refs":["intrusion-set--u","report--mid","report--own"]},
 {"type":"intrusion-set","id":"intrusion-set--u","name":"Example Ursa"},
 {"type":"report","id":"report--mid","name":"Campaign A","object_refs":["indicator--a","report--leaf"]},
 {"type":"indicator","id":"indicator--a","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.7']"},
 {"type":"report","id":"report--leaf","name":"Campaign A, part 2","object_refs":["indicator--a"]},
 {"type":"report","id":"report--own","name":"Campaign B","object_refs":["intrusion-set--o"]},
 {"type":"intrusion-set","id":"intrusion-set--o","name":"Other Panda"},
 {"type":"report","id":"report--alone","name":"Unlisted","object_refs":["indicator--a"]}
]})";
  auto out = Parse(kPlaybook);
  ASSERT_TRUE(out.ok()) << out.status();
  std::map<std::string, std::vector<std::string>> actors;
  for (const Incident& inc : out->incidents) {
    for (const Attribution& a : inc.attributions) actors[inc.id].push_back(a.actor_name);
  }
  EXPECT_EQ(actors["report--top"], std::vector<std::string>{"Example Ursa"});
  EXPECT_EQ(actors["report--mid"], std::vector<std::string>{"Example Ursa"});
  EXPECT_EQ(actors["report--leaf"], std::vector<std::string>{"Example Ursa"});
  EXPECT_EQ(actors["report--own"], std::vector<std::string>{"Other Panda"});
  EXPECT_TRUE(actors["report--alone"].empty());
  // What each report lists is kept with it (for kb import to pass an actor down again): reports
  // only, in its order.
  std::map<std::string, std::vector<std::string>> lists;
  for (const Incident& inc : out->incidents) lists[inc.id] = inc.lists;
  EXPECT_EQ(lists["report--top"], (std::vector<std::string>{"report--mid", "report--own"}));
  EXPECT_EQ(lists["report--mid"], std::vector<std::string>{"report--leaf"});
  EXPECT_TRUE(lists["report--leaf"].empty());
  EXPECT_TRUE(lists["report--alone"].empty());
  for (const Incident& inc : out->incidents) {
    if (inc.id != "report--leaf") continue;
    EXPECT_EQ(inc.attributions[0].snippet,
              "stated by the containing report 'Campaign A' (report--mid); stated by the "
              "containing report 'Example Ursa' (report--top)");
  }
}

// A report's description is its prose: read as a MISP event report is, adding what the objects
// do not say, located in it; a report it lists takes the actor it states.
TEST(StixParser, ReportDescriptionIsReadAsProse) {
  const char kDescribed[] = R"({"type":"bundle","id":"bundle--6","objects":[
 {"type":"report","id":"report--d","name":"Op Y","object_refs":["indicator--y","report--child"],
  "description":"Op Y targeted ministries.\n\nThe implant beacons to hxxps://c2[.]evil-domain[.]com/gate and to 185.220.101.47. The operation was carried out by APT28. Initial access used T1566.001."},
 {"type":"indicator","id":"indicator--y","pattern_type":"stix","pattern":"[ipv4-addr:value = '185.220.101.47']"},
 {"type":"report","id":"report--child","name":"Op Y, part 2","object_refs":["indicator--y"]},
 {"type":"grouping","id":"grouping--g","name":"Loose ends","context":"suspicious-activity","object_refs":["indicator--y"],
  "description":"Nothing here states who did it."}
]})";
  auto out = Parse(kDescribed);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 3u);
  const Incident& d = out->incidents[0];
  ASSERT_EQ(d.id, "report--d");
  // The address is the indicator's pattern value, written the same way: not added again. The URL
  // is new, located in the description.
  std::vector<std::string> raws;
  for (const Indicator& i : d.indicators) raws.push_back(i.raw);
  EXPECT_EQ(raws,
            (std::vector<std::string>{"185.220.101.47", "hxxps://c2[.]evil-domain[.]com/gate"}));
  EXPECT_EQ(d.indicators[1].location, "objects[0].description:3:24");
  ASSERT_EQ(d.techniques.size(), 1u);
  EXPECT_EQ(d.techniques[0].id, "T1566.001");
  EXPECT_TRUE(absl::StartsWith(d.techniques[0].location, "objects[0].description:3:"));
  ASSERT_EQ(d.attributions.size(), 1u);
  EXPECT_EQ(d.attributions[0].actor_name, "APT28");
  EXPECT_EQ(d.attributions[0].source, "STIX report description");
  EXPECT_TRUE(absl::StrContains(d.attributions[0].snippet, "carried out by APT28"));
  // The listed report states nothing itself: the description's actor reaches it.
  const Incident& child = out->incidents[1];
  ASSERT_EQ(child.id, "report--child");
  ASSERT_EQ(child.attributions.size(), 1u);
  EXPECT_EQ(child.attributions[0].actor_name, "APT28");
  EXPECT_TRUE(absl::StartsWith(child.attributions[0].snippet,
                               "stated by the containing report 'Op Y' (report--d)"));
  // A description that states no actor and names no indicator adds nothing.
  const Incident& g = out->incidents[2];
  EXPECT_EQ(g.description, "Nothing here states who did it.");
  EXPECT_TRUE(g.attributions.empty());
  EXPECT_EQ(g.indicators.size(), 1u);
}

TEST(StixParser, ReportBecomesIncidentWithFollowedRelationships) {
  auto out = Parse(kBundle);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  const Incident& inc = out->incidents[0];
  EXPECT_EQ(inc.id, "report--1");
  EXPECT_EQ(inc.title, "Op X");
  EXPECT_EQ(inc.source, "ACME CERT");
  EXPECT_EQ(inc.tlp, Tlp::kGreen);
  EXPECT_EQ(inc.first_seen, "2020-01-02T00:00:00Z");
  ASSERT_EQ(inc.indicators.size(), 5u);
  EXPECT_EQ(inc.indicators[0].type, IndicatorType::kSha256);
  EXPECT_EQ(inc.indicators[0].raw, "aa");
  EXPECT_EQ(inc.indicators[0].location, "objects[2].pattern:1");
  EXPECT_EQ(inc.indicators[1].type, IndicatorType::kUrl);
  EXPECT_EQ(inc.indicators[2].raw, "http://b/");
  EXPECT_EQ(inc.indicators[3].type, IndicatorType::kDomain);
  EXPECT_EQ(inc.indicators[3].location, "objects[4].objects.0.value");
  EXPECT_EQ(inc.indicators[4].type, IndicatorType::kUserAgent);
  EXPECT_EQ(inc.indicators[4].raw, "UA/1");
  ASSERT_EQ(inc.techniques.size(), 1u);
  EXPECT_EQ(inc.techniques[0].id, "T1566");
  EXPECT_EQ(inc.techniques[0].location, "objects[3]");  // where the bundle defines it
  ASSERT_EQ(inc.software.size(), 1u);
  EXPECT_EQ(inc.software[0].name, "X-Agent");
  EXPECT_EQ(inc.software[0].kind, "malware");
  EXPECT_EQ(inc.software[0].location, "objects[5]");
  ASSERT_EQ(inc.attributions.size(), 1u);
  EXPECT_EQ(inc.attributions[0].actor_name, "Sofacy");
  EXPECT_EQ(inc.attributions[0].location, "objects[6]");
  EXPECT_EQ(inc.attributions[0].confidence, 80);
  EXPECT_EQ(inc.attributions[0].source, "ACME CERT");
}

// Only what a pattern states a value equals, or an address's network, becomes an indicator:
// not a LIKE or MATCHES pattern, not a NOT, not a superset.
TEST(StixParser, PatternValuesAndNetworks) {
  auto out = Parse(R"({"type":"bundle","id":"bundle--8","objects":[
    {"type":"indicator","id":"indicator--1","pattern_type":"stix","pattern":
     "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] OR [ipv6-addr:value ISSUBSET '2001:db8::/32'] OR [url:value LIKE 'http://%.evil.com/%'] OR [email-addr:value MATCHES '.+@evil\\\\.com$'] OR [ipv4-addr:value NOT = '10.0.0.1'] OR [ipv4-addr:value ISSUPERSET '192.0.2.7'] OR [domain-name:value = 'evil.example']"}]})");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  std::vector<std::string> raw;
  for (const Indicator& i : out->incidents[0].indicators) raw.push_back(i.raw);
  EXPECT_EQ(raw, (std::vector<std::string>{"198.51.100.0/24", "2001:db8::/32", "evil.example"}));
}

// Versions of one object (STIX 2.1 section 3.6): the one modified last is the object, wherever
// the bundle lists it; a timestamp's digits of a second do not change its time, and of two
// versions modified at the same time the later in the bundle is read.
TEST(StixParser, TheVersionModifiedLastIsTheObject) {
  auto out = Parse(R"({"type":"bundle","id":"bundle--v","objects":[
    {"type":"report","id":"report--v","name":"Op V, revised","modified":"2021-03-01T00:00:00.5Z",
     "object_refs":["indicator--v","malware--v"]},
    {"type":"report","id":"report--v","name":"Op V","modified":"2021-03-01T00:00:00Z",
     "object_refs":["indicator--v"]},
    {"type":"indicator","id":"indicator--v","pattern_type":"stix","modified":"2021-01-01T00:00:00.100Z",
     "pattern":"[domain-name:value = 'second.example']"},
    {"type":"indicator","id":"indicator--v","pattern_type":"stix","modified":"2021-01-01T00:00:00.1Z",
     "pattern":"[domain-name:value = 'third.example']"},
    {"type":"malware","id":"malware--v","name":"X-Agent","modified":"2020-01-01T00:00:00Z"}]})");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  const Incident& inc = out->incidents[0];
  EXPECT_EQ(inc.title, "Op V, revised");
  EXPECT_EQ(inc.provenance.source_modified, "2021-03-01T00:00:00.5Z") << "the report's version";
  ASSERT_EQ(inc.indicators.size(), 1u);
  EXPECT_EQ(inc.indicators[0].raw, "third.example");
  ASSERT_EQ(inc.software.size(), 1u);
  EXPECT_EQ(inc.software[0].name, "X-Agent");
}

// An object whose version read is revoked is withdrawn by its producer: left out, as if the
// bundle did not hold it, and said at its place.
TEST(StixParser, RevokedObjectsAreLeftOutWithAWarning) {
  auto out = Parse(R"({"type":"bundle","id":"bundle--r","objects":[
    {"type":"report","id":"report--kept","name":"Op K",
     "object_refs":["indicator--kept","indicator--gone"]},
    {"type":"report","id":"report--withdrawn","name":"Op W","revoked":true,
     "object_refs":["indicator--kept"]},
    {"type":"indicator","id":"indicator--kept","pattern_type":"stix",
     "pattern":"[domain-name:value = 'kept.example']"},
    {"type":"indicator","id":"indicator--gone","pattern_type":"stix","revoked":true,
     "pattern":"[domain-name:value = 'gone.example']"},
    {"type":"intrusion-set","id":"intrusion-set--x","name":"Example Panda"},
    {"type":"relationship","id":"relationship--gone","relationship_type":"attributed-to",
     "revoked":true,"source_ref":"indicator--kept","target_ref":"intrusion-set--x"},
    {"type":"intrusion-set","id":"intrusion-set--y","name":"Other Panda","revoked":false},
    {"type":"relationship","id":"relationship--kept","relationship_type":"attributed-to",
     "source_ref":"indicator--kept","target_ref":"intrusion-set--y"}]})");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  const Incident& inc = out->incidents[0];
  EXPECT_EQ(inc.id, "report--kept");
  ASSERT_EQ(inc.indicators.size(), 1u);
  EXPECT_EQ(inc.indicators[0].raw, "kept.example");
  // Its indicator is attributed to two intrusion sets; the one relationship is revoked.
  ASSERT_EQ(inc.attributions.size(), 1u);
  EXPECT_EQ(inc.attributions[0].actor_name, "Other Panda");
  std::vector<std::string> warned;
  for (const Diagnostic& d : out->diagnostics) {
    EXPECT_TRUE(absl::StrContains(d.message, "is revoked by its producer: left out")) << d.message;
    warned.push_back(d.location);
  }
  EXPECT_EQ(warned, (std::vector<std::string>{"objects[1]", "objects[3]", "objects[5]"}));
}

// Whom the incident's objects target is its victim: the first sector of a targeted identity and
// the country of a targeted location (or an identity's x_cta_country), the first of each; an
// identity nothing targets (the producer) is no victim.
TEST(StixParser, WhatItsObjectsTargetIsTheVictim) {
  auto out = Parse(R"({"type":"bundle","id":"bundle--t","objects":[
    {"type":"identity","id":"identity--producer","name":"ACME CERT","sectors":["technology"]},
    {"type":"report","id":"report--t","name":"Op T","created_by_ref":"identity--producer",
     "object_refs":["intrusion-set--t","relationship--t1","relationship--t2"]},
    {"type":"intrusion-set","id":"intrusion-set--t","name":"Example Panda"},
    {"type":"identity","id":"identity--victims","name":"Ministries","identity_class":"class",
     "sectors":["government-national","defense"]},
    {"type":"location","id":"location--de","country":"DE"},
    {"type":"relationship","id":"relationship--t1","relationship_type":"targets",
     "source_ref":"intrusion-set--t","target_ref":"identity--victims"},
    {"type":"relationship","id":"relationship--t2","relationship_type":"targets",
     "source_ref":"intrusion-set--t","target_ref":"location--de"}]})");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  EXPECT_EQ(out->incidents[0].victim.sector, "government-national");
  EXPECT_EQ(out->incidents[0].victim.country, "DE");
  EXPECT_EQ(out->incidents[0].victim.organisation, "");
}

TEST(StixParser, BundleWithoutReportIsOneIncident) {
  auto out = Parse(R"({"type":"bundle","id":"bundle--9","objects":[
    {"type":"ipv4-addr","id":"ipv4-addr--1","value":"198.51.100.3"},
    {"type":"file","id":"file--1","name":"a.exe","hashes":{"MD5":"00","SHA-1":"11","X":"2"}},
    {"type":"autonomous-system","id":"autonomous-system--1","number":15139}]})");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  EXPECT_EQ(out->incidents[0].id, "bundle--9");
  ASSERT_EQ(out->incidents[0].indicators.size(), 5u);
  EXPECT_EQ(out->incidents[0].indicators[4].type, IndicatorType::kAsn);
  EXPECT_EQ(out->incidents[0].indicators[4].raw, "15139");
}

TEST(StixParser, RejectsMalformedPatternWithItsPosition) {
  auto out = Parse(R"({"type":"bundle","id":"bundle--1","objects":[
    {"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4'"}]})");
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(),
            "t.json:objects[0].pattern: char 28: expected ']' or AND/OR, found end of pattern");
}

TEST(StixParser, SkipsBadPatternWhenAsked) {
  auto out = Parse(R"({"type":"bundle","id":"bundle--1","objects":[
    {"type":"indicator","id":"indicator--1","pattern":"[a:b = "},
    {"type":"indicator","id":"indicator--2","pattern":"[domain-name:value = 'x.example']"}]})",
                   /*skip=*/true);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->diagnostics.size(), 1u);
  EXPECT_EQ(out->diagnostics[0].location, "objects[0].pattern");
  ASSERT_EQ(out->incidents.at(0).indicators.size(), 1u);
}

TEST(StixParser, RejectsObjectWithoutType) {
  auto out = Parse(R"({"type":"bundle","id":"bundle--1","objects":[{"id":"x--1"}]})");
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "t.json:objects[0]: object without a type");
}

TEST(StixParser, RejectsBrokenJsonWithLineAndColumn) {
  auto out = Parse("{\"type\":\"bundle\",\n \"objects\": [}");
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(out.status().message(), "t.json:2:")) << out.status();
}

TEST(StixParser, RejectsDeepJsonAsResourceExhausted) {
  std::string deep =
      R"({"type":"bundle","id":"b","x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(Parse(deep).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(StixParser, SingleObjectIsItsOwnIncident) {
  auto out = Parse(R"({"type":"indicator","id":"indicator--7","name":"C2",
    "pattern":"[ipv6-addr:value = '2001:db8::1'] OR [email-addr:value = 'a@b.example']"})");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  EXPECT_EQ(out->incidents[0].id, "indicator--7");
  EXPECT_EQ(out->incidents[0].title, "C2");
  EXPECT_EQ(out->incidents[0].indicators.size(), 2u);
}

}  // namespace
}  // namespace kinship::ingest
