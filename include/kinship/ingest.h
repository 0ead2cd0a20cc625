// Turning files analysts share into incidents: MISP events and feeds, STIX 2.0/2.1 bundles, IOC
// lists (text/CSV) and prose reports. Parsing never touches the store; see store.h for writing.
//
// Example:
//   ingest::Options opts;                       // format auto-detected from content
//   KINSHIP_ASSIGN_OR_RETURN(auto out, ingest::ParsePath("event.json", opts));
//   for (Incident& inc : out.incidents) normalize::NormalizeIncident(inc, &out.diagnostics);
//
// Thread-safe: parsers keep no global state.
#ifndef KINSHIP_INGEST_H_
#define KINSHIP_INGEST_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kinship/model.h"
#include "kinship/status.h"

namespace kinship {
namespace kb {
class KnowledgeBase;
}
namespace ingest {

// The names of a knowledge base compiled for prose (extract::NameCatalog), built by the first
// report that needs them and kept for the next (src/ingest/report/report.cc).
class ReportNames;
std::shared_ptr<ReportNames> NewReportNames();

enum class Format { kAuto, kMisp, kStix, kText, kCsv, kReport };
std::string_view FormatName(Format f);                        // "auto", "misp", ...
std::optional<Format> FormatFromName(std::string_view name);  // inverse

struct Options {
  Format format = Format::kAuto;
  // A bad record inside a large input (an attribute without a value, a malformed pattern) is an
  // error that aborts the parse (default) or, when true, a diagnostic and the record is skipped.
  bool skip_bad_records = false;
  // When set, prose (reports, MISP event reports) resolves software, actor and technique names
  // through it. Not owned; must outlive the parse.
  const kb::KnowledgeBase* kb = nullptr;
  // `kb`'s names compiled for prose, shared by every copy of these Options (ParsePath's parallel
  // parses, a feed's files): compiling them per report took 60 % of ingesting a folder of short
  // reports. Null: compiled per report. It recompiles when `kb` points elsewhere, but cannot tell
  // a KB freed and another made at the same address: give such Options NewReportNames().
  std::shared_ptr<ReportNames> report_names = NewReportNames();
  // For ParseInput: how many incidents of a file with these bytes (SHA-256, hex) and format the
  // store holds from these very bytes, every one of them (Store::WholeFiles), else 0. A file it
  // gives a count for is not parsed (an unchanged file of a feed pulled again).
  std::function<size_t(std::string_view sha256, Format format)> stored_whole;
};

struct ParseOutput {
  std::vector<Incident> incidents;
  std::vector<Diagnostic> diagnostics;  // skipped records and values, with their locations
  // ParseInput of a file Options::stored_whole knows: its incidents, not parsed.
  size_t unchanged_incidents = 0;
};

// Detects the format of `content` (JSON with "Event"/"response" -> misp; JSON with "type":
// "bundle" or a STIX object -> stix; CSV with a header naming a value column -> csv; one value a
// line -> text; HTML/PDF/prose -> report). Never fails: prose is the fallback.
Format DetectFormat(std::string_view content, std::string_view file_name);

// Parses one buffer. `file` names the input in errors and provenance. Errors: kInvalidArgument
// with "file:location: message" (location is a JSON path or line:col) for malformed input.
// Indicators come back raw (normalize.h canonicalises them).
absl::StatusOr<ParseOutput> ParseBuffer(std::string_view content, std::string_view file,
                                        const Options& options);

// Parses a file, or a MISP feed folder (manifest.json + <uuid>.json), or a folder of inputs.
// Fills Provenance (file, format, sha256 of the bytes). Errors as ParseBuffer, plus kNotFound for
// a missing path and kResourceExhausted beyond limits::kMaxInputFileBytes.
// ParsePath(p) is ListInputs(p) then ParseInput on each file (in parallel), joined in order.
absl::StatusOr<ParseOutput> ParsePath(const std::string& path, const Options& options);

// One file to parse. `format` is kAuto (Options::format or detection decides) or the format a
// container implies (a MISP feed's events are MISP).
struct InputFile {
  std::string path;
  Format format = Format::kAuto;
};
// The files `path` stands for, in parse order: the file itself; a MISP feed's events, in manifest
// order (a manifest naming a missing event is an error here, before anything is parsed); or every
// regular, non-hidden file beneath a folder, in name order. kNotFound for a missing path.
absl::StatusOr<std::vector<InputFile>> ListInputs(const std::string& path);
// Parses one listed file, filling Provenance. Errors as ParsePath.
absl::StatusOr<ParseOutput> ParseInput(const InputFile& input, const Options& options);

// ---- format parsers (each in src/ingest/<format>/), called by ParseBuffer ----
absl::StatusOr<ParseOutput> ParseMisp(std::string_view json, std::string_view file,
                                      const Options& options);
absl::StatusOr<ParseOutput> ParseStix(std::string_view json, std::string_view file,
                                      const Options& options);
absl::StatusOr<ParseOutput> ParseIocList(std::string_view text, std::string_view file,
                                         const Options& options, bool csv);
// Prose: plain text, Markdown, HTML or PDF bytes (see extract.h).
absl::StatusOr<ParseOutput> ParseReport(std::string_view content, std::string_view file,
                                        const Options& options);

}  // namespace ingest
}  // namespace kinship

#endif  // KINSHIP_INGEST_H_
