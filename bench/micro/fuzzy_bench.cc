// TLSH and ssdeep index queries against brute force in the same run, over real MalwareBazaar TLSH
// digests plus deterministic mutations of them (seed 1809), and generated ssdeep digests (see
// SsdeepWorld). Size: $KINSHIP_BENCH_N (default 100000; 1000000 for the figure);
// $KINSHIP_BENCH_SSDEEP_N overrides the ssdeep size. Data: $KINSHIP_DATA (default ../shared/data
// beside the source tree).
#include <benchmark/benchmark.h>
#include <fuzzy.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "index/tlsh_distance.h"
#include "kinship/fuzzy.h"
#include "kinship/similarity.h"

namespace {

size_t BenchN() {
  const char* n = std::getenv("KINSHIP_BENCH_N");
  return n ? std::strtoull(n, nullptr, 10) : 100000;
}

// Resident set size in MiB (Linux), for index memory.
double RssMiB() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

// This thread's CPU time in microseconds: the machine is shared, so wall time mostly measures
// the neighbours' load.
double ThreadCpuMicros() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Median and p99 of per-query latencies (thread CPU microseconds) of `run` over all queries.
template <typename Q, typename Run>
std::pair<double, double> Latency(const std::vector<Q>& queries, Run&& run) {
  std::vector<double> us;
  for (const Q& q : queries) {
    double t0 = ThreadCpuMicros();
    run(q);
    us.push_back(ThreadCpuMicros() - t0);
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

struct TlshWorld {
  std::vector<kinship::TlshDigest> digests, queries;
  kinship::TlshIndex index;
  double build_seconds = 0;
  double index_mib = 0;
  TlshWorld() {
    const char* env = std::getenv("KINSHIP_DATA");
    std::string dir = env ? env : KINSHIP_DATA_DEFAULT;
    std::vector<kinship::TlshDigest> real;
    std::ifstream in(dir + "/tlsh/clust_389300.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      auto d = kinship::ParseTlsh(line.substr(0, line.find(',')));
      if (d.ok()) real.push_back(*d);
    }
    std::mt19937_64 rng(1809);
    const char* hex = "0123456789ABCDEF";
    size_t n = BenchN();
    auto mutate = [&](const kinship::TlshDigest& b) {
      std::string s = b.ToLegacyString();
      for (int e = rng() % 16; e > 0; --e) s[6 + rng() % 64] = hex[rng() % 16];
      return *kinship::ParseTlsh(s);
    };
    for (size_t i = 0; i < n; ++i) {
      digests.push_back(i < real.size() ? real[i] : mutate(real[rng() % real.size()]));
    }
    for (int i = 0; i < 200; ++i) queries.push_back(mutate(digests[rng() % digests.size()]));
    double rss0 = RssMiB();
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < digests.size(); ++i) index.Add(digests[i], static_cast<uint32_t>(i));
    index.Compact();
    build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    index_mib = RssMiB() - rss0;
  }
};

TlshWorld& Tlsh() {
  static TlshWorld* w = new TlshWorld();
  return *w;
}

void BM_TlshIndexBuild(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Tlsh().build_seconds);
  state.counters["n"] = static_cast<double>(Tlsh().digests.size());
  state.counters["build_s"] = Tlsh().build_seconds;
  state.counters["rss_MiB"] = Tlsh().index_mib;
}
BENCHMARK(BM_TlshIndexBuild)->Iterations(1);

// Per-query latency of the index and of brute force over the same queries, in one run; also
// checks the answers against brute force: recall at radius 30 and 100 (the index is exact, so
// both must be 1.0) and identical top-10 distance lists.
void BM_TlshLatencySummary(benchmark::State& state) {
  auto& w = Tlsh();
  for (auto _ : state) {
    size_t found30 = 0, total30 = 0, found100 = 0, total100 = 0, top10_same = 0;
    std::vector<int> dist(w.digests.size());
    for (const kinship::TlshDigest& q : w.queries) {
      for (size_t i = 0; i < w.digests.size(); ++i)
        dist[i] = kinship::TlshDistance(q, w.digests[i]);
      for (int radius : {30, 100}) {
        std::vector<char> hit(w.digests.size(), 0);
        for (const kinship::TlshNeighbour& n : w.index.Radius(q, radius)) hit[n.payload] = 1;
        size_t& found = radius == 30 ? found30 : found100;
        size_t& total = radius == 30 ? total30 : total100;
        for (size_t i = 0; i < dist.size(); ++i) {
          if (dist[i] <= radius) {
            ++total;
            found += hit[i];
          }
        }
      }
      std::vector<int> brute10(dist);
      std::partial_sort(brute10.begin(), brute10.begin() + std::min<size_t>(10, brute10.size()),
                        brute10.end());
      brute10.resize(std::min<size_t>(10, brute10.size()));
      std::vector<int> index10;
      for (const kinship::TlshNeighbour& n : w.index.TopK(q, 10)) index10.push_back(n.distance);
      top10_same += index10 == brute10;
    }
    auto brute_r30 = Latency(w.queries, [&](const kinship::TlshDigest& q) {
      std::vector<kinship::TlshNeighbour> out;
      for (size_t i = 0; i < w.digests.size(); ++i) {
        int d = kinship::TlshDistance(q, w.digests[i]);
        if (d <= 30) out.push_back({static_cast<uint32_t>(i), d});
      }
      std::stable_sort(out.begin(), out.end(),
                       [](const auto& a, const auto& b) { return a.distance < b.distance; });
      benchmark::DoNotOptimize(out);
    });
    auto r30 = Latency(w.queries, [&](const kinship::TlshDigest& q) {
      benchmark::DoNotOptimize(w.index.Radius(q, 30));
    });
    auto r100 = Latency(w.queries, [&](const kinship::TlshDigest& q) {
      benchmark::DoNotOptimize(w.index.Radius(q, 100));
    });
    auto top10 = Latency(w.queries, [&](const kinship::TlshDigest& q) {
      benchmark::DoNotOptimize(w.index.TopK(q, 10));
    });
    const double nq = static_cast<double>(w.queries.size());
    state.counters["r30_median_us"] = r30.first;
    state.counters["r30_p99_us"] = r30.second;
    state.counters["r100_median_us"] = r100.first;
    state.counters["r100_p99_us"] = r100.second;
    state.counters["top10_median_us"] = top10.first;
    state.counters["top10_p99_us"] = top10.second;
    state.counters["brute_median_us"] = brute_r30.first;
    state.counters["brute_p99_us"] = brute_r30.second;
    state.counters["r30_speedup_median"] = brute_r30.first / r30.first;
    state.counters["r100_speedup_median"] = brute_r30.first / r100.first;
    state.counters["top10_speedup_median"] = brute_r30.first / top10.first;
    state.counters["r30_recall"] = total30 ? static_cast<double>(found30) / total30 : 1.0;
    state.counters["r100_recall"] = total100 ? static_cast<double>(found100) / total100 : 1.0;
    state.counters["r30_hits_per_query"] = static_cast<double>(total30) / nq;
    state.counters["r100_hits_per_query"] = static_cast<double>(total100) / nq;
    state.counters["top10_identical_share"] = static_cast<double>(top10_same) / nq;
  }
}
BENCHMARK(BM_TlshLatencySummary)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_TlshRadius30Index(benchmark::State& state) {
  auto& w = Tlsh();
  size_t i = 0, hits = 0;
  for (auto _ : state) hits += w.index.Radius(w.queries[i++ % w.queries.size()], 30).size();
  state.counters["hits_per_query"] = static_cast<double>(hits) / state.iterations();
}
BENCHMARK(BM_TlshRadius30Index)->Unit(benchmark::kMicrosecond);

void BM_TlshTop10Index(benchmark::State& state) {
  auto& w = Tlsh();
  size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(w.index.TopK(w.queries[i++ % w.queries.size()], 10));
}
BENCHMARK(BM_TlshTop10Index)->Unit(benchmark::kMicrosecond);

void BM_TlshBruteForce(benchmark::State& state) {  // radius 30 and top-10 both need all n
  auto& w = Tlsh();
  size_t i = 0;
  for (auto _ : state) {
    const auto& q = w.queries[i++ % w.queries.size()];
    int hits = 0;
    for (const auto& d : w.digests) hits += kinship::TlshDistance(q, d) <= 30;
    benchmark::DoNotOptimize(hits);
  }
}
BENCHMARK(BM_TlshBruteForce)->Unit(benchmark::kMicrosecond);

// The body term of the distance (128 2-bit codes) of one query against every digest: the kernel
// the loader picked for this CPU (POPCNT when it has it) against the plain x86-64 build of the
// same code, in the same run. Their ratio is what the target_clones of tlsh_distance.h buy.
template <kinship::internal::TlshBodyCounts (*Kernel)(const uint8_t*, const uint8_t*)>
void BM_TlshBodyScan(benchmark::State& state) {
  auto& w = Tlsh();
  size_t i = 0;
  for (auto _ : state) {
    const uint8_t* q = w.queries[i++ % w.queries.size()].bytes().data() + 3;
    int sum = 0;
    for (const auto& d : w.digests) sum += Kernel(q, d.bytes().data() + 3).three;
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_TlshBodyScan<kinship::internal::TlshBodyCountsFast>)
    ->Name("BM_TlshBodyScanDispatched")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TlshBodyScan<kinship::internal::TlshBodyCountsGeneric>)
    ->Name("BM_TlshBodyScanGeneric")
    ->Unit(benchmark::kMicrosecond);

// Number of ssdeep digests: $KINSHIP_BENCH_SSDEEP_N, default the TLSH size.
size_t SsdeepN() {
  const char* n = std::getenv("KINSHIP_BENCH_SSDEEP_N");
  return n ? std::strtoull(n, nullptr, 10) : BenchN();
}

// ssdeep digests: libfuzzy digests of max(500, n/50) random buffers (2-64 KB), the rest edits of
// them at digest level (1-6 base64 characters replaced, inserted or deleted, as a few changed
// blocks of a file would), so that families of ~50 variants share 7-grams. $KINSHIP_DATA holds
// no ssdeep collection (one digest in a MISP sample), hence generated bases.
struct SsdeepWorld {
  std::vector<std::string> digests, queries;
  kinship::SsdeepIndex index;
  double build_seconds = 0, build_cpu_seconds = 0, index_mib = 0;
  SsdeepWorld() {
    std::mt19937_64 rng(1809);
    const size_t n = SsdeepN();
    const size_t n_bases = std::min(n, std::max<size_t>(500, n / 50));
    char buf[FUZZY_MAX_RESULT];
    while (digests.size() < n_bases) {
      std::string b(2000 + rng() % 62000, '\0');
      for (auto& c : b) c = static_cast<char>(rng());
      if (fuzzy_hash_buf(reinterpret_cast<const unsigned char*>(b.data()),
                         static_cast<uint32_t>(b.size()), buf) == 0) {
        digests.push_back(buf);
      }
    }
    const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    auto mutate = [&](const std::string& d) {
      size_t c1 = d.find(':'), c2 = d.find(':', c1 + 1);
      std::string p1 = d.substr(c1 + 1, c2 - c1 - 1), p2 = d.substr(c2 + 1);
      for (int e = 1 + static_cast<int>(rng() % 6); e > 0; --e) {
        const bool second = rng() % 3 == 0;
        std::string& p = second ? p2 : p1;
        const size_t cap = second ? 32 : 64;
        const size_t pos = p.empty() ? 0 : rng() % p.size();
        const int op = static_cast<int>(rng() % 3);
        if (op == 0 && !p.empty()) {
          p[pos] = b64[rng() % 64];
        } else if (op == 1 && p.size() < cap) {
          p.insert(pos, 1, b64[rng() % 64]);
        } else if (!p.empty()) {
          p.erase(pos, 1);
        }
      }
      return d.substr(0, c1) + ":" + p1 + ":" + p2;
    };
    while (digests.size() < n) digests.push_back(mutate(digests[rng() % n_bases]));
    double rss0 = RssMiB();
    double cpu0 = ThreadCpuMicros();
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < digests.size(); ++i)
      (void)index.Add(digests[i], static_cast<uint32_t>(i));
    index.Compact();
    build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    build_cpu_seconds = (ThreadCpuMicros() - cpu0) / 1e6;
    index_mib = RssMiB() - rss0;
    for (int i = 0; i < 100; ++i) queries.push_back(mutate(digests[rng() % digests.size()]));
  }
};

