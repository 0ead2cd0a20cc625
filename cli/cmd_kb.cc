// kinship kb import / kb status / resolve / actor: the knowledge base (ATT&CK + MISP galaxies).
#include <cstdio>
#include <filesystem>
#include <map>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "kinship/kb.h"

namespace kinship::cli {
namespace {

namespace fs = std::filesystem;

// The STIX type name of an entity, as issue 3's JSON shape uses it.
std::string StixType(const kb::KnowledgeBase& kb, const kb::Match& m) {
  switch (m.type) {
    case kb::EntityType::kActor:
      return "intrusion-set";
    case kb::EntityType::kCampaign:
      return "campaign";
    case kb::EntityType::kTechnique:
      return "attack-pattern";
    case kb::EntityType::kSoftware: {
      const kb::Software* s = kb.software(m.id);
      return s != nullptr && s->kind == "tool" ? "tool" : "malware";
    }
  }
  return "";
}

absl::Status RunImport(GlobalOptions& g, const std::vector<std::string>& args) {
  // A folder stands for the *.json files directly inside it; a MISP galaxy checkout (no *.json
  // at its top, its cluster files in clusters/) for those in its clusters/ folder. A folder
  // that gives no file is an error: importing the others and saying nothing of it would leave
  // the analyst believing the aliases were loaded.
  std::vector<std::string> paths;
  auto json_in = [](const fs::path& dir) {
    std::vector<std::string> in_dir;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".json") {
        in_dir.push_back(e.path().string());
      }
    }
    std::sort(in_dir.begin(), in_dir.end());
    return in_dir;
  };
  for (const std::string& a : args) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<std::string> in_dir = json_in(a);
      if (in_dir.empty() && fs::is_directory(fs::path(a) / "clusters", ec)) {
        in_dir = json_in(fs::path(a) / "clusters");
      }
      if (in_dir.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(a, ": a folder with no *.json files (nor a clusters/ folder of them)"));
      }
      paths.insert(paths.end(), in_dir.begin(), in_dir.end());
    } else if (!fs::exists(a, ec)) {
      return absl::InvalidArgumentError(absl::StrCat(a, ": no such file"));
    } else {
      paths.push_back(a);
    }
  }
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/true));
  Progress(g, absl::StrCat("importing ", paths.size(), " knowledge-base files"));
  // Each step said as it starts; on stores of kCountedProgressFrom incidents or more, counted by
  // tenths too.
  size_t next_shown = 0;
  auto sum = kb::Import(*store, paths, [&](std::string_view step, size_t done, size_t total) {
    if (done == 0) {
      Progress(g, absl::StrCat(AV(step), " (", total, ")"));
      next_shown = total / 10;
    } else if (total >= kCountedProgressFrom && done >= next_shown) {
      Progress(g, absl::StrCat(AV(step), ": ", done, " of ", total));
      next_shown += total / 10;
    }
  });
  if (!sum.ok()) {
    if (sum.status().code() == absl::StatusCode::kNotFound) {
      return absl::InvalidArgumentError(sum.status().message());
    }
    return sum.status();
  }
  if (g.json) {
    nlohmann::json sources = nlohmann::json::array();
    for (const kb::SourceInfo& s : sum->sources) {
      sources.push_back(
          {{"kind", s.kind}, {"name", s.name}, {"version", s.version}, {"file", s.file}});
    }
    PrintJsonLine({{"sources", sources},
                   {"actors", sum->actors},
                   {"campaigns", sum->campaigns},
                   {"software", sum->software},
                   {"techniques", sum->techniques},
                   {"relationships", sum->relationships},
                   {"incidents_relinked", sum->incidents_relinked}});
    return absl::OkStatus();
  }
  for (const kb::SourceInfo& s : sum->sources) {
    std::printf("imported %s %s %s (%s)\n", s.kind.c_str(), s.name.c_str(), s.version.c_str(),
                s.file.c_str());
  }
  std::printf(
      "knowledge base: %zu actors, %zu campaigns, %zu software, %zu techniques; %zu stored "
      "incidents re-linked\n",
      sum->actors, sum->campaigns, sum->software, sum->techniques, sum->incidents_relinked);
  return absl::OkStatus();
}

