// TLSH against the real data: libtlsh oracle on every pair of a sample of MalwareBazaar digests,
// the upstream test vectors, and the index against brute force on real + mutated digests.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "index/tlsh_libtlsh.h"
#include "kinship/fuzzy.h"
#include "testing/data.h"

namespace kinship {
namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::istringstream in(kinship::testing::ReadFileOrDie(path));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

// Column `col` of a CSV with a header line.
std::vector<std::string> Column(const std::string& path, int col) {
  std::vector<std::string> out;
  auto lines = Lines(path);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    if (static_cast<int>(f.size()) > col) out.push_back(f[col]);
  }
  return out;
}

TEST(TlshData, DistanceEqualsLibtlshOnEveryPairOfRealSample) {
  auto mb = Column(kinship::testing::DataPath("tlsh/mb_10K-dev.csv"), 1);
  auto cl = Column(kinship::testing::DataPath("tlsh/clust_389300.csv"), 0);
  ASSERT_GT(mb.size(), 7000u);
  ASSERT_GT(cl.size(), 16000u);
  std::vector<std::string> sample;
  for (size_t i = 0; i < mb.size(); i += 25) sample.push_back(mb[i]);
  for (size_t i = 0; i < cl.size(); i += 60) sample.push_back(cl[i]);
  for (size_t i = 0; i < sample.size(); ++i) {
    auto a = ParseTlsh(sample[i]);
    ASSERT_TRUE(a.ok()) << sample[i];
    for (size_t j = i; j < sample.size(); ++j) {
      auto b = ParseTlsh(sample[j]);
      ASSERT_TRUE(b.ok()) << sample[j];
      for (bool len : {true, false}) {
        ASSERT_EQ(TlshDistance(*a, *b, len), *internal::LibTlshDistance(sample[i], sample[j], len))
            << sample[i] << " " << sample[j] << " len=" << len;
      }
    }
  }
}

TEST(TlshData, UpstreamTestVectorsScoresAndDigests) {
  std::string exp = kinship::testing::DataPath("tlsh/test-vectors/exp");
  std::map<std::string, TlshDigest> by_file;
  int too_small_for_libtlsh = 0;
  for (const std::string& line : Lines(exp + "/example_data.128.1.len.out_EXP")) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 2u) << line;
    auto d = ParseTlsh(f[0]);
    ASSERT_TRUE(d.ok()) << line;
    by_file[f[1]] = *d;
    // libtlsh 3.4.4 hashes the same file to the same digest as upstream 4.12.1.
    auto h = internal::LibTlshHash(
        kinship::testing::ReadFileOrDie(kinship::testing::DataPath("tlsh/test-vectors/" + f[1])));
    // libtlsh 3.4.4 needs >= 256 bytes; upstream 4.x digests smaller files too.
    if (!h.ok()) {
      ++too_small_for_libtlsh;
      continue;
    }
    EXPECT_EQ(*h, d->ToLegacyString()) << f[1];
  }
  ASSERT_EQ(by_file.size(), 80u);
  EXPECT_LE(too_small_for_libtlsh, 2);
  int checked = 0;
  for (const auto& [name, len] : std::vector<std::pair<std::string, bool>>{
           {"example_data.128.1.len.scores_EXP", true},
           {"example_data.128.1.xlen.scores_EXP", false},
           {"example_data.128.1.len.xref.scores_EXP", true}}) {
    for (const std::string& line : Lines(exp + "/" + name)) {
      std::vector<std::string> f = absl::StrSplit(line, '\t');
      ASSERT_EQ(f.size(), 3u) << line;
      ASSERT_TRUE(by_file.count(f[0]) && by_file.count(f[1])) << line;
      EXPECT_EQ(TlshDistance(by_file[f[0]], by_file[f[1]], len), std::stoi(f[2]))
          << name << ": " << line;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 80 + 80 + 3160);
}

