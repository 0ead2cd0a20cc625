// Fuzzy hashes as a scored family of the similarity engine: near TLSH / ssdeep digests of two
// incidents become kFuzzy evidence weighted by closeness and rarity, with the distance or score in
// the explanation, found by Similar and carried into attribution's neighbours.
#include <fuzzy.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kinship/attribution.h"
#include "kinship/fuzzy.h"
#include "kinship/similarity.h"
#include "testing/incidents.h"

namespace kinship::score {
namespace {

using ::kinship::testing::Ind;

Incident Inc(std::string id, std::vector<Indicator> indicators = {}) {
  Incident inc;
  inc.id = std::move(id);
  inc.indicators = std::move(indicators);
  return inc;
}

TlshDigest RandomTlsh(std::mt19937_64& rng) {
  std::string hex;
  for (int i = 0; i < 70; ++i) hex.push_back("0123456789ABCDEF"[rng() % 16]);
  return *ParseTlsh(hex);
}

// A digest near `base`: `edits` body codes changed.
TlshDigest MutateTlsh(const TlshDigest& base, std::mt19937_64& rng, int edits) {
  std::string hex = base.ToLegacyString();
  for (int e = 0; e < edits; ++e) hex[6 + rng() % 64] = "0123456789ABCDEF"[rng() % 16];
  return *ParseTlsh(hex);
}

std::string SsdeepOf(const std::string& buffer) {
  char out[FUZZY_MAX_RESULT];
  EXPECT_EQ(fuzzy_hash_buf(reinterpret_cast<const unsigned char*>(buffer.data()),
                           static_cast<uint32_t>(buffer.size()), out),
            0);
  return out;
}

std::string RandomText(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(32 + rng() % 64);
  return s;
}

// Background incidents with an IP and a TLSH digest each, far from everything (random digests
// are ~hundreds apart), so that N is large enough for rarity to mean something.
std::vector<Incident> Background(std::mt19937_64& rng, int n) {
  std::vector<Incident> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(Inc(absl::StrCat("bg", i),
                      {Ind(IndicatorType::kIpv4, absl::StrCat("10.1.", i / 200, ".", i % 200)),
                       Ind(IndicatorType::kTlsh, RandomTlsh(rng).ToString())}));
  }
  return out;
}

const FamilyEvidence* FindFamily(const Comparison& c, Family f) {
  for (const FamilyEvidence& fe : c.explanation.families) {
    if (fe.family == f) return &fe;
  }
  return nullptr;
}

TEST(FuzzySimilarity, NearTlshIsFuzzyEvidenceWithTheDistanceExplained) {
  std::mt19937_64 rng(11);
  std::vector<Incident> corpus = Background(rng, 50);
  const TlshDigest x = RandomTlsh(rng);
  const TlshDigest y = MutateTlsh(x, rng, 3);
  TlshDigest far = MutateTlsh(x, rng, 40);
  const int d = TlshDistance(x, y);
  const int d_far = TlshDistance(x, far);
  ASSERT_GT(d, 0);
  ASSERT_LE(d, 30);
  ASSERT_GT(d_far, 30);
  corpus.push_back(Inc("a", {Ind(IndicatorType::kTlsh, x.ToString())}));
  Incident b = Inc("b", {Ind(IndicatorType::kTlsh, y.ToString())});
  b.attributions.push_back({"APT28", "G0007", -1, "test"});
  corpus.push_back(b);
  corpus.push_back(Inc("far", {Ind(IndicatorType::kTlsh, far.ToString())}));
  ScoringOptions options;
  options.fuzzy_tlsh_max_distance = 30;
  auto index = SimilarityIndex::Build(corpus, nullptr, options);
  ASSERT_TRUE(index.ok()) << index.status();

  auto ab = index->Compare("a", "b");
  ASSERT_TRUE(ab.ok());
  const FamilyEvidence* fz = FindFamily(*ab, Family::kFuzzy);
  ASSERT_NE(fz, nullptr) << ab->explanation.ToString();
  EXPECT_GT(ab->evidence[static_cast<int>(Family::kFuzzy)], 0);
  EXPECT_GT(ab->raw, 0);
  ASSERT_EQ(fz->items.size(), 1u);
  EXPECT_EQ(fz->items[0].feature,
            absl::StrCat("tlsh:", x.ToString(), " ~ ", y.ToString(), " (distance ", d, ")"));
  EXPECT_EQ(fz->items[0].df, 2u);  // a and b hold files within distance d of each other
  // Closeness times rarity before saturation.
  EXPECT_NEAR(fz->items[0].idf, TlshCloseness(d) * std::log(53.0 / 2.0), 1e-9);
  EXPECT_NEAR(fz->items[0].weight, fz->weight, 1e-12);
  // Nothing else is shared, so fuzzy is the only family.
  EXPECT_EQ(ab->explanation.families.size(), 1u);
  // Symmetric, with b's digest first from b's side.
  auto ba = index->Compare("b", "a");
  ASSERT_TRUE(ba.ok());
  EXPECT_NEAR(ba->raw, ab->raw, 1e-12);
  EXPECT_EQ(FindFamily(*ba, Family::kFuzzy)->items[0].feature,
            absl::StrCat("tlsh:", y.ToString(), " ~ ", x.ToString(), " (distance ", d, ")"));

  // Beyond the radius: nothing at all.
  auto afar = index->Compare("a", "far");
  ASSERT_TRUE(afar.ok());
  EXPECT_EQ(afar->raw, 0);
  EXPECT_EQ(FindFamily(*afar, Family::kFuzzy), nullptr);

  // Similar finds b through the near file alone (no posting is shared), and not `far`.
  auto top = index->Similar("a", 5);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].id, "b");
  EXPECT_NEAR((*top)[0].comparison.raw, ab->raw, 1e-12);

  // Attribution sees the fuzzy evidence through the similarity engine.
  std::vector<attrib::Neighbour> nb = attrib::SimilarNeighbours(*index, corpus[50], 3);
  ASSERT_EQ(nb.size(), 1u);
  EXPECT_EQ(nb[0].actor_id, "G0007");
  ASSERT_FALSE(nb[0].shared.empty());
  EXPECT_EQ(nb[0].shared[0].family, attrib::Family::kContext);
  EXPECT_NE(nb[0].shared[0].feature.find(absl::StrCat("(distance ", d, ")")), std::string::npos);
  EXPECT_EQ(nb[0].shared[0].via, "b");

  // A wider radius takes `far` in, with less weight than b.
  options.fuzzy_tlsh_max_distance = std::max(100, d_far);
  auto wide = SimilarityIndex::Build(corpus, nullptr, options);
  ASSERT_TRUE(wide.ok());
  auto wide_far = wide->Compare("a", "far");
  ASSERT_TRUE(wide_far.ok());
  ASSERT_NE(FindFamily(*wide_far, Family::kFuzzy), nullptr);
  EXPECT_LT(wide_far->raw, wide->Compare("a", "b")->raw);
}

