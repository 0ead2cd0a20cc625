// kinship index build / status: the similarity index saved beside the store (a snapshot), so that
// the commands that score load it instead of indexing the store at every call, and the
// naming-style index and classifier attribution uses (a second snapshot); and keeping both
// current after an ingest or a removal (RefreshSnapshot: the first grown across the writes the
// store's journal holds, CatchUpIndex; the second carried only when no incident it indexes came
// or went, CarryStyleSnapshot, since it cannot be grown without a retraining).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/analysis.h"
#include "cli/command.h"
#include "kinship/attribution.h"
#include "kinship/similarity.h"

namespace kinship::cli {

absl::StatusOr<CaughtUp> CatchUpIndex(Store& store, score::SimilarityIndex& index,
                                      const std::string& from,
                                      const std::function<void(const Incident&)>& also) {
  KINSHIP_ASSIGN_OR_RETURN(std::optional<StoreWrite> changes, store.ChangesSince(from));
  if (!changes) {
    return absl::FailedPreconditionError(
        "the store's journal of writes does not reach back to it (a KB import or new "
        "warninglists since, or more writes than it keeps)");
  }
  if (const size_t n = index.size(); n != changes->incidents_before) {
    // Same key, other content: only a snapshot copied in from another copy of the store file
    // gets here.
    return absl::FailedPreconditionError(absl::StrCat(
        "it holds ", n, " incidents where the store held ", changes->incidents_before));
  }
  CaughtUp out;
  // `leaving` may name incidents stored after `from` and gone again: never indexed here.
  for (std::string& id : changes->leaving) {
    if (index.Contains(id)) out.left.push_back(std::move(id));
  }
  if (!out.left.empty()) KINSHIP_RETURN_IF_ERROR(index.Remove(out.left).status());
  // The stored incidents that stayed read first, in their order; what was stored since after.
  KINSHIP_ASSIGN_OR_RETURN(out.added,
                           index.AddStored(store, index.size(), [&](const Incident& inc) {
                             out.style_added += attrib::StyleIndex::Indexes(inc);
                             if (also) also(inc);
                           }));
  // Read in other transactions than the journal: the store's as the journal said only if nothing
  // was written since (every write sets a new generation).
  KINSHIP_ASSIGN_OR_RETURN(out.key, store.SnapshotKey());
  if (out.key != changes->key_after) {
    return absl::FailedPreconditionError("the store was written again meanwhile");
  }
  return out;
}

absl::StatusOr<attrib::StyleIndex> CarryStyleSnapshot(const std::string& path,
                                                      const std::string& from,
                                                      const CaughtUp& caught) {
  if (caught.style_added > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(caught.style_added,
                     caught.style_added == 1 ? " incident with an actor and a hostname was"
                                             : " incidents with an actor and a hostname were",
                     " added: its classifier must be trained again"));
  }
  KINSHIP_ASSIGN_OR_RETURN(attrib::StyleIndex style, attrib::StyleIndex::Load(path, from));
  if (const size_t held = style.CountIndexed(caught.left); held > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(held, held == 1 ? " incident" : " incidents",
                     " that left the store (removed, or replaced by another version) ",
                     held == 1 ? "was" : "were", " in it: its classifier must be trained again"));
  }
  KINSHIP_RETURN_IF_ERROR(style.Save(path, caught.key));
  return style;
}

absl::StatusOr<SnapshotCaughtUp> CatchUpSnapshot(const GlobalOptions& g, Store& store,
                                                 const kb::KnowledgeBase* kb, std::string& from) {
  const std::string path = SnapshotPath(g);
  KINSHIP_ASSIGN_OR_RETURN(const score::SimilarityIndex::SnapshotHeader h,
                           score::SimilarityIndex::ReadSnapshotHeader(path));
  if (!h.readable) return absl::FailedPreconditionError("written by another build");
  from = h.key;
  KINSHIP_ASSIGN_OR_RETURN(score::SimilarityIndex index,
                           score::SimilarityIndex::Load(path, from, kb, ScoringOptionsOf(g)));
  KINSHIP_ASSIGN_OR_RETURN(CaughtUp caught, CatchUpIndex(store, index, from));
  absl::Status saved = index.Save(path, caught.key);
  return SnapshotCaughtUp{std::move(index), std::move(caught), std::move(saved)};
}

