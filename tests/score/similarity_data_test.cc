// The similarity index on real actor-labelled reports ($KINSHIP_DATA/reports/reports-dev.jsonl):
// retrieval equals brute force, and nearest neighbours share the actor far more often than chance.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"
#include "kinship/similarity.h"
#include "nlohmann/json.hpp"
#include "testing/data.h"

namespace kinship::score {
namespace {

struct Report {
  Incident incident;
  std::string actor, dup_group;
};

std::vector<Report> LoadReports() {
  std::ifstream in(kinship::testing::DataPath("reports/reports-dev.jsonl"));
  std::vector<Report> out;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    Report r;
    r.incident.id = j["id"].get<std::string>();
    r.actor = j.value("source", "") + "|" + j["actor"].get<std::string>();
    r.dup_group = j.value("dup_group", r.incident.id);
    for (const auto& ind : j["indicators"]) {
      std::string type = ind["type"].get<std::string>();
      auto t = IndicatorTypeFromName(type);
      if (!t && type == "ipv4") t = IndicatorType::kIpv4;
      if (!t) continue;
      Indicator i;
      i.type = *t;
      i.value = ind["value"].get<std::string>();
      i.raw = i.value;
      r.incident.indicators.push_back(std::move(i));
    }
    for (const auto& t : j["techniques"])
      r.incident.techniques.push_back({t.get<std::string>(), ""});
    for (const auto& m : j["malware"])
      r.incident.software.push_back({m.get<std::string>(), "", ""});
    out.push_back(std::move(r));
  }
  return out;
}

TEST(SimilarityOnReports, SimilarEqualsBruteForceAndNeighboursShareActors) {
  std::vector<Report> reports = LoadReports();
  ASSERT_GT(reports.size(), 1000u);
  SimilarityIndex index;
  absl::flat_hash_map<std::string, const Report*> by_id;
  for (const Report& r : reports) {
    ASSERT_TRUE(index.Add(r.incident).ok()) << r.incident.id;
    by_id[r.incident.id] = &r;
  }
  // Oracle: for a sample of queries, the top answer equals Compare against every report.
  for (size_t q = 0; q < reports.size(); q += 97) {
    const std::string& qid = reports[q].incident.id;
    double best = 0;
    for (const Report& r : reports) {
      if (r.incident.id == qid) continue;
      best = std::max(best, index.Compare(qid, r.incident.id)->raw);
    }
    auto got = index.Similar(qid, 1);
    ASSERT_TRUE(got.ok());
    if (best == 0) {
      EXPECT_TRUE(got->empty()) << qid;
    } else {
      ASSERT_EQ(got->size(), 1u) << qid;
      EXPECT_NEAR((*got)[0].comparison.raw, best, 1e-9) << qid;
    }
  }
  // Nearest neighbour outside the query's duplicate group: same actor label?
  absl::flat_hash_map<std::string, size_t> label_count;
  for (const Report& r : reports) ++label_count[r.actor];
  size_t answered = 0, same = 0;
  double chance = 0;
  for (const Report& r : reports) {
    chance += static_cast<double>(label_count[r.actor] - 1) / (reports.size() - 1);
    auto got = index.Similar(r.incident.id, 20);
    ASSERT_TRUE(got.ok());
    for (const Match& m : *got) {
      const Report* o = by_id[m.id];
      if (o->dup_group == r.dup_group) continue;
      ++answered;
      same += o->actor == r.actor ? 1 : 0;
      break;
    }
  }
  chance /= reports.size();
  double rate = static_cast<double>(same) / std::max<size_t>(answered, 1);
  std::printf("reports %zu, answered %zu, nearest neighbour same actor %.3f (chance %.3f)\n",
              reports.size(), answered, rate, chance);
  EXPECT_GT(answered, reports.size() / 4);
  EXPECT_GT(rate, 5 * chance);
}

}  // namespace
}  // namespace kinship::score