absl::Status RunStatus(GlobalOptions& g) {
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(kb::KnowledgeBase kb, kb::KnowledgeBase::Load(*store));
  if (g.json) {
    nlohmann::json sources = nlohmann::json::array();
    for (const kb::SourceInfo& s : kb.sources()) {
      sources.push_back({{"kind", s.kind},
                         {"name", s.name},
                         {"version", s.version},
                         {"file", s.file},
                         {"sha256", s.sha256}});
    }
    PrintJsonLine({{"sources", sources},
                   {"actors", kb.actors().size()},
                   {"campaigns", kb.campaigns().size()},
                   {"software", kb.software_list().size()},
                   {"techniques", kb.techniques().size()}});
    return absl::OkStatus();
  }
  if (kb.empty()) {
    std::printf(
        "no knowledge base loaded (kinship kb import enterprise-attack.json "
        "misp-galaxy/clusters/threat-actor.json ...)\n");
    return absl::OkStatus();
  }
  for (const kb::SourceInfo& s : kb.sources()) {
    std::printf("%-12s %-22s %-10s %s\n", s.kind.c_str(), s.name.c_str(), s.version.c_str(),
                s.file.c_str());
  }
  std::printf("%zu actors, %zu campaigns, %zu software, %zu techniques\n", kb.actors().size(),
              kb.campaigns().size(), kb.software_list().size(), kb.techniques().size());
  return absl::OkStatus();
}

absl::Status RunResolve(GlobalOptions& g, const std::string& name, const std::string& type) {
  std::optional<kb::EntityType> want;
  if (!type.empty()) {
    for (auto t : {kb::EntityType::kActor, kb::EntityType::kCampaign, kb::EntityType::kSoftware,
                   kb::EntityType::kTechnique}) {
      if (kb::EntityTypeName(t) == type) want = t;
    }
    if (!want) {
      return absl::InvalidArgumentError(
          absl::StrCat("--type must be actor, campaign, software or technique, not '", type, "'"));
    }
  }
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(kb::KnowledgeBase kb, kb::KnowledgeBase::Load(*store));
  if (kb.empty())
    return absl::FailedPreconditionError("no knowledge base loaded (kinship kb import)");
  std::vector<kb::Match> matches = kb.Resolve(name, want);
  if (g.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const kb::Match& m : matches) {
      arr.push_back({{"id", m.id},
                     {"type", StixType(kb, m)},
                     {"name", m.name},
                     {"matched", m.matched},
                     {"matched_text", m.matched_text},
                     {"ambiguous", m.ambiguous},
                     {"score", m.score}});
    }
    PrintJsonLine({{"query", name}, {"matches", arr}});
  } else {
    for (const kb::Match& m : matches) {
      std::printf("%-10s %-9s %-28s %s '%s' (score %.2f)%s\n", m.id.c_str(),
                  std::string(kb::EntityTypeName(m.type)).c_str(), m.name.c_str(),
                  m.matched.c_str(), m.matched_text.c_str(), m.score,
                  m.ambiguous ? "  AMBIGUOUS: the name fits several" : "");
    }
  }
  if (matches.empty())
    return absl::NotFoundError(absl::StrCat("nothing in the KB is called '", name, "'"));
  return absl::OkStatus();
}

