// TLSH and ssdeep index queries against brute force in the same run, over real MalwareBazaar TLSH
// digests plus deterministic mutations of them (seed 1809). Size: $KINSHIP_BENCH_N (default
// 100000; 1000000 for the figure). Data: $KINSHIP_DATA (default ../shared/data beside the
// source tree).
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

#include "kinship/fuzzy.h"

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
// checks the answers are identical (recall 1.0) and reports it.
void BM_TlshLatencySummary(benchmark::State& state) {
  auto& w = Tlsh();
  for (auto _ : state) {
    size_t same = 0, total = 0;
    auto brute_r30 = Latency(w.queries, [&](const kinship::TlshDigest& q) {
      std::vector<kinship::TlshNeighbour> out;
      for (size_t i = 0; i < w.digests.size(); ++i) {
        int d = kinship::TlshDistance(q, w.digests[i]);
        if (d <= 30) out.push_back({static_cast<uint32_t>(i), d});
      }
      std::stable_sort(out.begin(), out.end(),
                       [](const auto& a, const auto& b) { return a.distance < b.distance; });
      same += out == w.index.Radius(q, 30);
      ++total;
      benchmark::DoNotOptimize(out);
    });
    auto r30 = Latency(w.queries, [&](const kinship::TlshDigest& q) {
      benchmark::DoNotOptimize(w.index.Radius(q, 30));
    });
    auto top10 = Latency(w.queries, [&](const kinship::TlshDigest& q) {
      benchmark::DoNotOptimize(w.index.TopK(q, 10));
    });
    state.counters["r30_median_us"] = r30.first;
    state.counters["r30_p99_us"] = r30.second;
    state.counters["top10_median_us"] = top10.first;
    state.counters["top10_p99_us"] = top10.second;
    state.counters["brute_median_us"] = brute_r30.first;
    state.counters["brute_p99_us"] = brute_r30.second;
    state.counters["r30_speedup_median"] = brute_r30.first / r30.first;
    state.counters["top10_speedup_median"] = brute_r30.first / top10.first;
    state.counters["r30_identical_share"] = static_cast<double>(same) / total;
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

struct SsdeepWorld {
  std::vector<std::string> digests, queries;
  kinship::SsdeepIndex index;
  double build_seconds = 0, index_mib = 0;
  SsdeepWorld() {
    std::mt19937_64 rng(1809);
    size_t n = BenchN() / 10;  // hashing buffers dominates set-up time
    std::vector<std::string> bases;
    for (int i = 0; i < 500; ++i) {
      std::string s(4000 + rng() % 60000, '\0');
      for (auto& c : s) c = static_cast<char>(rng());
      bases.push_back(std::move(s));
    }
    char buf[FUZZY_MAX_RESULT];
    while (digests.size() < n) {
      std::string b = bases[rng() % bases.size()];
      b.insert(rng() % b.size(), std::string(rng() % 4000, static_cast<char>(rng())));
      if (fuzzy_hash_buf(reinterpret_cast<const unsigned char*>(b.data()),
                         static_cast<uint32_t>(b.size()), buf) == 0) {
        digests.push_back(buf);
      }
    }
    double rss0 = RssMiB();
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < digests.size(); ++i)
      (void)index.Add(digests[i], static_cast<uint32_t>(i));
    build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    index_mib = RssMiB() - rss0;
    for (int i = 0; i < 100; ++i) queries.push_back(digests[rng() % digests.size()]);
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
    auto brute = Latency(w.queries, [&](const std::string& q) {
      int hits = 0;
      for (const auto& d : w.digests) hits += fuzzy_compare(q.c_str(), d.c_str()) > 0;
      benchmark::DoNotOptimize(hits);
    });
    state.counters["n"] = static_cast<double>(w.digests.size());
    state.counters["index_median_us"] = idx.first;
    state.counters["index_p99_us"] = idx.second;
    state.counters["brute_median_us"] = brute.first;
    state.counters["brute_p99_us"] = brute.second;
    state.counters["speedup_median"] = brute.first / idx.first;
    state.counters["build_s"] = w.build_seconds;
    state.counters["rss_MiB"] = w.index_mib;
  }
}
BENCHMARK(BM_SsdeepLatencySummary)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
