// KnowledgeBase::Load and kb::Import: the KB's rows in the store (migration v2, kb/schema.cc).
// The store keeps each source's parsed, unmerged records (kb_entity.source_kind = "kind/name"),
// so re-importing one source replaces only it and the merge is redone on Load.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ingest/report/findings.h"
#include "kb/internal.h"
#include "kinship/limits.h"
#include "kinship/store.h"
#include "store/sqlite.h"
#include "store/store_impl.h"

namespace kinship::kb {
namespace {

using store::Statement;

std::string SourceKey(const SourceInfo& info) { return absl::StrCat(info.kind, "/", info.name); }

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(path, ": ", ec.message()));
  if (size > limits::kMaxInputFileBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": file is ", size, " bytes, over kMaxInputFileBytes"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open"));
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<size_t>(in.gcount()) != size) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": short read"));
  }
  return data;
}

absl::StatusOr<std::vector<internal::ParsedSource>> ReadSources(store::Db& db) {
  std::vector<internal::ParsedSource> sources;
  KINSHIP_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT kind, name, version, file, sha256 FROM kb_source "
                                      "ORDER BY imported_at, kind, name"));
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    internal::ParsedSource src;
    src.info = {s.ColumnString(0), s.ColumnString(1), s.ColumnString(2), s.ColumnString(3),
                s.ColumnString(4)};
    sources.push_back(std::move(src));
  }
  KINSHIP_ASSIGN_OR_RETURN(
      Statement r,
      db.Prepare(
          "SELECT type, id, name, data FROM kb_entity WHERE source_kind = ? ORDER BY rowid"));
  for (internal::ParsedSource& src : sources) {
    r.Bind(1, SourceKey(src.info));
    while (true) {
      KINSHIP_ASSIGN_OR_RETURN(bool row, r.Step());
      if (!row) break;
      internal::Record rec{r.ColumnString(0), r.ColumnString(1), r.ColumnString(2),
                           r.ColumnString(3)};
      KINSHIP_RETURN_IF_ERROR(internal::AddRecord(rec, src));
    }
    r.Reset();
  }
  return sources;
}

absl::Status WriteSource(store::Db& db, const internal::ParsedSource& src) {
  const std::string key = SourceKey(src.info);
  KINSHIP_ASSIGN_OR_RETURN(Statement del,
                           db.Prepare("DELETE FROM kb_entity WHERE source_kind = ?"));
  del.Bind(1, key);
  KINSHIP_RETURN_IF_ERROR(del.Run());
  KINSHIP_ASSIGN_OR_RETURN(
      Statement src_row,
      db.Prepare("INSERT OR REPLACE INTO kb_source (kind, name, version, file, sha256) "
                 "VALUES (?,?,?,?,?)"));
  src_row.Bind(1, src.info.kind);
  src_row.Bind(2, src.info.name);
  src_row.Bind(3, src.info.version);
  src_row.Bind(4, src.info.file);
  src_row.Bind(5, src.info.sha256);
  KINSHIP_RETURN_IF_ERROR(src_row.Run());
  KINSHIP_ASSIGN_OR_RETURN(
      Statement ins,
      db.Prepare("INSERT INTO kb_entity (type, id, name, source_kind, data) VALUES (?,?,?,?,?)"));
  for (const internal::Record& rec : internal::ToRecords(src)) {
    ins.Bind(1, rec.type);
    // kb_entity's key is (type, id): the source key keeps two sources' records apart.
    ins.Bind(2, absl::StrCat(key, " ", rec.id));
    ins.Bind(3, rec.name);
    ins.Bind(4, key);
    ins.Bind(5, rec.data);
    KINSHIP_RETURN_IF_ERROR(ins.Run());
  }
  return absl::OkStatus();
}

}  // namespace

