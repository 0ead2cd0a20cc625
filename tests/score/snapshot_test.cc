// Index snapshots: an index saved and loaded answers exactly as the one that was built; a
// snapshot for another key, build or options is refused as stale; a damaged or truncated one is
// refused with the file and the byte, never read past.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kinship/fuzzy.h"
#include "kinship/similarity.h"
#include "testing/data.h"
#include "testing/incidents.h"

namespace kinship::score {
namespace {

using ::kinship::testing::Ind;

std::string RandomTlsh(std::mt19937_64& rng) {
  std::string hex = "T1";
  for (int i = 0; i < 70; ++i) hex.push_back("0123456789ABCDEF"[rng() % 16]);
  return ParseTlsh(hex)->ToString();
}

// 1,500 incidents sharing IPs, /24s, registered domains, naming, techniques (one held by 1,100,
// which gets a bitmap), software, actors and TLSH digests near each other.
std::vector<Incident> World() {
  std::mt19937_64 rng(7);
  std::vector<std::string> tlsh;
  for (int i = 0; i < 40; ++i) tlsh.push_back(RandomTlsh(rng));
  std::vector<Incident> out;
  for (int i = 0; i < 1500; ++i) {
    Incident inc;
    inc.id = absl::StrCat("inc-", i);
    inc.first_seen = absl::StrCat("20", 10 + i % 12, "-0", 1 + i % 9, "-1", i % 10);
    if (i % 3 == 0) inc.last_seen = absl::StrCat("20", 11 + i % 12, "-02-01");
    inc.indicators.push_back(
        Ind(IndicatorType::kIpv4, absl::StrCat("198.51.", i % 97, ".", rng() % 200)));
    inc.indicators.push_back(
        Ind(IndicatorType::kDomain, absl::StrCat("upd", rng() % 400, ".svc", i % 61, ".com")));
    inc.indicators.push_back(
        Ind(IndicatorType::kFilename, absl::StrCat("report_", rng() % 300, "_final.doc")));
    if (i % 5 == 0) {  // a few body codes away from one of 40 bases: near, not equal
      std::string hex = tlsh[rng() % 40];
      for (int e = 0; e < 3; ++e) hex[8 + rng() % 62] = "0123456789ABCDEF"[rng() % 16];
      inc.indicators.push_back(Ind(IndicatorType::kTlsh, ParseTlsh(hex)->ToString()));
    }
    if (i < 1100) inc.techniques.push_back({"T1059.001", ""});
    inc.techniques.push_back({absl::StrCat("T1", 100 + rng() % 60), ""});
    if (i % 4 == 0) inc.software.push_back({absl::StrCat("Tool", i % 13), "", ""});
    if (i % 2 == 0) {
      inc.attributions.push_back({absl::StrCat("Actor ", i % 17), "", -1, "test"});
    }
    out.push_back(std::move(inc));
  }
  return out;
}

// Everything an answer says, to compare two indexes' answers.
std::string Text(const std::vector<Match>& matches) {
  std::string s;
  for (const Match& m : matches) {
    absl::StrAppend(&s, m.id, " ", m.comparison.probability, " ", m.comparison.raw, ";");
    for (const FamilyEvidence& f : m.comparison.explanation.families) {
      absl::StrAppend(&s, static_cast<int>(f.family), ":", f.evidence, "[");
      for (const EvidenceItem& it : f.items) absl::StrAppend(&s, it.feature, "=", it.weight, ",");
      absl::StrAppend(&s, "]");
    }
    absl::StrAppend(&s, "\n");
  }
  return s;
}

class Snapshot : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new std::vector<Incident>(World());
    built_ = new SimilarityIndex(*SimilarityIndex::Build(*world_));
    path_ = new std::string(absl::StrCat(testing::TempDir(), "/snapshot_test.kindex"));
    ASSERT_TRUE(built_->Save(*path_, "store 1 generation 3").ok());
  }
  static void TearDownTestSuite() {
    std::filesystem::remove(*path_);
    delete built_;
    delete world_;
    delete path_;
  }
  static std::vector<Incident>* world_;
  static SimilarityIndex* built_;
  static std::string* path_;
};
std::vector<Incident>* Snapshot::world_ = nullptr;
SimilarityIndex* Snapshot::built_ = nullptr;
std::string* Snapshot::path_ = nullptr;