absl::Status RunActor(GlobalOptions& g, const std::string& query) {
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(kb::KnowledgeBase kb, kb::KnowledgeBase::Load(*store));
  const kb::Actor* a = kb.actor(query);
  std::vector<kb::Match> matches;
  if (a == nullptr) {
    matches = kb.Resolve(query, kb::EntityType::kActor);
    if (matches.empty()) return absl::NotFoundError(absl::StrCat("no actor called '", query, "'"));
    a = kb.actor(matches.front().id);
    if (a == nullptr) return absl::NotFoundError(absl::StrCat("no actor called '", query, "'"));
  }
  // Techniques grouped by tactic, software and campaigns by name.
  std::map<std::string, std::vector<std::string>> by_tactic;
  for (const std::string& tid : a->technique_ids) {
    const kb::Technique* t = kb.technique(tid);
    std::string label = t ? absl::StrCat(tid, " ", t->name) : tid;
    if (t == nullptr || t->tactics.empty()) {
      by_tactic["(no tactic)"].push_back(label);
    } else {
      for (const std::string& tac : t->tactics) by_tactic[tac].push_back(label);
    }
  }
  std::vector<std::string> software, campaigns;
  for (const std::string& sid : a->software_ids) {
    const kb::Software* s = kb.software(sid);
    software.push_back(s ? absl::StrCat(sid, " ", s->name) : sid);
  }
  for (const std::string& cid : a->campaign_ids) {
    const kb::Campaign* c = kb.campaign(cid);
    campaigns.push_back(c ? absl::StrCat(cid, " ", c->name) : cid);
  }
  // Stored incidents whose source attributes them to this actor.
  std::vector<std::pair<std::string, std::string>> incidents;
  KINSHIP_ASSIGN_OR_RETURN(auto list, store->ListIncidents());
  for (const IncidentSummary& s : list) {
    for (const std::string& who : s.attributed_to) {
      if (who == a->id) {
        incidents.emplace_back(s.id, s.title);
        break;
      }
    }
  }
  if (g.json) {
    nlohmann::json inc = nlohmann::json::array();
    for (auto& [id, title] : incidents) inc.push_back({{"id", id}, {"title", title}});
    PrintJsonLine({{"id", a->id},
                   {"name", a->name},
                   {"aliases", a->aliases},
                   {"sponsor_country", a->sponsor_country},
                   {"victims", a->victims},
                   {"target_sectors", a->target_sectors},
                   {"techniques_by_tactic", by_tactic},
                   {"software", software},
                   {"campaigns", campaigns},
                   {"incidents", inc},
                   {"revoked", a->revoked},
                   {"deprecated", a->deprecated},
                   {"ambiguous", !matches.empty() && matches.front().ambiguous}});
    return absl::OkStatus();
  }
  std::printf("%s (%s)%s\n", a->name.c_str(), a->id.c_str(),
              !matches.empty() && matches.front().ambiguous
                  ? "  [the name is ambiguous: see `kinship resolve`]"
                  : "");
  if (!a->aliases.empty())
    std::printf("  also known as: %s\n", absl::StrJoin(a->aliases, ", ").c_str());
  if (!a->sponsor_country.empty()) {
    std::printf("  suspected sponsor: %s\n", a->sponsor_country.c_str());
  }
  if (!a->victims.empty())
    std::printf("  suspected victims: %s\n", absl::StrJoin(a->victims, ", ").c_str());
  if (!software.empty()) std::printf("  software: %s\n", absl::StrJoin(software, ", ").c_str());
  if (!campaigns.empty()) std::printf("  campaigns: %s\n", absl::StrJoin(campaigns, ", ").c_str());
  std::printf("  techniques (%zu):\n", a->technique_ids.size());
  for (const auto& [tactic, list_for] : by_tactic) {
    std::printf("    %s: %s\n", tactic.c_str(), absl::StrJoin(list_for, "; ").c_str());
  }
  std::printf("  incidents in this store attributed to it by their source: %zu\n",
              incidents.size());
  for (auto& [id, title] : incidents) std::printf("    %s  %s\n", id.c_str(), title.c_str());
  return absl::OkStatus();
}

void Setup(CLI::App& app, GlobalOptions& g) {
  auto* kbc = app.add_subcommand("kb", "The knowledge base: ATT&CK and MISP galaxies");
  kbc->require_subcommand(1);
  auto paths = std::make_shared<std::vector<std::string>>();
  auto* imp = kbc->add_subcommand(
      "import", "Import ATT&CK STIX bundles and MISP galaxy cluster files (one transaction)");
  imp->add_option("paths", *paths,
                  "Files, or folders of *.json files (a MISP galaxy checkout: its clusters/)")
      ->required();
  imp->callback([&g, paths] { g.exit_code = Finish(g, RunImport(g, *paths)); });
  auto* status = kbc->add_subcommand("status", "What is loaded, from which release, with counts");
  status->callback([&g] { g.exit_code = Finish(g, RunStatus(g)); });

  auto name = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>();
  auto* res = app.add_subcommand("resolve", "Which actor, software or technique a name means");
  res->add_option("name", *name, "Name, alias or id")->required();
  res->add_option("--type", *type, "actor|campaign|software|technique");
  res->callback([&g, name, type] { g.exit_code = Finish(g, RunResolve(g, *name, *type)); });

  auto actor = std::make_shared<std::string>();
  auto* act =
      app.add_subcommand("actor", "An actor's profile and the stored incidents attributed to it");
  act->add_option("actor", *actor, "Name, alias or id (G0007)")->required();
  act->callback([&g, actor] { g.exit_code = Finish(g, RunActor(g, *actor)); });
}

CommandRegistrar reg(30, &Setup);

}  // namespace
}  // namespace kinship::cli
