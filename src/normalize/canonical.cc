// Canonical forms of indicator values (see normalize.h for the rules). Parsing of IP addresses,
// public suffixes and IDNs is delegated to the adapters (inet.cc, psl.cc, idn.cc); what remains
// here is validation and assembly, written by hand because each rule is a few lines and runs on
// every indicator (no regex in the hot path).
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "kinship/limits.h"
#include "kinship/normalize.h"
#include "kinship/status.h"
#include "normalize/adapters.h"
#include "normalize/internal.h"

namespace kinship::normalize {
namespace internal {

std::string_view Trim(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view UrlHost(std::string_view url) {
  const size_t p = url.find("://");
  if (p == std::string_view::npos) return {};
  std::string_view rest = url.substr(p + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    return close == std::string_view::npos ? std::string_view() : rest.substr(1, close - 1);
  }
  return rest.substr(0, rest.find(':'));
}

}  // namespace internal

namespace {

using internal::IpAddr;

absl::Status Invalid(std::string_view why) { return absl::InvalidArgumentError(AV(why)); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool AllHex(std::string_view s) {
  for (char c : s) {
    if (!IsHex(c)) return false;
  }
  return !s.empty();
}

std::string_view StripBrackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return s.substr(1, s.size() - 2);
  return s;
}

// "010.1.2.3": digits and dots in four parts, one of them with a leading zero.
bool DottedQuadWithLeadingZero(std::string_view s) {
  int parts = 1;
  bool leading_zero = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.') {
      ++parts;
    } else if (!IsDigit(c)) {
      return false;
    } else if (c == '0' && (i == 0 || s[i - 1] == '.') && i + 1 < s.size() && s[i + 1] != '.') {
      leading_zero = true;
    }
  }
  return parts == 4 && leading_zero;
}

absl::StatusOr<std::string> CanonIpv4(std::string_view s) {
  if (auto ip = internal::ParseIpv4(s)) return internal::FormatIp(*ip);
  const std::string_view inner = StripBrackets(s);
  if (inner.find(':') != std::string_view::npos) {
    auto ip6 = internal::ParseIpv6(inner);
    if (ip6 && internal::IsV4Mapped(*ip6)) return internal::FormatIp(internal::UnmapV4(*ip6));
    if (ip6) return Invalid("an IPv6 address, not IPv4");
  }
  if (DottedQuadWithLeadingZero(s)) {
    return Invalid("IPv4 octet with a leading zero (ambiguous: octal or decimal)");
  }
  return Invalid("not an IPv4 address");
}

absl::StatusOr<std::string> CanonIpv6(std::string_view s) {
  const std::string_view inner = StripBrackets(s);
  if (inner.find('%') != std::string_view::npos) return Invalid("IPv6 zone id not allowed");
  if (auto ip = internal::ParseIpv6(inner)) {
    if (internal::IsV4Mapped(*ip)) return internal::FormatIp(internal::UnmapV4(*ip));
    return internal::FormatIp(*ip);
  }
  if (internal::ParseIpv4(inner)) return Invalid("an IPv4 address, not IPv6");
  return Invalid("not an IPv6 address");
}

}  // namespace

namespace internal {

absl::StatusOr<Network> ParseCidr(std::string_view s) {
  const size_t slash = s.find('/');
  const std::string_view addr = s.substr(0, slash);
  std::optional<IpAddr> ip = ParseIpv4(addr);
  if (!ip) ip = ParseIpv6(addr);
  if (!ip) {
    if (DottedQuadWithLeadingZero(addr)) {
      return Invalid("IPv4 octet with a leading zero (ambiguous: octal or decimal)");
    }
    return Invalid("network address is not an IP address");
  }
  const int max_len = ip->v6 ? 128 : 32;
  int len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view digits = s.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return Invalid("invalid prefix length");
    if (digits.size() > 1 && digits[0] == '0') return Invalid("prefix length with a leading zero");
    len = 0;
    for (char c : digits) {
      if (!IsDigit(c)) return Invalid("invalid prefix length");
      len = len * 10 + (c - '0');
    }
    if (len > max_len) return Invalid(absl::StrCat("prefix length ", len, " exceeds ", max_len));
  }
  if (IsV4Mapped(*ip) && len >= 96) {
    ip = UnmapV4(*ip);
    len -= 96;
  }
  return Network{MaskIp(*ip, len), len};
}