SsdeepWorld& Ssdeep() {
  static SsdeepWorld* w = new SsdeepWorld();
  return *w;
}

void BM_SsdeepQueryIndex(benchmark::State& state) {
  auto& w = Ssdeep();
  size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(w.index.Query(w.queries[i++ % w.queries.size()], 1));
  state.counters["n"] = static_cast<double>(w.digests.size());
}
BENCHMARK(BM_SsdeepQueryIndex)->Unit(benchmark::kMicrosecond);

void BM_SsdeepBruteForce(benchmark::State& state) {
  auto& w = Ssdeep();
  size_t i = 0;
  for (auto _ : state) {
    const auto& q = w.queries[i++ % w.queries.size()];
    int hits = 0;
    for (const auto& d : w.digests) hits += fuzzy_compare(q.c_str(), d.c_str()) > 0;
    benchmark::DoNotOptimize(hits);
  }
}
BENCHMARK(BM_SsdeepBruteForce)->Unit(benchmark::kMicrosecond);

void BM_SsdeepLatencySummary(benchmark::State& state) {
  auto& w = Ssdeep();
  for (auto _ : state) {
    auto idx = Latency(
        w.queries, [&](const std::string& q) { benchmark::DoNotOptimize(w.index.Query(q, 1)); });
    std::vector<std::vector<std::pair<int, uint32_t>>> answers;  // (-score, id): index order
    auto brute = Latency(w.queries, [&](const std::string& q) {
      std::vector<std::pair<int, uint32_t>> found;
      for (size_t i = 0; i < w.digests.size(); ++i) {
        int s = fuzzy_compare(q.c_str(), w.digests[i].c_str());
        if (s > 0) found.push_back({-s, static_cast<uint32_t>(i)});
      }
      std::sort(found.begin(), found.end());
      answers.push_back(std::move(found));
    });
    size_t hits = 0, same = 0;
    for (size_t k = 0; k < w.queries.size(); ++k) {
      const auto& found = answers[k];
      hits += found.size();
      auto got = w.index.Query(w.queries[k], 1);
      bool equal = got.ok() && got->size() == found.size();
      for (size_t i = 0; equal && i < found.size(); ++i) {
        equal = (*got)[i].payload == found[i].second && (*got)[i].score == -found[i].first;
      }
      same += equal;
    }
    state.counters["n"] = static_cast<double>(w.digests.size());
    state.counters["index_median_us"] = idx.first;
    state.counters["index_p99_us"] = idx.second;
    state.counters["brute_median_us"] = brute.first;
    state.counters["brute_p99_us"] = brute.second;
    state.counters["speedup_median"] = brute.first / idx.first;
    state.counters["build_s"] = w.build_seconds;
    state.counters["build_cpu_s"] = w.build_cpu_seconds;
    state.counters["rss_MiB"] = w.index_mib;
    state.counters["bytes_per_digest"] = w.index_mib * 1048576.0 / w.digests.size();
    state.counters["hits_per_query"] = static_cast<double>(hits) / w.queries.size();
    state.counters["identical_share"] = static_cast<double>(same) / w.queries.size();
  }
}
BENCHMARK(BM_SsdeepLatencySummary)->Iterations(1)->Unit(benchmark::kMillisecond);

