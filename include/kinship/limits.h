// Every bound kinship puts on its input, in one place (after yara's limits.h). Each limit exists
// because hostile or broken feeds are expected; hitting one is kResourceExhausted or
// kInvalidArgument with the limit's name in the message, never a crash.
#ifndef KINSHIP_LIMITS_H_
#define KINSHIP_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace kinship::limits {

// Largest single input file read into memory (MISP event, STIX bundle, report). Real bundles
// (ATT&CK Enterprise) are ~50 MB; 1 GiB leaves room without letting one file eat the machine.
inline constexpr size_t kMaxInputFileBytes = size_t{1} << 30;

// Deepest JSON nesting accepted; MISP and STIX never nest beyond ~10, and deep nesting is a
// classic parser-DoS.
inline constexpr size_t kMaxJsonDepth = 64;

// Longest single indicator value; longer values are truncated junk or abuse.
inline constexpr size_t kMaxIndicatorBytes = 8192;

// Most indicators one incident may carry; a bigger "incident" is a feed dump, not an incident.
inline constexpr size_t kMaxIndicatorsPerIncident = 1'000'000;

// Longest domain name (RFC 1035) and label.
inline constexpr size_t kMaxDomainBytes = 253;
inline constexpr size_t kMaxLabelBytes = 63;

// Longest STIX pattern accepted, and deepest parenthesis nesting inside one.
inline constexpr size_t kMaxStixPatternBytes = 64 * 1024;
inline constexpr size_t kMaxStixPatternDepth = 32;

// Most events a MISP feed folder may list in its manifest.
inline constexpr size_t kMaxFeedEvents = 10'000'000;

// Most candidate incidents one similarity query scores after walking the postings; the rest are
// the long tail of weak, common-feature matches.
inline constexpr size_t kMaxCandidatesPerQuery = 20'000;

// Postings longer than this are too common to be evidence of kinship and are not walked for
// candidate generation (they still contribute to scores of candidates found otherwise).
inline constexpr size_t kMaxPostingWalk = 50'000;

}  // namespace kinship::limits

#endif  // KINSHIP_LIMITS_H_
