// The extractor's scanner and precision rules, with test doubles for the normalize stage.
#include "kinship/extract.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "extract/classify.h"
#include "extract/extract_internal.h"
#include "extract/test_checks.h"

namespace kinship::extract {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;

Result Scan(std::string_view text, DocKind kind = DocKind::kText, const NameCatalog* cat = nullptr,
            ExtractOptions opts = {}) {
  Document doc;
  doc.kind = kind;
  doc.text = std::string(text);
  return internal::ExtractWith(doc, cat, opts, testing::FakeChecks());
}

std::vector<std::pair<std::string, std::string>> Pairs(const Result& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Finding& f : r.indicators) {
    out.emplace_back(std::string(IndicatorTypeName(f.type)), f.value);
  }
  return out;
}

const Finding* Find(const Result& r, std::string_view value) {
  for (const Finding& f : r.indicators) {
    if (f.value == value) return &f;
  }
  return nullptr;
}

TEST(Extract, RefangsEveryCommonStyleAndSaysSo) {
  Result r = Scan(
      "C2: hxxp://evil[.]com/a then 1.2.3[.]4 and 5(.)6(.)7(.)8 and bad[dot]org, mail "
      "x[@]evil(.)net and hXXps[://]cdn{.}evil.ru/x");
  EXPECT_THAT(Pairs(r), Contains(Pair("url", "http://evil.com/a")));
  EXPECT_THAT(Pairs(r), Contains(Pair("ipv4", "1.2.3.4")));
  EXPECT_THAT(Pairs(r), Contains(Pair("ipv4", "5.6.7.8")));
  EXPECT_THAT(Pairs(r), Contains(Pair("domain", "bad.org")));
  EXPECT_THAT(Pairs(r), Contains(Pair("email", "x@evil.net")));
  EXPECT_THAT(Pairs(r), Contains(Pair("url", "https://cdn.evil.ru/x")));
  ASSERT_NE(Find(r, "1.2.3.4"), nullptr);
  EXPECT_TRUE(Find(r, "1.2.3.4")->defanged);
  EXPECT_EQ(Find(r, "1.2.3.4")->raw, "1.2.3[.]4");
  EXPECT_EQ(r.defanged, 6u);
}

TEST(Extract, PlainIndicatorsAreNotMarkedDefanged) {
  Result r = Scan("The sample contacted 45.137.22.13 over TLS.");
  ASSERT_NE(Find(r, "45.137.22.13"), nullptr);
  EXPECT_FALSE(Find(r, "45.137.22.13")->defanged);
  EXPECT_EQ(r.defanged, 0u);
}

TEST(Extract, FileNamesAreNotDomains) {
  Result r = Scan("The attachment invoice.zip holds cmd.exe copies; see report.pdf and README.md.");
  for (const Finding& f : r.indicators) EXPECT_NE(f.type, IndicatorType::kDomain) << f.value;
  EXPECT_THAT(Pairs(r), Contains(Pair("filename", "invoice.zip")));
}

TEST(Extract, DefangedFileExtensionTldIsADomain) {
  Result r = Scan("Payloads were hosted at update-server[.]zip last week.");
  EXPECT_THAT(Pairs(r), Contains(Pair("domain", "update-server.zip")));
}

TEST(Extract, FileNamesInPlainProseNeedContext) {
  Result r = Scan("Analysts often open report.pdf in a viewer.");
  EXPECT_THAT(r.indicators, IsEmpty());
  EXPECT_GE(r.rejected, 1u);
  Result in_code = Scan("Analysts often open `report.pdf` in a viewer.");
  EXPECT_THAT(Pairs(in_code), Contains(Pair("filename", "report.pdf")));
}

TEST(Extract, VersionAndSectionNumbersAreNotAddresses) {
  Result r =
      Scan("Built with version 1.2.3.4, build 10.0.19041.1 and v 2.1.0.5; see section 3.2.1.4.");
  for (const Finding& f : r.indicators) EXPECT_NE(f.type, IndicatorType::kIpv4) << f.value;
}

