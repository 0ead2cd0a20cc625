// Extraction recall and precision on real indicator values: every report of the shared dev set
// (reports/reports-dev.jsonl: ESET, Unit 42, Maltrail) is rendered as a Markdown report in one of
// four styles per indicator (prose next to a context word, defanged prose, IOC table, code block)
// with false-positive bait between them, then extracted with the production Extractor.
// Seeded (printed on failure); the data are read in place, never copied.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "kinship/extract.h"
#include "testing/data.h"

namespace kinship::extract {
namespace {

constexpr uint32_t kSeed = 20241128;

std::string Defang(const std::string& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '.' && v.find('.', i + 1) == std::string::npos) {
      out += "[.]";
    } else if (v[i] == '@') {
      out += "[@]";
    } else {
      out.push_back(v[i]);
    }
  }
  if (out.rfind("http://", 0) == 0 || out.rfind("https://", 0) == 0) out.replace(0, 4, "hxxp");
  return out;
}

struct Counts {
  size_t expected = 0, found = 0;
};

TEST(ExtractReportsData, RecallAndPrecisionOnRealValues) {
  const std::string path = kinship::testing::DataPath("reports/reports-dev.jsonl");
  ASSERT_FALSE(path.empty());
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  ASSERT_EQ(parser.load_many(path).get(stream), simdjson::SUCCESS);
  std::mt19937 rng(kSeed);
  Extractor ex(nullptr);
  const std::set<std::string> kTypes = {"domain", "url",    "ipv4",   "ipv6",  "md5",
                                        "sha1",   "sha256", "sha512", "email", "cve"};
  std::map<std::string, Counts> per_type;
  size_t tp = 0, fp = 0, fn = 0, reports = 0;
  std::vector<std::string> fp_examples, fn_examples;
  std::map<std::string, int> missed_shown;
  for (auto rec : stream) {
    simdjson::dom::element r;
    if (rec.get(r) != simdjson::SUCCESS) continue;
    std::string md =
        "# Report\n\nThe operators were active for months. Built with version "
        "10.0.17763.1 and detected as Trojan.Win32.Agent.ca; see report.pdf and "
        "System.Net.WebClient for details.\n\n";
    std::string table = "| Type | Value |\n|---|---|\n", code = "```\n";
    std::set<std::pair<std::string, std::string>> want;
    simdjson::dom::array inds;
    if (r["indicators"].get(inds) != simdjson::SUCCESS) continue;
    for (auto ind : inds) {
      std::string_view type, value;
      if (ind["type"].get(type) != simdjson::SUCCESS) continue;
      if (ind["value"].get(value) != simdjson::SUCCESS) continue;
      std::string t(type), v(value);
      if (!kTypes.count(t) || v.find_first_of(" \t\n|`") != std::string::npos) continue;
      if (t == "cve") v = absl::AsciiStrToUpper(v);
      if (t == "domain" || t == "email") v = absl::AsciiStrToLower(v);
      if (t == "url") {  // canonical URLs have a lower-case scheme and host
        size_t host = v.find("://") == std::string::npos ? 0 : v.find("://") + 3;
        size_t end = v.find_first_of("/?#", host);
        if (end == std::string::npos) end = v.size();
        for (size_t i = 0; i < end; ++i)
          v[i] = absl::ascii_tolower(static_cast<unsigned char>(v[i]));
      }
      want.emplace(t, v);
      switch (rng() % 4) {
        case 0:
          absl::StrAppend(&md, "During the intrusion the implant contacted ", v,
                          " repeatedly.\n\n");
          break;
        case 1:
          absl::StrAppend(&md, "Traffic also went to ", Defang(v), " later on.\n\n");
          break;
        case 2:
          absl::StrAppend(&table, "| ", t, " | ", v, " |\n");
          break;
        default:
          absl::StrAppend(&code, v, "\n");
          break;
      }
    }
    if (want.empty()) continue;
    ++reports;
    md += "\n## Indicators of Compromise\n\n" + table + "\n" + code + "```\n";
    Document doc;
    doc.kind = DocKind::kMarkdown;
    doc.text = md;
    Result res = ex.Extract(doc);
    std::set<std::pair<std::string, std::string>> got;
    for (const Finding& f : res.indicators) {
      got.emplace(std::string(IndicatorTypeName(f.type)), f.value);
    }
    for (const auto& w : want) {
      per_type[w.first].expected++;
      if (got.count(w)) {
        per_type[w.first].found++;
        ++tp;
      } else {
        ++fn;
        if (++missed_shown[w.first] <= 4) fn_examples.push_back(w.first + " " + w.second);
      }
    }
    for (const auto& g : got) {
      if (!want.count(g)) {
        ++fp;
        if (fp_examples.size() < 12) fp_examples.push_back(g.first + " " + g.second);
      }
    }
  }
  ASSERT_GT(reports, 1000u);
  const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
  const double recall = static_cast<double>(tp) / static_cast<double>(tp + fn);
  std::printf("reports-dev: %zu reports, tp=%zu fp=%zu fn=%zu precision=%.4f recall=%.4f\n",
              reports, tp, fp, fn, precision, recall);
  for (const auto& [t, c] : per_type) {
    std::printf("  %-7s %6zu/%-6zu recall %.4f\n", t.c_str(), c.found, c.expected,
                static_cast<double>(c.found) / static_cast<double>(c.expected));
  }
  for (const std::string& e : fn_examples) std::printf("  missed: %s\n", e.c_str());
  for (const std::string& e : fp_examples) std::printf("  extra:  %s\n", e.c_str());
  EXPECT_GE(precision, 0.95) << "seed " << kSeed;
  EXPECT_GE(recall, 0.95) << "seed " << kSeed;
}

}  // namespace
}  // namespace kinship::extract