TEST_F(Snapshot, LoadedIndexAnswersAsTheBuiltOne) {
  absl::StatusOr<SimilarityIndex> loaded = SimilarityIndex::Load(*path_, "store 1 generation 3");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const IndexStats a = built_->Stats(), b = loaded->Stats();
  EXPECT_EQ(a.incidents, b.incidents);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.postings, b.postings);
  EXPECT_EQ(built_->Ids(), loaded->Ids());
  size_t with_fuzzy = 0, answers = 0;
  for (const Incident& inc : *world_) {
    absl::StatusOr<std::vector<Match>> x = built_->Similar(inc.id, 10);
    absl::StatusOr<std::vector<Match>> y = loaded->Similar(inc.id, 10);
    ASSERT_TRUE(x.ok() && y.ok());
    ASSERT_EQ(Text(*x), Text(*y)) << inc.id;
    answers += x->size();
    for (const Match& m : *x) {
      for (const FamilyEvidence& f : m.comparison.explanation.families) {
        with_fuzzy += f.family == Family::kFuzzy;
      }
    }
    EXPECT_EQ(built_->StatedActors(inc.id), loaded->StatedActors(inc.id));
    EXPECT_EQ(built_->ActivityWindow(inc.id), loaded->ActivityWindow(inc.id));
  }
  EXPECT_GT(answers, 10000u);
  EXPECT_GT(with_fuzzy, 100u);  // near TLSH digests were found through the loaded fuzzy index
  // A query that is not indexed, and a pair.
  Incident q = (*world_)[3];
  q.id = "query";
  EXPECT_EQ(Text(built_->Similar(q, 10)), Text(loaded->Similar(q, 10)));
  EXPECT_EQ(Text({{"x", *built_->Compare("inc-0", "inc-5")}}),
            Text({{"x", *loaded->Compare("inc-0", "inc-5")}}));
  EXPECT_EQ(built_->DocumentFrequency("tech:T1059.001"), 1100u);
  EXPECT_EQ(loaded->DocumentFrequency("tech:T1059.001"), 1100u);
  // The loaded index keeps growing as a built one does.
  Incident more = (*world_)[8];
  more.id = "added";
  ASSERT_TRUE(loaded->Add(more).ok());
  EXPECT_EQ(loaded->DocumentFrequency("tech:T1059.001"), 1101u);
  EXPECT_FALSE(loaded->Add(more).ok());
}

// What `kinship ingest` does to a current snapshot: an index of the first 1,000 incidents, saved,
// loaded and grown by the other 500, is the very index built from all 1,500 (bitmaps, fuzzy
// digests and all): it saves the same bytes.
TEST_F(Snapshot, GrownFromASnapshotIsTheIndexBuiltWhole) {
  const std::vector<Incident> first(world_->begin(), world_->begin() + 1000);
  absl::StatusOr<SimilarityIndex> part = SimilarityIndex::Build(first);
  ASSERT_TRUE(part.ok()) << part.status();
  const std::string path = absl::StrCat(testing::TempDir(), "/snapshot_grow.kindex");
  ASSERT_TRUE(part->Save(path, "store 1 generation 2").ok());
  absl::StatusOr<SimilarityIndex> grown = SimilarityIndex::Load(path, "store 1 generation 2");
  ASSERT_TRUE(grown.ok()) << grown.status();
  for (size_t i = 1000; i < world_->size(); ++i) ASSERT_TRUE(grown->Add((*world_)[i]).ok());
  ASSERT_TRUE(grown->Save(path, "store 1 generation 3").ok());
  EXPECT_TRUE(testing::ReadFileOrDie(path) == testing::ReadFileOrDie(*path_));
  std::filesystem::remove(path);
}

