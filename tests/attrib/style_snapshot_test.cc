// The naming-style snapshot (StyleIndex::Save / Load): a loaded index answers exactly as the one
// saved, and a file that is not current or not whole is refused with the right error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kinship/attribution.h"
#include "testing/incidents.h"

namespace kinship::attrib {
namespace {

using ::kinship::testing::Ind;

// Hostnames made of an actor's own words and some common ones, so that neighbours and classes
// are neither trivial nor empty.
Incident Named(const std::string& id, int actor, std::mt19937& rng) {
  static const std::vector<std::vector<std::string>> kWords = {{"update", "office", "win", "patch"},
                                                               {"news", "daily", "portal", "world"},
                                                               {"mail", "secure", "login", "box"},
                                                               {"cloud", "drive", "share", "doc"},
                                                               {"bank", "pay", "card", "verify"}};
  static const std::vector<std::string> kCommon = {"cdn", "srv", "net", "app"};
  static const std::vector<std::string> kTlds = {"com", "net", "info", "ru", "org"};
  Incident inc;
  inc.id = id;
  const int hosts = 1 + static_cast<int>(rng() % 3);
  for (int h = 0; h < hosts; ++h) {
    const auto& own = kWords[static_cast<size_t>(actor)];
    std::string name =
        own[rng() % own.size()] + "-" +
        (rng() % 3 == 0 ? kCommon[rng() % kCommon.size()] : own[rng() % own.size()]) +
        std::to_string(rng() % 10);
    inc.indicators.push_back(
        Ind(IndicatorType::kDomain,
            name + "." + kTlds[(static_cast<size_t>(actor) + rng() % 2) % kTlds.size()]));
  }
  return inc;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class StyleSnapshot : public ::testing::TestWithParam<int> {
 protected:
  std::string Path(const std::string& name) const {
    return (std::filesystem::path(::testing::TempDir()) / absl::StrCat("style_", name)).string();
  }
};

// Actors: 2 (liblinear keeps one weight column), 5 (one per class), or 5 without a classifier.
TEST_P(StyleSnapshot, LoadedIndexAnswersExactlyAsTheSavedOne) {
  const int actors = GetParam() == 2 ? 2 : 5;
  const bool classifier = GetParam() != 0;
  std::mt19937 rng(7);
  StyleIndex idx;
  for (int i = 0; i < 120; ++i) {
    const int actor = i % actors;
    idx.Add(Named(absl::StrCat("k", i), actor, rng), absl::StrCat("G", actor));
  }
  idx.Finalize(classifier);
  const std::string path = Path(absl::StrCat("roundtrip", GetParam()));
  ASSERT_TRUE(idx.Save(path, "store A").ok());
  absl::StatusOr<StyleIndex> loaded = StyleIndex::Load(path, "store A");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->size(), idx.size());
  EXPECT_EQ(*StyleIndex::SnapshotKey(path), "store A");
  size_t votes = 0, matches = 0;
  for (int q = 0; q < 60; ++q) {
    // Unseen queries, and known incidents asked about themselves (Nearest leaves them out,
    // Classify gives nothing: it was trained on them).
    const Incident query = q < 50 ? Named(absl::StrCat("q", q), q % actors, rng)
                                  : Named(absl::StrCat("k", q), q % actors, rng);
    const std::vector<StyleMatch> a = idx.Nearest(query, 10), b = loaded->Nearest(query, 10);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].incident_id, b[i].incident_id);
      EXPECT_EQ(a[i].actor_id, b[i].actor_id);
      EXPECT_EQ(a[i].cosine, b[i].cosine);  // exactly: same floats, same order of sums
    }
    matches += a.size();
    for (const std::vector<std::string>& exclude :
         {std::vector<std::string>{}, std::vector<std::string>{"k3"}}) {
      const std::vector<StyleVote> x = idx.Classify(query, 10, exclude);
      const std::vector<StyleVote> y = loaded->Classify(query, 10, exclude);
      ASSERT_EQ(x.size(), y.size());
      for (size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(x[i].actor_id, y[i].actor_id);
        EXPECT_EQ(x[i].score, y[i].score);
      }
      votes += x.size();
    }
  }
  EXPECT_GT(matches, 0u);
  if (classifier) {
    EXPECT_GT(votes, 0u);  // the classifier was there to compare
  } else {
    EXPECT_EQ(votes, 0u);
  }
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Classes, StyleSnapshot, ::testing::Values(2, 5, 0));

