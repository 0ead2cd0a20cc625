// STIX identifiers: "<type>--<UUID>", where the UUID is made from a name (version 5, RFC 4122
// section 4.3), so that one name always gives one identifier.
#ifndef KINSHIP_STIX_ID_H_
#define KINSHIP_STIX_ID_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kinship::stix {

// kinship's namespace for the identifiers it makes (a random UUID, fixed once).
inline constexpr std::string_view kKinshipNamespace = "c79daa64-6aba-4502-a306-0b7b6a7a4ec1";

// The version-5 UUID of `name` in `namespace_uuid` (textual, "886313e1-3b8a-5372-..."), in lower
// case. kInvalidArgument when `namespace_uuid` is not a UUID.
absl::StatusOr<std::string> UuidV5(std::string_view namespace_uuid, std::string_view name);

// "<type>--<UuidV5(kKinshipNamespace, name)>": "intrusion-set--..." for type "intrusion-set".
std::string KinshipId(std::string_view type, std::string_view name);

}  // namespace kinship::stix

#endif  // KINSHIP_STIX_ID_H_
