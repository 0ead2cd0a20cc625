// Helpers shared by the normalize stage's files (canonical.cc, derive.cc).
#ifndef KINSHIP_NORMALIZE_INTERNAL_H_
#define KINSHIP_NORMALIZE_INTERNAL_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "normalize/adapters.h"

namespace kinship::normalize::internal {

// A network: its address with the host bits cleared, and its prefix length.
struct Network {
  IpAddr ip;
  int len = 0;
};
// Parses "address/len" (or a bare address: a /32 or /128) strictly: no leading zeros, the length
// within the address's bits. An IPv4-mapped IPv6 network of length 96 or more is its IPv4
// network. Errors: kInvalidArgument with the reason. CanonCidr formats what this returns, so a
// canonical CIDR always parses back to the same network.
absl::StatusOr<Network> ParseCidr(std::string_view s);
// True when `ip` lies in `net` (same family, equal in the network's first `len` bits).
bool NetworkHolds(const Network& net, const IpAddr& ip);

// The host of a canonical URL ("http://user@[::1]:8080/x" -> "::1"; IPv6 without brackets).
// Empty when the URL has no host.
std::string_view UrlHost(std::string_view canonical_url);

// ASCII whitespace trim.
std::string_view Trim(std::string_view s);

}  // namespace kinship::normalize::internal

#endif  // KINSHIP_NORMALIZE_INTERNAL_H_