TEST(FuzzySimilarity, IdenticalDigestIsExactEvidenceOnly) {
  std::mt19937_64 rng(12);
  std::vector<Incident> corpus = Background(rng, 30);
  const TlshDigest x = RandomTlsh(rng);
  const TlshDigest y = MutateTlsh(x, rng, 2);
  corpus.push_back(Inc("a", {Ind(IndicatorType::kTlsh, x.ToString())}));
  // c holds x itself and a near variant: x is exact evidence; the variant has nothing of a's
  // left to pair with (x is shared), so no fuzzy evidence is added on top.
  corpus.push_back(
      Inc("c", {Ind(IndicatorType::kTlsh, x.ToString()), Ind(IndicatorType::kTlsh, y.ToString())}));
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  auto ac = index->Compare("a", "c");
  ASSERT_TRUE(ac.ok());
  const FamilyEvidence* ind = FindFamily(*ac, Family::kIndicator);
  ASSERT_NE(ind, nullptr);
  EXPECT_EQ(ind->items[0].feature, "tlsh:" + x.ToString());
  EXPECT_EQ(FindFamily(*ac, Family::kFuzzy), nullptr) << ac->explanation.ToString();
}

TEST(FuzzySimilarity, NearSsdeepIsFuzzyEvidenceWithTheScoreExplained) {
  std::mt19937_64 rng(13);
  std::vector<Incident> corpus = Background(rng, 40);
  std::string text = RandomText(rng, 20000);
  const std::string s1 = SsdeepOf(text);
  text.insert(7000, RandomText(rng, 600));
  const std::string s2 = SsdeepOf(text);
  const std::string other = SsdeepOf(RandomText(rng, 20000));
  auto score = SsdeepCompare(s1, s2);
  ASSERT_TRUE(score.ok());
  ASSERT_GT(*score, 0);
  ASSERT_LT(*score, 100);
  ASSERT_EQ(*SsdeepCompare(s1, other), 0);
  corpus.push_back(Inc("a", {Ind(IndicatorType::kSsdeep, s1)}));
  corpus.push_back(Inc("b", {Ind(IndicatorType::kSsdeep, s2)}));
  corpus.push_back(Inc("o", {Ind(IndicatorType::kSsdeep, other)}));
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  auto ab = index->Compare("a", "b");
  ASSERT_TRUE(ab.ok());
  const FamilyEvidence* fz = FindFamily(*ab, Family::kFuzzy);
  ASSERT_NE(fz, nullptr);
  ASSERT_EQ(fz->items.size(), 1u);
  EXPECT_EQ(fz->items[0].feature, absl::StrCat("ssdeep:", s1, " ~ ", s2, " (score ", *score, ")"));
  EXPECT_NEAR(fz->items[0].idf, SsdeepCloseness(*score) * std::log(43.0 / 2.0), 1e-9);
  EXPECT_EQ(index->Compare("a", "o")->raw, 0);
  auto top = index->Similar("a", 5);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].id, "b");

  // Above the pair's score, nothing.
  ScoringOptions strict;
  strict.fuzzy_ssdeep_min_score = *score + 1;
  auto strict_index = SimilarityIndex::Build(corpus, nullptr, strict);
  ASSERT_TRUE(strict_index.ok());
  EXPECT_EQ(strict_index->Compare("a", "b")->raw, 0);
  EXPECT_TRUE(strict_index->Similar("a", 5)->empty());
}