SnapshotRefresh RefreshSnapshot(const GlobalOptions& g, Store& store, const kb::KnowledgeBase* kb,
                                const StoreWrite& w, WriteKind kind) {
  const bool adds = kind == WriteKind::kIngest;
  const auto start = std::chrono::steady_clock::now();
  const std::string path = SnapshotPath(g);
  const std::string style_path = StyleSnapshotPath(g);
  SnapshotRefresh r;
  if (w.key_after == w.key_before) return r;  // nothing written: nothing to keep current
  std::string from;                           // the key the similarity snapshot was saved under
  std::optional<CaughtUp> caught;             // set when it was brought up to date
  auto similarity = [&]() -> std::string {    // why it is stale, or "" when updated
    Progress(g, absl::StrCat("keeping the index snapshot ", path, " current"));
    absl::StatusOr<SnapshotCaughtUp> done = CatchUpSnapshot(g, store, kb, from);
    if (!done.ok()) {
      return from.empty() || from == w.key_before
                 ? std::string(done.status().message())
                 : absl::StrCat(adds ? "it was stale before this ingest"
                                     : "it was stale before this removal",
                                " and ", done.status().message());
    }
    if (!done->saved.ok()) return std::string(done->saved.message());
    r.added = done->caught.added;
    r.removed = done->caught.left.size();
    caught = std::move(done->caught);
    return "";
  };
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    r.why = similarity();
    r.state = r.why.empty() ? "updated" : "stale";
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The naming-style snapshot, when it stood for the key the similarity snapshot was brought
  // from, or was current before the write.
  absl::StatusOr<std::string> style_key = attrib::StyleIndex::SnapshotKey(style_path);
  if (!style_key.ok()) return r;
  if (!caught) {
    if (*style_key == w.key_before) {
      r.style_state = "stale";
      r.style_why = "the index snapshot beside it could not be kept current";
    }
    return r;
  }
  if (*style_key != from) return r;
  Progress(g, absl::StrCat("keeping the naming-style snapshot ", style_path, " current"));
  absl::StatusOr<attrib::StyleIndex> style = CarryStyleSnapshot(style_path, from, *caught);
  r.style_state = style.ok() ? "updated" : "stale";
  if (!style.ok()) r.style_why = std::string(style.status().message());
  return r;
}