bool NetworkHolds(const Network& net, const IpAddr& ip) {
  return ip.v6 == net.ip.v6 && MaskIp(ip, net.len).bytes == net.ip.bytes;
}

}  // namespace internal

namespace {

absl::StatusOr<std::string> CanonCidr(std::string_view s) {
  KINSHIP_ASSIGN_OR_RETURN(internal::Network net, internal::ParseCidr(s));
  return absl::StrCat(internal::FormatIp(net.ip), "/", net.len);
}

absl::StatusOr<std::string> CanonDomain(std::string_view s) {
  if (s.empty()) return Invalid("empty domain");
  if (s.back() == '.') s.remove_suffix(1);  // the root label of a fully qualified name
  if (s.empty()) return Invalid("empty domain");
  bool ascii = true;
  for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  std::string name;
  if (ascii) {
    name = ToLower(s);
  } else {
    std::string error;
    std::optional<std::string> a = internal::IdnToAscii(s, &error);
    if (!a) return Invalid(absl::StrCat("IDN conversion failed: ", error));
    name = ToLower(*a);
    if (!name.empty() && name.back() == '.') name.pop_back();
  }
  if (name.size() > limits::kMaxDomainBytes) {
    return Invalid(
        absl::StrCat("domain longer than ", limits::kMaxDomainBytes, " bytes (kMaxDomainBytes)"));
  }
  size_t label_start = 0;
  bool last_numeric = true;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      const size_t len = i - label_start;
      if (len == 0) return Invalid("empty label");
      if (len > limits::kMaxLabelBytes) {
        return Invalid(
            absl::StrCat("label longer than ", limits::kMaxLabelBytes, " bytes (kMaxLabelBytes)"));
      }
      label_start = i + 1;
      if (i != name.size()) last_numeric = true;
      continue;
    }
    const char c = name[i];
    // Underscores are not valid in host names but occur in real DNS (_dmarc, SRV, some C2).
    if (!(IsDigit(c) || IsAlpha(c) || c == '-' || c == '_')) {
      return Invalid(absl::StrCat("invalid character '", std::string(1, c), "' in domain"));
    }
    if (!IsDigit(c)) last_numeric = false;
  }
  if (internal::ParseIpv4(name)) return Invalid("an IP address, not a domain");
  if (last_numeric) return Invalid("numeric top-level label (an IP address or a typo)");
  return name;
}

// Default ports dropped per RFC 3986 section 6.2.3 (scheme-based normalisation).
bool IsDefaultPort(std::string_view scheme, std::string_view port) {
  return ((scheme == "http" || scheme == "ws") && port == "80") ||
         ((scheme == "https" || scheme == "wss") && port == "443") ||
         (scheme == "ftp" && port == "21");
}

