// kinship attribute ID... | --unattributed: ranked actors with a calibrated probability, its ICD
// 203 likelihood term and the evidence, a separate confidence level, or an explicit abstention.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/analysis.h"
#include "cli/command.h"
#include "cli/stix_export.h"
#include "cli/unstored.h"
#include "kinship/parallel.h"

namespace kinship::cli {
namespace {

struct AttributeArgs {
  std::vector<std::string> ids;
  bool unattributed = false;
  std::vector<std::string> files;  // --file: read, not stored
  std::string format = "auto";
  bool stix = false;  // --stix: one STIX 2.1 bundle on stdout instead
  AttributionSettings settings;
};

// `file`: the file an unstored incident was read from ("" for a stored incident).
// With `stix`, the result goes into the bundle instead.
void PrintResult(const GlobalOptions& g, const Analysis& analysis, const NamingReader& naming,
                 const Incident& query, attrib::Result r, StixExport* stix,
                 const std::string& file = "") {
  NameKbItems(analysis.kb(), r);
  if (stix != nullptr) {
    stix->Add(query, r);
    return;
  }
  const EvidenceSources sources = EvidenceSourcesOf(naming, query, r);
  if (g.json) {
    nlohmann::json j = {{"incident", r.incident}};
    if (!file.empty()) {
      j["file"] = file;
      j["stored"] = false;
    }
    j.update(AttributionJson(r, &sources));
    PrintJsonLine(j);
    return;
  }
  std::printf("incident %s%s\n", r.incident.c_str(),
              file.empty() ? "" : absl::StrCat(" (from ", file, ", not stored)").c_str());
  PrintAttribution(r, "  ", 5, &sources);
}

absl::Status RunAttribute(const GlobalOptions& g, const AttributeArgs& args) {
  if (args.ids.empty() && !args.unattributed && args.files.empty()) {
    return absl::InvalidArgumentError("give incident ids, --unattributed or --file");
  }
  if (args.stix) KINSHIP_RETURN_IF_ERROR(StixExport::NotWithJson(g.json));
  KINSHIP_RETURN_IF_ERROR(CheckInputsExist(args.files));  // before the store is indexed
  // --unattributed: the names behind naming evidence kept from indexing (NamingCache), so that
  // the incidents can be streamed from the store while they are attributed.
  KINSHIP_ASSIGN_OR_RETURN(std::unique_ptr<Analysis> analysis,
                           Analysis::Load(g, args.settings, {.naming = args.unattributed}));
  Store& store = analysis->store();
  const NamingReader naming = analysis->Naming(StoreNaming(store));
  std::optional<StixExport> stix;
  if (args.stix) stix.emplace(analysis->kb(), StixExport::Now());
  StixExport* into = stix ? &*stix : nullptr;
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
        PrintResult(g, *analysis, naming, batch[k], std::move(results[k]), into);
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
    PrintResult(g, *analysis, naming, inc, analysis->Attribute(inc), into);
  }
  // Files asked about without storing them (a draft, a report that may not be kept): read as
  // ingest reads them, against the store's KB and warninglists. Their own stated attributions
  // are set aside as for any query.
  if (!args.files.empty()) {
    std::vector<Diagnostic> diagnostics;
    KINSHIP_ASSIGN_OR_RETURN(UnstoredContext context, UnstoredContext::Of(store, analysis->kb()));
    KINSHIP_ASSIGN_OR_RETURN(std::vector<Incident> read,
                             ReadUnstored(context, args.files, args.format, &diagnostics));
    if (!g.quiet) PrintDiagnostics(diagnostics, kMaxWarningsShown);
    for (const Incident& inc : read) {
      PrintResult(g, *analysis, naming, inc, analysis->Attribute(inc), into, inc.provenance.file);
    }
  }
  // Printed whole at the end, on one line (as --json's lines are): nothing is written for a run
  // that fails half-way.
  if (stix) std::printf("%s\n", stix->Bundle().dump().c_str());
  return absl::OkStatus();
}

void Setup(CLI::App& app, GlobalOptions& g) {
  auto args = std::make_shared<AttributeArgs>();
  auto* cmd = app.add_subcommand(
      "attribute", "Rank known actors for incidents (probability, ICD 203 term, confidence)");
  cmd->add_option("ids", args->ids, "Incident ids");
  cmd->add_flag("--unattributed", args->unattributed,
                "Attribute every incident whose source states no attribution");
  AddFileOptions(*cmd, args->files, args->format, "Attribute");
  AddAttributionOptions(*cmd, args->settings);
  cmd->add_flag("--stix", args->stix,
                "Write the results as one STIX 2.1 bundle on stdout: an incident, an "
                "attributed-to relationship to the answered actor (confidence = probability x "
                "100) and a note with the ranking, per incident");
  cmd->callback([&g, args] { g.exit_code = Finish(g, RunAttribute(g, *args)); });
}

CommandRegistrar reg(45, &Setup);

}  // namespace
}  // namespace kinship::cli
