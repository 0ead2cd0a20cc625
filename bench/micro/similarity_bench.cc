// Micro-benchmarks of the similarity index: Similar (top-10, postings walked rarest first) and
// Compare against a brute-force baseline in the same process (Compare against every incident,
// what answering Similar without an index costs).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kinship/similarity.h"

namespace {

kinship::Incident Make(int i) {
  kinship::Incident inc;
  inc.id = absl::StrCat("i", i);
  int actor = i % 97;
  for (int k = 0; k < 40; ++k) {
    kinship::Indicator ind;
    ind.type = kinship::IndicatorType::kIpv4;
    bool shared = k % 5 == 0;
    int v = shared ? actor * 31 + (i / 97 + k) % 13 : i * 40 + k;
    ind.value = absl::StrCat(v >> 16 & 255, ".", v >> 8 & 255, ".", v & 255, ".7");
    inc.indicators.push_back(std::move(ind));
  }
  inc.techniques.push_back({"T1059.001", ""});
  inc.techniques.push_back({absl::StrCat("T1", 100 + actor % 40), ""});
  return inc;
}

const kinship::score::SimilarityIndex& Index(int n) {
  static auto* index = [n] {
    auto* idx = new kinship::score::SimilarityIndex();
    for (int i = 0; i < n; ++i) (void)idx->Add(Make(i));
    return idx;
  }();
  return *index;
}

constexpr int kCorpus = 20000;

void BM_SimilarTop10(benchmark::State& state) {
  const auto& index = Index(kCorpus);
  int q = 0;
  for (auto _ : state) {
    auto m = index.Similar(absl::StrCat("i", (q++ * 7919) % kCorpus), 10);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_SimilarTop10);

// Baseline: Compare the query with every indexed incident and keep the best 10.
void BM_BruteForceTop10(benchmark::State& state) {
  const auto& index = Index(kCorpus);
  std::vector<std::string> ids = index.Ids();
  int q = 0;
  for (auto _ : state) {
    std::string qid = absl::StrCat("i", (q++ * 7919) % kCorpus);
    double best = 0;
    for (const std::string& id : ids) {
      if (id == qid) continue;
      auto c = index.Compare(qid, id);
      if (c.ok() && c->raw > best) best = c->raw;
    }
    benchmark::DoNotOptimize(best);
  }
}
BENCHMARK(BM_BruteForceTop10)->Iterations(20);

void BM_ComparePair(benchmark::State& state) {
  const auto& index = Index(kCorpus);
  for (auto _ : state) {
    auto c = index.Compare("i1", "i98");
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_ComparePair);

}  // namespace

BENCHMARK_MAIN();
