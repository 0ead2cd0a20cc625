#include "kinship/similarity.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kinship/normalize.h"
#include "testing/incidents.h"

namespace kinship::score {
namespace {

using ::kinship::testing::Ind;

Incident Inc(std::string id) {
  Incident inc;
  inc.id = std::move(id);
  return inc;
}

// A corpus where PowerShell (T1059.001) is everywhere and most incidents have their own IPs.
std::vector<Incident> Background(int n) {
  std::vector<Incident> out;
  for (int i = 0; i < n; ++i) {
    Incident inc = Inc(absl::StrCat("bg", i));
    inc.indicators.push_back(
        Ind(IndicatorType::kIpv4, absl::StrCat("10.9.", i / 250, ".", i % 250)));
    inc.techniques.push_back({"T1059.001", ""});
    out.push_back(std::move(inc));
  }
  return out;
}

const FamilyEvidence* FindFamily(const Comparison& c, Family f) {
  for (const FamilyEvidence& fe : c.explanation.families) {
    if (fe.family == f) return &fe;
  }
  return nullptr;
}

// Every shared feature of the comparison's explanation, family by family.
std::vector<std::string> SharedFeatures(const Comparison& c) {
  std::vector<std::string> shared;
  for (const FamilyEvidence& f : c.explanation.families) {
    for (const EvidenceItem& e : f.items) shared.push_back(e.feature);
  }
  return shared;
}

TEST(SimilarityScore, OverCorrelatingValuesWeighNothingAndAreNamed) {
  // 300 incidents; 150 of them hold one sinkhole-like IP, 120 use one technique.
  std::vector<Incident> corpus = Background(300);
  for (int i = 0; i < 150; ++i) {
    corpus[i].indicators.push_back(Ind(IndicatorType::kIpv4, "203.0.113.7"));
  }
  for (int i = 0; i < 120; ++i) corpus[i].techniques.push_back({"T1071.001", ""});
  corpus[0].indicators.push_back(Ind(IndicatorType::kIpv4, "176.31.112.10"));
  corpus[1].indicators.push_back(Ind(IndicatorType::kIpv4, "176.31.112.10"));
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok()) << index.status();
  // max(100, 0.001 * 300): MISP's correlation_limit.
  EXPECT_EQ(index->OverCorrelationLimit(), 100u);
  EXPECT_EQ(index->FeatureIdf("ipv4:203.0.113.7"), 0);
  // Techniques are not values: the rule leaves them to their document frequency.
  EXPECT_NEAR(index->FeatureIdf("tech:T1071.001"), std::log(300.0 / 120), 1e-9);
  auto c = index->Compare("bg0", "bg1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->explanation.over_correlating, 1u);
  EXPECT_EQ(c->explanation.over_correlation_limit, 100u);
  EXPECT_THAT(c->explanation.over_correlating_examples, ::testing::ElementsAre("ipv4:203.0.113.7"));
  EXPECT_THAT(c->explanation.ToString(),
              ::testing::HasSubstr("not counted: 1 over-correlating value (each held by more than "
                                   "100 incidents): ipv4:203.0.113.7\n"));
  for (const FamilyEvidence& f : c->explanation.families) {
    for (const EvidenceItem& item : f.items) EXPECT_NE(item.feature, "ipv4:203.0.113.7");
  }
  ASSERT_NE(FindFamily(*c, Family::kTechnique), nullptr);
  // Similar does not find by them: bg130 shares only the IP (and T1059.001, which all hold).
  auto near = index->Similar("bg0", 300);
  ASSERT_TRUE(near.ok());
  EXPECT_FALSE(near->empty());
  for (const Match& m : *near) EXPECT_NE(m.id, "bg130") << "shares nothing that counts";
  // Turned off, or with a share of N above them, they count again.
  const double before = c->raw;
  index->SetOverCorrelation(0, 0);
  EXPECT_EQ(index->OverCorrelationLimit(), SIZE_MAX);
  EXPECT_NEAR(index->FeatureIdf("ipv4:203.0.113.7"), std::log(2.0), 1e-9);
  auto off = index->Compare("bg0", "bg1");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->explanation.over_correlating, 0u);
  EXPECT_GT(off->raw, before);
  auto near_off = index->Similar("bg0", 300);
  ASSERT_TRUE(near_off.ok());
  EXPECT_TRUE(std::any_of(near_off->begin(), near_off->end(),
                          [](const Match& m) { return m.id == "bg130"; }));
  index->SetOverCorrelation(10, 0.6);
  EXPECT_EQ(index->OverCorrelationLimit(), 180u);
  EXPECT_GT(index->FeatureIdf("ipv4:203.0.113.7"), 0);
}

TEST(SimilarityScore, RareSharedC2OutweighsSharedPowerShellTechnique) {
  std::vector<Incident> corpus = Background(200);
  Incident a = Inc("a"), c2 = Inc("c2"), ps = Inc("ps");
  a.indicators.push_back(Ind(IndicatorType::kIpv4, "176.31.112.10"));
  a.techniques.push_back({"T1059.001", ""});
  c2.indicators.push_back(Ind(IndicatorType::kIpv4, "176.31.112.10"));
  ps.techniques.push_back({"T1059.001", ""});
  corpus.push_back(a);
  corpus.push_back(c2);
  corpus.push_back(ps);
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok()) << index.status();
  auto by_c2 = index->Compare("a", "c2");
  auto by_ps = index->Compare("a", "ps");
  ASSERT_TRUE(by_c2.ok());
  ASSERT_TRUE(by_ps.ok());
  EXPECT_GT(by_c2->probability, by_ps->probability);
  EXPECT_GT(by_c2->raw, 4 * by_ps->raw);
  EXPECT_GT(index->FeatureIdf("ipv4:176.31.112.10"), index->FeatureIdf("tech:T1059.001"));
  auto top = index->Similar("a", 1);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].id, "c2");
}

