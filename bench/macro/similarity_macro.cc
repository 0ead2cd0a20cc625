// End-to-end similarity benchmark over a deterministic synthetic corpus: top-10 `similar`
// latency p50/p99, `campaigns` time, index memory against the raw input, and, in the same run,
// the MISP-style baseline: exact correlation as an SQLite self-join on indicator value
// (checked to give the same answers as kinship's exact-overlap lookup).
//
// Usage: similarity_macro [incidents=100000] [indicators_per_incident=100] [queries=1000]
//                         [sqlite_queries=200] [campaigns=1] [max_candidate_df=0]
//                         [over_correlation_min=100]
// over_correlation_min 0 turns the over-correlation rule off (the answers of earlier sessions).
// sqlite_queries=0 skips the baseline (no SQLite store is built). "answers" is a checksum of the
// top-10 ids and scores of every query, to check that a change to the engine keeps its answers.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "index/postings.h"
#include "kinship/similarity.h"

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
// CPU time of this thread in ms (wall time on a shared machine includes waiting for a core).
double CpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

size_t RssBytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

kinship::Indicator Ind(kinship::IndicatorType t, std::string v,
                       kinship::Derivation d = kinship::Derivation::kNone) {
  kinship::Indicator i;
  i.type = t;
  i.value = std::move(v);
  i.derivation = d;
  return i;
}

