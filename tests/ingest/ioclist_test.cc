#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/ioclist/csv_reader.h"
#include "kinship/ingest.h"
#include "kinship/limits.h"
#include "util/sha256.h"

namespace kinship::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ParseOutput ParseOk(const std::string& text, bool csv, const Options& options = {}) {
  auto out = ParseIocList(text, "lists/iocs.txt", options, csv);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *std::move(out) : ParseOutput{};
}

// "type:raw@location" of each indicator.
std::vector<std::string> Described(const ParseOutput& out) {
  std::vector<std::string> v;
  if (out.incidents.empty()) return v;
  for (const Indicator& i : out.incidents[0].indicators) {
    v.push_back(std::string(IndicatorTypeName(i.type)) + ":" + i.raw + "@" + i.location);
  }
  return v;
}

// ---- CSV reader (no type detection involved) ----

std::vector<std::vector<std::string>> ReadAll(std::string_view text, char delimiter = ',') {
  internal::CsvReader reader(text, delimiter);
  std::vector<internal::CsvField> fields;
  std::vector<std::vector<std::string>> records;
  while (true) {
    auto more = reader.Next(&fields);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    std::vector<std::string> r;
    for (const auto& f : fields) r.push_back(f.value);
    records.push_back(r);
  }
  return records;
}

TEST(CsvReader, ReadsQuotedFieldsPerRfc4180) {
  EXPECT_THAT(ReadAll("a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\n\"multi\nline\",\n"),
              ElementsAre(ElementsAre("a", "b"), ElementsAre("x,y", "say \"hi\""),
                          ElementsAre("multi\nline", "")));
}

TEST(CsvReader, KeepsQuoteInsideUnquotedFieldLiterally) {
  EXPECT_THAT(ReadAll("ab\"c,d\n"), ElementsAre(ElementsAre("ab\"c", "d")));
}

TEST(CsvReader, ReportsFieldPositions) {
  internal::CsvReader reader("a,b\n\"q\nr\",zz\n", ',', 5);
  std::vector<internal::CsvField> fields;
  ASSERT_TRUE(*reader.Next(&fields));
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(reader.record_line(), 6u);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].line, 6u);
  EXPECT_EQ(fields[0].col, 1u);
  EXPECT_EQ(fields[1].line, 7u);
  EXPECT_EQ(fields[1].col, 4u);
}