TEST(SimilarityScore, BenignAndInvalidValuesWeighNothing) {
  std::vector<Incident> corpus = Background(50);
  Incident a = Inc("a"), b = Inc("b");
  Indicator dns = Ind(IndicatorType::kIpv4, "8.8.8.8");
  dns.warninglists.push_back("public-dns-v4");
  Indicator bad = Ind(IndicatorType::kDomain, "");
  bad.raw = "not a domain";
  bad.error = "invalid label";
  a.indicators = {dns, bad};
  b.indicators = {dns, bad};
  corpus.push_back(a);
  corpus.push_back(b);
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  auto c = index->Compare("a", "b");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->raw, 0);
  EXPECT_TRUE(c->explanation.families.empty());
  EXPECT_EQ(index->DocumentFrequency("ipv4:8.8.8.8"), 0u);
  auto near = index->Similar("a", 10);
  ASSERT_TRUE(near.ok());
  EXPECT_TRUE(near->empty());
  // Without the warninglist the same value is evidence.
  a.indicators[0].warninglists.clear();
  b.indicators[0].warninglists.clear();
  EXPECT_GT(index->Compare(a, b).raw, 0);
}

TEST(SimilarityScore, ExplanationIsGroupedByFamilyStrongestFirst) {
  std::vector<Incident> corpus = Background(100);
  Incident a = Inc("a"), b = Inc("b");
  for (Incident* x : {&a, &b}) {
    x->indicators.push_back(Ind(IndicatorType::kDomain, "actblues.com"));
    x->indicators.push_back(
        Ind(IndicatorType::kDomain, "actblues.com", Derivation::kRegisteredDomain));
    x->indicators.push_back(Ind(IndicatorType::kSha256, std::string(64, 'a')));
    x->indicators.push_back(Ind(IndicatorType::kCidr, "176.31.112.0/24", Derivation::kNetwork));
    x->techniques.push_back({"T1059.001", ""});
    x->software.push_back({"X-Agent", "", "malware"});
  }
  a.indicators.push_back(Ind(IndicatorType::kIpv4, "10.9.0.1"));  // shared with bg1 only
  b.indicators.push_back(Ind(IndicatorType::kIpv4, "10.9.0.1"));
  corpus.push_back(a);
  corpus.push_back(b);
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  auto c = index->Compare("a", "b");
  ASSERT_TRUE(c.ok());
  const auto& fams = c->explanation.families;
  ASSERT_GE(fams.size(), 4u);
  for (size_t i = 1; i < fams.size(); ++i) EXPECT_GE(fams[i - 1].weight, fams[i].weight);
  double total = 0;
  for (const FamilyEvidence& f : fams) {
    EXPECT_GT(f.weight, 0);
    total += f.weight;
    double items = 0;
    for (size_t i = 0; i < f.items.size(); ++i) {
      items += f.items[i].weight;
      if (i > 0) {
        EXPECT_GE(f.items[i - 1].weight, f.items[i].weight);
      }
    }
    EXPECT_NEAR(items, f.weight, 1e-9) << FamilyName(f.family);
  }
  EXPECT_NEAR(total, c->raw, 1e-9);
  EXPECT_EQ(fams[0].family, Family::kIndicator);
  const FamilyEvidence* ind = FindFamily(*c, Family::kIndicator);
  ASSERT_NE(ind, nullptr);
  ASSERT_EQ(ind->items.size(), 3u);
  EXPECT_EQ(ind->items.back().feature, "ipv4:10.9.0.1");  // held by 3: weakest
  EXPECT_NE(FindFamily(*c, Family::kSoftware), nullptr);
  EXPECT_NE(FindFamily(*c, Family::kInfrastructure), nullptr);
  EXPECT_NE(c->explanation.ToString().find("sha256:"), std::string::npos);
}

TEST(SimilarityScore, EvidenceSaturatesWithinAFamily) {
  std::vector<Incident> corpus = Background(100);
  Incident one_a = Inc("one_a"), one_b = Inc("one_b"), many_a = Inc("many_a"),
           many_b = Inc("many_b");
  one_a.indicators.push_back(Ind(IndicatorType::kMd5, std::string(32, '1')));
  one_b.indicators.push_back(Ind(IndicatorType::kMd5, std::string(32, '1')));
  for (int i = 0; i < 50; ++i) {
    std::string h = absl::StrCat(std::string(30, 'b'), i + 10);
    many_a.indicators.push_back(Ind(IndicatorType::kMd5, h));
    many_b.indicators.push_back(Ind(IndicatorType::kMd5, h));
  }
  corpus.insert(corpus.end(), {one_a, one_b, many_a, many_b});
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  double one = index->Compare("one_a", "one_b")->raw;
  double many = index->Compare("many_a", "many_b")->raw;
  EXPECT_GT(many, one);
  EXPECT_LT(many, 5 * one);  // fifty witnesses added linearly would be 50x
  EXPECT_LE(index->Compare("many_a", "many_b")->evidence[0], index->options().saturation[0]);
}

TEST(SimilarityScore, SubTechniqueGivesWeakerCreditToParent) {
  std::vector<Incident> corpus = Background(100);
  Incident sub1 = Inc("sub1"), sub2 = Inc("sub2"), parent = Inc("parent");
  sub1.techniques.push_back({"T1566.001", ""});
  sub2.techniques.push_back({"T1566.001", ""});
  parent.techniques.push_back({"T1566", ""});
  corpus.insert(corpus.end(), {sub1, sub2, parent});
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  double same = index->Compare("sub1", "sub2")->raw;
  double via_parent = index->Compare("sub1", "parent")->raw;
  EXPECT_GT(via_parent, 0);
  EXPECT_GT(same, via_parent);
}

