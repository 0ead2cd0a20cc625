#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/json_syntax.h"
#include "ingest/misp/misp_galaxy.h"
#include "ingest/misp/misp_types.h"
#include "kinship/ingest.h"
#include "kinship/limits.h"
#include "testing/data.h"
#include "util/sha256.h"

namespace kinship::ingest {
namespace {

using ::testing::HasSubstr;

ParseOutput ParseOk(const std::string& json, const Options& options = {}) {
  auto out = ParseMisp(json, "e.json", options);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *std::move(out) : ParseOutput{};
}

// "type:raw" of each indicator, for compact comparisons.
std::vector<std::string> TypedRaws(const Incident& inc) {
  std::vector<std::string> v;
  for (const Indicator& i : inc.indicators) {
    v.push_back(std::string(IndicatorTypeName(i.type)) + ":" + i.raw);
  }
  return v;
}

std::string Attr(const std::string& type, const std::string& value, const std::string& extra = "") {
  return R"({"type":")" + type + R"(","value":")" + value + "\"" + extra + "}";
}

std::string Event(const std::string& attributes, const std::string& extra = "") {
  return R"({"Event":{"uuid":"5be1e65d-8198-497b-bdf5-5ec20a016219","info":"Test event",)"
         R"("date":"2018-11-06","Orgc":{"name":"ESET"},"Org":{"name":"Other"},"Attribute":[)" +
         attributes + "]" + extra + "}}";
}

TEST(MispParser, ReadsEventFields) {
  ParseOutput out = ParseOk(Event(""));
  ASSERT_EQ(out.incidents.size(), 1u);
  const Incident& inc = out.incidents[0];
  EXPECT_EQ(inc.id, "5be1e65d-8198-497b-bdf5-5ec20a016219");
  EXPECT_EQ(inc.title, "Test event");
  EXPECT_EQ(inc.source, "ESET");  // Orgc (creator), not Org (holder)
  EXPECT_EQ(inc.first_seen, "2018-11-06");
  EXPECT_EQ(inc.provenance.format, "misp");
  EXPECT_EQ(inc.provenance.file, "e.json");
  EXPECT_EQ(inc.provenance.source_modified, "") << "the event says no timestamp";
  EXPECT_TRUE(inc.indicators.empty());
}

// Event.timestamp (Unix seconds, a string or a number) is when the source last changed the
// event: the version Store::Ingest keeps the newer of.
TEST(MispParser, EventTimestampIsTheSourcesVersion) {
  ParseOutput out = ParseOk(Event("", R"(,"timestamp":"1715000000")"));
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_EQ(out.incidents[0].provenance.source_modified, "2024-05-06T12:53:20Z");
  ParseOutput number = ParseOk(Event("", R"(,"timestamp":1714700000)"));
  ASSERT_EQ(number.incidents.size(), 1u);
  EXPECT_EQ(number.incidents[0].provenance.source_modified, "2024-05-03T01:33:20Z");
}

TEST(MispParser, MapsSimpleAttributeTypes) {
  ParseOutput out = ParseOk(Event(
      Attr("ip-dst", "176.31.112.10") + "," + Attr("ip-src", "2001:db8::1") + "," +
      Attr("ip-dst", "10.0.0.0/8") + "," + Attr("domain", "evil.com") + "," +
      Attr("hostname", "a.evil.com") + "," + Attr("url", "hxxp://evil[.]com/x") + "," +
      Attr("email-src", "a@evil.com") + "," + Attr("md5", "d41d8cd98f00b204e9800998ecf8427e") +
      "," + Attr("regkey", "HKLM\\\\Software\\\\Run") + "," + Attr("AS", "AS1234") + "," +
      Attr("vulnerability", "CVE-2017-0199") + "," + Attr("mutex", "Global\\\\m") + "," +
      Attr("text", "Locky") + "," + Attr("link", "https://example.org/report")));
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_THAT(
      TypedRaws(out.incidents[0]),
      ::testing::ElementsAre("ipv4:176.31.112.10", "ipv6:2001:db8::1", "cidr:10.0.0.0/8",
                             "domain:evil.com", "domain:a.evil.com", "url:hxxp://evil[.]com/x",
                             "email:a@evil.com", "md5:d41d8cd98f00b204e9800998ecf8427e",
                             "registry-key:HKLM\\Software\\Run", "asn:AS1234", "cve:CVE-2017-0199",
                             "mutex:Global\\m", "other:Locky", "other:https://example.org/report"));
}

TEST(MispParser, SplitsCompositeAttributes) {
  const std::string sha = "e05de3e4a03369192856a167f2865eab3062a102b23bfdde5c0f622b39cd159a";
  ParseOutput out = ParseOk(Event(
      Attr("filename|sha256", "a|b.exe|" + sha) + "," + Attr("domain|ip", "evil.com|1.2.3.4") +
      "," + Attr("ip-dst|port", "1.2.3.4|443") + "," + Attr("hostname|port", "c2.evil.com|8080") +
      "," + Attr("filename|md5", "x.doc|d41d8cd98f00b204e9800998ecf8427e") + "," +
      Attr("malware-sample", "s.exe|d41d8cd98f00b204e9800998ecf8427e") + "," +
      Attr("filename|authentihash", "y.exe|abcd") + "," + Attr("regkey|value", "HKCU\\\\k|a|b")));
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_THAT(TypedRaws(out.incidents[0]),
              ::testing::ElementsAre("filename:a|b.exe", "sha256:" + sha, "domain:evil.com",
                                     "ipv4:1.2.3.4", "ipv4:1.2.3.4", "domain:c2.evil.com",
                                     "filename:x.doc", "md5:d41d8cd98f00b204e9800998ecf8427e",
                                     "filename:s.exe", "md5:d41d8cd98f00b204e9800998ecf8427e",
                                     "filename:y.exe", "registry-key:HKCU\\k"));
  // Both halves of a composite point at the same attribute.
  EXPECT_EQ(out.incidents[0].indicators[0].location, "Event.Attribute[0]");
  EXPECT_EQ(out.incidents[0].indicators[1].location, "Event.Attribute[0]");
  EXPECT_EQ(out.incidents[0].indicators[2].location, "Event.Attribute[1]");
}

TEST(MispParser, RejectsCompositeValueWithoutBar) {
  auto out = ParseMisp(Event(Attr("filename|sha256", "nobar")), "e.json", {});
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("e.json:Event.Attribute[0].value: composite"));
}

