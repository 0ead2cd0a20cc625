// Prose reports (text, Markdown, HTML, PDF) -> one Incident, through the extractor (extract.h).
// Indicators keep the text as written (raw, possibly defanged) and their place; names of
// techniques, software and actors resolve through the knowledge base when one is given. Only an
// attribution the text itself states becomes an Attribution; other actor mentions become tags.
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ingest/report/findings.h"
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

class ReportNames {
 public:
  std::shared_ptr<const extract::NameCatalog> For(const kb::KnowledgeBase& kb) {
    std::lock_guard<std::mutex> lock(mu_);
    if (catalog_ == nullptr || kb_ != &kb) {
      catalog_ =
          std::make_shared<const extract::NameCatalog>(extract::NameCatalog::FromKnowledgeBase(kb));
      kb_ = &kb;
    }
    return catalog_;
  }

 private:
  std::mutex mu_;
  const kb::KnowledgeBase* kb_ = nullptr;
  std::shared_ptr<const extract::NameCatalog> catalog_;
};

std::shared_ptr<ReportNames> NewReportNames() { return std::make_shared<ReportNames>(); }

namespace internal {

std::shared_ptr<const extract::NameCatalog> ReportCatalog(const Options& options) {
  if (options.kb == nullptr) return nullptr;
  if (options.report_names != nullptr) return options.report_names->For(*options.kb);
  return std::make_shared<const extract::NameCatalog>(
      extract::NameCatalog::FromKnowledgeBase(*options.kb));
}

bool AddFindings(extract::Result r, const Options& options, std::string_view where,
                 std::string_view source, Incident& inc) {
  auto at = [&](std::string location) {
    return where.empty() ? location : absl::StrCat(AV(where), ":", location);
  };
  const auto items = [&inc] {
    return inc.indicators.size() + inc.techniques.size() + inc.software.size() +
           inc.attributions.size() + inc.actor_mentions.size();
  };
  const size_t before = items();
  absl::flat_hash_set<std::pair<IndicatorType, std::string>> held;
  for (const Indicator& i : inc.indicators) held.emplace(i.type, i.raw);
  for (extract::Finding& f : r.indicators) {
    if (held.contains(std::make_pair(f.type, f.raw))) continue;
    Indicator ind = Indicator::Raw(f.type, f.raw, at(f.location));
    ind.to_ids = !f.weak;
    ind.comment = CommentFor(f);
    ind.snippet = std::move(f.snippet);
    inc.indicators.push_back(std::move(ind));
  }
  for (extract::NameMention& t : r.techniques) {
    Technique tech;
    tech.id = t.id;
    tech.name = std::move(t.name);
    tech.location = at(t.location);
    tech.snippet = std::move(t.snippet);
    // Revoked ids follow their replacement, and take its name (the catalog names current
    // techniques only); names become ids.
    if (std::string id = ResolveId(options.kb, t.id, kb::EntityType::kTechnique); !id.empty()) {
      tech.id = id;
      if (const kb::Technique* known = options.kb->technique(id); known && tech.name.empty()) {
        tech.name = known->name;
      }
    }
    bool dup = false;
    for (const Technique& have : inc.techniques) dup = dup || have.id == tech.id;
    if (!dup) inc.techniques.push_back(std::move(tech));
  }
  for (extract::NameMention& s : r.software) {
    Software sw;
    sw.name = s.matched;
    sw.location = at(s.location);
    sw.snippet = std::move(s.snippet);
    sw.id = ResolveId(options.kb, s.matched, kb::EntityType::kSoftware);
    if (sw.id.empty()) sw.id = s.id;
    if (options.kb != nullptr) {
      if (const kb::Software* k = options.kb->software(sw.id)) sw.kind = k->kind;
    }
    bool dup = false;
    for (const Software& have : inc.software) {
      dup = dup || (sw.id.empty() ? absl::EqualsIgnoreCase(have.name, sw.name) : have.id == sw.id);
    }
    if (!dup) inc.software.push_back(std::move(sw));
  }
  for (extract::StatedAttribution& a : r.attributions) {
    Attribution stated;
    stated.actor_name = a.actor_name;
    stated.actor_id = a.actor_id;
    if (std::string id = ResolveId(options.kb, a.actor_name, kb::EntityType::kActor); !id.empty()) {
      stated.actor_id = id;
    }
    stated.confidence = a.confidence;
    stated.source = std::string(source);
    stated.location = at(a.location);
    stated.snippet = std::move(a.sentence);
    bool dup = false;
    for (const Attribution& have : inc.attributions) {
      dup = dup || (!stated.actor_id.empty() && have.actor_id == stated.actor_id) ||
            absl::EqualsIgnoreCase(have.actor_name, stated.actor_name);
    }
    if (!dup) inc.attributions.push_back(std::move(stated));
  }
  // Mentions are not attributions ("unlike APT28, ..."): kept as tags for the analyst.
  for (extract::NameMention& m : r.actors) {
    ActorMention am;
    am.name = m.name.empty() ? m.matched : m.name;
    am.id = m.id;
    am.location = at(m.location);
    am.snippet = std::move(m.snippet);
    am.occurrences = m.occurrences;
    bool dup = false;
    for (const ActorMention& have : inc.actor_mentions) dup = dup || have.name == am.name;
    if (dup) continue;
    inc.tags.push_back(absl::StrCat("actor-mention:", am.name));
    inc.actor_mentions.push_back(std::move(am));
  }
  return items() != before;
}

std::optional<Attribution> TitleAttribution(const extract::NameCatalog* catalog,
                                            std::string_view title, std::string location,
                                            std::string_view source) {
  if (catalog == nullptr || title.empty()) return std::nullopt;
  extract::Document doc;
  doc.title = std::string(title);
  for (extract::StatedAttribution& a : extract::Extractor(catalog).Extract(doc).attributions) {
    if (a.location != "title") continue;
    Attribution stated;
    stated.actor_name = std::move(a.actor_name);
    stated.actor_id = std::move(a.actor_id);
    stated.source = std::string(source);
    stated.location = std::move(location);
    stated.snippet = std::move(a.sentence);
    return stated;
  }
  return std::nullopt;
}

namespace {

// What begins the snippet of an attribution a report took from one listing it.
constexpr std::string_view kListedPrefix = "stated by the containing report '";

// "report" or "grouping" for a stored STIX report's or grouping's incident (its id is the
// object's), else "".
std::string_view StixContainerType(const Incident& incident) {
  if (incident.provenance.format != "stix") return "";
  if (absl::StartsWith(incident.id, "report--")) return "report";
  if (absl::StartsWith(incident.id, "grouping--")) return "grouping";
  return "";
}

}  // namespace

std::string_view StixNameSource(std::string_view type) {
  if (type == "report") return "STIX report name";
  if (type == "grouping") return "STIX grouping name";
  return "";
}

Attribution ListedAttribution(std::string_view title, std::string_view id, Attribution stated) {
  stated.snippet =
      absl::StrCat(std::string(kListedPrefix), std::string(title), "' (", std::string(id), ")",
                   stated.snippet.empty() ? "" : "; ", stated.snippet);
  return stated;
}

bool IsListedAttribution(const Attribution& a) { return a.snippet.starts_with(kListedPrefix); }

std::string_view TitleSource(const Incident& incident) {
  const std::string& format = incident.provenance.format;
  if (format == "misp") return "MISP event title";
  if (format == "report") return "report text";  // as extract.h's title rule
  return StixNameSource(StixContainerType(incident));
}

extract::Result ReadMarkdownProse(const extract::NameCatalog* catalog, std::string text) {
  extract::Document doc;
  doc.kind = extract::DocKind::kMarkdown;
  doc.text = std::move(text);
  return extract::Extractor(catalog).Extract(doc);
}

ProseText MarkdownProse(std::string text, std::string where, std::string source) {
  extract::Document doc;
  doc.kind = extract::DocKind::kMarkdown;
  doc.text = std::move(text);
  return ProseOf(std::move(doc), std::move(where), std::move(source));
}

ProseText ProseOf(extract::Document doc, std::string where, std::string source) {
  ProseText p;
  p.where = std::move(where);
  p.source = std::move(source);
  p.kind = std::string(extract::DocKindName(doc.kind));
  p.text = std::move(doc.text);
  p.title = std::move(doc.title);
  p.self_host = std::move(doc.self_host);
  for (const extract::Document::Anchor& a : doc.anchors) {
    p.anchors.emplace_back(a.text_offset, a.source_line);
  }
  return p;
}

absl::StatusOr<extract::Result> ReadProseAgain(const extract::NameCatalog* catalog,
                                               const ProseText& prose) {
  extract::Document doc;
  // The kind as ProseOf named it (extract::DocKindName).
  bool known = false;
  for (extract::DocKind kind : {extract::DocKind::kText, extract::DocKind::kMarkdown,
                                extract::DocKind::kHtml, extract::DocKind::kPdf}) {
    if (extract::DocKindName(kind) == prose.kind) {
      doc.kind = kind;
      known = true;
    }
  }
  if (!known) return absl::DataLossError(absl::StrCat("stored prose of kind '", prose.kind, "'"));
  doc.text = prose.text;
  doc.title = prose.title;
  doc.self_host = prose.self_host;
  for (const auto& [offset, line] : prose.anchors) doc.anchors.push_back({offset, line});
  return extract::Extractor(catalog).Extract(doc);
}

std::string_view StixDescriptionSource(std::string_view type) {
  if (type == "report") return "STIX report description";
  if (type == "grouping") return "STIX grouping description";
  return "";
}

std::string_view DescriptionSource(const Incident& incident) {
  return StixDescriptionSource(StixContainerType(incident));
}

}  // namespace internal