absl::StatusOr<std::string> CanonUrl(std::string_view s) {
  std::string scheme;
  std::string_view rest;
  const size_t p = s.find("://");
  const size_t first_delim = s.find_first_of("/?#");
  if (p != std::string_view::npos && p < first_delim) {
    const std::string_view sch = s.substr(0, p);
    if (sch.empty() || !IsAlpha(sch[0])) return Invalid("invalid URL scheme");
    for (char c : sch) {
      if (!(IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.')) {
        return Invalid("invalid URL scheme");
      }
    }
    scheme = ToLower(sch);
    rest = s.substr(p + 3);
  } else {
    // Schemeless ("evil.com/gate.php", common in MISP url attributes): read as http.
    scheme = "http";
    rest = s.substr(0, 2) == "//" ? s.substr(2) : s;
  }
  const size_t a = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, a);
  const std::string_view tail = a == std::string_view::npos ? std::string_view() : rest.substr(a);
  for (char c : s) {
    if (IsSpace(c)) return Invalid("whitespace in URL");
  }
  const size_t at = authority.rfind('@');
  const std::string_view userinfo =
      at == std::string_view::npos ? std::string_view() : authority.substr(0, at + 1);
  const std::string_view hostport =
      at == std::string_view::npos ? authority : authority.substr(at + 1);
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return Invalid("unterminated IPv6 host in URL");
    host = hostport.substr(1, close - 1);
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && after.front() != ':') return Invalid("junk after IPv6 host in URL");
    if (!after.empty()) port = after.substr(1);
    bracketed = true;
  } else {
    const size_t colon = hostport.rfind(':');
    host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) port = hostport.substr(colon + 1);
  }
  if (host.empty()) return Invalid("URL has no host");
  if (port.size() > 5) return Invalid("invalid port in URL");
  int port_value = 0;
  for (char c : port) {
    if (!IsDigit(c)) return Invalid("invalid port in URL");
    port_value = port_value * 10 + (c - '0');
  }
  if (port_value > 65535) return Invalid("port out of range in URL");
  const std::string port_text = port.empty() ? std::string() : std::to_string(port_value);

  std::string canon_host;
  if (bracketed) {
    auto ip = CanonIpv6(host);
    if (!ip.ok()) return Invalid(absl::StrCat("URL host: ", ip.status().message()));
    canon_host = ip->find(':') == std::string::npos ? *ip : absl::StrCat("[", *ip, "]");
  } else if (auto v4 = internal::ParseIpv4(host)) {
    canon_host = internal::FormatIp(*v4);
  } else {
    auto d = CanonDomain(host);
    if (!d.ok()) {
      if (DottedQuadWithLeadingZero(host)) {
        return Invalid("URL host: IPv4 octet with a leading zero (ambiguous: octal or decimal)");
      }
      return Invalid(absl::StrCat("URL host: ", d.status().message()));
    }
    canon_host = std::move(*d);
  }
  std::string out = absl::StrCat(scheme, "://", AV(userinfo), canon_host);
  if (!port_text.empty() && !IsDefaultPort(scheme, port_text))
    absl::StrAppend(&out, ":", port_text);
  if (tail.empty() || tail.front() != '/') {
    // An empty path is "/" for hierarchical schemes (RFC 3986 section 6.2.3).
    out.push_back('/');
  }
  out.append(tail);
  return out;
}

absl::StatusOr<std::string> CanonEmail(std::string_view s) {
  const size_t at = s.rfind('@');
  if (at == std::string_view::npos) return Invalid("no '@' in email address");
  const std::string_view local = s.substr(0, at);
  if (local.empty()) return Invalid("empty local part in email address");
  if (local.size() > 64) return Invalid("email local part longer than 64 bytes");
  for (char c : local) {
    if (IsSpace(c) || c == '@' || c == '<' || c == '>' || c == ',' || c == ';') {
      return Invalid(absl::StrCat("invalid character '", std::string(1, c), "' in email address"));
    }
  }
  const std::string_view domain = s.substr(at + 1);
  if (!domain.empty() && domain.front() == '[')
    return Invalid("email address literal not supported");
  auto d = CanonDomain(domain);
  if (!d.ok()) return Invalid(absl::StrCat("email domain: ", d.status().message()));
  return absl::StrCat(ToLower(local), "@", *d);
}

absl::StatusOr<std::string> CanonHex(std::string_view s, size_t want, std::string_view name) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsHex(s[i])) {
      return Invalid(absl::StrCat(AV(name), " has a non-hex character at offset ", i));
    }
  }
  if (s.size() != want) {
    return Invalid(
        absl::StrCat(AV(name), " must be ", want, " hex digits, got ", s.size(), " characters"));
  }
  return ToLower(s);
}

absl::StatusOr<std::string> CanonX509Fingerprint(std::string_view s) {
  std::string hex;
  hex.reserve(s.size());
  for (char c : s) {
    if (c != ':') hex.push_back(c);  // "AB:CD:..." as certificate viewers print it
  }
  if (hex.size() != 32 && hex.size() != 40 && hex.size() != 64) {
    return Invalid(absl::StrCat("x509 fingerprint must be 32, 40 or 64 hex digits, got ",
                                hex.size(), " characters"));
  }
  return CanonHex(hex, hex.size(), "x509 fingerprint");
}

