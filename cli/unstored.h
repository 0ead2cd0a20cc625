// Reading inputs as `kinship ingest` reads them, shared by ingest and by the commands that ask
// about a file without storing it (`attribute --file`).
#ifndef KINSHIP_CLI_UNSTORED_H_
#define KINSHIP_CLI_UNSTORED_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kinship/ingest.h"
#include "kinship/kb.h"
#include "kinship/model.h"
#include "kinship/store.h"
#include "kinship/warninglist.h"

namespace kinship::cli {

// Fills KB ids of stated attributions, software and techniques from the store's KB, and the
// names of techniques a source gives only by id.
void LinkToKb(const kb::KnowledgeBase& kb, Incident& inc);

// The --file option (one path per use, so that an id may follow it; repeat for more files) and
// --format, which apply to it. `what` says what the command does with the file's incidents.
void AddFileOptions(CLI::App& cmd, std::vector<std::string>& files, std::string& format,
                    const std::string& what);

// kInvalidArgument naming the first of `paths` that is missing or unreadable: checked before a
// command indexes the store, which may take minutes, only to fail on a typo.
absl::Status CheckInputsExist(const std::vector<std::string>& paths);

// What reading an unstored input takes from the store: its KB (null without one) and a matcher
// over its warninglists, built once (tens of milliseconds for the MISP lists) and kept while the
// store is unchanged: `kinship serve` keeps one per index.
struct UnstoredContext {
  const kb::KnowledgeBase* kb = nullptr;
  std::optional<WarninglistMatcher> matcher;
  // The KB's names compiled for prose once for every read through this context (a server's
  // requests), not once per report.
  std::shared_ptr<ingest::ReportNames> report_names = ingest::NewReportNames();
  static absl::StatusOr<UnstoredContext> Of(Store& store, const kb::KnowledgeBase* kb);
};

// Incidents read from files without storing them: each path listed (a MISP feed folder or a
// folder of inputs works), parsed (`format`: "auto" detects it), normalised, its names linked to
// the context's KB and its values marked against its warninglists, as ingest would store them.
// Warnings are appended to `diagnostics`. Errors: kInvalidArgument for a missing path, an
// unknown format, or a malformed file (the file and the place in it named).
absl::StatusOr<std::vector<Incident>> ReadUnstored(const UnstoredContext& context,
                                                   const std::vector<std::string>& paths,
                                                   const std::string& format,
                                                   std::vector<Diagnostic>* diagnostics);

// The same for one input held in memory (`kinship serve`'s POST /v1/attribute), named `name` in
// errors and provenance.
absl::StatusOr<std::vector<Incident>> ReadUnstoredBuffer(const UnstoredContext& context,
                                                         std::string_view content,
                                                         const std::string& name,
                                                         const std::string& format,
                                                         std::vector<Diagnostic>* diagnostics);

// The diagnostics as `--json` lists them: {"severity", "file", "location", "message"}.
nlohmann::json DiagnosticsJson(const std::vector<Diagnostic>& diagnostics);

// Warnings a command prints before "... and N more".
inline constexpr size_t kMaxWarningsShown = 20;
// The same for one input held in memory (`kinship serve`'s POST /v1/attribute), named `name` in
// errors and provenance.
absl::StatusOr<std::vector<Incident>> ReadUnstoredBuffer(Store& store, const kb::KnowledgeBase* kb,
                                                         std::string_view content,
                                                         const std::string& name,
                                                         const std::string& format,
                                                         std::vector<Diagnostic>* diagnostics);

// Prints the first `max` diagnostics to stderr as "file:place: warning: message", then how many
// more there were.
void PrintDiagnostics(const std::vector<Diagnostic>& diagnostics, size_t max);

}  // namespace kinship::cli

#endif  // KINSHIP_CLI_UNSTORED_H_
