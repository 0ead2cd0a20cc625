// The data model every stage shares: an incident with its indicators, behaviours, victim,
// marking, stated attributions and provenance (see docs/architecture.md and DESIGN.md "Model").
//
// Parsers fill `raw` values; normalisation (normalize.h) fills canonical values and derived
// indicators; the store (store.h) persists incidents; the scorer reads them.
//
// Example:
//   Incident inc;
//   inc.id = "5a1e...";  // the source's own id (MISP Event uuid, STIX report id)
//   inc.indicators.push_back(Indicator::Raw(IndicatorType::kIpv4, "176.31.112[.]10",
//   "Attribute[3]")); normalize::NormalizeIncident(inc, &diagnostics);
//
// Plain value types: copyable, not thread-safe to mutate concurrently.
#ifndef KINSHIP_MODEL_H_
#define KINSHIP_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kinship {

// Kinds of observable. The names (IndicatorTypeName) are stable: they are stored and printed.
enum class IndicatorType : uint8_t {
  kIpv4,
  kIpv6,
  kCidr,
  kDomain,
  kUrl,
  kEmail,
  kMd5,
  kSha1,
  kSha256,
  kSha512,
  kSsdeep,
  kTlsh,
  kImphash,
  kFilename,
  kFilePath,
  kMutex,
  kRegistryKey,
  kNamedPipe,
  kUserAgent,
  kJa3,
  kX509Fingerprint,  // hex sha1/sha256/md5 of a certificate
  kX509Serial,
  kAsn,
  kCve,
  kBitcoin,
  kPdb,
  kEmailSubject,
  kCommandLine,
  kOther,  // anything kept for display but never matched
};
inline constexpr int kIndicatorTypeCount = static_cast<int>(IndicatorType::kOther) + 1;

// Stable lower-case name: "ipv4", "domain", "sha256", "registry-key", ... Never empty.
std::string_view IndicatorTypeName(IndicatorType type);
// Inverse of IndicatorTypeName; nullopt for an unknown name.
std::optional<IndicatorType> IndicatorTypeFromName(std::string_view name);

// How an indicator came to be: given by the source, or derived at normalisation from another.
enum class Derivation : uint8_t {
  kNone = 0,          // stated by the source
  kRegisteredDomain,  // domain -> registered domain (Public Suffix List), type kDomain
  kNetwork,           // ipv4 -> /24, ipv6 -> /48, type kCidr
  kUrlHost,           // url -> its host, type kDomain / kIpv4 / kIpv6
  kEmailDomain,       // email -> its domain part, type kDomain
};
std::string_view DerivationName(Derivation d);  // "", "registered-domain", "network", ...
std::optional<Derivation> DerivationFromName(std::string_view name);

struct Indicator {
  IndicatorType type = IndicatorType::kOther;
  std::string value;  // canonical form; empty when `error` is set
  std::string raw;    // as the source wrote it (kept for display)
  Derivation derivation = Derivation::kNone;
  bool to_ids = true;    // meant for detection (MISP to_ids); false = context only
  std::string category;  // source's own category (MISP category, STIX role), may be empty
  std::string comment;   // source's comment, may be empty
  std::string location;  // where in the source: JSON path ("Event.Attribute[3]") or "line:col"
  std::string snippet;   // reports: the text around it (~80 characters) for checking; else empty
  std::string error;     // why it could not be canonicalised; such an indicator is never indexed
  std::vector<std::string> warninglists;  // names of MISP warninglists it matched (known-benign)

  // An indicator as a parser sees it, before normalisation.
  static Indicator Raw(IndicatorType type, std::string raw, std::string location);

  bool valid() const { return error.empty() && !value.empty(); }
  bool benign() const { return !warninglists.empty(); }
};

// An ATT&CK technique (T1566) or sub-technique (T1566.001) observed in the incident.
// `location` and `snippet` say where the source names it (see Indicator); either may be empty.
// (The "{}" initialisers let older brace-initialisations {id, name} omit them without a warning.)
struct Technique {
  std::string id;          // upper-case ATT&CK id; empty if only a name was given
  std::string name;        // as given by the source, may be empty
  std::string location{};  // JSON path, "line:col", "p<page>:line:col" or "title"; may be empty
  std::string snippet{};   // reports: the text around the first mention; else empty
  bool operator==(const Technique&) const = default;
};

// Malware or tool named by the incident.
struct Software {
  std::string name;        // as given ("X-Agent", "CHOPSTICK")
  std::string id;          // ATT&CK S-id when the source or the KB gives one, else empty
  std::string kind;        // "malware", "tool" or empty
  std::string location{};  // as Technique::location
  std::string snippet{};   // as Technique::snippet
  bool operator==(const Software&) const = default;
};

struct Victim {
  std::string organisation;
  std::string sector;
  std::string country;  // as given (ISO code or name)
};

// Traffic Light Protocol 2.0 marking; kUnset when the source has none.
enum class Tlp : uint8_t { kUnset, kClear, kGreen, kAmber, kAmberStrict, kRed };
std::string_view TlpName(Tlp tlp);  // "", "clear", "green", "amber", "amber+strict", "red"
std::optional<Tlp> TlpFromName(std::string_view name);  // accepts "white" as clear (TLP 1.0)
// The first TLP marking written in `text` ("TLP:AMBER", "TLP: GREEN", "TLP-RED", "TLP:WHITE" as
// clear, "TLP:AMBER+STRICT"; upper case, as the standard writes it), or nullopt.
std::optional<Tlp> TlpMarkingIn(std::string_view text);