namespace {

absl::Status RunBuild(const GlobalOptions& g) {
  const auto start = std::chrono::steady_clock::now();
  // With attribution: the same pass over the store also builds the naming-style index, and its
  // classifier is trained. Its key is the store's before and after that pass (else it fails):
  // a snapshot must stand for exactly the store it was built from, since the next write grows
  // it from the store's journal (CatchUpIndex).
  KINSHIP_ASSIGN_OR_RETURN(
      auto analysis,
      Analysis::Load(g, {}, {.attribution = true, .naming = false, .snapshot = false}));
  const std::string key = analysis->key();
  if (key.empty()) {
    return absl::AbortedError(
        "the store was written while it was indexed: no snapshot saved (run `kinship index "
        "build` again)");
  }
  const score::SimilarityIndex& index = analysis->index();
  const std::string path = SnapshotPath(g), style_path = StyleSnapshotPath(g);
  Progress(g, absl::StrCat("writing ", path, " and ", style_path));
  KINSHIP_RETURN_IF_ERROR(index.Save(path, key));
  KINSHIP_RETURN_IF_ERROR(analysis->style().Save(style_path, key));
  const score::IndexStats stats = index.Stats();
  const uintmax_t bytes = std::filesystem::file_size(path);
  const uintmax_t style_bytes = std::filesystem::file_size(style_path);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (g.json) {
    PrintJsonLine({{"snapshot", path},
                   {"key", key},
                   {"incidents", stats.incidents},
                   {"features", stats.features},
                   {"bytes", bytes},
                   {"style_snapshot", style_path},
                   {"style_incidents", analysis->style().size()},
                   {"style_bytes", style_bytes},
                   {"seconds", secs}});
  } else {
    std::printf("index snapshot %s: %zu incidents, %zu features, %.1f MB, %.1f s\n", path.c_str(),
                stats.incidents, stats.features, static_cast<double>(bytes) / 1e6, secs);
    std::printf("naming-style snapshot %s: %zu attributed incidents with hostnames, %.1f MB\n",
                style_path.c_str(), analysis->style().size(),
                static_cast<double>(style_bytes) / 1e6);
  }
  return absl::OkStatus();
}

// "current", "stale (why)", "none" or "damaged (why)": a snapshot whose header read gave `saved`
// (its key; kFailedPrecondition: written by a build that cannot read it) for a store whose key
// is `key`.
std::string StateOf(const absl::StatusOr<std::string>& saved, const std::string& key) {
  if (saved.ok()) return *saved != key ? "stale (the store changed since)" : "current";
  switch (saved.status().code()) {
    case absl::StatusCode::kNotFound:
      return "none";
    case absl::StatusCode::kFailedPrecondition:
      return "stale (written by another build)";
    default:
      return absl::StrCat("damaged (", saved.status().message(), ")");
  }
}

absl::Status RunStatus(const GlobalOptions& g) {
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(const std::string key, store->SnapshotKey());
  const std::string path = SnapshotPath(g);
  absl::StatusOr<score::SimilarityIndex::SnapshotHeader> h =
      score::SimilarityIndex::ReadSnapshotHeader(path);
  std::string state =
      StateOf(h.ok() ? (h->readable ? absl::StatusOr<std::string>(h->key)
                                    : absl::FailedPreconditionError("written by another build"))
                     : absl::StatusOr<std::string>(h.status()),
              key);
  // Stale by writes the store's journal holds: the next write or command that loads it brings
  // it up to date (CatchUpIndex) instead of indexing the store.
  std::optional<bool> catches_up;
  if (h.ok() && h->readable && h->key != key) {
    KINSHIP_ASSIGN_OR_RETURN(const std::optional<StoreWrite> changes, store->ChangesSince(h->key));
    catches_up = changes.has_value();
    if (*catches_up) {
      state =
          "stale (the store changed since, by ingests and removals its journal holds: the next "
          "write or command that loads it brings it up to date)";
    }
  }
  const std::string style_path = StyleSnapshotPath(g);
  absl::StatusOr<std::string> style_key = attrib::StyleIndex::SnapshotKey(style_path);
  const std::string style_state = StateOf(style_key, key);
  if (g.json) {
    nlohmann::json j = {
        {"snapshot", path}, {"state", state.substr(0, state.find(' '))}, {"store_key", key}};
    if (h.ok()) {
      j["snapshot_key"] = h->key;
      j["written_by"] = h->written_by;
    }
    if (catches_up) j["catches_up"] = *catches_up;
    j["style_snapshot"] = style_path;
    j["style_state"] = style_state.substr(0, style_state.find(' '));
    if (style_key.ok()) j["style_snapshot_key"] = *style_key;
    PrintJsonLine(j);
  } else {
    std::printf("index snapshot %s: %s\n", path.c_str(), state.c_str());
    std::printf("  store:    %s\n", key.c_str());
    if (h.ok())
      std::printf("  snapshot: %s, by kinship %s\n", h->key.c_str(), h->written_by.c_str());
    std::printf("naming-style snapshot %s: %s\n", style_path.c_str(), style_state.c_str());
  }
  return absl::OkStatus();
}

void Setup(CLI::App& app, GlobalOptions& g) {
  auto* index = app.add_subcommand(
      "index",
      "The similarity and naming-style indexes saved beside the store, for the commands that "
      "score and attribute to load");
  index->require_subcommand(1);
  auto* build =
      index->add_subcommand("build",
                            "Index the store and save the index beside it (<db>.kindex), and the "
                            "naming-style index and classifier attribution uses (<db>.kstyle)");
  build->callback([&g] { g.exit_code = Finish(g, RunBuild(g)); });
  auto* status =
      index->add_subcommand("status", "Whether the saved indexes are current for the store");
  status->callback([&g] { g.exit_code = Finish(g, RunStatus(g)); });
}

CommandRegistrar reg(42, &Setup);

}  // namespace
}  // namespace kinship::cli