TEST(SimilarityIndex, RejectsDuplicateAndEmptyIds) {
  SimilarityIndex index;
  EXPECT_TRUE(index.Add(Inc("x")).ok());
  EXPECT_EQ(index.Add(Inc("x")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(index.Add(Inc("")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Similar("nope", 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index.Compare("x", "nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index.size(), 1u);
}

TEST(SimilarityIndex, DocumentFrequenciesFollowAdds) {
  SimilarityIndex index;
  Incident a = Inc("a");
  a.indicators.push_back(Ind(IndicatorType::kIpv4, "1.2.3.4"));
  ASSERT_TRUE(index.Add(a).ok());
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(index.Add(Inc(absl::StrCat("e", i))).ok());
  double rare = index.FeatureIdf("ipv4:1.2.3.4");
  a.id = "b";
  ASSERT_TRUE(index.Add(a).ok());
  EXPECT_EQ(index.DocumentFrequency("ipv4:1.2.3.4"), 2u);
  EXPECT_LT(index.FeatureIdf("ipv4:1.2.3.4"), rare);
}

// The index keeps the text of a feature's key only once two incidents hold it (or for a fuzzy
// digest): explanations must still name every shared feature, whether the other side is an
// indexed incident, an incident object, or an incident indexed later.
TEST(SimilarityIndex, ExplanationsNameFeaturesHeldByOneIndexedIncident) {
  SimilarityIndex index;
  Incident a = Inc("a");
  a.indicators.push_back(Ind(IndicatorType::kIpv4, "176.31.112.10"));
  a.indicators.push_back(Ind(IndicatorType::kDomain, "only-alpha-feed.com"));
  ASSERT_TRUE(index.Add(a).ok());
  for (int i = 0; i < 5; ++i) {
    Incident e = Inc(absl::StrCat("e", i));
    e.indicators.push_back(Ind(IndicatorType::kIpv4, absl::StrCat("91.121.7.", i)));
    ASSERT_TRUE(index.Add(e).ok());
  }
  Incident q = Inc("q");  // not indexed
  q.indicators.push_back(Ind(IndicatorType::kIpv4, "176.31.112.10"));
  auto names = [](const Comparison& c) {
    std::string out;
    for (const FamilyEvidence& f : c.explanation.families) {
      for (const EvidenceItem& item : f.items) absl::StrAppend(&out, item.feature, ";");
    }
    return out;
  };
  std::vector<Match> m = index.Similar(q, 3);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].id, "a");
  EXPECT_EQ(names(m[0].comparison), "ipv4:176.31.112.10;");
  EXPECT_EQ(names(index.Compare(q, a)), "ipv4:176.31.112.10;");
  ASSERT_TRUE(index.Add(q).ok());
  auto c = index.Compare("a", "q");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(names(*c), "ipv4:176.31.112.10;");
  EXPECT_EQ(index.DocumentFrequency("ipv4:176.31.112.10"), 2u);
  EXPECT_EQ(index.DocumentFrequency("domain:only-alpha-feed.com"), 1u);
  EXPECT_EQ(index.DocumentFrequency("domain:never-seen-feed.com"), 0u);
  // An incident against itself: what only it holds has no kept text (documented).
  auto self = index.Compare("a", "a");
  ASSERT_TRUE(self.ok());
  bool shared_named = false, unnamed = false;
  for (const FamilyEvidence& f : self->explanation.families) {
    for (const EvidenceItem& item : f.items) {
      shared_named = shared_named || item.feature == "ipv4:176.31.112.10";
      unnamed = unnamed || (item.feature.empty() && item.df == 1);
    }
  }
  EXPECT_TRUE(shared_named);
  EXPECT_TRUE(unnamed);
}

// Random corpus: Similar (postings, rarest first) must equal Compare against every incident.
TEST(SimilarityIndex, SimilarMatchesBruteForceCompareOnRandomCorpus) {
  const uint32_t seed = 20260412;
  std::mt19937 rng(seed);
  std::vector<Incident> corpus;
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    Incident inc = Inc(absl::StrCat("inc", i));
    int k = 1 + rng() % 8;
    for (int j = 0; j < k; ++j) {
      switch (rng() % 5) {
        case 0:
          inc.indicators.push_back(Ind(IndicatorType::kIpv4, absl::StrCat("5.6.7.", rng() % 150)));
          break;
        case 1:
          inc.indicators.push_back(
              Ind(IndicatorType::kDomain, absl::StrCat("host", rng() % 200, ".example.org")));
          break;
        case 2:
          inc.techniques.push_back({absl::StrCat("T10", 10 + rng() % 30), ""});
          break;
        case 3:
          inc.software.push_back({absl::StrCat("tool", rng() % 40), "", ""});
          break;
        default:
          inc.victim.country = absl::StrCat("c", rng() % 12);
      }
    }
    inc.first_seen = absl::StrCat("2020-0", 1 + rng() % 9, "-1", rng() % 10);
    corpus.push_back(std::move(inc));
  }
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  const size_t top_k = 10;
  for (int q = 0; q < n; q += 7) {
    std::string qid = corpus[q].id;
    std::vector<std::pair<double, std::string>> brute;
    for (const Incident& other : corpus) {
      if (other.id == qid) continue;
      auto c = index->Compare(qid, other.id);
      ASSERT_TRUE(c.ok());
      if (c->raw > 0) brute.emplace_back(c->raw, other.id);
    }
    std::sort(brute.begin(), brute.end(), [](const auto& x, const auto& y) {
      if (x.first != y.first) return x.first > y.first;
      return x.second < y.second;
    });
    auto got = index->Similar(qid, top_k);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), std::min(top_k, brute.size())) << "seed " << seed << " query " << qid;
    for (size_t i = 0; i < got->size(); ++i) {
      // Sums taken in another order may differ in the last bits: compare scores, and ids where
      // the scores are clearly apart.
      EXPECT_NEAR((*got)[i].comparison.raw, brute[i].first, 1e-9)
          << "seed " << seed << " query " << qid << " rank " << i;
      bool tie = (i > 0 && std::abs(brute[i - 1].first - brute[i].first) < 1e-9) ||
                 (i + 1 < brute.size() && std::abs(brute[i + 1].first - brute[i].first) < 1e-9);
      if (!tie) {
        EXPECT_EQ((*got)[i].id, brute[i].second) << "seed " << seed << " query " << qid;
      }
    }
    // The same query as an Incident object (not by id) gives the same answer.
    std::vector<Match> by_object = index->Similar(corpus[q], top_k);
    ASSERT_EQ(by_object.size(), got->size());
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_NEAR(by_object[i].comparison.raw, (*got)[i].comparison.raw, 1e-9);
    }
  }
}

