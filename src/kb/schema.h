// Schema of the knowledge-base tables (store migration v2).
#ifndef KINSHIP_KB_SCHEMA_H_
#define KINSHIP_KB_SCHEMA_H_

#include <string_view>

namespace kinship::kb {

// SQL creating the KB tables; run once by the store's migration list (src/store/migrations.cc).
std::string_view SchemaSql();

}  // namespace kinship::kb

#endif  // KINSHIP_KB_SCHEMA_H_
