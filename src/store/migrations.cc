#include "store/migrations.h"

#include "absl/strings/str_cat.h"
#include "kb/schema.h"
#include "store/value_incidents.h"

namespace kinship::store {
namespace {

// "KNSH": marks the file as a kinship store (PRAGMA application_id).
constexpr int64_t kApplicationId = 0x4B4E5348;

constexpr std::string_view kCoreSql = R"sql(
CREATE TABLE incident (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  first_seen TEXT NOT NULL DEFAULT '',
  last_seen TEXT NOT NULL DEFAULT '',
  victim_org TEXT NOT NULL DEFAULT '',
  victim_sector TEXT NOT NULL DEFAULT '',
  victim_country TEXT NOT NULL DEFAULT '',
  tlp TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '',          -- tags joined by U+001F
  prov_file TEXT NOT NULL DEFAULT '',
  prov_format TEXT NOT NULL DEFAULT '',
  prov_sha256 TEXT NOT NULL DEFAULT '',
  ingested_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
-- Distinct canonical values: the unit of correlation. benign = matched a warninglist.
CREATE TABLE value (
  id INTEGER PRIMARY KEY,
  type INTEGER NOT NULL,
  value TEXT NOT NULL,
  benign TEXT NOT NULL DEFAULT '',        -- warninglist names joined by U+001F
  UNIQUE (type, value)
);
-- A rowid table: rows are appended in ingest order, which keeps bulk ingest cheap.
CREATE TABLE indicator (
  id INTEGER PRIMARY KEY,
  incident INTEGER NOT NULL REFERENCES incident(rowid) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  value_id INTEGER REFERENCES value(id),  -- NULL when the value could not be canonicalised
  type INTEGER NOT NULL,
  raw TEXT NOT NULL DEFAULT '',           -- '' when the raw form equals the canonical value
  derivation INTEGER NOT NULL DEFAULT 0,
  to_ids INTEGER NOT NULL DEFAULT 1,
  category TEXT NOT NULL DEFAULT '',
  comment TEXT NOT NULL DEFAULT '',
  location TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX indicator_incident ON indicator(incident, seq);
-- Which incidents hold a value: exact correlation straight from the store.
CREATE INDEX indicator_value ON indicator(value_id);
CREATE TABLE technique (
  incident INTEGER NOT NULL REFERENCES incident(rowid) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (incident, seq)
) WITHOUT ROWID;
CREATE TABLE software (
  incident INTEGER NOT NULL REFERENCES incident(rowid) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  id TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (incident, seq)
) WITHOUT ROWID;
CREATE TABLE attribution (
  incident INTEGER NOT NULL REFERENCES incident(rowid) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  actor_name TEXT NOT NULL DEFAULT '',
  actor_id TEXT NOT NULL DEFAULT '',
  confidence INTEGER NOT NULL DEFAULT -1,
  source TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (incident, seq)
) WITHOUT ROWID;
CREATE TABLE warninglist (
  name TEXT PRIMARY KEY,
  title TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  matching_attributes TEXT NOT NULL DEFAULT '',  -- joined by U+001F
  entries TEXT NOT NULL DEFAULT ''               -- joined by U+001F
);
)sql";

// Where each item was found, so an analyst can check it: a report's "line:col" and the text
// around it, or a JSON path. Indicators had a location since v1; their snippet was part of the
// comment. Rows stored before v3 keep empty values.
constexpr std::string_view kLocationsSql = R"sql(
ALTER TABLE indicator ADD COLUMN snippet TEXT NOT NULL DEFAULT '';
ALTER TABLE technique ADD COLUMN location TEXT NOT NULL DEFAULT '';
ALTER TABLE technique ADD COLUMN snippet TEXT NOT NULL DEFAULT '';
ALTER TABLE software ADD COLUMN location TEXT NOT NULL DEFAULT '';
ALTER TABLE software ADD COLUMN snippet TEXT NOT NULL DEFAULT '';
ALTER TABLE attribution ADD COLUMN location TEXT NOT NULL DEFAULT '';
ALTER TABLE attribution ADD COLUMN snippet TEXT NOT NULL DEFAULT '';
-- Actors a report names (context only: a stated attribution is a row of `attribution`).
CREATE TABLE actor_mention (
  incident INTEGER NOT NULL REFERENCES incident(rowid) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  id TEXT NOT NULL DEFAULT '',
  location TEXT NOT NULL DEFAULT '',
  snippet TEXT NOT NULL DEFAULT '',
  occurrences INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (incident, seq)
) WITHOUT ROWID;
)sql";

// Bulk-ingest layout. Which incidents hold a value: segments of varint-coded incident rowids
// (value_incidents.h) instead of an SQL index on indicator(value_id), whose rebuild dominated bulk
// ingest. An incident's indicator rows: the id range [indicator_first, + indicator_count) (ingest
// has always written an incident's rows together) instead of an index on indicator(incident,
// seq), a second B-tree insert per row. The indexes go in UpgradeToV4, after the fill.
constexpr std::string_view kBulkLayoutSql = R"sql(
CREATE TABLE value_incidents (
  value_id INTEGER NOT NULL,
  segment INTEGER NOT NULL,     -- the ingest call that wrote it (store_meta 'segment')
  incidents BLOB NOT NULL,      -- incident rowids, ascending, LEB128 varints of the gaps
  PRIMARY KEY (value_id, segment)
) WITHOUT ROWID;
CREATE TABLE store_meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO store_meta (name, value) VALUES ('segment', 0);
ALTER TABLE incident ADD COLUMN indicator_first INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incident ADD COLUMN indicator_count INTEGER NOT NULL DEFAULT 0;
UPDATE incident SET
  indicator_first = ifnull((SELECT min(id) FROM indicator WHERE incident = incident.rowid), 0),
  indicator_count = (SELECT count(*) FROM indicator WHERE incident = incident.rowid);
)sql";

// What an index snapshot is keyed by (Store::SnapshotKey): a random identity of the store and its
// generation, which every write transaction sets anew (Transaction::Commit: a random value; it
// counted writes at first, so the SQL keeps the count's start).
constexpr std::string_view kGenerationSql = R"sql(
INSERT INTO store_meta (name, value) VALUES ('store_id', random()), ('generation', 0);
)sql";

