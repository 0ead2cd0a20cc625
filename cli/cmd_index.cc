// kinship index build / status: the similarity index saved beside the store (a snapshot), so that
// `similar` and `compare` load it instead of indexing the store at every call.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/analysis.h"
#include "cli/command.h"
#include "kinship/similarity.h"

namespace kinship::cli {
namespace {

absl::Status RunBuild(const GlobalOptions& g) {
  const auto start = std::chrono::steady_clock::now();
  // The key before the store is read: a write committed meanwhile makes the snapshot stale,
  // never wrong.
  std::string key;
  {
    KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
    KINSHIP_ASSIGN_OR_RETURN(key, store->SnapshotKey());
  }
  KINSHIP_ASSIGN_OR_RETURN(
      auto analysis,
      Analysis::Load(g, {}, {.attribution = false, .naming = false, .snapshot = false}));
  const score::SimilarityIndex& index = analysis->index();
  const std::string path = SnapshotPath(g);
  Progress(g, absl::StrCat("writing ", path));
  KINSHIP_RETURN_IF_ERROR(index.Save(path, key));
  const score::IndexStats stats = index.Stats();
  const uintmax_t bytes = std::filesystem::file_size(path);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (g.json) {
    PrintJsonLine({{"snapshot", path},
                   {"key", key},
                   {"incidents", stats.incidents},
                   {"features", stats.features},
                   {"bytes", bytes},
                   {"seconds", secs}});
  } else {
    std::printf("index snapshot %s: %zu incidents, %zu features, %.1f MB, %.1f s\n", path.c_str(),
                stats.incidents, stats.features, static_cast<double>(bytes) / 1e6, secs);
  }
  return absl::OkStatus();
}

absl::Status RunStatus(const GlobalOptions& g) {
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(const std::string key, store->SnapshotKey());
  const std::string path = SnapshotPath(g);
  absl::StatusOr<score::SimilarityIndex::SnapshotHeader> h =
      score::SimilarityIndex::ReadSnapshotHeader(path);
  std::string state;
  if (h.ok()) {
    state = !h->readable    ? "stale (written by another build)"
            : h->key != key ? "stale (the store changed since)"
                            : "current";
  } else if (h.status().code() == absl::StatusCode::kNotFound) {
    state = "none";
  } else {
    state = absl::StrCat("damaged (", h.status().message(), ")");
  }
  if (g.json) {
    nlohmann::json j = {
        {"snapshot", path}, {"state", state.substr(0, state.find(' '))}, {"store_key", key}};
    if (h.ok()) {
      j["snapshot_key"] = h->key;
      j["written_by"] = h->written_by;
    }
    PrintJsonLine(j);
  } else {
    std::printf("index snapshot %s: %s\n", path.c_str(), state.c_str());
    std::printf("  store:    %s\n", key.c_str());
    if (h.ok())
      std::printf("  snapshot: %s, by kinship %s\n", h->key.c_str(), h->written_by.c_str());
  }
  return absl::OkStatus();
}

void Setup(CLI::App& app, GlobalOptions& g) {
  auto* index = app.add_subcommand(
      "index", "The similarity index saved beside the store, for similar and compare to load");
  index->require_subcommand(1);
  auto* build =
      index->add_subcommand("build", "Index the store and save the index beside it (<db>.kindex)");
  build->callback([&g] { g.exit_code = Finish(g, RunBuild(g)); });
  auto* status =
      index->add_subcommand("status", "Whether the saved index is current for the store");
  status->callback([&g] { g.exit_code = Finish(g, RunStatus(g)); });
}

CommandRegistrar reg(42, &Setup);

}  // namespace
}  // namespace kinship::cli