TEST(StyleSnapshotErrors, RefusesWhatIsNotCurrentOrNotWhole) {
  std::mt19937 rng(11);
  StyleIndex idx;
  for (int i = 0; i < 30; ++i)
    idx.Add(Named(absl::StrCat("k", i), i % 3, rng), absl::StrCat("G", i % 3));
  // Only a finalized index is saved.
  const std::string path = (std::filesystem::path(::testing::TempDir()) / "style_errors").string();
  std::filesystem::remove(path);  // what a failed run left
  EXPECT_EQ(idx.Save(path, "k").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(path));
  idx.Finalize();
  ASSERT_TRUE(idx.Save(path, "store A").ok());
  // Another key: not current.
  absl::StatusOr<StyleIndex> other = StyleIndex::Load(path, "store B");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("written for 'store A'"), std::string::npos)
      << other.status();
  EXPECT_EQ(StyleIndex::Load(path + ".missing", "store A").status().code(),
            absl::StatusCode::kNotFound);
  // Every cut short of the whole file is refused as damaged (or, inside the header, as not
  // current); none loads.
  const std::string bytes = ReadAll(path);
  ASSERT_TRUE(StyleIndex::LoadBytes(bytes, "whole", "store A").ok());
  for (size_t n = 0; n < bytes.size(); n += 1 + n / 16) {
    absl::StatusOr<StyleIndex> cut = StyleIndex::LoadBytes(bytes.substr(0, n), "cut", "store A");
    ASSERT_FALSE(cut.ok()) << n;
    EXPECT_TRUE(cut.status().code() == absl::StatusCode::kDataLoss ||
                cut.status().code() == absl::StatusCode::kFailedPrecondition)
        << cut.status();
  }
  absl::StatusOr<StyleIndex> cut =
      StyleIndex::LoadBytes(bytes.substr(0, bytes.size() - 1), "cut", "store A");
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(cut.status().message().find("cut: byte "), std::string::npos) << cut.status();
  // Trailing bytes, or an index snapshot in its place: damaged.
  EXPECT_EQ(StyleIndex::LoadBytes(bytes + "x", "long", "store A").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(StyleIndex::LoadBytes("KINSIDX", "other", "store A").status().code(),
            absl::StatusCode::kDataLoss);
  std::filesystem::remove(path);
}

// The classifier is the same however often the process has trained one, or drawn from rand(),
// before: liblinear shuffles with rand(), and a server trains it again after a write, where the
// CLI trains it once.
TEST(StyleClassifier, SameIncidentsGiveTheSameClassifierWhateverTheProcessDidBefore) {
  auto build = [] {
    std::mt19937 rng(7);
    StyleIndex idx;
    for (int i = 0; i < 300; ++i) {
      const int actor = i % 5;
      idx.Add(Named(absl::StrCat("i", i), actor, rng), absl::StrCat("G", actor));
    }
    idx.Finalize();
    return idx;
  };
  std::mt19937 rng(11);
  std::vector<Incident> queries;
  for (int i = 0; i < 40; ++i) queries.push_back(Named(absl::StrCat("q", i), i % 5, rng));
  const StyleIndex first = build();
  for (int i = 0; i < 1000; ++i) (void)std::rand();
  const StyleIndex second = build();
  for (const Incident& q : queries) {
    const std::vector<StyleVote> a = first.Classify(q, 5), b = second.Classify(q, 5);
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k].actor_id, b[k].actor_id) << q.id;
      EXPECT_EQ(a[k].score, b[k].score) << q.id << " " << a[k].actor_id;
    }
  }
}

}  // namespace
}  // namespace kinship::attrib
