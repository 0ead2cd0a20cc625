// Adapter over the C library's inet_pton/inet_ntop (POSIX). The library does the parsing; this
// file only adds the two checks kinship needs on top: IPv4 octets with leading zeros are refused
// (inet_aton would read them as octal, so such a value is ambiguous), and IPv6 zone ids are
// refused (they name an interface, not a host).
#include <arpa/inet.h>

#include <cstring>

#include "normalize/adapters.h"

namespace kinship::normalize::internal {
namespace {

constexpr size_t kMaxIpText = 64;  // longer than any textual IPv6 address (INET6_ADDRSTRLEN 46)

}  // namespace

std::optional<IpAddr> ParseIpv4(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return std::nullopt;  // C string API
  char buf[16];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddr ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
  // glibc already refuses leading zeros; other libcs may not, and the rule matters.
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '0' && (i == 0 || text[i - 1] == '.') && text[i + 1] != '.') {
      return std::nullopt;
    }
  }
  return ip;
}

std::optional<IpAddr> ParseIpv6(std::string_view text) {
  if (text.size() < 2 || text.size() >= kMaxIpText) return std::nullopt;
  if (text.find('%') != std::string_view::npos) return std::nullopt;
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return std::nullopt;  // C string API
  char buf[kMaxIpText];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddr ip;
  ip.v6 = true;
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  return ip;
}

std::string FormatIp(const IpAddr& ip) {
  char buf[INET6_ADDRSTRLEN];
  const char* s = inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), buf, sizeof(buf));
  return s == nullptr ? std::string() : std::string(s);
}

bool IsV4Mapped(const IpAddr& ip) {
  if (!ip.v6) return false;
  for (int i = 0; i < 10; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[10] == 0xff && ip.bytes[11] == 0xff;
}

IpAddr UnmapV4(const IpAddr& ip) {
  IpAddr out;
  std::memcpy(out.bytes.data(), ip.bytes.data() + 12, 4);
  return out;
}

IpAddr MaskIp(const IpAddr& ip, int prefix_len) {
  IpAddr out = ip;
  const int total = ip.v6 ? 16 : 4;
  for (int i = 0; i < total; ++i) {
    const int bits = prefix_len - i * 8;
    if (bits >= 8) continue;
    out.bytes[i] = bits <= 0 ? 0 : static_cast<uint8_t>(out.bytes[i] & (0xff << (8 - bits)));
  }
  return out;
}

}  // namespace kinship::normalize::internal