absl::StatusOr<ParseOutput> ParseReport(std::string_view content, std::string_view file,
                                        const Options& options) {
  if (content.size() > limits::kMaxInputFileBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(AV(file), ": report larger than kMaxInputFileBytes"));
  }
  absl::StatusOr<extract::Document> doc = extract::ToText(content, file);
  if (!doc.ok()) return doc.status();

  const std::shared_ptr<const extract::NameCatalog> catalog = internal::ReportCatalog(options);
  extract::Extractor extractor(catalog.get());
  extract::Result r = extractor.Extract(*doc);

  Incident inc;
  inc.id = absl::StrCat("report-", util::Sha256Hex(content).substr(0, 32));
  inc.title = doc->title;
  inc.source = doc->site_name;
  inc.first_seen = doc->published;  // the report's date; its text's other dates are not kept
  if (auto tlp = TlpFromName(r.tlp); tlp && !r.tlp.empty()) inc.tlp = *tlp;
  inc.provenance.file = std::string(file);
  inc.provenance.format = "report";
  const bool truncated = r.indicators.size() >= limits::kMaxIndicatorsPerIncident;
  internal::AddFindings(std::move(r), options, "", "report text", inc);
  inc.prose.push_back(internal::ProseOf(*std::move(doc), "", "report text"));

  ParseOutput out;
  out.incidents.push_back(std::move(inc));
  if (truncated) {
    out.diagnostics.push_back({Diagnostic::Severity::kWarning, std::string(file), "",
                               "more indicators than kMaxIndicatorsPerIncident; the rest dropped"});
  }
  return out;
}

}  // namespace kinship::ingest
