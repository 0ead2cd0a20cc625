// libFuzzer target for index snapshots (SimilarityIndex::LoadBytes). A snapshot that passes its
// header is one this very build wrote (the header holds a fingerprint of feature extraction), so
// the input edits a valid snapshot of a small world made at start-up rather than replacing it:
// the first four bytes may cut it to a length (one input in four), every further five bytes
// overwrite one byte (a 32-bit position, then the value). Any result must be an index that
// answers, or kDataLoss / kFailedPrecondition; never a crash or a read out of bounds. A loaded
// index also has incidents taken out (SimilarityIndex::Remove) and answers again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/snapshot_fuzz.h"
#include "kinship/fuzzy.h"
#include "kinship/similarity.h"

namespace {

constexpr char kKey[] = "fuzz";

kinship::Indicator Ind(kinship::IndicatorType type, std::string value) {
  kinship::Indicator i;
  i.type = type;
  i.value = std::move(value);
  return i;
}

std::string Seed() {
  using kinship::IndicatorType;
  std::vector<kinship::Incident> world;
  const std::string tlsh =
      "T1A5B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4";
  for (int i = 0; i < 12; ++i) {
    kinship::Incident inc;
    inc.id = absl::StrCat("i", i);
    inc.first_seen = absl::StrCat("2020-01-", 10 + i);
    inc.indicators.push_back(Ind(IndicatorType::kIpv4, absl::StrCat("198.51.100.", i % 3)));
    inc.indicators.push_back(
        Ind(IndicatorType::kDomain, absl::StrCat("upd", i % 4, ".example.com")));
    std::string near = tlsh;
    near[10 + i] = "0123456789ABCDEF"[i];
    if (auto d = kinship::ParseTlsh(near); d.ok()) {
      inc.indicators.push_back(Ind(IndicatorType::kTlsh, d->ToString()));
    }
    inc.techniques.push_back({"T1059.001", ""});
    if (i % 2 == 0) inc.attributions.push_back({"Actor", "", -1, "fuzz"});
    world.push_back(std::move(inc));
  }
  auto index = kinship::score::SimilarityIndex::Build(world);
  if (!index.ok()) std::abort();
  std::string bytes = kinship::fuzz::SavedBytes(
      "snapshot_fuzzer", [&](const std::string& path) { return index->Save(path, kKey); });
  if (!kinship::score::SimilarityIndex::LoadBytes(bytes, "seed", kKey).ok()) std::abort();
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string seed = Seed();
  const std::string bytes = kinship::fuzz::Edited(seed, data, size);
  auto index = kinship::score::SimilarityIndex::LoadBytes(bytes, "fuzz", kKey);
  if (!index.ok()) {
    kinship::fuzz::CheckLoadError(index.status());
    return 0;
  }
  const std::vector<std::string> ids = index->Ids();
  for (const std::string& id : ids) {
    (void)index->Similar(id, 5);
    (void)index->Compare(id, "i0");
  }
  // Taking incidents out of whatever loaded (as `kinship remove` does to a snapshot) leaves an
  // index that answers; the incidents chosen by the input's length.
  std::vector<std::string> leaving;
  for (size_t i = 0; i < ids.size(); ++i) {
    if ((size >> (i % 8)) & 1) leaving.push_back(ids[i]);
  }
  auto removed = index->Remove(leaving);
  if (!removed.ok() || *removed != leaving.size() || index->size() != ids.size() - leaving.size()) {
    std::abort();
  }
  for (const std::string& id : index->Ids()) (void)index->Similar(id, 5);
  return 0;
}
