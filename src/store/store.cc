// The embedded store (include/kinship/store.h) on SQLite through store/sqlite.h.
#include "kinship/store.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "kinship/parallel.h"
#include "normalize/internal.h"
#include "store/migrations.h"
#include "store/store_impl.h"
#include "store/value_incidents.h"

namespace kinship {
namespace {

using store::Statement;

constexpr char kSep[] = "\x1f";  // joins list fields in one column; never appears in values

std::string Join(const std::vector<std::string>& parts) { return absl::StrJoin(parts, kSep); }

std::vector<std::string> Split(std::string_view joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(AV(joined), kSep);
}

absl::Status Annotate(const absl::Status& s, std::string_view what) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(AV(what), ": ", s.message()));
}

// ProseText::anchors in the prose table: "offset:line" pairs joined by spaces.
std::string AnchorsText(const std::vector<std::pair<size_t, int>>& anchors) {
  return absl::StrJoin(anchors, " ", [](std::string* out, const std::pair<size_t, int>& a) {
    absl::StrAppend(out, a.first, ":", a.second);
  });
}

absl::StatusOr<std::vector<std::pair<size_t, int>>> AnchorsOf(std::string_view text) {
  std::vector<std::pair<size_t, int>> out;
  for (absl::string_view pair : absl::StrSplit(AV(text), ' ', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(pair, ':');
    std::pair<size_t, int> a;
    if (!absl::SimpleAtoi(parts.first, &a.first) || !absl::SimpleAtoi(parts.second, &a.second)) {
      return absl::DataLossError(absl::StrCat("prose anchors: '", pair, "' is not offset:line"));
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

const std::string& Store::path() const { return impl_->path; }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, bool create) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  auto db = store::Db::Open(path, create);
  if (!db.ok()) return Annotate(db.status(), path);
  impl->db_ptr = std::move(*db);
  absl::Status st = store::Migrate(impl->db());
  if (!st.ok()) return Annotate(st, path);
  impl->db().set_count_generations(true);
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

namespace {

// Indicator rows are written in multi-row INSERTs of kRowsPerInsert rows: one statement execution
// (cursor open/close, VDBE set-up and halt) per 32 rows instead of per row, which measured as the
// largest cost of bulk ingest after the B-tree work itself (bench/macro/ingest_bench.sh).
constexpr int kRowsPerInsert = 32;
constexpr int kIndicatorColumns = 13;

std::string IndicatorInsertSql(int rows) {
  std::string sql =
      "INSERT INTO indicator (id, incident, seq, value_id, type, raw, derivation, to_ids, "
      "category, comment, location, snippet, error) VALUES ";
  for (int r = 0; r < rows; ++r) {
    absl::StrAppend(&sql, r == 0 ? "" : ",", "(?,?,?,?,?,?,?,?,?,?,?,?,?)");
  }
  return sql;
}

class IndicatorWriter {
 public:
  static absl::StatusOr<IndicatorWriter> Make(store::Db& db) {
    IndicatorWriter w;
    w.db_ = &db;
    KINSHIP_ASSIGN_OR_RETURN(w.by_count_[kRowsPerInsert],
                             db.Prepare(IndicatorInsertSql(kRowsPerInsert)));
    return w;
  }

  // `ind` is bound without a copy: it must stay unchanged until Flush().
  absl::Status Add(int64_t id, int64_t incident, int64_t seq, std::optional<int64_t> value_id,
                   const Indicator& ind) {
    pending_.push_back(Row{id, incident, seq, value_id, &ind});
    if (pending_.size() == kRowsPerInsert) return Flush();
    return absl::OkStatus();
  }

  // Writes the pending rows in one INSERT (a statement per row count, prepared when first needed:
  // a stream flushes at the end of every batch).
  absl::Status Flush() {
    if (pending_.empty()) return absl::OkStatus();
    const size_t n = pending_.size();
    std::optional<Statement>& s = by_count_[n];
    if (!s) {
      KINSHIP_ASSIGN_OR_RETURN(s, db_->Prepare(IndicatorInsertSql(static_cast<int>(n))));
    }
    for (size_t r = 0; r < n; ++r)
      BindRow(*s, static_cast<int>(r) * kIndicatorColumns, pending_[r]);
    KINSHIP_RETURN_IF_ERROR(s->Run());
    pending_.clear();
    return absl::OkStatus();
  }

 private:
  struct Row {
    int64_t id;
    int64_t incident;
    int64_t seq;
    std::optional<int64_t> value_id;
    const Indicator* ind;
  };

  static void BindRow(Statement& s, int base, const Row& row) {
    const Indicator& ind = *row.ind;
    s.Bind(base + 1, row.id);
    s.Bind(base + 2, row.incident);
    s.Bind(base + 3, row.seq);
    if (row.value_id) {
      s.Bind(base + 4, *row.value_id);
    } else {
      s.BindNull(base + 4);
    }
    s.Bind(base + 5, static_cast<int64_t>(ind.type));
    // The raw form is stored only where it differs from the canonical value.
    s.BindStatic(base + 6, row.value_id && ind.raw == ind.value ? std::string_view("")
                                                                : std::string_view(ind.raw));
    s.Bind(base + 7, static_cast<int64_t>(ind.derivation));
    s.Bind(base + 8, ind.to_ids ? 1 : 0);
    s.BindStatic(base + 9, ind.category);
    s.BindStatic(base + 10, ind.comment);
    s.BindStatic(base + 11, ind.location);
    s.BindStatic(base + 12, ind.snippet);
    s.BindStatic(base + 13, ind.error);
  }

  store::Db* db_ = nullptr;
  std::array<std::optional<Statement>, kRowsPerInsert + 1> by_count_;
  std::vector<Row> pending_;
};

// Foreign-key enforcement off for the length of one bulk write, on again afterwards whatever
// happens. Ingest writes child rows only under the incident it has just inserted and value ids
// it has just looked up or inserted, and deletes a replaced incident's children itself, so the
// per-row FK look-ups (two B-tree descents per indicator) buy nothing there. The pragma is a
// no-op inside a transaction, so this wraps the transaction.
class ForeignKeysOff {
 public:
  static absl::StatusOr<ForeignKeysOff> Make(store::Db& db) {
    KINSHIP_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=OFF"));
    return ForeignKeysOff(db);
  }
  ForeignKeysOff(ForeignKeysOff&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  ForeignKeysOff& operator=(ForeignKeysOff&&) = delete;
  ~ForeignKeysOff() {
    if (db_ != nullptr) (void)db_->Exec("PRAGMA foreign_keys=ON");
  }

 private:
  explicit ForeignKeysOff(store::Db& db) : db_(&db) {}
  store::Db* db_;
};

// The first load into a store this Store object created is written with a rollback journal
// instead of the WAL, and the store switched back to WAL afterwards, whatever happens. In WAL mode
// every page of a bulk load is written twice, to the WAL and again by the checkpoint when the
// connection closes; a rollback journal journals only pages that existed before the transaction,
// so a first load writes its pages once (1 M indicators: 166 MB). Atomicity is the journal's as it
// is the WAL's, but the two switches rewrite the file header's change counters, so a store opened
// (not created) keeps the WAL: a failed ingest then leaves it byte for byte as it was. The switch
// also needs this to be the only connection; when it is not, the load runs in WAL mode.
class FirstLoadJournal {
 public:
  static absl::StatusOr<FirstLoadJournal> Make(store::Db& db) {
    if (!db.fresh()) return FirstLoadJournal(nullptr);
    KINSHIP_ASSIGN_OR_RETURN(int64_t stored, db.QueryInt("SELECT 1 FROM incident LIMIT 1"));
    if (stored != 0) return FirstLoadJournal(nullptr);
    KINSHIP_ASSIGN_OR_RETURN(Statement mode, db.Prepare("PRAGMA journal_mode=DELETE"));
    KINSHIP_ASSIGN_OR_RETURN(bool row, mode.Step());
    const bool switched = row && mode.ColumnText(0) == "delete";
    return FirstLoadJournal(switched ? &db : nullptr);
  }
  FirstLoadJournal(FirstLoadJournal&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  FirstLoadJournal& operator=(FirstLoadJournal&&) = delete;
  ~FirstLoadJournal() {
    if (db_ != nullptr) (void)db_->Exec("PRAGMA journal_mode=WAL");
  }

 private:
  explicit FirstLoadJournal(store::Db* db) : db_(db) {}
  store::Db* db_;
};

// Takes a stored incident out: its value_incidents entries, its indicator rows (the id range
// [indicator_first, + indicator_count) of its incident row), its techniques, software,
// attributions, actor mentions, prose and lists, then the incident row. Children are deleted
// explicitly, as ingest runs with foreign keys off and nothing cascades. Used by ingest to replace
// an incident and by Store::Remove.
class IncidentDeleter {
 public:
  static absl::StatusOr<IncidentDeleter> Make(store::Db& db) {
    KINSHIP_ASSIGN_OR_RETURN(store::ValueIncidentsRemover unlink,
                             store::ValueIncidentsRemover::Make(db));
    KINSHIP_ASSIGN_OR_RETURN(Statement indicators,
                             db.Prepare("DELETE FROM indicator WHERE id >= ?1 AND id < ?1 + ?2"));
    KINSHIP_ASSIGN_OR_RETURN(
        Statement find,
        db.Prepare("SELECT rowid, indicator_first, indicator_count, prov_sha256, prov_format, "
                   "prov_incidents, first_stored, source_modified FROM incident WHERE id = ?"));
    IncidentDeleter d(std::move(unlink), std::move(indicators), std::move(find));
    for (std::string_view table :
         {"technique", "software", "attribution", "actor_mention", "prose", "lists"}) {
      KINSHIP_ASSIGN_OR_RETURN(
          Statement s, db.Prepare(absl::StrCat("DELETE FROM ", AV(table), " WHERE incident = ?")));
      d.rows_.push_back(std::move(s));
    }
    KINSHIP_ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM incident WHERE rowid = ?"));
    d.rows_.push_back(std::move(s));
    return d;
  }
  // A stored incident: its rowid, its indicator rows, ids [first, first + count), and the
  // SHA-256, format and incident count of the file it was read from.
  struct Stored {
    int64_t rowid = 0, first = 0, count = 0;
    std::string sha256, format;
    int64_t file_incidents = 0;
    std::string first_stored, source_modified;
  };
  // The stored incident with this id, if any.
  absl::StatusOr<std::optional<Stored>> Find(std::string_view id) {
    find_.Bind(1, id);
    KINSHIP_ASSIGN_OR_RETURN(bool exists, find_.Step());
    std::optional<Stored> out;
    if (exists) {
      out = Stored{find_.ColumnInt(0),    find_.ColumnInt(1),    find_.ColumnInt(2),
                   find_.ColumnString(3), find_.ColumnString(4), find_.ColumnInt(5),
                   find_.ColumnString(6), find_.ColumnString(7)};
    }
    find_.Reset();
    return out;
  }
  // The incident at `rowid` whose indicator rows are ids [first, first + count).
  // `in_segments`: false for an incident written earlier in the same ingest, whose
  // value_incidents entries are still pending in its writer (ValueIncidentsWriter::Forget).
  // Its value_incidents entries are taken out in batches, the last by FlushSegments, which must
  // run before this call's own segments are written.
  absl::Status Delete(int64_t rowid, int64_t first, int64_t count, bool in_segments) {
    if (in_segments) {
      KINSHIP_RETURN_IF_ERROR(unlink_.Add(rowid, first, count));
      // 16 M (value, incident) pairs, 256 MB.
      constexpr size_t kMaxPendingUnlinks = size_t{1} << 24;
      if (unlink_.pending() >= kMaxPendingUnlinks) {
        KINSHIP_RETURN_IF_ERROR(unlink_.Flush(orphaned_));
      }
    }
    KINSHIP_RETURN_IF_ERROR(indicators_.RunWith(first, count));
    for (Statement& del : rows_) {
      del.Bind(1, rowid);
      KINSHIP_RETURN_IF_ERROR(del.Run());
    }
    return absl::OkStatus();
  }
  // From now on, appends to `out` the values no stored incident holds any more once the deleted
  // incidents are out of the segments (as ValueIncidentsRemover::Flush's `orphaned`).
  void CollectOrphans(std::vector<int64_t>* out) { orphaned_ = out; }
  // Takes the deleted incidents not yet taken out of their values' segments out.
  absl::Status FlushSegments() { return unlink_.Flush(orphaned_); }

 private:
  IncidentDeleter(store::ValueIncidentsRemover unlink, Statement indicators, Statement find)
      : unlink_(std::move(unlink)), indicators_(std::move(indicators)), find_(std::move(find)) {}
  store::ValueIncidentsRemover unlink_;
  std::vector<int64_t>* orphaned_ = nullptr;
  Statement indicators_, find_;
  std::vector<Statement> rows_;  // children first, the incident row last
};

// What Store::SnapshotKey is made of.
struct SnapshotKeyParts {
  int64_t id = 0, schema = 0, generation = 0;
  std::string Text() const {
    return absl::StrCat("store ", absl::Hex(static_cast<uint64_t>(id)), " schema ", schema,
                        " generation ", absl::Hex(static_cast<uint64_t>(generation)));
  }
};

absl::StatusOr<SnapshotKeyParts> ReadSnapshotKeyParts(store::Db& db) {
  SnapshotKeyParts k;
  KINSHIP_ASSIGN_OR_RETURN(k.id,
                           db.QueryInt("SELECT value FROM store_meta WHERE name = 'store_id'"));
  KINSHIP_ASSIGN_OR_RETURN(k.generation,
                           db.QueryInt("SELECT value FROM store_meta WHERE name = 'generation'"));
  KINSHIP_ASSIGN_OR_RETURN(k.schema, db.QueryInt("PRAGMA user_version"));
  return k;
}

// The start of a write, inside its transaction (nothing else writes until it commits, and the
// commit gives the store a new generation, store::Transaction::Commit): the key before it and the
// incident count, into `write`. Returns the key's parts, for FinishWrite.
absl::StatusOr<SnapshotKeyParts> StartWrite(store::Db& db, StoreWrite& write) {
  KINSHIP_ASSIGN_OR_RETURN(SnapshotKeyParts parts, ReadSnapshotKeyParts(db));
  write.key_before = parts.Text();
  KINSHIP_ASSIGN_OR_RETURN(const int64_t n, db.QueryInt("SELECT count(*) FROM incident"));
  write.incidents_before = static_cast<size_t>(n);
  return parts;
}

// Commits the write's transaction and states the key its commit made; journaled as a write of
// incidents alone unless it wrote more (IngestOptions::first).
absl::Status FinishWrite(store::Db& db, store::Transaction& txn, SnapshotKeyParts parts,
                         StoreWrite& write, bool incidents_alone = true) {
  if (incidents_alone) txn.MarkIncidentWrite(write.incidents_before, &write.leaving);
  KINSHIP_RETURN_IF_ERROR(txn.Commit());
  if (db.count_generations()) parts.generation = txn.committed_generation();
  write.key_after = parts.Text();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<IngestSummary> Store::Ingest(std::vector<Incident>& incidents) {
  bool given = false;
  return IngestBatches([&]() -> absl::StatusOr<std::span<Incident>> {
    if (given) return std::span<Incident>();
    given = true;
    return std::span<Incident>(incidents);
  });
}

absl::StatusOr<IngestSummary> Store::IngestBatches(const BatchSource& next, IngestOptions options) {
  store::Db& db = impl_->db();
  if (!impl_->matcher) {
    KINSHIP_ASSIGN_OR_RETURN(std::vector<Warninglist> lists, Warninglists());
    impl_->matcher.emplace();
    if (!lists.empty()) impl_->matcher->emplace(std::move(lists));
  }
  const std::optional<WarninglistMatcher>& matcher = *impl_->matcher;

  KINSHIP_ASSIGN_OR_RETURN(ForeignKeysOff fk_off, ForeignKeysOff::Make(db));
  KINSHIP_ASSIGN_OR_RETURN(FirstLoadJournal journal, FirstLoadJournal::Make(db));
  KINSHIP_ASSIGN_OR_RETURN(auto txn, store::Transaction::Begin(db));
  IngestSummary summary;
  KINSHIP_ASSIGN_OR_RETURN(SnapshotKeyParts key_parts, StartWrite(db, summary.write));
  if (options.first) KINSHIP_RETURN_IF_ERROR(options.first());

  // Incidents of this call get rowids above every stored one, given here rather than by SQLite,
  // which would give a replacement of the last stored incident that one's rowid again: a replaced
  // incident at or below `last_stored_incident` is taken out of the stored value_incidents
  // segments, one of this call is forgotten by `occurs`.
  KINSHIP_ASSIGN_OR_RETURN(const int64_t last_stored_incident,
                           db.QueryInt("SELECT ifnull(max(rowid), 0) FROM incident"));
  int64_t next_rowid = last_stored_incident + 1;
  store::ValueIncidentsWriter occurs;
  KINSHIP_ASSIGN_OR_RETURN(IncidentDeleter replace, IncidentDeleter::Make(db));
  // Indicator ids are given explicitly, each incident's as one range (see IncidentDeleter).
  KINSHIP_ASSIGN_OR_RETURN(int64_t next_indicator_id,
                           db.QueryInt("SELECT ifnull(max(id), 0) + 1 FROM indicator"));
  KINSHIP_ASSIGN_OR_RETURN(
      Statement insert_incident,
      db.Prepare("INSERT INTO incident (id, title, description, source, first_seen, last_seen, "
                 "victim_org, victim_sector, victim_country, tlp, tags, prov_file, prov_format, "
                 "prov_sha256, indicator_first, indicator_count, prov_incidents, rowid, "
                 "title_location, first_stored, source_modified) VALUES "
                 "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  // Provenance::first_stored of an incident this call stores for the first time.
  const std::string now =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  KINSHIP_ASSIGN_OR_RETURN(Statement find_value,
                           db.Prepare("SELECT id, benign FROM value WHERE type = ? AND value = ?"));
  KINSHIP_ASSIGN_OR_RETURN(Statement set_file_incidents,
                           db.Prepare("UPDATE incident SET prov_incidents = ? WHERE rowid = ?"));
  size_t counts_set = 0;  // unchanged incidents given their file's incident count
  // A new value is inserted straight away (one B-tree descent); only when it already exists
  // (no row changed) is it looked up.
  KINSHIP_ASSIGN_OR_RETURN(
      Statement insert_value,
      db.Prepare("INSERT OR IGNORE INTO value (type, value, benign) VALUES (?,?,?)"));
  KINSHIP_ASSIGN_OR_RETURN(IndicatorWriter insert_indicators, IndicatorWriter::Make(db));
  KINSHIP_ASSIGN_OR_RETURN(
      Statement insert_technique,
      db.Prepare("INSERT INTO technique (incident, seq, id, name, location, snippet) VALUES "
                 "(?,?,?,?,?,?)"));
  KINSHIP_ASSIGN_OR_RETURN(Statement insert_software,
                           db.Prepare("INSERT INTO software (incident, seq, name, id, kind, "
                                      "location, snippet) VALUES (?,?,?,?,?,?,?)"));
  KINSHIP_ASSIGN_OR_RETURN(
      Statement insert_attribution,
      db.Prepare("INSERT INTO attribution (incident, seq, actor_name, actor_id, confidence, "
                 "source, location, snippet) VALUES (?,?,?,?,?,?,?,?)"));
  KINSHIP_ASSIGN_OR_RETURN(
      Statement insert_mention,
      db.Prepare("INSERT INTO actor_mention (incident, seq, name, id, location, snippet, "
                 "occurrences) VALUES (?,?,?,?,?,?,?)"));
  KINSHIP_ASSIGN_OR_RETURN(
      Statement insert_prose,
      db.Prepare("INSERT INTO prose (incident, seq, location, source, kind, text, title, "
                 "self_host, anchors) VALUES (?,?,?,?,?,?,?,?,?)"));
  KINSHIP_ASSIGN_OR_RETURN(Statement insert_listed,
                           db.Prepare("INSERT INTO lists (incident, seq, id) VALUES (?,?,?)"));

  // (type, value) -> value id: avoids a statement per repeated value. Slots are kept small (24
  // bytes) because at 10 M indicators probing this map is the writer's largest cost after SQLite
  // (cache misses); the warninglists a value matched sit apart, in `benign_of`. Keys live in
  // `key_arena` (1 MiB blocks): one allocation per block, not per distinct value.
  absl::flat_hash_map<absl::string_view, int64_t> cache;
  absl::flat_hash_map<int64_t, std::vector<std::string>> benign_of;
  std::vector<std::unique_ptr<char[]>> key_arena;
  size_t arena_left = 0;
  char* arena_next = nullptr;
  auto keep_key = [&](const std::string& k) {
    if (k.size() > arena_left) {
      const size_t block = std::max<size_t>(k.size(), 1 << 20);
      key_arena.push_back(std::make_unique<char[]>(block));
      arena_next = key_arena.back().get();
      arena_left = block;
    }
    std::memcpy(arena_next, k.data(), k.size());
    absl::string_view kept(arena_next, k.size());
    arena_next += k.size();
    arena_left -= k.size();
    return kept;
  };
  std::string key;

  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(std::span<Incident> batch, next());
    if (batch.empty()) break;
    for (Incident& inc : batch) {
      if (inc.id.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(inc.provenance.file, ": incident without an id"));
      }
      KINSHIP_ASSIGN_OR_RETURN(std::optional<IncidentDeleter::Stored> stored, replace.Find(inc.id));
      if (stored && TimestampBefore(inc.provenance.source_modified, stored->source_modified)) {
        // An older version of what is stored (or of what this call wrote): left out.
        summary.older.push_back(inc.id);
        continue;
      }
      inc.provenance.first_stored =
          stored && !stored->first_stored.empty() ? stored->first_stored : now;
      if (stored) {
        const int64_t old = stored->rowid;
        const bool stored_before = old <= last_stored_incident;
        if (options.keep_unchanged && stored_before && !inc.provenance.sha256.empty() &&
            stored->sha256 == inc.provenance.sha256 && stored->format == inc.provenance.format) {
          ++summary.incidents_unchanged;
          const auto held = static_cast<int64_t>(inc.provenance.file_incidents);
          if (held > 0 && stored->file_incidents != held) {
            // Stored before the count was kept (schema v7): kept now, so that the next pull of
            // the same file need not parse it (Store::WholeFiles).
            KINSHIP_RETURN_IF_ERROR(set_file_incidents.RunWith(held, old));
            ++counts_set;
          }
          continue;
        }
        // The incident may have been written earlier in this same call: its last rows must be in
        // the table before they are deleted.
        KINSHIP_RETURN_IF_ERROR(insert_indicators.Flush());
        if (stored_before) {
          summary.write.leaving.push_back(inc.id);
        } else {
          occurs.Forget(old);
        }
        KINSHIP_RETURN_IF_ERROR(replace.Delete(old, stored->first, stored->count, stored_before));
        ++summary.incidents_updated;
      } else {
        ++summary.incidents_added;
      }
      Statement& s = insert_incident;
      s.Bind(1, inc.id);
      s.Bind(2, inc.title);
      s.Bind(3, inc.description);
      s.Bind(4, inc.source);
      s.Bind(5, inc.first_seen);
      s.Bind(6, inc.last_seen);
      s.Bind(7, inc.victim.organisation);
      s.Bind(8, inc.victim.sector);
      s.Bind(9, inc.victim.country);
      s.Bind(10, TlpName(inc.tlp));
      s.Bind(11, Join(inc.tags));
      s.Bind(12, inc.provenance.file);
      s.Bind(13, inc.provenance.format);
      s.Bind(14, inc.provenance.sha256);
      s.Bind(17, static_cast<int64_t>(inc.provenance.file_incidents));
      s.Bind(15, next_indicator_id);
      s.Bind(16, static_cast<int64_t>(inc.indicators.size()));
      const int64_t rowid = next_rowid++;
      s.Bind(18, rowid);
      s.Bind(19, inc.title_location);
      s.Bind(20, inc.provenance.first_stored);
      s.Bind(21, inc.provenance.source_modified);
      KINSHIP_RETURN_IF_ERROR(s.Run());

      int64_t seq = 0;
      for (Indicator& ind : inc.indicators) {
        std::optional<int64_t> value_id;
        if (ind.valid()) {
          key.assign(1, static_cast<char>(ind.type));
          key.append(ind.value);
          auto it = cache.find(AV(key));
          if (it == cache.end()) {
            int64_t id = 0;
            std::vector<std::string> lists;
            if (matcher) lists = matcher->Match(ind);
            insert_value.Bind(1, static_cast<int64_t>(ind.type));
            insert_value.BindStatic(2, ind.value);
            const std::string benign = Join(lists);
            insert_value.BindStatic(3, benign);
            KINSHIP_RETURN_IF_ERROR(insert_value.Run());
            if (db.Changes() == 1) {
              id = db.LastInsertRowId();
            } else {
              // Stored by an earlier ingest: its id, and the lists it matched then.
              find_value.Bind(1, static_cast<int64_t>(ind.type));
              find_value.BindStatic(2, ind.value);
              KINSHIP_ASSIGN_OR_RETURN(bool found, find_value.Step());
              if (!found) {
                find_value.Reset();
                return absl::InternalError(absl::StrCat("value '", ind.value, "' vanished"));
              }
              id = find_value.ColumnInt(0);
              lists = Split(find_value.ColumnText(1));
              find_value.Reset();
            }
            if (!lists.empty()) benign_of.emplace(id, std::move(lists));
            it = cache.emplace(keep_key(key), id).first;
          }
          value_id = it->second;
          occurs.Add(it->second, rowid);
          ind.warninglists.clear();
          if (!benign_of.empty()) {
            if (auto b = benign_of.find(it->second); b != benign_of.end()) {
              ind.warninglists = b->second;
            }
          }
          if (ind.benign()) ++summary.benign_indicators;
        } else {
          ++summary.invalid_indicators;
        }
        KINSHIP_RETURN_IF_ERROR(
            insert_indicators.Add(next_indicator_id++, rowid, seq++, value_id, ind));
        ++summary.indicators;
      }
      seq = 0;
      for (const Technique& tq : inc.techniques) {
        KINSHIP_RETURN_IF_ERROR(
            insert_technique.RunWith(rowid, seq++, tq.id, tq.name, tq.location, tq.snippet));
      }
      seq = 0;
      for (const Software& sw : inc.software) {
        KINSHIP_RETURN_IF_ERROR(insert_software.RunWith(rowid, seq++, sw.name, sw.id, sw.kind,
                                                        sw.location, sw.snippet));
      }
      seq = 0;
      for (const Attribution& a : inc.attributions) {
        KINSHIP_RETURN_IF_ERROR(insert_attribution.RunWith(rowid, seq++, a.actor_name, a.actor_id,
                                                           static_cast<int64_t>(a.confidence),
                                                           a.source, a.location, a.snippet));
      }
      seq = 0;
      for (const ActorMention& m : inc.actor_mentions) {
        KINSHIP_RETURN_IF_ERROR(insert_mention.RunWith(rowid, seq++, m.name, m.id, m.location,
                                                       m.snippet,
                                                       static_cast<int64_t>(m.occurrences)));
      }
      seq = 0;
      for (const ProseText& p : inc.prose) {
        KINSHIP_RETURN_IF_ERROR(insert_prose.RunWith(rowid, seq++, p.where, p.source, p.kind,
                                                     p.text, p.title, p.self_host,
                                                     AnchorsText(p.anchors)));
      }
      seq = 0;
      for (const std::string& listed : inc.lists) {
        KINSHIP_RETURN_IF_ERROR(insert_listed.RunWith(rowid, seq++, listed));
      }
    }
    // Pending rows point into this batch, which the caller may free once `next()` is called.
    KINSHIP_RETURN_IF_ERROR(insert_indicators.Flush());
  }
  if (summary.incidents_added + summary.incidents_updated + counts_set == 0 && !options.first) {
    // Nothing written (every incident unchanged, or none given): the transaction rolls back, so
    // the store's key, and every index snapshot current for it, stay as they were.
    summary.write.key_after = summary.write.key_before;
    return summary;
  }
  KINSHIP_RETURN_IF_ERROR(replace.FlushSegments());
  KINSHIP_RETURN_IF_ERROR(occurs.Write(db));
  KINSHIP_RETURN_IF_ERROR(
      FinishWrite(db, *txn, key_parts, summary.write, /*incidents_alone=*/!options.first));
  return summary;
}

absl::StatusOr<std::unordered_map<std::string, size_t>> Store::WholeFiles() {
  KINSHIP_ASSIGN_OR_RETURN(
      Statement s,
      impl_->db().Prepare(
          "SELECT prov_sha256, prov_format, max(prov_incidents) FROM incident WHERE prov_sha256 "
          "!= '' AND prov_incidents > 0 GROUP BY prov_sha256, prov_format HAVING count(*) = "
          "max(prov_incidents) AND min(prov_incidents) = max(prov_incidents)"));
  std::unordered_map<std::string, size_t> out;
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(const bool row, s.Step());
    if (!row) break;
    out.emplace(WholeFileKey(s.ColumnText(0), s.ColumnText(1)),
                static_cast<size_t>(s.ColumnInt(2)));
  }
  return out;
}

absl::StatusOr<RemoveSummary> Store::Remove(const std::vector<std::string>& ids) {
  store::Db& db = impl_->db();
  // Foreign keys off, as for ingest: the children are deleted explicitly, and a value is deleted
  // only when no segment holds it, so no indicator row references it. With them on, SQLite looks
  // for each deleted incident's and value's referencing indicator rows, and indicator has no
  // index on either column (the segments replaced them): a scan of every indicator row each, 9 s
  // an incident on the 10,000-event feed.
  KINSHIP_ASSIGN_OR_RETURN(ForeignKeysOff fk_off, ForeignKeysOff::Make(db));
  KINSHIP_ASSIGN_OR_RETURN(auto txn, store::Transaction::Begin(db));
  RemoveSummary summary;
  KINSHIP_ASSIGN_OR_RETURN(SnapshotKeyParts key_parts, StartWrite(db, summary.write));
  std::vector<int64_t> orphaned;
  KINSHIP_ASSIGN_OR_RETURN(IncidentDeleter deleter, IncidentDeleter::Make(db));
  deleter.CollectOrphans(&orphaned);
  // A value no stored incident holds any more is deleted too, so that what was removed is gone
  // from the store (a report that may not be kept), not only unlinked. Replacing an incident by
  // ingest leaves such values: the new version usually holds them again.
  KINSHIP_ASSIGN_OR_RETURN(Statement delete_value, db.Prepare("DELETE FROM value WHERE id = ?"));
  // Deleted content is overwritten with zeros, not left in free pages. Debian's SQLite is built
  // with this on (SQLITE_SECURE_DELETE); said here for a build that is not.
  KINSHIP_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete=ON"));
  absl::flat_hash_set<std::string_view> seen;
  for (const std::string& id : ids) {
    if (!seen.insert(id).second) continue;
    KINSHIP_ASSIGN_OR_RETURN(std::optional<IncidentDeleter::Stored> stored, deleter.Find(id));
    if (!stored) {
      // The transaction rolls back: nothing is removed.
      return absl::NotFoundError(
          absl::StrCat("no incident '", id, "' in the store; nothing was removed"));
    }
    const int64_t count = stored->count;
    KINSHIP_RETURN_IF_ERROR(
        deleter.Delete(stored->rowid, stored->first, count, /*in_segments=*/true));
    summary.indicators += static_cast<size_t>(count);
    ++summary.removed;
    summary.write.leaving.push_back(id);
  }
  KINSHIP_RETURN_IF_ERROR(deleter.FlushSegments());
  for (int64_t v : orphaned) KINSHIP_RETURN_IF_ERROR(delete_value.RunWith(v));
  summary.values_deleted = orphaned.size();
  KINSHIP_RETURN_IF_ERROR(FinishWrite(db, *txn, key_parts, summary.write));
  return summary;
}

absl::StatusOr<std::vector<IncidentSummary>> Store::ListIncidents() {
  store::Db& db = impl_->db();
  KINSHIP_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("SELECT i.id, i.title, i.source, i.first_seen, i.prov_format, i.prov_file, "
                 "(SELECT count(*) FROM indicator n WHERE n.id >= i.indicator_first AND "
                 "n.id < i.indicator_first + i.indicator_count AND "
                 "n.derivation = 0), "
                 "(SELECT count(*) FROM technique t WHERE t.incident = i.rowid), "
                 "(SELECT group_concat(CASE WHEN a.actor_id != '' THEN a.actor_id ELSE "
                 "a.actor_name END, char(31)) FROM attribution a WHERE a.incident = i.rowid), "
                 "i.first_stored FROM incident i ORDER BY i.rowid"));
  std::vector<IncidentSummary> out;
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    IncidentSummary sum;
    sum.id = s.ColumnString(0);
    sum.title = s.ColumnString(1);
    sum.source = s.ColumnString(2);
    sum.first_seen = s.ColumnString(3);
    sum.format = s.ColumnString(4);
    sum.file = s.ColumnString(5);
    sum.first_stored = s.ColumnString(9);
    sum.indicators = static_cast<size_t>(s.ColumnInt(6));
    sum.techniques = static_cast<size_t>(s.ColumnInt(7));
    sum.attributed_to = Split(s.ColumnText(8));
    out.push_back(std::move(sum));
  }
  return out;
}

namespace {

// Reads incidents (and their children) in rowid order; `where` filters the incident table.
class IncidentReader {
 public:
  // `detail` kAnalysis selects NULL (read as "") for what only a person reads, at the same
  // column positions, so that Read is the same for both.
  static absl::StatusOr<IncidentReader> Make(store::Db& db,
                                             Store::Detail detail = Store::Detail::kFull) {
    IncidentReader r;
    const bool full = detail == Store::Detail::kFull || detail == Store::Detail::kLinks;
    // A column, or NULL in its place when only analysis reads the incident.
    auto col = [full](std::string_view c) { return full ? std::string(c) : std::string("NULL"); };
    KINSHIP_ASSIGN_OR_RETURN(
        r.indicators_,
        db.Prepare(absl::StrCat(
            "SELECT n.type, v.value, ", col("n.raw"), ", n.derivation, n.to_ids, ",
            col("n.category"), ", ", col("n.comment"), ", ", col("n.location"), ", n.error, ",
            "v.benign, ", col("n.snippet"),
            " FROM indicator n LEFT JOIN value v ON v.id = n.value_id WHERE n.id >= ?1 AND n.id "
            "< ?1 + ?2",
            NamingFilter(detail), " ORDER BY n.id")));
    r.full_ = full;
    r.indicators_read_ = detail != Store::Detail::kLinks;
    r.children_ = detail != Store::Detail::kNaming && detail != Store::Detail::kStyle;
    r.attributions_only_ = detail == Store::Detail::kStyle;
    const std::string where = col("location") + ", " + col("snippet");
    KINSHIP_ASSIGN_OR_RETURN(r.techniques_,
                             db.Prepare(absl::StrCat("SELECT id, name, ", where,
                                                     " FROM technique WHERE incident = ? ORDER "
                                                     "BY seq")));
    KINSHIP_ASSIGN_OR_RETURN(r.software_,
                             db.Prepare(absl::StrCat("SELECT name, id, kind, ", where,
                                                     " FROM software WHERE incident = ? ORDER "
                                                     "BY seq")));
    KINSHIP_ASSIGN_OR_RETURN(
        r.attributions_,
        db.Prepare(absl::StrCat("SELECT actor_name, actor_id, confidence, source, ", where,
                                " FROM attribution WHERE incident = ? ORDER BY seq")));
    KINSHIP_ASSIGN_OR_RETURN(
        r.mentions_, db.Prepare(absl::StrCat("SELECT name, id, ", where,
                                             ", occurrences FROM actor_mention WHERE incident = "
                                             "? ORDER BY seq")));
    return r;
  }

  // The indicator rows kNaming and kStyle read (see Store::Detail); none left out otherwise.
  static std::string NamingFilter(Store::Detail detail) {
    if (detail != Store::Detail::kNaming && detail != Store::Detail::kStyle) return "";
    std::string stated =
        absl::StrCat("n.derivation = 0 AND n.type IN (", static_cast<int>(IndicatorType::kDomain),
                     ", ", static_cast<int>(IndicatorType::kUrl), ", ",
                     static_cast<int>(IndicatorType::kFilename), ")");
    if (detail == Store::Detail::kNaming) return absl::StrCat(" AND ", stated);
    return absl::StrCat(" AND ((", stated,
                        ") OR (n.derivation = ", static_cast<int>(Derivation::kUrlHost),
                        " AND n.type = ", static_cast<int>(IndicatorType::kDomain), "))");
  }

  static constexpr std::string_view kColumns =
      "rowid, id, title, description, source, first_seen, last_seen, victim_org, victim_sector, "
      "victim_country, tlp, tags, prov_file, prov_format, prov_sha256, indicator_first, "
      "indicator_count, prov_incidents, title_location, first_stored, source_modified";
  // kColumns without the description, the title's location and the source's version (NULL in
  // their place): what every incident's read for an index leaves out. first_stored stays, as
  // the STIX export keys stored incidents by it.
  static constexpr std::string_view kAnalysisColumns =
      "rowid, id, title, NULL, source, first_seen, last_seen, victim_org, victim_sector, "
      "victim_country, tlp, tags, prov_file, prov_format, prov_sha256, indicator_first, "
      "indicator_count, prov_incidents, NULL, first_stored, NULL";
  static std::string_view Columns(Store::Detail detail) {
    return detail == Store::Detail::kFull || detail == Store::Detail::kLinks ? kColumns
                                                                             : kAnalysisColumns;
  }

  // Fills `inc` from the current row of `s` (selected with kColumns) and the child tables.
  absl::Status Read(const Statement& s, Incident& inc) {
    const int64_t rowid = s.ColumnInt(0);
    inc.id = s.ColumnString(1);
    inc.title = s.ColumnString(2);
    inc.description = s.ColumnString(3);
    inc.source = s.ColumnString(4);
    inc.first_seen = s.ColumnString(5);
    inc.last_seen = s.ColumnString(6);
    inc.victim.organisation = s.ColumnString(7);
    inc.victim.sector = s.ColumnString(8);
    inc.victim.country = s.ColumnString(9);
    inc.tlp = TlpFromName(s.ColumnText(10)).value_or(Tlp::kUnset);
    inc.tags = Split(s.ColumnText(11));
    inc.provenance.file = s.ColumnString(12);
    inc.provenance.format = s.ColumnString(13);
    inc.provenance.sha256 = s.ColumnString(14);
    inc.provenance.file_incidents = static_cast<size_t>(s.ColumnInt(17));
    inc.title_location = s.ColumnString(18);
    inc.provenance.first_stored = s.ColumnString(19);
    inc.provenance.source_modified = s.ColumnString(20);

    indicators_.Bind(1, s.ColumnInt(15));
    indicators_.Bind(2, s.ColumnInt(16));
    while (indicators_read_) {
      KINSHIP_ASSIGN_OR_RETURN(bool row, indicators_.Step());
      if (!row) break;
      Indicator ind;
      int64_t type = indicators_.ColumnInt(0);
      if (type < 0 || type >= kIndicatorTypeCount) {
        indicators_.Reset();
        return absl::DataLossError(
            absl::StrCat("incident ", inc.id, ": unknown indicator type ", type));
      }
      ind.type = static_cast<IndicatorType>(type);
      ind.value = indicators_.ColumnString(1);
      ind.raw = indicators_.ColumnString(2);
      if (ind.raw.empty() && full_) ind.raw = ind.value;
      ind.derivation = static_cast<Derivation>(indicators_.ColumnInt(3));
      ind.to_ids = indicators_.ColumnInt(4) != 0;
      ind.category = indicators_.ColumnString(5);
      ind.comment = indicators_.ColumnString(6);
      ind.location = indicators_.ColumnString(7);
      ind.error = indicators_.ColumnString(8);
      ind.warninglists = Split(indicators_.ColumnText(9));
      ind.snippet = indicators_.ColumnString(10);
      inc.indicators.push_back(std::move(ind));
    }
    indicators_.Reset();
    if (attributions_only_) return ReadAttributions(rowid, inc);
    if (!children_) return absl::OkStatus();
    techniques_.Bind(1, rowid);
    while (true) {
      KINSHIP_ASSIGN_OR_RETURN(bool row, techniques_.Step());
      if (!row) break;
      Technique t;
      t.id = techniques_.ColumnString(0);
      t.name = techniques_.ColumnString(1);
      t.location = techniques_.ColumnString(2);
      t.snippet = techniques_.ColumnString(3);
      inc.techniques.push_back(std::move(t));
    }
    techniques_.Reset();
    software_.Bind(1, rowid);
    while (true) {
      KINSHIP_ASSIGN_OR_RETURN(bool row, software_.Step());
      if (!row) break;
      Software sw;
      sw.name = software_.ColumnString(0);
      sw.id = software_.ColumnString(1);
      sw.kind = software_.ColumnString(2);
      sw.location = software_.ColumnString(3);
      sw.snippet = software_.ColumnString(4);
      inc.software.push_back(std::move(sw));
    }
    software_.Reset();
    KINSHIP_RETURN_IF_ERROR(ReadAttributions(rowid, inc));
    mentions_.Bind(1, rowid);
    while (true) {
      KINSHIP_ASSIGN_OR_RETURN(bool row, mentions_.Step());
      if (!row) break;
      ActorMention m;
      m.name = mentions_.ColumnString(0);
      m.id = mentions_.ColumnString(1);
      m.location = mentions_.ColumnString(2);
      m.snippet = mentions_.ColumnString(3);
      m.occurrences = static_cast<int>(mentions_.ColumnInt(4));
      inc.actor_mentions.push_back(std::move(m));
    }
    mentions_.Reset();
    return absl::OkStatus();
  }

 private:
  Statement indicators_, techniques_, software_, attributions_, mentions_;
  absl::Status ReadAttributions(int64_t rowid, Incident& inc) {
    attributions_.Bind(1, rowid);
    while (true) {
      KINSHIP_ASSIGN_OR_RETURN(bool row, attributions_.Step());
      if (!row) break;
      Attribution a;
      a.actor_name = attributions_.ColumnString(0);
      a.actor_id = attributions_.ColumnString(1);
      a.confidence = static_cast<int>(attributions_.ColumnInt(2));
      a.source = attributions_.ColumnString(3);
      a.location = attributions_.ColumnString(4);
      a.snippet = attributions_.ColumnString(5);
      inc.attributions.push_back(std::move(a));
    }
    attributions_.Reset();
    return absl::OkStatus();
  }

  bool full_ = true;
  bool indicators_read_ = true;     // all but kLinks
  bool children_ = true;            // techniques, software, attributions, actor mentions
  bool attributions_only_ = false;  // of the children, the attributions (kStyle)

 public:
  // Every statement back to its start (Read resets those it finished; not after an error).
  void Reset() {
    indicators_.Reset();
    techniques_.Reset();
    software_.Reset();
    attributions_.Reset();
    mentions_.Reset();
  }
};

}  // namespace

namespace {

// GetIncident's statements, prepared at its first call (a reader prepares six: a campaign
// listing reads tens of thousands of members one by one).
struct GetStatements {
  IncidentReader reader;
  Statement by_id;
};

}  // namespace

absl::StatusOr<Incident> Store::GetIncident(const std::string& id, Detail detail) {
  store::Db& db = impl_->db();
  static_assert(std::extent_v<decltype(Store::Impl::get_statements)> ==
                static_cast<size_t>(Detail::kLinks) + 1);
  std::shared_ptr<void>& slot = impl_->get_statements[static_cast<size_t>(detail)];
  if (slot == nullptr) {
    KINSHIP_ASSIGN_OR_RETURN(IncidentReader reader, IncidentReader::Make(db, detail));
    KINSHIP_ASSIGN_OR_RETURN(Statement by_id,
                             db.Prepare(absl::StrCat("SELECT ", AV(IncidentReader::Columns(detail)),
                                                     " FROM incident WHERE id = ?")));
    slot = std::make_shared<GetStatements>(GetStatements{std::move(reader), std::move(by_id)});
  }
  GetStatements& g = *static_cast<GetStatements*>(slot.get());
  // Every statement reset on the way out, also after an error: a statement left mid-step would
  // keep a read transaction open on the store.
  struct ResetAll {
    GetStatements& g;
    ~ResetAll() {
      g.by_id.Reset();
      g.reader.Reset();
    }
  } reset{g};
  g.by_id.Bind(1, id);
  KINSHIP_ASSIGN_OR_RETURN(bool row, g.by_id.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no incident with id '", id, "'"));
  Incident inc;
  KINSHIP_RETURN_IF_ERROR(g.reader.Read(g.by_id, inc));
  return inc;
}

absl::StatusOr<std::vector<std::string>> Store::IncidentsWithProse() {
  KINSHIP_ASSIGN_OR_RETURN(
      Statement s,
      impl_->db().Prepare("SELECT id FROM incident WHERE rowid IN (SELECT incident FROM prose) "
                          "ORDER BY rowid"));
  std::vector<std::string> out;
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.ColumnString(0));
  }
  return out;
}

absl::StatusOr<std::vector<ProseText>> Store::Prose(const std::string& id) {
  KINSHIP_ASSIGN_OR_RETURN(
      Statement s, impl_->db().Prepare("SELECT location, source, kind, text, title, self_host, "
                                       "anchors FROM prose WHERE incident = (SELECT rowid FROM "
                                       "incident WHERE id = ?) ORDER BY seq"));
  s.Bind(1, id);
  std::vector<ProseText> out;
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ProseText p;
    p.where = s.ColumnString(0);
    p.source = s.ColumnString(1);
    p.kind = s.ColumnString(2);
    p.text = s.ColumnString(3);
    p.title = s.ColumnString(4);
    p.self_host = s.ColumnString(5);
    KINSHIP_ASSIGN_OR_RETURN(p.anchors, AnchorsOf(s.ColumnText(6)));
    out.push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<std::vector<Store::Listing>> Store::Listings() {
  KINSHIP_ASSIGN_OR_RETURN(
      Statement s, impl_->db().Prepare("SELECT i.id, l.id FROM lists l JOIN incident i ON i.rowid "
                                       "= l.incident ORDER BY l.incident, l.seq"));
  std::vector<Listing> out;
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.ColumnString(0), s.ColumnString(1)});
  }
  return out;
}

namespace {

// The holders of values read by value id, with its statements prepared once: one value for
// IncidentsWithValue, every value inside a network for ValuesInside.
class HoldersReader {
 public:
  // `stated_only`: keep only incidents whose own indicator rows state the value (derivation 0).
  static absl::StatusOr<HoldersReader> Make(store::Db& db, std::string path, bool stated_only) {
    KINSHIP_ASSIGN_OR_RETURN(Statement segments, db.Prepare(store::kSegmentsQuery));
    KINSHIP_ASSIGN_OR_RETURN(
        Statement id_of, db.Prepare("SELECT id, title, first_seen FROM incident WHERE rowid = ?"));
    std::optional<Statement> states;
    if (stated_only) {
      // An incident's indicator rows are the id range [indicator_first, + indicator_count).
      KINSHIP_ASSIGN_OR_RETURN(
          Statement st,
          db.Prepare("SELECT 1 FROM incident i JOIN indicator n ON n.id >= i.indicator_first AND "
                     "n.id < i.indicator_first + i.indicator_count WHERE i.rowid = ? AND "
                     "n.value_id = ? AND n.derivation = 0 LIMIT 1"));
      states.emplace(std::move(st));
    }
    return HoldersReader(std::move(path), std::move(segments), std::move(id_of), std::move(states));
  }

  // `benign`: the value's warninglist names as stored (joined).
  absl::StatusOr<Store::ValueHolders> Read(int64_t value_id, std::string_view benign) {
    Store::ValueHolders out;
    out.warninglists = Split(benign);
    KINSHIP_ASSIGN_OR_RETURN(std::vector<int64_t> rowids,
                             store::IncidentsWithValue(segments_, value_id));
    for (int64_t r : rowids) {
      if (states_) {
        states_->Bind(1, r);
        states_->Bind(2, value_id);
        KINSHIP_ASSIGN_OR_RETURN(bool stated, states_->Step());
        states_->Reset();
        if (!stated) continue;
      }
      id_of_.Bind(1, r);
      KINSHIP_ASSIGN_OR_RETURN(bool found, id_of_.Step());
      if (!found) {
        id_of_.Reset();
        return absl::DataLossError(
            absl::StrCat(path_, ": value_incidents names missing incident rowid ", r));
      }
      out.incident_ids.push_back(id_of_.ColumnString(0));
      out.titles.push_back(id_of_.ColumnString(1));
      out.first_seen.push_back(id_of_.ColumnString(2));
      id_of_.Reset();
    }
    return out;
  }

 private:
  HoldersReader(std::string path, Statement segments, Statement id_of,
                std::optional<Statement> states)
      : path_(std::move(path)),
        segments_(std::move(segments)),
        id_of_(std::move(id_of)),
        states_(std::move(states)) {}

  std::string path_;
  Statement segments_, id_of_;
  std::optional<Statement> states_;
};

}  // namespace

absl::StatusOr<Store::ValueHolders> Store::IncidentsWithValue(IndicatorType type,
                                                              std::string_view value,
                                                              bool stated_only) {
  store::Db& db = impl_->db();
  KINSHIP_ASSIGN_OR_RETURN(Statement find,
                           db.Prepare("SELECT id, benign FROM value WHERE type = ? AND value = ?"));
  find.Bind(1, static_cast<int64_t>(type));
  find.Bind(2, value);
  KINSHIP_ASSIGN_OR_RETURN(bool row, find.Step());
  if (!row) return ValueHolders{};
  KINSHIP_ASSIGN_OR_RETURN(HoldersReader holders,
                           HoldersReader::Make(db, impl_->path, stated_only));
  return holders.Read(find.ColumnInt(0), find.ColumnText(1));
}

namespace {

// The text ranges of the (type, value) index that hold every canonical address (and CIDR) inside
// `net`, as [lo, hi) pairs. IPv4's dotted form keeps whole octets in order: a /20 is the sixteen
// ranges "a.b.c." for its third octets, a /8 the one range "a.". IPv6's compressed form keeps only
// a non-zero first group ("2001:"); any other IPv6 network reads every IPv6 value and filters.
std::vector<std::pair<std::string, std::string>> TextRanges(
    const normalize::internal::Network& net) {
  std::vector<std::string> prefixes;
  if (net.ip.v6) {
    const int group = net.ip.bytes[0] << 8 | net.ip.bytes[1];
    prefixes.push_back(net.len >= 16 && group != 0 ? absl::StrFormat("%x:", group) : "");
  } else {
    const int octets = std::min(3, (net.len + 7) / 8);  // the octets the prefix fixes
    const int count = octets == 0 ? 1 : 1 << std::max(0, 8 * octets - net.len);
    for (int i = 0; i < count && octets > 0; ++i) {
      std::string p;
      for (int o = 0; o < octets; ++o) {
        absl::StrAppend(&p, net.ip.bytes[o] + (o == octets - 1 ? i : 0), ".");
      }
      prefixes.push_back(std::move(p));
    }
    if (octets == 0) prefixes.push_back("");
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string& p : prefixes) {
    std::string hi = p;
    if (hi.empty()) {
      hi = "\xff";  // after every ASCII value
    } else {
      ++hi.back();  // "1.2.3." -> "1.2.3/", "2001:" -> "2001;"
    }
    out.emplace_back(std::move(p), std::move(hi));
  }
  return out;
}

}  // namespace

absl::StatusOr<Store::ValuesInsideNetwork> Store::ValuesInside(std::string_view cidr,
                                                               size_t limit) {
  namespace ni = normalize::internal;
  KINSHIP_ASSIGN_OR_RETURN(ni::Network net, ni::ParseCidr(cidr));
  KINSHIP_ASSIGN_OR_RETURN(
      Statement between,
      impl_->db().Prepare("SELECT id, value, benign FROM value WHERE type = ? AND value >= ? "
                          "AND value < ? ORDER BY value"));
  // Addresses are listed with every holder; a network only with the incidents that state it (one
  // derived from an address inside is no statement).
  KINSHIP_ASSIGN_OR_RETURN(HoldersReader any_holder,
                           HoldersReader::Make(impl_->db(), impl_->path, /*stated_only=*/false));
  KINSHIP_ASSIGN_OR_RETURN(HoldersReader stating,
                           HoldersReader::Make(impl_->db(), impl_->path, /*stated_only=*/true));
  const IndicatorType address = net.ip.v6 ? IndicatorType::kIpv6 : IndicatorType::kIpv4;
  ValuesInsideNetwork out;
  // Each value found, with the network it names (an address is its /32 or /128), for the order.
  std::vector<std::pair<ni::Network, ValueInside>> found;
  // Every value inside costs a lookup of its holders, found or not (a network derived from an
  // address inside is no statement), so `limit` bounds the values looked up.
  size_t budget = limit;
  for (const auto& [lo, hi] : TextRanges(net)) {
    for (IndicatorType type : {address, IndicatorType::kCidr}) {
      between.Bind(1, static_cast<int64_t>(type));
      between.Bind(2, lo);
      between.Bind(3, hi);
      while (!out.truncated) {
        KINSHIP_ASSIGN_OR_RETURN(bool row, between.Step());
        if (!row) break;
        std::string value = between.ColumnString(1);
        absl::StatusOr<ni::Network> inner = ni::ParseCidr(value);
        if (!inner.ok() || inner->len <= net.len || !ni::NetworkHolds(net, inner->ip)) continue;
        if (budget == 0) {
          out.truncated = true;
          break;
        }
        --budget;
        HoldersReader& holders = type == IndicatorType::kCidr ? stating : any_holder;
        KINSHIP_ASSIGN_OR_RETURN(ValueHolders h,
                                 holders.Read(between.ColumnInt(0), between.ColumnText(2)));
        if (!h.incident_ids.empty()) {
          found.push_back({*inner, ValueInside{type, std::move(value), std::move(h)}});
        }
      }
      between.Reset();
      if (out.truncated) break;
    }
    if (out.truncated) break;
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.ip.bytes, a.first.len) < std::pair(b.first.ip.bytes, b.first.len);
  });
  for (auto& entry : found) out.values.push_back(std::move(entry.second));
  return out;
}

