// Shared by `kinship attribute` and `kinship campaigns`: loading what attribution reads, and
// printing its results.
#include "cli/analysis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/views.h"
#include "kinship/parallel.h"

namespace kinship::cli {

namespace {

Incident MergedMembers(const score::Campaign& c, size_t number, std::vector<Incident> members) {
  Incident merged;
  merged.id = absl::StrCat("campaign-", number);
  merged.first_seen = c.first_seen;
  merged.last_seen = c.last_seen;
  for (Incident& inc : members) {
    if (merged.victim.sector.empty() && merged.victim.country.empty()) merged.victim = inc.victim;
    for (auto& x : inc.indicators) merged.indicators.push_back(std::move(x));
    for (auto& x : inc.techniques) merged.techniques.push_back(std::move(x));
    for (auto& x : inc.software) merged.software.push_back(std::move(x));
  }
  return merged;
}

}  // namespace

// A campaign as one incident: every member's indicators, techniques and software, its span, and
// the victim of the first member that names one.
absl::StatusOr<Incident> MergedCampaign(
    const score::Campaign& c, size_t number,
    const std::function<absl::StatusOr<Incident>(const std::string&)>& get) {
  std::vector<Incident> members;
  for (const std::string& id : c.members) {
    KINSHIP_ASSIGN_OR_RETURN(Incident inc, get(id));
    members.push_back(std::move(inc));
  }
  return MergedMembers(c, number, std::move(members));
}

absl::StatusOr<AssessedCampaigns> FindAssessedCampaigns(
    const Analysis& analysis, const score::CampaignOptions& options, bool attribute,
    const IncidentGetter& get, const std::function<void(const std::string&)>& progress) {
  AssessedCampaigns out;
  KINSHIP_ASSIGN_OR_RETURN(out.campaigns, score::FindCampaigns(analysis.index(), options));
  for (score::Campaign& c : out.campaigns) NameKbItems(analysis.kb(), c.binding);
  // Each campaign attributed as one incident, its own members never evidence of it: an
  // assessment independent of what the members' sources state. In batches: the members are read
  // from the store one campaign after another, the batch is attributed on worker threads. The
  // members are read once, also for the values behind the binding naming items (read only for
  // those campaigns when not attributing).
  constexpr size_t kBatch = 16;
  const Store::Detail detail = attribute ? Store::Detail::kAnalysis : Store::Detail::kNaming;
  // Without attribution only the names are read: from memory when the analysis keeps them.
  const NamingCache* cache = attribute ? nullptr : analysis.naming_cache();
  const NamingReader evidence_naming = analysis.Naming(NamingOf(get));
  const std::vector<score::Campaign>& cs = out.campaigns;
  out.binding_names.resize(cs.size());
  if (attribute) {
    out.assessed.resize(cs.size());
    out.assessed_sources.resize(cs.size());
  }
  for (size_t i = 0; i < cs.size(); i += kBatch) {
    const size_t end = std::min(cs.size(), i + kBatch);
    if (progress && attribute) {
      progress(absl::StrCat("attributing campaigns ", i + 1, "-", end, " of ", cs.size()));
    } else if (progress && cache == nullptr && cs.size() > 256 * kBatch &&
               (i / kBatch) % 256 == 0) {
      progress(absl::StrCat("reading the members of campaigns ", i + 1, "-",
                            std::min(cs.size(), i + 256 * kBatch), " of ", cs.size(),
                            " for the names behind their binding evidence"));
    }
    // The batch's members read on worker threads, a campaign per thread at a time (on the feed of
    // bench/gen, reading 95,000 members back one by one was a sixth of `kinship campaigns`).
    std::vector<Incident> merged(attribute ? end - i : 0);
    std::vector<absl::Status> failed(end - i);
    util::ParallelFor(end - i, [&](size_t b) {
      const size_t k = i + b;
      const bool naming = NamingFamily(cs[k].binding) != nullptr;
      if (!attribute && !naming) return;
      std::vector<Incident> members;
      std::vector<std::pair<std::string, score::NamingTexts>> texts;
      for (const std::string& id : cs[k].members) {
        if (cache != nullptr) {
          if (std::optional<score::NamingTexts> t = cache->Get(id)) {
            texts.emplace_back(id, *std::move(t));
            continue;
          }
        }
        absl::StatusOr<Incident> inc = get(id, detail);
        if (!inc.ok()) {
          failed[b] = inc.status();
          return;
        }
        if (naming) texts.emplace_back(id, score::NamingTexts(*inc));
        if (attribute) members.push_back(*std::move(inc));
      }
      out.binding_names[k] = CampaignNamingOf(cs[k].binding, texts);
      if (attribute) merged[b] = MergedMembers(cs[k], k + 1, std::move(members));
    });
    for (const absl::Status& st : failed) KINSHIP_RETURN_IF_ERROR(st);
    if (!attribute) continue;
    util::ParallelFor(merged.size(), [&](size_t k) {
      out.assessed[i + k] = analysis.AttributeCampaign(merged[k], cs[i + k].members);
    });
    for (size_t k = 0; k < merged.size(); ++k) {
      out.assessed_sources[i + k] =
          EvidenceSourcesOf(evidence_naming, merged[k], out.assessed[i + k]);
      NameKbItems(analysis.kb(), out.assessed[i + k]);
    }
  }
  return out;
}

absl::StatusOr<Incident> StoreReaders::Get(const std::string& id, Store::Detail detail) {
  Store* store = nullptr;
  {
    std::lock_guard l(mu_);
    if (!free_.empty()) {
      store = free_.back();
      free_.pop_back();
    }
  }
  if (store == nullptr) {
    KINSHIP_ASSIGN_OR_RETURN(std::unique_ptr<Store> opened, OpenStore(g_, /*create=*/false));
    store = opened.get();
    std::lock_guard l(mu_);
    owned_.push_back(std::move(opened));
  }
  absl::StatusOr<Incident> inc = store->GetIncident(id, detail);
  std::lock_guard l(mu_);
  free_.push_back(store);
  return inc;
}

nlohmann::json CampaignJson(const AssessedCampaigns& found, size_t index, size_t max_items) {
  static const CampaignNamingMap kNoNames;
  const score::Campaign& c = found.campaigns[index];
  nlohmann::json j = {
      {"campaign", index + 1},
      {"members", c.members},
      {"first_seen", c.first_seen},
      {"last_seen", c.last_seen},
      {"cohesion", c.cohesion},
      {"actor", c.actor},
      {"actor_votes", c.actor_votes},
      {"attributed_members", c.attributed_members},
      {"binding",
       ExplanationJson(c.binding,
                       index < found.binding_names.size() ? found.binding_names[index] : kNoNames,
                       max_items)}};
  nlohmann::json linked = nlohmann::json::array();
  for (const score::LinkedIncident& l : c.linked) {
    linked.push_back({{"incident", l.id}, {"via", l.via}, {"probability", l.probability}});
  }
  j["linked"] = std::move(linked);
  if (index < found.assessed.size()) {
    j["attribution"] = AttributionJson(found.assessed[index], index < found.assessed_sources.size()
                                                                  ? &found.assessed_sources[index]
                                                                  : nullptr);
  }
  return j;
}

void NamingCache::Add(const Incident& incident) {
  Remove(incident.id);  // a replaced incident's texts
  std::string packed = score::NamingTexts(incident).Pack();
  bytes_ += incident.id.size() + packed.size();
  packed_.insert_or_assign(incident.id, std::move(packed));
}

void NamingCache::Remove(const std::string& id) {
  const auto it = packed_.find(id);
  if (it == packed_.end()) return;
  bytes_ -= id.size() + it->second.size();
  packed_.erase(it);
}

std::optional<score::NamingTexts> NamingCache::Get(const std::string& id) const {
  const auto it = packed_.find(id);
  if (it == packed_.end()) return std::nullopt;
  return score::NamingTexts::Unpack(it->second);
}

NamingReader Analysis::Naming(NamingReader fallback) const {
  if (naming_ == nullptr) return fallback;
  return [cache = naming_.get(), fallback = std::move(fallback)](const std::string& id) {
    std::optional<score::NamingTexts> texts = cache->Get(id);
    return texts ? texts : fallback(id);
  };
}

absl::StatusOr<std::unique_ptr<Analysis>> Analysis::Load(const GlobalOptions& g,
                                                         AttributionSettings settings,
                                                         Parts parts) {
  const bool attribution = parts.attribution;
  std::unique_ptr<Analysis> a(new Analysis());
  if (parts.naming) a->naming_ = std::make_unique<NamingCache>();
  a->settings_ = settings;
  KINSHIP_ASSIGN_OR_RETURN(a->store_, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(kb::KnowledgeBase kb, kb::KnowledgeBase::Load(*a->store_));
  a->kb_ = std::make_unique<kb::KnowledgeBase>(std::move(kb));
  if (a->kb_->empty()) {
    Progress(g,
             "warning: this store has no knowledge base: actor and software names stay as the "
             "sources wrote them and attribution has no ATT&CK profile evidence (`kinship kb "
             "import` loads one)",
             /*force=*/true);
  }
  KINSHIP_ASSIGN_OR_RETURN(const size_t total, a->store_->IncidentCount());
  const size_t tenth = total >= kCountedProgressFrom ? total / 10 : 0;
  size_t step = tenth;
  size_t indexed = 0;
  // What else is built from each incident: for attribution the naming-style index of the
  // attributed ones (unless loaded from its snapshot), and the names' cache.
  bool style_loaded = false;
  auto also = [&](const Incident& inc) {
    if (attribution && !style_loaded) a->style_.Add(inc);
    if (a->naming_ != nullptr) a->naming_->Add(inc);
    if (step != 0 && ++indexed % step == 0) {
      Progress(g, absl::StrCat("  indexed ", indexed, " of ", total, " incidents"));
    }
  };
  // A snapshot that cannot be used is said (quietly when it is merely stale) and left alone.
  auto not_used = [&g](std::string_view what, const absl::Status& st) {
    Progress(g,
             absl::StrCat(
                 st.code() == absl::StatusCode::kFailedPrecondition ? "" : "warning: ", AV(what),
                 " not used: ", st.message(), " (`kinship index build` saves a current one)"),
             /*force=*/true);
  };
  bool indexed_from_snapshot = false;
  std::string snapshot_key;  // the store's key the similarity snapshot was loaded under
  const std::string style_path = StyleSnapshotPath(g);
  if (parts.snapshot) {
    // The similarity index from the snapshot `kinship index build` saved, when it is current for
    // the store (same store, nothing written since, same build and options); for attribution the
    // naming-style index and classifier from theirs when that is current too; the rest from a
    // lighter pass over the store (Store::Detail::kStyle: naming's indicators and the
    // attributions, about a third of the indicators), or none when nothing else is needed.
    const std::string path = SnapshotPath(g);
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      KINSHIP_ASSIGN_OR_RETURN(std::string key, a->store_->SnapshotKey());
      Progress(g, absl::StrCat("loading the index snapshot ", path));
      absl::StatusOr<score::SimilarityIndex> loaded =
          score::SimilarityIndex::Load(path, key, a->kb(), ScoringOptionsOf(g));
      // Stale from writes the store's journal still holds (the ingest that wrote them could not
      // keep it current, say): brought up to date and saved, with the naming-style snapshot
      // when nothing it indexes changed.
      std::optional<CaughtUp> caught;
      std::string from;  // the key a caught-up snapshot was saved under
      if (!loaded.ok() && loaded.status().code() == absl::StatusCode::kFailedPrecondition) {
        absl::StatusOr<SnapshotCaughtUp> done = CatchUpSnapshot(g, *a->store_, a->kb(), from);
        if (done.ok()) {
          Progress(g,
                   absl::StrCat("index snapshot brought up to date from the store's journal: ",
                                done->caught.left.size(), " incidents taken out, ",
                                done->caught.added, " added"),
                   /*force=*/true);
          if (!done->saved.ok()) {
            Progress(g, absl::StrCat("note: index snapshot not saved: ", done->saved.message()),
                     /*force=*/true);
          }
          loaded = std::move(done->index);
          key = done->caught.key;
          caught = std::move(done->caught);
        } else {
          Progress(
              g, absl::StrCat("index snapshot not brought up to date: ", done.status().message()));
        }
      }
      if (loaded.ok()) {
        a->index_ = std::make_unique<score::SimilarityIndex>(*std::move(loaded));
        indexed_from_snapshot = true;
        snapshot_key = key;
        if (attribution && std::filesystem::exists(style_path, ec)) {
          Progress(g, absl::StrCat("loading the naming-style snapshot ", style_path));
          absl::StatusOr<attrib::StyleIndex> style = attrib::StyleIndex::Load(style_path, key);
          // Standing for the key the similarity snapshot was brought from, it is carried to the
          // new key when nothing it indexes changed since.
          if (caught && !style.ok()) style = CarryStyleSnapshot(style_path, from, *caught);
          if (style.ok()) {
            a->style_ = *std::move(style);
            style_loaded = true;
          } else {
            not_used("naming-style snapshot", style.status());
          }
        }
        if ((attribution && !style_loaded) || parts.naming) {
          // Without the names' cache only the naming-style index is built: it takes attributed
          // incidents alone (StyleIndex::Indexes), so only those are read, in the same order.
          const Store::Which which = parts.naming ? Store::Which::kAll : Store::Which::kAttributed;
          Progress(g, style_loaded ? "reading the store's names"
                      : parts.naming
                          ? "reading the store's names and attributions"
                          : "reading the names and attributions of the attributed incidents");
          if (which == Store::Which::kAttributed) step = 0;  // tenths of another count
          KINSHIP_RETURN_IF_ERROR(a->store_->ForEachIncidentReadAhead(
              [&](const Incident& inc) {
                also(inc);
                return true;
              },
              /*ahead=*/64, Store::Detail::kStyle, /*skip=*/0, which));
          // Read in another transaction than the key: the same store only if nothing was
          // written since.
          KINSHIP_ASSIGN_OR_RETURN(const std::string after, a->store_->SnapshotKey());
          indexed_from_snapshot = after == key;
          if (!indexed_from_snapshot) {
            Progress(g, "the store was written while it was read: indexing it", /*force=*/true);
            a->style_ = attrib::StyleIndex();
            style_loaded = false;
            if (parts.naming) a->naming_ = std::make_unique<NamingCache>();
            indexed = 0;
            step = tenth;
          }
        }
      } else {
        not_used("index snapshot", loaded.status());
      }
    }
  }
  if (indexed_from_snapshot) {
    a->key_ = snapshot_key;
  } else {
    Progress(g, "indexing the store's incidents");
    KINSHIP_ASSIGN_OR_RETURN(const std::string before, a->store_->SnapshotKey());
    // One pass over the store: the similarity engine and what `also` builds.
    KINSHIP_ASSIGN_OR_RETURN(
        score::SimilarityIndex index,
        score::SimilarityIndex::Build(*a->store_, a->kb(), ScoringOptionsOf(g), also));
    a->index_ = std::make_unique<score::SimilarityIndex>(std::move(index));
    // The pass read one state of the store: the one the key names only if nothing was written
    // while it ran; else the index stands for no key (key() is "").
    KINSHIP_ASSIGN_OR_RETURN(const std::string after, a->store_->SnapshotKey());
    if (after == before) a->key_ = after;
  }
  if (!attribution) return a;
  if (!style_loaded) {
    Progress(g, absl::StrCat("training the naming-style classifier on ", a->style_.size(),
                             " attributed incidents with hostnames"));
    a->style_.Finalize();
    if (indexed_from_snapshot) {
      // The similarity snapshot was current and the store was not written while its names were
      // read (else indexed_from_snapshot is false): this naming-style index is the one `index
      // build` saves for the store as it is. Saved for the next call, which then loads both
      // snapshots (at 100,000 incidents 4.2 s instead of this call's 42 s): an ingest that added an
      // incident with an actor and a hostname, or a damaged or missing file, costs one slow call,
      // not every call until `index build`. Not saving it (a read-only folder) is no error.
      const absl::Status saved = a->style_.Save(style_path, snapshot_key);
      Progress(g,
               saved.ok()
                   ? absl::StrCat("naming-style snapshot ", style_path,
                                  " saved again for the store as it is now")
                   : absl::StrCat("note: naming-style snapshot not saved: ", saved.message()),
               /*force=*/true);
    }
  }
  attrib::KbView view;
  if (a->kb() != nullptr) {
    a->profiles_ = attrib::ProfileMatcher::FromKb(*a->kb());
    view = attrib::KbViewOf(*a->kb());
  }
  attrib::AttributorOptions options;
  options.max_candidates = settings.top;
  const attrib::ProfileMatcher* profiles = a->kb() != nullptr ? &a->profiles_ : nullptr;
  a->attributor_ =
      std::make_unique<attrib::Attributor>(profiles, view, attrib::Model::Default(), options);
  a->campaign_attributor_ =
      std::make_unique<attrib::Attributor>(profiles, view, attrib::Model::Campaigns(), options);
  return a;
}

absl::StatusOr<CaughtUp> Analysis::CatchUp() {
  if (key_.empty()) {
    return absl::FailedPreconditionError(
        "its indexes stand for no one state of the store (it was written while they were built)");
  }
  absl::flat_hash_set<std::string> added;  // ids, for the names' cache
  KINSHIP_ASSIGN_OR_RETURN(CaughtUp caught,
                           CatchUpIndex(*store_, *index_, key_, [&](const Incident& inc) {
                             if (naming_ == nullptr) return;
                             naming_->Add(inc);
                             added.insert(inc.id);
                           }));
  if (naming_ != nullptr) {
    for (const std::string& id : caught.left) {
      if (!added.contains(id)) naming_->Remove(id);
    }
  }
  if (attributor_ != nullptr && (caught.style_added > 0 || style_.CountIndexed(caught.left) > 0)) {
    // Its classifier was trained with the incidents that left, or without those that came.
    style_pending_ = true;
  }
  key_ = caught.key;
  return caught;
}

void Analysis::SetStyle(attrib::StyleIndex style) {
  style_ = std::move(style);
  style_pending_ = false;
}

absl::StatusOr<TrainedStyle> TrainStyle(const GlobalOptions& g, Store& store) {
  TrainedStyle t;
  Progress(g, "reading the names and attributions of the attributed incidents");
  KINSHIP_ASSIGN_OR_RETURN(const std::string before, store.SnapshotKey());
  KINSHIP_RETURN_IF_ERROR(store.ForEachIncidentReadAhead(
      [&t](const Incident& inc) {
        t.style.Add(inc);
        return true;
      },
      /*ahead=*/64, Store::Detail::kStyle, /*skip=*/0, Store::Which::kAttributed));
  KINSHIP_ASSIGN_OR_RETURN(t.key, store.SnapshotKey());
  if (t.key != before) return absl::FailedPreconditionError("the store was written meanwhile");
  Progress(g, absl::StrCat("training the naming-style classifier on ", t.style.size(),
                           " attributed incidents with hostnames"));
  t.style.Finalize();
  return t;
}

void AddAttributionOptions(CLI::App& cmd, AttributionSettings& settings) {
  cmd.add_option("--top", settings.top, "Candidates listed per incident");
  cmd.add_option("--neighbours", settings.neighbours, "Similar attributed incidents considered");
  cmd.add_option("--style-neighbours", settings.style_neighbours,
                 "Attributed incidents nearest by naming style considered (0: none)");
}

attrib::Result AttributeWithout(const attrib::Attributor& attributor,
                                const score::SimilarityIndex& index,
                                const attrib::StyleIndex& style, const Incident& incident,
                                const std::vector<std::string>& exclude, size_t neighbours,
                                size_t style_neighbours) {
  Incident q = incident;
  q.attributions.clear();  // its own stated attribution is never evidence of itself
  const absl::flat_hash_set<std::string> out(exclude.begin(), exclude.end());
  // Each source is asked for as many more as may be left out; the first k of the others stay.
  auto keep = [&out](auto matches, size_t k) {
    std::erase_if(matches, [&out](const auto& m) { return out.contains(m.incident_id); });
    if (matches.size() > k) matches.resize(k);
    return matches;
  };
  const size_t n = neighbours, s = style_neighbours;
  return attributor.Attribute(q, keep(attrib::SimilarNeighbours(index, q, n + out.size()), n), {},
                              keep(style.Nearest(q, s + out.size()), s),
                              style.Classify(q, attrib::kClassifierVotes, exclude));
}

attrib::Result Analysis::Attribute(const Incident& incident,
                                   const std::vector<std::string>& exclude) const {
  return AttributeWithout(*attributor_, *index_, style_, incident, exclude, settings_.neighbours,
                          settings_.style_neighbours);
}

attrib::Result Analysis::AttributeCampaign(const Incident& merged,
                                           const std::vector<std::string>& members) const {
  return AttributeWithout(*campaign_attributor_, *index_, style_, merged, members,
                          settings_.neighbours, settings_.style_neighbours);
}

std::optional<score::Linkage> ParseLinkage(std::string_view name) {
  if (name == "average") return score::Linkage::kAverage;
  if (name == "single") return score::Linkage::kSingle;
  return std::nullopt;
}

const char* LinkageName(score::Linkage linkage) {
  return linkage == score::Linkage::kSingle ? "single" : "average";
}

namespace {

const NamingSides* SourcesOf(const EvidenceSources* sources, const attrib::EvidenceItem& e) {
  if (sources == nullptr || e.via.empty()) return nullptr;
  auto it = sources->find({e.via, e.feature});
  return it == sources->end() ? nullptr : &it->second;
}

nlohmann::json EvidenceJson(const attrib::EvidenceItem& e, const std::string& query,
                            const EvidenceSources* sources) {
  nlohmann::json j = {{"family", std::string(attrib::FamilyName(e.family))},
                      {"feature", e.feature},
                      {"weight", std::round(e.weight * 1000) / 1000}};
  if (!e.name.empty()) j["name"] = e.name;
  if (!e.via.empty()) j["via"] = e.via;
  if (const NamingSides* n = SourcesOf(sources, e)) {
    j["sources"] = {{query, n->a}, {e.via, n->b}};
    j["sources_total"] = {{query, n->a_total}, {e.via, n->b_total}};
  }
  return j;
}

}  // namespace

EvidenceSources EvidenceSourcesOf(const NamingReader& naming, const Incident& query,
                                  const attrib::Result& r) {
  EvidenceSources out;
  std::optional<score::NamingTexts> mine;  // prepared on the first naming item
  std::map<std::string, std::optional<score::NamingTexts>> read;  // each similar incident once
  for (const attrib::Candidate& c : r.candidates) {
    for (const attrib::EvidenceItem& e : c.evidence) {
      if (e.family != attrib::Family::kNaming || e.via.empty() || out.count({e.via, e.feature})) {
        continue;
      }
      if (!mine) mine.emplace(query);
      if (mine->Sources(e.feature, 1).empty()) continue;  // "style:<id>" items
      auto [it, inserted] = read.try_emplace(e.via);
      if (inserted) it->second = naming(e.via);
      if (!it->second) continue;
      out[{e.via, e.feature}] = NamingSidesOf(*mine, *it->second, e.feature);
    }
  }
  return out;
}

nlohmann::json AttributionJson(const attrib::Result& r, const EvidenceSources* sources) {
  nlohmann::json cands = nlohmann::json::array();
  for (const attrib::Candidate& c : r.candidates) {
    nlohmann::json ev = nlohmann::json::array();
    for (const attrib::EvidenceItem& e : c.evidence) {
      ev.push_back(EvidenceJson(e, r.incident, sources));
    }
    cands.push_back({{"actor", c.actor_id},
                     {"name", c.name},
                     {"probability", std::round(c.probability * 1000) / 1000},
                     {"likelihood", c.likelihood},
                     {"evidence", ev}});
  }
  nlohmann::json j = {{"abstained", r.abstained},
                      {"confidence", std::string(attrib::ConfidenceName(r.confidence))},
                      {"candidates", cands}};
  if (r.abstained) j["abstain_reason"] = r.abstain_reason;
  j["answer_threshold"] = attrib::ShownThreshold(r.answer_threshold);
  j["supporting_families"] = r.supporting_families;
  j["supporting_lines"] = r.supporting_lines;
  j["survives_strongest_removed"] = r.survives_strongest_removed;
  j["techniques_only"] = r.techniques_only;
  return j;
}

namespace {

// One origin of a candidate's evidence in the human form: a similar incident with the items it
// shares, the actor's known incidents taken together, its ATT&CK profile, the naming-style
// neighbours, or the naming-style classifier.
struct EvidenceBlock {
  std::string heading;
  std::vector<const attrib::EvidenceItem*> items;
};

std::vector<EvidenceBlock> EvidenceBlocks(const attrib::Candidate& c) {
  std::vector<EvidenceBlock> blocks;
  std::map<std::string, size_t> by_key;
  auto block = [&](const std::string& key, const std::string& heading) -> EvidenceBlock& {
    auto [it, inserted] = by_key.try_emplace(key, blocks.size());
    if (inserted) blocks.push_back({heading, {}});
    return blocks[it->second];
  };
  for (const attrib::EvidenceItem& e : c.evidence) {
    if (absl::StartsWith(e.feature, "incident:") && e.feature.substr(9) == e.via) {
      // The similar incident itself: its weight is the pair's probability.
      block(absl::StrCat("via:", e.via),
            absl::StrFormat("similar incident %s, p=%.2f, sharing:", e.via, e.weight));
    } else if (absl::StartsWith(e.feature, "style:")) {
      block("style", "named like these incidents of the actor (naming-style cosine):")
          .items.push_back(&e);
    } else if (absl::StartsWith(e.feature, "style-classifier:")) {
      block("classifier", "the naming-style classifier:").items.push_back(&e);
    } else if (e.family == attrib::Family::kProfileSoftware ||
               e.family == attrib::Family::kProfileTechniques) {
      block("profile", "its ATT&CK profile shares with the query:").items.push_back(&e);
    } else if (absl::StartsWith(e.via, "known incidents of ")) {
      block(e.via, absl::StrCat("all ", e.via, " taken together share:")).items.push_back(&e);
    } else {
      block(absl::StrCat("via:", e.via), absl::StrCat("similar incident ", e.via, ", sharing:"))
          .items.push_back(&e);
    }
  }
  return blocks;
}

}  // namespace

void PrintAttribution(const attrib::Result& r, const std::string& indent, size_t evidence_shown,
                      const EvidenceSources* sources) {
  const char* in = indent.c_str();
  if (r.abstained) std::printf("%sabstained: %s\n", in, r.abstain_reason.c_str());
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const attrib::Candidate& c = r.candidates[i];
    std::printf("%s%zu. %s (%s): %.0f %%, %s\n", in, i + 1, c.name.c_str(), c.actor_id.c_str(),
                c.probability * 100, c.likelihood.c_str());
    // Grouped by origin, each origin's strongest items first: a flat list cut at a fixed
    // length hid the profile's software match (the strongest item) behind a similar
    // incident's shared values.
    for (EvidenceBlock& b : EvidenceBlocks(c)) {
      std::printf("%s     %s\n", in, b.heading.c_str());
      std::stable_sort(b.items.begin(), b.items.end(),
                       [](const attrib::EvidenceItem* x, const attrib::EvidenceItem* y) {
                         return x->weight > y->weight;
                       });
      for (size_t k = 0; k < b.items.size() && k < evidence_shown; ++k) {
        const attrib::EvidenceItem& e = *b.items[k];
        std::string feature = e.feature;
        if (!e.name.empty()) absl::StrAppend(&feature, " ", e.name);
        if (const NamingSides* n = SourcesOf(sources, e)) {
          absl::StrAppend(&feature, " (", NamingSidesText(*n), ")");
        }
        std::printf("%s       %-18s %-40s %.2f\n", in,
                    std::string(attrib::FamilyName(e.family)).c_str(), feature.c_str(), e.weight);
      }
      if (b.items.size() > evidence_shown) {
        std::printf("%s       +%zu more (--json lists them)\n", in,
                    b.items.size() - evidence_shown);
      }
    }
  }
  if (r.techniques_only) {
    std::printf(
        "%sThe top actor rests on shared techniques alone (no similar incident, naming style or "
        "tool of its own): its probability is calibrated for that case, where the top group is "
        "seldom right (docs/attribution.md).\n",
        in);
  }
  // ICD 203: the confidence in the evidence is its own statement, never mixed with likelihood.
  std::printf(
      "%sConfidence in the evidence: %s (independent lines: %s; families: %s; ranking %s "
      "removing the strongest line).\n",
      in, std::string(attrib::ConfidenceName(r.confidence)).c_str(),
      r.supporting_lines.empty() ? "none" : absl::StrJoin(r.supporting_lines, ", ").c_str(),
      r.supporting_families.empty() ? "none" : absl::StrJoin(r.supporting_families, ", ").c_str(),
      r.survives_strongest_removed ? "survives" : "does not survive");
}

}  // namespace kinship::cli
