// Similarity over a real store (e.g. the generated Zipf-like MISP feed of bench/gen/gen_misp_feed.py
// ingested with `kinship ingest`, the feed issue 4's speed goals name): index build, top-10
// `Similar` latency p50/p99 at each postings walk limit (ScoringOptions::max_candidate_df), the
// share of the exhaustive run's top-10 ids each limit keeps, and `FindCampaigns` at one limit.
//
// Usage: store_similarity STORE [queries=1000] [walk_limits=0,2000] [campaigns_limit=-1]
// walk_limits: comma-separated, 0 = limits::kMaxPostingWalk (the default); the first is the
// reference for the kept share. campaigns_limit: the walk limit FindCampaigns runs at, -1 = none.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s STORE [queries] [walk_limits] [campaigns_limit]\n", argv[0]);
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

  std::vector<std::vector<std::string>> reference;
  for (size_t li = 0; li < limits.size(); ++li) {
    index.SetMaxCandidateDf(limits[li]);
    std::vector<double> lat;
    std::vector<std::vector<std::string>> tops;
    for (const std::string& q : qs) {
      auto s = Clock::now();
      auto m = index.Similar(q, 10);
      lat.push_back(Ms(s, Clock::now()));
      std::vector<std::string> ids;
      if (m.ok()) {
        for (const auto& x : *m) ids.push_back(x.id);
      }
      tops.push_back(std::move(ids));
    }
    if (li == 0) reference = tops;
    size_t kept = 0, total = 0;
    for (size_t q = 0; q < qs.size(); ++q) {
      total += reference[q].size();
      for (const std::string& id : reference[q]) {
        kept += std::count(tops[q].begin(), tops[q].end(), id) > 0;
      }
    }
    std::printf(
        "walk limit %zu: similar top-10 (with explanations), %zu queries: p50 %.2f ms, p99 %.2f "
        "ms, max %.2f ms; keeps %.4f of walk limit %zu's top-10 ids\n",
        limits[li], qs.size(), Pct(lat, 0.5), Pct(lat, 0.99), Pct(lat, 1.0),
        total > 0 ? static_cast<double>(kept) / total : 1.0, limits[0]);
    std::fflush(stdout);
  }
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