bool MoveSoftwareOutOfAttributions(const KnowledgeBase& kb, Incident& incident) {
  bool moved = false;
  std::vector<Attribution> kept;
  for (Attribution& a : incident.attributions) {
    const bool known_actor = !a.actor_id.empty() && kb.actor(a.actor_id) != nullptr;
    std::vector<Match> as_software;
    if (!known_actor && !a.actor_name.empty() &&
        kb.Resolve(a.actor_name, EntityType::kActor).empty()) {
      as_software = kb.Resolve(a.actor_name, EntityType::kSoftware);
    }
    if (as_software.empty() || as_software.front().ambiguous || as_software.front().score < 1.0) {
      kept.push_back(std::move(a));
      continue;
    }
    moved = true;
    const Match& m = as_software.front();
    bool listed = false;
    for (const kinship::Software& s : incident.software) {
      listed = listed || s.id == m.id || absl::EqualsIgnoreCase(AV(s.name), AV(a.actor_name));
    }
    if (listed) continue;
    kinship::Software sw;
    sw.name = a.actor_name;
    sw.id = m.id;
    if (const kinship::kb::Software* k = kb.software(m.id)) sw.kind = k->kind;
    sw.location = a.location;
    sw.snippet = absl::StrCat("stated as the actor (", AV(a.source.empty() ? "source" : a.source),
                              "); the knowledge base knows it only as software");
    incident.software.push_back(std::move(sw));
  }
  incident.attributions = std::move(kept);
  return moved;
}

namespace {

// Whether an item located at `location` was read from prose read under `where`: every item of a
// report file (where ""), and of a MISP event report or a STIX description those located in it.
bool ReadFrom(std::string_view location, std::string_view where) {
  if (where.empty()) return true;
  return absl::StartsWith(AV(location), AV(where)) &&
         (location.size() == where.size() || location[where.size()] == ':');
}

// Reads an incident's stored prose again with the KB's names (`names` compiled on first use),
// as its parser read it: what the prose gave before (without these names, or with an older KB's)
// is taken out, every piece's findings first, and the new reading's added in their place, in the
// order an ingest adds them, so that the software, techniques, stated actors and mentions are
// those an ingest with this KB gives, located alike. Its indicators need no names: read at
// ingest and stored normalised, they stay and none is added.
absl::Status RereadProse(const std::vector<ProseText>& prose, const ingest::Options& with_kb,
                         std::shared_ptr<const extract::NameCatalog>& names, Incident& inc) {
  const auto from_prose = [&prose](const std::string& location) {
    return std::any_of(prose.begin(), prose.end(),
                       [&](const ProseText& p) { return ReadFrom(location, p.where); });
  };
  std::erase_if(inc.attributions, [&](const Attribution& a) { return from_prose(a.location); });
  std::erase_if(inc.techniques,
                [&](const kinship::Technique& t) { return from_prose(t.location); });
  std::erase_if(inc.software, [&](const kinship::Software& s) { return from_prose(s.location); });
  absl::flat_hash_set<std::string> unmentioned;  // the tags of the mentions taken out
  std::erase_if(inc.actor_mentions, [&](const ActorMention& m) {
    if (!from_prose(m.location)) return false;
    unmentioned.insert(absl::StrCat("actor-mention:", m.name));
    return true;
  });
  std::erase_if(inc.tags, [&](const std::string& t) { return unmentioned.contains(t); });
  if (!names) names = ingest::internal::ReportCatalog(with_kb);
  for (const ProseText& p : prose) {
    KINSHIP_ASSIGN_OR_RETURN(extract::Result read,
                             ingest::internal::ReadProseAgain(names.get(), p));
    read.indicators.clear();
    ingest::internal::AddFindings(std::move(read), with_kb, p.where, p.source, inc);
  }
  return absl::OkStatus();
}

// Re-links stored incidents to a KB: re-resolves stated attributions, software and techniques,
// reads the incident's stored prose again with the KB's names (a report file's text, a MISP
// event's reports, a STIX report's description: Store::Prose; for a STIX report stored before
// the store kept prose, its description column, ingest::internal::DescriptionSource), passes the
// actor a STIX report now states down to the reports it lists that state none (Store::Listings),
// and reads the title of one that states no actor (ingest::internal::TitleSource).
class Relinker {
 public:
  Relinker(Store& store, const KnowledgeBase& kb) : store_(store), kb_(kb) { with_kb_.kb = &kb; }