// The journal of writes (Transaction::Commit): one row per committed write, from the
// generation before it to the one it made; `incidents` is 1 for an ingest or a removal, which
// change incidents alone (their `leaving` rows name the stored incidents they replaced or took
// out), and 0 for any other write (KB import, warninglists), after which an index cannot be
// grown but must be built again. Store::ChangesSince reads it so that an index of the store as
// it was (a snapshot, a server's) catches up instead of indexing the store whole. Commit keeps
// the last writes only (kJournalWrites, kJournalLeaving in sqlite.cc).
constexpr std::string_view kJournalSql = R"sql(
CREATE TABLE store_write (
  seq INTEGER PRIMARY KEY,
  generation_before INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  incidents INTEGER NOT NULL,
  incidents_before INTEGER NOT NULL,
  leaving INTEGER NOT NULL
);
CREATE TABLE store_write_leaving (
  write INTEGER NOT NULL,
  id TEXT NOT NULL
);
CREATE INDEX store_write_leaving_write ON store_write_leaving (write);
)sql";

// How many incidents the file an incident was read from held (Provenance::file_incidents; 0 for
// incidents stored before), so that Store::WholeFiles can tell a file every incident of which is
// stored from the same bytes.
constexpr std::string_view kFileIncidentsSql = R"sql(
ALTER TABLE incident ADD COLUMN prov_incidents INTEGER NOT NULL DEFAULT 0;
)sql";

// The prose an incident was read from (ProseText: a report file's converted text, a MISP event
// report's Markdown, a STIX report's description), which `kb import` reads again with the KB's
// names. Big rows: a rowid table
// (a WITHOUT ROWID table suits small rows), its key an index. Incidents stored before have none.
constexpr std::string_view kProseSql = R"sql(
CREATE TABLE prose (
  incident INTEGER NOT NULL REFERENCES incident(rowid) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  location TEXT NOT NULL DEFAULT '',      -- ProseText::where
  source TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  self_host TEXT NOT NULL DEFAULT '',
  anchors TEXT NOT NULL DEFAULT '',       -- "offset:line" pairs joined by spaces
  UNIQUE (incident, seq)
);
)sql";