TEST(MispParser, KeepsToIdsCategoryAndComment) {
  ParseOutput out = ParseOk(Event(
      Attr("ip-dst", "1.2.3.4", R"(,"to_ids":true,"category":"Network activity","comment":"C2")") +
      "," + Attr("ip-dst", "1.2.3.5", R"(,"to_ids":"1")") + "," +
      Attr("ip-dst", "1.2.3.6", R"(,"to_ids":"0")") + "," + Attr("ip-dst", "1.2.3.7") + "," +
      Attr("text", "note")));
  const auto& ind = out.incidents.at(0).indicators;
  ASSERT_EQ(ind.size(), 5u);
  EXPECT_TRUE(ind[0].to_ids);
  EXPECT_EQ(ind[0].category, "Network activity");
  EXPECT_EQ(ind[0].comment, "C2");
  EXPECT_TRUE(ind[1].to_ids);
  EXPECT_FALSE(ind[2].to_ids);
  // Without to_ids, MISP's defaults: observables are for detection, context is not.
  EXPECT_TRUE(ind[3].to_ids);
  EXPECT_FALSE(ind[4].to_ids);
  EXPECT_EQ(ind[3].location, "Event.Attribute[3]");
}

TEST(MispParser, RejectsAttributeWithoutValue) {
  auto out = ParseMisp(Event(Attr("ip-dst", "1.2.3.4") + R"(,{"type":"domain"})"), "e.json", {});
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "e.json:Event.Attribute[1].value: missing");
}

TEST(MispParser, RejectsAttributeWithoutType) {
  auto out = ParseMisp(Event(R"({"value":"1.2.3.4"})"), "e.json", {});
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "e.json:Event.Attribute[0].type: missing");
}

TEST(MispParser, RejectsEmptyValue) {
  auto out = ParseMisp(Event(Attr("domain", "  ")), "e.json", {});
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "e.json:Event.Attribute[0].value: empty");
}

TEST(MispParser, SkipsBadAttributeWithDiagnosticWhenAsked) {
  Options opts;
  opts.skip_bad_records = true;
  ParseOutput out = ParseOk(Event(Attr("ip-dst", "1.2.3.4") + R"(,{"type":"domain"},)" +
                                  Attr("filename|md5", "nobar") + "," + Attr("domain", "a.com")),
                            opts);
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_THAT(TypedRaws(out.incidents[0]), ::testing::ElementsAre("ipv4:1.2.3.4", "domain:a.com"));
  ASSERT_EQ(out.diagnostics.size(), 2u);
  EXPECT_EQ(out.diagnostics[0].location, "Event.Attribute[1]");
  EXPECT_EQ(out.diagnostics[0].file, "e.json");
  EXPECT_EQ(out.diagnostics[0].severity, Diagnostic::Severity::kError);
  EXPECT_THAT(out.diagnostics[0].message, HasSubstr("value: missing"));
  EXPECT_EQ(out.diagnostics[1].location, "Event.Attribute[2]");
}

