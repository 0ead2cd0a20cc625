// ATT&CK STIX bundles and MISP galaxy cluster files -> ParsedSource. The one place simdjson meets
// the knowledge base (DOM API: relationships refer to objects anywhere in the bundle, so the
// whole document is needed at once).
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ingest/json_syntax.h"
#include "kb/internal.h"
#include "kinship/limits.h"
#include "util/sha256.h"

namespace kinship::kb::internal {
namespace {

namespace dom = simdjson::dom;

// Records are packed with U+001E/U+001F separators (records.cc); inputs never need them.
std::string Clean(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\x1e' || c == '\x1f') c = ' ';
  }
  return out;
}

std::string GetString(dom::object obj, std::string_view key) {
  std::string_view s;
  if (obj.at_key(key).get_string().get(s) == simdjson::SUCCESS) return Clean(s);
  int64_t i;
  if (obj.at_key(key).get_int64().get(i) == simdjson::SUCCESS) return std::to_string(i);
  return {};
}

bool GetBool(dom::object obj, std::string_view key) {
  bool b = false;
  return obj.at_key(key).get_bool().get(b) == simdjson::SUCCESS && b;
}

// A string or an array of strings (galaxy meta fields are either).
std::vector<std::string> GetStrings(dom::object obj, std::string_view key) {
  std::vector<std::string> out;
  dom::element el;
  if (obj.at_key(key).get(el) != simdjson::SUCCESS) return out;
  std::string_view s;
  if (el.get_string().get(s) == simdjson::SUCCESS) {
    if (!s.empty()) out.push_back(Clean(s));
    return out;
  }
  dom::array arr;
  if (el.get_array().get(arr) != simdjson::SUCCESS) return out;
  for (dom::element item : arr) {
    if (item.get_string().get(s) == simdjson::SUCCESS && !s.empty()) out.push_back(Clean(s));
  }
  return out;
}

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Other names of an object, minus its own name and duplicates, in the given order.
std::vector<std::string> OtherNames(const std::string& name, std::vector<std::string> names) {
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen = {NameKey(name)};
  for (std::string& n : names) {
    if (seen.insert(NameKey(n)).second) out.push_back(std::move(n));
  }
  return out;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "G0007", "S0023", "C0024", "T1566", "T1566.001" (upper-case letter, four digits, optional .ddd).
bool IsAttackId(std::string_view s) {
  if (s.size() != 5 && s.size() != 9) return false;
  if (s[0] != 'G' && s[0] != 'S' && s[0] != 'C' && s[0] != 'T') return false;
  if (!IsDigits(s.substr(1, 4))) return false;
  return s.size() == 5 || (s[5] == '.' && IsDigits(s.substr(6)));
}

absl::Status PathError(std::string_view file, std::string_view path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(AV(file), ": ", AV(path), ": ", AV(what)));
}

// ---- ATT&CK ----

enum class Kind { kActor, kCampaign, kSoftware, kTechnique, kOther };

struct StixObject {
  Kind kind = Kind::kOther;
  size_t index = 0;    // into the ParsedSource vector of its kind
  std::string ext_id;  // ATT&CK id
};

std::string AttackExternalId(dom::object obj) {
  dom::array refs;
  if (obj.at_key("external_references").get_array().get(refs) != simdjson::SUCCESS) return {};
  for (dom::element r : refs) {
    dom::object ro;
    if (r.get_object().get(ro) != simdjson::SUCCESS) continue;
    std::string source = GetString(ro, "source_name");
    if (source == "mitre-attack" || source == "mitre-mobile-attack" ||
        source == "mitre-ics-attack") {
      return GetString(ro, "external_id");
    }
  }
  return {};
}

// "Enterprise ATT&CK" -> "enterprise-attack".
std::string CollectionSlug(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(AV(name));
  std::string out;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (lower.compare(i, 6, "att&ck") == 0) {
      out += "attack";
      i += 5;
    } else if (absl::ascii_isalnum(static_cast<unsigned char>(lower[i]))) {
      out += lower[i];
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

struct Relationship {
  std::string type, source, target;
};

absl::StatusOr<ParsedSource> ParseAttack(dom::object root, std::string_view file) {
  ParsedSource out;
  out.info.kind = "attack";
  out.info.name = "enterprise-attack";
  dom::array objects;
  if (root.at_key("objects").get_array().get(objects) != simdjson::SUCCESS) {
    return PathError(file, "objects", "missing or not an array");
  }
  absl::flat_hash_map<std::string, StixObject> by_stix;
  std::vector<Relationship> rels;
  size_t i = 0;
  for (dom::element el : objects) {
    const std::string path = absl::StrCat("objects[", i++, "]");
    dom::object obj;
    if (el.get_object().get(obj) != simdjson::SUCCESS) {
      return PathError(file, path, "not an object");
    }
    std::string type = GetString(obj, "type");
    std::string stix_id = GetString(obj, "id");
    if (type.empty()) return PathError(file, path + ".type", "missing");
    if (stix_id.empty()) return PathError(file, path + ".id", "missing");
    if (type == "x-mitre-collection") {
      if (std::string v = GetString(obj, "x_mitre_version"); !v.empty()) out.info.version = v;
      if (std::string n = CollectionSlug(GetString(obj, "name")); !n.empty()) out.info.name = n;
      continue;
    }
    if (type == "relationship") {
      if (GetBool(obj, "revoked") || GetBool(obj, "x_mitre_deprecated")) continue;
      Relationship r{GetString(obj, "relationship_type"), GetString(obj, "source_ref"),
                     GetString(obj, "target_ref")};
      if (r.type.empty()) return PathError(file, path + ".relationship_type", "missing");
      if (r.source.empty()) return PathError(file, path + ".source_ref", "missing");
      if (r.target.empty()) return PathError(file, path + ".target_ref", "missing");
      rels.push_back(std::move(r));
      continue;
    }
    Kind kind = type == "intrusion-set"               ? Kind::kActor
                : type == "campaign"                  ? Kind::kCampaign
                : type == "malware" || type == "tool" ? Kind::kSoftware
                : type == "attack-pattern"            ? Kind::kTechnique
                                                      : Kind::kOther;
    if (kind == Kind::kOther) continue;
    std::string ext_id = AttackExternalId(obj);
    if (ext_id.empty()) continue;  // not an ATT&CK object (no mitre-attack external id)
    std::string name = GetString(obj, "name");
    if (name.empty()) return PathError(file, path + ".name", "missing");
    const bool revoked = GetBool(obj, "revoked");
    const bool deprecated = GetBool(obj, "x_mitre_deprecated");
    StixObject so{kind, 0, ext_id};
    switch (kind) {
      case Kind::kActor: {
        Actor a;
        a.id = ext_id;
        a.name = name;
        a.aliases = OtherNames(name, GetStrings(obj, "aliases"));
        a.stix_id = stix_id;
        a.description = GetString(obj, "description");
        a.revoked = revoked;
        a.deprecated = deprecated;
        so.index = out.actors.size();
        out.actors.push_back(std::move(a));
        break;
      }
      case Kind::kCampaign: {
        Campaign c;
        c.id = ext_id;
        c.name = name;
        c.aliases = OtherNames(name, GetStrings(obj, "aliases"));
        c.first_seen = GetString(obj, "first_seen");
        c.last_seen = GetString(obj, "last_seen");
        so.index = out.campaigns.size();
        out.campaigns.push_back(std::move(c));
        break;
      }
      case Kind::kSoftware: {
        Software s;
        s.id = ext_id;
        s.name = name;
        s.kind = type;
        s.aliases = OtherNames(name, GetStrings(obj, "x_mitre_aliases"));
        so.index = out.software.size();
        out.software.push_back(std::move(s));
        break;
      }
      case Kind::kTechnique: {
        Technique t;
        t.id = ext_id;
        t.name = name;
        t.revoked = revoked;
        t.deprecated = deprecated;
        if (size_t dot = ext_id.find('.'); dot != std::string::npos) {
          t.parent_id = ext_id.substr(0, dot);
        }
        dom::array phases;
        if (obj.at_key("kill_chain_phases").get_array().get(phases) == simdjson::SUCCESS) {
          for (dom::element p : phases) {
            dom::object po;
            if (p.get_object().get(po) != simdjson::SUCCESS) continue;
            if (!absl::StartsWith(GetString(po, "kill_chain_name"), "mitre")) continue;
            if (std::string phase = GetString(po, "phase_name"); !phase.empty()) {
              t.tactics.push_back(std::move(phase));
            }
          }
        }
        so.index = out.techniques.size();
        out.techniques.push_back(std::move(t));
        break;
      }
      case Kind::kOther:
        break;
    }
    by_stix[stix_id] = std::move(so);
  }

  // revoked-by first: every other relationship is followed through it to the live object.
  absl::flat_hash_map<std::string, std::string> revoked_by;
  for (const Relationship& r : rels) {
    if (r.type == "revoked-by") revoked_by[r.source] = r.target;
  }
  auto live = [&](const std::string& stix) -> const StixObject* {
    std::string cur = stix;
    for (int hops = 0; hops < 16; ++hops) {  // bounded: a revocation cycle must not hang
      auto it = revoked_by.find(cur);
      if (it == revoked_by.end()) break;
      cur = it->second;
    }
    auto it = by_stix.find(cur);
    return it == by_stix.end() ? nullptr : &it->second;
  };
  for (const auto& [from, to] : revoked_by) {
    auto f = by_stix.find(from);
    const StixObject* t = live(from);
    if (f == by_stix.end() || t == nullptr || f->second.ext_id == t->ext_id) continue;
    out.revoked.emplace_back(f->second.ext_id, t->ext_id);
    if (f->second.kind == Kind::kTechnique) {
      out.techniques[f->second.index].revoked_by = t->ext_id;
    }
  }
  std::sort(out.revoked.begin(), out.revoked.end());

  for (const Relationship& r : rels) {
    if (r.type == "revoked-by") {
      ++out.relationships;
      continue;
    }
    const StixObject* s = live(r.source);
    const StixObject* t = live(r.target);
    if (s == nullptr || t == nullptr) continue;  // an end outside the kept types
    bool used = true;
    if (r.type == "uses") {
      std::vector<std::string>* techniques = nullptr;
      std::vector<std::string>* software = nullptr;
      if (s->kind == Kind::kActor) {
        techniques = &out.actors[s->index].technique_ids;
        software = &out.actors[s->index].software_ids;
      } else if (s->kind == Kind::kCampaign) {
        techniques = &out.campaigns[s->index].technique_ids;
        software = &out.campaigns[s->index].software_ids;
      } else if (s->kind == Kind::kSoftware) {
        techniques = &out.software[s->index].technique_ids;
      }
      if (t->kind == Kind::kTechnique && techniques != nullptr) {
        techniques->push_back(t->ext_id);
      } else if (t->kind == Kind::kSoftware && software != nullptr) {
        software->push_back(t->ext_id);
      } else {
        used = false;
      }
    } else if (r.type == "attributed-to" && s->kind == Kind::kCampaign && t->kind == Kind::kActor) {
      out.campaigns[s->index].actor_ids.push_back(t->ext_id);
      out.actors[t->index].campaign_ids.push_back(s->ext_id);
    } else if (r.type == "subtechnique-of" && s->kind == Kind::kTechnique &&
               t->kind == Kind::kTechnique) {
      out.techniques[s->index].parent_id = t->ext_id;
    } else {
      used = false;
    }
    if (used) ++out.relationships;
  }
  for (Actor& a : out.actors) {
    SortUnique(a.technique_ids);
    SortUnique(a.software_ids);
    SortUnique(a.campaign_ids);
  }
  for (Campaign& c : out.campaigns) {
    SortUnique(c.actor_ids);
    SortUnique(c.technique_ids);
    SortUnique(c.software_ids);
  }
  for (Software& s : out.software) SortUnique(s.technique_ids);
  if (out.actors.empty() && out.software.empty() && out.techniques.empty() &&
      out.campaigns.empty()) {
    return PathError(file, "objects", "no ATT&CK groups, campaigns, software or techniques");
  }
  return out;
}

// ---- MISP galaxy ----

void AddAttackIdsFromRef(std::string_view ref, std::vector<std::string>& ids) {
  // https://attack.mitre.org/groups/G0007/ , /software/S0023 , /campaigns/C0024
  size_t at = ref.find("attack.mitre.org/");
  if (at == std::string_view::npos) return;
  std::string_view rest = ref.substr(at + 17);
  for (std::string_view prefix : {"groups/", "software/", "campaigns/"}) {
    if (absl::StartsWith(AV(rest), AV(prefix))) {
      std::string_view id = rest.substr(prefix.size(), 5);
      if (IsAttackId(id)) ids.emplace_back(id);
    }
  }
}

absl::StatusOr<ParsedSource> ParseGalaxy(dom::object root, std::string_view file) {
  ParsedSource out;
  out.info.kind = "misp-galaxy";
  out.info.name = GetString(root, "type");
  out.info.version = GetString(root, "version");
  if (out.info.name.empty()) return PathError(file, "type", "missing");
  dom::array values;
  if (root.at_key("values").get_array().get(values) != simdjson::SUCCESS) {
    return PathError(file, "values", "missing or not an array");
  }
  size_t i = 0;
  for (dom::element el : values) {
    const std::string path = absl::StrCat("values[", i++, "]");
    dom::object obj;
    if (el.get_object().get(obj) != simdjson::SUCCESS) {
      return PathError(file, path, "not an object");
    }
    GalaxyCluster c;
    c.galaxy = out.info.name;
    c.value = GetString(obj, "value");
    if (c.value.empty()) return PathError(file, path + ".value", "missing");
    c.uuid = GetString(obj, "uuid");
    if (c.uuid.empty()) return PathError(file, path + ".uuid", "missing");
    c.description = GetString(obj, "description");
    // "Ajax Security Team - G0130": the ATT&CK id is a link, not part of the name.
    if (size_t dash = c.value.rfind(" - ");
        dash != std::string::npos && IsAttackId(std::string_view(c.value).substr(dash + 3))) {
      c.attack_ids.push_back(c.value.substr(dash + 3));
      c.value.resize(dash);
    }
    dom::object meta;
    if (obj.at_key("meta").get_object().get(meta) == simdjson::SUCCESS) {
      for (std::string& s : GetStrings(meta, "synonyms")) {
        if (IsAttackId(s)) {
          c.attack_ids.push_back(std::move(s));
        } else {
          c.synonyms.push_back(std::move(s));
        }
      }
      c.synonyms = OtherNames(c.value, std::move(c.synonyms));
      if (std::string id = GetString(meta, "external_id"); IsAttackId(id)) {
        c.attack_ids.push_back(id);
      }
      for (const std::string& ref : GetStrings(meta, "refs"))
        AddAttackIdsFromRef(ref, c.attack_ids);
      for (const std::string& na : GetStrings(meta, "name-attribution")) {
        std::string_view id = std::string_view(na).substr(0, na.find(':'));
        if (IsAttackId(id)) c.attack_ids.emplace_back(id);
      }
      c.sponsor = GetString(meta, "cfr-suspected-state-sponsor");
      if (c.sponsor.empty()) c.sponsor = GetString(meta, "country");
      c.victims = GetStrings(meta, "cfr-suspected-victims");
      c.sectors = GetStrings(meta, "cfr-target-category");
      for (std::string& s : GetStrings(meta, "targeted-sector")) c.sectors.push_back(std::move(s));
      c.sectors = OtherNames("", std::move(c.sectors));
    }
    dom::array related;
    if (obj.at_key("related").get_array().get(related) == simdjson::SUCCESS) {
      for (dom::element r : related) {
        dom::object ro;
        if (r.get_object().get(ro) != simdjson::SUCCESS) continue;
        if (std::string u = GetString(ro, "dest-uuid"); !u.empty()) {
          c.related_uuids.push_back(std::move(u));
        }
      }
    }
    SortUnique(c.attack_ids);
    SortUnique(c.related_uuids);
    out.clusters.push_back(std::move(c));
  }
  return out;
}

}  // namespace

absl::StatusOr<ParsedSource> ParseKbFile(std::string_view json, std::string_view file) {
  dom::parser parser;
  KINSHIP_ASSIGN_OR_RETURN(dom::element root,
                           ingest::internal::ParseJsonDocument(parser, json, file));
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat(AV(file),
                     ": not an ATT&CK STIX bundle or MISP galaxy cluster file "
                     "(top level is not an object)"));
  }
  absl::StatusOr<ParsedSource> out;
  if (GetString(obj, "type") == "bundle") {
    out = ParseAttack(obj, file);
  } else if (obj.at_key("values").error() == simdjson::SUCCESS) {
    out = ParseGalaxy(obj, file);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(AV(file),
                     ": not an ATT&CK STIX bundle (type \"bundle\") or MISP galaxy "
                     "cluster file (\"values\")"));
  }
  if (!out.ok()) return out.status();
  out->info.file = std::string(file);
  out->info.sha256 = util::Sha256Hex(json);
  return out;
}

}  // namespace kinship::kb::internal