// A file near many incidents' files (a common packer stub, say) says less than a rare one.
TEST(FuzzySimilarity, CrowdedNeighbourhoodWeighsLess) {
  std::mt19937_64 rng(14);
  const TlshDigest x = RandomTlsh(rng);
  const TlshDigest y = MutateTlsh(x, rng, 2);
  const int d = TlshDistance(x, y);
  ASSERT_GT(d, 0);
  std::vector<Incident> corpus = Background(rng, 60);
  corpus.push_back(Inc("a", {Ind(IndicatorType::kTlsh, x.ToString())}));
  corpus.push_back(Inc("b", {Ind(IndicatorType::kTlsh, y.ToString())}));
  auto rare = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(rare.ok());
  // Ten more incidents with files at least as near to x as y is.
  int crowd = 0;
  for (int i = 0; crowd < 10 && i < 10000; ++i) {
    TlshDigest z = MutateTlsh(x, rng, 1);
    if (z == x || TlshDistance(x, z) > d) continue;
    corpus.push_back(
        Inc(absl::StrCat("crowd", crowd++), {Ind(IndicatorType::kTlsh, z.ToString())}));
  }
  ASSERT_EQ(crowd, 10);
  auto crowded = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(crowded.ok());
  auto r = rare->Compare("a", "b");
  auto c = crowded->Compare("a", "b");
  ASSERT_TRUE(r.ok() && c.ok());
  const FamilyEvidence* rf = FindFamily(*r, Family::kFuzzy);
  const FamilyEvidence* cf = FindFamily(*c, Family::kFuzzy);
  ASSERT_NE(rf, nullptr);
  ASSERT_NE(cf, nullptr);
  EXPECT_GE(cf->items[0].df, 12u);
  EXPECT_LT(c->evidence[static_cast<int>(Family::kFuzzy)],
            r->evidence[static_cast<int>(Family::kFuzzy)]);
}