absl::Status Store::ForEachIncident(const std::function<bool(Incident&)>& fn, Detail detail,
                                    size_t skip, Which which) {
  store::Db& db = impl_->db();
  KINSHIP_ASSIGN_OR_RETURN(IncidentReader reader, IncidentReader::Make(db, detail));
  // attribution's primary key starts with the incident: its rowids come from that index.
  const std::string_view where =
      which == Which::kAttributed ? " WHERE rowid IN (SELECT incident FROM attribution)" : "";
  KINSHIP_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare(absl::StrCat("SELECT ", AV(IncidentReader::Columns(detail)), " FROM incident",
                              AV(where), " ORDER BY rowid LIMIT -1 OFFSET ?")));
  s.Bind(1, static_cast<int64_t>(skip));
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Incident inc;
    KINSHIP_RETURN_IF_ERROR(reader.Read(s, inc));
    if (!fn(inc)) break;
  }
  return absl::OkStatus();
}

absl::Status Store::ForEachIncidentReadAhead(const std::function<bool(Incident&)>& fn, size_t ahead,
                                             Detail detail, size_t skip, Which which) {
  return util::Pipeline<Incident>(
      ahead,
      [this, detail, skip, which](const std::function<bool(Incident &&)>& emit) {
        return ForEachIncident([&emit](Incident& inc) { return emit(std::move(inc)); }, detail,
                               skip, which);
      },
      fn);
}