TEST(MispParser, AcceptsNumericValues) {
  ParseOutput out = ParseOk(Event(R"({"type":"AS","value":3356})"));
  EXPECT_THAT(TypedRaws(out.incidents.at(0)), ::testing::ElementsAre("asn:3356"));
}

TEST(MispParser, IgnoresDeletedAttributesAndObjects) {
  ParseOutput out = ParseOk(
      Event(Attr("domain", "gone.com", R"(,"deleted":true)") + "," + Attr("domain", "kept.com"),
            R"(,"Object":[{"name":"domain-ip","deleted":true,"Attribute":[)" +
                Attr("domain", "gone2.com") + "]}]"));
  EXPECT_THAT(TypedRaws(out.incidents.at(0)), ::testing::ElementsAre("domain:kept.com"));
}

TEST(MispParser, ReadsObjectAttributesWithRelations) {
  const std::string objects =
      R"(,"Object":[{"name":"file","Attribute":[)" +
      Attr("filename", "evil.exe", R"(,"object_relation":"filename")") + "," +
      Attr("sha256", "e05de3e4a03369192856a167f2865eab3062a102b23bfdde5c0f622b39cd159a",
           R"(,"object_relation":"sha256","to_ids":true)") +
      "," + Attr("text", "C:\\\\Temp\\\\evil.exe", R"(,"object_relation":"path")") + "," +
      Attr("size-in-bytes", "1234", R"(,"object_relation":"size-in-bytes")") +
      R"(]},{"name":"x509","Attribute":[)" +
      Attr("x509-fingerprint-sha1", "a010d5449d29a1916827fdb443e3c84c405cb2a5") + "," +
      Attr("text", "0a:1b", R"(,"object_relation":"serial-number")") +
      R"(]},{"name":"domain-ip","Attribute":[)" + Attr("domain", "evil.com") + "," +
      Attr("ip-dst", "1.2.3.4") + "]}]";
  ParseOutput out = ParseOk(Event(Attr("url", "http://x.org/"), objects));
  const Incident& inc = out.incidents.at(0);
  EXPECT_THAT(TypedRaws(inc),
              ::testing::ElementsAre(
                  "url:http://x.org/", "filename:evil.exe",
                  "sha256:e05de3e4a03369192856a167f2865eab3062a102b23bfdde5c0f622b39cd159a",
                  "file-path:C:\\Temp\\evil.exe", "other:1234",
                  "x509-fingerprint:a010d5449d29a1916827fdb443e3c84c405cb2a5", "x509-serial:0a:1b",
                  "domain:evil.com", "ipv4:1.2.3.4"));
  EXPECT_EQ(inc.indicators[2].location, "Event.Object[0].Attribute[1]");
  EXPECT_TRUE(inc.indicators[2].to_ids);
  EXPECT_EQ(inc.indicators[8].location, "Event.Object[2].Attribute[1]");
}

TEST(MispParser, ReadsBareEvent) {
  ParseOutput out =
      ParseOk(R"({"uuid":"u1","info":"bare","Attribute":[)" + Attr("domain", "a.com") + "]}");
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_EQ(out.incidents[0].id, "u1");
  EXPECT_EQ(out.incidents[0].indicators.at(0).location, "Attribute[0]");
}

TEST(MispParser, ReadsListOfEvents) {
  ParseOutput out = ParseOk(R"([{"Event":{"uuid":"u1","Attribute":[]}},)"
                            R"({"uuid":"u2","Attribute":[)" +
                            Attr("domain", "a.com") + "]}]");
  ASSERT_EQ(out.incidents.size(), 2u);
  EXPECT_EQ(out.incidents[0].id, "u1");
  EXPECT_EQ(out.incidents[1].id, "u2");
  EXPECT_EQ(out.incidents[1].indicators.at(0).location, "[1].Attribute[0]");
}

TEST(MispParser, ReadsResponseWrapper) {
  ParseOutput out = ParseOk(R"({"response":[{"Event":{"uuid":"u1","Attribute":[]}},)"
                            R"({"Event":{"uuid":"u2","Attribute":[)" +
                            Attr("domain", "a.com") + "]}}]}");
  ASSERT_EQ(out.incidents.size(), 2u);
  EXPECT_EQ(out.incidents[1].indicators.at(0).location, "response[1].Event.Attribute[0]");
  auto bad = ParseMisp(R"({"response":[{"Event":{"uuid":"u1","Attribute":[{"type":"x"}]}}]})",
                       "r.json", {});
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "r.json:response[0].Event.Attribute[0].value: missing");
}

