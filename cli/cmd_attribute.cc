// kinship attribute ID... | --unattributed: ranked actors with a calibrated probability, its ICD
// 203 likelihood term and the evidence, a separate confidence level, or an explicit abstention.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "kinship/attribution.h"
#include "kinship/kb.h"
#include "kinship/similarity.h"

namespace kinship::cli {
namespace {

struct AttributeArgs {
  std::vector<std::string> ids;
  bool unattributed = false;
  size_t top = 5;
  size_t neighbours = 20;
  size_t style_neighbours = 10;  // as in `kinship eval`, which fitted the model with 10
};

nlohmann::json EvidenceJson(const attrib::EvidenceItem& e) {
  nlohmann::json j = {{"family", std::string(attrib::FamilyName(e.family))},
                      {"feature", e.feature},
                      {"weight", std::round(e.weight * 1000) / 1000}};
  if (!e.via.empty()) j["via"] = e.via;
  return j;
}

void PrintResult(const GlobalOptions& g, const attrib::Result& r) {
  if (g.json) {
    nlohmann::json cands = nlohmann::json::array();
    for (const attrib::Candidate& c : r.candidates) {
      nlohmann::json ev = nlohmann::json::array();
      for (const attrib::EvidenceItem& e : c.evidence) ev.push_back(EvidenceJson(e));
      cands.push_back({{"actor", c.actor_id},
                       {"name", c.name},
                       {"probability", std::round(c.probability * 1000) / 1000},
                       {"likelihood", c.likelihood},
                       {"evidence", ev}});
    }
    nlohmann::json j = {{"incident", r.incident},
                        {"abstained", r.abstained},
                        {"confidence", std::string(attrib::ConfidenceName(r.confidence))},
                        {"candidates", cands}};
    if (r.abstained) j["abstain_reason"] = r.abstain_reason;
    j["supporting_families"] = r.supporting_families;
    j["survives_strongest_removed"] = r.survives_strongest_removed;
    PrintJsonLine(j);
    return;
  }
  std::printf("incident %s\n", r.incident.c_str());
  if (r.abstained) std::printf("  abstained: %s\n", r.abstain_reason.c_str());
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const attrib::Candidate& c = r.candidates[i];
    std::printf("  %zu. %s (%s): %.0f %%, %s\n", i + 1, c.name.c_str(), c.actor_id.c_str(),
                c.probability * 100, c.likelihood.c_str());
    size_t shown = 0;
    for (const attrib::EvidenceItem& e : c.evidence) {
      if (shown++ >= 6) break;
      std::printf("       %-18s %-40s %.2f%s%s\n",
                  std::string(attrib::FamilyName(e.family)).c_str(), e.feature.c_str(), e.weight,
                  e.via.empty() ? "" : "  via ", e.via.c_str());
    }
  }
  // ICD 203: the confidence in the evidence is its own statement, never mixed with likelihood.
  std::printf(
      "  Confidence in the evidence: %s (supporting families: %s; ranking %s removing the "
      "strongest).\n",
      std::string(attrib::ConfidenceName(r.confidence)).c_str(),
      r.supporting_families.empty() ? "none" : absl::StrJoin(r.supporting_families, ", ").c_str(),
      r.survives_strongest_removed ? "survives" : "does not survive");
}

absl::Status RunAttribute(const GlobalOptions& g, const AttributeArgs& args) {
  if (args.ids.empty() && !args.unattributed) {
    return absl::InvalidArgumentError("give incident ids or --unattributed");
  }
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(kb::KnowledgeBase kb, kb::KnowledgeBase::Load(*store));
  const kb::KnowledgeBase* kbp = kb.empty() ? nullptr : &kb;
  Progress(g, "indexing the store's incidents");
  // One pass over the store: the similarity engine and the naming-style index of the attributed
  // incidents.
  score::SimilarityIndex index(kbp);
  attrib::StyleIndex style;
  absl::Status add_status;
  KINSHIP_RETURN_IF_ERROR(store->ForEachIncident([&](const Incident& inc) {
    add_status = index.Add(inc);
    style.Add(inc);
    return add_status.ok();
  }));
  KINSHIP_RETURN_IF_ERROR(add_status);
  style.Finalize();
  attrib::ProfileMatcher profiles;
  attrib::KbView view;
  if (kbp != nullptr) {
    profiles = attrib::ProfileMatcher::FromKb(kb);
    view = attrib::KbViewOf(kb);
  }
  attrib::AttributorOptions options;
  options.max_candidates = args.top;
  attrib::Attributor attributor(kbp != nullptr ? &profiles : nullptr, view,
                                attrib::Model::Default(), options);
  auto attribute = [&](const Incident& inc) {
    Incident q = inc;
    q.attributions.clear();  // its own stated attribution is never evidence of itself
    PrintResult(g, attributor.Attribute(q, attrib::SimilarNeighbours(index, q, args.neighbours), {},
                                        style.Nearest(q, args.style_neighbours)));
  };
  if (args.unattributed) {
    std::vector<Incident> todo;
    KINSHIP_RETURN_IF_ERROR(store->ForEachIncident([&](const Incident& inc) {
      if (inc.attributions.empty()) todo.push_back(inc);
      return true;
    }));
    for (const Incident& inc : todo) attribute(inc);
  }
  for (const std::string& id : args.ids) {
    KINSHIP_ASSIGN_OR_RETURN(Incident inc, store->GetIncident(id));
    attribute(inc);
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
  cmd->add_option("--top", args->top, "Candidates listed per incident");
  cmd->add_option("--neighbours", args->neighbours, "Similar attributed incidents considered");
  cmd->add_option("--style-neighbours", args->style_neighbours,
                  "Attributed incidents nearest by naming style considered (0: none)");
  cmd->callback([&g, args] { g.exit_code = Finish(g, RunAttribute(g, *args)); });
}

CommandRegistrar reg(45, &Setup);

}  // namespace
}  // namespace kinship::cli
