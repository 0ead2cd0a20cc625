// Exact extraction of one candidate token, with the precision rules that keep prose from
// producing false indicators (see docs/extract.md "False-positive classes").
#include "extract/classify.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kinship/limits.h"
#include "kinship/status.h"
#include "re2/re2.h"
#include "util/sha256.h"

namespace kinship::extract::internal {
namespace {

bool IsHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isxdigit(static_cast<unsigned char>(c));
  });
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (absl::string_view part : absl::StrSplit(AV(s), sep)) out.push_back(SV(part));
  return out;
}

// Extensions read as file names, not TLDs, even where they are real TLDs (.zip .sh .py .md .pl
// .rs .so .ps .mov): in reports such tokens are overwhelmingly files.
constexpr std::string_view kFileExtensions[] = {
    "exe",  "dll",  "sys",   "scr",        "bat",       "cmd",  "ps1",  "psm1",  "vbs",  "vbe",
    "js",   "jse",  "wsf",   "wsh",        "hta",       "lnk",  "msi",  "msp",   "jar",  "apk",
    "elf",  "bin",  "dat",   "tmp",        "doc",       "docx", "docm", "dot",   "dotm", "xls",
    "xlsx", "xlsm", "xlsb",  "ppt",        "pptx",      "pptm", "rtf",  "pdf",   "zip",  "rar",
    "7z",   "iso",  "img",   "gz",         "tgz",       "tar",  "cab",  "chm",   "py",   "pyc",
    "sh",   "so",   "dylib", "dmg",        "pkg",       "deb",  "rpm",  "php",   "asp",  "aspx",
    "jsp",  "ocx",  "cpl",   "drv",        "inf",       "ini",  "reg",  "txt",   "log",  "cfg",
    "conf", "xml",  "json",  "html",       "htm",       "svg",  "one",  "vhd",   "vhdx", "lzh",
    "ace",  "arj",  "bz2",   "xz",         "pl",        "rb",   "go",   "rs",    "cs",   "cpp",
    "c",    "h",    "md",    "ps",         "mov",       "mp4",  "png",  "jpg",   "jpeg", "gif",
    "bmp",  "ico",  "db",    "sqlite",     "yaml",      "yml",  "toml", "plist", "ko",   "out",
    "run",  "bak",  "old",   "csv",        "eml",       "msg",  "pem",  "crt",   "cer",  "key",
    "pfx",  "p12",  "dmp",   "etl",        "evtx",      "lock", "war",  "ear",   "swf",  "xll",
    "wll",  "iqy",  "slk",   "library-ms", "search-ms", "appx", "msix", "url",   "scf",  "xsl",
    "wasm"};

// First labels of anti-virus detection names ("Trojan.Win32.Agent.ca",
// "HEUR.Backdoor.Linux.Mirai.b"): such names are never hosts.
constexpr std::string_view kAvPrefixes[] = {"trojan",
                                            "backdoor",
                                            "worm",
                                            "virus",
                                            "ransom",
                                            "exploit",
                                            "hacktool",
                                            "riskware",
                                            "adware",
                                            "pua",
                                            "pup",
                                            "heur",
                                            "heuristic",
                                            "trojandownloader",
                                            "trojandropper",
                                            "trojanspy",
                                            "trojanpsw",
                                            "trojanbanker",
                                            "downloader",
                                            "dropper",
                                            "spyware",
                                            "win32",
                                            "win64",
                                            "w32",
                                            "w64",
                                            "msil",
                                            "not-a-virus",
                                            "hoax",
                                            "troj",
                                            "bkdr",
                                            "tspy",
                                            "o97m",
                                            "w97m",
                                            "x97m",
                                            "vba",
                                            "psw",
                                            "generic",
                                            "gen",
                                            "malware",
                                            "linux",
                                            "unix",
                                            "android",
                                            "osx",
                                            "macos",
                                            "js",
                                            "vbs",
                                            "html",
                                            "doc",
                                            "script",
                                            "multi",
                                            "application"};

// Labels that only appear inside AV names or code identifiers, wherever they sit.
constexpr std::string_view kAvLabels[] = {"win32", "win64", "msil", "w32",  "w64",
                                          "w97m",  "x97m",  "o97m", "heur", "trojan"};