// An attribution the source itself states. Never evidence of itself in scoring.
struct Attribution {
  std::string actor_name;  // as given ("Sofacy")
  std::string actor_id;    // KB id once resolved ("G0007"), else empty
  int confidence = -1;     // 0-100 as stated by the source; -1 when not stated
  std::string source;      // who says so: "MISP galaxy threat-actor", "STIX attributed-to", org
  std::string location{};  // where the source says so (as Technique::location); may be empty
  std::string snippet{};   // reports: the attributing sentence (up to ~200 characters)
  bool operator==(const Attribution&) const = default;
};

// An actor a report names ("unlike APT28, ..."; the attributed actor is named too): context for
// the analyst, never an attribution and never evidence. Stated attributions are in `attributions`.
struct ActorMention {
  std::string name;      // KB preferred name, else as written
  std::string id;        // KB id ("G0007") when known, else empty
  std::string location;  // first mention: "line:col", "p<page>:line:col"
  std::string snippet;   // the text around the first mention
  int occurrences = 1;   // how often it is named
  bool operator==(const ActorMention&) const = default;
};

struct Provenance {
  std::string file;    // path as given to ingest
  std::string format;  // "misp", "stix", "text", "csv"
  std::string sha256;  // of the file's bytes
  // How many incidents the file held (0: not known, as for incidents stored before kinship kept
  // it): with sha256 and format, what tells a file whose every incident is stored from these
  // bytes (Store::WholeFiles), which a feed pulled again need not parse.
  size_t file_incidents = 0;
  // When the store first held an incident with this id, to the millisecond, UTC
  // ("2026-12-02T01:30:00.123Z"): kept when an ingest or `kb import` replaces the incident, so
  // that what kinship exports of it stays one STIX object across exports (its `created`). Set by
  // Store::Ingest, whatever the incident brings; "" for an incident that is not stored. Incidents
  // stored before schema v11 have the time they were last stored then.
  std::string first_stored{};  // (an initializer, so that {file, format, sha256} stays complete)
  // When the source last changed the incident, as it says (ISO 8601 UTC): a MISP event's
  // `timestamp`, a STIX report's or grouping's `modified`; "" when it does not say (report files,
  // IOC lists, a bundle without a report). Store::Ingest leaves a stored incident as it is when
  // the one arriving says it is older (TimestampBefore): an old export read after a newer feed
  // pull does not undo the newer version, as MISP's own sync keeps the newer event.
  std::string source_modified{};
};

// Prose an incident was read from, kept in the store (not read back with it: Store::Prose) so that
// a later `kb import` reads it again with the KB's names, as an ingest with that KB would have
// (kb::Import's re-linking): a report file's text as converted, a MISP event report's Markdown, a
// STIX report's or grouping's description.
struct ProseText {
  std::string where;      // what prefixes its findings' locations: "" for a report file (its own
                          // "line:col"), "Event.EventReport[0].content" for a MISP event report,
                          // "objects[3].description" for a STIX description
  std::string source;     // what its stated attributions are stated by: "report text", ...
  std::string kind;       // extract::DocKindName: "text", "markdown", "html", "pdf"
  std::string text;       // as the extractor read it (extract::Document::text)
  std::string title;      // a report file's title (extract::Document::title), else ""
  std::string self_host;  // extract::Document::self_host
  // HTML: (text offset, source line), extract::Document::anchors, which locate its findings.
  std::vector<std::pair<size_t, int>> anchors;
};

// Times are ISO 8601 strings ("2016-04-12" or "2016-04-12T10:00:00Z"), empty when unknown.
struct Incident {
  std::string id;  // the source's own id: MISP Event uuid, STIX report/grouping id, or a hash
  std::string title;
  // Where the source has the title, when it is a JSON member: "[0].Event.info", "objects[2].name"
  // (a stated attribution read from the title is located there). "" for a report file (its title
  // is read with its text) and for incidents stored before schema v9.
  std::string title_location;
  std::string description;
  std::string source;  // producing organisation (MISP Orgc, STIX created_by_ref name)
  std::string first_seen;
  std::string last_seen;
  Victim victim;
  Tlp tlp = Tlp::kUnset;
  std::vector<std::string> tags;
  std::vector<Attribution> attributions;
  std::vector<Indicator> indicators;
  std::vector<Technique> techniques;
  std::vector<Software> software;
  std::vector<ActorMention> actor_mentions;  // reports only; also kept as "actor-mention:" tags
  Provenance provenance;
  // What the parser read as prose (report files, MISP event reports, STIX descriptions), written
  // by Store::Ingest; Store's incident reads leave it empty (Store::Prose reads it).
  std::vector<ProseText> prose;
  // The ids of the incidents a STIX report or grouping lists (its object_refs that are reports or
  // groupings of the same bundle), in its order: a listed report that states no actor takes this
  // one's at ingest, and again at `kb import`'s re-linking. Written by Store::Ingest; Store's
  // incident reads leave it empty (Store::Listings reads it).
  std::vector<std::string> lists;
};

// A problem found in an input: a value or record that was skipped or could not be canonicalised.
// `location` names the place (JSON path or line:col) so the analyst can find it.
struct Diagnostic {
  enum class Severity : uint8_t { kWarning, kError };
  Severity severity = Severity::kWarning;
  std::string file;
  std::string location;
  std::string message;
};

// Whether ISO 8601 UTC timestamp `a` ("2021-03-01T10:00:00Z", "2021-03-01T10:00:00.5Z") is
// before `b`, whatever digits of a second each gives ("...:00Z" and "...:00.000Z" are one time);
// false when either is empty.
bool TimestampBefore(std::string_view a, std::string_view b);

}  // namespace kinship

#endif  // KINSHIP_MODEL_H_
