// Merging sources into one KnowledgeBase, the name index, and Resolve.
//
// Merge rules (docs/kb.md): ATT&CK objects are the spine (one actor per group). A galaxy actor
// cluster joins the ATT&CK group it links to (G-ids in external_id/synonyms/refs, related
// dest-uuid = intrusion-set uuid); when it links to several, it joins the one its name names, and
// its other synonyms are kept, so a name folded into two actors resolves to both (ambiguous). A
// cluster with no link joins the group whose name equals its own, else stays an actor of its own
// (id = cluster uuid). Malpedia families join the one ATT&CK software their names match.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "kb/internal.h"

namespace kinship::kb {

std::string_view EntityTypeName(EntityType t) {
  switch (t) {
    case EntityType::kActor:
      return "actor";
    case EntityType::kCampaign:
      return "campaign";
    case EntityType::kSoftware:
      return "software";
    case EntityType::kTechnique:
      return "technique";
  }
  return "actor";
}

namespace {

enum class How : uint8_t { kId, kName, kAlias, kSynonym };

struct Posting {
  EntityType type;
  uint32_t index;
  How how;
  std::string text;
};

}  // namespace

struct KnowledgeBase::Impl {
  std::vector<Actor> actors;
  std::vector<Campaign> campaigns;
  std::vector<Software> software;
  std::vector<Technique> techniques;
  std::vector<SourceInfo> sources;
  // Aliases at or after this position came from galaxies ("synonym"), before it from ATT&CK.
  std::vector<size_t> actor_synonyms_from, software_synonyms_from;
  absl::flat_hash_map<std::string, uint32_t> actor_ids, campaign_ids, software_ids, technique_ids;
  absl::flat_hash_map<std::string, std::string> revoked_to;  // any revoked id -> live id
  absl::flat_hash_map<std::string, std::vector<Posting>> by_key, by_loose_key;

  static KnowledgeBase Wrap(std::unique_ptr<Impl> impl) {
    KnowledgeBase kb;
    kb.impl_ = std::move(impl);
    return kb;
  }

  void AddNames(EntityType type, uint32_t index, const std::string& id, const std::string& name,
                const std::vector<std::string>& aliases, size_t synonyms_from) {
    auto add = [&](const std::string& text, How how) {
      std::string k = internal::NameKey(text);
      if (k.empty()) return;
      by_key[k].push_back({type, index, how, text});
      if (how == How::kId) return;
      if (std::string lk = internal::LooseNameKey(text); !lk.empty()) {
        by_loose_key[lk].push_back({type, index, how, text});
      }
    };
    add(id, How::kId);
    add(name, How::kName);
    for (size_t i = 0; i < aliases.size(); ++i) {
      add(aliases[i], i >= synonyms_from ? How::kSynonym : How::kAlias);
    }
  }

  void BuildIndex() {
    for (uint32_t i = 0; i < actors.size(); ++i) {
      actor_ids.emplace(actors[i].id, i);
      AddNames(EntityType::kActor, i, actors[i].id, actors[i].name, actors[i].aliases,
               actor_synonyms_from[i]);
    }
    for (uint32_t i = 0; i < campaigns.size(); ++i) {
      campaign_ids.emplace(campaigns[i].id, i);
      AddNames(EntityType::kCampaign, i, campaigns[i].id, campaigns[i].name, campaigns[i].aliases,
               campaigns[i].aliases.size());
    }
    for (uint32_t i = 0; i < software.size(); ++i) {
      software_ids.emplace(software[i].id, i);
      AddNames(EntityType::kSoftware, i, software[i].id, software[i].name, software[i].aliases,
               software_synonyms_from[i]);
    }
    for (uint32_t i = 0; i < techniques.size(); ++i) {
      technique_ids.emplace(techniques[i].id, i);
      AddNames(EntityType::kTechnique, i, techniques[i].id, techniques[i].name, {}, 0);
    }
  }

