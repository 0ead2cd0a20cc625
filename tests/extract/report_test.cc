// ingest::ParseReport end to end (with the real normalize stage): one incident per report, raw
// values kept as written with their place, stated attributions apart from mentions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "ingest/report/findings.h"
#include "kinship/extract.h"
#include "kinship/ingest.h"
#include "kinship/kb.h"
#include "kinship/normalize.h"

namespace kinship::ingest {
namespace {

using ::testing::HasSubstr;

const Indicator* FindRaw(const Incident& inc, std::string_view raw) {
  for (const Indicator& i : inc.indicators) {
    if (i.raw == raw) return &i;
  }
  return nullptr;
}

TEST(ParseReport, TextReportBecomesOneIncidentWithRawDefangedValues) {
  const std::string text =
      "Operation Test\n\nTLP:GREEN\n\nThe implant beacons to hxxps://c2[.]evil-domain[.]com/gate "
      "and 185.220.101[.]47. It was carried out by APT28, with high confidence. Uses "
      "T1566.001.\n";
  Options opts;
  auto out = ParseReport(text, "op.txt", opts);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  const Incident& inc = out->incidents[0];
  EXPECT_EQ(inc.title, "Operation Test");
  EXPECT_EQ(inc.tlp, Tlp::kGreen);
  EXPECT_EQ(inc.id.rfind("report-", 0), 0u);
  const Indicator* url = FindRaw(inc, "hxxps://c2[.]evil-domain[.]com/gate");
  ASSERT_NE(url, nullptr);
  EXPECT_EQ(url->type, IndicatorType::kUrl);
  EXPECT_EQ(url->location, "5:24");
  EXPECT_THAT(url->comment, HasSubstr("defanged"));
  // The text around it is its own field, not part of the comment.
  EXPECT_THAT(url->snippet, HasSubstr("beacons to hxxps://c2[.]evil-domain[.]com/gate"));
  EXPECT_THAT(url->comment, ::testing::Not(HasSubstr("beacons")));
  EXPECT_TRUE(url->to_ids);
  ASSERT_EQ(inc.techniques.size(), 1u);
  EXPECT_EQ(inc.techniques[0].id, "T1566.001");
  EXPECT_EQ(inc.techniques[0].location, "5:138");
  EXPECT_THAT(inc.techniques[0].snippet, HasSubstr("Uses T1566.001."));
  ASSERT_EQ(inc.attributions.size(), 1u);
  EXPECT_EQ(inc.attributions[0].actor_name, "APT28");
  EXPECT_EQ(inc.attributions[0].confidence, 80);
  EXPECT_EQ(inc.attributions[0].source, "report text");
  EXPECT_EQ(inc.attributions[0].location, "5:104");
  EXPECT_THAT(inc.attributions[0].snippet, HasSubstr("carried out by APT28"));
}

// With a catalog, software and merely mentioned actors keep where they were named too.
TEST(ParseReport, SoftwareAndActorMentionsKeepTheirPlace) {
  const std::string text =
      "Report\n\nThe loader installs X-Agent on the host.\n\nUnlike APT29, the actor was "
      "careful. APT29 again.\n";
  extract::NameCatalog catalog(
      {{extract::NameCatalog::Kind::kSoftware, "S0161", "XAgentOSX", {"X-Agent"}},
       {extract::NameCatalog::Kind::kActor, "G0016", "APT29", {"APT29"}}});
  extract::Extractor ex(&catalog);
  extract::Document doc;
  doc.text = text;
  extract::Result r = ex.Extract(doc);
  ASSERT_EQ(r.software.size(), 1u);
  EXPECT_EQ(r.software[0].location, "3:21");
  ASSERT_EQ(r.actors.size(), 1u);
  EXPECT_EQ(r.actors[0].location, "5:8");
  EXPECT_EQ(r.actors[0].occurrences, 2);
  EXPECT_TRUE(r.attributions.empty());
}

TEST(ParseReport, NormalisationCanonicalisesWhatWasExtracted) {
  auto out = ParseReport("C2: hxxp://EVIL[.]com/a and 45.137.22[.]13\n", "x.txt", {});
  ASSERT_TRUE(out.ok());
  Incident inc = out->incidents[0];
  std::vector<Diagnostic> diags;
  normalize::NormalizeIncident(inc, &diags);
  bool url = false, ip = false;
  for (const Indicator& i : inc.indicators) {
    EXPECT_TRUE(i.valid()) << i.raw << ": " << i.error;
    url = url || (i.type == IndicatorType::kUrl && i.value == "http://evil.com/a");
    ip = ip || (i.type == IndicatorType::kIpv4 && i.value == "45.137.22.13");
  }
  EXPECT_TRUE(url);
  EXPECT_TRUE(ip);
}

TEST(ParseReport, HtmlTitleSourceAndLinks) {
  const std::string html =
      "<html><head><title>Blog | Vendor</title><meta property='og:site_name' content='Vendor'>"
      "<link rel='canonical' href='https://vendor.com/blog/x'></head><body>\n"
      "<p>See <a href='https://vendor.com/older'>our older post</a>.</p>\n"
      "<h2>IOCs</h2><table><tr><td>URL</td><td><a href='http://bad-host.net/p'>bad-host[.]net/p</a>"
      "</td></tr></table></body></html>";
  auto out = ParseReport(html, "post.html", {});
  ASSERT_TRUE(out.ok()) << out.status();
  const Incident& inc = out->incidents[0];
  EXPECT_EQ(inc.title, "Blog | Vendor");
  EXPECT_EQ(inc.source, "Vendor");
  for (const Indicator& i : inc.indicators)
    EXPECT_THAT(i.raw, ::testing::Not(HasSubstr("vendor.com")));
  EXPECT_NE(FindRaw(inc, "bad-host[.]net/p"), nullptr);
}

// A report's date is its incident's first_seen: the article's published time over a generic
// date meta over a <time> in its header, else the first date in the opening lines.
TEST(ParseReport, ReportDateIsFirstSeen) {
  struct Case {
    std::string content, file, want;
  };
  const std::vector<Case> cases = {
      {"<html><head><meta name='date' content='2019-01-02'><meta property="
       "'article:published_time' content='2018-11-20T08:00:00+00:00'></head><body><p>C2 at "
       "bad-host[.]net</p></body></html>",
       "a.html", "2018-11-20"},
      {"<html><body><header><h1>Post</h1><time datetime='2021-06-30'>June 30</time></header>"
       "<p>Since 2017-01-01 the actor ...</p></body></html>",
       "b.html", "2021-06-30"},
      {"<html><head><script type='application/ld+json'>{\"@type\":\"BlogPosting\","
       "\"datePublished\": \"2020-02-29T10:00Z\"}</script></head><body>x</body></html>",
       "c.html", "2020-02-29"},
      {"<html><body><p>Published 3rd March 2022 by the team.</p></body></html>", "d.html",
       "2022-03-03"},
      {"Incident note\n\nBerlin, 12.03.2024, 10:30 - the minister said\n", "e.txt", "2024-03-12"},
      {"# Threat brief\nMarch 7, 2023\n", "f.md", "2023-03-07"},
      // Not dates: a version, an address, 31 February, a day-month-year outside 1990-2099, and
      // a date below the opening lines.
      {"firmware 9.1.18.2 at 10.12.2019.5 and 1.2.2000.1; 2019-02-31; 5 May 1899\n"
       "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n2019-05-05\n",
       "g.txt", ""},
  };
  for (const Case& c : cases) {
    auto out = ParseReport(c.content, c.file, {});
    ASSERT_TRUE(out.ok()) << c.file << ": " << out.status();
    EXPECT_EQ(out->incidents[0].first_seen, c.want) << c.file;
  }
}

// The KB's names are compiled once for every copy of one Options (a folder's reports, a feed's
// events), again only for another KB.
TEST(ParseReport, CopiesOfOptionsShareTheNamesCompiledForTheirKb) {
  kb::KnowledgeBase one, other;
  Options opts;
  EXPECT_EQ(internal::ReportCatalog(opts), nullptr);  // no KB, no names
  opts.kb = &one;
  const auto first = internal::ReportCatalog(opts);
  ASSERT_NE(first, nullptr);
  Options copy = opts;
  EXPECT_EQ(internal::ReportCatalog(copy), first);
  copy.kb = &other;
  const auto second = internal::ReportCatalog(copy);
  EXPECT_NE(second, first);
  EXPECT_EQ(internal::ReportCatalog(copy), second);
  copy.report_names = nullptr;  // no cache: compiled per call
  EXPECT_NE(internal::ReportCatalog(copy), second);
}

TEST(ParseReport, MentionedActorIsATagNotAnAttribution) {
  auto out = ParseReport("Unlike APT28 this actor is careful.\n", "m.txt", {});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->incidents[0].attributions.empty());
}

TEST(ParseReport, BrokenPdfIsInvalidArgumentNamingTheFile) {
  auto out = ParseReport("%PDF-1.7\n garbage", "broken.pdf", {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("broken.pdf"));
}

TEST(ParseReport, DetectedAsReportByIngest) {
  EXPECT_EQ(DetectFormat("%PDF-1.4\n", "a.bin"), Format::kReport);
  EXPECT_EQ(DetectFormat("<html><body>x</body></html>", "a"), Format::kReport);
  auto out =
      ParseBuffer("# Title\n\nThe C2 was evil[.]com and more prose follows here.\n", "r.md", {});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->incidents.size(), 1u);
  EXPECT_EQ(out->incidents[0].provenance.format, "report");
}

}  // namespace
}  // namespace kinship::ingest
