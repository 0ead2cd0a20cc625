// The one adapter over SQLite's C API (library-internal). Turns SQLite result codes into
// absl::Status: SQLITE_CORRUPT/NOTADB -> kDataLoss, SQLITE_CONSTRAINT -> kInvalidArgument,
// SQLITE_BUSY/LOCKED -> kUnavailable, others -> kInternal.
//
// Example:
//   KINSHIP_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT name FROM actor WHERE id = ?"));
//   stmt.Bind(1, "G0007");
//   while (true) { KINSHIP_ASSIGN_OR_RETURN(bool row, stmt.Step()); if (!row) break; ... }
#ifndef KINSHIP_STORE_SQLITE_H_
#define KINSHIP_STORE_SQLITE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kinship/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kinship::store {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based. Text is copied (SQLITE_TRANSIENT).
  void Bind(int i, std::string_view text);
  // Text that is NOT copied (SQLITE_STATIC): it must stay alive and unchanged until the statement
  // has been stepped to completion and reset. For bulk writes, where the copy is a measurable cost.
  void BindStatic(int i, std::string_view text);
  // Bytes as a BLOB, not copied (as BindStatic).
  void BindBlobStatic(int i, std::string_view bytes);
  void Bind(int i, const char* text) { Bind(i, std::string_view(text)); }
  void Bind(int i, const std::string& text) { Bind(i, std::string_view(text)); }
  void Bind(int i, int64_t v);
  void Bind(int i, int v) { Bind(i, static_cast<int64_t>(v)); }
  void Bind(int i, double v);
  void BindNull(int i);

  // Advances: true when a row is available, false when done. Errors as in the file comment.
  absl::StatusOr<bool> Step();
  // Runs to completion ignoring rows, then resets for reuse.
  absl::Status Run();
  // Binds `values` to parameters 1, 2, ... in order (each as Bind would), then Run().
  template <typename... Values>
  absl::Status RunWith(const Values&... values) {
    int i = 0;
    (Bind(++i, values), ...);
    return Run();
  }
  // Resets so the statement can be stepped again; bindings are cleared.
  void Reset();

  // Columns are 0-based; valid until the next Step/Reset.
  std::string_view ColumnText(int i) const;
  std::string ColumnString(int i) const { return std::string(ColumnText(i)); }
  std::string_view ColumnBlob(int i) const;
  int64_t ColumnInt(int i) const;
  double ColumnDouble(int i) const;
  bool ColumnIsNull(int i) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  // Opens the file (SQLITE_OPEN_READWRITE, plus CREATE when `create`), sets WAL, foreign keys,
  // synchronous=NORMAL and a busy timeout. Errors: kNotFound when absent and !create.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path, bool create);
  ~Db();

  // Runs one or more statements with no parameters.
  absl::Status Exec(std::string_view sql);
  absl::StatusOr<Statement> Prepare(std::string_view sql);
  // The first column of the first row of `sql` as an integer; 0 when there is no row.
  absl::StatusOr<int64_t> QueryInt(std::string_view sql);
  int64_t LastInsertRowId() const;
  int Changes() const;
  sqlite3* raw() { return db_; }
  // True when this Open created the file (or found it empty).
  bool fresh() const { return fresh_; }
  // Once on (Store::Open, after the migrations), every Transaction::Commit also sets
  // store_meta's 'generation', which a snapshot is keyed by, to a new random value.
  void set_count_generations(bool on) { count_generations_ = on; }
  bool count_generations() const { return count_generations_; }

  // Maps the connection's last error (with `what` as context) to a Status.
  absl::Status Error(int rc, std::string_view what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  bool fresh_ = false;
  bool count_generations_ = false;
};

// RAII transaction: BEGIN IMMEDIATE on Begin, ROLLBACK on destruction unless Commit succeeded.
class Transaction {
 public:
  static absl::StatusOr<std::unique_ptr<Transaction>> Begin(Db& db);
  ~Transaction();
  // With the Db's count_generations(), first gives the store a new generation (store_meta): a
  // random 64-bit value, so that every write, and two copies of a file written apart, make
  // different snapshot keys (a counter would give two copies the same).
  // It also writes the store's journal of writes (table store_write): one row from the old
  // generation to the new, which says whether the write changed incidents alone
  // (MarkIncidentWrite) and which incidents left, and drops the rows past the journal's bounds.
  absl::Status Commit();
  // The generation the commit wrote (0 before a commit, or without count_generations()).
  int64_t committed_generation() const { return committed_generation_; }
  // Marks the write as one that changed incidents alone (an ingest, a removal): `leaving` (kept
  // by the caller until Commit) the stored incidents it replaced or took out, `incidents_before`
  // how many were stored before it. Commit journals it so that an index of the store before it
  // can catch up (Store::ChangesSince); an unmarked write breaks that chain.
  void MarkIncidentWrite(size_t incidents_before, const std::vector<std::string>* leaving) {
    incident_write_ = true;
    incidents_before_ = incidents_before;
    leaving_ = leaving;
  }

 private:
  explicit Transaction(Db& db) : db_(db) {}
  absl::Status Journal(int64_t generation_before);
  Db& db_;
  bool done_ = false;
  int64_t committed_generation_ = 0;
  bool incident_write_ = false;
  size_t incidents_before_ = 0;
  const std::vector<std::string>* leaving_ = nullptr;
};

}  // namespace kinship::store

#endif  // KINSHIP_STORE_SQLITE_H_
