#include "kinship/model.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "re2/re2.h"

namespace kinship {
namespace {

constexpr std::array<std::string_view, kIndicatorTypeCount> kTypeNames = {
    "ipv4",         "ipv6",         "cidr",
    "domain",       "url",          "email",
    "md5",          "sha1",         "sha256",
    "sha512",       "ssdeep",       "tlsh",
    "imphash",      "filename",     "file-path",
    "mutex",        "registry-key", "named-pipe",
    "user-agent",   "ja3",          "x509-fingerprint",
    "x509-serial",  "asn",          "cve",
    "bitcoin",      "pdb",          "email-subject",
    "command-line", "other",
};

constexpr std::array<std::string_view, 5> kDerivationNames = {"", "registered-domain", "network",
                                                              "url-host", "email-domain"};

constexpr std::array<std::string_view, 6> kTlpNames = {"",      "clear",        "green",
                                                       "amber", "amber+strict", "red"};

}  // namespace

std::string_view IndicatorTypeName(IndicatorType type) {
  auto i = static_cast<size_t>(type);
  return i < kTypeNames.size() ? kTypeNames[i] : "other";
}

std::optional<IndicatorType> IndicatorTypeFromName(std::string_view name) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<IndicatorType>(i);
  }
  return std::nullopt;
}

std::string_view DerivationName(Derivation d) {
  auto i = static_cast<size_t>(d);
  return i < kDerivationNames.size() ? kDerivationNames[i] : "";
}

std::optional<Derivation> DerivationFromName(std::string_view name) {
  for (size_t i = 0; i < kDerivationNames.size(); ++i) {
    if (kDerivationNames[i] == name) return static_cast<Derivation>(i);
  }
  return std::nullopt;
}

std::string_view TlpName(Tlp tlp) {
  auto i = static_cast<size_t>(tlp);
  return i < kTlpNames.size() ? kTlpNames[i] : "";
}

std::optional<Tlp> TlpFromName(std::string_view name) {
  if (name == "white") return Tlp::kClear;  // TLP 1.0
  if (name == "amber-strict") return Tlp::kAmberStrict;
  for (size_t i = 1; i < kTlpNames.size(); ++i) {
    if (kTlpNames[i] == name) return static_cast<Tlp>(i);
  }
  return std::nullopt;
}

std::optional<Tlp> TlpMarkingIn(std::string_view text) {
  static const RE2 kTlp(R"(\bTLP\s*[:\-]?\s*(CLEAR|WHITE|GREEN|AMBER\+STRICT|AMBER|RED)\b)");
  std::string level;
  if (!RE2::PartialMatch(text, kTlp, &level)) return std::nullopt;
  if (level == "AMBER+STRICT") return Tlp::kAmberStrict;
  return TlpFromName(absl::AsciiStrToLower(level));
}

Indicator Indicator::Raw(IndicatorType type, std::string raw, std::string location) {
  Indicator ind;
  ind.type = type;
  ind.raw = std::move(raw);
  ind.location = std::move(location);
  return ind;
}

bool TimestampBefore(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return false;
  // (date and seconds, fraction padded to nanoseconds), which order as the times do.
  auto order = [](std::string_view t) {
    const size_t end = std::min(t.find_first_of(".Z"), t.size());
    std::string fraction;
    if (end < t.size() && t[end] == '.') {
      const size_t z = t.find('Z', end);
      fraction = std::string(t.substr(end + 1, z == std::string_view::npos ? z : z - end - 1));
    }
    fraction.resize(9, '0');
    return std::make_pair(t.substr(0, end), fraction);
  };
  return order(a) < order(b);
}

}  // namespace kinship
