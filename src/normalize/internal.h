// Helpers shared by the normalize stage's files (canonical.cc, derive.cc).
#ifndef KINSHIP_NORMALIZE_INTERNAL_H_
#define KINSHIP_NORMALIZE_INTERNAL_H_

#include <string_view>

namespace kinship::normalize::internal {

// The host of a canonical URL ("http://user@[::1]:8080/x" -> "::1"; IPv6 without brackets).
// Empty when the URL has no host.
std::string_view UrlHost(std::string_view canonical_url);

// ASCII whitespace trim.
std::string_view Trim(std::string_view s);

}  // namespace kinship::normalize::internal

#endif  // KINSHIP_NORMALIZE_INTERNAL_H_