absl::Status Store::ReplaceWarninglists(const std::vector<Warninglist>& lists) {
  store::Db& db = impl_->db();
  impl_->matcher.reset();
  WarninglistMatcher matcher(lists);
  KINSHIP_ASSIGN_OR_RETURN(auto txn, store::Transaction::Begin(db));
  KINSHIP_RETURN_IF_ERROR(db.Exec("DELETE FROM warninglist"));
  KINSHIP_ASSIGN_OR_RETURN(
      Statement ins,
      db.Prepare("INSERT INTO warninglist (name, title, type, version, matching_attributes, "
                 "entries) VALUES (?,?,?,?,?,?)"));
  for (const Warninglist& w : lists) {
    ins.Bind(1, w.name);
    ins.Bind(2, w.title);
    ins.Bind(3, w.type);
    ins.Bind(4, static_cast<int64_t>(w.version));
    ins.Bind(5, Join(w.matching_attributes));
    ins.Bind(6, Join(w.entries));
    absl::Status st = ins.Run();
    if (!st.ok()) return Annotate(st, absl::StrCat("warninglist ", w.name));
  }
  // Re-mark every stored value.
  KINSHIP_ASSIGN_OR_RETURN(Statement sel, db.Prepare("SELECT id, type, value, benign FROM value"));
  KINSHIP_ASSIGN_OR_RETURN(Statement upd, db.Prepare("UPDATE value SET benign = ? WHERE id = ?"));
  std::vector<std::pair<int64_t, std::string>> changes;
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) break;
    Indicator ind;
    ind.type = static_cast<IndicatorType>(sel.ColumnInt(1));
    ind.value = sel.ColumnString(2);
    std::string benign = Join(matcher.Match(ind));
    if (benign != sel.ColumnText(3)) changes.emplace_back(sel.ColumnInt(0), std::move(benign));
  }
  for (auto& [id, benign] : changes) {
    upd.Bind(1, benign);
    upd.Bind(2, id);
    KINSHIP_RETURN_IF_ERROR(upd.Run());
  }
  KINSHIP_RETURN_IF_ERROR(txn->Commit());
  // The matcher just built is the one later ingests through this Store need.
  impl_->matcher.emplace();
  if (!lists.empty()) impl_->matcher->emplace(std::move(matcher));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Warninglist>> Store::Warninglists() {
  KINSHIP_ASSIGN_OR_RETURN(
      Statement s, impl_->db().Prepare("SELECT name, title, type, version, matching_attributes, "
                                       "entries FROM warninglist ORDER BY name"));
  std::vector<Warninglist> out;
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Warninglist w;
    w.name = s.ColumnString(0);
    w.title = s.ColumnString(1);
    w.type = s.ColumnString(2);
    w.version = static_cast<int>(s.ColumnInt(3));
    w.matching_attributes = Split(s.ColumnText(4));
    w.entries = Split(s.ColumnText(5));
    out.push_back(std::move(w));
  }
  return out;
}

