#include "ingest/misp/misp_types.h"

namespace kinship::ingest::internal {
namespace {

using T = IndicatorType;
using K = MispTypeKind;

struct Entry {
  std::string_view misp;
  MispTypeMapping mapping;
};

constexpr MispTypeMapping One(T t) { return {K::kIndicator, t, T::kOther, false, false}; }
constexpr MispTypeMapping Ip() { return {K::kIndicator, T::kIpv4, T::kOther, true, false}; }
constexpr MispTypeMapping Two(T a, T b) { return {K::kComposite, a, b, false, false}; }

// The observable types of MISP's describeTypes (MISP 2.4), after
// MISP/app/Model/Attribute.php; everything else is context (text, link, yara, datetime, ...).
// A linear table: ~80 entries, looked up once per attribute, cheaper than building a map.
constexpr Entry kTable[] = {
    {"ip-src", Ip()},
    {"ip-dst", Ip()},
    {"ip-src|port", {K::kComposite, T::kIpv4, T::kOther, true, false}},
    {"ip-dst|port", {K::kComposite, T::kIpv4, T::kOther, true, false}},
    {"domain|ip", {K::kComposite, T::kDomain, T::kIpv4, false, true}},
    {"hostname", One(T::kDomain)},
    {"domain", One(T::kDomain)},
    {"hostname|port", Two(T::kDomain, T::kOther)},
    {"url", One(T::kUrl)},
    {"uri", One(T::kOther)},  // a path without host: never matched
    {"email", One(T::kEmail)},
    {"email-src", One(T::kEmail)},
    {"email-dst", One(T::kEmail)},
    {"email-reply-to", One(T::kEmail)},
    {"target-email", One(T::kEmail)},
    {"whois-registrant-email", One(T::kEmail)},
    {"dns-soa-email", One(T::kEmail)},
    {"email-subject", One(T::kEmailSubject)},
    {"email-attachment", One(T::kFilename)},
    {"md5", One(T::kMd5)},
    {"sha1", One(T::kSha1)},
    {"sha256", One(T::kSha256)},
    {"sha512", One(T::kSha512)},
    {"ssdeep", One(T::kSsdeep)},
    {"tlsh", One(T::kTlsh)},
    {"imphash", One(T::kImphash)},
    {"filename", One(T::kFilename)},
    {"filename|md5", Two(T::kFilename, T::kMd5)},
    {"filename|sha1", Two(T::kFilename, T::kSha1)},
    {"filename|sha256", Two(T::kFilename, T::kSha256)},
    {"filename|sha512", Two(T::kFilename, T::kSha512)},
    {"filename|ssdeep", Two(T::kFilename, T::kSsdeep)},
    {"filename|tlsh", Two(T::kFilename, T::kTlsh)},
    {"filename|imphash", Two(T::kFilename, T::kImphash)},
    // Hash kinds kinship does not index: the file name still counts.
    {"filename|sha224", Two(T::kFilename, T::kOther)},
    {"filename|sha384", Two(T::kFilename, T::kOther)},
    {"filename|sha512/224", Two(T::kFilename, T::kOther)},
    {"filename|sha512/256", Two(T::kFilename, T::kOther)},
    {"filename|sha3-224", Two(T::kFilename, T::kOther)},
    {"filename|sha3-256", Two(T::kFilename, T::kOther)},
    {"filename|sha3-384", Two(T::kFilename, T::kOther)},
    {"filename|sha3-512", Two(T::kFilename, T::kOther)},
    {"filename|authentihash", Two(T::kFilename, T::kOther)},
    {"filename|vhash", Two(T::kFilename, T::kOther)},
    {"filename|impfuzzy", Two(T::kFilename, T::kOther)},
    {"filename|pehash", Two(T::kFilename, T::kOther)},
    {"malware-sample", Two(T::kFilename, T::kMd5)},
    {"regkey", One(T::kRegistryKey)},
    {"regkey|value", Two(T::kRegistryKey, T::kOther)},
    {"mutex", One(T::kMutex)},
    {"named pipe", One(T::kNamedPipe)},
    {"user-agent", One(T::kUserAgent)},
    {"ja3-fingerprint-md5", One(T::kJa3)},
    {"x509-fingerprint-sha1", One(T::kX509Fingerprint)},
    {"x509-fingerprint-sha256", One(T::kX509Fingerprint)},
    {"x509-fingerprint-md5", One(T::kX509Fingerprint)},
    {"AS", One(T::kAsn)},
    {"vulnerability", One(T::kCve)},
    {"btc", One(T::kBitcoin)},
    {"pdb", One(T::kPdb)},
    {"target-org", {K::kVictim, T::kOther, T::kOther, false, false}},
    {"target-location", {K::kVictim, T::kOther, T::kOther, false, false}},
};

}  // namespace

MispTypeMapping MapMispType(std::string_view misp_type) {
  for (const Entry& e : kTable) {
    if (e.misp == misp_type) return e.mapping;
  }
  return {};
}

IndicatorType IpTypeOf(std::string_view value) {
  if (value.find('/') != std::string_view::npos) return IndicatorType::kCidr;
  if (value.find(':') != std::string_view::npos) return IndicatorType::kIpv6;
  return IndicatorType::kIpv4;
}

std::optional<IndicatorType> TypeFromObjectRelation(std::string_view object_name,
                                                    std::string_view relation) {
  if (object_name == "x509" && relation == "serial-number") return IndicatorType::kX509Serial;
  if (relation == "command-line") return IndicatorType::kCommandLine;
  if (object_name == "file" && (relation == "path" || relation == "fullpath")) {
    return IndicatorType::kFilePath;
  }
  if (object_name == "registry-key" && relation == "key") return IndicatorType::kRegistryKey;
  if (relation == "mutex") return IndicatorType::kMutex;
  if (relation == "pipe" || relation == "named-pipe") return IndicatorType::kNamedPipe;
  return std::nullopt;
}

}  // namespace kinship::ingest::internal
