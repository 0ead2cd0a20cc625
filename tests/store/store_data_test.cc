// End to end on the shared samples: parse, normalise, store; re-ingest; warninglists.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "kinship/ingest.h"
#include "kinship/normalize.h"
#include "kinship/store.h"
#include "kinship/warninglist.h"
#include "testing/data.h"

namespace kinship {
namespace {

namespace fs = std::filesystem;

std::string FreshPath(const std::string& name) {
  fs::path p = fs::path(testing::TempDir()) / name;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p.string() + suffix);
  return p.string();
}

std::vector<Incident> ParseAndNormalize(const std::string& path) {
  ingest::Options opts;
  auto out = ingest::ParsePath(path, opts);
  EXPECT_TRUE(out.ok()) << path << ": " << out.status();
  if (!out.ok()) return {};
  for (Incident& inc : out->incidents) normalize::NormalizeIncident(inc, &out->diagnostics);
  return std::move(out->incidents);
}

TEST(StoreOnSamples, EverySampleFolderIngestsAndReingestingNeverDuplicates) {
  auto store = Store::Open(FreshPath("samples.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  size_t total = 0;
  std::set<std::string> ids;
  for (const char* dir : {"samples/misp", "samples/stix20", "samples/stix21"}) {
    std::vector<Incident> batch = ParseAndNormalize(testing::DataPath(dir));
    ASSERT_FALSE(batch.empty()) << dir;
    for (const Incident& inc : batch) {
      ids.insert(inc.id);
      EXPECT_FALSE(inc.id.empty()) << inc.provenance.file;
      EXPECT_EQ(inc.provenance.sha256.size(), 64u) << inc.provenance.file;
    }
    auto sum = (*store)->Ingest(batch);
    ASSERT_TRUE(sum.ok()) << dir << ": " << sum.status();
    total += sum->incidents_added + sum->incidents_updated;
  }
  auto first = (*store)->Stats();
  ASSERT_TRUE(first.ok());
  // Re-used ids across folders are updates, never duplicates: rows == distinct ids seen.
  EXPECT_EQ(first->incidents, ids.size());
  EXPECT_LE(ids.size(), total);
  EXPECT_GT(first->indicators, 500u);  // the MISP samples alone hold hundreds of attributes

  // Same files again: every incident is an update, counts do not move.
  for (const char* dir : {"samples/misp", "samples/stix20", "samples/stix21"}) {
    std::vector<Incident> batch = ParseAndNormalize(testing::DataPath(dir));
    auto sum = (*store)->Ingest(batch);
    ASSERT_TRUE(sum.ok()) << sum.status();
    EXPECT_EQ(sum->incidents_added, 0u) << dir;
  }
  auto second = (*store)->Stats();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->incidents, first->incidents);
  EXPECT_EQ(second->indicators, first->indicators);
  EXPECT_EQ(second->distinct_values, first->distinct_values);
}

TEST(StoreOnSamples, RealWarninglistsMarkStoredAndNewIndicators) {
  auto lists = LoadWarninglistDir(testing::DataPath("misp-warninglists"));
  ASSERT_TRUE(lists.ok()) << lists.status();
  auto store = Store::Open(FreshPath("wl.db"));
  ASSERT_TRUE(store.ok());

  auto make = [](std::string id) {
    Incident inc;
    inc.id = std::move(id);
    for (const char* ip : {"8.8.8.8", "176.31.112.10"}) {
      inc.indicators.push_back(Indicator::Raw(IndicatorType::kIpv4, ip, "test"));
    }
    normalize::NormalizeIncident(inc, nullptr);
    return inc;
  };
  // Stored before the lists arrive: re-marked by ReplaceWarninglists.
  std::vector<Incident> before = {make("before")};
  ASSERT_TRUE((*store)->Ingest(before).ok());
  ASSERT_TRUE((*store)->ReplaceWarninglists(*lists).ok());
  // Stored after: marked at ingest.
  std::vector<Incident> after = {make("after")};
  auto sum = (*store)->Ingest(after);
  ASSERT_TRUE(sum.ok());
  EXPECT_GE(sum->benign_indicators, 1u);

  for (const char* id : {"before", "after"}) {
    auto inc = (*store)->GetIncident(id);
    ASSERT_TRUE(inc.ok());
    bool google_dns_benign = false, c2_benign = true;
    for (const Indicator& ind : inc->indicators) {
      if (ind.value == "8.8.8.8") google_dns_benign = ind.benign();
      if (ind.value == "176.31.112.10") c2_benign = ind.benign();
    }
    EXPECT_TRUE(google_dns_benign) << id;
    EXPECT_FALSE(c2_benign) << id;
  }
}

}  // namespace
}  // namespace kinship
