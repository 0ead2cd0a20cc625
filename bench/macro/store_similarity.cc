// Similarity over a real store (e.g. the generated Zipf-like MISP feed of
// bench/gen/gen_misp_feed.py ingested with `kinship ingest`, the feed issue 4's speed goals name):
// index build, top-10 `Similar` latency p50/p99 at each postings walk limit
// (ScoringOptions::max_candidate_df), the share of the exhaustive run's top-10 ids each limit
// keeps, and `FindCampaigns` at one limit.
//
// Usage: store_similarity STORE [queries=1000] [walk_limits=0,2000] [campaigns_limit=-1]
//                         [over_correlation=100/0.001] [exact_queries=0]
// walk_limits: comma-separated, 0 = limits::kMaxPostingWalk (the default). over_correlation:
// comma-separated MIN/SHARE settings of ScoringOptions::over_correlation_min / _share (0/0 =
// off). Each setting runs at each walk limit; the first run is the reference for the kept
// share. Each run also prints how many of the (query, match) pairs where both state an actor
// share one (the generated feed tags ~20 % of events with one of 15 actors). campaigns_limit:
// the walk limit FindCampaigns runs at (with the last over-correlation setting), -1 = none.
// exact_queries > 0: exact overlap (incidents sharing a stated value) for that many queries from
// the index's postings against the MISP-style baseline, an SQLite self-join on the value, over
// a table (incident, value id) copied from the store into a temporary database and indexed on
// both columns (joining integer ids, not texts: kinder to SQLite than MISP's join on values);
// the two answers are checked to be equal.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "index/postings.h"
#include "kinship/similarity.h"
#include "kinship/store.h"

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

bool Ok(int rc, sqlite3* db) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
  std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
  return false;
}

