// kinship tlsh-cluster FILE / similar-file DIGEST...: fuzzy-hash clustering and look-up.
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli/command.h"
#include "kinship/fuzzy.h"

namespace kinship::cli {
namespace {

const char* KindName(FuzzyKind k) { return k == FuzzyKind::kTlsh ? "tlsh" : "ssdeep"; }

// One digest per line; blank lines and lines starting with '#' are skipped. Text after a tab or
// comma is ignored, so "digest<TAB>label" and "digest,label" files work too.
absl::Status RunTlshCluster(GlobalOptions& g, const std::string& path, int radius) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open");
  std::vector<TlshDigest> digests;
  std::vector<size_t> line_of;
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    size_t cut = line.find_first_of("\t,\r");
    std::string text = line.substr(0, cut);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    size_t start = text.find_first_not_of(' ');
    text = start == std::string::npos ? "" : text.substr(start);
    if (text.empty() || text[0] == '#') continue;
    absl::StatusOr<TlshDigest> d = ParseTlsh(text);
    if (!d.ok()) {
      return absl::InvalidArgumentError(path + ":" + std::to_string(line_no) + ":" +
                                        std::to_string(start + 1) + ": " +
                                        std::string(d.status().message()));
    }
    digests.push_back(*d);
    line_of.push_back(line_no);
  }
  Progress(g, "clustering " + std::to_string(digests.size()) + " digests");
  KINSHIP_ASSIGN_OR_RETURN(TlshClustering c, ClusterTlsh(digests, {.radius = radius}));
  if (g.json) {
    for (size_t i = 0; i < digests.size(); ++i) {
      PrintJsonLine(
          {{"line", line_of[i]}, {"digest", digests[i].ToString()}, {"cluster", c.cluster[i]}});
    }
  } else {
    std::printf("%zu digests, %zu clusters (%zu with 2 or more members, %zu single), radius %d\n",
                digests.size(), c.clusters, c.clusters - c.singletons, c.singletons, radius);
    std::printf("%-6s %-8s %s\n", "line", "cluster", "digest");
    for (size_t i = 0; i < digests.size(); ++i) {
      std::printf("%-6zu %-8u %s\n", line_of[i], c.cluster[i], digests[i].ToString().c_str());
    }
  }
  return absl::OkStatus();
}

absl::Status RunSimilarFile(GlobalOptions& g, const std::vector<std::string>& queries,
                            int max_distance, int min_score, size_t limit) {
  // Validate every digest before touching the store.
  std::vector<FuzzyKind> kinds;
  for (const std::string& q : queries) {
    KINSHIP_ASSIGN_OR_RETURN(FuzzyKind k, DetectFuzzyKind(q));
    kinds.push_back(k);
  }
  if (min_score < 1 || min_score > 100) {
    return absl::InvalidArgumentError("--min-score must be 1..100");
  }
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  FuzzyEvidenceIndex index;
  std::map<std::string, std::string> titles;
  KINSHIP_RETURN_IF_ERROR(store->ForEachIncident([&](const Incident& inc) {
    if (index.AddIncident(inc) > 0) titles[inc.id] = inc.title;
    return true;
  }));
  FuzzyThresholds t{
      .tlsh_max_distance = max_distance, .ssdeep_min_score = min_score, .max_per_query = limit};
  for (size_t i = 0; i < queries.size(); ++i) {
    KINSHIP_ASSIGN_OR_RETURN(std::vector<FuzzyEvidence> near, index.Near(kinds[i], queries[i], t));
    const char* measure = kinds[i] == FuzzyKind::kTlsh ? "distance" : "score";
    if (g.json) {
      nlohmann::json matches = nlohmann::json::array();
      for (const FuzzyEvidence& e : near) {
        matches.push_back({{"digest", e.digest},
                           {"incident", e.incident_id},
                           {"title", titles[e.incident_id]},
                           {measure, e.value},
                           {"weight", e.weight}});
      }
      PrintJsonLine({{"query", queries[i]}, {"kind", KindName(kinds[i])}, {"matches", matches}});
    } else {
      std::printf("%s (%s): %zu stored file%s near\n", queries[i].c_str(), KindName(kinds[i]),
                  near.size(), near.size() == 1 ? "" : "s");
      for (const FuzzyEvidence& e : near) {
        std::printf("  %s %-3d  incident %s  %s\n    %s\n", measure, e.value, e.incident_id.c_str(),
                    titles[e.incident_id].c_str(), e.digest.c_str());
      }
    }
  }
  return absl::OkStatus();
}

void Setup(CLI::App& app, GlobalOptions& g) {
  struct ClusterArgs {
    std::string file;
    int radius = 30;
  };
  auto ca = std::make_shared<ClusterArgs>();
  auto* cl = app.add_subcommand("tlsh-cluster", "Cluster a file of TLSH digests (HAC-T)");
  cl->add_option("file", ca->file, "one TLSH digest per line (T1+70 hex or 70 hex)")->required();
  cl->add_option("--radius", ca->radius, "HAC-T CDist: largest cluster radius (default 30)")
      ->check(CLI::Range(0, 2000));
  cl->callback([&g, ca] { g.exit_code = Finish(g, RunTlshCluster(g, ca->file, ca->radius)); });

  struct SimilarArgs {
    std::vector<std::string> digests;
    int max_distance = 100;
    int min_score = 1;
    size_t limit = 20;
  };
  auto sa = std::make_shared<SimilarArgs>();
  auto* sf = app.add_subcommand("similar-file",
                                "Stored files nearest to TLSH / ssdeep digests, with incidents");
  sf->add_option("digest", sa->digests, "TLSH or ssdeep digests")->required();
  sf->add_option("--max-distance", sa->max_distance, "TLSH: largest distance (default 100)")
      ->check(CLI::Range(0, 2000));
  sf->add_option("--min-score", sa->min_score, "ssdeep: smallest score 1..100 (default 1)");
  sf->add_option("--limit", sa->limit, "most files per digest, nearest first (0: all)");
  sf->callback([&g, sa] {
    g.exit_code =
        Finish(g, RunSimilarFile(g, sa->digests, sa->max_distance, sa->min_score, sa->limit));
  });
}

CommandRegistrar reg(60, &Setup);

}  // namespace
}  // namespace kinship::cli
