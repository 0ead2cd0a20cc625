// kinship warninglists load DIR / list: known-benign values (MISP warninglists).
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "kinship/warninglist.h"

namespace kinship::cli {
namespace {

absl::Status RunLoad(GlobalOptions& g, const std::string& dir) {
  Progress(g, absl::StrCat("reading warninglists from ", dir));
  auto lists = LoadWarninglistDir(dir);
  if (!lists.ok()) {
    if (lists.status().code() == absl::StatusCode::kNotFound) {
      return absl::InvalidArgumentError(lists.status().message());
    }
    return lists.status();
  }
  size_t entries = 0;
  for (const Warninglist& w : *lists) entries += w.entries.size();
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/true));
  Progress(g, "storing and re-marking stored indicators (one transaction)");
  KINSHIP_RETURN_IF_ERROR(store->ReplaceWarninglists(*lists));
  if (g.json) {
    PrintJsonLine({{"warninglists", lists->size()}, {"entries", entries}});
  } else {
    std::printf("loaded %zu warninglists (%zu entries)\n", lists->size(), entries);
  }
  return absl::OkStatus();
}

absl::Status RunList(GlobalOptions& g) {
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(auto lists, store->Warninglists());
  for (const Warninglist& w : lists) {
    if (g.json) {
      PrintJsonLine({{"name", w.name},
                     {"title", w.title},
                     {"type", w.type},
                     {"version", w.version},
                     {"entries", w.entries.size()},
                     {"matching_attributes", w.matching_attributes}});
    } else {
      std::printf("%-36s %-9s %8zu  %s\n", w.name.c_str(), w.type.c_str(), w.entries.size(),
                  w.title.c_str());
    }
  }
  return absl::OkStatus();
}

void Setup(CLI::App& app, GlobalOptions& g) {
  auto* wl = app.add_subcommand("warninglists", "Known-benign values (MISP warninglists)");
  wl->require_subcommand(1);
  auto dir = std::make_shared<std::string>();
  auto* load =
      wl->add_subcommand("load", "Replace the stored lists with a MISP warninglists folder");
  load->add_option("dir", *dir,
                   "misp-warninglists folder (lists/<name>/list.json or <name>/list.json)")
      ->required();
  // `kb import` loads the knowledge base: the same verb works here.
  load->alias("import");
  load->callback([&g, dir] { g.exit_code = Finish(g, RunLoad(g, *dir)); });
  auto* list = wl->add_subcommand("list", "List the stored warninglists");
  list->callback([&g] { g.exit_code = Finish(g, RunList(g)); });
}

CommandRegistrar reg(20, &Setup);

}  // namespace
}  // namespace kinship::cli
