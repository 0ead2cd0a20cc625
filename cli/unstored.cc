#include "cli/unstored.h"

#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"
#include "kinship/ingest.h"
#include "kinship/normalize.h"

namespace kinship::cli {

void LinkToKb(const kb::KnowledgeBase& kb, Incident& inc) {
  kb::MoveSoftwareOutOfAttributions(kb, inc);
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

void AddFileOptions(CLI::App& cmd, std::vector<std::string>& files, std::string& format,
                    const std::string& what) {
  CLI::Option* file =
      cmd.add_option("--file", files,
                     absl::StrCat(what,
                                  " the incidents of a file (as ingest reads it), not stored; "
                                  "repeat for more files"))
          ->allow_extra_args(false);
  // Without --file there is nothing for --format to apply to: said, not silently ignored.
  cmd.add_option("--format", format, "With --file: auto|misp|stix|text|csv|report")
      ->capture_default_str()
      ->needs(file);
}

absl::Status CheckInputsExist(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (auto listed = ingest::ListInputs(path); !listed.ok()) {
      return absl::InvalidArgumentError(listed.status().message());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<UnstoredContext> UnstoredContext::Of(Store& store, const kb::KnowledgeBase* kb) {
  UnstoredContext c;
  c.kb = kb;
  KINSHIP_ASSIGN_OR_RETURN(std::vector<Warninglist> lists, store.Warninglists());
  if (!lists.empty()) c.matcher.emplace(std::move(lists));
  return c;
}

namespace {

absl::StatusOr<ingest::Options> OptionsOf(const UnstoredContext& context,
                                          const std::string& format) {
  const std::optional<ingest::Format> f = ingest::FormatFromName(format);
  if (!f) return absl::InvalidArgumentError(absl::StrCat("unknown --format '", format, "'"));
  ingest::Options opts;
  opts.format = *f;
  opts.kb = context.kb;
  opts.report_names = context.report_names;
  return opts;
}

// What ingest does to a parsed input before the store takes it: normalised, linked to the KB,
// marked against the warninglists (the store marks values as it writes them).
void Prepare(const UnstoredContext& context, ingest::ParseOutput& parsed,
             std::vector<Incident>& out, std::vector<Diagnostic>* diagnostics) {
  for (Diagnostic& d : parsed.diagnostics) diagnostics->push_back(std::move(d));
  for (Incident& inc : parsed.incidents) {
    normalize::NormalizeIncident(inc, diagnostics);
    if (context.kb != nullptr) LinkToKb(*context.kb, inc);
    for (Indicator& ind : inc.indicators) {
      ind.warninglists.clear();
      if (context.matcher && ind.valid()) ind.warninglists = context.matcher->Match(ind);
    }
    out.push_back(std::move(inc));
  }
}

}  // namespace

absl::StatusOr<std::vector<Incident>> ReadUnstored(const UnstoredContext& context,
                                                   const std::vector<std::string>& paths,
                                                   const std::string& format,
                                                   std::vector<Diagnostic>* diagnostics) {
  KINSHIP_ASSIGN_OR_RETURN(ingest::Options opts, OptionsOf(context, format));
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
      Prepare(context, parsed, out, diagnostics);
    }
  }
  return out;
}

absl::StatusOr<std::vector<Incident>> ReadUnstoredBuffer(const UnstoredContext& context,
                                                         std::string_view content,
                                                         const std::string& name,
                                                         const std::string& format,
                                                         std::vector<Diagnostic>* diagnostics) {
  KINSHIP_ASSIGN_OR_RETURN(ingest::Options opts, OptionsOf(context, format));
  KINSHIP_ASSIGN_OR_RETURN(ingest::ParseOutput parsed, ingest::ParseBuffer(content, name, opts));
  for (Incident& inc : parsed.incidents) {
    if (inc.provenance.file.empty()) inc.provenance.file = name;
  }
  std::vector<Incident> out;
  Prepare(context, parsed, out, diagnostics);
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