// Incident i of the synthetic world: 1000 actors, each with its own pool of infrastructure,
// samples and tools; 20 % of an incident's indicators come from its actor's pool, the rest are
// its own; every incident uses a few common techniques.
kinship::Incident Generate(uint64_t i, int per_incident) {
  using kinship::IndicatorType;
  kinship::Incident inc;
  inc.id = absl::StrCat("inc-", i);
  uint64_t actor = Mix(i) % 1000;
  uint64_t r = Mix(i * 7919 + 1);
  inc.first_seen = absl::StrCat(2015 + r % 10, "-0", 1 + (r >> 8) % 9, "-1", (r >> 16) % 9);
  inc.attributions.push_back({absl::StrCat("actor", actor), "", -1, "synthetic"});
  for (int k = 0; k < per_incident; ++k) {
    uint64_t h = Mix(i * 1000003 + k);
    bool shared = h % 5 == 0;
    uint64_t v = shared ? actor * 1000 + (h >> 8) % 200 : Mix(h);
    switch ((h >> 40) % 4) {
      case 0: {
        std::string ip =
            absl::StrCat(v >> 24 & 255, ".", v >> 16 & 255, ".", v >> 8 & 255, ".", v & 255);
        inc.indicators.push_back(Ind(IndicatorType::kIpv4, ip));
        inc.indicators.push_back(
            Ind(IndicatorType::kCidr,
                absl::StrCat(v >> 24 & 255, ".", v >> 16 & 255, ".", v >> 8 & 255, ".0/24"),
                kinship::Derivation::kNetwork));
        break;
      }
      case 1: {
        std::string d = absl::StrCat("n", v % 100000007, "x", v >> 40, ".com");
        inc.indicators.push_back(Ind(IndicatorType::kDomain, d));
        break;
      }
      case 2:
        inc.indicators.push_back(
            Ind(IndicatorType::kSha256, absl::StrCat(absl::Hex(Mix(v)), absl::Hex(Mix(v + 1)))));
        break;
      default:
        inc.indicators.push_back(Ind(IndicatorType::kMd5, absl::StrCat(absl::Hex(Mix(v + 2)))));
    }
  }
  inc.techniques.push_back({"T1059.001", ""});
  inc.techniques.push_back({absl::StrCat("T1", 100 + actor % 50), ""});
  inc.software.push_back({absl::StrCat("tool", actor % 300), "", ""});
  return inc;
}

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void Check(int rc, sqlite3* db) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::stoull(argv[1]) : 100000;
  const int per = argc > 2 ? std::stoi(argv[2]) : 100;
  const size_t queries = argc > 3 ? std::stoull(argv[3]) : 1000;
  const size_t sql_queries = argc > 4 ? std::stoull(argv[4]) : 200;
  const bool campaigns = argc > 5 ? std::stoi(argv[5]) != 0 : true;
  kinship::score::ScoringOptions options;
  options.max_candidate_df = argc > 6 ? std::stoull(argv[6]) : 0;
  if (argc > 7) {
    options.over_correlation_min = std::stoull(argv[7]);
    if (options.over_correlation_min == 0) options.over_correlation_share = 0;
  }
  std::printf(
      "corpus: %llu incidents x %d indicators (deterministic generator); "
      "max_candidate_df %zu; over-correlation min %zu, share %g\n",
      static_cast<unsigned long long>(n), per, options.max_candidate_df,
      options.over_correlation_min, options.over_correlation_share);

  // The baseline store: one row per (incident, stated indicator value), indexed on value, as
  // MISP's correlation engine looks values up.
  const bool baseline = sql_queries > 0;
  std::string db_path =
      (std::filesystem::temp_directory_path() / "kinship_similarity_macro.db").string();
  std::remove(db_path.c_str());
  sqlite3* db = nullptr;
  sqlite3_stmt* ins = nullptr;
  if (baseline) {
    Check(sqlite3_open(db_path.c_str(), &db), db);
    Check(
        sqlite3_exec(db,
                     "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;"
                     "CREATE TABLE attr(event INTEGER, value TEXT);",
                     nullptr, nullptr, nullptr),
        db);
    Check(sqlite3_prepare_v2(db, "INSERT INTO attr VALUES(?, ?)", -1, &ins, nullptr), db);
    Check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db);
  }

  const size_t rss0 = RssBytes();
  kinship::score::SimilarityIndex index(nullptr, options);
  size_t raw_bytes = 0, stated = 0;
  double gen_ms = 0, add_ms = 0, add_cpu_ms = 0, sql_ms = 0;
  for (uint64_t i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    kinship::Incident inc = Generate(i, per);
    auto t1 = Clock::now();
    const double c1 = CpuMs();
    if (!index.Add(inc).ok()) return 1;
    add_cpu_ms += CpuMs() - c1;
    auto t2 = Clock::now();
    raw_bytes += inc.id.size();
    for (const kinship::Indicator& ind : inc.indicators) {
      if (ind.derivation != kinship::Derivation::kNone) continue;
      ++stated;
      raw_bytes += ind.value.size() + kinship::IndicatorTypeName(ind.type).size() + 2;
      if (!baseline) continue;
      sqlite3_bind_int64(ins, 1, static_cast<int64_t>(i));
      sqlite3_bind_text(ins, 2, ind.value.data(), static_cast<int>(ind.value.size()),
                        SQLITE_STATIC);
      Check(sqlite3_step(ins), db);
      sqlite3_reset(ins);
    }
    auto t3 = Clock::now();
    gen_ms += Ms(t0, t1);
    add_ms += Ms(t1, t2);
    sql_ms += Ms(t2, t3);
  }
  if (baseline) {
    Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db);
    auto ti = Clock::now();
    Check(sqlite3_exec(db,
                       "CREATE INDEX attr_value ON attr(value); CREATE INDEX attr_event ON "
                       "attr(event);",
                       nullptr, nullptr, nullptr),
          db);
    sql_ms += Ms(ti, Clock::now());
  }
  const size_t rss1 = RssBytes();
  kinship::score::IndexStats st = index.Stats();
  std::printf("stated indicators: %zu; raw input (type+value+id bytes): %.1f MB\n", stated,
              raw_bytes / 1e6);
  std::printf(
      "index: %zu features, %zu postings; estimated %.1f MB (%.2fx raw); RSS growth "
      "%.1f MB (%.2fx raw, includes allocator slack)\n",
      st.features, st.postings, st.memory_bytes / 1e6,
      static_cast<double>(st.memory_bytes) / raw_bytes, (rss1 - rss0) / 1e6,
      static_cast<double>(rss1 - rss0) / raw_bytes);
  for (const auto& [part, bytes] : index.impl().MemoryParts()) {
    std::printf("  %.*s: %.1f MB (%.2fx raw)\n", static_cast<int>(part.size()), part.data(),
                bytes / 1e6, static_cast<double>(bytes) / raw_bytes);
  }
  std::printf("build: generate %.1f s, index add %.1f s (CPU %.1f s), sqlite insert+index %.1f s\n",
              gen_ms / 1e3, add_ms / 1e3, add_cpu_ms / 1e3, sql_ms / 1e3);
  std::fflush(stdout);

  // Queries: a fixed pseudo-random sample of incidents.
  std::vector<uint64_t> qs;
  for (size_t q = 0; q < queries; ++q) qs.push_back(Mix(q + 424242) % n);
  std::vector<double> lat;
  size_t nonempty = 0;
  uint64_t answers = 0;
  for (uint64_t q : qs) {
    auto t0 = Clock::now();
    auto m = index.Similar(absl::StrCat("inc-", q), 10);
    lat.push_back(Ms(t0, Clock::now()));
    if (m.ok() && !m->empty()) ++nonempty;
    if (!m.ok()) continue;
    for (const kinship::score::Match& x : *m) {
      answers = Mix(answers ^ std::hash<std::string>{}(
                                  absl::StrCat(x.id, " ", absl::SixDigits(x.comparison.raw), " ",
                                               x.comparison.explanation.ToString())));
    }
  }
  std::printf(
      "similar top-10 (with explanations), %zu queries: p50 %.3f ms, p99 %.3f ms, max "
      "%.3f ms; %zu with answers; answers %016llx\n",
      qs.size(), Pct(lat, 0.5), Pct(lat, 0.99), Pct(lat, 1.0), nonempty,
      static_cast<unsigned long long>(answers));

  // Exact overlap, kinship: incidents sharing a stated indicator value, from the postings. Both
  // sides produce the distinct incidents in no particular order (SQLite's DISTINCT; here a mark
  // per incident, stamped with the query's number so it is never cleared); both are sorted
  // after the clock stops, to compare them.
  const auto& im = index.impl();
  std::vector<uint32_t> mark(im.docs.size(), ~uint32_t{0});
  auto kinship_exact = [&](uint64_t q, uint32_t stamp) {
    std::vector<uint32_t> out;
    mark[q] = stamp;  // never the query itself
    for (uint32_t fid : im.docs[q].features) {
      if (im.FamilyOf(fid) != kinship::score::Family::kIndicator) continue;
      for (uint32_t d : im.postings[fid]) {
        if (mark[d] != stamp) {
          mark[d] = stamp;
          out.push_back(d);
        }
      }
    }
    return out;
  };
  if (baseline) {
    sqlite3_stmt* join = nullptr;
    Check(sqlite3_prepare_v2(db,
                             "SELECT DISTINCT b.event FROM attr a JOIN attr b ON a.value = b.value "
                             "WHERE a.event = ?1 AND b.event != ?1",
                             -1, &join, nullptr),
          db);
    std::vector<double> k_lat, s_lat;
    size_t same = 0, checked = 0;
    for (size_t qi = 0; qi < qs.size() && qi < sql_queries; ++qi) {
      uint64_t q = qs[qi];
      auto t0 = Clock::now();
      std::vector<uint32_t> k = kinship_exact(q, static_cast<uint32_t>(qi));
      auto t1 = Clock::now();
      std::vector<uint32_t> s;
      sqlite3_bind_int64(join, 1, static_cast<int64_t>(q));
      while (sqlite3_step(join) == SQLITE_ROW)
        s.push_back(static_cast<uint32_t>(sqlite3_column_int64(join, 0)));
      sqlite3_reset(join);
      auto t2 = Clock::now();
      std::sort(k.begin(), k.end());
      std::sort(s.begin(), s.end());
      k_lat.push_back(Ms(t0, t1));
      s_lat.push_back(Ms(t1, t2));
      ++checked;
      if (k == s) ++same;
    }
    double k_sum = 0, s_sum = 0;
    for (double x : k_lat) k_sum += x;
    for (double x : s_lat) s_sum += x;
    std::printf(
        "exact overlap, %zu queries, same answers for %zu: kinship postings p50 %.3f ms "
        "p99 %.3f ms; SQLite self-join p50 %.3f ms p99 %.3f ms; total %.1f ms vs %.1f ms "
        "-> kinship %.1fx faster\n",
        checked, same, Pct(k_lat, 0.5), Pct(k_lat, 0.99), Pct(s_lat, 0.5), Pct(s_lat, 0.99), k_sum,
        s_sum, s_sum / std::max(k_sum, 1e-9));
    double ratio_full = s_sum / std::max(1e-9, [&] {
                          double t = 0;
                          for (size_t i = 0; i < checked; ++i) t += lat[i];
                          return t;
                        }());
    std::printf(
        "SQLite exact self-join vs kinship full top-10 similar (scored + explained): "
        "kinship %.1fx faster\n",
        ratio_full);
    sqlite3_finalize(join);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    std::remove(db_path.c_str());
  }

  if (campaigns) {
    auto t0 = Clock::now();
    const double c0 = CpuMs();
    auto cs = kinship::score::FindCampaigns(index);
    const double cpu = CpuMs() - c0;
    auto t1 = Clock::now();
    if (!cs.ok()) return 1;
    size_t members = 0;
    uint64_t digest = 0;  // checksum of the campaigns (members, cohesion, binding)
    for (const auto& c : *cs) {
      members += c.members.size();
      digest = Mix(digest ^ std::hash<std::string>{}(absl::StrCat(
                                absl::StrJoin(c.members, ","), " ", absl::SixDigits(c.cohesion),
                                " ", c.binding.ToString(), " ", c.actor)));
    }
    std::printf("campaigns checksum %016llx\n", static_cast<unsigned long long>(digest));
    std::printf("campaigns: %zu campaigns covering %zu incidents in %.1f s (CPU %.1f s)\n",
                cs->size(), members, Ms(t0, t1) / 1e3, cpu / 1e3);
  }
  return 0;
}
