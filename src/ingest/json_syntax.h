// Where a malformed JSON text goes wrong, as line:col. simdjson reports only *that* a document
// is malformed; analysts need the place. Used after simdjson has rejected a document, so speed
// does not matter; the JSON grammar is RFC 8259.
#ifndef KINSHIP_INGEST_JSON_SYNTAX_H_
#define KINSHIP_INGEST_JSON_SYNTAX_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kinship::ingest::internal {

struct JsonSyntaxError {
  size_t line = 1;  // 1-based
  size_t col = 1;   // 1-based, in bytes
  std::string message;
};

// The first grammar error in `json`, or nullopt when the grammar holds (the document may still be
// invalid for reasons this check does not cover, such as bad UTF-8). Never recurses: nesting
// depth costs one byte of heap per level.
std::optional<JsonSyntaxError> FindJsonSyntaxError(std::string_view json);

}  // namespace kinship::ingest::internal

#endif  // KINSHIP_INGEST_JSON_SYNTAX_H_