  // The entity an index entry stands for: its id, name, and whether it is revoked/deprecated.
  struct Target {
    std::string id, name;
    bool revoked = false, deprecated = false;
  };
  std::optional<Target> Get(EntityType type, std::string_view id) const {
    switch (type) {
      case EntityType::kActor:
        if (auto it = actor_ids.find(AV(id)); it != actor_ids.end()) {
          const Actor& a = actors[it->second];
          return Target{a.id, a.name, a.revoked, a.deprecated};
        }
        break;
      case EntityType::kCampaign:
        if (auto it = campaign_ids.find(AV(id)); it != campaign_ids.end()) {
          return Target{campaigns[it->second].id, campaigns[it->second].name, false, false};
        }
        break;
      case EntityType::kSoftware:
        if (auto it = software_ids.find(AV(id)); it != software_ids.end()) {
          return Target{software[it->second].id, software[it->second].name, false, false};
        }
        break;
      case EntityType::kTechnique:
        if (auto it = technique_ids.find(AV(id)); it != technique_ids.end()) {
          const Technique& t = techniques[it->second];
          return Target{t.id, t.name, t.revoked, t.deprecated};
        }
        break;
    }
    return std::nullopt;
  }

  std::string_view IdOf(const Posting& p) const {
    switch (p.type) {
      case EntityType::kActor:
        return actors[p.index].id;
      case EntityType::kCampaign:
        return campaigns[p.index].id;
      case EntityType::kSoftware:
        return software[p.index].id;
      case EntityType::kTechnique:
        return techniques[p.index].id;
    }
    return {};
  }
};

namespace internal {
namespace {

// Words that do not tell actors or families apart ("Sofacy Group", "Operation Dream Job",
// "gh0st RAT").
bool IsGenericWord(std::string_view w) {
  static const auto* const kWords = new absl::flat_hash_set<std::string_view>{
      "the",      "group", "team",    "gang",   "crew",       "operation",
      "campaign", "rat",   "malware", "trojan", "ransomware", "backdoor"};
  return kWords->contains(w);
}

bool IsActorGalaxy(std::string_view g) {
  return g == "threat-actor" || g == "mitre-intrusion-set" ||
         absl::StrContains(AV(g), "activity-group") || absl::StrContains(AV(g), "actor");
}
bool IsSoftwareGalaxy(std::string_view g) {
  return g == "malpedia" || g == "mitre-malware" || g == "mitre-tool" || g == "tool" ||
         g == "ransomware" || g == "rat" || g == "backdoor" || g == "botnet" || g == "stealer";
}

void AppendUnique(std::vector<std::string>& into, const std::vector<std::string>& items) {
  for (const std::string& s : items) {
    if (std::find(into.begin(), into.end(), s) == into.end()) into.push_back(s);
  }
}

// Adds names not already known (by NameKey) as aliases.
void AddSynonyms(const std::string& name, std::vector<std::string>& aliases,
                 const std::string& value, const std::vector<std::string>& synonyms) {
  absl::flat_hash_set<std::string> seen = {NameKey(name)};
  for (const std::string& a : aliases) seen.insert(NameKey(a));
  if (seen.insert(NameKey(value)).second) aliases.push_back(value);
  for (const std::string& s : synonyms) {
    if (seen.insert(NameKey(s)).second) aliases.push_back(s);
  }
}

template <typename T>
void MergeById(std::vector<T>& into, absl::flat_hash_map<std::string, size_t>& ids, T item) {
  auto [it, added] = ids.emplace(item.id, into.size());
  if (added) {
    into.push_back(std::move(item));
  } else {
    into[it->second] = std::move(item);  // a later release of the same domain wins
  }
}

}  // namespace

std::string NameKey(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      out += c;  // UTF-8 names keep their bytes
    } else if (absl::ascii_isalnum(u)) {
      out += absl::ascii_tolower(u);
    }
  }
  return out;
}

