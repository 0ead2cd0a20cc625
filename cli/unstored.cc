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

namespace {

// The ingest options and the store's warninglists, for an unstored input.
struct Reading {
  ingest::Options opts;
  std::optional<WarninglistMatcher> matcher;
};

absl::StatusOr<Reading> StartReading(Store& store, const kb::KnowledgeBase* kb,
                                     const std::string& format) {
  const std::optional<ingest::Format> f = ingest::FormatFromName(format);
  if (!f) return absl::InvalidArgumentError(absl::StrCat("unknown --format '", format, "'"));
  Reading r;
  r.opts.format = *f;
  r.opts.kb = kb;
  KINSHIP_ASSIGN_OR_RETURN(std::vector<Warninglist> lists, store.Warninglists());
  if (!lists.empty()) r.matcher.emplace(std::move(lists));
  return r;
}

// What ingest does to a parsed input before the store takes it: normalised, linked to the KB,
// marked against the warninglists (the store marks values as it writes them).
void Prepare(const Reading& r, ingest::ParseOutput& parsed, std::vector<Incident>& out,
             std::vector<Diagnostic>* diagnostics) {
  for (Diagnostic& d : parsed.diagnostics) diagnostics->push_back(std::move(d));
  for (Incident& inc : parsed.incidents) {
    normalize::NormalizeIncident(inc, diagnostics);
    if (r.opts.kb != nullptr) LinkToKb(*r.opts.kb, inc);
    for (Indicator& ind : inc.indicators) {
      ind.warninglists.clear();
      if (r.matcher && ind.valid()) ind.warninglists = r.matcher->Match(ind);
    }
    out.push_back(std::move(inc));
  }
}

}  // namespace

void AddFileOptions(CLI::App& cmd, std::vector<std::string>& files, std::string& format,
                    const std::string& what) {
  cmd.add_option("--file", files,
                 absl::StrCat(what,
                              " the incidents of a file (as ingest reads it), not stored; "
                              "repeat for more files"))
      ->allow_extra_args(false);
  cmd.add_option("--format", format, "With --file: auto|misp|stix|text|csv|report")
      ->capture_default_str();
}

absl::Status CheckInputsExist(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (auto listed = ingest::ListInputs(path); !listed.ok()) {
      return absl::InvalidArgumentError(listed.status().message());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Incident>> ReadUnstored(Store& store, const kb::KnowledgeBase* kb,
                                                   const std::vector<std::string>& paths,
                                                   const std::string& format,
                                                   std::vector<Diagnostic>* diagnostics) {
  KINSHIP_ASSIGN_OR_RETURN(Reading r, StartReading(store, kb, format));
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
      KINSHIP_ASSIGN_OR_RETURN(ingest::ParseOutput parsed, ingest::ParseInput(input, r.opts));
      Prepare(r, parsed, out, diagnostics);
    }
  }
  return out;
}

absl::StatusOr<std::vector<Incident>> ReadUnstoredBuffer(Store& store, const kb::KnowledgeBase* kb,
                                                         std::string_view content,
                                                         const std::string& name,
                                                         const std::string& format,
                                                         std::vector<Diagnostic>* diagnostics) {
  KINSHIP_ASSIGN_OR_RETURN(Reading r, StartReading(store, kb, format));
  KINSHIP_ASSIGN_OR_RETURN(ingest::ParseOutput parsed, ingest::ParseBuffer(content, name, r.opts));
  for (Incident& inc : parsed.incidents) {
    if (inc.provenance.file.empty()) inc.provenance.file = name;
  }
  std::vector<Incident> out;
  Prepare(r, parsed, out, diagnostics);
  return out;
}

nlohmann::json DiagnosticsJson(const std::vector<Diagnostic>& diagnostics) {
  nlohmann::json out = nlohmann::json::array();
  for (const Diagnostic& d : diagnostics) {
    out.push_back({{"severity", d.severity == Diagnostic::Severity::kError ? "error" : "warning"},
                   {"file", d.file},
                   {"location", d.location},
                   {"message", d.message}});
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
