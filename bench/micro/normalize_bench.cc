// Normalisation and warninglist cost. Baseline in the same process: copying and lower-casing
// each raw value (the least any canonicaliser must do). Report the ratio NormalizeIncident /
// Baseline and items_per_second (indicators/s, one core).
//   KINSHIP_DATA=../shared/data ./normalize_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kinship/normalize.h"
#include "kinship/warninglist.h"

namespace kinship {
namespace {

// A deterministic mix of raw indicators as feeds carry them: defanged, mixed case, URLs, hashes.
std::vector<Indicator> MakeRaw(size_t n) {
  std::mt19937 rng(42);
  std::vector<Indicator> out;
  out.reserve(n);
  auto hex = [&](size_t len) {
    static const char kHex[] = "0123456789ABCDEFabcdef";
    std::string s(len, '0');
    for (char& c : s) c = kHex[rng() % 22];
    return s;
  };
  for (size_t i = 0; i < n; ++i) {
    const unsigned r = rng();
    const std::string host = "Host" + std::to_string(r % 5000) + ".Evil" + std::to_string(r % 97) +
                             (r % 3 == 0 ? ".co.uk" : ".com");
    switch (i % 8) {
      case 0:
        out.push_back(
            Indicator::Raw(IndicatorType::kIpv4,
                           std::to_string(r % 223 + 1) + "." + std::to_string(r >> 8 & 255) + "." +
                               std::to_string(r >> 16 & 255) + "[.]" + std::to_string(r >> 24),
                           "x"));
        break;
      case 1:
      case 2:
        out.push_back(Indicator::Raw(IndicatorType::kDomain, host, "x"));
        break;
      case 3:
        out.push_back(Indicator::Raw(IndicatorType::kUrl,
                                     "hxxp://" + host + ":80/gate.php?id=" + hex(8), "x"));
        break;
      case 4:
        out.push_back(Indicator::Raw(IndicatorType::kMd5, hex(32), "x"));
        break;
      case 5:
        out.push_back(Indicator::Raw(IndicatorType::kSha256, hex(64), "x"));
        break;
      case 6:
        out.push_back(Indicator::Raw(IndicatorType::kEmail,
                                     "user" + std::to_string(r % 100) + "[@]" + host, "x"));
        break;
      default:
        out.push_back(Indicator::Raw(IndicatorType::kSha1, hex(40), "x"));
        break;
    }
  }
  return out;
}

constexpr size_t kPerIncident = 1000;

void BM_BaselineCopyLower(benchmark::State& state) {
  const std::vector<Indicator> raw = MakeRaw(kPerIncident);
  for (auto _ : state) {
    std::vector<Indicator> copy = raw;
    for (Indicator& i : copy) {
      i.value = i.raw;
      for (char& c : i.value) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations() * kPerIncident);
}
BENCHMARK(BM_BaselineCopyLower);

void BM_NormalizeIncident(benchmark::State& state) {
  Incident proto;
  proto.indicators = MakeRaw(kPerIncident);
  for (auto _ : state) {
    Incident inc = proto;
    normalize::NormalizeIncident(inc, nullptr);
    benchmark::DoNotOptimize(inc.indicators.data());
  }
  state.SetItemsProcessed(state.iterations() * kPerIncident);
}
BENCHMARK(BM_NormalizeIncident);

std::string DataDir() {
  const char* d = std::getenv("KINSHIP_DATA");
  return d != nullptr ? d : KINSHIP_DATA_DEFAULT;
}

void BM_WarninglistBuildAll(benchmark::State& state) {
  auto lists = LoadWarninglistDir(DataDir() + "/misp-warninglists");
  if (!lists.ok()) {
    state.SkipWithError("misp-warninglists not found (set KINSHIP_DATA)");
    return;
  }
  size_t entries = 0;
  for (const Warninglist& w : *lists) entries += w.entries.size();
  for (auto _ : state) {
    WarninglistMatcher m(*lists);
    benchmark::DoNotOptimize(&m);
  }
  state.counters["entries"] = static_cast<double>(entries);
}
BENCHMARK(BM_WarninglistBuildAll)->Unit(benchmark::kMillisecond);

void BM_WarninglistLoadDir(benchmark::State& state) {
  for (auto _ : state) {
    auto lists = LoadWarninglistDir(DataDir() + "/misp-warninglists");
    benchmark::DoNotOptimize(lists.ok());
  }
}
BENCHMARK(BM_WarninglistLoadDir)->Unit(benchmark::kMillisecond);

void BM_WarninglistMatch(benchmark::State& state) {
  auto lists = LoadWarninglistDir(DataDir() + "/misp-warninglists");
  if (!lists.ok()) {
    state.SkipWithError("misp-warninglists not found (set KINSHIP_DATA)");
    return;
  }
  WarninglistMatcher m(std::move(*lists));
  Incident inc;
  inc.indicators = MakeRaw(kPerIncident);
  normalize::NormalizeIncident(inc, nullptr);
  size_t hits = 0;
  for (auto _ : state) {
    for (const Indicator& i : inc.indicators) hits += m.Match(i).size();
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations() * inc.indicators.size());
}
BENCHMARK(BM_WarninglistMatch);

}  // namespace
}  // namespace kinship

BENCHMARK_MAIN();
