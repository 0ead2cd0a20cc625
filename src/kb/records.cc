// ParsedSource <-> kb_record rows. A row's `data` is its fields joined by U+001E, list items by
// U+001F (the parsers replace those two bytes in input text, so no escaping is needed); a flat
// format because Load reads tens of thousands of rows and must stay fast.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "kb/internal.h"

namespace kinship::kb::internal {
namespace {

constexpr char kFieldSep = '\x1e';
constexpr char kItemSep = '\x1f';

class Packer {
 public:
  Packer& Add(std::string_view s) {
    if (!first_) out_ += kFieldSep;
    first_ = false;
    out_.append(s);
    return *this;
  }
  Packer& Add(const std::vector<std::string>& items) {
    return Add(absl::StrJoin(items, std::string(1, kItemSep)));
  }
  Packer& Add(bool b) { return Add(std::string_view(b ? "1" : "0")); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  bool first_ = true;
};

class Unpacker {
 public:
  Unpacker(std::string_view data, size_t expected)
      : fields_(absl::StrSplit(AV(data), kFieldSep)), expected_(expected) {}
  bool ok() const { return fields_.size() == expected_; }
  std::string Str() { return next_ < fields_.size() ? std::string(fields_[next_++]) : ""; }
  std::vector<std::string> List() {
    std::vector<std::string> out;
    if (next_ >= fields_.size()) return out;
    absl::string_view f = fields_[next_++];
    if (f.empty()) return out;
    for (absl::string_view item : absl::StrSplit(f, kItemSep)) out.emplace_back(item);
    return out;
  }
  bool Bool() { return Str() == "1"; }

 private:
  std::vector<absl::string_view> fields_;
  size_t expected_;
  size_t next_ = 0;
};

}  // namespace

std::vector<Record> ToRecords(const ParsedSource& src) {
  std::vector<Record> out;
  for (const Actor& a : src.actors) {
    out.push_back({"actor", a.id, a.name,
                   Packer()
                       .Add(a.id)
                       .Add(a.name)
                       .Add(a.aliases)
                       .Add(a.stix_id)
                       .Add(a.description)
                       .Add(a.sponsor_country)
                       .Add(a.victims)
                       .Add(a.target_sectors)
                       .Add(a.technique_ids)
                       .Add(a.software_ids)
                       .Add(a.campaign_ids)
                       .Add(a.revoked)
                       .Add(a.deprecated)
                       .Take()});
  }
  for (const Campaign& c : src.campaigns) {
    out.push_back({"campaign", c.id, c.name,
                   Packer()
                       .Add(c.id)
                       .Add(c.name)
                       .Add(c.aliases)
                       .Add(c.first_seen)
                       .Add(c.last_seen)
                       .Add(c.actor_ids)
                       .Add(c.technique_ids)
                       .Add(c.software_ids)
                       .Take()});
  }
  for (const Software& s : src.software) {
    out.push_back(
        {"software", s.id, s.name,
         Packer().Add(s.id).Add(s.name).Add(s.kind).Add(s.aliases).Add(s.technique_ids).Take()});
  }
  for (const Technique& t : src.techniques) {
    out.push_back({"technique", t.id, t.name,
                   Packer()
                       .Add(t.id)
                       .Add(t.name)
                       .Add(t.parent_id)
                       .Add(t.tactics)
                       .Add(t.revoked)
                       .Add(t.deprecated)
                       .Add(t.revoked_by)
                       .Take()});
  }
  for (const auto& [from, to] : src.revoked) {
    out.push_back({"revoked", from, to, Packer().Add(from).Add(to).Take()});
  }
  for (const GalaxyCluster& c : src.clusters) {
    out.push_back({"cluster", c.uuid, c.value,
                   Packer()
                       .Add(c.galaxy)
                       .Add(c.uuid)
                       .Add(c.value)
                       .Add(c.description)
                       .Add(c.synonyms)
                       .Add(c.sponsor)
                       .Add(c.victims)
                       .Add(c.sectors)
                       .Add(c.attack_ids)
                       .Add(c.related_uuids)
                       .Take()});
  }
  out.push_back({"count", "relationships", "", std::to_string(src.relationships)});
  return out;
}

absl::Status AddRecord(const Record& r, ParsedSource& into) {
  auto bad = [&r](size_t want) {
    return absl::DataLossError(absl::StrCat("knowledge base record ", r.type, " '", r.id,
                                            "' is damaged (expected ", want, " fields)"));
  };
  if (r.type == "actor") {
    Unpacker u(r.data, 13);
    if (!u.ok()) return bad(13);
    Actor a;
    a.id = u.Str();
    a.name = u.Str();
    a.aliases = u.List();
    a.stix_id = u.Str();
    a.description = u.Str();
    a.sponsor_country = u.Str();
    a.victims = u.List();
    a.target_sectors = u.List();
    a.technique_ids = u.List();
    a.software_ids = u.List();
    a.campaign_ids = u.List();
    a.revoked = u.Bool();
    a.deprecated = u.Bool();
    into.actors.push_back(std::move(a));
  } else if (r.type == "campaign") {
    Unpacker u(r.data, 8);
    if (!u.ok()) return bad(8);
    Campaign c;
    c.id = u.Str();
    c.name = u.Str();
    c.aliases = u.List();
    c.first_seen = u.Str();
    c.last_seen = u.Str();
    c.actor_ids = u.List();
    c.technique_ids = u.List();
    c.software_ids = u.List();
    into.campaigns.push_back(std::move(c));
  } else if (r.type == "software") {
    Unpacker u(r.data, 5);
    if (!u.ok()) return bad(5);
    Software s;
    s.id = u.Str();
    s.name = u.Str();
    s.kind = u.Str();
    s.aliases = u.List();
    s.technique_ids = u.List();
    into.software.push_back(std::move(s));
  } else if (r.type == "technique") {
    Unpacker u(r.data, 7);
    if (!u.ok()) return bad(7);
    Technique t;
    t.id = u.Str();
    t.name = u.Str();
    t.parent_id = u.Str();
    t.tactics = u.List();
    t.revoked = u.Bool();
    t.deprecated = u.Bool();
    t.revoked_by = u.Str();
    into.techniques.push_back(std::move(t));
  } else if (r.type == "revoked") {
    Unpacker u(r.data, 2);
    if (!u.ok()) return bad(2);
    std::string from = u.Str();
    into.revoked.emplace_back(std::move(from), u.Str());
  } else if (r.type == "cluster") {
    Unpacker u(r.data, 10);
    if (!u.ok()) return bad(10);
    GalaxyCluster c;
    c.galaxy = u.Str();
    c.uuid = u.Str();
    c.value = u.Str();
    c.description = u.Str();
    c.synonyms = u.List();
    c.sponsor = u.Str();
    c.victims = u.List();
    c.sectors = u.List();
    c.attack_ids = u.List();
    c.related_uuids = u.List();
    into.clusters.push_back(std::move(c));
  } else if (r.type == "count") {
    into.relationships = static_cast<size_t>(std::strtoull(r.data.c_str(), nullptr, 10));
  } else {
    return absl::DataLossError(
        absl::StrCat("knowledge base record of unknown type '", r.type, "'"));
  }
  return absl::OkStatus();
}

}  // namespace kinship::kb::internal
