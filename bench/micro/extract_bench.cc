// Report extraction speed on generated report corpora: "dense" (an indicator in about every
// other sentence, ~1 per 200 bytes, a third defanged, IOC tables and code blocks: an IOC
// appendix) and "prose" (one indicator per ~20 sentences: a typical article body). Baselines in
// the same process: a naive RE2 loop (one FindAndConsume pass per indicator regex, the usual
// "regex extractor") and std::regex with the same patterns; plus the Hyperscan candidate pass
// alone. Report: MB/s of each and the ratio.
#include <benchmark/benchmark.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "extract/extract_internal.h"
#include "kinship/extract.h"
#include "re2/re2.h"

namespace {

std::string MakeCorpus(size_t bytes, uint32_t seed, unsigned indicator_odds) {
  std::mt19937 rng(seed);
  static const char* kWords[] = {
      "the",      "actor",    "used",     "a",         "loader", "to",       "deploy",  "its",
      "backdoor", "which",    "then",     "collected", "data",   "from",     "victims", "in",
      "several",  "sectors",  "we",       "observed",  "that",   "campaign", "version", "2.1",
      "e.g.",     "analysis", "of",       "samples",   "shows",  "Windows",  "systems", "were",
      "targeted", "through",  "phishing", "documents", "and",    "macros",   "report",  "with"};
  auto word = [&] { return kWords[rng() % (sizeof kWords / sizeof *kWords)]; };
  auto hex = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
    return s;
  };
  auto ip = [&] {
    return absl::StrCat(1 + rng() % 220, ".", rng() % 256, ".", rng() % 256, ".", 1 + rng() % 254);
  };
  auto domain = [&] { return absl::StrCat("srv", rng() % 100000, "-cdn.", hex(4), ".com"); };
  std::string out;
  while (out.size() < bytes) {
    for (int s = 0; s < 5; ++s) {
      int n = 8 + static_cast<int>(rng() % 14);
      for (int i = 0; i < n; ++i) absl::StrAppend(&out, i ? " " : "", word());
      switch (rng() % indicator_odds) {
        case 0:
          absl::StrAppend(&out, " contacting ", ip());
          break;
        case 1: {
          std::string d = domain();
          d.replace(d.rfind('.'), 1, "[.]");
          absl::StrAppend(&out, " via hxxps://", d, "/gate.php");
          break;
        }
        case 2:
          absl::StrAppend(&out, " (sha256 ", hex(64), ")");
          break;
        case 3:
          absl::StrAppend(&out, " C2 ", domain());
          break;
        default:
          break;
      }
      out += ". ";
    }
    out += "\n\n";
    if (rng() % (indicator_odds + 2) == 0) {
      absl::StrAppend(&out, "| Type | Value |\n|---|---|\n| IP | ", ip(), " |\n| MD5 | ", hex(32),
                      " |\n\n```\n", domain(), "\n```\n\n");
    }
  }
  return out;
}

const std::string& Corpus(int which) {
  static const std::string dense = MakeCorpus(8 << 20, 20240519, 8);
  static const std::string prose = MakeCorpus(8 << 20, 20240519, 80);
  return which == 0 ? dense : prose;
}

void BM_CandidateScanOnly(benchmark::State& state) {
  const std::string& text = Corpus(static_cast<int>(state.range(0)));
  size_t n = 0;
  for (auto _ : state) {
    n = kinship::extract::internal::CountCandidates(text);
    benchmark::DoNotOptimize(n);
  }
  state.counters["candidates"] = static_cast<double>(n);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_CandidateScanOnly)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_Kinship(benchmark::State& state) {
  kinship::extract::Document doc;
  doc.kind = kinship::extract::DocKind::kMarkdown;
  doc.text = Corpus(static_cast<int>(state.range(0)));
  kinship::extract::Extractor ex(nullptr);
  size_t found = 0;
  for (auto _ : state) {
    kinship::extract::Result r = ex.Extract(doc);
    found = r.indicators.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["indicators"] = static_cast<double>(found);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.text.size()));
}
BENCHMARK(BM_Kinship)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// The patterns a typical regex IOC extractor runs, one pass each (no refanging, no context).
const std::vector<std::string>& BaselinePatterns() {
  static const std::vector<std::string> p = {
      R"(\b(?:\d{1,3}\.){3}\d{1,3}\b)",
      R"(\b(?:[a-z0-9-]+(?:\.|\[\.\]))+(?:com|net|org|ru|info|top|xyz)\b)",
      R"(\b(?:hxxps?|https?)://[^\s"'<>]+)",
      R"(\b[0-9a-f]{64}\b)",
      R"(\b[0-9a-f]{40}\b)",
      R"(\b[0-9a-f]{32}\b)",
      R"(\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b)",
      R"(\bCVE-\d{4}-\d{4,7}\b)"};
  return p;
}

void BM_NaiveRe2Loop(benchmark::State& state) {
  const std::string& text = Corpus(static_cast<int>(state.range(0)));
  std::vector<std::unique_ptr<RE2>> res;
  for (const std::string& p : BaselinePatterns()) {
    res.push_back(std::make_unique<RE2>("(" + p + ")"));
  }
  size_t found = 0;
  for (auto _ : state) {
    found = 0;
    for (const auto& re : res) {
      re2::StringPiece in(text);
      std::string m;
      while (RE2::FindAndConsume(&in, *re, &m)) ++found;
    }
  }
  state.counters["matches"] = static_cast<double>(found);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_NaiveRe2Loop)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_StdRegexLoop(benchmark::State& state) {
  // std::regex is far slower: measured on the first 512 KiB only.
  const std::string text = Corpus(static_cast<int>(state.range(0))).substr(0, 512 << 10);
  std::vector<std::regex> res;
  for (const std::string& p : BaselinePatterns()) res.emplace_back(p, std::regex::optimize);
  size_t found = 0;
  for (auto _ : state) {
    found = 0;
    for (const auto& re : res) {
      for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
           it != std::sregex_iterator(); ++it) {
        ++found;
      }
    }
  }
  state.counters["matches"] = static_cast<double>(found);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_StdRegexLoop)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
