#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kinship/similarity.h"
#include "testing/incidents.h"

namespace kinship::score {
namespace {

using ::kinship::testing::Ind;

Incident Inc(std::string id, std::vector<std::string> ips, std::string actor = "") {
  Incident inc;
  inc.id = std::move(id);
  for (std::string& ip : ips) inc.indicators.push_back(Ind(IndicatorType::kIpv4, std::move(ip)));
  if (!actor.empty()) inc.attributions.push_back({actor, "", -1, "test"});
  return inc;
}

std::vector<Incident> WithBackground(std::vector<Incident> incs) {
  for (int i = 0; i < 100; ++i)
    incs.push_back(Inc(absl::StrCat("bg", i), {absl::StrCat("10.0.0.", i)}));
  return incs;
}

bool Together(const std::vector<Campaign>& cs, const std::string& x, const std::string& y) {
  for (const Campaign& c : cs) {
    bool hx = std::count(c.members.begin(), c.members.end(), x) > 0;
    bool hy = std::count(c.members.begin(), c.members.end(), y) > 0;
    if (hx && hy) return true;
  }
  return false;
}

TEST(Campaigns, DoesNotChainThroughABridgeIncident) {
  // A and B share X; B and C share Y; A and C share nothing.
  auto index = SimilarityIndex::Build(WithBackground({
      Inc("A", {"1.1.1.1", "1.1.1.2"}),
      Inc("B", {"1.1.1.1", "1.1.1.2", "2.2.2.1", "2.2.2.2"}),
      Inc("C", {"2.2.2.1", "2.2.2.2"}),
  }));
  ASSERT_TRUE(index.ok());
  ASSERT_GE(index->Compare("A", "B")->probability, 0.5);
  ASSERT_GE(index->Compare("B", "C")->probability, 0.5);
  auto cs = FindCampaigns(*index);
  ASSERT_TRUE(cs.ok()) << cs.status();
  EXPECT_FALSE(Together(*cs, "A", "C"));
  ASSERT_EQ(cs->size(), 1u);
  const Campaign& c = (*cs)[0];
  ASSERT_EQ(c.members.size(), 2u);
  // The one left out stands beside the campaign, linked through the bridge, not in it.
  const std::string out = std::count(c.members.begin(), c.members.end(), "A") ? "C" : "A";
  ASSERT_EQ(c.linked.size(), 1u);
  EXPECT_EQ(c.linked[0].id, out);
  EXPECT_EQ(c.linked[0].via, "B");
  EXPECT_NEAR(c.linked[0].probability, index->Compare(out, "B")->probability, 1e-9);
}

TEST(Campaigns, SingleLinkageChainsThroughTheBridge) {
  // The same three as above: as connected components, A and C end up together through B.
  auto index = SimilarityIndex::Build(WithBackground({
      Inc("A", {"1.1.1.1", "1.1.1.2"}),
      Inc("B", {"1.1.1.1", "1.1.1.2", "2.2.2.1", "2.2.2.2"}),
      Inc("C", {"2.2.2.1", "2.2.2.2"}),
  }));
  ASSERT_TRUE(index.ok());
  CampaignOptions single;
  single.linkage = Linkage::kSingle;
  auto cs = FindCampaigns(*index, single);
  ASSERT_TRUE(cs.ok()) << cs.status();
  ASSERT_EQ(cs->size(), 1u);
  EXPECT_EQ((*cs)[0].members, (std::vector<std::string>{"A", "B", "C"}));
  // Two links over three member pairs: A-C counts 0.
  const double ab = index->Compare("A", "B")->probability;
  const double bc = index->Compare("B", "C")->probability;
  EXPECT_NEAR((*cs)[0].cohesion, (ab + bc) / 3, 1e-9);
  EXPECT_TRUE((*cs)[0].linked.empty());  // every linked incident is a member
}

TEST(Campaigns, GroupsAClusterWithSpanEvidenceAndMajorityActor) {
  std::vector<Incident> incs = {
      Inc("k1", {"3.3.3.1", "3.3.3.2"}, "APT28"),
      Inc("k2", {"3.3.3.1", "3.3.3.2"}, "APT28"),
      Inc("k3", {"3.3.3.1", "3.3.3.2"}, "Sofacy"),
      Inc("k4", {"3.3.3.1", "3.3.3.2"}),
      Inc("lone", {"9.9.9.9"}),
  };
  incs[0].first_seen = "2016-04-01";
  incs[2].first_seen = "2016-03-01";
  incs[2].last_seen = "2016-06-30";
  auto index = SimilarityIndex::Build(WithBackground(incs));
  ASSERT_TRUE(index.ok());
  auto cs = FindCampaigns(*index);
  ASSERT_TRUE(cs.ok());
  ASSERT_EQ(cs->size(), 1u);
  const Campaign& c = (*cs)[0];
  EXPECT_EQ(c.members, (std::vector<std::string>{"k1", "k2", "k3", "k4"}));
  EXPECT_EQ(c.first_seen, "2016-03-01");
  EXPECT_EQ(c.last_seen, "2016-06-30");
  EXPECT_EQ(c.actor, "APT28");
  EXPECT_EQ(c.actor_votes, 2u);
  EXPECT_EQ(c.attributed_members, 3u);
  EXPECT_GE(c.cohesion, 0.5);
  EXPECT_TRUE(c.linked.empty());  // "lone" shares nothing
  ASSERT_FALSE(c.binding.families.empty());
  EXPECT_EQ(c.binding.families[0].family, Family::kIndicator);
  EXPECT_EQ(c.binding.families[0].items.size(), 2u);
}

TEST(Campaigns, LinksExactlyThePairsAtOrAboveTheThreshold) {
  // Values shared Zipf-like (a few in many incidents, most in few), so that most candidates a
  // query meets cannot reach the threshold and are pruned by their raw score: the link graph
  // must still be every pair whose probability reaches it. With more neighbours than incidents,
  // single linkage's campaigns are exactly the connected components of those pairs.
  std::vector<Incident> incs;
  uint64_t x = 12345;
  auto next = [&x] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x >> 33;
  };
  for (int i = 0; i < 120; ++i) {
    std::vector<std::string> ips;
    for (int k = 0; k < 12; ++k) {
      const uint64_t r = next() % 1000 + 1;
      ips.push_back(absl::StrCat("10.", 1000 / r % 256, ".", r % 7, ".", 1 + r % 200));
    }
    incs.push_back(Inc(absl::StrCat("i", i), std::move(ips)));
  }
  auto index = SimilarityIndex::Build(incs);
  ASSERT_TRUE(index.ok());
  for (double threshold : {0.2, 0.45, 0.6}) {
    std::vector<int> parent(incs.size());
    for (size_t i = 0; i < parent.size(); ++i) parent[i] = static_cast<int>(i);
    auto root = [&parent](int i) {
      while (parent[i] != i) i = parent[i] = parent[parent[i]];
      return i;
    };
    size_t links = 0;
    for (size_t a = 0; a < incs.size(); ++a) {
      for (size_t b = a + 1; b < incs.size(); ++b) {
        if (index->Compare(incs[a].id, incs[b].id)->probability < threshold) continue;
        ++links;
        parent[root(static_cast<int>(a))] = root(static_cast<int>(b));
      }
    }
    std::map<int, std::vector<std::string>> components;
    for (size_t i = 0; i < incs.size(); ++i) {
      components[root(static_cast<int>(i))].push_back(incs[i].id);
    }
    std::vector<std::vector<std::string>> expected;
    for (auto& [r, members] : components) {
      if (members.size() < 2) continue;
      std::sort(members.begin(), members.end());
      expected.push_back(members);
    }
    auto cs = FindCampaigns(
        *index, {.threshold = threshold, .neighbours = incs.size(), .linkage = Linkage::kSingle});
    ASSERT_TRUE(cs.ok()) << cs.status();
    std::vector<std::vector<std::string>> found;
    for (const Campaign& c : *cs) {
      std::vector<std::string> members = c.members;
      std::sort(members.begin(), members.end());
      found.push_back(members);
    }
    std::sort(expected.begin(), expected.end());
    std::sort(found.begin(), found.end());
    EXPECT_GT(links, 0u) << threshold;
    EXPECT_EQ(found, expected) << "threshold " << threshold << ", " << links << " links";
  }
}

TEST(Campaigns, ReportsProgressUpToEveryIncident) {
  auto index = SimilarityIndex::Build(WithBackground({
      Inc("A", {"1.1.1.1", "1.1.1.2"}),
      Inc("B", {"1.1.1.1", "1.1.1.2"}),
  }));
  ASSERT_TRUE(index.ok());
  std::mutex mu;
  std::vector<std::pair<size_t, size_t>> heard;
  CampaignOptions options;
  options.progress = [&](size_t done, size_t total) {
    std::lock_guard l(mu);
    heard.emplace_back(done, total);
  };
  auto cs = FindCampaigns(*index, options);
  ASSERT_TRUE(cs.ok()) << cs.status();
  ASSERT_EQ(cs->size(), 1u);  // A and B: progress changes nothing found
  // 102 incidents: every tenth (10 at a time) and the last, each count once.
  ASSERT_EQ(heard.size(), 11u);
  std::sort(heard.begin(), heard.end());
  for (size_t k = 0; k < 10; ++k) EXPECT_EQ(heard[k], std::make_pair((k + 1) * 10, size_t{102}));
  EXPECT_EQ(heard.back(), std::make_pair(size_t{102}, size_t{102}));
}

TEST(Campaigns, RejectsThresholdOutsideUnitInterval) {
  SimilarityIndex index;
  EXPECT_EQ(FindCampaigns(index, {0.0, 30, 2}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FindCampaigns(index, {1.5, 30, 2}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kinship::score