// Technology names that are valid domains in form but never indicators in prose.
constexpr std::string_view kNotDomains[] = {"asp.net", "vb.net",  "ado.net", "dot.net", "node.js",
                                            "vue.js",  "next.js", "ext.js",  "three.js"};

bool IsDocumentationDomain(std::string_view d) {
  for (std::string_view base : {"example.com", "example.net", "example.org", "example.edu"}) {
    if (d == base || (d.size() > base.size() && absl::EndsWith(AV(d), AV(base)) &&
                      d[d.size() - base.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

// RFC 5737 documentation ranges: examples in reports, never infrastructure.
bool IsDocumentationIpv4(const std::array<int, 4>& o) {
  return (o[0] == 192 && o[1] == 0 && o[2] == 2) || (o[0] == 198 && o[1] == 51 && o[2] == 100) ||
         (o[0] == 203 && o[1] == 0 && o[2] == 113);
}

bool HasCamelCase(std::string_view raw_label) {
  for (size_t i = 1; i < raw_label.size(); ++i) {
    if (absl::ascii_isupper(static_cast<unsigned char>(raw_label[i])) &&
        absl::ascii_islower(static_cast<unsigned char>(raw_label[i - 1]))) {
      return true;
    }
  }
  return false;
}

// Validates a host name's syntax (LDH labels, lengths, alphabetic TLD) and its public suffix.
// `raw` is the host as written (case kept) for the AV-name and CamelCase rules.
bool ValidDomain(std::string_view raw, bool defanged, const Checks& checks, std::string* out,
                 Rejection* why, bool ext_as_tld = false) {
  if (raw.size() > limits::kMaxDomainBytes) return false;
  std::string d = absl::AsciiStrToLower(AV(raw));
  if (!d.empty() && d.back() == '.') d.pop_back();
  std::vector<std::string_view> labels = Split(d, '.');
  if (labels.size() < 2) return false;
  for (std::string_view l : labels) {
    if (l.empty() || l.size() > limits::kMaxLabelBytes || l.front() == '-' || l.back() == '-') {
      return false;
    }
    for (char c : l) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
        return false;
      }
    }
  }
  std::string_view tld = labels.back();
  if (!absl::StartsWith(AV(tld), "xn--") && !std::all_of(tld.begin(), tld.end(), [](char c) {
        return absl::ascii_isalpha(static_cast<unsigned char>(c));
      })) {
    return false;
  }
  if (IsFileExtension(tld) && !defanged && !ext_as_tld) {
    why->reason = "file name, not a domain";
    return false;
  }
  // Detection names are written capitalised ("Trojan.Win32.Agent.ca"); hosts in reports are
  // lower case, so the AV rules only apply to names with a capital ("linux.evil.com" is a host).
  const bool has_upper = std::any_of(raw.begin(), raw.end(), [](char c) {
    return absl::ascii_isupper(static_cast<unsigned char>(c));
  });
  if (!defanged && has_upper) {
    if (std::find(std::begin(kAvPrefixes), std::end(kAvPrefixes), labels.front()) !=
        std::end(kAvPrefixes)) {
      why->reason = "anti-virus signature name";
      return false;
    }
    for (std::string_view l : labels) {
      if (std::find(std::begin(kAvLabels), std::end(kAvLabels), l) != std::end(kAvLabels)) {
        why->reason = "anti-virus signature name";
        return false;
      }
    }
    for (absl::string_view l : absl::StrSplit(AV(raw), '.')) {
      if (HasCamelCase(SV(l))) {
        why->reason = "code identifier (CamelCase), not a domain";
        return false;
      }
    }
    if (std::find(std::begin(kNotDomains), std::end(kNotDomains), d) != std::end(kNotDomains)) {
      why->reason = "technology name, not a domain";
      return false;
    }
  }
  if (IsDocumentationDomain(d)) {
    why->reason = "documentation domain (RFC 2606)";
    return false;
  }
  auto reg = checks.registered_domain(d);
  if (!reg) {
    why->reason = "no public suffix";
    return false;
  }
  *out = std::move(d);
  return true;
}

// IPv4 dotted quad; leading zeros are rejected (ambiguous octal, and typical of version strings
// like 1.02.3.04).
bool ParseIpv4(std::string_view s, std::array<int, 4>* octets) {
  std::vector<std::string_view> parts = Split(s, '.');
  if (parts.size() != 4) return false;
  for (int i = 0; i < 4; ++i) {
    std::string_view p = parts[i];
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p.front() == '0')) return false;
    int v = 0;
    for (char c : p) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    (*octets)[i] = v;
  }
  return true;
}

bool ValidPort(std::string_view p) {
  int port = 0;
  return absl::SimpleAtoi(AV(p), &port) && port > 0 && port <= 65535 &&
         p.find_first_not_of("0123456789") == std::string_view::npos;
}

bool SsdeepBlockSize(std::string_view bs) {
  uint64_t v = 0;
  if (!absl::SimpleAtoi(AV(bs), &v) || v < 3 || v % 3 != 0) return false;
  v /= 3;
  return (v & (v - 1)) == 0;  // ssdeep block sizes are 3 * 2^n
}

bool Base58Check(std::string_view s) {
  static constexpr std::string_view kAlphabet =
      "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  std::vector<uint8_t> bytes;  // big-endian base-256 number
  for (char c : s) {
    size_t digit = kAlphabet.find(c);
    if (digit == std::string_view::npos) return false;
    uint32_t carry = static_cast<uint32_t>(digit);
    for (auto it = bytes.rbegin(); it != bytes.rend(); ++it) {
      carry += static_cast<uint32_t>(*it) * 58;
      *it = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.insert(bytes.begin(), static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  for (char c : s) {
    if (c != '1') break;
    bytes.insert(bytes.begin(), 0);
  }
  if (bytes.size() != 25) return false;  // version + 20-byte hash + 4-byte checksum
  std::string payload(bytes.begin(), bytes.end() - 4);
  std::string h1 = util::Sha256Hex(payload);
  std::string raw1;
  for (size_t i = 0; i < h1.size(); i += 2) {
    raw1.push_back(static_cast<char>(std::stoi(h1.substr(i, 2), nullptr, 16)));
  }
  std::string h2 = util::Sha256Hex(raw1);
  for (int i = 0; i < 4; ++i) {
    int b = std::stoi(h2.substr(static_cast<size_t>(i) * 2, 2), nullptr, 16);
    if (static_cast<uint8_t>(b) != bytes[21 + static_cast<size_t>(i)]) return false;
  }
  return true;
}

// BIP 173 / BIP 350 checksum for "bc1..." addresses.
bool Bech32(std::string_view s) {
  static constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  std::string lower = absl::AsciiStrToLower(AV(s));
  if (lower != s && absl::AsciiStrToUpper(AV(s)) != s) return false;  // mixed case is invalid
  size_t sep = lower.rfind('1');
  if (sep == std::string::npos || sep == 0 || sep + 7 > lower.size() || lower.size() > 90) {
    return false;
  }
  std::string_view hrp = std::string_view(lower).substr(0, sep);
  if (hrp != "bc") return false;
  uint32_t chk = 1;
  auto step = [&chk](uint32_t v) {
    static constexpr uint32_t kGen[] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t b = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((b >> i) & 1) chk ^= kGen[i];
    }
  };
  for (char c : hrp) step(static_cast<uint32_t>(c) >> 5);
  step(0);
  for (char c : hrp) step(static_cast<uint32_t>(c) & 31);
  for (size_t i = sep + 1; i < lower.size(); ++i) {
    size_t v = kCharset.find(lower[i]);
    if (v == std::string_view::npos) return false;
    step(static_cast<uint32_t>(v));
  }
  return chk == 1 || chk == 0x2bc830a3;
}

bool StartsWithHive(std::string_view s) {
  for (std::string_view hive :
       {"HKEY_LOCAL_MACHINE\\", "HKEY_CURRENT_USER\\", "HKEY_CLASSES_ROOT\\", "HKEY_USERS\\",
        "HKEY_CURRENT_CONFIG\\", "HKLM\\", "HKCU\\", "HKCR\\", "HKU\\", "HKCC\\"}) {
    if (absl::StartsWithIgnoreCase(AV(s), AV(hive))) return true;
  }
  return false;
}

}  // namespace

bool IsFileExtension(std::string_view ext) {
  static const auto* set = new absl::flat_hash_set<std::string_view>(std::begin(kFileExtensions),
                                                                     std::end(kFileExtensions));
  return set->contains(ext);
}

bool IsBitcoinAddress(std::string_view s) {
  if (s.size() >= 14 && absl::StartsWithIgnoreCase(AV(s), "bc1")) return Bech32(s);
  if (s.size() >= 26 && s.size() <= 35 && (s.front() == '1' || s.front() == '3')) {
    return Base58Check(s);
  }
  return false;
}

bool MayBeDefanged(std::string_view t) {
  if (t.find_first_of("[({") != std::string_view::npos) return true;
  if (t.size() >= 4 && (t[0] == 'h' || t[0] == 'H') && (t[1] == 'x' || t[1] == 'X')) return true;
  return t.size() >= 4 && (t[0] == 'f' || t[0] == 'F') && (t[1] == 'x' || t[1] == 'X');
}

std::optional<Classified> ClassifyToken(std::string_view value, bool defanged, const Checks& checks,
                                        Rejection* why, absl::FunctionRef<bool()> network_hint) {
  why->reason.clear();
  if (value.empty() || value.size() > limits::kMaxIndicatorBytes) return std::nullopt;
  const std::string_view v = value;
  const bool has_colon = v.find(':') != std::string_view::npos;
  const bool starts_digit = absl::ascii_isdigit(static_cast<unsigned char>(v.front()));
  Classified c;

  // Windows artefacts first: they contain dots and colons that look like other things.
  const bool has_backslash = v.find('\\') != std::string_view::npos;
  if (has_backslash && StartsWithHive(v)) {
    c.type = IndicatorType::kRegistryKey;
    c.value = std::string(v);
    while (!c.value.empty() && c.value.back() == '\\') c.value.pop_back();
    return c;
  }
  if (has_backslash && absl::StartsWithIgnoreCase(AV(v), "\\\\.\\pipe\\") && v.size() > 9) {
    c.type = IndicatorType::kNamedPipe;
    c.value = std::string(v);
    return c;
  }
  static const RE2 kPath(R"((?:[A-Za-z]:\\|%[A-Za-z_()]+%\\|\\\\[A-Za-z0-9._$-]+\\).+)");
  if (has_backslash && RE2::FullMatch(v, kPath)) {
    c.type = IndicatorType::kFilePath;
    c.value = std::string(v);
    return c;
  }

  // URL with a scheme.
  static const RE2 kUrl(
      R"((?i)(https?|ftps?|sftp|wss?|tcp|udp|smb|file)://(\[[0-9a-fA-F:.]+\]|[^/:?#\[\]@\s]+)(?::(\d{1,5}))?([/?#].*)?)");
  {
    std::string scheme, host, port;
    if (has_colon && v.find("://") != std::string_view::npos &&
        RE2::FullMatch(v, kUrl, &scheme, &host, &port)) {
      std::array<int, 4> o{};
      std::string canon;
      if (!port.empty() && !ValidPort(port)) return std::nullopt;
      bool ok = ParseIpv4(host, &o) || (host.front() == '[') ||
                ValidDomain(host, /*defanged=*/true, checks, &canon, why);
      if (!ok) {
        if (why->reason.empty()) why->reason = "URL host is not a valid host";
        return std::nullopt;
      }
      if (ParseIpv4(host, &o) && IsDocumentationIpv4(o)) {
        why->reason = "documentation address (RFC 5737)";
        return std::nullopt;
      }
      c.type = IndicatorType::kUrl;
      size_t sep = v.find("://");
      c.value = absl::StrCat(absl::AsciiStrToLower(AV(v.substr(0, sep))), "://",
                             absl::AsciiStrToLower(AV(v.substr(sep + 3, host.size()))),
                             AV(v.substr(sep + 3 + host.size())));
      return c;
    }
  }

  // E-mail.
  static const RE2 kEmail(R"(([A-Za-z0-9._%+\-]{1,64})@([A-Za-z0-9.\-]+))");
  {
    std::string local, host, canon;
    if (v.find('@') != std::string_view::npos && RE2::FullMatch(v, kEmail, &local, &host)) {
      if (local.front() == '.' || local.back() == '.') return std::nullopt;
      if (!ValidDomain(host, /*defanged=*/true, checks, &canon, why)) {
        if (why->reason.empty()) why->reason = "e-mail domain is not a valid domain";
        return std::nullopt;
      }
      c.type = IndicatorType::kEmail;
      c.value = absl::StrCat(absl::AsciiStrToLower(local), "@", canon);
      return c;
    }
  }

  // IPv4, optionally with :port or /prefix.
  static const RE2 kIpv4(R"((\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?::(\d{1,5})|/(\d{1,2}))?)");
  static const RE2 kIpv4Path(R"((\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(:\d{1,5})?(/.+))");
  {
    std::string ip, port, prefix, path;
    // One match with captures decides "address[:port|/prefix]"; only a miss tries the path form.
    const bool address = starts_digit && RE2::FullMatch(v, kIpv4, &ip, &port, &prefix);
    if (starts_digit && !address &&
        RE2::FullMatch(v, kIpv4Path, &ip, &port, &path)) {  // scheme-less URL on an address
      std::array<int, 4> o{};
      if (!ParseIpv4(ip, &o) || IsDocumentationIpv4(o)) return std::nullopt;
      c.type = IndicatorType::kUrl;
      c.value = std::string(v);
      return c;
    }
    if (address) {
      std::array<int, 4> o{};
      if (!ParseIpv4(ip, &o)) {
        why->reason = "not a valid IPv4 address (range or leading zero)";
        return std::nullopt;
      }
      if (IsDocumentationIpv4(o)) {
        why->reason = "documentation address (RFC 5737)";
        return std::nullopt;
      }
      if (!port.empty()) {
        if (!ValidPort(port)) return std::nullopt;
        c.note = absl::StrCat("port ", port);
      }
      if (!prefix.empty()) {
        int len = std::stoi(prefix);
        if (len > 32) return std::nullopt;
        c.type = IndicatorType::kCidr;
        c.value = absl::StrCat(ip, "/", len);
        return c;
      }
      c.type = IndicatorType::kIpv4;
      c.value = ip;
      return c;
    }
  }

  // IPv6 (plain, [addr]:port, or /prefix).
  if (has_colon && std::count(v.begin(), v.end(), ':') >= 2) {
    std::string addr(v), note;
    int prefix = -1;
    static const RE2 kBracketed(R"(\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?)");
    std::string inner, port;
    if (RE2::FullMatch(v, kBracketed, &inner, &port)) {
      addr = inner;
      if (!port.empty()) note = absl::StrCat("port ", port);
    } else if (size_t slash = v.find('/'); slash != std::string::npos) {
      addr = std::string(v.substr(0, slash));
      if (!absl::SimpleAtoi(AV(std::string_view(v).substr(slash + 1)), &prefix) || prefix < 0 ||
          prefix > 128) {
        return std::nullopt;
      }
    }
    in6_addr a6;
    if (addr.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos && addr != "::" &&
        inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
      if (a6.s6_addr[0] == 0x20 && a6.s6_addr[1] == 0x01 && a6.s6_addr[2] == 0x0d &&
          a6.s6_addr[3] == 0xb8) {
        why->reason = "documentation address (RFC 3849)";
        return std::nullopt;
      }
      c.type = prefix >= 0 ? IndicatorType::kCidr : IndicatorType::kIpv6;
      c.value = absl::AsciiStrToLower(addr);
      if (prefix >= 0) absl::StrAppend(&c.value, "/", prefix);
      c.note = note;
      return c;
    }
  }

  // Hashes and fuzzy hashes.
  if (IsHex(v)) {
    const bool has_letter = v.find_first_not_of("0123456789") != std::string::npos;
    const bool has_digit = v.find_first_of("0123456789") != std::string::npos;
    if (!has_letter || !has_digit) return std::nullopt;
    c.value = absl::AsciiStrToLower(AV(v));
    switch (v.size()) {
      case 32:
        c.type = IndicatorType::kMd5;
        return c;
      case 40:
        c.type = IndicatorType::kSha1;
        return c;
      case 64:
        c.type = IndicatorType::kSha256;
        return c;
      case 128:
        c.type = IndicatorType::kSha512;
        return c;
      case 70:
        c.type = IndicatorType::kTlsh;
        c.value = absl::StrCat("T1", c.value);
        return c;
      default:
        return std::nullopt;
    }
  }
  if (v.size() == 72 && (v[0] == 'T' || v[0] == 't') && v[1] == '1' && IsHex(v.substr(2))) {
    c.type = IndicatorType::kTlsh;
    c.value = absl::StrCat("T1", absl::AsciiStrToLower(AV(v.substr(2))));
    return c;
  }
  static const RE2 kSsdeep(R"((\d{1,10}):([A-Za-z0-9/+]{1,64}):([A-Za-z0-9/+]{1,64}))");
  {
    std::string bs;
    if (starts_digit && has_colon && RE2::FullMatch(v, kSsdeep, &bs) && SsdeepBlockSize(bs)) {
      c.type = IndicatorType::kSsdeep;
      c.value = std::string(v);
      return c;
    }
  }

  static const RE2 kCve(R"((?i)CVE-(\d{4})-(\d{4,7}))");
  if (absl::StartsWithIgnoreCase(AV(v), "cve-") && RE2::FullMatch(v, kCve)) {
    c.type = IndicatorType::kCve;
    c.value = absl::AsciiStrToUpper(AV(v));
    return c;
  }

  if (IsBitcoinAddress(v)) {
    c.type = IndicatorType::kBitcoin;
    c.value = std::string(v);
    return c;
  }

  // Host names, host:port, scheme-less URLs and file names. Cheap exit first: a name ending in a
  // digit with no port or path ("2.1", "1.3.6.1.4") has no alphabetic TLD.
  if (absl::ascii_isdigit(static_cast<unsigned char>(v.back())) &&
      v.find_first_of("/:") == std::string_view::npos) {
    return std::nullopt;
  }
  static const RE2 kHostish(R"(([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)+)\.?(?::(\d{1,5}))?(/.*)?)");
  {
    std::string host, port, path;
    if (v.find('.') != std::string_view::npos && RE2::FullMatch(v, kHostish, &host, &port, &path)) {
      std::string_view last = std::string_view(host).substr(host.rfind('.') + 1);
      std::string last_lower = absl::AsciiStrToLower(AV(last));
      // An extension that is also a TLD (.zip .one .sh .pl .ps .py .md .mov): a host when it has
      // three or more lower-case labels ("api-x.vercel.sh", "daum.net.pl") or the line speaks of
      // network things; a file otherwise ("invoice.zip", "setup.sh").
      bool ext_as_tld = !port.empty() || !path.empty();  // "sofa.rs/wp-content/x.php" is a URL
      if (IsFileExtension(last_lower) && !defanged && port.empty() && path.empty()) {
        const size_t dots = std::count(host.begin(), host.end(), '.');
        const bool lower = absl::AsciiStrToLower(host) == host;
        const bool version_like =
            std::any_of(
                host.begin(), host.end(),
                [](char ch) { return absl::ascii_isdigit(static_cast<unsigned char>(ch)); }) &&
            host.find("min.") != std::string::npos;
        ext_as_tld = checks.registered_domain(absl::AsciiStrToLower(host)).has_value() && lower &&
                     !version_like && (dots >= 2 || network_hint());
      }
      if (port.empty() && path.empty() && IsFileExtension(last_lower) && !defanged && !ext_as_tld) {
        // A file name: needs context to be believed.
        std::string stem = host.substr(0, host.rfind('.'));
        if (stem.empty()) return std::nullopt;
        c.type = IndicatorType::kFilename;
        c.value = host;
        c.needs_context = true;
        return c;
      }
      std::string canon;
      // Version-like all-numeric names ("1.2.3") never pass: the TLD must be alphabetic.
      if (!ValidDomain(host, defanged, checks, &canon, why, ext_as_tld)) return std::nullopt;
      if (!port.empty() && !ValidPort(port)) return std::nullopt;
      if (!path.empty()) {
        c.type = IndicatorType::kUrl;
        c.value = absl::StrCat(canon, port.empty() ? "" : ":", port, path);
      } else {
        c.type = IndicatorType::kDomain;
        c.value = canon;
        if (!port.empty()) c.note = absl::StrCat("port ", port);
      }
      c.prose_weak = !defanged;
      return c;
    }
  }
  return std::nullopt;
}

}  // namespace kinship::extract::internal