// ssdeep "blocksize:sig1:sig2" (Kornblum 2006): blocksize is 3 * 2^k, signatures are base64
// characters of at most 64 (SPAMSUM_LENGTH).
absl::StatusOr<std::string> CanonSsdeep(std::string_view s) {
  const size_t c1 = s.find(':');
  const size_t c2 = c1 == std::string_view::npos ? c1 : s.find(':', c1 + 1);
  if (c2 == std::string_view::npos || s.find(':', c2 + 1) != std::string_view::npos) {
    return Invalid("ssdeep must be blocksize:sig1:sig2");
  }
  const std::string_view bs = s.substr(0, c1);
  if (bs.empty() || bs.size() > 10) return Invalid("invalid ssdeep block size");
  if (bs[0] == '0') return Invalid("ssdeep block size with a leading zero");
  uint64_t v = 0;
  for (char c : bs) {
    if (!IsDigit(c)) return Invalid("invalid ssdeep block size");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v % 3 != 0 || ((v / 3) & (v / 3 - 1)) != 0) {
    return Invalid(absl::StrCat("ssdeep block size ", v, " is not 3 * 2^k"));
  }
  for (std::string_view sig : {s.substr(c1 + 1, c2 - c1 - 1), s.substr(c2 + 1)}) {
    if (sig.size() > 64) return Invalid("ssdeep signature longer than 64 characters");
    for (char c : sig) {
      if (!(IsAlpha(c) || IsDigit(c) || c == '+' || c == '/')) {
        return Invalid(
            absl::StrCat("invalid character '", std::string(1, c), "' in ssdeep signature"));
      }
    }
  }
  return std::string(s);
}

// TLSH (Oliver et al. 2013): "T1" + 70 hex digits since TLSH 4.0; older tools print the same 70
// digits without the version prefix.
absl::StatusOr<std::string> CanonTlsh(std::string_view s) {
  std::string_view body = s;
  if (s.size() == 72 && (s[0] == 'T' || s[0] == 't') && s[1] == '1') {
    body = s.substr(2);
  } else if (s.size() != 70) {
    if (s == "TNULL" || s == "tnull")
      return Invalid("TNULL is not a TLSH digest (too little data)");
    return Invalid(absl::StrCat("TLSH must be \"T1\" + 70 hex digits or 70 hex digits, got ",
                                s.size(), " characters"));
  }
  auto hex = CanonHex(body, 70, "TLSH");
  if (!hex.ok()) return hex.status();
  return absl::StrCat("T1", *hex);
}

bool IsCve(std::string_view s) {
  if (s.size() < 13 || s.size() > 20) return false;
  if (Upper(s[0]) != 'C' || Upper(s[1]) != 'V' || Upper(s[2]) != 'E' || s[3] != '-') return false;
  for (size_t i = 4; i < 8; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  if (s[8] != '-') return false;
  for (size_t i = 9; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return false;
  }
  return true;
}

bool IsHashType(IndicatorType t) {
  return t == IndicatorType::kMd5 || t == IndicatorType::kSha1 || t == IndicatorType::kSha256 ||
         t == IndicatorType::kSha512;
}

}  // namespace

absl::StatusOr<std::string> Canonicalize(IndicatorType type, std::string_view raw) {
  if (raw.size() > limits::kMaxIndicatorBytes) {
    return Invalid(absl::StrCat("value longer than ", limits::kMaxIndicatorBytes,
                                " bytes (kMaxIndicatorBytes)"));
  }
  const std::string_view s = internal::Trim(raw);
  if (s.empty()) return Invalid("empty value");
  switch (type) {
    case IndicatorType::kIpv4:
      return CanonIpv4(s);
    case IndicatorType::kIpv6:
      return CanonIpv6(s);
    case IndicatorType::kCidr:
      return CanonCidr(s);
    case IndicatorType::kDomain:
      return CanonDomain(s);
    case IndicatorType::kUrl:
      return CanonUrl(s);
    case IndicatorType::kEmail:
      return CanonEmail(s);
    case IndicatorType::kMd5:
      return CanonHex(s, 32, "md5");
    case IndicatorType::kSha1:
      return CanonHex(s, 40, "sha1");
    case IndicatorType::kSha256:
      return CanonHex(s, 64, "sha256");
    case IndicatorType::kSha512:
      return CanonHex(s, 128, "sha512");
    case IndicatorType::kImphash:
      return CanonHex(s, 32, "imphash");
    case IndicatorType::kJa3:
      return CanonHex(s, 32, "ja3");
    case IndicatorType::kX509Fingerprint:
      return CanonX509Fingerprint(s);
    case IndicatorType::kSsdeep:
      return CanonSsdeep(s);
    case IndicatorType::kTlsh:
      return CanonTlsh(s);
    case IndicatorType::kCve:
      if (IsCve(s)) {
        std::string out(s);
        for (char& c : out) c = Upper(c);
        return out;
      }
      return std::string(s);
    default:
      return std::string(s);
  }
}