// Where the source has an incident's title (Incident::title_location), so that `kb import`
// locates an actor read from a title as ingest does. Incidents stored before have ''.
constexpr std::string_view kTitleLocationSql = R"sql(
ALTER TABLE incident ADD COLUMN title_location TEXT NOT NULL DEFAULT '';
)sql";

// The reports a STIX report or grouping lists (Incident::lists), by id, in its order: `kb
// import` passes the actor a listing report now states down to the listed ones that state none,
// as ingest does. Incidents stored before have none.
constexpr std::string_view kListsSql = R"sql(
CREATE TABLE lists (
  incident INTEGER NOT NULL REFERENCES incident(rowid) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (incident, seq)
) WITHOUT ROWID;
)sql";

// Versions. When the store first held each incident (Provenance::first_stored), which a
// replacement keeps: a STIX export's `created`. Rows stored before take the time they were last
// stored, with milliseconds as STIX requires. When the source last changed it
// (Provenance::source_modified), so that an older version does not replace a newer one; rows
// stored before have '', which any version replaces.
constexpr std::string_view kVersionsSql = R"sql(
ALTER TABLE incident ADD COLUMN first_stored TEXT NOT NULL DEFAULT '';
UPDATE incident SET first_stored = replace(ingested_at, 'Z', '.000Z');
ALTER TABLE incident ADD COLUMN source_modified TEXT NOT NULL DEFAULT '';
)sql";

absl::Status UpgradeToV4(Db& db) {
  KINSHIP_ASSIGN_OR_RETURN(
      Statement gaps,
      db.Prepare("SELECT id FROM incident WHERE indicator_count > 0 AND (SELECT max(id) FROM "
                 "indicator WHERE incident = incident.rowid) != indicator_first + "
                 "indicator_count - 1 LIMIT 1"));
  KINSHIP_ASSIGN_OR_RETURN(bool scattered, gaps.Step());
  if (scattered) {
    return absl::DataLossError(absl::StrCat("the indicator rows of incident '",
                                            AV(gaps.ColumnText(0)), "' are not contiguous"));
  }
  KINSHIP_RETURN_IF_ERROR(FillValueIncidents(db));
  return db.Exec("DROP INDEX IF EXISTS indicator_value; DROP INDEX IF EXISTS indicator_incident;");
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration>* const kMigrations = new std::vector<Migration>{
      {1, "core", kCoreSql},
      {2, "knowledge-base", kb::SchemaSql()},
      {3, "locations", kLocationsSql},
      {4, "bulk-layout", kBulkLayoutSql, &UpgradeToV4},
      {5, "generation", kGenerationSql},
      {6, "write-journal", kJournalSql},
      {7, "file-incidents", kFileIncidentsSql},
      {8, "prose", kProseSql},
      {9, "title-location", kTitleLocationSql},
      {10, "lists", kListsSql},
      {11, "versions", kVersionsSql},
  };
  return *kMigrations;
}

int LatestSchemaVersion() { return Migrations().back().version; }

absl::Status Migrate(Db& db) {
  KINSHIP_ASSIGN_OR_RETURN(int64_t app_id, db.QueryInt("PRAGMA application_id"));
  KINSHIP_ASSIGN_OR_RETURN(int64_t version, db.QueryInt("PRAGMA user_version"));
  if (app_id != kApplicationId) {
    KINSHIP_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT count(*) FROM sqlite_schema"));
    KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row && s.ColumnInt(0) > 0) {
      return absl::DataLossError("not a kinship store (an SQLite database of another program)");
    }
  }
  if (version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat("store schema version ", version,
                                                      " is newer than this build's ",
                                                      LatestSchemaVersion(), "; upgrade kinship"));
  }
  for (const Migration& m : Migrations()) {
    if (m.version <= version) continue;
    KINSHIP_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db));
    absl::Status st = db.Exec(m.sql);
    if (st.ok() && m.after != nullptr) st = m.after(db);
    if (!st.ok()) {
      return absl::InternalError(
          absl::StrCat("migration ", m.version, " (", AV(m.name), ") failed: ", st.message()));
    }
    KINSHIP_RETURN_IF_ERROR(db.Exec(absl::StrCat("PRAGMA application_id = ", kApplicationId,
                                                 "; PRAGMA user_version = ", m.version)));
    KINSHIP_RETURN_IF_ERROR(txn->Commit());
  }
  return absl::OkStatus();
}

}  // namespace kinship::store
