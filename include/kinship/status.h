// kinship reports every expected failure as a value: absl::Status / absl::StatusOr<T>.
// Canonical codes are used precisely: kInvalidArgument for bad input, kNotFound for a missing
// id, kFailedPrecondition for a store or KB in the wrong state, kDataLoss for a damaged store,
// kResourceExhausted for a named limit (see limits.h) that was hit.
//
// Example:
//   absl::StatusOr<Incident> Load(const std::string& path) {
//     KINSHIP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     KINSHIP_RETURN_IF_ERROR(Validate(text));
//     ...
//   }
#ifndef KINSHIP_STATUS_H_
#define KINSHIP_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kinship {

// Debian 12's Abseil is built with its own absl::string_view (ABSL_USES_STD_STRING_VIEW is 0), so
// std::string_view does not convert implicitly. These two bridge the types at no cost.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view SV(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace kinship

#define KINSHIP_STATUS_CONCAT_INNER_(a, b) a##b
#define KINSHIP_STATUS_CONCAT_(a, b) KINSHIP_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status); returns it from the enclosing function if not OK.
#define KINSHIP_RETURN_IF_ERROR(expr)                          \
  do {                                                         \
    ::absl::Status kinship_status_tmp_ = (expr);               \
    if (!kinship_status_tmp_.ok()) return kinship_status_tmp_; \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, else moves the value
// into `lhs` (a declaration such as `auto x` or an existing variable).
#define KINSHIP_ASSIGN_OR_RETURN(lhs, rexpr) \
  KINSHIP_ASSIGN_OR_RETURN_IMPL_(KINSHIP_STATUS_CONCAT_(kinship_statusor_, __LINE__), lhs, rexpr)

#define KINSHIP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                   \
  if (!tmp.ok()) return std::move(tmp).status();        \
  lhs = std::move(tmp).value()

#endif  // KINSHIP_STATUS_H_
