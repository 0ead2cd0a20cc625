// kinship: similarity, campaign linking and attribution of cyber incidents.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"

namespace kinship::cli {
namespace {

std::vector<std::pair<int, CommandSetup>>& Registry() {
  static auto* r = new std::vector<std::pair<int, CommandSetup>>();
  return *r;
}

}  // namespace

CommandRegistrar::CommandRegistrar(int order, CommandSetup fn) {
  Registry().emplace_back(order, fn);
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kResourceExhausted:
      return kExitBadInput;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kPermissionDenied:
      return kExitStore;
    default:
      return kExitInternal;
  }
}

int Finish(const GlobalOptions& g, const absl::Status& status) {
  if (status.ok()) return kExitOk;
  int code = ExitCodeFor(status);
  if (g.json) {
    PrintJsonLine({{"error", std::string(status.message())},
                   {"code", absl::StatusCodeToString(status.code())},
                   {"exit", code}});
  }
  std::fprintf(stderr, "kinship: %s\n", std::string(status.message()).c_str());
  return code;
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const GlobalOptions& g, bool create) {
  auto store = Store::Open(g.db, create);
  if (!create && store.status().code() == absl::StatusCode::kNotFound) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no store at ", g.db, " (use --db FILE, or create one with `kinship ingest`)"));
  }
  return store;
}

void PrintJsonLine(const nlohmann::json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

std::string SnapshotPath(const GlobalOptions& g) { return g.db + ".kindex"; }
std::string StyleSnapshotPath(const GlobalOptions& g) { return g.db + ".kstyle"; }

score::ScoringOptions ScoringOptionsOf(const GlobalOptions& g) {
  score::ScoringOptions options;
  options.over_correlation_min = g.over_correlation;
  if (g.over_correlation == 0) options.over_correlation_share = 0;
  return options;
}

void Progress(const GlobalOptions& g, const std::string& message, bool force) {
  if (g.quiet) return;
  if (!force && !g.progress && !::isatty(STDERR_FILENO)) return;
  std::fprintf(stderr, "%s\n", message.c_str());
}

}  // namespace kinship::cli

int main(int argc, char** argv) {
  using namespace kinship::cli;
  CLI::App app{
      "kinship: how similar are these incidents, why, and which known actor is likely behind "
      "them."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("kinship ") + KINSHIP_VERSION);
  GlobalOptions g;
  if (const char* env = std::getenv("KINSHIP_DB"); env != nullptr && *env) g.db = env;
  if (g.db.empty()) g.db = "kinship.db";
  app.add_option("--db", g.db, "Store file (default $KINSHIP_DB, else ./kinship.db)");
  app.add_flag("--json", g.json, "Machine-readable output (JSON, one object per line)");
  app.add_flag("-q,--quiet", g.quiet, "No progress messages on stderr");
  app.add_flag("--progress", g.progress,
               "Progress messages on stderr even when it is not a terminal (a log, say)");
  app.add_option("--over-correlation", g.over_correlation,
                 "Similarity: a value (or its registered domain, host, /24) held by more than "
                 "max(N, 0.1% of the incidents) incidents weighs nothing, as MISP's "
                 "correlation_limit; 0: every shared value counts")
      ->capture_default_str();
  app.fallthrough();

  auto& reg = Registry();
  std::stable_sort(reg.begin(), reg.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, fn] : reg) fn(app, g);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  } catch (const std::bad_alloc&) {
    // A transaction left open is never committed: SQLite rolls it back.
    return Finish(g, absl::InternalError(
                         "out of memory (a write to the store not yet committed is rolled back)"));
  } catch (const std::exception& e) {
    return Finish(g, absl::InternalError(absl::StrCat("internal error: ", e.what())));
  }
  return g.exit_code;
}
