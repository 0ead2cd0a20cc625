// How every ingest parser reports a problem (library-internal): errors name the file and the place
// ("file:Event.Attribute[3].value: message"), and a bad record either aborts the parse or, with
// Options::skip_bad_records, becomes a diagnostic while the record is skipped.
#ifndef KINSHIP_INGEST_RECORD_ERRORS_H_
#define KINSHIP_INGEST_RECORD_ERRORS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kinship/model.h"
#include "kinship/status.h"

namespace kinship::ingest::internal {

// kInvalidArgument "file:path: message" ("file: message" when `path` is empty).
inline absl::Status LocatedError(std::string_view file, std::string_view path,
                                 std::string_view message) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(AV(file), ": ", AV(message)));
  return absl::InvalidArgumentError(absl::StrCat(AV(file), ":", AV(path), ": ", AV(message)));
}

// A bad record: `status` unchanged (the default), or with `skip` an error diagnostic in `out` and
// OK so the caller skips the record.
inline absl::Status BadRecord(bool skip, absl::Status status, std::string_view file,
                              std::string_view path, std::vector<Diagnostic>& out) {
  if (!skip) return status;
  out.push_back(Diagnostic{Diagnostic::Severity::kError, std::string(file), std::string(path),
                           absl::StrCat("skipped: ", status.message())});
  return absl::OkStatus();
}

// A warning diagnostic at `path`.
inline void Warn(std::string_view file, std::string_view path, std::string message,
                 std::vector<Diagnostic>& out) {
  out.push_back(Diagnostic{Diagnostic::Severity::kWarning, std::string(file), std::string(path),
                           std::move(message)});
}

}  // namespace kinship::ingest::internal

#endif  // KINSHIP_INGEST_RECORD_ERRORS_H_