absl::StatusOr<StoreStats> Store::Stats() {
  StoreStats st;
  st.path = impl_->path;
  auto count = [&](std::string_view sql) -> absl::StatusOr<size_t> {
    KINSHIP_ASSIGN_OR_RETURN(int64_t n, impl_->db().QueryInt(sql));
    return static_cast<size_t>(n);
  };
  KINSHIP_ASSIGN_OR_RETURN(st.incidents, count("SELECT count(*) FROM incident"));
  KINSHIP_ASSIGN_OR_RETURN(st.indicators, count("SELECT count(*) FROM indicator"));
  KINSHIP_ASSIGN_OR_RETURN(st.distinct_values, count("SELECT count(*) FROM value"));
  KINSHIP_ASSIGN_OR_RETURN(st.warninglists, count("SELECT count(*) FROM warninglist"));
  KINSHIP_ASSIGN_OR_RETURN(st.prose_texts, count("SELECT count(*) FROM prose"));
  KINSHIP_ASSIGN_OR_RETURN(st.listings, count("SELECT count(*) FROM lists"));
  KINSHIP_ASSIGN_OR_RETURN(st.prose_bytes,
                           count("SELECT ifnull(sum(length(CAST(text AS BLOB))), 0) FROM prose"));
  KINSHIP_ASSIGN_OR_RETURN(size_t v, count("PRAGMA user_version"));
  st.schema_version = static_cast<int>(v);
  return st;
}