TEST(MispParser, RejectsInvalidJsonWithLineAndColumn) {
  auto out = ParseMisp("{\"Event\": {\"uuid\": \"u1\",\n  \"info\" \"x\"}}", "e.json", {});
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "e.json:2:10: not valid JSON: expected ':'");
  auto truncated = ParseMisp(R"({"Event": {"uuid": "u1", )", "t.json", {});
  ASSERT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(truncated.status().message(), "t.json:1:26: not valid JSON: unexpected end of input");
  auto empty = ParseMisp("", "z.json", {});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
}

// In a death test's child: limits the address space to what the process uses plus `margin_mb`,
// parses `path`, prints the status and exits 0 when it is kResourceExhausted naming the file.
[[noreturn]] void ParseWithLittleMemory(const std::string& path, size_t margin_mb) {
  size_t vm_kb = 0;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmSize:", 0) == 0) vm_kb = std::strtoul(line.c_str() + 7, nullptr, 10);
  }
  const rlim_t limit = static_cast<rlim_t>(vm_kb + margin_mb * 1024) * 1024;
  const rlimit lim{limit, limit};
  setrlimit(RLIMIT_AS, &lim);
  auto out = ParseInput({path, Format::kAuto}, {});
  std::fprintf(stderr, "%s\n", out.status().ToString().c_str());
  const bool named = !out.ok() && absl::StartsWith(out.status().message(), path + ": ");
  std::_Exit(named && out.status().code() == absl::StatusCode::kResourceExhausted ? 0 : 1);
}

// A file too large for the memory the process may use is that file's error, named, where
// std::bad_alloc ended the process from the thread parsing it ("terminate called after throwing
// an instance of 'std::bad_alloc'", exit 134). The child gets an address-space limit a little over
// what it uses; the file's 400,000 attributes need far more once parsed.
TEST(Ingest, AFileTooLargeForMemoryIsThatFilesError) {
  if (kinship::testing::kAddressSanitizer) {
    GTEST_SKIP() << "AddressSanitizer's allocator aborts on running out of memory instead of "
                    "throwing std::bad_alloc";
  }
  const std::string path = kinship::testing::TempDir() + "/too-large.misp.json";
  {
    std::ofstream out(path, std::ios::binary);
    out << R"({"Event":{"uuid":"8f5b1c2e-0000-4000-8000-00000000aaaa","info":"large","Attribute":[)";
    for (int i = 0; i < 400000; ++i) {
      out << (i > 0 ? "," : "")
          << Attr("domain",
                  "host" + std::to_string(i) + ".example-" + std::to_string(i % 997) + ".com");
    }
    out << "]}}";
  }
  // Measured on Debian 12's build, the three places memory runs out: simdjson's parser
  // (margin up to ~100 MB), its parse (~120-300 MB), and the parsed incident (~350-550 MB). Each
  // margin sits mid-range, so each place's error is checked.
  for (const size_t margin_mb : {60, 200, 420}) {
    SCOPED_TRACE(margin_mb);
    EXPECT_EXIT(ParseWithLittleMemory(path, margin_mb), ::testing::ExitedWithCode(0),
                "out of memory");
  }
}

TEST(JsonSyntax, FindsTheFirstGrammarError) {
  using internal::FindJsonSyntaxError;
  EXPECT_FALSE(FindJsonSyntaxError(R"({"a":[1,-2.5e3,true,null,{},[]],"b":"x\u00e9\n"})"));
  struct Case {
    const char* json;
    size_t line, col;
    const char* message;
  };
  const Case cases[] = {
      {"[1,2", 1, 5, "unexpected end of input"},
      {"[1 2]", 1, 4, "expected ',' or ']'"},
      {"{\"a\":1,}", 1, 8, "expected a string key"},
      {"{\"a\":01}", 1, 7, "expected ',' or '}'"},
      {"[tru]", 1, 2, "expected a value"},
      {"\n\n  [\"a\\x\"]", 3, 6, "bad escape"},
      {"[\"a", 1, 4, "unterminated string"},
      {"{} x", 1, 4, "unexpected text after the JSON value"},
      {"[-]", 1, 3, "bad number"},
  };
  for (const Case& c : cases) {
    auto e = FindJsonSyntaxError(c.json);
    ASSERT_TRUE(e.has_value()) << c.json;
    EXPECT_EQ(e->line, c.line) << c.json;
    EXPECT_EQ(e->col, c.col) << c.json;
    EXPECT_EQ(e->message, c.message) << c.json;
  }
  // Deep nesting is scanned without recursion.
  EXPECT_FALSE(FindJsonSyntaxError(std::string(100000, '[') + std::string(100000, ']')));
}