  absl::Status Start() {
    KINSHIP_ASSIGN_OR_RETURN(std::vector<std::string> with_prose, store_.IncidentsWithProse());
    has_prose_.insert(with_prose.begin(), with_prose.end());
    KINSHIP_ASSIGN_OR_RETURN(std::vector<Store::Listing> listings, store_.Listings());
    for (Store::Listing& l : listings) {
      listed_by_[l.listed].push_back(l.incident);
      lists_[l.incident].push_back(std::move(l.listed));
    }
    return absl::OkStatus();
  }

  // `inc`, a copy of `stored`, re-linked; whether its links changed (it is to be written back).
  absl::StatusOr<bool> Relink(const Incident& stored, Incident& inc) {
    KINSHIP_RETURN_IF_ERROR(ReadAgain(inc));
    const std::string_view title_source = ingest::internal::TitleSource(inc);
    // A title states an actor only for an incident that states none otherwise, as at ingest: an
    // actor its prose now states (a name this KB adds) replaces the title's, which an earlier
    // import may have added. (A report file's title and text are one source, read again whole.)
    if (!title_source.empty() && !StatesNone(inc)) {
      std::erase_if(inc.attributions,
                    [&](const Attribution& a) { return a.source == title_source; });
    }
    if (inc.attributions.empty() && !inc.title.empty() && !title_source.empty()) {
      // Stored before this KB: a title naming one of its actors now states it, as at ingest,
      // located where the source has the title ("title" for incidents stored before v9).
      const std::string location = inc.title_location.empty() ? "title" : inc.title_location;
      if (auto stated =
              ingest::internal::TitleAttribution(Names(), inc.title, location, title_source)) {
        inc.attributions.push_back(std::move(*stated));
      }
    }
    auto unique = [this](std::string_view name, EntityType type) -> std::string {
      if (name.empty()) return {};
      std::vector<Match> m = kb_.Resolve(name, type);
      return m.empty() || m.front().ambiguous ? std::string() : m.front().id;
    };
    auto set = [](std::string& field, const std::string& id) {
      if (!id.empty()) field = id;
    };
    for (Attribution& a : inc.attributions)
      set(a.actor_id, unique(a.actor_name, EntityType::kActor));
    for (kinship::Software& sw : inc.software) set(sw.id, unique(sw.name, EntityType::kSoftware));
    for (kinship::Technique& t : inc.techniques) {
      set(t.id, unique(t.id.empty() ? t.name : t.id, EntityType::kTechnique));
      // A T-id read without a KB was stored without its name; an ingest with the KB names it.
      if (const kinship::kb::Technique* known = t.id.empty() ? nullptr : kb_.technique(t.id);
          known != nullptr && t.name.empty()) {
        t.name = known->name;
      }
    }
    // What it lists goes back with it, as its prose does.
    if (auto it = lists_.find(inc.id); it != lists_.end()) inc.lists = it->second;
    // Written back only when its links end different: prose read again may give what it gave
    // before, and a stated actor the KB knows as software is moved out again each time.
    return inc.attributions != stored.attributions || inc.techniques != stored.techniques ||
           inc.software != stored.software || inc.actor_mentions != stored.actor_mentions ||
           inc.tags != stored.tags;
  }

