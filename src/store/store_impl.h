// Store::Impl (library-internal): what library stages (kb, index) may reach inside the store.
// Front-ends use include/kinship/store.h only.
#ifndef KINSHIP_STORE_STORE_IMPL_H_
#define KINSHIP_STORE_STORE_IMPL_H_

#include <memory>
#include <string>

#include "kinship/store.h"
#include "store/sqlite.h"

namespace kinship {

struct Store::Impl {
  std::string path;
  std::unique_ptr<store::Db> db_ptr;
  store::Db& db() { return *db_ptr; }
};

}  // namespace kinship

#endif  // KINSHIP_STORE_STORE_IMPL_H_
