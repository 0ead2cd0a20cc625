// The `kinship` CLI's plumbing: global options, subcommand registration, exit codes and output.
// Each subcommand lives in its own cli/cmd_*.cc and registers itself with a static
// CommandRegistrar, so adding a command touches one file. Front-end code: public headers only.
//
// Example (cli/cmd_hello.cc):
//   namespace kinship::cli {
//   static void Setup(CLI::App& app, GlobalOptions& g) {
//     auto* cmd = app.add_subcommand("hello", "Say hello");
//     cmd->callback([&g] { g.exit_code = Finish(g, absl::OkStatus()); });
//   }
//   static CommandRegistrar reg(/*order=*/90, &Setup);
//   }
#ifndef KINSHIP_CLI_COMMAND_H_
#define KINSHIP_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kinship/attribution.h"
#include "kinship/similarity.h"
#include "kinship/status.h"
#include "kinship/store.h"

namespace kinship::cli {

// Stable exit codes (documented in the README).
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,  // a bug or an unexpected failure
  kExitUsage = 2,     // bad command line
  kExitBadInput = 3,  // an input file is malformed or missing (file and place are printed)
  kExitStore = 4,     // the store is damaged, locked, or of a newer schema
  kExitNotFound = 5,  // an id or name asked for is not in the store / KB
};

struct GlobalOptions {
  std::string db;         // --db, else $KINSHIP_DB, else ./kinship.db
  bool json = false;      // --json: machine output on stdout
  bool quiet = false;     // --quiet: no progress on stderr
  bool progress = false;  // --progress: progress on stderr even when it is not a terminal
  // --over-correlation: values held by more than max(this, 0.1 % of the store's incidents)
  // weigh nothing (score::ScoringOptions::over_correlation_min); 0 turns the rule off.
  size_t over_correlation = score::ScoringOptions{}.over_correlation_min;
  int exit_code = kExitOk;
};

// The similarity engine's options the global options set (--over-correlation).
score::ScoringOptions ScoringOptionsOf(const GlobalOptions& g);

using CommandSetup = void (*)(CLI::App& app, GlobalOptions& g);

// Registers a subcommand set-up function; `order` sorts `kinship --help`.
struct CommandRegistrar {
  CommandRegistrar(int order, CommandSetup fn);
};

// The exit code for a status (the one place codes are mapped).
int ExitCodeFor(const absl::Status& status);

// Prints `status` to stderr as "kinship: <message>" (JSON {"error":..., "code":...} on stdout
// with --json) and returns its exit code; OK returns kExitOk and prints nothing.
int Finish(const GlobalOptions& g, const absl::Status& status);

// Opens the store named by the global options. `create` false: a missing store is kNotFound.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const GlobalOptions& g, bool create);
// Where `kinship index build` saves the similarity index of the store: "<db>.kindex".
std::string SnapshotPath(const GlobalOptions& g);
// Where it saves the naming-style index and classifier attribution uses: "<db>.kstyle".
std::string StyleSnapshotPath(const GlobalOptions& g);

// The writes that keep the snapshots current: an ingest (adds incidents, and takes out those it
// replaces) and a removal (adds none).
enum class WriteKind { kIngest, kRemoval };

// What a write did to the index snapshots beside the store (cli/cmd_index.cc).
struct SnapshotRefresh {
  std::string state = "none";  // "none" (no snapshot), "updated", or "stale" (left stale: `why`)
  std::string why;
  size_t added = 0;    // incidents added to the snapshot's index (replacing ones included)
  size_t removed = 0;  // incidents taken out of it (removed or replaced)
  double seconds = 0;
  // The naming-style snapshot beside it, when it was current before the write: "updated" (saved
  // under the new key: the write added no incident it indexes and took out none it holds, so it
  // is unchanged) or "stale" (`style_why`: its classifier must be trained again, which a write
  // does not do: the next Analysis::Load that attributes does, and saves it); else "none".
  std::string style_state = "none";
  std::string style_why;
};
// What CatchUpIndex did.
struct CaughtUp {
  std::string key;                // the store's key the index now stands for
  std::vector<std::string> left;  // the incidents taken out of it (removed or replaced)
  size_t added = 0;               // incidents added (replacing versions included)
  size_t style_added = 0;  // of them, ones the naming-style index takes (StyleIndex::Indexes)
};
// Grows `index`, the similarity index of the store when the store's key was `from`, into the
// index of the store as it is now, from the store's journal of writes (Store::ChangesSince): the
// incidents that left since are taken out (SimilarityIndex::Remove), and the ones stored after
// those that stayed are read and added (AddStored; `also` sees each). Errors:
// kFailedPrecondition, saying why, when the journal cannot say (a KB import or new warninglists
// since, or it no longer reaches back to `from`), when `index` does not hold as many incidents as
// the store did at `from`, or when the store was written again while it was read; the store's
// and the index's errors. After an error `index` may have changed: drop it, and index again.
absl::StatusOr<CaughtUp> CatchUpIndex(Store& store, score::SimilarityIndex& index,
                                      const std::string& from,
                                      const std::function<void(const Incident&)>& also = {});

// The similarity snapshot beside the store (SnapshotPath), loaded under the key it was saved
// under (`from`, set as soon as its header is read) and brought up to date by CatchUpIndex,
// then saved under the store's key (`saved`: not saving it is no error for a reader). Errors:
// why it could not be: no readable snapshot, or CatchUpIndex's. `kb`: the store's.
struct SnapshotCaughtUp {
  score::SimilarityIndex index;
  CaughtUp caught;
  absl::Status saved;
};
absl::StatusOr<SnapshotCaughtUp> CatchUpSnapshot(const GlobalOptions& g, Store& store,
                                                 const kb::KnowledgeBase* kb, std::string& from);

// The naming-style snapshot at `path` saved under `from`, when an index was brought up to date
// from `from` (CatchUpIndex's `caught`): saved again under `caught.key` and returned when none of
// the incidents added is one it indexes (an actor and a hostname) and none that left is one it
// holds, since it is then the index of the store as it is. Errors: kFailedPrecondition saying
// why its classifier must be trained again; those of its loader and of Save.
absl::StatusOr<attrib::StyleIndex> CarryStyleSnapshot(const std::string& path,
                                                      const std::string& from,
                                                      const CaughtUp& caught);

// After a write committed to `store`: a similarity snapshot the store's journal reaches (one that
// was current before the write, or stale from writes the journal still holds) is brought up to
// date by CatchUpIndex and saved under the store's new key; else it is left stale, to be built
// again. A naming-style snapshot that stood for the same key is saved under the new key too when
// none of the incidents added is one it indexes (attrib::StyleIndex::Indexes: an actor and a
// hostname) and none of those that left is one it holds, else left stale. Never fails the write:
// a failure leaves a snapshot stale and says why. `kb`: the store's, as the index reads it.
SnapshotRefresh RefreshSnapshot(const GlobalOptions& g, Store& store, const kb::KnowledgeBase* kb,
                                const StoreWrite& write, WriteKind kind);

// Writes one JSON value as a single line on stdout.
void PrintJsonLine(const nlohmann::json& j);

// Stores of at least this many incidents get counted progress on their long steps (indexing,
// the campaigns' neighbour search): below it they take seconds at most.
inline constexpr size_t kCountedProgressFrom = 10000;

// Progress on stderr (unless --quiet, or stderr is not a terminal and neither `force` nor
// --progress is given).
void Progress(const GlobalOptions& g, const std::string& message, bool force = false);

}  // namespace kinship::cli

#endif  // KINSHIP_CLI_COMMAND_H_