TEST(Extract, DefangedVersionLikeAddressIsKept) {
  Result r = Scan("version 2 of the implant talks to 1.2.3[.]4");
  EXPECT_THAT(Pairs(r), Contains(Pair("ipv4", "1.2.3.4")));
}

TEST(Extract, LeadingZeroAndOutOfRangeOctetsAreRejected) {
  Result r = Scan("Addresses 01.2.3.4 and 1.2.3.256 and 300.1.1.1 were seen.");
  for (const Finding& f : r.indicators) EXPECT_NE(f.type, IndicatorType::kIpv4) << f.value;
}

TEST(Extract, AvSignatureNamesAreNotHosts) {
  Result r =
      Scan("Detected as Trojan.Win32.Agent.ca and Backdoor.Linux.Mirai.ru and HEUR.Exploit.ru.");
  EXPECT_THAT(r.indicators, IsEmpty());
}

TEST(Extract, CodeIdentifiersAreNotHosts) {
  Result r = Scan("It calls System.Net.WebClient, uses ASP.NET and this.App.name in Node.js.");
  EXPECT_THAT(r.indicators, IsEmpty());
}

TEST(Extract, DocumentationValuesAreDropped) {
  Result r = Scan(
      "For example 192.0.2.10, 198.51.100.7, mail.example.com and "
      "2001:db8::1 are placeholders.");
  EXPECT_THAT(r.indicators, IsEmpty());
}

TEST(Extract, ProseDomainWithoutContextIsWeak) {
  Result dropped = Scan("The report was published on news.bund.de yesterday.");
  EXPECT_THAT(dropped.indicators, IsEmpty());
  ExtractOptions keep;
  keep.keep_weak = true;
  Result kept =
      Scan("The report was published on news.bund.de yesterday.", DocKind::kText, nullptr, keep);
  ASSERT_NE(Find(kept, "news.bund.de"), nullptr);
  EXPECT_TRUE(Find(kept, "news.bund.de")->weak);
  Result keyword = Scan("The implant beacons to news.bund.de every hour.");
  ASSERT_NE(Find(keyword, "news.bund.de"), nullptr);
  EXPECT_EQ(Find(keyword, "news.bund.de")->context, Context::kKeyword);
}

TEST(Extract, HashesNeedWordBoundaries) {
  std::string md5 = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
  Result r = Scan("md5 " + md5 + " and x" + md5 + "ff and " + md5 + "0 end");
  ASSERT_EQ(r.indicators.size(), 1u);
  EXPECT_EQ(r.indicators[0].type, IndicatorType::kMd5);
  EXPECT_EQ(r.indicators[0].occurrences, 1);
}

TEST(Extract, HashTypesByLength) {
  Result r = Scan(
      "da39a3ee5e6b4b0d3255bfef95601890afd80709\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877e"
      "ec"
      "2f63b931bd47417a81a538327af927da3e\n"
      "T1A5E0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF012\n");
  EXPECT_THAT(Pairs(r), Contains(Pair("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709")));
  EXPECT_THAT(Pairs(r), Contains(Pair("sha256", ::testing::StartsWith("e3b0c442"))));
  EXPECT_THAT(Pairs(r), Contains(Pair("sha512", ::testing::StartsWith("cf83e135"))));
  EXPECT_THAT(Pairs(r), Contains(Pair("tlsh", ::testing::StartsWith("T1a5e0123"))));
}

TEST(Extract, LabelledValuesAreSplitFromTheirLabel) {
  Result r = Scan(
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 "
      "url=hxxp://evil[.]com/x");
  EXPECT_THAT(Pairs(r), Contains(Pair("sha256", ::testing::StartsWith("e3b0"))));
  EXPECT_THAT(Pairs(r), Contains(Pair("url", "http://evil.com/x")));
}