absl::StatusOr<size_t> Store::IncidentCount() {
  KINSHIP_ASSIGN_OR_RETURN(int64_t n, impl_->db().QueryInt("SELECT count(*) FROM incident"));
  return static_cast<size_t>(n);
}

absl::StatusOr<int64_t> Store::DataVersion() { return impl_->db().QueryInt("PRAGMA data_version"); }

absl::StatusOr<std::string> Store::SnapshotKey() {
  KINSHIP_ASSIGN_OR_RETURN(SnapshotKeyParts k, ReadSnapshotKeyParts(impl_->db()));
  return k.Text();
}

namespace {

absl::StatusOr<std::optional<StoreWrite>> ChangesSinceIn(store::Db& db, std::string_view key) {
  KINSHIP_ASSIGN_OR_RETURN(const SnapshotKeyParts now, ReadSnapshotKeyParts(db));
  StoreWrite w;
  w.key_before = std::string(key);
  w.key_after = now.Text();
  if (w.key_after == key) {
    KINSHIP_ASSIGN_OR_RETURN(const int64_t n, db.QueryInt("SELECT count(*) FROM incident"));
    w.incidents_before = static_cast<size_t>(n);
    return w;
  }
  // Back from the newest write, each from the generation the one after it started at.
  KINSHIP_ASSIGN_OR_RETURN(Statement rows,
                           db.Prepare("SELECT seq, generation_before, generation, incidents, "
                                      "incidents_before FROM store_write ORDER BY seq DESC"));
  SnapshotKeyParts at = now;
  std::optional<int64_t> oldest;  // the write that started at `key`
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(const bool row, rows.Step());
    if (!row) return std::nullopt;  // the journal does not reach back to `key`
    if (rows.ColumnInt(2) != at.generation || rows.ColumnInt(3) == 0) return std::nullopt;
    at.generation = rows.ColumnInt(1);
    w.incidents_before = static_cast<size_t>(rows.ColumnInt(4));
    if (at.Text() == key) {
      oldest = rows.ColumnInt(0);
      break;
    }
  }
  KINSHIP_ASSIGN_OR_RETURN(
      Statement ids,
      db.Prepare("SELECT id FROM store_write_leaving WHERE write >= ? ORDER BY write, rowid"));
  ids.Bind(1, *oldest);
  absl::flat_hash_set<std::string> seen;
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(const bool row, ids.Step());
    if (!row) break;
    std::string id = ids.ColumnString(0);
    if (seen.insert(id).second) w.leaving.push_back(std::move(id));
  }
  return w;
}

}  // namespace

absl::StatusOr<std::optional<StoreWrite>> Store::ChangesSince(std::string_view key) {
  store::Db& db = impl_->db();
  KINSHIP_RETURN_IF_ERROR(db.Exec("BEGIN"));
  absl::StatusOr<std::optional<StoreWrite>> changes = ChangesSinceIn(db, key);
  const absl::Status ended = db.Exec(changes.ok() ? "COMMIT" : "ROLLBACK");
  if (changes.ok() && !ended.ok()) return ended;
  return changes;
}

}  // namespace kinship