// Random corpus with TLSH and ssdeep families of files: Similar (postings + near files) equals
// Compare against every incident, and Compare is symmetric.
TEST(FuzzySimilarity, SimilarMatchesBruteForceCompareWithFuzzyDigests) {
  const uint64_t seed = 20261128;
  std::mt19937_64 rng(seed);
  std::vector<TlshDigest> tlsh_bases;
  for (int i = 0; i < 12; ++i) tlsh_bases.push_back(RandomTlsh(rng));
  std::vector<std::string> texts;
  for (int i = 0; i < 6; ++i) texts.push_back(RandomText(rng, 8000 + rng() % 8000));
  std::vector<Incident> corpus;
  const int n = 150;
  for (int i = 0; i < n; ++i) {
    Incident inc = Inc(absl::StrCat("inc", i));
    int k = 1 + rng() % 4;
    for (int j = 0; j < k; ++j) {
      switch (rng() % 3) {
        case 0:
          inc.indicators.push_back(
              Ind(IndicatorType::kTlsh,
                  MutateTlsh(tlsh_bases[rng() % tlsh_bases.size()], rng, rng() % 20).ToString()));
          break;
        case 1: {
          std::string t = texts[rng() % texts.size()];
          t.insert(rng() % t.size(), RandomText(rng, rng() % 2000));
          inc.indicators.push_back(Ind(IndicatorType::kSsdeep, SsdeepOf(t)));
          break;
        }
        default:
          inc.indicators.push_back(Ind(IndicatorType::kIpv4, absl::StrCat("5.6.7.", rng() % 60)));
      }
    }
    corpus.push_back(std::move(inc));
  }
  auto index = SimilarityIndex::Build(corpus);
  ASSERT_TRUE(index.ok());
  const size_t top_k = 8;
  size_t fuzzy_hits = 0;
  for (int q = 0; q < n; q += 5) {
    const std::string qid = corpus[q].id;
    std::vector<std::pair<double, std::string>> brute;
    for (const Incident& other : corpus) {
      if (other.id == qid) continue;
      auto c = index->Compare(qid, other.id);
      ASSERT_TRUE(c.ok());
      auto back = index->Compare(other.id, qid);
      ASSERT_TRUE(back.ok());
      EXPECT_NEAR(c->raw, back->raw, 1e-9) << qid << " vs " << other.id;
      if (c->evidence[static_cast<int>(Family::kFuzzy)] > 0) ++fuzzy_hits;
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
      EXPECT_NEAR((*got)[i].comparison.raw, brute[i].first, 1e-9)
          << "seed " << seed << " query " << qid << " rank " << i;
    }
    std::vector<Match> by_object = index->Similar(corpus[q], top_k);
    ASSERT_EQ(by_object.size(), got->size());
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_NEAR(by_object[i].comparison.raw, (*got)[i].comparison.raw, 1e-9);
    }
  }
  EXPECT_GT(fuzzy_hits, 50u);  // the corpus does exercise the fuzzy family

  // With only 2 near files retrieved per digest, the neighbourhoods Similar keeps are partial:
  // the scores it returns must still be Compare's, in order.
  ScoringOptions narrow;
  narrow.fuzzy_max_neighbours = 2;
  auto narrow_index = SimilarityIndex::Build(corpus, nullptr, narrow);
  ASSERT_TRUE(narrow_index.ok());
  for (int q = 0; q < n; q += 5) {
    auto got = narrow_index->Similar(corpus[q].id, top_k);
    ASSERT_TRUE(got.ok());
    for (size_t i = 0; i < got->size(); ++i) {
      auto c = narrow_index->Compare(corpus[q].id, (*got)[i].id);
      ASSERT_TRUE(c.ok());
      EXPECT_NEAR((*got)[i].comparison.raw, c->raw, 1e-9) << corpus[q].id << " " << (*got)[i].id;
      if (i > 0) {
        EXPECT_GE((*got)[i - 1].comparison.raw, (*got)[i].comparison.raw);
      }
    }
  }
}

}  // namespace
}  // namespace kinship::score
