// Unit tests for the TLSH and ssdeep core: parsers, distances against the libtlsh / libfuzzy
// oracles, and both indexes against brute force on generated digests.
#include "kinship/fuzzy.h"

#include <fuzzy.h>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "index/tlsh_distance.h"
#include "index/tlsh_libtlsh.h"
#include "testing/data.h"

namespace kinship {
namespace {

constexpr int kScale = kinship::testing::kAddressSanitizer ? 4 : 1;

constexpr char kA[] = "T1C9A4C0203AEA8019F1B3BFB98ED575968B6EB7733607D85E2091038A4613FC1DD8157E";

TlshDigest RandomDigest(std::mt19937_64& rng) {
  std::string hex;
  const char* h = "0123456789ABCDEF";
  for (int i = 0; i < 70; ++i) hex.push_back(h[rng() % 16]);
  return *ParseTlsh(hex);
}

// A digest near `base`: a few body codes and header fields nudged.
TlshDigest Mutate(const TlshDigest& base, std::mt19937_64& rng, int edits) {
  std::string hex = base.ToLegacyString();
  const char* h = "0123456789ABCDEF";
  for (int e = 0; e < edits; ++e) {
    size_t pos = rng() % 100 < 10 ? rng() % 6 : 6 + rng() % 64;
    hex[pos] = h[rng() % 16];
  }
  return *ParseTlsh(hex);
}

std::vector<TlshDigest> GeneratedDigests(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<TlshDigest> out;
  std::vector<TlshDigest> bases;
  for (int i = 0; i < n / 20 + 1; ++i) bases.push_back(RandomDigest(rng));
  while (static_cast<int>(out.size()) < n) {
    const TlshDigest& b = bases[rng() % bases.size()];
    out.push_back(rng() % 4 == 0 ? b : Mutate(b, rng, 1 + rng() % 12));
  }
  return out;
}

TEST(ParseTlsh, AcceptsBothFormsAndRoundTrips) {
  auto a = ParseTlsh(kA);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->ToString(), kA);
  auto legacy = ParseTlsh(std::string(kA).substr(2));
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(*legacy, *a);
  std::string lower(kA);
  std::transform(lower.begin() + 2, lower.end(), lower.begin() + 2, ::tolower);
  EXPECT_EQ(*ParseTlsh(lower), *a);
  EXPECT_EQ(a->checksum(), 0xC9);
  EXPECT_EQ(a->lvalue(), 0x4A);  // hex "A4" is the nibble-swapped length byte
  EXPECT_EQ(a->q1(), 0xC);
  EXPECT_EQ(a->q2(), 0x0);
  static_assert(sizeof(TlshDigest) == 35);
}

TEST(ParseTlsh, RejectsMalformedDigests) {
  std::string good(kA);
  for (const std::string& bad :
       {std::string(""), std::string("TNULL"), good.substr(0, 71), good + "0",
        "T2" + good.substr(2), good.substr(0, 10) + "G" + good.substr(11), " " + good.substr(1),
        good.substr(2, 69)}) {
    auto r = ParseTlsh(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(TlshDistance, MatchesLibtlshOnRandomAndNearDigests) {
  const uint64_t seed = 20261128;
  std::mt19937_64 rng(seed);
  std::vector<TlshDigest> ds = GeneratedDigests(seed, 400 / kScale);
  for (int i = 0; i < 100; ++i) ds.push_back(RandomDigest(rng));
  for (size_t i = 0; i < ds.size(); i += 3) {
    for (size_t j = 0; j < ds.size(); j += 2) {
      for (bool len : {true, false}) {
        auto oracle =
            internal::LibTlshDistance(ds[i].ToLegacyString(), ds[j].ToLegacyString(), len);
        ASSERT_TRUE(oracle.ok());
        ASSERT_EQ(TlshDistance(ds[i], ds[j], len), *oracle)
            << "seed " << seed << " " << ds[i].ToString() << " " << ds[j].ToString();
      }
    }
  }
}

// The distance runs the clone of the body kernel this CPU supports (POPCNT on any machine CI
// runs on); the plain build, what a CPU without POPCNT runs, must count the same.
TEST(TlshDistance, PlainBodyKernelCountsAsTheDispatchedOne) {
  const uint64_t seed = 5;
  std::vector<TlshDigest> ds = GeneratedDigests(seed, 200);
  for (const auto& a : ds) {
    for (size_t k = 0; k < ds.size(); k += 3) {
      const uint8_t* x = a.bytes().data() + 3;
      const uint8_t* y = ds[k].bytes().data() + 3;
      auto fast = internal::TlshBodyCountsFast(x, y);
      auto plain = internal::TlshBodyCountsGeneric(x, y);
      ASSERT_EQ(fast.one, plain.one) << "seed " << seed;
      ASSERT_EQ(fast.two, plain.two) << "seed " << seed;
      ASSERT_EQ(fast.three, plain.three) << "seed " << seed;
    }
  }
  // Two codes differing by 3 (00 against 11) and one by 1, and nothing else.
  std::array<uint8_t, 32> zero{}, other{};
  other[0] = 0b00000111;
  auto c = internal::TlshBodyCountsGeneric(zero.data(), other.data());
  EXPECT_EQ(c.one, 1);
  EXPECT_EQ(c.two, 0);
  EXPECT_EQ(c.three, 1);
}

TEST(TlshDistance, BoundIsAMetricBelowTheDistance) {
  const uint64_t seed = 77;
  std::vector<TlshDigest> ds = GeneratedDigests(seed, 120);
  for (const auto& a : ds) {
    for (const auto& b : ds) {
      auto ab = internal::TlshDistancePair(a, b, true);
      ASSERT_LE(ab.bound, ab.full) << "seed " << seed;
      ASSERT_EQ(ab.bound, internal::TlshDistancePair(b, a, true).bound);
      for (size_t k = 0; k < ds.size(); k += 7) {
        int ac = internal::TlshDistancePair(a, ds[k], true).bound;
        int cb = internal::TlshDistancePair(ds[k], b, true).bound;
        ASSERT_LE(ab.bound, ac + cb) << "triangle, seed " << seed;
      }
    }
  }
}

TEST(TlshDistance, TextOverloadReportsBadInput) {
  EXPECT_EQ(*TlshDistance(kA, kA), 0);
  EXPECT_EQ(TlshDistance(kA, "nope").status().code(), absl::StatusCode::kInvalidArgument);
}

std::vector<TlshNeighbour> BruteRadius(const std::vector<TlshDigest>& ds, const TlshDigest& q,
                                       int r) {
  std::vector<TlshNeighbour> out;
  for (size_t i = 0; i < ds.size(); ++i) {
    int d = TlshDistance(q, ds[i]);
    if (d <= r) out.push_back({static_cast<uint32_t>(i), d});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.distance < b.distance; });
  return out;
}

TEST(TlshIndex, RadiusAndTopKEqualBruteForce) {
  for (bool compact : {false, true}) {
    const uint64_t seed = 4242 + compact;
    std::vector<TlshDigest> ds = GeneratedDigests(seed, 6000 / kScale);
    TlshIndex index;
    for (size_t i = 0; i < ds.size(); ++i) index.Add(ds[i], static_cast<uint32_t>(i));
    if (compact) index.Compact();
    ASSERT_EQ(index.size(), ds.size());
    std::mt19937_64 rng(seed);
    for (int t = 0; t < 60 / kScale; ++t) {
      TlshDigest q = Mutate(ds[rng() % ds.size()], rng, rng() % 8);
      for (int r : {0, 10, 30, 60, 100}) {
        ASSERT_EQ(index.Radius(q, r), BruteRadius(ds, q, r))
            << "seed " << seed << " radius " << r << " query " << q.ToString();
      }
      auto all = BruteRadius(ds, q, 1 << 20);
      all.resize(10);
      ASSERT_EQ(index.TopK(q, 10), all) << "seed " << seed << " query " << q.ToString();
    }
  }
}

// Many digests sharing one header (length and Q ratios) land in one group, so the group's
// vantage-point forest (not only its linear tail) is exercised, with and without Compact.
TEST(TlshIndex, OneCrowdedHeaderGroupEqualsBruteForce) {
  for (bool compact : {false, true}) {
    const uint64_t seed = 99 + compact;
    std::mt19937_64 rng(seed);
    std::string header = RandomDigest(rng).ToLegacyString().substr(0, 6);
    std::vector<TlshDigest> bases;
    for (int i = 0; i < 20; ++i) {
      bases.push_back(*ParseTlsh(header + RandomDigest(rng).ToLegacyString().substr(6)));
    }
    std::vector<TlshDigest> ds;
    const char* h = "0123456789ABCDEF";
    for (int i = 0; i < 3000 / kScale; ++i) {
      std::string hex = bases[rng() % bases.size()].ToLegacyString();
      for (int e = static_cast<int>(rng() % 20); e > 0; --e) hex[6 + rng() % 64] = h[rng() % 16];
      ds.push_back(*ParseTlsh(hex));
    }
    TlshIndex index;
    for (size_t i = 0; i < ds.size(); ++i) index.Add(ds[i], static_cast<uint32_t>(i));
    if (compact) index.Compact();
    for (int t = 0; t < 40 / kScale; ++t) {
      TlshDigest q = Mutate(ds[rng() % ds.size()], rng, static_cast<int>(rng() % 10));
      for (int r : {0, 30, 100}) {
        ASSERT_EQ(index.Radius(q, r), BruteRadius(ds, q, r)) << "seed " << seed << " r " << r;
      }
      auto all = BruteRadius(ds, q, 1 << 20);
      all.resize(10);
      ASSERT_EQ(index.TopK(q, 10), all) << "seed " << seed;
    }
  }
}

TEST(TlshIndex, EmptyIndexAndDegenerateArguments) {
  TlshIndex index;
  TlshDigest q = *ParseTlsh(kA);
  EXPECT_TRUE(index.Radius(q, 30).empty());
  index.Add(q, 9);
  EXPECT_EQ(index.Radius(q, 0), (std::vector<TlshNeighbour>{{9, 0}}));
  EXPECT_TRUE(index.Radius(q, -1).empty());
  EXPECT_TRUE(index.TopK(q, 0).empty());
}

// ----- ssdeep -----

TEST(Ssdeep, ValidateAcceptsRealDigestsAndRejectsJunk) {
  EXPECT_TRUE(ValidateSsdeep("3::").ok());
  EXPECT_TRUE(ValidateSsdeep("96:Ss5XqX0ygfG1Ut7Ep8JeW9aTnvyTR:Ss5au0yyG1Ut7EpGeW9aTnvyV").ok());
  for (const char* bad : {"", "3", "3:abc", "0:abc:def", "03:abc:def", "-3:abc:def", "x:a:b",
                          "3:ab!:cd", "3:abc:def,\"file\"", " 3:abc:def"}) {
    EXPECT_EQ(ValidateSsdeep(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateSsdeep("3:" + std::string(65, 'a') + ":b").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Ssdeep, CompareScoresIdenticalAndIncompatibleBlockSizes) {
  const char* d = "96:Ss5XqX0ygfG1Ut7Ep8JeW9aTnvyTR:Ss5au0yyG1Ut7EpGeW9aTnvyV";
  EXPECT_EQ(*SsdeepCompare(d, d), 100);
  EXPECT_EQ(*SsdeepCompare(d, "384:Ss5XqX0ygfG1Ut7Ep8JeW9aTnvyTR:Ss5au0yyG1Ut7EpGeW9aTnvyV"), 0);
  EXPECT_EQ(SsdeepCompare(d, "bad").status().code(), absl::StatusCode::kInvalidArgument);
}

std::string RandomBuffer(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() % 64 + 32);  // text-like
  return s;
}

// Real ssdeep digests (libfuzzy) of random buffers and edited copies, so that pairs share
// substrings at equal and 2x block sizes; plus short synthetic digests with long runs.
std::vector<std::string> GeneratedSsdeep(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> bases, out;
  for (int i = 0; i < n / 10 + 1; ++i) bases.push_back(RandomBuffer(rng, 2000 + rng() % 30000));
  char buf[FUZZY_MAX_RESULT];
  while (static_cast<int>(out.size()) < n) {
    std::string b = bases[rng() % bases.size()];
    int op = rng() % 4;
    if (op == 1) b.insert(rng() % b.size(), RandomBuffer(rng, rng() % 3000));
    if (op == 2) b.erase(rng() % b.size(), rng() % 4000);
    if (op == 3) b += b.substr(0, b.size() / (1 + rng() % 3));
    if (rng() % 16 == 0) {
      std::string s = std::to_string(3 << (rng() % 3)) + ":";
      for (int k = 0; k < 2; ++k) {
        int len = rng() % 12;
        for (int j = 0; j < len; ++j) s.push_back("AAAAB"[rng() % 5]);
        if (k == 0) s += ":";
      }
      out.push_back(s);
      continue;
    }
    if (fuzzy_hash_buf(reinterpret_cast<const unsigned char*>(b.data()),
                       static_cast<uint32_t>(b.size()), buf) == 0) {
      out.push_back(buf);
    }
  }
  return out;
}

TEST(SsdeepIndex, QueryEqualsBruteForceNonZeroScores) {
  const uint64_t seed = 9001;
  std::vector<std::string> ds = GeneratedSsdeep(seed, 1500 / kScale);
  SsdeepIndex index;
  for (size_t i = 0; i < ds.size(); ++i) {
    ASSERT_TRUE(index.Add(ds[i], static_cast<uint32_t>(i)).ok()) << ds[i];
  }
  size_t nonzero_pairs = 0;
  for (size_t i = 0; i < ds.size(); i += 2) {
    for (int min_score : {1, 50}) {
      std::vector<SsdeepMatch> brute;
      for (size_t j = 0; j < ds.size(); ++j) {
        int s = fuzzy_compare(ds[i].c_str(), ds[j].c_str());
        if (s >= min_score) brute.push_back({static_cast<uint32_t>(j), s});
      }
      std::stable_sort(brute.begin(), brute.end(),
                       [](const auto& a, const auto& b) { return a.score > b.score; });
      if (min_score == 1) nonzero_pairs += brute.size();
      auto got = index.Query(ds[i], min_score);
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(*got, brute) << "seed " << seed << " query " << ds[i];
    }
  }
  // The generator must produce real work: many more non-zero pairs than self-matches.
  EXPECT_GT(nonzero_pairs, 3 * ds.size() / 2) << "seed " << seed;
  // The postings above sat partly in the sorted array, partly among the recent ones (the
  // index merges every 64 Ki postings at this size); after Compact all are sorted: same answers.
  std::vector<std::vector<SsdeepMatch>> before;
  for (size_t i = 0; i < ds.size(); i += 7) before.push_back(*index.Query(ds[i], 1));
  index.Compact();
  index.Compact();  // idempotent
  EXPECT_EQ(index.size(), ds.size());
  for (size_t i = 0, k = 0; i < ds.size(); i += 7, ++k) {
    ASSERT_EQ(*index.Query(ds[i], 1), before[k]) << "query " << ds[i];
  }
}

TEST(SsdeepIndex, RejectsBadInput) {
  SsdeepIndex index;
  EXPECT_EQ(index.Add("nope", 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Query("3::", 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Query("3:x!:", 1).status().code(), absl::StatusCode::kInvalidArgument);
}

// Brute-force reference for one HAC-T invariant: every cluster's members lie within
// 2 * radius of each other (radius around a centre), and two digests at distance 0 always end
// up together unless one's cluster was full.
TEST(ClusterTlsh, SeparatesFarGroupsAndJoinsNearCopies) {
  const uint64_t seed = 77;
  std::mt19937_64 rng(seed);
  std::vector<TlshDigest> bases;
  for (int i = 0; i < 6; ++i) bases.push_back(RandomDigest(rng));
  std::vector<TlshDigest> ds;
  std::vector<int> truth;
  for (int i = 0; i < 300; ++i) {
    int b = static_cast<int>(rng() % bases.size());
    ds.push_back(Mutate(bases[b], rng, 1 + static_cast<int>(rng() % 3)));
    truth.push_back(b);
  }
  auto c = ClusterTlsh(ds, {.radius = 30});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->cluster.size(), ds.size());
  // Random bases are ~200 apart: no cluster mixes two bases.
  std::vector<int> base_of(ds.size(), -1);
  for (size_t i = 0; i < ds.size(); ++i) {
    int& b = base_of[c->cluster[i]];
    if (b < 0) b = truth[i];
    EXPECT_EQ(b, truth[i]) << "seed " << seed << " item " << i;
  }
  // Every pair in a cluster is within 2 * radius (the radius is measured from a centre).
  for (size_t i = 0; i < ds.size(); ++i) {
    for (size_t j = i + 1; j < ds.size(); ++j) {
      if (c->cluster[i] == c->cluster[j]) {
        EXPECT_LE(TlshDistance(ds[i], ds[j]), 60);
      }
    }
  }
  EXPECT_LE(c->clusters, 30u) << "seed " << seed;  // near copies do merge
  EXPECT_GE(c->clusters, 6u);
  // Ids are numbered in order of first member.
  EXPECT_EQ(c->cluster[0], 0u);
}

TEST(ClusterTlsh, EmptyInputAndBadRadius) {
  auto c = ClusterTlsh({}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->clusters, 0u);
  EXPECT_EQ(ClusterTlsh({}, {.radius = -1}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EvaluateClustering, PurityAndAdjustedRandOnKnownCases) {
  auto perfect = EvaluateClustering({"a", "a", "b", "b"}, {0, 0, 1, 1});
  ASSERT_TRUE(perfect.ok());
  EXPECT_DOUBLE_EQ(perfect->purity, 1.0);
  EXPECT_DOUBLE_EQ(perfect->ari, 1.0);
  EXPECT_DOUBLE_EQ(perfect->coverage, 1.0);
  // One cluster of everything: purity 0.5, ARI 0.
  auto lumped = EvaluateClustering({"a", "a", "b", "b"}, {0, 0, 0, 0});
  ASSERT_TRUE(lumped.ok());
  EXPECT_DOUBLE_EQ(lumped->purity, 0.5);
  EXPECT_NEAR(lumped->ari, 0.0, 1e-12);
  // Textbook example: labels {a,a,a,b,b,b}, clusters {0,0,1,1,2,2}: ARI = 0.24242...
  auto mixed = EvaluateClustering({"a", "a", "a", "b", "b", "b"}, {0, 0, 1, 1, 2, 2});
  ASSERT_TRUE(mixed.ok());
  EXPECT_NEAR(mixed->ari, 0.242424, 1e-5);
  EXPECT_NEAR(mixed->purity, 5.0 / 6.0, 1e-12);
  EXPECT_EQ(mixed->clusters, 3u);
  EXPECT_EQ(EvaluateClustering({"a"}, {0, 1}).status().code(), absl::StatusCode::kInvalidArgument);
}

Incident FuzzyIncident(std::string id, std::vector<std::pair<IndicatorType, std::string>> fs) {
  Incident inc;
  inc.id = std::move(id);
  for (auto& [type, value] : fs) {
    Indicator ind;
    ind.type = type;
    ind.value = value;
    ind.raw = value;
    inc.indicators.push_back(ind);
  }
  return inc;
}

TEST(FuzzyEvidenceIndex, FindsNearFilesOfOtherIncidentsWithExplanation) {
  std::mt19937_64 rng(5);
  TlshDigest base = RandomDigest(rng);
  TlshDigest near = Mutate(base, rng, 2);
  TlshDigest far = RandomDigest(rng);
  const std::string ss1 = "96:GhpBcQ8SxJjQ0lGW5OPqOQdvHVU6WRhK1z1wjb2K:Ghp6QrxJjXlDPb+dqfRhK1zCb2K";
  FuzzyEvidenceIndex index;
  Incident x = FuzzyIncident("X", {{IndicatorType::kTlsh, base.ToString()},
                                   {IndicatorType::kSsdeep, ss1},
                                   {IndicatorType::kTlsh, "not a digest"}});
  Incident y = FuzzyIncident("Y", {{IndicatorType::kTlsh, far.ToString()}});
  EXPECT_EQ(index.AddIncident(x), 2u);
  EXPECT_EQ(index.AddIncident(y), 1u);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Add("Z", FuzzyKind::kSsdeep, "junk").code(), absl::StatusCode::kInvalidArgument);

  int d = TlshDistance(base, near);
  ASSERT_LE(d, 30);
  Incident q = FuzzyIncident(
      "Q", {{IndicatorType::kTlsh, near.ToLegacyString()}, {IndicatorType::kSsdeep, ss1}});
  auto ev = index.NearIncident(q, {.tlsh_max_distance = 30});
  ASSERT_EQ(ev.size(), 2u);  // X by ssdeep (weight 1) then X by TLSH; Y is too far
  EXPECT_EQ(ev[0].kind, FuzzyKind::kSsdeep);
  EXPECT_EQ(ev[0].value, 100);
  EXPECT_EQ(ev[0].Explain(), "ssdeep score 100 to a file in incident X");
  EXPECT_EQ(ev[1].kind, FuzzyKind::kTlsh);
  EXPECT_EQ(ev[1].value, d);
  EXPECT_EQ(ev[1].incident_id, "X");
  EXPECT_DOUBLE_EQ(ev[1].weight, TlshCloseness(d));
  EXPECT_EQ(ev[1].Explain(), "TLSH distance " + std::to_string(d) + " to a file in incident X");
  // An incident's own files are not evidence about it.
  EXPECT_TRUE(index.NearIncident(x, {.tlsh_max_distance = 30}).empty());
  // Near(): nearest first, bad digest rejected.
  auto n = index.Near(FuzzyKind::kTlsh, base.ToString(), {.tlsh_max_distance = 1000});
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n->size(), 2u);
  EXPECT_EQ((*n)[0].value, 0);
  EXPECT_EQ((*n)[1].incident_id, "Y");
  EXPECT_EQ(index.Near(FuzzyKind::kTlsh, "T1XYZ").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FuzzyCloseness, WeightsFallWithDistanceAndRiseWithScore) {
  EXPECT_DOUBLE_EQ(TlshCloseness(0), 1.0);
  EXPECT_DOUBLE_EQ(TlshCloseness(30), 0.5);
  EXPECT_LT(TlshCloseness(100), 0.11);
  EXPECT_DOUBLE_EQ(SsdeepCloseness(50), 0.5);
  EXPECT_EQ(*DetectFuzzyKind(kA), FuzzyKind::kTlsh);
  EXPECT_EQ(*DetectFuzzyKind("3:abc:def"), FuzzyKind::kSsdeep);
  EXPECT_EQ(DetectFuzzyKind("hello").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kinship