TEST(MispParser, RejectsJsonThatIsNotMisp) {
  auto bundle = ParseMisp(R"({"type":"bundle","id":"bundle--1","objects":[]})", "b.json", {});
  EXPECT_EQ(bundle.status().code(), absl::StatusCode::kInvalidArgument);
  auto scalar = ParseMisp("42", "n.json", {});
  EXPECT_EQ(scalar.status().code(), absl::StatusCode::kInvalidArgument);
  auto attrs = ParseMisp(R"({"Event":{"uuid":"u","Attribute":{"type":"x"}}})", "a.json", {});
  ASSERT_EQ(attrs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(attrs.status().message(), "a.json:Event.Attribute: expected a list of attributes");
}

TEST(MispParser, RejectsNestingDeeperThanLimit) {
  std::string deep = R"({"Event":{"uuid":"u","x":)";
  for (size_t i = 0; i < limits::kMaxJsonDepth + 1; ++i) deep += "[";
  for (size_t i = 0; i < limits::kMaxJsonDepth + 1; ++i) deep += "]";
  deep += "}}";
  auto out = ParseMisp(deep, "d.json", {});
  ASSERT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(out.status().message(), HasSubstr("kMaxJsonDepth"));
}

TEST(MispParser, RejectsOverlongIndicatorButDropsOverlongProse) {
  const std::string huge(limits::kMaxIndicatorBytes + 1, 'a');
  auto out = ParseMisp(Event(Attr("domain", huge)), "e.json", {});
  ASSERT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(out.status().message(), HasSubstr("e.json:Event.Attribute[0].value"));

  ParseOutput prose = ParseOk(Event(Attr("text", huge) + "," + Attr("domain", "a.com")));
  EXPECT_THAT(TypedRaws(prose.incidents.at(0)), ::testing::ElementsAre("domain:a.com"));
  ASSERT_EQ(prose.diagnostics.size(), 1u);
  EXPECT_EQ(prose.diagnostics[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(prose.diagnostics[0].location, "Event.Attribute[0]");
}

TEST(MispParser, TlpTagSetsStrictestMarking) {
  ParseOutput out = ParseOk(
      Event("", R"(,"Tag":[{"name":"tlp:green"},{"name":"TLP:AMBER"},{"name":"type:OSINT"}])"));
  EXPECT_EQ(out.incidents.at(0).tlp, Tlp::kAmber);
  EXPECT_THAT(out.incidents[0].tags,
              ::testing::ElementsAre("tlp:green", "TLP:AMBER", "type:OSINT"));
  ParseOutput white = ParseOk(Event("", R"(,"Tag":[{"name":"tlp:white"}])"));
  EXPECT_EQ(white.incidents.at(0).tlp, Tlp::kClear);
  ParseOutput strict = ParseOk(Event("", R"(,"Tag":[{"name":"tlp:amber+strict"}])"));
  EXPECT_EQ(strict.incidents.at(0).tlp, Tlp::kAmberStrict);
  ParseOutput none = ParseOk(Event(""));
  EXPECT_EQ(none.incidents.at(0).tlp, Tlp::kUnset);
}

TEST(MispParser, ReadsOldStyleEventTagAndAttributeTag) {
  ParseOutput out = ParseOk(Event(
      Attr("domain", "a.com",
           R"(,"AttributeTag":[{"Tag":{"name":"misp-galaxy:mitre-tool=\"Mimikatz - S0002\""}}])"),
      R"(,"EventTag":[{"Tag":{"name":"tlp:red"}},{"Tag":{"name":"misp-galaxy:threat-actor=\"APT1\""}}])"));
  const Incident& inc = out.incidents.at(0);
  EXPECT_EQ(inc.tlp, Tlp::kRed);
  ASSERT_EQ(inc.attributions.size(), 1u);
  EXPECT_EQ(inc.attributions[0].actor_name, "APT1");
  EXPECT_EQ(inc.attributions[0].location, "Event.EventTag[1]");
  ASSERT_EQ(inc.software.size(), 1u);
  EXPECT_EQ(inc.software[0].id, "S0002");
  EXPECT_EQ(inc.software[0].location, "Event.Attribute[0].AttributeTag[0]");
}

TEST(MispParser, AttributeTlpTagDoesNotMarkTheIncident) {
  ParseOutput out = ParseOk(Event(Attr("domain", "a.com", R"(,"Tag":[{"name":"tlp:red"}])")));
  EXPECT_EQ(out.incidents.at(0).tlp, Tlp::kUnset);
  EXPECT_TRUE(out.incidents[0].tags.empty());
}

