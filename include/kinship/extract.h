// Indicator, technique, software and actor extraction from prose: plain text, Markdown, HTML and
// PDF reports. Finds defanged and plain indicators, judges each by its context (code block, IOC
// table, IOC section, nearby words like "C2"), and keeps where it was found so an analyst can
// check it. ingest::ParseReport turns the result into one Incident.
//
// Example:
//   extract::Extractor ex(/*catalog=*/nullptr);           // no KB: T-ids and indicators only
//   KINSHIP_ASSIGN_OR_RETURN(extract::Document doc, extract::ToText(bytes, "apt.html"));
//   extract::Result r = ex.Extract(doc);
//   for (const extract::Finding& f : r.indicators)
//     printf("%s %s at %s%s\n", IndicatorTypeName(f.type).data(), f.value.c_str(),
//            f.location.c_str(), f.defanged ? " (defanged)" : "");
//
// Thread-safety: Extractor and NameCatalog are immutable after construction; Extract and ToText
// are thread-safe. Free functions keep no global state except compiled pattern databases, which
// are built once and read-only.
#ifndef KINSHIP_EXTRACT_H_
#define KINSHIP_EXTRACT_H_

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
namespace extract {

// ---- documents -------------------------------------------------------------------------------

enum class DocKind { kText, kMarkdown, kHtml, kPdf };
std::string_view DocKindName(DocKind kind);  // "text", "markdown", "html", "pdf"

// Detects the kind by content first ("%PDF-" magic; "<html", "<!doctype html" or common block
// tags near the start), then by extension (.md/.markdown); everything else is text.
DocKind DetectDocKind(std::string_view content, std::string_view file_name);

// A report reduced to text. HTML is rendered as Markdown-like text: headings become "# ...",
// <pre> becomes a ``` fence, <code> becomes `...`, table rows become "| a | b |", <script>,
// <style>, <nav>, <header>, <footer> and <aside> are dropped, and a link's href follows its text
// as "<href>" when it differs from the text. PDF text comes from poppler's `pdftotext` (see
// ToText). Plain text and Markdown are copied.
struct Document {
  DocKind kind = DocKind::kText;
  std::string text;
  std::string title;      // HTML <title> or first heading; else the first non-empty line
  std::string site_name;  // HTML <meta property="og:site_name">, else empty
  // The report's date, "YYYY-MM-DD": HTML metadata (article:published_time, date, DC.date,
  // datePublished, the first <time datetime>), else the first date written in the opening
  // lines (any kind); empty when there is none.
  std::string published;
  std::string self_host;  // host of the page's canonical / og:url link (its own links are not
                          // indicators), else empty
  // For HTML: source line of text positions. Sorted by text_offset; a position maps to the line
  // of the last anchor at or before it (plus the newlines between). Empty for other kinds.
  struct Anchor {
    size_t text_offset;
    int source_line;
  };
  std::vector<Anchor> anchors;
};

// Converts raw bytes of a report to a Document. PDFs are converted by running poppler-utils'
// `pdftotext -layout -enc UTF-8` as a separate process (fork + execvp with an argument vector,
// never a shell; the PDF goes through a private temporary file), so the GPL library is never
// linked into kinship. Errors: kInvalidArgument "<file>: ..." for HTML gumbo cannot parse or a
// PDF pdftotext rejects; kFailedPrecondition when `pdftotext` is not installed;
// kDeadlineExceeded when it runs longer than limits (see kPdfTimeoutSeconds in extract.cc).
absl::StatusOr<Document> ToText(std::string_view content, std::string_view file_name);

// ---- names (techniques, software, actors) ------------------------------------------------------

// The names the extractor looks for, each with its entity. Built from a knowledge base or given
// directly (tests, a custom list). Names are matched case-sensitively as whole words; names
// shorter than 4 characters and a stop list of common words ("Net", "Ping", "Page") are ignored.
// A name shared by two entities of one kind is dropped as ambiguous.
class NameCatalog {
 public:
  enum class Kind { kTechnique, kSoftware, kActor };
  struct Entry {
    Kind kind;
    std::string id;                  // "T1566.001", "S0023", "G0007"
    std::string name;                // preferred name
    std::vector<std::string> names;  // name + aliases to match
  };
  explicit NameCatalog(std::vector<Entry> entries);
  // Techniques, software and actors (not revoked or deprecated) with their aliases. `kb` is read
  // during construction only.
  static NameCatalog FromKnowledgeBase(const kb::KnowledgeBase& kb);

