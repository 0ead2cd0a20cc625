// Private adapters over the third-party libraries the normalize stage uses: the C library's
// inet_pton/inet_ntop (inet.cc), libpsl (psl.cc) and libidn2 (idn.cc). Each library is touched
// in exactly one file so that swapping it touches one file.
#ifndef KINSHIP_NORMALIZE_ADAPTERS_H_
#define KINSHIP_NORMALIZE_ADAPTERS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kinship::normalize::internal {

// An IP address in network byte order; v4 uses bytes[0..3].
struct IpAddr {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
};

// inet_pton in strict form (no leading zeros for IPv4, no zone id for IPv6). nullopt on failure.
std::optional<IpAddr> ParseIpv4(std::string_view text);
std::optional<IpAddr> ParseIpv6(std::string_view text);
// The inet_ntop form.
std::string FormatIp(const IpAddr& ip);
// True when `ip` is an IPv6 address of the form ::ffff:a.b.c.d.
bool IsV4Mapped(const IpAddr& ip);
// The IPv4 address inside an IPv4-mapped IPv6 address.
IpAddr UnmapV4(const IpAddr& ip);
// Clears the host bits beyond `prefix_len`.
IpAddr MaskIp(const IpAddr& ip, int prefix_len);

// libpsl: the registrable domain (eTLD+1) of a lower-case ASCII (punycode) name, or nullopt when
// the name is a public suffix itself or its top-level label is not on the list (no "*" rule).
std::optional<std::string> PslRegistrableDomain(std::string_view domain);
// True when the last label of `domain` is a known top-level suffix (explicit PSL rule).
bool PslKnownTld(std::string_view domain);

// libidn2: IDNA 2008 (UTS #46 non-transitional, then transitional) lookup conversion of a UTF-8
// name to lower-case ASCII punycode. nullopt with `error` set on failure.
std::optional<std::string> IdnToAscii(std::string_view utf8, std::string* error);

}  // namespace kinship::normalize::internal

#endif  // KINSHIP_NORMALIZE_ADAPTERS_H_