TEST(Extract, PortsAndCidrs) {
  Result r = Scan(
      "C2 at 185.220.101.47:8443 and ranges 10.0.0.0/8, [2a03:b0c0::1]:443 and "
      "C2 evil.com:8080 seen.");
  EXPECT_THAT(Pairs(r), Contains(Pair("ipv4", "185.220.101.47")));
  EXPECT_EQ(Find(r, "185.220.101.47")->note, "port 8443");
  EXPECT_THAT(Pairs(r), Contains(Pair("cidr", "10.0.0.0/8")));
  EXPECT_THAT(Pairs(r), Contains(Pair("ipv6", "2a03:b0c0::1")));
  EXPECT_THAT(Pairs(r), Contains(Pair("domain", "evil.com")));
}

TEST(Extract, TimesAndMacAddressesAreNotIpv6) {
  Result r = Scan("At 10:30:15 the host 00:1a:2b:3c:4d:5e rebooted; std::string was used.");
  EXPECT_THAT(r.indicators, IsEmpty());
}

TEST(Extract, CveSsdeepBitcoin) {
  Result r = Scan(
      "Exploits cve-2021-44228. ssdeep 3072:Zx8aQp4kLm9nB2vC5xZ7aS1dF3gH6jK8lQ:Zx8aQp4kLm9nB2vC. "
      "Ransom to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 or bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq; "
      "not 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3.");
  EXPECT_THAT(Pairs(r), Contains(Pair("cve", "CVE-2021-44228")));
  EXPECT_THAT(Pairs(r), Contains(Pair("ssdeep", ::testing::StartsWith("3072:Zx8a"))));
  EXPECT_THAT(Pairs(r), Contains(Pair("bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")));
  EXPECT_THAT(Pairs(r), Contains(Pair("bitcoin", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")));
  EXPECT_THAT(Pairs(r), Not(Contains(Pair("bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"))));
}

TEST(Extract, RegistryKeysPathsAndPipes) {
  Result r = Scan(
      "Persistence via HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run and "
      "\"HKCU\\Software\\Classes\\CLSID\\{1234} Shell\" plus C:\\Users\\Public\\svc.exe and "
      "the pipe \\\\.\\pipe\\msagent_12.");
  EXPECT_THAT(Pairs(r), Contains(Pair("registry-key",
                                      "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run")));
  EXPECT_THAT(Pairs(r),
              Contains(Pair("registry-key", "HKCU\\Software\\Classes\\CLSID\\{1234} Shell")));
  EXPECT_THAT(Pairs(r), Contains(Pair("file-path", "C:\\Users\\Public\\svc.exe")));
  EXPECT_THAT(Pairs(r), Contains(Pair("named-pipe", "\\\\.\\pipe\\msagent_12")));
}

TEST(Extract, MutexOnlyWhereMarked) {
  Result r = Scan(
      "It creates the mutex \"Global\\xx_77\" and a mutex named Hj8_k2. The mutex "
      "prevents reinfection.");
  EXPECT_THAT(Pairs(r), Contains(Pair("mutex", "Global\\xx_77")));
  EXPECT_THAT(Pairs(r), Contains(Pair("mutex", "Hj8_k2")));
  EXPECT_EQ(r.indicators.size(), 2u);
}

TEST(Extract, ContextFromMarkdownBlocksTablesAndSections) {
  Result r = Scan(
      "Intro about things.\n\n```\nbeacon.evil-domain.com\n```\n\n| Type | Value |\n|---|---|\n"
      "| Domain | table-domain.net |\n\n## Indicators of Compromise\n\nioc-section.org\n\n"
      "## References\n\nreference-site.com/blog\n",
      DocKind::kMarkdown);
  ASSERT_NE(Find(r, "beacon.evil-domain.com"), nullptr);
  EXPECT_EQ(Find(r, "beacon.evil-domain.com")->context, Context::kCodeBlock);
  ASSERT_NE(Find(r, "table-domain.net"), nullptr);
  EXPECT_EQ(Find(r, "table-domain.net")->context, Context::kTable);
  ASSERT_NE(Find(r, "ioc-section.org"), nullptr);
  EXPECT_EQ(Find(r, "ioc-section.org")->context, Context::kIocSection);
  EXPECT_EQ(Find(r, "reference-site.com/blog"), nullptr);
}

TEST(Extract, LocationsAndSnippets) {
  Result r = Scan("line one\n  the C2 was evil[.]com today\n");
  ASSERT_EQ(r.indicators.size(), 1u);
  EXPECT_EQ(r.indicators[0].location, "2:14");
  EXPECT_EQ(r.indicators[0].snippet, "the C2 was evil[.]com today");
  Document pdf;
  pdf.kind = DocKind::kPdf;
  pdf.text = "page one\n\fpage two\nC2 evil[.]com\n";
  Result p = internal::ExtractWith(pdf, nullptr, {}, testing::FakeChecks());
  ASSERT_EQ(p.indicators.size(), 1u);
  EXPECT_EQ(p.indicators[0].location, "p2:2:4");
}

TEST(Extract, DuplicatesAreCountedOnce) {
  Result r = Scan("C2 evil[.]com, again evil.com and EVIL.COM.");
  ASSERT_EQ(r.indicators.size(), 1u);
  EXPECT_EQ(r.indicators[0].occurrences, 3);
  EXPECT_TRUE(r.indicators[0].defanged);
}

TEST(Extract, TechniqueIdsWithWordBoundaries) {
  Result r = Scan("Uses T1566.001 and T1059, not XT1234 or T12345 or T1059.0011.");
  std::vector<std::string> ids;
  for (const NameMention& m : r.techniques) ids.push_back(m.id);
  EXPECT_THAT(ids, ::testing::ElementsAre("T1566.001", "T1059"));
}

NameCatalog TestCatalog() {
  using K = NameCatalog::Kind;
  return NameCatalog(
      {{K::kActor, "G0007", "APT28", {"APT28", "Sofacy", "Fancy Bear"}},
       {K::kActor, "G0032", "Lazarus Group", {"Lazarus Group", "Lazarus"}},
       {K::kSoftware, "S0023", "CHOPSTICK", {"CHOPSTICK", "X-Agent"}},
       {K::kSoftware, "S0039", "Net", {"Net", "net.exe"}},
       {K::kTechnique, "T1566.001", "Spearphishing Attachment", {"Spearphishing Attachment"}}});
}

TEST(ExtractNames, FindsSoftwareActorsAndTechniqueNamesAsWholeWords) {
  NameCatalog cat = TestCatalog();
  Result r = Scan("Sofacy used X-Agent via Spearphishing Attachment. Net traffic from Sofacyx.",
                  DocKind::kText, &cat);
  ASSERT_EQ(r.actors.size(), 1u);
  EXPECT_EQ(r.actors[0].id, "G0007");
  EXPECT_EQ(r.actors[0].matched, "Sofacy");
  ASSERT_EQ(r.software.size(), 1u);  // "Net" is a stop name
  EXPECT_EQ(r.software[0].id, "S0023");
  ASSERT_EQ(r.techniques.size(), 1u);
  EXPECT_EQ(r.techniques[0].id, "T1566.001");
}

TEST(ExtractNames, LongestNameWins) {
  NameCatalog cat = TestCatalog();
  Result r = Scan("The Lazarus Group struck again.", DocKind::kText, &cat);
  ASSERT_EQ(r.actors.size(), 1u);
  EXPECT_EQ(r.actors[0].matched, "Lazarus Group");
}

TEST(ExtractAttribution, StatedAttributionIsNotAMention) {
  NameCatalog cat = TestCatalog();
  Result r = Scan(
      "Unlike Lazarus, this actor is stealthy. We attribute this campaign with high "
      "confidence to APT28.",
      DocKind::kText, &cat);
  EXPECT_EQ(r.actors.size(), 2u);
  ASSERT_EQ(r.attributions.size(), 1u);
  EXPECT_EQ(r.attributions[0].actor_id, "G0007");
  EXPECT_EQ(r.attributions[0].confidence, 80);
  EXPECT_THAT(r.attributions[0].sentence, ::testing::HasSubstr("We attribute"));
}

TEST(ExtractAttribution, NegatedAttributionIsIgnored) {
  NameCatalog cat = TestCatalog();
  Result r =
      Scan("We have not attributed this activity to APT28. It is not known who is behind it.",
           DocKind::kText, &cat);
  EXPECT_THAT(r.attributions, IsEmpty());
}

TEST(ExtractAttribution, BackwardAndByForms) {
  NameCatalog cat = TestCatalog();
  Result r = Scan(
      "The Lazarus Group is most likely behind the heist. The breach was carried out by "
      "Fancy Bear.",
      DocKind::kText, &cat);
  ASSERT_EQ(r.attributions.size(), 2u);
  EXPECT_EQ(r.attributions[0].actor_id, "G0032");
  EXPECT_EQ(r.attributions[1].actor_id, "G0007");
}

TEST(ExtractAttribution, WithoutCatalogOnlyActorLikeNames) {
  Result r = Scan("The breach was carried out by APT28. The audit was conducted by Deloitte.");
  ASSERT_EQ(r.attributions.size(), 1u);
  EXPECT_EQ(r.attributions[0].actor_name, "APT28");
  EXPECT_EQ(r.attributions[0].actor_id, "");
}

TEST(ExtractAttribution, SingleActorInTitle) {
  NameCatalog cat = TestCatalog();
  Document doc;
  doc.kind = DocKind::kText;
  doc.title = "Sofacy returns with new tools";
  doc.text = "Sofacy returns with new tools\n\nSome text.";
  Result r = internal::ExtractWith(doc, &cat, {}, testing::FakeChecks());
  ASSERT_EQ(r.attributions.size(), 1u);
  EXPECT_EQ(r.attributions[0].actor_id, "G0007");
  EXPECT_EQ(r.attributions[0].location, "title");
}

// A name both an actor and a software go by ("Sofacy": APT28, and an alias of its CORESHELL
// downloader in ATT&CK) is read as both: a title naming it and another actor names two actors,
// so it attributes to neither; alone it still attributes.
TEST(ExtractAttribution, NameOfAnActorAndASoftwareCountsAsTheActorToo) {
  using K = NameCatalog::Kind;
  for (bool software_first : {true, false}) {
    std::vector<NameCatalog::Entry> entries = {{K::kActor, "G0007", "APT28", {"APT28", "Sofacy"}},
                                               {K::kActor, "G0010", "Turla", {"Turla"}}};
    NameCatalog::Entry coreshell{K::kSoftware, "S0137", "CORESHELL", {"CORESHELL", "Sofacy"}};
    entries.insert(software_first ? entries.begin() : entries.end(), coreshell);
    NameCatalog cat(entries);
    Document doc;
    doc.kind = DocKind::kText;
    doc.title = "Sofacy and Turla share a server";
    doc.text = "Sofacy deployed a new loader.";
    Result r = internal::ExtractWith(doc, &cat, {}, testing::FakeChecks());
    EXPECT_THAT(r.attributions, IsEmpty()) << software_first;
    ASSERT_EQ(r.actors.size(), 1u) << software_first;
    EXPECT_EQ(r.actors[0].id, "G0007");
    ASSERT_EQ(r.software.size(), 1u) << software_first;
    EXPECT_EQ(r.software[0].id, "S0137");
    doc.title = "Sofacy returns";
    r = internal::ExtractWith(doc, &cat, {}, testing::FakeChecks());
    ASSERT_EQ(r.attributions.size(), 1u) << software_first;
    EXPECT_EQ(r.attributions[0].actor_id, "G0007");
  }
}

TEST(Extract, TlpMarking) {
  EXPECT_EQ(Scan("Distribution: TLP:AMBER+STRICT").tlp, "amber+strict");
  EXPECT_EQ(Scan("TLP: WHITE").tlp, "clear");
  EXPECT_EQ(Scan("no marking").tlp, "");
}

TEST(Extract, KeepsHostsOfTheReportsOwnSiteOut) {
  Document doc;
  doc.kind = DocKind::kHtml;
  doc.self_host = "blog.vendor.com";
  doc.text = "C2 at https://blog.vendor.com/2023/x and https://evil.net/x\n";
  Result r = internal::ExtractWith(doc, nullptr, {}, testing::FakeChecks());
  EXPECT_THAT(Pairs(r), ::testing::ElementsAre(Pair("url", "https://evil.net/x")));
}

TEST(Extract, SurvivesHostileInput) {
  std::string s(100000, '[');
  s += std::string(5000, '.') + "hxxp://" + std::string(3000, 'a') + "[.]com";
  for (int i = 0; i < 2000; ++i) s += "1.";
  Result r = Scan(s);
  SUCCEED();
  (void)r;
}

TEST(DocKind, DetectedByContentThenExtension) {
  EXPECT_EQ(DetectDocKind("%PDF-1.4\n...", "x.txt"), DocKind::kPdf);
  EXPECT_EQ(DetectDocKind("  <!DOCTYPE html><html>", "x.txt"), DocKind::kHtml);
  EXPECT_EQ(DetectDocKind("# Title\n", "x.md"), DocKind::kMarkdown);
  EXPECT_EQ(DetectDocKind("plain", "x.html"), DocKind::kHtml);
  EXPECT_EQ(DetectDocKind("plain", "x"), DocKind::kText);
}

TEST(Html, RendersVisibleTextWithStructure) {
  auto doc = ToText(
      "<html><head><title> My  Title </title><script>var a='evil.com';</script></head><body>"
      "<nav><a href='https://menu.example.org/'>menu</a></nav>"
      "<h2>IOCs</h2><p>See <a href='https://x.evil.net/a'>here</a> and <code>1.2.3[.]4</code></p>"
      "<pre>line1\nline2</pre><table><tr><td>a</td><td>b</td></tr></table></body></html>",
      "x.html");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->title, "My Title");
  EXPECT_THAT(doc->text, Not(::testing::HasSubstr("evil.com")));
  EXPECT_THAT(doc->text, Not(::testing::HasSubstr("menu")));
  EXPECT_THAT(doc->text, ::testing::HasSubstr("# IOCs\n"));
  EXPECT_THAT(doc->text, ::testing::HasSubstr("here <https://x.evil.net/a>"));
  EXPECT_THAT(doc->text, ::testing::HasSubstr("`1.2.3[.]4`"));
  EXPECT_THAT(doc->text, ::testing::HasSubstr("```\nline1\nline2\n```\n"));
  EXPECT_THAT(doc->text, ::testing::HasSubstr("| a | b |"));
}

TEST(Html, LocationsAreSourceLines) {
  auto doc = ToText("<html><body>\n<p>one</p>\n\n<p>C2 evil[.]com</p>\n</body></html>", "x.html");
  ASSERT_TRUE(doc.ok());
  Result r = internal::ExtractWith(*doc, nullptr, {}, testing::FakeChecks());
  ASSERT_EQ(r.indicators.size(), 1u);
  EXPECT_EQ(r.indicators[0].location, "4");
}

TEST(Pdf, GarbageIsInvalidArgument) {
  auto doc = ToText("%PDF-1.4\nthis is not really a pdf\n", "bad.pdf");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(doc.status().message()), ::testing::HasSubstr("bad.pdf"));
}

}  // namespace
}  // namespace kinship::extract
