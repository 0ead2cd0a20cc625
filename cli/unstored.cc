#include "cli/unstored.h"

#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"
#include "kinship/ingest.h"
#include "kinship/normalize.h"
#include "kinship/warninglist.h"

namespace kinship::cli {

void LinkToKb(const kb::KnowledgeBase& kb, Incident& inc) {
  for (Attribution& a : inc.attributions) {
    if (!a.actor_id.empty()) continue;
    auto m = kb.Resolve(a.actor_name, kb::EntityType::kActor);
    if (!m.empty() && !m.front().ambiguous) a.actor_id = m.front().id;
  }
  for (Software& s : inc.software) {
    if (!s.id.empty()) continue;
    auto m = kb.Resolve(s.name, kb::EntityType::kSoftware);
    if (!m.empty() && !m.front().ambiguous) s.id = m.front().id;
  }
  for (Technique& t : inc.techniques) {
    if (t.id.empty() && !t.name.empty()) {
      auto m = kb.Resolve(t.name, kb::EntityType::kTechnique);
      if (!m.empty() && !m.front().ambiguous) t.id = m.front().id;
    } else if (!t.id.empty()) {
      auto m = kb.Resolve(t.id, kb::EntityType::kTechnique);  // follows revoked ids
      if (!m.empty()) t.id = m.front().id;
    }
    // A source that gives only the id (an IOC list's "T1566.001"): the KB's name, for reading.
    if (t.name.empty() && !t.id.empty()) {
      if (const kb::Technique* k = kb.technique(t.id)) t.name = k->name;
    }
  }
}

absl::StatusOr<std::vector<Incident>> ReadUnstored(Store& store, const kb::KnowledgeBase* kb,
                                                   const std::vector<std::string>& paths,
                                                   const std::string& format,
                                                   std::vector<Diagnostic>* diagnostics) {
  const std::optional<ingest::Format> f = ingest::FormatFromName(format);
  if (!f) return absl::InvalidArgumentError(absl::StrCat("unknown --format '", format, "'"));
  ingest::Options opts;
  opts.format = *f;
  opts.kb = kb;
  KINSHIP_ASSIGN_OR_RETURN(std::vector<Warninglist> lists, store.Warninglists());
  std::optional<WarninglistMatcher> matcher;
  if (!lists.empty()) matcher.emplace(std::move(lists));
  std::vector<Incident> out;
  for (const std::string& path : paths) {
    auto inputs = ingest::ListInputs(path);
    if (!inputs.ok()) {
      // A missing input is bad input (exit 3), as for ingest.
      if (inputs.status().code() == absl::StatusCode::kNotFound) {
        return absl::InvalidArgumentError(inputs.status().message());
      }
      return inputs.status();
    }
    for (const ingest::InputFile& input : *inputs) {
      KINSHIP_ASSIGN_OR_RETURN(ingest::ParseOutput parsed, ingest::ParseInput(input, opts));
      for (Diagnostic& d : parsed.diagnostics) diagnostics->push_back(std::move(d));
      for (Incident& inc : parsed.incidents) {
        normalize::NormalizeIncident(inc, diagnostics);
        if (kb != nullptr) LinkToKb(*kb, inc);
        for (Indicator& ind : inc.indicators) {
          ind.warninglists.clear();
          if (matcher && ind.valid()) ind.warninglists = matcher->Match(ind);
        }
        out.push_back(std::move(inc));
      }
    }
  }
  return out;
}

void PrintDiagnostics(const std::vector<Diagnostic>& diagnostics, size_t max) {
  size_t shown = 0;
  for (const Diagnostic& d : diagnostics) {
    if (shown++ >= max) break;
    std::fprintf(stderr, "%s:%s: %s: %s\n", d.file.c_str(), d.location.c_str(),
                 d.severity == Diagnostic::Severity::kError ? "error" : "warning",
                 d.message.c_str());
  }
  if (diagnostics.size() > max) {
    std::fprintf(stderr, "... and %zu more warnings (see --json)\n", diagnostics.size() - max);
  }
}

}  // namespace kinship::cli
