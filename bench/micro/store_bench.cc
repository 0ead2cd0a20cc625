// Store::Ingest throughput against a baseline in the same process: the same (incident, type,
// value) rows inserted with one prepared statement into a plain table with no index (the floor
// cost of writing rows to SQLite). Values are reused across incidents with a Zipf-like law, as in
// real feeds. Reports indicators/s and the ratio to the baseline. Also GetIncident at each read
// detail, the full read as the baseline.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "kinship/store.h"

namespace kinship {
namespace {

constexpr int kIncidents = 200;
constexpr int kPerIncident = 1000;

std::vector<Incident> Corpus() {
  std::mt19937_64 rng(42);
  // Zipf-like: value rank r drawn with probability ~ 1/r over 100k distinct values.
  const int distinct = 100000;
  std::vector<double> cdf(distinct);
  double sum = 0;
  for (int r = 0; r < distinct; ++r) cdf[r] = (sum += 1.0 / (r + 1));
  std::uniform_real_distribution<double> u(0, sum);
  std::vector<Incident> out;
  for (int i = 0; i < kIncidents; ++i) {
    Incident inc;
    inc.id = absl::StrCat("evt-", i);
    inc.title = absl::StrCat("generated ", i);
    for (int j = 0; j < kPerIncident; ++j) {
      int r = static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
      Indicator ind;
      ind.type = r % 3 == 0 ? IndicatorType::kDomain : IndicatorType::kIpv4;
      ind.value = r % 3 == 0 ? absl::StrCat("host", r, ".example-c2.com")
                             : absl::StrCat(r >> 16 & 255, ".", r >> 8 & 255, ".", r & 255, ".9");
      ind.raw = ind.value;
      ind.location = absl::StrCat("Event.Attribute[", j, "]");
      inc.indicators.push_back(std::move(ind));
    }
    out.push_back(std::move(inc));
  }
  return out;
}

std::string TempDb(const char* name) {
  auto p = std::filesystem::temp_directory_path() / name;
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + s);
  return p.string();
}

void BM_StoreIngest(benchmark::State& state) {
  const std::vector<Incident> corpus = Corpus();
  for (auto _ : state) {
    state.PauseTiming();
    std::string path = TempDb("kinship-store-bench.db");
    auto store = Store::Open(path);
    std::vector<Incident> batch = corpus;
    state.ResumeTiming();
    auto sum = (*store)->Ingest(batch);
    if (!sum.ok()) state.SkipWithError(std::string(sum.status().message()).c_str());
  }
  state.counters["indicators/s"] =
      benchmark::Counter(static_cast<double>(kIncidents) * kPerIncident * state.iterations(),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StoreIngest)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BaselinePlainInsert(benchmark::State& state) {
  const std::vector<Incident> corpus = Corpus();
  for (auto _ : state) {
    state.PauseTiming();
    std::string path = TempDb("kinship-store-baseline.db");
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE a(incident TEXT, type INTEGER, value TEXT)",
                 nullptr, nullptr, nullptr);
    state.ResumeTiming();
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO a VALUES (?,?,?)", -1, &st, nullptr);
    for (const Incident& inc : corpus) {
      for (const Indicator& ind : inc.indicators) {
        sqlite3_bind_text(st, 1, inc.id.data(), static_cast<int>(inc.id.size()), SQLITE_STATIC);
        sqlite3_bind_int(st, 2, static_cast<int>(ind.type));
        sqlite3_bind_text(st, 3, ind.value.data(), static_cast<int>(ind.value.size()),
                          SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_reset(st);
      }
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    state.PauseTiming();
    sqlite3_close(db);
    state.ResumeTiming();
  }
  state.counters["indicators/s"] =
      benchmark::Counter(static_cast<double>(kIncidents) * kPerIncident * state.iterations(),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BaselinePlainInsert)->Unit(benchmark::kMillisecond)->UseRealTime();

// GetIncident by id at each read detail (0 full, 1 analysis, 2 naming: the stated domains, URLs
// and file names only; a third of this corpus), over one store ingested once: the full read is
// the baseline of the other two in the same process.
void BM_GetIncident(benchmark::State& state) {
  static const std::string path = [] {
    std::string p = TempDb("kinship-store-get.db");
    auto store = Store::Open(p);
    std::vector<Incident> batch = Corpus();
    if (!store.ok() || !(*store)->Ingest(batch).ok()) return std::string();
    return p;
  }();
  auto store = Store::Open(path, /*create=*/false);
  if (path.empty() || !store.ok()) {
    state.SkipWithError("could not build the store");
    return;
  }
  const auto detail = static_cast<Store::Detail>(state.range(0));
  size_t indicators = 0, i = 0;
  for (auto _ : state) {
    auto inc = (*store)->GetIncident(absl::StrCat("evt-", i++ % kIncidents), detail);
    if (!inc.ok()) {
      state.SkipWithError(std::string(inc.status().message()).c_str());
      break;
    }
    indicators += inc->indicators.size();
  }
  state.counters["incidents/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["indicators_read"] = static_cast<double>(indicators) / state.iterations();
}
BENCHMARK(BM_GetIncident)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kinship

BENCHMARK_MAIN();
