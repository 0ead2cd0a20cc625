#include "store/sqlite.h"

#include <sqlite3.h>

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace kinship::store {

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

void Statement::Bind(int i, std::string_view text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}
void Statement::BindStatic(int i, std::string_view text) {
  // A null data pointer would bind SQL NULL, not the empty string.
  const char* data = text.data() != nullptr ? text.data() : "";
  sqlite3_bind_text(stmt_, i, data, static_cast<int>(text.size()), SQLITE_STATIC);
}
void Statement::BindBlobStatic(int i, std::string_view bytes) {
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  sqlite3_bind_blob(stmt_, i, data, static_cast<int>(bytes.size()), SQLITE_STATIC);
}
void Statement::Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
void Statement::Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
void Statement::BindNull(int i) { sqlite3_bind_null(stmt_, i); }

static absl::Status MapError(sqlite3* db, int rc, std::string_view what) {
  std::string msg =
      absl::StrCat("sqlite: ", AV(what), ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(msg);
    case SQLITE_CONSTRAINT:
      return absl::InvalidArgumentError(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    case SQLITE_CANTOPEN:
      return absl::NotFoundError(msg);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return MapError(db_, rc, sqlite3_sql(stmt_));
}

absl::Status Statement::Run() {
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  Reset();
  return absl::OkStatus();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view Statement::ColumnText(int i) const {
  const unsigned char* p = sqlite3_column_text(stmt_, i);
  if (p == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(p),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
}
std::string_view Statement::ColumnBlob(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  if (p == nullptr) return {};
  return std::string_view(static_cast<const char*>(p),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
}
int64_t Statement::ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
double Statement::ColumnDouble(int i) const { return sqlite3_column_double(stmt_, i); }
bool Statement::ColumnIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

// Process-wide SQLite settings, applied once before the library initialises: no memory
// statistics (their global mutex and barrier were ~5% of bulk ingest under perf) and
// multi-thread mode (each connection is used by one thread at a time; see Db::Open).
static void ConfigureSqliteOnce() {
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    return sqlite3_initialize() == SQLITE_OK;
  }();
  (void)configured;
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path, bool create) {
  ConfigureSqliteOnce();
  if (!create && !std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such store"));
  }
  std::error_code ec;
  const bool fresh =
      !std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0;
  sqlite3* raw = nullptr;
  // NOMUTEX: a connection is only ever used by one thread at a time (Store is not shared across
  // threads), so SQLite's per-call mutexes (~8% of bulk ingest, measured with perf) buy nothing.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = MapError(raw, rc, absl::StrCat("open ", path));
    sqlite3_close(raw);
    return s;
  }
  std::unique_ptr<Db> db(new Db(raw));
  db->fresh_ = fresh;
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  // A new file gets 16 KiB pages (fewer B-tree splits and levels on bulk ingest: 4 KiB -> 8 KiB
  // was ~15% faster in bench/macro/ingest_bench.sh, 8 KiB -> 16 KiB ~10% more at 1 M indicators;
  // 32 KiB gained nothing over 16); the size is fixed once the first table exists.
  if (fresh) KINSHIP_RETURN_IF_ERROR(db->Exec("PRAGMA page_size=16384"));
  // journal_mode=WAL also proves the file is a database (NOTADB surfaces here).
  KINSHIP_RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
               "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-262144;"));
  return db;
}

Db::~Db() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

absl::Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string what = err ? err : "exec";
    sqlite3_free(err);
    return MapError(nullptr, rc, what);
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return MapError(db_, rc, absl::StrCat("prepare ", AV(sql)));
  return Statement(db_, stmt);
}

absl::StatusOr<int64_t> Db::QueryInt(std::string_view sql) {
  KINSHIP_ASSIGN_OR_RETURN(Statement s, Prepare(sql));
  KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.ColumnInt(0) : 0;
}

int64_t Db::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Db::Changes() const { return sqlite3_changes(db_); }
absl::Status Db::Error(int rc, std::string_view what) const { return MapError(db_, rc, what); }

absl::StatusOr<std::unique_ptr<Transaction>> Transaction::Begin(Db& db) {
  KINSHIP_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (!done_) (void)db_.Exec("ROLLBACK");
}

absl::Status Transaction::Commit() {
  // In the transaction: a write every snapshot of an index before it no longer reflects. Every
  // write of the store, the KB and the warninglists goes through a Transaction.
  if (db_.count_generations()) {
    KINSHIP_ASSIGN_OR_RETURN(
        const int64_t before,
        db_.QueryInt("SELECT value FROM store_meta WHERE name = 'generation'"));
    // random() is SQLite's PRNG, seeded from the OS's randomness.
    KINSHIP_RETURN_IF_ERROR(
        db_.Exec("UPDATE store_meta SET value = random() WHERE name = 'generation'"));
    KINSHIP_ASSIGN_OR_RETURN(
        committed_generation_,
        db_.QueryInt("SELECT value FROM store_meta WHERE name = 'generation'"));
    KINSHIP_RETURN_IF_ERROR(Journal(before));
  }
  KINSHIP_RETURN_IF_ERROR(db_.Exec("COMMIT"));
  done_ = true;
  return absl::OkStatus();
}

absl::Status Transaction::Journal(int64_t generation_before) {
  const size_t leaving = leaving_ == nullptr ? 0 : leaving_->size();
  KINSHIP_ASSIGN_OR_RETURN(
      Statement row, db_.Prepare("INSERT INTO store_write (generation_before, generation, "
                                 "incidents, incidents_before, leaving) VALUES (?, ?, ?, ?, ?)"));
  KINSHIP_RETURN_IF_ERROR(
      row.RunWith(generation_before, committed_generation_, int64_t{incident_write_ ? 1 : 0},
                  static_cast<int64_t>(incidents_before_), static_cast<int64_t>(leaving)));
  const int64_t seq = db_.LastInsertRowId();
  if (leaving > 0) {
    KINSHIP_ASSIGN_OR_RETURN(
        Statement id, db_.Prepare("INSERT INTO store_write_leaving (write, id) VALUES (?, ?)"));
    for (const std::string& left : *leaving_) {
      KINSHIP_RETURN_IF_ERROR(id.RunWith(seq, std::string_view(left)));
    }
  }
  // The journal's bounds: the last kJournalWrites writes, and of those only as far back as
  // kJournalLeaving incidents left (a MISP feed pulled again may replace every stored event);
  // the last write is always kept. An index older than that is built again, as it would be
  // without a journal.
  constexpr int64_t kJournalWrites = 64;
  constexpr int64_t kJournalLeaving = 1'000'000;
  KINSHIP_ASSIGN_OR_RETURN(
      Statement trim,
      db_.Prepare("DELETE FROM store_write WHERE seq <= ?1 - ?2 OR seq < (SELECT ifnull(max(seq), "
                  "0) FROM (SELECT seq, sum(leaving) OVER (ORDER BY seq DESC) AS tail FROM "
                  "store_write) WHERE tail > ?3)"));
  KINSHIP_RETURN_IF_ERROR(trim.RunWith(seq, kJournalWrites, kJournalLeaving));
  if (db_.Changes() > 0) {
    KINSHIP_RETURN_IF_ERROR(db_.Exec(
        "DELETE FROM store_write_leaving WHERE write < (SELECT min(seq) FROM store_write)"));
  }
  return absl::OkStatus();
}

}  // namespace kinship::store
