// MISP event JSON -> incidents. The one place simdjson meets MISP: the DOM API (random access to
// an event's fields is simpler than on-demand's single forward pass, and events are small).
//
// Accepted shapes: {"Event": {...}}, a bare event {...}, a list of either, and the REST answer
// {"response": [{"Event": {...}}, ...]}. A feed folder is handled by ParsePath, one file at a time.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ingest/json_syntax.h"
#include "ingest/misp/misp_galaxy.h"
#include "ingest/misp/misp_types.h"
#include "ingest/record_errors.h"
#include "ingest/report/findings.h"
#include "kinship/extract.h"
#include "kinship/ingest.h"
#include "kinship/limits.h"
#include "util/sha256.h"

namespace kinship::ingest {
namespace {

namespace dom = simdjson::dom;
using internal::MispTypeKind;
using internal::MispTypeMapping;

// What an event report's stated attributions are stated by.
constexpr char kEventReportSource[] = "MISP event report";

std::string Join(std::string_view base, std::string_view child) {
  if (base.empty()) return std::string(child);
  if (!child.empty() && child.front() == '[') return absl::StrCat(AV(base), AV(child));
  return absl::StrCat(AV(base), ".", AV(child));
}

std::string Index(std::string_view key, size_t i) { return absl::StrCat(AV(key), "[", i, "]"); }

// The field `key` of `obj`, or an invalid result when absent or null.
bool Field(dom::object obj, std::string_view key, dom::element* out) {
  dom::element el;
  if (obj.at_key(key).get(el) != simdjson::SUCCESS) return false;
  if (el.is_null()) return false;
  *out = el;
  return true;
}

// A string field, accepting numbers (MISP writes ids and timestamps either way) as their text.
std::string StringField(dom::object obj, std::string_view key) {
  dom::element el;
  if (!Field(obj, key, &el)) return "";
  std::string_view s;
  if (el.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  if (el.is_number()) return simdjson::minify(el);
  return "";
}

// MISP writes booleans as true/false, "1"/"0" or 1/0 depending on version and exporter.
std::optional<bool> BoolField(dom::object obj, std::string_view key) {
  dom::element el;
  if (!Field(obj, key, &el)) return std::nullopt;
  bool b;
  if (el.get_bool().get(b) == simdjson::SUCCESS) return b;
  int64_t i;
  if (el.get_int64().get(i) == simdjson::SUCCESS) return i != 0;
  std::string_view s;
  if (el.get_string().get(s) == simdjson::SUCCESS) {
    return s == "1" || absl::EqualsIgnoreCase(AV(s), "true");
  }
  return std::nullopt;
}

// Unix seconds (MISP "timestamp") -> ISO 8601 UTC; empty when not a number.
std::string IsoFromUnix(std::string_view seconds) {
  int64_t s;
  if (seconds.empty() || !absl::SimpleAtoi(AV(seconds), &s) || s <= 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(s), absl::UTCTimeZone());
}

// Where an attribute sits: at event level or inside an Object (whose name refines context types).
struct AttributeContext {
  std::string_view object_name;
};

class MispParser {
 public:
  MispParser(std::string_view json, std::string_view file, const Options& options)
      : json_(json), file_(file), options_(options) {}

  absl::StatusOr<ParseOutput> Parse();

 private:
  absl::Status Error(std::string_view path, std::string_view message) const {
    return internal::LocatedError(file_, path, message);
  }
  // A bad record: an error (default) or, with skip_bad_records, a diagnostic and OK (skip it).
  absl::Status BadRecord(absl::Status status, std::string_view path) {
    return internal::BadRecord(options_.skip_bad_records, std::move(status), file_, path,
                               out_.diagnostics);
  }
  void Warn(std::string_view path, std::string message) {
    internal::Warn(file_, path, std::move(message), out_.diagnostics);
  }

  absl::Status ParseRoot(dom::element root);
  absl::Status ParseEventHolder(dom::element el, const std::string& path);
  absl::Status ParseEvent(dom::element el, const std::string& path);
  absl::Status ParseAttributes(dom::object owner, const std::string& owner_path,
                               const AttributeContext& ctx, Incident& inc);
  absl::Status ParseAttribute(dom::element el, const std::string& path, const AttributeContext& ctx,
                              Incident& inc);
  absl::Status AddIndicator(IndicatorType type, std::string_view value, bool context,
                            dom::object attr, const std::string& path, Incident& inc);
  // Calls `each` with every element of `owner`'s list `key` and its path (`path`.key[i]);
  // nothing when the field is absent. Errors: "expected a list of `plural`" when it is no list;
  // the first of `each`'s.
  absl::Status ForEachListed(
      dom::object owner, const std::string& path, std::string_view key, std::string_view plural,
      absl::FunctionRef<absl::Status(dom::element, const std::string&)> each);
  // The same for a list of objects (Object[], EventReport[]): one marked `deleted` is skipped, an
  // element that is no object is a bad record ("`singular` is an object").
  absl::Status ForEachLiveObject(
      dom::object owner, const std::string& path, std::string_view key, std::string_view plural,
      std::string_view singular,
      absl::FunctionRef<absl::Status(dom::object, const std::string&)> each);
  // The event's reports (EventReport[], Markdown): read as prose, like a report file.
  absl::Status ParseEventReports(dom::object ev, const std::string& path, Incident& inc);
  // Options::kb's names compiled for prose, fetched once per parse (null without a KB).
  const extract::NameCatalog* Catalog();
  // `path` is the owner's JSON path; it locates the techniques, software and actors found.
  void ParseTagsAndGalaxies(dom::object owner, std::string_view path, bool event_level,
                            Incident& inc);

  std::string_view json_;
  std::string_view file_;
  const Options& options_;
  ParseOutput out_;
  size_t event_count_ = 0;
  std::string content_sha_;  // computed lazily for events without a uuid
  std::string latest_seen_;  // per event: latest attribute first_seen/last_seen
  // Options::kb's names for event reports, fetched by the first event that has one.
  std::shared_ptr<const extract::NameCatalog> catalog_;
  bool catalog_ready_ = false;
};

absl::StatusOr<ParseOutput> MispParser::Parse() {
  dom::parser parser;
  KINSHIP_ASSIGN_OR_RETURN(dom::element root, internal::ParseJsonDocument(parser, json_, file_));
  KINSHIP_RETURN_IF_ERROR(ParseRoot(root));
  return std::move(out_);
}

absl::Status MispParser::ParseRoot(dom::element root) {
  dom::array list;
  if (root.get_array().get(list) == simdjson::SUCCESS) {
    size_t i = 0;
    for (dom::element el : list) KINSHIP_RETURN_IF_ERROR(ParseEventHolder(el, Index("", i++)));
    return absl::OkStatus();
  }
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return Error("", "a MISP file holds an event object or a list of events");
  }
  dom::element response;
  if (Field(obj, "response", &response)) {
    if (response.get_array().get(list) == simdjson::SUCCESS) {
      size_t i = 0;
      for (dom::element el : list) {
        KINSHIP_RETURN_IF_ERROR(ParseEventHolder(el, Index("response", i++)));
      }
      return absl::OkStatus();
    }
    return ParseEventHolder(response, "response");
  }
  return ParseEventHolder(root, "");
}

// {"Event": {...}} or a bare event.
absl::Status MispParser::ParseEventHolder(dom::element el, const std::string& path) {
  dom::object obj;
  if (el.get_object().get(obj) != simdjson::SUCCESS) {
    return BadRecord(Error(path, "expected a MISP event object"), path);
  }
  dom::element event;
  if (Field(obj, "Event", &event)) return ParseEvent(event, Join(path, "Event"));
  // A bare event must look like one; anything else (a STIX bundle, a feed manifest) is not MISP.
  static constexpr std::string_view kEventKeys[] = {"uuid", "info", "Attribute", "Object"};
  for (std::string_view k : kEventKeys) {
    dom::element ignored;
    if (Field(obj, k, &ignored)) return ParseEvent(el, path);
  }
  return BadRecord(Error(path, "not a MISP event (no Event, uuid, info, Attribute or Object)"),
                   path);
}

absl::Status MispParser::ParseEvent(dom::element el, const std::string& path) {
  const size_t index = event_count_++;
  dom::object ev;
  if (el.get_object().get(ev) != simdjson::SUCCESS) {
    return BadRecord(Error(path, "a MISP event is an object"), path);
  }
  Incident inc;
  inc.id = StringField(ev, "uuid");
  if (inc.id.empty()) {
    // No uuid (hand-made events): a stable id from the content, as for IOC lists.
    if (content_sha_.empty()) content_sha_ = util::Sha256Hex(json_);
    inc.id = absl::StrCat("sha256:", content_sha_);
    if (index > 0) absl::StrAppend(&inc.id, "#", index);
  }
  inc.title = StringField(ev, "info");
  if (!inc.title.empty()) inc.title_location = Join(path, "info");
  dom::element org;
  for (std::string_view key : {"Orgc", "Org"}) {
    dom::object org_obj;
    if (inc.source.empty() && Field(ev, key, &org) &&
        org.get_object().get(org_obj) == simdjson::SUCCESS) {
      inc.source = StringField(org_obj, "name");
    }
  }
  inc.first_seen = StringField(ev, "date");
  if (inc.first_seen.empty()) inc.first_seen = IsoFromUnix(StringField(ev, "publish_timestamp"));
  if (inc.first_seen.empty()) inc.first_seen = IsoFromUnix(StringField(ev, "timestamp"));
  inc.provenance.file = std::string(file_);
  inc.provenance.format = "misp";
  inc.provenance.source_modified = IsoFromUnix(StringField(ev, "timestamp"));

  ParseTagsAndGalaxies(ev, path, /*event_level=*/true, inc);

  latest_seen_.clear();
  const size_t diagnostics_before = out_.diagnostics.size();
  absl::Status st = ParseAttributes(ev, path, AttributeContext{}, inc);
  if (st.ok()) {
    st = ForEachLiveObject(ev, path, "Object", "objects", "a MISP object",
                           [&](dom::object obj, const std::string& opath) {
                             const std::string name = StringField(obj, "name");
                             ParseTagsAndGalaxies(obj, opath, false, inc);
                             return ParseAttributes(obj, opath, AttributeContext{name}, inc);
                           });
  }
  if (st.ok()) st = ParseEventReports(ev, path, inc);
  if (st.ok() && inc.attributions.empty() && options_.kb != nullptr) {
    // An event that states no actor (no threat-actor or intrusion-set galaxy, no event report
    // saying so) but whose title names exactly one: "OSINT - APT28 targets hotels in Europe".
    if (auto stated = internal::TitleAttribution(Catalog(), inc.title, inc.title_location,
                                                 "MISP event title")) {
      inc.attributions.push_back(std::move(*stated));
    }
  }
  if (!st.ok()) {
    // A structural error inside an event skips the whole event when tolerated.
    out_.diagnostics.resize(diagnostics_before);
    return BadRecord(st, path);
  }
  if (!latest_seen_.empty() && latest_seen_ > inc.first_seen) inc.last_seen = latest_seen_;
  internal::ApplyStatedLikelihood(inc);
  out_.incidents.push_back(std::move(inc));
  return absl::OkStatus();
}

absl::Status MispParser::ForEachListed(
    dom::object owner, const std::string& path, std::string_view key, std::string_view plural,
    absl::FunctionRef<absl::Status(dom::element, const std::string&)> each) {
  dom::element field;
  if (!Field(owner, key, &field)) return absl::OkStatus();
  dom::array list;
  if (field.get_array().get(list) != simdjson::SUCCESS) {
    return Error(Join(path, key), absl::StrCat("expected a list of ", AV(plural)));
  }
  size_t i = 0;
  for (dom::element el : list) KINSHIP_RETURN_IF_ERROR(each(el, Join(path, Index(key, i++))));
  return absl::OkStatus();
}

absl::Status MispParser::ForEachLiveObject(
    dom::object owner, const std::string& path, std::string_view key, std::string_view plural,
    std::string_view singular,
    absl::FunctionRef<absl::Status(dom::object, const std::string&)> each) {
  return ForEachListed(owner, path, key, plural, [&](dom::element el, const std::string& epath) {
    dom::object obj;
    if (el.get_object().get(obj) != simdjson::SUCCESS) {
      return BadRecord(Error(epath, absl::StrCat(AV(singular), " is an object")), epath);
    }
    if (BoolField(obj, "deleted").value_or(false)) return absl::OkStatus();
    return each(obj, epath);
  });
}

absl::Status MispParser::ParseEventReports(dom::object ev, const std::string& path, Incident& inc) {
  return ForEachLiveObject(
      ev, path, "EventReport", "event reports", "an event report",
      [&](dom::object report, const std::string& rpath) {
        std::string content = StringField(report, "content");
        if (content.empty()) return absl::OkStatus();
        const std::string where = Join(rpath, "content");
        internal::AddFindings(internal::ReadMarkdownProse(Catalog(), content), options_, where,
                              kEventReportSource, inc);
        // Kept, for a later `kb import` to read it with its names.
        inc.prose.push_back(internal::MarkdownProse(std::move(content), where, kEventReportSource));
        return absl::OkStatus();
      });
}

const extract::NameCatalog* MispParser::Catalog() {
  if (!catalog_ready_) {
    catalog_ = internal::ReportCatalog(options_);
    catalog_ready_ = true;
  }
  return catalog_.get();
}

absl::Status MispParser::ParseAttributes(dom::object owner, const std::string& owner_path,
                                         const AttributeContext& ctx, Incident& inc) {
  return ForEachListed(
      owner, owner_path, "Attribute", "attributes",
      [&](dom::element a, const std::string& apath) { return ParseAttribute(a, apath, ctx, inc); });
}

absl::Status MispParser::ParseAttribute(dom::element el, const std::string& path,
                                        const AttributeContext& ctx, Incident& inc) {
  dom::object attr;
  if (el.get_object().get(attr) != simdjson::SUCCESS) {
    return BadRecord(Error(path, "an attribute is an object"), path);
  }
  if (BoolField(attr, "deleted").value_or(false)) return absl::OkStatus();
  dom::element type_el;
  std::string_view misp_type;
  if (!Field(attr, "type", &type_el)) {
    return BadRecord(Error(Join(path, "type"), "missing"), path);
  }
  if (type_el.get_string().get(misp_type) != simdjson::SUCCESS || misp_type.empty()) {
    return BadRecord(Error(Join(path, "type"), "expected a non-empty string"), path);
  }
  dom::element value_el;
  if (!Field(attr, "value", &value_el)) {
    return BadRecord(Error(Join(path, "value"), "missing"), path);
  }
  std::string value_holder;
  std::string_view value;
  if (value_el.get_string().get(value) != simdjson::SUCCESS) {
    if (!value_el.is_number()) {
      return BadRecord(Error(Join(path, "value"), "expected a string"), path);
    }
    value_holder = simdjson::minify(value_el);
    value = value_holder;
  }
  if (SV(absl::StripAsciiWhitespace(AV(value))).empty()) {
    return BadRecord(Error(Join(path, "value"), "empty"), path);
  }
  for (std::string_view key : {"first_seen", "last_seen"}) {
    std::string seen = StringField(attr, key);
    if (seen > latest_seen_) latest_seen_ = std::move(seen);
  }
  ParseTagsAndGalaxies(attr, path, false, inc);

  MispTypeMapping m = internal::MapMispType(misp_type);
  if (m.kind == MispTypeKind::kContext && !ctx.object_name.empty()) {
    if (auto t = internal::TypeFromObjectRelation(ctx.object_name,
                                                  StringField(attr, "object_relation"))) {
      m = MispTypeMapping{MispTypeKind::kIndicator, *t, IndicatorType::kOther, false, false};
    }
  }
  switch (m.kind) {
    case MispTypeKind::kVictim:
      if (misp_type == "target-org" && inc.victim.organisation.empty()) {
        inc.victim.organisation = std::string(value);
      } else if (misp_type == "target-location" && inc.victim.country.empty()) {
        inc.victim.country = std::string(value);
      }
      return absl::OkStatus();
    case MispTypeKind::kContext:
      return AddIndicator(IndicatorType::kOther, value, true, attr, path, inc);
    case MispTypeKind::kIndicator: {
      IndicatorType t = m.ip_first ? internal::IpTypeOf(value) : m.first;
      return AddIndicator(t, value, false, attr, path, inc);
    }
    case MispTypeKind::kComposite: {
      // The second part is a hash, IP or port and never holds '|'; a registry value may.
      size_t bar = misp_type == "regkey|value" ? value.find('|') : value.rfind('|');
      if (bar == std::string_view::npos) {
        return BadRecord(Error(Join(path, "value"), absl::StrCat("composite type '", AV(misp_type),
                                                                 "' needs a value 'a|b'")),
                         path);
      }
      std::string_view a = value.substr(0, bar), b = value.substr(bar + 1);
      IndicatorType ta = m.ip_first ? internal::IpTypeOf(a) : m.first;
      IndicatorType tb = m.ip_second ? internal::IpTypeOf(b) : m.second;
      if (a.empty() || (b.empty() && tb != IndicatorType::kOther)) {
        return BadRecord(Error(Join(path, "value"), "composite value has an empty part"), path);
      }
      // Check both halves before adding either, so a skipped record adds nothing.
      for (std::string_view part : {a, b}) {
        if (part.size() > limits::kMaxIndicatorBytes) {
          return BadRecord(absl::ResourceExhaustedError(absl::StrCat(
                               AV(file_), ":", path, ".value: longer than kMaxIndicatorBytes (",
                               limits::kMaxIndicatorBytes, ")")),
                           path);
        }
      }
      KINSHIP_RETURN_IF_ERROR(AddIndicator(ta, a, false, attr, path, inc));
      // Ports and unindexed hash kinds are not kept as indicators of their own.
      if (tb == IndicatorType::kOther) return absl::OkStatus();
      return AddIndicator(tb, b, false, attr, path, inc);
    }
  }
  return absl::OkStatus();
}

absl::Status MispParser::AddIndicator(IndicatorType type, std::string_view value, bool context,
                                      dom::object attr, const std::string& path, Incident& inc) {
  if (value.size() > limits::kMaxIndicatorBytes) {
    if (context) {
      // Prose in a text/comment attribute is never matched; dropping it loses no evidence.
      Warn(path, absl::StrCat("context value longer than kMaxIndicatorBytes (",
                              limits::kMaxIndicatorBytes, ") not kept"));
      return absl::OkStatus();
    }
    return BadRecord(absl::ResourceExhaustedError(absl::StrCat(
                         AV(file_), ":", path, ".value: longer than kMaxIndicatorBytes (",
                         limits::kMaxIndicatorBytes, ")")),
                     path);
  }
  if (inc.indicators.size() >= limits::kMaxIndicatorsPerIncident) {
    return absl::ResourceExhaustedError(
        absl::StrCat(AV(file_), ":", path, ": event has more than kMaxIndicatorsPerIncident (",
                     limits::kMaxIndicatorsPerIncident, ") indicators"));
  }
  Indicator ind = Indicator::Raw(type, std::string(value), path);
  // Without the field, follow MISP's own defaults: observables are for detection, context not.
  ind.to_ids = BoolField(attr, "to_ids").value_or(!context);
  ind.category = StringField(attr, "category");
  ind.comment = StringField(attr, "comment");
  inc.indicators.push_back(std::move(ind));
  return absl::OkStatus();
}

void MispParser::ParseTagsAndGalaxies(dom::object owner, std::string_view path, bool event_level,
                                      Incident& inc) {
  dom::element el;
  dom::array list;
  // "Tag": [{"name": ...}] (MISP >= 2.4); "EventTag"/"AttributeTag": [{"Tag": {"name": ...}}]
  // (older exports); some exporters write bare tag names.
  for (std::string_view key : {"Tag", "EventTag", "AttributeTag"}) {
    if (!Field(owner, key, &el) || el.get_array().get(list) != simdjson::SUCCESS) continue;
    size_t i = 0;
    for (dom::element t : list) {
      dom::object tag;
      std::string_view name;
      bool named = false;
      if (t.get_object().get(tag) == simdjson::SUCCESS) {
        dom::object inner;
        if (key != "Tag" && tag["Tag"].get_object().get(inner) == simdjson::SUCCESS) tag = inner;
        named = tag["name"].get_string().get(name) == simdjson::SUCCESS;
      } else {
        named = t.get_string().get(name) == simdjson::SUCCESS;
      }
      if (named) {
        // Only a galaxy tag can name a technique, software or actor: its path is built then.
        const std::string location =
            absl::StrContains(AV(name), "misp-galaxy:") ? Join(path, Index(key, i)) : "";
        internal::ApplyTag(name, event_level, inc, location);
      }
      ++i;
    }
  }
  if (!Field(owner, "Galaxy", &el) || el.get_array().get(list) != simdjson::SUCCESS) return;
  size_t gi = 0;
  for (dom::element g : list) {
    const size_t galaxy_index = gi++;
    dom::object galaxy;
    if (g.get_object().get(galaxy) != simdjson::SUCCESS) continue;
    const std::string galaxy_type = StringField(galaxy, "type");
    dom::element clusters_el;
    dom::array clusters;
    if (!Field(galaxy, "GalaxyCluster", &clusters_el) ||
        clusters_el.get_array().get(clusters) != simdjson::SUCCESS) {
      continue;
    }
    size_t ci = 0;
    for (dom::element c : clusters) {
      const size_t cluster_index = ci++;
      dom::object cluster;
      if (c.get_object().get(cluster) != simdjson::SUCCESS) continue;
      std::string type = StringField(cluster, "type");
      if (type.empty()) type = galaxy_type;
      std::string external_id;
      dom::element meta_el, ext_el;
      dom::object meta;
      if (Field(cluster, "meta", &meta_el) && meta_el.get_object().get(meta) == simdjson::SUCCESS &&
          Field(meta, "external_id", &ext_el)) {
        dom::array ids;
        std::string_view id;
        if (ext_el.get_array().get(ids) == simdjson::SUCCESS) {
          for (dom::element e : ids) {
            if (e.get_string().get(id) == simdjson::SUCCESS && !id.empty()) {
              external_id = std::string(id);
              break;
            }
          }
        } else if (ext_el.get_string().get(id) == simdjson::SUCCESS) {
          external_id = std::string(id);
        }
      }
      internal::ApplyGalaxyCluster(
          type, StringField(cluster, "value"), external_id, inc,
          Join(Join(path, Index("Galaxy", galaxy_index)), Index("GalaxyCluster", cluster_index)));
    }
  }
}

}  // namespace

absl::StatusOr<ParseOutput> ParseMisp(std::string_view json, std::string_view file,
                                      const Options& options) {
  return MispParser(json, file, options).Parse();
}

}  // namespace kinship::ingest