// Incidents taken out of an index (a snapshot loaded, as `kinship remove` and a replacing ingest
// do): it answers as the index built without them, and saves and loads as any other. Among those
// removed: 414 of the 1,100 holding the technique with a bitmap (left with 686, under the 1,024
// a bitmap needs in a new index), incidents with TLSH digests, and incidents holding features no
// other incident holds.
TEST_F(Snapshot, RemovedIncidentsLeaveTheIndexBuiltWithoutThem) {
  std::vector<std::string> gone;
  std::vector<Incident> kept;
  for (size_t i = 0; i < world_->size(); ++i) {
    const Incident& inc = (*world_)[i];
    if (i % 7 == 3 || (i >= 400 && i < 700) || i == world_->size() - 1) {
      gone.push_back(inc.id);
    } else {
      kept.push_back(inc);
    }
  }
  gone.push_back(gone.front());  // a duplicate counts once
  absl::StatusOr<SimilarityIndex> fresh = SimilarityIndex::Build(kept);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  absl::StatusOr<SimilarityIndex> index = SimilarityIndex::Load(*path_, "store 1 generation 3");
  ASSERT_TRUE(index.ok()) << index.status();

  // An id not indexed removes nothing.
  absl::StatusOr<size_t> none = index->Remove({"inc-5", "no-such-incident"});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index->size(), world_->size());
  EXPECT_TRUE(index->Contains("inc-5"));

  absl::StatusOr<size_t> removed = index->Remove(gone);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, gone.size() - 1);
  const IndexStats a = fresh->Stats(), b = index->Stats();
  EXPECT_EQ(a.incidents, b.incidents);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.postings, b.postings);
  EXPECT_EQ(fresh->Ids(), index->Ids());
  EXPECT_FALSE(index->Contains("inc-3"));
  // The technique with a bitmap: 686 of its 1,100 holders stay.
  EXPECT_EQ(index->DocumentFrequency("tech:T1059.001"), 686u);
  EXPECT_EQ(fresh->DocumentFrequency("tech:T1059.001"), 686u);

  // Saved and loaded, it is read back whole (the loader checks postings against the incidents'
  // features, bitmaps against postings, digests against their incidents).
  const std::string path = absl::StrCat(testing::TempDir(), "/snapshot_remove.kindex");
  ASSERT_TRUE(index->Save(path, "store 1 generation 4").ok());
  absl::StatusOr<SimilarityIndex> loaded = SimilarityIndex::Load(path, "store 1 generation 4");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::filesystem::remove(path);

  size_t answers = 0, with_fuzzy = 0;
  for (const Incident& inc : kept) {
    absl::StatusOr<std::vector<Match>> x = fresh->Similar(inc.id, 10);
    absl::StatusOr<std::vector<Match>> y = index->Similar(inc.id, 10);
    absl::StatusOr<std::vector<Match>> z = loaded->Similar(inc.id, 10);
    ASSERT_TRUE(x.ok() && y.ok() && z.ok());
    ASSERT_EQ(Text(*x), Text(*y)) << inc.id;
    ASSERT_EQ(Text(*y), Text(*z)) << inc.id;
    answers += x->size();
    for (const Match& m : *x) {
      for (const FamilyEvidence& f : m.comparison.explanation.families) {
        with_fuzzy += f.family == Family::kFuzzy;
      }
    }
  }
  EXPECT_GT(answers, 5000u);
  EXPECT_GT(with_fuzzy, 50u);
  // A query from outside, one of the removed ones, and a pair.
  const Incident& q = (*world_)[3];
  EXPECT_EQ(Text(fresh->Similar(q, 10)), Text(index->Similar(q, 10)));
  EXPECT_EQ(Text({{"x", *fresh->Compare("inc-0", "inc-5")}}),
            Text({{"x", *index->Compare("inc-0", "inc-5")}}));
  // It goes on growing as the built one does.
  ASSERT_TRUE(index->Add((*world_)[3]).ok());
  ASSERT_TRUE(fresh->Add((*world_)[3]).ok());
  EXPECT_EQ(Text(*fresh->Similar("inc-3", 10)), Text(*index->Similar("inc-3", 10)));
}

