// Prose reports (text, Markdown, HTML, PDF) -> one Incident, through the extractor (extract.h).
// Indicators keep the text as written (raw, possibly defanged) and their place; names of
// techniques, software and actors resolve through the knowledge base when one is given. Only an
// attribution the text itself states becomes an Attribution; other actor mentions become tags.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kinship/extract.h"
#include "kinship/ingest.h"
#include "kinship/kb.h"
#include "kinship/limits.h"
#include "util/sha256.h"

namespace kinship::ingest {
namespace {

std::string CommentFor(const extract::Finding& f) {
  std::string c = absl::StrCat("found in ", AV(extract::ContextName(f.context)));
  if (f.defanged) absl::StrAppend(&c, ", defanged");
  if (f.weak) absl::StrAppend(&c, ", weak (plain prose)");
  if (!f.note.empty()) absl::StrAppend(&c, ", ", f.note);
  if (f.occurrences > 1) absl::StrAppend(&c, ", seen ", f.occurrences, " times");
  return c;
}

// The KB's live id for a name or id, when it names exactly one entity of `type`.
std::string ResolveId(const kb::KnowledgeBase* kb, std::string_view name, kb::EntityType type) {
  if (kb == nullptr || name.empty()) return "";
  std::vector<kb::Match> m = kb->Resolve(name, type);
  if (m.empty() || m.front().ambiguous) return "";
  return m.front().id;
}

}  // namespace

absl::StatusOr<ParseOutput> ParseReport(std::string_view content, std::string_view file,
                                        const Options& options) {
  if (content.size() > limits::kMaxInputFileBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(AV(file), ": report larger than kMaxInputFileBytes"));
  }
  absl::StatusOr<extract::Document> doc = extract::ToText(content, file);
  if (!doc.ok()) return doc.status();

  std::optional<extract::NameCatalog> catalog;
  if (options.kb != nullptr) catalog = extract::NameCatalog::FromKnowledgeBase(*options.kb);
  extract::Extractor extractor(catalog ? &*catalog : nullptr);
  extract::Result r = extractor.Extract(*doc);

  Incident inc;
  inc.id = absl::StrCat("report-", util::Sha256Hex(content).substr(0, 32));
  inc.title = doc->title;
  inc.source = doc->site_name;
  inc.first_seen = doc->published;  // the report's date; its text's other dates are not kept
  if (auto tlp = TlpFromName(r.tlp); tlp && !r.tlp.empty()) inc.tlp = *tlp;
  inc.provenance.file = std::string(file);
  inc.provenance.format = "report";
  for (const extract::Finding& f : r.indicators) {
    Indicator ind = Indicator::Raw(f.type, f.raw, f.location);
    ind.to_ids = !f.weak;
    ind.comment = CommentFor(f);
    ind.snippet = f.snippet;
    inc.indicators.push_back(std::move(ind));
  }
  for (const extract::NameMention& t : r.techniques) {
    Technique tech;
    tech.id = t.id;
    tech.name = t.name;
    tech.location = t.location;
    tech.snippet = t.snippet;
    // Revoked ids follow their replacement; names become ids.
    if (std::string id = ResolveId(options.kb, t.id, kb::EntityType::kTechnique); !id.empty()) {
      tech.id = id;
    }
    bool dup = false;
    for (const Technique& have : inc.techniques) dup = dup || have.id == tech.id;
    if (!dup) inc.techniques.push_back(std::move(tech));
  }
  for (const extract::NameMention& s : r.software) {
    Software sw;
    sw.name = s.matched;
    sw.location = s.location;
    sw.snippet = s.snippet;
    sw.id = ResolveId(options.kb, s.matched, kb::EntityType::kSoftware);
    if (sw.id.empty()) sw.id = s.id;
    if (options.kb != nullptr) {
      if (const kb::Software* k = options.kb->software(sw.id)) sw.kind = k->kind;
    }
    inc.software.push_back(std::move(sw));
  }
  for (const extract::StatedAttribution& a : r.attributions) {
    Attribution at;
    at.actor_name = a.actor_name;
    at.actor_id = a.actor_id;
    if (std::string id = ResolveId(options.kb, a.actor_name, kb::EntityType::kActor); !id.empty()) {
      at.actor_id = id;
    }
    at.confidence = a.confidence;
    at.source = "report text";
    at.location = a.location;
    at.snippet = a.sentence;
    inc.attributions.push_back(std::move(at));
  }
  // Mentions are not attributions ("unlike APT28, ..."): kept as tags for the analyst.
  for (const extract::NameMention& m : r.actors) {
    ActorMention am;
    am.name = m.name.empty() ? m.matched : m.name;
    am.id = m.id;
    am.location = m.location;
    am.snippet = m.snippet;
    am.occurrences = m.occurrences;
    inc.tags.push_back(absl::StrCat("actor-mention:", am.name));
    inc.actor_mentions.push_back(std::move(am));
  }

  ParseOutput out;
  out.incidents.push_back(std::move(inc));
  if (r.indicators.size() >= limits::kMaxIndicatorsPerIncident) {
    out.diagnostics.push_back({Diagnostic::Severity::kWarning, std::string(file), "",
                               "more indicators than kMaxIndicatorsPerIncident; the rest dropped"});
  }
  return out;
}

}  // namespace kinship::ingest