IndicatorType CanonicalType(IndicatorType declared, std::string_view raw) {
  const std::string_view s = internal::Trim(raw);
  if (IsHashType(declared) || declared == IndicatorType::kImphash) {
    if (!AllHex(s)) return declared;
    switch (s.size()) {
      case 32:
        return declared == IndicatorType::kImphash ? declared : IndicatorType::kMd5;
      case 40:
        return declared == IndicatorType::kImphash ? declared : IndicatorType::kSha1;
      case 64:
        return IndicatorType::kSha256;
      case 128:
        return declared == IndicatorType::kImphash ? declared : IndicatorType::kSha512;
      default:
        return declared;
    }
  }
  if (declared == IndicatorType::kIpv4 || declared == IndicatorType::kIpv6 ||
      declared == IndicatorType::kDomain) {
    if (s.find('/') != std::string_view::npos) {
      if (declared == IndicatorType::kDomain) {
        return s.find("://") != std::string_view::npos ? IndicatorType::kUrl : declared;
      }
      return CanonCidr(s).ok() ? IndicatorType::kCidr : declared;
    }
    if (s.empty()) return declared;
    if (internal::ParseIpv4(s)) return IndicatorType::kIpv4;
    const std::string_view inner = StripBrackets(s);
    if (inner.find(':') != std::string_view::npos) {
      if (auto ip = internal::ParseIpv6(inner)) {
        return internal::IsV4Mapped(*ip) ? IndicatorType::kIpv4 : IndicatorType::kIpv6;
      }
    }
  }
  return declared;
}

std::optional<IndicatorType> DetectType(std::string_view value) {
  const std::string_view s = internal::Trim(value);
  if (s.empty() || s.size() > limits::kMaxIndicatorBytes) return std::nullopt;
  if (internal::ParseIpv4(s)) return IndicatorType::kIpv4;
  const bool has_colon = s.find(':') != std::string_view::npos;
  const bool has_slash = s.find('/') != std::string_view::npos;
  if (has_colon && !has_slash) {
    if (auto ip = internal::ParseIpv6(StripBrackets(s))) {
      return internal::IsV4Mapped(*ip) ? IndicatorType::kIpv4 : IndicatorType::kIpv6;
    }
  }
  if (has_slash && (IsDigit(s[0]) || s[0] == ':' || IsHex(s[0])) && CanonCidr(s).ok()) {
    return IndicatorType::kCidr;
  }
  if (s.find("://") != std::string_view::npos) {
    if (CanonUrl(s).ok()) return IndicatorType::kUrl;
    return std::nullopt;
  }
  if (s.find('@') != std::string_view::npos) {
    auto e = CanonEmail(s);
    if (e.ok() && internal::PslKnownTld(*e)) return IndicatorType::kEmail;
    return std::nullopt;
  }
  if (AllHex(s)) {
    switch (s.size()) {
      case 32:
        return IndicatorType::kMd5;
      case 40:
        return IndicatorType::kSha1;
      case 64:
        return IndicatorType::kSha256;
      case 70:
        return IndicatorType::kTlsh;
      case 128:
        return IndicatorType::kSha512;
      default:
        break;
    }
  }
  if (s.size() == 72 && CanonTlsh(s).ok()) return IndicatorType::kTlsh;
  if (has_colon && IsDigit(s[0]) && CanonSsdeep(s).ok()) return IndicatorType::kSsdeep;
  if (IsCve(s)) return IndicatorType::kCve;
  if (s.find('.') != std::string_view::npos && !has_colon && !has_slash) {
    auto d = CanonDomain(s);
    if (d.ok() && internal::PslKnownTld(*d)) return IndicatorType::kDomain;
  }
  return std::nullopt;
}

std::optional<std::string> RegisteredDomain(std::string_view domain) {
  if (domain.empty() || domain.find(':') != std::string_view::npos) return std::nullopt;
  if (internal::ParseIpv4(domain)) return std::nullopt;  // never ask libpsl about an IP
  return internal::PslRegistrableDomain(domain);
}

}  // namespace kinship::normalize