std::string LooseNameKey(std::string_view name) {
  std::string out, word;
  auto flush = [&] {
    if (!word.empty() && !IsGenericWord(word)) out += word;
    word.clear();
  };
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80 || absl::ascii_isalnum(u)) {
      word += u >= 0x80 ? c : absl::ascii_tolower(u);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

KnowledgeBase BuildKnowledgeBase(std::vector<ParsedSource> sources) {
  auto impl = std::make_unique<KnowledgeBase::Impl>();
  std::stable_sort(sources.begin(), sources.end(),
                   [](const ParsedSource& a, const ParsedSource& b) {
                     return (a.info.kind == "attack") > (b.info.kind == "attack");
                   });
  absl::flat_hash_map<std::string, size_t> actor_ids, campaign_ids, software_ids, technique_ids;
  for (ParsedSource& s : sources) {
    impl->sources.push_back(s.info);
    for (Actor& a : s.actors) MergeById(impl->actors, actor_ids, std::move(a));
    for (Campaign& c : s.campaigns) MergeById(impl->campaigns, campaign_ids, std::move(c));
    for (Software& sw : s.software) MergeById(impl->software, software_ids, std::move(sw));
    for (Technique& t : s.techniques) MergeById(impl->techniques, technique_ids, std::move(t));
    for (auto& [from, to] : s.revoked) impl->revoked_to[from] = to;
  }
  for (const Actor& a : impl->actors) impl->actor_synonyms_from.push_back(a.aliases.size());
  for (const Software& s : impl->software) impl->software_synonyms_from.push_back(s.aliases.size());
  auto live = [&](std::string id) {
    for (int hops = 0; hops < 16; ++hops) {
      auto it = impl->revoked_to.find(id);
      if (it == impl->revoked_to.end()) break;
      id = it->second;
    }
    return id;
  };

  // ATT&CK names (before any galaxy synonym is added) -> entities, for name-based joins.
  absl::flat_hash_map<std::string, std::vector<size_t>> actor_names, software_names;
  absl::flat_hash_map<std::string, size_t> actor_uuids;
  for (size_t i = 0; i < impl->actors.size(); ++i) {
    const Actor& a = impl->actors[i];
    if (a.revoked) continue;
    actor_names[NameKey(a.name)].push_back(i);
    for (const std::string& al : a.aliases) actor_names[NameKey(al)].push_back(i);
    if (size_t dd = a.stix_id.find("--"); dd != std::string::npos) {
      actor_uuids[a.stix_id.substr(dd + 2)] = i;
    }
  }
  for (size_t i = 0; i < impl->software.size(); ++i) {
    const Software& s = impl->software[i];
    software_names[NameKey(s.name)].push_back(i);
    for (const std::string& al : s.aliases) software_names[NameKey(al)].push_back(i);
  }
  // Picks the one candidate a cluster joins: the only one, else the one its value names.
  auto pick = [](absl::flat_hash_set<size_t> candidates, const std::string& value,
                 const absl::flat_hash_map<std::string, std::vector<size_t>>& names)
      -> std::optional<size_t> {
    if (candidates.size() == 1) return *candidates.begin();
    auto it = names.find(NameKey(value));
    if (it == names.end()) return std::nullopt;
    std::optional<size_t> chosen;
    for (size_t i : it->second) {
      if (!candidates.empty() && !candidates.contains(i)) continue;
      if (chosen && *chosen != i) return std::nullopt;
      chosen = i;
    }
    return chosen;
  };

  for (const ParsedSource& s : sources) {
    for (const GalaxyCluster& c : s.clusters) {
      if (IsActorGalaxy(c.galaxy)) {
        absl::flat_hash_set<size_t> candidates;
        for (const std::string& id : c.attack_ids) {
          if (auto it = actor_ids.find(live(id)); it != actor_ids.end()) {
            if (!impl->actors[it->second].revoked) candidates.insert(it->second);
          }
        }
        for (const std::string& u : c.related_uuids) {
          if (auto it = actor_uuids.find(u); it != actor_uuids.end()) candidates.insert(it->second);
        }
        std::optional<size_t> join = pick(std::move(candidates), c.value, actor_names);
        if (!join) {
          Actor a;
          a.id = c.uuid;
          // An ATT&CK group's own galaxy cluster, loaded without the ATT&CK bundle.
          if (c.galaxy == "mitre-intrusion-set" && c.attack_ids.size() == 1) a.id = c.attack_ids[0];
          if (actor_ids.contains(a.id)) continue;
          a.name = c.value;
          a.description = c.description;
          actor_ids.emplace(a.id, impl->actors.size());
          impl->actors.push_back(std::move(a));
          impl->actor_synonyms_from.push_back(0);
          join = impl->actors.size() - 1;
        }
        Actor& a = impl->actors[*join];
        AddSynonyms(a.name, a.aliases, c.value, c.synonyms);
        if (a.sponsor_country.empty()) a.sponsor_country = c.sponsor;
        if (a.description.empty()) a.description = c.description;
        AppendUnique(a.victims, c.victims);
        AppendUnique(a.target_sectors, c.sectors);
      } else if (IsSoftwareGalaxy(c.galaxy)) {
        absl::flat_hash_set<size_t> candidates;
        for (const std::string& id : c.attack_ids) {
          if (auto it = software_ids.find(live(id)); it != software_ids.end()) {
            candidates.insert(it->second);
          }
        }
        if (candidates.empty()) {
          for (const std::string* n : {&c.value}) {
            if (auto it = software_names.find(NameKey(*n)); it != software_names.end()) {
              candidates.insert(it->second.begin(), it->second.end());
            }
          }
          for (const std::string& n : c.synonyms) {
            if (auto it = software_names.find(NameKey(n)); it != software_names.end()) {
              candidates.insert(it->second.begin(), it->second.end());
            }
          }
        }
        const bool linked = !candidates.empty();
        std::optional<size_t> join = pick(std::move(candidates), c.value, software_names);
        if (!join) {
          // Names that already belong to several ATT&CK programs: joining would fold them.
          if (linked || software_ids.contains(c.uuid)) continue;
          Software sw;
          sw.id = c.uuid;
          sw.name = c.value;
          sw.kind = "malware";
          software_ids.emplace(sw.id, impl->software.size());
          impl->software.push_back(std::move(sw));
          impl->software_synonyms_from.push_back(0);
          join = impl->software.size() - 1;
        }
        Software& sw = impl->software[*join];
        AddSynonyms(sw.name, sw.aliases, c.value, c.synonyms);
      }
    }
  }
  impl->BuildIndex();
  return KnowledgeBase::Impl::Wrap(std::move(impl));
}

}  // namespace internal

