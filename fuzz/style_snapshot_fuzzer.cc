// libFuzzer target for naming-style snapshots (attrib::StyleIndex::LoadBytes). As for the index
// snapshot fuzzer, a snapshot that passes its header is one this build wrote, so the input edits
// a valid snapshot of a small world (three actors, so a classifier with a weight column per
// class) made at start-up: the first four bytes may cut it to a length (one input in four),
// every further five bytes overwrite one byte (a 32-bit position, then the value). Any result
// must be an index that answers, or kDataLoss / kFailedPrecondition; never a crash or a read out
// of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/snapshot_fuzz.h"
#include "kinship/attribution.h"

namespace {

constexpr char kKey[] = "fuzz";

kinship::Incident Hosts(std::string id, const std::vector<std::string>& hosts) {
  kinship::Incident inc;
  inc.id = std::move(id);
  for (const std::string& h : hosts) {
    kinship::Indicator i;
    i.type = kinship::IndicatorType::kDomain;
    i.value = h;
    inc.indicators.push_back(std::move(i));
  }
  return inc;
}

const std::vector<kinship::Incident>& Queries() {
  static const std::vector<kinship::Incident> q = {Hosts("q1", {"update-office-srv.com"}),
                                                   Hosts("q2", {"news-daily-world.info"}),
                                                   Hosts("a1", {"mail-secure-login.net"})};
  return q;
}

std::string Seed() {
  const std::vector<std::vector<std::string>> names = {
      {"update-office-cdn.com", "win-update-srv.com", "patch-office-cdn.com"},
      {"daily-news-portal.info", "world-news-daily.info", "portal-news-today.info"},
      {"secure-mail-box.net", "mail-login-secure.net", "box-secure-mail.net"}};
  kinship::attrib::StyleIndex index;
  for (size_t a = 0; a < names.size(); ++a) {
    for (size_t i = 0; i < names[a].size(); ++i) {
      index.Add(Hosts(absl::StrCat(std::string(1, static_cast<char>('a' + a)), i), {names[a][i]}),
                absl::StrCat("G", a));
    }
  }
  index.Finalize();
  std::string bytes = kinship::fuzz::SavedBytes(
      "style_snapshot_fuzzer", [&](const std::string& path) { return index.Save(path, kKey); });
  auto loaded = kinship::attrib::StyleIndex::LoadBytes(bytes, "seed", kKey);
  if (!loaded.ok() || loaded->Classify(Queries()[0], 3).empty()) std::abort();
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string seed = Seed();
  const std::string bytes = kinship::fuzz::Edited(seed, data, size);
  auto index = kinship::attrib::StyleIndex::LoadBytes(bytes, "fuzz", kKey);
  if (!index.ok()) {
    kinship::fuzz::CheckLoadError(index.status());
    return 0;
  }
  for (const kinship::Incident& q : Queries()) {
    (void)index->Nearest(q, 5);
    (void)index->Classify(q, 5, {"b1"});
  }
  return 0;
}
