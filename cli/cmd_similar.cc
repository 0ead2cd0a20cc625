// kinship similar / compare / campaigns: which incidents resemble this one, how strongly and why;
// which incidents belong together.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/analysis.h"
#include "cli/command.h"
#include "cli/stix_export.h"
#include "cli/unstored.h"
#include "cli/views.h"
#include "kinship/similarity.h"

namespace kinship::cli {
namespace {

// Each family on one line, at most five items; under the naming family, when `names` has them,
// the domains, URLs and file names behind its shown items on each side ("names behind them:
// svchost.exe.exe ~ dllhost.dat"): one line, since the n-grams of one name repeat its values.
// A campaign's binding (`campaign` given) lists the values of its members instead, at most
// three: "names behind them: a.com, b.net, c.org +4 more, in 3 members".
void PrintExplanation(const score::Explanation& e, const char* indent,
                      const NamingSourceMap* names = nullptr,
                      const CampaignNamingMap* campaign = nullptr) {
  constexpr size_t kShown = 5;
  for (const score::FamilyEvidence& f : e.families) {
    std::printf("%s%-15s %.2f:", indent, std::string(score::FamilyName(f.family)).c_str(),
                f.weight);
    // The union over the shown items, in order of first appearance: a pair's two sides, or a
    // campaign's members' values (and which members hold them).
    NamingSides behind;
    std::vector<std::string> values;
    size_t values_total = 0;
    absl::flat_hash_set<std::string> members;
    auto add = [](const std::vector<std::string>& from, size_t from_total,
                  std::vector<std::string>& to, size_t& to_total) {
      for (const std::string& v : from) {
        if (std::find(to.begin(), to.end(), v) == to.end()) to.push_back(v);
      }
      to_total = std::max({to_total, from_total, to.size()});
    };
    for (size_t i = 0; i < f.items.size() && i < kShown; ++i) {
      const score::EvidenceItem& it = f.items[i];
      std::printf("%s %s%s%s (%.2f)", i == 0 ? "" : ",", it.feature.c_str(),
                  it.name.empty() ? "" : " ", it.name.c_str(), it.weight);
      if (campaign != nullptr) {
        if (auto n = campaign->find(it.feature); n != campaign->end()) {
          add(n->second.values, n->second.total, values, values_total);
          for (const MemberNames& m : n->second.members) members.insert(m.id);
        }
      } else if (names != nullptr) {
        if (auto n = names->find(it.feature); n != names->end()) {
          add(n->second.a, n->second.a_total, behind.a, behind.a_total);
          add(n->second.b, n->second.b_total, behind.b, behind.b_total);
        }
      }
    }
    if (f.items.size() > kShown) std::printf(", +%zu more", f.items.size() - kShown);
    std::printf("\n");
    if (!behind.a.empty() || !behind.b.empty()) {
      std::printf("%s%-15s names behind them: %s\n", indent, "", NamingSidesText(behind).c_str());
    }
    if (!values.empty()) {
      std::printf("%s%-15s names behind them: %s\n", indent, "",
                  CampaignNamesText(values, values_total, members.size()).c_str());
    }
  }
  if (e.over_correlating > 0) {
    std::printf("%s%-15s %s\n", indent, "not counted", e.OverCorrelatingText().c_str());
  }
}

// The matches of `similar`, best first, each with its explanation.
void PrintMatches(const Analysis& l, const std::vector<score::Match>& matches,
                  const std::vector<NamingSourceMap>& names) {
  for (size_t i = 0; i < matches.size(); ++i) {
    const score::Match& m = matches[i];
    std::vector<std::string> actors = l.index().StatedActors(m.id);
    std::printf(
        "%2zu. %s  p=%.3f (%s)  raw=%.2f%s\n", i + 1, m.id.c_str(), m.comparison.probability,
        std::string(attrib::LikelihoodTerm(m.comparison.probability)).c_str(), m.comparison.raw,
        actors.empty() ? ""
                       : absl::StrCat("  (stated: ", absl::StrJoin(actors, ", "), ")").c_str());
    PrintExplanation(m.comparison.explanation, "      ", &names[i]);
  }
}

// What `similar` prints when no match is left: none shares evidence, or none is probable enough.
// `candidates`: what was searched ("incident", "stored incident"); `query`: what for.
void PrintNoMatch(const char* candidates, const std::string& query, size_t dropped,
                  double min_probability) {
  if (dropped == 0) {
    std::printf("no %s shares evidence with %s\n", candidates, query.c_str());
  } else {
    std::printf("no %s is similar to %s at p >= %.2f (%zu below it)\n", candidates, query.c_str(),
                min_probability, dropped);
  }
}

// Stored incidents' titles and first-stored times, for a STIX export.
StoredNameReader StoredNames(Store& store) {
  return StoredNamesOf([&store](const std::string& id, Store::Detail detail) {
    return store.GetIncident(id, detail);
  });
}

// `stix`: one STIX 2.1 bundle on stdout instead (cli/stix_export.h).
absl::Status RunSimilar(const GlobalOptions& g, const std::string& id, size_t top,
                        double min_probability, bool stix) {
  if (stix) KINSHIP_RETURN_IF_ERROR(StixExport::NotWithJson(g.json));
  KINSHIP_ASSIGN_OR_RETURN(auto l, Analysis::Load(g, {}, {.attribution = false}));
  KINSHIP_ASSIGN_OR_RETURN(std::vector<score::Match> matches, l->index().Similar(id, top));
  const size_t dropped = DropLessProbable(matches, min_probability);
  NameKbItems(l->kb(), matches);
  if (stix) {
    KINSHIP_ASSIGN_OR_RETURN(Incident query, l->store().GetIncident(id, Store::Detail::kNaming));
    StixExport bundle(l->kb(), StixExport::Now());
    bundle.AddSimilar(query, matches, StoredNames(l->store()));
    std::printf("%s\n", bundle.Bundle().dump().c_str());
    return absl::OkStatus();
  }
  const std::vector<NamingSourceMap> names = NamingSourcesOf(StoreNaming(l->store()), id, matches);
  if (g.json) {
    PrintJsonLine(SimilarJson(l->index(), id, matches, &names));
    return absl::OkStatus();
  }
  if (matches.empty()) PrintNoMatch("incident", id, dropped, min_probability);
  PrintMatches(*l, matches, names);
  return absl::OkStatus();
}

// The store indexed for similarity and the incidents of `files`, read as ingest reads them and
// not stored; a missing file fails before the store is indexed. Warnings go to stderr.
struct FileQueries {
  std::unique_ptr<Analysis> analysis;
  std::vector<Incident> incidents;
};
absl::StatusOr<FileQueries> LoadFileQueries(const GlobalOptions& g,
                                            const std::vector<std::string>& files,
                                            const std::string& format) {
  KINSHIP_RETURN_IF_ERROR(CheckInputsExist(files));
  FileQueries q;
  KINSHIP_ASSIGN_OR_RETURN(q.analysis, Analysis::Load(g, {}, {.attribution = false}));
  std::vector<Diagnostic> diagnostics;
  KINSHIP_ASSIGN_OR_RETURN(UnstoredContext context,
                           UnstoredContext::Of(q.analysis->store(), q.analysis->kb()));
  KINSHIP_ASSIGN_OR_RETURN(q.incidents, ReadUnstored(context, files, format, &diagnostics));
  if (!g.quiet) PrintDiagnostics(diagnostics, kMaxWarningsShown);
  return q;
}

// Naming texts: the unstored `query`'s from the incident read, the others' with `stored`.
NamingReader WithUnstored(const Incident& query, NamingReader stored) {
  return [&query,
          stored = std::move(stored)](const std::string& id) -> std::optional<score::NamingTexts> {
    if (id == query.id) return score::NamingTexts(query);
    return stored(id);
  };
}

// `similar --file`: the stored incidents most similar to each incident of the files, which are
// read as ingest reads them and not stored.
absl::Status RunSimilarFiles(const GlobalOptions& g, const std::vector<std::string>& files,
                             const std::string& format, size_t top, double min_probability,
                             bool stix) {
  if (stix) KINSHIP_RETURN_IF_ERROR(StixExport::NotWithJson(g.json));
  KINSHIP_ASSIGN_OR_RETURN(FileQueries q, LoadFileQueries(g, files, format));
  const Analysis& l = *q.analysis;
  const NamingReader stored = StoreNaming(q.analysis->store());
  std::optional<StixExport> bundle;
  if (stix) bundle.emplace(l.kb(), StixExport::Now());
  const StoredNameReader stored_names = StoredNames(q.analysis->store());
  for (const Incident& inc : q.incidents) {
    std::vector<score::Match> matches = l.index().Similar(inc, top);
    const size_t dropped = DropLessProbable(matches, min_probability);
    NameKbItems(l.kb(), matches);
    if (bundle) {
      bundle->AddSimilar(inc, matches, stored_names);
      continue;
    }
    const NamingReader naming = WithUnstored(inc, stored);
    const std::vector<NamingSourceMap> names = NamingSourcesOf(naming, inc.id, matches);
    if (g.json) {
      nlohmann::json j = SimilarJson(l.index(), inc.id, matches, &names);
      j["file"] = inc.provenance.file;
      j["stored"] = false;
      PrintJsonLine(j);
      continue;
    }
    std::printf("incident %s (from %s, not stored)\n", inc.id.c_str(), inc.provenance.file.c_str());
    if (matches.empty()) PrintNoMatch("stored incident", "it", dropped, min_probability);
    PrintMatches(l, matches, names);
  }
  // Printed whole at the end, on one line: nothing is written for a run that fails half-way.
  if (bundle) std::printf("%s\n", bundle->Bundle().dump().c_str());
  return absl::OkStatus();
}

// `stix`: one STIX 2.1 bundle on stdout instead (cli/stix_export.h).
absl::Status RunCompare(const GlobalOptions& g, const std::string& a, const std::string& b,
                        bool stix) {
  if (stix) KINSHIP_RETURN_IF_ERROR(StixExport::NotWithJson(g.json));
  KINSHIP_ASSIGN_OR_RETURN(auto l, Analysis::Load(g, {}, {.attribution = false}));
  KINSHIP_ASSIGN_OR_RETURN(score::Comparison c, l->index().Compare(a, b));
  NameKbItems(l->kb(), c.explanation);
  if (stix) {
    KINSHIP_ASSIGN_OR_RETURN(Incident first, l->store().GetIncident(a, Store::Detail::kNaming));
    StixExport bundle(l->kb(), StixExport::Now());
    bundle.AddComparison(first, b, StoredNames(l->store())(b), c);
    std::printf("%s\n", bundle.Bundle().dump().c_str());
    return absl::OkStatus();
  }
  const NamingSourceMap names = NamingSourcesOf(StoreNaming(l->store()), a, b, c.explanation);
  if (g.json) {
    PrintJsonLine(CompareJson(a, b, c, &names));
    return absl::OkStatus();
  }
  std::printf("%s vs %s: p=%.3f, %s (raw evidence %.2f)\n", a.c_str(), b.c_str(), c.probability,
              std::string(attrib::LikelihoodTerm(c.probability)).c_str(), c.raw);
  if (c.explanation.families.empty()) std::printf("  no shared evidence\n");
  PrintExplanation(c.explanation, "  ", &names);
  return absl::OkStatus();
}

// `compare --file PATH B`: each incident of the file (read as ingest reads it, not stored)
// against stored incident B, as `similar --file` explains B among its matches.
absl::Status RunCompareFiles(const GlobalOptions& g, const std::vector<std::string>& files,
                             const std::string& format, const std::string& b, bool stix) {
  if (stix) KINSHIP_RETURN_IF_ERROR(StixExport::NotWithJson(g.json));
  KINSHIP_ASSIGN_OR_RETURN(FileQueries q, LoadFileQueries(g, files, format));
  const Analysis& l = *q.analysis;
  const NamingReader stored = StoreNaming(q.analysis->store());
  std::optional<StixExport> bundle;
  StoredName b_name;
  if (stix) {
    bundle.emplace(l.kb(), StixExport::Now());
    b_name = StoredNames(q.analysis->store())(b);
  }
  for (const Incident& inc : q.incidents) {
    KINSHIP_ASSIGN_OR_RETURN(score::Comparison c, l.index().Compare(inc, b));
    NameKbItems(l.kb(), c.explanation);
    if (bundle) {
      bundle->AddComparison(inc, b, b_name, c);
      continue;
    }
    const NamingReader naming = WithUnstored(inc, stored);
    const NamingSourceMap names = NamingSourcesOf(naming, inc.id, b, c.explanation);
    if (g.json) {
      nlohmann::json j = CompareJson(inc.id, b, c, &names);
      j["file"] = inc.provenance.file;
      j["stored"] = false;
      PrintJsonLine(j);
      continue;
    }
    std::printf("%s (from %s, not stored) vs %s: p=%.3f, %s (raw evidence %.2f)\n", inc.id.c_str(),
                inc.provenance.file.c_str(), b.c_str(), c.probability,
                std::string(attrib::LikelihoodTerm(c.probability)).c_str(), c.raw);
    if (c.explanation.families.empty()) std::printf("  no shared evidence\n");
    PrintExplanation(c.explanation, "  ", &names);
  }
  // Printed whole at the end, on one line: nothing is written for a run that fails half-way.
  if (bundle) std::printf("%s\n", bundle->Bundle().dump().c_str());
  return absl::OkStatus();
}

// `stix`: one STIX 2.1 bundle of every campaign on stdout instead (cli/stix_export.h).
absl::Status RunCampaigns(const GlobalOptions& g, const score::CampaignOptions& options,
                          bool attribute, size_t max_items, bool stix) {
  if (stix) KINSHIP_RETURN_IF_ERROR(StixExport::NotWithJson(g.json));
  // Without attribution, neither the naming-style index nor its classifier is built. The names
  // behind naming evidence are kept from indexing: without attribution the binding's (no member
  // is read back), with it those of the similar incidents each assessment cites.
  KINSHIP_ASSIGN_OR_RETURN(std::unique_ptr<Analysis> analysis,
                           Analysis::Load(g, {}, {.attribution = attribute, .naming = true}));
  Progress(g, "linking incidents");
  score::CampaignOptions linking = options;
  linking.progress = [&g](size_t done, size_t total) {
    if (total >= kCountedProgressFrom) {
      Progress(g, absl::StrCat("  neighbours searched for ", done, " of ", total, " incidents"));
    }
  };
  StoreReaders readers(g, analysis->store());
  KINSHIP_ASSIGN_OR_RETURN(
      AssessedCampaigns found,
      FindAssessedCampaigns(*analysis, linking, attribute, readers.Getter(),
                            [&g](const std::string& what) { Progress(g, what); }));
  const std::vector<score::Campaign>& cs = found.campaigns;
  // The human view lists each member with its date, title and stated actors; STIX names them.
  absl::flat_hash_map<std::string, IncidentSummary> summaries;
  if (!g.json && !cs.empty()) {
    KINSHIP_ASSIGN_OR_RETURN(std::vector<IncidentSummary> list, analysis->store().ListIncidents());
    for (IncidentSummary& s : list) summaries.emplace(s.id, std::move(s));
  }
  if (stix) {
    StixExport bundle(analysis->kb(), StixExport::Now());
    bundle.AddCampaigns(cs, attribute ? &found.assessed : nullptr, [&](const std::string& id) {
      auto it = summaries.find(id);
      return it == summaries.end() ? StoredName()
                                   : StoredName{it->second.title, it->second.first_stored};
    });
    // On one line, printed when every campaign is in.
    std::printf("%s\n", bundle.Bundle().dump().c_str());
    return absl::OkStatus();
  }
  for (size_t i = 0; i < cs.size(); ++i) {
    const score::Campaign& c = cs[i];
    const attrib::Result* assessed = attribute ? &found.assessed[i] : nullptr;
    if (g.json) {
      PrintJsonLine(CampaignJson(found, i, max_items));
      continue;
    }
    // The span as days: sources state times as dates (MISP) or timestamps (STIX); --json keeps
    // them as stated.
    auto day = [](const std::string& t) { return t.empty() ? std::string("?") : t.substr(0, 10); };
    std::printf("campaign %zu: %zu incidents, %s .. %s, cohesion %.2f\n", i + 1, c.members.size(),
                day(c.first_seen).c_str(), day(c.last_seen).c_str(), c.cohesion);
    std::printf("  members:\n");
    for (const std::string& id : c.members) {
      auto it = summaries.find(id);
      if (it == summaries.end()) {
        std::printf("    %s\n", id.c_str());
        continue;
      }
      const IncidentSummary& m = it->second;
      std::printf("    %-40s  %-10s  %s%s\n", id.c_str(), day(m.first_seen).c_str(),
                  m.title.c_str(),
                  m.attributed_to.empty()
                      ? ""
                      : absl::StrCat("  [", absl::StrJoin(m.attributed_to, ", "), "]").c_str());
    }
    if (c.actor.empty()) {
      std::printf("  stated attribution: none\n");
    } else {
      std::printf("  stated attribution: %s (%zu of %zu attributed members)\n", c.actor.c_str(),
                  c.actor_votes, c.attributed_members);
    }
    if (!c.linked.empty()) {
      // Linked to one member but not, on average, to the campaign: beside it, not in it.
      constexpr size_t kShown = 5;
      std::vector<std::string> shown;
      for (size_t k = 0; k < c.linked.size() && k < kShown; ++k) {
        const score::LinkedIncident& l = c.linked[k];
        shown.push_back(absl::StrFormat("%s (to %s, p=%.2f)", l.id, l.via, l.probability));
      }
      if (c.linked.size() > kShown)
        shown.push_back(absl::StrCat(c.linked.size() - kShown, " more"));
      std::printf("  linked to a member, not to the campaign: %s\n",
                  absl::StrJoin(shown, ", ").c_str());
    }
    PrintExplanation(c.binding, "  ", nullptr, &found.binding_names[i]);
    if (assessed != nullptr) {
      std::printf("  assessed attribution (the members' own sources left out):\n");
      PrintAttribution(*assessed, "    ", 5, &found.assessed_sources[i]);
    }
  }
  if (!g.json && cs.empty()) {
    std::printf("no campaigns of %zu or more incidents linked at threshold %.2f\n",
                std::max<size_t>(options.min_members, 2), options.threshold);
  }
  return absl::OkStatus();
}

struct Args {
  std::string id, a, b;
  std::vector<std::string> files;  // similar --file
  std::string format = "auto";
  size_t top = 10;
  double min_probability = 0.0;
  double threshold = 0.5;
  std::string linkage = "average";
  size_t min_members = 2;
  size_t items = kCampaignItemsListed;
  bool attribute = true;
  bool stix = false;  // similar --stix, compare --stix, campaigns --stix
};

void Setup(CLI::App& app, GlobalOptions& g) {
  auto args = std::make_shared<Args>();
  auto* sim = app.add_subcommand("similar", "Incidents most similar to one, with explanations");
  sim->add_option("id", args->id, "Incident id");
  sim->add_option("--top", args->top, "How many (default 10)")->check(CLI::Range(1, 10000));
  sim->add_option("--min-probability", args->min_probability,
                  "Of those, only the matches whose same-actor probability is at least this")
      ->check(CLI::Range(0.0, 1.0));
  AddFileOptions(*sim, args->files, args->format, "Instead of an id:");
  sim->add_flag("--stix", args->stix,
                "Write the answer as one STIX 2.1 bundle on stdout: the incident asked about and "
                "each match as incidents, related-to with confidence = the pair's probability x "
                "100 and the shared evidence in its description (not with --json)");
  sim->callback([&g, args] {
    absl::Status st;
    if (args->id.empty() == args->files.empty()) {
      st = absl::InvalidArgumentError("give an incident id or --file, not both");
    } else if (!args->files.empty()) {
      st = RunSimilarFiles(g, args->files, args->format, args->top, args->min_probability,
                           args->stix);
    } else {
      st = RunSimilar(g, args->id, args->top, args->min_probability, args->stix);
    }
    g.exit_code = Finish(g, st);
  });

  auto* cmp = app.add_subcommand("compare", "Score and explain one pair of incidents");
  cmp->add_option("a", args->a, "First incident id (with --file: the stored incident)");
  cmp->add_option("b", args->b, "Second incident id");
  AddFileOptions(*cmp, args->files, args->format, "Instead of the first id:");
  cmp->add_flag("--stix", args->stix,
                "Write the answer as one STIX 2.1 bundle on stdout: the two incidents, the first "
                "related-to the second with confidence = the pair's probability x 100 and the "
                "shared evidence in its description (not with --json)");
  cmp->callback([&g, args] {
    absl::Status st;
    if (!args->files.empty()) {
      st = args->a.empty() || !args->b.empty()
               ? absl::InvalidArgumentError("with --file, give one stored incident id")
               : RunCompareFiles(g, args->files, args->format, args->a, args->stix);
    } else if (args->a.empty() || args->b.empty()) {
      st = absl::InvalidArgumentError("give two incident ids, or --file and one");
    } else {
      st = RunCompare(g, args->a, args->b, args->stix);
    }
    g.exit_code = Finish(g, st);
  });

  auto* camp = app.add_subcommand("campaigns", "Group linked incidents into campaigns");
  camp->add_option("--threshold", args->threshold,
                   "Same-actor probability that links two incidents (default 0.5)")
      ->check(CLI::Range(0.01, 1.0));
  camp->add_flag("!--no-attribution", args->attribute,
                 "Skip attributing each campaign (faster on large stores)");
  camp->add_option("--linkage", args->linkage,
                   "average (default: no chains through a bridge incident) | single (connected "
                   "components of the links, as a correlation graph; chains)")
      ->check(CLI::IsMember({"average", "single"}));
  camp->add_option("--min-members", args->min_members,
                   "Smallest campaign shown (default 2); members of smaller groups may still be "
                   "listed as linked to a larger one")
      ->check(CLI::Range(size_t{2}, size_t{1000000}));
  camp->add_option(
          "--items", args->items,
          absl::StrCat("Binding evidence items listed per family with --json, the "
                       "strongest (default ",
                       kCampaignItemsListed, "; 0: every one; \"items_total\" counts them)"))
      ->check(CLI::Range(size_t{0}, size_t{1000000}));
  camp->add_flag("--stix", args->stix,
                 "Write the campaigns as one STIX 2.1 bundle on stdout: a campaign per campaign, "
                 "its members as incidents related to it, and its assessed attribution "
                 "(attributed-to, confidence = probability x 100, where kinship answers)");
  camp->callback([&g, args] {
    score::CampaignOptions options;
    options.threshold = args->threshold;
    options.min_members = args->min_members;
    options.linkage = *ParseLinkage(args->linkage);  // checked by IsMember above
    g.exit_code = Finish(g, RunCampaigns(g, options, args->attribute, args->items, args->stix));
  });
}

CommandRegistrar reg(40, &Setup);

}  // namespace
}  // namespace kinship::cli