KnowledgeBase::KnowledgeBase() : impl_(std::make_unique<Impl>()) {}
KnowledgeBase::~KnowledgeBase() = default;
KnowledgeBase::KnowledgeBase(KnowledgeBase&&) noexcept = default;
KnowledgeBase& KnowledgeBase::operator=(KnowledgeBase&&) noexcept = default;

bool KnowledgeBase::empty() const {
  return impl_->actors.empty() && impl_->campaigns.empty() && impl_->software.empty() &&
         impl_->techniques.empty();
}

namespace {

// The parts of "A (B)" (B the last parenthesis, closing the name) or of "A / B / C"; nothing for
// a name that is neither. Parts are stripped and never empty.
std::vector<std::string_view> CompoundParts(std::string_view name) {
  std::vector<std::string_view> parts;
  auto add = [&parts](std::string_view p) {
    p = SV(absl::StripAsciiWhitespace(AV(p)));
    if (!p.empty()) parts.push_back(p);
  };
  if (name.ends_with(')')) {
    const size_t open = name.rfind('(');
    if (open != std::string_view::npos && open > 0) {
      add(name.substr(0, open));
      add(name.substr(open + 1, name.size() - open - 2));
      return parts.size() == 2 ? parts : std::vector<std::string_view>{};
    }
  }
  if (name.find('/') != std::string_view::npos) {
    for (size_t from = 0; from <= name.size();) {
      const size_t slash = std::min(name.find('/', from), name.size());
      add(name.substr(from, slash - from));
      from = slash + 1;
    }
    if (parts.size() < 2) parts.clear();
  }
  return parts;
}

}  // namespace