// Similar stops taking new candidates once nothing unseen can reach the top k, and drops
// candidates that cannot (max-score pruning). A corpus shaped for it: a few actors with pools of
// rare indicators, every incident with its own values, common domains (naming n-grams) and
// techniques, so the long postings come after the top k is settled. Every answer must equal
// Compare against every incident, for several k, walk limits and calibrations (one with a
// negative weight, where pruning is off). With a walk limit, only incidents sharing a feature
// held by at most that many incidents are candidates (ScoringOptions::max_candidate_df).
void ExpectSimilarEqualsBruteForce(const std::vector<Incident>& corpus,
                                   const SimilarityIndex& index, size_t top_k, size_t walk,
                                   const std::string& what, size_t stride = 5) {
  for (size_t q = 0; q < corpus.size(); q += stride) {
    const std::string& qid = corpus[q].id;
    std::vector<std::pair<double, std::string>> brute;
    for (const Incident& other : corpus) {
      if (other.id == qid) continue;
      auto c = index.Compare(qid, other.id);
      ASSERT_TRUE(c.ok());
      bool reachable = walk == 0;
      for (const FamilyEvidence& f : c->explanation.families) {
        for (const EvidenceItem& item : f.items) {
          reachable = reachable || (f.family != Family::kTime && item.df <= walk);
        }
      }
      if (c->raw > 0 && reachable) brute.emplace_back(c->raw, other.id);
    }
    std::sort(brute.begin(), brute.end(), [](const auto& x, const auto& y) {
      if (x.first != y.first) return x.first > y.first;
      return x.second < y.second;
    });
    auto got = index.Similar(qid, top_k);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), std::min(top_k, brute.size())) << what << " query " << qid;
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_NEAR((*got)[i].comparison.raw, brute[i].first, 1e-9)
          << what << " query " << qid << " rank " << i;
      bool tie = (i > 0 && std::abs(brute[i - 1].first - brute[i].first) < 1e-9) ||
                 (i + 1 < brute.size() && std::abs(brute[i + 1].first - brute[i].first) < 1e-9);
      if (!tie) {
        EXPECT_EQ((*got)[i].id, brute[i].second) << what << " query " << qid;
      }
    }
    std::vector<Match> by_object = index.Similar(corpus[q], top_k);
    ASSERT_EQ(by_object.size(), got->size()) << what << " query " << qid;
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_EQ(by_object[i].id, (*got)[i].id) << what << " query " << qid;
    }
  }
}

// Incidents of 12 actors: each draws from its actor's few rare values, its own values, five
// values common across the corpus (long postings: the domain, its n-grams, its TLD) and unique
// ones; every incident uses T1059.001.
std::vector<Incident> CorpusWithCommonValues(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Incident> corpus;
  for (int i = 0; i < n; ++i) {
    Incident inc = Inc(absl::StrCat("inc", i));
    const uint32_t actor = rng() % 12;
    for (int j = 0; j < 12; ++j) {
      const uint32_t r = rng();
      if (r % 4 == 0) {
        inc.indicators.push_back(
            Ind(IndicatorType::kIpv4, absl::StrCat("77.", actor, ".", (r >> 8) % 6, ".1")));
      } else if (r % 4 == 1) {
        inc.indicators.push_back(Ind(IndicatorType::kDomain,
                                     absl::StrCat("own", i, "x", j, "mail", (r >> 8) % 7, ".com")));
      } else if (r % 4 == 2) {
        inc.indicators.push_back(
            Ind(IndicatorType::kDomain, absl::StrCat("common", (r >> 8) % 5, ".net")));
      } else {
        inc.indicators.push_back(
            Ind(IndicatorType::kIpv4, absl::StrCat("9.", i % 256, ".", j, ".", i / 256)));
      }
    }
    inc.techniques.push_back({"T1059.001", ""});
    inc.techniques.push_back({absl::StrCat("T11", 10 + rng() % 20), ""});
    inc.software.push_back({absl::StrCat("tool", rng() % 6), "", ""});
    inc.first_seen = absl::StrCat("2021-0", 1 + rng() % 9, "-1", rng() % 10);
    corpus.push_back(std::move(inc));
  }
  return corpus;
}

TEST(SimilarityIndex, PrunedSimilarMatchesBruteForceCompare) {
  const uint32_t seed = 20261129;
  const std::vector<Incident> corpus = CorpusWithCommonValues(400, seed);
  // Over-correlation off: the common values (~240 holders each) count, through long postings.
  for (size_t walk : {size_t{0}, size_t{40}}) {
    ScoringOptions options;
    options.max_candidate_df = walk;
    options.over_correlation_min = 0;
    options.over_correlation_share = 0;
    auto index = SimilarityIndex::Build(corpus, nullptr, options);
    ASSERT_TRUE(index.ok());
    for (size_t k : {size_t{1}, size_t{3}, size_t{10}, size_t{30}}) {
      ExpectSimilarEqualsBruteForce(corpus, *index, k, walk,
                                    absl::StrCat("seed ", seed, " walk ", walk, " k ", k));
    }
    if (walk != 0) continue;  // explanations leave the negative family out: no reachability
    Calibration odd;
    odd.weight[static_cast<int>(Family::kNaming)] = -0.5;  // not monotone: no pruning
    index->SetCalibration(odd);
    ExpectSimilarEqualsBruteForce(corpus, *index, 10, walk,
                                  absl::StrCat("seed ", seed, " walk ", walk, " negative weight"));
  }
  // The default: the common values over-correlate and weigh nothing.
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->FeatureIdf("domain:common0.net"), 0);
  ExpectSimilarEqualsBruteForce(corpus, *index, 10, 0, absl::StrCat("seed ", seed, " default"));
}

// Attribution's neighbours: the best attributed incidents, found among the attributed only.
// Equal to Similar over every incident with the unattributed left out, however many
// unattributed ones rank above them (every third incident is attributed here, and the
// unattributed are the query's best matches as often as not), with pruning and without.
TEST(SimilarityIndex, SimilarAttributedIsSimilarWithTheUnattributedLeftOut) {
  const uint32_t seed = 20261201;
  std::vector<Incident> corpus = CorpusWithCommonValues(400, seed);
  for (size_t i = 0; i < corpus.size(); i += 3) {
    corpus[i].attributions.push_back({absl::StrCat("actor", i % 12), "", -1, "test"});
  }
  for (bool over_correlation : {true, false}) {
    ScoringOptions options;
    if (!over_correlation) {
      options.over_correlation_min = 0;
      options.over_correlation_share = 0;
    }
    auto index = SimilarityIndex::Build(corpus, nullptr, options);
    ASSERT_TRUE(index.ok());
    size_t unattributed_above = 0;
    for (size_t q = 0; q < corpus.size(); q += 5) {
      std::vector<Match> all = index->Similar(corpus[q], corpus.size());
      std::vector<Match> attributed;
      for (Match& m : all) {
        if (!index->StatedActors(m.id).empty()) attributed.push_back(std::move(m));
      }
      for (size_t k : {size_t{1}, size_t{5}, size_t{20}}) {
        const std::string what =
            absl::StrCat("query ", corpus[q].id, " k ", k, " over-correlation ", over_correlation);
        std::vector<Match> got = index->SimilarAttributed(corpus[q], k);
        ASSERT_EQ(got.size(), std::min(k, attributed.size())) << what;
        for (size_t r = 0; r < got.size(); ++r) {
          EXPECT_FALSE(index->StatedActors(got[r].id).empty()) << what;
          EXPECT_NE(got[r].id, corpus[q].id) << what;
          EXPECT_NEAR(got[r].comparison.raw, attributed[r].comparison.raw, 1e-9) << what;
          EXPECT_NEAR(got[r].comparison.probability, attributed[r].comparison.probability, 1e-9);
          EXPECT_FALSE(got[r].comparison.explanation.families.empty()) << what;
        }
      }
      if (!attributed.empty() && index->StatedActors(index->Similar(corpus[q], 1)[0].id).empty()) {
        ++unattributed_above;
      }
    }
    EXPECT_GE(unattributed_above, 20u) << "the corpus must rank unattributed incidents first";
  }
}

