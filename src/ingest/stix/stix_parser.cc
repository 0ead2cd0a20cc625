// STIX 2.0 / 2.1 JSON -> incidents. The one place simdjson meets STIX: the DOM API, because
// objects reference each other by id (report -> object_refs -> indicators) and need random access.
//
// Accepted shapes: a bundle {"type": "bundle", "objects": [...]}, a single object {"type": ...},
// and a bare JSON array of objects. Report and grouping objects become incidents (id = their id);
// without any, the whole input is one incident (id = the bundle id). See docs/formats-stix.md.
#include <arpa/inet.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ingest/json_syntax.h"
#include "ingest/record_errors.h"
#include "ingest/report/findings.h"
#include "ingest/stix/pattern.h"
#include "kinship/ingest.h"
#include "kinship/limits.h"
#include "kinship/normalize.h"
#include "util/sha256.h"

namespace kinship::ingest {
namespace {

namespace dom = simdjson::dom;

bool IsCveId(std::string_view name) { return normalize::DetectType(name) == IndicatorType::kCve; }

std::string_view Str(dom::object o, std::string_view key) {
  std::string_view s;
  if (o.at_key(key).get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}

// The standard TLP marking-definition ids: STIX 2.0/2.1 TLP 1.0 (part 7.2.1.4 of STIX 2.1) and
// the TLP 2.0 marking definitions published by OASIS (extension-definition--60a3c5c5-...).
Tlp WellKnownTlp(std::string_view id) {
  static constexpr std::pair<std::string_view, Tlp> kIds[] = {
      {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp::kClear},
      {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp::kGreen},
      {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", Tlp::kAmber},
      {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp::kRed},
      {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", Tlp::kClear},
      {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", Tlp::kGreen},
      {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", Tlp::kAmber},
      {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp::kAmberStrict},
      {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", Tlp::kRed},
  };
  for (const auto& [k, v] : kIds) {
    if (k == id) return v;
  }
  return Tlp::kUnset;
}

std::optional<IndicatorType> HashType(std::string_view label) {
  std::string k;
  for (char c : label) {
    if (c != '-' && c != '_') k.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  if (k == "MD5") return IndicatorType::kMd5;
  if (k == "SHA1") return IndicatorType::kSha1;
  if (k == "SHA256") return IndicatorType::kSha256;
  if (k == "SHA512") return IndicatorType::kSha512;
  if (k == "SSDEEP") return IndicatorType::kSsdeep;
  if (k == "TLSH") return IndicatorType::kTlsh;
  if (k == "IMPHASH") return IndicatorType::kImphash;
  return std::nullopt;
}

bool IsIpv4(std::string_view s) {
  in_addr a;
  return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}
bool IsIpv6(std::string_view s) {
  in6_addr a;
  return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

// The indicator type an SCO property holds, for `object_type:path` (list indexes dropped from
// `path`, e.g. "to_refs.value"), or nullopt when the property is not an observable kinship keeps.
std::optional<IndicatorType> TypeFor(std::string_view object_type, std::string_view path,
                                     std::string_view value) {
  const bool cidr = value.find('/') != std::string_view::npos;
  if (object_type == "ipv4-addr" && path == "value") {
    return cidr ? IndicatorType::kCidr : IndicatorType::kIpv4;
  }
  if (object_type == "ipv6-addr" && path == "value") {
    return cidr ? IndicatorType::kCidr : IndicatorType::kIpv6;
  }
  if (object_type == "domain-name" && path == "value") return IndicatorType::kDomain;
  if (object_type == "url" && path == "value") return IndicatorType::kUrl;
  if (object_type == "email-addr" && path == "value") return IndicatorType::kEmail;
  if (object_type == "mutex" && path == "name") return IndicatorType::kMutex;
  if (object_type == "windows-registry-key" && path == "key") return IndicatorType::kRegistryKey;
  if (object_type == "autonomous-system" && path == "number") return IndicatorType::kAsn;
  if (object_type == "directory" && path == "path") return IndicatorType::kFilePath;
  if (object_type == "process" && path == "command_line") return IndicatorType::kCommandLine;
  if (absl::StartsWith(AV(path), "hashes.")) {
    auto h = HashType(path.substr(7));
    if (!h) return std::nullopt;
    if (object_type == "x509-certificate") return IndicatorType::kX509Fingerprint;
    if (object_type == "file" || object_type == "artifact") return h;
    return std::nullopt;
  }
  if (object_type == "file" && path == "name") return IndicatorType::kFilename;
  if (object_type == "file" && path == "parent_directory_ref.path") {
    return IndicatorType::kFilePath;
  }
  if (object_type == "x509-certificate" && path == "serial_number") {
    return IndicatorType::kX509Serial;
  }
  if (object_type == "email-message") {
    if (path == "subject") return IndicatorType::kEmailSubject;
    if (path == "from_ref.value" || path == "sender_ref.value" || path == "to_refs.value" ||
        path == "cc_refs.value" || path == "bcc_refs.value") {
      return IndicatorType::kEmail;
    }
  }
  if (object_type == "network-traffic" && (path == "src_ref.value" || path == "dst_ref.value")) {
    if (IsIpv4(value)) return IndicatorType::kIpv4;
    if (IsIpv6(value)) return IndicatorType::kIpv6;
    if (cidr) return IndicatorType::kCidr;
    return IndicatorType::kDomain;
  }
  if (absl::EndsWith(AV(path), "request_header.User-Agent")) return IndicatorType::kUserAgent;
  return std::nullopt;
}

struct Obj {
  dom::object o;
  std::string_view type;
  std::string_view id;
  std::string path;  // "objects[12]"
  bool skipped = false;
  std::vector<Indicator> pattern_indicators;  // indicators: from the parsed pattern
};

class StixParser {
 public:
  StixParser(std::string_view json, std::string_view file, const Options& options)
      : json_(json), file_(file), options_(options) {}

  absl::StatusOr<ParseOutput> Parse();

 private:
  absl::Status Error(std::string_view path, std::string_view message) const {
    return internal::LocatedError(file_, path, message);
  }
  absl::Status BadRecord(absl::Status status, std::string_view path) {
    return internal::BadRecord(options_.skip_bad_records, std::move(status), file_, path,
                               out_.diagnostics);
  }
  void Warn(std::string_view path, std::string message) {
    internal::Warn(file_, path, std::move(message), out_.diagnostics);
  }

  absl::Status AddObject(dom::element el, std::string path);
  // Leaves out every object whose version read is revoked (STIX 2.1 section 3.6: withdrawn by
  // its producer), as if the bundle did not hold it, with a warning at its place: a revoked
  // report is no incident, a revoked indicator, relationship or actor no evidence.
  void DropRevoked();
  absl::Status ParsePatternOf(Obj& obj);
  absl::Status AddValue(IndicatorType type, std::string_view value, const std::string& location,
                        std::vector<Indicator>* out);
  absl::Status ScoIndicators(dom::object o, std::string_view type, const std::string& path,
                             std::vector<Indicator>* out);
  const Obj* Find(std::string_view id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &objects_[it->second];
  }
  std::vector<size_t> Members(const Obj& container);
  absl::Status Build(const std::vector<size_t>& members, const Obj* container, Incident& inc);
  Tlp MarkingTlp(dom::object o) const;
  // What a `targets` relationship's target says of the victim, where `victim` has nothing yet:
  // an identity's first sector (STIX's industry-sector vocabulary) and first country in the
  // Cyber Threat Alliance's `x_cta_country` (Unit 42's playbooks), a location's `country`.
  // Not the identity's name: playbooks name it "Targeting Information".
  static void TargetedVictim(const Obj& target, Victim& victim);
  std::string IdentityName(std::string_view id) const;

  std::string_view json_;
  std::string_view file_;
  const Options& options_;
  ParseOutput out_;
  std::vector<Obj> objects_;
  std::unordered_map<std::string_view, size_t> by_id_;
};

absl::Status StixParser::AddValue(IndicatorType type, std::string_view value,
                                  const std::string& location, std::vector<Indicator>* out) {
  if (value.empty()) return absl::OkStatus();
  if (value.size() > limits::kMaxIndicatorBytes) {
    return BadRecord(absl::ResourceExhaustedError(absl::StrCat(
                         AV(file_), ":", location, ": value of ", value.size(),
                         " bytes exceeds kMaxIndicatorBytes (", limits::kMaxIndicatorBytes, ")")),
                     location);
  }
  out->push_back(Indicator::Raw(type, std::string(value), location));
  return absl::OkStatus();
}

absl::Status StixParser::ScoIndicators(dom::object o, std::string_view type,
                                       const std::string& path, std::vector<Indicator>* out) {
  for (std::string_view key :
       {"value", "name", "key", "path", "command_line", "serial_number", "subject"}) {
    std::string_view v = Str(o, key);
    if (v.empty()) continue;
    if (auto t = TypeFor(type, key, v)) {
      KINSHIP_RETURN_IF_ERROR(AddValue(*t, v, absl::StrCat(path, ".", AV(key)), out));
    }
  }
  if (type == "autonomous-system") {
    int64_t n;
    if (o["number"].get_int64().get(n) == simdjson::SUCCESS) {
      KINSHIP_RETURN_IF_ERROR(
          AddValue(IndicatorType::kAsn, absl::StrCat(n), absl::StrCat(path, ".number"), out));
    }
  }
  dom::object hashes;
  if (o["hashes"].get_object().get(hashes) == simdjson::SUCCESS) {
    for (auto [k, v] : hashes) {
      std::string_view hv;
      if (v.get_string().get(hv) != simdjson::SUCCESS) continue;
      const std::string p = absl::StrCat("hashes.", AV(k));
      if (auto t = TypeFor(type, p, hv)) {
        KINSHIP_RETURN_IF_ERROR(AddValue(*t, hv, absl::StrCat(path, ".", p), out));
      }
    }
  }
  // User-Agent from the HTTP request extension (network-traffic), wherever an SCO carries it.
  dom::object headers;
  if (o.at_pointer("/extensions/http-request-ext/request_header").get(headers) ==
      simdjson::SUCCESS) {
    std::string_view ua = Str(headers, "User-Agent");
    KINSHIP_RETURN_IF_ERROR(AddValue(
        IndicatorType::kUserAgent, ua,
        absl::StrCat(path, ".extensions.http-request-ext.request_header.User-Agent"), out));
  }
  return absl::OkStatus();
}

absl::Status StixParser::ParsePatternOf(Obj& obj) {
  const std::string loc = absl::StrCat(obj.path, ".pattern");
  std::string_view pattern_type = Str(obj.o, "pattern_type");
  if (!pattern_type.empty() && pattern_type != "stix") {
    Warn(loc, absl::StrCat("pattern_type '", AV(pattern_type), "' is not parsed"));
    return absl::OkStatus();
  }
  std::string_view text;
  if (obj.o["pattern"].get_string().get(text) != simdjson::SUCCESS) {
    obj.skipped = true;
    return BadRecord(Error(loc, "indicator without a string pattern"), loc);
  }
  auto parsed = stix::ParsePattern(text);
  if (!parsed.ok()) {
    obj.skipped = true;
    return BadRecord(absl::Status(parsed.status().code(), absl::StrCat(AV(file_), ":", loc, ": ",
                                                                       parsed.status().message())),
                     loc);
  }
  std::vector<Indicator> found;
  for (const stix::Comparison* c : parsed->Comparisons()) {
    // An address ISSUBSET a network is in it: the network is the indicator (a CIDR, as the
    // normaliser reads an address with a prefix).
    const bool in_network = c->op == "ISSUBSET" && (c->path.object_type == "ipv4-addr" ||
                                                    c->path.object_type == "ipv6-addr");
    if (c->negated || (c->op != "=" && c->op != "IN" && !in_network)) continue;
    std::string path;
    for (const std::string& comp : c->path.components) {
      if (!comp.empty() && comp.front() == '[') continue;
      if (!path.empty()) path += '.';
      path += comp;
    }
    for (const stix::Literal& lit : c->values) {
      if (lit.kind != stix::Literal::Kind::kString && lit.kind != stix::Literal::Kind::kInt &&
          lit.kind != stix::Literal::Kind::kHex) {
        continue;
      }
      auto t = TypeFor(c->path.object_type, path, lit.text);
      if (!t) continue;
      if (lit.kind == stix::Literal::Kind::kInt && *t != IndicatorType::kAsn) continue;
      KINSHIP_RETURN_IF_ERROR(AddValue(*t, lit.text, absl::StrCat(loc, ":", c->position), &found));
    }
  }
  obj.pattern_indicators = std::move(found);
  return absl::OkStatus();
}

absl::Status StixParser::AddObject(dom::element el, std::string path) {
  dom::object o;
  if (el.get_object().get(o) != simdjson::SUCCESS) {
    return BadRecord(Error(path, "STIX object is not a JSON object"), path);
  }
  Obj obj;
  obj.o = o;
  obj.type = Str(o, "type");
  obj.id = Str(o, "id");
  obj.path = std::move(path);
  if (obj.type.empty()) return BadRecord(Error(obj.path, "object without a type"), obj.path);
  if (obj.id.empty()) return BadRecord(Error(obj.path, "object without an id"), obj.path);
  if (obj.type == "indicator") KINSHIP_RETURN_IF_ERROR(ParsePatternOf(obj));
  if (obj.skipped) return absl::OkStatus();
  // Versions of one object (same id, STIX 2.1 section 3.6): the one modified last is the
  // object; of two modified at the same time (or without `modified`, as SCOs are), the later in
  // the bundle.
  auto [it, inserted] = by_id_.emplace(obj.id, objects_.size());
  if (inserted) {
    objects_.push_back(std::move(obj));
  } else if (!TimestampBefore(Str(obj.o, "modified"), Str(objects_[it->second].o, "modified"))) {
    objects_[it->second] = std::move(obj);
  }
  return absl::OkStatus();
}

void StixParser::TargetedVictim(const Obj& target, Victim& victim) {
  // The first string of a property that is a string or an array of strings.
  auto first = [&target](std::string_view key) -> std::string_view {
    dom::element v;
    if (target.o.at_key(key).get(v) != simdjson::SUCCESS) return {};
    std::string_view s;
    if (v.get_string().get(s) == simdjson::SUCCESS) return s;
    dom::array list;
    if (v.get_array().get(list) != simdjson::SUCCESS) return {};
    for (dom::element e : list) {
      if (e.get_string().get(s) == simdjson::SUCCESS && !s.empty()) return s;
    }
    return {};
  };
  std::string_view sector, country;
  if (target.type == "identity") {
    sector = first("sectors");
    country = first("x_cta_country");
  } else if (target.type == "location") {
    country = first("country");
  }
  if (victim.sector.empty()) victim.sector = std::string(sector);
  if (victim.country.empty()) victim.country = std::string(country);
}

void StixParser::DropRevoked() {
  std::vector<Obj> kept;
  kept.reserve(objects_.size());
  for (Obj& obj : objects_) {
    bool revoked = false;
    if (obj.o["revoked"].get_bool().get(revoked) == simdjson::SUCCESS && revoked) {
      Warn(obj.path,
           absl::StrCat(AV(obj.type), " ", AV(obj.id), " is revoked by its producer: left out"));
      continue;
    }
    kept.push_back(std::move(obj));
  }
  const bool dropped = kept.size() != objects_.size();
  objects_ = std::move(kept);
  if (!dropped) return;
  by_id_.clear();
  for (size_t i = 0; i < objects_.size(); ++i) by_id_.emplace(objects_[i].id, i);
}

bool IsSco(std::string_view type) {
  static constexpr std::string_view kScos[] = {"artifact",
                                               "autonomous-system",
                                               "directory",
                                               "domain-name",
                                               "email-addr",
                                               "email-message",
                                               "file",
                                               "ipv4-addr",
                                               "ipv6-addr",
                                               "mac-addr",
                                               "mutex",
                                               "network-traffic",
                                               "process",
                                               "software",
                                               "url",
                                               "user-account",
                                               "windows-registry-key",
                                               "x509-certificate"};
  for (std::string_view s : kScos) {
    if (s == type) return true;
  }
  return false;
}

bool FollowedRelationship(std::string_view rel) {
  return rel == "indicates" || rel == "uses" || rel == "attributed-to";
}

std::vector<size_t> StixParser::Members(const Obj& container) {
  std::vector<size_t> members;
  std::unordered_set<size_t> seen;
  auto add = [&](std::string_view id) {
    auto it = by_id_.find(id);
    if (it != by_id_.end() && seen.insert(it->second).second) members.push_back(it->second);
  };
  dom::array refs;
  if (container.o["object_refs"].get_array().get(refs) == simdjson::SUCCESS) {
    for (dom::element r : refs) {
      std::string_view id;
      if (r.get_string().get(id) == simdjson::SUCCESS) add(id);
    }
  }
  // One hop along indicates/uses/attributed-to from the container's own objects, and both ends
  // of any relationship the container lists.
  const std::unordered_set<size_t> direct(seen);
  for (size_t i = 0; i < objects_.size(); ++i) {
    const Obj& rel = objects_[i];
    if (rel.type != "relationship") continue;
    std::string_view src = Str(rel.o, "source_ref"), dst = Str(rel.o, "target_ref");
    if (direct.count(i)) {
      add(src);
      add(dst);
      continue;
    }
    if (!FollowedRelationship(Str(rel.o, "relationship_type"))) continue;
    auto s = by_id_.find(src), d = by_id_.find(dst);
    const bool src_in = s != by_id_.end() && direct.count(s->second);
    const bool dst_in = d != by_id_.end() && direct.count(d->second);
    if (src_in || dst_in) {
      add(src);
      add(dst);
      if (seen.insert(i).second) members.push_back(i);
    }
  }
  // Observed data and SCOs pull in the SCOs they reference (2.1 object_refs, *_ref, *_refs).
  for (size_t k = 0; k < members.size(); ++k) {
    const Obj& m = objects_[members[k]];
    if (m.type != "observed-data" && !IsSco(m.type)) continue;
    for (auto [key, v] : m.o) {
      std::string_view id;
      if (absl::EndsWith(AV(key), "_ref") && v.get_string().get(id) == simdjson::SUCCESS) add(id);
      dom::array list;
      if (absl::EndsWith(AV(key), "_refs") && v.get_array().get(list) == simdjson::SUCCESS) {
        for (dom::element e : list) {
          if (e.get_string().get(id) == simdjson::SUCCESS) add(id);
        }
      }
    }
  }
  return members;
}

Tlp StixParser::MarkingTlp(dom::object o) const {
  Tlp tlp = Tlp::kUnset;
  dom::array refs;
  if (o["object_marking_refs"].get_array().get(refs) != simdjson::SUCCESS) return tlp;
  for (dom::element r : refs) {
    std::string_view id;
    if (r.get_string().get(id) != simdjson::SUCCESS) continue;
    Tlp t = WellKnownTlp(id);
    if (t == Tlp::kUnset) {
      if (const Obj* def = Find(id)) {
        std::string_view name = Str(def->o, "name");
        dom::object d;
        if (Str(def->o, "definition_type") == "tlp" &&
            def->o["definition"].get_object().get(d) == simdjson::SUCCESS) {
          name = Str(d, "tlp");
        } else if (absl::StartsWithIgnoreCase(AV(name), "TLP:")) {
          name = name.substr(4);
        } else {
          name = {};
        }
        if (auto parsed = TlpFromName(absl::AsciiStrToLower(AV(name)))) t = *parsed;
      }
    }
    tlp = std::max(tlp, t);  // the strictest marking wins
  }
  return tlp;
}

std::string StixParser::IdentityName(std::string_view id) const {
  const Obj* ident = Find(id);
  return ident ? std::string(Str(ident->o, "name")) : std::string();
}

std::string ExternalId(dom::object o) {
  dom::array refs;
  if (o["external_references"].get_array().get(refs) != simdjson::SUCCESS) return "";
  for (dom::element r : refs) {
    dom::object ref;
    if (r.get_object().get(ref) != simdjson::SUCCESS) continue;
    std::string_view src = Str(ref, "source_name");
    if (src == "mitre-attack" || src == "mitre-mobile-attack" || src == "mitre-ics-attack") {
      return std::string(Str(ref, "external_id"));
    }
  }
  return "";
}

int Confidence(dom::object o) {
  int64_t c;
  if (o["confidence"].get_int64().get(c) == simdjson::SUCCESS && c >= 0 && c <= 100) {
    return static_cast<int>(c);
  }
  return -1;
}

absl::Status StixParser::Build(const std::vector<size_t>& members, const Obj* container,
                               Incident& inc) {
  std::string attribution_source;
  if (container) attribution_source = IdentityName(Str(container->o, "created_by_ref"));
  if (attribution_source.empty()) attribution_source = "STIX";
  std::unordered_set<std::string> seen;  // techniques, software, actors, tags
  std::unordered_map<std::string_view, int> attributed_confidence;
  // Threat actors an intrusion set of the incident is attributed to: who is behind the group (a
  // sponsor, a persona), with the groups' names.
  std::unordered_map<std::string_view, std::vector<std::string>> behind;
  const std::unordered_set<size_t> member_set(members.begin(), members.end());
  for (size_t i : members) {
    const Obj& m = objects_[i];
    if (m.type == "relationship" && Str(m.o, "relationship_type") == "targets") {
      if (const Obj* target = Find(Str(m.o, "target_ref")); target != nullptr) {
        TargetedVictim(*target, inc.victim);
      }
    }
    if (m.type == "relationship" && Str(m.o, "relationship_type") == "attributed-to") {
      attributed_confidence[Str(m.o, "target_ref")] = Confidence(m.o);
      const Obj* group = Find(Str(m.o, "source_ref"));
      const Obj* actor = Find(Str(m.o, "target_ref"));
      if (group != nullptr && actor != nullptr && group->type == "intrusion-set" &&
          actor->type == "threat-actor" &&
          member_set.contains(static_cast<size_t>(group - objects_.data()))) {
        behind[actor->id].emplace_back(Str(group->o, "name"));
      }
    }
  }
  // The order of the stated actors, whose first is the incident's actor (the known side of
  // attribution): intrusion sets (the operating groups ATT&CK and the KB know), then threat
  // actors, then the threat actors behind an intrusion set of the incident.
  std::vector<int> actor_rank;
  std::string first_seen, last_seen;
  auto widen = [&](dom::object o) {
    for (std::string_view key : {"first_seen", "published", "first_observed"}) {
      std::string_view v = Str(o, key);
      if (!v.empty() && (first_seen.empty() || v < first_seen)) first_seen = std::string(v);
    }
    for (std::string_view key : {"last_seen", "last_observed"}) {
      std::string_view v = Str(o, key);
      if (!v.empty() && v > last_seen) last_seen = std::string(v);
    }
  };
  Tlp tlp = container ? MarkingTlp(container->o) : Tlp::kUnset;
  for (size_t i : members) {
    const Obj& m = objects_[i];
    const std::string_view t = m.type;
    tlp = std::max(tlp, MarkingTlp(m.o));
    if (!container) widen(m.o);
    if (inc.source.empty() && !container) inc.source = IdentityName(Str(m.o, "created_by_ref"));
    if (t == "indicator") {
      for (const Indicator& ind : m.pattern_indicators) inc.indicators.push_back(ind);
    } else if (t == "observed-data") {
      dom::object embedded;  // STIX 2.0: SCOs inline, keyed "0", "1", ...
      if (m.o["objects"].get_object().get(embedded) == simdjson::SUCCESS) {
        for (auto [key, v] : embedded) {
          dom::object sco;
          if (v.get_object().get(sco) != simdjson::SUCCESS) continue;
          KINSHIP_RETURN_IF_ERROR(ScoIndicators(
              sco, Str(sco, "type"), absl::StrCat(m.path, ".objects.", AV(key)), &inc.indicators));
        }
      }
    } else if (IsSco(t)) {
      KINSHIP_RETURN_IF_ERROR(ScoIndicators(m.o, t, m.path, &inc.indicators));
    } else if (t == "attack-pattern") {
      Technique tech;
      tech.id = ExternalId(m.o);
      tech.name = std::string(Str(m.o, "name"));
      // Unit 42 writes the id into the name ("T1566.001: Spearphishing Attachment"): once is
      // enough.
      if (const std::string prefix = absl::StrCat(tech.id, ": ");
          !tech.id.empty() && absl::StartsWith(tech.name, prefix)) {
        tech.name.erase(0, prefix.size());
      }
      tech.location = m.path;
      if (seen.insert(absl::StrCat("T|", tech.id, "|", tech.name)).second) {
        inc.techniques.push_back(std::move(tech));
      }
    } else if (t == "malware" || t == "tool") {
      Software sw;
      sw.name = std::string(Str(m.o, "name"));
      sw.id = ExternalId(m.o);
      sw.kind = std::string(t);
      sw.location = m.path;
      if (!sw.name.empty() && seen.insert(absl::StrCat("S|", sw.name)).second) {
        inc.software.push_back(std::move(sw));
      }
    } else if ((t == "intrusion-set" || t == "threat-actor") && IsCveId(Str(m.o, "name"))) {
      // Unit 42's playbooks name the intrusion set after the vulnerability when they name no
      // actor ("CVE-2023-23397"): a vulnerability, kept as one, not an actor.
      const std::string_view name = Str(m.o, "name");
      KINSHIP_RETURN_IF_ERROR(
          AddValue(IndicatorType::kCve, name, absl::StrCat(m.path, ".name"), &inc.indicators));
      Warn(m.path, absl::StrCat(AV(t), " '", AV(name),
                                "' names a vulnerability, not an actor: kept as a CVE, not as an "
                                "attribution"));
    } else if (t == "intrusion-set" || t == "threat-actor") {
      Attribution a;
      a.actor_name = std::string(Str(m.o, "name"));
      a.actor_id = ExternalId(m.o);
      auto c = attributed_confidence.find(m.id);
      a.confidence = c != attributed_confidence.end() ? c->second : Confidence(m.o);
      a.source = attribution_source;
      a.location = m.path;
      int rank = t == "intrusion-set" ? 0 : 1;
      if (auto b = behind.find(m.id); t == "threat-actor" && b != behind.end()) {
        rank = 2;
        a.snippet = absl::StrCat("behind intrusion set ", absl::StrJoin(b->second, ", "),
                                 " (attributed-to)");
        dom::array roles;
        if (m.o["roles"].get_array().get(roles) == simdjson::SUCCESS) {
          std::vector<std::string> r;
          for (dom::element e : roles) {
            std::string_view v;
            if (e.get_string().get(v) == simdjson::SUCCESS) r.emplace_back(v);
          }
          if (!r.empty()) absl::StrAppend(&a.snippet, "; roles: ", absl::StrJoin(r, ", "));
        }
      }
      if (!a.actor_name.empty() && seen.insert(absl::StrCat("A|", a.actor_name)).second) {
        inc.attributions.push_back(std::move(a));
        actor_rank.push_back(rank);
      }
    } else if (t == "campaign") {
      std::string tag = absl::StrCat("campaign:", AV(Str(m.o, "name")));
      if (seen.insert(tag).second) inc.tags.push_back(std::move(tag));
    } else if (t == "vulnerability") {
      std::string_view name = Str(m.o, "name");
      if (absl::StartsWithIgnoreCase(AV(name), "CVE-")) {
        KINSHIP_RETURN_IF_ERROR(
            AddValue(IndicatorType::kCve, name, absl::StrCat(m.path, ".name"), &inc.indicators));
      }
    }
  }
  std::vector<size_t> order(inc.attributions.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return actor_rank[x] < actor_rank[y]; });
  std::vector<Attribution> ordered;
  ordered.reserve(order.size());
  for (size_t k : order) ordered.push_back(std::move(inc.attributions[k]));
  inc.attributions = std::move(ordered);
  inc.tlp = tlp;
  if (container) {
    widen(container->o);
    inc.source = IdentityName(Str(container->o, "created_by_ref"));
  }
  inc.first_seen = std::move(first_seen);
  inc.last_seen = std::move(last_seen);
  if (inc.indicators.size() > limits::kMaxIndicatorsPerIncident) {
    return absl::ResourceExhaustedError(absl::StrCat(AV(file_), ": incident ", inc.id, " has ",
                                                     inc.indicators.size(),
                                                     " indicators, above "
                                                     "kMaxIndicatorsPerIncident (",
                                                     limits::kMaxIndicatorsPerIncident, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ParseOutput> StixParser::Parse() {
  dom::parser parser;
  KINSHIP_ASSIGN_OR_RETURN(dom::element root, internal::ParseJsonDocument(parser, json_, file_));
  std::string incident_id;
  dom::array list;
  dom::object top;
  if (root.get_array().get(list) == simdjson::SUCCESS) {
    size_t i = 0;
    for (dom::element el : list)
      KINSHIP_RETURN_IF_ERROR(AddObject(el, absl::StrCat("[", i++, "]")));
    incident_id = absl::StrCat("stix-", util::Sha256Hex(json_));
  } else if (root.get_object().get(top) == simdjson::SUCCESS) {
    std::string_view type = Str(top, "type");
    if (type == "bundle") {
      incident_id = std::string(Str(top, "id"));
      if (incident_id.empty()) incident_id = absl::StrCat("stix-", util::Sha256Hex(json_));
      dom::element objs;
      if (top.at_key("objects").get(objs) == simdjson::SUCCESS && !objs.is_null()) {
        if (objs.get_array().get(list) != simdjson::SUCCESS) {
          return Error("objects", "bundle objects is not an array");
        }
        size_t i = 0;
        for (dom::element el : list) {
          KINSHIP_RETURN_IF_ERROR(AddObject(el, absl::StrCat("objects[", i++, "]")));
        }
      }
    } else if (!type.empty()) {
      KINSHIP_RETURN_IF_ERROR(AddObject(root, ""));
      incident_id = std::string(Str(top, "id"));
      if (incident_id.empty()) incident_id = absl::StrCat("stix-", util::Sha256Hex(json_));
    } else {
      return Error("", "not a STIX bundle or object (no \"type\")");
    }
  } else {
    return Error("", "not a STIX bundle or object");
  }

  DropRevoked();
  bool any_container = false;
  // The incident each container (by object index) became, and each incident's members.
  std::unordered_map<size_t, size_t> incident_of;
  std::vector<std::vector<size_t>> members_of;
  // Options::kb's names for the descriptions, compiled on first use (null without a KB).
  std::shared_ptr<const extract::NameCatalog> catalog;
  bool catalog_ready = false;
  auto names = [&]() {
    if (!catalog_ready) catalog = internal::ReportCatalog(options_);
    catalog_ready = true;
    return catalog.get();
  };
  for (size_t i = 0; i < objects_.size(); ++i) {
    const Obj& obj = objects_[i];
    if (obj.type != "report" && obj.type != "grouping") continue;
    any_container = true;
    Incident inc;
    inc.id = std::string(obj.id);
    inc.title = std::string(Str(obj.o, "name"));
    if (!inc.title.empty()) inc.title_location = absl::StrCat(obj.path, ".name");
    inc.description = std::string(Str(obj.o, "description"));
    inc.provenance.source_modified = std::string(Str(obj.o, "modified"));
    std::vector<size_t> members = Members(obj);
    KINSHIP_RETURN_IF_ERROR(Build(members, &obj, inc));
    if (!inc.description.empty()) {
      // The description is often the report's own prose (a vendor's summary, or the whole
      // article an OpenCTI import kept): read as a MISP event report is, adding what the objects
      // do not already say, each item located in it ("objects[3].description:2:14").
      std::string where = absl::StrCat(obj.path, ".description");
      const std::string_view source = internal::StixDescriptionSource(obj.type);
      internal::AddFindings(internal::ReadMarkdownProse(names(), inc.description), options_, where,
                            source, inc);
      // Kept as prose too, for a later `kb import` to read with its names, located alike.
      inc.prose.push_back(
          internal::MarkdownProse(inc.description, std::move(where), std::string(source)));
    }
    incident_of[i] = out_.incidents.size();
    members_of.push_back(std::move(members));
    out_.incidents.push_back(std::move(inc));
  }
  // Which reports each report lists, kept with it (Incident::lists) so that `kb import` passes an
  // actor down as the loop below does.
  for (size_t k = 0; k < members_of.size(); ++k) {
    for (size_t m : members_of[k]) {
      auto inner = incident_of.find(m);
      if (inner != incident_of.end()) {
        out_.incidents[k].lists.push_back(out_.incidents[inner->second].id);
      }
    }
  }
  // A report that lists other reports (Unit 42's playbooks: the intrusion set's report lists its
  // campaigns' reports, which carry the indicators and techniques but no actor) states its actor
  // for them: one that states none takes the containing report's, saying so, and passes it down
  // a chain of reports. Breadth first from the reports that state an actor, in the bundle's
  // order: each report is given an actor at most once, so this is linear in the members.
  std::vector<size_t> queue;
  for (size_t k = 0; k < out_.incidents.size(); ++k) {
    if (!out_.incidents[k].attributions.empty()) queue.push_back(k);
  }
  for (size_t q = 0; q < queue.size(); ++q) {
    const size_t outer = queue[q];
    for (size_t m : members_of[outer]) {
      auto inner = incident_of.find(m);
      if (inner == incident_of.end()) continue;
      Incident& child = out_.incidents[inner->second];
      if (!child.attributions.empty()) continue;
      const Incident& parent = out_.incidents[outer];
      for (const Attribution& a : parent.attributions) {
        child.attributions.push_back(internal::ListedAttribution(parent.title, parent.id, a));
      }
      queue.push_back(inner->second);
    }
  }
  // A report (or grouping) that states no actor, itself (objects, description) or through a
  // containing report, but whose name names exactly one actor of Options::kb is attributed to it,
  // as a report file whose title does ("STIX report name", located at the object's "name").
  if (options_.kb != nullptr) {
    for (const auto& [i, k] : incident_of) {
      Incident& inc = out_.incidents[k];
      if (!inc.attributions.empty() || inc.title.empty()) continue;
      if (auto stated = internal::TitleAttribution(names(), inc.title, inc.title_location,
                                                   internal::StixNameSource(objects_[i].type))) {
        inc.attributions.push_back(std::move(*stated));
      }
    }
  }
  if (!any_container) {
    Incident inc;
    inc.id = incident_id;
    std::vector<size_t> all(objects_.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    if (objects_.size() == 1) {
      inc.title = std::string(Str(objects_[0].o, "name"));
      if (!inc.title.empty()) inc.title_location = absl::StrCat(objects_[0].path, ".name");
      inc.description = std::string(Str(objects_[0].o, "description"));
      inc.provenance.source_modified = std::string(Str(objects_[0].o, "modified"));
    }
    if (inc.title.empty()) inc.title = absl::StrCat("STIX bundle ", inc.id);
    KINSHIP_RETURN_IF_ERROR(Build(all, nullptr, inc));
    out_.incidents.push_back(std::move(inc));
  }
  return std::move(out_);
}

}  // namespace

absl::StatusOr<ParseOutput> ParseStix(std::string_view json, std::string_view file,
                                      const Options& options) {
  return StixParser(json, file, options).Parse();
}

}  // namespace kinship::ingest