std::vector<Match> KnowledgeBase::Resolve(std::string_view name,
                                          std::optional<EntityType> type) const {
  std::vector<Match> out;
  std::string_view q = SV(absl::StripAsciiWhitespace(AV(name)));
  const std::string key = internal::NameKey(q);
  if (key.empty()) return out;
  // Revoked ATT&CK ids and names answer with their live replacement.
  auto add = [&](const Posting& p, std::string matched, double score) {
    std::string id(impl_->IdOf(p));
    auto target = impl_->Get(p.type, id);
    if (!target) return;
    if (target->revoked) {
      if (auto it = impl_->revoked_to.find(id); it != impl_->revoked_to.end()) {
        std::string to = it->second;
        for (int hops = 0; hops < 16; ++hops) {
          auto next = impl_->revoked_to.find(to);
          if (next == impl_->revoked_to.end()) break;
          to = next->second;
        }
        if (auto live = impl_->Get(p.type, to)) {
          target = live;
          score *= 0.95;
        }
      }
    }
    if (target->deprecated) score *= 0.9;
    for (Match& m : out) {
      if (m.type == p.type && m.id == target->id) {
        if (score > m.score) {
          m.score = score;
          m.matched = std::move(matched);
          m.matched_text = p.text;
        }
        return;
      }
    }
    out.push_back({p.type, target->id, target->name, std::move(matched), p.text, false, score});
  };
  auto base = [](How how) {
    switch (how) {
      case How::kId:
      case How::kName:
        return 1.0;
      case How::kAlias:
        return 0.95;
      case How::kSynonym:
        return 0.9;
    }
    return 0.9;
  };
  auto how_name = [](How how) -> std::string {
    switch (how) {
      case How::kId:
        return "id";
      case How::kName:
        return "name";
      case How::kAlias:
        return "alias";
      case How::kSynonym:
        return "synonym";
    }
    return "variant";
  };
  if (auto it = impl_->by_key.find(key); it != impl_->by_key.end()) {
    for (const Posting& p : it->second) {
      if (type && p.type != *type) continue;
      if (absl::EqualsIgnoreCase(AV(p.text), AV(q))) {
        add(p, how_name(p.how), base(p.how));
      } else {
        add(p, "variant", base(p.how) * 0.9);
      }
    }
  }
  if (out.empty()) {
    std::string loose = internal::LooseNameKey(q);
    if (auto it = impl_->by_loose_key.find(loose);
        !loose.empty() && it != impl_->by_loose_key.end()) {
      for (const Posting& p : it->second) {
        if (type && p.type != *type) continue;
        add(p, "variant", base(p.how) * 0.8);
      }
    }
  }
  if (out.empty()) {
    // A compound name: "HUC Packet Transmit Tool (HTRAN)" (a STIX tool's name), "Sofacy
    // (APT28)", "APT28 / Fancy Bear". When the whole names nothing, each part is looked up:
    // parts naming one entity answer with it ("part"), parts naming different ones make the
    // answer ambiguous, and a part naming nothing ("(Russia)") is passed over.
    for (std::string_view part : CompoundParts(q)) {
      for (Match& m : Resolve(part, type)) {
        auto same = std::find_if(out.begin(), out.end(),
                                 [&m](const Match& o) { return o.type == m.type && o.id == m.id; });
        m.score *= 0.9;
        m.matched = "part";
        if (same == out.end()) {
          out.push_back(std::move(m));
        } else if (m.score > same->score) {
          *same = std::move(m);
        }
      }
    }
  }
  for (Match& m : out) {
    m.ambiguous = std::count_if(out.begin(), out.end(),
                                [&m](const Match& o) { return o.type == m.type; }) > 1;
  }
  std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.type != b.type) return a.type < b.type;
    return a.id < b.id;
  });
  return out;
}

const Actor* KnowledgeBase::actor(std::string_view id) const {
  auto it = impl_->actor_ids.find(AV(id));
  return it == impl_->actor_ids.end() ? nullptr : &impl_->actors[it->second];
}
const Campaign* KnowledgeBase::campaign(std::string_view id) const {
  auto it = impl_->campaign_ids.find(AV(id));
  return it == impl_->campaign_ids.end() ? nullptr : &impl_->campaigns[it->second];
}
const Software* KnowledgeBase::software(std::string_view id) const {
  auto it = impl_->software_ids.find(AV(id));
  return it == impl_->software_ids.end() ? nullptr : &impl_->software[it->second];
}
const Technique* KnowledgeBase::technique(std::string_view id) const {
  auto it = impl_->technique_ids.find(AV(id));
  return it == impl_->technique_ids.end() ? nullptr : &impl_->techniques[it->second];
}
const std::vector<Actor>& KnowledgeBase::actors() const { return impl_->actors; }
const std::vector<Campaign>& KnowledgeBase::campaigns() const { return impl_->campaigns; }
const std::vector<Software>& KnowledgeBase::software_list() const { return impl_->software; }
const std::vector<Technique>& KnowledgeBase::techniques() const { return impl_->techniques; }
const std::vector<SourceInfo>& KnowledgeBase::sources() const { return impl_->sources; }

}  // namespace kinship::kb