TEST(CsvReader, RejectsUnterminatedQuoteAtItsStart) {
  internal::CsvReader reader("a\nx,\"open\nmore", ',');
  std::vector<internal::CsvField> fields;
  ASSERT_TRUE(*reader.Next(&fields));
  auto more = reader.Next(&fields);
  ASSERT_EQ(more.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(more.status().message(), "2:3: unterminated quoted field");
}

TEST(CsvReader, RejectsTextAfterClosingQuote) {
  internal::CsvReader reader("\"ab\"c,d", ',');
  std::vector<internal::CsvField> fields;
  auto more = reader.Next(&fields);
  ASSERT_EQ(more.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(more.status().message(), "1:5: unexpected text after a closing quote");
}

TEST(CsvReader, DetectsDelimiter) {
  EXPECT_EQ(internal::DetectDelimiter("value,type"), ',');
  EXPECT_EQ(internal::DetectDelimiter("value;type;comment"), ';');
  EXPECT_EQ(internal::DetectDelimiter("value\ttype"), '\t');
  EXPECT_EQ(internal::DetectDelimiter("\"a;b\",c"), ',');
  EXPECT_EQ(internal::DetectDelimiter("value"), ',');
}

// ---- text lists ----

TEST(IocList, TextListDetectsTypesSkipsCommentsAndKeepsRawValues) {
  const std::string text =
      "# campaign X\r\n"
      "176.31.112[.]10\r\n"
      "\r\n"
      "  hxxp://evil[.]com/a\tdropper URL\n"
      "e05de3e4a03369192856a167f2865eab3062a102b23bfdde5c0f622b39cd159a\n"
      "   # indented comment\n"
      "evil.com";
  ParseOutput out = ParseOk(text, false);
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_THAT(
      Described(out),
      ElementsAre("ipv4:176.31.112[.]10@2:1", "url:hxxp://evil[.]com/a@4:3",
                  "sha256:e05de3e4a03369192856a167f2865eab3062a102b23bfdde5c0f622b39cd159a@5:1",
                  "domain:evil.com@7:1"));
  EXPECT_EQ(out.incidents[0].indicators[1].comment, "dropper URL");
  EXPECT_TRUE(out.diagnostics.empty());
}

// Lists carry TTPs and a marking beside the IOCs: a technique id is a technique of the incident
// (not an undetectable line that fails the file), the first TLP in a comment line the list's.
TEST(IocList, TechniqueIdsAndMarkingInComments) {
  for (bool csv : {false, true}) {
    const std::string text = csv ? "# Campaign X, TLP:AMBER\nvalue\nT1566.001\nevil.com\nt1059\n"
                                 : "# Campaign X, TLP:AMBER\nT1566.001\nevil.com\nt1059\n"
                                   "# later: TLP:RED\nT1566.001\n";
    ParseOutput out = ParseOk(text, csv);
    ASSERT_EQ(out.incidents.size(), 1u) << csv;
    const Incident& inc = out.incidents[0];
    ASSERT_EQ(inc.techniques.size(), 2u) << csv;
    EXPECT_EQ(inc.techniques[0].id, "T1566.001");
    EXPECT_EQ(inc.techniques[0].location, csv ? "3:1" : "2:1");
    EXPECT_EQ(inc.techniques[1].id, "T1059");
    EXPECT_EQ(inc.tlp, Tlp::kAmber) << csv;
    ASSERT_EQ(inc.indicators.size(), 1u);
    EXPECT_EQ(inc.indicators[0].raw, "evil.com");
  }
  // Not technique ids: T15660, T1566.1, X1566.
  auto out = ParseIocList("T15660\n", "l.txt", {}, false);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  out = ParseIocList("T1566.1\n", "l.txt", {}, false);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(IocList, IdIsContentHashAndTitleIsFileName) {
  const std::string text = "evil.com\n";
  ParseOutput out = ParseOk(text, false);
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_EQ(out.incidents[0].id, "sha256:" + util::Sha256Hex(text));
  EXPECT_EQ(out.incidents[0].title, "iocs.txt");
  EXPECT_EQ(out.incidents[0].provenance.format, "text");
  EXPECT_EQ(out.incidents[0].provenance.file, "lists/iocs.txt");
}

TEST(IocList, RejectsUndetectableLineWithLineAndColumn) {
  auto out = ParseIocList("evil.com\n\n  not an indicator\n", "l.txt", {}, false);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("l.txt:3:3: cannot tell the indicator type"));
}

TEST(IocList, SkipsUndetectableLineWhenAsked) {
  Options opts;
  opts.skip_bad_records = true;
  ParseOutput out = ParseOk("evil.com\n  not an indicator\n1.2.3.4\n", false, opts);
  EXPECT_THAT(Described(out), ElementsAre("domain:evil.com@1:1", "ipv4:1.2.3.4@3:1"));
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_EQ(out.diagnostics[0].location, "2:3");
  EXPECT_EQ(out.diagnostics[0].severity, Diagnostic::Severity::kError);
}

TEST(IocList, RejectsOverlongValue) {
  auto out =
      ParseIocList(std::string(limits::kMaxIndicatorBytes + 1, 'a') + ".com\n", "l.txt", {}, false);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(out.status().message(), HasSubstr("l.txt:1:1: value longer than kMaxIndicatorBytes"));
}

TEST(IocList, EmptyListIsAnIncidentWithoutIndicators) {
  ParseOutput out = ParseOk("# nothing yet\n\n", false);
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_TRUE(out.incidents[0].indicators.empty());
}

TEST(IocList, StripsByteOrderMark) {
  ParseOutput out = ParseOk(
      "\xEF\xBB\xBF"
      "evil.com\n",
      false);
  EXPECT_THAT(Described(out), ElementsAre("domain:evil.com@1:1"));
}

// ---- CSV lists ----

TEST(IocList, CsvUsesValueTypeAndCommentColumns) {
  const std::string csv =
      "# exported\n"
      "Type,Indicator,Comment,Category\n"
      "ip-dst,176.31.112[.]10,\"C2, primary\",Network activity\n"
      "filename|sha256,\"a.exe|e05de3e4a03369192856a167f2865eab3062a102b23bfdde5c0f622b39cd159a\",,"
      "\n"
      ",evil.com,,\n"
      "yara,rule x { condition: true },,\n"
      "sha256,\"multi\nline\",,\n";
  ParseOutput out = ParseOk(csv, true);
  ASSERT_EQ(out.incidents.size(), 1u);
  EXPECT_EQ(out.incidents[0].provenance.format, "csv");
  EXPECT_THAT(
      Described(out),
      ElementsAre("ipv4:176.31.112[.]10@3:8", "filename:a.exe@4:17",
                  "sha256:e05de3e4a03369192856a167f2865eab3062a102b23bfdde5c0f622b39cd159a@4:17",
                  "domain:evil.com@5:2", "other:rule x { condition: true }@6:6",
                  "sha256:multi\nline@7:8"));
  EXPECT_EQ(out.incidents[0].indicators[0].comment, "C2, primary");
  EXPECT_EQ(out.incidents[0].indicators[0].category, "Network activity");
}

TEST(IocList, CsvWithSemicolonsAndKinshipTypeNames) {
  ParseOutput out = ParseOk("value;type\n1.2.3.4;ipv4\nevil.com;domain\n", true);
  EXPECT_THAT(Described(out), ElementsAre("ipv4:1.2.3.4@2:1", "domain:evil.com@3:1"));
}

TEST(IocList, CsvCompositeTypesSplitLikeMisp) {
  ParseOutput out = ParseOk(
      "type,value\nregkey|value,HKCU\\Run|a|b\ndomain|ip,evil.com|1.2.3.4\nip-dst|port,1.2.3.4|"
      "80\n",
      true);
  EXPECT_THAT(Described(out), ElementsAre("registry-key:HKCU\\Run@2:14", "domain:evil.com@3:11",
                                          "ipv4:1.2.3.4@3:11", "ipv4:1.2.3.4@4:13"));
}

TEST(IocList, CsvRejectsHeaderWithoutValueColumn) {
  auto out = ParseIocList("# c\nfoo,bar\n1.2.3.4,x\n", "l.csv", {}, true);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("l.csv:2:1: CSV header names no value column"));
}

TEST(IocList, CsvReportsQuotingErrorsWithFileLineAndColumn) {
  auto out = ParseIocList("value,type\nevil.com,domain\n\"open,x\n", "l.csv", {}, true);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "l.csv:3:1: unterminated quoted field");
}

TEST(IocList, CsvShortRecordAndEmptyValueAreBadRecords) {
  const std::string csv = "type,value\ndomain\nip-dst,\n,,\nip-dst,1.2.3.4\n";
  auto strict = ParseIocList(csv, "l.csv", {}, true);
  ASSERT_EQ(strict.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(strict.status().message(), HasSubstr("l.csv:2:1: record has 1 fields"));
  Options opts;
  opts.skip_bad_records = true;
  ParseOutput out = ParseOk(csv, true, opts);
  EXPECT_THAT(Described(out), ElementsAre("ipv4:1.2.3.4@5:8"));
  ASSERT_EQ(out.diagnostics.size(), 2u);
  EXPECT_EQ(out.diagnostics[0].location, "2:1");
  EXPECT_EQ(out.diagnostics[1].location, "3:8");
}

}  // namespace
}  // namespace kinship::ingest
