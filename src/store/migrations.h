// The store's schema history: an ordered list of forward migrations, applied in one transaction
// each on Open. A migration never changes once released; a new schema change is a new entry.
#ifndef KINSHIP_STORE_MIGRATIONS_H_
#define KINSHIP_STORE_MIGRATIONS_H_

#include <string_view>
#include <vector>

#include "kinship/status.h"
#include "store/sqlite.h"

namespace kinship::store {

struct Migration {
  int version;            // 1, 2, ... strictly increasing
  std::string_view name;  // "core", "knowledge-base", ...
  std::string_view sql;   // statements run in one transaction
  // Run after `sql`, in the same transaction, for what SQL alone cannot do (may be null).
  absl::Status (*after)(Db& db) = nullptr;
};

// Every migration, oldest first.
const std::vector<Migration>& Migrations();

// The schema version this build writes (the last migration's version).
int LatestSchemaVersion();

// Brings `db` to LatestSchemaVersion(). Errors: kFailedPrecondition when the file's version is
// newer than this build; kDataLoss when the file is not a kinship database.
absl::Status Migrate(Db& db);

}  // namespace kinship::store

#endif  // KINSHIP_STORE_MIGRATIONS_H_