// Similar() with fuzzy evidence scored: incidents holding 1-3 TLSH digests (the TLSH world's
// first digests, real then mutated) and one IP shared by ~10 incidents; the same corpus with
// fuzzy scoring off (radius -1) is the baseline. $KINSHIP_BENCH_INCIDENTS (default 20000).
void BM_SimilarWithFuzzySummary(benchmark::State& state) {
  auto& w = Tlsh();
  const char* env = std::getenv("KINSHIP_BENCH_INCIDENTS");
  const size_t n =
      std::min<size_t>(env ? std::strtoull(env, nullptr, 10) : 20000, w.digests.size() / 3);
  std::mt19937_64 rng(77);
  std::vector<kinship::Incident> corpus;
  size_t next = 0;
  for (size_t i = 0; i < n; ++i) {
    kinship::Incident inc;
    inc.id = absl::StrCat("inc", i);
    for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
      kinship::Indicator ind;
      ind.type = kinship::IndicatorType::kTlsh;
      ind.value = w.digests[next++ % w.digests.size()].ToString();
      inc.indicators.push_back(std::move(ind));
    }
    kinship::Indicator ip;
    ip.type = kinship::IndicatorType::kIpv4;
    ip.value = absl::StrCat("10.", rng() % 8, ".", rng() % 250, ".1");
    inc.indicators.push_back(std::move(ip));
    corpus.push_back(std::move(inc));
  }
  kinship::score::ScoringOptions off;
  off.fuzzy_tlsh_max_distance = -1;
  double build_s = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto with = kinship::score::SimilarityIndex::Build(corpus);
  build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto without = kinship::score::SimilarityIndex::Build(corpus, nullptr, off);
  if (!with.ok() || !without.ok()) {
    state.SkipWithError("build failed");
    return;
  }
  std::vector<std::string> queries;
  for (int i = 0; i < 200; ++i) queries.push_back(corpus[rng() % corpus.size()].id);
  for (auto _ : state) {
    size_t fuzzy_matches = 0;
    auto fz = Latency(queries, [&](const std::string& q) {
      auto m = with->Similar(q, 10);
      for (const auto& x : *m) {
        fuzzy_matches +=
            x.comparison.evidence[static_cast<int>(kinship::score::Family::kFuzzy)] > 0;
      }
    });
    auto base = Latency(
        queries, [&](const std::string& q) { benchmark::DoNotOptimize(without->Similar(q, 10)); });
    state.counters["incidents"] = static_cast<double>(n);
    state.counters["fuzzy_median_us"] = fz.first;
    state.counters["fuzzy_p99_us"] = fz.second;
    state.counters["nofuzzy_median_us"] = base.first;
    state.counters["nofuzzy_p99_us"] = base.second;
    state.counters["slowdown_median"] = fz.first / base.first;
    state.counters["fuzzy_matches_per_query"] = static_cast<double>(fuzzy_matches) / 200.0;
    state.counters["build_s"] = build_s;
  }
}
BENCHMARK(BM_SimilarWithFuzzySummary)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
