// What prose gives an incident (library-internal): extract::Extractor's findings as indicators,
// techniques, software, stated attributions and actor mentions. For report files (report.cc), for
// the reports a MISP event carries (EventReport, misp_parser.cc) and for STIX reports' and
// groupings' descriptions (stix_parser.cc).
#ifndef KINSHIP_INGEST_REPORT_FINDINGS_H_
#define KINSHIP_INGEST_REPORT_FINDINGS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kinship/extract.h"
#include "kinship/ingest.h"
#include "kinship/model.h"

namespace kinship::ingest::internal {

// Options::kb's names compiled for prose, from Options::report_names (built on first use); null
// without a KB.
std::shared_ptr<const extract::NameCatalog> ReportCatalog(const Options& options);

// Adds `r`'s findings to `inc`: indicators as written (raw, with their place and the context
// that made them indicators), techniques and software resolved through Options::kb, attributions
// the text states (source `source`), and the actors it merely mentions (as tags and
// actor_mentions, never attributions). `where` prefixes every location (a MISP event report's or
// a STIX description's JSON path; empty for a report file, whose locations are its own). What `inc`
// already holds is not added again: an indicator of the same type written the same way, a technique
// or software of the same id, an attribution to the same actor, a mention of the same name.
// Returns whether it added anything.
bool AddFindings(extract::Result r, const Options& options, std::string_view where,
                 std::string_view source, Incident& inc);

// The attribution a title makes when it names exactly one actor of `catalog` (extract.h: "a
// title naming exactly one actor"), as `source`, located at `location`; none without a catalog.
// For the containers that carry a title and may state no actor otherwise: MISP events (`info`)
// and STIX reports (`name`).
std::optional<Attribution> TitleAttribution(const extract::NameCatalog* catalog,
                                            std::string_view title, std::string location,
                                            std::string_view source);

// What prose held inside a structured input says, read as Markdown with `catalog` (may be null):
// a MISP event report (Markdown, MISP's editor's and its report-from-URL import's format) and a
// STIX report's or grouping's description (plain text or Markdown; Markdown reads plain text as
// it is). For those parsers and for kb import's re-linking of a STIX report stored before the
// store kept prose (schema v8), whose description column is all there is.
extract::Result ReadMarkdownProse(const extract::NameCatalog* catalog, std::string text);

// The prose `doc` as the store keeps it (Incident::prose): its findings located with `where`
// before their own places, its attributions stated by `source`.
ProseText ProseOf(extract::Document doc, std::string where, std::string source);
// The same for Markdown `text` (a MISP event report, a STIX description), as ReadMarkdownProse
// reads it.
ProseText MarkdownProse(std::string text, std::string where, std::string source);

// What stored prose says read again with `catalog` (may be null), as the document it was read
// from was (the same kind, text, title and HTML anchors, so the same locations). kDataLoss for
// a kind kinship does not write.
absl::StatusOr<extract::Result> ReadProseAgain(const extract::NameCatalog* catalog,
                                               const ProseText& prose);

// The source of a STIX report's or grouping's name attribution, by the object's type ("STIX
// report name", "STIX grouping name"); empty for any other type.
std::string_view StixNameSource(std::string_view type);

// The source of what a STIX report's or grouping's description states, by the object's type
// ("STIX report description", "STIX grouping description"); empty for any other type.
std::string_view StixDescriptionSource(std::string_view type);

// The same for a stored incident, by its id: empty unless it is a STIX report or grouping.
std::string_view DescriptionSource(const Incident& incident);

// The source a stored incident's title attribution is stated by, when its format's parser reads
// titles so (a MISP event, a STIX report or grouping, a report file); empty when it does not.
// For kb import's re-linking, which reads the titles of incidents stored before the KB.
std::string_view TitleSource(const Incident& incident);

// The attribution a STIX report that states no actor takes from a report listing it: `stated`,
// one of the listing report's (titled `title`, id `id`), its snippet prefixed with "stated by the
// containing report '<title>' (<id>)". IsListedAttribution: whether an attribution was taken so
// (kb import takes those again from the stored listings, Incident::lists).
Attribution ListedAttribution(std::string_view title, std::string_view id, Attribution stated);
bool IsListedAttribution(const Attribution& a);

}  // namespace kinship::ingest::internal

#endif  // KINSHIP_INGEST_REPORT_FINDINGS_H_