TEST(TlshData, IndexRecallIsOneOnRealAndMutatedDigests) {
  const uint64_t seed = 1809;
  std::mt19937_64 rng(seed);
  std::vector<TlshDigest> ds;
  for (const auto& s : Column(kinship::testing::DataPath("tlsh/mb_10K-dev.csv"), 1)) {
    ds.push_back(*ParseTlsh(s));
  }
  for (const auto& s : Column(kinship::testing::DataPath("tlsh/clust_389300.csv"), 0)) {
    ds.push_back(*ParseTlsh(s));
  }
  TlshIndex index;
  for (size_t i = 0; i < ds.size(); ++i) index.Add(ds[i], static_cast<uint32_t>(i));
  const char* hex = "0123456789ABCDEF";
  size_t expected_total = 0, found_total = 0;
  for (int t = 0; t < 150; ++t) {
    std::string q = ds[rng() % ds.size()].ToLegacyString();
    for (int e = rng() % 10; e > 0; --e) q[6 + rng() % 64] = hex[rng() % 16];
    TlshDigest qd = *ParseTlsh(q);
    for (int r : {30, 100}) {
      std::vector<TlshNeighbour> brute;
      for (size_t i = 0; i < ds.size(); ++i) {
        int d = TlshDistance(qd, ds[i]);
        if (d <= r) brute.push_back({static_cast<uint32_t>(i), d});
      }
      std::stable_sort(brute.begin(), brute.end(),
                       [](const auto& a, const auto& b) { return a.distance < b.distance; });
      auto got = index.Radius(qd, r);
      expected_total += brute.size();
      found_total += got.size();
      ASSERT_EQ(got, brute) << "seed " << seed << " radius " << r << " query " << q;
    }
  }
  EXPECT_EQ(found_total, expected_total);
  EXPECT_GT(expected_total, 150u);  // the queries do have neighbours
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// HAC-T on the labelled MalwareBazaar dev set. Labels are compared case-insensitively (the set
// spells Formbook two ways); unlabelled NO_SIG rows are clustered but left out of the scores.
TEST(TlshData, HacTClustersLabelledMalwareBazaarSetPurely) {
  auto path = kinship::testing::DataPath("tlsh/mb_10K-dev.csv");
  auto digests = Column(path, 1);
  auto labels = Column(path, 2);
  ASSERT_EQ(digests.size(), labels.size());
  std::vector<TlshDigest> ds;
  for (const auto& s : digests) ds.push_back(*ParseTlsh(s));
  auto t0 = std::chrono::steady_clock::now();
  auto c = ClusterTlsh(ds, {.radius = 30});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<std::string> lab;
  std::vector<uint32_t> cl;
  for (size_t i = 0; i < ds.size(); ++i) {
    if (labels[i] == "NO_SIG") continue;
    lab.push_back(Lower(labels[i]));
    cl.push_back(c->cluster[i]);
  }
  auto q = EvaluateClustering(lab, cl);
  ASSERT_TRUE(q.ok());
  std::printf(
      "HAC-T radius 30 on %zu digests (%zu labelled): %zu clusters (%zu singletons), %d step-3 "
      "passes, %.3f s; labelled: purity %.4f, purity in clusters>=2 %.4f, coverage %.4f, "
      "ARI %.4f\n",
      ds.size(), lab.size(), c->clusters, c->singletons, c->passes, secs, q->purity,
      q->purity_clustered, q->coverage, q->ari);
  EXPECT_GE(q->purity_clustered, 0.95);
  // Radius 30 splits big families (Heodo: 3,332 rows) into many tight clusters and leaves a
  // third of the rows single, so ARI is low (measured 0.051) though clusters are pure; a
  // random assignment scores 0.
  EXPECT_GE(q->ari, 0.03);
  EXPECT_GE(q->coverage, 0.5);
}

// Family prediction as in the data's malbaz-README: a sample takes the family of the nearest
// HAC-T cluster representative (clust_389300.csv) whose own radius covers it.
TEST(TlshData, PredictsFamiliesFromClusterRepresentatives) {
  auto lines = Lines(kinship::testing::DataPath("tlsh/clust_389300.csv"));
  std::vector<TlshDigest> reps;
  std::vector<std::string> family;
  std::vector<int> radius;
  TlshIndex index;
  int max_radius = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    ASSERT_GE(f.size(), 6u) << "line " << i + 1;
    reps.push_back(*ParseTlsh(f[0]));
    family.push_back(f[1]);
    radius.push_back(std::stoi(f[4]));
    max_radius = std::max(max_radius, radius.back());
    index.Add(reps.back(), static_cast<uint32_t>(reps.size() - 1));
  }
  // slack 0: the representative's own radius must cover the sample (tlsh_pattern's rule);
  // slack k: radius + k (samples seen a day later drift a little).
  struct Tally {
    int matched = 0, correct = 0, incorrect = 0, inconclusive = 0;
  };
  const std::vector<int> slacks = {0, 10, 20, 30};
  std::vector<Tally> tally(slacks.size());
  int total = 0;
  for (const auto& line : Lines(kinship::testing::DataPath("tlsh/mb_2021-09-18-dev.tlsh"))) {
    if (line.empty()) continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 2u) << line;
    ++total;
    TlshDigest q = *ParseTlsh(f[0]);
    std::vector<TlshNeighbour> near = index.Radius(q, max_radius + slacks.back());
    for (size_t s = 0; s < slacks.size(); ++s) {
      int best = -1;
      for (const TlshNeighbour& n : near) {
        if (n.distance <= radius[n.payload] + slacks[s]) {
          best = static_cast<int>(n.payload);
          break;  // sorted by distance
        }
      }
      if (best < 0) continue;
      Tally& t = tally[s];
      ++t.matched;
      const std::string& fam = family[best];
      if (f[1] == "n/a" || fam.rfind("Cluster ", 0) == 0) {
        ++t.inconclusive;
      } else if (Lower(fam) == Lower(f[1])) {
        ++t.correct;
      } else {
        ++t.incorrect;
      }
    }
  }
  for (size_t s = 0; s < slacks.size(); ++s) {
    std::printf(
        "family prediction on %d samples, radius+%d: matched %d, correct %d, incorrect %d, "
        "inconclusive %d\n",
        total, slacks[s], tally[s].matched, tally[s].correct, tally[s].incorrect,
        tally[s].inconclusive);
  }
  const Tally& t = tally[0];
  int matched = t.matched, correct = t.correct, incorrect = t.incorrect;
  // Measured: 52 matched, 44 correct, 4 incorrect (the data's README reports 164 of 246
  // matched, 132 correct, 13 incorrect with upstream's tlsh_pattern on the full 246 samples).
  EXPECT_EQ(total, 169);
  EXPECT_GE(matched, 45);
  EXPECT_GE(correct, 9 * (correct + incorrect) / 10);
}

}  // namespace
}  // namespace kinship
