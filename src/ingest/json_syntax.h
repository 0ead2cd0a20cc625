// Parsing a whole JSON document with simdjson, and where a malformed one goes wrong, as line:col.
// simdjson reports only *that* a document is malformed; analysts need the place. The place is
// looked for only after simdjson has rejected a document, so its speed does not matter; the JSON
// grammar is RFC 8259.
#ifndef KINSHIP_INGEST_JSON_SYNTAX_H_
#define KINSHIP_INGEST_JSON_SYNTAX_H_

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

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

// `json`, the whole text of `file`, parsed with `parser`: its root, or an error naming the file
// and what an analyst can do about it. Over limits::kMaxInputFileBytes, out of memory or nested
// deeper than limits::kMaxJsonDepth: kResourceExhausted. Malformed: kInvalidArgument with the
// line:col of the first grammar error ("FILE:L:C: not valid JSON: ..."). The MISP, STIX and KB
// readers share it, so one file gets one message whichever reads it.
absl::StatusOr<simdjson::dom::element> ParseJsonDocument(simdjson::dom::parser& parser,
                                                         std::string_view json,
                                                         std::string_view file);

}  // namespace kinship::ingest::internal

#endif  // KINSHIP_INGEST_JSON_SYNTAX_H_
