// Store::Impl (library-internal): what library stages (kb, index) may reach inside the store.
// Front-ends use include/kinship/store.h only.
#ifndef KINSHIP_STORE_STORE_IMPL_H_
#define KINSHIP_STORE_STORE_IMPL_H_

#include <memory>
#include <optional>
#include <string>

#include "kinship/store.h"
#include "kinship/warninglist.h"
#include "store/sqlite.h"

namespace kinship {

struct Store::Impl {
  std::string path;
  std::unique_ptr<store::Db> db_ptr;
  store::Db& db() { return *db_ptr; }

  // The stored warninglists compiled once per Store (building a matcher over every MISP list
  // costs ~60 ms); reset by ReplaceWarninglists. nullopt until first needed; an empty optional
  // matcher inside means "no lists stored".
  std::optional<std::optional<WarninglistMatcher>> matcher;

  // GetIncident's prepared statements, by Store::Detail, made at the first call (store.cc's
  // IncidentReader and its by-id query; type-erased here). Declared after `db_ptr`, so they
  // are finalised before the connection closes.
  std::shared_ptr<void> get_statements[5];  // one per Store::Detail (kFull .. kLinks)
};

}  // namespace kinship

#endif  // KINSHIP_STORE_STORE_IMPL_H_
