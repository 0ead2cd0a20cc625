// Canonical indicator forms, refanging, type detection and derived indicators.
// One canonical form per observable is what lets evidence from MISP, STIX and prose meet.
//
// Example:
//   std::string v = normalize::Refang("hxxp://evil[.]com/a");     // "http://evil.com/a"
//   auto c = normalize::Canonicalize(IndicatorType::kIpv6, "::FFFF:1.2.3.4");
//   // c.ok(), *c == "1.2.3.4" (IPv4-mapped IPv6 becomes IPv4; see CanonicalType)
//
// All functions are thread-safe and pure (libpsl's built-in list is read-only).
#ifndef KINSHIP_NORMALIZE_H_
#define KINSHIP_NORMALIZE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kinship/model.h"
#include "kinship/status.h"

namespace kinship::normalize {

// Undoes common defanging: hxxp/hXXp/fxp -> http/ftp, [.] (.) {.} [dot] (dot) " dot " -> ".",
// [:] -> ":", [@] [at] (at) -> "@", [://] -> "://", and strips surrounding brackets/quotes.
// Never fails; returns the input unchanged when nothing is defanged.
std::string Refang(std::string_view text);

// Guesses the type of a single refanged value (for IOC lists): ipv4, ipv6, cidr, url, email,
// md5/sha1/sha256/sha512 by hex length, ssdeep, tlsh, cve, domain (only with a real public
// suffix), else nullopt.
std::optional<IndicatorType> DetectType(std::string_view value);

// Returns the canonical value of `raw` read as `type`:
//   ipv4/ipv6: inet_pton/inet_ntop form; IPv4 with leading zeros rejected (ambiguous octal);
//   cidr: network address with host bits cleared, "/len" always present;
//   domain: lower case, trailing dot removed, IDN to punycode (libidn2), labels validated;
//   url: scheme and host lower-cased, default port dropped, path kept as given;
//   email: lower case, domain part canonicalised as a domain;
//   hashes: validated hex of the right length, lower case;
//   ssdeep: "blocksize:sig1:sig2" validated; tlsh: "T1"+70 hex, upper-case T1, lower-case hex.
// Other types: trimmed, otherwise unchanged. Errors: kInvalidArgument with the reason.
absl::StatusOr<std::string> Canonicalize(IndicatorType type, std::string_view raw);

// The type a value really has, whatever the label said: 64 hex is sha256, an IPv4-mapped IPv6 is
// ipv4, a "domain" that is an IP address is an IP. Returns `declared` when nothing is better.
IndicatorType CanonicalType(IndicatorType declared, std::string_view raw);

// Registered domain (eTLD+1) of a canonical domain via the Public Suffix List, e.g.
// "mail.evil.co.uk" -> "evil.co.uk". nullopt for an IP address, a bare public suffix, or a
// name with no known suffix. Never consults libpsl for an IP.
std::optional<std::string> RegisteredDomain(std::string_view domain);

// Derived indicators of a valid canonical indicator: registered domain (of domain, url host,
// email domain), url host, email domain, /24 of IPv4, /48 of IPv6. Empty when none applies.
std::vector<Indicator> Derive(const Indicator& indicator);

// The canonical CIDRs of every network holding a canonical IPv4 (prefixes /31 down to /8) or
// IPv6 address (/127 down to /16), or wider than a canonical CIDR (from one bit shorter down to
// /8 or /16), narrowest first: what a pivot on the value looks up among stated networks. Empty
// for any other type or an invalid value.
std::vector<std::string> EnclosingNetworks(IndicatorType type, std::string_view value);

// Normalises an incident in place: refangs raws, fixes types (CanonicalType), canonicalises each
// indicator (setting `error` and adding a diagnostic with its location when that fails), adds
// derived indicators, and removes exact duplicates (same type, value, derivation). Upper-cases
// technique ids. `diagnostics` may be null.
void NormalizeIncident(Incident& incident, std::vector<Diagnostic>* diagnostics);

}  // namespace kinship::normalize

#endif  // KINSHIP_NORMALIZE_H_
