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

void PrintResult(const GlobalOptions& g, const Analysis& analysis, Store& store,
                 const Incident& query, attrib::Result r) {
  const EvidenceSources sources = EvidenceSourcesOf(store, query, r);
  NameKbItems(analysis.kb(), r);
  if (g.json) {
    nlohmann::json j = {{"incident", r.incident}};
    j.update(AttributionJson(r, &sources));
    PrintJsonLine(j);
    return;
  }
  std::printf("incident %s\n", r.incident.c_str());
  PrintAttribution(r, "  ", 6, &sources);
}

absl::Status RunAttribute(const GlobalOptions& g, const AttributeArgs& args) {
  if (args.ids.empty() && !args.unattributed) {
    return absl::InvalidArgumentError("give incident ids or --unattributed");
  }
  KINSHIP_ASSIGN_OR_RETURN(std::unique_ptr<Analysis> analysis, Analysis::Load(g, args.settings));
  if (args.unattributed) {
    std::vector<Incident> todo;
    KINSHIP_RETURN_IF_ERROR(analysis->store().ForEachIncident([&](Incident& inc) {
      if (inc.attributions.empty()) todo.push_back(std::move(inc));
      return true;
    }));
    // In batches attributed on worker threads (Analysis::Attribute is const), printed in order.
    constexpr size_t kBatch = 64;
    std::vector<attrib::Result> results;
    for (size_t i = 0; i < todo.size(); i += kBatch) {
      const size_t n = std::min(kBatch, todo.size() - i);
      if (todo.size() > kBatch) {
        Progress(g, absl::StrCat("attributing incidents ", i + 1, "-", i + n, " of ", todo.size()));
      }
      results.assign(n, {});
      util::ParallelFor(n, [&](size_t k) { results[k] = analysis->Attribute(todo[i + k]); });
      for (size_t k = 0; k < n; ++k)
        PrintResult(g, *analysis, analysis->store(), todo[i + k], results[k]);
    }
  }
  for (const std::string& id : args.ids) {
    KINSHIP_ASSIGN_OR_RETURN(Incident inc, analysis->store().GetIncident(id));
    PrintResult(g, *analysis, analysis->store(), inc, analysis->Attribute(inc));
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