// Exact overlap of the first `n` queries: kinship's postings of the query's stated values
// (indicator family) against an SQLite self-join on value. Prints timings and how many answers
// are equal.
bool ExactOverlap(const std::string& path, const kinship::score::SimilarityIndex& index,
                  const std::vector<std::string>& qs, size_t n) {
  sqlite3* db = nullptr;
  // Read-write only for the attached temporary database; nothing is written to the store.
  if (!Ok(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), db)) return false;
  auto t0 = Clock::now();
  if (!Ok(sqlite3_exec(db,
                       "PRAGMA cache_size=-1000000; ATTACH DATABASE '' AS tmp; "
                       "CREATE TABLE tmp.attr AS SELECT incident AS event, value_id AS value FROM "
                       "indicator WHERE derivation = 0 AND value_id IS NOT NULL; "
                       "CREATE INDEX tmp.attr_value ON attr(value); "
                       "CREATE INDEX tmp.attr_event ON attr(event);",
                       nullptr, nullptr, nullptr),
          db)) {
    return false;
  }
  std::printf("exact overlap baseline: (incident, value) table copied and indexed in %.1f s\n",
              Ms(t0, Clock::now()) / 1e3);
  absl::flat_hash_map<int64_t, std::string> id_of;
  absl::flat_hash_map<std::string, int64_t> rowid_of;
  sqlite3_stmt* ids = nullptr;
  if (!Ok(sqlite3_prepare_v2(db, "SELECT rowid, id FROM incident", -1, &ids, nullptr), db)) {
    return false;
  }
  while (sqlite3_step(ids) == SQLITE_ROW) {
    std::string id(reinterpret_cast<const char*>(sqlite3_column_text(ids, 1)));
    id_of[sqlite3_column_int64(ids, 0)] = id;
    rowid_of[id] = sqlite3_column_int64(ids, 0);
  }
  sqlite3_finalize(ids);
  sqlite3_stmt* join = nullptr;
  if (!Ok(sqlite3_prepare_v2(db,
                             "SELECT DISTINCT b.event FROM attr a JOIN attr b ON a.value = "
                             "b.value WHERE a.event = ?1 AND b.event != ?1",
                             -1, &join, nullptr),
          db)) {
    return false;
  }
  const auto& im = index.impl();
  std::vector<double> k_lat, s_lat;
  size_t same = 0, checked = 0, sizes = 0;
  for (size_t qi = 0; qi < qs.size() && qi < n; ++qi) {
    const std::string& q = qs[qi];
    const uint32_t doc = im.doc_ids.at(q);
    auto a = Clock::now();
    absl::flat_hash_set<uint32_t> k;
    for (uint32_t fid : im.docs[doc].features) {
      if (im.FamilyOf(fid) != kinship::score::Family::kIndicator) continue;
      for (uint32_t d : im.postings[fid]) {
        if (d != doc) k.insert(d);
      }
    }
    auto b = Clock::now();
    absl::flat_hash_set<int64_t> sq;
    sqlite3_bind_int64(join, 1, rowid_of.at(q));
    while (sqlite3_step(join) == SQLITE_ROW) sq.insert(sqlite3_column_int64(join, 0));
    sqlite3_reset(join);
    auto c = Clock::now();
    k_lat.push_back(Ms(a, b));
    s_lat.push_back(Ms(b, c));
    ++checked;
    sizes += k.size();
    bool equal = k.size() == sq.size();
    for (int64_t r : sq) equal = equal && k.contains(im.doc_ids.at(id_of.at(r)));
    same += equal;
  }
  sqlite3_finalize(join);
  sqlite3_close(db);
  double k_sum = 0, s_sum = 0;
  for (double x : k_lat) k_sum += x;
  for (double x : s_lat) s_sum += x;
  std::printf(
      "exact overlap, %zu queries (%.0f incidents each on average), same answers for %zu: "
      "kinship postings p50 %.2f ms p99 %.2f ms; SQLite self-join p50 %.2f ms p99 %.2f ms; "
      "total %.1f ms vs %.1f ms -> kinship %.1fx faster\n",
      checked, checked > 0 ? static_cast<double>(sizes) / checked : 0.0, same, Pct(k_lat, 0.5),
      Pct(k_lat, 0.99), Pct(s_lat, 0.5), Pct(s_lat, 0.99), k_sum, s_sum,
      s_sum / std::max(k_sum, 1e-9));
  std::fflush(stdout);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s STORE [queries] [walk_limits] [campaigns_limit] [over_correlation] "
                 "[exact_queries]\n",
                 argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  size_t queries = 1000;
  if (argc > 2 && !absl::SimpleAtoi(argv[2], &queries)) return 2;
  std::vector<size_t> limits;
  for (absl::string_view part : absl::StrSplit(argc > 3 ? argv[3] : "0,2000", ',')) {
    size_t v = 0;
    if (!absl::SimpleAtoi(part, &v)) return 2;
    limits.push_back(v);
  }
  long campaigns_limit = -1;
  if (argc > 4 && !absl::SimpleAtoi(argv[4], &campaigns_limit)) return 2;
  std::vector<std::pair<size_t, double>> over;  // (min incidents, share of N)
  for (absl::string_view part : absl::StrSplit(argc > 5 ? argv[5] : "100/0.001", ',')) {
    std::pair<absl::string_view, absl::string_view> ms = absl::StrSplit(part, '/');
    std::pair<size_t, double> v;
    if (!absl::SimpleAtoi(ms.first, &v.first) || !absl::SimpleAtod(ms.second, &v.second)) return 2;
    over.push_back(v);
  }
  size_t exact_queries = 0;
  if (argc > 6 && !absl::SimpleAtoi(argv[6], &exact_queries)) return 2;

  auto store = kinship::Store::Open(path, /*create=*/false);
  if (!store.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), std::string(store.status().message()).c_str());
    return 1;
  }
  auto t0 = Clock::now();
  auto built = kinship::score::SimilarityIndex::Build(**store);
  if (!built.ok()) return 1;
  kinship::score::SimilarityIndex& index = *built;
  const kinship::score::IndexStats st = index.Stats();
  std::printf("%s: %zu incidents, %zu features, %zu postings; indexed in %.1f s (%.1f MB)\n",
              path.c_str(), st.incidents, st.features, st.postings, Ms(t0, Clock::now()) / 1e3,
              st.memory_bytes / 1e6);
  auto list = (*store)->ListIncidents();
  if (!list.ok() || list->empty()) return 1;
  std::vector<std::string> qs;
  for (size_t q = 0; q < queries; ++q) qs.push_back((*list)[Mix(q + 424242) % list->size()].id);

  // Stated actors by id, for the share of neighbours that share the query's actor.
  absl::flat_hash_map<std::string, std::vector<std::string>> actors;
  for (const auto& inc : *list) {
    if (!inc.attributed_to.empty()) actors[inc.id] = inc.attributed_to;
  }
  auto same_actor = [&](const std::string& a, const std::string& b) {
    auto x = actors.find(a), y = actors.find(b);
    if (x == actors.end() || y == actors.end()) return -1;
    for (const std::string& v : x->second) {
      if (std::find(y->second.begin(), y->second.end(), v) != y->second.end()) return 1;
    }
    return 0;
  };

  std::vector<std::vector<std::string>> reference;
  bool first = true;
  for (const auto& [oc_min, oc_share] : over) {
    index.SetOverCorrelation(oc_min, oc_share);
    const size_t oc = index.OverCorrelationLimit();
    for (size_t li = 0; li < limits.size(); ++li) {
      index.SetMaxCandidateDf(limits[li]);
      std::vector<double> lat;
      std::vector<std::vector<std::string>> tops;
      size_t judged = 0, same = 0;
      for (const std::string& q : qs) {
        auto s = Clock::now();
        auto m = index.Similar(q, 10);
        lat.push_back(Ms(s, Clock::now()));
        std::vector<std::string> ids;
        if (m.ok()) {
          for (const auto& x : *m) {
            ids.push_back(x.id);
            const int v = same_actor(q, x.id);
            judged += v >= 0;
            same += v == 1;
          }
        }
        tops.push_back(std::move(ids));
      }
      if (first) reference = tops;
      size_t kept = 0, total = 0;
      for (size_t q = 0; q < qs.size(); ++q) {
        total += reference[q].size();
        for (const std::string& id : reference[q]) {
          kept += std::count(tops[q].begin(), tops[q].end(), id) > 0;
        }
      }
      std::printf(
          "over-correlation %s, walk limit %zu: similar top-10 (with explanations), %zu queries: "
          "p50 %.2f ms, p99 %.2f ms, max %.2f ms; keeps %.4f of the first setting's top-10 ids; "
          "same actor in %zu of %zu attributed pairs (%.3f)\n",
          oc == SIZE_MAX ? "off" : absl::StrCat("above ", oc).c_str(), limits[li], qs.size(),
          Pct(lat, 0.5), Pct(lat, 0.99), Pct(lat, 1.0),
          total > 0 ? static_cast<double>(kept) / total : 1.0, same, judged,
          judged > 0 ? static_cast<double>(same) / judged : 0.0);
      std::fflush(stdout);
      first = false;
    }
  }
  if (exact_queries > 0 && !ExactOverlap(path, index, qs, exact_queries)) return 1;
  if (campaigns_limit >= 0) {
    index.SetMaxCandidateDf(static_cast<size_t>(campaigns_limit));
    auto s = Clock::now();
    auto cs = kinship::score::FindCampaigns(index);
    if (!cs.ok()) return 1;
    size_t members = 0;
    for (const auto& c : *cs) members += c.members.size();
    std::printf("walk limit %ld: FindCampaigns %zu campaigns covering %zu incidents in %.1f s\n",
                campaigns_limit, cs->size(), members, Ms(s, Clock::now()) / 1e3);
  }
  return 0;
}