TEST(MispParser, GalaxyTagsBecomeAttributionTechniquesAndSoftware) {
  ParseOutput out = ParseOk(Event(
      "", R"(,"Tag":[{"name":"misp-galaxy:threat-actor=\"Sofacy\""},)"
          R"({"name":"misp-galaxy:mitre-intrusion-set=\"APT28 - G0007\""},)"
          R"({"name":"misp-galaxy:mitre-attack-pattern=\"Spearphishing Link - T1566.002\""},)"
          R"({"name":"misp-galaxy:mitre-enterprise-attack-attack-pattern=\"Scripting - T1064\""},)"
          R"({"name":"misp-galaxy:mitre-malware=\"X-Agent - S0023\""},)"
          R"({"name":"misp-galaxy:mitre-tool=\"Mimikatz - S0002\""},)"
          R"({"name":"misp-galaxy:malpedia=\"Zebrocy\""},)"
          R"({"name":"misp-galaxy:sector=\"Government, Administration\""}])"));
  const Incident& inc = out.incidents.at(0);
  ASSERT_EQ(inc.attributions.size(), 2u);
  EXPECT_EQ(inc.attributions[0].actor_name, "Sofacy");
  EXPECT_EQ(inc.attributions[0].actor_id, "");
  EXPECT_EQ(inc.attributions[0].source, "MISP galaxy threat-actor");
  EXPECT_EQ(inc.attributions[0].confidence, -1);
  EXPECT_EQ(inc.attributions[0].location, "Event.Tag[0]");
  EXPECT_EQ(inc.attributions[1].actor_name, "APT28");
  EXPECT_EQ(inc.attributions[1].actor_id, "G0007");
  EXPECT_EQ(inc.attributions[1].source, "MISP galaxy mitre-intrusion-set");
  ASSERT_EQ(inc.techniques.size(), 2u);
  EXPECT_EQ(inc.techniques[0].id, "T1566.002");
  EXPECT_EQ(inc.techniques[0].name, "Spearphishing Link");
  EXPECT_EQ(inc.techniques[0].location, "Event.Tag[2]");
  EXPECT_EQ(inc.techniques[1].id, "T1064");
  ASSERT_EQ(inc.software.size(), 3u);
  EXPECT_EQ(inc.software[0].name, "X-Agent");
  EXPECT_EQ(inc.software[0].id, "S0023");
  EXPECT_EQ(inc.software[0].kind, "malware");
  EXPECT_EQ(inc.software[0].location, "Event.Tag[4]");
  EXPECT_EQ(inc.software[1].id, "S0002");
  EXPECT_EQ(inc.software[1].kind, "tool");
  EXPECT_EQ(inc.software[2].name, "Zebrocy");
  EXPECT_EQ(inc.software[2].id, "");
  EXPECT_EQ(inc.victim.sector, "Government, Administration");
}

// An event's reports (MISP >= 2.4.140: EventReport, Markdown) are read as prose, like a report
// file: the indicators they name that no attribute holds, techniques, an attribution the text
// states and actors it merely mentions, each located in the report's content.
TEST(MispParser, EventReportsAreReadAsProse) {
  const std::string content =
      "# Operation Sample\\n\\nThe implant beacons to hxxps://c2[.]evil-domain[.]com/gate and "
      "to 185.220.101[.]47.\\n\\nThe intrusion was carried out by APT28. Initial access used "
      "T1566.001. Unlike APT29, the actor was careful.\\n";
  ParseOutput out = ParseOk(Event(
      Attr("ip-dst", "185.220.101[.]47"),
      R"(,"Tag":[{"name":"misp-galaxy:mitre-attack-pattern=\"Spearphishing Attachment - T1566.001\""}],)"
      R"("EventReport":[{"name":"deleted","content":"carried out by Lazarus Group","deleted":true},)"
      R"({"name":"Operation Sample","content":")" +
          content + R"("},{"name":"empty","content":""}])"));
  const Incident& inc = out.incidents.at(0);
  // The address is an attribute already (same raw text): not added twice. The URL is new.
  EXPECT_THAT(TypedRaws(inc), ::testing::ElementsAre("ipv4:185.220.101[.]47",
                                                     "url:hxxps://c2[.]evil-domain[.]com/gate"));
  EXPECT_EQ(inc.indicators[1].location, "Event.EventReport[1].content:3:24");
  EXPECT_THAT(inc.indicators[1].comment, HasSubstr("defanged"));
  // The galaxy's technique is not named again.
  ASSERT_EQ(inc.techniques.size(), 1u);
  EXPECT_EQ(inc.techniques[0].location, "Event.Tag[0]");
  ASSERT_EQ(inc.attributions.size(), 1u);
  EXPECT_EQ(inc.attributions[0].actor_name, "APT28");
  EXPECT_EQ(inc.attributions[0].source, "MISP event report");
  EXPECT_THAT(inc.attributions[0].location,
              ::testing::StartsWith("Event.EventReport[1].content:5:"));
  EXPECT_THAT(inc.attributions[0].snippet, HasSubstr("carried out by APT28"));
  // The deleted report's actor is nowhere.
  for (const std::string& tag : inc.tags) EXPECT_THAT(tag, ::testing::Not(HasSubstr("Lazarus")));
}