  ~NameCatalog();
  NameCatalog(NameCatalog&&) noexcept;
  NameCatalog& operator=(NameCatalog&&) noexcept;

  const std::vector<Entry>& entries() const;
  size_t pattern_count() const;  // names actually matched after filtering

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// ---- findings --------------------------------------------------------------------------------

// Why a candidate was believed.
enum class Context : uint8_t {
  kProse,       // plain running text, no supporting signal
  kKeyword,     // next to words like "C2", "contacted", "hosted", "dropped", "beacon"
  kInlineCode,  // inside `backticks` or quotes
  kCodeBlock,   // inside a ``` fence / <pre>
  kTable,       // in a table row
  kIocSection,  // under a heading like "Indicators of Compromise" / "IOCs" / "Network"
};
std::string_view ContextName(Context c);  // "prose", "keyword", "inline-code", ...

struct Finding {
  IndicatorType type = IndicatorType::kOther;
  std::string raw;    // exactly as written ("hxxp://evil[.]com/a")
  std::string value;  // refanged, trimmed, lower-cased where case does not matter
  bool defanged = false;
  Context context = Context::kProse;
  // True when the only support is plain prose for a type that prose often fakes (domains,
  // scheme-less URLs); only present with ExtractOptions::keep_weak (Indicator::to_ids = false).
  bool weak = false;
  std::string location;  // "line:col" (HTML: source line), "p<page>:line:col" for PDF
  std::string snippet;   // up to ~80 characters around it, whitespace collapsed
  std::string note;      // extra facts: "port 443", "imphash by context", "link target"
  int occurrences = 1;   // how often the same (type, value) appeared; location is the first
};

struct NameMention {
  NameCatalog::Kind kind;
  std::string id;       // catalog id ("G0007"); for T-ids found in text, the id itself
  std::string name;     // catalog preferred name (empty for T-ids without a catalog)
  std::string matched;  // the text as written
  std::string location;
  std::string snippet;
  int occurrences = 1;
};

// An attribution the text itself states ("we attribute this campaign to APT28", "carried out by
// the Lazarus Group", a single actor named in the title). A mere mention is not one.
struct StatedAttribution {
  std::string actor_name;  // as written
  std::string actor_id;    // catalog id when the name resolves, else empty
  int confidence = -1;     // "high/moderate/low confidence" -> 80/50/20; -1 when not stated
  std::string location;
  std::string sentence;  // the attributing sentence (trimmed to ~200 characters)
};

struct Result {
  std::vector<Finding> indicators;      // unique by (type, value), in order of first use
  std::vector<NameMention> techniques;  // T-ids and technique names
  std::vector<NameMention> software;    // via the catalog only
  std::vector<NameMention> actors;      // every actor mention (via the catalog)
  std::vector<StatedAttribution> attributions;
  std::string tlp;  // "TLP:AMBER" style marking found in the text, normalised ("amber"), or ""
  // Counters for the analyst and for tests.
  size_t candidates = 0;  // tokens the candidate scan handed to exact extraction
  size_t defanged = 0;    // findings written defanged
  size_t rejected = 0;    // candidates dropped by a precision rule
  std::vector<std::string> rejected_examples;  // up to 20 "value: reason" lines
};

struct ExtractOptions {
  // Keep findings marked weak (plain-prose domains and scheme-less URLs with no supporting
  // context: "published on bsi.bund.de"). Off by default: in reports such names are mostly
  // references, not indicators. When true they are kept with Finding::weak set.
  bool keep_weak = false;
};

// Finds indicators and names in a Document. Cheap to construct (the candidate patterns are
// compiled once per process); a NameCatalog compiles its own names when it is built.
class Extractor {
 public:
  // `catalog` may be null (no name matching beyond T-ids); not owned, must outlive *this.
  explicit Extractor(const NameCatalog* catalog, ExtractOptions options = {});
  ~Extractor();
  Extractor(Extractor&&) noexcept;
  Extractor& operator=(Extractor&&) noexcept;

  // Never fails; cost is linear in the text (candidate scan ~ hundreds of MB/s, exact extraction
  // on candidates only). Results are capped at limits::kMaxIndicatorsPerIncident.
  Result Extract(const Document& doc) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience: ToText + Extractor(nullptr).Extract.
absl::StatusOr<Result> ExtractFromBytes(std::string_view content, std::string_view file_name);

}  // namespace extract
}  // namespace kinship

#endif  // KINSHIP_EXTRACT_H_