 private:
  // What re-linking gives `inc` before its title is read: its prose read again, software named as
  // an actor moved out, the description of a report stored without prose read, and, for a report
  // another lists, the listing report's actor when it states none itself.
  absl::Status ReadAgain(Incident& inc) {
    if (has_prose_.contains(inc.id)) {
      KINSHIP_ASSIGN_OR_RETURN(std::vector<ProseText> prose, store_.Prose(inc.id));
      if (absl::Status read = RereadProse(prose, with_kb_, names_, inc); !read.ok()) {
        return absl::Status(read.code(), absl::StrCat("incident '", inc.id, "': ", read.message()));
      }
      // The prose goes back with the incident, which Store::Ingest replaces whole.
      inc.prose = std::move(prose);
    }
    MoveSoftwareOutOfAttributions(kb_, inc);
    if (const std::string_view source = ingest::internal::DescriptionSource(inc);
        !source.empty() && !inc.description.empty() && !has_prose_.contains(inc.id)) {
      // Stored before the store kept prose (schema v8), a STIX report's description is read
      // from the description column: the software and actors it names are added, located
      // "description:line:col" (its JSON path is not stored), before the title rule.
      extract::Result read = ingest::internal::ReadMarkdownProse(Names(), inc.description);
      // Its indicators were read at ingest (they need no names) and stored normalised; what
      // this adds goes back through Store::Ingest as it is, so no raw indicator is added here.
      read.indicators.clear();
      ingest::internal::AddFindings(std::move(read), with_kb_, "description", source, inc);
    }
    auto listed_by = listed_by_.find(inc.id);
    if (listed_by == listed_by_.end()) return absl::OkStatus();
    // As the STIX parser does (its loop over the reports that state an actor): a listed report
    // that states none of its own takes the actor of the first report listing it that states
    // one itself, else of the first that took one so, each in storage order; only from a report
    // stored from the same file, as the parser passes an actor down within one bundle (a report
    // stored again from another file is not given the actor of a listing read before).
    std::erase_if(inc.attributions, ingest::internal::IsListedAttribution);
    if (!StatesNone(inc)) return absl::OkStatus();
    for (const bool own : {true, false}) {
      for (const std::string& listing : listed_by->second) {
        KINSHIP_ASSIGN_OR_RETURN(const Stated* stated, StatedBy(listing));
        if (stated->attributions.empty() || stated->own != own ||
            stated->file != inc.provenance.sha256) {
          continue;
        }
        for (const Attribution& a : stated->attributions) {
          inc.attributions.push_back(
              ingest::internal::ListedAttribution(stated->title, listing, a));
        }
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  // Whether `inc` states no actor but by its title (which a report reads only after its listing
  // reports' actors have been passed down).
  static bool StatesNone(const Incident& inc) {
    const std::string_view title_source = ingest::internal::TitleSource(inc);
    return std::all_of(inc.attributions.begin(), inc.attributions.end(),
                       [&](const Attribution& a) { return a.source == title_source; });
  }

  // What a listing report states, re-linked, before its title is read: what it passes down.
  struct Stated {
    std::string title;
    std::string file;  // the SHA-256 of the file it was stored from
    std::vector<Attribution> attributions;
    bool own = false;  // stated by it, not taken from a report listing it
  };
  // The stored report `id`'s, read and re-linked once. A report met again while it is being
  // read (reports listing each other) states nothing there; one not stored states nothing.
  absl::StatusOr<const Stated*> StatedBy(const std::string& id) {
    auto [it, fresh] = stated_.try_emplace(id);
    // A node_hash_map: the entry stays where it is while ReadAgain adds others.
    Stated* stated = &it->second;
    if (!fresh) return stated;
    absl::StatusOr<Incident> inc = store_.GetIncident(id, Store::Detail::kLinks);
    if (absl::IsNotFound(inc.status())) return stated;
    if (!inc.ok()) return inc.status();
    KINSHIP_RETURN_IF_ERROR(ReadAgain(*inc));
    stated->title = inc->title;
    stated->file = inc->provenance.sha256;
    const std::string_view title_source = ingest::internal::TitleSource(*inc);
    for (Attribution& a : inc->attributions) {
      if (a.source == title_source) continue;
      stated->own = stated->own || !ingest::internal::IsListedAttribution(a);
      stated->attributions.push_back(std::move(a));
    }
    return stated;
  }

  // The KB's names, for prose and titles: compiled when the first incident that needs them comes.
  const extract::NameCatalog* Names() {
    if (!names_) names_ = ingest::internal::ReportCatalog(with_kb_);
    return names_.get();
  }

  Store& store_;
  const KnowledgeBase& kb_;
  ingest::Options with_kb_;
  std::shared_ptr<const extract::NameCatalog> names_;
  absl::flat_hash_set<std::string> has_prose_;
  // Store::Listings both ways: the reports each stored report lists, and the reports listing it.
  absl::flat_hash_map<std::string, std::vector<std::string>> lists_, listed_by_;
  absl::node_hash_map<std::string, Stated> stated_;
};

}  // namespace

absl::StatusOr<KnowledgeBase> KnowledgeBase::Load(Store& store) {
  KINSHIP_ASSIGN_OR_RETURN(std::vector<internal::ParsedSource> sources,
                           ReadSources(store.impl()->db()));
  return internal::BuildKnowledgeBase(std::move(sources));
}

absl::StatusOr<ImportSummary> Import(Store& store, const std::vector<std::string>& paths,
                                     const ImportProgress& progress) {
  if (paths.empty()) return absl::InvalidArgumentError("kb import: no files given");
  // Parse everything first: a bad file fails before the store is touched.
  std::vector<internal::ParsedSource> parsed;
  for (const std::string& path : paths) {
    KINSHIP_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
    KINSHIP_ASSIGN_OR_RETURN(internal::ParsedSource src, internal::ParseKbFile(data, path));
    parsed.push_back(std::move(src));
  }
  store::Db& db = store.impl()->db();
  ImportSummary summary;
  // One transaction: the sources, then the stored incidents re-linked to the KB they make, so
  // that a failure anywhere leaves the store as it was. Inside it (IngestOptions::first) the
  // sources are written and read back as the KB, and a first pass over the store (without the
  // indicators, which re-linking neither reads nor changes: Store::Detail::kLinks) keeps the ids
  // of the incidents whose links change; they are then read again whole and re-linked in
  // batches (Relinker runs twice for each), so memory holds one batch, not every re-linked
  // incident.
  std::optional<KnowledgeBase> kb;
  std::optional<Relinker> relinker;
  std::vector<std::string> relink;
  IngestOptions options;
  options.first = [&]() -> absl::Status {
    for (const internal::ParsedSource& src : parsed) {
      KINSHIP_RETURN_IF_ERROR(WriteSource(db, src));
      summary.sources.push_back(src.info);
      summary.relationships += src.relationships;
    }
    KINSHIP_ASSIGN_OR_RETURN(kb, KnowledgeBase::Load(store));
    relinker.emplace(store, *kb);
    KINSHIP_RETURN_IF_ERROR(relinker->Start());
    KINSHIP_ASSIGN_OR_RETURN(const size_t total, store.IncidentCount());
    constexpr std::string_view kReading = "reading the stored incidents' links";
    if (progress) progress(kReading, 0, total);
    size_t read = 0;
    absl::Status failed;
    KINSHIP_RETURN_IF_ERROR(store.ForEachIncident(
        [&](Incident& stored) {
          if (progress) progress(kReading, ++read, total);
          Incident inc = stored;
          absl::StatusOr<bool> changed = relinker->Relink(stored, inc);
          if (!changed.ok()) {
            failed = changed.status();
            return false;
          }
          if (*changed) relink.push_back(inc.id);
          return true;
        },
        Store::Detail::kLinks));
    return failed;
  };
  constexpr size_t kBatch = 256;
  constexpr std::string_view kWriting = "re-linking the incidents whose links change";
  size_t next = 0;
  std::vector<Incident> batch;
  KINSHIP_ASSIGN_OR_RETURN(
      IngestSummary written,
      store.IngestBatches(
          [&]() -> absl::StatusOr<std::span<Incident>> {
            batch.clear();
            if (next == 0 && progress && !relink.empty()) progress(kWriting, 0, relink.size());
            while (batch.size() < kBatch && next < relink.size()) {
              KINSHIP_ASSIGN_OR_RETURN(Incident stored, store.GetIncident(relink[next++]));
              Incident inc = stored;
              KINSHIP_ASSIGN_OR_RETURN(const bool changed, relinker->Relink(stored, inc));
              if (changed) batch.push_back(std::move(inc));
              if (progress) progress(kWriting, next, relink.size());
            }
            return std::span<Incident>(batch);
          },
          std::move(options)));
  summary.actors = kb->actors().size();
  summary.campaigns = kb->campaigns().size();
  summary.software = kb->software_list().size();
  summary.techniques = kb->techniques().size();
  summary.incidents_relinked = written.incidents_updated;
  return summary;
}

}  // namespace kinship::kb
