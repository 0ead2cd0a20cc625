// MISP attribute types -> kinship indicator types, including composite types ("filename|sha256",
// "domain|ip", "ip-dst|port") that carry two values in one attribute. Shared by the MISP parser
// and the IOC-list parser (for a CSV "type" column holding MISP type names).
#ifndef KINSHIP_INGEST_MISP_MISP_TYPES_H_
#define KINSHIP_INGEST_MISP_MISP_TYPES_H_

#include <optional>
#include <string_view>
#include <vector>

#include "kinship/model.h"

namespace kinship::ingest::internal {

// How one MISP attribute turns into indicators.
enum class MispTypeKind {
  kIndicator,  // one value, one indicator of `first`
  kComposite,  // "a|b": part a is `first`, part b is `second` (kOther part dropped: ports)
  kContext,    // not an observable (text, link, yara, ...): kept as kOther for display
  kVictim,     // target-org / target-location: goes to Incident::victim, not an indicator
};

struct MispTypeMapping {
  MispTypeKind kind = MispTypeKind::kContext;
  IndicatorType first = IndicatorType::kOther;
  IndicatorType second = IndicatorType::kOther;
  bool ip_first = false;   // `first` is an IP whose family/CIDR is decided from the value
  bool ip_second = false;  // same for `second`
};

// Mapping of a MISP attribute type (case-sensitive, as MISP writes it). Unknown types are kContext.
MispTypeMapping MapMispType(std::string_view misp_type);

// Refines an "ip" slot from its value: "/" -> cidr, ":" -> ipv6, else ipv4. Normalisation fixes
// anything subtler (IPv4-mapped IPv6).
IndicatorType IpTypeOf(std::string_view value);

// For object attributes of a context type, the object relation sometimes says what it is
// (x509 "serial-number", process "command-line", file "path"). nullopt when it does not.
std::optional<IndicatorType> TypeFromObjectRelation(std::string_view object_name,
                                                    std::string_view relation);

}  // namespace kinship::ingest::internal

#endif  // KINSHIP_INGEST_MISP_MISP_TYPES_H_
