// Precision and recall of the extractor on the hand-written corpus (tests/extract/corpus/):
// text, Markdown, HTML with tricky markup, and a PDF generated at test time.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "extract/extract_internal.h"
#include "extract/test_checks.h"
#include "kinship/extract.h"
#include "testing/data.h"

namespace kinship::extract {
namespace {

namespace fs = std::filesystem;

// A minimal one-font PDF (Courier 9 pt, 70 lines a page), enough for pdftotext.
std::string MakePdf(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::vector<std::string> pages;
  for (size_t i = 0; i < lines.size(); i += 70) {
    std::string content = "BT /F1 9 Tf 11 TL 36 760 Td\n";
    for (size_t j = i; j < std::min(lines.size(), i + 70); ++j) {
      std::string esc;
      for (char c : lines[j]) {
        if (c == '(' || c == ')' || c == '\\') esc.push_back('\\');
        esc.push_back(c);
      }
      absl::StrAppend(&content, "(", esc, ") Tj T*\n");
    }
    content += "ET\n";
    pages.push_back(content);
  }
  std::vector<std::string> objs;
  const size_t n = pages.size();
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (size_t p = 0; p < n; ++p) absl::StrAppend(&kids, 4 + 2 * p, " 0 R ");
  objs.push_back(absl::StrCat("<< /Type /Pages /Kids [", kids, "] /Count ", n, " >>"));
  objs.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>");
  for (size_t p = 0; p < n; ++p) {
    objs.push_back(absl::StrCat("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ",
                                5 + 2 * p, " 0 R /Resources << /Font << /F1 3 0 R >> >> >>"));
    objs.push_back(
        absl::StrCat("<< /Length ", pages[p].size(), " >>\nstream\n", pages[p], "endstream"));
  }
  std::string out = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(out.size());
    absl::StrAppend(&out, i + 1, " 0 obj\n", objs[i], "\nendobj\n");
  }
  size_t xref = out.size();
  absl::StrAppend(&out, "xref\n0 ", objs.size() + 1, "\n0000000000 65535 f \n");
  for (size_t off : offsets) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", off);
    out += buf;
  }
  absl::StrAppend(&out, "trailer\n<< /Size ", objs.size() + 1, " /Root 1 0 R >>\nstartxref\n", xref,
                  "\n%%EOF\n");
  return out;
}

using Pair = std::pair<std::string, std::string>;

std::set<Pair> ReadExpected(const std::string& path) {
  std::set<Pair> out;
  std::string text = kinship::testing::ReadFileOrDie(path);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits('\t', 1));
    if (parts.size() == 2) out.emplace(parts[0], parts[1]);
  }
  return out;
}

TEST(ExtractCorpus, PdfGeneratedAtTestTimeKeepsPagesAndLines) {
  auto doc = ToText(MakePdf("first page\nC2 evil[.]com"), "gen.pdf");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->kind, DocKind::kPdf);
  Result r = internal::ExtractWith(*doc, nullptr, {}, testing::FakeChecks());
  ASSERT_EQ(r.indicators.size(), 1u);
  EXPECT_EQ(r.indicators[0].value, "evil.com");
  EXPECT_EQ(r.indicators[0].location.substr(0, 5), "p1:2:");
}

void CheckCorpus(const internal::Checks& checks, const char* label) {
  const fs::path dir = fs::path(kinship::testing::SourceDir()) / "tests/extract/corpus";
  size_t tp = 0, fp = 0, fn = 0, docs = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".expected" || name == "README.md") continue;
    ASSERT_TRUE(fs::exists(entry.path().string() + ".expected")) << name;
    std::string bytes = kinship::testing::ReadFileOrDie(entry.path().string());
    std::string file = name;
    if (entry.path().extension() == ".pdfsrc") {
      bytes = MakePdf(bytes);
      file = name + ".pdf";
    }
    auto doc = ToText(bytes, file);
    ASSERT_TRUE(doc.ok()) << name << ": " << doc.status();
    Result r = internal::ExtractWith(*doc, nullptr, {}, checks);
    std::set<Pair> got;
    for (const Finding& f : r.indicators) {
      got.emplace(std::string(IndicatorTypeName(f.type)), f.value);
    }
    std::set<Pair> want = ReadExpected(entry.path().string() + ".expected");
    for (const Pair& p : got) {
      if (want.count(p)) {
        ++tp;
      } else {
        ++fp;
        ADD_FAILURE() << name << ": false positive " << p.first << " " << p.second;
      }
    }
    for (const Pair& p : want) {
      if (!got.count(p)) {
        ++fn;
        ADD_FAILURE() << name << ": missed " << p.first << " " << p.second;
      }
    }
    ++docs;
  }
  ASSERT_GE(docs, 5u);
  const double precision =
      tp + fp == 0 ? 0 : static_cast<double>(tp) / static_cast<double>(tp + fp);
  const double recall = tp + fn == 0 ? 0 : static_cast<double>(tp) / static_cast<double>(tp + fn);
  std::printf("corpus (%s): %zu documents, tp=%zu fp=%zu fn=%zu precision=%.3f recall=%.3f\n",
              label, docs, tp, fp, fn, precision, recall);
  EXPECT_GE(precision, 0.95) << label;
  EXPECT_GE(recall, 0.95) << label;
}

// With the production refanger and Public Suffix List (normalize.h).
TEST(ExtractCorpus, PrecisionAndRecallAtLeast95Percent) {
  CheckCorpus(internal::NormalizeChecks(), "normalize");
}

// With the test doubles, so that a change in normalize cannot hide a scanner regression.
TEST(ExtractCorpus, PrecisionAndRecallAtLeast95PercentWithTestDoubles) {
  CheckCorpus(testing::FakeChecks(), "test doubles");
}

}  // namespace
}  // namespace kinship::extract