TEST_F(Snapshot, StaleSnapshotsAreRefused) {
  absl::StatusOr<SimilarityIndex> other = SimilarityIndex::Load(*path_, "store 1 generation 4");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("generation 3"), std::string::npos);
  ScoringOptions trigrams;
  trigrams.ngram = 3;
  EXPECT_EQ(
      SimilarityIndex::Load(*path_, "store 1 generation 3", nullptr, trigrams).status().code(),
      absl::StatusCode::kFailedPrecondition);
  // Query-time options are the loader's.
  ScoringOptions strict;
  strict.over_correlation_min = 5;
  absl::StatusOr<SimilarityIndex> loaded =
      SimilarityIndex::Load(*path_, "store 1 generation 3", nullptr, strict);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->OverCorrelationLimit(), 5u);
  absl::StatusOr<SimilarityIndex::SnapshotHeader> h = SimilarityIndex::ReadSnapshotHeader(*path_);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->key, "store 1 generation 3");
  EXPECT_TRUE(h->readable);
  EXPECT_EQ(SimilarityIndex::Load(*path_ + ".absent", "k").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(Snapshot, DamagedOrTruncatedSnapshotsAreRefusedWithThePlace) {
  const std::string bytes = testing::ReadFileOrDie(*path_);
  ASSERT_GT(bytes.size(), 100000u);
  const std::string key = "store 1 generation 3";
  ASSERT_TRUE(SimilarityIndex::LoadBytes(bytes, "snap", key).ok());
  std::mt19937_64 rng(11);
  for (int t = 0; t < 60; ++t) {
    const size_t cut = t < 20 ? static_cast<size_t>(t) * 7 : rng() % bytes.size();
    absl::StatusOr<SimilarityIndex> r =
        SimilarityIndex::LoadBytes(std::string_view(bytes).substr(0, cut), "snap", key);
    ASSERT_FALSE(r.ok()) << "cut at " << cut;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
    EXPECT_NE(r.status().message().find("snap: byte "), std::string::npos) << r.status();
  }
  EXPECT_FALSE(SimilarityIndex::LoadBytes(bytes + "x", "snap", key).ok());
  // Changed bytes anywhere: refused, or loaded into an index that still answers (a changed key
  // hash or day is no inconsistency), never read out of bounds (the sanitizer build runs this).
  size_t refused = 0;
  for (int t = 0; t < 300; ++t) {
    std::string damaged = bytes;
    damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    absl::StatusOr<SimilarityIndex> r = SimilarityIndex::LoadBytes(damaged, "snap", key);
    if (!r.ok()) {
      ++refused;
      continue;
    }
    for (int q = 0; q < 5; ++q) (void)r->Similar(absl::StrCat("inc-", rng() % 1500), 10);
  }
  EXPECT_GT(refused, 0u);
}

TEST_F(Snapshot, SaveReplacesWholeOrLeavesTheOldFile) {
  const std::string dir = absl::StrCat(testing::TempDir(), "/snapshot_absent_dir/x.kindex");
  EXPECT_FALSE(built_->Save(dir, "k").ok());
  // Saving over an existing snapshot replaces it; no temporary file is left beside it.
  const std::string path = absl::StrCat(testing::TempDir(), "/snapshot_replace.kindex");
  ASSERT_TRUE(built_->Save(path, "first").ok());
  ASSERT_TRUE(built_->Save(path, "second").ok());
  EXPECT_EQ(SimilarityIndex::ReadSnapshotHeader(path)->key, "second");
  for (const auto& e : std::filesystem::directory_iterator(testing::TempDir())) {
    EXPECT_EQ(e.path().filename().string().find("snapshot_replace.kindex.tmp"), std::string::npos);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace kinship::score