TEST(MispParser, EventReportThatIsNotAListIsAnError) {
  auto out = ParseMisp(Event("", R"(,"EventReport":{"content":"x"})"), "e.json", {});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("e.json:Event.EventReport: expected a list"));
}

TEST(MispParser, GalaxyBlockAndTagOfOneClusterCountOnce) {
  ParseOutput out = ParseOk(
      Event("", R"(,"Tag":[{"name":"misp-galaxy:threat-actor=\"Sofacy\""}],)"
                R"("Galaxy":[{"type":"threat-actor","GalaxyCluster":[{"type":"threat-actor",)"
                R"("value":"Sofacy","tag_name":"misp-galaxy:threat-actor=\"Sofacy\""}]},)"
                R"({"type":"mitre-attack-pattern","GalaxyCluster":[{"value":"Spearphishing Link",)"
                R"("meta":{"external_id":["T1566.002"]}}]}])"));
  const Incident& inc = out.incidents.at(0);
  ASSERT_EQ(inc.attributions.size(), 1u);
  EXPECT_EQ(inc.attributions[0].actor_name, "Sofacy");
  ASSERT_EQ(inc.techniques.size(), 1u);
  EXPECT_EQ(inc.techniques[0].id, "T1566.002");  // from meta.external_id
  EXPECT_EQ(inc.techniques[0].name, "Spearphishing Link");
  EXPECT_EQ(inc.techniques[0].location, "Event.Galaxy[1].GalaxyCluster[0]");
  EXPECT_EQ(inc.attributions[0].location, "Event.Tag[0]");  // the first of the two
}

TEST(MispParser, LikelihoodTagGivesAttributionConfidence) {
  ParseOutput out = ParseOk(
      Event("", R"(,"Tag":[{"name":"misp-galaxy:threat-actor=\"Sofacy\""},)"
                R"({"name":"estimative-language:likelihood-probability=\"very-likely\""},)"
                R"({"name":"estimative-language:confidence-in-analytic-judgment=\"low\""}])"));
  ASSERT_EQ(out.incidents.at(0).attributions.size(), 1u);
  EXPECT_EQ(out.incidents[0].attributions[0].confidence, 87);  // ICD 203: 80-95 %
  ParseOutput unstated = ParseOk(
      Event("", R"(,"Tag":[{"name":"misp-galaxy:threat-actor=\"Sofacy\""},)"
                R"({"name":"estimative-language:confidence-in-analytic-judgment=\"high\""}])"));
  EXPECT_EQ(unstated.incidents.at(0).attributions.at(0).confidence, -1);
}

TEST(MispParser, AttributeGalaxiesAddBehaviour) {
  ParseOutput out = ParseOk(Event(Attr(
      "sha256", "e05de3e4a03369192856a167f2865eab3062a102b23bfdde5c0f622b39cd159a",
      R"(,"Tag":[{"name":"misp-galaxy:mitre-attack-pattern=\"Obfuscated Files - T1027\""}],)"
      R"("Galaxy":[{"type":"mitre-malware","GalaxyCluster":[{"value":"Zebrocy - S0251"}]}])")));
  const Incident& inc = out.incidents.at(0);
  ASSERT_EQ(inc.techniques.size(), 1u);
  EXPECT_EQ(inc.techniques[0].id, "T1027");
  ASSERT_EQ(inc.software.size(), 1u);
  EXPECT_EQ(inc.software[0].id, "S0251");
}

TEST(MispParser, VictimFromTargetAttributes) {
  ParseOutput out =
      ParseOk(Event(Attr("target-org", "Ministry of X") + "," + Attr("target-location", "UA") +
                    "," + Attr("target-email", "victim@x.gov")));
  const Incident& inc = out.incidents.at(0);
  EXPECT_EQ(inc.victim.organisation, "Ministry of X");
  EXPECT_EQ(inc.victim.country, "UA");
  EXPECT_THAT(TypedRaws(inc), ::testing::ElementsAre("email:victim@x.gov"));
}

