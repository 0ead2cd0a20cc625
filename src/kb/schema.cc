#include "kb/schema.h"

namespace kinship::kb {

std::string_view SchemaSql() {
  return R"sql(
CREATE TABLE kb_source (
  kind TEXT NOT NULL,        -- "attack", "misp-galaxy"
  name TEXT NOT NULL,        -- "enterprise-attack", "threat-actor"
  version TEXT NOT NULL DEFAULT '',
  file TEXT NOT NULL DEFAULT '',
  sha256 TEXT NOT NULL DEFAULT '',
  imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  PRIMARY KEY (kind, name)
);
-- One row per entity; `data` is the entity's JSON (fields of kb.h's structs).
CREATE TABLE kb_entity (
  type TEXT NOT NULL,        -- "actor", "campaign", "software", "technique"
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  source_kind TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (type, id)
);
)sql";
}

}  // namespace kinship::kb