// An incident compared with an indexed one by id (`compare --file`) scores and explains the pair
// as Similar explains that match; an unknown id is kNotFound.
TEST(SimilarityIndex, CompareAnIncidentWithAnIndexedOneAsSimilarExplainsIt) {
  const std::vector<Incident> corpus = CorpusWithCommonValues(200, 20261202);
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  size_t compared = 0;
  for (size_t q = 0; q < corpus.size(); q += 20) {
    for (const Match& m : index->Similar(corpus[q], 5)) {
      absl::StatusOr<Comparison> c = index->Compare(corpus[q], m.id);
      ASSERT_TRUE(c.ok()) << c.status();
      EXPECT_NEAR(c->raw, m.comparison.raw, 1e-9) << corpus[q].id << " " << m.id;
      EXPECT_NEAR(c->probability, m.comparison.probability, 1e-9);
      ASSERT_EQ(c->explanation.families.size(), m.comparison.explanation.families.size());
      for (size_t f = 0; f < c->explanation.families.size(); ++f) {
        EXPECT_EQ(c->explanation.families[f].items.size(),
                  m.comparison.explanation.families[f].items.size());
      }
      ++compared;
    }
  }
  EXPECT_GE(compared, 20u);
  EXPECT_EQ(index->Compare(corpus[0], "no-such-incident").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SimilarityIndex, SimilarWithCommonFeatureBitmapsMatchesBruteForce) {
  // Enough incidents that the common values' n-grams and TLD and T1059.001 are held by over
  // 1,024 incidents: their holders are kept as bitmaps and tested a bit per candidate.
  const uint32_t seed = 20261130;
  const std::vector<Incident> corpus = CorpusWithCommonValues(1300, seed);
  ScoringOptions options;
  options.over_correlation_min = 0;
  options.over_correlation_share = 0;
  auto index = SimilarityIndex::Build(corpus, nullptr, options);
  ASSERT_TRUE(index.ok());
  ASSERT_GE(index->DocumentFrequency("tld:net"), 1024u);
  ASSERT_GE(index->DocumentFrequency("domain:common0.net"), 500u);
  ASSERT_GE(index->DocumentFrequency("tech:T1059.001"), 1024u);
  for (size_t k : {size_t{1}, size_t{10}}) {
    ExpectSimilarEqualsBruteForce(corpus, *index, k, 0, absl::StrCat("seed ", seed, " k ", k),
                                  /*stride=*/50);
  }
}

TEST(Calibration, ProbabilityIsMonotoneInRawEvidence) {
  for (const Calibration& c : {Calibration(), Calibration::Default()}) {
    double prev = -1;
    for (double raw = 0; raw < 30; raw += 0.25) {
      double p = c.Calibrate(raw);
      EXPECT_GE(p, prev);
      EXPECT_GE(p, 0);
      EXPECT_LE(p, 1);
      prev = p;
    }
  }
}

TEST(Calibration, DefaultStepsStateFittedPairFrequenciesNeverCertainty) {
  const Calibration c = Calibration::Default();
  ASSERT_FALSE(c.steps.empty());
  // Sharing nothing, or a little naming, is rarely the same actor; the strongest shared
  // evidence is likely but not certain (the dev pairs: 84 % at raw ~20).
  EXPECT_LE(c.Calibrate(0), 0.02);
  EXPECT_GE(c.Calibrate(100), 0.9);
  EXPECT_LE(c.Calibrate(100), 0.99);
  // The steps keep the hand-set weights: ranking (by raw) is unchanged.
  EXPECT_EQ(c.weight, Calibration().weight);
}

TEST(Calibration, FitStepsStatesObservedFrequenciesWithinBounds) {
  // raw 1: 1 of 4 pairs same actor; raw 2: 3 of 4; raw 3: all. Ties pool into one step.
  std::vector<double> raw = {1, 1, 1, 1, 2, 2, 2, 2, 3, 3};
  std::vector<int> same = {1, 0, 0, 0, 1, 1, 0, 1, 1, 1};
  auto fit = FitSteps(raw, same, Calibration());
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_DOUBLE_EQ(fit->Calibrate(1), 0.25);
  EXPECT_DOUBLE_EQ(fit->Calibrate(2), 0.75);
  EXPECT_DOUBLE_EQ(fit->Calibrate(3), 0.99);   // all same actor, stated as 99 %
  EXPECT_DOUBLE_EQ(fit->Calibrate(1.5), 0.5);  // interpolated between steps
  EXPECT_DOUBLE_EQ(fit->Calibrate(0), 0.25);   // below the first step: the first step
  // Without a same-actor pair (or an other-actor one) nothing is fitted.
  EXPECT_EQ(FitSteps({1, 2}, {0, 0}, Calibration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FitSteps({1, 2}, {1}, Calibration()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Calibration, HandSetLogisticWithoutSteps) {
  Calibration c;  // no steps: 1 / (1 + exp(-(intercept + raw)))
  EXPECT_NEAR(c.Calibrate(0), 1 / (1 + std::exp(4.0)), 1e-12);
  EXPECT_NEAR(c.Calibrate(4), 0.5, 1e-12);
}

TEST(Calibration, FitSeparatesLabelledPairsAndStaysMonotone) {
  std::mt19937 rng(7);
  std::vector<LabelledPair> pairs;
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 2000; ++i) {
    LabelledPair p;
    p.same_actor = i % 2 == 0;
    // Same-actor pairs share indicators more often; technique evidence is noise.
    p.evidence[0] = p.same_actor ? (u(rng) < 0.7 ? 5 + 3 * u(rng) : 0) : (u(rng) < 0.05 ? 4 : 0);
    p.evidence[3] = 2 * u(rng);
    pairs.push_back(p);
  }
  auto fit = Fit(pairs);
  ASSERT_TRUE(fit.ok()) << fit.status();
  for (double w : fit->weight) EXPECT_GE(w, 0);
  EXPECT_GT(fit->weight[0], fit->weight[3]);
  FamilyVector none{}, strong{};
  strong[0] = 6;
  EXPECT_GT(fit->Probability(strong), 0.8);
  EXPECT_LT(fit->Probability(none), 0.5);
  double prev = -1;
  for (double x = 0; x < 10; x += 0.5) {
    FamilyVector e{};
    e[0] = x;
    EXPECT_GE(fit->Probability(e), prev);
    prev = fit->Probability(e);
  }
}

TEST(Calibration, LabelledPairsFromIndexLabelsRetrievedAttributedPairs) {
  std::vector<Incident> corpus = Background(20);
  auto attributed = [](std::string id, std::string actor, std::string ip) {
    Incident inc = Inc(std::move(id));
    inc.indicators.push_back(Ind(IndicatorType::kIpv4, std::move(ip)));
    inc.attributions.push_back({actor, actor, -1, "test"});
    return inc;
  };
  corpus.push_back(attributed("a1", "G1", "91.121.7.7"));
  corpus.push_back(attributed("a2", "G1", "91.121.7.7"));
  corpus.push_back(attributed("b1", "G2", "91.121.7.7"));
  corpus.push_back(attributed("c1", "G3", "203.0.113.9"));  // shares nothing: no pair
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok()) << index.status();
  std::vector<LabelledPair> pairs = LabelledPairsFromIndex(*index, 10);
  // a1-a2 (same), a1-b1, a2-b1 (different), each seen from both sides; background incidents
  // have no stated actor and are never part of a pair.
  ASSERT_EQ(pairs.size(), 6u);
  size_t same = 0;
  for (const LabelledPair& p : pairs) {
    same += p.same_actor;
    EXPECT_GT(p.evidence[static_cast<int>(Family::kIndicator)], 0);
  }
  EXPECT_EQ(same, 2u);
  EXPECT_EQ(LabelledPairsFromIndex(*index, 10, 2).size(), 4u);  // a1 and b1 sampled
}

TEST(Calibration, FitRejectsOneSidedLabels) {
  std::vector<LabelledPair> pairs(3);
  EXPECT_EQ(Fit(pairs).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fit({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Features, WarninglistedAndDerivedIndicatorsMapToFamilies) {
  Incident inc = Inc("x");
  inc.indicators.push_back(Ind(IndicatorType::kUrl, "http://evil.com/gate.php"));
  inc.indicators.push_back(Ind(IndicatorType::kDomain, "evil.com", Derivation::kUrlHost));
  inc.indicators.push_back(Ind(IndicatorType::kCidr, "1.2.3.0/24", Derivation::kNetwork));
  inc.victim.sector = "Government";
  std::vector<Feature> fs = ExtractFeatures(inc, nullptr);
  auto has = [&](const std::string& key, Family f) {
    return std::any_of(fs.begin(), fs.end(),
                       [&](const Feature& x) { return x.key == key && x.family == f; });
  };
  EXPECT_TRUE(has("url:http://evil.com/gate.php", Family::kIndicator));
  // evil.com is its own registered domain: keyed "regdom:" whatever its role.
  EXPECT_TRUE(has("regdom:evil.com", Family::kInfrastructure));
  EXPECT_TRUE(has("net:1.2.3.0/24", Family::kInfrastructure));
  EXPECT_TRUE(has("sector:government", Family::kVictim));
  EXPECT_TRUE(has("ng:gate", Family::kNaming));
  EXPECT_TRUE(has("ng:ate$", Family::kNaming));   // the path ends at its stem
  EXPECT_FALSE(has("ng:.php", Family::kNaming));  // and ".php" says nothing of who named it
  EXPECT_FALSE(has("ng:php$", Family::kNaming));
}

// One C2 seen in different roles: a subdomain in one report, its registered domain in another, a
// sender's domain in a third; an address stated in one and the host of a URL in another. They
// share evidence. Before, "update.evil-cdn.com" and "evil-cdn.com" met only on naming n-grams
// (a registered domain was derived only when it differed from the domain), and a stated address
// never met the same address as a URL's host.
TEST(Features, OneHostInDifferentRolesSharesEvidence) {
  auto normalized = [](std::string id, std::vector<Indicator> indicators) {
    Incident inc = Inc(std::move(id));
    inc.indicators = std::move(indicators);
    std::vector<kinship::Diagnostic> diagnostics;
    kinship::normalize::NormalizeIncident(inc, &diagnostics);
    return inc;
  };
  auto keys = [](const Incident& inc) {
    std::vector<std::string> out;
    for (const Feature& f : ExtractFeatures(inc, nullptr)) {
      if (f.family == Family::kInfrastructure || f.family == Family::kIndicator) {
        out.push_back(f.key);
      }
    }
    return out;
  };
  using ::testing::Contains;
  using ::testing::Not;
  const Incident sub =
      normalized("sub", {Ind(IndicatorType::kDomain, "update.evil-cdn.com"),
                         Ind(IndicatorType::kUrl, "http://185.25.51.198/gate.php")});
  const Incident reg = normalized("reg", {Ind(IndicatorType::kDomain, "evil-cdn.com"),
                                          Ind(IndicatorType::kIpv4, "185.25.51.198")});
  const Incident mail = normalized("mail", {Ind(IndicatorType::kEmail, "hr@evil-cdn.com")});
  const Incident sub_mail =
      normalized("sub_mail", {Ind(IndicatorType::kEmail, "hr@mail.evil-cdn.com")});
  for (const Incident* inc : {&sub, &reg, &mail, &sub_mail}) {
    EXPECT_THAT(keys(*inc), Contains("regdom:evil-cdn.com")) << inc->id;
  }
  // A subdomain keeps its role; a registered domain is one key, whatever its role.
  EXPECT_THAT(keys(sub), Contains("host:update.evil-cdn.com"));
  EXPECT_THAT(keys(sub_mail), Contains("maildom:mail.evil-cdn.com"));
  EXPECT_THAT(keys(reg), Not(Contains("host:evil-cdn.com")));
  EXPECT_THAT(keys(mail), Not(Contains("maildom:evil-cdn.com")));
  // A URL's address is the address.
  EXPECT_THAT(keys(sub), Contains("ipv4:185.25.51.198"));
  EXPECT_THAT(keys(reg), Contains("ipv4:185.25.51.198"));
  // A known-benign registered domain gives no "regdom:", whatever host it comes from.
  Incident benign = Inc("benign");
  benign.indicators.push_back(Ind(IndicatorType::kDomain, "docs.example-cloud.com"));
  Indicator benign_reg =
      Ind(IndicatorType::kDomain, "example-cloud.com", Derivation::kRegisteredDomain);
  benign_reg.warninglists.push_back("cloud-providers");
  benign.indicators.push_back(benign_reg);
  EXPECT_THAT(keys(benign), Contains("host:docs.example-cloud.com"));
  EXPECT_THAT(keys(benign), Not(Contains("regdom:example-cloud.com")));
  // Through the index: the two reports share the registered domain and the address.
  SimilarityIndex index;  // with others around, so that what the two share is rare
  for (const Incident& b : Background(20)) ASSERT_TRUE(index.Add(b).ok());
  ASSERT_TRUE(index.Add(sub).ok());
  ASSERT_TRUE(index.Add(reg).ok());
  auto c = index.Compare("sub", "reg");
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(SharedFeatures(*c),
              ::testing::IsSupersetOf({"regdom:evil-cdn.com", "ipv4:185.25.51.198"}));
}

// A stated network meets the addresses inside it (APT1's report lists 58.246.0.0/15; a later
// note a C2 at 58.247.10.12), more weakly the wider it is; a network too wide to say anything
// adds nothing. Before, a stated CIDR was only its own exact value.
TEST(Features, StatedNetworkMeetsTheAddressesInside) {
  auto network_keys = [](const std::string& cidr) {
    Incident inc = Inc("n");
    inc.indicators.push_back(Ind(IndicatorType::kCidr, cidr));
    std::map<std::string, double> out;
    for (const Feature& f : ExtractFeatures(inc, nullptr)) {
      if (f.family == Family::kInfrastructure) out[f.key] = f.strength;
    }
    return out;
  };
  auto slash24 = network_keys("176.31.112.0/24");
  EXPECT_EQ(slash24, (std::map<std::string, double>{{"net:176.31.112.0/24", 1.0}}));
  EXPECT_EQ(network_keys("176.31.112.16/28"), slash24);
  auto slash15 = network_keys("58.246.0.0/15");
  ASSERT_EQ(slash15.size(), 512u);
  EXPECT_EQ(slash15.begin()->first, "net:58.246.0.0/24");
  EXPECT_EQ(slash15.rbegin()->first, "net:58.247.99.0/24");  // map order is textual
  ASSERT_TRUE(slash15.contains("net:58.247.255.0/24"));
  EXPECT_NEAR(slash15["net:58.247.10.0/24"], 1.0 / (1.0 + 9 / 4.0), 1e-9);
  EXPECT_NEAR(network_keys("10.8.0.0/20").begin()->second, 0.5, 1e-9);
  EXPECT_TRUE(network_keys("58.0.0.0/8").empty());
  auto v6 = network_keys("2001:db8:ab00::/40");
  ASSERT_EQ(v6.size(), 256u);
  EXPECT_TRUE(v6.contains("net:2001:db8:abff::/48"));
  EXPECT_EQ(network_keys("2001:db8:ab:1::/64"),
            (std::map<std::string, double>{{"net:2001:db8:ab::/48", 1.0}}));

  // Through the index: the note's address and the report's range share the /24.
  SimilarityIndex index;
  for (const Incident& b : Background(20)) ASSERT_TRUE(index.Add(b).ok());
  Incident report = Inc("report");
  report.indicators.push_back(Ind(IndicatorType::kCidr, "58.246.0.0/15"));
  Incident note = Inc("note");
  note.indicators.push_back(Ind(IndicatorType::kIpv4, "58.247.10.12"));
  note.indicators.push_back(Ind(IndicatorType::kCidr, "58.247.10.0/24", Derivation::kNetwork));
  ASSERT_TRUE(index.Add(report).ok());
  ASSERT_TRUE(index.Add(note).ok());
  auto c = index.Compare("note", "report");
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(SharedFeatures(*c), ::testing::Contains("net:58.247.10.0/24"));
  auto similar = index.Similar("note", 5);
  ASSERT_TRUE(similar.ok());
  ASSERT_FALSE(similar->empty());
  EXPECT_EQ(similar->front().id, "report");
}

TEST(Features, NamingSourcesNameTheValuesBehindANamingItem) {
  Incident inc = Inc("x");
  inc.indicators.push_back(Ind(IndicatorType::kFilename, "dllhost.dat"));
  inc.indicators.push_back(Ind(IndicatorType::kDomain, "host-update.net"));
  inc.indicators.push_back(Ind(IndicatorType::kDomain, "mail.example.com"));
  inc.indicators.push_back(Ind(IndicatorType::kFilename, "report.exe"));
  Indicator benign = Ind(IndicatorType::kDomain, "hostgator.com");
  benign.warninglists.push_back("alexa");
  inc.indicators.push_back(benign);
  // Every source really yields the feature it is listed for.
  auto features = ExtractFeatures(inc, nullptr, ScoringOptions{.max_naming_features = 1000});
  auto has = [&](const std::string& key) {
    return std::any_of(features.begin(), features.end(),
                       [&](const Feature& f) { return f.key == key; });
  };
  ASSERT_TRUE(has("ng:host"));
  EXPECT_THAT(NamingSources(inc, "ng:host"),
              ::testing::ElementsAre("dllhost.dat", "host-update.net"));  // not the benign one
  EXPECT_THAT(NamingSources(inc, "ng:^hos"), ::testing::ElementsAre("host-update.net"));
  EXPECT_THAT(NamingSources(inc, "ng:host", 1), ::testing::ElementsAre("dllhost.dat"));
  ASSERT_TRUE(has("tld:com"));
  EXPECT_THAT(NamingSources(inc, "tld:com"), ::testing::ElementsAre("mail.example.com"));
  // The extension is not part of the naming text, so nothing stands behind ".exe".
  EXPECT_FALSE(has("ng:.exe"));
  EXPECT_TRUE(NamingSources(inc, "ng:.exe").empty());
  EXPECT_TRUE(NamingSources(inc, "host:host-update.net").empty());  // not a naming feature
  // Prepared once for many features: a value stated twice counts once, and the total counts
  // every value behind the feature however few are listed.
  inc.indicators.push_back(Ind(IndicatorType::kDomain, "host-update.net"));
  inc.indicators.push_back(Ind(IndicatorType::kDomain, "ghost.org"));
  const NamingTexts texts(inc);
  size_t total = 0;
  EXPECT_THAT(texts.Sources("ng:host", 2, &total),
              ::testing::ElementsAre("dllhost.dat", "host-update.net"));
  EXPECT_EQ(total, 3u);  // dllhost.dat, host-update.net, ghost.org
  EXPECT_THAT(texts.Sources("tld:org", 5, &total), ::testing::ElementsAre("ghost.org"));
  EXPECT_EQ(total, 1u);
}

TEST(Features, PackedNamingTextsAnswerAsTheOriginal) {
  Incident inc = Inc("x");
  inc.indicators.push_back(Ind(IndicatorType::kFilename, "dllhost.dat"));
  inc.indicators.push_back(Ind(IndicatorType::kDomain, "host-update.net"));
  inc.indicators.push_back(Ind(IndicatorType::kUrl, "http://host-update.net/Get/Host.php?id=1"));
  inc.indicators.push_back(Ind(IndicatorType::kIpv4, "203.0.113.7"));        // no naming text
  inc.indicators.push_back(Ind(IndicatorType::kDomain, "host-update.net"));  // stated twice
  // A value longer than 127 bytes: its length takes two varint bytes.
  inc.indicators.push_back(
      Ind(IndicatorType::kUrl, "http://cdn.example.org/" + std::string(150, 'h') + "ost/x.js"));
  Indicator benign = Ind(IndicatorType::kDomain, "hostgator.com");
  benign.warninglists.push_back("alexa");
  inc.indicators.push_back(benign);
  const NamingTexts texts(inc);
  const std::string packed = texts.Pack();
  const std::optional<NamingTexts> back = NamingTexts::Unpack(packed);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->Pack(), packed);
  for (const char* feature : {"ng:host", "ng:^hos", "ng:/get", "ng:hhho", "tld:net", "tld:com",
                              "tld:org", "ng:t-up", "ng:nothing"}) {
    size_t total = 0, total_back = 0;
    EXPECT_EQ(back->Sources(feature, 10, &total_back), texts.Sources(feature, 10, &total))
        << feature;
    EXPECT_EQ(total_back, total) << feature;
  }
  size_t total = 0;
  EXPECT_EQ(back->Sources("ng:host", 10, &total).size(), 4u);  // not the benign one, once each
  EXPECT_EQ(total, 4u);
  // Bytes that end inside a value are refused, not read past.
  EXPECT_FALSE(NamingTexts::Unpack(packed.substr(0, packed.size() - 1)).has_value());
  EXPECT_FALSE(NamingTexts::Unpack(packed.substr(0, 2)).has_value());
  ASSERT_TRUE(NamingTexts::Unpack("").has_value());
  EXPECT_TRUE(NamingTexts::Unpack("")->Sources("ng:host", 10).empty());
}

TEST(Features, FileNameExtensionsAreNotNamingStyle) {
  Incident inc = Inc("x");
  inc.indicators.push_back(Ind(IndicatorType::kFilename, "XAPS_Objective.dll"));
  inc.indicators.push_back(Ind(IndicatorType::kFilename, "payload"));
  inc.indicators.push_back(Ind(IndicatorType::kUrl, "http://evil.com/in.dex/get?id=1.zip"));
  ScoringOptions options;
  options.max_naming_features = 1000;  // every n-gram, not the bottom-k sample
  std::vector<Feature> fs = ExtractFeatures(inc, nullptr, options);
  auto has = [&](const std::string& key) {
    return std::any_of(fs.begin(), fs.end(), [&](const Feature& x) { return x.key == key; });
  };
  EXPECT_TRUE(has("ng:^xap"));  // n-grams of 4, lower-cased, the name padded with ^ and $
  EXPECT_TRUE(has("ng:ive$"));
  EXPECT_FALSE(has("ng:.dll"));
  EXPECT_FALSE(has("ng:dll$"));
  EXPECT_TRUE(has("ng:oad$"));  // no extension: the whole name
  // A dot before the last '/' is not an extension, and a URL with a query is kept whole.
  EXPECT_TRUE(has("ng:in.d"));
  EXPECT_TRUE(has("ng:.zip"));
}

TEST(Features, FileNameDirectoriesAreNotNamingStyle) {
  Incident inc = Inc("x");
  inc.indicators.push_back(
      Ind(IndicatorType::kFilename, "%PROGRAMFILES%\\(x86)\\Google\\Chrome\\dwmapi.dll"));
  inc.indicators.push_back(Ind(IndicatorType::kFilename, "~/Library/PlugIns/snippets.ecgML"));
  inc.indicators.push_back(Ind(IndicatorType::kFilename, "%ALLUSERSPROFILE%\\NetCache\\"));
  ScoringOptions options;
  options.max_naming_features = 1000;
  std::vector<Feature> fs = ExtractFeatures(inc, nullptr, options);
  std::vector<std::string> grams;
  for (const Feature& f : fs) {
    if (f.key.starts_with("ng:")) grams.push_back(f.key);
  }
  std::sort(grams.begin(), grams.end());
  // Only the files' own names: "dwmapi", "snippets", and the last directory of a path that ends
  // in a separator. Nothing of "Program Files", "Google", "Library" or "PlugIns".
  EXPECT_EQ(grams, (std::vector<std::string>{"ng:^dwm", "ng:^net", "ng:^sni", "ng:ache", "ng:api$",
                                             "ng:cach", "ng:che$", "ng:dwma", "ng:etca", "ng:ets$",
                                             "ng:ippe", "ng:mapi", "ng:netc", "ng:nipp", "ng:pets",
                                             "ng:ppet", "ng:snip", "ng:tcac", "ng:wmap"}));
}

}  // namespace
}  // namespace kinship::score
