// kinship attribute ID... | --unattributed: ranked actors with a calibrated probability, its ICD
// 203 likelihood term and the evidence, a separate confidence level, or an explicit abstention.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/analysis.h"
#include "cli/command.h"
#include "kinship/parallel.h"

namespace kinship::cli {
namespace {

struct AttributeArgs {
  std::vector<std::string> ids;
  bool unattributed = false;
  AttributionSettings settings;
};

void PrintResult(const GlobalOptions& g, const Analysis& analysis, const NamingReader& naming,
                 const Incident& query, attrib::Result r) {
  const EvidenceSources sources = EvidenceSourcesOf(naming, query, r);
  NameKbItems(analysis.kb(), r);
  if (g.json) {
    nlohmann::json j = {{"incident", r.incident}};
    j.update(AttributionJson(r, &sources));
    PrintJsonLine(j);
    return;
  }
  std::printf("incident %s\n", r.incident.c_str());
  PrintAttribution(r, "  ", 5, &sources);
}

absl::Status RunAttribute(const GlobalOptions& g, const AttributeArgs& args) {
  if (args.ids.empty() && !args.unattributed) {
    return absl::InvalidArgumentError("give incident ids or --unattributed");
  }
  // --unattributed: the names behind naming evidence kept from indexing (NamingCache), so that
  // the incidents can be streamed from the store while they are attributed.
  KINSHIP_ASSIGN_OR_RETURN(std::unique_ptr<Analysis> analysis,
                           Analysis::Load(g, args.settings, {.naming = args.unattributed}));
  Store& store = analysis->store();
  const NamingReader naming = analysis->Naming(StoreNaming(store));
  if (args.unattributed) {
    // Streamed in batches attributed on worker threads (Analysis::Attribute is const), printed in
    // order; only a batch is held, not every unattributed incident (the whole store, when no
    // source states an attribution).
    size_t total = 0;
    for (const std::string& id : analysis->index().Ids()) {
      total += analysis->index().StatedActors(id).empty();
    }
    constexpr size_t kBatch = 64;
    std::vector<Incident> batch;
    std::vector<attrib::Result> results;
    size_t done = 0;
    auto attribute = [&] {
      if (total > kBatch) {
        Progress(g, absl::StrCat("attributing incidents ", done + 1, "-", done + batch.size(),
                                 " of ", total));
      }
      results.assign(batch.size(), {});
      util::ParallelFor(batch.size(),
                        [&](size_t k) { results[k] = analysis->Attribute(batch[k]); });
      for (size_t k = 0; k < batch.size(); ++k) {
        PrintResult(g, *analysis, naming, batch[k], std::move(results[k]));
      }
      done += batch.size();
      batch.clear();
    };
    KINSHIP_RETURN_IF_ERROR(store.ForEachIncident(
        [&](Incident& inc) {
          if (!inc.attributions.empty()) return true;
          batch.push_back(std::move(inc));
          if (batch.size() == kBatch) attribute();
          return true;
        },
        Store::Detail::kAnalysis));
    if (!batch.empty()) attribute();
  }
  for (const std::string& id : args.ids) {
    KINSHIP_ASSIGN_OR_RETURN(Incident inc, store.GetIncident(id, Store::Detail::kAnalysis));
    PrintResult(g, *analysis, naming, inc, analysis->Attribute(inc));
  }
  return absl::OkStatus();
}

void Setup(CLI::App& app, GlobalOptions& g) {
  auto args = std::make_shared<AttributeArgs>();
  auto* cmd = app.add_subcommand(
      "attribute", "Rank known actors for incidents (probability, ICD 203 term, confidence)");
  cmd->add_option("ids", args->ids, "Incident ids");
  cmd->add_flag("--unattributed", args->unattributed,
                "Attribute every incident whose source states no attribution");
  AddAttributionOptions(*cmd, args->settings);
  cmd->callback([&g, args] { g.exit_code = Finish(g, RunAttribute(g, *args)); });
}

CommandRegistrar reg(45, &Setup);

}  // namespace
}  // namespace kinship::cli