TEST(MispParser, EventWithoutUuidGetsContentHashId) {
  const std::string json = R"([{"info":"a","Attribute":[]},{"info":"b","Attribute":[]}])";
  ParseOutput out = ParseOk(json);
  ASSERT_EQ(out.incidents.size(), 2u);
  EXPECT_EQ(out.incidents[0].id, "sha256:" + util::Sha256Hex(json));
  EXPECT_EQ(out.incidents[1].id, "sha256:" + util::Sha256Hex(json) + "#1");
}

TEST(MispParser, DatesFromTimestampsAndAttributeSeenTimes) {
  ParseOutput out = ParseOk(
      R"({"Event":{"uuid":"u","timestamp":"1542728551","Attribute":[)" +
      Attr("domain", "a.com", R"(,"first_seen":"2018-11-20T00:00:00+00:00")") + "," +
      Attr("domain", "b.com", R"(,"first_seen":null,"last_seen":"2019-01-02T00:00:00+00:00")") +
      "]}}");
  const Incident& inc = out.incidents.at(0);
  EXPECT_EQ(inc.first_seen, "2018-11-20T15:42:31Z");
  EXPECT_EQ(inc.last_seen, "2019-01-02T00:00:00+00:00");
}

TEST(MispGalaxy, SplitsAttackIds) {
  using internal::SplitAttackId;
  EXPECT_EQ(SplitAttackId("Spearphishing Link - T1566.002", 'T'),
            std::make_pair(std::string("Spearphishing Link"), std::string("T1566.002")));
  EXPECT_EQ(SplitAttackId("APT28 - g0007", 'G'),
            std::make_pair(std::string("APT28"), std::string("G0007")));
  // Wrong letter, malformed ids and no suffix leave the value whole.
  EXPECT_EQ(SplitAttackId("X-Agent - S0023", 'T').second, "");
  EXPECT_EQ(SplitAttackId("Foo - T15", 'T').second, "");
  EXPECT_EQ(SplitAttackId("Foo - T1566.2", 'T').second, "");
  EXPECT_EQ(SplitAttackId("Sofacy", 'G'), std::make_pair(std::string("Sofacy"), std::string()));
}

TEST(MispTypes, IpTypeFollowsTheValue) {
  EXPECT_EQ(internal::IpTypeOf("1.2.3.4"), IndicatorType::kIpv4);
  EXPECT_EQ(internal::IpTypeOf("::1"), IndicatorType::kIpv6);
  EXPECT_EQ(internal::IpTypeOf("1.2.3.0/24"), IndicatorType::kCidr);
  EXPECT_EQ(internal::MapMispType("no-such-type").kind, internal::MispTypeKind::kContext);
}

// The benchmark feed generator (bench/gen/gen_misp_feed.py) against this parser: same seed, same
// bytes; every event parses; attribute and tag totals match what was asked for.
TEST(GenMispFeed, IsDeterministicAndEveryEventParses) {
  namespace fs = std::filesystem;
  const std::string gen = kinship::testing::SourceDir() + "/bench/gen/gen_misp_feed.py";
  const std::string a = kinship::testing::TempDir() + "/feed_a";
  const std::string b = kinship::testing::TempDir() + "/feed_b";
  for (const std::string& out : {a, b}) {
    const std::string cmd = "python3 " + gen + " --events 30 --indicators 900 --seed 11 --out " +
                            out + " > " + out + ".summary";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  size_t files = 0, attributes = 0, actors = 0, techniques = 0;
  for (const auto& entry : fs::directory_iterator(a)) {
    const std::string name = entry.path().filename().string();
    const std::string bytes = kinship::testing::ReadFileOrDie(entry.path().string());
    EXPECT_EQ(bytes, kinship::testing::ReadFileOrDie(b + "/" + name)) << name;
    if (name == "manifest.json") continue;
    ++files;
    auto out = ParseMisp(bytes, name, {});
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->incidents.size(), 1u);
    const Incident& inc = out->incidents[0];
    EXPECT_EQ(inc.id + ".json", name);
    EXPECT_NE(inc.tlp, Tlp::kUnset);
    std::set<std::string> locations;
    for (const Indicator& i : inc.indicators) locations.insert(i.location);
    attributes += locations.size();
    actors += inc.attributions.size();
    techniques += inc.techniques.size();
  }
  EXPECT_EQ(files, 30u);
  EXPECT_EQ(attributes, 900u);
  EXPECT_GT(actors, 0u) << "seed 11 gives some actor-tagged events";
  EXPECT_GT(techniques, 0u);
}

}  // namespace
}  // namespace kinship::ingest
